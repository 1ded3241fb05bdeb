//! Errors are classified alike on both backends, name their constraint and keep their cause.

use std::error::Error as _;

use tidings_domain::{CompanyId, CompanyRepo, ErrorChain, RepoErrorKind, UserRepo};
use tidings_store::test_db::TestDb;
use tidings_store::{Backend, backend_tests};

use crate::error_kind;
use crate::users::{company, new_user};

backend_tests!(
    a_unique_violation_is_a_conflict_naming_its_constraint,
    a_missing_reference_is_not_found_and_keeps_its_cause,
    an_overlap_is_an_exclusion_naming_its_constraint,
    a_corrupt_row_is_internal_and_its_cause_says_why,
    a_closed_store_is_unavailable,
    a_connection_the_database_dropped_is_not_handed_out,
);

async fn a_unique_violation_is_a_conflict_naming_its_constraint(db: &TestDb) {
    let acme = company(db, "Acme").await;
    db.store().create_user(new_user(acme.id, "ada@example.com")).await.unwrap();
    let err = db.store().create_user(new_user(acme.id, "ada@example.com")).await.unwrap_err();
    assert_eq!(err.kind(), RepoErrorKind::Conflict, "{err:?}");
    let constraint = match db.store().backend() {
        Backend::Postgres => "users_email_key",
        Backend::Sqlite => "users.email",
    };
    assert_eq!(err.constraint(), Some(constraint));
    assert!(err.source().is_some(), "the driver's error is kept: {err:?}");
}

async fn a_missing_reference_is_not_found_and_keeps_its_cause(db: &TestDb) {
    let err = db.store().create_user(new_user(CompanyId::new(), "ada@example.com")).await.unwrap_err();
    assert_eq!(err.kind(), RepoErrorKind::NotFound, "{err:?}");
    // Only PostgreSQL names the foreign key; SQLite says "FOREIGN KEY constraint failed".
    if db.store().backend() == Backend::Postgres {
        assert_eq!(err.constraint(), Some("users_company_id_fkey"));
    }
    assert!(ErrorChain(&err).to_string().to_lowercase().contains("foreign key"), "{err:?}");
}

/// An exclusion rule the way each backend can state one: PostgreSQL's `EXCLUDE` over a range
/// (built in for range types, so no `btree_gist` is needed), SQLite's aborting trigger.
const SLOTS: &[(Backend, &str)] = &[
    (
        Backend::Postgres,
        "CREATE TABLE slots (during tsrange NOT NULL, \
         CONSTRAINT slots_no_overlap EXCLUDE USING gist (during WITH &&))",
    ),
    (
        Backend::Sqlite,
        "CREATE TABLE slots (during_start TEXT NOT NULL, during_end TEXT NOT NULL); \
         CREATE TRIGGER slots_no_overlap BEFORE INSERT ON slots \
         WHEN EXISTS (SELECT 1 FROM slots WHERE during_start < NEW.during_end AND NEW.during_start < during_end) \
         BEGIN SELECT RAISE(ABORT, 'exclusion_violation: slots_no_overlap'); END;",
    ),
];

/// Inserts the slot `[start, end)` into the table of [`SLOTS`].
fn insert_slot(backend: Backend, start: &str, end: &str) -> String {
    match backend {
        Backend::Postgres => format!("INSERT INTO slots VALUES (tsrange('{start}', '{end}'))"),
        Backend::Sqlite => format!("INSERT INTO slots VALUES ('{start}', '{end}')"),
    }
}

async fn an_overlap_is_an_exclusion_naming_its_constraint(db: &TestDb) {
    let backend = db.store().backend();
    let (_, schema) = SLOTS.iter().find(|(b, _)| *b == backend).unwrap();
    db.execute(schema).await.unwrap();
    db.execute(&insert_slot(backend, "2026-12-01 10:00", "2026-12-01 10:30")).await.unwrap();
    // Touching is not overlapping.
    db.execute(&insert_slot(backend, "2026-12-01 10:30", "2026-12-01 11:00")).await.unwrap();
    let overlap = db.execute(&insert_slot(backend, "2026-12-01 10:15", "2026-12-01 10:45")).await;
    assert_eq!(error_kind(&overlap), Some(RepoErrorKind::Exclusion), "{overlap:?}");
    assert_eq!(overlap.unwrap_err().constraint(), Some("slots_no_overlap"));
}

async fn a_corrupt_row_is_internal_and_its_cause_says_why(db: &TestDb) {
    let acme = company(db, "Acme").await;
    db.execute(&format!("UPDATE companies SET settings = 'not json' WHERE id = '{}'", acme.id))
        .await
        .unwrap();
    let err = db.store().get_company(acme.id).await.unwrap_err();
    assert_eq!(err.kind(), RepoErrorKind::Internal, "{err:?}");
    assert!(ErrorChain(&err).to_string().contains("stored JSON"), "{err:?}");
}

async fn a_closed_store_is_unavailable(db: &TestDb) {
    let acme = company(db, "Acme").await;
    db.store().close();
    let err = db.store().get_company(acme.id).await.unwrap_err();
    assert_eq!(err.kind(), RepoErrorKind::Unavailable, "{err:?}");
    assert!(err.source().is_some(), "{err:?}");
}

async fn a_connection_the_database_dropped_is_not_handed_out(db: &TestDb) {
    let acme = company(db, "Acme").await;
    let read_together = || async {
        let reads = (0..8).map(|_| db.store().get_company(acme.id));
        futures_util::future::join_all(reads).await
    };
    // Several connections open and back in the pool, then the database drops all but the one
    // that asks it to. Pooled connections are not checked with a query at each checkout: once the
    // client has seen a connection close (a moment after), the pool knows it broken and opens
    // another; a checkout within that moment would fail as transient.
    assert!(read_together().await.iter().all(Result::is_ok));
    if db.store().backend() == Backend::Postgres {
        let backends = "CREATE VIEW backends AS SELECT pid FROM pg_stat_activity \
                        WHERE datname = current_database()";
        db.execute(backends).await.unwrap();
        assert!(db.count_rows("backends").await > 1, "the reads opened several connections");
        let drop_the_others = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                               WHERE datname = current_database() AND pid <> pg_backend_pid()";
        db.execute(drop_the_others).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    for read in read_together().await {
        assert_eq!(read.map(|c| c.id).map_err(|e| ErrorChain(&e).to_string()), Ok(acme.id));
    }
}
