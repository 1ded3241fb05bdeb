//! Units of work: writes made through one commit together or not at all.

use std::sync::Arc;
use std::time::Duration;

use tidings_domain::{
    Appended, ContactFields, ContactRepo, ConversationRepo, DeviceRepo, Direction, LOCAL_ID_TAKEN,
    MessageRepo, NewMessage, Platform, RepoError, Sender, UnitOfWork,
};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::conversations::app;

backend_tests!(
    a_committed_unit_shows_all_its_writes_at_once,
    an_abandoned_unit_leaves_nothing_behind,
    units_run_nested_transactions_and_queue_behind_each_other,
    a_used_local_id_spoils_the_unit_and_leaves_nothing_behind,
);

fn named(name: &str) -> ContactFields {
    ContactFields { name: Some(name.into()), ..ContactFields::default() }
}

async fn a_committed_unit_shows_all_its_writes_at_once(db: &TestDb) {
    let web = app(db, "Acme").await;
    let store = db.store();
    let unit = UnitOfWork::begin(store).await.unwrap();
    let ada = unit.create_contact(web.company_id, named("Ada")).await.unwrap();
    let bob = unit.create_contact(web.company_id, named("Bob")).await.unwrap();
    assert_eq!(unit.get_contact(web.company_id, ada.id).await.unwrap().name.as_deref(), Some("Ada"));
    assert!(
        store.get_contact(web.company_id, ada.id).await.as_ref().is_err_and(|e| e.is_not_found()),
        "nothing is visible outside before the commit"
    );
    unit.commit().await.unwrap();
    for id in [ada.id, bob.id] {
        store.get_contact(web.company_id, id).await.unwrap();
    }
}

async fn an_abandoned_unit_leaves_nothing_behind(db: &TestDb) {
    let web = app(db, "Acme").await;
    let store = db.store();
    let before = db.count_rows("contacts").await;

    let unit = UnitOfWork::begin(store).await.unwrap();
    unit.create_contact(web.company_id, named("Ada")).await.unwrap();
    drop(unit);

    // A unit whose second write fails is dropped by its caller: the first goes too.
    let unit = UnitOfWork::begin(store).await.unwrap();
    unit.create_contact(web.company_id, named("Bob")).await.unwrap();
    let foreign = unit.get_conversation(web.company_id, tidings_domain::ConversationId::new()).await;
    assert!(foreign.as_ref().is_err_and(|e| e.is_not_found()));
    drop(unit);

    // The rollbacks run on tasks of their own, right after the drops.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while db.count_rows("contacts").await != before && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(db.count_rows("contacts").await, before, "neither unit left a contact");
    // Their connections went back to the pool in a usable state.
    for n in 0..20 {
        store.create_contact(web.company_id, named(&format!("after {n}"))).await.unwrap();
    }
    assert_eq!(db.count_rows("contacts").await, before + 20);
}

async fn units_run_nested_transactions_and_queue_behind_each_other(db: &TestDb) {
    let web = app(db, "Acme").await;
    let store = Arc::new(db.store().clone());
    let device = store.device_for(web.company_id, web.id, "dev-1", Platform::Web).await.unwrap();
    let conv = store
        .open_conversation(web.company_id, device.contact_id, Some(web.id), Platform::Web)
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let unit = UnitOfWork::begin(&*store).await?;
                // The append runs inside the unit's transaction, all-or-nothing with it.
                let Appended { message, .. } = unit
                    .append_message(NewMessage {
                        company_id: web.company_id,
                        conversation_id: conv.id,
                        local_id: Some(format!("unit-{n}")),
                        sender: Sender::Contact,
                        author_id: None,
                        direction: Direction::Inbound,
                        platform: None,
                        body: format!("hello {n}"),
                        attachments: serde_json::json!([]),
                        awaiting_forward: false,
                        uploads: Vec::new(),
                    })
                    .await?;
                unit.create_contact(web.company_id, named(&format!("c{n}"))).await?;
                unit.commit().await?;
                Ok::<_, RepoError>(message.sequence)
            })
        })
        .collect();
    let mut sequences = Vec::new();
    for task in tasks {
        sequences.push(task.await.unwrap().unwrap());
    }
    sequences.sort();
    assert_eq!(sequences, (1..=8).collect::<Vec<_>>(), "concurrent units serialize, gapless");
    assert_eq!(store.get_conversation(web.company_id, conv.id).await.unwrap().last_sequence, 8);
}

async fn a_used_local_id_spoils_the_unit_and_leaves_nothing_behind(db: &TestDb) {
    let f = crate::messages::fixture(db, "Acme").await;
    let store = db.store();
    let first =
        store.append_message(crate::messages::message(&f, Direction::Inbound, "hi", Some("l-1"))).await;
    assert_eq!(first.unwrap().message.sequence, 1);
    let contacts = db.count_rows("contacts").await;

    let unit = UnitOfWork::begin(store).await.unwrap();
    unit.create_contact(f.company_id, named("Ada")).await.unwrap();
    let again =
        unit.append_message(crate::messages::message(&f, Direction::Inbound, "hi", Some("l-1"))).await;
    assert_eq!(again.as_ref().err().and_then(RepoError::constraint), Some(LOCAL_ID_TAKEN), "{again:?}");
    // The unit has bumped the conversation's counters: committing it would leave a gap.
    let refused = unit.commit().await;
    assert!(refused.is_err(), "a spoiled unit cannot commit");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while db.count_rows("contacts").await != contacts && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(db.count_rows("contacts").await, contacts, "the unit's other write is gone too");
    let next = store.append_message(crate::messages::message(&f, Direction::Inbound, "next", None)).await;
    assert_eq!(next.unwrap().message.sequence, 2, "no number was skipped");
    // Outside a unit, the same retry answers the original.
    let retry =
        store.append_message(crate::messages::message(&f, Direction::Inbound, "hi", Some("l-1"))).await;
    let retry = retry.unwrap();
    assert!(!retry.created);
    assert_eq!(retry.message.sequence, 1);
}
