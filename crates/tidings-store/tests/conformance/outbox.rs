//! Outbox: one row per idempotency key, leases that concurrent claimers never share and that expire,
//! settling only under the lease still held, the admin operations within the company, health counts.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tidings_domain::{
    CompanyId, NewOutboxItem, OutboxKind, OutboxRepo, OutboxStatus, RepoErrorKind, Settlement,
};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::conversations::app;
use crate::error_kind;

backend_tests!(
    an_effect_is_enqueued_once,
    concurrent_claimers_never_share_an_item,
    an_expired_lease_lets_another_worker_claim_and_the_late_one_cannot_settle,
    retries_wait_for_their_time_and_the_dead_are_kept_with_their_error,
    admin_operations_stay_within_the_company,
    items_of_one_order_key_go_out_one_after_another,
    a_later_due_time_collapses_repeated_effects_and_skips_are_kept,
);

fn forward(company_id: CompanyId, key: &str) -> NewOutboxItem {
    NewOutboxItem {
        company_id,
        kind: OutboxKind::MetaForward,
        idempotency_key: key.into(),
        payload: serde_json::json!({ "content": key }),
        message_id: None,
        order_key: None,
        due_at: None,
    }
}

const LEASE: Duration = Duration::from_secs(30);

async fn an_effect_is_enqueued_once(db: &TestDb) {
    let acme = app(db, "Acme").await.company_id;
    let globex = app(db, "Globex").await.company_id;
    let s = db.store();
    let first = s.enqueue(forward(acme, "message:1")).await.unwrap();
    let again = s.enqueue(forward(acme, "message:1")).await.unwrap();
    assert_eq!(again.id, first.id, "the same effect is the same row");
    let theirs = s.enqueue(forward(globex, "message:1")).await.unwrap();
    assert_ne!(theirs.id, first.id, "keys are per company");
    assert_eq!(db.count_rows("outbox").await, 2);
    assert_eq!(
        (first.status, first.attempts, first.payload["content"].as_str()),
        (OutboxStatus::Pending, 0, Some("message:1"))
    );
}

async fn concurrent_claimers_never_share_an_item(db: &TestDb) {
    let acme = app(db, "Acme").await.company_id;
    let store = Arc::new(db.store().clone());
    for n in 0..40 {
        store.enqueue(forward(acme, &format!("message:{n}"))).await.unwrap();
    }
    let claimers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = store.claim(Utc::now(), LEASE, 3).await.unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    for claimed in batch {
                        assert_eq!(claimed.item.attempts, 1);
                        mine.push(claimed.item.id);
                        assert!(
                            store
                                .settle(claimed.item.id, &claimed.lease, Settlement::Delivered)
                                .await
                                .unwrap()
                        );
                    }
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.unwrap());
    }
    let distinct: HashSet<_> = all.iter().collect();
    assert_eq!((all.len(), distinct.len()), (40, 40), "every item claimed once");
    let stats = store.outbox_stats(Utc::now()).await.unwrap();
    assert_eq!((stats.pending, stats.dead), (0, 0));
}

async fn an_expired_lease_lets_another_worker_claim_and_the_late_one_cannot_settle(db: &TestDb) {
    let acme = app(db, "Acme").await.company_id;
    let s = db.store();
    let item = s.enqueue(forward(acme, "message:1")).await.unwrap();
    let now = Utc::now();
    let first = s.claim(now, LEASE, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(s.claim(now, LEASE, 10).await.unwrap().is_empty(), "held while the lease lasts");
    // The first worker died mid-call; after its lease, another claims the item.
    let later = now + chrono::Duration::seconds(31);
    let second = s.claim(later, LEASE, 10).await.unwrap();
    assert_eq!((second.len(), second[0].item.id, second[0].item.attempts), (1, item.id, 2));
    assert!(
        !s.settle(item.id, &first[0].lease, Settlement::Delivered).await.unwrap(),
        "the lost lease settles nothing"
    );
    assert!(s.settle(item.id, &second[0].lease, Settlement::Delivered).await.unwrap());
    let listed = s.list_outbox(acme, None, None, None, 10).await.unwrap();
    assert_eq!((listed[0].status, listed[0].leased_until), (OutboxStatus::Delivered, None));
    assert!(
        s.claim(later + chrono::Duration::hours(1), LEASE, 10).await.unwrap().is_empty(),
        "delivered is done"
    );
}

async fn retries_wait_for_their_time_and_the_dead_are_kept_with_their_error(db: &TestDb) {
    let acme = app(db, "Acme").await.company_id;
    let s = db.store();
    let item = s.enqueue(forward(acme, "message:1")).await.unwrap();
    let now = Utc::now();
    let claimed = s.claim(now, LEASE, 10).await.unwrap().remove(0);
    let at = now + chrono::Duration::seconds(5);
    let retry = Settlement::Retry { at, error: "503 from the bot service".into() };
    assert!(s.settle(item.id, &claimed.lease, retry).await.unwrap());
    assert!(
        s.claim(now + chrono::Duration::seconds(4), LEASE, 10).await.unwrap().is_empty(),
        "not before its time"
    );
    let stats = s.outbox_stats(now + chrono::Duration::seconds(60)).await.unwrap();
    assert_eq!(stats.pending, 1);
    assert!(stats.oldest_pending_secs >= 59, "{stats:?}");
    let again = s.claim(at, LEASE, 10).await.unwrap().remove(0);
    assert_eq!(
        (again.item.attempts, again.item.last_error.as_deref()),
        (2, Some("503 from the bot service"))
    );
    let dead = Settlement::Dead { error: "400: bad recipient ".repeat(500) };
    assert!(s.settle(item.id, &again.lease, dead).await.unwrap());
    let stored = s.list_outbox(acme, Some(OutboxStatus::Dead), None, None, 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].last_error.as_deref().unwrap().starts_with("400: bad recipient"));
    assert_eq!(stored[0].last_error.as_deref().unwrap().chars().count(), 2000, "long errors are cut");
    assert!(
        s.claim(at + chrono::Duration::hours(1), LEASE, 10).await.unwrap().is_empty(),
        "the dead stay dead"
    );
    assert_eq!(s.outbox_stats(Utc::now()).await.unwrap().dead, 1);
}

async fn admin_operations_stay_within_the_company(db: &TestDb) {
    let acme = app(db, "Acme").await.company_id;
    let globex = app(db, "Globex").await.company_id;
    let s = db.store();
    let item = s.enqueue(forward(acme, "message:1")).await.unwrap();
    let claimed = s.claim(Utc::now(), LEASE, 10).await.unwrap().remove(0);
    s.settle(item.id, &claimed.lease, Settlement::Dead { error: "400".into() }).await.unwrap();

    assert!(s.list_outbox(globex, None, None, None, 10).await.unwrap().is_empty());
    assert_eq!(error_kind(&s.retry_outbox(globex, item.id).await), Some(RepoErrorKind::NotFound));
    assert_eq!(error_kind(&s.delete_outbox(globex, item.id).await), Some(RepoErrorKind::NotFound));

    let retried = s.retry_outbox(acme, item.id).await.unwrap();
    assert_eq!((retried.status, retried.attempts), (OutboxStatus::Pending, 0));
    let claimed = s.claim(Utc::now(), LEASE, 10).await.unwrap().remove(0);
    assert_eq!(claimed.item.id, item.id, "due again at once");
    s.settle(item.id, &claimed.lease, Settlement::Delivered).await.unwrap();
    assert_eq!(
        error_kind(&s.retry_outbox(acme, item.id).await),
        Some(RepoErrorKind::NotFound),
        "delivered is not retried"
    );
    let other = s.enqueue(forward(acme, "message:2")).await.unwrap();
    let pending = s
        .list_outbox(acme, Some(OutboxStatus::Pending), Some(OutboxKind::MetaForward), None, 10)
        .await
        .unwrap();
    assert_eq!(pending.iter().map(|i| i.id).collect::<Vec<_>>(), [other.id]);
    let page = s.list_outbox(acme, None, None, Some(other.id), 10).await.unwrap();
    assert_eq!(page.iter().map(|i| i.id).collect::<Vec<_>>(), [item.id], "newest first, after a cursor");
    s.delete_outbox(acme, item.id).await.unwrap();
    assert_eq!(db.count_rows("outbox").await, 1);
}

async fn items_of_one_order_key_go_out_one_after_another(db: &TestDb) {
    let acme = app(db, "Acme").await.company_id;
    let s = db.store();
    let keyed =
        |key: &str, order: &str| NewOutboxItem { order_key: Some(order.into()), ..forward(acme, key) };
    let first = s.enqueue(keyed("e-1", "endpoint-1:conv-1")).await.unwrap();
    let second = s.enqueue(keyed("e-2", "endpoint-1:conv-1")).await.unwrap();
    let other = s.enqueue(keyed("e-3", "endpoint-1:conv-2")).await.unwrap();
    let free = s.enqueue(forward(acme, "e-4")).await.unwrap();
    let now = Utc::now();
    let claimed: Vec<_> = s.claim(now, LEASE, 10).await.unwrap();
    let ids: HashSet<_> = claimed.iter().map(|c| c.item.id).collect();
    assert_eq!(ids, HashSet::from([first.id, other.id, free.id]), "the second waits for the first");
    let lease = |id| claimed.iter().find(|c| c.item.id == id).unwrap().lease.clone();
    // In backoff the first still holds the second back.
    let retry = Settlement::Retry { at: now, error: "503".into() };
    assert!(s.settle(first.id, &lease(first.id), retry).await.unwrap());
    let later = now + chrono::Duration::seconds(1);
    let again = s.claim(later, LEASE, 10).await.unwrap();
    assert_eq!(
        again.iter().map(|c| c.item.id).collect::<Vec<_>>(),
        vec![first.id],
        "the first comes back first"
    );
    assert!(s.settle(first.id, &again[0].lease, Settlement::Delivered).await.unwrap());
    let next = s.claim(later, LEASE, 10).await.unwrap();
    assert_eq!(next.iter().map(|c| c.item.id).collect::<Vec<_>>(), vec![second.id], "then the second");
    assert_eq!(next[0].item.order_key.as_deref(), Some("endpoint-1:conv-1"));
}

async fn a_later_due_time_collapses_repeated_effects_and_skips_are_kept(db: &TestDb) {
    let acme = app(db, "Acme").await.company_id;
    let s = db.store();
    let now = Utc::now();
    let window = now + chrono::Duration::seconds(10);
    let push = |body: &str| NewOutboxItem {
        due_at: Some(window),
        payload: serde_json::json!({ "body": body }),
        ..forward(acme, "push:conv-1:window-1")
    };
    let first = s.enqueue(push("one")).await.unwrap();
    let second = s.enqueue(push("two")).await.unwrap();
    assert_eq!((second.id, second.payload["body"].as_str()), (first.id, Some("one")), "collapsed into one");
    assert!(s.claim(now, LEASE, 10).await.unwrap().is_empty(), "not before its window ends");
    let claimed = s.claim(window, LEASE, 10).await.unwrap().remove(0);
    let skipped = Settlement::Skipped { reason: "the contact is online".into() };
    assert!(s.settle(first.id, &claimed.lease, skipped).await.unwrap());
    let kept = s.list_outbox(acme, Some(OutboxStatus::Skipped), None, None, 10).await.unwrap();
    assert_eq!(kept[0].last_error.as_deref(), Some("the contact is online"));
    let stats = s.outbox_stats(window).await.unwrap();
    assert_eq!((stats.pending, stats.dead), (0, 0), "a skip is neither pending nor dead");
}
