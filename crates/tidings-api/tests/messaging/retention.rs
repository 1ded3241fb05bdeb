//! Retention: owners set how many days their company keeps messages; the job removes the older ones
//! of that company only, and what was removed is gone from lists, search and the change feed.

use std::time::Duration;

use actix_web::test::TestRequest;
use chrono::Utc;
use serde_json::{Value, json};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::guarantees::{body, setup};
use crate::support::{Caller, SdkApp, get, member, put, register, sdk, sdk_app, send, settings, state};

backend_tests!(
    owners_set_retention_and_bad_values_change_nothing,
    the_job_removes_only_the_old_messages_of_the_company
);

async fn owners_set_retention_and_bad_values_change_nothing(db: &TestDb) {
    let svc = crate::app!(db);
    let acme = register(&svc, "Acme", "ada@acme.test").await;
    let (_, admin) = member(&svc, &acme, "bob@acme.test", "admin").await;
    let (_, agent) = member(&svc, &acme, "carl@acme.test", "agent").await;
    let path = "/v1/company/retention";

    assert_eq!(send(&svc, get(path, &acme.token)).await.expect(200), json!({ "message_days": null }));
    assert_eq!(send(&svc, get(path, &admin)).await.expect(200), json!({ "message_days": null }));
    send(&svc, get(path, &agent)).await.assert_error(403, "FORBIDDEN");
    send(&svc, put(path, &admin, json!({ "message_days": 30 }))).await.assert_error(403, "FORBIDDEN");
    for bad in [
        json!({ "message_days": 0 }),
        json!({ "message_days": 3651 }),
        json!({ "message_days": -1 }),
        json!({ "message_days": "ten" }),
        json!({ "messages_days": 30 }),
        json!([30]),
    ] {
        send(&svc, put(path, &acme.token, bad.clone())).await.assert_error(400, "VALIDATION_ERROR");
    }
    assert_eq!(send(&svc, get(path, &acme.token)).await.expect(200), json!({ "message_days": null }));

    assert_eq!(
        send(&svc, put(path, &acme.token, json!({ "message_days": 30 }))).await.expect(200),
        json!({ "message_days": 30 })
    );
    assert_eq!(send(&svc, get(path, &admin)).await.expect(200), json!({ "message_days": 30 }));
    assert_eq!(
        send(&svc, put(path, &acme.token, json!({ "message_days": null }))).await.expect(200),
        json!({ "message_days": null })
    );
}

/// Makes message `id` look as it would had it been sent `days` ago: an id of that time (ids are
/// UUID v7) and its creation time. Returns the new id.
async fn age(db: &TestDb, id: &str, days: i64, nth: u32) -> String {
    let at = Utc::now() - chrono::Duration::days(days) + chrono::Duration::milliseconds(i64::from(nth));
    let old = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        u64::try_from(at.timestamp()).unwrap(),
        at.timestamp_subsec_nanos(),
    ))
    .to_string();
    let stamp = at.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f");
    db.execute(&format!("UPDATE messages SET id = '{old}', created_at = '{stamp}' WHERE id = '{id}'"))
        .await
        .unwrap();
    old
}

/// Sends `texts` as the device and returns the messages' ids.
async fn converse(svc: &impl Caller, app: &SdkApp, conv: &str, texts: &[&str]) -> Vec<String> {
    let path = format!("/v1/conversations/{conv}/messages");
    let mut ids = Vec::new();
    for text in texts {
        let sent = svc
            .call(sdk(TestRequest::post().uri(&path).set_json(body(text)), app, "dev-1"))
            .await
            .expect(201);
        ids.push(sent["id"].as_str().unwrap().to_owned());
    }
    ids
}

fn ids_of(list: &Value) -> Vec<&str> {
    list["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect()
}

async fn the_job_removes_only_the_old_messages_of_the_company(db: &TestDb) {
    let state = state(db, settings());
    let svc = actix_web::test::init_service(tidings_api::app(state.clone())).await;
    let (acme, acme_web, acme_conv) = setup(&svc).await;
    let globex = register(&svc, "Globex", "hank@globex.test").await;
    let globex_web = sdk_app(&svc, &globex).await;
    let globex_conv =
        svc.call(sdk(TestRequest::post().uri("/v1/conversations"), &globex_web, "dev-1")).await.expect(200);
    let globex_conv = globex_conv["id"].as_str().unwrap().to_owned();

    let sent =
        converse(&svc, &acme_web, &acme_conv, &["ancient albatross", "older otter", "recent robin"]).await;
    let theirs =
        converse(&svc, &globex_web, &globex_conv, &["ancient albatross", "older otter", "recent robin"])
            .await;
    let ancient = age(db, &sent[0], 40, 0).await;
    let older = age(db, &sent[1], 31, 1).await;
    let globex_ancient = age(db, &theirs[0], 40, 2).await;
    let globex_older = age(db, &theirs[1], 31, 3).await;
    // A change of an old message is in the feed: once the message is gone the feed must still read.
    let edit = sdk(
        TestRequest::patch().uri(&format!("/v1/messages/{older}")).set_json(body("older otter!")),
        &acme_web,
        "dev-1",
    );
    send(&svc, edit).await.expect(200);

    // Nothing is removed while no company asks for it.
    let retention = &state.messaging.retention;
    assert_eq!(retention.expire(Utc::now(), Duration::from_secs(60)).await.unwrap(), 0);

    send(&svc, put("/v1/company/retention", &acme.token, json!({ "message_days": 30 }))).await.expect(200);
    assert_eq!(retention.expire(Utc::now(), Duration::from_secs(60)).await.unwrap(), 2);
    assert_eq!(retention.expire(Utc::now(), Duration::from_secs(60)).await.unwrap(), 0, "nothing twice");

    let acme_list =
        send(&svc, get(&format!("/v1/conversations/{acme_conv}/messages"), &acme.token)).await.expect(200);
    assert_eq!(ids_of(&acme_list), [sent[2].as_str()], "only the recent message is left");
    let globex_list = send(&svc, get(&format!("/v1/conversations/{globex_conv}/messages"), &globex.token))
        .await
        .expect(200);
    let mut kept = ids_of(&globex_list);
    kept.sort_unstable();
    let mut all = vec![globex_ancient.as_str(), globex_older.as_str(), theirs[2].as_str()];
    all.sort_unstable();
    assert_eq!(kept, all, "another company's old messages stay");

    for (tenant, expected) in [(&acme, 0), (&globex, 1)] {
        let found = send(&svc, get("/v1/search/messages?q=albatross", &tenant.token)).await.expect(200);
        assert_eq!(found["data"].as_array().unwrap().len(), expected, "{found}");
    }
    send(&svc, get(&format!("/v1/messages/{ancient}"), &acme.token)).await.assert_error(404, "NOT_FOUND");

    // The feed from the start reads without the removed messages, the edit of one of them included.
    let feed = send(&svc, get(&format!("/v1/conversations/{acme_conv}/events?after=0"), &acme.token))
        .await
        .expect(200);
    let text = feed.to_string();
    assert!(!text.contains(&ancient) && !text.contains(&older), "{feed}");
    assert!(text.contains(&sent[2]), "{feed}");

    // The conversation goes on.
    let next = converse(&svc, &acme_web, &acme_conv, &["still here"]).await;
    let list =
        send(&svc, get(&format!("/v1/conversations/{acme_conv}/messages"), &acme.token)).await.expect(200);
    assert_eq!(ids_of(&list), [sent[2].as_str(), next[0].as_str()]);
}
