//! The Meta token refresh against a stand-in Graph API and a real store: two nodes' runners refresh
//! each company's page token once per period, the new token is sealed in place of the old one and
//! used by the next forward, and a refusal keeps the old token and fails the run.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a panic is how a test fails")]

use std::sync::Arc;
use std::time::Duration;

use tidings_auth::{Cipher, KEY_LEN};
use tidings_domain::{CompanyId, CompanyRepo, NewCompany, Principal, Role, UserId};
use tidings_forwarding::{
    Integrations, JobRunner, JobSettings, MetaCredentials, MetaInput, MetaTokenRefresh,
};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

backend_tests!(two_nodes_refresh_each_page_token_once_per_period, a_refused_refresh_keeps_the_old_token);

const HOUR: Duration = Duration::from_secs(3600);

async fn connected(db: &TestDb, integrations: &Integrations, name: &str, app_id: Option<&str>) -> CompanyId {
    let company = db.store().create_company(NewCompany { name: name.into() }).await.unwrap().id;
    let owner = Principal { user_id: UserId::new(), company_id: company, role: Role::Owner };
    let input = MetaInput {
        page_id: Some(format!("{}", name.len() * 1000)),
        app_id: app_id.map(str::to_owned),
        page_access_token: Some(format!("{name}-old-token-0123456789")),
        app_secret: Some(format!("{name}-app-secret")),
        ..MetaInput::default()
    };
    integrations.put_meta(&owner, input).await.unwrap();
    company
}

fn integrations(db: &TestDb) -> Integrations {
    Integrations::new(Arc::new(db.store().clone()), Cipher::new(&[9; KEY_LEN]))
}

fn runner(db: &TestDb, node: &str, integrations: &Integrations, graph: &MockServer) -> JobRunner {
    let refresh = MetaTokenRefresh::new(integrations.clone(), &graph.uri(), HOUR).unwrap();
    JobRunner::new(Arc::new(db.store().clone()), node.into(), JobSettings::default())
        .register(Arc::new(refresh))
}

async fn two_nodes_refresh_each_page_token_once_per_period(db: &TestDb) {
    let graph = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/oauth/access_token"))
        .and(query_param("grant_type", "fb_exchange_token"))
        .and(query_param("client_id", "42"))
        .and(query_param("client_secret", "Acme-app-secret"))
        .and(query_param("fb_exchange_token", "Acme-old-token-0123456789"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({ "access_token": "Acme-new-token-0123456789", "token_type": "bearer", "expires_in": 5_184_000 }),
        ))
        .expect(1)
        .mount(&graph)
        .await;
    let integrations = integrations(db);
    let acme = connected(db, &integrations, "Acme", Some("42")).await;
    let without_app = connected(db, &integrations, "Initech", None).await;

    let (a, b) = (runner(db, "node-a", &integrations, &graph), runner(db, "node-b", &integrations, &graph));
    let (ran_a, ran_b) = tokio::join!(a.tick(), b.tick());
    assert_eq!(ran_a + ran_b, 1, "one node ran the refresh");
    assert_eq!(a.tick().await + b.tick().await, 0, "not again within the period");

    assert_eq!(
        integrations.access_token(acme, "facebook").await.unwrap().as_deref(),
        Some("Acme-new-token-0123456789"),
        "the next forward uses the new token"
    );
    let opened = integrations.open(acme).await.unwrap().unwrap();
    let expires = opened.config.token_expires_at.unwrap() - chrono::Utc::now();
    assert!(expires > chrono::Duration::days(59) && expires <= chrono::Duration::days(60), "{expires}");
    assert!(opened.config.token_refreshed_at.is_some());
    assert!(!opened.integration.secrets.unwrap().contains("new-token"), "sealed in the store");
    assert_eq!(
        integrations.access_token(without_app, "facebook").await.unwrap().as_deref(),
        Some("Initech-old-token-0123456789"),
        "nothing to refresh with: left alone"
    );
    graph.verify().await;
}

async fn a_refused_refresh_keeps_the_old_token(db: &TestDb) {
    let graph = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400).set_body_string("{\"error\":{\"message\":\"expired\"}}"))
        .mount(&graph)
        .await;
    let integrations = integrations(db);
    let acme = connected(db, &integrations, "Acme", Some("42")).await;
    let refresh = MetaTokenRefresh::new(integrations.clone(), &graph.uri(), HOUR).unwrap();
    let failed = tidings_forwarding::Job::run(&refresh).await.unwrap_err();
    assert!(failed.contains("1 companies"), "{failed}");
    assert!(!failed.contains("secret") && !failed.contains("token-0123"), "no secret in the error: {failed}");
    assert_eq!(
        integrations.access_token(acme, "facebook").await.unwrap().as_deref(),
        Some("Acme-old-token-0123456789")
    );
}
