//! Identity verification: a device reaches a known customer's contact only with the customer's
//! signed user id; every unsigned claim stays on the device's own contact.

use actix_web::test::TestRequest;
use aws_lc_rs::hmac;
use serde_json::{Value, json};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::app;
use crate::guarantees::body;
use crate::support::{Caller, SdkApp, Tenant, get, patch, post, register, sdk, sdk_app, send};

backend_tests!(
    unsigned_or_badly_signed_claims_never_reach_another_customer,
    an_app_may_require_verification,
    a_shared_device_changes_hands_without_the_previous_history,
);

/// Issues the app's identity secret (as the company's admin would) and returns it.
pub async fn identity_secret(svc: &impl Caller, tenant: &Tenant, app: &SdkApp) -> String {
    let path = format!("/v1/apps/{}/identity_secret", app.app_id);
    let issued = svc.call(post(&path, &tenant.token, json!({}))).await.expect(201);
    issued["identity_secret"].as_str().unwrap().to_owned()
}

/// What the company's backend computes: hex HMAC-SHA256 of the user id under the secret.
pub fn user_hash(secret: &str, external_id: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    hex::encode(hmac::sign(&key, external_id.as_bytes()).as_ref())
}

fn identify(app: &SdkApp, device: &str, fields: Value) -> TestRequest {
    sdk(TestRequest::post().uri("/v1/identify").set_json(fields), app, device)
}

async fn unsigned_or_badly_signed_claims_never_reach_another_customer(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let web = sdk_app(&svc, &acme).await;
    let ios = sdk_app(&svc, &acme).await;
    let secret = identity_secret(&svc, &acme, &web).await;

    // The victim identifies properly, talks, and the company records their phone number.
    let signed = json!({ "email": "victim@example.com", "external_id": "crm-7", "user_hash": user_hash(&secret, "crm-7") });
    let victim = send(&svc, identify(&web, "victims-phone", signed)).await.expect(200);
    let conv = send(&svc, sdk(TestRequest::post().uri("/v1/conversations"), &web, "victims-phone"))
        .await
        .expect(200);
    let path = format!("/v1/conversations/{}/messages", conv["id"].as_str().unwrap());
    send(
        &svc,
        sdk(TestRequest::post().uri(&path).set_json(body("my card ends in 4242")), &web, "victims-phone"),
    )
    .await
    .expect(201);
    let contact_path = format!("/v1/contacts/{}", victim["id"].as_str().unwrap());
    send(&svc, patch(&contact_path, &acme.token, json!({ "phone": "+1 555 0100" }))).await.expect(200);

    // The attacker knows the victim's e-mail and user id, and has the public client keys.
    for (app, hash) in
        [(&web, None), (&web, Some("00".repeat(32))), (&ios, Some(user_hash(&secret, "crm-7")))]
    {
        let mut claim = json!({ "email": "victim@example.com", "external_id": "crm-7" });
        if let Some(hash) = hash {
            claim["user_hash"] = json!(hash);
        }
        send(&svc, identify(app, "attacker", claim)).await.assert_error(403, "FORBIDDEN");
    }
    let own =
        send(&svc, identify(&web, "attacker", json!({ "email": "victim@example.com" }))).await.expect(200);
    assert_ne!(own["id"], victim["id"], "an unsigned claim describes the attacker's own contact");
    assert!(own["phone"].is_null(), "nobody else's data comes back: {own}");
    assert!(own["external_id"].is_null());

    let theirs =
        send(&svc, sdk(TestRequest::post().uri("/v1/conversations"), &web, "attacker")).await.expect(200);
    assert_ne!(theirs["id"], conv["id"], "the attacker gets a conversation of their own");
    send(&svc, sdk(TestRequest::get().uri(&path), &web, "attacker")).await.assert_error(404, "NOT_FOUND");
    send(&svc, sdk(TestRequest::get().uri(&path), &ios, "attacker")).await.assert_error(404, "NOT_FOUND");
    let victim_now = send(&svc, get(&contact_path, &acme.token)).await.expect(200);
    assert_eq!(victim_now["email"], "victim@example.com");
    assert_eq!(victim_now["phone"], "+1 555 0100");
}

async fn an_app_may_require_verification(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let web = sdk_app(&svc, &acme).await;
    let app_path = format!("/v1/apps/{}", web.app_id);
    let required = json!({ "identity_verification": "required" });
    send(&svc, patch(&app_path, &acme.token, required.clone())).await.assert_error(409, "CONFLICT");

    let secret = identity_secret(&svc, &acme, &web).await;
    let app = send(&svc, patch(&app_path, &acme.token, required)).await.expect(200);
    assert_eq!(
        (app["identity_verification"].as_str(), app["has_identity_secret"].as_bool()),
        (Some("required"), Some(true))
    );
    assert!(app.get("identity_secret").is_none() && !app.to_string().contains(&secret), "never shown again");

    send(&svc, identify(&web, "dev-1", json!({ "name": "Ada" }))).await.assert_error(403, "FORBIDDEN");
    let signed = json!({ "name": "Ada", "external_id": "crm-1", "user_hash": user_hash(&secret, "crm-1") });
    assert_eq!(send(&svc, identify(&web, "dev-1", signed)).await.expect(200)["name"], "Ada");

    // A new secret replaces the old one at once.
    let rotated = identity_secret(&svc, &acme, &web).await;
    assert_ne!(rotated, secret);
    let stale = json!({ "external_id": "crm-1", "user_hash": user_hash(&secret, "crm-1") });
    send(&svc, identify(&web, "dev-2", stale)).await.assert_error(403, "FORBIDDEN");
    let fresh = json!({ "external_id": "crm-1", "user_hash": user_hash(&rotated, "crm-1") });
    send(&svc, identify(&web, "dev-2", fresh)).await.expect(200);

    // Only admins manage identity secrets, and only their own company's.
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    let path = format!("/v1/apps/{}/identity_secret", web.app_id);
    send(&svc, post(&path, &globex.token, json!({}))).await.assert_error(404, "NOT_FOUND");
    send(&svc, patch(&app_path, &globex.token, json!({ "identity_verification": "optional" })))
        .await
        .assert_error(404, "NOT_FOUND");
}

async fn a_shared_device_changes_hands_without_the_previous_history(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let web = sdk_app(&svc, &acme).await;
    let secret = identity_secret(&svc, &acme, &web).await;
    let as_user = |id: &str| json!({ "external_id": id, "user_hash": user_hash(&secret, id) });

    let first = send(&svc, identify(&web, "kiosk", as_user("crm-7"))).await.expect(200);
    let conv = send(&svc, sdk(TestRequest::post().uri("/v1/conversations"), &web, "kiosk")).await.expect(200);
    let path = format!("/v1/conversations/{}/messages", conv["id"].as_str().unwrap());
    send(&svc, sdk(TestRequest::post().uri(&path).set_json(body("private")), &web, "kiosk"))
        .await
        .expect(201);

    let second = send(&svc, identify(&web, "kiosk", as_user("crm-8"))).await.expect(200);
    assert_ne!(second["id"], first["id"], "the next person gets a contact of their own");
    send(&svc, sdk(TestRequest::get().uri(&path), &web, "kiosk")).await.assert_error(404, "NOT_FOUND");
    let first_now = send(&svc, get(&format!("/v1/contacts/{}", first["id"].as_str().unwrap()), &acme.token))
        .await
        .expect(200);
    assert_eq!(first_now["external_id"], "crm-7", "the first person's contact is untouched");
    let conversation =
        send(&svc, get(&format!("/v1/conversations/{}", conv["id"].as_str().unwrap()), &acme.token))
            .await
            .expect(200);
    assert_eq!(conversation["contact_id"], first["id"], "their conversation stays theirs");

    // Back to the first person: the device rejoins their contact and history.
    let again = send(&svc, identify(&web, "kiosk", as_user("crm-7"))).await.expect(200);
    assert_eq!(again["id"], first["id"]);
    send(&svc, sdk(TestRequest::get().uri(&path), &web, "kiosk")).await.expect(200);
}
