//! Push tokens of devices: the targets of a contact's notifications, and clearing a token the push
//! service refused.

use tidings_domain::{CompanyId, ContactFields, ContactRepo, DeviceId, DeviceRepo, Platform};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::conversations::app;

backend_tests!(
    push_targets_are_the_contacts_devices_with_a_token,
    a_refused_token_is_cleared_unless_replaced,
);

async fn push_targets_are_the_contacts_devices_with_a_token(db: &TestDb) {
    let web = app(db, "Acme").await;
    let s = db.store();
    let phone = s.device_for(web.company_id, web.id, "phone", Platform::Ios).await.unwrap();
    let contact = phone.contact_id;
    s.update_device(web.company_id, phone.id, Platform::Ios, Some("apns-1".into())).await.unwrap();
    // A second device of the same contact with a token, one without, and another contact's.
    let tablet = s.device_for(web.company_id, web.id, "tablet", Platform::Android).await.unwrap();
    s.assign_device(web.company_id, tablet.id, contact).await.unwrap();
    s.update_device(web.company_id, tablet.id, Platform::Android, Some("fcm-2".into())).await.unwrap();
    let laptop = s.device_for(web.company_id, web.id, "laptop", Platform::Web).await.unwrap();
    s.assign_device(web.company_id, laptop.id, contact).await.unwrap();
    let stranger = s.device_for(web.company_id, web.id, "stranger", Platform::Ios).await.unwrap();
    s.update_device(web.company_id, stranger.id, Platform::Ios, Some("apns-9".into())).await.unwrap();

    let targets = s.push_targets(web.company_id, contact).await.unwrap();
    let tokens: Vec<_> = targets.iter().map(|d| d.push_token.as_deref().unwrap()).collect();
    assert_eq!(tokens, ["apns-1", "fcm-2"], "the contact's devices with a token, oldest first");
    assert!(targets.iter().all(|d| d.contact_id == contact));
    assert_eq!(s.push_targets(CompanyId::new(), contact).await.unwrap(), [], "another company sees none");
    let nobody = s.create_contact(web.company_id, ContactFields::default()).await.unwrap();
    assert_eq!(s.push_targets(web.company_id, nobody.id).await.unwrap(), []);
    // Inside a unit of work too.
    let unit = s.begin().await.unwrap();
    assert_eq!(unit.push_targets(web.company_id, contact).await.unwrap().len(), 2);
}

async fn a_refused_token_is_cleared_unless_replaced(db: &TestDb) {
    let web = app(db, "Acme").await;
    let s = db.store();
    let phone = s.device_for(web.company_id, web.id, "phone", Platform::Ios).await.unwrap();
    s.update_device(web.company_id, phone.id, Platform::Ios, Some("old".into())).await.unwrap();

    assert!(!s.clear_push_token(CompanyId::new(), phone.id, "old").await.unwrap(), "another company's");
    assert!(!s.clear_push_token(web.company_id, DeviceId::new(), "old").await.unwrap(), "no such device");
    s.update_device(web.company_id, phone.id, Platform::Ios, Some("new".into())).await.unwrap();
    assert!(!s.clear_push_token(web.company_id, phone.id, "old").await.unwrap(), "a newer token stays");
    let kept = s.find_device(web.company_id, web.id, "phone").await.unwrap().unwrap();
    assert_eq!(kept.push_token.as_deref(), Some("new"));

    assert!(s.clear_push_token(web.company_id, phone.id, "new").await.unwrap());
    let cleared = s.find_device(web.company_id, web.id, "phone").await.unwrap().unwrap();
    assert_eq!((cleared.push_token, cleared.platform), (None, Platform::Ios), "only the token goes");
    assert_eq!(s.push_targets(web.company_id, phone.contact_id).await.unwrap(), []);
    assert!(!s.clear_push_token(web.company_id, phone.id, "new").await.unwrap(), "already cleared");
}
