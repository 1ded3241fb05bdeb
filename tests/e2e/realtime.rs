//! Live connections and the real process: SIGTERM tells every socket before the process exits.

use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::server::{Server, TempDir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_sends_server_shutdown_and_a_normal_close_to_every_socket() {
    let dir = TempDir::new();
    let mut server = Server::start(&dir.0, &[("TIDINGS_BCRYPT_COST", "4")]);
    let body = serde_json::json!({
        "company_name": "Acme", "name": "Ada", "email": "ada@acme.test", "password": "password123",
    });
    let client = reqwest::Client::new();
    let registered: Value =
        client.post(server.url("/v1/auth/register")).json(&body).send().await.unwrap().json().await.unwrap();
    let token = registered["access_token"].as_str().unwrap();

    let mut sockets = Vec::new();
    for _ in 0..3 {
        let url = server.url("/v1/realtime").replace("http://", "ws://");
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        let Some(Ok(Message::Text(hello))) = ws.next().await else { panic!("no connected frame") };
        assert!(hello.contains("\"connected\""));
        sockets.push(ws);
    }

    let status = tokio::task::spawn_blocking(move || server.terminate()).await.unwrap();
    assert!(status.success(), "{status:?}");
    for mut ws in sockets {
        let mut saw_shutdown = false;
        let close = loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => saw_shutdown |= text.contains("\"server.shutdown\""),
                Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                other => panic!("connection ended without a close frame: {other:?}"),
            }
        };
        assert!(saw_shutdown, "server.shutdown came before the close");
        assert_eq!(close, Some(1000));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_sessions_log_carries_the_request_id_of_its_upgrade() {
    let dir = TempDir::new();
    let vars = [
        ("TIDINGS_BCRYPT_COST", "4"),
        ("TIDINGS_LOG_FORMAT", "json"),
        ("TIDINGS_LOG", "info,tidings_api=debug"),
    ];
    let mut server = Server::start(&dir.0, &vars);
    let body = serde_json::json!({
        "company_name": "Acme", "name": "Ada", "email": "ada@acme.test", "password": "password123",
    });
    let client = reqwest::Client::new();
    let registered: Value =
        client.post(server.url("/v1/auth/register")).json(&body).send().await.unwrap().json().await.unwrap();
    let token = registered["access_token"].as_str().unwrap();
    let url = server.url("/v1/realtime").replace("http://", "ws://");
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    req.headers_mut().insert("x-request-id", "trace-7f3a-live".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let Some(Ok(Message::Text(hello))) = ws.next().await else { panic!("no connected frame") };
    assert!(hello.contains("\"connected\""));
    ws.close(None).await.unwrap();
    let line = tokio::task::spawn_blocking(move || server.wait_for_log("live session closed")).await.unwrap();
    let logged: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(logged["span"]["request_id"], "trace-7f3a-live", "{line}");
    assert_eq!(logged["span"]["door"], "native", "{line}");
    assert_eq!(logged["fields"]["code"], 1000, "{line}");
}
