//! Who may see and change what: callers of the wrong kind, other devices, other companies, authors.

use actix_web::test::TestRequest;
use serde_json::json;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::app;
use crate::guarantees::{body, setup};
use crate::support::{delete, get, member, patch, post, register, sdk, sdk_app, send};

backend_tests!(
    each_endpoint_wants_its_kind_of_caller,
    another_company_and_another_device_see_nothing,
    malformed_and_unknown_ids,
    authors_edit_and_moderators_delete,
    agents_assign_resolve_and_filter,
    device_ids_that_only_read_leave_nothing_behind,
);

async fn each_endpoint_wants_its_kind_of_caller(db: &TestDb) {
    let svc = app!(db);
    let (acme, web, conv) = setup(&svc).await;
    let server_key =
        send(&svc, post(&format!("/v1/apps/{}/keys", web.app_id), &acme.token, json!({ "kind": "server" })))
            .await
            .expect(201)["key"]
            .as_str()
            .unwrap()
            .to_owned();
    let path = format!("/v1/conversations/{conv}/messages");

    send(&svc, sdk(TestRequest::get().uri("/v1/conversations"), &web, "dev-1"))
        .await
        .assert_error(403, "FORBIDDEN");
    send(&svc, sdk(TestRequest::get().uri("/v1/contacts"), &web, "dev-1"))
        .await
        .assert_error(403, "FORBIDDEN");
    send(&svc, post("/v1/conversations", &acme.token, json!({}))).await.assert_error(403, "FORBIDDEN");
    send(&svc, post("/v1/identify", &acme.token, json!({ "name": "x" })))
        .await
        .assert_error(403, "FORBIDDEN");
    send(&svc, TestRequest::get().uri(&path)).await.assert_error(401, "UNAUTHENTICATED");
    let as_service =
        TestRequest::post().uri(&path).insert_header(("x-api-key", server_key.as_str())).set_json(body("hi"));
    send(&svc, as_service).await.assert_error(403, "FORBIDDEN");
    let bad_platform = sdk(TestRequest::post().uri("/v1/conversations"), &web, "dev-9")
        .insert_header(("x-platform", "toaster"));
    send(&svc, bad_platform).await.assert_error(400, "VALIDATION_ERROR");

    let tracked = TestRequest::post()
        .uri("/v1/events/track")
        .set_json(json!({ "name": "screen_view", "properties": { "screen": "home" } }));
    let event = send(&svc, sdk(tracked, &web, "dev-1")).await.expect(201);
    assert_eq!(event["name"], "screen_view");
    let bad_event =
        TestRequest::post().uri("/v1/events/track").set_json(json!({ "name": "x", "properties": [1, 2] }));
    send(&svc, sdk(bad_event, &web, "dev-1")).await.assert_error(400, "VALIDATION_ERROR");
    send(&svc, post("/v1/events/track", &acme.token, json!({ "name": "x" })))
        .await
        .assert_error(403, "FORBIDDEN");
    assert_eq!(db.count_rows("events").await, 1);
}

async fn another_company_and_another_device_see_nothing(db: &TestDb) {
    let svc = app!(db);
    let (acme, web, conv) = setup(&svc).await;
    let path = format!("/v1/conversations/{conv}/messages");
    let hello =
        send(&svc, sdk(TestRequest::post().uri(&path).set_json(body("my refund secret")), &web, "dev-1"))
            .await
            .expect(201);
    let message = format!("/v1/messages/{}", hello["id"].as_str().unwrap());

    let globex = register(&svc, "Globex", "owner@globex.test").await;
    let globex_web = sdk_app(&svc, &globex).await;
    for reply in [
        send(&svc, get(&format!("/v1/conversations/{conv}"), &globex.token)).await,
        send(
            &svc,
            patch(&format!("/v1/conversations/{conv}"), &globex.token, json!({ "status": "resolved" })),
        )
        .await,
        send(&svc, get(&path, &globex.token)).await,
        send(&svc, post(&path, &globex.token, body("intrusion"))).await,
        send(&svc, post(&format!("{path}/read"), &globex.token, json!({ "up_to_sequence": 1 }))).await,
        send(&svc, get(&message, &globex.token)).await,
        send(&svc, patch(&message, &globex.token, body("changed"))).await,
        send(&svc, delete(&message, &globex.token)).await,
        // Another company's device, and another device of the same app, are strangers too.
        send(&svc, sdk(TestRequest::get().uri(&path), &globex_web, "dev-1")).await,
        send(&svc, sdk(TestRequest::get().uri(&path), &web, "dev-2")).await,
        send(&svc, sdk(TestRequest::post().uri(&path).set_json(body("hi")), &web, "dev-2")).await,
    ] {
        reply.assert_error(404, "NOT_FOUND");
    }
    let inbox = send(&svc, get("/v1/conversations", &globex.token)).await.expect(200);
    assert!(inbox["data"].as_array().unwrap().is_empty());
    let found = send(&svc, get("/v1/search/messages?q=refund", &globex.token)).await.expect(200);
    assert!(found["data"].as_array().unwrap().is_empty());
    let own = send(&svc, get("/v1/search/messages?q=refund", &acme.token)).await.expect(200);
    assert_eq!(own["data"][0]["id"], hello["id"]);
    send(&svc, get("/v1/search/messages?q=", &acme.token)).await.assert_error(400, "VALIDATION_ERROR");

    let untouched = send(&svc, get(&message, &acme.token)).await.expect(200);
    assert_eq!(
        (untouched["body"].as_str(), untouched["status"].as_str()),
        (Some("my refund secret"), Some("sent"))
    );
    assert_eq!(db.count_rows("messages").await, 1);
}

async fn malformed_and_unknown_ids(db: &TestDb) {
    let svc = app!(db);
    let (acme, _, _) = setup(&svc).await;
    let unknown = uuid::Uuid::now_v7();
    for path in [
        "/v1/conversations/nope",
        "/v1/messages/nope",
        "/v1/contacts/nope",
        "/v1/conversations/nope/messages",
    ] {
        send(&svc, get(path, &acme.token)).await.assert_error(400, "VALIDATION_ERROR");
    }
    for path in [
        format!("/v1/conversations/{unknown}"),
        format!("/v1/messages/{unknown}"),
        format!("/v1/contacts/{unknown}"),
    ] {
        send(&svc, get(&path, &acme.token)).await.assert_error(404, "NOT_FOUND");
    }
    send(&svc, post(&format!("/v1/conversations/{unknown}/messages"), &acme.token, body("x")))
        .await
        .assert_error(404, "NOT_FOUND");
    send(&svc, get("/v1/conversations?cursor=garbage", &acme.token))
        .await
        .assert_error(400, "VALIDATION_ERROR");
    send(&svc, get("/v1/conversations?status=closed", &acme.token))
        .await
        .assert_error(400, "VALIDATION_ERROR");
}

async fn authors_edit_and_moderators_delete(db: &TestDb) {
    let svc = app!(db);
    let (acme, web, conv) = setup(&svc).await;
    let (_, agent) = member(&svc, &acme, "agent@acme.test", "agent").await;
    let path = format!("/v1/conversations/{conv}/messages");
    let theirs = send(&svc, sdk(TestRequest::post().uri(&path).set_json(body("helo")), &web, "dev-1"))
        .await
        .expect(201);
    let mine = send(&svc, post(&path, &agent, body("welcome"))).await.expect(201);
    let theirs_path = format!("/v1/messages/{}", theirs["id"].as_str().unwrap());
    let mine_path = format!("/v1/messages/{}", mine["id"].as_str().unwrap());

    let fixed =
        send(&svc, sdk(TestRequest::patch().uri(&theirs_path).set_json(body("hello")), &web, "dev-1"))
            .await
            .expect(200);
    assert_eq!((fixed["body"].as_str(), fixed["sequence"].as_i64()), (Some("hello"), Some(1)));
    assert!(fixed["edited_at"].is_string());
    send(&svc, patch(&theirs_path, &agent, body("rewritten"))).await.assert_error(403, "FORBIDDEN");
    send(&svc, patch(&mine_path, &acme.token, body("rewritten"))).await.assert_error(403, "FORBIDDEN");
    send(&svc, delete(&theirs_path, &agent)).await.assert_error(403, "FORBIDDEN");
    send(&svc, sdk(TestRequest::delete().uri(&mine_path), &web, "dev-1"))
        .await
        .assert_error(403, "FORBIDDEN");

    let deleted = send(&svc, delete(&theirs_path, &acme.token)).await.expect(200);
    assert!(deleted["deleted_at"].is_string() && deleted["body"] == "");
    let audit = send(&svc, get("/v1/audit?action=message.deleted", &acme.token)).await.expect(200);
    let audit = audit["data"].as_array().unwrap();
    assert_eq!(audit.len(), 1, "the deletion is audited once: {audit:?}");
    assert_eq!(audit[0]["actor"], json!({ "kind": "user", "id": acme.owner_id }));
    assert_eq!(audit[0]["target"], json!({ "kind": "message", "id": theirs["id"] }));
    assert_eq!(audit[0]["detail"]["conversation_id"], conv.as_str());
    send(&svc, sdk(TestRequest::patch().uri(&theirs_path).set_json(body("back")), &web, "dev-1"))
        .await
        .assert_error(409, "CONFLICT");
    send(&svc, patch(&mine_path, &agent, body("welcome!"))).await.expect(200);
    let listed = send(&svc, get(&path, &acme.token)).await.expect(200);
    assert_eq!(listed["data"].as_array().unwrap().len(), 2, "a deleted message keeps its place");
}

async fn agents_assign_resolve_and_filter(db: &TestDb) {
    let svc = app!(db);
    let (acme, web, conv) = setup(&svc).await;
    let (agent_id, _) = member(&svc, &acme, "agent@acme.test", "agent").await;
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    let conv_path = format!("/v1/conversations/{conv}");

    let assigned =
        send(&svc, patch(&conv_path, &acme.token, json!({ "assignee_id": agent_id }))).await.expect(200);
    assert_eq!(assigned["assignee_id"], agent_id.as_str());
    let foreign = json!({ "assignee_id": globex.owner_id });
    send(&svc, patch(&conv_path, &acme.token, foreign)).await.assert_error(400, "VALIDATION_ERROR");
    let mine =
        send(&svc, get(&format!("/v1/conversations?assignee={agent_id}"), &acme.token)).await.expect(200);
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    let unassigned = send(&svc, get("/v1/conversations?assignee=none", &acme.token)).await.expect(200);
    assert!(unassigned["data"].as_array().unwrap().is_empty());
    let cleared =
        send(&svc, patch(&conv_path, &acme.token, json!({ "assignee_id": null }))).await.expect(200);
    assert!(cleared["assignee_id"].is_null());

    send(&svc, patch(&conv_path, &acme.token, json!({ "status": "resolved" }))).await.expect(200);
    let path = format!("{conv_path}/messages");
    send(&svc, sdk(TestRequest::post().uri(&path).set_json(body("one more thing")), &web, "dev-1"))
        .await
        .assert_error(409, "CONFLICT");
    let fresh =
        send(&svc, sdk(TestRequest::post().uri("/v1/conversations"), &web, "dev-1")).await.expect(200);
    assert_ne!(fresh["id"], conv.as_str());
    let resolved = send(&svc, get("/v1/conversations?status=resolved", &acme.token)).await.expect(200);
    assert_eq!(resolved["data"].as_array().unwrap().len(), 1);
    let web_only = send(&svc, get("/v1/conversations?platform=web", &acme.token)).await.expect(200);
    assert_eq!(web_only["data"].as_array().unwrap().len(), 2);
    let first = send(&svc, get("/v1/conversations?limit=1", &acme.token)).await.expect(200);
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second =
        send(&svc, get(&format!("/v1/conversations?limit=1&cursor={cursor}"), &acme.token)).await.expect(200);
    assert_ne!(first["data"][0]["id"], second["data"][0]["id"]);
}

async fn device_ids_that_only_read_leave_nothing_behind(db: &TestDb) {
    let svc = app!(db);
    let (acme, web, conv) = setup(&svc).await;
    let sent = send(&svc, post(&format!("/v1/conversations/{conv}/messages"), &acme.token, body("hi"))).await;
    let message = sent.expect(201)["id"].as_str().unwrap().to_owned();
    let (devices, contacts) = (db.count_rows("devices").await, db.count_rows("contacts").await);
    for n in 0..20 {
        let device = format!("probe-{n}");
        let messages = format!("/v1/conversations/{conv}/messages");
        for req in [
            TestRequest::get().uri(&format!("/v1/conversations/{conv}")),
            TestRequest::get().uri(&messages),
            TestRequest::post().uri(&messages).set_json(body("let me in")),
            TestRequest::get().uri(&format!("/v1/messages/{message}")),
            TestRequest::post().uri(&format!("{messages}/read")).set_json(json!({ "up_to_sequence": 1 })),
        ] {
            send(&svc, sdk(req, &web, &device)).await.assert_error(404, "NOT_FOUND");
        }
    }
    assert_eq!(db.count_rows("devices").await, devices, "no device row for ids that only read");
    assert_eq!(db.count_rows("contacts").await, contacts, "nor a contact");
    // Opening a conversation is what registers a device.
    send(&svc, sdk(TestRequest::post().uri("/v1/conversations"), &web, "probe-0")).await.expect(200);
    assert_eq!(db.count_rows("devices").await, devices + 1);
}
