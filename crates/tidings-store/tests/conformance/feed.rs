//! The change feed: gapless positions under concurrency, one entry per change in order, nothing for
//! writes that change nothing, replays within the company, the inbox catch-up by change time, the
//! sequence-to-position map, contact merges.

use std::sync::Arc;
use std::time::Duration;

use tidings_domain::{
    Appended, ChangeCursor, ChangeKind, CompanyId, ContactFields, ContactRepo, Conversation, ConversationId,
    ConversationPatch, ConversationRepo, ConversationStatus, DeviceRepo, Direction, FeedChange, FeedEntry,
    FeedRepo, MessageId, MessageRepo, MessageStatus, NewMessage, Platform, RepoErrorKind, Sender, UserRepo,
};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::conversations::app;
use crate::error_kind;
use crate::users::new_user;

backend_tests!(
    concurrent_changes_get_gapless_positions,
    the_feed_names_every_change_once_in_order,
    writes_that_change_nothing_record_nothing,
    feeds_and_catch_up_stay_within_the_company,
    changed_conversations_page_by_change_time,
    position_of_sequence_maps_messages_to_their_creation,
    merging_contacts_records_the_moved_conversations,
    a_replay_from_any_position_holds_exactly_what_follows,
);

struct Fixture {
    company_id: CompanyId,
    app_id: tidings_domain::AppId,
    contact_id: tidings_domain::ContactId,
    conversation_id: ConversationId,
}

async fn fixture(db: &TestDb, name: &str) -> Fixture {
    let web = app(db, name).await;
    let d = db.store().device_for(web.company_id, web.id, "dev-1", Platform::Web).await.unwrap();
    let conv = db
        .store()
        .open_conversation(web.company_id, d.contact_id, Some(web.id), Platform::Web)
        .await
        .unwrap();
    Fixture { company_id: web.company_id, app_id: web.id, contact_id: d.contact_id, conversation_id: conv.id }
}

/// Another conversation of the fixture's company, with a contact of its own (behind `device`).
async fn another_conversation(db: &TestDb, f: &Fixture, device: &str) -> Conversation {
    let d = db.store().device_for(f.company_id, f.app_id, device, Platform::Web).await.unwrap();
    db.store().open_conversation(f.company_id, d.contact_id, Some(f.app_id), Platform::Web).await.unwrap()
}

fn message_in(
    company_id: CompanyId,
    conversation_id: ConversationId,
    direction: Direction,
    body: &str,
) -> NewMessage {
    NewMessage {
        company_id,
        conversation_id,
        local_id: None,
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

fn message(f: &Fixture, direction: Direction, body: &str) -> NewMessage {
    message_in(f.company_id, f.conversation_id, direction, body)
}

fn status(status: ConversationStatus) -> ConversationPatch {
    ConversationPatch { status: Some(status), assignee_id: None }
}

/// What a feed entry records, without the message's contents: comparable with what the writes
/// returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Did {
    New(MessageId),
    Updated(MessageId),
    Status,
    Conversation,
}

fn did(entry: &FeedEntry) -> Did {
    match &entry.change {
        FeedChange::MessageNew(m) => Did::New(m.id),
        FeedChange::MessageUpdated(m) => Did::Updated(m.id),
        FeedChange::MessageStatus { .. } => Did::Status,
        FeedChange::ConversationUpdated => Did::Conversation,
    }
}

fn kind(entry: &FeedEntry) -> ChangeKind {
    match &entry.change {
        FeedChange::MessageNew(_) => ChangeKind::MessageNew,
        FeedChange::MessageUpdated(_) => ChangeKind::MessageUpdated,
        FeedChange::MessageStatus { .. } => ChangeKind::MessageStatus,
        FeedChange::ConversationUpdated => ChangeKind::ConversationUpdated,
    }
}

fn positions(entries: &[FeedEntry]) -> Vec<i64> {
    entries.iter().map(|e| e.position).collect()
}

async fn whole_feed(db: &TestDb, company_id: CompanyId, conversation_id: ConversationId) -> Vec<FeedEntry> {
    db.store().feed_after(company_id, conversation_id, 0, 100_000).await.unwrap()
}

/// Far enough apart that two changes never share a change time (SQLite stamps microseconds).
async fn tick() {
    tokio::time::sleep(Duration::from_millis(3)).await;
}

async fn concurrent_changes_get_gapless_positions(db: &TestDb) {
    let f = Arc::new(fixture(db, "Acme").await);
    let store = Arc::new(db.store().clone());
    let mut recorded: Vec<(i64, Did)> = Vec::new();
    let mut appended: Vec<Appended> = Vec::new();
    // Messages to edit and delete while others are appended.
    let mut seeds = Vec::new();
    for i in 0..4 {
        let a = store.append_message(message(&f, Direction::Outbound, &format!("seed {i}"))).await.unwrap();
        recorded.push((a.position, Did::New(a.message.id)));
        seeds.push(a.message.id);
        appended.push(a);
    }

    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (store, f) = (store.clone(), f.clone());
            tokio::spawn(async move {
                let mut mine = Vec::new();
                for i in 0..25 {
                    let direction = if i % 2 == 0 { Direction::Inbound } else { Direction::Outbound };
                    let a = store.append_message(message(&f, direction, &format!("{w}-{i}"))).await.unwrap();
                    assert!(a.created);
                    mine.push(a);
                }
                mine
            })
        })
        .collect();
    let editors: Vec<_> = (0..2)
        .map(|e| {
            let (store, f, id) = (store.clone(), f.clone(), seeds[e]);
            tokio::spawn(async move {
                let mut mine = Vec::new();
                for i in 0..10 {
                    let r = store
                        .edit_message(f.company_id, id, format!("edit {e}-{i}"))
                        .await
                        .unwrap_or_else(|err| panic!("edit {i} of editor {e}: {err:?}"));
                    let position = r.position.expect("an edit always changes the message");
                    mine.push((position, Did::Updated(id)));
                }
                mine
            })
        })
        .collect();
    // Racing deletions of one message: exactly one of them records the deletion.
    let deleters: Vec<_> = (0..3)
        .map(|_| {
            let (store, f, id) = (store.clone(), f.clone(), seeds[3]);
            tokio::spawn(async move {
                let r = store
                    .delete_message(f.company_id, id)
                    .await
                    .unwrap_or_else(|err| panic!("racing deletion: {err:?}"));
                assert!(r.value.deleted_at.is_some());
                r.position.map(|p| (p, Did::Updated(id)))
            })
        })
        .collect();
    let receipts = {
        let (store, f) = (store.clone(), f.clone());
        tokio::spawn(async move {
            let mut mine = Vec::new();
            for i in 0..16 {
                let to = if i % 2 == 0 { MessageStatus::Delivered } else { MessageStatus::Read };
                let r = store
                    .advance_status(f.company_id, f.conversation_id, Direction::Outbound, 1_000, to)
                    .await
                    .unwrap();
                assert_eq!(r.position.is_some(), r.value > 0, "a receipt is recorded when it moves messages");
                if let Some(p) = r.position {
                    mine.push((p, Did::Status));
                }
                tokio::task::yield_now().await;
            }
            mine
        })
    };
    let updater = {
        let (store, f) = (store.clone(), f.clone());
        tokio::spawn(async move {
            let mut mine = Vec::new();
            for i in 0..10 {
                let to = if i % 2 == 0 { ConversationStatus::Pending } else { ConversationStatus::Open };
                let r = store.update_conversation(f.company_id, f.conversation_id, status(to)).await.unwrap();
                assert_eq!(r.value.status, to);
                let position = r.position.expect("each patch changes the status");
                mine.push((position, Did::Conversation));
            }
            mine
        })
    };

    for w in writers {
        let mine = w.await.unwrap();
        assert!(mine.windows(2).all(|p| p[0].position < p[1].position), "a writer's positions grow");
        for a in mine {
            recorded.push((a.position, Did::New(a.message.id)));
            appended.push(a);
        }
    }
    for e in editors {
        let mine = e.await.unwrap();
        assert!(mine.windows(2).all(|p| p[0].0 < p[1].0), "an editor's positions grow");
        recorded.extend(mine);
    }
    let mut deletions = 0;
    for d in deleters {
        if let Some(change) = d.await.unwrap() {
            deletions += 1;
            recorded.push(change);
        }
    }
    assert_eq!(deletions, 1, "one deletion is recorded, the others changed nothing");
    recorded.extend(receipts.await.unwrap());
    recorded.extend(updater.await.unwrap());

    recorded.sort_by_key(|(p, _)| *p);
    let n = i64::try_from(recorded.len()).unwrap();
    assert_eq!(
        recorded.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        (1..=n).collect::<Vec<_>>(),
        "every change took its own position, with no gap"
    );
    let conv = store.get_conversation(f.company_id, f.conversation_id).await.unwrap();
    assert_eq!((conv.last_position, conv.last_sequence), (n, 104));

    let feed = whole_feed(db, f.company_id, f.conversation_id).await;
    assert_eq!(positions(&feed), (1..=n).collect::<Vec<_>>());
    assert_eq!(
        feed.iter().map(|e| (e.position, did(e))).collect::<Vec<_>>(),
        recorded,
        "each position records the change that took it"
    );
    for a in &appended {
        let at =
            store.position_of_sequence(f.company_id, f.conversation_id, a.message.sequence).await.unwrap();
        assert_eq!(at, a.position, "message {} was created at its position", a.message.sequence);
    }
}

async fn the_feed_names_every_change_once_in_order(db: &TestDb) {
    let f = fixture(db, "Acme").await;
    let s = db.store();
    let agent = s.create_user(new_user(f.company_id, "agent@acme.test")).await.unwrap();
    let before = s.get_conversation(f.company_id, f.conversation_id).await.unwrap();
    assert_eq!(before.last_position, 0);
    assert!(whole_feed(db, f.company_id, f.conversation_id).await.is_empty());

    let first = s.append_message(message(&f, Direction::Inbound, "typo")).await.unwrap();
    let reply = s.append_message(message(&f, Direction::Outbound, "hello")).await.unwrap();
    let secret = s
        .append_message(NewMessage {
            attachments: serde_json::json!([{ "url": "https://files.test/secret.png" }]),
            ..message(&f, Direction::Inbound, "secret")
        })
        .await
        .unwrap();
    assert_eq!((first.position, reply.position, secret.position), (1, 2, 3));
    let edited = s.edit_message(f.company_id, first.message.id, "fixed".into()).await.unwrap();
    assert_eq!(edited.position, Some(4));
    let deleted = s.delete_message(f.company_id, secret.message.id).await.unwrap();
    assert_eq!(deleted.position, Some(5));
    let receipt = s
        .advance_status(f.company_id, f.conversation_id, Direction::Outbound, 2, MessageStatus::Read)
        .await
        .unwrap();
    assert_eq!((receipt.value, receipt.position), (1, Some(6)));
    let patch =
        ConversationPatch { status: Some(ConversationStatus::Pending), assignee_id: Some(Some(agent.id)) };
    let updated = s.update_conversation(f.company_id, f.conversation_id, patch).await.unwrap();
    assert_eq!(updated.position, Some(7));
    assert_eq!(
        (updated.value.status, updated.value.assignee_id),
        (ConversationStatus::Pending, Some(agent.id))
    );
    assert_eq!(updated.value.last_position, 7, "the returned conversation has its new position");

    let feed = whole_feed(db, f.company_id, f.conversation_id).await;
    assert_eq!(positions(&feed), (1..=7).collect::<Vec<_>>());
    assert_eq!(
        feed.iter().map(kind).collect::<Vec<_>>(),
        [
            ChangeKind::MessageNew,
            ChangeKind::MessageNew,
            ChangeKind::MessageNew,
            ChangeKind::MessageUpdated,
            ChangeKind::MessageUpdated,
            ChangeKind::MessageStatus,
            ChangeKind::ConversationUpdated,
        ]
    );
    assert_eq!(
        feed.iter().map(did).collect::<Vec<_>>(),
        [
            Did::New(first.message.id),
            Did::New(reply.message.id),
            Did::New(secret.message.id),
            Did::Updated(first.message.id),
            Did::Updated(secret.message.id),
            Did::Status,
            Did::Conversation,
        ]
    );
    assert_eq!(
        feed[5].change,
        FeedChange::MessageStatus {
            direction: Direction::Outbound,
            status: MessageStatus::Read,
            up_to_sequence: 2
        }
    );
    assert!(feed.windows(2).all(|p| p[0].recorded_at <= p[1].recorded_at), "recorded in order");
    // Every message entry shows the message as it is now: edited, read, deleted.
    for entry in &feed {
        let (FeedChange::MessageNew(m) | FeedChange::MessageUpdated(m)) = &entry.change else { continue };
        let now = s.get_message(f.company_id, m.id).await.unwrap();
        assert_eq!(m, &now, "entry {} shows the message as it is now", entry.position);
    }
    let FeedChange::MessageNew(created) = &feed[0].change else { panic!("{:?}", feed[0]) };
    assert_eq!((created.body.as_str(), created.edited_at.is_some()), ("fixed", true));
    let FeedChange::MessageNew(read) = &feed[1].change else { panic!("{:?}", feed[1]) };
    assert_eq!(read.status, MessageStatus::Read);
    let FeedChange::MessageNew(gone) = &feed[2].change else { panic!("{:?}", feed[2]) };
    assert!(
        gone.body.is_empty() && gone.deleted_at.is_some(),
        "a replay never revives deleted text: {gone:?}"
    );
    assert_eq!(gone.attachments, serde_json::json!([]));

    let after = |after, limit| s.feed_after(f.company_id, f.conversation_id, after, limit);
    assert_eq!(positions(&after(4, 100).await.unwrap()), [5, 6, 7]);
    assert_eq!(positions(&after(0, 2).await.unwrap()), [1, 2]);
    assert_eq!(positions(&after(3, 2).await.unwrap()), [4, 5]);
    assert_eq!(after(6, 100).await.unwrap(), feed[6..].to_vec());
    assert!(after(7, 100).await.unwrap().is_empty());
    assert!(after(70, 100).await.unwrap().is_empty());

    let conv = s.get_conversation(f.company_id, f.conversation_id).await.unwrap();
    assert_eq!(conv.last_position, 7);
    assert!(conv.changed_at >= before.changed_at);
}

async fn writes_that_change_nothing_record_nothing(db: &TestDb) {
    let f = fixture(db, "Acme").await;
    let s = db.store();
    let agent = s.create_user(new_user(f.company_id, "agent@acme.test")).await.unwrap();
    let out = s
        .append_message(NewMessage { local_id: Some("l-1".into()), ..message(&f, Direction::Outbound, "hi") })
        .await
        .unwrap();
    let inbound = s.append_message(message(&f, Direction::Inbound, "hello")).await.unwrap();
    let read = s
        .advance_status(f.company_id, f.conversation_id, Direction::Outbound, 1, MessageStatus::Read)
        .await
        .unwrap();
    assert_eq!((read.value, read.position), (1, Some(3)));
    let gone = s.delete_message(f.company_id, inbound.message.id).await.unwrap();
    assert_eq!(gone.position, Some(4));
    let assigned = s
        .update_conversation(
            f.company_id,
            f.conversation_id,
            ConversationPatch { status: None, assignee_id: Some(Some(agent.id)) },
        )
        .await
        .unwrap();
    assert_eq!(assigned.position, Some(5));
    let before = s.get_conversation(f.company_id, f.conversation_id).await.unwrap();
    assert_eq!(before.last_position, 5);
    tick().await;

    let nothing = |r: Option<i64>, what: &str| assert_eq!(r, None, "{what} records nothing");
    // A retry of a stored message: the original, at its position.
    let retry = s
        .append_message(NewMessage { local_id: Some("l-1".into()), ..message(&f, Direction::Outbound, "hi") })
        .await
        .unwrap();
    assert_eq!((retry.created, retry.position, retry.message.id), (false, 1, out.message.id));
    // Receipts that move no message.
    for (direction, up_to, to) in [
        (Direction::Outbound, 1, MessageStatus::Read),
        (Direction::Outbound, 1, MessageStatus::Delivered),
        (Direction::Outbound, 0, MessageStatus::Read),
        (Direction::Inbound, 1, MessageStatus::Sent),
        (Direction::Outbound, 99, MessageStatus::Sent),
    ] {
        let r = s.advance_status(f.company_id, f.conversation_id, direction, up_to, to).await.unwrap();
        assert_eq!(r.value, 0, "{direction} up to {up_to} to {to}");
        nothing(r.position, "a receipt that moves nothing");
    }
    // Deleting a deleted message, editing it.
    let again = s.delete_message(f.company_id, inbound.message.id).await.unwrap();
    nothing(again.position, "a second deletion");
    assert_eq!(again.value, gone.value, "the deleted message, as it was");
    assert_eq!(
        error_kind(&s.edit_message(f.company_id, inbound.message.id, "back".into()).await),
        Some(RepoErrorKind::Conflict)
    );
    // Patches that set what is already set.
    for patch in [
        status(ConversationStatus::Open),
        ConversationPatch { status: None, assignee_id: Some(Some(agent.id)) },
        ConversationPatch { status: Some(ConversationStatus::Open), assignee_id: Some(Some(agent.id)) },
        ConversationPatch::default(),
    ] {
        let r = s.update_conversation(f.company_id, f.conversation_id, patch.clone()).await.unwrap();
        nothing(r.position, &format!("{patch:?}"));
        assert_eq!(r.value, before, "{patch:?} left the conversation as it was");
    }

    let after = s.get_conversation(f.company_id, f.conversation_id).await.unwrap();
    assert_eq!(after, before, "neither the position nor the change time moved");
    assert_eq!(positions(&whole_feed(db, f.company_id, f.conversation_id).await), [1, 2, 3, 4, 5]);
    // The next change takes the next position.
    let unassigned = s
        .update_conversation(
            f.company_id,
            f.conversation_id,
            ConversationPatch { status: None, assignee_id: Some(None) },
        )
        .await
        .unwrap();
    assert_eq!((unassigned.position, unassigned.value.assignee_id), (Some(6), None));
    let r = s
        .update_conversation(
            f.company_id,
            f.conversation_id,
            ConversationPatch { status: None, assignee_id: Some(None) },
        )
        .await
        .unwrap();
    nothing(r.position, "unassigning an unassigned conversation");
    assert_eq!(s.get_conversation(f.company_id, f.conversation_id).await.unwrap().last_position, 6);
}

async fn feeds_and_catch_up_stay_within_the_company(db: &TestDb) {
    let acme = fixture(db, "Acme").await;
    let globex = fixture(db, "Globex").await;
    let s = db.store();
    let first = s.append_message(message(&acme, Direction::Outbound, "secret")).await.unwrap();
    s.append_message(message(&acme, Direction::Inbound, "reply")).await.unwrap();
    s.update_conversation(acme.company_id, acme.conversation_id, status(ConversationStatus::Pending))
        .await
        .unwrap();
    s.append_message(message(&globex, Direction::Inbound, "theirs")).await.unwrap();
    let acme_before = s.get_conversation(acme.company_id, acme.conversation_id).await.unwrap();
    let acme_feed = whole_feed(db, acme.company_id, acme.conversation_id).await;
    assert_eq!(positions(&acme_feed), [1, 2, 3]);

    for stranger in [globex.company_id, CompanyId::new()] {
        assert!(s.feed_after(stranger, acme.conversation_id, 0, 100).await.unwrap().is_empty());
        for sequence in [0, 1, 2, 99] {
            assert_eq!(s.position_of_sequence(stranger, acme.conversation_id, sequence).await.unwrap(), 0);
        }
        let page = s.changed_conversations(stranger, None, 100).await.unwrap();
        assert!(page.conversations.iter().all(|c| c.company_id == stranger), "{page:?}");
        assert!(page.conversations.iter().all(|c| c.id != acme.conversation_id));
    }
    let theirs = s.changed_conversations(globex.company_id, None, 100).await.unwrap();
    assert_eq!(theirs.conversations.iter().map(|c| c.id).collect::<Vec<_>>(), [globex.conversation_id]);
    let cursor = ChangeCursor { changed_at: chrono::DateTime::UNIX_EPOCH, id: None };
    let theirs = s.changed_conversations(globex.company_id, Some(cursor), 100).await.unwrap();
    assert_eq!(theirs.conversations.iter().map(|c| c.id).collect::<Vec<_>>(), [globex.conversation_id]);
    let ours = s.changed_conversations(acme.company_id, None, 100).await.unwrap();
    assert_eq!(ours.conversations, std::slice::from_ref(&acme_before));
    // Globex's own conversation's feed is its own.
    assert_eq!(
        whole_feed(db, globex.company_id, globex.conversation_id).await.iter().map(kind).collect::<Vec<_>>(),
        [ChangeKind::MessageNew]
    );
    assert!(s.feed_after(acme.company_id, globex.conversation_id, 0, 100).await.unwrap().is_empty());

    // Writes through Globex's id on Acme's conversation fail or change nothing.
    let foreign = NewMessage { company_id: globex.company_id, ..message(&acme, Direction::Inbound, "x") };
    assert_eq!(error_kind(&s.append_message(foreign).await), Some(RepoErrorKind::NotFound));
    assert_eq!(
        error_kind(&s.edit_message(globex.company_id, first.message.id, "x".into()).await),
        Some(RepoErrorKind::NotFound)
    );
    assert_eq!(
        error_kind(&s.delete_message(globex.company_id, first.message.id).await),
        Some(RepoErrorKind::NotFound)
    );
    let receipt = s
        .advance_status(globex.company_id, acme.conversation_id, Direction::Outbound, 9, MessageStatus::Read)
        .await
        .unwrap();
    assert_eq!((receipt.value, receipt.position), (0, None));
    assert_eq!(
        error_kind(
            &s.update_conversation(globex.company_id, acme.conversation_id, status(ConversationStatus::Open))
                .await
        ),
        Some(RepoErrorKind::NotFound)
    );
    let globex_contact = s.create_contact(globex.company_id, ContactFields::default()).await.unwrap();
    s.merge_contacts(globex.company_id, acme.contact_id, globex_contact.id).await.unwrap();

    let acme_after = s.get_conversation(acme.company_id, acme.conversation_id).await.unwrap();
    assert_eq!(acme_after, acme_before, "no position taken, nothing changed");
    assert_eq!(whole_feed(db, acme.company_id, acme.conversation_id).await, acme_feed);
    let message = s.get_message(acme.company_id, first.message.id).await.unwrap();
    assert_eq!((message.body.as_str(), message.status), ("secret", MessageStatus::Sent));
}

async fn changed_conversations_page_by_change_time(db: &TestDb) {
    let f = fixture(db, "Acme").await;
    let globex = fixture(db, "Globex").await;
    let s = db.store();
    let a = s.get_conversation(f.company_id, f.conversation_id).await.unwrap();
    tick().await;
    let b = another_conversation(db, &f, "dev-b").await;
    tick().await;
    let c = another_conversation(db, &f, "dev-c").await;
    let ids = |page: &[Conversation]| page.iter().map(|c| c.id).collect::<Vec<_>>();
    let changed = |after, limit| s.changed_conversations(f.company_id, after, limit);
    assert_eq!(ids(&changed(None, 10).await.unwrap().conversations), [a.id, b.id, c.id], "creations");

    // Changes in the order b, c, a: a message, an assignment, a message.
    tick().await;
    s.append_message(message_in(f.company_id, b.id, Direction::Outbound, "to b")).await.unwrap();
    tick().await;
    s.update_conversation(f.company_id, c.id, status(ConversationStatus::Pending)).await.unwrap();
    tick().await;
    s.append_message(message_in(f.company_id, a.id, Direction::Inbound, "from a")).await.unwrap();
    s.append_message(message_in(globex.company_id, globex.conversation_id, Direction::Inbound, "x"))
        .await
        .unwrap();

    let page = changed(None, 10).await.unwrap();
    assert_eq!(ids(&page.conversations), [b.id, c.id, a.id], "oldest change first, no other company's");
    assert!(page.conversations.windows(2).all(|p| p[0].changed_at < p[1].changed_at));
    assert!(page.conversations.iter().all(|c| c.changed_at <= page.clock), "{page:?}");
    assert!(page.clock <= s.feed_clock().await.unwrap(), "the clock does not go back");
    let listed = page.conversations;

    // Paging one at a time walks each once.
    let mut walked = Vec::new();
    let mut cursor = None;
    loop {
        let page = changed(cursor, 1).await.unwrap();
        assert!(page.conversations.iter().all(|c| c.changed_at <= page.clock));
        let Some(last) = page.conversations.last() else { break };
        cursor = Some(ChangeCursor { changed_at: last.changed_at, id: Some(last.id) });
        walked.extend(ids(&page.conversations));
        assert!(walked.len() <= 3, "paging does not repeat: {walked:?}");
    }
    assert_eq!(walked, [b.id, c.id, a.id]);
    // A cursor without an id includes the conversations changed exactly at its time.
    let at_c = ChangeCursor { changed_at: listed[1].changed_at, id: None };
    assert_eq!(ids(&changed(Some(at_c), 10).await.unwrap().conversations), [c.id, a.id]);
    let after_c = ChangeCursor { id: Some(c.id), ..at_c };
    assert_eq!(ids(&changed(Some(after_c), 10).await.unwrap().conversations), [a.id]);
    let after_a = ChangeCursor { changed_at: listed[2].changed_at, id: Some(a.id) };
    assert!(changed(Some(after_a), 10).await.unwrap().conversations.is_empty());

    // A write that changes nothing moves nothing; a receipt on the oldest moves it to the end.
    tick().await;
    let nothing =
        s.advance_status(f.company_id, b.id, Direction::Outbound, 1, MessageStatus::Sent).await.unwrap();
    assert_eq!(nothing.position, None);
    assert_eq!(ids(&changed(None, 10).await.unwrap().conversations), [b.id, c.id, a.id]);
    let receipt =
        s.advance_status(f.company_id, b.id, Direction::Outbound, 1, MessageStatus::Delivered).await.unwrap();
    assert_eq!(receipt.position, Some(2));
    let page = changed(None, 10).await.unwrap();
    assert_eq!(ids(&page.conversations), [c.id, a.id, b.id]);
    let b_now = &page.conversations[2];
    assert!(b_now.changed_at > listed[2].changed_at, "{b_now:?} after {:?}", listed[2]);
    assert!(page.conversations.iter().all(|c| c.changed_at <= page.clock));
    // Caught up after a: the receipt on b comes next.
    assert_eq!(ids(&changed(Some(after_a), 10).await.unwrap().conversations), [b.id]);

    // Two conversations changed at the same time are ordered by id, and paging walks both once.
    db.execute(&format!(
        "UPDATE conversations SET changed_at = (SELECT changed_at FROM conversations WHERE id = '{}') \
         WHERE id = '{}'",
        a.id, c.id
    ))
    .await
    .unwrap();
    let (low, high) = if a.id < c.id { (a.id, c.id) } else { (c.id, a.id) };
    let page = changed(None, 10).await.unwrap();
    assert_eq!(ids(&page.conversations), [low, high, b.id]);
    let tie = page.conversations[0].changed_at;
    assert_eq!(page.conversations[1].changed_at, tie);
    let first = changed(None, 1).await.unwrap().conversations;
    assert_eq!(ids(&first), [low]);
    let next = changed(Some(ChangeCursor { changed_at: tie, id: Some(low) }), 1).await.unwrap().conversations;
    assert_eq!(ids(&next), [high], "the other conversation of the same time is not skipped");
    let next =
        changed(Some(ChangeCursor { changed_at: tie, id: Some(high) }), 1).await.unwrap().conversations;
    assert_eq!(ids(&next), [b.id]);
    let at_tie = changed(Some(ChangeCursor { changed_at: tie, id: None }), 10).await.unwrap();
    assert_eq!(ids(&at_tie.conversations), [low, high, b.id]);
}

async fn position_of_sequence_maps_messages_to_their_creation(db: &TestDb) {
    let f = fixture(db, "Acme").await;
    let s = db.store();
    let at = |sequence| s.position_of_sequence(f.company_id, f.conversation_id, sequence);
    assert_eq!(at(0).await.unwrap(), 0);
    assert_eq!(at(5).await.unwrap(), 0, "no message yet");

    s.update_conversation(f.company_id, f.conversation_id, status(ConversationStatus::Pending))
        .await
        .unwrap();
    let m1 = s.append_message(message(&f, Direction::Outbound, "one")).await.unwrap();
    s.advance_status(f.company_id, f.conversation_id, Direction::Outbound, 1, MessageStatus::Delivered)
        .await
        .unwrap();
    s.update_conversation(f.company_id, f.conversation_id, status(ConversationStatus::Open)).await.unwrap();
    let m2 = s.append_message(message(&f, Direction::Inbound, "two")).await.unwrap();
    s.edit_message(f.company_id, m1.message.id, "one!".into()).await.unwrap();
    let m3 = s.append_message(message(&f, Direction::Outbound, "three")).await.unwrap();
    s.delete_message(f.company_id, m2.message.id).await.unwrap();
    s.advance_status(f.company_id, f.conversation_id, Direction::Outbound, 3, MessageStatus::Read)
        .await
        .unwrap();
    let appended = [&m1, &m2, &m3];
    assert_eq!(appended.map(|a| (a.message.sequence, a.position)), [(1, 2), (2, 5), (3, 7)]);

    let feed = whole_feed(db, f.company_id, f.conversation_id).await;
    assert_eq!(positions(&feed), (1..=9).collect::<Vec<_>>());
    for a in appended {
        assert_eq!(at(a.message.sequence).await.unwrap(), a.position, "sequence {}", a.message.sequence);
        let entry = &feed[usize::try_from(a.position - 1).unwrap()];
        assert_eq!(did(entry), Did::New(a.message.id), "its creation is at its position");
    }
    assert_eq!(at(0).await.unwrap(), 0);
    assert_eq!(at(-1).await.unwrap(), 0);
    assert_eq!(at(4).await.unwrap(), m3.position, "above the last: the last message's");
    assert_eq!(at(i64::MAX).await.unwrap(), m3.position);
    let m4 = s.append_message(message(&f, Direction::Inbound, "four")).await.unwrap();
    assert_eq!((m4.message.sequence, m4.position), (4, 10));
    assert_eq!(at(4).await.unwrap(), 10);
    assert_eq!(at(3).await.unwrap(), 7, "an earlier sequence keeps its position");
}

async fn merging_contacts_records_the_moved_conversations(db: &TestDb) {
    let f = fixture(db, "Acme").await;
    let s = db.store();
    let known = s.create_contact(f.company_id, ContactFields::default()).await.unwrap();
    let kept = s.open_conversation(f.company_id, known.id, Some(f.app_id), Platform::Web).await.unwrap();
    s.append_message(message_in(f.company_id, kept.id, Direction::Inbound, "known")).await.unwrap();
    // The device's contact: its open conversation on the app (which collides with `kept`), with
    // changes already, and one without an app.
    let anon = f.conversation_id;
    s.append_message(message(&f, Direction::Inbound, "anon 1")).await.unwrap();
    s.append_message(message(&f, Direction::Inbound, "anon 2")).await.unwrap();
    s.update_conversation(f.company_id, anon, status(ConversationStatus::Pending)).await.unwrap();
    let ios = s.open_conversation(f.company_id, f.contact_id, None, Platform::Ios).await.unwrap();
    assert_ne!(ios.id, anon);
    let anon_before = s.get_conversation(f.company_id, anon).await.unwrap();
    let kept_before = s.get_conversation(f.company_id, kept.id).await.unwrap();
    assert_eq!((anon_before.last_position, kept_before.last_position, ios.last_position), (3, 1, 0));
    tick().await;

    s.merge_contacts(f.company_id, f.contact_id, known.id).await.unwrap();

    let anon_after = s.get_conversation(f.company_id, anon).await.unwrap();
    assert_eq!(
        (anon_after.contact_id, anon_after.status, anon_after.last_position),
        (known.id, ConversationStatus::Resolved, 4)
    );
    assert!(anon_after.changed_at > anon_before.changed_at);
    let entries = s.feed_after(f.company_id, anon, 3, 100).await.unwrap();
    assert_eq!(entries.iter().map(|e| (e.position, did(e))).collect::<Vec<_>>(), [(4, Did::Conversation)]);
    assert_eq!(positions(&whole_feed(db, f.company_id, anon).await), [1, 2, 3, 4]);

    let ios_after = s.get_conversation(f.company_id, ios.id).await.unwrap();
    assert_eq!((ios_after.contact_id, ios_after.last_position), (known.id, 1));
    let entries = whole_feed(db, f.company_id, ios.id).await;
    assert_eq!(entries.iter().map(|e| (e.position, did(e))).collect::<Vec<_>>(), [(1, Did::Conversation)]);

    // The conversation that was the known contact's already did not change.
    assert_eq!(s.get_conversation(f.company_id, kept.id).await.unwrap(), kept_before);
    assert_eq!(positions(&whole_feed(db, f.company_id, kept.id).await), [1]);

    // The moved conversations are the newest changes of the company.
    let page = s.changed_conversations(f.company_id, None, 10).await.unwrap();
    let listed: Vec<ConversationId> = page.conversations.iter().map(|c| c.id).collect();
    assert_eq!(listed[0], kept.id);
    let mut moved = listed[1..].to_vec();
    moved.sort();
    let mut expected = vec![anon, ios.id];
    expected.sort();
    assert_eq!(moved, expected);

    // Merging a contact that has no conversation changes no feed.
    let other = s.create_contact(f.company_id, ContactFields::default()).await.unwrap();
    s.merge_contacts(f.company_id, other.id, known.id).await.unwrap();
    assert_eq!(s.get_conversation(f.company_id, anon).await.unwrap(), anon_after);
    assert_eq!(s.get_conversation(f.company_id, ios.id).await.unwrap(), ios_after);

    // Merging the contact back moves both conversations again, each to its next position.
    let again = s.create_contact(f.company_id, ContactFields::default()).await.unwrap();
    s.merge_contacts(f.company_id, known.id, again.id).await.unwrap();
    for (id, position) in [(anon, 5), (ios.id, 2), (kept.id, 2)] {
        let conv = s.get_conversation(f.company_id, id).await.unwrap();
        assert_eq!((conv.contact_id, conv.last_position), (again.id, position));
        let last = s.feed_after(f.company_id, id, position - 1, 10).await.unwrap();
        assert_eq!(
            last.iter().map(|e| (e.position, did(e))).collect::<Vec<_>>(),
            [(position, Did::Conversation)]
        );
    }
}

/// Messages and other changes interleaved in runs of different lengths: from every position, a replay
/// holds exactly the later positions, each once, whether the position is a message's or a change's.
async fn a_replay_from_any_position_holds_exactly_what_follows(db: &TestDb) {
    let f = fixture(db, "Acme").await;
    let s = db.store();
    let mut statuses = [ConversationStatus::Pending, ConversationStatus::Open].into_iter().cycle();
    for (messages, changes) in [(3, 1), (0, 2), (1, 0), (2, 3), (1, 1), (4, 0), (0, 1)] {
        for i in 0..messages {
            s.append_message(message(&f, Direction::Inbound, &format!("m{i}"))).await.unwrap();
        }
        for _ in 0..changes {
            let next = statuses.next().unwrap();
            s.update_conversation(f.company_id, f.conversation_id, status(next)).await.unwrap();
        }
    }
    let last = s.get_conversation(f.company_id, f.conversation_id).await.unwrap().last_position;
    assert_eq!(last, 19);
    for after in 0..=last + 2 {
        let replay = s.feed_after(f.company_id, f.conversation_id, after, 100).await.unwrap();
        let want: Vec<i64> = (after + 1..=last).collect();
        assert_eq!(positions(&replay), want, "after {after}");
        let few = s.feed_after(f.company_id, f.conversation_id, after, 2).await.unwrap();
        assert_eq!(positions(&few), want.iter().copied().take(2).collect::<Vec<_>>(), "after {after}, two");
    }
}
