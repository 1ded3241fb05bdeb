//! Appointments: the store refuses overlapping active appointments of one company, under racing
//! writers too; adjacent slots, cancelled slots and other companies' slots are free; filters.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use tidings_domain::{
    Appointment, AppointmentId, AppointmentQuery, AppointmentRepo, AppointmentStatus, CompanyId, CompanyRepo,
    ContactFields, ContactRepo, DURATIONS, RepoErrorKind,
};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::conversations::app;
use crate::error_kind;

backend_tests!(
    racing_bookings_of_one_slot_let_exactly_one_through,
    overlaps_are_refused_for_every_pair_of_durations_and_adjacent_slots_are_fine,
    cancelled_slots_are_free_and_other_companies_never_clash,
    appointments_are_listed_by_start_with_filters_and_a_total,
    due_reminders_are_found_across_companies_and_cleared_once,
    a_company_setting_is_set_without_touching_the_others,
);

fn at(hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 3, 4, hour, minute, 0).single().unwrap()
}

fn booking(company_id: CompanyId, starts_at: DateTime<Utc>, duration_min: i32) -> Appointment {
    Appointment {
        id: AppointmentId::new(),
        company_id,
        contact_id: None,
        conversation_id: None,
        starts_at,
        duration_min,
        status: AppointmentStatus::Pending,
        personal_sealed: None,
        email_index: None,
        key_id: None,
        remind_at: None,
        inquiry: None,
        created_by: "user:test".into(),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

async fn racing_bookings_of_one_slot_let_exactly_one_through(db: &TestDb) {
    let acme = app(db, "Acme").await.company_id;
    let store = Arc::new(db.store().clone());
    let racers: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.create_appointment(booking(acme, at(10, 0), 30)).await })
        })
        .collect();
    let mut kinds = Vec::new();
    for racer in racers {
        kinds.push(error_kind(&racer.await.unwrap()));
    }
    assert_eq!(kinds.iter().filter(|k| k.is_none()).count(), 1, "{kinds:?}");
    assert!(kinds.iter().flatten().all(|k| *k == RepoErrorKind::Exclusion), "{kinds:?}");
    assert_eq!(db.count_rows("appointments").await, 1);
}

async fn overlaps_are_refused_for_every_pair_of_durations_and_adjacent_slots_are_fine(db: &TestDb) {
    let acme = app(db, "Acme").await.company_id;
    let s = db.store();
    for first in DURATIONS {
        for second in DURATIONS {
            let held = s.create_appointment(booking(acme, at(10, 0), first)).await.unwrap();
            let ends = at(10, 0) + Duration::minutes(i64::from(first));
            let late_overlap = ends - Duration::minutes(5);
            let early_overlap = at(10, 0) - Duration::minutes(i64::from(second)) + Duration::minutes(5);
            for start in [at(10, 0), late_overlap, early_overlap] {
                let clash = s.create_appointment(booking(acme, start, second)).await;
                assert_eq!(
                    error_kind(&clash),
                    Some(RepoErrorKind::Exclusion),
                    "{first} then {second} at {start}"
                );
            }
            let after = s.create_appointment(booking(acme, ends, second)).await.unwrap();
            let before_start = at(10, 0) - Duration::minutes(i64::from(second));
            let before = s.create_appointment(booking(acme, before_start, second)).await.unwrap();
            // Free the morning for the next pair.
            for mut done in [held, after, before] {
                done.status = AppointmentStatus::Cancelled;
                s.update_appointment(done, AppointmentStatus::Pending).await.unwrap();
            }
        }
    }
    let clash = s.create_appointment(booking(acme, at(10, 0), 15)).await;
    assert!(clash.is_ok(), "every earlier booking was cancelled");
}

async fn cancelled_slots_are_free_and_other_companies_never_clash(db: &TestDb) {
    let acme = app(db, "Acme").await.company_id;
    let globex = app(db, "Globex").await.company_id;
    let s = db.store();
    let mut first = s.create_appointment(booking(acme, at(9, 0), 60)).await.unwrap();
    s.create_appointment(booking(globex, at(9, 0), 60)).await.expect("another company's calendar");
    first.status = AppointmentStatus::Cancelled;
    let cancelled = s.update_appointment(first, AppointmentStatus::Pending).await.unwrap();
    let second = s.create_appointment(booking(acme, at(9, 30), 30)).await.expect("a cancelled slot is free");
    let mut revived = cancelled.clone();
    revived.status = AppointmentStatus::Confirmed;
    let stale = s.update_appointment(revived.clone(), AppointmentStatus::Pending).await;
    assert_eq!(error_kind(&stale), Some(RepoErrorKind::NotFound), "its status is no longer pending");
    let revived = s.update_appointment(revived, AppointmentStatus::Cancelled).await;
    assert_eq!(error_kind(&revived), Some(RepoErrorKind::Exclusion));
    let mut moved = second.clone();
    moved.starts_at = at(9, 45);
    moved.duration_min = 15;
    let moved = s.update_appointment(moved, AppointmentStatus::Pending).await.unwrap();
    assert_eq!(moved.ends_at(), at(10, 0));
    // Finished ones do not hold their time either.
    let mut done = moved;
    done.status = AppointmentStatus::Completed;
    s.update_appointment(done, AppointmentStatus::Pending).await.unwrap();
    s.create_appointment(booking(acme, at(9, 45), 15)).await.expect("a completed slot is not held");

    let foreign = s.get_appointment(globex, cancelled.id).await;
    assert_eq!(error_kind(&foreign), Some(RepoErrorKind::NotFound));
    let theirs = s.create_contact(globex, ContactFields::default()).await.unwrap();
    let crossing = Appointment { contact_id: Some(theirs.id), ..booking(acme, at(15, 0), 15) };
    assert!(s.create_appointment(crossing).await.is_err(), "a contact of another company");
}

async fn appointments_are_listed_by_start_with_filters_and_a_total(db: &TestDb) {
    let acme = app(db, "Acme").await.company_id;
    let s = db.store();
    let contact = s.create_contact(acme, ContactFields::default()).await.unwrap();
    for hour in [14, 9, 11] {
        let mut b = booking(acme, at(hour, 0), 30);
        if hour == 11 {
            b.contact_id = Some(contact.id);
            b.email_index = Some("idx-ada".into());
            b.status = AppointmentStatus::Confirmed;
        }
        s.create_appointment(b).await.unwrap();
    }
    let query = AppointmentQuery { limit: 2, ..AppointmentQuery::default() };
    let (page, total) = s.list_appointments(acme, query.clone()).await.unwrap();
    assert_eq!(total, 3);
    assert_eq!(page.iter().map(|a| a.starts_at).collect::<Vec<_>>(), [at(9, 0), at(11, 0)]);
    let last = page.last().unwrap();
    let next = AppointmentQuery { after: Some((last.starts_at, last.id)), ..query };
    let (rest, _) = s.list_appointments(acme, next).await.unwrap();
    assert_eq!(rest.iter().map(|a| a.starts_at).collect::<Vec<_>>(), [at(14, 0)]);
    for filter in [
        AppointmentQuery {
            email_indexes: Some(vec!["idx-old".into(), "idx-ada".into()]),
            limit: 10,
            ..AppointmentQuery::default()
        },
        AppointmentQuery { contact_id: Some(contact.id), limit: 10, ..AppointmentQuery::default() },
        AppointmentQuery {
            status: Some(AppointmentStatus::Confirmed),
            limit: 10,
            ..AppointmentQuery::default()
        },
        AppointmentQuery {
            from: Some(at(10, 0)),
            to: Some(at(12, 0)),
            limit: 10,
            ..AppointmentQuery::default()
        },
    ] {
        let (found, total) = s.list_appointments(acme, filter.clone()).await.unwrap();
        assert_eq!((found.len(), total, found[0].starts_at), (1, 1, at(11, 0)), "{filter:?}");
    }
    let busy = s.active_between(acme, at(9, 15), at(11, 15)).await.unwrap();
    assert_eq!(busy.iter().map(|a| a.starts_at).collect::<Vec<_>>(), [at(9, 0), at(11, 0)]);
    let (other, total) = s
        .list_appointments(
            app(db, "Globex").await.company_id,
            AppointmentQuery { limit: 10, ..AppointmentQuery::default() },
        )
        .await
        .unwrap();
    assert_eq!((other.len(), total), (0, 0));
}

async fn due_reminders_are_found_across_companies_and_cleared_once(db: &TestDb) {
    let (acme, globex) = (app(db, "Acme").await.company_id, app(db, "Globex").await.company_id);
    let s = db.store();
    let due = Appointment { remind_at: Some(at(8, 0)), ..booking(acme, at(10, 0), 30) };
    let theirs = Appointment { remind_at: Some(at(7, 0)), ..booking(globex, at(10, 0), 30) };
    let later = Appointment { remind_at: Some(at(9, 30)), ..booking(acme, at(11, 0), 30) };
    let cancelled = Appointment {
        remind_at: Some(at(8, 0)),
        status: AppointmentStatus::Cancelled,
        ..booking(acme, at(12, 0), 30)
    };
    for appointment in [&due, &theirs, &later, &cancelled] {
        s.create_appointment(appointment.clone()).await.unwrap();
    }
    let found = s.due_reminders(at(9, 0), 10).await.unwrap();
    assert_eq!(
        found.iter().map(|a| a.id).collect::<Vec<_>>(),
        [theirs.id, due.id],
        "soonest first, active only"
    );
    assert!(!s.clear_reminder(acme, due.id, at(7, 0)).await.unwrap(), "moved in between");
    assert!(!s.clear_reminder(globex, due.id, at(8, 0)).await.unwrap(), "another company's");
    assert!(s.clear_reminder(acme, due.id, at(8, 0)).await.unwrap());
    assert!(!s.clear_reminder(acme, due.id, at(8, 0)).await.unwrap(), "only once");
    let left = s.due_reminders(at(9, 0), 10).await.unwrap();
    assert_eq!(left.iter().map(|a| a.id).collect::<Vec<_>>(), [theirs.id]);
    assert_eq!(s.get_appointment(acme, due.id).await.unwrap().remind_at, None);
}

async fn a_company_setting_is_set_without_touching_the_others(db: &TestDb) {
    let (acme, globex) = (app(db, "Acme").await.company_id, app(db, "Globex").await.company_id);
    let s = db.store();
    s.put_company_setting(acme, "other", serde_json::json!({ "kept": true })).await.unwrap();
    let hours = serde_json::json!({ "time_zone": "Europe/Berlin", "slot_step_min": 30 });
    let company = s.put_company_setting(acme, "appointments", hours.clone()).await.unwrap();
    assert_eq!(company.settings, serde_json::json!({ "other": { "kept": true }, "appointments": hours }));
    let replaced = s.put_company_setting(acme, "appointments", serde_json::json!({})).await.unwrap();
    assert_eq!(replaced.settings["appointments"], serde_json::json!({}));
    assert_eq!(s.get_company(globex).await.unwrap().settings, serde_json::json!({}));
    let missing = s.put_company_setting(CompanyId::new(), "appointments", hours).await;
    assert_eq!(error_kind(&missing), Some(RepoErrorKind::NotFound));
}
