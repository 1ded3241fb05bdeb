//! Password resets: a token is spent once (never when expired or unknown), voids its user's other
//! tokens, has one winner among concurrent spenders; a new password clears the lockout; a user's
//! sessions are revoked together; a deleted user takes its tokens along.

use std::sync::Arc;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use tidings_domain::{
    NewPasswordReset, NewRefreshToken, PasswordResetRepo, RefreshTokenId, RefreshTokenRepo, RepoErrorKind,
    User, UserId, UserRepo,
};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;
use tokio::sync::Barrier;

use crate::error_kind;
use crate::users::{company, new_user};

backend_tests!(
    a_token_is_spent_once,
    expired_and_unknown_tokens_are_not_spent,
    spending_a_token_voids_the_users_other_tokens,
    concurrent_spenders_have_one_winner,
    a_new_password_clears_the_lockout,
    revoking_a_users_sessions_spares_other_users,
    deleting_a_user_deletes_its_reset_tokens,
);

/// Now at the precision the store keeps, so stored times compare equal to expected ones.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

async fn user(db: &TestDb, email: &str) -> User {
    let acme = company(db, "Acme").await;
    db.store().create_user(new_user(acme.id, email)).await.unwrap()
}

fn reset(user: &User, hash: &str, expires_at: DateTime<Utc>) -> NewPasswordReset {
    NewPasswordReset { company_id: user.company_id, user_id: user.id, token_hash: hash.into(), expires_at }
}

async fn a_token_is_spent_once(db: &TestDb) {
    let ada = user(db, "ada@acme.test").await;
    let expires_at = now() + Duration::hours(1);
    let stored = db.store().insert_password_reset(reset(&ada, "h1", expires_at)).await.unwrap();
    assert_eq!((stored.user_id, stored.company_id, stored.expires_at), (ada.id, ada.company_id, expires_at));
    assert_eq!(stored.used_at, None);

    let at = now();
    let spent = db.store().spend_password_reset("h1", at).await.unwrap().expect("an unused token is spent");
    assert_eq!((spent.id, spent.user_id, spent.used_at), (stored.id, ada.id, Some(at)));
    assert_eq!(db.store().spend_password_reset("h1", now()).await.unwrap(), None, "a second use");
}

async fn expired_and_unknown_tokens_are_not_spent(db: &TestDb) {
    let ada = user(db, "ada@acme.test").await;
    let expires_at = now() + Duration::hours(1);
    db.store().insert_password_reset(reset(&ada, "h1", expires_at)).await.unwrap();
    assert_eq!(
        db.store().find_password_reset("h1", expires_at).await.unwrap(),
        None,
        "found only while valid"
    );
    assert_eq!(db.store().find_password_reset("h2", now()).await.unwrap(), None, "unknown");
    let found = db.store().find_password_reset("h1", now()).await.unwrap().unwrap();
    assert_eq!((found.user_id, found.used_at), (ada.id, None), "a read spends nothing");
    assert_eq!(db.store().spend_password_reset("h1", expires_at).await.unwrap(), None, "expired at its end");
    assert_eq!(db.store().spend_password_reset("h2", now()).await.unwrap(), None, "unknown");
    let before = expires_at - Duration::microseconds(1);
    assert!(db.store().spend_password_reset("h1", before).await.unwrap().is_some(), "still good just before");
    assert_eq!(db.store().find_password_reset("h1", now()).await.unwrap(), None, "not once spent");
}

async fn spending_a_token_voids_the_users_other_tokens(db: &TestDb) {
    let ada = user(db, "ada@acme.test").await;
    let bob = db.store().create_user(new_user(ada.company_id, "bob@acme.test")).await.unwrap();
    let later = now() + Duration::days(7);
    for (who, hash) in [(&ada, "ada-1"), (&ada, "ada-2"), (&bob, "bob-1")] {
        db.store().insert_password_reset(reset(who, hash, later)).await.unwrap();
    }
    db.store().spend_password_reset("ada-2", now()).await.unwrap().unwrap();
    assert_eq!(db.store().spend_password_reset("ada-1", now()).await.unwrap(), None, "voided by the use");
    assert!(db.store().spend_password_reset("bob-1", now()).await.unwrap().is_some(), "another user's");
}

async fn concurrent_spenders_have_one_winner(db: &TestDb) {
    let ada = user(db, "ada@acme.test").await;
    db.store().insert_password_reset(reset(&ada, "h1", now() + Duration::hours(1))).await.unwrap();
    let store = Arc::new(db.store().clone());
    let start = Arc::new(Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, start) = (store.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                store.spend_password_reset("h1", Utc::now()).await
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        if task.await.unwrap().unwrap().is_some() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

async fn a_new_password_clears_the_lockout(db: &TestDb) {
    let ada = user(db, "ada@acme.test").await;
    let at = now();
    db.store().record_failed_login(ada.id, at, 1, at + Duration::minutes(15)).await.unwrap();
    assert!(!db.store().record_successful_login(ada.id, at).await.unwrap(), "locked");

    db.store().set_password(ada.company_id, ada.id, "$2b$04$new".into()).await.unwrap();
    let stored = db.store().get_user(ada.company_id, ada.id).await.unwrap();
    assert_eq!(
        (stored.password_hash.as_str(), stored.failed_logins, stored.locked_until),
        ("$2b$04$new", 0, None)
    );
    assert!(db.store().record_successful_login(ada.id, at).await.unwrap(), "no longer locked");

    let other = company(db, "Other").await;
    let foreign = db.store().set_password(other.id, ada.id, "x".into()).await;
    assert_eq!(error_kind(&foreign), Some(RepoErrorKind::NotFound), "only within the user's company");
    let gone = db.store().set_password(ada.company_id, UserId::new(), "x".into()).await;
    assert_eq!(error_kind(&gone), Some(RepoErrorKind::NotFound));
}

async fn revoking_a_users_sessions_spares_other_users(db: &TestDb) {
    let ada = user(db, "ada@acme.test").await;
    let bob = db.store().create_user(new_user(ada.company_id, "bob@acme.test")).await.unwrap();
    let token = |who: &User, hash: &str| NewRefreshToken {
        company_id: who.company_id,
        user_id: who.id,
        family_id: RefreshTokenId::new(),
        token_hash: hash.into(),
        expires_at: Utc::now() + Duration::days(30),
    };
    for (who, hash) in [(&ada, "ada-phone"), (&ada, "ada-laptop"), (&bob, "bob")] {
        db.store().insert_refresh_token(token(who, hash)).await.unwrap();
    }
    db.store().revoke_user_refresh_tokens(ada.id, Utc::now()).await.unwrap();
    for hash in ["ada-phone", "ada-laptop"] {
        assert!(db.store().find_refresh_token(hash).await.unwrap().unwrap().revoked_at.is_some(), "{hash}");
    }
    assert!(db.store().find_refresh_token("bob").await.unwrap().unwrap().revoked_at.is_none());
}

async fn deleting_a_user_deletes_its_reset_tokens(db: &TestDb) {
    let ada = user(db, "ada@acme.test").await;
    db.store().create_user(new_user(ada.company_id, "owner@acme.test")).await.unwrap();
    db.store().insert_password_reset(reset(&ada, "h1", now() + Duration::hours(1))).await.unwrap();
    db.store().delete_user(ada.company_id, ada.id).await.unwrap();
    assert_eq!(db.count_rows("password_resets").await, 0);
    assert_eq!(db.store().spend_password_reset("h1", now()).await.unwrap(), None);
}
