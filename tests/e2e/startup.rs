//! The newcomer's path: start with no configuration, answer, refuse bad input, stop cleanly.

use std::process::Command;

use serde_json::Value;
use tidings_store::test_db::TestDb;

use crate::server::{Server, TempDir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_on_sqlite_with_no_config_answers_and_stops_on_sigterm() {
    let dir = TempDir::new();
    let mut server = Server::start(&dir.0, &[]);
    let client = reqwest::Client::new();

    let ready = client.get(server.url("/health/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert!(dir.0.join("tidings.db").exists(), "the default SQLite file is created in the working directory");

    let live = client.get(server.url("/health")).send().await.unwrap();
    assert_eq!(live.status(), 200);
    assert!(live.headers().contains_key("x-request-id"));

    let bad = client
        .post(server.url("/health"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 405);
    let request_id = bad.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["code"], "METHOD_NOT_ALLOWED");
    assert_eq!(body["error"]["request_id"], request_id);

    let missing: Value = client.get(server.url("/v1/nothing")).send().await.unwrap().json().await.unwrap();
    assert_eq!(missing["error"]["code"], "NOT_FOUND");

    let status = server.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    let log = server.remaining_log().join("\n");
    assert!(log.contains("stopped"), "the server logs its clean stop:\n{log}");
    assert!(client.get(server.url("/health")).send().await.is_err(), "nothing listens after the stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_from_postgres_when_configured() {
    let Some(db) = TestDb::postgres().await else { return };
    let dir = TempDir::new();
    let mut server =
        Server::start(&dir.0, &[("TIDINGS_DATABASE_URL", db.url()), ("TIDINGS_LOG_FORMAT", "json")]);
    let ready: Value = reqwest::get(server.url("/health/ready")).await.unwrap().json().await.unwrap();
    assert_eq!(ready["checks"]["store"], "ok");
    assert!(!dir.0.join("tidings.db").exists(), "no SQLite file when PostgreSQL is configured");
    assert!(server.terminate().success());
    let log = server.remaining_log();
    assert!(log.iter().all(|l| serde_json::from_str::<Value>(l).is_ok()), "every log line is JSON: {log:?}");
    assert!(log.iter().all(|l| !l.contains(db.url())), "the database URL never reaches the log");
}

#[test]
fn a_bad_setting_stops_the_start_naming_the_variable() {
    let dir = TempDir::new();
    let out = Command::new(env!("CARGO_BIN_EXE_tidings-server"))
        .current_dir(&dir.0)
        .env_clear()
        .env("TIDINGS_LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("TIDINGS_LOG_FORMAT") && stderr.contains("json"), "{stderr}");
    assert!(!dir.0.join("tidings.db").exists(), "nothing is created when the start is refused");
}

#[test]
fn an_unreachable_database_stops_the_start() {
    let dir = TempDir::new();
    let out = Command::new(env!("CARGO_BIN_EXE_tidings-server"))
        .current_dir(&dir.0)
        .env_clear()
        .env("TIDINGS_BIND", "127.0.0.1:0")
        .env("TIDINGS_DATABASE_URL", "postgres://nobody:s3cret@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("cannot connect"), "{stdout}");
    assert!(!stdout.contains("s3cret"), "the password in the URL is not logged: {stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_survive_a_restart_with_the_generated_secret() {
    let dir = TempDir::new();
    let vars = [("TIDINGS_BCRYPT_COST", "4")];
    let mut server = Server::start(&dir.0, &vars);
    let client = reqwest::Client::new();
    let body = serde_json::json!({
        "company_name": "Acme", "name": "Ada", "email": "ada@acme.test", "password": "password123",
    });
    let registered: Value =
        client.post(server.url("/v1/auth/register")).json(&body).send().await.unwrap().json().await.unwrap();
    let token = registered["access_token"].as_str().expect("access token").to_owned();
    assert!(server.terminate().success());

    let log = server.remaining_log();
    for name in ["jwt-secret", "encryption-key"] {
        let secret = dir.0.join(name);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "the generated {name} is readable by its owner only");
        }
        let generated = std::fs::read_to_string(&secret).unwrap();
        assert_eq!(generated.trim().len(), 64, "{name}: 32 random bytes in hex");
        assert!(log.iter().all(|line| !line.contains(generated.trim())), "the {name} is not logged");
    }

    let server = Server::start(&dir.0, &vars);
    let me = client.get(server.url("/v1/auth/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(me.status(), 200, "a token issued before the restart is still accepted");
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["user"]["email"], "ada@acme.test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_have_an_address_of_their_own() {
    let dir = TempDir::new();
    let mut server = Server::start(&dir.0, &[("TIDINGS_METRICS_BIND", "127.0.0.1:0")]);
    let line = server.wait_for_log("metrics on http://");
    let start = line.find("http://").expect("address in line");
    let url: String =
        line[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || ":/.".contains(*c)).collect();
    let client = reqwest::Client::new();
    let scraped = client.get(&url).send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    let text = scraped.text().await.unwrap();
    assert!(text.contains("tidings_build_info"), "{text}");
    // The API's address no longer serves them.
    let public = client.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404);
    assert_eq!(client.get(server.url("/health")).send().await.unwrap().status(), 200);
    assert!(server.terminate().success());
}
