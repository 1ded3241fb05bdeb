//! One live connection: authentication, the hub session, client frames, heartbeat, and ordered
//! delivery with replay.

use std::sync::Arc;
use std::time::Instant;

use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use bytestring::ByteString;
use futures_util::StreamExt;
use serde_json::json;
use tidings_domain::{Caller, CompanyId, ConversationId, MessageCursor};
use tidings_messaging::realtime::{CloseCause, Followed, Frame, Participant, Room, SessionHandle, Step};

use super::protocol::{self, ClientFrame};
use crate::state::AppState;

/// Messages read from the store per page while replaying.
const REPLAY_PAGE: i64 = 200;

/// The connection could not send: it is closed or too slow.
struct Gone;

struct Connection {
    state: Arc<AppState>,
    caller: Caller,
    company_id: CompanyId,
    participant: Participant,
    session: Session,
    followed: Followed,
}

/// Runs a connection until it closes.
pub async fn run(
    state: Arc<AppState>,
    caller: Option<Caller>,
    mut session: Session,
    mut stream: AggregatedMessageStream,
) {
    let caller = match caller {
        Some(caller) => caller,
        None => match authenticate(&state, &mut session, &mut stream).await {
            Some(caller) => caller,
            None => return,
        },
    };
    let actor = match state.messaging.actor(&caller).await {
        Ok(actor) => actor,
        Err(e) => {
            let _ = session.text(protocol::error("FORBIDDEN", e.to_string())).await;
            let _ = session.clone().close(Some(CloseCode::Policy.into())).await;
            return;
        }
    };
    let (company_id, participant) = (actor.company_id(), actor.participant());
    let Some(handle) = state.hub.connect(company_id, participant) else {
        let _ = session.text(protocol::control("server.shutdown", json!({}))).await;
        let _ = session.close(Some(CloseCode::Away.into())).await;
        return;
    };
    let id = handle.id;
    let mut conn = Connection {
        state: state.clone(),
        caller,
        company_id,
        participant,
        session,
        followed: Followed::default(),
    };
    let reason = conn.serve(handle, stream).await;
    state.hub.disconnect(id);
    if let Some(reason) = reason {
        // A slow consumer may not take even the close frame: don't wait for it forever.
        let _ = tokio::time::timeout(state.realtime.write_timeout, conn.session.close(Some(reason))).await;
    }
}

/// Waits for an `auth` frame; answers anything else with an error and closes.
async fn authenticate(
    state: &AppState,
    session: &mut Session,
    stream: &mut AggregatedMessageStream,
) -> Option<Caller> {
    let first = tokio::time::timeout(state.realtime.auth_timeout, stream.next()).await;
    let text = match first {
        Ok(Some(Ok(AggregatedMessage::Text(text)))) => text,
        _ => {
            let _ = session.text(protocol::error("UNAUTHENTICATED", "send an auth frame first")).await;
            let _ = session.clone().close(Some(CloseCode::Policy.into())).await;
            return None;
        }
    };
    let caller = match serde_json::from_str::<ClientFrame>(&text) {
        Ok(ClientFrame::Auth { token: Some(token), .. }) => {
            state.authenticator.user(&token).await.map(Caller::User)
        }
        Ok(ClientFrame::Auth {
            app_id: Some(app),
            device_id: Some(device),
            api_key: Some(key),
            platform,
            ..
        }) => state
            .authenticator
            .client(&app, &device, &key, None, platform.as_deref())
            .await
            .map(Caller::Client),
        _ => Err(tidings_auth::AuthError::Unauthenticated(
            "the first frame must be auth with a token or app_id, device_id and api_key",
        )),
    };
    match caller {
        Ok(caller) => Some(caller),
        Err(e) => {
            let _ =
                session.text(protocol::error("UNAUTHENTICATED", crate::ApiError::from(e).message())).await;
            let _ = session.clone().close(Some(CloseCode::Policy.into())).await;
            None
        }
    }
}

impl Connection {
    /// The main loop; returns the close frame to send, if any.
    async fn serve(
        &mut self,
        mut handle: SessionHandle,
        mut stream: AggregatedMessageStream,
    ) -> Option<CloseReason> {
        let settings = self.state.realtime;
        let connected = json!({ "session_id": handle.id, "participant": self.participant });
        if self.text(protocol::control("connected", connected)).await.is_err() {
            return None;
        }
        let mut heartbeat = tokio::time::interval(settings.ping_interval);
        heartbeat.tick().await;
        let mut last_heard = Instant::now();
        loop {
            tokio::select! {
                cause = &mut handle.closed => {
                    return match cause {
                        Ok(CloseCause::Shutdown) => {
                            let _ = self.text(protocol::control("server.shutdown", json!({}))).await;
                            Some(CloseCode::Normal.into())
                        }
                        _ => Some(slow_consumer()),
                    };
                }
                frame = handle.frames.recv() => {
                    let frame = frame?;
                    if self.deliver(frame).await.is_err() {
                        return Some(slow_consumer());
                    }
                }
                message = stream.next() => {
                    last_heard = Instant::now();
                    match message {
                        Some(Ok(AggregatedMessage::Text(text))) => {
                            if self.on_frame(handle.id, &text).await.is_err() {
                                return Some(slow_consumer());
                            }
                        }
                        Some(Ok(AggregatedMessage::Binary(_))) => {
                            let _ = self.text(protocol::error("BAD_FRAME", "binary frames are not supported")).await;
                        }
                        Some(Ok(AggregatedMessage::Ping(bytes))) => {
                            let _ = self.session.pong(&bytes).await;
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => {}
                        Some(Ok(AggregatedMessage::Close(_))) | None => return None,
                        Some(Err(e)) => {
                            let _ = self.text(protocol::error("BAD_FRAME", e.to_string())).await;
                            return Some(CloseReason { code: CloseCode::Size, description: Some("frame rejected".into()) });
                        }
                    }
                }
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() >= settings.client_timeout {
                        return Some(CloseReason { code: CloseCode::Policy, description: Some("heartbeat timeout".into()) });
                    }
                    if self.session.ping(b"").await.is_err() {
                        return None;
                    }
                }
            }
        }
    }

    /// Sends one text frame, giving up when the client does not take it in time.
    async fn text(&mut self, text: impl Into<ByteString>) -> Result<(), Gone> {
        let text: ByteString = text.into();
        match tokio::time::timeout(self.state.realtime.write_timeout, self.session.text(text)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Gone),
        }
    }

    /// Sends a live frame from the hub, in order and once for followed conversations.
    async fn deliver(&mut self, frame: Arc<Frame>) -> Result<(), Gone> {
        let Some((conversation_id, sequence)) = frame.message else {
            return self.text(frame.text.clone()).await;
        };
        match self.followed.step(conversation_id, sequence) {
            Step::Pass => self.text(frame.text.clone()).await,
            Step::Skip => Ok(()),
            Step::Send => {
                self.text(frame.text.clone()).await?;
                self.followed.sent(conversation_id, sequence);
                Ok(())
            }
            Step::Fill { after } => {
                self.replay(conversation_id, after, Some(sequence - 1)).await?;
                self.text(frame.text.clone()).await?;
                self.followed.sent(conversation_id, sequence);
                Ok(())
            }
        }
    }

    /// Sends the stored messages after `after` (up to `until`), oldest first.
    async fn replay(
        &mut self,
        conversation_id: ConversationId,
        after: i64,
        until: Option<i64>,
    ) -> Result<(), Gone> {
        let mut last = after;
        loop {
            let page = self
                .state
                .messaging
                .messages
                .list(&self.caller, conversation_id, MessageCursor::After(last), REPLAY_PAGE)
                .await;
            let Ok(page) = page else { return Err(Gone) };
            let full = page.len() as i64 == REPLAY_PAGE;
            for message in page {
                if until.is_some_and(|u| message.sequence > u) {
                    return Ok(());
                }
                last = message.sequence;
                self.text(Frame::message_new(message).text).await?;
                self.followed.sent(conversation_id, last);
            }
            if !full {
                return Ok(());
            }
        }
    }

    async fn on_frame(&mut self, session_id: u64, text: &str) -> Result<(), Gone> {
        let frame = match serde_json::from_str::<ClientFrame>(text) {
            Ok(frame) => frame,
            Err(e) => return self.text(protocol::error("BAD_FRAME", format!("unreadable frame: {e}"))).await,
        };
        match frame {
            ClientFrame::Auth { .. } => {
                self.text(protocol::error("BAD_FRAME", "already authenticated")).await
            }
            ClientFrame::Ping => self.text(protocol::control("pong", json!({}))).await,
            ClientFrame::Subscribe { conversation_id } => {
                self.follow(session_id, conversation_id, None).await
            }
            ClientFrame::Resume { conversation_id, after_sequence } => {
                self.follow(session_id, conversation_id, Some(after_sequence.max(0))).await
            }
            ClientFrame::Unsubscribe { conversation_id } => {
                self.followed.unfollow(conversation_id);
                self.state.hub.leave(session_id, Room::Conversation(conversation_id));
                self.text(protocol::control("unsubscribed", json!({ "conversation_id": conversation_id })))
                    .await
            }
            ClientFrame::TypingStart { conversation_id } => {
                self.typing(session_id, conversation_id, true).await
            }
            ClientFrame::TypingStop { conversation_id } => {
                self.typing(session_id, conversation_id, false).await
            }
        }
    }

    /// Joins the conversation's room first, then reads its position, so that no message falls
    /// between the two: anything committed later arrives live, anything earlier is in the store.
    async fn follow(
        &mut self,
        session_id: u64,
        conversation_id: ConversationId,
        after: Option<i64>,
    ) -> Result<(), Gone> {
        let room = Room::Conversation(conversation_id);
        self.state.hub.join(session_id, room);
        let conversation = match self.state.messaging.conversations.get(&self.caller, conversation_id).await {
            Ok(summary) => summary.conversation,
            Err(_) => {
                self.state.hub.leave(session_id, room);
                let message = json!({ "type": "error", "code": "NOT_FOUND", "message": "no such conversation", "conversation_id": conversation_id });
                return self.text(message.to_string()).await;
            }
        };
        match after {
            None => {
                self.followed.follow(conversation_id, conversation.last_sequence);
                self.text(protocol::control("subscribed", json!({ "conversation_id": conversation_id, "last_sequence": conversation.last_sequence }))).await
            }
            Some(after) => {
                self.followed.follow(conversation_id, after);
                self.replay(conversation_id, after, None).await?;
                let last = self.followed.position(conversation_id).unwrap_or(after);
                self.text(protocol::control(
                    "resumed",
                    json!({ "conversation_id": conversation_id, "replayed_to": last }),
                ))
                .await
            }
        }
    }

    async fn typing(
        &mut self,
        session_id: u64,
        conversation_id: ConversationId,
        start: bool,
    ) -> Result<(), Gone> {
        if !self.followed.follows(conversation_id) {
            return self
                .text(protocol::error("NOT_SUBSCRIBED", "subscribe to the conversation before typing in it"))
                .await;
        }
        self.state.hub.typing(session_id, self.company_id, conversation_id, self.participant, start);
        Ok(())
    }
}

fn slow_consumer() -> CloseReason {
    CloseReason { code: CloseCode::Again, description: Some("slow consumer: reconnect and resume".into()) }
}
