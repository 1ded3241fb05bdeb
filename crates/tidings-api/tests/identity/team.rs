//! The team: roles enforced by the guard and the service rules, and tenants kept apart.

use serde_json::json;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::app;
use crate::support::{delete, get, member, patch, post, register, send};

backend_tests!(
    owners_and_admins_manage_agents_read,
    nobody_acts_above_their_rank_or_on_themselves,
    a_role_change_applies_to_existing_tokens,
    another_company_sees_nothing,
    malformed_ids_are_rejected,
);

async fn owners_and_admins_manage_agents_read(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let (admin_id, admin) = member(&svc, &acme, "admin@acme.test", "admin").await;
    let (agent_id, agent) = member(&svc, &acme, "agent@acme.test", "agent").await;

    let listed = send(&svc, get("/v1/users", &agent)).await.expect(200);
    let emails: Vec<&str> =
        listed["data"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["owner@acme.test", "admin@acme.test", "agent@acme.test"]);
    assert!(listed["next_cursor"].is_null());
    send(&svc, get(&format!("/v1/users/{admin_id}"), &agent)).await.expect(200);

    let newcomer =
        json!({ "email": "new@acme.test", "name": "New", "password": "password123", "role": "agent" });
    send(&svc, post("/v1/users", &agent, newcomer.clone())).await.assert_error(403, "FORBIDDEN");
    send(&svc, patch(&format!("/v1/users/{admin_id}"), &agent, json!({ "role": "agent" })))
        .await
        .assert_error(403, "FORBIDDEN");
    send(&svc, delete(&format!("/v1/users/{admin_id}"), &agent)).await.assert_error(403, "FORBIDDEN");
    assert_eq!(db.count_rows("users").await, 3, "the refused actions changed nothing");

    send(&svc, post("/v1/users", &admin, newcomer)).await.expect(201);
    let promoted =
        send(&svc, patch(&format!("/v1/users/{agent_id}"), &admin, json!({ "role": "admin" }))).await;
    assert_eq!(promoted.expect(200)["role"], "admin");
    assert_eq!(send(&svc, delete(&format!("/v1/users/{agent_id}"), &admin)).await.status, 204);
    send(&svc, get(&format!("/v1/users/{agent_id}"), &admin)).await.assert_error(404, "NOT_FOUND");

    let bad_role =
        json!({ "email": "x@acme.test", "name": "X", "password": "password123", "role": "emperor" });
    send(&svc, post("/v1/users", &admin, bad_role)).await.assert_error(400, "VALIDATION_ERROR");
    let taken =
        json!({ "email": "ADMIN@acme.test", "name": "X", "password": "password123", "role": "agent" });
    send(&svc, post("/v1/users", &admin, taken)).await.assert_error(409, "CONFLICT");
}

async fn nobody_acts_above_their_rank_or_on_themselves(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let (admin_id, admin) = member(&svc, &acme, "admin@acme.test", "admin").await;
    let owner_path = format!("/v1/users/{}", acme.owner_id);

    let as_owner =
        json!({ "email": "o2@acme.test", "name": "O", "password": "password123", "role": "owner" });
    send(&svc, post("/v1/users", &admin, as_owner)).await.assert_error(403, "FORBIDDEN");
    send(&svc, patch(&owner_path, &admin, json!({ "role": "agent" }))).await.assert_error(403, "FORBIDDEN");
    send(&svc, delete(&owner_path, &admin)).await.assert_error(403, "FORBIDDEN");
    send(&svc, patch(&format!("/v1/users/{admin_id}"), &admin, json!({ "role": "owner" })))
        .await
        .assert_error(403, "FORBIDDEN");
    send(&svc, delete(&format!("/v1/users/{admin_id}"), &admin)).await.assert_error(403, "FORBIDDEN");
    send(&svc, delete(&owner_path, &acme.token)).await.assert_error(403, "FORBIDDEN");
    send(&svc, patch(&owner_path, &acme.token, json!({ "role": "admin" })))
        .await
        .assert_error(403, "FORBIDDEN");

    let me = send(&svc, get(&owner_path, &acme.token)).await.expect(200);
    assert_eq!(me["role"], "owner", "the company keeps its owner");
}

async fn a_role_change_applies_to_existing_tokens(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let (admin_id, admin) = member(&svc, &acme, "admin@acme.test", "admin").await;
    send(&svc, post("/v1/apps", &admin, json!({ "name": "Web" }))).await.expect(201);
    send(&svc, patch(&format!("/v1/users/{admin_id}"), &acme.token, json!({ "role": "agent" })))
        .await
        .expect(200);
    send(&svc, post("/v1/apps", &admin, json!({ "name": "Web 2" }))).await.assert_error(403, "FORBIDDEN");
}

async fn another_company_sees_nothing(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    let (agent_id, _) = member(&svc, &acme, "agent@acme.test", "agent").await;
    let path = format!("/v1/users/{agent_id}");

    send(&svc, get(&path, &globex.token)).await.assert_error(404, "NOT_FOUND");
    send(&svc, patch(&path, &globex.token, json!({ "role": "admin" }))).await.assert_error(404, "NOT_FOUND");
    send(&svc, delete(&path, &globex.token)).await.assert_error(404, "NOT_FOUND");
    let listed = send(&svc, get("/v1/users", &globex.token)).await.expect(200);
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["data"][0]["email"], "owner@globex.test");

    let agent = send(&svc, get(&path, &acme.token)).await.expect(200);
    assert_eq!(agent["role"], "agent", "the foreign PATCH changed nothing");
}

async fn malformed_ids_are_rejected(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    send(&svc, get("/v1/users/not-a-uuid", &acme.token)).await.assert_error(400, "VALIDATION_ERROR");
    let unknown = format!("/v1/users/{}", uuid::Uuid::now_v7());
    send(&svc, get(&unknown, &acme.token)).await.assert_error(404, "NOT_FOUND");
}
