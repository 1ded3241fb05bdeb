//! The setup endpoint and the web pages: `/setup` is offered while no company exists and `/` sends
//! the browser there; afterwards both lead to the inbox. The pages carry the strict CSP, and their
//! files are served from the binary with validators.

use actix_web::test::{self, TestRequest};
use serde_json::json;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::app;
use crate::support::send;

backend_tests!(
    setup_is_offered_until_the_first_company_exists,
    pages_and_assets_are_served_under_a_strict_policy
);

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

async fn setup_is_offered_until_the_first_company_exists(db: &TestDb) {
    let svc = app!(db);
    let status = send(&svc, TestRequest::get().uri("/v1/setup")).await.expect(200);
    assert_eq!(status, json!({ "needed": true }));
    let res = test::call_service(&svc, TestRequest::get().uri("/").to_request()).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers().get("location").unwrap(), "/setup");
    let res = test::call_service(&svc, TestRequest::get().uri("/setup").to_request()).await;
    assert_eq!(res.status().as_u16(), 200);
    let page = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(page.contains("Set up Tidings"), "{page}");

    let body =
        json!({ "company_name": "Acme", "name": "Ada", "email": "ada@acme.test", "password": "password123" });
    send(&svc, TestRequest::post().uri("/v1/auth/register").set_json(body)).await.expect(201);

    let status = send(&svc, TestRequest::get().uri("/v1/setup")).await.expect(200);
    assert_eq!(status, json!({ "needed": false }));
    let res = test::call_service(&svc, TestRequest::get().uri("/setup").to_request()).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers().get("location").unwrap(), "/");
    let res = test::call_service(&svc, TestRequest::get().uri("/").to_request()).await;
    assert_eq!(res.status().as_u16(), 200);
    let page = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(page.contains("id=\"login-form\""), "{page}");
    // The page of reset and invitation links is there whatever the state.
    let res =
        test::call_service(&svc, TestRequest::get().uri("/reset-password?token=tdp_x").to_request()).await;
    assert_eq!(res.status().as_u16(), 200);
}

async fn pages_and_assets_are_served_under_a_strict_policy(db: &TestDb) {
    let svc = app!(db);
    for path in ["/setup", "/", "/reset-password"] {
        let res = test::call_service(&svc, TestRequest::get().uri(path).to_request()).await;
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let header = |name: &str| res.headers().get(name).unwrap().to_str().unwrap().to_owned();
        assert_eq!(header("content-security-policy"), CSP, "{path}");
        assert_eq!(header("content-type"), "text/html; charset=utf-8");
        assert_eq!(header("x-frame-options"), "DENY");
        assert_eq!(header("x-content-type-options"), "nosniff");
        let page = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        // Nothing inline the policy would block: every script is a file, no style or handler
        // attribute, and every asset the page names is served.
        for (i, _) in page.match_indices("<script") {
            let tag = &page[i..i + page[i..].find('>').unwrap()];
            assert!(tag.contains("src=\"/assets/"), "inline script in {path}: {tag}");
        }
        assert!(!page.contains(" style=") && !page.contains("<style"), "inline style in {path}");
        assert!(!page.contains(" onclick=") && !page.contains(" onsubmit="), "inline handler in {path}");
        for (i, _) in page.match_indices("/assets/") {
            let name: String = page[i..].chars().take_while(|c| *c != '"').collect();
            let res = test::call_service(&svc, TestRequest::get().uri(&name).to_request()).await;
            assert_eq!(res.status().as_u16(), 200, "{name}");
        }
        if path == "/setup" {
            // The setup page is for an empty server only.
            let body = json!({ "company_name": "Acme", "name": "Ada", "email": "ada@acme.test", "password": "password123" });
            send(&svc, TestRequest::post().uri("/v1/auth/register").set_json(body)).await.expect(201);
        }
    }

    // Modules import each other: every import names an asset that is served, with a JS type.
    let res = test::call_service(&svc, TestRequest::get().uri("/assets/inbox.js").to_request()).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers().get("content-type").unwrap(), "text/javascript; charset=utf-8");
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-cache");
    let etag = res.headers().get("etag").unwrap().to_str().unwrap().to_owned();
    let source = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    for module in [
        "./session.js",
        "./realtime.js",
        "./list.js",
        "./thread.js",
        "./login.js",
        "./dom.js",
        "./settings.js",
    ] {
        assert!(source.contains(module), "{module}");
        let uri = format!("/assets/{}", module.trim_start_matches("./"));
        let res = test::call_service(&svc, TestRequest::get().uri(&uri).to_request()).await;
        assert_eq!(res.status().as_u16(), 200, "{uri}");
        let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        assert!(!body.contains("innerHTML"), "{uri} builds HTML from strings");
    }
    // An unchanged file costs a 304.
    let req = TestRequest::get().uri("/assets/inbox.js").insert_header(("if-none-match", etag.as_str()));
    let res = test::call_service(&svc, req.to_request()).await;
    assert_eq!(res.status().as_u16(), 304);
    assert!(test::read_body(res).await.is_empty());
    let css = test::call_service(&svc, TestRequest::get().uri("/assets/app.css").to_request()).await;
    assert_eq!(css.headers().get("content-type").unwrap(), "text/css; charset=utf-8");

    // Unknown assets and paths around them are the API's 404.
    for path in ["/assets/nope.js", "/assets/../Cargo.toml", "/assets/", "/setup/x"] {
        send(&svc, TestRequest::get().uri(path)).await.assert_error(404, "NOT_FOUND");
    }
}
