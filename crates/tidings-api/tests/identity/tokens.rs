//! Access tokens under attack, refresh-token rotation and reuse detection, logout.

use actix_web::test::TestRequest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::app;
use crate::support::{Caller, SECRET, delete, get, register, send};

backend_tests!(
    forged_expired_and_malformed_access_tokens_are_refused,
    refresh_rotates_and_a_reused_token_revokes_the_family,
    logout_ends_the_session,
    a_deleted_user_is_refused_at_once,
);

fn claims(tenant: &crate::support::Tenant, exp_offset: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "sub": tenant.owner_id, "company_id": tenant.company_id, "role": "owner",
        "iat": now, "exp": now + exp_offset, "jti": "01a20ab0-4eef-727a-87aa-b85dccd743e6",
    })
}

fn sign(alg: Algorithm, secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

async fn forged_expired_and_malformed_access_tokens_are_refused(db: &TestDb) {
    let svc = app!(db);
    let tenant = register(&svc, "Acme", "ada@acme.test").await;
    // A token we sign ourselves with the right secret works: the forgeries below fail on their own.
    send(&svc, get("/v1/auth/me", &sign(Algorithm::HS256, SECRET, &claims(&tenant, 300)))).await.expect(200);

    let expired = sign(Algorithm::HS256, SECRET, &claims(&tenant, -10));
    send(&svc, get("/v1/auth/me", &expired)).await.assert_error(401, "TOKEN_EXPIRED");

    let wrong_secret = sign(Algorithm::HS256, "another-secret-another-secret-0123456", &claims(&tenant, 300));
    send(&svc, get("/v1/auth/me", &wrong_secret)).await.assert_error(401, "UNAUTHENTICATED");

    let other_alg = sign(Algorithm::HS512, SECRET, &claims(&tenant, 300));
    send(&svc, get("/v1/auth/me", &other_alg)).await.assert_error(401, "UNAUTHENTICATED");

    let mut parts: Vec<String> = tenant.token.split('.').map(str::to_owned).collect();
    let mut payload: Value = serde_json::from_slice(&B64.decode(&parts[1]).unwrap()).unwrap();
    payload["role"] = json!("owner");
    payload["company_id"] = json!(uuid::Uuid::now_v7().to_string());
    parts[1] = B64.encode(payload.to_string());
    send(&svc, get("/v1/auth/me", &parts.join("."))).await.assert_error(401, "UNAUTHENTICATED");

    let none_header = B64.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let none_token = format!("{none_header}.{}.", B64.encode(claims(&tenant, 300).to_string()));
    send(&svc, get("/v1/auth/me", &none_token)).await.assert_error(401, "UNAUTHENTICATED");

    send(&svc, get("/v1/auth/me", "garbage")).await.assert_error(401, "UNAUTHENTICATED");
    send(&svc, TestRequest::get().uri("/v1/auth/me")).await.assert_error(401, "UNAUTHENTICATED");
    let basic = TestRequest::get()
        .uri("/v1/auth/me")
        .insert_header(("authorization", format!("Basic {}", tenant.token)));
    send(&svc, basic).await.assert_error(401, "UNAUTHENTICATED");
}

async fn refresh(svc: &impl Caller, token: &str) -> crate::support::Reply {
    svc.call(TestRequest::post().uri("/v1/auth/refresh").set_json(json!({ "refresh_token": token }))).await
}

async fn refresh_rotates_and_a_reused_token_revokes_the_family(db: &TestDb) {
    let svc = app!(db);
    let tenant = register(&svc, "Acme", "ada@acme.test").await;
    let first = refresh(&svc, &tenant.refresh_token).await.expect(200);
    let second_refresh = first["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, tenant.refresh_token);
    send(&svc, get("/v1/auth/me", first["access_token"].as_str().unwrap())).await.expect(200);

    // The spent token comes back: somebody copied it. The whole family dies, including the
    // legitimate successor.
    refresh(&svc, &tenant.refresh_token).await.assert_error(401, "UNAUTHENTICATED");
    refresh(&svc, &second_refresh).await.assert_error(401, "UNAUTHENTICATED");

    // Another login starts a new family that is unaffected.
    let again = crate::support::login(&svc, "ada@acme.test", "password123").await.expect(200);
    refresh(&svc, again["refresh_token"].as_str().unwrap()).await.expect(200);

    refresh(&svc, "tdr_not-a-real-token").await.assert_error(401, "UNAUTHENTICATED");
    refresh(&svc, "").await.assert_error(400, "VALIDATION_ERROR");
}

async fn logout_ends_the_session(db: &TestDb) {
    let svc = app!(db);
    let tenant = register(&svc, "Acme", "ada@acme.test").await;
    let rotated = refresh(&svc, &tenant.refresh_token).await.expect(200);
    let current = rotated["refresh_token"].as_str().unwrap();
    let logout = TestRequest::post().uri("/v1/auth/logout").set_json(json!({ "refresh_token": current }));
    assert_eq!(send(&svc, logout).await.status, 204);
    refresh(&svc, current).await.assert_error(401, "UNAUTHENTICATED");
}

async fn a_deleted_user_is_refused_at_once(db: &TestDb) {
    let svc = app!(db);
    let tenant = register(&svc, "Acme", "ada@acme.test").await;
    let (agent_id, agent_token) = crate::support::member(&svc, &tenant, "bob@acme.test", "agent").await;
    let bob = crate::support::login(&svc, "bob@acme.test", "password123").await.expect(200);
    // Just used: the node remembers the user, and must forget them with the removal.
    send(&svc, get("/v1/auth/me", &agent_token)).await.expect(200);
    assert_eq!(send(&svc, delete(&format!("/v1/users/{agent_id}"), &tenant.token)).await.status, 204);
    send(&svc, get("/v1/auth/me", &agent_token)).await.assert_error(401, "UNAUTHENTICATED");
    refresh(&svc, bob["refresh_token"].as_str().unwrap()).await.assert_error(401, "UNAUTHENTICATED");
}
