//! Throw-away databases for tests: a fresh SQLite file, or a freshly created PostgreSQL database when
//! `TIDINGS_TEST_DATABASE_URL` is set. Each is migrated on creation and removed on drop.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test support: a failure here fails the test")]

use std::io::Write;
use std::path::PathBuf;
use std::sync::Once;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use uuid::Uuid;

use crate::migrate::Step;
use crate::{Backend, PoolOptions, Store};

/// Variable naming a PostgreSQL server (any database on it) where test databases may be created.
pub const POSTGRES_URL_VAR: &str = "TIDINGS_TEST_DATABASE_URL";

/// A migrated database that exists for the lifetime of this value.
pub struct TestDb {
    store: Store,
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteDir(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A fresh database of `backend`, or `None` (with a notice on stderr) when that backend is not
    /// configured for tests.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// A fresh SQLite database in its own temporary directory.
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("tidings-test-{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        let url = format!("sqlite://{}", dir.join("tidings.db").display());
        let store = open(&url).await;
        TestDb { store, url, cleanup: Cleanup::SqliteDir(dir) }
    }

    /// A freshly created PostgreSQL database, or `None` when `TIDINGS_TEST_DATABASE_URL` is unset.
    /// Under CI (`CI` set) a missing variable fails the test instead: a suite that silently passes
    /// without its database proves nothing.
    pub async fn postgres() -> Option<TestDb> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "{POSTGRES_URL_VAR} must be set when CI is: the PostgreSQL suites would pass without running"
            );
            static NOTICE: Once = Once::new();
            // Written past the test harness's capture so the skip is visible in a normal run.
            NOTICE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "notice: {POSTGRES_URL_VAR} is not set; PostgreSQL tests are skipped"
                );
            });
            return None;
        };
        let name = format!("tidings_test_{}", Uuid::now_v7().simple());
        let mut admin = AsyncPgConnection::establish(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR}: cannot connect: {e}"));
        admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
        let url = with_database(&admin_url, &name);
        let store = open(&url).await;
        Some(TestDb { store, url, cleanup: Cleanup::Postgres { admin_url, name } })
    }

    /// The store over this database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Number of rows in `table` (a table name from the schema), to check what a failed call left.
    pub async fn count_rows(&self, table: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        assert!(table.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "not a table name: {table}");
        let query = format!("SELECT COUNT(*) AS n FROM {table}");
        let store = &self.store;
        let count = async {
            crate::pool::with_conn!(store, |conn| {
                diesel_async::RunQueryDsl::get_result::<Count>(diesel::sql_query(&query), conn)
                    .await
                    .map_err(crate::error::db_error)
            })
        };
        count.await.expect("count rows").n
    }

    /// Runs `sql` (one or more statements) on a pooled connection, with errors classified as the
    /// repositories classify theirs: to set up what no repository method writes, such as a corrupt
    /// row, or to provoke a database error.
    pub async fn execute(&self, sql: &str) -> tidings_domain::RepoResult<()> {
        let (store, sql) = (&self.store, sql.to_owned());
        crate::pool::with_conn!(store, |conn| {
            diesel_async::SimpleAsyncConnection::batch_execute(conn, &sql)
                .await
                .map_err(crate::error::db_error)
        })
    }

    /// The URL of this database, for a server started by the test.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Reverts every applied migration (each down.sql, newest first); the versions reverted.
    pub async fn revert_all_migrations(&self) -> Vec<String> {
        self.migration_step(Step::RevertAll).await
    }

    /// Reverts the newest applied migration; its version.
    pub async fn revert_last_migration(&self) -> String {
        self.migration_step(Step::RevertLast).await.remove(0)
    }

    /// Applies the oldest pending migration; its version.
    pub async fn run_next_migration(&self) -> String {
        self.migration_step(Step::RunNext).await.remove(0)
    }

    async fn migration_step(&self, step: Step) -> Vec<String> {
        let crate::store::Source::Pool(pool) = self.store.source() else {
            panic!("a test database's store is pooled")
        };
        crate::migrate::step(pool, step).await.unwrap_or_else(|e| panic!("{step:?}: {e}"))
    }
}

async fn open(url: &str) -> Store {
    let options = PoolOptions { max_size: 8, ..PoolOptions::default() };
    let store = Store::connect(url, &options).await.expect("connect to test database");
    store.migrate().await.expect("migrate test database");
    store
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.store.close();
        match &self.cleanup {
            Cleanup::SqliteDir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime, which cannot block on itself: use a thread.
                let dropped = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                    rt.block_on(async {
                        let mut admin =
                            AsyncPgConnection::establish(&admin_url).await.map_err(std::io::Error::other)?;
                        admin
                            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .await
                            .map_err(std::io::Error::other)
                    })
                })
                .join();
                if !matches!(dropped, Ok(Ok(()))) {
                    eprintln!("warning: test database {} was not dropped", self.url);
                }
            }
        }
    }
}

/// Declares each listed `async fn(&TestDb)` as two tests, `sqlite::NAME` and `postgres::NAME`; the
/// PostgreSQL one passes with a notice when no test server is configured.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::test_db::TestDb::sqlite().await;
                    super::$name(&db).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = $crate::test_db::TestDb::postgres().await {
                        super::$name(&db).await;
                    }
                }
            )+
        }
    };
}

#[cfg(test)]
mod tests {
    use super::{POSTGRES_URL_VAR, TestDb, with_database};

    /// Asks for a PostgreSQL database when run as the probe of the test below; passes otherwise.
    #[tokio::test]
    async fn postgres_probe() {
        if std::env::var_os("TIDINGS_TEST_DB_PROBE").is_some() {
            let _ = TestDb::postgres().await;
        }
    }

    #[test]
    fn under_ci_a_missing_database_fails_instead_of_skipping() {
        let probe = |ci: bool| {
            let mut command = std::process::Command::new(std::env::current_exe().unwrap());
            command
                .args(["--exact", "test_db::tests::postgres_probe", "--test-threads=1"])
                .env("TIDINGS_TEST_DB_PROBE", "1")
                .env_remove(POSTGRES_URL_VAR)
                .env_remove("CI");
            if ci {
                command.env("CI", "true");
            }
            command.output().unwrap().status.success()
        };
        assert!(probe(false), "without CI the PostgreSQL suites are skipped");
        assert!(!probe(true), "under CI a missing database fails the suite");
    }

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(with_database("postgres://u@h:5432/postgres", "x"), "postgres://u@h:5432/x");
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
