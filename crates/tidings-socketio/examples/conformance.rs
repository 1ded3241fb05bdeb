//! The protocol layer in the test mode the official Engine.IO / Socket.IO protocol suites assume
//! (`shared/sio-conformance/README.md`, section 5): at `/v1/socket.io/` namespaces `/` and
//! `/custom` with no authentication, each echoing its CONNECT payload as an `auth` event, `message`
//! answered by `message-back` and `message-with-ack` acknowledged with the same arguments; at
//! `/v1/engine.io/` a raw Engine.IO endpoint that echoes every message. Heartbeat 300/200 ms.
//!
//! ```sh
//! cargo run -p tidings-socketio --example conformance -- 127.0.0.1:4100
//! ```
//!
//! Not part of the server: Tidings' own door authenticates and speaks its events.

use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, web};
use tidings_socketio::engine::Received;
use tidings_socketio::{
    Closed, EngineSettings, EngineSocket, HandshakeError, Incoming, Next, SocketIo, SocketSettings,
};
use tidings_websocket::server::{self, ServerSettings};
use tidings_websocket::{CloseCode, Limits, WebSocket};

const ENGINE: EngineSettings = EngineSettings {
    ping_interval: Duration::from_millis(300),
    ping_timeout: Duration::from_millis(200),
    max_payload: 1_000_000,
};
const LIMITS: Limits = Limits { max_message: 1_000_000, write_timeout: Duration::from_secs(5) };

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:4100".to_owned());
    let bind = bind.parse().map_err(|_| std::io::Error::other(format!("not an address: {bind}")))?;
    println!("conformance server on http://{bind} (/v1/socket.io/, /v1/engine.io/)");
    let app = || {
        App::new()
            .route("/v1/socket.io/", web::to(socket_io))
            .route("/v1/socket.io", web::to(socket_io))
            .route("/v1/engine.io/", web::to(engine_io))
            .route("/v1/engine.io", web::to(engine_io))
    };
    let settings = ServerSettings { workers: Some(1), ..Default::default() };
    server::bind(app, bind, &settings)?.server.await
}

/// Upgrades a request that passes the handshake check; `run` serves the socket.
fn upgrade<F: Future<Output = ()> + 'static>(
    req: &HttpRequest,
    run: impl FnOnce(WebSocket) -> F + 'static,
) -> HttpResponse {
    let is_upgrade = req.headers().contains_key("upgrade");
    let accepted = tidings_socketio::handshake::check(req.query_string(), is_upgrade).and_then(|()| {
        tidings_websocket::accept(req, LIMITS, run).map_err(|_| HandshakeError::TRANSPORT_UNKNOWN)
    });
    match accepted {
        Ok(response) => response,
        Err(refused) => HttpResponse::BadRequest().content_type("application/json").body(refused.body()),
    }
}

async fn socket_io(req: HttpRequest) -> HttpResponse {
    upgrade(&req, |ws| async move {
        let settings = SocketSettings { connect_timeout: Duration::from_secs(1), ..Default::default() };
        if let Ok(mut socket) = SocketIo::open(ws, ENGINE, settings).await {
            let closed = echo(&mut socket).await;
            socket.close(Some(close_code(&closed).into())).await;
        }
    })
}

/// The Socket.IO test mode: serves until the connection ends.
async fn echo(socket: &mut SocketIo) -> Closed {
    loop {
        let incoming = match socket.next(std::pin::pin!(std::future::pending::<()>())).await {
            Ok(Next::Client(incoming)) => incoming,
            Ok(Next::Wake(())) => continue,
            Err(closed) => return closed,
        };
        let sent = match incoming {
            Incoming::Connect { ns, auth } if ns == "/" || ns == "/custom" => {
                let auth = auth.unwrap_or_else(empty_object);
                match socket.accept(&ns).await {
                    Ok(()) => socket.emit_raw(&ns, "auth", &[auth], Default::default()).await,
                    Err(closed) => Err(closed),
                }
            }
            Incoming::Connect { ns, .. } => socket.refuse(&ns, "Invalid namespace").await,
            Incoming::Disconnect { .. } => Ok(()),
            Incoming::Event(event) if event.ns == "/" && event.name == "message" => {
                socket.emit_raw("/", "message-back", &event.args, event.binaries).await
            }
            Incoming::Event(event) if event.ns == "/" && event.name == "message-with-ack" => {
                match event.ack {
                    Some(id) => socket.ack_raw("/", id, &event.args, event.binaries).await,
                    None => Ok(()),
                }
            }
            Incoming::Event(_) => Ok(()),
        };
        if let Err(closed) = sent {
            return closed;
        }
    }
}

async fn engine_io(req: HttpRequest) -> HttpResponse {
    upgrade(&req, |ws| async move {
        if let Ok(mut socket) = EngineSocket::open(ws, ENGINE).await {
            let closed = echo_engine(&mut socket).await;
            socket.close(Some(close_code(&closed).into())).await;
        }
    })
}

/// The raw Engine.IO echo: every message comes back as it was.
async fn echo_engine(socket: &mut EngineSocket) -> Closed {
    loop {
        let sent = match socket.next(std::pin::pin!(std::future::pending::<()>())).await {
            Ok(Next::Client(Received::Text(text))) => socket.send_message(&text).await,
            Ok(Next::Client(Received::Binary(bytes))) => socket.send_binary(bytes).await,
            Ok(Next::Wake(())) => Ok(()),
            Err(closed) => return closed,
        };
        if let Err(closed) = sent {
            return closed;
        }
    }
}

fn close_code(closed: &Closed) -> CloseCode {
    match closed {
        Closed::ByClient(_) => CloseCode::Normal,
        _ => CloseCode::Policy,
    }
}

fn empty_object() -> Box<serde_json::value::RawValue> {
    serde_json::value::RawValue::from_string("{}".to_owned()).unwrap_or_else(|_| unreachable!())
}
