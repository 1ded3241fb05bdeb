//! Push notifications through the real server: with a service account file and a stand-in for
//! Google (token endpoint and FCM), an agent's reply to an offline SDK contact reaches their device
//! once, and neither the push token nor the key reaches the log; a bad file stops the start.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tidings_forwarding::push::test_account::TestAccount;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::server::{Server, TempDir};

const SEND: &str = "/v1/projects/tidings-test/messages:send";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_contact_is_notified_through_fcm() {
    let google = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "access_token": "ya29.e2e", "expires_in": 3599 })),
        )
        .mount(&google)
        .await;
    Mock::given(method("POST")).and(path(SEND)).respond_with(ResponseTemplate::new(200)).mount(&google).await;
    let account = TestAccount::generate(&format!("{}/token", google.uri()));
    let dir = TempDir::new();
    let file = dir.0.join("service-account.json");
    std::fs::write(&file, &account.json).unwrap();
    let mut server = Server::start(
        &dir.0,
        &[
            ("TIDINGS_JWT_SECRET", "a-push-test-secret-of-at-least-32-chars"),
            ("TIDINGS_BCRYPT_COST", "4"),
            ("TIDINGS_FCM_CREDENTIALS", file.to_str().unwrap()),
            ("TIDINGS_FCM_BASE_URL", &google.uri()),
            ("TIDINGS_PUSH_COLLAPSE_SECS", "1"),
            ("TIDINGS_OUTBOX_POLL_MS", "50"),
            ("TIDINGS_LOG", "debug"),
        ],
    );
    server.wait_for_log("push notifications go out through FCM");

    let http = reqwest::Client::new();
    let call = async |req: reqwest::RequestBuilder, body: Value| -> Value {
        let res = req.json(&body).send().await.unwrap();
        assert!(res.status().is_success(), "{}", res.status());
        res.json().await.unwrap()
    };
    let body =
        json!({ "company_name": "Acme", "name": "Ada", "email": "ada@acme.test", "password": "password123" });
    let registered = call(http.post(server.url("/v1/auth/register")), body).await;
    let bearer = format!("Bearer {}", registered["access_token"].as_str().unwrap());
    let app =
        call(http.post(server.url("/v1/apps")).header("authorization", &bearer), json!({ "name": "iOS" }))
            .await;
    let app_id = app["id"].as_str().unwrap();
    let keys = server.url(&format!("/v1/apps/{app_id}/keys"));
    let key = call(http.post(keys).header("authorization", &bearer), json!({ "kind": "client" })).await;
    let sdk = |req: reqwest::RequestBuilder| {
        req.header("x-app-id", app_id)
            .header("x-device-id", "phone")
            .header("x-api-key", key["key"].as_str().unwrap())
    };
    call(
        sdk(http.put(server.url("/v1/device"))),
        json!({ "platform": "ios", "push_token": "tok-e2e-phone" }),
    )
    .await;
    let conversation = call(sdk(http.post(server.url("/v1/conversations"))), json!({})).await;
    let messages =
        server.url(&format!("/v1/conversations/{}/messages", conversation["id"].as_str().unwrap()));
    call(http.post(messages).header("authorization", &bearer), json!({ "body": "Your order shipped" })).await;

    let deadline = Instant::now() + Duration::from_secs(20);
    let sends = loop {
        let all = google.received_requests().await.unwrap();
        let sends: Vec<_> = all.into_iter().filter(|r| r.url.path() == SEND).collect();
        if !sends.is_empty() || Instant::now() > deadline {
            break sends;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0].headers.get("authorization").unwrap(), "Bearer ya29.e2e");
    let sent: Value = serde_json::from_slice(&sends[0].body).unwrap();
    assert_eq!(sent["message"]["token"], "tok-e2e-phone");
    assert_eq!(sent["message"]["notification"], json!({ "title": "Acme", "body": "Your order shipped" }));

    assert!(server.terminate().success());
    let log = server.remaining_log().join("\n");
    assert!(
        !log.contains("tok-e2e-phone") && !log.contains("ya29.e2e"),
        "tokens never reach the log:\n{log}"
    );
    assert!(!log.contains(&account.pem[40..80]), "nor the key");
}

#[test]
fn a_bad_service_account_file_stops_the_start() {
    let dir = TempDir::new();
    let file = dir.0.join("service-account.json");
    std::fs::write(
        &file,
        r#"{"project_id": "x", "client_email": "a@b", "private_key": "nope", "token_uri": "https://t"}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tidings-server"))
        .current_dir(&dir.0)
        .env_clear()
        .env("TIDINGS_FCM_CREDENTIALS", &file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("TIDINGS_FCM_CREDENTIALS") && stderr.contains("RSA private key"), "{stderr}");
}
