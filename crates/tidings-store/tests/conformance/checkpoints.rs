//! SQLite's write-ahead log: left to the checkpointer by requests, emptied by it.

use std::time::Duration;

use tidings_domain::{Direction, MessageRepo};
use tidings_store::test_db::TestDb;
use tidings_store::{Backend, backend_tests};

use crate::messages::{Fixture, fixture, message};

backend_tests!(
    commits_leave_the_log_to_the_checkpointer_which_copies_all_of_it,
    the_checkpointer_keeps_the_log_short_until_told_to_stop,
);

/// Default SQLite checkpoints the log when a commit takes it past this many pages.
const SQLITE_DEFAULT_THRESHOLD: i64 = 1000;

/// Appends messages whose bodies alone fill more pages than SQLite's default threshold.
async fn fill_the_log(db: &TestDb, f: &Fixture) {
    let body = "x".repeat(5000);
    for _ in 0..SQLITE_DEFAULT_THRESHOLD {
        db.store().append_message(message(f, Direction::Inbound, &body, None)).await.unwrap();
    }
}

async fn commits_leave_the_log_to_the_checkpointer_which_copies_all_of_it(db: &TestDb) {
    let store = db.store();
    if store.backend() == Backend::Postgres {
        assert_eq!(store.checkpoint().await.unwrap(), None, "PostgreSQL has no log to tend");
        return;
    }
    let f = fixture(db, "Acme").await;
    fill_the_log(db, &f).await;
    let done = store.checkpoint().await.unwrap().expect("a SQLite checkpoint");
    // Past the default threshold, a commit would have checkpointed and started the log over.
    assert!(done.log_pages > SQLITE_DEFAULT_THRESHOLD, "no request checkpointed: {done:?}");
    assert_eq!((done.busy, done.checkpointed_pages), (0, done.log_pages), "{done:?}");
    // All of it is in the database file: the next commit starts the log over.
    store.append_message(message(&f, Direction::Inbound, "after", None)).await.unwrap();
    let next = store.checkpoint().await.unwrap().unwrap();
    assert!(next.log_pages < 100, "the log started over: {next:?}");
}

async fn the_checkpointer_keeps_the_log_short_until_told_to_stop(db: &TestDb) {
    let store = db.store();
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let checkpointer = tokio::spawn(store.clone().run_checkpoints(stopping));
    if store.backend() == Backend::Sqlite {
        let f = fixture(db, "Acme").await;
        fill_the_log(db, &f).await;
        // One turn of the checkpointer after the writes copies them all; the next commit then
        // starts the log over.
        tokio::time::sleep(tidings_store::CHECKPOINT_EVERY * 2).await;
        store.append_message(message(&f, Direction::Inbound, "after", None)).await.unwrap();
        let now = store.checkpoint().await.unwrap().unwrap();
        assert!(now.log_pages < 100, "the checkpointer copied the log: {now:?}");
    }
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), checkpointer)
        .await
        .expect("the checkpointer stops when told")
        .unwrap();
}
