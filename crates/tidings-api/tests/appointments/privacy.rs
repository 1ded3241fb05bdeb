//! Personal data sealed at rest, the e-mail filter through the blind index, and other companies.

use std::sync::Arc;

use serde_json::json;
use tidings_domain::{AppointmentId, AppointmentRepo, CompanyId};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::support::{Caller, delete, get, patch, put, register, settings};
use crate::{at, book, monday, slot};

backend_tests!(
    personal_data_is_sealed_at_rest_and_found_by_e_mail,
    after_a_key_rotation_appointments_are_sealed_again_and_still_found,
    another_company_neither_sees_nor_clashes_with_a_slot,
);

async fn personal_data_is_sealed_at_rest_and_found_by_e_mail(db: &TestDb) {
    let svc = crate::app!(db);
    let owner = register(&svc, "Acme", "owner@acme.test").await;
    let body = json!({
        "starts_at": at(monday(), 9, 0), "duration": 30, "name": "Ada Lovelace",
        "email": "Ada@Example.com", "phone": "+44 20 7946 0000", "company_name": "Analytical Engines",
    });
    let ada = book(&svc, &owner, body).await.expect(201);
    let mut other = slot(10, 0, 30);
    other["email"] = json!("bob@example.com");
    book(&svc, &owner, other).await.expect(201);
    book(&svc, &owner, slot(11, 0, 30)).await.expect(201);

    let company: CompanyId = owner.company_id.parse().unwrap();
    let id: AppointmentId = ada["id"].as_str().unwrap().parse().unwrap();
    let raw = db.store().get_appointment(company, id).await.unwrap();
    let sealed = raw.personal_sealed.clone().unwrap();
    for secret in ["Ada", "ada@example.com", "Example", "7946", "Analytical"] {
        assert!(!sealed.contains(secret), "{secret} in {sealed}");
    }
    let index = raw.email_index.clone().unwrap();
    assert!(!index.contains("ada") && index.len() == 64, "a keyed digest: {index}");
    assert!(raw.key_id.is_some_and(|key| sealed.starts_with(&key)));

    for email in ["ada@example.com", "  ADA@example.COM ", "Ada%40Example.com"] {
        let path = format!("/v1/appointments?email={}", email.replace(' ', "%20"));
        let found = svc.call(get(&path, &owner.token)).await.expect(200);
        assert_eq!(
            (found["total"].as_i64(), found["data"][0]["id"].clone()),
            (Some(1), ada["id"].clone()),
            "{email}"
        );
        assert_eq!(found["data"][0]["phone"], "+44 20 7946 0000");
    }
    let nobody = svc.call(get("/v1/appointments?email=eve@example.com", &owner.token)).await.expect(200);
    assert_eq!(nobody["total"], 0);

    // An edit seals again: the new address is found, the old one no longer.
    let path = format!("/v1/appointments/{id}");
    svc.call(put(&path, &owner.token, json!({ "email": "ada@engines.test" }))).await.expect(200);
    let old = svc.call(get("/v1/appointments?email=ada@example.com", &owner.token)).await.expect(200);
    let new = svc.call(get("/v1/appointments?email=ada@engines.test", &owner.token)).await.expect(200);
    assert_eq!((old["total"].as_i64(), new["total"].as_i64()), (Some(0), Some(1)));
    let resealed = db.store().get_appointment(company, id).await.unwrap().personal_sealed.unwrap();
    assert_ne!(resealed, sealed);
}

async fn another_company_neither_sees_nor_clashes_with_a_slot(db: &TestDb) {
    let svc = crate::app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    let mut body = slot(9, 0, 60);
    body["email"] = json!("ada@example.com");
    let ours = book(&svc, &acme, body.clone()).await.expect(201);
    book(&svc, &globex, body).await.expect(201);
    let path = format!("/v1/appointments/{}", ours["id"].as_str().unwrap());
    svc.call(get(&path, &globex.token)).await.assert_error(404, "NOT_FOUND");
    svc.call(put(&path, &globex.token, json!({ "inquiry": "mine now" })))
        .await
        .assert_error(404, "NOT_FOUND");
    svc.call(patch(&path, &globex.token, json!({ "status": "confirmed" })))
        .await
        .assert_error(404, "NOT_FOUND");
    svc.call(delete(&path, &globex.token)).await.assert_error(404, "NOT_FOUND");
    for list in ["/v1/appointments", "/v1/appointments?email=ada@example.com"] {
        let theirs = svc.call(get(list, &globex.token)).await.expect(200);
        assert_eq!(theirs["total"], 1, "only their own");
        assert_ne!(theirs["data"][0]["id"], ours["id"]);
    }
    // Another company's contact or conversation cannot be linked.
    let contact = svc
        .call(crate::support::post("/v1/contacts", &globex.token, json!({ "name": "Eve" })))
        .await
        .expect(201);
    let mut linked = slot(12, 0, 15);
    linked["contact_id"] = contact["id"].clone();
    let reply = book(&svc, &acme, linked).await;
    reply.assert_error(400, "VALIDATION_ERROR");
    assert!(reply.body["error"]["details"]["fields"]["contact_id"].is_array());
    let read = svc.call(get(&path, &acme.token)).await.expect(200);
    assert_eq!(read["status"], "pending", "untouched by the other company");
}

async fn after_a_key_rotation_appointments_are_sealed_again_and_still_found(db: &TestDb) {
    use tidings_forwarding::{AppointmentReseal, Job};
    let old = settings();
    let rotated = tidings_auth::AuthSettings {
        encryption_key: [42; 32],
        previous_encryption_keys: vec![old.encryption_key],
        ..settings()
    };
    let only_new = tidings_auth::AuthSettings { encryption_key: [42; 32], ..settings() };
    let before =
        actix_web::test::init_service(tidings_api::app(crate::support::state(db, old.clone()))).await;
    let owner = register(&before, "Acme", "owner@acme.test").await;
    let mut ids = Vec::new();
    for (hour, email) in [(9, "ada@example.com"), (10, "bob@example.com")] {
        let mut body = slot(hour, 0, 30);
        body["email"] = json!(email);
        ids.push(book(&before, &owner, body).await.expect(201)["id"].as_str().unwrap().to_owned());
    }
    let find = |svc_email: &'static str| format!("/v1/appointments?email={svc_email}");

    // The new key with the old one beside it: everything opens and is found.
    let during =
        actix_web::test::init_service(tidings_api::app(crate::support::state(db, rotated.clone()))).await;
    let found = during.call(get(&find("ada@example.com"), &owner.token)).await.expect(200);
    assert_eq!((found["total"].as_i64(), found["data"][0]["name"].as_str()), (Some(1), Some("Ada Lovelace")));
    // The job seals them again under the new key: then the old key can go.
    let reseal = AppointmentReseal::new(
        Arc::new(db.store().clone()),
        rotated.cipher(),
        std::time::Duration::from_secs(60),
    );
    reseal.run().await.unwrap();
    let company: CompanyId = owner.company_id.parse().unwrap();
    for id in &ids {
        let raw = db.store().get_appointment(company, id.parse().unwrap()).await.unwrap();
        assert_eq!(raw.key_id.as_deref(), Some(rotated.cipher().key_id()));
    }
    let after = actix_web::test::init_service(tidings_api::app(crate::support::state(db, only_new))).await;
    let found = after.call(get(&find("bob@example.com"), &owner.token)).await.expect(200);
    assert_eq!(
        (found["total"].as_i64(), found["data"][0]["email"].as_str()),
        (Some(1), Some("bob@example.com"))
    );
    let read = after.call(get(&format!("/v1/appointments/{}", ids[0]), &owner.token)).await.expect(200);
    assert_eq!(read["email"], "ada@example.com");
    // And the old key alone no longer opens them.
    let stale = actix_web::test::init_service(tidings_api::app(crate::support::state(db, old))).await;
    stale
        .call(get(&format!("/v1/appointments/{}", ids[0]), &owner.token))
        .await
        .assert_error(500, "INTERNAL");
}
