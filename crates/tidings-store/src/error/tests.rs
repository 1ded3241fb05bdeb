//! Classification of driver and pool errors: by construction for every rule, and with real errors
//! provoked on both backends for those that only a live database produces (busy, deadlock,
//! serialization failure, lost connection, pool timeouts).

use std::error::Error as _;
use std::time::Duration;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::{Connection, RunQueryDsl, SqliteConnection};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use tidings_domain::{RepoError, RepoErrorKind};
use uuid::Uuid;

use super::{db_error, pool_error};
use crate::pool::{DbPool, PoolOptions};
use crate::test_db::TestDb;

fn database_error(kind: DatabaseErrorKind, message: &str) -> RepoError {
    db_error(DieselError::DatabaseError(kind, Box::new(message.to_owned())))
}

#[test]
fn constraint_violations_are_classified_with_their_constraint() {
    let err = database_error(DatabaseErrorKind::UniqueViolation, "UNIQUE constraint failed: users.email");
    assert_eq!((err.kind(), err.constraint()), (RepoErrorKind::Conflict, Some("users.email")));
    assert_eq!(err.source().unwrap().to_string(), "UNIQUE constraint failed: users.email");

    let err = database_error(DatabaseErrorKind::ForeignKeyViolation, "FOREIGN KEY constraint failed");
    assert_eq!((err.kind(), err.constraint()), (RepoErrorKind::NotFound, None));

    let err = database_error(DatabaseErrorKind::ExclusionViolation, "conflicting key value");
    assert_eq!(err.kind(), RepoErrorKind::Exclusion);

    let err = database_error(DatabaseErrorKind::Unknown, "exclusion_violation: appointments_no_overlap");
    assert_eq!((err.kind(), err.constraint()), (RepoErrorKind::Exclusion, Some("appointments_no_overlap")));

    let err = database_error(DatabaseErrorKind::RestrictViolation, "still referenced");
    assert_eq!(err.kind(), RepoErrorKind::Conflict);
}

#[test]
fn failures_a_retry_gets_past_are_transient() {
    for (kind, message) in [
        (DatabaseErrorKind::SerializationFailure, "could not serialize access"),
        (DatabaseErrorKind::Unknown, "deadlock detected"),
        (DatabaseErrorKind::Unknown, "database is locked"),
        (DatabaseErrorKind::Unknown, "database table is locked: messages"),
    ] {
        assert_eq!(database_error(kind, message).kind(), RepoErrorKind::Transient, "{message}");
    }
    // A serialization failure is often reported at COMMIT, inside diesel's rollback report.
    let commit = DieselError::RollbackErrorOnCommit {
        rollback_error: Box::new(DieselError::BrokenTransactionManager),
        commit_error: Box::new(DieselError::DatabaseError(
            DatabaseErrorKind::SerializationFailure,
            Box::new("could not serialize access".to_owned()),
        )),
    };
    assert!(db_error(commit).is_transient());
}

#[test]
fn a_lost_connection_is_unavailable_and_the_rest_internal() {
    for message in ["connection closed", "error communicating with the server"] {
        let err = database_error(DatabaseErrorKind::UnableToSendCommand, message);
        assert_eq!(err.kind(), RepoErrorKind::Unavailable, "{message}");
    }
    assert!(database_error(DatabaseErrorKind::ClosedConnection, "gone").is_unavailable());
    for (kind, message) in [
        (DatabaseErrorKind::CheckViolation, "CHECK constraint failed: status"),
        (DatabaseErrorKind::NotNullViolation, "NOT NULL constraint failed: users.email"),
        (DatabaseErrorKind::Unknown, "syntax error at or near \"SELEC\""),
        (DatabaseErrorKind::UnableToSendCommand, "task 7 panicked"),
    ] {
        assert_eq!(database_error(kind, message).kind(), RepoErrorKind::Internal, "{message}");
    }
    assert!(db_error(DieselError::NotFound).is_not_found());
    assert!(db_error(DieselError::DeserializationError("bad".into())).is_internal());
}

/// A scratch SQLite file in a directory of its own, removed on drop.
struct ScratchFile(std::path::PathBuf);

impl ScratchFile {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("tidings-error-test-{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        ScratchFile(dir)
    }

    fn path(&self) -> String {
        self.0.join("t.db").display().to_string()
    }
}

impl Drop for ScratchFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn sqlite_busy_is_transient() {
    let file = ScratchFile::new();
    let mut holder = SqliteConnection::establish(&file.path()).unwrap();
    diesel::connection::SimpleConnection::batch_execute(
        &mut holder,
        "PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);",
    )
    .unwrap();
    let mut writer = SqliteConnection::establish(&file.path()).unwrap();
    diesel::sql_query("PRAGMA busy_timeout = 20").execute(&mut writer).unwrap();
    let err =
        diesel::sql_query("INSERT INTO t VALUES (2)").execute(&mut writer).map_err(db_error).unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(err.source().unwrap().to_string().contains("database is locked"), "{err:?}");
}

/// Two raw connections to a PostgreSQL test database, outside the store's pool.
async fn two_pg_connections(db: &TestDb) -> (AsyncPgConnection, AsyncPgConnection) {
    let a = AsyncPgConnection::establish(db.url()).await.unwrap();
    let b = AsyncPgConnection::establish(db.url()).await.unwrap();
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_serialization_failure_is_transient() {
    let Some(db) = TestDb::postgres().await else { return };
    let (mut a, mut b) = two_pg_connections(&db).await;
    a.batch_execute("CREATE TABLE t (x INTEGER)").await.unwrap();
    // Write skew: each reads what the other writes, so one of two serializable commits must fail.
    let step = "BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT COUNT(*) FROM t; INSERT INTO t VALUES (1);";
    a.batch_execute(step).await.unwrap();
    b.batch_execute(step).await.unwrap();
    a.batch_execute("COMMIT").await.unwrap();
    let err = b.batch_execute("COMMIT").await.map_err(db_error).unwrap_err();
    assert!(err.is_transient(), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_deadlock_is_transient() {
    let Some(db) = TestDb::postgres().await else { return };
    let (mut a, mut b) = two_pg_connections(&db).await;
    a.batch_execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER); INSERT INTO t VALUES (1, 0), (2, 0);",
    )
    .await
    .unwrap();
    a.batch_execute("BEGIN; UPDATE t SET x = 1 WHERE id = 1;").await.unwrap();
    b.batch_execute("BEGIN; UPDATE t SET x = 1 WHERE id = 2;").await.unwrap();
    // Each now waits for the other's row: PostgreSQL aborts one of them with 40P01.
    let (ra, rb) = tokio::join!(
        a.batch_execute("UPDATE t SET x = 2 WHERE id = 2"),
        b.batch_execute("UPDATE t SET x = 2 WHERE id = 1"),
    );
    let errors: Vec<RepoError> = [ra, rb].into_iter().filter_map(Result::err).map(db_error).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].is_transient(), "{errors:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_terminated_connection_is_unavailable() {
    let Some(db) = TestDb::postgres().await else { return };
    let (mut victim, mut admin) = two_pg_connections(&db).await;
    #[derive(diesel::QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    let Pid { pid } = diesel_async::RunQueryDsl::get_result::<Pid>(
        diesel::sql_query("SELECT pg_backend_pid() AS pid"),
        &mut victim,
    )
    .await
    .unwrap();
    admin.batch_execute(&format!("SELECT pg_terminate_backend({pid})")).await.unwrap();
    let err = victim.batch_execute("SELECT 1").await.map_err(db_error).unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_timeouts_are_transient_and_closed_or_unreachable_pools_unavailable() {
    let file = ScratchFile::new();
    let options =
        PoolOptions { max_size: 1, wait_timeout: Duration::from_millis(50), ..PoolOptions::default() };
    let DbPool::Sqlite(pool) = DbPool::new(&format!("sqlite://{}", file.path()), &options).unwrap() else {
        unreachable!("a sqlite URL makes a SQLite pool")
    };
    let held = pool.get().await.unwrap();
    let err = pool.get().await.err().map(pool_error).expect("the checkout fails");
    assert!(err.is_transient(), "all connections busy: {err:?}");
    drop(held);
    pool.close();
    let err = pool.get().await.err().map(pool_error).expect("the checkout fails");
    assert!(err.is_unavailable(), "closed: {err:?}");

    let missing = format!("sqlite://{}", file.0.join("no-such-dir").join("t.db").display());
    let DbPool::Sqlite(pool) = DbPool::new(&missing, &options).unwrap() else { unreachable!() };
    let err = pool.get().await.err().map(pool_error).expect("the checkout fails");
    assert!(err.is_unavailable(), "cannot open: {err:?}");

    // Nothing listens on port 1: connecting is refused at once.
    let DbPool::Postgres(pool) = DbPool::new("postgres://postgres@127.0.0.1:1/none", &options).unwrap()
    else {
        unreachable!()
    };
    let err = pool.get().await.err().map(pool_error).expect("the checkout fails");
    assert!(err.is_unavailable(), "cannot connect: {err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_statements_past_the_timeout_are_cancelled_as_transient() {
    let Some(db) = TestDb::postgres().await else { return };
    let options = PoolOptions { statement_timeout: Duration::from_millis(200), ..PoolOptions::default() };
    let DbPool::Postgres(pool) = DbPool::new(db.url(), &options).unwrap() else { unreachable!() };
    let mut conn = pool.get().await.unwrap();
    conn.batch_execute("SELECT pg_sleep(0.05)").await.expect("a short statement runs");
    let err = conn.batch_execute("SELECT pg_sleep(2)").await.map_err(db_error).unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    // Migrations run without it on a connection of their own, which never returns to the pool.
    drop(conn);
    crate::migrate::run(&DbPool::Postgres(pool.clone())).await.unwrap();
    let mut again = pool.get().await.unwrap();
    let err = again.batch_execute("SELECT pg_sleep(2)").await.map_err(db_error).unwrap_err();
    assert!(err.is_transient(), "the pool's connections keep their timeout: {err:?}");
}
