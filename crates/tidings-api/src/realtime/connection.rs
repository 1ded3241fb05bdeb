//! One live connection: authentication, the hub session, client frames, heartbeat, credential
//! checks, and ordered delivery with replay.

use std::pin::pin;
use std::sync::Arc;
use std::time::Instant;

use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, ProtocolError, Session};
use bytestring::ByteString;
use chrono::Utc;
use futures_util::StreamExt;
use serde_json::json;
use tidings_auth::AuthError;
use tidings_domain::{Caller, CompanyId, ConversationId, MessageCursor};
use tidings_messaging::realtime::{
    CloseCause, Followed, Frame, Grant, Participant, Room, SessionHandle, Step,
};

use super::Credential;
use super::frame_limit::FrameRejected;
use super::protocol::{self, ClientFrame};
use crate::error::ApiError;
use crate::state::AppState;

/// Messages read from the store per page while replaying.
const REPLAY_PAGE: i64 = 200;

/// Close code when the access token that opened the connection expired.
const TOKEN_EXPIRED: u16 = 4401;
/// Close code when the credentials that opened the connection were withdrawn or changed.
const CREDENTIALS_WITHDRAWN: u16 = 4403;

/// Why a connection stops sending.
enum Gone {
    /// The client does not take frames in time, or the socket is closed.
    Stalled,
    /// A store read failed mid-replay: the client reconnects and resumes.
    Failed,
}

struct Connection {
    state: Arc<AppState>,
    credential: Credential,
    company_id: CompanyId,
    participant: Participant,
    grant: Grant,
    session: Session,
    followed: Followed,
}

/// Runs a connection until it closes.
pub async fn run(
    state: Arc<AppState>,
    credential: Option<Credential>,
    mut session: Session,
    mut stream: AggregatedMessageStream,
) {
    let credential = match credential {
        Some(credential) => credential,
        None => match authenticate(&state, &mut session, &mut stream).await {
            Some(credential) => credential,
            None => return,
        },
    };
    let actor = match state.messaging.actor(&credential.caller).await {
        Ok(actor) => actor,
        Err(e) => {
            let error = ApiError::from(e);
            let _ = session.text(protocol::api_error(&error, json!({}))).await;
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
        credential,
        company_id,
        participant,
        grant: Grant::of(company_id, participant),
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
) -> Option<Credential> {
    let first = tokio::time::timeout(state.realtime.auth_timeout, stream.next()).await;
    let text = match first {
        Ok(Some(Ok(AggregatedMessage::Text(text)))) => text,
        Ok(Some(Err(e))) => {
            let _ = session.clone().close(Some(rejected_frame(&e))).await;
            return None;
        }
        _ => {
            let _ = session.text(protocol::error("UNAUTHENTICATED", "send an auth frame first")).await;
            let _ = session.clone().close(Some(CloseCode::Policy.into())).await;
            return None;
        }
    };
    let credential = match serde_json::from_str::<ClientFrame>(&text) {
        Ok(ClientFrame::Auth { token: Some(token), .. }) => {
            state.authenticator.user_until(&token).await.map(|(principal, expires_at)| Credential {
                caller: Caller::User(principal),
                expires_at: Some(expires_at),
            })
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
            .map(|client| Credential { caller: Caller::Client(client), expires_at: None }),
        _ => Err(AuthError::Unauthenticated(
            "the first frame must be auth with a token or app_id, device_id and api_key",
        )),
    };
    match credential {
        Ok(credential) => Some(credential),
        Err(e) => {
            let _ = session.text(protocol::api_error(&ApiError::from(e), json!({}))).await;
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
        let connected = json!({
            "session_id": handle.id,
            "participant": self.participant,
            "expires_at": self.credential.expires_at,
        });
        if self.text(protocol::control("connected", connected)).await.is_err() {
            return None;
        }
        let mut heartbeat = tokio::time::interval(settings.ping_interval);
        heartbeat.tick().await;
        let mut recheck = tokio::time::interval(settings.recheck_interval);
        recheck.tick().await;
        let mut expiry = pin!(tokio::time::sleep_until(self.expiry_deadline()));
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
                    if let Err(gone) = self.deliver(frame).await {
                        return Some(gone.reason());
                    }
                }
                () = &mut expiry => {
                    let _ = self.text(protocol::error("TOKEN_EXPIRED", "the access token has expired")).await;
                    return Some(close(TOKEN_EXPIRED, "access token expired: reconnect with a fresh one"));
                }
                () = handle.recheck.notified() => {
                    if let Some(reason) = self.recheck().await {
                        return Some(reason);
                    }
                }
                _ = recheck.tick() => {
                    if let Some(reason) = self.recheck().await {
                        return Some(reason);
                    }
                }
                message = stream.next() => {
                    last_heard = Instant::now();
                    match message {
                        Some(Ok(AggregatedMessage::Text(text))) => {
                            let before = self.credential.expires_at;
                            if let Err(gone) = self.on_frame(handle.id, &text).await {
                                return Some(gone.reason());
                            }
                            if self.credential.expires_at != before {
                                expiry.as_mut().reset(self.expiry_deadline());
                            }
                        }
                        Some(Ok(AggregatedMessage::Binary(_))) => {
                            let _ = self.text(protocol::error("BAD_FRAME", "binary frames are not supported")).await;
                        }
                        Some(Ok(AggregatedMessage::Ping(bytes))) => {
                            let _ = self.session.pong(&bytes).await;
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => {}
                        // Answer a close at once, with the client's code: clients wait for it.
                        Some(Ok(AggregatedMessage::Close(reason))) => {
                            return Some(reason.unwrap_or_else(|| CloseCode::Normal.into()));
                        }
                        None => return None,
                        Some(Err(e)) => return Some(rejected_frame(&e)),
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

    /// When the credential stops holding; far away for API keys, which are re-checked instead.
    fn expiry_deadline(&self) -> tokio::time::Instant {
        const FAR: std::time::Duration = std::time::Duration::from_secs(100 * 365 * 86_400);
        let now = tokio::time::Instant::now();
        match self.credential.expires_at {
            Some(at) => now + (at - Utc::now()).to_std().unwrap_or_default(),
            None => now + FAR,
        }
    }

    /// Checks the credentials again; returns the close frame when they no longer stand. A store
    /// failure proves nothing: it is logged and the next check decides.
    async fn recheck(&mut self) -> Option<CloseReason> {
        match self.state.authenticator.still_valid(&self.credential.caller).await {
            Ok(()) => None,
            Err(AuthError::Unauthenticated(why)) => {
                let _ = self.text(protocol::error("UNAUTHENTICATED", why)).await;
                Some(close(CREDENTIALS_WITHDRAWN, why))
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not re-check a live connection's credentials");
                None
            }
        }
    }

    /// Sends one text frame, giving up when the client does not take it in time.
    async fn text(&mut self, text: impl Into<ByteString>) -> Result<(), Gone> {
        let text: ByteString = text.into();
        match tokio::time::timeout(self.state.realtime.write_timeout, self.session.text(text)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Gone::Stalled),
        }
    }

    /// Sends a live frame from the hub, in order and once for followed conversations, and only
    /// when the session was granted what it is about.
    async fn deliver(&mut self, frame: Arc<Frame>) -> Result<(), Gone> {
        if !self.grant.admits(&frame, &self.followed) {
            tracing::warn!(conversation = ?frame.conversation_id, "dropped an event the session was not granted");
            return Ok(());
        }
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
                .list(&self.credential.caller, conversation_id, MessageCursor::After(last), REPLAY_PAGE)
                .await;
            let page = match page {
                Ok(page) => page,
                Err(e) => {
                    let error = ApiError::from(e);
                    let fields = json!({ "conversation_id": conversation_id });
                    let _ = self.text(protocol::api_error(&error, fields)).await;
                    return Err(Gone::Failed);
                }
            };
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
            ClientFrame::Auth { token: Some(token), .. } if self.credential.expires_at.is_some() => {
                self.reauthenticate(&token).await
            }
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

    /// A fresh access token of the same user, sent in band, extends the connection's life.
    async fn reauthenticate(&mut self, token: &str) -> Result<(), Gone> {
        let (principal, expires_at) = match self.state.authenticator.user_until(token).await {
            Ok(found) => found,
            Err(e) => return self.text(protocol::api_error(&ApiError::from(e), json!({}))).await,
        };
        let Caller::User(current) = &self.credential.caller else {
            return self.text(protocol::error("BAD_FRAME", "already authenticated")).await;
        };
        if principal.user_id != current.user_id || principal.company_id != current.company_id {
            return self
                .text(protocol::error("FORBIDDEN", "a connection keeps the user that opened it"))
                .await;
        }
        self.credential = Credential { caller: Caller::User(principal), expires_at: Some(expires_at) };
        self.text(protocol::control("authenticated", json!({ "expires_at": expires_at }))).await
    }

    /// Checks access first and joins the conversation's room only then, so that a refused session
    /// is never in it; then reads the position, so that no message falls between the two: anything
    /// committed later arrives live, anything earlier is in the store.
    async fn follow(
        &mut self,
        session_id: u64,
        conversation_id: ConversationId,
        after: Option<i64>,
    ) -> Result<(), Gone> {
        let fields = json!({ "conversation_id": conversation_id });
        if let Err(e) = self.state.messaging.conversations.get(&self.credential.caller, conversation_id).await
        {
            return self.text(protocol::api_error(&ApiError::from(e), fields)).await;
        }
        let room = Room::Conversation(conversation_id);
        self.state.hub.join(session_id, room);
        let conversation =
            match self.state.messaging.conversations.get(&self.credential.caller, conversation_id).await {
                Ok(summary) => summary.conversation,
                Err(e) => {
                    self.state.hub.leave(session_id, room);
                    return self.text(protocol::api_error(&ApiError::from(e), fields)).await;
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

impl Gone {
    fn reason(&self) -> CloseReason {
        match self {
            Gone::Stalled => slow_consumer(),
            Gone::Failed => CloseReason {
                code: CloseCode::Again,
                description: Some("could not read the conversation: reconnect and resume".into()),
            },
        }
    }
}

fn close(code: u16, description: &str) -> CloseReason {
    CloseReason { code: CloseCode::Other(code), description: Some(description.into()) }
}

fn slow_consumer() -> CloseReason {
    CloseReason { code: CloseCode::Again, description: Some("slow consumer: reconnect and resume".into()) }
}

/// The close frame for a frame the codec or the size guard refused: too big (1009), not UTF-8
/// (1007), or any other breach of the protocol (1002).
fn rejected_frame(error: &ProtocolError) -> CloseReason {
    let (code, description) = match (FrameRejected::within(error), error) {
        (Some(FrameRejected::TooLarge), _) | (None, ProtocolError::Overflow) => {
            (CloseCode::Size, "frame too large")
        }
        (Some(FrameRejected::ReservedBits), _) => (CloseCode::Protocol, "reserved bits set"),
        (None, ProtocolError::Io(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
            (CloseCode::Invalid, "text frame is not valid UTF-8")
        }
        (None, ProtocolError::Io(e)) if e.to_string().contains("continuation size") => {
            (CloseCode::Size, "message too large")
        }
        _ => (CloseCode::Protocol, "protocol violation"),
    };
    CloseReason { code, description: Some(description.into()) }
}
