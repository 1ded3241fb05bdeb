//! The JSON shape of every successful response, field by field, as docs/api.md describes it. Fields
//! may be added (then add them here and to the docs), never renamed or removed. Secrets appear only in
//! the one answer that issues them, never in a listing.

use actix_web::test::TestRequest;
use serde_json::{Value, json};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::app;
use crate::guarantees::{body, setup};
use crate::support::{fields, get, login, names, patch, post, register, sdk, send};

backend_tests!(
    accounts_and_the_team,
    apps_and_keys_show_no_secret,
    contacts_devices_and_events,
    conversations_and_messages
);

const USER: &[&str] = &["id", "company_id", "email", "name", "role", "created_at"];
const COMPANY: &[&str] = &["id", "name", "settings", "created_at"];
const TOKENS: &[&str] = &["access_token", "refresh_token", "token_type", "expires_in"];
const APP: &[&str] =
    &["id", "company_id", "name", "settings", "created_at", "has_identity_secret", "identity_verification"];
const KEY: &[&str] = &[
    "id",
    "company_id",
    "app_id",
    "kind",
    "prefix",
    "expires_at",
    "revoked_at",
    "last_used_at",
    "created_at",
];
const ISSUED_KEY: &[&str] = &["id", "key", "prefix", "kind", "app_id", "expires_at", "created_at"];
const CONTACT: &[&str] = &[
    "id",
    "company_id",
    "name",
    "email",
    "phone",
    "facebook_id",
    "instagram_id",
    "external_id",
    "metadata",
    "created_at",
    "updated_at",
];
const CONVERSATION: &[&str] = &[
    "id",
    "company_id",
    "contact_id",
    "app_id",
    "platform",
    "status",
    "assignee_id",
    "last_sequence",
    "last_message_at",
    "agent_read_sequence",
    "contact_read_sequence",
    "created_at",
    "updated_at",
    "last_position",
    "changed_at",
];
const MESSAGE: &[&str] = &[
    "id",
    "company_id",
    "conversation_id",
    "sequence",
    "local_id",
    "sender",
    "author_id",
    "direction",
    "platform",
    "body",
    "attachments",
    "status",
    "created_at",
    "edited_at",
    "deleted_at",
];

/// `fields` plus more.
fn with<'a>(base: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
    names(&[base, more].concat())
}

/// Asserts a list page and returns its first item.
#[track_caller]
fn first(page: &Value) -> &Value {
    assert_eq!(fields(page), ["data", "next_cursor"], "{page}");
    &page["data"][0]
}

async fn accounts_and_the_team(db: &TestDb) {
    let svc = app!(db);
    let session =
        json!({ "company_name": "Acme", "name": "Ada", "email": "ada@acme.test", "password": "password123" });
    let registered =
        send(&svc, TestRequest::post().uri("/v1/auth/register").set_json(session)).await.expect(201);
    assert_eq!(fields(&registered), with(TOKENS, &["user", "company"]));
    assert_eq!(fields(&registered["user"]), names(USER));
    assert_eq!(fields(&registered["company"]), names(COMPANY));
    let logged_in = login(&svc, "ada@acme.test", "password123").await.expect(200);
    assert_eq!(fields(&logged_in), with(TOKENS, &["user", "company"]));
    assert_eq!(fields(&logged_in["user"]), names(USER), "no password hash, no lockout state");
    let refresh = json!({ "refresh_token": logged_in["refresh_token"] });
    let refreshed =
        send(&svc, TestRequest::post().uri("/v1/auth/refresh").set_json(refresh)).await.expect(200);
    assert_eq!(fields(&refreshed), names(TOKENS));

    let token = registered["access_token"].as_str().unwrap();
    let me = send(&svc, get("/v1/auth/me", token)).await.expect(200);
    assert_eq!(fields(&me), ["company", "kind", "user"]);
    assert_eq!((fields(&me["user"]), fields(&me["company"])), (names(USER), names(COMPANY)));

    let member =
        json!({ "email": "bob@acme.test", "name": "Bob", "password": "password123", "role": "agent" });
    let bob = send(&svc, post("/v1/users", token, member)).await.expect(201);
    assert_eq!(fields(&bob), names(USER));
    let bob_id = bob["id"].as_str().unwrap();
    assert_eq!(
        fields(&send(&svc, get(&format!("/v1/users/{bob_id}"), token)).await.expect(200)),
        names(USER)
    );
    let promoted = send(&svc, patch(&format!("/v1/users/{bob_id}"), token, json!({ "role": "admin" }))).await;
    assert_eq!(fields(&promoted.expect(200)), names(USER));
    let team = send(&svc, get("/v1/users", token)).await.expect(200);
    for user in team["data"].as_array().unwrap() {
        assert_eq!(fields(user), names(USER), "no password hash in the team listing");
    }
    assert!(!team.to_string().contains("$2"), "no bcrypt hash anywhere: {team}");
}

async fn apps_and_keys_show_no_secret(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let created = send(&svc, post("/v1/apps", &acme.token, json!({ "name": "Web" }))).await.expect(201);
    assert_eq!(fields(&created), names(APP));
    let app_id = created["id"].as_str().unwrap();
    let issued =
        send(&svc, post(&format!("/v1/apps/{app_id}/identity_secret"), &acme.token, json!({}))).await;
    let issued = issued.expect(201);
    assert_eq!(fields(&issued), ["app_id", "identity_secret", "identity_verification"]);
    let secret = issued["identity_secret"].as_str().unwrap();
    let required = json!({ "identity_verification": "required" });
    let updated = send(&svc, patch(&format!("/v1/apps/{app_id}"), &acme.token, required)).await.expect(200);
    assert_eq!(fields(&updated), names(APP));

    let apps = send(&svc, get("/v1/apps", &acme.token)).await.expect(200);
    assert_eq!(fields(first(&apps)), names(APP), "no sealed identity secret in the app listing");
    assert_eq!(apps["data"][0]["has_identity_secret"], true);
    assert!(!apps.to_string().contains(secret), "{apps}");

    let keys_path = format!("/v1/apps/{app_id}/keys");
    let key = send(&svc, post(&keys_path, &acme.token, json!({ "kind": "server" }))).await.expect(201);
    assert_eq!(fields(&key), names(ISSUED_KEY));
    let rotated =
        send(&svc, post(&format!("/v1/keys/{}/rotate", key["id"].as_str().unwrap()), &acme.token, json!({})));
    let rotated = rotated.await.expect(201);
    assert_eq!(fields(&rotated), names(ISSUED_KEY));
    let service =
        TestRequest::get().uri("/v1/auth/me").insert_header(("x-api-key", key["key"].as_str().unwrap()));
    assert_eq!(fields(&send(&svc, service).await.expect(200)), ["app_id", "company_id", "kind"]);

    let keys = send(&svc, get(&keys_path, &acme.token)).await.expect(200);
    assert_eq!(keys["data"].as_array().unwrap().len(), 2);
    for record in keys["data"].as_array().unwrap() {
        assert_eq!(fields(record), names(KEY), "neither the key nor its hash in the key listing");
    }
    for shown_once in [&key["key"], &rotated["key"]] {
        assert!(!keys.to_string().contains(shown_once.as_str().unwrap()), "{keys}");
    }
}

async fn contacts_devices_and_events(db: &TestDb) {
    let svc = app!(db);
    let (acme, web, _) = setup(&svc).await;
    let me = send(&svc, sdk(TestRequest::get().uri("/v1/auth/me"), &web, "dev-1")).await.expect(200);
    assert_eq!(fields(&me), ["app_id", "company_id", "device_id", "kind", "sdk_version"]);

    let created = send(&svc, post("/v1/contacts", &acme.token, json!({ "name": "Grace" }))).await.expect(201);
    assert_eq!(fields(&created), names(CONTACT));
    let id = created["id"].as_str().unwrap();
    let loaded = send(&svc, get(&format!("/v1/contacts/{id}"), &acme.token)).await.expect(200);
    assert_eq!(fields(&loaded), names(CONTACT));
    let changed =
        send(&svc, patch(&format!("/v1/contacts/{id}"), &acme.token, json!({ "phone": "+1 555 0100" })))
            .await;
    assert_eq!(fields(&changed.expect(200)), names(CONTACT));
    let contacts = send(&svc, get("/v1/contacts", &acme.token)).await.expect(200);
    assert_eq!(fields(first(&contacts)), names(CONTACT));

    let identify = TestRequest::post().uri("/v1/identify").set_json(json!({ "name": "Ada" }));
    assert_eq!(fields(&send(&svc, sdk(identify, &web, "dev-1")).await.expect(200)), names(CONTACT));
    let device_fields = ["id", "company_id", "app_id", "device_id", "contact_id", "platform", "created_at"];
    let device = TestRequest::put().uri("/v1/device").set_json(json!({ "platform": "ios" }));
    assert_eq!(fields(&send(&svc, sdk(device, &web, "dev-1")).await.expect(200)), names(&device_fields));
    let device =
        TestRequest::put().uri("/v1/device").set_json(json!({ "platform": "ios", "push_token": "t" }));
    let with_token = send(&svc, sdk(device, &web, "dev-1")).await.expect(200);
    assert_eq!(fields(&with_token), with(&device_fields, &["push_token"]));
    let track = TestRequest::post().uri("/v1/events/track").set_json(json!({ "name": "opened" }));
    let event = send(&svc, sdk(track, &web, "dev-1")).await.expect(201);
    let event_fields = [
        "id",
        "company_id",
        "app_id",
        "device_id",
        "contact_id",
        "name",
        "properties",
        "occurred_at",
        "received_at",
    ];
    assert_eq!(fields(&event), names(&event_fields));
}

async fn conversations_and_messages(db: &TestDb) {
    let svc = app!(db);
    let (acme, web, conv) = setup(&svc).await;
    let opened =
        send(&svc, sdk(TestRequest::post().uri("/v1/conversations"), &web, "dev-1")).await.expect(200);
    assert_eq!(fields(&opened), names(CONVERSATION), "no unread count for the device");
    let one = format!("/v1/conversations/{conv}");
    let seen_by_device = send(&svc, sdk(TestRequest::get().uri(&one), &web, "dev-1")).await.expect(200);
    assert_eq!(fields(&seen_by_device), names(CONVERSATION));
    let seen_by_agent = send(&svc, get(&one, &acme.token)).await.expect(200);
    assert_eq!(fields(&seen_by_agent), with(CONVERSATION, &["unread_count"]));
    let inbox = send(&svc, get("/v1/conversations", &acme.token)).await.expect(200);
    assert_eq!(
        fields(&inbox),
        ["data", "next_cursor", "sync_cursor"],
        "the first page says where to catch up"
    );
    assert_eq!(fields(&inbox["data"][0]), with(CONVERSATION, &["unread_count"]));
    let changed = send(&svc, patch(&one, &acme.token, json!({ "status": "pending" }))).await.expect(200);
    assert_eq!(fields(&changed), names(CONVERSATION));

    let messages = format!("{one}/messages");
    let hello = TestRequest::post().uri(&messages).set_json(body("hello refund"));
    let sent = send(&svc, sdk(hello, &web, "dev-1")).await.expect(201);
    assert_eq!(fields(&sent), names(MESSAGE));
    let id = sent["id"].as_str().unwrap();
    let answer = send(&svc, post(&messages, &acme.token, body("hi"))).await.expect(201);
    assert_eq!(fields(&answer), names(MESSAGE));
    let page = send(&svc, get(&messages, &acme.token)).await.expect(200);
    assert_eq!(fields(first(&page)), names(MESSAGE));
    assert_eq!(
        fields(&send(&svc, get(&format!("/v1/messages/{id}"), &acme.token)).await.expect(200)),
        names(MESSAGE)
    );
    let edit = TestRequest::patch().uri(&format!("/v1/messages/{id}")).set_json(body("hello refunds"));
    assert_eq!(fields(&send(&svc, sdk(edit, &web, "dev-1")).await.expect(200)), names(MESSAGE));
    let found = send(&svc, get("/v1/search/messages?q=hello", &acme.token)).await.expect(200);
    assert_eq!(fields(first(&found)), names(MESSAGE));
    let delete = TestRequest::delete().uri(&format!("/v1/messages/{id}"));
    assert_eq!(fields(&send(&svc, sdk(delete, &web, "dev-1")).await.expect(200)), names(MESSAGE));

    for receipt in ["read", "delivered"] {
        let reply =
            send(&svc, post(&format!("{messages}/{receipt}"), &acme.token, json!({ "up_to_sequence": 1 })));
        assert_eq!(fields(&reply.await.expect(200)), ["up_to_sequence", "updated"]);
    }
    let presence = send(&svc, get("/v1/presence", &acme.token)).await.expect(200);
    assert_eq!(presence, json!({ "data": [], "next_cursor": null }), "nobody is connected");

    let feed = send(&svc, get(&format!("{one}/events"), &acme.token)).await.expect(200);
    assert_eq!(fields(&feed), ["data", "has_more", "last_position"]);
    let kinds: Vec<&str> =
        feed["data"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds[0], "conversation.updated", "{feed}");
    assert_eq!(fields(&feed["data"][0]), ["conversation", "position", "type"]);
    assert_eq!(fields(&feed["data"][1]), ["conversation_id", "message", "position", "sequence", "type"]);
    let cursor = inbox["sync_cursor"].as_str().unwrap();
    let changed = send(&svc, get(&format!("/v1/conversations?changed_after={cursor}"), &acme.token)).await;
    let changed = changed.expect(200);
    assert_eq!(fields(&changed), ["data", "has_more", "next_cursor"]);
    assert_eq!(fields(&changed["data"][0]), with(CONVERSATION, &["last_message", "unread_count"]));
    assert_eq!(
        fields(&changed["data"][0]["last_message"]),
        ["attachments", "body", "created_at", "deleted_at", "direction", "sequence"]
    );
}
