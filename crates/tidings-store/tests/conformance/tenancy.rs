//! The database itself keeps references inside one company: even a store call with mixed ids (a bug
//! in a service) cannot link a row to another company's.

use tidings_domain::{
    ContactFields, ContactRepo, ConversationPatch, ConversationRepo, DeviceRepo, Platform, UserRepo,
};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::conversations::app;
use crate::users::new_user;

backend_tests!(references_never_cross_companies);

async fn references_never_cross_companies(db: &TestDb) {
    let (acme, globex) = (app(db, "Acme").await, app(db, "Globex").await);
    let s = db.store();
    let device = s.device_for(acme.company_id, acme.id, "dev-1", Platform::Web).await.unwrap();
    let conv =
        s.open_conversation(acme.company_id, device.contact_id, Some(acme.id), Platform::Web).await.unwrap();
    let stranger = s.create_user(new_user(globex.company_id, "eve@globex.test")).await.unwrap();
    let theirs = s.create_contact(globex.company_id, ContactFields::default()).await.unwrap();

    let assign = ConversationPatch { status: None, assignee_id: Some(Some(stranger.id)) };
    let assigned = s.update_conversation(acme.company_id, conv.id, assign).await;
    assert!(assigned.as_ref().is_err_and(|e| e.is_not_found()), "another company's assignee: {assigned:?}");
    assert_eq!(s.get_conversation(acme.company_id, conv.id).await.unwrap().assignee_id, None);

    let opened = s.open_conversation(acme.company_id, theirs.id, Some(acme.id), Platform::Web).await;
    assert!(opened.as_ref().is_err_and(|e| e.is_not_found()), "another company's contact: {opened:?}");
    let foreign_app =
        s.open_conversation(acme.company_id, device.contact_id, Some(globex.id), Platform::Web).await;
    assert!(foreign_app.as_ref().is_err_and(|e| e.is_not_found()), "another company's app: {foreign_app:?}");
    let registered = s.device_for(acme.company_id, globex.id, "dev-9", Platform::Web).await;
    assert!(
        registered.as_ref().is_err_and(|e| e.is_not_found()),
        "a device of another company's app: {registered:?}"
    );
    let moved = s.assign_device(acme.company_id, device.id, theirs.id).await;
    assert!(moved.is_err(), "a device moved to another company's contact: {moved:?}");
    assert_eq!(db.count_rows("devices").await, 1);
    assert_eq!(db.count_rows("conversations").await, 1);
}
