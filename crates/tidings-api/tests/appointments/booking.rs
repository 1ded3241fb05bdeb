//! Booking, moving, status changes and cancellation; the rules a booking keeps.

use futures_util::future::join_all;
use serde_json::json;
use tidings_domain::AppointmentStatus;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::support::{Caller, delete, get, member, patch, put, register, sdk, sdk_app};
use crate::{at, book, monday, slot, time};

backend_tests!(
    an_agent_books_moves_confirms_and_completes,
    twenty_racing_bookings_of_one_slot_let_exactly_one_through,
    overlaps_are_refused_for_every_pair_of_durations_and_adjacent_slots_are_fine,
    bookings_keep_to_the_future_the_business_hours_and_the_durations,
    every_status_change_outside_the_machine_is_a_conflict_naming_the_allowed_ones,
    customers_book_for_themselves_and_see_only_their_own,
    lists_page_by_start_time_with_a_total_under_filters,
);

async fn an_agent_books_moves_confirms_and_completes(db: &TestDb) {
    let svc = crate::app!(db);
    let owner = register(&svc, "Acme", "owner@acme.test").await;
    let (agent_id, agent) = member(&svc, &owner, "agent@acme.test", "agent").await;
    let booked = svc
        .call(crate::support::post(
            "/v1/appointments",
            &agent,
            json!({
                "starts_at": at(monday(), 10, 0), "duration": 30, "name": " Ada Lovelace ",
                "email": "Ada@Example.com", "phone": "+44 20 7946 0000", "company_name": "Engines Ltd",
                "inquiry": "Grooming for a very good dog",
            }),
        ))
        .await
        .expect(201);
    assert_eq!(booked["status"], "pending");
    assert_eq!(booked["name"], "Ada Lovelace");
    assert_eq!(booked["created_by"], format!("user:{agent_id}"));
    assert_eq!(time(&booked["ends_at"]), time(&json!(at(monday(), 10, 30))));
    let id = booked["id"].as_str().unwrap();
    let path = format!("/v1/appointments/{id}");

    let moved = svc
        .call(put(
            &path,
            &agent,
            json!({ "starts_at": at(monday(), 10, 15), "duration": 45, "phone": "+44 1" }),
        ))
        .await
        .expect(200);
    assert_eq!((moved["duration"].as_i64(), moved["phone"].as_str()), (Some(45), Some("+44 1")));
    assert_eq!(moved["email"], "Ada@Example.com", "fields left out stay");
    let confirmed = svc.call(patch(&path, &agent, json!({ "status": "confirmed" }))).await.expect(200);
    assert_eq!(confirmed["status"], "confirmed");
    let done = svc.call(patch(&path, &agent, json!({ "status": "completed" }))).await.expect(200);
    assert_eq!(done["status"], "completed");
    svc.call(put(&path, &agent, json!({ "inquiry": "late edit" }))).await.assert_error(409, "CONFLICT");
    let read = svc.call(get(&path, &owner.token)).await.expect(200);
    assert_eq!(
        (read["status"].as_str(), read["starts_at"].clone()),
        (Some("completed"), moved["starts_at"].clone())
    );

    // A completed appointment holds no time: the slot is bookable again.
    book(&svc, &owner, slot(10, 15, 45)).await.expect(201);
}

async fn twenty_racing_bookings_of_one_slot_let_exactly_one_through(db: &TestDb) {
    let svc = crate::app!(db);
    let owner = register(&svc, "Acme", "owner@acme.test").await;
    let replies = join_all((0..20).map(|n| {
        let minutes = [15, 30, 45, 60][n % 4];
        book(&svc, &owner, slot(11, 0, minutes))
    }))
    .await;
    let winners: Vec<_> = replies.iter().filter(|r| r.status == 201).collect();
    assert_eq!(winners.len(), 1, "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    let winner = winners[0].body["id"].clone();
    for loser in replies.iter().filter(|r| r.status != 201) {
        loser.assert_error(409, "CONFLICT");
        assert_eq!(loser.body["error"]["details"]["clashes_with"][0]["id"], winner, "{}", loser.body);
    }
    let listed = svc.call(get("/v1/appointments", &owner.token)).await.expect(200);
    assert_eq!(listed["total"], 1);
}

async fn overlaps_are_refused_for_every_pair_of_durations_and_adjacent_slots_are_fine(db: &TestDb) {
    let svc = crate::app!(db);
    let owner = register(&svc, "Acme", "owner@acme.test").await;
    for held in [15, 30, 45, 60] {
        let first = book(&svc, &owner, slot(12, 0, held)).await.expect(201);
        for other in [15, 30, 45, 60] {
            // Every start from `other` minutes before to just before the end overlaps.
            for start in (12 * 60 - other + 15..12 * 60 + held).step_by(15) {
                let (h, m) = (start / 60, start % 60);
                let clash = book(&svc, &owner, slot(h as u32, m as u32, other)).await;
                clash.assert_error(409, "CONFLICT");
            }
        }
        let before = book(&svc, &owner, slot(11, 0, 60)).await.expect(201);
        let end = 12 * 60 + held;
        let after = book(&svc, &owner, slot((end / 60) as u32, (end % 60) as u32, 15)).await.expect(201);
        for freed in [&first, &before, &after] {
            let path = format!("/v1/appointments/{}", freed["id"].as_str().unwrap());
            svc.call(delete(&path, &owner.token)).await.expect(200);
        }
    }
}

async fn bookings_keep_to_the_future_the_business_hours_and_the_durations(db: &TestDb) {
    let svc = crate::app!(db);
    let owner = register(&svc, "Acme", "owner@acme.test").await;
    let past = monday() - chrono::Duration::days(28);
    let saturday = monday() + chrono::Duration::days(5);
    for (body, field) in [
        (json!({ "starts_at": at(past, 10, 0), "duration": 30 }), "starts_at"),
        (json!({ "starts_at": at(saturday, 10, 0), "duration": 30 }), "starts_at"),
        (json!({ "starts_at": at(monday(), 8, 45), "duration": 30 }), "starts_at"),
        (json!({ "starts_at": at(monday(), 16, 45), "duration": 30 }), "starts_at"),
        (json!({ "starts_at": at(monday(), 10, 5), "duration": 30 }), "starts_at"),
        (json!({ "starts_at": at(monday(), 10, 0), "duration": 20 }), "duration"),
        (json!({ "starts_at": at(monday(), 10, 0), "duration": 30, "email": "nope" }), "email"),
        (json!({ "starts_at": at(monday(), 10, 0), "duration": 30, "status": "completed" }), "status"),
    ] {
        let reply = book(&svc, &owner, body.clone()).await;
        reply.assert_error(400, "VALIDATION_ERROR");
        assert!(reply.body["error"]["details"]["fields"][field].is_array(), "{body} {}", reply.body);
    }
    book(&svc, &owner, json!({ "starts_at": at(monday(), 10, 0), "duration": 30, "colour": "red" }))
        .await
        .assert_error(400, "VALIDATION_ERROR");
    assert_eq!(db.count_rows("appointments").await, 0, "nothing refused was stored");

    // Saturdays from 10:00 in New York, a 20-minute grid.
    let settings = json!({
        "time_zone": "America/New_York", "slot_step_min": 20,
        "business_hours": { "sat": { "open": "10:00", "close": "14:00" } },
    });
    let (_, agent) = member(&svc, &owner, "agent@acme.test", "agent").await;
    svc.call(put("/v1/appointments/settings", &agent, settings.clone())).await.assert_error(403, "FORBIDDEN");
    let stored = svc.call(put("/v1/appointments/settings", &owner.token, settings)).await.expect(200);
    assert_eq!(
        (stored["reminder_hours"].as_i64(), stored["time_zone"].as_str()),
        (Some(24), Some("America/New_York"))
    );
    let read = svc.call(get("/v1/appointments/settings", &agent)).await.expect(200);
    assert_eq!(read, stored);
    book(&svc, &owner, slot(10, 0, 30)).await.assert_error(400, "VALIDATION_ERROR");
    // 10:20 in New York is 15:20 UTC in winter and 14:20 in summer; take it from the zone.
    let local = saturday.and_hms_opt(10, 20, 0).unwrap();
    let start = chrono::TimeZone::from_local_datetime(&chrono_tz::America::New_York, &local).unwrap();
    let body = json!({ "starts_at": start.to_rfc3339(), "duration": 60 });
    book(&svc, &owner, body).await.expect(201);
    let bad = json!({ "time_zone": "Mars/Olympus" });
    let reply = svc.call(put("/v1/appointments/settings", &owner.token, bad)).await;
    reply.assert_error(400, "VALIDATION_ERROR");
    assert!(reply.body["error"]["details"]["fields"]["time_zone"].is_array());
}

async fn every_status_change_outside_the_machine_is_a_conflict_naming_the_allowed_ones(db: &TestDb) {
    let svc = crate::app!(db);
    let owner = register(&svc, "Acme", "owner@acme.test").await;
    let all = ["pending", "confirmed", "cancelled", "completed", "no_show"];
    let mut hour = 9;
    for from in all {
        for to in all {
            let id =
                book(&svc, &owner, slot(hour, 0, 15)).await.expect(201)["id"].as_str().unwrap().to_owned();
            let path = format!("/v1/appointments/{id}");
            // Walk to `from` along allowed moves.
            let route: &[&str] = match from {
                "pending" => &[],
                "confirmed" => &["confirmed"],
                "cancelled" => &["cancelled"],
                "completed" => &["confirmed", "completed"],
                _ => &["confirmed", "no_show"],
            };
            for step in route {
                svc.call(patch(&path, &owner.token, json!({ "status": step }))).await.expect(200);
            }
            let status: AppointmentStatus = from.parse().unwrap();
            let allowed: Vec<&str> = status.next().iter().map(|s| s.as_str()).collect();
            let reply = svc.call(patch(&path, &owner.token, json!({ "status": to }))).await;
            if allowed.contains(&to) {
                assert_eq!(reply.expect(200)["status"], to);
            } else {
                reply.assert_error(409, "CONFLICT");
                let details = &reply.body["error"]["details"];
                assert_eq!((details["from"].as_str(), details["to"].as_str()), (Some(from), Some(to)));
                assert_eq!(details["allowed"], json!(allowed), "{from} -> {to}");
            }
            // Free the slot for the next pair (cancelling works only from active ones).
            let _ = svc.call(delete(&path, &owner.token)).await;
            hour = if hour == 16 { 9 } else { hour + 1 };
        }
    }
}

async fn customers_book_for_themselves_and_see_only_their_own(db: &TestDb) {
    let svc = crate::app!(db);
    let owner = register(&svc, "Acme", "owner@acme.test").await;
    let app = sdk_app(&svc, &owner).await;
    let device = |req| sdk(req, &app, "phone-1");
    let post = |path: &str, body| actix_web::test::TestRequest::post().uri(path).set_json(body);
    let mine = svc
        .call(device(post(
            "/v1/appointments",
            json!({ "starts_at": at(monday(), 9, 0), "duration": 15, "email": "me@home.test" }),
        )))
        .await
        .expect(201);
    assert_eq!(mine["status"], "pending");
    let contact = mine["contact_id"].as_str().unwrap().to_owned();
    assert_eq!(mine["created_by"], format!("contact:{contact}"));
    let confirm = json!({ "starts_at": at(monday(), 9, 30), "duration": 15, "status": "confirmed" });
    svc.call(device(post("/v1/appointments", confirm))).await.assert_error(403, "FORBIDDEN");

    // An agent's booking for somebody else: the device neither sees nor touches it.
    let other = book(&svc, &owner, slot(10, 0, 15)).await.expect(201);
    let theirs = format!("/v1/appointments/{}", other["id"].as_str().unwrap());
    let listed =
        svc.call(device(actix_web::test::TestRequest::get().uri("/v1/appointments"))).await.expect(200);
    assert_eq!((listed["total"].as_i64(), listed["data"][0]["id"].clone()), (Some(1), mine["id"].clone()));
    let read = svc.call(device(actix_web::test::TestRequest::get().uri(&theirs))).await;
    read.assert_error(404, "NOT_FOUND");
    svc.call(device(actix_web::test::TestRequest::delete().uri(&theirs)))
        .await
        .assert_error(404, "NOT_FOUND");
    let status =
        actix_web::test::TestRequest::patch().uri(&theirs).set_json(json!({ "status": "confirmed" }));
    svc.call(device(status)).await.assert_error(403, "FORBIDDEN");
    // A clash shows a customer when, never whose.
    let clash = svc
        .call(device(post("/v1/appointments", json!({ "starts_at": at(monday(), 10, 0), "duration": 15 }))))
        .await;
    clash.assert_error(409, "CONFLICT");
    assert_eq!(clash.body["error"]["details"]["clashes_with"][0].get("id"), None, "{}", clash.body);
    // Their own: moved and cancelled by the customer.
    let own = format!("/v1/appointments/{}", mine["id"].as_str().unwrap());
    let move_it =
        actix_web::test::TestRequest::put().uri(&own).set_json(json!({ "starts_at": at(monday(), 11, 0) }));
    assert_eq!(
        svc.call(device(move_it)).await.expect(200)["starts_at"],
        svc.call(get(&own, &owner.token)).await.expect(200)["starts_at"]
    );
    let cancelled = svc.call(device(actix_web::test::TestRequest::delete().uri(&own))).await.expect(200);
    assert_eq!(cancelled["status"], "cancelled");
    svc.call(device(actix_web::test::TestRequest::delete().uri(&own))).await.assert_error(409, "CONFLICT");
}

async fn lists_page_by_start_time_with_a_total_under_filters(db: &TestDb) {
    let svc = crate::app!(db);
    let owner = register(&svc, "Acme", "owner@acme.test").await;
    // Booked out of order: 16:00, 15:30, ... 09:00 on the Monday, every other one confirmed.
    for n in 0..15 {
        let minutes = 16 * 60 - 30 * n;
        let id = book(&svc, &owner, slot(minutes / 60, minutes % 60, 30)).await.expect(201)["id"].clone();
        if n % 2 == 0 {
            let path = format!("/v1/appointments/{}", id.as_str().unwrap());
            svc.call(patch(&path, &owner.token, json!({ "status": "confirmed" }))).await.expect(200);
        }
    }
    for (filter, expected) in [("", 15), ("&status=confirmed", 8)] {
        let (mut starts, mut uri) = (Vec::new(), format!("/v1/appointments?limit=4{filter}"));
        loop {
            let page = svc.call(get(&uri, &owner.token)).await.expect(200);
            assert_eq!(page["total"], expected, "{page}");
            starts.extend(page["data"].as_array().unwrap().iter().map(|a| time(&a["starts_at"])));
            match page["next_cursor"].as_str() {
                Some(cursor) => uri = format!("/v1/appointments?limit=4{filter}&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(starts.len(), expected as usize, "each once");
        assert!(starts.windows(2).all(|w| w[0] < w[1]), "by start time: {starts:?}");
    }
    let window = format!("/v1/appointments?from={}&to={}", at(monday(), 10, 0), at(monday(), 12, 0))
        .replace('+', "%2B");
    let page = svc.call(get(&window, &owner.token)).await.expect(200);
    assert_eq!(page["total"], 4, "10:00, 10:30, 11:00, 11:30: {page}");
    svc.call(get("/v1/appointments?cursor=nonsense", &owner.token))
        .await
        .assert_error(400, "VALIDATION_ERROR");
    svc.call(get("/v1/appointments?status=later", &owner.token)).await.assert_error(400, "VALIDATION_ERROR");
}
