//! A running `tidings-server` process for one test, stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a server may take to start listening (a debug build on a loaded machine).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A server process and where it listens.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    log: mpsc::Receiver<String>,
    /// Every line read so far, so that a line logged before anyone waited for it is still found.
    seen: Vec<String>,
}

impl Server {
    /// Starts the server in `dir` with only `vars` set (plus a free port), and waits until it listens.
    pub fn start(dir: &Path, vars: &[(&str, &str)]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tidings-server"));
        command
            .current_dir(dir)
            .env_clear()
            .env("TIDINGS_BIND", "127.0.0.1:0")
            // Every client of a test comes from 127.0.0.1: the per-address limits would count them
            // as one. A test of the limits sets its own.
            .env("TIDINGS_RATE_LIMIT_AUTH_PER_MINUTE", "0")
            .env("TIDINGS_RATE_LIMIT_PER_MINUTE", "0")
            .env("TIDINGS_RATE_LIMIT_SENDS_PER_15_MIN", "0")
            .envs(vars.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().expect("spawn tidings-server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server { child, base_url: String::new(), log, seen: Vec::new() };
        let line = server.wait_for_log("listening on http://");
        let start = line.find("http://").expect("address in line");
        let addr: String =
            line[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || ":/.".contains(*c)).collect();
        server.base_url = addr;
        server
    }

    /// Waits for a log line containing `needle` (or finds it among the lines already read) and
    /// returns it.
    pub fn wait_for_log(&mut self, needle: &str) -> String {
        if let Some(line) = self.seen.iter().find(|line| line.contains(needle)) {
            return line.clone();
        }
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("server never logged `{needle}`"),
            }
        }
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let status =
            Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill");
        assert!(status.success(), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "server did not exit within 30 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the process with SIGKILL: no shutdown, nothing cleaned up.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("wait");
    }

    /// The rest of the server's log, once it has exited.
    pub fn remaining_log(&self) -> Vec<String> {
        self.log.try_iter().collect()
    }

    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh empty directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates the directory.
    pub fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("tidings-e2e-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
