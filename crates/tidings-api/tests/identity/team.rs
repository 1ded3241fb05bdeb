//! The team: roles enforced by the guard and the service rules, and tenants kept apart.

use futures_util::future::join;
use serde_json::json;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::app;
use crate::ordered::{Schedule, ordered_state};
use crate::support::{delete, get, member, patch, post, register, send, settings};

backend_tests!(
    owners_and_admins_manage_agents_read,
    nobody_acts_above_their_rank_or_on_themselves,
    a_role_change_applies_to_existing_tokens,
    another_company_sees_nothing,
    malformed_ids_are_rejected,
    two_owners_removing_each_other_at_once_leave_one,
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

/// Two owners demote or remove each other at the same moment. Each request passes the service's
/// rank checks, since the other is still an owner when it is checked (the store holds both changes
/// back until both were checked); only the store's atomic owner count can then keep the company
/// from losing its last owner.
async fn two_owners_removing_each_other_at_once_leave_one(db: &TestDb) {
    let (app_state, _) = ordered_state(db, settings(), Schedule::TeamChangesInPairs);
    let svc = actix_web::test::init_service(tidings_api::app(app_state)).await;
    for round in 0..9 {
        let acme = register(&svc, &format!("Acme {round}"), &format!("owner-{round}@acme.test")).await;
        let (other_id, other) = member(&svc, &acme, &format!("other-{round}@acme.test"), "owner").await;
        let (other_path, owner_path) =
            (format!("/v1/users/{other_id}"), format!("/v1/users/{}", acme.owner_id));
        let demote = json!({ "role": "admin" });
        let (first, second) = match round % 3 {
            0 => (patch(&other_path, &acme.token, demote.clone()), patch(&owner_path, &other, demote)),
            1 => (delete(&other_path, &acme.token), delete(&owner_path, &other)),
            _ => (patch(&other_path, &acme.token, demote), delete(&owner_path, &other)),
        };
        let (first, second) = join(send(&svc, first), send(&svc, second)).await;
        let (winner, loser) = match (first.status.is_success(), second.status.is_success()) {
            (true, false) => (&acme.token, &second),
            (false, true) => (&other, &first),
            _ => panic!("round {round}: exactly one change must go through: {} {}", first.body, second.body),
        };
        loser.assert_error(409, "CONFLICT");
        let team = send(&svc, get("/v1/users", winner)).await.expect(200);
        let owners = team["data"].as_array().unwrap().iter().filter(|u| u["role"] == "owner").count();
        assert_eq!(owners, 1, "round {round}: the company keeps its owner: {team}");
    }
}
