//! Resume: how long a reconnecting client takes to receive a backlog of missed messages.

use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tidings_domain::{Direction, MessageRepo, NewMessage, Platform, Sender};
use tidings_store::Store;
use tokio_tungstenite::tungstenite::Message;

use crate::client::Tenant;

/// One resume measurement.
#[derive(Clone, Debug, Serialize)]
pub struct ResumeResult {
    /// Messages replayed.
    pub messages: i64,
    /// From the `resume` frame to the last message, in milliseconds.
    pub millis: f64,
    /// Messages per second.
    pub per_second: f64,
}

/// Stores `backlog` messages in a fresh conversation, then resumes it from the start.
pub async fn run(store: &Store, tenant: &Tenant, backlog: i64) -> ResumeResult {
    let conversation = *tenant.conversations.last().expect("a conversation");
    for i in 0..backlog {
        let new = NewMessage {
            company_id: tenant.company_id,
            conversation_id: conversation,
            local_id: None,
            sender: Sender::Agent,
            author_id: None,
            direction: Direction::Outbound,
            platform: Some(Platform::Web),
            body: format!("missed message {i}"),
            attachments: serde_json::json!([]),
            awaiting_forward: false,
            uploads: Vec::new(),
        };
        store.append_message(new).await.expect("store the backlog");
    }
    let mut ws = tenant.connect(crate::client::Door::Native, 0).await.expect("connect");
    let started = Instant::now();
    let resume =
        serde_json::json!({ "type": "resume", "conversation_id": conversation, "after_sequence": 0 });
    ws.send(Message::text(resume.to_string())).await.expect("send resume");
    let mut received = 0;
    while received < backlog {
        let Some(Ok(frame)) = ws.next().await else { panic!("connection lost during the replay") };
        if frame.to_text().is_ok_and(|t| {
            t.starts_with("{\"type\":\"message.new\"") && t.contains(&conversation.to_string())
        }) {
            received += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    ResumeResult { messages: received, millis: elapsed * 1000.0, per_second: received as f64 / elapsed }
}
