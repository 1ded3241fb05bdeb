//! Google Calendar sync through a stand-in of Google's token endpoint and Calendar API: confirmed
//! appointments are inserted, moved and edited ones patched, cancelled ones deleted, with a token
//! refreshed when it is refused; companies without a calendar queue nothing.

use std::sync::Arc;

use serde_json::{Value, json};
use tidings_domain::{CompanyId, IntegrationKind, IntegrationRepo, OutboxKind, OutboxRepo};
use tidings_forwarding::{Channel, GoogleCalendar, GoogleEndpoints, Worker, WorkerSettings};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Caller, delete, get, member, patch, put, register, settings};
use crate::{at, book, monday};

backend_tests!(confirmed_appointments_reach_the_connected_calendar_and_leave_it_when_cancelled);

async fn deliver(db: &TestDb, google: &MockServer) {
    let endpoints = GoogleEndpoints {
        calendar: format!("{}/calendar/v3", google.uri()),
        token: format!("{}/token", google.uri()),
    };
    let channel = GoogleCalendar::new(Arc::new(db.store().clone()), settings().cipher(), endpoints).unwrap();
    let channels: Vec<Arc<dyn Channel>> = vec![Arc::new(channel)];
    let worker = Worker::new(Arc::new(db.store().clone()), channels, WorkerSettings::default());
    for _ in 0..50 {
        if worker.tick().await == 0 {
            return;
        }
    }
    panic!("the outbox did not drain");
}

async fn confirmed_appointments_reach_the_connected_calendar_and_leave_it_when_cancelled(db: &TestDb) {
    let svc = crate::app!(db);
    let google = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(|_: &wiremock::Request| {
            ResponseTemplate::new(200).set_body_json(
                json!({ "access_token": format!("ya29.token-{}", uuid_like()), "expires_in": 3600 }),
            )
        })
        .mount(&google)
        .await;
    // The first patch is refused as if the token had been revoked: a fresh one is fetched.
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&google)
        .await;
    Mock::given(path_regex("^/calendar/v3/calendars/team%40acme.test/events"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "status": "confirmed" })))
        .mount(&google)
        .await;

    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    let connect = json!({ "calendar_id": "team@acme.test", "client_id": "client-1.apps.googleusercontent.com",
        "client_secret": "GOCSPX-client-secret-0123456789", "refresh_token": "1//refresh-token-0123456789abcdef" });
    let (_, agent) = member(&svc, &acme, "agent@acme.test", "agent").await;
    svc.call(put("/v1/integrations/google-calendar", &agent, connect.clone()))
        .await
        .assert_error(403, "FORBIDDEN");
    let shown = svc.call(put("/v1/integrations/google-calendar", &acme.token, connect)).await.expect(200);
    assert_eq!((shown["connected"].as_bool(), shown["refresh_token"].as_str()), (Some(true), Some("…cdef")));
    assert!(!shown.to_string().contains("GOCSPX"), "{shown}");
    let read = svc.call(get("/v1/integrations/google-calendar", &acme.token)).await.expect(200);
    assert_eq!(read, shown);
    let company: CompanyId = acme.company_id.parse().unwrap();
    let stored = db.store().get_integration(company, IntegrationKind::GoogleCalendar).await.unwrap().unwrap();
    assert!(!stored.secrets.unwrap().contains("refresh-token"), "sealed at rest");

    // Pending: not in the calendar yet. Confirmed, moved, edited, cancelled.
    let body = json!({ "starts_at": at(monday(), 10, 0), "duration": 30, "name": "Ada", "email": "ada@example.com" });
    let ada = book(&svc, &acme, body).await.expect(201);
    let ada_path = format!("/v1/appointments/{}", ada["id"].as_str().unwrap());
    deliver(db, &google).await;
    svc.call(patch(&ada_path, &acme.token, json!({ "status": "confirmed" }))).await.expect(200);
    deliver(db, &google).await;
    svc.call(put(&ada_path, &acme.token, json!({ "starts_at": at(monday(), 11, 0) }))).await.expect(200);
    deliver(db, &google).await;
    svc.call(put(&ada_path, &acme.token, json!({ "inquiry": "Bring the dog" }))).await.expect(200);
    deliver(db, &google).await;
    svc.call(delete(&ada_path, &acme.token)).await.expect(200);
    // Booked confirmed, then completed: inserted once, and left in the calendar.
    let body =
        json!({ "starts_at": at(monday(), 14, 0), "duration": 60, "name": "Bob", "status": "confirmed" });
    let bob = book(&svc, &acme, body).await.expect(201);
    let bob_path = format!("/v1/appointments/{}", bob["id"].as_str().unwrap());
    svc.call(patch(&bob_path, &acme.token, json!({ "status": "completed" }))).await.expect(200);
    // Confirmed and cancelled before the insert went out: the calendar is only asked to delete.
    let body = json!({ "starts_at": at(monday(), 16, 0), "duration": 15, "status": "confirmed" });
    let eve = book(&svc, &acme, body).await.expect(201);
    svc.call(delete(&format!("/v1/appointments/{}", eve["id"].as_str().unwrap()), &acme.token))
        .await
        .expect(200);
    // Another company without a calendar queues nothing.
    let theirs = json!({ "starts_at": at(monday(), 10, 0), "duration": 30, "status": "confirmed" });
    book(&svc, &globex, theirs).await.expect(201);
    let other: CompanyId = globex.company_id.parse().unwrap();
    let none = db.store().list_outbox(other, None, Some(OutboxKind::CalendarSync), None, 10).await.unwrap();
    assert!(none.is_empty());

    deliver(db, &google).await;
    let calls: Vec<(String, String, Value, String)> = google
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let auth =
                r.headers.get("authorization").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
            (
                r.method.to_string(),
                r.url.path().to_owned(),
                serde_json::from_slice(&r.body).unwrap_or(Value::Null),
                auth,
            )
        })
        .collect();
    let hex = |v: &Value| v["id"].as_str().unwrap().replace('-', "");
    let (ada_event, bob_event, eve_event) = (hex(&ada), hex(&bob), hex(&eve));
    let events = "/calendar/v3/calendars/team%40acme.test/events";
    let of = |event: &str| -> Vec<(String, String)> {
        calls
            .iter()
            .filter(|(_, path, body, _)| path.ends_with(event) || body["id"] == event)
            .map(|(method, path, _, _)| (method.clone(), path.replace(events, "")))
            .collect()
    };
    // Each appointment's calls in order (the refused patch is made again with a fresh token).
    let on_ada = [("POST", ""), ("PATCH", "/e"), ("PATCH", "/e"), ("PATCH", "/e"), ("DELETE", "/e")];
    let on_ada: Vec<(String, String)> =
        on_ada.iter().map(|(m, p)| ((*m).to_owned(), p.replace("/e", &format!("/{ada_event}")))).collect();
    assert_eq!(of(&ada_event), on_ada, "{calls:?}");
    assert_eq!(of(&bob_event), [("POST".to_owned(), String::new())], "inserted, and left when completed");
    assert_eq!(of(&eve_event), [("DELETE".to_owned(), format!("/{eve_event}"))]);
    let inserts: Vec<&Value> =
        calls.iter().filter(|c| c.0 == "POST" && c.1 != "/token").map(|c| &c.2).collect();
    assert_eq!(inserts[0]["id"], ada_event.as_str());
    assert_eq!(inserts[0]["summary"], "Appointment with Ada");
    assert_eq!(inserts[1]["id"], bob_event.as_str());
    let last_patch = calls.iter().rfind(|c| c.0 == "PATCH").unwrap();
    assert_eq!(crate::time(&last_patch.2["start"]["dateTime"]), crate::time(&json!(at(monday(), 11, 0))));
    assert!(last_patch.2["description"].as_str().unwrap().contains("About: Bring the dog"));
    let token_calls = calls.iter().filter(|c| c.1 == "/token").count();
    assert_eq!(token_calls, 2, "one at first use, one after the refusal");
    for (_, path, _, auth) in &calls {
        if path != "/token" {
            assert!(auth.starts_with("Bearer ya29.token-"), "{auth}");
        }
    }
    let form = google
        .received_requests()
        .await
        .unwrap()
        .iter()
        .find(|r| r.url.path() == "/token")
        .map(|r| String::from_utf8(r.body.clone()).unwrap())
        .unwrap();
    assert!(
        form.contains("grant_type=refresh_token")
            && form.contains("client_id=client-1.apps.googleusercontent.com"),
        "{form}"
    );

    // Disconnected: nothing more is queued.
    svc.call(delete("/v1/integrations/google-calendar", &acme.token)).await.expect(204);
    let later = json!({ "starts_at": at(monday(), 16, 30), "duration": 30, "status": "confirmed" });
    book(&svc, &acme, later).await.expect(201);
    deliver(db, &google).await;
    let after = google.received_requests().await.unwrap().len();
    assert_eq!(after, calls.len(), "no call once disconnected");
}

fn uuid_like() -> String {
    format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos())
}
