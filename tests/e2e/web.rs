//! The web inbox and setup pages in a real browser: Debian's Chromium driven by `playwright-core`
//! from npm (`tests/web`), against the real binary on SQLite, killed and restarted on the same port
//! while the page is open. Needs Node, `npm ci` in that folder and `chromium` (`.ci/run` provides
//! them); without them the test is skipped with a notice, except under CI, where it fails.
//! Screenshots go to `target/web/`.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::server::{Server, TempDir};

/// The script's folder and the browser, if everything it needs is installed.
fn browser_test() -> Option<(PathBuf, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/web");
    let chromium = Command::new("sh")
        .args(["-c", "command -v chromium"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let ready = dir.join("node_modules/playwright-core").is_dir()
        && Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if let (true, Some(chromium)) = (ready, chromium) {
        return Some((dir, chromium));
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "tests/web needs Node, `npm ci` and chromium under CI: the browser e2e test would pass without running"
    );
    eprintln!(
        "notice: Node, tests/web/node_modules or chromium is missing; the web inbox browser test is skipped"
    );
    None
}

#[test]
fn the_web_inbox_works_in_a_browser_across_a_server_restart() {
    let Some((dir, chromium)) = browser_test() else { return };
    let started = Instant::now();
    let work = TempDir::new();
    // Webhooks to the script's stand-in on this machine, and failed deliveries that die within a
    // second (two attempts, short waits), so that the pages' delivery log and dead letters fill.
    let vars = [
        ("TIDINGS_BCRYPT_COST", "4"),
        ("TIDINGS_WEBHOOK_ALLOW_LOOPBACK", "true"),
        ("TIDINGS_OUTBOX_MAX_ATTEMPTS", "2"),
        ("TIDINGS_OUTBOX_BASE_DELAY_MS", "100"),
        ("TIDINGS_OUTBOX_POLL_MS", "100"),
    ];
    let mut server = Server::start(&work.0, &vars);
    let port = server.base_url.rsplit(':').next().unwrap().to_owned();
    let bind = format!("127.0.0.1:{port}");
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("web");

    let mut script = Command::new("node")
        .arg("e2e.mjs")
        .arg(&server.base_url)
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdin = script.stdin.take().unwrap();
    let mut out = Vec::new();
    for line in BufReader::new(script.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        eprintln!("web e2e: {line}");
        if line == "restart" {
            // A crash, not a shutdown: the page sees its connection drop with no goodbye.
            server.kill();
            let again: Vec<(&str, &str)> =
                vars.iter().copied().chain([("TIDINGS_BIND", bind.as_str())]).collect();
            server = Server::start(&work.0, &again);
            writeln!(stdin, "restarted").unwrap();
        }
        out.push(line);
    }
    let status = script.wait().unwrap();
    let stdout = out.join("\n");
    assert!(status.success(), "browser e2e failed (its error is above):\n{stdout}");
    assert!(stdout.contains("all checks passed"), "{stdout}");
    for shot in [
        "inbox.png",
        "webhooks.png",
        "dead-letters.png",
        "integrations.png",
        "appointments-week.png",
        "inbox-phone.png",
    ] {
        assert!(shots.join(shot).is_file(), "no screenshot {shot}");
    }
    firefox_smoke(&dir, &server.base_url);
    assert!(server.terminate().success());
    eprintln!("browser e2e took {:.1} s", started.elapsed().as_secs_f64());
}

/// The same inbox in Firefox (Debian's `firefox-esr`, over WebDriver BiDi), on the data the Chromium
/// run left: log in, the list, a conversation, the other pages. Skipped with a notice where Firefox is
/// missing, except under CI (`.ci/run` installs it).
fn firefox_smoke(dir: &std::path::Path, base_url: &str) {
    let installed =
        Command::new("sh").args(["-c", "command -v firefox-esr"]).output().is_ok_and(|o| o.status.success());
    if !installed {
        assert!(std::env::var_os("CI").is_none(), "firefox-esr is missing under CI");
        eprintln!("notice: firefox-esr is missing; the Firefox smoke of the web inbox is skipped");
        return;
    }
    let out = Command::new("node")
        .args(["--experimental-websocket", "firefox.mjs", base_url, "ada@acme.test", "correct horse battery"])
        .current_dir(dir)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    for line in stdout.lines() {
        eprintln!("firefox: {line}");
    }
    assert!(out.status.success() && stdout.contains("all checks passed"), "the Firefox smoke failed (above)");
}
