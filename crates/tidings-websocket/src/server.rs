//! An HTTP/1.1 server for an actix-web application whose WebSocket upgrades are handed off.
//!
//! actix-web's `HttpServer` keeps an upgraded connection inside its HTTP dispatcher (two 8 KiB
//! buffers, a payload channel and a second task per WebSocket, for the connection's whole life).
//! This server is built from the same parts (actix-server, actix-http) with an upgrade hook:
//! upgrade requests are answered by the application as any other, and when a door accepted one
//! ([`crate::accept`]) the hook takes the TCP stream back and runs the door's session on it in a
//! task of its own, so that the HTTP connection's task, sized for HTTP/1 (about 2.3 KB), ends.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use actix_codec::{Encoder, Framed};
use actix_http::body::{BodySize, MessageBody};
use actix_http::{ConnectionType, HttpService, KeepAlive, Request, Response, StatusCode, h1};
use actix_service::{
    IntoServiceFactory, Service, ServiceFactory, ServiceFactoryExt, fn_factory, fn_service, map_config,
};
use actix_web::HttpMessage;
use actix_web::dev::AppConfig;
use futures_util::future::LocalBoxFuture;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_util::task::TaskTracker;

use crate::socket::WebSocket;
use crate::upgrade::{Hooked, Upgrade};

/// Connections waiting to be accepted, per listener.
const BACKLOG: u32 = 2048;
/// How long an idle keep-alive connection stays open, and how long a client has to send its
/// request's head (actix-web's defaults).
const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// How long a connection being closed gets to take the rest of the answer (actix-web's default):
/// without it, a client still sending a body the server refused sees a reset, not the answer.
const DISCONNECT: Duration = Duration::from_secs(1);
/// How long the answer to a refused upgrade may take to leave.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(5);

/// How the server runs.
#[derive(Clone, Debug)]
pub struct ServerSettings {
    /// Worker threads; one per core when unset.
    pub workers: Option<usize>,
    /// How long a graceful stop waits for open connections.
    pub shutdown_timeout: Duration,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings { workers: None, shutdown_timeout: Duration::from_secs(30) }
    }
}

/// A server bound to its address and not running yet.
pub struct Bound {
    /// The server; await it (or its handle) to run it.
    pub server: actix_server::Server,
    /// The address it listens on (the port chosen when bound to port 0).
    pub addr: SocketAddr,
    /// The WebSocket sessions handed off, which the server's graceful stop does not wait for.
    pub sessions: Sessions,
}

/// The WebSocket sessions a server runs beside its HTTP connections. Stopping the server drops
/// those still open: ask them to close first (the live doors' hub does) and wait here.
#[derive(Clone, Debug, Default)]
pub struct Sessions(TaskTracker);

impl Sessions {
    /// Sessions running now.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no session runs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Waits until every session has ended, or `within` has passed; returns whether they all did.
    pub async fn ended(&self, within: Duration) -> bool {
        self.0.close();
        let ended = tokio::time::timeout(within, self.0.wait()).await.is_ok();
        // Sessions may still be accepted until the server stops: keep counting them.
        self.0.reopen();
        ended
    }
}

/// Binds `addr` and serves the application `factory` builds (once per worker) on it, with
/// `TCP_NODELAY` on every connection and WebSocket upgrades handed off. Signals are left to the
/// caller (stop through the server's handle).
pub fn bind<F, I, S, B>(factory: F, addr: SocketAddr, settings: &ServerSettings) -> io::Result<Bound>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let listener = listen(addr)?;
    let addr = listener.local_addr()?;
    let sessions = Sessions::default();
    let tracker = sessions.clone();
    let mut builder = actix_server::Server::build()
        .disable_signals()
        .backlog(BACKLOG)
        .shutdown_timeout(settings.shutdown_timeout.as_secs());
    if let Some(workers) = settings.workers {
        builder = builder.workers(workers);
    }
    let builder = builder.listen("http", listener, move || {
        // Live events are small frames written one at a time: without TCP_NODELAY, Nagle's
        // algorithm holds each behind the receiver's delayed ACK of the previous one.
        let app = factory().into_factory().map_err(|e| e.into().error_response());
        HttpService::build()
            .keep_alive(KeepAlive::Timeout(KEEP_ALIVE))
            .client_request_timeout(KEEP_ALIVE)
            .client_disconnect_timeout(DISCONNECT)
            .tcp_nodelay(true)
            .local_addr(addr)
            .upgrade(hook(factory.clone(), tracker.clone()))
            .finish(map_config(app, |_| AppConfig::default()))
            .tcp()
    })?;
    Ok(Bound { server: builder.run(), addr, sessions })
}

/// A listening socket with the server's backlog.
fn listen(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)?.into_std()
}

/// The upgrade service of a worker: its own instance of the application, through which every
/// upgrade request goes; accepted sessions run in `sessions`.
fn hook<F, I, S, B>(
    factory: F,
    sessions: Sessions,
) -> impl ServiceFactory<
    (Request, Framed<TcpStream, h1::Codec>),
    Config = (),
    Response = (),
    Error = actix_web::Error,
    InitError = (),
>
where
    F: Fn() -> I + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    fn_factory(move || {
        let app = factory().into_factory();
        let sessions = sessions.clone();
        async move {
            let app = app.new_service(AppConfig::default()).await.map_err(|e| {
                tracing::error!(error = ?e, "the application did not start for the upgrade hook");
            })?;
            let app = Rc::new(app);
            Ok(fn_service(move |(req, framed): (Request, Framed<TcpStream, h1::Codec>)| {
                let (app, sessions) = (app.clone(), sessions.clone());
                let upgraded: LocalBoxFuture<'static, Result<(), actix_web::Error>> =
                    Box::pin(async move { Ok(upgraded(&*app, req, framed, &sessions).await?) });
                upgraded
            }))
        }
    })
}

/// Answers an upgrade request through the application; starts the accepting door's session on
/// the socket, or sends the answer and closes the connection.
async fn upgraded<S, B>(
    app: &S,
    req: Request,
    framed: Framed<TcpStream, h1::Codec>,
    sessions: &Sessions,
) -> io::Result<()>
where
    S: Service<Request>,
    S::Error: Into<actix_web::Error>,
    S::Response: Into<Response<B>>,
    B: MessageBody,
{
    if let Some((socket, run)) = answer(app, req, framed).await? {
        // A task of its own on this worker: the HTTP connection's task (the dispatcher, sized
        // for HTTP/1) ends here instead of living as long as the WebSocket.
        sessions.0.spawn_local(run(socket));
    }
    Ok(())
}

/// The session an accepted upgrade runs, and its socket.
type Accepted = (WebSocket, Box<dyn FnOnce(WebSocket) -> LocalBoxFuture<'static, ()>>);

/// Sends the application's answer to an upgrade request: `101` and the socket when a door
/// accepted it, otherwise the answer and a closed connection (`None`).
async fn answer<S, B>(
    app: &S,
    req: Request,
    framed: Framed<TcpStream, h1::Codec>,
) -> io::Result<Option<Accepted>>
where
    S: Service<Request>,
    S::Error: Into<actix_web::Error>,
    S::Response: Into<Response<B>>,
    B: MessageBody,
{
    req.extensions_mut().insert(Hooked);
    let response: Response<B> = match app.call(req).await {
        Ok(response) => response.into(),
        Err(e) => {
            let error: actix_web::Error = e.into();
            return refuse(framed, error.error_response().into()).await.map(|()| None);
        }
    };
    let (mut head, body) = response.into_parts();
    let upgrade = head.extensions_mut().remove::<Upgrade>();
    let Some(upgrade) = upgrade.filter(|_| head.status() == StatusCode::SWITCHING_PROTOCOLS) else {
        return refuse(framed, head.set_body(body)).await.map(|()| None);
    };
    let mut parts = framed.into_parts();
    // Answers to requests pipelined before the upgrade may still be waiting to leave: first.
    let mut out = std::mem::take(&mut parts.write_buf);
    parts.codec.encode(h1::Message::Item((head, BodySize::None)), &mut out)?;
    parts.io.write_all(&out).await?;
    Ok(Some((WebSocket::new(parts.io, parts.read_buf, upgrade.limits), upgrade.run)))
}

/// Sends a response that is not a switch of protocols, then closes the connection.
async fn refuse<B: MessageBody>(
    framed: Framed<TcpStream, h1::Codec>,
    response: Response<B>,
) -> io::Result<()> {
    let (mut head, body) = response.into_parts();
    let body = actix_http::body::to_bytes(body).await.map_err(|e| io::Error::other(e.into().to_string()))?;
    head.head_mut().set_connection_type(ConnectionType::Close);
    let mut parts = framed.into_parts();
    let mut out = std::mem::take(&mut parts.write_buf);
    parts.codec.encode(h1::Message::Item((head, BodySize::Sized(body.len() as u64))), &mut out)?;
    parts.codec.encode(h1::Message::Chunk(Some(body)), &mut out)?;
    parts.codec.encode(h1::Message::Chunk(None), &mut out)?;
    let sent = async {
        parts.io.write_all(&out).await?;
        parts.io.shutdown().await
    };
    tokio::time::timeout(REFUSAL_TIMEOUT, sent).await.unwrap_or(Ok(()))
}
