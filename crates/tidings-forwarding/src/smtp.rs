//! Where e-mail goes: the SMTP server of `TIDINGS_SMTP_URL` and the sender of `TIDINGS_SMTP_FROM`,
//! checked when the server starts. Mail leaves encrypted, except to a server on this very machine.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use lettre::message::Mailbox;
use reqwest::Url;
use thiserror::Error;

/// The sender when `TIDINGS_SMTP_FROM` is unset.
pub const DEFAULT_FROM: &str = "Tidings <no-reply@localhost>";

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtp://`: a plain connection upgraded with STARTTLS, which is required (default port 587).
    StartTls,
    /// `smtps://`: TLS from the first byte (default port 465).
    Tls,
    /// `smtp://` to a loopback host: no encryption (default port 587), for development and tests.
    Plain,
}

/// Why `TIDINGS_SMTP_URL` cannot be used; never repeats the URL, which may hold a password.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum SmtpUrlError {
    /// Not a URL.
    #[error("not a URL")]
    Malformed,
    /// A scheme other than `smtp` or `smtps`.
    #[error("the scheme must be smtp:// (STARTTLS) or smtps:// (TLS)")]
    Scheme,
    /// No host.
    #[error("no host")]
    NoHost,
    /// A path, query or fragment, which mean nothing here.
    #[error("only smtp[s]://[user:password@]host[:port] is understood")]
    Extra,
    /// User or password that is not valid percent-encoded UTF-8.
    #[error("the user or password is not valid percent-encoded UTF-8")]
    Credentials,
}

/// An SMTP server to send through.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpServer {
    /// Host name or IP address (without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// How the connection is protected.
    pub security: SmtpSecurity,
    /// User and password, when the server wants them.
    pub credentials: Option<(String, String)>,
}

impl SmtpServer {
    /// Reads `smtp://[user:password@]host[:port]` (STARTTLS required; plain only to a loopback
    /// host) or `smtps://…` (TLS). User and password are percent-decoded.
    pub fn parse(raw: &str) -> Result<Self, SmtpUrlError> {
        let url = Url::parse(raw.trim()).map_err(|_| SmtpUrlError::Malformed)?;
        let implicit_tls = match url.scheme() {
            "smtp" => false,
            "smtps" => true,
            _ => return Err(SmtpUrlError::Scheme),
        };
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or(SmtpUrlError::NoHost)?;
        // An IPv6 address comes in brackets.
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let loopback = match host.parse::<IpAddr>() {
            Ok(ip) => ip.is_loopback(),
            Err(_) => host.eq_ignore_ascii_case("localhost"),
        };
        let security = match (implicit_tls, loopback) {
            (true, _) => SmtpSecurity::Tls,
            (false, false) => SmtpSecurity::StartTls,
            (false, true) => SmtpSecurity::Plain,
        };
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err(SmtpUrlError::Extra);
        }
        let port = url.port().unwrap_or(match security {
            SmtpSecurity::Tls => 465,
            SmtpSecurity::StartTls | SmtpSecurity::Plain => 587,
        });
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| SmtpUrlError::Credentials)
        };
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, password) => Some((decode(user)?, decode(password.unwrap_or(""))?)),
        };
        Ok(Self { host, port, security, credentials })
    }
}

impl fmt::Debug for SmtpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpServer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("credentials", &self.credentials.as_ref().map(|(user, _)| (user, "***")))
            .finish()
    }
}

/// The `From` of outgoing e-mail: an address with an optional display name
/// (`Tidings <no-reply@example.com>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sender(pub(crate) Mailbox);

/// A sender that is not an e-mail address.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("not an e-mail address with an optional name, such as `Tidings <no-reply@example.com>`")]
pub struct SenderError;

impl FromStr for Sender {
    type Err = SenderError;
    fn from_str(s: &str) -> Result<Self, SenderError> {
        s.trim().parse::<Mailbox>().map(Sender).map_err(|_| SenderError)
    }
}

impl Default for Sender {
    #[allow(clippy::expect_used, reason = "a constant known to parse (tested)")]
    fn default() -> Self {
        DEFAULT_FROM.parse().expect("the default sender parses")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests: a panic is how a test fails")]

    use super::*;

    fn server(url: &str) -> SmtpServer {
        SmtpServer::parse(url).unwrap()
    }

    #[test]
    fn smtp_is_starttls_and_smtps_is_tls() {
        let s = server("smtp://mailer:p%40ss%3Aword@smtp.example.com");
        assert_eq!((s.host.as_str(), s.port, s.security), ("smtp.example.com", 587, SmtpSecurity::StartTls));
        assert_eq!(s.credentials, Some(("mailer".into(), "p@ss:word".into())));
        let s = server("smtps://smtp.example.com");
        assert_eq!((s.port, s.security, s.credentials), (465, SmtpSecurity::Tls, None));
        assert_eq!(server("smtp://smtp.example.com:2525/").port, 2525);
    }

    #[test]
    fn only_loopback_hosts_get_plain_smtp() {
        for url in ["smtp://127.0.0.1:1025", "smtp://localhost:1025", "smtp://[::1]:1025", "smtp://LOCALHOST"]
        {
            assert_eq!(server(url).security, SmtpSecurity::Plain, "{url}");
        }
        assert_eq!(server("smtp://[::1]:25").host, "::1");
        for url in ["smtp://10.0.0.1", "smtp://localhost.example.com", "smtp://127.0.0.1.nip.io"] {
            assert_eq!(server(url).security, SmtpSecurity::StartTls, "{url}");
        }
        assert_eq!(server("smtps://127.0.0.1").security, SmtpSecurity::Tls, "TLS when asked for");
    }

    #[test]
    fn anything_else_is_refused() {
        let cases = [
            ("http://smtp.example.com", SmtpUrlError::Scheme),
            ("smtp.example.com:587", SmtpUrlError::Scheme),
            ("not a url", SmtpUrlError::Malformed),
            ("smtp://", SmtpUrlError::NoHost),
            ("smtp://smtp.example.com?tls=none", SmtpUrlError::Extra),
            ("smtp://smtp.example.com/ehlo", SmtpUrlError::Extra),
            ("smtp://u:%FF@smtp.example.com", SmtpUrlError::Credentials),
        ];
        for (url, expected) in cases {
            assert_eq!(SmtpServer::parse(url), Err(expected), "{url}");
        }
    }

    #[test]
    fn the_password_is_never_printed() {
        let s = server("smtp://mailer:hunter2@smtp.example.com");
        assert!(!format!("{s:?}").contains("hunter2"));
        let err = SmtpServer::parse("smtp://mailer:hunter2@smtp.example.com/x").unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn senders_are_addresses_with_an_optional_name() {
        assert_eq!(Sender::default().0.to_string(), "Tidings <no-reply@localhost>");
        assert!("no-reply@example.com".parse::<Sender>().is_ok());
        assert!("\"Acme Support\" <help@acme.example>".parse::<Sender>().is_ok());
        for bad in ["", "Tidings", "Tidings <>", "a@b@c"] {
            assert_eq!(bad.parse::<Sender>(), Err(SenderError), "{bad:?}");
        }
    }
}
