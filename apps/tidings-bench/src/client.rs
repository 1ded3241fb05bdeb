//! Setting up a company to load: an agent, an SDK app and conversations, through the HTTP API.

use serde_json::{Value, json};
use tidings_domain::{CompanyId, ConversationId};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A company ready for load.
pub struct Tenant {
    /// The HTTP client (keeps connections alive).
    pub http: reqwest::Client,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// The owner's access token.
    pub token: String,
    /// The company.
    pub company_id: CompanyId,
    /// Conversations, one per device.
    pub conversations: Vec<ConversationId>,
}

async fn json(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "setup request failed: {status} {body}");
    body
}

impl Tenant {
    /// Registers a company and opens `conversations` conversations from as many devices.
    pub async fn create(base: &str, conversations: usize) -> Tenant {
        let http = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
        let email = format!("bench-{}@example.com", std::process::id());
        let body =
            json!({ "company_name": "Bench", "name": "Bench", "email": email, "password": "bench-password" });
        let session =
            json(http.post(format!("{base}/v1/auth/register")).json(&body).send().await.unwrap()).await;
        let token = session["access_token"].as_str().unwrap().to_owned();
        let company_id = session["company"]["id"].as_str().unwrap().parse().unwrap();
        let auth = format!("Bearer {token}");
        let app = json(
            http.post(format!("{base}/v1/apps"))
                .header("authorization", &auth)
                .json(&json!({ "name": "bench" }))
                .send()
                .await
                .unwrap(),
        )
        .await;
        let app_id = app["id"].as_str().unwrap().to_owned();
        let key = json(
            http.post(format!("{base}/v1/apps/{app_id}/keys"))
                .header("authorization", &auth)
                .json(&json!({ "kind": "client" }))
                .send()
                .await
                .unwrap(),
        )
        .await["key"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut ids = Vec::with_capacity(conversations);
        for device in 0..conversations {
            let conv = http
                .post(format!("{base}/v1/conversations"))
                .header("x-app-id", &app_id)
                .header("x-device-id", format!("bench-device-{device}"))
                .header("x-api-key", &key)
                .send()
                .await
                .unwrap();
            ids.push(json(conv).await["id"].as_str().unwrap().parse().unwrap());
        }
        Tenant { http, base: base.to_owned(), token, company_id, conversations: ids }
    }

    /// Posts a message as the agent; returns whether it was accepted.
    pub async fn post(&self, conversation: ConversationId, body: &str, local_id: Option<String>) -> bool {
        let res = self
            .http
            .post(format!("{}/v1/conversations/{conversation}/messages", self.base))
            .header("authorization", format!("Bearer {}", self.token))
            .json(&json!({ "body": body, "local_id": local_id }))
            .send()
            .await;
        matches!(res, Ok(r) if r.status().is_success())
    }

    /// Opens a WebSocket as the agent and waits for its `connected` frame.
    pub async fn socket(&self) -> Option<WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>> {
        use futures_util::StreamExt;
        let url = format!("{}/v1/realtime", self.base.replace("http://", "ws://"));
        let mut req = url.into_client_request().ok()?;
        req.headers_mut().insert("authorization", format!("Bearer {}", self.token).parse().ok()?);
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await.ok()?;
        match ws.next().await {
            Some(Ok(msg)) if msg.to_text().is_ok_and(|t| t.contains("\"connected\"")) => Some(ws),
            _ => None,
        }
    }
}
