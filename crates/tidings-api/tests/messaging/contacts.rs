//! Contacts: agents' CRUD and search, and SDK identification that merges contacts when signed.

use actix_web::test::TestRequest;
use serde_json::json;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::app;
use crate::guarantees::{body, setup};
use crate::identity_verification::{identity_secret, user_hash};
use crate::support::{get, patch, post, register, sdk, send};

backend_tests!(
    agents_manage_and_search_contacts,
    identify_merges_the_device_into_a_known_contact,
    contacts_are_listed_by_ids_within_the_company,
);

async fn contacts_are_listed_by_ids_within_the_company(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    let mut ids = Vec::new();
    for name in ["Ada", "Bob", "Cy"] {
        let contact =
            send(&svc, post("/v1/contacts", &acme.token, json!({ "name": name }))).await.expect(201);
        ids.push(contact["id"].as_str().unwrap().to_owned());
    }
    let theirs = send(&svc, post("/v1/contacts", &globex.token, json!({ "name": "Eve" }))).await.expect(201);
    let theirs = theirs["id"].as_str().unwrap();

    // Two of ours and one of another company: only ours come back, in id order.
    let uri = format!("/v1/contacts?ids={},{theirs},{}", ids[2], ids[0]);
    let page = send(&svc, get(&uri, &acme.token)).await.expect(200);
    let names: Vec<&str> =
        page["data"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Ada", "Cy"]);
    // With a search, both apply.
    let uri = format!("/v1/contacts?ids={},{}&q=cy", ids[0], ids[2]);
    let page = send(&svc, get(&uri, &acme.token)).await.expect(200);
    assert_eq!(page["data"].as_array().unwrap().len(), 1);

    send(&svc, get("/v1/contacts?ids=not-a-uuid", &acme.token)).await.assert_error(400, "VALIDATION_ERROR");
    let many = [ids[0].as_str(); 3].join(",");
    send(&svc, get(&format!("/v1/contacts?ids={many}&limit=2"), &acme.token))
        .await
        .assert_error(400, "VALIDATION_ERROR");
}

async fn agents_manage_and_search_contacts(db: &TestDb) {
    let svc = app!(db);
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let ada = json!({ "name": "Ada Lovelace", "email": "Ada@Example.com", "phone": "+44 20 7946 0018", "metadata": { "plan": "pro" } });
    let created = send(&svc, post("/v1/contacts", &acme.token, ada)).await.expect(201);
    assert_eq!(
        (created["email"].as_str(), created["metadata"]["plan"].as_str()),
        (Some("ada@example.com"), Some("pro"))
    );
    let id = created["id"].as_str().unwrap();
    send(&svc, post("/v1/contacts", &acme.token, json!({ "name": "Bob", "facebook_id": "fb-1" })))
        .await
        .expect(201);

    let found = send(&svc, get("/v1/contacts?q=lovelace", &acme.token)).await.expect(200);
    assert_eq!(found["data"].as_array().unwrap().len(), 1);
    assert_eq!(found["data"][0]["id"], id);
    let page = send(&svc, get("/v1/contacts?limit=1", &acme.token)).await.expect(200);
    let next = page["next_cursor"].as_str().unwrap();
    let rest = send(&svc, get(&format!("/v1/contacts?limit=1&after={next}"), &acme.token)).await.expect(200);
    assert_eq!(rest["data"][0]["name"], "Bob");

    let updated = send(&svc, patch(&format!("/v1/contacts/{id}"), &acme.token, json!({ "phone": "+44 1" })))
        .await
        .expect(200);
    assert_eq!((updated["phone"].as_str(), updated["name"].as_str()), (Some("+44 1"), Some("Ada Lovelace")));
    for bad in [
        json!({ "email": "nope" }),
        json!({ "metadata": [1] }),
        json!({ "name": " " }),
        json!({ "colour": "red" }),
    ] {
        send(&svc, post("/v1/contacts", &acme.token, bad)).await.assert_error(400, "VALIDATION_ERROR");
    }
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    send(&svc, get(&format!("/v1/contacts/{id}"), &globex.token)).await.assert_error(404, "NOT_FOUND");
    send(&svc, patch(&format!("/v1/contacts/{id}"), &globex.token, json!({ "name": "x" })))
        .await
        .assert_error(404, "NOT_FOUND");
    let theirs = send(&svc, get("/v1/contacts?q=ada", &globex.token)).await.expect(200);
    assert!(theirs["data"].as_array().unwrap().is_empty());
}

async fn identify_merges_the_device_into_a_known_contact(db: &TestDb) {
    let svc = app!(db);
    let (acme, web, conv) = setup(&svc).await;
    let path = format!("/v1/conversations/{conv}/messages");
    send(&svc, sdk(TestRequest::post().uri(&path).set_json(body("hi, it's me")), &web, "dev-1"))
        .await
        .expect(201);
    let secret = identity_secret(&svc, &acme, &web).await;
    let signed = json!({ "name": "Ada", "external_id": "crm-7", "user_hash": user_hash(&secret, "crm-7") });
    let identify = TestRequest::post().uri("/v1/identify").set_json(signed);
    let known = send(&svc, sdk(identify, &web, "laptop")).await.expect(200);

    let identify = TestRequest::post()
        .uri("/v1/identify")
        .set_json(json!({ "external_id": "crm-7", "user_hash": user_hash(&secret, "crm-7") }));
    let merged = send(&svc, sdk(identify, &web, "dev-1")).await.expect(200);
    assert_eq!(merged["id"], known["id"], "the device now belongs to the known contact");
    assert_eq!(merged["external_id"], "crm-7");
    let conversation = send(&svc, get(&format!("/v1/conversations/{conv}"), &acme.token)).await.expect(200);
    assert_eq!(conversation["contact_id"], known["id"], "its conversation moved along");
    let history = send(&svc, sdk(TestRequest::get().uri(&path), &web, "dev-1")).await.expect(200);
    assert_eq!(history["data"][0]["body"], "hi, it's me", "the device still sees its history");
    assert_eq!(merged["name"], "Ada");
    assert_eq!(db.count_rows("contacts").await, 1, "the anonymous contact is gone");

    let rename = TestRequest::post().uri("/v1/identify").set_json(json!({ "name": "Ada L." }));
    assert_eq!(send(&svc, sdk(rename, &web, "dev-1")).await.expect(200)["name"], "Ada L.");
    let empty = TestRequest::post().uri("/v1/identify").set_json(json!({}));
    send(&svc, sdk(empty, &web, "dev-1")).await.assert_error(400, "VALIDATION_ERROR");
    let device =
        TestRequest::put().uri("/v1/device").set_json(json!({ "platform": "ios", "push_token": "apns-123" }));
    let reported = send(&svc, sdk(device, &web, "dev-1")).await.expect(200);
    assert_eq!(
        (reported["platform"].as_str(), reported["push_token"].as_str()),
        (Some("ios"), Some("apns-123"))
    );
}
