//! Messages: gapless sequences under concurrency, idempotent retries, forward-only status,
//! pagination, edits, deletion, search, events.

use std::sync::Arc;

use chrono::Utc;
use tidings_domain::{
    Appended, ConversationId, ConversationRepo, DeviceRepo, Direction, EventRepo, FeedChange, FeedRepo,
    Message, MessageCursor, MessageId, MessageRepo, MessageStatus, NewEvent, NewMessage, Platform,
    RepoErrorKind, Sender,
};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::conversations::app;
use crate::error_kind;

backend_tests!(
    concurrent_writers_get_gapless_sequences,
    racing_retries_with_one_local_id_store_one_row,
    status_only_moves_forward,
    cursors_walk_every_message_once,
    edits_and_deletions_keep_the_sequence,
    search_finds_words_within_the_company_only,
    search_survives_vacuum_and_renumbered_rows,
    search_index_is_carried_over_by_its_migration,
    events_are_appended_per_company,
    appends_stay_within_the_company,
);

pub(crate) struct Fixture {
    pub(crate) company_id: tidings_domain::CompanyId,
    pub(crate) conversation_id: ConversationId,
}

pub(crate) async fn fixture(db: &TestDb, name: &str) -> Fixture {
    let web = app(db, name).await;
    let d = db.store().device_for(web.company_id, web.id, "dev-1", Platform::Web).await.unwrap();
    let conv = db
        .store()
        .open_conversation(web.company_id, d.contact_id, Some(web.id), Platform::Web)
        .await
        .unwrap();
    Fixture { company_id: web.company_id, conversation_id: conv.id }
}

pub(crate) fn message(f: &Fixture, direction: Direction, body: &str, local_id: Option<&str>) -> NewMessage {
    NewMessage {
        company_id: f.company_id,
        conversation_id: f.conversation_id,
        local_id: local_id.map(str::to_owned),
        sender: if direction == Direction::Inbound { Sender::Contact } else { Sender::Agent },
        author_id: None,
        direction,
        platform: Some(Platform::Web),
        body: body.into(),
        attachments: serde_json::json!([]),
        awaiting_forward: false,
        uploads: Vec::new(),
    }
}

async fn all_messages(db: &TestDb, f: &Fixture) -> Vec<Message> {
    db.store().list_messages(f.company_id, f.conversation_id, MessageCursor::After(0), 10_000).await.unwrap()
}

async fn concurrent_writers_get_gapless_sequences(db: &TestDb) {
    let f = Arc::new(fixture(db, "Acme").await);
    let store = Arc::new(db.store().clone());
    let writers: Vec<_> = (0..20)
        .map(|w| {
            let (store, f) = (store.clone(), f.clone());
            tokio::spawn(async move {
                let mut mine = Vec::new();
                for i in 0..50 {
                    let Appended { message: m, created, .. } = store
                        .append_message(message(&f, Direction::Inbound, &format!("{w}-{i}"), None))
                        .await
                        .unwrap();
                    assert!(created);
                    mine.push(m.sequence);
                }
                mine
            })
        })
        .collect();
    for w in writers {
        let mine = w.await.unwrap();
        assert!(mine.windows(2).all(|p| p[0] < p[1]), "each writer sees its own messages in order");
    }
    let sequences: Vec<i64> = all_messages(db, &f).await.iter().map(|m| m.sequence).collect();
    assert_eq!(sequences, (1..=1000).collect::<Vec<_>>());
    let conv = db.store().get_conversation(f.company_id, f.conversation_id).await.unwrap();
    assert_eq!(conv.last_sequence, 1000);
}

async fn racing_retries_with_one_local_id_store_one_row(db: &TestDb) {
    let f = Arc::new(fixture(db, "Acme").await);
    let store = Arc::new(db.store().clone());
    let racers: Vec<_> = (0..10)
        .map(|_| {
            let (store, f) = (store.clone(), f.clone());
            tokio::spawn(async move {
                store.append_message(message(&f, Direction::Inbound, "once", Some("local-1"))).await
            })
        })
        .collect();
    let mut results = Vec::new();
    for r in racers {
        results.push(r.await.unwrap().unwrap());
    }
    assert_eq!(results.iter().filter(|a| a.created).count(), 1);
    assert!(results.iter().all(|a| a.message.id == results[0].message.id && a.message.sequence == 1));
    assert_eq!(db.count_rows("messages").await, 1);
    // The next message still gets 2: the losers' increments were rolled back.
    let Appended { message: next, .. } =
        db.store().append_message(message(&f, Direction::Inbound, "next", None)).await.unwrap();
    assert_eq!(next.sequence, 2);
}

async fn status_only_moves_forward(db: &TestDb) {
    let f = fixture(db, "Acme").await;
    let s = db.store();
    for i in 0..3 {
        s.append_message(message(&f, Direction::Outbound, &format!("o{i}"), None)).await.unwrap();
    }
    s.append_message(message(&f, Direction::Inbound, "in", None)).await.unwrap();
    assert_eq!(
        s.advance_status(f.company_id, f.conversation_id, Direction::Outbound, 2, MessageStatus::Read)
            .await
            .unwrap()
            .value,
        2
    );
    assert_eq!(
        s.advance_status(f.company_id, f.conversation_id, Direction::Outbound, 3, MessageStatus::Delivered)
            .await
            .unwrap()
            .value,
        1
    );
    let statuses: Vec<MessageStatus> = all_messages(db, &f).await.iter().map(|m| m.status).collect();
    assert_eq!(
        statuses,
        [MessageStatus::Read, MessageStatus::Read, MessageStatus::Delivered, MessageStatus::Sent]
    );
    let conv = s.get_conversation(f.company_id, f.conversation_id).await.unwrap();
    assert_eq!((conv.contact_read_sequence, conv.agent_read_sequence), (2, 0));
    // Reading up to an earlier point never moves the read position back.
    s.advance_status(f.company_id, f.conversation_id, Direction::Outbound, 1, MessageStatus::Read)
        .await
        .unwrap();
    assert_eq!(s.get_conversation(f.company_id, f.conversation_id).await.unwrap().contact_read_sequence, 2);
    let other = fixture(db, "Globex").await;
    let moved = s
        .advance_status(other.company_id, f.conversation_id, Direction::Outbound, 3, MessageStatus::Read)
        .await
        .unwrap();
    assert_eq!((moved.value, moved.position), (0, None), "another company cannot touch these messages");
}

async fn cursors_walk_every_message_once(db: &TestDb) {
    let f = fixture(db, "Acme").await;
    for i in 0..25 {
        db.store().append_message(message(&f, Direction::Inbound, &format!("m{i}"), None)).await.unwrap();
    }
    let s = db.store();
    let latest = s.list_messages(f.company_id, f.conversation_id, MessageCursor::Latest, 10).await.unwrap();
    assert_eq!(latest.iter().map(|m| m.sequence).collect::<Vec<_>>(), (16..=25).collect::<Vec<_>>());
    let mut forward = Vec::new();
    let mut cursor = 0;
    loop {
        let page =
            s.list_messages(f.company_id, f.conversation_id, MessageCursor::After(cursor), 7).await.unwrap();
        let Some(last) = page.last() else { break };
        cursor = last.sequence;
        forward.extend(page.iter().map(|m| m.sequence));
    }
    assert_eq!(forward, (1..=25).collect::<Vec<_>>());
    let mut backward = Vec::new();
    let mut cursor = 26;
    loop {
        let page =
            s.list_messages(f.company_id, f.conversation_id, MessageCursor::Before(cursor), 7).await.unwrap();
        let Some(first) = page.first() else { break };
        cursor = first.sequence;
        backward.splice(0..0, page.iter().map(|m| m.sequence));
    }
    assert_eq!(backward, (1..=25).collect::<Vec<_>>());
    let other = fixture(db, "Globex").await;
    assert!(
        s.list_messages(other.company_id, f.conversation_id, MessageCursor::After(0), 50)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn edits_and_deletions_keep_the_sequence(db: &TestDb) {
    let f = fixture(db, "Acme").await;
    let s = db.store();
    let Appended { message: a, .. } =
        s.append_message(message(&f, Direction::Inbound, "typo", None)).await.unwrap();
    s.append_message(message(&f, Direction::Inbound, "second", None)).await.unwrap();
    let edited = s.edit_message(f.company_id, a.id, "fixed".into()).await.unwrap().value;
    assert_eq!((edited.body.as_str(), edited.sequence), ("fixed", 1));
    assert!(edited.edited_at.is_some());
    let deleted = s.delete_message(f.company_id, a.id).await.unwrap().value;
    assert!(deleted.deleted_at.is_some() && deleted.body.is_empty());
    assert_eq!(
        error_kind(&s.edit_message(f.company_id, a.id, "again".into()).await),
        Some(RepoErrorKind::Conflict)
    );
    assert_eq!(all_messages(db, &f).await.iter().map(|m| m.sequence).collect::<Vec<_>>(), vec![1, 2]);
    let other = fixture(db, "Globex").await;
    assert_eq!(error_kind(&s.get_message(other.company_id, a.id).await), Some(RepoErrorKind::NotFound));
    assert_eq!(error_kind(&s.delete_message(other.company_id, a.id).await), Some(RepoErrorKind::NotFound));
}

async fn search_finds_words_within_the_company_only(db: &TestDb) {
    let acme = fixture(db, "Acme").await;
    let globex = fixture(db, "Globex").await;
    let s = db.store();
    let Appended { message: refund, .. } = s
        .append_message(message(&acme, Direction::Inbound, "I want a refund for my order", None))
        .await
        .unwrap();
    s.append_message(message(&acme, Direction::Inbound, "Where is the parcel?", None)).await.unwrap();
    s.append_message(message(&globex, Direction::Inbound, "refund please, refund now", None)).await.unwrap();
    let Appended { message: gone, .. } =
        s.append_message(message(&acme, Direction::Inbound, "refund secret", None)).await.unwrap();
    s.delete_message(acme.company_id, gone.id).await.unwrap();

    let found = s.search_messages(acme.company_id, "refund", 20, 0).await.unwrap();
    assert_eq!(
        found.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![refund.id],
        "own, undeleted messages only"
    );
    assert!(
        s.search_messages(acme.company_id, "\"unbalanced OR (", 20, 0).await.is_ok(),
        "operators are not errors"
    );
    assert!(s.search_messages(acme.company_id, "", 20, 0).await.unwrap().is_empty());
    if db.store().backend() == tidings_store::Backend::Postgres {
        let stemmed = s.search_messages(acme.company_id, "refunds ordered", 20, 0).await.unwrap();
        assert_eq!(stemmed.iter().map(|m| m.id).collect::<Vec<_>>(), vec![refund.id], "stems match");
    } else {
        let token = s.search_messages(acme.company_id, "ORDER refund", 20, 0).await.unwrap();
        assert_eq!(token.iter().map(|m| m.id).collect::<Vec<_>>(), vec![refund.id], "tokens match, any case");
    }
}

/// Ids of the company's messages that `query` finds, sorted.
async fn found(db: &TestDb, f: &Fixture, query: &str) -> Vec<MessageId> {
    let found = db.store().search_messages(f.company_id, query, 200, 0).await.unwrap();
    sorted(found.iter().map(|m| m.id).collect())
}

fn sorted(mut ids: Vec<MessageId>) -> Vec<MessageId> {
    ids.sort();
    ids
}

async fn search_survives_vacuum_and_renumbered_rows(db: &TestDb) {
    let f = fixture(db, "Acme").await;
    let s = db.store();
    let mut parcels = Vec::new();
    for i in 0..30 {
        let body = if i % 3 == 0 { format!("filler {i}") } else { format!("parcel number {i}") };
        let Appended { message: m, .. } =
            s.append_message(message(&f, Direction::Inbound, &body, None)).await.unwrap();
        if i % 3 != 0 {
            parcels.push(m.id);
        }
    }
    // Remove every third row, so that renumbering moves the rows after each gap.
    db.execute("DELETE FROM messages WHERE body LIKE 'filler%'").await.unwrap();
    if s.backend() == tidings_store::Backend::Sqlite {
        db.execute("VACUUM").await.unwrap();
        // SQLite may give the rows of a table without an INTEGER PRIMARY KEY other rowids: VACUUM is
        // documented to (and does for tables without indexes), a dump and restore or a table rebuild
        // does. The bundled SQLite keeps them in this VACUUM, so move them as it may.
        db.execute("UPDATE messages SET rowid = rowid + 1000").await.unwrap();
    } else {
        // Rewrites the table and its indexes: every row moves.
        db.execute("VACUUM FULL messages").await.unwrap();
    }
    assert_eq!(found(db, &f, "parcel").await, sorted(parcels.clone()), "every parcel message, nothing else");
    assert!(found(db, &f, "filler").await.is_empty(), "removed rows are not found");

    // Edits, deletions and new messages still reach the index.
    s.edit_message(f.company_id, parcels[0], "a crate instead".into()).await.unwrap();
    s.delete_message(f.company_id, parcels[1]).await.unwrap();
    db.execute(&format!("DELETE FROM messages WHERE id = '{}'", parcels[2])).await.unwrap();
    let Appended { message: new, .. } =
        s.append_message(message(&f, Direction::Inbound, "one more parcel", None)).await.unwrap();
    let expected = sorted(parcels[3..].iter().copied().chain([new.id]).collect());
    assert_eq!(found(db, &f, "parcel").await, expected);
    assert_eq!(found(db, &f, "crate").await, vec![parcels[0]], "an edit is found by its new words");
}

/// The migration that re-keyed SQLite's full-text index on the message id (a no-op on PostgreSQL).
const FTS_MIGRATION: &str = "20261125000006";

async fn search_index_is_carried_over_by_its_migration(db: &TestDb) {
    let f = fixture(db, "Acme").await;
    let s = db.store();
    // Back to the schema before that migration, and messages written under it (as that schema's
    // store wrote them: the current store writes columns that did not exist yet).
    while db.revert_last_migration().await != FTS_MIGRATION {}
    let legacy = [("legacy text", None), ("legacy rewrite", Some("edited")), ("", Some("deleted"))];
    let mut ids = Vec::new();
    for (sequence, (body, change)) in (1..).zip(legacy) {
        let id = MessageId::new();
        let (edited, deleted) = match change {
            Some("edited") => ("'2026-11-20 10:00:01'", "NULL"),
            Some(_) => ("NULL", "'2026-11-20 10:00:02'"),
            None => ("NULL", "NULL"),
        };
        db.execute(&format!(
            "INSERT INTO messages (id, company_id, conversation_id, sequence, sender, direction, platform, body, \
             attachments, status, created_at, edited_at, deleted_at) VALUES ('{id}', '{}', '{}', {sequence}, \
             'contact', 'inbound', 'web', '{body}', '[]', 'sent', '2026-11-20 10:00:00', {edited}, {deleted})",
            f.company_id, f.conversation_id
        ))
        .await
        .unwrap();
        ids.push(id);
    }
    db.execute(&format!("UPDATE conversations SET last_sequence = 3 WHERE id = '{}'", f.conversation_id))
        .await
        .unwrap();

    s.migrate().await.unwrap();
    assert_eq!(found(db, &f, "legacy").await, sorted(vec![ids[0], ids[1]]));
    let Appended { message: fresh, position, .. } =
        s.append_message(message(&f, Direction::Inbound, "fresh text", None)).await.unwrap();
    assert_eq!(found(db, &f, "text").await, sorted(vec![ids[0], fresh.id]));
    // The change feed's migration gave every earlier message its creation at its sequence.
    assert_eq!((fresh.sequence, position), (4, 4));
    let feed = s.feed_after(f.company_id, f.conversation_id, 0, 10).await.unwrap();
    let created: Vec<(i64, MessageId)> = feed
        .iter()
        .map(|e| match &e.change {
            FeedChange::MessageNew(m) => (e.position, m.id),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(created, [(1, ids[0]), (2, ids[1]), (3, ids[2]), (4, fresh.id)]);
    assert_eq!(s.position_of_sequence(f.company_id, f.conversation_id, 2).await.unwrap(), 2);
}

async fn events_are_appended_per_company(db: &TestDb) {
    let acme = fixture(db, "Acme").await;
    let globex = fixture(db, "Globex").await;
    let event = |company_id, name: &str| NewEvent {
        company_id,
        app_id: None,
        device_id: Some("dev-1".into()),
        contact_id: None,
        name: name.into(),
        properties: serde_json::json!({ "screen": "home" }),
        occurred_at: Utc::now(),
    };
    db.store().record_event(event(acme.company_id, "opened")).await.unwrap();
    db.store().record_event(event(acme.company_id, "viewed")).await.unwrap();
    db.store().record_event(event(globex.company_id, "other")).await.unwrap();
    let recent = db.store().recent_events(acme.company_id, 10).await.unwrap();
    assert_eq!(recent.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["viewed", "opened"]);
    assert_eq!(recent[0].properties["screen"], "home");
}

async fn appends_stay_within_the_company(db: &TestDb) {
    let acme = fixture(db, "Acme").await;
    let globex = fixture(db, "Globex").await;
    let s = db.store();
    let Appended { message: original, .. } =
        s.append_message(message(&acme, Direction::Inbound, "secret", Some("l-1"))).await.unwrap();
    // Globex presents Acme's conversation with the same local_id: neither the original nor a new row.
    let foreign =
        NewMessage { company_id: globex.company_id, ..message(&acme, Direction::Inbound, "x", Some("l-1")) };
    assert_eq!(error_kind(&s.append_message(foreign).await), Some(RepoErrorKind::NotFound));
    let foreign =
        NewMessage { company_id: globex.company_id, ..message(&acme, Direction::Inbound, "x", None) };
    assert_eq!(error_kind(&s.append_message(foreign).await), Some(RepoErrorKind::NotFound));
    assert_eq!(db.count_rows("messages").await, 1);
    assert_eq!(s.get_conversation(acme.company_id, acme.conversation_id).await.unwrap().last_sequence, 1);
    // Without a platform, the message takes the conversation's.
    let Appended { message: inherited, .. } = s
        .append_message(NewMessage { platform: None, ..message(&acme, Direction::Outbound, "hi", None) })
        .await
        .unwrap();
    assert_eq!((inherited.platform, inherited.sequence), (Platform::Web, 2));
    assert_eq!(original.platform, Platform::Web);
}
