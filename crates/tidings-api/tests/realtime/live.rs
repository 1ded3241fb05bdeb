//! A server on a free port over a test database, HTTP helpers, and a WebSocket client.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tidings_api::{AppState, RealtimeSettings, app};
use tidings_auth::AuthSettings;
use tidings_domain::EffectList;
use tidings_store::test_db::TestDb;
use tidings_websocket::server::{self, ServerSettings, Sessions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for an expected frame.
pub const WAIT: Duration = Duration::from_secs(20);

/// A running server.
pub struct Live {
    pub base: String,
    pub state: AppState,
    /// The WebSocket sessions the server runs.
    pub sessions: Sessions,
    http: reqwest::Client,
    handle: actix_web::dev::ServerHandle,
}

impl Live {
    /// Starts a server over `db`.
    pub async fn start(db: &TestDb, realtime: RealtimeSettings) -> Live {
        Live::start_with(db, realtime, auth_settings()).await
    }

    /// Starts a server over `db` with the given authentication settings.
    pub async fn start_with(db: &TestDb, realtime: RealtimeSettings, auth: AuthSettings) -> Live {
        Live::serve(AppState::new(db.store().clone(), auth, realtime)).await
    }

    /// Starts a server over `db` whose changes record `effects` (push notifications, webhooks).
    pub async fn start_with_effects(db: &TestDb, effects: EffectList) -> Live {
        let state = AppState::new(db.store().clone(), auth_settings(), RealtimeSettings::default());
        Live::serve(state.with_effects(effects)).await
    }

    async fn serve(state: AppState) -> Live {
        let shared = state.clone();
        let settings = ServerSettings { workers: Some(2), ..Default::default() };
        let bound =
            server::bind(move || app(shared.clone()), "127.0.0.1:0".parse().unwrap(), &settings).unwrap();
        let base = format!("http://{}", bound.addr);
        let server = bound.server;
        let handle = server.handle();
        tokio::spawn(server);
        Live { base, state, sessions: bound.sessions, http: reqwest::Client::new(), handle }
    }

    /// A JSON request; returns status and body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Uploads `bytes` named `name` as whoever `headers` say; returns the upload.
    pub async fn upload(&self, headers: &[(&str, &str)], bytes: Vec<u8>, name: &str) -> Value {
        let mut req = self.http.post(format!("{}/v1/uploads?name={name}", self.base)).body(bytes);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status().as_u16(), 201);
        res.json().await.unwrap()
    }

    /// Follows a download link (to this server, whatever host the link names): status and bytes.
    pub async fn download(&self, url: &str) -> (u16, Vec<u8>) {
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        let path = &rest[rest.find('/').unwrap()..];
        let res = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
    }

    /// A registered company: (owner token, owner id).
    pub async fn register(&self, company: &str, email: &str) -> (String, String) {
        let body =
            json!({ "company_name": company, "name": "Owner", "email": email, "password": "password123" });
        let (status, reply) = self.call(reqwest::Method::POST, "/v1/auth/register", &[], Some(body)).await;
        assert_eq!(status, 201, "{reply}");
        (reply["access_token"].as_str().unwrap().into(), reply["user"]["id"].as_str().unwrap().into())
    }

    /// A second user of the owner's company, logged in: their token.
    pub async fn agent(&self, owner: &str, email: &str) -> String {
        let auth = format!("Bearer {owner}");
        let body = json!({ "email": email, "name": "Agent", "password": "password123", "role": "agent" });
        let (status, _) =
            self.call(reqwest::Method::POST, "/v1/users", &[("authorization", &auth)], Some(body)).await;
        assert_eq!(status, 201);
        let login = json!({ "email": email, "password": "password123" });
        let (_, reply) = self.call(reqwest::Method::POST, "/v1/auth/login", &[], Some(login)).await;
        reply["access_token"].as_str().unwrap().into()
    }

    /// An SDK app of the owner's company: (app id, client key).
    pub async fn sdk_app(&self, owner: &str) -> (String, String) {
        let auth = format!("Bearer {owner}");
        let (_, app) = self
            .call(
                reqwest::Method::POST,
                "/v1/apps",
                &[("authorization", &auth)],
                Some(json!({ "name": "Web" })),
            )
            .await;
        let app_id = app["id"].as_str().unwrap().to_owned();
        let path = format!("/v1/apps/{app_id}/keys");
        let (_, key) = self
            .call(
                reqwest::Method::POST,
                &path,
                &[("authorization", &auth)],
                Some(json!({ "kind": "client" })),
            )
            .await;
        (app_id, key["key"].as_str().unwrap().into())
    }

    /// The device's open conversation id.
    pub async fn conversation(&self, app: &(String, String), device: &str) -> String {
        let headers = sdk_headers(app, device);
        let (status, conv) =
            self.call(reqwest::Method::POST, "/v1/conversations", &as_refs(&headers), None).await;
        assert_eq!(status, 200, "{conv}");
        conv["id"].as_str().unwrap().into()
    }

    /// Posts a message as an agent; returns its sequence.
    pub async fn agent_says(&self, token: &str, conversation: &str, body: &str) -> i64 {
        let auth = format!("Bearer {token}");
        let path = format!("/v1/conversations/{conversation}/messages");
        let (status, m) = self
            .call(reqwest::Method::POST, &path, &[("authorization", &auth)], Some(json!({ "body": body })))
            .await;
        assert_eq!(status, 201, "{m}");
        m["sequence"].as_i64().unwrap()
    }

    /// Posts a message as a device; returns its sequence.
    pub async fn device_says(
        &self,
        app: &(String, String),
        device: &str,
        conversation: &str,
        body: &str,
    ) -> i64 {
        let headers = sdk_headers(app, device);
        let path = format!("/v1/conversations/{conversation}/messages");
        let (status, m) =
            self.call(reqwest::Method::POST, &path, &as_refs(&headers), Some(json!({ "body": body }))).await;
        assert_eq!(status, 201, "{m}");
        m["sequence"].as_i64().unwrap()
    }

    /// Opens a WebSocket with the given headers.
    pub async fn ws(&self, headers: &[(&str, &str)]) -> Ws {
        self.try_ws(headers).await.expect("WebSocket upgrade")
    }

    /// Opens a WebSocket, or returns the HTTP status that refused it.
    pub async fn try_ws(&self, headers: &[(&str, &str)]) -> Result<Ws, u16> {
        let url = format!("{}/v1/realtime", self.base.replace("http://", "ws://"));
        let mut req = url.into_client_request().unwrap();
        for (k, v) in headers {
            let name: tokio_tungstenite::tungstenite::http::HeaderName = k.parse().unwrap();
            req.headers_mut().insert(name, v.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(req).await {
            Ok((stream, _)) => Ok(Ws { stream }),
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Err(res.status().as_u16()),
            Err(e) => panic!("connect: {e}"),
        }
    }

    /// Opens a WebSocket whose socket has a tiny receive buffer, so that not reading it soon backs
    /// up the server.
    pub async fn slow_ws(&self, headers: &[(&str, &str)]) -> Ws {
        let tcp = self.slow_tcp().await;
        let url = format!("{}/v1/realtime", self.base.replace("http://", "ws://"));
        let mut req = url.into_client_request().unwrap();
        for (k, v) in headers {
            let name: tokio_tungstenite::tungstenite::http::HeaderName = k.parse().unwrap();
            req.headers_mut().insert(name, v.parse().unwrap());
        }
        let (stream, _) = tokio_tungstenite::client_async(req, MaybeTlsStream::Plain(tcp)).await.unwrap();
        Ws { stream }
    }

    /// A TCP connection to the server with a tiny receive buffer.
    pub async fn slow_tcp(&self) -> TcpStream {
        let addr = self.base.trim_start_matches("http://").parse().unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        socket.connect(addr).await.unwrap()
    }

    /// Stops the server.
    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// The authentication settings of test servers: cheap bcrypt, a fixed secret.
pub fn auth_settings() -> AuthSettings {
    AuthSettings {
        bcrypt_cost: 4,
        ..AuthSettings::with_secret(b"realtime-test-secret-0123456789abcdef".to_vec())
    }
}

/// SDK headers of a device.
pub fn sdk_headers(app: &(String, String), device: &str) -> Vec<(String, String)> {
    vec![
        ("x-app-id".into(), app.0.clone()),
        ("x-device-id".into(), device.into()),
        ("x-api-key".into(), app.1.clone()),
    ]
}

/// Borrowed view of owned headers.
pub fn as_refs(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// A WebSocket client.
pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What the server sent.
#[derive(Debug)]
pub enum Received {
    /// A JSON text frame.
    Json(Value),
    /// A close frame, with its code.
    Closed(Option<u16>),
}

impl Ws {
    /// Sends a JSON frame.
    pub async fn send(&mut self, frame: Value) {
        self.stream.send(Message::text(frame.to_string())).await.unwrap();
    }

    /// Sends a raw frame.
    pub async fn send_raw(&mut self, message: Message) {
        self.stream.send(message).await.unwrap();
    }

    /// The next text or close frame (pings are answered by the library), within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Received> {
        loop {
            let next = tokio::time::timeout(wait, self.stream.next()).await.ok()?;
            match next {
                Some(Ok(Message::Text(text))) => {
                    return Some(Received::Json(serde_json::from_str(&text).unwrap()));
                }
                Some(Ok(Message::Close(frame))) => {
                    return Some(Received::Closed(frame.map(|f: CloseFrame| f.code.into())));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Some(Received::Closed(None)),
            }
        }
    }

    /// The next JSON frame; panics on a close or a timeout.
    pub async fn json(&mut self) -> Value {
        match self.next_within(WAIT).await {
            Some(Received::Json(v)) => v,
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    /// Skips frames until one of `kind` arrives.
    pub async fn until(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.json().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Collects the sequences of `message.new` frames of a conversation until `last` is seen.
    pub async fn sequences_until(&mut self, conversation: &str, last: i64) -> Vec<i64> {
        let mut seen = Vec::new();
        while seen.last() != Some(&last) {
            let frame = self.json().await;
            if frame["type"] == "message.new" && frame["conversation_id"] == conversation {
                seen.push(frame["sequence"].as_i64().unwrap());
            }
        }
        seen
    }

    /// Asserts that no frame of `kind` arrives within `wait`, and that the socket stays open.
    pub async fn quiet(&mut self, kind: &str, wait: Duration) {
        loop {
            match self.next_within(wait).await {
                Some(Received::Json(frame)) => assert_ne!(frame["type"], kind, "unexpected {frame}"),
                Some(Received::Closed(code)) => panic!("the socket closed ({code:?})"),
                None => return,
            }
        }
    }

    /// Skips frames until the socket closes; returns the close code.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            match self.next_within(WAIT).await {
                Some(Received::Json(_)) => {}
                Some(Received::Closed(code)) => return code,
                None => panic!("the socket was not closed"),
            }
        }
    }

    /// Sends a close frame with `code`.
    pub async fn close_with(&mut self, code: u16) {
        let frame = CloseFrame { code: code.into(), reason: "bye".into() };
        self.stream.send(Message::Close(Some(frame))).await.unwrap();
    }
}

/// A WebSocket spoken byte by byte, to send what a well-behaved client library refuses to.
pub struct RawWs {
    tcp: TcpStream,
}

impl Live {
    /// Opens a WebSocket by hand with the given headers.
    pub async fn raw_ws(&self, headers: &[(&str, &str)]) -> RawWs {
        let addr = self.base.trim_start_matches("http://");
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let mut request = format!(
            "GET /v1/realtime HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        );
        for (k, v) in headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        request.push_str("\r\n");
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            head.push(tcp.read_u8().await.unwrap());
        }
        assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
        RawWs { tcp }
    }
}

impl RawWs {
    /// A frame header: `first` holds FIN, the reserved bits and the opcode; masked with a zero key
    /// unless `masked` is false.
    pub fn header(first: u8, len: u64, masked: bool) -> Vec<u8> {
        let mask = if masked { 0x80 } else { 0 };
        let mut out = vec![first];
        match len {
            0..=125 => out.push(mask | len as u8),
            126..=65_535 => {
                out.push(mask | 126);
                out.extend((len as u16).to_be_bytes());
            }
            _ => {
                out.push(mask | 127);
                out.extend(len.to_be_bytes());
            }
        }
        if masked {
            // A zero mask leaves the payload as it is.
            out.extend([0, 0, 0, 0]);
        }
        out
    }

    /// Sends a whole frame.
    pub async fn frame(&mut self, first: u8, payload: &[u8], masked: bool) {
        let mut bytes = RawWs::header(first, payload.len() as u64, masked);
        bytes.extend_from_slice(payload);
        self.tcp.write_all(&bytes).await.unwrap();
    }

    /// Writes raw bytes; false once the server has shut the connection.
    pub async fn write(&mut self, bytes: &[u8]) -> bool {
        self.tcp.write_all(bytes).await.is_ok()
    }

    /// Reads server frames until a close frame and returns its code; `None` when the connection
    /// ends without one.
    pub async fn close_code(&mut self) -> Option<u16> {
        tokio::time::timeout(WAIT, async {
            loop {
                let Ok(first) = self.tcp.read_u8().await else { return None };
                let len = match self.tcp.read_u8().await.ok()? & 0x7f {
                    126 => u64::from(self.tcp.read_u16().await.ok()?),
                    127 => self.tcp.read_u64().await.ok()?,
                    n => u64::from(n),
                };
                let mut payload = vec![0; len as usize];
                self.tcp.read_exact(&mut payload).await.ok()?;
                if first & 0x0f == 8 {
                    return payload.get(..2).map(|code| u16::from_be_bytes([code[0], code[1]]));
                }
            }
        })
        .await
        .expect("the server neither closed nor answered")
    }
}
