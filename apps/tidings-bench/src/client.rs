//! Setting up a company to load: an agent, an SDK app and conversations, through the HTTP API; and
//! the agent's live connections through either door.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde_json::{Value, json};
use tidings_domain::{CompanyId, ConversationId};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::Socket;

/// Connections from one source address: the ephemeral port range allows about 28,000 to one
/// server port, so larger counts spread over 127.0.0.2, 127.0.0.3 and so on.
const PER_SOURCE_ADDRESS: usize = 10_000;

/// The live endpoint a connection goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Door {
    /// `/v1/realtime`, JSON frames.
    #[serde(rename = "native")]
    Native,
    /// `/v1/socket.io/`, Engine.IO 4 / Socket.IO 5 on the `/admin` namespace.
    #[serde(rename = "socket.io")]
    SocketIo,
}

impl Door {
    /// Both doors, native first.
    pub const ALL: [Door; 2] = [Door::Native, Door::SocketIo];

    /// The name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Door::Native => "native",
            Door::SocketIo => "socket.io",
        }
    }

    /// How a frame carrying a new message starts on this door.
    pub fn message_prefix(self) -> &'static str {
        match self {
            Door::Native => "{\"type\":\"message.new\"",
            Door::SocketIo => "42/admin,[\"message:new\",",
        }
    }

    /// The answer owed to a heartbeat frame of this door, if `text` is one: Engine.IO's ping `2`
    /// wants a pong `3`, or the server drops the connection (WebSocket pings are answered by the
    /// client library itself).
    pub fn pong_for(self, text: &str) -> Option<&'static str> {
        (self == Door::SocketIo && text == "2").then_some("3")
    }
}

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
        // Several servers share one database in a run: every company needs its own owner.
        static COMPANIES: AtomicUsize = AtomicUsize::new(0);
        let n = COMPANIES.fetch_add(1, Ordering::Relaxed);
        let email = format!("bench-{}-{n}@example.com", std::process::id());
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

    /// Posts a message, retrying what the server refused for now (a full pool, a limit) with the
    /// same `local_id`, so that a retry never doubles a message; returns whether it was accepted.
    pub async fn post_until_accepted(
        &self,
        conversation: ConversationId,
        body: &str,
        local_id: String,
    ) -> bool {
        for attempt in 0..10_u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(20 << attempt.min(5))).await;
            }
            if self.post(conversation, body, Some(local_id.clone())).await {
                return true;
            }
        }
        false
    }

    /// Sends `requests` authenticated requests, `parallel` at a time, so that the server's lazily
    /// grown parts (its database pool, its HTTP workers' buffers) are grown before a measurement.
    pub async fn warm_up(&self, requests: usize, parallel: usize) {
        let auth = format!("Bearer {}", self.token);
        let url = format!("{}/v1/auth/me", self.base);
        futures_util::stream::iter(0..requests)
            .for_each_concurrent(parallel, |_| async {
                let res = self.http.get(&url).header("authorization", &auth).send().await;
                assert!(res.is_ok_and(|r| r.status().is_success()), "a warm-up request failed");
            })
            .await;
    }

    /// Opens the agent's connection number `index` through `door` and waits until it is
    /// authenticated (the `connected` frame, or the `connected` event after the CONNECT ack).
    pub async fn connect(&self, door: Door, index: usize) -> Option<Socket> {
        tokio::time::timeout(Duration::from_secs(30), self.open(door, index)).await.ok().flatten()
    }

    async fn open(&self, door: Door, index: usize) -> Option<Socket> {
        let host = self.base.strip_prefix("http://")?;
        let server: SocketAddr = host.parse().ok()?;
        let tcp = tokio::net::TcpSocket::new_v4().ok()?;
        let spread = u8::try_from(index / PER_SOURCE_ADDRESS).ok()?;
        if spread > 0 {
            bind_source(&tcp, Ipv4Addr::new(127, 0, 0, spread.checked_add(1)?))?;
        }
        let stream = tcp.connect(server).await.ok()?;
        let url = match door {
            Door::Native => format!("ws://{host}/v1/realtime"),
            Door::SocketIo => format!("ws://{host}/v1/socket.io/?EIO=4&transport=websocket"),
        };
        let mut req = url.into_client_request().ok()?;
        if door == Door::Native {
            req.headers_mut().insert("authorization", format!("Bearer {}", self.token).parse().ok()?);
        }
        // Frames are small: the library's default 128 KiB read buffer would make the load
        // generator, not the server, the limit on how many connections a run can hold.
        let config = WebSocketConfig::default().read_buffer_size(16 * 1024);
        let (mut ws, _) =
            tokio_tungstenite::client_async_with_config(req, stream, Some(config)).await.ok()?;
        match door {
            Door::Native => {
                let frame = ws.next().await?.ok()?;
                frame.to_text().is_ok_and(|t| t.contains("\"connected\"")).then_some(ws)
            }
            Door::SocketIo => {
                let open = ws.next().await?.ok()?;
                if !open.to_text().is_ok_and(|t| t.starts_with('0')) {
                    return None;
                }
                let connect = format!("40/admin,{}", json!({ "token": self.token }));
                ws.send(Message::text(connect)).await.ok()?;
                loop {
                    let frame = ws.next().await?.ok()?;
                    let Ok(text) = frame.to_text() else { continue };
                    if text.starts_with("42/admin,[\"connected\"") {
                        return Some(ws);
                    }
                    if text.starts_with("44/admin") {
                        return None;
                    }
                    if let Some(pong) = Door::SocketIo.pong_for(text) {
                        ws.send(Message::text(pong)).await.ok()?;
                    }
                }
            }
        }
    }
}

/// Binds `tcp` to `source` and leaves the port to `connect`, which picks it per destination.
fn bind_source(tcp: &tokio::net::TcpSocket, source: Ipv4Addr) -> Option<()> {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: setsockopt reads an int from a pointer valid for the call, on a socket we own.
    let set = unsafe {
        libc::setsockopt(
            tcp.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&raw const on).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if set != 0 {
        return None;
    }
    tcp.bind(SocketAddr::from((source, 0))).ok()
}
