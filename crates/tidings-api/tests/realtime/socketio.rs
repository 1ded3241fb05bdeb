//! The Socket.IO door through a raw Engine.IO / Socket.IO client over a real WebSocket: namespaces
//! and their credentials, events both ways, replay on join, isolation between companies.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tidings_api::RealtimeSettings;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::live::{Live, WAIT};

backend_tests!(
    socketio_device_and_agent_hear_messages_and_typing,
    socketio_join_after_a_sequence_replays_the_gap_then_acks,
    socketio_refuses_bad_credentials_and_unknown_namespaces,
    socketio_another_company_cannot_join_or_overhear,
    socketio_read_receipts_are_acknowledged_and_announced,
    socketio_polling_and_plain_requests_get_engine_io_400,
);

/// A Socket.IO client speaking the wire protocol by hand; it answers the server's pings.
pub struct Sio {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_ack: i64,
}

/// A packet the server sent, decoded.
#[derive(Debug)]
pub enum Packet {
    Connected(String),
    ConnectError(String, Value),
    Event(String, String, Value),
    Ack(String, i64, Value),
    Disconnect(String),
    Closed(Option<u16>),
}

impl Sio {
    pub async fn open(live: &Live) -> Sio {
        let url =
            format!("{}/v1/socket.io/?EIO=4&transport=websocket", live.base.replace("http://", "ws://"));
        let (stream, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Sio::handshake(stream).await
    }

    /// A connection whose socket has a tiny receive buffer, so that not reading it soon backs up
    /// the server.
    pub async fn open_slow(live: &Live) -> Sio {
        let tcp = live.slow_tcp().await;
        let url =
            format!("{}/v1/socket.io/?EIO=4&transport=websocket", live.base.replace("http://", "ws://"));
        let (stream, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(tcp)).await.unwrap();
        Sio::handshake(stream).await
    }

    async fn handshake(stream: WebSocketStream<MaybeTlsStream<TcpStream>>) -> Sio {
        let mut sio = Sio { stream, next_ack: 1 };
        let open = sio.text().await.unwrap();
        let handshake: Value = serde_json::from_str(open.strip_prefix('0').unwrap()).unwrap();
        assert_eq!(handshake["upgrades"], json!([]), "{handshake}");
        assert!(handshake["sid"].is_string() && handshake["pingInterval"].is_u64(), "{handshake}");
        sio
    }

    /// The next Engine.IO text frame, answering pings on the way; `None` once closed.
    pub async fn text(&mut self) -> Option<String> {
        self.text_or_close().await.ok()
    }

    /// The next Engine.IO text frame, or the close code once closed.
    async fn text_or_close(&mut self) -> Result<String, Option<u16>> {
        loop {
            match tokio::time::timeout(WAIT, self.stream.next()).await.expect("a frame in time") {
                Some(Ok(Message::Text(text))) if text.as_str() == "2" => {
                    let _ = self.stream.send(Message::text("3")).await;
                }
                Some(Ok(Message::Text(text))) => return Ok(text.as_str().to_owned()),
                Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| u16::from(f.code))),
                Some(Err(_)) | None => return Err(None),
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Reads until the connection closes; returns the close code and how many `name` events came.
    pub async fn closed_counting(&mut self, name: &str) -> (Option<u16>, usize) {
        let mut seen = 0;
        loop {
            match self.text_or_close().await {
                Ok(text) => seen += usize::from(text.contains(&format!("[\"{name}\""))),
                Err(code) => return (code, seen),
            }
        }
    }

    /// The next Socket.IO packet.
    pub async fn packet(&mut self) -> Packet {
        let text = match self.text_or_close().await {
            Ok(text) => text,
            Err(code) => return Packet::Closed(code),
        };
        let packet = text.strip_prefix('4').unwrap_or_else(|| panic!("not a message: {text}"));
        let (kind, rest) = packet.split_at(1);
        let (ns, rest) = match rest.strip_prefix('/') {
            Some(after) => {
                let (ns, rest) = after.split_once(',').unwrap_or((after, ""));
                (format!("/{ns}"), rest)
            }
            None => ("/".to_owned(), rest),
        };
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        let (id, json_text) = rest.split_at(digits);
        let data: Value =
            if json_text.is_empty() { Value::Null } else { serde_json::from_str(json_text).unwrap() };
        match kind {
            "0" => Packet::Connected(ns),
            "1" => Packet::Disconnect(ns),
            "2" => {
                let name = data[0].as_str().unwrap().to_owned();
                Packet::Event(ns, name, data.get(1).cloned().unwrap_or(Value::Null))
            }
            "3" => Packet::Ack(ns, id.parse().unwrap(), data[0].clone()),
            "4" => Packet::ConnectError(ns, data),
            other => panic!("unexpected packet type {other}: {text}"),
        }
    }

    pub async fn send(&mut self, packet: String) {
        self.stream.send(Message::text(format!("4{packet}"))).await.unwrap();
    }

    /// Connects a namespace; `Ok` once accepted, or the CONNECT_ERROR's payload.
    pub async fn connect(&mut self, ns: &str, auth: Value) -> Result<(), Value> {
        self.send(format!("0{ns},{auth}")).await;
        loop {
            match self.packet().await {
                Packet::Connected(n) if n == ns => return Ok(()),
                Packet::ConnectError(n, error) if n == ns => return Err(error),
                Packet::Closed(_) => panic!("closed while connecting {ns}"),
                _ => continue,
            }
        }
    }

    /// Emits an event with one argument, asking for an ack; returns the ack id.
    pub async fn emit(&mut self, ns: &str, event: &str, data: Value) -> i64 {
        let id = self.next_ack;
        self.next_ack += 1;
        self.send(format!("2{ns},{id}{}", json!([event, data]))).await;
        id
    }

    /// Skips packets until event `name` arrives on `ns`; returns its argument.
    pub async fn until(&mut self, ns: &str, name: &str) -> Value {
        loop {
            match self.packet().await {
                Packet::Event(n, event, data) if n == ns && event == name => return data,
                Packet::Closed(_) => panic!("closed while waiting for {name}"),
                _ => continue,
            }
        }
    }

    /// Skips packets until the ack `id` arrives on `ns`; returns its argument. Events of `name`
    /// seen before it are collected too.
    pub async fn ack_collecting(&mut self, ns: &str, id: i64, name: &str) -> (Value, Vec<Value>) {
        let mut seen = Vec::new();
        loop {
            match self.packet().await {
                Packet::Ack(n, got, data) if n == ns && got == id => return (data, seen),
                Packet::Event(n, event, data) if n == ns && event == name => seen.push(data),
                Packet::Closed(_) => panic!("closed while waiting for ack {id}"),
                _ => continue,
            }
        }
    }

    /// Asserts that no event `name` arrives on any namespace within `wait`.
    pub async fn quiet(&mut self, name: &str, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let Ok(packet) = tokio::time::timeout_at(deadline, self.packet()).await else { return };
            match packet {
                Packet::Event(_, event, data) => assert_ne!(event, name, "unexpected {data}"),
                Packet::Closed(_) => panic!("closed"),
                _ => {}
            }
        }
    }
}

pub fn device_auth(app: &(String, String), device: &str) -> Value {
    json!({ "app_id": app.0, "device_id": device, "api_key": app.1, "platform": "web" })
}

async fn socketio_device_and_agent_hear_messages_and_typing(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let conv = live.conversation(&app, "dev-1").await;

    let mut device = Sio::open(&live).await;
    device.connect("/client", device_auth(&app, "dev-1")).await.unwrap();
    assert_eq!(device.until("/client", "connected").await["participant"]["kind"], "contact");
    // SDK devices follow their open conversation on connect.
    let joined = device.until("/client", "conversation:joined").await;
    assert_eq!(joined["conversation_id"], conv.as_str());

    let mut agent = Sio::open(&live).await;
    agent.connect("/admin", json!({ "token": owner })).await.unwrap();
    assert_eq!(agent.until("/admin", "connected").await["participant"]["kind"], "agent");

    live.device_says(&app, "dev-1", &conv, "Hello?").await;
    for (sio, ns) in [(&mut device, "/client"), (&mut agent, "/admin")] {
        let new = sio.until(ns, "message:new").await;
        assert_eq!((new["sequence"].as_i64(), new["message"]["body"].as_str()), (Some(1), Some("Hello?")));
        assert_eq!(new["conversation_id"], conv.as_str());
    }

    let id = agent.emit("/admin", "conversation:join", json!({ "conversation_id": conv })).await;
    let (ack, _) = agent.ack_collecting("/admin", id, "").await;
    assert_eq!(ack["last_sequence"], 1, "{ack}");
    agent.emit("/admin", "typing:start", json!({ "conversation_id": conv })).await;
    let typing = device.until("/client", "agent:typing").await;
    assert_eq!(
        (typing["is_typing"].as_bool(), typing["participant"]["kind"].as_str()),
        (Some(true), Some("agent"))
    );
    device.emit("/client", "typing:start", json!({ "conversation_id": conv })).await;
    let typing = agent.until("/admin", "user:typing").await;
    assert_eq!(typing["participant"]["kind"], "contact");

    let id = device.emit("/client", "ping", json!({})).await;
    assert_eq!(device.ack_collecting("/client", id, "").await.0, json!({}));
    live.stop().await;
}

async fn socketio_join_after_a_sequence_replays_the_gap_then_acks(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let conv = live.conversation(&app, "dev-1").await;
    for body in ["one", "two", "three", "four"] {
        live.agent_says(&owner, &conv, body).await;
    }

    let mut agent = Sio::open(&live).await;
    agent.connect("/admin", json!({ "token": owner })).await.unwrap();
    let join = json!({ "conversation_id": conv, "after_sequence": 1 });
    let id = agent.emit("/admin", "conversation:join", join).await;
    let (ack, replayed) = agent.ack_collecting("/admin", id, "message:new").await;
    let sequences: Vec<i64> = replayed.iter().map(|m| m["sequence"].as_i64().unwrap()).collect();
    assert_eq!(sequences, [2, 3, 4]);
    assert_eq!(replayed[0]["message"]["body"], "two");
    assert_eq!(ack["last_sequence"], 4, "{ack}");

    // Live after the replay, once.
    live.agent_says(&owner, &conv, "five").await;
    assert_eq!(agent.until("/admin", "message:new").await["sequence"], 5);
    live.stop().await;
}

async fn socketio_refuses_bad_credentials_and_unknown_namespaces(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let mut sio = Sio::open(&live).await;

    let wrong_key = json!({ "app_id": app.0, "device_id": "dev-1", "api_key": "tdk_nope" });
    let refused = sio.connect("/client", wrong_key).await.unwrap_err();
    assert_eq!(refused["data"]["code"], "UNAUTHENTICATED", "{refused}");
    assert!(refused["message"].as_str().is_some_and(|m| !m.is_empty()), "{refused}");

    let refused = sio.connect("/admin", json!({ "token": "not-a-token" })).await.unwrap_err();
    assert_eq!(refused["data"]["code"], "UNAUTHENTICATED", "{refused}");
    let refused = sio.connect("/admin", json!({})).await.unwrap_err();
    assert_eq!(refused["data"]["code"], "UNAUTHENTICATED", "{refused}");
    // A device's credentials do not open the agents' namespace.
    let refused = sio.connect("/admin", device_auth(&app, "dev-1")).await.unwrap_err();
    assert_eq!(refused["data"]["code"], "UNAUTHENTICATED", "{refused}");

    let refused = sio.connect("/random", json!({})).await.unwrap_err();
    assert_eq!(refused, json!({ "message": "Invalid namespace" }));

    // The connection is still usable after refusals.
    sio.connect("/admin", json!({ "token": owner })).await.unwrap();
    live.stop().await;
}

async fn socketio_another_company_cannot_join_or_overhear(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (acme, _) = live.register("Acme", "owner@acme.test").await;
    let (globex, _) = live.register("Globex", "owner@globex.test").await;
    let app = live.sdk_app(&acme).await;
    let conv = live.conversation(&app, "dev-1").await;
    let other_app = live.sdk_app(&globex).await;

    let mut spy = Sio::open(&live).await;
    spy.connect("/admin", json!({ "token": globex })).await.unwrap();
    spy.connect("/client", device_auth(&other_app, "spy-device")).await.unwrap();
    for ns in ["/admin", "/client"] {
        let id =
            spy.emit(ns, "conversation:join", json!({ "conversation_id": conv, "after_sequence": 0 })).await;
        let (ack, replayed) = spy.ack_collecting(ns, id, "message:new").await;
        assert_eq!(ack["error"]["code"], "NOT_FOUND", "{ack}");
        assert!(replayed.is_empty(), "{replayed:?}");
    }
    // Joins and messages raced: nothing of Acme's reaches the spy.
    for i in 0..5 {
        spy.emit("/admin", "conversation:join", json!({ "conversation_id": conv })).await;
        live.device_says(&app, "dev-1", &conv, &format!("secret {i}")).await;
    }
    spy.quiet("message:new", Duration::from_millis(500)).await;
    live.stop().await;
}

async fn socketio_read_receipts_are_acknowledged_and_announced(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let app = live.sdk_app(&owner).await;
    let conv = live.conversation(&app, "dev-1").await;
    live.device_says(&app, "dev-1", &conv, "one").await;
    live.device_says(&app, "dev-1", &conv, "two").await;

    let mut device = Sio::open(&live).await;
    device.connect("/client", device_auth(&app, "dev-1")).await.unwrap();
    device.until("/client", "conversation:joined").await;
    let mut agent = Sio::open(&live).await;
    agent.connect("/admin", json!({ "token": owner })).await.unwrap();
    let read = json!({ "conversation_id": conv, "up_to_sequence": 99 });
    let id = agent.emit("/admin", "message:read", read).await;
    let (ack, _) = agent.ack_collecting("/admin", id, "").await;
    assert_eq!((ack["up_to_sequence"].as_i64(), ack["updated"].as_i64()), (Some(2), Some(2)), "{ack}");
    let status = device.until("/client", "message:status").await;
    assert_eq!((status["status"].as_str(), status["up_to_sequence"].as_i64()), (Some("read"), Some(2)));

    let id = agent.emit("/admin", "message:read", json!({ "conversation_id": conv })).await;
    let (ack, _) = agent.ack_collecting("/admin", id, "").await;
    assert_eq!(ack["error"]["code"], "VALIDATION_ERROR", "{ack}");
    live.stop().await;
}

async fn socketio_polling_and_plain_requests_get_engine_io_400(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    for (method, query) in [
        (reqwest::Method::GET, "EIO=4&transport=polling"),
        (reqwest::Method::POST, "EIO=4&transport=polling"),
        (reqwest::Method::GET, "EIO=4&transport=websocket"),
    ] {
        let url = format!("{}/v1/socket.io/?{query}", live.base);
        let res = reqwest::Client::new().request(method, url).send().await.unwrap();
        assert_eq!(res.status(), 400);
        assert_eq!(res.text().await.unwrap(), r#"{"code":0,"message":"Transport unknown"}"#);
    }
    live.stop().await;
}
