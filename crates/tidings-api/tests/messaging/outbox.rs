//! The outbox's admin API: owners and admins list their company's items, retry dead ones and remove
//! them; agents may not; another company's items do not exist for them; readiness counts them.

use serde_json::json;
use tidings_domain::{NewOutboxItem, OutboxKind, OutboxRepo, Settlement};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::app;
use crate::support::{delete, fields, get, member, post, register, send};

backend_tests!(admins_list_retry_and_remove_their_companys_outbox_only);

async fn admins_list_retry_and_remove_their_companys_outbox_only(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    let store = db.store();
    let enqueue = |company, key: &str| NewOutboxItem {
        company_id: company,
        kind: OutboxKind::MetaForward,
        idempotency_key: key.into(),
        payload: json!({ "platform": "facebook", "content": "private words" }),
        message_id: None,
        order_key: None,
        due_at: None,
    };
    let acme_id = acme.company_id.parse().unwrap();
    let dead = store.enqueue(enqueue(acme_id, "message:1")).await.unwrap();
    let pending = store.enqueue(enqueue(acme_id, "message:2")).await.unwrap();
    let claimed =
        store.claim(chrono::Utc::now(), std::time::Duration::from_secs(30), 1).await.unwrap().remove(0);
    assert_eq!(claimed.item.id, dead.id);
    store
        .settle(dead.id, &claimed.lease, Settlement::Dead { error: "400: unknown recipient".into() })
        .await
        .unwrap();
    store.enqueue(enqueue(globex.company_id.parse().unwrap(), "message:1")).await.unwrap();

    let all = send(&svc, get("/v1/outbox", &acme.token)).await.expect(200);
    let ids: Vec<&str> = all["data"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [pending.id.to_string(), dead.id.to_string()], "newest first, the company's only");
    assert!(!all.to_string().contains("private words"), "no payload in the listing");
    assert_eq!(
        fields(&all["data"][1]),
        [
            "attempts",
            "created_at",
            "due_at",
            "id",
            "idempotency_key",
            "kind",
            "last_error",
            "message_id",
            "status",
            "updated_at"
        ]
    );
    let only_dead =
        send(&svc, get("/v1/outbox?status=dead&kind=meta.forward", &acme.token)).await.expect(200);
    assert_eq!(only_dead["data"].as_array().unwrap().len(), 1);
    assert_eq!(only_dead["data"][0]["last_error"], "400: unknown recipient");
    assert_eq!(only_dead["data"][0]["kind"], "meta.forward", "the kind as the filter spells it");
    send(&svc, get("/v1/outbox?kind=carrier-pigeon", &acme.token))
        .await
        .assert_error(400, "VALIDATION_ERROR");
    send(&svc, get("/v1/outbox?status=lost", &acme.token)).await.assert_error(400, "VALIDATION_ERROR");

    // Readiness counts every company's items.
    let ready = send(&svc, actix_web::test::TestRequest::get().uri("/health/ready")).await.expect(200);
    assert_eq!((ready["outbox"]["pending"].as_i64(), ready["outbox"]["dead"].as_i64()), (Some(2), Some(1)));

    // Agents may not; another company's owner finds nothing.
    let (_, agent) = member(&svc, &acme, "agent@acme.test", "agent").await;
    send(&svc, get("/v1/outbox", &agent)).await.assert_error(403, "FORBIDDEN");
    let retry = format!("/v1/outbox/{}/retry", dead.id);
    send(&svc, post(&retry, &agent, json!({}))).await.assert_error(403, "FORBIDDEN");
    send(&svc, post(&retry, &globex.token, json!({}))).await.assert_error(404, "NOT_FOUND");
    send(&svc, delete(&format!("/v1/outbox/{}", dead.id), &globex.token))
        .await
        .assert_error(404, "NOT_FOUND");
    send(&svc, post("/v1/outbox/not-an-id/retry", &acme.token, json!({})))
        .await
        .assert_error(400, "VALIDATION_ERROR");

    let retried = send(&svc, post(&retry, &acme.token, json!({}))).await.expect(200);
    assert_eq!((retried["status"].as_str(), retried["attempts"].as_i64()), (Some("pending"), Some(0)));
    let again = store.claim(chrono::Utc::now(), std::time::Duration::from_secs(30), 10).await.unwrap();
    assert!(again.iter().any(|c| c.item.id == dead.id), "due again at once");
    let gone = send(&svc, delete(&format!("/v1/outbox/{}", pending.id), &acme.token)).await;
    assert_eq!(gone.status.as_u16(), 204);
    // The agent's invitation e-mail is in the outbox too.
    let left = send(&svc, get("/v1/outbox?kind=meta.forward", &acme.token)).await.expect(200);
    assert_eq!(left["data"].as_array().unwrap().len(), 1);
}
