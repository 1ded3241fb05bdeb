//! The OpenAPI document against the route table: every route is described and every description is
//! a route, each operation states its credentials and answers its errors in the envelope, and the
//! document and Swagger UI are served, under the same security headers as everything else.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::test::{self, TestRequest};
use serde_json::Value;
use tidings_api::hardening::DOCS_CONTENT_SECURITY_POLICY;
use tidings_api::{ROUTES, openapi};
use tidings_store::test_db::TestDb;

use crate::support::{settings, state};

/// A header of an answer, as text; empty when it is missing.
fn header<B>(res: &actix_web::dev::ServiceResponse<B>, name: &str) -> String {
    res.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// The document as JSON, as it is served.
fn document() -> Value {
    serde_json::from_str(openapi::json()).expect("the document is JSON")
}

/// The operations of the document: (method in capitals, path) to the operation.
fn operations(document: &Value) -> BTreeMap<(String, String), Value> {
    let mut operations = BTreeMap::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            operations.insert((method.to_uppercase(), path.clone()), operation.clone());
        }
    }
    operations
}

/// Follows a `$ref` to a component, or returns the value itself.
fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').expect("a local reference");
            document.pointer(pointer).unwrap_or_else(|| panic!("`{reference}` names no component"))
        }
        None => value,
    }
}

#[test]
fn every_route_is_described_and_every_description_is_a_route() {
    let document = document();
    // A route that takes every method (the Socket.IO door) is described as the GET of its upgrade.
    let routes: BTreeSet<(String, String)> = ROUTES
        .iter()
        .filter(|route| route.described)
        .map(|route| {
            let method = if route.method == "ANY" { "GET" } else { route.method };
            (method.to_owned(), route.path.to_owned())
        })
        .collect();
    let described: BTreeSet<(String, String)> = operations(&document).into_keys().collect();
    let undescribed: Vec<_> = routes.difference(&described).collect();
    let unrouted: Vec<_> = described.difference(&routes).collect();
    assert!(
        undescribed.is_empty(),
        "routes without a description (add #[utoipa::path] to the handler and list it in ApiDoc): {undescribed:?}"
    );
    assert!(unrouted.is_empty(), "descriptions of routes the table does not have: {unrouted:?}");
    assert!(routes.len() >= 75, "the table lists {} described routes", routes.len());
    // The document and its viewer are routes, but not described.
    for route in ROUTES.iter().filter(|route| !route.described) {
        assert!(document["paths"].get(route.path).is_none(), "{} is described", route.path);
    }
    assert!(ROUTES.iter().any(|route| route.path == "/v1/openapi.json" && !route.described));
    assert!(ROUTES.iter().any(|route| route.path == "/docs" && !route.described));
}

#[test]
fn every_operation_states_its_credentials_and_answers_errors_in_the_envelope() {
    let document = document();
    assert!(document["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")), "{}", document["openapi"]);
    let schemes = document["components"]["securitySchemes"].as_object().expect("security schemes");
    assert_eq!(
        schemes.keys().map(String::as_str).collect::<Vec<_>>(),
        ["app_id", "bearer", "client_key", "device_id", "server_key"]
    );
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["server_key"]["name"], "X-Api-Key");
    let mut ids = BTreeSet::new();
    for ((method, path), operation) in operations(&document) {
        let at = format!("{method} {path}");
        let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{at}: no operationId"));
        assert!(ids.insert(id.to_owned()), "{at}: operationId `{id}` is used twice");
        assert!(operation["summary"].as_str().is_some_and(|s| !s.is_empty()), "{at}: no summary");
        assert!(operation["tags"].as_array().is_some_and(|t| t.len() == 1), "{at}: no tag");
        let responses = operation["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|status| status.starts_with('2') || status == "101"),
            "{at}: no successful answer"
        );
        for shared in ["500", "503"] {
            assert!(responses.contains_key(shared), "{at}: no {shared}");
        }
        // Every error answer is the envelope, but the Socket.IO door's Engine.IO handshake error.
        for (status, response) in responses.iter().filter(|(status, _)| !status.starts_with(['1', '2'])) {
            let schema = &resolve(&document, response)["content"]["application/json"]["schema"]["$ref"];
            let expected = if path.starts_with("/v1/socket.io") && status == "400" {
                "#/components/schemas/EngineIoError"
            } else {
                "#/components/schemas/ErrorEnvelope"
            };
            assert_eq!(schema, expected, "{at}: the {status} answer");
        }
        let security = operation["security"].as_array().cloned().unwrap_or_default();
        for requirement in &security {
            for scheme in requirement.as_object().expect("a requirement").keys() {
                assert!(schemes.contains_key(scheme), "{at}: unknown security scheme `{scheme}`");
            }
        }
        // Where credentials are asked for, they can be missing or wrong, or of the wrong kind.
        if !security.is_empty() {
            assert!(responses.contains_key("401") && responses.contains_key("403"), "{at}: no 401 or 403");
        }
        let has_body = operation["requestBody"]["content"].get("application/json").is_some();
        if has_body {
            for status in ["400", "413", "415"] {
                assert!(responses.contains_key(status), "{at}: a JSON body without {status}");
            }
        }
        if path.contains('{') {
            assert!(responses.contains_key("404"), "{at}: a path parameter without 404");
        }
    }
    // Spot checks of what the handlers say about themselves.
    let operations = operations(&document);
    let operation = |method: &str, path: &str| &operations[&(method.to_owned(), path.to_owned())];
    let register = operation("POST", "/v1/auth/register");
    assert!(register.get("security").is_none(), "registration needs no credentials");
    assert_eq!(
        register["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/RegisterInput"
    );
    assert!(register["responses"].get("409").is_some());
    assert_eq!(operation("GET", "/v1/users")["security"], serde_json::json!([{ "bearer": [] }]));
    assert_eq!(
        operation("POST", "/v1/identify")["security"],
        serde_json::json!([{ "app_id": [], "device_id": [], "client_key": [] }])
    );
    assert_eq!(
        operation("POST", "/v1/realtime/publish")["security"],
        serde_json::json!([{ "server_key": [] }])
    );
    assert!(operation("GET", "/v1/realtime")["responses"].get("101").is_some());
    assert!(operation("GET", "/health")["responses"].get("429").is_none(), "probes are not rate limited");
    assert!(operation("GET", "/v1/users")["responses"].get("429").is_some());
    // Schemas follow serde: renamed fields, optional ones, enums as their strings.
    let schemas = &document["components"]["schemas"];
    assert_eq!(schemas["Role"]["enum"], serde_json::json!(["agent", "admin", "owner"]));
    assert_eq!(schemas["RegisterInput"]["additionalProperties"], false, "unknown fields are refused");
    let required = schemas["NewMemberInput"]["required"].as_array().unwrap();
    assert!(required.contains(&"email".into()) && !required.contains(&"password".into()), "{required:?}");
    let outbox_kinds = &schemas["OutboxItemView"]["properties"]["kind"]["enum"];
    assert!(outbox_kinds.as_array().unwrap().contains(&"meta.forward".into()), "{outbox_kinds}");
    let handshake = operation("GET", "/v1/webhooks/meta")["parameters"].as_array().unwrap();
    assert!(handshake.iter().any(|p| p["name"] == "hub.verify_token"), "{handshake:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_and_its_viewer_are_served() {
    let db = TestDb::sqlite().await;
    let svc = test::init_service(tidings_api::app(state(&db, settings()))).await;
    let get = |uri: &str| TestRequest::get().uri(uri).to_request();

    let res = test::call_service(&svc, get("/v1/openapi.json")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-type"), "application/json");
    assert_eq!(header(&res, "content-security-policy"), "default-src 'none'; frame-ancestors 'none'");
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
    let served: Value = test::read_body_json(res).await;
    assert_eq!(served, document());
    assert_eq!(served["info"]["version"], env!("CARGO_PKG_VERSION"));

    let res = test::call_service(&svc, get("/docs")).await;
    assert_eq!(res.status(), 308);
    assert_eq!(header(&res, "location"), "docs/");

    let res = test::call_service(&svc, get("/docs/")).await;
    assert_eq!(res.status(), 200);
    assert!(header(&res, "content-type").starts_with("text/html"));
    assert_eq!(header(&res, "content-security-policy"), DOCS_CONTENT_SECURITY_POLICY);
    assert_eq!(header(&res, "x-frame-options"), "DENY");
    let page = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(page.contains("swagger-ui-bundle.js"), "{page}");
    // Served from the binary: nothing loaded from elsewhere, no inline script the policy would block.
    assert!(!page.contains("http://") && !page.contains("https://"), "{page}");
    assert!(!page.contains("<script>"), "{page}");

    let res = test::call_service(&svc, get("/docs/swagger-initializer.js")).await;
    assert_eq!(res.status(), 200);
    let script = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(script.contains("\"url\": \"../v1/openapi.json\""), "{script}");
    assert!(script.contains("\"validatorUrl\": \"none\""), "{script}");

    let res = test::call_service(&svc, get("/docs/swagger-ui-bundle.js")).await;
    assert_eq!(res.status(), 200);
    assert!(header(&res, "content-type").contains("javascript"));
    assert!(test::read_body(res).await.len() > 100_000, "Swagger UI itself");

    let res = test::call_service(&svc, get("/docs/no-such-asset.js")).await;
    assert_eq!(res.status(), 404);
    let body: Value = test::read_body_json(res).await;
    assert_eq!(body["error"]["code"], "NOT_FOUND");
}
