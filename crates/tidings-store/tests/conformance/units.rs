//! Units of work: writes made through one commit together or not at all.

use std::sync::Arc;
use std::time::Duration;

use tidings_domain::{
    Appended, ContactFields, ContactRepo, ConversationRepo, DeviceRepo, Direction, NewMessage, Platform,
    RepoError, Sender, UnitOfWork,
};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::conversations::app;

backend_tests!(
    a_committed_unit_shows_all_its_writes_at_once,
    an_abandoned_unit_leaves_nothing_behind,
    units_run_nested_transactions_and_queue_behind_each_other,
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
                // The append runs its own transaction, nested inside the unit's.
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
