//! Request bodies, path and query parameters that do not fit: messages say what the field or body
//! should be, in API terms (never a Rust type), and unknown fields are refused by name.

use actix_web::test::TestRequest;
use serde_json::{Value, json};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::app;
use crate::support::{Caller, Reply, get, patch, post, register, sdk, sdk_app};

backend_tests!(
    type_errors_name_the_field_and_the_json_type_expected,
    path_and_query_errors_name_the_parameter,
    unknown_fields_are_refused_by_name,
);

/// Asserts a 400 whose message contains each of `parts` and nothing that reads like Rust.
#[track_caller]
fn assert_says(reply: &Reply, parts: &[&str]) {
    reply.assert_error(400, "VALIDATION_ERROR");
    let message = reply.body["error"]["message"].as_str().unwrap();
    for part in parts {
        assert!(message.contains(part), "{part:?} missing from {}", reply.body);
    }
    for rust in ["struct", "enum ", "Input", "Params", "i64", "u32", "Uuid", "UUID parsing failed", "line 1"]
    {
        assert!(!message.contains(rust), "{rust:?} in {}", reply.body);
    }
}

async fn type_errors_name_the_field_and_the_json_type_expected(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let web = sdk_app(&svc, &acme).await;
    let conv = svc.call(sdk(TestRequest::post().uri("/v1/conversations"), &web, "dev-1")).await.expect(200);
    let conv = format!("/v1/conversations/{}", conv["id"].as_str().unwrap());

    for body in [json!([]), json!("open"), json!(null), json!(1)] {
        let reply = svc.call(patch(&conv, &acme.token, body)).await;
        assert_says(&reply, &["request body must be a JSON object"]);
    }
    let reply = svc.call(patch(&conv, &acme.token, json!({ "status": 3 }))).await;
    assert_says(&reply, &["`status`", "string"]);
    assert!(reply.body["error"]["details"]["fields"]["status"].is_array(), "{}", reply.body);
    let reply = svc.call(patch(&conv, &acme.token, json!({ "status": "closed" }))).await;
    assert_says(&reply, &["`status`", "`closed`", "`open`"]);
    let reply = svc.call(patch(&conv, &acme.token, json!({ "assignee_id": "nobody" }))).await;
    assert_says(&reply, &["`assignee_id`", "UUID"]);

    let login = TestRequest::post().uri("/v1/auth/login").set_json(json!({ "email": 1, "password": "x" }));
    assert_says(&svc.call(login).await, &["`email`", "expected a string", "got an integer"]);
    let login = TestRequest::post().uri("/v1/auth/login").set_json(json!({ "email": "a@b.test" }));
    assert_says(&svc.call(login).await, &["`password`", "missing"]);

    let read = format!("{conv}/messages/read");
    let reply = svc.call(post(&read, &acme.token, json!({ "up_to_sequence": "7" }))).await;
    assert_says(&reply, &["`up_to_sequence`", "expected an integer", "got a string"]);
    let reply = svc.call(post(&format!("{conv}/messages"), &acme.token, json!({ "body": ["hi"] }))).await;
    assert_says(&reply, &["`body`", "expected a string", "got an array"]);

    let track = |body: Value| sdk(TestRequest::post().uri("/v1/events/track").set_json(body), &web, "dev-1");
    let reply = svc.call(track(json!({ "name": "x", "occurred_at": "yesterday" }))).await;
    assert_says(&reply, &["`occurred_at`"]);
}

async fn path_and_query_errors_name_the_parameter(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    assert_says(&svc.call(get("/v1/contacts/not-an-id", &acme.token)).await, &["`id`", "UUID"]);
    assert_says(&svc.call(get("/v1/users/%FF", &acme.token)).await, &["`id`", "UUID"]);
    let reply = svc.call(get("/v1/conversations?status=closed", &acme.token)).await;
    assert_says(&reply, &["`status`", "`closed`", "`open`"]);
    let reply = svc.call(get("/v1/conversations?limit=many", &acme.token)).await;
    assert_says(&reply, &["`limit`", "integer"]);
    let reply = svc.call(get("/v1/conversations?contact=7", &acme.token)).await;
    assert_says(&reply, &["`contact`", "UUID"]);
    assert_says(&svc.call(get("/v1/search/messages", &acme.token)).await, &["`q`", "missing"]);
}

async fn unknown_fields_are_refused_by_name(db: &TestDb) {
    let svc = app!(db);
    let register_body = json!({
        "company_name": "Acme", "name": "Owner", "email": "owner@acme.test", "password": "password123",
        "role": "admin",
    });
    let reply = svc.call(TestRequest::post().uri("/v1/auth/register").set_json(register_body)).await;
    assert_says(&reply, &["unknown field `role`"]);
    assert!(reply.body["error"]["details"]["fields"]["role"].is_array(), "{}", reply.body);
    assert_eq!(db.count_rows("companies").await, 0, "nothing was registered");

    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let login = json!({ "email": "owner@acme.test", "password": "password123", "remember": true });
    let reply = svc.call(TestRequest::post().uri("/v1/auth/login").set_json(login)).await;
    assert_says(&reply, &["unknown field `remember`"]);
    let refresh = json!({ "refresh_token": acme.refresh_token, "family": "x" });
    let reply = svc.call(TestRequest::post().uri("/v1/auth/refresh").set_json(refresh.clone())).await;
    assert_says(&reply, &["unknown field `family`"]);
    let reply = svc.call(TestRequest::post().uri("/v1/auth/logout").set_json(refresh)).await;
    assert_says(&reply, &["unknown field `family`"]);

    let member = json!({ "email": "m@acme.test", "name": "M", "password": "password123", "role": "agent",
                         "company_id": acme.company_id });
    assert_says(&svc.call(post("/v1/users", &acme.token, member)).await, &["unknown field `company_id`"]);
    let reply = svc
        .call(patch(
            &format!("/v1/users/{}", acme.owner_id),
            &acme.token,
            json!({ "role": "agent", "name": "x" }),
        ))
        .await;
    assert_says(&reply, &["unknown field `name`"]);
    let reply = svc.call(post("/v1/apps", &acme.token, json!({ "name": "Web", "company_id": "x" }))).await;
    assert_says(&reply, &["unknown field `company_id`"]);
    let web = sdk_app(&svc, &acme).await;
    let key = json!({ "kind": "server", "scopes": ["all"] });
    let reply = svc.call(post(&format!("/v1/apps/{}/keys", web.app_id), &acme.token, key)).await;
    assert_says(&reply, &["unknown field `scopes`"]);
    assert_eq!((db.count_rows("users").await, db.count_rows("apps").await), (1, 1), "nothing was created");
    assert_eq!(db.count_rows("api_keys").await, 1);
}
