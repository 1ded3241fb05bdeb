//! One Socket.IO connection: framing only, as the native door. Each connected namespace (`/client`,
//! `/admin`) is one live session with its own credentials; client events become the session's
//! intents, and what the session yields is emitted as Socket.IO events (with the client's ack when
//! it asked for one). Credentials are re-checked as on the native door; a namespace whose
//! credentials expire or are withdrawn is disconnected.

use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::OptionFuture;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tidings_auth::AuthError;
use tidings_domain::Caller;
use tidings_messaging::realtime::{
    CloseCause, Frame, Gone, Intent, LiveSession, Next as Queued, Outbound, Outlet, Refusal, ResumeFrom,
    SessionHandle, Stop,
};
use tidings_messaging::{Receipt, ReceiptInput};
use tidings_socketio::{Closed, EngineSettings, Event, Incoming, Next, SocketIo, SocketSettings};
use tidings_websocket::{CloseCode, CloseReason, WebSocket};

use super::events::{self, ClientEvent, Space};
use crate::error::{ApiError, ErrorCode};
use crate::paging;
use crate::realtime::connection::{BATCH, slow_consumer, stopped, too_many_frames};
use crate::realtime::credential::{self, Check, Credential};
use crate::realtime::frame_rate::FrameRate;
use crate::state::AppState;
use crate::views::ChangedView;

/// Why the connection ends, and the close frame to send (none when the client is gone).
struct End(Option<CloseReason>);

impl From<Closed> for End {
    fn from(closed: Closed) -> Self {
        End(match closed {
            Closed::ByClient(reason) => Some(reason.unwrap_or_else(|| CloseCode::Normal.into())),
            Closed::PingTimeout => Some(reason(CloseCode::Policy, "ping timeout")),
            Closed::InvalidPacket(why) => Some(reason(CloseCode::Protocol, why)),
            Closed::ConnectTimeout => Some(reason(CloseCode::Policy, "no namespace connected in time")),
            Closed::Transport(e) => Some(e.close_reason()),
            Closed::Gone => Some(slow_consumer()),
        })
    }
}

impl From<Stop> for End {
    fn from(stop: Stop) -> Self {
        End(Some(stopped(stop)))
    }
}

impl From<Gone> for End {
    fn from(_: Gone) -> Self {
        End(Some(slow_consumer()))
    }
}

fn reason(code: CloseCode, description: &str) -> CloseReason {
    CloseReason { code, description: Some(description.into()) }
}

/// A namespace's live session. Its timers (the periodic re-check, the token's lapse) are the
/// hub's, which signals them through the session's queue.
struct Attached {
    live: LiveSession,
    handle: SessionHandle,
}

/// What woke the connection: a namespace's queue (a frame, a close, a signal).
struct Wake(Space, Queued<Arc<Frame>>);

/// Cancel-safe: a queue receive.
async fn wake_of(space: Space, slot: &mut Option<Box<Attached>>) -> Wake {
    match slot {
        Some(attached) => Wake(space, attached.handle.queue.next().await),
        None => std::future::pending().await,
    }
}

/// A namespace as the session's outlet; `ack` is the id of the client's event being answered.
struct Emitter<'a> {
    socket: &'a mut SocketIo,
    space: Space,
    ack: Option<i64>,
}

impl Emitter<'_> {
    /// Emits `event` and acknowledges the pending event with the same data.
    async fn reply(&mut self, event: &str, data: Value) -> Result<(), Closed> {
        self.socket.emit(self.space.ns(), event, &data).await?;
        self.acknowledge(data).await
    }

    /// Emits `error` and acknowledges the pending event with `{error}`.
    async fn fail(&mut self, error: Value) -> Result<(), Closed> {
        self.socket.emit(self.space.ns(), "error", &error).await?;
        self.acknowledge(json!({ "error": error })).await
    }

    /// Acknowledges the pending event, if the client asked for it and it was not answered yet.
    async fn acknowledge(&mut self, data: Value) -> Result<(), Closed> {
        match self.ack.take() {
            Some(id) => self.socket.ack(self.space.ns(), id, &data).await,
            None => Ok(()),
        }
    }
}

impl Outlet for Emitter<'_> {
    async fn send(&mut self, item: Outbound) -> Result<(), Gone> {
        let space = self.space;
        let sent = match item {
            Outbound::Event(frame) => {
                let encoded = frame.encoded(space.door(), |event| events::encode(space, event));
                self.socket.send_encoded(encoded).await
            }
            Outbound::Subscribed { conversation_id, last_sequence, last_position } => {
                let joined = json!({
                    "conversation_id": conversation_id,
                    "last_sequence": last_sequence,
                    "last_position": last_position,
                });
                self.reply("conversation:joined", joined).await
            }
            Outbound::Resumed { conversation_id, replayed_to, position } => {
                let joined = json!({
                    "conversation_id": conversation_id,
                    "last_sequence": replayed_to,
                    "replayed_to": replayed_to,
                    "last_position": position,
                });
                self.reply("conversation:joined", joined).await
            }
            Outbound::Changed(Ok(changed)) => {
                let view = ChangedView::of(changed);
                let data = json!({
                    "conversations": view.data,
                    "next_cursor": view.next_cursor,
                    "has_more": view.has_more,
                });
                self.reply("conversations:changed", data).await
            }
            Outbound::Changed(Err(error)) => self.fail(events::api_error(&ApiError::from(error), None)).await,
            Outbound::InboxStale => self.socket.emit(space.ns(), "inbox:stale", &json!({})).await,
            Outbound::Unsubscribed { conversation_id } => {
                self.reply("conversation:left", json!({ "conversation_id": conversation_id })).await
            }
            Outbound::NotSubscribed { conversation_id } => {
                let message = "join the conversation before typing in it";
                self.fail(events::error("NOT_SUBSCRIBED", message, Some(conversation_id))).await
            }
            Outbound::Refused { conversation_id, error } => {
                self.fail(events::api_error(&ApiError::from(error), Some(conversation_id))).await
            }
        };
        sent.map_err(|_| Gone)
    }
}

/// A connection: the protocol layer and a session per connected namespace.
struct Connection {
    state: Arc<AppState>,
    socket: SocketIo,
    /// Indexed by [`Space`]: `/client`, then `/admin`. Boxed: most clients connect one namespace,
    /// and the other's room would be kept for the connection's life.
    spaces: [Option<Box<Attached>>; 2],
}

fn index(space: Space) -> usize {
    match space {
        Space::Client => 0,
        Space::Admin => 1,
    }
}

/// Runs a connection until it closes.
pub fn run(state: Arc<AppState>, socket: WebSocket) -> impl Future<Output = ()> {
    // As on the native door: opening is boxed, and combinators rather than an `async` block let
    // the connection's loop take the opening's place instead of a second slot in the task.
    Box::pin(open(state, socket)).then(OptionFuture::from).map(|_| ())
}

/// Opens the Engine.IO connection (the open packet).
async fn open(state: Arc<AppState>, socket: WebSocket) -> Option<impl Future<Output = ()>> {
    let settings = state.realtime;
    let engine = EngineSettings {
        ping_interval: settings.ping_interval,
        ping_timeout: settings.client_timeout,
        max_payload: settings.max_frame_bytes as u64,
    };
    let limits = SocketSettings {
        connect_timeout: settings.auth_timeout,
        max_attachments: 10,
        max_attachment_bytes: settings.max_frame_bytes,
    };
    let socket = SocketIo::open(socket, engine, limits).await.ok()?;
    Some(Connection { state, socket, spaces: [None, None] }.serve_and_close())
}

impl Connection {
    /// Serves the connection until it ends, then closes the socket.
    #[expect(
        clippy::manual_async_fn,
        reason = "an `async fn` would keep `self` twice in the future: as its argument and as the body's"
    )]
    fn serve_and_close(mut self) -> impl Future<Output = ()> {
        async move {
            let End(reason) = self.serve().await;
            crate::realtime::log_closed(reason.as_ref());
            let Connection { socket, spaces, .. } = self;
            drop(spaces);
            Box::pin(socket.close(reason)).await;
        }
    }
}

impl Connection {
    async fn serve(&mut self) -> End {
        let frame_rate = FrameRate::new(self.state.realtime.client_frames_per_second);
        loop {
            let next = {
                let [client, admin] = &mut self.spaces;
                let wake = std::pin::pin!(async {
                    tokio::select! {
                        woken = wake_of(Space::Client, client) => woken,
                        woken = wake_of(Space::Admin, admin) => woken,
                    }
                });
                self.socket.next(wake).await
            };
            if matches!(next, Ok(Next::Client(_))) && !frame_rate.allow() {
                return End(Some(too_many_frames()));
            }
            let handled = match next {
                Err(closed) => return closed.into(),
                // Boxed, as client events below: a namespace connects once.
                Ok(Next::Client(Incoming::Connect { ns, auth })) => Box::pin(self.attach(&ns, auth)).await,
                Ok(Next::Client(Incoming::Disconnect { ns })) => {
                    if let Some(space) = Space::named(&ns) {
                        self.spaces[index(space)] = None;
                    }
                    Ok(())
                }
                // Boxed: client events are rare next to deliveries, and their futures (join,
                // replay) are large; unboxed, every idle connection would carry room for them.
                Ok(Next::Client(Incoming::Event(event))) => Box::pin(self.on_event(event)).await,
                Ok(Next::Wake(Wake(space, woken))) => self.on_wake(space, woken).await,
            };
            if let Err(end) = handled {
                return end;
            }
        }
    }

    /// Something for one namespace's session: a frame, the hub closing it, its credentials.
    async fn on_wake(&mut self, space: Space, woken: Queued<Arc<Frame>>) -> Result<(), End> {
        let Some(attached) = self.spaces[index(space)].as_mut() else { return Ok(()) };
        match woken {
            Queued::Frame(mut frame) => {
                // Frames already waiting go with it, in one write.
                let mut out = Emitter { socket: &mut self.socket, space, ack: None };
                for _ in 0..BATCH {
                    attached.live.deliver(frame, &mut out).await?;
                    match attached.handle.queue.try_recv() {
                        Ok(next) => frame = next,
                        Err(_) => break,
                    }
                }
                Ok(())
            }
            Queued::Closed(Some(CloseCause::Shutdown)) => {
                for space in [Space::Client, Space::Admin] {
                    if self.spaces[index(space)].is_some() {
                        let _ = self.socket.emit(space.ns(), "server:shutdown", &json!({})).await;
                    }
                }
                Err(End(Some(CloseCode::Normal.into())))
            }
            Queued::Closed(_) => Err(End(Some(slow_consumer()))),
            Queued::Expired => {
                let error = events::error(ErrorCode::TokenExpired, "the access token has expired", None);
                self.detach(space, error).await
            }
            Queued::CatchUp => {
                let mut out = Emitter { socket: &mut self.socket, space, ack: None };
                Box::pin(attached.live.catch_up(&mut out)).await?;
                Ok(())
            }
            Queued::Recheck => Box::pin(self.recheck(space)).await,
        }
    }

    /// Checks a namespace's credentials again; disconnects it when they no longer stand.
    async fn recheck(&mut self, space: Space) -> Result<(), End> {
        let Some(attached) = self.spaces[index(space)].as_ref() else { return Ok(()) };
        match credential::check(&self.state.authenticator, attached.live.caller()).await {
            Check::Valid => Ok(()),
            Check::Withdrawn(why) => {
                self.detach(space, events::error(ErrorCode::Unauthenticated, why, None)).await
            }
        }
    }

    /// Ends a namespace's session from the server's side, telling the client why.
    async fn detach(&mut self, space: Space, error: Value) -> Result<(), End> {
        self.spaces[index(space)] = None;
        self.socket.emit(space.ns(), "error", &error).await?;
        self.socket.disconnect(space.ns()).await?;
        Ok(())
    }

    /// A CONNECT: authenticates, opens the namespace's live session, accepts; SDK devices then
    /// follow their open conversation.
    async fn attach(&mut self, ns: &str, auth: Option<Box<RawValue>>) -> Result<(), End> {
        let Some(space) = Space::named(ns) else {
            return Ok(self.socket.refuse(ns, "Invalid namespace").await?);
        };
        let credential = match self.authenticate(space, auth.as_deref()).await {
            Ok(credential) => credential,
            Err(e) => return Ok(self.refuse(ns, &e).await?),
        };
        let Credential { caller, expires_at } = credential;
        let opened =
            LiveSession::open(self.state.messaging.clone(), self.state.hub.clone(), caller, expires_at).await;
        let (live, handle) = match opened {
            Ok(opened) => opened,
            Err(Refusal::Caller(e)) => return Ok(self.refuse(ns, &ApiError::from(e)).await?),
            Err(Refusal::ShuttingDown) => {
                let e = ApiError::new(ErrorCode::Unavailable, "the server is shutting down");
                return Ok(self.refuse(ns, &e).await?);
            }
        };
        self.socket.accept(ns).await?;
        let connected = json!({
            "session_id": handle.id,
            "participant": live.participant(),
            "expires_at": expires_at,
        });
        self.socket.emit(ns, "connected", &connected).await?;
        let attached = self.spaces[index(space)].insert(Box::new(Attached { live, handle }));
        let mut out = Emitter { socket: &mut self.socket, space, ack: None };
        Box::pin(attached.live.follow_own_conversation(&mut out)).await?;
        Ok(())
    }

    /// CONNECT_ERROR with the API's error code and message (never internals).
    async fn refuse(&mut self, ns: &str, error: &ApiError) -> Result<(), Closed> {
        self.socket.refuse_with(ns, error.message(), &json!({ "code": error.code() })).await
    }

    /// The credentials of a CONNECT payload: `{app_id, device_id, api_key, platform?}` on
    /// `/client`, `{token}` on `/admin`.
    async fn authenticate(&self, space: Space, auth: Option<&RawValue>) -> Result<Credential, ApiError> {
        let auth: Value = auth.and_then(|raw| serde_json::from_str(raw.get()).ok()).unwrap_or_default();
        let field = |name: &str| auth.get(name).and_then(Value::as_str);
        match space {
            Space::Admin => match field("token") {
                Some(token) => Credential::user(&self.state.authenticator, token).await,
                None => Err(AuthError::Unauthenticated("auth must carry an access token: {token}").into()),
            },
            Space::Client => match (field("app_id"), field("device_id"), field("api_key")) {
                (Some(app), Some(device), Some(key)) => {
                    let client =
                        self.state.authenticator.client(app, device, key, None, field("platform")).await?;
                    Ok(Credential { caller: Caller::Client(client), expires_at: None })
                }
                _ => Err(AuthError::Unauthenticated("auth must carry app_id, device_id and api_key").into()),
            },
        }
    }

    /// A client's event on a connected namespace.
    async fn on_event(&mut self, event: Event) -> Result<(), End> {
        let Some(space) = Space::named(&event.ns) else { return Ok(()) };
        let Some(attached) = self.spaces[index(space)].as_mut() else { return Ok(()) };
        let mut out = Emitter { socket: &mut self.socket, space, ack: event.ack };
        let intent = match ClientEvent::read(&event) {
            Err(why) => return Ok(out.fail(events::error(ErrorCode::ValidationError, &why, None)).await?),
            Ok(ClientEvent::Join { conversation_id, after_position, after_sequence }) => {
                match (after_position, after_sequence) {
                    (Some(position), _) => {
                        Intent::Resume { conversation_id, from: ResumeFrom::Position(position) }
                    }
                    (None, Some(sequence)) => {
                        Intent::Resume { conversation_id, from: ResumeFrom::Sequence(sequence) }
                    }
                    (None, None) => Intent::Subscribe { conversation_id },
                }
            }
            Ok(ClientEvent::Sync { changed_after, limit }) => {
                let parsed = changed_after.as_deref().map(paging::parse_change_cursor).transpose();
                match parsed.and_then(|after| Ok((after, paging::limit(limit)?))) {
                    Ok((changed_after, limit)) => Intent::Sync { changed_after, limit },
                    Err(e) => return Ok(out.fail(events::api_error(&e, None)).await?),
                }
            }
            Ok(ClientEvent::Leave { conversation_id }) => Intent::Unsubscribe { conversation_id },
            Ok(ClientEvent::Typing { conversation_id, start }) => Intent::Typing { conversation_id, start },
            Ok(ClientEvent::Ping) => return Ok(out.reply("pong", json!({})).await?),
            Ok(ClientEvent::Read { conversation_id, up_to_sequence }) => {
                let messages = &self.state.messaging.messages;
                let input = ReceiptInput { up_to_sequence };
                let read =
                    messages.receipt(attached.live.caller(), conversation_id, Receipt::Read, input).await;
                let answered = match read {
                    Ok(applied) => {
                        let data = json!({
                            "conversation_id": conversation_id,
                            "up_to_sequence": applied.up_to_sequence,
                            "updated": applied.updated,
                        });
                        out.acknowledge(data).await
                    }
                    Err(e) => out.fail(events::api_error(&ApiError::from(e), Some(conversation_id))).await,
                };
                return Ok(answered?);
            }
            Ok(ClientEvent::Auth { token }) => {
                // API-key callers are refused as already authenticated.
                let renewed =
                    Credential::renewal(&self.state.authenticator, attached.live.caller(), &token).await;
                let answered = match renewed {
                    Ok(Credential { caller, expires_at }) => {
                        attached.live.renew(caller, expires_at);
                        out.reply("authenticated", json!({ "expires_at": expires_at })).await
                    }
                    Err(e) => out.fail(events::api_error(&e, None)).await,
                };
                return Ok(answered?);
            }
        };
        attached.live.handle(intent, &mut out).await?;
        out.acknowledge(json!({ "ok": true })).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn future_size<A, B, F: Future>(_: impl Fn(A, B) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    #[test]
    fn an_idle_connections_task_keeps_little_room() {
        // It was 4.5 KB before the moved values' second slots went and the namespaces were boxed,
        // 2.6 KB before a write's timer was boxed, 2.3 KB before the wake future was pinned by
        // the loop (not copied into the socket's) and the connect and pong timers boxed; 1.9 KB
        // without the re-check timer (the hub keeps it).
        let size = future_size(|s: Arc<AppState>, w: WebSocket| run(s, w));
        assert!(size <= 2000, "a Socket.IO connection's future takes {size} bytes");
    }
}
