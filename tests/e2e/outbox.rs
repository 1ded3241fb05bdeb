//! The durable outbox of Meta forwards: a server killed with forwards pending delivers each of them
//! once after a restart, and two servers on one PostgreSQL share the outbox without a duplicate.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tidings_store::test_db::TestDb;

use crate::server::{Server, TempDir};

const PAGE_TOKEN: &str = "EAAB-page-access-token-0123456789";
const APP_SECRET: &str = "meta-app-secret-0123456789abcdef";

/// Requests by `Idempotency-Key`: each one's path and JSON body.
type Seen = HashMap<String, Vec<(String, Value)>>;

/// A stand-in for the Meta bot service: answers every request with `status` after `delay`, and
/// records each request's path and JSON body under its `Idempotency-Key` as it arrives.
struct Bot {
    url: String,
    seen: Arc<Mutex<Seen>>,
    in_flight: Arc<AtomicUsize>,
}

impl Bot {
    fn start(delay: Duration, status: &'static str) -> Bot {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (seen, in_flight) = (Arc::default(), Arc::new(AtomicUsize::new(0)));
        let bot = Bot { url, seen: Arc::clone(&seen), in_flight: Arc::clone(&in_flight) };
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let (seen, in_flight) = (Arc::clone(&seen), Arc::clone(&in_flight));
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(&stream);
                    let mut line = String::new();
                    let _ = reader.read_line(&mut line);
                    let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
                    let (mut key, mut length) = (None, 0);
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                            break;
                        }
                        let (name, value) = line.split_once(':').unwrap_or_default();
                        match name.trim().to_ascii_lowercase().as_str() {
                            "idempotency-key" => key = Some(value.trim().to_owned()),
                            "content-length" => length = value.trim().parse().unwrap_or(0),
                            _ => {}
                        }
                    }
                    let mut body = vec![0; length];
                    let _ = reader.read_exact(&mut body);
                    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let key = key.unwrap_or_else(|| "(no Idempotency-Key)".to_owned());
                    seen.lock().unwrap().entry(key).or_default().push((path, body));
                    in_flight.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(delay);
                    let answer =
                        format!("HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}");
                    let _ = (&stream).write_all(answer.as_bytes());
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        bot
    }

    fn requests(&self) -> Seen {
        self.seen.lock().unwrap().clone()
    }
}

/// Settings shared by every server of a test (the secrets must match across a restart or a cluster).
fn base_vars(database: Option<&str>) -> Vec<(&str, &str)> {
    let mut vars = vec![
        ("TIDINGS_JWT_SECRET", "an-outbox-test-secret-of-at-least-32-chars"),
        ("TIDINGS_ENCRYPTION_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
        ("TIDINGS_BCRYPT_COST", "4"),
        ("TIDINGS_META_GRAPH_URL", "http://127.0.0.1:9"),
        ("TIDINGS_OUTBOX_LEASE_SECS", "15"),
    ];
    vars.extend(database.map(|url| ("TIDINGS_DATABASE_URL", url)));
    vars
}

/// A company with Meta connected, and the Facebook conversation a contact's message opened.
struct Tenant {
    bearer: String,
    conversation: String,
}

async fn tenant(server: &Server) -> Tenant {
    let http = reqwest::Client::new();
    let body =
        json!({ "company_name": "Acme", "name": "Ada", "email": "ada@acme.test", "password": "password123" });
    let res = http.post(server.url("/v1/auth/register")).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let registered: Value = res.json().await.unwrap();
    let bearer = format!("Bearer {}", registered["access_token"].as_str().unwrap());
    let settings = json!({ "page_id": "1001", "app_id": "1234", "page_access_token": PAGE_TOKEN,
        "app_secret": APP_SECRET, "verify_token": "verify-token-0123456789" });
    let req = http.put(server.url("/v1/integrations/meta")).header("authorization", &bearer);
    assert_eq!(req.json(&settings).send().await.unwrap().status(), 200);
    let raw =
        json!({ "object": "page", "entry": [{ "id": "1001", "time": 1_700_000_000_000_i64, "messaging": [{
        "sender": { "id": "psid-1" }, "recipient": { "id": "1001" }, "timestamp": 1_700_000_000_000_i64,
        "message": { "mid": "m-1", "text": "hello" } }] }] })
        .to_string();
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, APP_SECRET.as_bytes());
    let signature = format!("sha256={}", hex::encode(aws_lc_rs::hmac::sign(&key, raw.as_bytes())));
    let req = http.post(server.url("/v1/webhooks/meta")).header("x-hub-signature-256", signature);
    let res = req.header("content-type", "application/json").body(raw).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let req = http.get(server.url("/v1/conversations")).header("authorization", &bearer);
    let list: Value = req.send().await.unwrap().json().await.unwrap();
    let conversation = list["data"].as_array().unwrap().iter().find(|c| c["platform"] == "facebook");
    let conversation =
        conversation.unwrap_or_else(|| panic!("no facebook conversation: {list}"))["id"].clone();
    Tenant { bearer, conversation: conversation.as_str().unwrap().to_owned() }
}

/// Posts agent reply number `n` through `server`; returns the message's id.
async fn reply(server: &Server, tenant: &Tenant, n: usize) -> String {
    let url = server.url(&format!("/v1/conversations/{}/messages", tenant.conversation));
    let req = reqwest::Client::new().post(url).header("authorization", &tenant.bearer);
    let res = req.json(&json!({ "body": format!("reply #{n}") })).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let sent: Value = res.json().await.unwrap();
    assert_eq!(sent["forwarding"], "queued", "{sent}");
    sent["id"].as_str().unwrap().to_owned()
}

/// `GET path` as the owner.
async fn get(server: &Server, tenant: &Tenant, path: &str) -> Value {
    let res = reqwest::Client::new().get(server.url(path)).header("authorization", &tenant.bearer);
    let res = res.send().await.unwrap();
    assert_eq!(res.status(), 200, "GET {path}");
    res.json().await.unwrap()
}

/// The status of each agent reply in the conversation.
async fn reply_statuses(server: &Server, tenant: &Tenant) -> Vec<String> {
    let page =
        get(server, tenant, &format!("/v1/conversations/{}/messages?limit=200", tenant.conversation)).await;
    let replies = page["data"].as_array().unwrap().iter().filter(|m| m["sender"] == "agent");
    replies.map(|m| m["status"].as_str().unwrap().to_owned()).collect()
}

/// Waits (at most `within`) until `count` replies are `sent`.
async fn all_sent(server: &Server, tenant: &Tenant, count: usize, within: Duration) {
    let start = Instant::now();
    loop {
        let statuses = reply_statuses(server, tenant).await;
        if statuses.len() == count && statuses.iter().all(|s| s == "sent") {
            eprintln!("all {count} replies sent after {:?}", start.elapsed());
            return;
        }
        assert!(start.elapsed() < within, "not all {count} replies sent: {statuses:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `outbox` of `/health/ready`.
async fn outbox_health(server: &Server) -> Value {
    let ready: Value = reqwest::get(server.url("/health/ready")).await.unwrap().json().await.unwrap();
    ready["outbox"].clone()
}

/// Checks that the bot got exactly one request per delivered outbox item, each for the message of
/// that item, and returns the requests' paths.
async fn delivered_once(server: &Server, tenant: &Tenant, bot: &Bot, sent: &[String]) -> Vec<String> {
    let requests = bot.requests();
    let page = get(server, tenant, "/v1/outbox?status=delivered&limit=200").await;
    let delivered = page["data"].as_array().unwrap();
    assert_eq!(delivered.len(), sent.len(), "{page}");
    let keys: HashSet<&str> = delivered.iter().map(|i| i["idempotency_key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), sent.len(), "one key per forward");
    assert_eq!(keys, requests.keys().map(String::as_str).collect(), "the bot got each key, and only those");
    let messages: HashSet<&str> = delivered.iter().map(|i| i["message_id"].as_str().unwrap()).collect();
    assert_eq!(messages, sent.iter().map(String::as_str).collect(), "one forward per reply");
    let mut paths = Vec::new();
    for item in delivered {
        let calls = &requests[item["idempotency_key"].as_str().unwrap()];
        assert_eq!(
            calls.len(),
            1,
            "{} was delivered {} times: {calls:?}",
            item["idempotency_key"],
            calls.len()
        );
        let (path, body) = &calls[0];
        assert!(path.ends_with("/facebook"), "{path}");
        assert_eq!(body["message_id"], item["message_id"], "{body}");
        assert_eq!(body["customer_social_id"], "psid-1", "{body}");
        assert_eq!(body["access_token"], PAGE_TOKEN, "{body}");
        paths.push(path.clone());
    }
    paths
}

/// Kills a server whose forwards are pending, one of them in flight to a slow bot, and restarts it.
async fn killed_with_50_pending_then_restarted(database: Option<&str>) {
    let dir = TempDir::new();
    // Before the kill the bot takes 5 s and then refuses (503): nothing is delivered, and a forward
    // is in flight when the server dies (a batch's calls go out together and end together, so the
    // bot must hold them long enough for the checks below to run before the kill). A request seen by the working bot after the restart is
    // therefore the only 2xx its key ever got, and a second one would be a duplicate delivery.
    let failing = Bot::start(Duration::from_secs(5), "503 Service Unavailable");
    let mut vars = base_vars(database);
    vars.extend([("TIDINGS_META_BOT_URL", failing.url.as_str()), ("TIDINGS_OUTBOX_POLL_MS", "50")]);
    let mut server = Server::start(&dir.0, &vars);
    let acme = tenant(&server).await;
    let mut sent = Vec::new();
    for n in 1..=50 {
        sent.push(reply(&server, &acme, n).await);
    }
    let start = Instant::now();
    while failing.in_flight.load(Ordering::SeqCst) == 0 {
        assert!(start.elapsed() < Duration::from_secs(20), "no forward reached the bot");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(outbox_health(&server).await["pending"], 50);
    let statuses = reply_statuses(&server, &acme).await;
    assert!(statuses.len() == 50 && statuses.iter().all(|s| s == "pending"), "{statuses:?}");
    server.kill();
    let cut_off = failing.requests();
    assert!(failing.in_flight.load(Ordering::SeqCst) > 0, "the kill came while a forward was in flight");

    let bot = Bot::start(Duration::ZERO, "200 OK");
    let mut vars = base_vars(database);
    vars.extend([
        ("TIDINGS_META_BOT_URL", bot.url.as_str()),
        ("TIDINGS_OUTBOX_BASE_DELAY_MS", "10"),
        ("TIDINGS_OUTBOX_MAX_DELAY_SECS", "1"),
        ("TIDINGS_OUTBOX_POLL_MS", "50"),
    ]);
    let restarted = Instant::now();
    let mut server = Server::start(&dir.0, &vars);
    // The forwards the dead process had claimed come back once its 15 s lease runs out.
    all_sent(&server, &acme, 50, Duration::from_secs(60)).await;
    eprintln!("restart to all sent: {:?}", restarted.elapsed());
    delivered_once(&server, &acme, &bot, &sent).await;
    let requests = bot.requests();
    assert!(cut_off.keys().all(|k| requests.contains_key(k)), "the forward cut off by the kill is delivered");
    let health = outbox_health(&server).await;
    assert!(health["pending"] == 0 && health["dead"] == 0, "{health}");
    assert!(server.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_with_50_forwards_pending_delivers_all_once_after_restart() {
    killed_with_50_pending_then_restarted(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_with_50_forwards_pending_delivers_all_once_after_restart_on_postgres() {
    let Some(db) = TestDb::postgres().await else { return };
    killed_with_50_pending_then_restarted(Some(db.url())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_share_the_outbox_without_a_duplicate() {
    let Some(db) = TestDb::postgres().await else { return };
    let bot = Bot::start(Duration::from_millis(50), "200 OK");
    // Each server calls the one bot under its own path prefix, which tells who delivered what.
    let (via_a, via_b) = (format!("{}/a", bot.url), format!("{}/b", bot.url));
    let mut vars_a = base_vars(Some(db.url()));
    vars_a.extend([("TIDINGS_OUTBOX_WORKERS", "2"), ("TIDINGS_OUTBOX_POLL_MS", "50")]);
    vars_a.extend([("TIDINGS_OUTBOX_BASE_DELAY_MS", "10"), ("TIDINGS_OUTBOX_MAX_DELAY_SECS", "1")]);
    let mut vars_b = vars_a.clone();
    vars_a.push(("TIDINGS_META_BOT_URL", &via_a));
    vars_b.push(("TIDINGS_META_BOT_URL", &via_b));
    let dirs = (TempDir::new(), TempDir::new());
    let mut a = Server::start(&dirs.0.0, &vars_a);
    let mut b = Server::start(&dirs.1.0, &vars_b);
    let acme = tenant(&a).await;
    let mut sent = Vec::new();
    for n in 1..=60 {
        sent.push(reply(if n % 2 == 0 { &a } else { &b }, &acme, n).await);
    }
    all_sent(&a, &acme, 60, Duration::from_secs(60)).await;
    let paths = delivered_once(&a, &acme, &bot, &sent).await;
    let by_a = paths.iter().filter(|p| p.starts_with("/a/")).count();
    let by_b = paths.iter().filter(|p| p.starts_with("/b/")).count();
    eprintln!("delivered by A: {by_a}, by B: {by_b}");
    assert!(by_a > 0 && by_b > 0 && by_a + by_b == 60, "A delivered {by_a}, B {by_b}");
    for server in [&a, &b] {
        let health = outbox_health(server).await;
        assert!(health["pending"] == 0 && health["dead"] == 0, "{health}");
    }
    assert!(a.terminate().success() && b.terminate().success());
}
