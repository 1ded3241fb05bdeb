//! The Firebase service account: the JSON file Google hands out (`project_id`, `client_email`,
//! `private_key`, `token_uri`), read and checked once at start, so that a bad file stops the server
//! instead of failing every push later.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use jsonwebtoken::EncodingKey;
use serde::Deserialize;
use thiserror::Error;

/// Why a service account file cannot be used. Never shows the key.
#[derive(Debug, Error)]
pub enum ServiceAccountError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not JSON with the expected fields.
    #[error("not a service account JSON file: {0}")]
    Json(#[from] serde_json::Error),
    /// A required field is empty.
    #[error("{0} is empty")]
    Empty(&'static str),
    /// `private_key` is not an RSA private key in PEM.
    #[error("private_key is not an RSA private key in PEM (PKCS#8 or PKCS#1)")]
    Key,
    /// `token_uri` is not an http(s) URL.
    #[error("token_uri is not an http:// or https:// URL")]
    TokenUri,
}

/// A service account allowed to send through FCM.
#[derive(Clone)]
pub struct ServiceAccount {
    /// The Firebase project messages are sent from.
    pub project_id: String,
    /// The account's e-mail: the issuer of its token requests.
    pub client_email: String,
    /// Where signed token requests are exchanged for access tokens.
    pub token_uri: String,
    /// Names the key to Google (`kid`), when the file has it.
    pub(crate) private_key_id: Option<String>,
    /// The RSA key (PKCS#1 DER, as the JWT library signs with it).
    pub(crate) key: Arc<EncodingKey>,
}

/// The file's fields; others (`type`, `client_id`, ...) are ignored.
#[derive(Deserialize)]
struct File {
    project_id: String,
    client_email: String,
    private_key: String,
    token_uri: String,
    #[serde(default)]
    private_key_id: Option<String>,
}

impl ServiceAccount {
    /// Reads and checks the file at `path`.
    pub fn from_file(path: &Path) -> Result<Self, ServiceAccountError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ServiceAccountError::Read { path: path.display().to_string(), source })?;
        Self::from_json(&text)
    }

    /// Reads and checks the file's contents.
    pub fn from_json(text: &str) -> Result<Self, ServiceAccountError> {
        let file: File = serde_json::from_str(text)?;
        for (name, value) in [
            ("project_id", &file.project_id),
            ("client_email", &file.client_email),
            ("private_key", &file.private_key),
            ("token_uri", &file.token_uri),
        ] {
            if value.trim().is_empty() {
                return Err(ServiceAccountError::Empty(name));
            }
        }
        if !file.token_uri.starts_with("https://") && !file.token_uri.starts_with("http://") {
            return Err(ServiceAccountError::TokenUri);
        }
        let der = rsa_pkcs1_der(&file.private_key).ok_or(ServiceAccountError::Key)?;
        Ok(Self {
            project_id: file.project_id.trim().to_owned(),
            client_email: file.client_email.trim().to_owned(),
            token_uri: file.token_uri.trim().to_owned(),
            private_key_id: file.private_key_id.filter(|id| !id.trim().is_empty()),
            key: Arc::new(EncodingKey::from_rsa_der(&der)),
        })
    }
}

impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("project_id", &self.project_id)
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .field("key", &"***")
            .finish()
    }
}

/// The PKCS#1 DER of an RSA private key in PEM, checked by loading it. Google issues PKCS#8
/// (`BEGIN PRIVATE KEY`); the JWT library signs with PKCS#1 and reads PEM only with a feature that
/// brings two more ASN.1 crates, so the PKCS#8 wrapper is taken off here.
fn rsa_pkcs1_der(pem: &str) -> Option<Vec<u8>> {
    use aws_lc_rs::rsa::KeyPair;
    if let Some(der) = pem_body(pem, "PRIVATE KEY") {
        // Checks that it is an RSA key (and a sound one) before unwrapping it.
        KeyPair::from_pkcs8(&der).ok()?;
        let inner = pkcs8_private_key(&der)?.to_vec();
        KeyPair::from_der(&inner).ok()?;
        return Some(inner);
    }
    let der = pem_body(pem, "RSA PRIVATE KEY")?;
    KeyPair::from_der(&der).ok()?;
    Some(der)
}

/// The decoded body of the PEM block labelled `label`.
fn pem_body(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    let body: String = pem[start..stop].chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

/// The `privateKey` octet string of a PKCS#8 `PrivateKeyInfo`
/// (`SEQUENCE { INTEGER version, SEQUENCE algorithm, OCTET STRING privateKey, ... }`).
fn pkcs8_private_key(der: &[u8]) -> Option<&[u8]> {
    let (0x30, info, _) = element(der)? else { return None };
    let (0x02, _version, rest) = element(info)? else { return None };
    let (0x30, _algorithm, rest) = element(rest)? else { return None };
    let (0x04, key, _) = element(rest)? else { return None };
    Some(key)
}

/// The first DER element of `input`: its tag, its contents and what follows it.
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, rest) = rest.split_at(count);
        (bytes.iter().fold(0usize, |len, b| (len << 8) | usize::from(*b)), rest)
    };
    if rest.len() < len {
        return None;
    }
    let (contents, rest) = rest.split_at(len);
    Some((tag, contents, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push::test_account::TestAccount;

    #[test]
    fn a_generated_account_reads_and_hides_its_key() {
        let test = TestAccount::generate("https://oauth2.example/token");
        let account = ServiceAccount::from_json(&test.json).unwrap();
        assert_eq!(account.project_id, "tidings-test");
        assert_eq!(account.token_uri, "https://oauth2.example/token");
        let printed = format!("{account:?}");
        assert!(!printed.contains("PRIVATE") && printed.contains("***"), "{printed}");
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let test = TestAccount::generate("https://oauth2.example/token");
        let mut json: serde_json::Value = serde_json::from_str(&test.json).unwrap();
        let with = |field: &str, value: serde_json::Value| {
            let mut changed = json.clone();
            changed[field] = value;
            ServiceAccount::from_json(&changed.to_string()).unwrap_err()
        };
        let broken = test.pem.replace("MII", "XYZ");
        assert!(matches!(with("private_key", broken.into()), ServiceAccountError::Key));
        assert!(matches!(with("private_key", "not a key".into()), ServiceAccountError::Key));
        assert!(matches!(with("token_uri", "ftp://x".into()), ServiceAccountError::TokenUri));
        assert!(matches!(with("project_id", " ".into()), ServiceAccountError::Empty("project_id")));
        json.as_object_mut().unwrap().remove("client_email");
        let missing = ServiceAccount::from_json(&json.to_string()).unwrap_err();
        assert!(missing.to_string().contains("client_email"), "{missing}");
        let unreadable = ServiceAccount::from_file(Path::new("/nonexistent/sa.json")).unwrap_err();
        assert!(matches!(unreadable, ServiceAccountError::Read { .. }));
    }

    #[test]
    fn pkcs1_keys_are_read_too() {
        let test = TestAccount::generate("https://oauth2.example/token");
        let der = pem_body(&test.pem, "PRIVATE KEY").unwrap();
        let pkcs1 = pkcs8_private_key(&der).unwrap();
        let body = base64::engine::general_purpose::STANDARD.encode(pkcs1);
        let pem = format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n");
        assert_eq!(rsa_pkcs1_der(&pem).as_deref(), Some(pkcs1));
    }
}
