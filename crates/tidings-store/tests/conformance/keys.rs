//! Apps and API keys, always within their company.

use chrono::{Duration, Utc};
use tidings_domain::{ApiKeyId, ApiKeyRepo, AppId, AppRepo, KeyKind, NewApiKey, NewApp, RepoErrorKind};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::error_kind;
use crate::users::company;

backend_tests!(
    apps_stay_within_their_company,
    keys_round_trip_and_are_found_by_prefix,
    key_prefixes_are_unique,
    keys_are_revoked_and_expired_within_their_company,
    key_use_is_recorded_at_most_once_a_minute,
);

pub fn key(app: &tidings_domain::App, prefix: &str) -> NewApiKey {
    NewApiKey {
        company_id: app.company_id,
        app_id: Some(app.id),
        kind: KeyKind::Client,
        prefix: prefix.into(),
        key_hash: format!("hash-of-{prefix}"),
        expires_at: None,
    }
}

async fn app(db: &TestDb, name: &str) -> tidings_domain::App {
    let c = company(db, name).await;
    db.store().create_app(NewApp { company_id: c.id, name: format!("{name} web") }).await.unwrap()
}

async fn apps_stay_within_their_company(db: &TestDb) {
    let web = app(db, "Acme").await;
    let other = app(db, "Globex").await;
    assert_eq!(db.store().get_app(web.company_id, web.id).await.unwrap(), web);
    assert_eq!(
        error_kind(&db.store().get_app(other.company_id, web.id).await),
        Some(RepoErrorKind::NotFound)
    );
    assert_eq!(
        error_kind(&db.store().get_app(web.company_id, AppId::new()).await),
        Some(RepoErrorKind::NotFound)
    );
    assert_eq!(db.store().list_apps(web.company_id, None, 50).await.unwrap(), vec![web]);
}

async fn keys_round_trip_and_are_found_by_prefix(db: &TestDb) {
    let web = app(db, "Acme").await;
    let created = db.store().create_api_key(key(&web, "abc123")).await.unwrap();
    assert_eq!((created.kind, created.app_id, created.revoked_at), (KeyKind::Client, Some(web.id), None));
    assert_eq!(db.store().find_api_key_by_prefix("abc123").await.unwrap(), Some(created.clone()));
    assert_eq!(db.store().find_api_key_by_prefix("zzz").await.unwrap(), None);
    assert_eq!(db.store().list_api_keys(web.company_id, web.id, None, 50).await.unwrap(), vec![created]);
}

async fn key_prefixes_are_unique(db: &TestDb) {
    let web = app(db, "Acme").await;
    db.store().create_api_key(key(&web, "same")).await.unwrap();
    let err = db.store().create_api_key(key(&web, "same")).await.unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
}

async fn keys_are_revoked_and_expired_within_their_company(db: &TestDb) {
    let web = app(db, "Acme").await;
    let other = app(db, "Globex").await;
    let k = db.store().create_api_key(key(&web, "k1")).await.unwrap();
    let now = Utc::now();

    assert_eq!(
        error_kind(&db.store().revoke_api_key(other.company_id, k.id, now).await),
        Some(RepoErrorKind::NotFound)
    );
    assert_eq!(
        error_kind(&db.store().set_api_key_expiry(other.company_id, k.id, now).await),
        Some(RepoErrorKind::NotFound)
    );
    assert!(db.store().get_api_key(web.company_id, k.id).await.unwrap().is_active(now));

    let soon = now + Duration::hours(1);
    let expiring = db.store().set_api_key_expiry(web.company_id, k.id, soon).await.unwrap();
    assert!(expiring.is_active(now) && !expiring.is_active(soon + Duration::seconds(1)));

    let revoked = db.store().revoke_api_key(web.company_id, k.id, now).await.unwrap();
    assert!(!revoked.is_active(now));
    let first_revocation = revoked.revoked_at;
    let again = db.store().revoke_api_key(web.company_id, k.id, now + Duration::hours(2)).await.unwrap();
    assert_eq!(again.revoked_at, first_revocation, "revoking twice keeps the first time");
    assert_eq!(
        error_kind(&db.store().revoke_api_key(web.company_id, ApiKeyId::new(), now).await),
        Some(RepoErrorKind::NotFound)
    );
}

async fn key_use_is_recorded_at_most_once_a_minute(db: &TestDb) {
    let web = app(db, "Acme").await;
    let k = db.store().create_api_key(key(&web, "k1")).await.unwrap();
    let t0 = Utc::now();
    db.store().touch_api_key(k.id, t0).await.unwrap();
    let first = db.store().get_api_key(web.company_id, k.id).await.unwrap().last_used_at.expect("recorded");
    db.store().touch_api_key(k.id, t0 + Duration::seconds(30)).await.unwrap();
    let unchanged = db.store().get_api_key(web.company_id, k.id).await.unwrap().last_used_at.unwrap();
    assert_eq!(unchanged, first);
    db.store().touch_api_key(k.id, t0 + Duration::seconds(90)).await.unwrap();
    let later = db.store().get_api_key(web.company_id, k.id).await.unwrap().last_used_at.unwrap();
    assert!(later > first);
}
