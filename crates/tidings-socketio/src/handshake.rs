//! Which requests may open a connection: Engine.IO v4 over a WebSocket upgrade, nothing else. What
//! is refused gets Engine.IO's own error body, so clients configured for polling fail fast.

use serde::Serialize;

/// Why an HTTP request to the endpoint cannot open a connection (answered with HTTP 400).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct HandshakeError {
    /// Engine.IO's error code.
    pub code: u8,
    /// Engine.IO's message for it.
    pub message: &'static str,
}

impl HandshakeError {
    /// Polling, an unknown transport, or a plain HTTP request.
    pub const TRANSPORT_UNKNOWN: HandshakeError = HandshakeError { code: 0, message: "Transport unknown" };
    /// `EIO` missing or other than 4.
    pub const UNSUPPORTED_PROTOCOL: HandshakeError =
        HandshakeError { code: 5, message: "Unsupported protocol version" };

    /// The JSON body Engine.IO servers answer with.
    pub fn body(&self) -> String {
        format!(r#"{{"code":{},"message":"{}"}}"#, self.code, self.message)
    }
}

/// Checks a handshake request: its query string (`EIO=4&transport=websocket`) and whether it asks
/// for a WebSocket upgrade.
pub fn check(query: &str, upgrade: bool) -> Result<(), HandshakeError> {
    let (mut eio, mut transport) = (None, None);
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("EIO", value)) => eio = Some(value),
            Some(("transport", value)) => transport = Some(value),
            _ => {}
        }
    }
    if transport != Some("websocket") || !upgrade {
        return Err(HandshakeError::TRANSPORT_UNKNOWN);
    }
    if eio != Some("4") {
        return Err(HandshakeError::UNSUPPORTED_PROTOCOL);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_websocket_upgrades_of_engine_io_4_pass() {
        assert_eq!(check("EIO=4&transport=websocket", true), Ok(()));
        assert_eq!(check("transport=websocket&EIO=4&t=abc", true), Ok(()));
        assert_eq!(check("EIO=4&transport=polling", false), Err(HandshakeError::TRANSPORT_UNKNOWN));
        assert_eq!(check("EIO=4&transport=websocket", false), Err(HandshakeError::TRANSPORT_UNKNOWN));
        assert_eq!(check("EIO=3&transport=websocket", true), Err(HandshakeError::UNSUPPORTED_PROTOCOL));
        assert_eq!(check("", true), Err(HandshakeError::TRANSPORT_UNKNOWN));
        assert_eq!(HandshakeError::TRANSPORT_UNKNOWN.body(), r#"{"code":0,"message":"Transport unknown"}"#);
    }
}
