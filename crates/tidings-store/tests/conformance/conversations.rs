//! Contacts, devices and conversations.

use std::sync::Arc;

use tidings_domain::{
    AppRepo, CompanyId, ContactFields, ContactQuery, ContactRepo, ConversationId, ConversationPatch,
    ConversationQuery, ConversationRepo, ConversationStatus, DeviceRepo, Direction, MessageRepo, NewApp,
    NewMessage, Platform, RepoErrorKind, Sender,
};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::error_kind;
use crate::users::company;

backend_tests!(
    contacts_are_searched_within_their_company,
    a_device_is_registered_once_with_an_anonymous_contact,
    one_open_conversation_per_contact_and_app,
    conversations_list_by_activity_with_filters,
    merging_contacts_moves_devices_and_conversations,
    unread_counts_follow_the_agents_read_position,
    last_messages_are_each_conversations_newest,
);

pub async fn app(db: &TestDb, name: &str) -> tidings_domain::App {
    let c = company(db, name).await;
    db.store().create_app(NewApp { company_id: c.id, name: "Web".into() }).await.unwrap()
}

fn fields(name: &str, email: &str, phone: &str) -> ContactFields {
    ContactFields {
        name: Some(name.into()),
        email: Some(email.into()),
        phone: Some(phone.into()),
        ..ContactFields::default()
    }
}

async fn contacts_are_searched_within_their_company(db: &TestDb) {
    let acme = company(db, "Acme").await;
    let globex = company(db, "Globex").await;
    let s = db.store();
    let ada = s
        .create_contact(acme.id, fields("Ada Lovelace", "Ada@Example.com", "+44 20 7946 0018"))
        .await
        .unwrap();
    let bob = s.create_contact(acme.id, fields("Bob 100%", "bob@example.com", "+1 555 0100")).await.unwrap();
    s.create_contact(globex.id, fields("Ada Clone", "ada@globex.test", "+44 20 0000")).await.unwrap();
    assert_eq!(ada.email.as_deref(), Some("ada@example.com"));

    let search = |q: &str| ContactQuery { search: Some(q.into()), after: None, ids: None, limit: 50 };
    let ids = |v: Vec<tidings_domain::Contact>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(ids(s.list_contacts(acme.id, search("lovelace")).await.unwrap()), vec![ada.id]);
    assert_eq!(ids(s.list_contacts(acme.id, search("EXAMPLE.COM")).await.unwrap()), vec![ada.id, bob.id]);
    assert_eq!(ids(s.list_contacts(acme.id, search("555 01")).await.unwrap()), vec![bob.id]);
    assert_eq!(ids(s.list_contacts(acme.id, search("100%")).await.unwrap()), vec![bob.id], "% is literal");
    assert_eq!(
        ids(s.list_contacts(acme.id, search("ada")).await.unwrap()),
        vec![ada.id],
        "never another tenant's"
    );
    let page = s
        .list_contacts(acme.id, ContactQuery { search: None, after: Some(ada.id), ids: None, limit: 50 })
        .await
        .unwrap();
    assert_eq!(ids(page), vec![bob.id]);

    let err = s.get_contact(globex.id, ada.id).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    let patch = ContactFields { name: Some("Ada King".into()), ..ContactFields::default() };
    assert_eq!(
        error_kind(&s.update_contact(globex.id, ada.id, patch.clone()).await),
        Some(RepoErrorKind::NotFound)
    );
    let updated = s.update_contact(acme.id, ada.id, patch).await.unwrap();
    assert_eq!(updated.name.as_deref(), Some("Ada King"));
    assert_eq!(updated.email.as_deref(), Some("ada@example.com"), "unset fields are kept");

    let found = s.find_contact_by_identity(acme.id, None, Some("ADA@example.com")).await.unwrap();
    assert_eq!(found.map(|c| c.id), Some(ada.id));
    assert_eq!(s.find_contact_by_identity(globex.id, None, Some("ada@example.com")).await.unwrap(), None);
}

async fn a_device_is_registered_once_with_an_anonymous_contact(db: &TestDb) {
    let web = app(db, "Acme").await;
    let store = Arc::new(db.store().clone());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(
                async move { store.device_for(web.company_id, web.id, "dev-1", Platform::Ios).await },
            )
        })
        .collect();
    let mut devices = Vec::new();
    for t in tasks {
        devices.push(t.await.unwrap().unwrap());
    }
    assert!(devices.iter().all(|d| d.id == devices[0].id), "racing registrations share one device");
    assert_eq!(db.count_rows("devices").await, 1);
    assert_eq!(db.count_rows("contacts").await, 1, "no orphan contact from the losing registrations");
    let contact = db.store().get_contact(web.company_id, devices[0].contact_id).await.unwrap();
    assert_eq!(contact.name, None);
    let updated = db
        .store()
        .update_device(web.company_id, devices[0].id, Platform::Android, Some("push-tok".into()))
        .await
        .unwrap();
    assert_eq!((updated.platform, updated.push_token.as_deref()), (Platform::Android, Some("push-tok")));
    let stranger = CompanyId::new();
    let foreign = db.store().update_device(stranger, devices[0].id, Platform::Ios, None).await;
    assert_eq!(
        error_kind(&foreign),
        Some(RepoErrorKind::NotFound),
        "another company cannot touch the device"
    );

    // A device moves to another contact of its company, never to one of another company.
    let other = db.store().create_contact(web.company_id, ContactFields::default()).await.unwrap();
    let moved = db.store().assign_device(web.company_id, devices[0].id, other.id).await.unwrap();
    assert_eq!(moved.contact_id, other.id);
    let globex = app(db, "Globex").await;
    let theirs = db.store().create_contact(globex.company_id, ContactFields::default()).await.unwrap();
    assert!(db.store().assign_device(web.company_id, devices[0].id, theirs.id).await.is_err());
    assert!(db.store().assign_device(globex.company_id, devices[0].id, theirs.id).await.is_err());
    let still =
        db.store().device_for(web.company_id, web.id, &devices[0].device_id, Platform::Web).await.unwrap();
    assert_eq!(still.contact_id, other.id);
}

async fn one_open_conversation_per_contact_and_app(db: &TestDb) {
    let web = app(db, "Acme").await;
    let device = db.store().device_for(web.company_id, web.id, "dev-1", Platform::Web).await.unwrap();
    let store = Arc::new(db.store().clone());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            let (company, contact, app) = (web.company_id, device.contact_id, web.id);
            tokio::spawn(
                async move { store.open_conversation(company, contact, Some(app), Platform::Web).await },
            )
        })
        .collect();
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap().unwrap().id);
    }
    assert!(ids.iter().all(|id| *id == ids[0]));
    assert_eq!(db.count_rows("conversations").await, 1);

    let resolved = ConversationPatch { status: Some(ConversationStatus::Resolved), assignee_id: None };
    db.store().update_conversation(web.company_id, ids[0], resolved).await.unwrap();
    let next = db
        .store()
        .open_conversation(web.company_id, device.contact_id, Some(web.id), Platform::Web)
        .await
        .unwrap();
    assert_ne!(next.id, ids[0], "a resolved conversation is not reopened");
    assert_eq!((next.status, next.last_sequence), (ConversationStatus::Open, 0));
}

async fn conversations_list_by_activity_with_filters(db: &TestDb) {
    let web = app(db, "Acme").await;
    let other = app(db, "Globex").await;
    let s = db.store();
    let mut convs = Vec::new();
    for i in 0..5 {
        let d = s.device_for(web.company_id, web.id, &format!("dev-{i}"), Platform::Web).await.unwrap();
        convs.push(
            s.open_conversation(web.company_id, d.contact_id, Some(web.id), Platform::Web).await.unwrap(),
        );
    }
    let d = s.device_for(other.company_id, other.id, "dev-x", Platform::Web).await.unwrap();
    s.open_conversation(other.company_id, d.contact_id, Some(other.id), Platform::Web).await.unwrap();
    // Activity on the oldest conversation moves it to the top.
    let new = NewMessage {
        company_id: web.company_id,
        conversation_id: convs[0].id,
        local_id: None,
        sender: Sender::Contact,
        author_id: None,
        direction: Direction::Inbound,
        platform: Some(Platform::Web),
        body: "hello".into(),
        attachments: serde_json::json!([]),
        awaiting_forward: false,
        uploads: Vec::new(),
    };
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    s.append_message(new).await.unwrap();

    let all = |after| ConversationQuery { limit: 2, after, ..ConversationQuery::default() };
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = s.list_conversations(web.company_id, all(after)).await.unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|c| (c.updated_at, c.id));
        seen.extend(page.into_iter().map(|c| c.id));
    }
    assert_eq!(seen.len(), 5, "every conversation exactly once, none of another company");
    assert_eq!(seen[0], convs[0].id);
    let mut expected: Vec<_> = convs[1..].iter().map(|c| c.id).rev().collect();
    expected.insert(0, convs[0].id);
    assert_eq!(seen, expected);

    let patch = ConversationPatch { status: Some(ConversationStatus::Pending), assignee_id: None };
    s.update_conversation(web.company_id, convs[2].id, patch).await.unwrap();
    let pending =
        ConversationQuery { status: Some(ConversationStatus::Pending), limit: 50, ..Default::default() };
    let listed = s.list_conversations(web.company_id, pending).await.unwrap();
    assert_eq!(listed.iter().map(|c| c.id).collect::<Vec<_>>(), vec![convs[2].id]);
    let by_contact =
        ConversationQuery { contact_id: Some(convs[3].contact_id), limit: 50, ..Default::default() };
    assert_eq!(s.list_conversations(web.company_id, by_contact).await.unwrap().len(), 1);
    let ios = ConversationQuery { platform: Some(Platform::Ios), limit: 50, ..Default::default() };
    assert!(s.list_conversations(web.company_id, ios).await.unwrap().is_empty());
    assert_eq!(
        error_kind(&s.get_conversation(other.company_id, convs[0].id).await),
        Some(RepoErrorKind::NotFound)
    );
}

async fn merging_contacts_moves_devices_and_conversations(db: &TestDb) {
    let web = app(db, "Acme").await;
    let s = db.store();
    let known = s.create_contact(web.company_id, fields("Ada", "ada@example.com", "1")).await.unwrap();
    let old = s.open_conversation(web.company_id, known.id, Some(web.id), Platform::Web).await.unwrap();
    let device = s.device_for(web.company_id, web.id, "dev-1", Platform::Web).await.unwrap();
    let anon =
        s.open_conversation(web.company_id, device.contact_id, Some(web.id), Platform::Web).await.unwrap();

    s.merge_contacts(web.company_id, device.contact_id, known.id).await.unwrap();
    let moved = s.device_for(web.company_id, web.id, "dev-1", Platform::Web).await.unwrap();
    assert_eq!(moved.contact_id, known.id);
    assert_eq!(
        error_kind(&s.get_contact(web.company_id, device.contact_id).await),
        Some(RepoErrorKind::NotFound)
    );
    let anon_after = s.get_conversation(web.company_id, anon.id).await.unwrap();
    assert_eq!(anon_after.contact_id, known.id);
    assert_eq!(
        anon_after.status,
        ConversationStatus::Resolved,
        "the colliding open conversation is resolved"
    );
    let open = s.open_conversation(web.company_id, known.id, Some(web.id), Platform::Web).await.unwrap();
    assert_eq!(open.id, old.id);

    // Never into another company's contact, and never out of one: nothing moves.
    let globex = app(db, "Globex").await;
    let theirs = s.create_contact(globex.company_id, fields("Eve", "eve@example.com", "9")).await.unwrap();
    let other = s.device_for(web.company_id, web.id, "dev-2", Platform::Web).await.unwrap();
    let into_foreign = s.merge_contacts(web.company_id, other.contact_id, theirs.id).await;
    assert!(into_foreign.as_ref().is_err_and(|e| e.is_not_found()), "{into_foreign:?}");
    let from_foreign = s.merge_contacts(globex.company_id, known.id, theirs.id).await;
    assert!(from_foreign.is_ok(), "scoped to Globex, Acme's contact matches nothing");
    let still = s.device_for(web.company_id, web.id, "dev-2", Platform::Web).await.unwrap();
    assert_eq!(still.contact_id, other.contact_id, "the device stayed with its contact");
    assert_eq!(s.get_conversation(web.company_id, old.id).await.unwrap().contact_id, known.id);
    assert!(s.get_contact(web.company_id, known.id).await.is_ok(), "Acme's contact was not deleted");
}

async fn unread_counts_follow_the_agents_read_position(db: &TestDb) {
    let web = app(db, "Acme").await;
    let s = db.store();
    let d = s.device_for(web.company_id, web.id, "dev-1", Platform::Web).await.unwrap();
    let conv = s.open_conversation(web.company_id, d.contact_id, Some(web.id), Platform::Web).await.unwrap();
    for (i, direction) in [Direction::Inbound, Direction::Inbound, Direction::Outbound, Direction::Inbound]
        .into_iter()
        .enumerate()
    {
        let new = NewMessage {
            company_id: web.company_id,
            conversation_id: conv.id,
            local_id: None,
            sender: if direction == Direction::Inbound { Sender::Contact } else { Sender::Agent },
            author_id: None,
            direction,
            platform: Some(Platform::Web),
            body: format!("m{i}"),
            attachments: serde_json::json!([]),
            awaiting_forward: false,
            uploads: Vec::new(),
        };
        s.append_message(new).await.unwrap();
    }
    assert_eq!(s.unread_counts(web.company_id, &[conv.id]).await.unwrap(), vec![(conv.id, 3)]);
    s.advance_status(web.company_id, conv.id, Direction::Inbound, 2, tidings_domain::MessageStatus::Read)
        .await
        .unwrap();
    assert_eq!(s.unread_counts(web.company_id, &[conv.id]).await.unwrap(), vec![(conv.id, 1)]);
    let other = company(db, "Globex").await;
    assert!(s.unread_counts(other.id, &[conv.id]).await.unwrap().is_empty(), "scoped by company");
}

async fn last_messages_are_each_conversations_newest(db: &TestDb) {
    let web = app(db, "Acme").await;
    let s = db.store();
    let mut conversations = Vec::new();
    for device in ["dev-1", "dev-2", "dev-3"] {
        let d = s.device_for(web.company_id, web.id, device, Platform::Web).await.unwrap();
        conversations.push(
            s.open_conversation(web.company_id, d.contact_id, Some(web.id), Platform::Web).await.unwrap(),
        );
    }
    let send = |conversation_id, body: &str| NewMessage {
        company_id: web.company_id,
        conversation_id,
        local_id: None,
        sender: Sender::Contact,
        author_id: None,
        direction: Direction::Inbound,
        platform: Some(Platform::Web),
        body: body.into(),
        attachments: serde_json::json!([]),
        awaiting_forward: false,
        uploads: Vec::new(),
    };
    for body in ["first", "second", "third"] {
        s.append_message(send(conversations[0].id, body)).await.unwrap();
    }
    s.append_message(send(conversations[1].id, "only")).await.unwrap();
    let ids: Vec<_> = conversations.iter().map(|c| c.id).collect();
    let mut last: Vec<(ConversationId, i64, String)> = s
        .last_messages(web.company_id, &ids)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.conversation_id, m.sequence, m.body))
        .collect();
    last.sort_by_key(|(id, ..)| ids.iter().position(|i| i == id));
    assert_eq!(
        last,
        vec![(ids[0], 3, "third".to_owned()), (ids[1], 1, "only".to_owned())],
        "the newest of each, none for a conversation without messages"
    );
    let other = company(db, "Globex").await;
    assert!(s.last_messages(other.id, &ids).await.unwrap().is_empty(), "scoped by company");
}
