//! Appointment events reach the company's agents live on both doors, and nobody else: not the
//! company's devices, not another company's agents.

use std::time::Duration;

use serde_json::json;
use tidings_api::RealtimeSettings;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::live::{Live, as_refs, sdk_headers};
use crate::socketio::{Sio, device_auth};

backend_tests!(agents_hear_appointments_booked_moved_and_cancelled_on_both_doors);

async fn agents_hear_appointments_booked_moved_and_cancelled_on_both_doors(db: &TestDb) {
    let live = Live::start(db, RealtimeSettings::default()).await;
    let (owner, _) = live.register("Acme", "owner@acme.test").await;
    let (rival, _) = live.register("Globex", "owner@globex.test").await;
    let app = live.sdk_app(&owner).await;
    let mut native = live.ws(&[("authorization", &format!("Bearer {owner}"))]).await;
    native.until("connected").await;
    let mut spy = live.ws(&[("authorization", &format!("Bearer {rival}"))]).await;
    spy.until("connected").await;
    let mut device = live.ws(&as_refs(&sdk_headers(&app, "dev-1"))).await;
    device.until("connected").await;
    let mut admin = Sio::open(&live).await;
    admin.connect("/admin", json!({ "token": owner })).await.unwrap();
    admin.until("/admin", "connected").await;
    let mut client = Sio::open(&live).await;
    client.connect("/client", device_auth(&app, "dev-2")).await.unwrap();
    client.until("/client", "connected").await;

    let auth = format!("Bearer {owner}");
    let day = chrono::Utc::now().date_naive() + chrono::Duration::days(14);
    let monday =
        day - chrono::Duration::days(i64::from(chrono::Datelike::weekday(&day).num_days_from_monday()));
    let start = |hour| format!("{monday}T{hour:02}:00:00Z");
    let body = json!({ "starts_at": start(10), "duration": 30, "name": "Ada", "email": "ada@example.com" });
    let (status, booked) =
        live.call(reqwest::Method::POST, "/v1/appointments", &[("authorization", &auth)], Some(body)).await;
    assert_eq!(status, 201, "{booked}");
    let path = format!("/v1/appointments/{}", booked["id"].as_str().unwrap());
    let created = native.until("appointment.created").await;
    assert_eq!(created["appointment"], booked, "the API's appointment");
    let created = admin.until("/admin", "appointment:created").await;
    assert_eq!(created["appointment"]["email"], "ada@example.com");

    let moved = json!({ "starts_at": start(11) });
    let (status, _) = live.call(reqwest::Method::PUT, &path, &[("authorization", &auth)], Some(moved)).await;
    assert_eq!(status, 200);
    assert_eq!(native.until("appointment.updated").await["appointment"]["starts_at"], start(11));
    admin.until("/admin", "appointment:updated").await;
    let (status, _) = live.call(reqwest::Method::DELETE, &path, &[("authorization", &auth)], None).await;
    assert_eq!(status, 200);
    assert_eq!(native.until("appointment.cancelled").await["appointment"]["status"], "cancelled");
    admin.until("/admin", "appointment:cancelled").await;

    for kind in ["appointment.created", "appointment.updated", "appointment.cancelled"] {
        spy.quiet(kind, Duration::from_millis(300)).await;
        device.quiet(kind, Duration::from_millis(100)).await;
    }
    client.quiet("appointment:created", Duration::from_millis(300)).await;
    live.stop().await;
}
