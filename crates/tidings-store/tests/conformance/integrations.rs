//! Integrations and what social platforms bring: settings replaced whole and kept per company, a
//! page belonging to one company, contacts found by social id under races, forwards settling a
//! pending message's status in the feed, and the times the messaging policy reads.

use std::sync::Arc;

use chrono::{Duration, Utc};
use tidings_domain::{
    CompanyId, ContactRepo, ConversationRepo, Direction, FeedChange, FeedRepo, Integration, IntegrationKind,
    IntegrationLookup, IntegrationRepo, LookupKey, MessageRepo, MessageStatus, NewMessage, NewOutboxItem,
    OutboxKind, Platform, RepoErrorKind, Sender, UnitOfWork,
};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::conversations::app;
use crate::error_kind;

backend_tests!(
    integrations_are_replaced_whole_and_found_by_their_ids,
    a_page_belongs_to_one_company,
    racing_webhooks_find_one_contact_per_social_id,
    a_settled_forward_moves_a_pending_message_once_and_is_in_the_feed,
    the_policy_reads_the_last_inbound_time_per_platform,
    a_forward_enqueued_in_an_abandoned_unit_is_gone_with_its_message,
);

fn meta(company_id: CompanyId, page: Option<&str>, digest: Option<&str>) -> Integration {
    Integration {
        company_id,
        kind: IntegrationKind::Meta,
        config: serde_json::json!({ "page_id": page }),
        secrets: Some("k1.c2VhbGVk".into()),
        key_id: Some("k1".into()),
        lookup: IntegrationLookup {
            page_id: page.map(str::to_owned),
            instagram_account_id: None,
            verify_token_digest: digest.map(str::to_owned),
        },
        updated_at: Utc::now(),
    }
}

async fn integrations_are_replaced_whole_and_found_by_their_ids(db: &TestDb) {
    let acme = app(db, "Acme").await.company_id;
    let globex = app(db, "Globex").await.company_id;
    let s = db.store();
    assert_eq!(s.get_integration(acme, IntegrationKind::Meta).await.unwrap(), None);
    s.put_integration(meta(acme, Some("page-1"), Some("d1"))).await.unwrap();
    let replaced = s.put_integration(meta(acme, Some("page-2"), None)).await.unwrap();
    assert_eq!(replaced.lookup.page_id.as_deref(), Some("page-2"));
    assert_eq!(replaced.lookup.verify_token_digest, None, "a put replaces every field");
    assert_eq!(s.get_integration(acme, IntegrationKind::Meta).await.unwrap(), Some(replaced.clone()));
    assert_eq!(s.get_integration(globex, IntegrationKind::Meta).await.unwrap(), None, "per company");
    let by_page = s.find_integrations(IntegrationKind::Meta, LookupKey::PageId("page-2")).await.unwrap();
    assert_eq!(by_page.iter().map(|i| i.company_id).collect::<Vec<_>>(), vec![acme]);
    assert!(
        s.find_integrations(IntegrationKind::Meta, LookupKey::PageId("page-1")).await.unwrap().is_empty()
    );
    s.put_integration(meta(globex, Some("page-3"), Some("d1"))).await.unwrap();
    let by_digest =
        s.find_integrations(IntegrationKind::Meta, LookupKey::VerifyTokenDigest("d1")).await.unwrap();
    assert_eq!(by_digest.iter().map(|i| i.company_id).collect::<Vec<_>>(), vec![globex]);
    assert_eq!(s.list_integrations(IntegrationKind::Meta).await.unwrap().len(), 2);
}

async fn a_page_belongs_to_one_company(db: &TestDb) {
    let acme = app(db, "Acme").await.company_id;
    let globex = app(db, "Globex").await.company_id;
    let s = db.store();
    s.put_integration(meta(acme, Some("page-1"), None)).await.unwrap();
    let taken = s.put_integration(meta(globex, Some("page-1"), None)).await;
    assert_eq!(error_kind(&taken), Some(RepoErrorKind::Conflict));
    assert_eq!(s.get_integration(globex, IntegrationKind::Meta).await.unwrap(), None, "nothing stored");
    let found = s.find_integrations(IntegrationKind::Meta, LookupKey::PageId("page-1")).await.unwrap();
    assert_eq!(found[0].company_id, acme, "the page stays with its company");
}

async fn racing_webhooks_find_one_contact_per_social_id(db: &TestDb) {
    let acme = app(db, "Acme").await.company_id;
    let globex = app(db, "Globex").await.company_id;
    let store = Arc::new(db.store().clone());
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.social_contact(acme, Platform::Facebook, "psid-1").await })
        })
        .collect();
    let mut ids = Vec::new();
    for racer in racers {
        ids.push(racer.await.unwrap().unwrap().id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one contact for one social id");
    let contact = store.get_contact(acme, ids[0]).await.unwrap();
    assert_eq!(contact.facebook_id.as_deref(), Some("psid-1"));
    let on_instagram = store.social_contact(acme, Platform::Instagram, "psid-1").await.unwrap();
    assert_ne!(on_instagram.id, contact.id, "ids are per platform");
    let elsewhere = store.social_contact(globex, Platform::Facebook, "psid-1").await.unwrap();
    assert_ne!(elsewhere.id, contact.id, "and per company");
    assert_eq!(
        error_kind(&store.social_contact(acme, Platform::Web, "x").await),
        Some(RepoErrorKind::Internal)
    );
}

fn outbound(company_id: CompanyId, conversation: tidings_domain::ConversationId, body: &str) -> NewMessage {
    NewMessage {
        company_id,
        conversation_id: conversation,
        local_id: None,
        sender: Sender::Agent,
        author_id: None,
        direction: Direction::Outbound,
        platform: None,
        body: body.into(),
        attachments: serde_json::json!([]),
        awaiting_forward: true,
        uploads: Vec::new(),
    }
}

async fn a_settled_forward_moves_a_pending_message_once_and_is_in_the_feed(db: &TestDb) {
    let acme = app(db, "Acme").await.company_id;
    let globex = app(db, "Globex").await.company_id;
    let s = db.store();
    let contact = s.social_contact(acme, Platform::Facebook, "psid-1").await.unwrap();
    let conv = s.open_conversation(acme, contact.id, None, Platform::Facebook).await.unwrap();
    let first = s.append_message(outbound(acme, conv.id, "one")).await.unwrap();
    assert_eq!(first.message.status, MessageStatus::Pending);
    assert_eq!(first.message.platform, Platform::Facebook);

    let foreign = s.settle_forward(globex, first.message.id, MessageStatus::Sent).await.unwrap();
    assert_eq!(foreign.value, None, "another company's message is not touched");
    let sent = s.settle_forward(acme, first.message.id, MessageStatus::Sent).await.unwrap();
    assert_eq!(sent.value.as_ref().map(|m| m.status), Some(MessageStatus::Sent));
    let position = sent.position.unwrap();
    let again = s.settle_forward(acme, first.message.id, MessageStatus::Failed).await.unwrap();
    assert_eq!((again.value, again.position), (None, None), "a settled message is not pending");
    let feed = s.feed_after(acme, conv.id, first.position, 10).await.unwrap();
    assert_eq!(feed.len(), 1);
    assert_eq!(feed[0].position, position);
    assert!(matches!(&feed[0].change, FeedChange::MessageUpdated(m) if m.status == MessageStatus::Sent));

    // A receipt that overtook the forward wins: the forward does not move it back.
    let second = s.append_message(outbound(acme, conv.id, "two")).await.unwrap();
    s.advance_status(acme, conv.id, Direction::Outbound, second.message.sequence, MessageStatus::Delivered)
        .await
        .unwrap();
    let late = s.settle_forward(acme, second.message.id, MessageStatus::Sent).await.unwrap();
    assert_eq!(late.value, None);
    assert_eq!(s.get_message(acme, second.message.id).await.unwrap().status, MessageStatus::Delivered);
    let third = s.append_message(outbound(acme, conv.id, "three")).await.unwrap();
    let failed = s.settle_forward(acme, third.message.id, MessageStatus::Failed).await.unwrap();
    assert_eq!(failed.value.map(|m| m.status), Some(MessageStatus::Failed));
    let retried = s.settle_forward(acme, third.message.id, MessageStatus::Sent).await.unwrap();
    assert_eq!(retried.value.map(|m| m.status), Some(MessageStatus::Sent), "a hand retry delivered it");
}

async fn the_policy_reads_the_last_inbound_time_per_platform(db: &TestDb) {
    let acme = app(db, "Acme").await.company_id;
    let s = db.store();
    let contact = s.social_contact(acme, Platform::Facebook, "psid-1").await.unwrap();
    let conv = s.open_conversation(acme, contact.id, None, Platform::Facebook).await.unwrap();
    assert_eq!(s.last_inbound_at(acme, contact.id, Platform::Facebook).await.unwrap(), None);
    assert_eq!(s.sequence_at(acme, conv.id, Utc::now()).await.unwrap(), None);
    s.append_message(outbound(acme, conv.id, "ours")).await.unwrap();
    assert_eq!(s.last_inbound_at(acme, contact.id, Platform::Facebook).await.unwrap(), None, "outbound");
    let before = Utc::now() - Duration::seconds(1);
    let theirs = NewMessage {
        sender: Sender::Contact,
        direction: Direction::Inbound,
        awaiting_forward: false,
        uploads: Vec::new(),
        ..outbound(acme, conv.id, "theirs")
    };
    let theirs = s.append_message(theirs).await.unwrap().message;
    let last = s.last_inbound_at(acme, contact.id, Platform::Facebook).await.unwrap().unwrap();
    assert!(last >= before && last <= Utc::now() + Duration::seconds(1), "{last}");
    assert_eq!(s.last_inbound_at(acme, contact.id, Platform::Instagram).await.unwrap(), None);
    assert_eq!(
        s.sequence_at(acme, conv.id, Utc::now() + Duration::seconds(5)).await.unwrap(),
        Some(theirs.sequence)
    );
    assert_eq!(s.sequence_at(acme, conv.id, before - Duration::seconds(60)).await.unwrap(), None);
}

fn forward_of(message: &tidings_domain::Message) -> NewOutboxItem {
    NewOutboxItem {
        company_id: message.company_id,
        kind: OutboxKind::MetaForward,
        idempotency_key: format!("meta.forward:{}", message.id),
        payload: serde_json::json!({}),
        message_id: Some(message.id),
        order_key: None,
        due_at: None,
    }
}

async fn a_forward_enqueued_in_an_abandoned_unit_is_gone_with_its_message(db: &TestDb) {
    let acme = app(db, "Acme").await.company_id;
    let s = db.store();
    let contact = s.social_contact(acme, Platform::Facebook, "psid-1").await.unwrap();
    let conv = s.open_conversation(acme, contact.id, None, Platform::Facebook).await.unwrap();
    let (messages, outbox) = (db.count_rows("messages").await, db.count_rows("outbox").await);
    let unit = UnitOfWork::begin(s).await.unwrap();
    let appended = unit.append_message(outbound(acme, conv.id, "lost")).await.unwrap();
    unit.enqueue(forward_of(&appended.message)).await.unwrap();
    drop(unit);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while db.count_rows("messages").await != messages && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(db.count_rows("messages").await, messages);
    assert_eq!(db.count_rows("outbox").await, outbox);

    let unit = UnitOfWork::begin(s).await.unwrap();
    let appended = unit.append_message(outbound(acme, conv.id, "kept")).await.unwrap();
    let item = unit.enqueue(forward_of(&appended.message)).await.unwrap();
    unit.commit().await.unwrap();
    assert_eq!(item.message_id, Some(appended.message.id));
    assert_eq!(db.count_rows("outbox").await, outbox + 1);
    assert_eq!(db.count_rows("messages").await, messages + 1);
}
