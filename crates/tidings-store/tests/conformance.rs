//! The store conformance suite: the same assertions against SQLite and PostgreSQL.

use tidings_domain::{
    CompanyId, CompanyRepo, NewCompany, NewUser, RepoError, Role, StoreHealth, UserId, UserRepo,
};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

backend_tests!(
    ping_answers,
    company_round_trip,
    unknown_company_is_not_found,
    user_round_trip_lowercases_email,
    duplicate_email_is_a_conflict,
    user_of_another_company_is_not_found,
    user_needs_an_existing_company,
    users_are_listed_per_company,
);

async fn company(db: &TestDb, name: &str) -> tidings_domain::Company {
    db.store().create_company(NewCompany { name: name.into() }).await.unwrap()
}

fn new_user(company_id: CompanyId, email: &str) -> NewUser {
    NewUser {
        company_id,
        email: email.into(),
        name: "Ada".into(),
        password_hash: "$2b$04$hash".into(),
        role: Role::Owner,
    }
}

async fn ping_answers(db: &TestDb) {
    db.store().ping().await.unwrap();
}

async fn company_round_trip(db: &TestDb) {
    let created = company(db, "Acme").await;
    let loaded = db.store().get_company(created.id).await.unwrap();
    assert_eq!(loaded, created);
    assert_eq!(loaded.name, "Acme");
    assert_eq!(loaded.settings, serde_json::json!({}));
}

async fn unknown_company_is_not_found(db: &TestDb) {
    let err = db.store().get_company(CompanyId::new()).await.unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
}

async fn user_round_trip_lowercases_email(db: &TestDb) {
    let acme = company(db, "Acme").await;
    let created = db.store().create_user(new_user(acme.id, "Ada@Example.COM")).await.unwrap();
    assert_eq!(created.email, "ada@example.com");
    assert_eq!(created.failed_logins, 0);
    assert_eq!(created.locked_until, None);
    let loaded = db.store().get_user(acme.id, created.id).await.unwrap();
    assert_eq!(loaded, created);
    let by_email = db.store().find_user_by_email("ADA@example.com").await.unwrap();
    assert_eq!(by_email, Some(created));
    assert_eq!(db.store().find_user_by_email("nobody@example.com").await.unwrap(), None);
}

async fn duplicate_email_is_a_conflict(db: &TestDb) {
    let acme = company(db, "Acme").await;
    let globex = company(db, "Globex").await;
    db.store().create_user(new_user(acme.id, "ada@example.com")).await.unwrap();
    let err = db.store().create_user(new_user(globex.id, "ADA@example.com")).await.unwrap_err();
    assert!(matches!(err, RepoError::Conflict(_)), "{err:?}");
    assert!(db.store().list_users(globex.id).await.unwrap().is_empty());
}

async fn user_of_another_company_is_not_found(db: &TestDb) {
    let acme = company(db, "Acme").await;
    let globex = company(db, "Globex").await;
    let ada = db.store().create_user(new_user(acme.id, "ada@example.com")).await.unwrap();
    let err = db.store().get_user(globex.id, ada.id).await.unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
    let err = db.store().get_user(acme.id, UserId::new()).await.unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
}

async fn user_needs_an_existing_company(db: &TestDb) {
    let err = db.store().create_user(new_user(CompanyId::new(), "ada@example.com")).await.unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
    assert_eq!(db.store().find_user_by_email("ada@example.com").await.unwrap(), None);
}

async fn users_are_listed_per_company(db: &TestDb) {
    let acme = company(db, "Acme").await;
    let globex = company(db, "Globex").await;
    let a = db.store().create_user(new_user(acme.id, "a@acme.test")).await.unwrap();
    let b = db.store().create_user(new_user(acme.id, "b@acme.test")).await.unwrap();
    db.store().create_user(new_user(globex.id, "c@globex.test")).await.unwrap();
    let listed: Vec<UserId> =
        db.store().list_users(acme.id).await.unwrap().into_iter().map(|u| u.id).collect();
    assert_eq!(listed, vec![a.id, b.id]);
}
