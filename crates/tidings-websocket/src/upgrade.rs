//! The hand-off of an upgraded connection from the HTTP server to the live door that accepted it.
//!
//! An upgrade request is still answered by the application (middleware, authentication, limits,
//! request ids all apply): a door that accepts it answers `101` through [`accept`], which leaves
//! the door's session in the response. The server's upgrade hook ([`crate::server`]) sends that
//! response, takes the TCP stream back from the HTTP layer and runs the session on it.

use std::future::Future;

use actix_http::ws::HandshakeError;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;

use crate::socket::{Limits, WebSocket};

/// Marks a request that came through the server's upgrade hook.
pub(crate) struct Hooked;

/// A door's session, left in a `101` response for the upgrade hook to run.
pub(crate) struct Upgrade {
    pub(crate) limits: Limits,
    pub(crate) run: Box<dyn FnOnce(WebSocket) -> LocalBoxFuture<'static, ()>>,
}

/// Why a WebSocket upgrade was refused.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    /// Not a valid WebSocket handshake (RFC 6455 section 4.2.1).
    #[error("{0}")]
    Handshake(HandshakeError),
    /// The request did not come through the upgrade hook of [`crate::server`] (a server built
    /// without it), so nothing would take the socket.
    #[error("this server does not hand WebSocket connections over")]
    NotHandedOff,
}

/// Accepts a WebSocket upgrade: the `101` response to return, with `run` to serve the socket
/// once the response is sent.
pub fn accept<F, Fut>(req: &HttpRequest, limits: Limits, run: F) -> Result<HttpResponse, AcceptError>
where
    F: FnOnce(WebSocket) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let mut builder = actix_http::ws::handshake(req.head()).map_err(AcceptError::Handshake)?;
    if req.extensions().get::<Hooked>().is_none() {
        return Err(AcceptError::NotHandedOff);
    }
    let mut response = HttpResponse::from(builder.finish().map_into_boxed_body());
    let run: Box<dyn FnOnce(WebSocket) -> LocalBoxFuture<'static, ()>> =
        Box::new(move |socket| Box::pin(run(socket)));
    response.extensions_mut().insert(Upgrade { limits, run });
    Ok(response)
}
