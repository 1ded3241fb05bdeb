//! A stand-in SMTP server for tests: a loopback listener speaking just enough SMTP (greeting,
//! EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) to take e-mails from the e-mail channel and keep
//! them, with helpers to read their MIME parts back. It can refuse recipients to test failures.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One e-mail the sink took.
#[derive(Clone, Debug)]
pub struct Received {
    /// The envelope sender (`MAIL FROM`).
    pub from: String,
    /// The envelope recipients (`RCPT TO`) that were accepted.
    pub to: Vec<String>,
    /// The message as sent after `DATA` (headers and body, CRLF line ends, dots unstuffed).
    pub data: String,
}

/// A running stand-in SMTP server; stops when dropped.
pub struct SmtpSink {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    /// A sink that takes every e-mail.
    pub async fn start() -> std::io::Result<Self> {
        Self::answering_rcpt("250 2.1.5 OK").await
    }

    /// A sink that answers every `RCPT TO` with `reply` (such as `450 4.2.1 try later` or
    /// `550 5.1.1 no such user`).
    pub async fn answering_rcpt(reply: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let received = Arc::new(Mutex::new(Vec::new()));
        let (kept, reply) = (received.clone(), reply.to_owned());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, kept.clone(), reply.clone()));
            }
        });
        Ok(Self { addr, received, task })
    }

    /// `smtp://127.0.0.1:PORT`, for `TIDINGS_SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// The e-mails taken so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One SMTP conversation.
async fn session(stream: TcpStream, kept: Arc<Mutex<Vec<Received>>>, rcpt_reply: String) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut mail = Received { from: String::new(), to: Vec::new(), data: String::new() };
    if write.write_all(b"220 sink.test ESMTP\r\n").await.is_err() {
        return;
    }
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = line.trim_end().to_owned();
        let verb = command.split([' ', ':']).next().unwrap_or_default().to_ascii_uppercase();
        let reply = match verb.as_str() {
            "EHLO" => "250-sink.test\r\n250 8BITMIME".to_owned(),
            "HELO" | "NOOP" => "250 OK".to_owned(),
            "RSET" => {
                mail = Received { from: String::new(), to: Vec::new(), data: String::new() };
                "250 OK".to_owned()
            }
            "MAIL" => {
                mail.from = address(&command);
                "250 2.1.0 OK".to_owned()
            }
            "RCPT" => {
                if rcpt_reply.starts_with('2') {
                    mail.to.push(address(&command));
                }
                rcpt_reply.clone()
            }
            "DATA" => {
                if write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await.is_err() {
                    return;
                }
                let mut data = String::new();
                loop {
                    line.clear();
                    match lines.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                mail.data = data;
                if let Ok(mut kept) = kept.lock() {
                    kept.push(mail.clone());
                }
                "250 2.0.0 queued".to_owned()
            }
            "QUIT" => {
                let _ = write.write_all(b"221 2.0.0 bye\r\n").await;
                return;
            }
            _ => "502 5.5.2 not implemented".to_owned(),
        };
        if write.write_all(format!("{reply}\r\n").as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The address in `MAIL FROM:<a@b> ...` or `RCPT TO:<a@b>`.
fn address(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command[start..].find('>').map_or(command.len(), |i| start + i);
    command[start..end].to_owned()
}

impl Received {
    /// The value of a top-level header (unfolded), by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = split_head(&self.data);
        header(head, name)
    }

    /// The decoded bodies of the MIME parts of a multipart message, with their content types
    /// (`text/plain; charset=utf-8`, ...), in order; empty for a single-part message.
    pub fn parts(&self) -> Vec<(String, String)> {
        let (head, body) = split_head(&self.data);
        let Some(content_type) = header(head, "content-type") else { return Vec::new() };
        let Some(boundary) = parameter(&content_type, "boundary") else { return Vec::new() };
        let delimiter = format!("--{boundary}");
        body.split(&delimiter)
            .skip(1)
            .take_while(|part| !part.starts_with("--"))
            .map(|part| {
                let (head, body) = split_head(part.trim_start_matches("\r\n"));
                let kind = header(head, "content-type").unwrap_or_else(|| "text/plain".into());
                let encoding = header(head, "content-transfer-encoding").unwrap_or_default();
                (kind, decode(body.trim_end_matches("\r\n"), &encoding))
            })
            .collect()
    }

    /// The decoded body of the first part whose content type starts with `content_type`.
    pub fn part(&self, content_type: &str) -> Option<String> {
        self.parts().into_iter().find(|(kind, _)| kind.starts_with(content_type)).map(|(_, body)| body)
    }
}

/// Headers and body of a message or part.
fn split_head(data: &str) -> (&str, &str) {
    data.split_once("\r\n\r\n").unwrap_or((data, ""))
}

/// A header's unfolded value.
fn header(head: &str, name: &str) -> Option<String> {
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded.split("\r\n").find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
    })
}

/// A parameter of a header value (`boundary="..."`).
fn parameter(value: &str, name: &str) -> Option<String> {
    value.split(';').find_map(|p| {
        let (key, v) = p.split_once('=')?;
        key.trim().eq_ignore_ascii_case(name).then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// A part's body decoded from its transfer encoding.
fn decode(body: &str, encoding: &str) -> String {
    let bytes = match encoding.to_ascii_lowercase().as_str() {
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD.decode(compact).unwrap_or_default()
        }
        "quoted-printable" => quoted_printable(body),
        _ => body.as_bytes().to_vec(),
    };
    String::from_utf8_lossy(&bytes).replace("\r\n", "\n")
}

fn quoted_printable(body: &str) -> Vec<u8> {
    let joined = body.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'=')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}
