//! One native WebSocket connection: framing only. Client frames become intents of the
//! transport-neutral [`LiveSession`]; what it sends back is encoded as JSON text frames. The door
//! also keeps the socket's own business: authentication, heartbeat, credential checks, close codes.

use std::sync::Arc;
use std::time::Instant;

use bytestring::ByteString;
use futures_util::FutureExt;
use futures_util::future::OptionFuture;
use serde_json::json;
use tidings_auth::AuthError;
use tidings_domain::Caller;
use tidings_messaging::realtime::{
    CloseCause, Door, Frame, Gone, Intent, LiveSession, Next, Outbound, Outlet, Refusal, ResumeFrom,
    SessionHandle, Stop,
};
use tidings_websocket::{CloseCode, CloseReason, FLUSH_AT, Inbound, WebSocket, text_frame};

use super::credential::{self, Check, Credential};
use super::frame_rate::FrameRate;
use super::protocol::{self, ClientFrame};
use crate::error::ApiError;
use crate::paging;
use crate::state::AppState;
use crate::views::ChangedView;

/// Close code when the access token that opened the connection expired.
const TOKEN_EXPIRED: u16 = 4401;
/// Close code when the credentials that opened the connection were withdrawn or changed.
const CREDENTIALS_WITHDRAWN: u16 = 4403;

/// Most hub frames passed on in one turn of the loop (and one write).
pub(super) const BATCH: usize = 64;

/// The socket as the session's outlet: each item becomes one JSON text frame.
struct Native {
    socket: WebSocket,
}

impl Native {
    /// Queues one text frame. Queued frames leave together before the connection next waits,
    /// or now if many are queued; the client not taking them in time makes it [`Gone`].
    async fn text(&mut self, text: impl Into<ByteString>) -> Result<(), Gone> {
        self.socket.queue_text(text);
        self.flush_if_full().await
    }

    /// Queues an event's frame, encoded once for every native session.
    async fn event(&mut self, frame: &Frame) -> Result<(), Gone> {
        self.socket.queue_frame(frame.encoded(Door::Native, |event| text_frame(protocol::event(event))));
        self.flush_if_full().await
    }

    async fn flush_if_full(&mut self) -> Result<(), Gone> {
        if self.socket.queued() >= FLUSH_AT {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes the frames queued.
    async fn flush(&mut self) -> Result<(), Gone> {
        self.socket.flush().await.map_err(|_| Gone)
    }
}

impl Outlet for Native {
    async fn send(&mut self, item: Outbound) -> Result<(), Gone> {
        let text: ByteString = match item {
            Outbound::Event(frame) => return self.event(&frame).await,
            Outbound::Subscribed { conversation_id, last_sequence, last_position } => protocol::control(
                "subscribed",
                json!({
                    "conversation_id": conversation_id,
                    "last_sequence": last_sequence,
                    "last_position": last_position,
                }),
            )
            .into(),
            Outbound::Resumed { conversation_id, replayed_to, position } => protocol::control(
                "resumed",
                json!({ "conversation_id": conversation_id, "replayed_to": replayed_to, "position": position }),
            )
            .into(),
            Outbound::Changed(Ok(changed)) => {
                let view = ChangedView::of(changed);
                protocol::control(
                    "conversations.changed",
                    json!({ "conversations": view.data, "next_cursor": view.next_cursor, "has_more": view.has_more }),
                )
                .into()
            }
            Outbound::Changed(Err(error)) => protocol::api_error(&ApiError::from(error), json!({})).into(),
            Outbound::InboxStale => protocol::control("inbox.stale", json!({})).into(),
            Outbound::Unsubscribed { conversation_id } => {
                protocol::control("unsubscribed", json!({ "conversation_id": conversation_id })).into()
            }
            Outbound::NotSubscribed { conversation_id } => protocol::error_about(
                "NOT_SUBSCRIBED",
                "subscribe to the conversation before typing in it",
                conversation_id,
            )
            .into(),
            Outbound::Refused { conversation_id, error } => {
                protocol::api_error(&ApiError::from(error), json!({ "conversation_id": conversation_id }))
                    .into()
            }
        };
        self.text(text).await
    }
}

/// Runs a connection until it closes.
pub fn run(
    state: Arc<AppState>,
    credential: Option<Credential>,
    socket: WebSocket,
) -> impl Future<Output = ()> {
    // Opening is boxed: it is large and runs once. Combinators rather than an `async` block: the
    // opened connection's loop moves in place of the opening; in an `async` block it would keep a
    // second slot in the task for as long as the connection lives.
    Box::pin(open(state, credential, socket)).then(OptionFuture::from).map(|_| ())
}

/// Authenticates (unless the upgrade did) and opens the live session; answers and closes the
/// socket when either fails.
async fn open(
    state: Arc<AppState>,
    credential: Option<Credential>,
    mut socket: WebSocket,
) -> Option<impl Future<Output = ()>> {
    let credential = match credential {
        Some(credential) => credential,
        None => match authenticate(&state, &mut socket).await {
            Ok(credential) => credential,
            Err(reason) => {
                socket.close(reason).await;
                return None;
            }
        },
    };
    let Credential { caller, expires_at } = credential;
    let opened = LiveSession::open(state.messaging.clone(), state.hub.clone(), caller, expires_at).await;
    let (live, handle) = match opened {
        Ok(opened) => opened,
        Err(Refusal::Caller(e)) => {
            socket.queue_text(protocol::api_error(&ApiError::from(e), json!({})));
            socket.close(Some(CloseCode::Policy.into())).await;
            return None;
        }
        Err(Refusal::ShuttingDown) => {
            socket.queue_text(protocol::control("server.shutdown", json!({})));
            socket.close(Some(CloseCode::Away.into())).await;
            return None;
        }
    };
    // Leaves with the loop's first flush.
    let connected =
        json!({ "session_id": handle.id, "participant": live.participant(), "expires_at": expires_at });
    socket.queue_text(protocol::control("connected", connected));
    Some(Connection { state, live, out: Native { socket } }.serve_and_close(handle))
}

/// A connection's state: its credentials, its live session, its socket.
struct Connection {
    state: Arc<AppState>,
    live: LiveSession,
    out: Native,
}

/// Waits for an `auth` frame; answers anything else with an error, and returns the close frame.
async fn authenticate(state: &AppState, socket: &mut WebSocket) -> Result<Credential, Option<CloseReason>> {
    let first = tokio::time::timeout(state.realtime.auth_timeout, socket.recv()).await;
    let text = match first {
        Ok(Some(Ok(Inbound::Text(text)))) => text,
        Ok(Some(Err(e))) => return Err(Some(e.close_reason())),
        _ => {
            socket.queue_text(protocol::error("UNAUTHENTICATED", "send an auth frame first"));
            return Err(Some(CloseCode::Policy.into()));
        }
    };
    let credential = match serde_json::from_str::<ClientFrame>(&text) {
        Ok(ClientFrame::Auth { token: Some(token), .. }) => {
            Credential::user(&state.authenticator, &token).await
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
            .map(|client| Credential { caller: Caller::Client(client), expires_at: None })
            .map_err(ApiError::from),
        _ => Err(ApiError::from(AuthError::Unauthenticated(
            "the first frame must be auth with a token or app_id, device_id and api_key",
        ))),
    };
    credential.map_err(|e| {
        socket.queue_text(protocol::api_error(&e, json!({})));
        Some(CloseCode::Policy.into())
    })
}

impl Connection {
    /// Serves the connection until it ends, then closes the socket.
    #[expect(
        clippy::manual_async_fn,
        reason = "an `async fn` would keep `self` twice in the future: as its argument and as the body's"
    )]
    fn serve_and_close(mut self, handle: SessionHandle) -> impl Future<Output = ()> {
        async move {
            let reason = self.serve(handle).await;
            super::log_closed(reason.as_ref());
            let Connection { live, out, .. } = self;
            // Out of the hub before waiting on the client.
            drop(live);
            // A slow consumer may not take even the close frame: closing waits at most the write
            // timeout. Boxed, as opening: it runs once.
            if let Some(reason) = reason {
                Box::pin(out.socket.close(Some(reason))).await;
            }
        }
    }

    /// The main loop; returns the close frame to send, if any.
    async fn serve(&mut self, mut handle: SessionHandle) -> Option<CloseReason> {
        let settings = &self.state.realtime;
        let client_timeout = settings.client_timeout;
        let mut heartbeat = tokio::time::interval(settings.ping_interval);
        heartbeat.tick().await;
        let mut last_heard = Instant::now();
        let frame_rate = FrameRate::new(settings.client_frames_per_second);
        // Only what the loop reads: a copy of every setting would stay in the task.
        loop {
            // Whatever the last turn queued leaves before the connection waits again.
            if self.out.flush().await.is_err() {
                return Some(slow_consumer());
            }
            // Biased, the hub's queue first: most wakes are a frame to pass on, and polling the
            // other branches for each would cost more than the delivery itself.
            tokio::select! {
                biased;
                next = handle.queue.next() => match next {
                    Next::Frame(mut frame) => {
                        // Frames already waiting go with it, in one write.
                        for _ in 0..BATCH {
                            if let Err(stop) = self.live.deliver(frame, &mut self.out).await {
                                return Some(stopped(stop));
                            }
                            match handle.queue.try_recv() {
                                Ok(next) => frame = next,
                                Err(_) => break,
                            }
                        }
                    }
                    Next::Closed(Some(CloseCause::Shutdown)) => {
                        let _ = self.out.text(protocol::control("server.shutdown", json!({}))).await;
                        return Some(CloseCode::Normal.into());
                    }
                    Next::Closed(_) => return Some(slow_consumer()),
                    Next::Expired => {
                        let _ = self.out.text(protocol::error("TOKEN_EXPIRED", "the access token has expired")).await;
                        return Some(close(TOKEN_EXPIRED, "access token expired: reconnect with a fresh one"));
                    }
                    Next::CatchUp => {
                        if let Err(stop) = Box::pin(self.live.catch_up(&mut self.out)).await {
                            return Some(stopped(stop));
                        }
                    }
                    Next::Recheck => {
                        if let Some(reason) = Box::pin(self.recheck()).await {
                            return Some(reason);
                        }
                    }
                },
                message = self.out.socket.recv() => {
                    last_heard = Instant::now();
                    match message {
                        Some(Ok(Inbound::Text(text))) => {
                            if !frame_rate.allow() {
                                return Some(too_many_frames());
                            }
                            // Boxed: client frames are rare next to deliveries, and their futures
                            // (subscribe, resume) are large; unboxed, every idle connection would
                            // carry room for them.
                            if let Err(stop) = Box::pin(self.on_frame(&text)).await {
                                return Some(stopped(stop));
                            }
                        }
                        Some(Ok(Inbound::Binary(_))) => {
                            let _ = self.out.text(protocol::error("BAD_FRAME", "binary frames are not supported")).await;
                        }
                        Some(Ok(Inbound::Ping(bytes))) => {
                            let _ = self.out.socket.pong(&bytes).await;
                        }
                        Some(Ok(Inbound::Pong(_))) => {}
                        // Answer a close at once, with the client's code: clients wait for it.
                        Some(Ok(Inbound::Close(reason))) => {
                            return Some(reason.unwrap_or_else(|| CloseCode::Normal.into()));
                        }
                        None => return None,
                        Some(Err(e)) => return Some(e.close_reason()),
                    }
                }
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() >= client_timeout {
                        return Some(CloseReason { code: CloseCode::Policy, description: Some("heartbeat timeout".into()) });
                    }
                    if self.out.socket.ping(b"").await.is_err() {
                        return None;
                    }
                }
            }
        }
    }

    /// Checks the credentials again; returns the close frame when they no longer stand.
    async fn recheck(&mut self) -> Option<CloseReason> {
        match credential::check(&self.state.authenticator, self.live.caller()).await {
            Check::Valid => None,
            Check::Withdrawn(why) => {
                let _ = self.out.text(protocol::error("UNAUTHENTICATED", why)).await;
                Some(close(CREDENTIALS_WITHDRAWN, why))
            }
        }
    }

    async fn on_frame(&mut self, text: &str) -> Result<(), Stop> {
        let frame = match serde_json::from_str::<ClientFrame>(text) {
            Ok(frame) => frame,
            Err(e) => {
                return Ok(self
                    .out
                    .text(protocol::error("BAD_FRAME", format!("unreadable frame: {e}")))
                    .await?);
            }
        };
        let intent = match frame {
            // Only a user's access token expires and can be renewed.
            ClientFrame::Auth { token: Some(token), .. } if matches!(self.live.caller(), Caller::User(_)) => {
                return Ok(self.reauthenticate(&token).await?);
            }
            ClientFrame::Auth { .. } => {
                return Ok(self.out.text(protocol::error("BAD_FRAME", "already authenticated")).await?);
            }
            ClientFrame::Ping => return Ok(self.out.text(protocol::control("pong", json!({}))).await?),
            ClientFrame::Subscribe { conversation_id } => Intent::Subscribe { conversation_id },
            ClientFrame::Resume { conversation_id, after_position, after_sequence } => {
                let from = match (after_position, after_sequence) {
                    (Some(position), None) => ResumeFrom::Position(position),
                    (None, Some(sequence)) => ResumeFrom::Sequence(sequence),
                    _ => {
                        let why = "resume takes one of after_position and after_sequence";
                        return Ok(self
                            .out
                            .text(protocol::error_about("BAD_FRAME", why, conversation_id))
                            .await?);
                    }
                };
                Intent::Resume { conversation_id, from }
            }
            ClientFrame::Sync { changed_after, limit } => {
                let parsed = changed_after.as_deref().map(paging::parse_change_cursor).transpose();
                match parsed.and_then(|after| Ok((after, paging::limit(limit)?))) {
                    Ok((changed_after, limit)) => Intent::Sync { changed_after, limit },
                    Err(e) => return Ok(self.out.text(protocol::api_error(&e, json!({}))).await?),
                }
            }
            ClientFrame::Unsubscribe { conversation_id } => Intent::Unsubscribe { conversation_id },
            ClientFrame::TypingStart { conversation_id } => Intent::Typing { conversation_id, start: true },
            ClientFrame::TypingStop { conversation_id } => Intent::Typing { conversation_id, start: false },
        };
        self.live.handle(intent, &mut self.out).await
    }

    /// A fresh access token of the same user, sent in band, extends the connection's life.
    async fn reauthenticate(&mut self, token: &str) -> Result<(), Gone> {
        match Credential::renewal(&self.state.authenticator, self.live.caller(), token).await {
            Ok(Credential { caller, expires_at }) => {
                self.live.renew(caller, expires_at);
                self.out.text(protocol::control("authenticated", json!({ "expires_at": expires_at }))).await
            }
            Err(e) => self.out.text(protocol::api_error(&e, json!({}))).await,
        }
    }
}

/// The close frame of a session that cannot go on.
pub(super) fn stopped(stop: Stop) -> CloseReason {
    match stop {
        Stop::Gone => slow_consumer(),
        Stop::ReplayFailed => CloseReason {
            code: CloseCode::Again,
            description: Some("could not read the conversation: reconnect and resume".into()),
        },
    }
}

fn close(code: u16, description: &str) -> CloseReason {
    CloseReason { code: CloseCode::Other(code), description: Some(description.into()) }
}

/// The close frame of a client that sends more frames than it may.
pub(super) fn too_many_frames() -> CloseReason {
    CloseReason { code: CloseCode::Policy, description: Some("too many frames".into()) }
}

/// The close frame of a client that does not keep up.
pub(super) fn slow_consumer() -> CloseReason {
    CloseReason { code: CloseCode::Again, description: Some("slow consumer: reconnect and resume".into()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of the future `make` returns, without calling it.
    fn future_size<A, B, C, F: Future>(_: impl Fn(A, B, C) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    #[test]
    fn an_idle_connections_task_keeps_little_room() {
        // What an idle connection's task holds for as long as it lives (docs/benchmarks.md): it was
        // 5.5 KB with everything inline, 3.3 KB with opening boxed, 2 KB without the second slots
        // of moved values, 1.7 KB with a write's timer boxed (it waits only on slow clients), 1.5 KB
        // with the hub's signals in its queue rather than futures of their own, 1.3 KB with the
        // re-check and expiry timers kept by the hub, 1.2 KB with the caller kept once (by the
        // session, not also by the door).
        let size = future_size(|s: Arc<AppState>, c: Option<Credential>, w: WebSocket| run(s, c, w));
        assert!(size <= 1250, "a native connection's future takes {size} bytes");
    }
}
