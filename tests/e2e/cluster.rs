//! Two real `tidings-server` processes on one PostgreSQL and one Redis: a client connected to one
//! node hears, in order, what is posted through the other.

use futures_util::StreamExt;
use serde_json::{Value, json};
use tidings_store::test_db::TestDb;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::server::{Server, TempDir};

/// The Redis the tests use; `None` (skipped with a notice) when unset, except under CI.
fn redis_url() -> Option<String> {
    match std::env::var("TIDINGS_TEST_REDIS_URL") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(std::env::var_os("CI").is_none(), "TIDINGS_TEST_REDIS_URL must be set when CI is");
            eprintln!("notice: TIDINGS_TEST_REDIS_URL is not set; the cluster test is skipped");
            None
        }
    }
}

/// The settings every node of a test cluster shares.
fn cluster_vars<'a>(database: &'a str, redis: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("TIDINGS_DATABASE_URL", database),
        ("TIDINGS_REDIS_URL", redis),
        ("TIDINGS_JWT_SECRET", "a-cluster-wide-secret-of-at-least-32-chars"),
        ("TIDINGS_ENCRYPTION_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
        ("TIDINGS_BCRYPT_COST", "4"),
    ]
}

/// Two nodes started with `vars`, each subscribed to the bus, and their data directories.
fn two_nodes(vars: &[(&str, &str)]) -> ((TempDir, TempDir), Server, Server) {
    let dirs = (TempDir::new(), TempDir::new());
    let mut a = Server::start(&dirs.0.0, vars);
    let mut b = Server::start(&dirs.1.0, vars);
    a.wait_for_log("subscribed to the Redis bus");
    b.wait_for_log("subscribed to the Redis bus");
    (dirs, a, b)
}

/// A company and a device's open conversation, made over HTTP.
struct Tenant {
    bearer: String,
    app_id: String,
    key: String,
    conversation_id: String,
    contact_id: String,
}

/// Registers a company on `register_on`, then makes its app, client key and a device's open
/// conversation on `setup_on`.
async fn tenant(register_on: &Server, setup_on: &Server) -> Tenant {
    let http = reqwest::Client::new();
    let body =
        json!({ "company_name": "Acme", "name": "Ada", "email": "ada@acme.test", "password": "password123" });
    let registered: Value = http
        .post(register_on.url("/v1/auth/register"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = format!("Bearer {}", registered["access_token"].as_str().unwrap());
    let post = |path: String, body: Value| {
        let req = http.post(setup_on.url(&path)).header("authorization", &bearer).json(&body);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let app = post("/v1/apps".into(), json!({ "name": "Web" })).await;
    let app_id = app["id"].as_str().unwrap().to_owned();
    let key = post(format!("/v1/apps/{app_id}/keys"), json!({ "kind": "client" })).await;
    let key = key["key"].as_str().unwrap().to_owned();
    let conversation: Value = http
        .post(setup_on.url("/v1/conversations"))
        .header("x-app-id", &app_id)
        .header("x-device-id", "browser-1")
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Tenant {
        conversation_id: conversation["id"].as_str().unwrap().to_owned(),
        contact_id: conversation["contact_id"].as_str().unwrap().to_owned(),
        bearer,
        app_id,
        key,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_share_live_messages_and_presence_and_a_dead_nodes_presence_expires() {
    let (Some(db), Some(redis)) = (TestDb::postgres().await, redis_url()) else { return };
    let mut vars = cluster_vars(db.url(), &redis);
    vars.push(("TIDINGS_PRESENCE_LEASE_SECS", "3"));
    let (_dirs, mut a, mut b) = two_nodes(&vars);
    let acme = tenant(&a, &b).await;
    let (bearer, conversation_id) = (acme.bearer.as_str(), acme.conversation_id.as_str());
    let http = reqwest::Client::new();

    // An agent connected to node A.
    let mut req = a.url("/v1/realtime").replace("http://", "ws://").into_client_request().unwrap();
    req.headers_mut().insert("authorization", bearer.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();

    // Messages posted through node B.
    for n in 1..=5 {
        let status = http
            .post(b.url(&format!("/v1/conversations/{conversation_id}/messages")))
            .header("authorization", bearer)
            .json(&json!({ "body": format!("via B #{n}") }))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 201);
    }
    let mut sequences = Vec::new();
    while sequences.len() < 5 {
        let next = tokio::time::timeout(std::time::Duration::from_secs(20), ws.next()).await;
        let Ok(Some(Ok(Message::Text(text)))) = next else { panic!("no frame from node A: {next:?}") };
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["type"] == "message.new" {
            assert_eq!(frame["conversation_id"], conversation_id);
            sequences.push(frame["sequence"].as_i64().unwrap());
        }
    }
    assert_eq!(sequences, [1, 2, 3, 4, 5]);

    // A device connected to node A is seen online from node B, and disappears from B within the
    // presence lease once A is killed without a word.
    let mut req = a.url("/v1/realtime").replace("http://", "ws://").into_client_request().unwrap();
    for (name, value) in
        [("x-app-id", acme.app_id.as_str()), ("x-device-id", "browser-1"), ("x-api-key", &acme.key)]
    {
        req.headers_mut().insert(name, value.parse().unwrap());
    }
    let (_device, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let contact = acme.contact_id.clone();
    let online_on_b = |b: &Server| {
        let (url, bearer, contact) = (b.url("/v1/presence"), bearer.to_owned(), contact.clone());
        async move {
            let page: Value = reqwest::Client::new()
                .get(url)
                .header("authorization", bearer)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            page["data"].as_array().unwrap().iter().any(|e| e["id"] == contact.as_str())
        }
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !online_on_b(&b).await {
        assert!(tokio::time::Instant::now() < deadline, "node B never saw the device online");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // An agent on node B hears the device go offline once A's lease expires.
    let mut req = b.url("/v1/realtime").replace("http://", "ws://").into_client_request().unwrap();
    req.headers_mut().insert("authorization", bearer.parse().unwrap());
    let (mut watcher, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    a.kill();
    let killed = tokio::time::Instant::now();
    while online_on_b(&b).await {
        assert!(killed.elapsed() < std::time::Duration::from_secs(15), "the device stayed online on B");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // The lease is 3 s here: gone within it and a renewal's slack.
    assert!(killed.elapsed() <= std::time::Duration::from_secs(6), "{:?}", killed.elapsed());
    loop {
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), watcher.next()).await;
        let Ok(Some(Ok(Message::Text(text)))) = next else { panic!("no offline presence on B: {next:?}") };
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["type"] == "presence" && frame["participant"]["id"] == acme.contact_id.as_str() {
            assert_eq!(frame["status"], "offline", "{frame}");
            break;
        }
    }
    assert!(killed.elapsed() <= std::time::Duration::from_secs(8), "{:?}", killed.elapsed());
    assert!(b.terminate().success());
}

/// A Redis of the test's own, on a free port, stopped when dropped.
struct OwnRedis {
    child: std::process::Child,
    port: u16,
}

impl OwnRedis {
    fn start(port: u16) -> Option<OwnRedis> {
        let spawned = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn();
        let Ok(child) = spawned else {
            assert!(std::env::var_os("CI").is_none(), "redis-server must be installed when CI is");
            eprintln!("notice: redis-server is not installed; the Redis outage test is skipped");
            return None;
        };
        let mut redis = OwnRedis { child, port };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        // Our redis-server answers PING; something else that took the port would not.
        while !redis.answers() {
            assert!(redis.child.try_wait().unwrap().is_none(), "redis-server exited (port {port} taken?)");
            assert!(std::time::Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Some(redis)
    }

    fn answers(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut tcp) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else { return false };
        let _ = tcp.set_read_timeout(Some(std::time::Duration::from_secs(1)));
        let mut reply = [0u8; 5];
        tcp.write_all(b"PING\r\n").is_ok() && tcp.read_exact(&mut reply).is_ok() && &reply == b"+PONG"
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls readiness until its bus check reads `want`; every answer must be 200.
async fn bus_becomes(server: &Server, want: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let res = reqwest::get(server.url("/health/ready")).await.unwrap();
        assert_eq!(res.status(), 200, "the node stays ready");
        let ready: Value = res.json().await.unwrap();
        if ready["checks"]["bus"] == want {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "the bus never became {want}: {ready}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_degrades_the_bus_not_the_node_and_it_reconnects_by_itself() {
    let port = OwnRedis::free_port();
    let Some(redis) = OwnRedis::start(port) else { return };
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let dir = TempDir::new();
    let mut node =
        Server::start(&dir.0, &[("TIDINGS_REDIS_URL", url.as_str()), ("TIDINGS_BCRYPT_COST", "4")]);
    node.wait_for_log("subscribed to the Redis bus");
    bus_becomes(&node, "ok").await;

    drop(redis);
    bus_becomes(&node, "degraded").await;
    // The node goes on serving, live connections included.
    let body =
        json!({ "company_name": "Acme", "name": "Ada", "email": "ada@acme.test", "password": "password123" });
    let res = reqwest::Client::new().post(node.url("/v1/auth/register")).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let registered: Value = res.json().await.unwrap();
    let mut req = node.url("/v1/realtime").replace("http://", "ws://").into_client_request().unwrap();
    let bearer = format!("Bearer {}", registered["access_token"].as_str().unwrap());
    req.headers_mut().insert("authorization", bearer.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let Some(Ok(Message::Text(hello))) = ws.next().await else { panic!("no connected frame") };
    assert!(hello.contains("\"connected\""), "{hello}");

    let _back = OwnRedis::start(port).unwrap();
    bus_becomes(&node, "ok").await;
    assert!(node.terminate().success());
}

/// Reads `message.new` frames of a WebSocket until `last`; returns their sequences in order.
async fn sequences_until(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    last: i64,
) -> Vec<i64> {
    let mut seen = Vec::new();
    while seen.last() != Some(&last) {
        let next = tokio::time::timeout(std::time::Duration::from_secs(30), ws.next()).await;
        // The server's heartbeat pings come when a slow run outlasts their period: not a failure.
        if let Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) = next {
            continue;
        }
        let Ok(Some(Ok(Message::Text(text)))) = next else { panic!("no frame after {seen:?}: {next:?}") };
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["type"] == "message.new" {
            seen.push(frame["sequence"].as_i64().unwrap());
        }
    }
    seen
}

/// Reads frames of a WebSocket until the change at `last`; returns the changes' types and positions in
/// order, and whether an `inbox.stale` frame came.
async fn changes_until(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    last: i64,
) -> (Vec<(String, i64)>, bool) {
    let (mut seen, mut stale) = (Vec::<(String, i64)>::new(), false);
    while seen.last().map(|(_, p)| *p) != Some(last) {
        let next = tokio::time::timeout(std::time::Duration::from_secs(30), ws.next()).await;
        if let Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) = next {
            continue;
        }
        let Ok(Some(Ok(Message::Text(text)))) = next else { panic!("no frame after {seen:?}: {next:?}") };
        let frame: Value = serde_json::from_str(&text).unwrap();
        stale |= frame["type"] == "inbox.stale";
        if let Some(position) = frame["position"].as_i64() {
            seen.push((frame["type"].as_str().unwrap().to_owned(), position));
        }
    }
    (seen, stale)
}

/// Reads frames until `inbox.stale`; returns the changes seen before it.
async fn changes_until_stale(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
) -> (Vec<i64>, bool) {
    let mut seen = Vec::new();
    loop {
        let next = tokio::time::timeout(std::time::Duration::from_secs(30), ws.next()).await;
        let Ok(Some(Ok(Message::Text(text)))) = next else {
            panic!("no inbox.stale after {seen:?}: {next:?}")
        };
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["type"] == "inbox.stale" {
            return (seen, true);
        }
        seen.extend(frame["position"].as_i64());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_redis_outage_live_clients_get_what_they_missed_without_reconnecting() {
    let Some(db) = TestDb::postgres().await else { return };
    let port = OwnRedis::free_port();
    let Some(redis) = OwnRedis::start(port) else { return };
    let url = format!("redis://127.0.0.1:{port}");
    let vars = cluster_vars(db.url(), &url);
    let (_dirs, mut a, mut b) = two_nodes(&vars);
    let acme = tenant(&a, &a).await;
    let (bearer, conversation_id) = (acme.bearer.clone(), acme.conversation_id.clone());
    let http = reqwest::Client::new();
    let post_through_b = |n: i64| {
        let (http, url, bearer) =
            (http.clone(), b.url(&format!("/v1/conversations/{conversation_id}/messages")), bearer.clone());
        async move {
            let res = http
                .post(url)
                .header("authorization", bearer)
                .json(&json!({ "body": format!("#{n}") }))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
        }
    };

    // A client on node A follows the conversation.
    let mut req = a.url("/v1/realtime").replace("http://", "ws://").into_client_request().unwrap();
    req.headers_mut().insert("authorization", bearer.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let subscribe = json!({ "type": "subscribe", "conversation_id": conversation_id }).to_string();
    futures_util::SinkExt::send(&mut ws, Message::text(subscribe)).await.unwrap();
    post_through_b(1).await;
    assert_eq!(sequences_until(&mut ws, 1).await, [1]);

    // Redis goes away; node B goes on storing messages, an edit and a status change.
    drop(redis);
    bus_becomes(&a, "degraded").await;
    for n in 2..=4 {
        post_through_b(n).await;
    }
    let through_b = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut req = http.request(method, b.url(path)).header("authorization", bearer.clone());
        if let Some(body) = body {
            req = req.json(&body);
        }
        async move {
            let res = req.send().await.unwrap();
            assert!(res.status().is_success(), "{}", res.status());
            res.json::<Value>().await.unwrap()
        }
    };
    let page =
        through_b(reqwest::Method::GET, &format!("/v1/conversations/{conversation_id}/messages"), None).await;
    let first = page["data"][0]["id"].as_str().unwrap().to_owned();
    through_b(
        reqwest::Method::PATCH,
        &format!("/v1/messages/{first}"),
        Some(json!({ "body": "#1, edited" })),
    )
    .await;
    let patch = Some(json!({ "status": "pending" }));
    let changed =
        through_b(reqwest::Method::PATCH, &format!("/v1/conversations/{conversation_id}"), patch).await;
    assert_eq!(changed["last_position"], 6);
    // Back: the same connection receives what it missed with no new change to reveal the gap, in
    // order and once, then live ones; as an agent, it is told that its inbox may be stale.
    let _back = OwnRedis::start(port).unwrap();
    bus_becomes(&a, "ok").await;
    let (changes, stale) = changes_until(&mut ws, 6).await;
    assert_eq!(
        changes,
        [
            ("message.new", 2),
            ("message.new", 3),
            ("message.new", 4),
            ("message.updated", 5),
            ("conversation.updated", 6)
        ]
        .map(|(k, p)| (k.to_owned(), p))
    );
    if !stale {
        // It follows the replay.
        let (_, stale) = changes_until_stale(&mut ws).await;
        assert!(stale, "the agent is told to catch up on its inbox");
    }
    bus_becomes(&b, "ok").await;
    post_through_b(5).await;
    assert_eq!(sequences_until(&mut ws, 5).await, [5]);
    assert!(a.terminate().success() && b.terminate().success());
}
