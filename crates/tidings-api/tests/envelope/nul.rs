//! NUL characters (U+0000): PostgreSQL cannot store them in text, SQLite can. Both stores refuse them
//! the same way, at the boundary: `400 VALIDATION_ERROR` naming the field, and nothing changes.

use actix_web::test::TestRequest;
use serde_json::{Value, json};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::app;
use crate::support::{Caller, Reply, delete, get, patch, post, register, sdk, sdk_app, send};

backend_tests!(
    nul_in_any_json_text_is_refused_and_changes_nothing,
    nul_in_a_query_or_path_is_refused,
    an_escaped_backslash_before_u0000_is_ordinary_text,
);

/// Asserts a 400 that blames NUL characters in `field`.
#[track_caller]
fn assert_nul_refused(reply: &Reply, field: &str) {
    reply.assert_error(400, "VALIDATION_ERROR");
    let message = reply.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("NUL"), "{}", reply.body);
    assert!(message.contains(&format!("`{field}`")), "{}", reply.body);
    assert!(reply.body["error"]["details"]["fields"][field].is_array(), "{}", reply.body);
}

/// Row counts of every table a refused request could have written to.
async fn counts(db: &TestDb) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in
        ["companies", "users", "apps", "api_keys", "contacts", "devices", "conversations", "messages"]
    {
        counts.push(db.count_rows(table).await);
    }
    counts.push(db.count_rows("events").await);
    counts
}

async fn nul_in_any_json_text_is_refused_and_changes_nothing(db: &TestDb) {
    let svc = app!(db);
    let register_with = |field: &str| {
        let mut body = json!({ "company_name": "Acme", "name": "Owner", "email": "o@acme.test", "password": "password123" });
        body[field] = Value::String(format!("{}\u{0}", body[field].as_str().unwrap()));
        TestRequest::post().uri("/v1/auth/register").set_json(body)
    };
    for field in ["company_name", "name", "email", "password"] {
        assert_nul_refused(&svc.call(register_with(field)).await, field);
    }
    assert_eq!(db.count_rows("companies").await, 0);

    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let web = sdk_app(&svc, &acme).await;
    let conv = svc.call(sdk(TestRequest::post().uri("/v1/conversations"), &web, "dev-1")).await.expect(200);
    let conv = conv["id"].as_str().unwrap();
    let messages = format!("/v1/conversations/{conv}/messages");
    let sent = svc.call(post(&messages, &acme.token, json!({ "body": "hello" }))).await.expect(201);
    let message = format!("/v1/messages/{}", sent["id"].as_str().unwrap());
    let grace = svc.call(post("/v1/contacts", &acme.token, json!({ "name": "Grace" }))).await.expect(201);
    let contact = format!("/v1/contacts/{}", grace["id"].as_str().unwrap());
    let before = counts(db).await;

    let login = json!({ "email": "owner@acme.test\u{0}", "password": "password123" });
    assert_nul_refused(&svc.call(TestRequest::post().uri("/v1/auth/login").set_json(login)).await, "email");
    let refresh = json!({ "refresh_token": format!("{}\u{0}", acme.refresh_token) });
    assert_nul_refused(
        &svc.call(TestRequest::post().uri("/v1/auth/refresh").set_json(refresh)).await,
        "refresh_token",
    );
    assert_nul_refused(&svc.call(post("/v1/apps", &acme.token, json!({ "name": "W\u{0}eb" }))).await, "name");
    let member =
        json!({ "email": "m@acme.test", "name": "M\u{0}", "password": "password123", "role": "agent" });
    assert_nul_refused(&svc.call(post("/v1/users", &acme.token, member)).await, "name");

    for (body, field) in [
        (json!({ "name": "Ada\u{0}" }), "name"),
        // A backslash, then NUL: the JSON text is `\\\u0000`.
        (json!({ "name": "C:\\\u{0}" }), "name"),
        (json!({ "phone": "+44\u{0}1" }), "phone"),
        (json!({ "metadata": { "plan": "pro\u{0}" } }), "metadata.plan"),
        (json!({ "metadata": { "tags": ["a", ["b\u{0}"]] } }), "metadata.tags[1][0]"),
        (json!({ "metadata": { "pl\u{0}an": "pro" } }), "metadata"),
    ] {
        assert_nul_refused(&svc.call(post("/v1/contacts", &acme.token, body.clone())).await, field);
        assert_nul_refused(&svc.call(patch(&contact, &acme.token, body)).await, field);
    }
    for (body, field) in [
        (json!({ "body": "hi\u{0}" }), "body"),
        (json!({ "body": "hi", "local_id": "m\u{0}1" }), "local_id"),
        (
            json!({ "body": "", "attachments": [{ "url": "https://cdn.example/\u{0}.png" }] }),
            "attachments[0].url",
        ),
    ] {
        assert_nul_refused(&svc.call(post(&messages, &acme.token, body.clone())).await, field);
        let as_device = sdk(TestRequest::post().uri(&messages).set_json(body), &web, "dev-1");
        assert_nul_refused(&svc.call(as_device).await, field);
    }
    assert_nul_refused(&svc.call(patch(&message, &acme.token, json!({ "body": "\u{0}" }))).await, "body");

    let device_says =
        |path: &str, body: Value| sdk(TestRequest::post().uri(path).set_json(body), &web, "dev-1");
    for (body, field) in [
        (json!({ "name": "Ada\u{0}" }), "name"),
        (json!({ "email": "ada@example.com", "external_id": "crm\u{0}7" }), "external_id"),
    ] {
        assert_nul_refused(&svc.call(device_says("/v1/identify", body)).await, field);
    }
    for (body, field) in [
        (json!({ "name": "screen\u{0}view" }), "name"),
        (json!({ "name": "screen_view", "properties": { "path": "/\u{0}" } }), "properties.path"),
    ] {
        assert_nul_refused(&svc.call(device_says("/v1/events/track", body)).await, field);
    }
    // A raw NUL byte in a JSON string is malformed JSON.
    let raw = TestRequest::post()
        .uri("/v1/contacts")
        .insert_header(("authorization", format!("Bearer {}", acme.token)))
        .insert_header(("content-type", "application/json"))
        .set_payload(&b"{\"name\": \"a\x00b\"}"[..]);
    let reply = svc.call(raw).await;
    reply.assert_error(400, "VALIDATION_ERROR");
    assert!(reply.body["error"]["message"].as_str().unwrap().contains("malformed JSON"), "{}", reply.body);
    let device = sdk(
        TestRequest::put().uri("/v1/device").set_json(json!({ "platform": "ios", "push_token": "t\u{0}" })),
        &web,
        "dev-1",
    );
    assert_nul_refused(&svc.call(device).await, "push_token");

    assert_eq!(counts(db).await, before, "a refused request changed nothing");
    assert_eq!(svc.call(get(&message, &acme.token)).await.expect(200), sent);
    assert_eq!(svc.call(get(&contact, &acme.token)).await.expect(200), grace);
    // The owner is not locked out or logged out by the refused login and refresh.
    let login = json!({ "email": "owner@acme.test", "password": "password123" });
    svc.call(TestRequest::post().uri("/v1/auth/login").set_json(login)).await.expect(200);
    let refresh = json!({ "refresh_token": acme.refresh_token });
    svc.call(TestRequest::post().uri("/v1/auth/refresh").set_json(refresh)).await.expect(200);
}

async fn nul_in_a_query_or_path_is_refused(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    assert_nul_refused(&send(&svc, get("/v1/search/messages?q=a%00b", &acme.token)).await, "q");
    assert_nul_refused(&send(&svc, get("/v1/contacts?q=%00", &acme.token)).await, "q");
    send(&svc, get("/v1/contacts/%00", &acme.token)).await.assert_error(400, "VALIDATION_ERROR");
    send(&svc, delete("/v1/users/a%00b", &acme.token)).await.assert_error(400, "VALIDATION_ERROR");
    // `%2500` is an escaped percent sign followed by "00": ordinary text.
    send(&svc, get("/v1/search/messages?q=%2500", &acme.token)).await.expect(200);
}

async fn an_escaped_backslash_before_u0000_is_ordinary_text(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let text = r"C:\u0000 and \\u0000";
    let created = svc
        .call(post("/v1/contacts", &acme.token, json!({ "name": text, "metadata": { text: text } })))
        .await
        .expect(201);
    assert_eq!((created["name"].as_str(), created["metadata"][text].as_str()), (Some(text), Some(text)));
}
