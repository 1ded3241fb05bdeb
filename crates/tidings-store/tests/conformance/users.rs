//! Companies and users.

use chrono::{Duration, Utc};
use futures_util::future::{join, join_all};
use tidings_domain::{
    CompanyId, CompanyRepo, FailedLogin, NewCompany, NewUser, RepoError, RepoErrorKind, Role, StoreHealth,
    UserId, UserRepo,
};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::error_kind;

backend_tests!(
    ping_answers,
    company_round_trip,
    any_company_turns_true_with_the_first,
    unknown_company_is_not_found,
    user_round_trip_lowercases_email,
    duplicate_email_is_a_conflict,
    user_of_another_company_is_not_found,
    user_needs_an_existing_company,
    users_are_listed_per_company,
    company_and_owner_are_created_together,
    a_taken_email_leaves_no_company_behind,
    roles_change_and_users_are_deleted_within_their_company,
    the_last_owner_is_neither_demoted_nor_removed,
    owners_demoting_or_removing_each_other_at_once_leave_one,
    failed_logins_count_up_to_the_lock_and_a_success_clears_them,
    a_lock_refuses_successes_and_counts_no_failures_until_it_ends,
    concurrent_failures_count_no_further_than_the_lock,
);

async fn any_company_turns_true_with_the_first(db: &TestDb) {
    assert!(!db.store().any_company().await.unwrap());
    company(db, "Acme").await;
    assert!(db.store().any_company().await.unwrap());
    company(db, "Globex").await;
    assert!(db.store().any_company().await.unwrap());
}

pub async fn company(db: &TestDb, name: &str) -> tidings_domain::Company {
    db.store().create_company(NewCompany { name: name.into() }).await.unwrap()
}

pub fn new_user(company_id: CompanyId, email: &str) -> NewUser {
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
    assert!(err.is_not_found(), "{err:?}");
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
    assert!(err.is_conflict(), "{err:?}");
    assert!(db.store().list_users(globex.id, None, 50).await.unwrap().is_empty());
}

async fn user_of_another_company_is_not_found(db: &TestDb) {
    let acme = company(db, "Acme").await;
    let globex = company(db, "Globex").await;
    let ada = db.store().create_user(new_user(acme.id, "ada@example.com")).await.unwrap();
    let err = db.store().get_user(globex.id, ada.id).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    let err = db.store().get_user(acme.id, UserId::new()).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

async fn user_needs_an_existing_company(db: &TestDb) {
    let err = db.store().create_user(new_user(CompanyId::new(), "ada@example.com")).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(db.store().find_user_by_email("ada@example.com").await.unwrap(), None);
}

async fn users_are_listed_per_company(db: &TestDb) {
    let acme = company(db, "Acme").await;
    let globex = company(db, "Globex").await;
    let a = db.store().create_user(new_user(acme.id, "a@acme.test")).await.unwrap();
    let b = db.store().create_user(new_user(acme.id, "b@acme.test")).await.unwrap();
    db.store().create_user(new_user(globex.id, "c@globex.test")).await.unwrap();
    let listed: Vec<UserId> =
        db.store().list_users(acme.id, None, 50).await.unwrap().into_iter().map(|u| u.id).collect();
    assert_eq!(listed, vec![a.id, b.id]);
}

async fn company_and_owner_are_created_together(db: &TestDb) {
    let (company, owner) = db
        .store()
        .create_company_with_owner(
            NewCompany { name: "Acme".into() },
            new_user(CompanyId::new(), "Owner@Acme.test"),
        )
        .await
        .unwrap();
    assert_eq!(owner.company_id, company.id);
    assert_eq!(owner.email, "owner@acme.test");
    assert_eq!(db.store().get_company(company.id).await.unwrap(), company);
    assert_eq!(db.store().get_user(company.id, owner.id).await.unwrap(), owner);
}

async fn a_taken_email_leaves_no_company_behind(db: &TestDb) {
    let acme = company(db, "Acme").await;
    db.store().create_user(new_user(acme.id, "taken@example.com")).await.unwrap();
    let err = db
        .store()
        .create_company_with_owner(
            NewCompany { name: "Dup".into() },
            new_user(CompanyId::new(), "taken@example.com"),
        )
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
    assert_eq!(db.count_rows("companies").await, 1);
    assert_eq!(db.count_rows("users").await, 1);
}

async fn roles_change_and_users_are_deleted_within_their_company(db: &TestDb) {
    let acme = company(db, "Acme").await;
    let globex = company(db, "Globex").await;
    // Acme keeps an owner whatever happens to Ada.
    db.store().create_user(new_user(acme.id, "owner@acme.test")).await.unwrap();
    let ada = db.store().create_user(new_user(acme.id, "ada@acme.test")).await.unwrap();

    let err = db.store().set_user_role(globex.id, ada.id, Role::Agent).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(db.store().get_user(acme.id, ada.id).await.unwrap().role, Role::Owner);

    let demoted = db.store().set_user_role(acme.id, ada.id, Role::Agent).await.unwrap();
    assert_eq!(demoted.role, Role::Agent);

    let err = db.store().delete_user(globex.id, ada.id).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    db.store().delete_user(acme.id, ada.id).await.unwrap();
    assert_eq!(error_kind(&db.store().get_user(acme.id, ada.id).await), Some(RepoErrorKind::NotFound));
    assert_eq!(error_kind(&db.store().delete_user(acme.id, ada.id).await), Some(RepoErrorKind::NotFound));
}

async fn the_last_owner_is_neither_demoted_nor_removed(db: &TestDb) {
    let acme = company(db, "Acme").await;
    let ada = db.store().create_user(new_user(acme.id, "ada@acme.test")).await.unwrap();
    let bob = db
        .store()
        .create_user(NewUser { role: Role::Agent, ..new_user(acme.id, "bob@acme.test") })
        .await
        .unwrap();

    let err = db.store().set_user_role(acme.id, ada.id, Role::Admin).await.unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
    let err = db.store().delete_user(acme.id, ada.id).await.unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
    assert_eq!(
        db.store().get_user(acme.id, ada.id).await.unwrap(),
        ada,
        "the refused changes changed nothing"
    );
    // Changes that leave an owner go through; so does making the last owner an owner again.
    assert_eq!(db.store().set_user_role(acme.id, ada.id, Role::Owner).await.unwrap().role, Role::Owner);
    assert_eq!(db.store().set_user_role(acme.id, bob.id, Role::Owner).await.unwrap().role, Role::Owner);
    assert_eq!(db.store().set_user_role(acme.id, ada.id, Role::Agent).await.unwrap().role, Role::Agent);
    let err = db.store().delete_user(acme.id, bob.id).await.unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
    db.store().delete_user(acme.id, ada.id).await.unwrap();
    // An unknown user is not found, not a conflict.
    let err = db.store().delete_user(acme.id, UserId::new()).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

async fn owners_demoting_or_removing_each_other_at_once_leave_one(db: &TestDb) {
    for round in 0..10 {
        let acme = company(db, &format!("Acme {round}")).await;
        let ada = db.store().create_user(new_user(acme.id, &format!("ada{round}@acme.test"))).await.unwrap();
        let bob = db.store().create_user(new_user(acme.id, &format!("bob{round}@acme.test"))).await.unwrap();
        let (a, b) = if round % 2 == 0 {
            let (a, b) = join(
                db.store().set_user_role(acme.id, ada.id, Role::Admin),
                db.store().set_user_role(acme.id, bob.id, Role::Admin),
            )
            .await;
            (a.map(drop), b.map(drop))
        } else {
            join(db.store().delete_user(acme.id, ada.id), db.store().delete_user(acme.id, bob.id)).await
        };
        let conflicts = [&a, &b].iter().filter(|r| r.as_ref().is_err_and(RepoError::is_conflict)).count();
        assert!(conflicts == 1 && (a.is_ok() || b.is_ok()), "round {round}: {a:?} {b:?}");
        let owners = db.store().list_users(acme.id, None, 50).await.unwrap();
        assert_eq!(owners.iter().filter(|u| u.role == Role::Owner).count(), 1, "round {round}");
    }
}

async fn failed_logins_count_up_to_the_lock_and_a_success_clears_them(db: &TestDb) {
    let acme = company(db, "Acme").await;
    let ada = db.store().create_user(new_user(acme.id, "ada@acme.test")).await.unwrap();
    let now = Utc::now();
    let until = now + Duration::minutes(15);
    for n in 1..3 {
        assert_eq!(
            db.store().record_failed_login(ada.id, now, 3, until).await.unwrap(),
            FailedLogin::Counted(n)
        );
    }
    assert!(db.store().record_successful_login(ada.id, now).await.unwrap());
    let cleared = db.store().get_user(acme.id, ada.id).await.unwrap();
    assert_eq!((cleared.failed_logins, cleared.locked_until), (0, None));

    for n in 1..3 {
        assert_eq!(
            db.store().record_failed_login(ada.id, now, 3, until).await.unwrap(),
            FailedLogin::Counted(n)
        );
    }
    assert_eq!(db.store().record_failed_login(ada.id, now, 3, until).await.unwrap(), FailedLogin::Locked);
    let locked = db.store().get_user(acme.id, ada.id).await.unwrap();
    assert_eq!(locked.failed_logins, 0, "a lock starts a fresh count");
    let stored = locked.locked_until.expect("locked");
    assert!((stored - until).num_milliseconds().abs() < 1, "{stored} vs {until}");
}

async fn a_lock_refuses_successes_and_counts_no_failures_until_it_ends(db: &TestDb) {
    let acme = company(db, "Acme").await;
    let ada = db.store().create_user(new_user(acme.id, "ada@acme.test")).await.unwrap();
    let now = Utc::now();
    let until = now + Duration::minutes(15);
    assert_eq!(db.store().record_failed_login(ada.id, now, 1, until).await.unwrap(), FailedLogin::Locked);

    assert!(!db.store().record_successful_login(ada.id, now).await.unwrap(), "locked");
    let later = until - Duration::seconds(1);
    let outcome =
        db.store().record_failed_login(ada.id, later, 1, later + Duration::minutes(15)).await.unwrap();
    assert_eq!(outcome, FailedLogin::AlreadyLocked);
    let still = db.store().get_user(acme.id, ada.id).await.unwrap();
    assert_eq!(still.failed_logins, 0, "nothing counted during the lock");
    assert!(
        (still.locked_until.unwrap() - until).num_milliseconds().abs() < 1,
        "the lock is not extended by failures during it"
    );

    // Once the lock has ended, failures count again from a fresh start, and a success goes through.
    let after = until + Duration::seconds(1);
    assert_eq!(
        db.store().record_failed_login(ada.id, after, 2, after + Duration::minutes(15)).await.unwrap(),
        FailedLogin::Counted(1)
    );
    assert!(db.store().record_successful_login(ada.id, after).await.unwrap());
    let cleared = db.store().get_user(acme.id, ada.id).await.unwrap();
    assert_eq!((cleared.failed_logins, cleared.locked_until), (0, None));
    assert!(!db.store().record_successful_login(UserId::new(), after).await.unwrap(), "unknown user");
}

async fn concurrent_failures_count_no_further_than_the_lock(db: &TestDb) {
    let acme = company(db, "Acme").await;
    let ada = db.store().create_user(new_user(acme.id, "ada@acme.test")).await.unwrap();
    let now = Utc::now();
    let until = now + Duration::minutes(15);
    let failures = join_all((0..20).map(|_| db.store().record_failed_login(ada.id, now, 5, until))).await;
    let mut outcomes: Vec<FailedLogin> = failures.into_iter().map(Result::unwrap).collect();
    outcomes.sort_by_key(|o| match o {
        FailedLogin::Counted(n) => *n,
        FailedLogin::Locked => 5,
        FailedLogin::AlreadyLocked => 6,
    });
    let mut expected: Vec<FailedLogin> = (1..5).map(FailedLogin::Counted).collect();
    expected.push(FailedLogin::Locked);
    expected.extend([FailedLogin::AlreadyLocked; 15]);
    assert_eq!(outcomes, expected);
    assert!(!db.store().record_successful_login(ada.id, now).await.unwrap());
}
