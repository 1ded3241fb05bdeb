//! Refresh tokens: rotation spends a token exactly once, even under racing rotations.

use std::sync::Arc;

use chrono::{Duration, Utc};
use tidings_domain::{NewRefreshToken, RefreshTokenId, RefreshTokenRepo, User, UserRepo};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::users::{company, new_user};

backend_tests!(
    tokens_are_found_by_hash,
    rotation_spends_the_old_token_once,
    racing_rotations_have_one_winner,
    revoking_a_family_revokes_every_token,
    deleting_a_user_deletes_its_tokens,
);

async fn user(db: &TestDb) -> User {
    let acme = company(db, "Acme").await;
    db.store().create_user(new_user(acme.id, "ada@acme.test")).await.unwrap()
}

fn token(user: &User, family: RefreshTokenId, hash: &str) -> NewRefreshToken {
    NewRefreshToken {
        company_id: user.company_id,
        user_id: user.id,
        family_id: family,
        token_hash: hash.into(),
        expires_at: Utc::now() + Duration::days(30),
    }
}

async fn tokens_are_found_by_hash(db: &TestDb) {
    let ada = user(db).await;
    let family = RefreshTokenId::new();
    let id = db.store().insert_refresh_token(token(&ada, family, "h1")).await.unwrap();
    let found = db.store().find_refresh_token("h1").await.unwrap().expect("found");
    assert_eq!((found.id, found.family_id, found.user_id), (id, family, ada.id));
    assert_eq!((found.revoked_at, found.replaced_by), (None, None));
    assert_eq!(db.store().find_refresh_token("h2").await.unwrap(), None);
}

async fn rotation_spends_the_old_token_once(db: &TestDb) {
    let ada = user(db).await;
    let family = RefreshTokenId::new();
    let first = db.store().insert_refresh_token(token(&ada, family, "h1")).await.unwrap();
    let second = db.store().rotate_refresh_token(first, token(&ada, family, "h2"), Utc::now()).await.unwrap();
    let second = second.expect("first rotation wins");
    let spent = db.store().find_refresh_token("h1").await.unwrap().unwrap();
    assert_eq!(spent.replaced_by, Some(second));
    assert!(spent.revoked_at.is_some());
    let again = db.store().rotate_refresh_token(first, token(&ada, family, "h3"), Utc::now()).await.unwrap();
    assert_eq!(again, None);
    assert_eq!(db.store().find_refresh_token("h3").await.unwrap(), None, "a losing rotation stores nothing");
}

async fn racing_rotations_have_one_winner(db: &TestDb) {
    let ada = user(db).await;
    let family = RefreshTokenId::new();
    let first = db.store().insert_refresh_token(token(&ada, family, "h0")).await.unwrap();
    let store = Arc::new(db.store().clone());
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (store, new) = (store.clone(), token(&ada, family, &format!("race-{i}")));
            tokio::spawn(async move { store.rotate_refresh_token(first, new, Utc::now()).await })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        if task.await.unwrap().unwrap().is_some() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(db.count_rows("refresh_tokens").await, 2);
}

async fn revoking_a_family_revokes_every_token(db: &TestDb) {
    let ada = user(db).await;
    let (family, other) = (RefreshTokenId::new(), RefreshTokenId::new());
    let first = db.store().insert_refresh_token(token(&ada, family, "h1")).await.unwrap();
    db.store().rotate_refresh_token(first, token(&ada, family, "h2"), Utc::now()).await.unwrap().unwrap();
    db.store().insert_refresh_token(token(&ada, other, "o1")).await.unwrap();
    db.store().revoke_refresh_family(family, Utc::now()).await.unwrap();
    assert!(db.store().find_refresh_token("h2").await.unwrap().unwrap().revoked_at.is_some());
    assert!(
        db.store().find_refresh_token("o1").await.unwrap().unwrap().revoked_at.is_none(),
        "other families live on"
    );
}

async fn deleting_a_user_deletes_its_tokens(db: &TestDb) {
    let ada = user(db).await;
    // Someone else owns the company, so Ada may go.
    db.store().create_user(new_user(ada.company_id, "owner@acme.test")).await.unwrap();
    db.store().insert_refresh_token(token(&ada, RefreshTokenId::new(), "h1")).await.unwrap();
    db.store().delete_user(ada.company_id, ada.id).await.unwrap();
    assert_eq!(db.store().find_refresh_token("h1").await.unwrap(), None);
}
