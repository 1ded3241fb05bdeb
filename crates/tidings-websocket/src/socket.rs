//! One WebSocket over a TCP stream the server owns once the upgrade is answered.
//!
//! Written by hand around actix-http's frame codec because no library holds a connection in
//! almost nothing while it is idle: actix-ws keeps the HTTP dispatcher's 8 KiB read and write
//! buffers, a channel and a second task per connection for as long as it lives, and tungstenite
//! keeps its own buffers. Here bytes are read into the stack and kept only while a frame is
//! incomplete, frames to send are written at once and kept only while the client is not taking
//! them, and frames queued together leave in one write. A frame encoded once by [`text_frame`] is
//! queued on any number of sockets without being copied: a server's frames are not masked, so
//! every client gets the same bytes.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::time::Duration;

use actix_codec::{Decoder, Encoder};
use actix_http::ws::{Codec, Frame, Item, Message, ProtocolError};
use bytes::{Buf, Bytes, BytesMut};
use bytestring::ByteString;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

pub use actix_http::ws::{CloseCode, CloseReason};

use crate::frame_guard::{FrameGuard, FrameRejected};

/// How much a read takes from the socket at once (on the stack, not held between reads).
const READ_CHUNK: usize = 4096;
/// Queued bytes past which [`WebSocket::queue_text`] callers should flush before queuing more.
pub const FLUSH_AT: usize = 64 * 1024;
/// How long a closing connection waits for the client's end before letting go of the socket.
const LINGER: Duration = Duration::from_secs(1);
/// Most queued frames handed to one vectored write.
const WRITE_SLICES: usize = 64;

/// A complete text frame as the server sends it, to queue with [`WebSocket::queue_frame`] on as
/// many sockets as need it.
pub fn text_frame(text: impl Into<ByteString>) -> Bytes {
    let mut frame = BytesMut::new();
    // Encoding into a buffer cannot fail: the codec only reports errors of the sink.
    let _ = Codec::new().encode(Message::Text(text.into()), &mut frame);
    frame.freeze()
}

/// The limits of one connection.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest message (a frame, or a fragmented message whole) a client may send, in bytes.
    pub max_message: usize,
    /// How long queued frames may take to leave before the client counts as gone.
    pub write_timeout: Duration,
}

/// A complete message from the client (fragments already put together).
#[derive(Debug, PartialEq, Eq)]
pub enum Inbound {
    /// A text message, valid UTF-8.
    Text(ByteString),
    /// A binary message.
    Binary(Bytes),
    /// A ping; [`WebSocket::pong`] answers it.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// The client's close frame.
    Close(Option<CloseReason>),
}

/// Why reading from the client failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A frame or fragmented message is over the limit.
    #[error("frame too large")]
    TooLarge,
    /// A frame sets reserved bits.
    #[error("reserved bits set")]
    ReservedBits,
    /// A text message is not valid UTF-8.
    #[error("text frame is not valid UTF-8")]
    InvalidUtf8,
    /// Any other breach of the protocol (an unmasked frame, a bad opcode, a stray continuation).
    #[error("protocol violation: {0}")]
    Protocol(ProtocolError),
    /// The connection failed.
    #[error(transparent)]
    Io(io::Error),
}

impl ReadError {
    /// The close frame that answers the error: 1009 too large, 1007 bad UTF-8, 1002 otherwise.
    pub fn close_reason(&self) -> CloseReason {
        let (code, description) = match self {
            ReadError::TooLarge => (CloseCode::Size, "frame too large"),
            ReadError::ReservedBits => (CloseCode::Protocol, "reserved bits set"),
            ReadError::InvalidUtf8 => (CloseCode::Invalid, "text frame is not valid UTF-8"),
            ReadError::Protocol(_) | ReadError::Io(_) => (CloseCode::Protocol, "protocol violation"),
        };
        CloseReason { code, description: Some(description.into()) }
    }
}

impl From<FrameRejected> for ReadError {
    fn from(rejected: FrameRejected) -> Self {
        match rejected {
            FrameRejected::TooLarge => ReadError::TooLarge,
            FrameRejected::ReservedBits => ReadError::ReservedBits,
        }
    }
}

/// The client did not take what was sent in time, or is gone.
#[derive(Debug, thiserror::Error)]
#[error("the client did not take the frames in time, or is gone")]
pub struct Gone;

/// A fragmented message being put together.
struct Partial {
    text: bool,
    bytes: BytesMut,
}

/// A server-side WebSocket that owns its stream.
pub struct WebSocket {
    io: TcpStream,
    codec: Codec,
    guard: FrameGuard,
    /// Bytes of a frame not complete yet; empty and without capacity between frames.
    read: BytesMut,
    /// Frames queued and not written yet (the first maybe in part); empty and without capacity
    /// once they left.
    write: VecDeque<Bytes>,
    /// Bytes in `write`.
    queued: usize,
    partial: Option<Partial>,
    /// The guard's verdict on the bytes that came with the upgrade request, given by the first
    /// [`recv`](Self::recv).
    refused: Option<FrameRejected>,
    limits: Limits,
}

impl WebSocket {
    /// A WebSocket over `io`, whose handshake was answered; `early` holds bytes the client sent
    /// after its upgrade request that were already read.
    pub fn new(io: TcpStream, early: BytesMut, limits: Limits) -> WebSocket {
        let mut guard = FrameGuard::default();
        let refused = guard.check(&early, limits.max_message as u64).err();
        let read = if early.is_empty() || refused.is_some() { BytesMut::new() } else { early };
        WebSocket {
            io,
            codec: Codec::new().max_size(limits.max_message),
            guard,
            read,
            write: VecDeque::new(),
            queued: 0,
            partial: None,
            refused,
            limits,
        }
    }

    /// The connection's limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The next message from the client; `None` once the client hung up.
    ///
    /// Cancel-safe: bytes read stay in the socket, so a `select!` may drop the call and call again.
    pub async fn recv(&mut self) -> Option<Result<Inbound, ReadError>> {
        if let Some(refused) = self.refused.take() {
            return Some(Err(refused.into()));
        }
        loop {
            match self.decode() {
                Ok(Some(message)) => return Some(Ok(message)),
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
            // The stream's own reader slot rather than `readable()`: it holds one waker, this
            // task's, and so lets go of the waker the HTTP connection's task left there (that
            // waker would keep the task's memory, about 1.3 KB, for the WebSocket's whole life).
            if let Err(e) = std::future::poll_fn(|cx| self.io.poll_read_ready(cx)).await {
                return Some(Err(ReadError::Io(e)));
            }
            let mut chunk = [0u8; READ_CHUNK];
            match self.io.try_read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => {
                    if let Err(rejected) = self.guard.check(&chunk[..n], self.limits.max_message as u64) {
                        return Some(Err(rejected.into()));
                    }
                    self.read.extend_from_slice(&chunk[..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Some(Err(ReadError::Io(e))),
            }
        }
    }

    /// Takes the next complete message out of the bytes read, if there is one.
    fn decode(&mut self) -> Result<Option<Inbound>, ReadError> {
        loop {
            let frame = match self.codec.decode(&mut self.read) {
                Ok(Some(frame)) => frame,
                Ok(None) => {
                    if self.read.is_empty() {
                        self.read = BytesMut::new();
                    }
                    return Ok(None);
                }
                Err(ProtocolError::Overflow) => return Err(ReadError::TooLarge),
                Err(e) => return Err(ReadError::Protocol(e)),
            };
            let message = match frame {
                Frame::Text(bytes) => text(bytes)?,
                Frame::Binary(bytes) => Inbound::Binary(bytes),
                Frame::Ping(bytes) => Inbound::Ping(bytes),
                Frame::Pong(bytes) => Inbound::Pong(bytes),
                Frame::Close(reason) => Inbound::Close(reason),
                Frame::Continuation(Item::FirstText(bytes)) => {
                    self.partial = Some(Partial { text: true, bytes: BytesMut::from(bytes) });
                    continue;
                }
                Frame::Continuation(Item::FirstBinary(bytes)) => {
                    self.partial = Some(Partial { text: false, bytes: BytesMut::from(bytes) });
                    continue;
                }
                Frame::Continuation(Item::Continue(bytes)) => {
                    self.append(&bytes)?;
                    continue;
                }
                Frame::Continuation(Item::Last(bytes)) => {
                    self.append(&bytes)?;
                    let Some(Partial { text: is_text, bytes }) = self.partial.take() else {
                        return Err(ReadError::Protocol(ProtocolError::ContinuationNotStarted));
                    };
                    match is_text {
                        true => text(bytes.freeze())?,
                        false => Inbound::Binary(bytes.freeze()),
                    }
                }
            };
            return Ok(Some(message));
        }
    }

    fn append(&mut self, bytes: &[u8]) -> Result<(), ReadError> {
        let Some(partial) = self.partial.as_mut() else {
            return Err(ReadError::Protocol(ProtocolError::ContinuationNotStarted));
        };
        if partial.bytes.len() + bytes.len() > self.limits.max_message {
            return Err(ReadError::TooLarge);
        }
        partial.bytes.extend_from_slice(bytes);
        Ok(())
    }

    /// Queues a text frame; it leaves with the next [`flush`](Self::flush).
    pub fn queue_text(&mut self, text: impl Into<ByteString>) {
        self.queue(Message::Text(text.into()));
    }

    /// Queues a binary frame; it leaves with the next [`flush`](Self::flush).
    pub fn queue_binary(&mut self, bytes: Bytes) {
        self.queue(Message::Binary(bytes));
    }

    /// Queues a frame made by [`text_frame`]; it leaves with the next [`flush`](Self::flush),
    /// without being copied.
    pub fn queue_frame(&mut self, frame: Bytes) {
        self.queued += frame.len();
        self.write.push_back(frame);
    }

    /// Bytes queued and not written yet.
    pub fn queued(&self) -> usize {
        self.queued
    }

    fn queue(&mut self, message: Message) {
        let mut frame = BytesMut::new();
        // Encoding into a buffer cannot fail: the codec only reports errors of the sink.
        let _ = self.codec.encode(message, &mut frame);
        self.queue_frame(frame.freeze());
    }

    /// Writes what is queued, giving up after the write timeout.
    pub async fn flush(&mut self) -> Result<(), Gone> {
        match self.write_now() {
            Ok(true) => Ok(()),
            // Boxed: only a client not taking its frames gets here, and waiting on it with a
            // timer takes room that every connection's task would otherwise keep.
            Ok(false) => Box::pin(self.flush_in_time()).await,
            Err(_) => Err(Gone),
        }
    }

    /// Writes what the socket takes now; returns whether everything left.
    fn write_now(&mut self) -> io::Result<bool> {
        while !self.write.is_empty() {
            let written = if self.write.len() == 1 {
                self.io.try_write(&self.write[0])
            } else {
                let mut slices = [IoSlice::new(&[]); WRITE_SLICES];
                let count = self.write.len().min(WRITE_SLICES);
                for (slice, frame) in slices.iter_mut().zip(&self.write) {
                    *slice = IoSlice::new(frame);
                }
                self.io.try_write_vectored(&slices[..count])
            };
            match written {
                Ok(n) => self.advance(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        self.write = VecDeque::new();
        Ok(true)
    }

    /// Takes `written` bytes off the front of the queue.
    fn advance(&mut self, mut written: usize) {
        self.queued -= written;
        while let Some(front) = self.write.front_mut() {
            if written < front.len() {
                front.advance(written);
                return;
            }
            written -= front.len();
            self.write.pop_front();
        }
    }

    /// Writes the rest as the client takes it, within the write timeout.
    async fn flush_in_time(&mut self) -> Result<(), Gone> {
        let written = tokio::time::timeout(self.limits.write_timeout, async {
            // Cancel-safe: what was written is taken off the queue as it goes.
            while !self.write_now()? {
                self.io.writable().await?;
            }
            io::Result::Ok(())
        });
        match written.await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Gone),
        }
    }

    /// Sends a text frame now.
    pub async fn text(&mut self, text: impl Into<ByteString>) -> Result<(), Gone> {
        self.queue_text(text);
        self.flush().await
    }

    /// Sends a binary frame now.
    pub async fn binary(&mut self, bytes: Bytes) -> Result<(), Gone> {
        self.queue_binary(bytes);
        self.flush().await
    }

    /// Sends a ping now.
    pub async fn ping(&mut self, bytes: &[u8]) -> Result<(), Gone> {
        self.queue(Message::Ping(Bytes::copy_from_slice(bytes)));
        self.flush().await
    }

    /// Answers a ping now.
    pub async fn pong(&mut self, bytes: &[u8]) -> Result<(), Gone> {
        self.queue(Message::Pong(Bytes::copy_from_slice(bytes)));
        self.flush().await
    }

    /// Sends what is queued and the close frame, then ends the connection: the client's last
    /// bytes are read and dropped for a moment, so that its close frame or a frame it sent
    /// meanwhile does not turn the socket's end into a reset that could lose ours.
    pub async fn close(mut self, reason: Option<CloseReason>) {
        self.queue(Message::Close(reason));
        if self.flush().await.is_err() {
            return;
        }
        let _ = self.io.shutdown().await;
        let _ = tokio::time::timeout(LINGER, async {
            loop {
                if self.io.readable().await.is_err() {
                    return;
                }
                let mut chunk = [0u8; READ_CHUNK];
                match self.io.try_read(&mut chunk) {
                    Ok(0) => return,
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => return,
                }
            }
        })
        .await;
    }
}

fn text(bytes: Bytes) -> Result<Inbound, ReadError> {
    ByteString::try_from(bytes).map(Inbound::Text).map_err(|_| ReadError::InvalidUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    const LIMITS: Limits = Limits { max_message: 100, write_timeout: Duration::from_secs(5) };

    /// A server socket and the client's end of it.
    async fn pair() -> (WebSocket, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (WebSocket::new(server, BytesMut::new(), LIMITS), client)
    }

    /// A client frame (masked with a zero key, which leaves the payload as it is).
    fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
        assert!(payload.len() < 126);
        let mut out = vec![first, 0x80 | payload.len() as u8, 0, 0, 0, 0];
        out.extend_from_slice(payload);
        out
    }

    #[tokio::test]
    async fn fragments_make_one_message_and_control_frames_may_come_between() {
        let (mut socket, mut client) = pair().await;
        let mut bytes = frame(0x01, b"hel");
        bytes.extend(frame(0x89, b"p"));
        bytes.extend(frame(0x80, b"lo"));
        client.write_all(&bytes).await.unwrap();
        assert_eq!(socket.recv().await.unwrap().unwrap(), Inbound::Ping(Bytes::from_static(b"p")));
        assert_eq!(socket.recv().await.unwrap().unwrap(), Inbound::Text("hello".into()));
    }

    #[tokio::test]
    async fn bad_utf8_and_oversized_messages_are_refused() {
        let (mut socket, mut client) = pair().await;
        client.write_all(&frame(0x81, &[0xff, 0xfe])).await.unwrap();
        assert!(matches!(socket.recv().await, Some(Err(ReadError::InvalidUtf8))));

        let (mut socket, mut client) = pair().await;
        let mut bytes = frame(0x02, &[0; 60]);
        bytes.extend(frame(0x80, &[0; 60]));
        client.write_all(&bytes).await.unwrap();
        assert!(matches!(socket.recv().await, Some(Err(ReadError::TooLarge))));
    }

    #[tokio::test]
    async fn an_idle_socket_keeps_no_buffer() {
        let (mut socket, mut client) = pair().await;
        client.write_all(&frame(0x81, b"hi")).await.unwrap();
        assert_eq!(socket.recv().await.unwrap().unwrap(), Inbound::Text("hi".into()));
        assert_eq!(socket.read.capacity(), 0, "the read buffer is let go once a frame is complete");
        socket.queue_text("one");
        socket.queue_text("two");
        socket.flush().await.unwrap();
        assert_eq!(socket.write.capacity(), 0, "the write buffer is let go once it left");
        let mut sent = [0u8; 10];
        client.read_exact(&mut sent).await.unwrap();
        assert_eq!(&sent, b"\x81\x03one\x81\x03two");
    }

    #[tokio::test]
    async fn a_frame_encoded_once_leaves_whole_and_in_order_on_every_socket() {
        // Larger than a socket's send buffer: the writes are partial, and resume where they stopped.
        let big = "x".repeat(3 * 1024 * 1024);
        let shared = text_frame(big.clone());
        let mut clients = Vec::new();
        for _ in 0..2 {
            let (mut socket, client) = pair().await;
            socket.queue_text("before");
            socket.queue_frame(shared.clone());
            socket.queue_text("after");
            assert_eq!(socket.queued(), 8 + shared.len() + 7);
            let reader = tokio::spawn(async move {
                let mut client = client;
                let mut got = Vec::new();
                client.read_to_end(&mut got).await.unwrap();
                got
            });
            socket.flush().await.unwrap();
            assert_eq!((socket.queued(), socket.write.capacity()), (0, 0), "all of it left");
            drop(socket);
            clients.push(reader);
        }
        let mut expected = b"\x81\x06before".to_vec();
        expected.extend_from_slice(&[0x81, 127]);
        expected.extend_from_slice(&(big.len() as u64).to_be_bytes());
        expected.extend_from_slice(big.as_bytes());
        expected.extend_from_slice(b"\x81\x05after");
        for reader in clients {
            let got = reader.await.unwrap();
            assert_eq!(got.len(), expected.len());
            assert!(got == expected, "the frames arrive whole, in the order queued");
        }
    }

    #[tokio::test]
    async fn the_client_hanging_up_ends_the_stream() {
        let (mut socket, client) = pair().await;
        drop(client);
        assert!(socket.recv().await.is_none());
    }
}
