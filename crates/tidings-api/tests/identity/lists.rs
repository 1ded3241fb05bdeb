//! The team, apps and API keys are listed a page at a time (`?limit=&cursor=`), oldest first, each
//! item exactly once, like every other list.

use serde_json::{Value, json};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::app;
use crate::support::{Caller, get, page_through, post, register, send};

backend_tests!(
    the_team_pages_through_every_user_once,
    apps_page_through_every_app_once,
    keys_page_through_every_key_of_their_app_once,
    list_parameters_are_checked,
);

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|item| item["id"].as_str().unwrap().to_owned()).collect()
}

fn sizes(pages: &[Vec<Value>]) -> Vec<usize> {
    pages.iter().map(Vec::len).collect()
}

async fn new_app(svc: &impl Caller, token: &str, name: &str) -> String {
    let app = svc.call(post("/v1/apps", token, json!({ "name": name }))).await.expect(201);
    app["id"].as_str().unwrap().to_owned()
}

async fn new_key(svc: &impl Caller, token: &str, app: &str) -> String {
    let key = svc.call(post(&format!("/v1/apps/{app}/keys"), token, json!({ "kind": "client" }))).await;
    key.expect(201)["id"].as_str().unwrap().to_owned()
}

async fn the_team_pages_through_every_user_once(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    let mut created = vec![acme.owner_id.clone()];
    for n in 0..4 {
        let body = json!({ "email": format!("m{n}@acme.test"), "name": "M", "password": "password123", "role": "agent" });
        created.push(
            send(&svc, post("/v1/users", &acme.token, body)).await.expect(201)["id"].as_str().unwrap().into(),
        );
    }
    let pages = page_through(&svc, "/v1/users", &acme.token, 2).await;
    assert_eq!(sizes(&pages), [2, 2, 1]);
    assert_eq!(ids(&pages.concat()), created, "every user once, oldest first");
    assert!(!ids(&pages.concat()).contains(&globex.owner_id));
}

async fn apps_page_through_every_app_once(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    let mut created = Vec::new();
    for n in 0..5 {
        created.push(new_app(&svc, &acme.token, &format!("app {n}")).await);
        new_app(&svc, &globex.token, &format!("app {n}")).await;
    }
    let pages = page_through(&svc, "/v1/apps", &acme.token, 2).await;
    assert_eq!(sizes(&pages), [2, 2, 1]);
    assert_eq!(ids(&pages.concat()), created, "every app once, oldest first");
}

async fn keys_page_through_every_key_of_their_app_once(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let (web, ios) = (new_app(&svc, &acme.token, "Web").await, new_app(&svc, &acme.token, "iOS").await);
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(new_key(&svc, &acme.token, &web).await);
        new_key(&svc, &acme.token, &ios).await;
    }
    let pages = page_through(&svc, &format!("/v1/apps/{web}/keys"), &acme.token, 2).await;
    assert_eq!(sizes(&pages), [2, 2, 1]);
    assert_eq!(ids(&pages.concat()), created, "every key of the app once, oldest first");
}

async fn list_parameters_are_checked(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let mut created = Vec::new();
    for n in 0..51 {
        created.push(new_app(&svc, &acme.token, &format!("app {n}")).await);
    }
    let first = send(&svc, get("/v1/apps", &acme.token)).await.expect(200);
    assert_eq!(ids(first["data"].as_array().unwrap()), created[..50], "50 by default");
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let rest = send(&svc, get(&format!("/v1/apps?cursor={cursor}"), &acme.token)).await.expect(200);
    assert_eq!(ids(rest["data"].as_array().unwrap()), created[50..]);
    assert_eq!(rest["next_cursor"], Value::Null);
    let all = send(&svc, get("/v1/apps?limit=200", &acme.token)).await.expect(200);
    assert_eq!(all["data"].as_array().unwrap().len(), 51);

    let web = &created[0];
    for list in ["/v1/users", "/v1/apps", &format!("/v1/apps/{web}/keys")] {
        for query in ["limit=0", "limit=201", "limit=x", "cursor=bogus", "cursor=bm90LWFuLWlk"] {
            send(&svc, get(&format!("{list}?{query}"), &acme.token))
                .await
                .assert_error(400, "VALIDATION_ERROR");
        }
    }
}
