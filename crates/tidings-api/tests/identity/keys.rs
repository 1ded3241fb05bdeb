//! Apps and API keys: issuing, SDK and service authentication, rotation, revocation, expiry, and
//! keys carried across tenants.

use actix_web::test::TestRequest;
use serde_json::{Value, json};
use tidings_domain::ApiKeyRepo;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::app;
use crate::support::{Tenant, delete, get, member, post, register, send, settings};

backend_tests!(
    admins_manage_apps_and_agents_only_list_them,
    a_client_key_authenticates_a_device_of_its_app,
    server_keys_authenticate_services_only,
    a_server_key_on_an_sdk_endpoint_is_forbidden,
    revoked_expired_and_tampered_keys_are_refused,
    rotation_keeps_the_old_key_for_the_overlap,
    rotation_without_overlap_retires_the_old_key_at_once,
    keys_and_apps_of_another_company_are_not_found,
);

/// An SDK request to `/v1/auth/me`.
fn sdk(app_id: &str, device_id: Option<&str>, key: &str) -> TestRequest {
    let mut req = TestRequest::get()
        .uri("/v1/auth/me")
        .insert_header(("x-app-id", app_id))
        .insert_header(("x-api-key", key));
    if let Some(device) = device_id {
        req = req.insert_header(("x-device-id", device)).insert_header(("x-sdk-version", "ios/2.1.0"));
    }
    req
}

fn service(key: &str) -> TestRequest {
    TestRequest::get().uri("/v1/auth/me").insert_header(("x-api-key", key))
}

macro_rules! new_app {
    ($svc:expr, $tenant:expr, $name:expr) => {
        send($svc, post("/v1/apps", &$tenant.token, json!({ "name": $name }))).await.expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
}

macro_rules! new_key {
    ($svc:expr, $tenant:expr, $app:expr, $kind:expr) => {
        send($svc, post(&format!("/v1/apps/{}/keys", $app), &$tenant.token, json!({ "kind": $kind }))).await.expect(201)
    };
}

fn key_of(issued: &Value) -> &str {
    issued["key"].as_str().unwrap()
}

async fn admins_manage_apps_and_agents_only_list_them(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let (_, agent) = member(&svc, &acme, "agent@acme.test", "agent").await;
    let app_id = new_app!(&svc, acme, "Web");
    let listed = send(&svc, get("/v1/apps", &agent)).await.expect(200);
    assert_eq!(listed["data"][0]["id"], app_id.as_str());
    send(&svc, post("/v1/apps", &agent, json!({ "name": "Mine" }))).await.assert_error(403, "FORBIDDEN");
    send(&svc, post(&format!("/v1/apps/{app_id}/keys"), &agent, json!({ "kind": "client" })))
        .await
        .assert_error(403, "FORBIDDEN");
    send(&svc, get(&format!("/v1/apps/{app_id}/keys"), &agent)).await.assert_error(403, "FORBIDDEN");
    send(&svc, post("/v1/apps", &acme.token, json!({ "name": " " })))
        .await
        .assert_error(400, "VALIDATION_ERROR");
    send(&svc, post(&format!("/v1/apps/{app_id}/keys"), &acme.token, json!({ "kind": "root" })))
        .await
        .assert_error(400, "VALIDATION_ERROR");
    let past = json!({ "kind": "client", "expires_at": "2020-01-01T00:00:00Z" });
    send(&svc, post(&format!("/v1/apps/{app_id}/keys"), &acme.token, past))
        .await
        .assert_error(400, "VALIDATION_ERROR");
    assert_eq!(db.count_rows("api_keys").await, 0);
}

async fn a_client_key_authenticates_a_device_of_its_app(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let web = new_app!(&svc, acme, "Web");
    let ios = new_app!(&svc, acme, "iOS");
    let issued = new_key!(&svc, acme, web, "client");
    let key = key_of(&issued);
    assert_eq!(issued["kind"], "client");
    assert!(key.contains(issued["prefix"].as_str().unwrap()));

    let me = send(&svc, sdk(&web, Some("device-1"), key)).await.expect(200);
    assert_eq!(me["kind"], "client");
    assert_eq!(me["company_id"], acme.company_id.as_str());
    assert_eq!(me["app_id"], web.as_str());
    assert_eq!(me["device_id"], "device-1");
    assert_eq!(me["sdk_version"], "ios/2.1.0");

    send(&svc, sdk(&web, None, key)).await.assert_error(401, "UNAUTHENTICATED");
    send(&svc, sdk(&ios, Some("device-1"), key)).await.assert_error(401, "UNAUTHENTICATED");
    send(&svc, sdk("not-an-id", Some("device-1"), key)).await.assert_error(401, "UNAUTHENTICATED");
    send(&svc, service(key)).await.assert_error(401, "UNAUTHENTICATED");

    // The listing shows the key's use but never the key or its hash.
    let listed = send(&svc, get(&format!("/v1/apps/{web}/keys"), &acme.token)).await.expect(200);
    let record = &listed["data"][0];
    assert_eq!(record["id"], issued["id"]);
    assert!(record["last_used_at"].is_string(), "{record}");
    assert!(record.get("key").is_none() && record.get("key_hash").is_none(), "{record}");
    assert!(!listed.to_string().contains(key));
}

async fn server_keys_authenticate_services_only(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let web = new_app!(&svc, acme, "Web");
    let issued = new_key!(&svc, acme, web, "server");
    let me = send(&svc, service(key_of(&issued))).await.expect(200);
    assert_eq!(me["kind"], "service");
    assert_eq!(me["company_id"], acme.company_id.as_str());
    send(&svc, sdk(&web, Some("device-1"), key_of(&issued))).await.assert_error(401, "UNAUTHENTICATED");
}

async fn a_server_key_on_an_sdk_endpoint_is_forbidden(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let web = new_app!(&svc, acme, "Web");
    let server = new_key!(&svc, acme, web, "server");
    let server = key_of(&server);
    let endpoints = [
        TestRequest::post().uri("/v1/conversations"),
        TestRequest::post().uri("/v1/identify").set_json(json!({ "name": "Ada" })),
        TestRequest::put().uri("/v1/device").set_json(json!({ "platform": "ios" })),
        TestRequest::post().uri("/v1/events/track").set_json(json!({ "name": "opened" })),
    ];
    for endpoint in endpoints {
        let alone = endpoint.insert_header(("x-api-key", server));
        let reply = send(&svc, alone).await;
        reply.assert_error(403, "FORBIDDEN");
        assert!(reply.body["error"]["message"].as_str().unwrap().contains("client key"), "{}", reply.body);
    }
    let with_sdk_headers = TestRequest::post()
        .uri("/v1/conversations")
        .insert_header(("x-app-id", web.as_str()))
        .insert_header(("x-device-id", "device-1"))
        .insert_header(("x-api-key", server));
    send(&svc, with_sdk_headers).await.assert_error(403, "FORBIDDEN");
    assert_eq!(db.count_rows("devices").await + db.count_rows("conversations").await, 0);

    // A key that is not a server key still authenticates, or not, as before.
    let open = |key: &str| {
        TestRequest::post()
            .uri("/v1/conversations")
            .insert_header(("x-app-id", web.as_str()))
            .insert_header(("x-device-id", "device-1"))
            .insert_header(("x-api-key", key))
    };
    send(&svc, open("tdk_c_nothing")).await.assert_error(401, "UNAUTHENTICATED");
    let client = new_key!(&svc, acme, web, "client");
    send(&svc, open(key_of(&client))).await.expect(200);
}

async fn revoked_expired_and_tampered_keys_are_refused(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let web = new_app!(&svc, acme, "Web");

    let revoked = new_key!(&svc, acme, web, "client");
    send(&svc, sdk(&web, Some("d"), key_of(&revoked))).await.expect(200);
    assert_eq!(
        send(&svc, delete(&format!("/v1/keys/{}", revoked["id"].as_str().unwrap()), &acme.token))
            .await
            .status,
        204
    );
    send(&svc, sdk(&web, Some("d"), key_of(&revoked))).await.assert_error(401, "UNAUTHENTICATED");

    let expiring = new_key!(&svc, acme, web, "client");
    let id = expiring["id"].as_str().unwrap().parse().unwrap();
    let company = acme.company_id.parse().unwrap();
    db.store()
        .set_api_key_expiry(company, id, chrono::Utc::now() - chrono::Duration::seconds(1))
        .await
        .unwrap();
    let reply = send(&svc, sdk(&web, Some("d"), key_of(&expiring))).await;
    reply.assert_error(401, "UNAUTHENTICATED");
    assert!(reply.body["error"]["message"].as_str().unwrap().contains("expired"));

    let good = new_key!(&svc, acme, web, "client");
    let mut tampered = key_of(&good).to_owned();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    send(&svc, sdk(&web, Some("d"), &tampered)).await.assert_error(401, "UNAUTHENTICATED");
    send(&svc, sdk(&web, Some("d"), "tdk_c_nothing")).await.assert_error(401, "UNAUTHENTICATED");
    send(&svc, sdk(&web, Some("d"), "")).await.assert_error(401, "UNAUTHENTICATED");
    send(&svc, sdk(&web, Some("d"), key_of(&good))).await.expect(200);
}

async fn rotate(svc: &impl crate::support::Caller, tenant: &Tenant, issued: &Value) -> Value {
    svc.call(post(&format!("/v1/keys/{}/rotate", issued["id"].as_str().unwrap()), &tenant.token, json!({})))
        .await
        .expect(201)
}

async fn rotation_keeps_the_old_key_for_the_overlap(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let web = new_app!(&svc, acme, "Web");
    let old = new_key!(&svc, acme, web, "client");
    let new = rotate(&svc, &acme, &old).await;
    assert_ne!(key_of(&new), key_of(&old));
    assert_eq!(new["kind"], "client");
    send(&svc, sdk(&web, Some("d"), key_of(&new))).await.expect(200);
    send(&svc, sdk(&web, Some("d"), key_of(&old))).await.expect(200);
    let listed = send(&svc, get(&format!("/v1/apps/{web}/keys"), &acme.token)).await.expect(200);
    let old_record =
        listed["data"].as_array().unwrap().iter().find(|k| k["id"] == old["id"]).unwrap().clone();
    let ends: chrono::DateTime<chrono::Utc> = old_record["expires_at"].as_str().unwrap().parse().unwrap();
    let hours = (ends - chrono::Utc::now()).num_minutes() as f64 / 60.0;
    assert!((23.9..=24.0).contains(&hours), "old key ends in {hours} h");
}

async fn rotation_without_overlap_retires_the_old_key_at_once(db: &TestDb) {
    let svc =
        app!(db, tidings_auth::AuthSettings { key_rotation_overlap: chrono::Duration::zero(), ..settings() });
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let web = new_app!(&svc, acme, "Web");
    let old = new_key!(&svc, acme, web, "server");
    let new = rotate(&svc, &acme, &old).await;
    send(&svc, service(key_of(&old))).await.assert_error(401, "UNAUTHENTICATED");
    send(&svc, service(key_of(&new))).await.expect(200);
    let again = post(&format!("/v1/keys/{}/rotate", old["id"].as_str().unwrap()), &acme.token, json!({}));
    send(&svc, again).await.assert_error(409, "CONFLICT");
}

async fn keys_and_apps_of_another_company_are_not_found(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    let acme_web = new_app!(&svc, acme, "Web");
    let globex_web = new_app!(&svc, globex, "Web");
    let acme_key = new_key!(&svc, acme, acme_web, "client");
    let key_id = acme_key["id"].as_str().unwrap();

    // Globex's admin cannot see, use, rotate or revoke Acme's app and key.
    send(&svc, get(&format!("/v1/apps/{acme_web}/keys"), &globex.token)).await.assert_error(404, "NOT_FOUND");
    send(&svc, post(&format!("/v1/apps/{acme_web}/keys"), &globex.token, json!({ "kind": "client" })))
        .await
        .assert_error(404, "NOT_FOUND");
    send(&svc, post(&format!("/v1/keys/{key_id}/rotate"), &globex.token, json!({})))
        .await
        .assert_error(404, "NOT_FOUND");
    send(&svc, delete(&format!("/v1/keys/{key_id}"), &globex.token)).await.assert_error(404, "NOT_FOUND");
    let listed = send(&svc, get("/v1/apps", &globex.token)).await.expect(200);
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);

    // Acme's client key presented with Globex's app id is refused.
    send(&svc, sdk(&globex_web, Some("d"), key_of(&acme_key))).await.assert_error(401, "UNAUTHENTICATED");
    // And Acme's key still works on Acme's app: nothing above changed it.
    send(&svc, sdk(&acme_web, Some("d"), key_of(&acme_key))).await.expect(200);
}
