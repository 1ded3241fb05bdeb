//! Free slots: business hours minus active bookings, in the company's time zone.

use serde_json::json;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::support::{Caller, delete, get, put, register, sdk, sdk_app};
use crate::{book, monday, slot, time};

backend_tests!(free_slots_leave_out_bookings_and_follow_the_business_hours);

fn starts(reply: &serde_json::Value) -> Vec<String> {
    reply["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| time(&s["starts_at"]).format("%H:%M").to_string())
        .collect()
}

async fn free_slots_leave_out_bookings_and_follow_the_business_hours(db: &TestDb) {
    let svc = crate::app!(db);
    let owner = register(&svc, "Acme", "owner@acme.test").await;
    let path = format!("/v1/appointments/availability?date={}&duration=60", monday());
    let empty = svc.call(get(&path, &owner.token)).await.expect(200);
    assert_eq!((empty["time_zone"].as_str(), empty["duration"].as_i64()), (Some("UTC"), Some(60)));
    let all = starts(&empty);
    assert_eq!(
        (all.first().map(String::as_str), all.last().map(String::as_str), all.len()),
        (Some("09:00"), Some("16:00"), 29)
    );

    let held = book(&svc, &owner, slot(10, 0, 45)).await.expect(201);
    let cancelled = book(&svc, &owner, slot(13, 0, 30)).await.expect(201);
    svc.call(delete(&format!("/v1/appointments/{}", cancelled["id"].as_str().unwrap()), &owner.token))
        .await
        .expect(200);
    let app = sdk_app(&svc, &owner).await;
    let widget = svc.call(sdk(actix_web::test::TestRequest::get().uri(&path), &app, "widget")).await;
    let free = starts(&widget.expect(200));
    // A 60-minute slot may not touch 10:00-10:45: 09:00 ends at 10:00 (adjacent), 09:15 to 10:30 overlap.
    assert!(free.contains(&"09:00".to_owned()) && free.contains(&"10:45".to_owned()), "{free:?}");
    for taken in ["09:15", "09:45", "10:00", "10:30"] {
        assert!(!free.contains(&taken.to_owned()), "{taken} in {free:?}");
    }
    assert!(free.contains(&"13:00".to_owned()), "a cancelled booking frees its time");
    assert_eq!(free.len(), all.len() - 6);
    let _ = held;

    // Other hours and zone: Mondays 08:00-10:00 in Tokyo (UTC+9), 30-minute grid.
    let settings = json!({
        "time_zone": "Asia/Tokyo", "slot_step_min": 30,
        "business_hours": { "mon": { "open": "08:00", "close": "10:00" } },
    });
    svc.call(put("/v1/appointments/settings", &owner.token, settings)).await.expect(200);
    let tokyo = svc
        .call(get(&format!("/v1/appointments/availability?date={}&duration=30", monday()), &owner.token))
        .await
        .expect(200);
    // 08:00 Tokyo on the Monday is 23:00 UTC the day before.
    assert_eq!(starts(&tokyo), ["23:00", "23:30", "00:00", "00:30"]);
    let tuesday = monday() + chrono::Duration::days(1);
    let closed = svc
        .call(get(&format!("/v1/appointments/availability?date={tuesday}&duration=30"), &owner.token))
        .await;
    assert_eq!(closed.expect(200)["slots"], json!([]));
    let bad = svc
        .call(get(&format!("/v1/appointments/availability?date={tuesday}&duration=25"), &owner.token))
        .await;
    bad.assert_error(400, "VALIDATION_ERROR");
    let no_date = svc.call(get("/v1/appointments/availability?duration=30", &owner.token)).await;
    no_date.assert_error(400, "VALIDATION_ERROR");
}
