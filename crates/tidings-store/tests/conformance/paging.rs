//! Lists that page by id (users, apps, API keys): oldest first, at most `limit` at a time, starting
//! after a given id, within their company.

use std::future::Future;

use tidings_domain::{ApiKeyRepo, AppRepo, NewApp, UserRepo};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::keys::key;
use crate::users::{company, new_user};

backend_tests!(users_page_by_id, apps_page_by_id, keys_page_by_id);

/// Pages through a list `limit` items at a time, the way the API does: the next page starts after
/// the last item of a full page, and a short page is the last one.
async fn pages<T, Id, F, Fut>(limit: usize, mut page: F, id: impl Fn(&T) -> Id) -> Vec<Vec<T>>
where
    F: FnMut(Option<Id>) -> Fut,
    Fut: Future<Output = Vec<T>>,
{
    let (mut pages, mut after) = (Vec::new(), None);
    loop {
        let items = page(after).await;
        assert!(items.len() <= limit, "a page of {} with limit {limit}", items.len());
        let full = items.len() == limit;
        after = items.last().map(&id);
        pages.push(items);
        assert!(pages.len() <= 10, "paging does not end");
        if !full {
            return pages;
        }
    }
}

fn sizes<T>(pages: &[Vec<T>]) -> Vec<usize> {
    pages.iter().map(Vec::len).collect()
}

async fn users_page_by_id(db: &TestDb) {
    let (acme, globex) = (company(db, "Acme").await, company(db, "Globex").await);
    let mut created = Vec::new();
    for n in 0..5 {
        created.push(db.store().create_user(new_user(acme.id, &format!("u{n}@acme.test"))).await.unwrap().id);
        // Another company's users, interleaved, never show up.
        db.store().create_user(new_user(globex.id, &format!("u{n}@globex.test"))).await.unwrap();
    }
    let store = db.store();
    let pages =
        pages(2, |after| async move { store.list_users(acme.id, after, 2).await.unwrap() }, |u| u.id).await;
    assert_eq!(sizes(&pages), [2, 2, 1]);
    let listed: Vec<_> = pages.concat().into_iter().map(|u| u.id).collect();
    assert_eq!(listed, created, "each user once, oldest first");
    assert!(store.list_users(acme.id, Some(created[4]), 2).await.unwrap().is_empty());
    assert_eq!(store.list_users(acme.id, None, 200).await.unwrap().len(), 5);
}

async fn apps_page_by_id(db: &TestDb) {
    let (acme, globex) = (company(db, "Acme").await, company(db, "Globex").await);
    let mut created = Vec::new();
    for n in 0..5 {
        let new = NewApp { company_id: acme.id, name: format!("app {n}") };
        created.push(db.store().create_app(new).await.unwrap().id);
        db.store().create_app(NewApp { company_id: globex.id, name: format!("app {n}") }).await.unwrap();
    }
    let store = db.store();
    let pages =
        pages(2, |after| async move { store.list_apps(acme.id, after, 2).await.unwrap() }, |a| a.id).await;
    assert_eq!(sizes(&pages), [2, 2, 1]);
    let listed: Vec<_> = pages.concat().into_iter().map(|a| a.id).collect();
    assert_eq!(listed, created, "each app once, oldest first");
    assert!(store.list_apps(acme.id, Some(created[4]), 2).await.unwrap().is_empty());
    assert_eq!(store.list_apps(globex.id, None, 200).await.unwrap().len(), 5);
}

async fn keys_page_by_id(db: &TestDb) {
    let acme = company(db, "Acme").await;
    let new_app = |name: &str| NewApp { company_id: acme.id, name: name.into() };
    let web = db.store().create_app(new_app("web")).await.unwrap();
    let ios = db.store().create_app(new_app("ios")).await.unwrap();
    let mut created = Vec::new();
    for n in 0..5 {
        created.push(db.store().create_api_key(key(&web, &format!("web{n}"))).await.unwrap().id);
        // Another app's keys, interleaved, never show up.
        db.store().create_api_key(key(&ios, &format!("ios{n}"))).await.unwrap();
    }
    let store = db.store();
    let pages = pages(
        2,
        |after| async move { store.list_api_keys(acme.id, web.id, after, 2).await.unwrap() },
        |k| k.id,
    )
    .await;
    assert_eq!(sizes(&pages), [2, 2, 1]);
    let listed: Vec<_> = pages.concat().into_iter().map(|k| k.id).collect();
    assert_eq!(listed, created, "each key once, oldest first");
    assert!(store.list_api_keys(acme.id, web.id, Some(created[4]), 2).await.unwrap().is_empty());
    let other = company(db, "Globex").await;
    assert!(store.list_api_keys(other.id, web.id, None, 200).await.unwrap().is_empty());
}
