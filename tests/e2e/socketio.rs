//! The Socket.IO door with the real `socket.io-client` from npm (`tests/socketio-client`), against
//! the real binary, on SQLite and PostgreSQL. Needs Node and `npm ci` in that folder (`.ci/run` does
//! it); without them the test is skipped with a notice, except under CI, where it fails.

use std::path::PathBuf;
use std::process::Command;

use tidings_store::test_db::TestDb;

use crate::server::{Server, TempDir};

/// The client script's folder, if its dependencies are installed.
fn client_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/socketio-client");
    let ready = dir.join("node_modules/socket.io-client").is_dir()
        && Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if ready {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "tests/socketio-client needs Node and `npm ci` under CI: the Socket.IO e2e test would pass without running"
    );
    eprintln!(
        "notice: Node or tests/socketio-client/node_modules is missing; the socket.io-client e2e test is skipped"
    );
    None
}

/// Runs the client script against a server started with `vars`.
fn drive(vars: &[(&str, &str)]) {
    let Some(dir) = client_dir() else { return };
    let work = TempDir::new();
    let mut vars = vars.to_vec();
    vars.push(("TIDINGS_BCRYPT_COST", "4"));
    let mut server = Server::start(&work.0, &vars);
    let out = Command::new("node").arg("e2e.mjs").arg(&server.base_url).current_dir(&dir).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "socket.io-client e2e failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("all checks passed"), "{stdout}");
    assert!(server.terminate().success());
}

#[test]
fn socket_io_client_works_unchanged_on_sqlite() {
    drive(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_works_unchanged_on_postgres() {
    let Some(db) = TestDb::postgres().await else { return };
    let url = db.url().to_owned();
    tokio::task::spawn_blocking(move || drive(&[("TIDINGS_DATABASE_URL", &url)])).await.unwrap();
}
