//! Engine.IO v4 over one WebSocket: the open packet, the server's heartbeat, close, and the
//! message packets the layer above reads and writes. Polling and upgrades are not offered
//! (`upgrades: []`), so a WebSocket is the whole transport.

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use bytes::Bytes;
use bytestring::ByteString;
use engineioxide_core::{OpenPacket, Packet, ProtocolVersion, Sid, Str};
use tidings_websocket::{CloseReason, Inbound, ReadError, WebSocket};
use tokio::time::{Instant, Interval};

/// Timers and limits of the Engine.IO layer, announced to the client in the open packet.
#[derive(Clone, Copy, Debug)]
pub struct EngineSettings {
    /// How often the server pings.
    pub ping_interval: Duration,
    /// How long the client has to answer a ping before the connection is closed.
    pub ping_timeout: Duration,
    /// Largest message the client may send, in bytes (the WebSocket's own limit).
    pub max_payload: u64,
}

/// A message packet the client sent.
#[derive(Debug)]
pub enum Received {
    /// A text message (the Engine.IO type `4` stripped).
    Text(Str),
    /// A binary message (a binary WebSocket frame).
    Binary(Bytes),
}

/// What [`EngineSocket::next`] and the layers above it yield: something from the client, or the
/// caller's own wake-up.
#[derive(Debug)]
pub enum Next<T, W> {
    /// From the client.
    Client(T),
    /// The future the caller passed in completed first.
    Wake(W),
}

/// Why a connection ended.
#[derive(Debug)]
pub enum Closed {
    /// The client sent a close packet, closed the WebSocket, or hung up.
    ByClient(Option<CloseReason>),
    /// No pong within the ping timeout.
    PingTimeout,
    /// The client sent something that breaks the protocol (an unknown packet type, a malformed
    /// Socket.IO packet, an oversized binary attachment).
    InvalidPacket(&'static str),
    /// No namespace was connected in time.
    ConnectTimeout,
    /// The WebSocket itself failed (a frame over the limit, bad UTF-8, a framing error).
    Transport(ReadError),
    /// The client did not take a frame in time, or is gone.
    Gone,
}

/// One Engine.IO v4 connection over a WebSocket.
pub struct EngineSocket {
    socket: WebSocket,
    settings: EngineSettings,
    sid: Sid,
    heartbeat: Interval,
    pong_deadline: Option<Instant>,
}

impl EngineSocket {
    /// Sends the open packet and starts the heartbeat.
    pub async fn open(socket: WebSocket, settings: EngineSettings) -> Result<EngineSocket, Closed> {
        let sid = Sid::new();
        let open = OpenPacket {
            sid,
            upgrades: Default::default(),
            ping_interval: settings.ping_interval,
            ping_timeout: settings.ping_timeout,
            max_payload: settings.max_payload,
        };
        let mut heartbeat = tokio::time::interval(settings.ping_interval);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        heartbeat.reset();
        let mut socket = EngineSocket { socket, settings, sid, heartbeat, pong_deadline: None };
        socket.send_frame(String::from(Packet::Open(open))).await?;
        Ok(socket)
    }

    /// The Engine.IO session id.
    pub fn sid(&self) -> Sid {
        self.sid
    }

    /// The settings announced in the open packet.
    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// Waits for the next message from the client, answering the heartbeat on the way, or for
    /// `wake`, whichever comes first. `wake` is dropped when a message comes first, so it must be
    /// cancel-safe (a channel receive, a timer).
    ///
    /// Frames queued with [`queue_message`](Self::queue_message) leave first.
    pub async fn next<W>(&mut self, wake: impl Future<Output = W>) -> Result<Next<Received, W>, Closed> {
        let mut wake = pin!(wake);
        loop {
            self.flush().await?;
            let pong_deadline = self.pong_deadline;
            // Boxed: a pong is awaited for a moment every heartbeat, and an inline timer would take
            // room in every connection's task for as long as it lives.
            let pong_overdue = async move {
                match pong_deadline {
                    Some(deadline) => Box::pin(tokio::time::sleep_until(deadline)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                message = self.socket.recv() => {
                    if let Some(received) = self.on_frame(message).await? {
                        return Ok(Next::Client(received));
                    }
                }
                () = pong_overdue => return Err(Closed::PingTimeout),
                _ = self.heartbeat.tick() => {
                    self.send_frame(ByteString::from_static("2")).await?;
                    if self.pong_deadline.is_none() {
                        self.pong_deadline = Some(Instant::now() + self.settings.ping_timeout);
                    }
                }
                woken = &mut wake => return Ok(Next::Wake(woken)),
            }
        }
    }

    /// Handles one WebSocket frame; a message packet is handed up, control packets are answered.
    async fn on_frame(
        &mut self,
        message: Option<Result<Inbound, ReadError>>,
    ) -> Result<Option<Received>, Closed> {
        let text = match message {
            None => return Err(Closed::ByClient(None)),
            Some(Err(e)) => return Err(Closed::Transport(e)),
            Some(Ok(Inbound::Close(reason))) => return Err(Closed::ByClient(reason)),
            Some(Ok(Inbound::Binary(bytes))) => return Ok(Some(Received::Binary(bytes))),
            Some(Ok(Inbound::Ping(bytes))) => {
                self.socket.pong(&bytes).await?;
                return Ok(None);
            }
            Some(Ok(Inbound::Pong(_))) => return Ok(None),
            Some(Ok(Inbound::Text(text))) => text,
        };
        match Packet::parse(ProtocolVersion::V4, Str::from(String::from(text))) {
            Ok(Packet::Message(message)) => Ok(Some(Received::Text(message))),
            Ok(Packet::Pong) => {
                self.pong_deadline = None;
                Ok(None)
            }
            // Clients of v4 do not ping; answering one costs nothing.
            Ok(Packet::Ping) => {
                self.send_frame(ByteString::from_static("3")).await?;
                Ok(None)
            }
            Ok(Packet::Close) => Err(Closed::ByClient(None)),
            Ok(_) => Err(Closed::InvalidPacket("no upgrade is offered on this transport")),
            Err(_) => Err(Closed::InvalidPacket("not an Engine.IO packet")),
        }
    }

    /// Sends a text message packet (the Engine.IO type `4` is prepended).
    pub async fn send_message(&mut self, message: &str) -> Result<(), Closed> {
        let mut text = String::with_capacity(message.len() + 1);
        text.push('4');
        text.push_str(message);
        self.send_frame(text).await
    }

    /// Sends a complete Engine.IO packet as one text frame (for packets encoded once and shared).
    pub async fn send_frame(&mut self, text: impl Into<ByteString>) -> Result<(), Closed> {
        Ok(self.socket.text(text).await?)
    }

    /// Queues a complete Engine.IO packet already framed for the WebSocket (by
    /// [`tidings_websocket::text_frame`]), to leave with the next flush (or before the next wait
    /// for the client): frames queued together leave in one write.
    pub async fn queue_frame(&mut self, frame: Bytes) -> Result<(), Closed> {
        self.socket.queue_frame(frame);
        if self.socket.queued() >= tidings_websocket::FLUSH_AT {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes the frames queued.
    pub async fn flush(&mut self) -> Result<(), Closed> {
        Ok(self.socket.flush().await?)
    }

    /// Sends a binary message (one binary WebSocket frame).
    pub async fn send_binary(&mut self, bytes: Bytes) -> Result<(), Closed> {
        Ok(self.socket.binary(bytes).await?)
    }

    /// Sends what is queued and closes the WebSocket with `reason`.
    pub async fn close(self, reason: Option<CloseReason>) {
        self.socket.close(reason).await;
    }
}

impl From<tidings_websocket::Gone> for Closed {
    fn from(_: tidings_websocket::Gone) -> Self {
        Closed::Gone
    }
}
