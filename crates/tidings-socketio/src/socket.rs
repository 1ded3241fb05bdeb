//! Socket.IO v5 over one Engine.IO connection: namespaces multiplexed on it, CONNECT /
//! CONNECT_ERROR / DISCONNECT, events with their acks, binary attachments. Packets are read and
//! written by socketioxide's common parser; this module keeps the connection's state and refuses
//! what the protocol does not allow.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use bytestring::ByteString;
use engineioxide_core::{Sid, Str};
use serde::Serialize;
use serde_json::value::RawValue;
use socketioxide_core::Value;
use socketioxide_core::packet::{Packet, PacketData};
use socketioxide_core::parser::{Parse, ParseConfig, ParseError, ParserState};
use socketioxide_parser_common::CommonParser;
use tidings_websocket::{CloseReason, WebSocket};
use tokio::time::Instant;

use crate::engine::{Closed, EngineSettings, EngineSocket, Next, Received};
use crate::event::Event;

/// Limits of the Socket.IO layer.
#[derive(Clone, Copy, Debug)]
pub struct SocketSettings {
    /// A connection with no namespace connected after this long is closed.
    pub connect_timeout: Duration,
    /// Most binary attachments one packet may carry.
    pub max_attachments: usize,
    /// Most bytes the attachments of one packet may add up to.
    pub max_attachment_bytes: usize,
}

impl Default for SocketSettings {
    fn default() -> Self {
        Self { connect_timeout: Duration::from_secs(45), max_attachments: 10, max_attachment_bytes: 1 << 20 }
    }
}

/// A packet the client sent, once decoded and checked.
#[derive(Debug)]
pub enum Incoming {
    /// The client asks to join a namespace; answer with [`SocketIo::accept`] or
    /// [`SocketIo::refuse`].
    Connect {
        /// The namespace, `/` for the main one.
        ns: Str,
        /// The CONNECT payload (the client's `auth`), a JSON object, if any.
        auth: Option<Box<RawValue>>,
    },
    /// The client left a connected namespace.
    Disconnect {
        /// Which.
        ns: Str,
    },
    /// An event on a connected namespace.
    Event(Event),
}

/// One client's Socket.IO connection.
pub struct SocketIo {
    engine: EngineSocket,
    settings: SocketSettings,
    parse: ParseConfig,
    parser: ParserState,
    namespaces: Vec<Str>,
    connect_deadline: Option<Instant>,
}

impl SocketIo {
    /// Opens the Engine.IO connection (the open packet) and waits for namespaces.
    pub async fn open(
        socket: WebSocket,
        engine: EngineSettings,
        settings: SocketSettings,
    ) -> Result<SocketIo, Closed> {
        let engine = EngineSocket::open(socket, engine).await?;
        let parse = ParseConfig {
            max_incoming_binary_buf_size: settings.max_attachment_bytes,
            max_incoming_binaries: settings.max_attachments,
            packet_completion_timeout: engine.settings().ping_interval + engine.settings().ping_timeout,
        };
        Ok(SocketIo {
            engine,
            settings,
            parse,
            parser: ParserState::default(),
            namespaces: Vec::new(),
            connect_deadline: Some(Instant::now() + settings.connect_timeout),
        })
    }

    /// The Engine.IO session id.
    pub fn sid(&self) -> Sid {
        self.engine.sid()
    }

    /// Whether the client is connected to `ns`.
    pub fn is_connected(&self, ns: &str) -> bool {
        self.namespaces.iter().any(|n| n.as_str() == ns)
    }

    /// Waits for the next packet from the client or for `wake`, whichever comes first (`wake` must
    /// be cancel-safe). Packets for namespaces the client has not connected, acks of the client
    /// and repeated CONNECTs are dropped here, as the reference server does.
    ///
    /// `wake` is pinned by the caller, so that this call's future keeps only a reference to it.
    pub async fn next<W, F>(&mut self, wake: Pin<&mut F>) -> Result<Next<Incoming, W>, Closed>
    where
        F: Future<Output = W>,
    {
        let deadline = self.connect_deadline;
        let mut wake = std::pin::pin!(async move {
            match deadline {
                None => Some(wake.await),
                // Boxed: the timer runs only until a namespace connects, and inline it would take
                // room in every connection's task for as long as it lives.
                Some(deadline) => tokio::select! {
                    woken = wake => Some(woken),
                    () = Box::pin(tokio::time::sleep_until(deadline)) => None,
                },
            }
        });
        loop {
            let received = match self.engine.next(&mut wake).await? {
                Next::Wake(Some(woken)) => return Ok(Next::Wake(woken)),
                Next::Wake(None) => return Err(Closed::ConnectTimeout),
                Next::Client(received) => received,
            };
            let decoded = match received {
                Received::Text(text) => CommonParser.decode_str(&self.parse, &self.parser, text),
                Received::Binary(bytes) => CommonParser.decode_bin(&self.parse, &self.parser, bytes),
            };
            let packet = match decoded {
                Ok(packet) => packet,
                Err(ParseError::NeedsMoreBinaryData) => continue,
                Err(_) => return Err(Closed::InvalidPacket("not a Socket.IO packet")),
            };
            if let Some(incoming) = self.admit(packet)? {
                return Ok(Next::Client(incoming));
            }
        }
    }

    /// Checks a decoded packet against the connection's state.
    fn admit(&mut self, packet: Packet) -> Result<Option<Incoming>, Closed> {
        let Packet { inner, ns } = packet;
        let connected = self.is_connected(&ns);
        match inner {
            PacketData::Connect(payload) => {
                let auth = match payload {
                    None => None,
                    Some(value) => Some(json_object(value)?),
                };
                Ok((!connected).then_some(Incoming::Connect { ns, auth }))
            }
            PacketData::Disconnect => {
                self.namespaces.retain(|n| *n != ns);
                Ok(connected.then_some(Incoming::Disconnect { ns }))
            }
            PacketData::Event(value, ack) | PacketData::BinaryEvent(value, ack) => {
                let Value::Str(data, binaries) = value else {
                    return Err(Closed::InvalidPacket("an event must be text"));
                };
                let event = Event::parse(ns, &data, binaries.unwrap_or_default(), ack)
                    .ok_or(Closed::InvalidPacket("an event must be an array starting with its name"))?;
                Ok(connected.then_some(Incoming::Event(event)))
            }
            PacketData::EventAck(..) | PacketData::BinaryAck(..) => Ok(None),
            PacketData::ConnectError(_) => {
                Err(Closed::InvalidPacket("CONNECT_ERROR is sent by servers only"))
            }
        }
    }

    /// Accepts a CONNECT: the namespace is connected, under a fresh socket id.
    pub async fn accept(&mut self, ns: &str) -> Result<(), Closed> {
        #[derive(Serialize)]
        struct Ack {
            sid: Sid,
        }
        let payload = serde_json::to_string(&Ack { sid: Sid::new() }).map_err(|_| Closed::Gone)?;
        // Exactly as many as connected (most clients connect one): a growing vector would keep
        // room for four for the connection's life.
        self.namespaces.reserve_exact(1);
        self.namespaces.push(Str::copy_from_slice(ns));
        self.connect_deadline = None;
        self.send(Packet::connect(Str::copy_from_slice(ns), Some(text(payload)))).await
    }

    /// Refuses a CONNECT with a message (`{"message": ...}` on the wire).
    pub async fn refuse(&mut self, ns: &str, message: &str) -> Result<(), Closed> {
        self.send(Packet::connect_error(Str::copy_from_slice(ns), message)).await
    }

    /// Refuses a CONNECT with a message and details: `{"message": ..., "data": ...}` on the wire,
    /// which socket.io-client shows as the error's `message` and `data`.
    pub async fn refuse_with<T: Serialize + ?Sized>(
        &mut self,
        ns: &str,
        message: &str,
        data: &T,
    ) -> Result<(), Closed> {
        #[derive(Serialize)]
        struct Refusal<'a, T: ?Sized> {
            message: &'a str,
            data: &'a T,
        }
        let payload = serde_json::to_string(&Refusal { message, data }).map_err(|_| Closed::Gone)?;
        let mut packet = String::with_capacity(payload.len() + ns.len() + 3);
        packet.push('4');
        if ns != "/" {
            packet.push_str(ns);
            packet.push(',');
        }
        packet.push_str(&payload);
        self.engine.send_message(&packet).await
    }

    /// Disconnects the client from a namespace, from the server's side.
    pub async fn disconnect(&mut self, ns: &str) -> Result<(), Closed> {
        self.namespaces.retain(|n| n.as_str() != ns);
        self.send(Packet::disconnect(Str::copy_from_slice(ns))).await
    }

    /// Emits `event` with one argument, `data`.
    pub async fn emit<T: Serialize + ?Sized>(
        &mut self,
        ns: &str,
        event: &str,
        data: &T,
    ) -> Result<(), Closed> {
        let frame = encode_event(ns, event, data).map_err(|_| Closed::Gone)?;
        self.engine.send_frame(frame).await
    }

    /// Emits `event` with arguments given as JSON, and their binary attachments (referenced by
    /// placeholders in the arguments).
    pub async fn emit_raw(
        &mut self,
        ns: &str,
        event: &str,
        args: &[Box<RawValue>],
        binaries: VecDeque<Bytes>,
    ) -> Result<(), Closed> {
        let name = serde_json::to_string(event).map_err(|_| Closed::Gone)?;
        let data = json_array(std::iter::once(name.as_str()).chain(args.iter().map(|a| a.get())));
        let value = Value::Str(Str::from(data), Some(binaries));
        self.send(Packet::event(Str::copy_from_slice(ns), value)).await
    }

    /// Acknowledges event `id` with arguments given as JSON, and their binary attachments.
    pub async fn ack_raw(
        &mut self,
        ns: &str,
        id: i64,
        args: &[Box<RawValue>],
        binaries: VecDeque<Bytes>,
    ) -> Result<(), Closed> {
        let data = json_array(args.iter().map(|a| a.get()));
        let value = Value::Str(Str::from(data), Some(binaries));
        self.send(Packet::ack(Str::copy_from_slice(ns), value, id)).await
    }

    /// Acknowledges event `id` with one argument, `data`.
    pub async fn ack<T: Serialize + ?Sized>(&mut self, ns: &str, id: i64, data: &T) -> Result<(), Closed> {
        let data = serde_json::to_string(&[data]).map_err(|_| Closed::Gone)?;
        self.send(Packet::ack(Str::copy_from_slice(ns), text(data), id)).await
    }

    /// Queues an event made by [`encode_event`] and framed by [`tidings_websocket::text_frame`]
    /// (encoded once, sent to many); it leaves before the next wait for the client, with any others
    /// queued meanwhile.
    pub async fn send_encoded(&mut self, frame: Bytes) -> Result<(), Closed> {
        self.engine.queue_frame(frame).await
    }

    /// Closes the connection with `reason`.
    pub async fn close(self, reason: Option<CloseReason>) {
        self.engine.close(reason).await
    }

    async fn send(&mut self, packet: Packet) -> Result<(), Closed> {
        let Value::Str(encoded, binaries) = CommonParser.encode(packet) else {
            return Err(Closed::Gone);
        };
        self.engine.send_message(&encoded).await?;
        for binary in binaries.into_iter().flatten() {
            self.engine.send_binary(binary).await?;
        }
        Ok(())
    }

    /// The settings of the Socket.IO layer.
    pub fn settings(&self) -> &SocketSettings {
        &self.settings
    }
}

/// Encodes an EVENT packet of `event` with one argument, ready to send as a text frame: the whole
/// Engine.IO message, so that one encoding serves every connection.
pub fn encode_event<T: Serialize + ?Sized>(
    ns: &str,
    event: &str,
    data: &T,
) -> serde_json::Result<ByteString> {
    let payload = serde_json::to_string(&(event, data))?;
    let Value::Str(encoded, _) = CommonParser.encode(Packet::event(Str::copy_from_slice(ns), text(payload)))
    else {
        return Err(serde::ser::Error::custom("an event without binaries encodes to text"));
    };
    let mut frame = String::with_capacity(encoded.len() + 1);
    frame.push('4');
    frame.push_str(&encoded);
    Ok(ByteString::from(frame))
}

fn text(json: String) -> Value {
    Value::Str(Str::from(json), None)
}

/// `[a,b,...]` from JSON texts.
fn json_array<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::from("[");
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push(']');
    out
}

/// A CONNECT payload must be a JSON object.
fn json_object(value: Value) -> Result<Box<RawValue>, Closed> {
    let invalid = Closed::InvalidPacket("a CONNECT payload must be a JSON object");
    let Value::Str(data, _) = value else { return Err(invalid) };
    match serde_json::from_str::<Box<RawValue>>(&data) {
        Ok(raw) if raw.get().starts_with('{') => Ok(raw),
        _ => Err(invalid),
    }
}
