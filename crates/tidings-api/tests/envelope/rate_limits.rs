//! Limits that hold under abuse: per client address for account routes and for the rest, per sender
//! for messages; `429 RATE_LIMITED` with `Retry-After`; `X-Forwarded-For` believed only from the
//! trusted proxies.

use actix_web::test::{self, TestRequest};
use serde_json::json;
use tidings_api::RateLimitSettings;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::support::{Caller, post, register, sdk, sdk_app, settings, state};

backend_tests!(
    addresses_over_their_limit_get_429_with_retry_after,
    forwarded_addresses_count_only_behind_trusted_proxies,
    each_sender_has_its_own_message_budget,
    two_nodes_share_a_limit_over_redis,
);

fn from(req: TestRequest, ip: &str) -> TestRequest {
    req.peer_addr(format!("{ip}:40000").parse().unwrap())
}

fn login(ip: &str) -> actix_http::Request {
    let body = json!({ "email": "nobody@acme.test", "password": "wrong-password" });
    from(TestRequest::post().uri("/v1/auth/login").set_json(body), ip).to_request()
}

async fn addresses_over_their_limit_get_429_with_retry_after(db: &TestDb) {
    let limits = RateLimitSettings { auth_per_minute: 3, per_minute: 5, ..RateLimitSettings::default() };
    let svc =
        test::init_service(tidings_api::app(state(db, settings()).with_rate_limits(&limits, None))).await;
    for _ in 0..3 {
        assert_eq!(test::call_service(&svc, login("203.0.113.7")).await.status().as_u16(), 401);
    }
    let refused = test::call_service(&svc, login("203.0.113.7")).await;
    assert_eq!(refused.status().as_u16(), 429);
    let retry: u64 = refused.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: serde_json::Value = test::read_body_json(refused).await;
    assert_eq!(body["error"]["code"], "RATE_LIMITED", "{body}");
    // Another address is not held back, nor are the same address's other requests.
    assert_eq!(test::call_service(&svc, login("203.0.113.8")).await.status().as_u16(), 401);
    let other = |ip: &str| from(TestRequest::get().uri("/v1/conversations"), ip).to_request();
    for _ in 0..5 {
        assert_eq!(test::call_service(&svc, other("203.0.113.7")).await.status().as_u16(), 401);
    }
    assert_eq!(test::call_service(&svc, other("203.0.113.7")).await.status().as_u16(), 429);
    // Health checks are never limited, nor are the web pages' files.
    let health = from(TestRequest::get().uri("/health"), "203.0.113.7").to_request();
    assert_eq!(test::call_service(&svc, health).await.status().as_u16(), 200);
    let asset = from(TestRequest::get().uri("/assets/inbox.js"), "203.0.113.7").to_request();
    assert_eq!(test::call_service(&svc, asset).await.status().as_u16(), 200);
}

async fn forwarded_addresses_count_only_behind_trusted_proxies(db: &TestDb) {
    let limits = RateLimitSettings {
        per_minute: 2,
        trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
        ..RateLimitSettings::default()
    };
    let svc =
        test::init_service(tidings_api::app(state(db, settings()).with_rate_limits(&limits, None))).await;
    let via = |peer: &str, forwarded: &str| {
        let req = TestRequest::get().uri("/v1/conversations").insert_header(("x-forwarded-for", forwarded));
        from(req, peer).to_request()
    };
    // Behind the proxy: the client is the last address the proxies did not add.
    for _ in 0..2 {
        assert_eq!(test::call_service(&svc, via("10.0.0.2", "198.51.100.1, 10.0.0.9")).await.status(), 401);
    }
    assert_eq!(test::call_service(&svc, via("10.0.0.3", "198.51.100.1")).await.status(), 429);
    assert_eq!(
        test::call_service(&svc, via("10.0.0.2", "198.51.100.2")).await.status(),
        401,
        "another client"
    );
    // A client that is not a proxy cannot pick its address by sending the header.
    for n in 0..2 {
        let spoofed = via("203.0.113.50", &format!("192.0.2.{n}"));
        assert_eq!(test::call_service(&svc, spoofed).await.status(), 401);
    }
    assert_eq!(test::call_service(&svc, via("203.0.113.50", "192.0.2.99")).await.status(), 429);
}

async fn each_sender_has_its_own_message_budget(db: &TestDb) {
    let limits = RateLimitSettings { sends_per_15_minutes: 3, ..RateLimitSettings::default() };
    let svc =
        test::init_service(tidings_api::app(state(db, settings()).with_rate_limits(&limits, None))).await;
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let web = sdk_app(&svc, &acme).await;
    let conv = svc.call(sdk(TestRequest::post().uri("/v1/conversations"), &web, "dev-1")).await.expect(200);
    let path = format!("/v1/conversations/{}/messages", conv["id"].as_str().unwrap());
    for n in 0..3 {
        svc.call(post(&path, &acme.token, json!({ "body": format!("m{n}") }))).await.expect(201);
    }
    let over = svc.call(post(&path, &acme.token, json!({ "body": "one too many" }))).await;
    over.assert_error(429, "RATE_LIMITED");
    // The customer's budget is their own.
    let from_device = sdk(TestRequest::post().uri(&path).set_json(json!({ "body": "hello" })), &web, "dev-1");
    svc.call(from_device).await.expect(201);
    assert_eq!(db.count_rows("messages").await, 4, "the refused message was not stored");
}

async fn two_nodes_share_a_limit_over_redis(db: &TestDb) {
    let url = match std::env::var("TIDINGS_TEST_REDIS_URL") {
        Ok(url) => url,
        Err(_) => {
            assert!(std::env::var_os("CI").is_none(), "TIDINGS_TEST_REDIS_URL must be set when CI is");
            return;
        }
    };
    let limits = RateLimitSettings { per_minute: 3, ..RateLimitSettings::default() };
    let node = |url: &str| {
        let shared: std::sync::Arc<dyn tidings_domain::SharedLimiter> =
            std::sync::Arc::new(tidings_redis::RedisLimiter::new(url).unwrap());
        state(db, settings()).with_rate_limits(&limits, Some(shared))
    };
    let a = test::init_service(tidings_api::app(node(&url))).await;
    let b = test::init_service(tidings_api::app(node(&url))).await;
    // An address of its own for this run, so that earlier runs' counts in Redis do not matter.
    let n = uuid::Uuid::now_v7().as_u128();
    let ip = format!("198.18.{}.{}", (n >> 8) & 0xff, n & 0xff);
    let call = || from(TestRequest::get().uri("/v1/conversations"), &ip).to_request();
    let mut statuses = Vec::new();
    for turn in 0..4 {
        let res = if turn % 2 == 0 {
            test::call_service(&a, call()).await
        } else {
            test::call_service(&b, call()).await
        };
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429], "three in all across the two nodes, not three each");
    // A node whose Redis does not answer still holds its limit, counting on its own.
    let alone = test::init_service(tidings_api::app(node("redis://127.0.0.1:1"))).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(test::call_service(&alone, call()).await.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
}
