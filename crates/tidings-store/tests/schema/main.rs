//! Schema agreement: the PostgreSQL and SQLite migrations build the same schema (tables, columns and
//! their nullability, keys, UNIQUE constraints, indexes, foreign keys, triggers, applied migrations),
//! apart from the differences listed in [`ALLOWED`]; and every migration's down.sql undoes exactly
//! what its up.sql did. How each engine's catalog is read and normalised is in `catalog.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a panic is how a test fails")]

mod catalog;

use std::collections::BTreeSet;

use tidings_store::test_db::TestDb;
use tidings_store::{Backend, backend_tests};

use catalog::{Fact, read_schema};

/// What one backend's schema may have that the other's has not.
struct Allowed {
    only_in: Backend,
    subject: Subject,
    why: &'static str,
}

/// The part of a schema an allowed difference covers.
#[derive(Debug)]
enum Subject {
    /// A table and everything about it: columns, keys, indexes, triggers on it.
    Table(&'static str),
    /// One column of a table present in both.
    Column(&'static str, &'static str),
    /// One index, by name.
    Index(&'static str),
    /// One trigger, by name.
    Trigger(&'static str),
    /// The foreign keys of a table over the given columns, whatever they reference.
    ForeignKey(&'static str, &'static [&'static str]),
}

/// The documented differences: full-text search, which each engine builds from its own parts, and
/// the references kept inside one company, which are composite foreign keys on PostgreSQL and
/// triggers on SQLite (see docs/architecture.md). A difference listed here that no longer exists fails the test
/// too, so the list stays true.
const ALLOWED: &[Allowed] = &[
    Allowed {
        only_in: Backend::Postgres,
        subject: Subject::Column("messages", "search_vector"),
        why: "tsvector generated from body (English stemming), PostgreSQL's full-text search",
    },
    Allowed {
        only_in: Backend::Postgres,
        subject: Subject::Index("messages_search_idx"),
        why: "GIN index over messages.search_vector",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Table("messages_fts"),
        why: "FTS5 index over message bodies (virtual table)",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Table("messages_fts_docs"),
        why: "the FTS5 index's content: live messages' id and body under a doc_id that VACUUM keeps",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Table("messages_fts_data"),
        why: "FTS5 shadow table",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Table("messages_fts_idx"),
        why: "FTS5 shadow table",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Table("messages_fts_docsize"),
        why: "FTS5 shadow table",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Table("messages_fts_config"),
        why: "FTS5 shadow table",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Trigger("messages_fts_insert"),
        why: "indexes a new message",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Trigger("messages_fts_update"),
        why: "re-indexes an edited message, unindexes a deleted one",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Trigger("messages_fts_delete"),
        why: "unindexes a removed message",
    },
    Allowed {
        only_in: Backend::Postgres,
        subject: Subject::ForeignKey("api_keys", &["company_id", "app_id"]),
        why: "a reference kept inside one company (SQLite: the api_keys_tenant_* triggers)",
    },
    Allowed {
        only_in: Backend::Postgres,
        subject: Subject::ForeignKey("conversations", &["company_id", "app_id"]),
        why: "a reference kept inside one company (SQLite: the conversations_tenant_* triggers)",
    },
    Allowed {
        only_in: Backend::Postgres,
        subject: Subject::ForeignKey("conversations", &["company_id", "assignee_id"]),
        why: "a reference kept inside one company (SQLite: the conversations_tenant_* triggers)",
    },
    Allowed {
        only_in: Backend::Postgres,
        subject: Subject::ForeignKey("conversations", &["company_id", "contact_id"]),
        why: "a reference kept inside one company (SQLite: the conversations_tenant_* triggers)",
    },
    Allowed {
        only_in: Backend::Postgres,
        subject: Subject::ForeignKey("devices", &["company_id", "app_id"]),
        why: "a reference kept inside one company (SQLite: the devices_tenant_* triggers)",
    },
    Allowed {
        only_in: Backend::Postgres,
        subject: Subject::ForeignKey("devices", &["company_id", "contact_id"]),
        why: "a reference kept inside one company (SQLite: the devices_tenant_* triggers)",
    },
    Allowed {
        only_in: Backend::Postgres,
        subject: Subject::ForeignKey("messages", &["company_id", "conversation_id"]),
        why: "a reference kept inside one company (SQLite: the messages_tenant_* triggers)",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Trigger("api_keys_tenant_insert"),
        why: "refuses a reference to another company's row (PostgreSQL: composite foreign keys)",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Trigger("api_keys_tenant_update"),
        why: "refuses a reference to another company's row (PostgreSQL: composite foreign keys)",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Trigger("conversations_tenant_insert"),
        why: "refuses a reference to another company's row (PostgreSQL: composite foreign keys)",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Trigger("conversations_tenant_update"),
        why: "refuses a reference to another company's row (PostgreSQL: composite foreign keys)",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Trigger("devices_tenant_insert"),
        why: "refuses a reference to another company's row (PostgreSQL: composite foreign keys)",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Trigger("devices_tenant_update"),
        why: "refuses a reference to another company's row (PostgreSQL: composite foreign keys)",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Trigger("messages_tenant_insert"),
        why: "refuses a reference to another company's row (PostgreSQL: composite foreign keys)",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Trigger("messages_tenant_update"),
        why: "refuses a reference to another company's row (PostgreSQL: composite foreign keys)",
    },
    Allowed {
        only_in: Backend::Postgres,
        subject: Subject::ForeignKey("appointments", &["company_id", "contact_id"]),
        why: "a reference kept inside one company (SQLite: the appointments_tenant_* triggers)",
    },
    Allowed {
        only_in: Backend::Postgres,
        subject: Subject::ForeignKey("appointments", &["company_id", "conversation_id"]),
        why: "a reference kept inside one company (SQLite: the appointments_tenant_* triggers)",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Trigger("appointments_tenant_insert"),
        why: "refuses a reference to another company's row (PostgreSQL: composite foreign keys)",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Trigger("appointments_tenant_update"),
        why: "refuses a reference to another company's row (PostgreSQL: composite foreign keys)",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Trigger("appointments_no_overlap_insert"),
        why: "refuses an active appointment overlapping another (PostgreSQL: the appointments_no_overlap exclusion constraint)",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Trigger("appointments_no_overlap_update"),
        why: "refuses a change making an appointment overlap another (PostgreSQL: the appointments_no_overlap exclusion constraint)",
    },
    Allowed {
        only_in: Backend::Postgres,
        subject: Subject::ForeignKey("uploads", &["company_id", "message_id"]),
        why: "a reference kept inside one company (SQLite: the uploads_tenant_* triggers)",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Trigger("uploads_tenant_insert"),
        why: "refuses a reference to another company's row (PostgreSQL: composite foreign keys)",
    },
    Allowed {
        only_in: Backend::Sqlite,
        subject: Subject::Trigger("uploads_tenant_update"),
        why: "refuses a reference to another company's row (PostgreSQL: composite foreign keys)",
    },
];

impl Subject {
    fn covers(&self, fact: &Fact) -> bool {
        match (self, fact) {
            (Subject::Table(table), fact) => fact.table() == *table,
            (Subject::Column(table, column), Fact::Column { table: t, name, .. }) => {
                t == table && name == column
            }
            (Subject::Index(index), Fact::Index { name, .. }) => name == index,
            (Subject::Trigger(trigger), Fact::Trigger { name, .. }) => name == trigger,
            (Subject::ForeignKey(table, columns), Fact::ForeignKey { table: t, columns: c, .. }) => {
                t == table && c.iter().map(String::as_str).eq(columns.iter().copied())
            }
            _ => false,
        }
    }
}

/// Every way `postgres` and `sqlite` disagree beyond [`ALLOWED`], one line each, grouped by table;
/// empty when they agree.
fn disagreements(postgres: &BTreeSet<Fact>, sqlite: &BTreeSet<Fact>) -> Vec<String> {
    let mut used = vec![false; ALLOWED.len()];
    let mut lines: Vec<(String, String)> = Vec::new();
    for (backend, mine, theirs) in
        [(Backend::Postgres, postgres, sqlite), (Backend::Sqlite, sqlite, postgres)]
    {
        for fact in mine.difference(theirs) {
            let allowance = ALLOWED.iter().position(|a| a.only_in == backend && a.subject.covers(fact));
            match allowance {
                Some(i) => used[i] = true,
                None => lines.push((fact.table().to_owned(), format!("only in {backend:?}: {fact}"))),
            }
        }
    }
    lines.sort();
    let mut lines: Vec<String> = lines.into_iter().map(|(_, line)| line).collect();
    for (allowed, used) in ALLOWED.iter().zip(used) {
        if !used {
            lines.push(format!(
                "listed in ALLOWED but no longer different: only in {:?}: {:?} ({})",
                allowed.only_in, allowed.subject, allowed.why
            ));
        }
    }
    lines
}

/// Panics with a readable diff when `actual` is not `expected`.
fn assert_same_schema(expected: &BTreeSet<Fact>, actual: &BTreeSet<Fact>, context: &str) {
    let mut diff: Vec<String> = expected.difference(actual).map(|f| format!("  - {f}")).collect();
    diff.extend(actual.difference(expected).map(|f| format!("  + {f}")));
    assert!(diff.is_empty(), "{context}: schema differs (- expected, + actual):\n{}", diff.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_and_sqlite_schemas_agree() {
    let Some(postgres) = TestDb::postgres().await else { return };
    let sqlite = TestDb::sqlite().await;
    let (postgres, sqlite) = (read_schema(&postgres).await, read_schema(&sqlite).await);
    // A reader that saw nothing would agree with anything.
    for schema in [&postgres, &sqlite] {
        assert!(schema.contains(&Fact::Table("messages".into())), "schema not read: {schema:?}");
        assert!(schema.iter().any(|f| matches!(f, Fact::Index { .. })), "no index read: {schema:?}");
        assert!(schema.iter().any(|f| matches!(f, Fact::ForeignKey { .. })), "no foreign key read");
        assert!(schema.iter().any(|f| matches!(f, Fact::Unique { .. })), "no unique constraint read");
    }
    let problems = disagreements(&postgres, &sqlite);
    assert!(
        problems.is_empty(),
        "the PostgreSQL and SQLite migrations disagree; change the migrations (or, for an intended \
         difference, document it in ALLOWED in {}):\n  {}",
        file!(),
        problems.join("\n  ")
    );
}

backend_tests!(every_down_migration_undoes_its_up);

/// Walks the migrations all the way down and up again, one at a time, checking after each down.sql
/// that the schema is the one from before its up.sql.
async fn every_down_migration_undoes_its_up(db: &TestDb) {
    let migrated = read_schema(db).await;
    let newest_first = db.revert_all_migrations().await;
    assert!(newest_first.len() >= 2, "migrations reverted: {newest_first:?}");
    let empty = read_schema(db).await;
    assert_same_schema(&BTreeSet::new(), &empty, "left behind after reverting every migration");

    // `after[n]`: the schema with the oldest n migrations applied.
    let mut after = vec![empty];
    for version in newest_first.iter().rev() {
        assert_eq!(&db.run_next_migration().await, version);
        after.push(read_schema(db).await);
    }
    assert_same_schema(&migrated, &after[newest_first.len()], "after every up.sql ran again");

    for (reverted, version) in newest_first.iter().enumerate() {
        assert_eq!(&db.revert_last_migration().await, version);
        let applied = newest_first.len() - reverted - 1;
        assert_same_schema(&after[applied], &read_schema(db).await, &format!("after reverting {version}"));
    }

    db.store().migrate().await.expect("migrate again");
    assert_same_schema(&migrated, &read_schema(db).await, "after migrating again");
}
