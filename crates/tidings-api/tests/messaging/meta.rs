//! Meta through HTTP: owners connect a page with secrets that are sealed and never shown again;
//! Meta's webhooks are taken in only when signed by the page's company, once however often they
//! come; agents' replies to Facebook contacts are queued for forwarding within Meta's windows.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use tidings_domain::{CompanyId, IntegrationKind, IntegrationRepo, OutboxRepo};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::app;
use crate::support::{
    APP_SECRET, Caller, PAGE_TOKEN, Tenant, VERIFY_TOKEN, get, member, meta_delivery, meta_settings,
    meta_webhook, post, put, register, sdk, sdk_app, send,
};

backend_tests!(
    admins_connect_meta_with_secrets_sealed_and_never_shown,
    meta_webhooks_are_taken_in_only_when_signed_and_only_once,
    agent_replies_are_queued_within_metas_windows,
);

async fn connect(svc: &impl Caller, tenant: &Tenant, page: &str) {
    svc.call(put("/v1/integrations/meta", &tenant.token, meta_settings(page))).await.expect(200);
}

fn inbound(page: &str, psid: &str, mid: &str, text: &str) -> Value {
    meta_delivery(page, psid, json!({ "message": { "mid": mid, "text": text } }))
}

async fn admins_connect_meta_with_secrets_sealed_and_never_shown(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    let empty = send(&svc, get("/v1/integrations/meta", &acme.token)).await.expect(200);
    assert_eq!((empty["page_id"].clone(), empty["updated_at"].clone()), (Value::Null, Value::Null));

    let (_, agent) = member(&svc, &acme, "agent@acme.test", "agent").await;
    send(&svc, put("/v1/integrations/meta", &agent, meta_settings("1001")))
        .await
        .assert_error(403, "FORBIDDEN");
    send(&svc, get("/v1/integrations/meta", &agent)).await.assert_error(403, "FORBIDDEN");

    let shown =
        send(&svc, put("/v1/integrations/meta", &acme.token, meta_settings("1001"))).await.expect(200);
    assert_eq!(shown["page_id"], "1001");
    assert_eq!(shown["page_access_token"], "…6789");
    assert_eq!(shown["app_secret"], "…cdef");
    let read = send(&svc, get("/v1/integrations/meta", &acme.token)).await.expect(200);
    assert_eq!(read, shown);
    for secret in [PAGE_TOKEN, APP_SECRET, VERIFY_TOKEN] {
        assert!(!read.to_string().contains(secret), "{read}");
    }
    // In the database the secrets are sealed: the raw column gives nothing away.
    let company: CompanyId = acme.company_id.parse().unwrap();
    let raw = db.store().get_integration(company, IntegrationKind::Meta).await.unwrap().unwrap();
    let sealed = raw.secrets.unwrap();
    for secret in [PAGE_TOKEN, APP_SECRET, VERIFY_TOKEN, "page_access_token"] {
        assert!(!sealed.contains(secret), "{sealed}");
    }
    assert!(raw.key_id.is_some_and(|id| sealed.starts_with(&id)));
    assert_ne!(raw.lookup.verify_token_digest.as_deref(), Some(VERIFY_TOKEN));

    // A field left out is kept; an empty one is cleared.
    let cleared = send(&svc, put("/v1/integrations/meta", &acme.token, json!({ "page_access_token": "" })))
        .await
        .expect(200);
    assert_eq!(
        (cleared["page_access_token"].clone(), cleared["app_secret"].clone()),
        (Value::Null, json!("…cdef"))
    );
    assert_eq!(cleared["page_id"], "1001");

    for bad in
        [json!({ "page_id": "not-digits" }), json!({ "verify_token": "short" }), json!({ "colour": "red" })]
    {
        send(&svc, put("/v1/integrations/meta", &acme.token, bad))
            .await
            .assert_error(400, "VALIDATION_ERROR");
    }
    // Another company cannot take the page (its webhooks would go there).
    send(&svc, put("/v1/integrations/meta", &globex.token, meta_settings("1001")))
        .await
        .assert_error(409, "CONFLICT");
    let theirs = send(&svc, get("/v1/integrations/meta", &globex.token)).await.expect(200);
    assert_eq!(theirs["page_id"], Value::Null);
}

async fn meta_webhooks_are_taken_in_only_when_signed_and_only_once(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    connect(&svc, &acme, "1001").await;
    let globex_settings = json!({ "page_id": "2002", "app_secret": "globex-app-secret-000000000000" });
    send(&svc, put("/v1/integrations/meta", &globex.token, globex_settings)).await.expect(200);

    let handshake = |token: &str| {
        actix_web::test::TestRequest::get().uri(&format!(
            "/v1/webhooks/meta?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"
        ))
    };
    assert_eq!(send(&svc, handshake(VERIFY_TOKEN)).await.expect(200), json!(1_158_201_444));
    send(&svc, handshake("verify-token-of-nobody")).await.assert_error(403, "FORBIDDEN");

    let hello = inbound("1001", "psid-1", "m-1", "hello");
    send(&svc, meta_webhook(&hello, None)).await.assert_error(401, "UNAUTHENTICATED");
    send(&svc, meta_webhook(&hello, Some("a-wrong-secret"))).await.assert_error(401, "UNAUTHENTICATED");
    // Globex cannot forge Acme's page events with its own secret, nor smuggle them beside its own.
    send(&svc, meta_webhook(&hello, Some("globex-app-secret-000000000000")))
        .await
        .assert_error(401, "UNAUTHENTICATED");
    let mut mixed = inbound("2002", "psid-9", "m-9", "mine");
    mixed["entry"].as_array_mut().unwrap().push(hello["entry"][0].clone());
    send(&svc, meta_webhook(&mixed, Some("globex-app-secret-000000000000")))
        .await
        .assert_error(401, "UNAUTHENTICATED");
    assert_eq!((db.count_rows("messages").await, db.count_rows("contacts").await), (0, 0), "nothing kept");

    let taken = send(&svc, meta_webhook(&hello, Some(APP_SECRET))).await.expect(200);
    assert_eq!(taken["received"], 1);
    send(&svc, meta_webhook(&hello, Some(APP_SECRET))).await.expect(200);
    assert_eq!(db.count_rows("messages").await, 1, "a redelivered message is stored once");

    let list = send(&svc, get("/v1/conversations", &acme.token)).await.expect(200);
    let conversations = list["data"].as_array().unwrap();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0]["platform"], "facebook");
    let conv = conversations[0]["id"].as_str().unwrap();
    let messages =
        send(&svc, get(&format!("/v1/conversations/{conv}/messages"), &acme.token)).await.expect(200);
    let first = &messages["data"][0];
    assert_eq!((first["body"].as_str(), first["sender"].as_str()), (Some("hello"), Some("contact")));
    assert_eq!(first["direction"], "inbound");
    let empty = send(&svc, get("/v1/conversations", &globex.token)).await.expect(200);
    assert_eq!(empty["data"], json!([]), "the other company sees nothing");

    // Instagram deliveries name the Instagram account; the contact is kept apart from the Facebook one.
    let on_instagram = json!({ "page_id": "1001", "instagram_account_id": "17841400000000001", "instagram_access_token": "IGQV-token-0123456789" });
    send(&svc, put("/v1/integrations/meta", &acme.token, on_instagram)).await.expect(200);
    let mut dm = inbound("17841400000000001", "igsid-1", "ig-m-1", "from instagram");
    dm["object"] = json!("instagram");
    send(&svc, meta_webhook(&dm, Some(APP_SECRET))).await.expect(200);
    let list = send(&svc, get("/v1/conversations?platform=instagram", &acme.token)).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "{list}");
    dm["object"] = json!("page");
    send(&svc, meta_webhook(&dm, Some(APP_SECRET))).await.assert_error(401, "UNAUTHENTICATED");

    // The page's own messages, echoed back, are not the contact's.
    let echo = meta_delivery(
        "1001",
        "1001",
        json!({ "message": { "mid": "m-2", "text": "ours", "is_echo": true } }),
    );
    assert_eq!(send(&svc, meta_webhook(&echo, Some(APP_SECRET))).await.expect(200)["received"], 0);
    send(&svc, meta_webhook(&json!({ "object": "page", "entry": "x" }), Some(APP_SECRET)))
        .await
        .assert_error(400, "VALIDATION_ERROR");
}

/// Moves the contact's messages back in time, as if they wrote `hours` ago.
async fn wrote_ago(db: &TestDb, hours: i64) {
    let at = (Utc::now() - Duration::hours(hours)).format("%Y-%m-%d %H:%M:%S%.6f");
    db.execute(&format!("UPDATE messages SET created_at = '{at}' WHERE direction = 'inbound'"))
        .await
        .unwrap();
}

async fn agent_replies_are_queued_within_metas_windows(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    connect(&svc, &acme, "1001").await;
    let company: CompanyId = acme.company_id.parse().unwrap();
    let path = |conv: &str| format!("/v1/conversations/{conv}/messages");

    // Nobody may write first on Facebook: a contact that never wrote cannot be answered.
    send(&svc, meta_webhook(&inbound("1001", "psid-1", "m-1", "hello"), Some(APP_SECRET))).await.expect(200);
    let list = send(&svc, get("/v1/conversations", &acme.token)).await.expect(200);
    let conv = list["data"][0]["id"].as_str().unwrap().to_owned();

    let reply = send(&svc, post(&path(&conv), &acme.token, json!({ "body": "hi", "local_id": "r-1" })))
        .await
        .expect(201);
    assert_eq!((reply["forwarding"].as_str(), reply["status"].as_str()), (Some("queued"), Some("pending")));
    let again = send(&svc, post(&path(&conv), &acme.token, json!({ "body": "hi", "local_id": "r-1" })))
        .await
        .expect(200);
    assert_eq!(again["id"], reply["id"]);
    let items = db.store().list_outbox(company, None, None, None, 10).await.unwrap();
    assert_eq!(items.len(), 1, "a retried send forwards nothing more");
    let payload = &items[0].payload;
    assert_eq!(payload["content"], "hi");
    assert_eq!(payload["customer_social_id"], "psid-1");
    assert_eq!(payload["platform"], "facebook");
    assert_eq!(payload["message_id"], reply["id"]);
    assert_eq!(payload["messaging_type"], "RESPONSE");
    assert!(payload.get("access_token").is_none(), "the token is read at call time, never stored");
    assert_eq!(items[0].idempotency_key, format!("meta.forward:{}", reply["id"].as_str().unwrap()));

    // Meta's ids are not the clients' to take: a contact's next message must not look like a retry.
    send(&svc, post(&path(&conv), &acme.token, json!({ "body": "x", "local_id": "meta:m-2" })))
        .await
        .assert_error(400, "VALIDATION_ERROR");

    // After 24 hours a human agent may still answer, tagged; after 7 days nobody may.
    wrote_ago(db, 30).await;
    let late = send(&svc, post(&path(&conv), &acme.token, json!({ "body": "sorry for the wait" })))
        .await
        .expect(201);
    let items = db.store().list_outbox(company, None, None, None, 10).await.unwrap();
    let tagged = items.iter().find(|i| i.payload["message_id"] == late["id"]).unwrap();
    assert_eq!(
        (tagged.payload["tag"].as_str(), tagged.payload["messaging_type"].as_str()),
        (Some("HUMAN_AGENT"), Some("MESSAGE_TAG"))
    );
    wrote_ago(db, 24 * 8).await;
    let (messages, outbox) = (db.count_rows("messages").await, db.count_rows("outbox").await);
    send(&svc, post(&path(&conv), &acme.token, json!({ "body": "hello?" })))
        .await
        .assert_error(409, "CONFLICT");
    assert_eq!(
        (db.count_rows("messages").await, db.count_rows("outbox").await),
        (messages, outbox),
        "nothing stored"
    );

    // Meta's receipts move our replies forward.
    let watermark = Utc::now().timestamp_millis() + 1000;
    let delivered = meta_delivery("1001", "psid-1", json!({ "delivery": { "watermark": watermark } }));
    send(&svc, meta_webhook(&delivered, Some(APP_SECRET))).await.expect(200);
    let page = send(&svc, get(&path(&conv), &acme.token)).await.expect(200);
    let outbound: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["direction"] == "outbound")
        .map(|m| m["status"].as_str().unwrap())
        .collect();
    assert_eq!(outbound, ["delivered", "delivered"]);
    let read = meta_delivery("1001", "psid-1", json!({ "read": { "watermark": watermark } }));
    send(&svc, meta_webhook(&read, Some(APP_SECRET))).await.expect(200);
    let page = send(&svc, get(&path(&conv), &acme.token)).await.expect(200);
    assert!(
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["direction"] == "outbound")
            .all(|m| m["status"] == "read")
    );

    // Replies on an SDK conversation are not forwarded.
    let web = sdk_app(&svc, &acme).await;
    let opened =
        send(&svc, sdk(actix_web::test::TestRequest::post().uri("/v1/conversations"), &web, "dev-1")).await;
    let sdk_conv = opened.expect(200)["id"].as_str().unwrap().to_owned();
    let plain =
        send(&svc, post(&path(&sdk_conv), &acme.token, json!({ "body": "hello app" }))).await.expect(201);
    assert_eq!((plain.get("forwarding"), plain["status"].as_str()), (None, Some("sent")));
}
