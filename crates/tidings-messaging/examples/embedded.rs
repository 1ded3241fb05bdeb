//! Tidings without HTTP: a Rust program that opens the store, then lets a contact and an agent talk,
//! using only `tidings-store` and `tidings-messaging`.
//!
//! Run with `cargo run -p tidings-messaging --example embedded [sqlite://PATH | postgres://…]`.

use std::sync::Arc;

use tidings_domain::{
    AppRepo, Caller, ClientPrincipal, CompanyRepo, MessageCursor, NewApp, NewCompany, NewUser, Principal,
    Role,
};
use tidings_messaging::{Hub, HubSettings, LocalBus, Messaging, Receipt, ReceiptInput, SendMessageInput};
use tidings_store::{PoolOptions, Store};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("tidings-embedded-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url =
        std::env::args().nth(1).unwrap_or_else(|| format!("sqlite://{}", dir.join("tidings.db").display()));
    let store = Store::connect(&url, &PoolOptions::default()).await?;
    store.migrate().await?;

    // A company with one agent and one SDK app, created straight through the repositories.
    let owner = NewUser {
        company_id: Default::default(),
        email: format!("owner-{}@example.com", std::process::id()),
        name: "Owner".into(),
        password_hash: "not-used-here".into(),
        role: Role::Owner,
    };
    let (company, agent) =
        store.create_company_with_owner(NewCompany { name: "Embedded Inc".into() }, owner).await?;
    let app = store.create_app(NewApp { company_id: company.id, name: "Kiosk".into() }).await?;

    // One node: live events go straight to this process's hub (nobody listens here).
    let hub = Hub::new(HubSettings::default());
    // Personal data (appointments) is sealed with a key the embedding program keeps.
    let sealer = Arc::new(tidings_auth::Cipher::new(&[7; tidings_auth::KEY_LEN]));
    let messaging = Messaging::new(Arc::new(store.clone()), LocalBus::spawned(hub), sealer);
    let device = ClientPrincipal {
        company_id: company.id,
        app_id: app.id,
        device_id: "kiosk-1".into(),
        sdk_version: None,
        platform: None,
        key_id: Default::default(),
    };
    let contact = Caller::Client(device.clone());
    let agent = Caller::User(Principal { user_id: agent.id, company_id: company.id, role: agent.role });

    let conversation = messaging.conversations.open_for_device(&device).await?;
    let say = |body: &str| SendMessageInput { body: body.into(), local_id: None, attachments: None };
    messaging.messages.send(&contact, conversation.id, say("Hello, is anyone there?")).await?;
    messaging.messages.send(&agent, conversation.id, say("Hi! How can I help?")).await?;
    messaging
        .messages
        .receipt(&contact, conversation.id, Receipt::Read, ReceiptInput { up_to_sequence: 2 })
        .await?;

    let history = messaging.messages.list(&agent, conversation.id, MessageCursor::After(0), 50).await?;
    for m in &history {
        println!("#{} {:?} {:?}: {}", m.sequence, m.sender, m.status, m.body);
    }
    assert_eq!(history.iter().map(|m| m.sequence).collect::<Vec<_>>(), [1, 2]);
    store.close();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
