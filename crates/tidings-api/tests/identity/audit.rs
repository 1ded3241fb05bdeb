//! The audit log: each kind of audited action leaves an entry with its actor, target, address and
//! time; only owners read it, only their company's, and the address is stored sealed.

use actix_web::test::TestRequest;
use serde_json::{Value, json};
use tidings_auth::{AuthSettings, LockoutPolicy};
use tidings_domain::{AuditQuery, AuditRepo, CompanyId};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::support::{
    Caller, Tenant, delete, fields, get, login, member, meta_settings, page_through, patch, post, put,
    register, send, settings,
};

backend_tests!(
    every_audited_action_leaves_an_entry_with_actor_target_and_address,
    only_owners_read_the_log_and_only_their_company_s,
    the_log_filters_by_action_and_pages_newest_first
);

/// The address every request of these tests comes from.
const CLIENT: &str = "203.0.113.7";

/// `req` as sent from [`CLIENT`].
fn from_client(req: TestRequest) -> TestRequest {
    req.peer_addr(format!("{CLIENT}:40000").parse().unwrap())
}

/// The whole log of the tenant, newest first.
async fn log(svc: &impl Caller, tenant: &Tenant) -> Vec<Value> {
    page_through(svc, "/v1/audit", &tenant.token, 100).await.concat()
}

/// The entries of `action`, newest first.
fn of<'a>(entries: &'a [Value], action: &str) -> Vec<&'a Value> {
    entries.iter().filter(|e| e["action"] == action).collect()
}

/// The one entry of `action`.
#[track_caller]
fn one<'a>(entries: &'a [Value], action: &str) -> &'a Value {
    let found = of(entries, action);
    assert_eq!(found.len(), 1, "one {action} entry in {entries:#?}");
    found[0]
}

async fn every_audited_action_leaves_an_entry_with_actor_target_and_address(db: &TestDb) {
    let auth =
        AuthSettings { lockout: LockoutPolicy { max_failures: 2, ..LockoutPolicy::default() }, ..settings() };
    let svc = crate::app!(db, auth);
    let acme = register(&svc, "Acme", "ada@acme.test").await;
    let owner = json!({ "kind": "user", "id": acme.owner_id });

    // Logins: one that works, then two wrong passwords of a member, the second of which locks them.
    send(
        &svc,
        from_client(TestRequest::post().uri("/v1/auth/login"))
            .set_json(json!({ "email": "ada@acme.test", "password": "password123" })),
    )
    .await
    .expect(200);
    let (bob, _) = member(&svc, &acme, "bob@acme.test", "agent").await;
    for _ in 0..2 {
        let wrong = json!({ "email": "bob@acme.test", "password": "wrong-password" });
        send(&svc, from_client(TestRequest::post().uri("/v1/auth/login")).set_json(wrong))
            .await
            .assert_error(401, "UNAUTHENTICATED");
    }
    // An unknown e-mail belongs to no company: no entry anywhere.
    login(&svc, "nobody@acme.test", "wrong-password").await.assert_error(401, "UNAUTHENTICATED");

    // The team, keys, integrations, webhooks, retention and the outbox.
    send(&svc, from_client(patch(&format!("/v1/users/{bob}"), &acme.token, json!({ "role": "admin" }))))
        .await
        .expect(200);
    let (carol, _) = member(&svc, &acme, "carol@acme.test", "agent").await;
    send(&svc, from_client(delete(&format!("/v1/users/{carol}"), &acme.token))).await.expect(204);
    let app = send(&svc, post("/v1/apps", &acme.token, json!({ "name": "Web" }))).await.expect(201);
    let app_id = app["id"].as_str().unwrap();
    send(&svc, post(&format!("/v1/apps/{app_id}/identity_secret"), &acme.token, json!({}))).await.expect(201);
    let key = send(&svc, post(&format!("/v1/apps/{app_id}/keys"), &acme.token, json!({ "kind": "server" })))
        .await
        .expect(201);
    let key_id = key["id"].as_str().unwrap();
    let rotated =
        send(&svc, post(&format!("/v1/keys/{key_id}/rotate"), &acme.token, json!({}))).await.expect(201);
    let successor = rotated["id"].as_str().unwrap();
    send(&svc, delete(&format!("/v1/keys/{successor}"), &acme.token)).await.expect(204);
    send(&svc, put("/v1/integrations/meta", &acme.token, meta_settings("1001"))).await.expect(200);
    send(&svc, delete("/v1/integrations/google-calendar", &acme.token)).await.expect(204);
    let hook =
        json!({ "url": "http://127.0.0.1:9/hook?token=receiver-secret", "events": ["message.created"] });
    let hook = send(&svc, post("/v1/webhooks", &acme.token, hook)).await.expect(201);
    let hook_id = hook["id"].as_str().unwrap();
    let ping =
        send(&svc, post(&format!("/v1/webhooks/{hook_id}/test"), &acme.token, json!({}))).await.expect(202);
    let outbox_id = ping["id"].as_str().unwrap();
    send(&svc, delete(&format!("/v1/outbox/{outbox_id}"), &acme.token)).await.expect(204);
    send(&svc, patch(&format!("/v1/webhooks/{hook_id}"), &acme.token, json!({ "enabled": false })))
        .await
        .expect(200);
    send(&svc, post(&format!("/v1/webhooks/{hook_id}/rotate-secret"), &acme.token, json!({})))
        .await
        .expect(200);
    send(&svc, delete(&format!("/v1/webhooks/{hook_id}"), &acme.token)).await.expect(204);
    send(&svc, put("/v1/company/retention", &acme.token, json!({ "message_days": 30 }))).await.expect(200);
    // The same value again changes nothing, and records nothing.
    send(&svc, put("/v1/company/retention", &acme.token, json!({ "message_days": 30 }))).await.expect(200);

    let entries = log(&svc, &acme).await;
    for entry in &entries {
        assert_eq!(
            fields(entry),
            ["action", "actor", "detail", "id", "ip", "occurred_at", "target"],
            "{entry}"
        );
    }

    // The owner's login from CLIENT, and the members' own (from no known address in these tests).
    let succeeded = of(&entries, "login.succeeded");
    let from_client: Vec<_> = succeeded.iter().filter(|e| e["ip"] == CLIENT).collect();
    assert_eq!(from_client.len(), 1, "{succeeded:#?}");
    assert_eq!(from_client[0]["actor"], owner);
    assert_eq!(from_client[0]["target"], json!({ "kind": "user", "id": acme.owner_id }));
    let failed = of(&entries, "login.failed");
    assert_eq!(failed.len(), 2, "{entries:#?}");
    for e in &failed {
        assert_eq!(e["target"], json!({ "kind": "user", "id": bob }));
        assert_eq!(e["actor"], json!({ "kind": "user", "id": bob }));
        assert_eq!(e["ip"], CLIENT);
        assert_eq!(e["detail"]["reason"], "password");
    }
    let locked = one(&entries, "account.locked");
    assert_eq!(locked["target"]["id"], bob);
    assert!(locked["detail"]["locked_until"].is_string(), "{locked}");

    let added = of(&entries, "user.added");
    assert_eq!(added.len(), 2, "bob and carol were added: {entries:#?}");
    assert!(added.iter().all(|e| e["actor"] == owner));
    let promoted = one(&entries, "user.role_changed");
    assert_eq!(promoted["target"], json!({ "kind": "user", "id": bob }));
    assert_eq!(promoted["detail"], json!({ "role": "admin", "was": "agent" }));
    assert_eq!(promoted["ip"], CLIENT);
    let removed = one(&entries, "user.removed");
    assert_eq!(removed["target"]["id"], carol);
    assert_eq!(removed["ip"], CLIENT);

    assert_eq!(one(&entries, "app.identity_secret_issued")["target"], json!({ "kind": "app", "id": app_id }));
    let created = one(&entries, "key.created");
    assert_eq!(created["target"], json!({ "kind": "api_key", "id": key_id }));
    assert_eq!(created["detail"]["kind"], "server");
    let rotation = one(&entries, "key.rotated");
    assert_eq!(rotation["target"]["id"], key_id);
    assert_eq!(rotation["detail"]["successor_id"], successor);
    assert_eq!(one(&entries, "key.revoked")["target"]["id"], successor);

    let meta = one(&entries, "integration.changed");
    assert_eq!(meta["target"], json!({ "kind": "integration", "id": "meta" }));
    assert_eq!(meta["detail"]["page_id"], "1001");
    assert_eq!(one(&entries, "integration.removed")["target"]["id"], "google_calendar");

    let hook_created = one(&entries, "webhook.created");
    assert_eq!(hook_created["target"], json!({ "kind": "webhook", "id": hook_id }));
    assert_eq!(hook_created["detail"]["host"], "127.0.0.1");
    assert_eq!(one(&entries, "webhook.changed")["detail"]["enabled"], false);
    one(&entries, "webhook.secret_rotated");
    one(&entries, "webhook.deleted");
    assert_eq!(one(&entries, "outbox.deleted")["target"], json!({ "kind": "outbox", "id": outbox_id }));
    assert_eq!(one(&entries, "retention.changed")["detail"], json!({ "message_days": 30, "was": null }));

    // No secret of any kind reaches the log: not keys, not tokens, not the receiver's query string.
    let text = serde_json::to_string(&entries).unwrap();
    for secret in
        [key["key"].as_str().unwrap(), rotated["key"].as_str().unwrap(), "receiver-secret", "password123"]
    {
        assert!(!text.contains(secret), "a secret reached the audit log");
    }
    assert!(!text.contains(crate::support::PAGE_TOKEN) && !text.contains(crate::support::APP_SECRET));

    // The address is stored sealed, never as text.
    let company: CompanyId = acme.company_id.parse().unwrap();
    let stored =
        db.store().list_audit(company, AuditQuery { limit: 100, ..AuditQuery::default() }).await.unwrap();
    assert_eq!(stored.len(), entries.len());
    let sealed: Vec<&str> = stored.iter().filter_map(|e| e.ip_sealed.as_deref()).collect();
    assert!(!sealed.is_empty(), "addresses were stored");
    assert!(sealed.iter().all(|s| !s.contains(CLIENT)), "addresses are sealed: {sealed:?}");
}

async fn only_owners_read_the_log_and_only_their_company_s(db: &TestDb) {
    let svc = crate::app!(db);
    let acme = register(&svc, "Acme", "ada@acme.test").await;
    let globex = register(&svc, "Globex", "hank@globex.test").await;
    let (_, admin) = member(&svc, &acme, "bob@acme.test", "admin").await;
    let (_, agent) = member(&svc, &acme, "carl@acme.test", "agent").await;
    login(&svc, "hank@globex.test", "wrong-password").await.assert_error(401, "UNAUTHENTICATED");

    send(&svc, get("/v1/audit", &admin)).await.assert_error(403, "FORBIDDEN");
    send(&svc, get("/v1/audit", &agent)).await.assert_error(403, "FORBIDDEN");
    send(&svc, TestRequest::get().uri("/v1/audit")).await.assert_error(401, "UNAUTHENTICATED");

    let acme_log = log(&svc, &acme).await;
    let globex_log = log(&svc, &globex).await;
    assert!(!acme_log.is_empty() && !globex_log.is_empty());
    assert!(of(&acme_log, "login.failed").is_empty(), "Globex's failed login is not in Acme's log");
    assert_eq!(of(&globex_log, "login.failed").len(), 1);
    assert!(of(&globex_log, "user.added").is_empty(), "Acme's team is not in Globex's log");
    // Another company's cursor leads nowhere into Acme's log.
    let acme_ids: Vec<&Value> = acme_log.iter().map(|e| &e["id"]).collect();
    assert!(globex_log.iter().all(|e| !acme_ids.contains(&&e["id"])));
}

async fn the_log_filters_by_action_and_pages_newest_first(db: &TestDb) {
    let svc = crate::app!(db);
    let acme = register(&svc, "Acme", "ada@acme.test").await;
    for _ in 0..5 {
        login(&svc, "ada@acme.test", "password123").await.expect(200);
    }
    login(&svc, "ada@acme.test", "wrong-password").await.assert_error(401, "UNAUTHENTICATED");

    let pages = page_through(&svc, "/v1/audit?action=login.succeeded", &acme.token, 2).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    let logins: Vec<Value> = pages.concat();
    assert!(logins.iter().all(|e| e["action"] == "login.succeeded"));
    let ids: Vec<&str> = logins.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let mut newest_first = ids.clone();
    newest_first.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, newest_first, "newest first");

    send(&svc, get("/v1/audit?action=nonsense", &acme.token)).await.assert_error(400, "VALIDATION_ERROR");
    send(&svc, get("/v1/audit?cursor=%%%", &acme.token)).await.assert_error(400, "VALIDATION_ERROR");
}
