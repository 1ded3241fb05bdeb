//! API keys: `tdk_<c|s>_<prefix>_<secret>`. The prefix (public, unique) finds the stored record; the
//! whole key is checked against its stored SHA-256 in constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rand::RngCore;
use rand::distr::{Alphanumeric, SampleString};
use subtle::ConstantTimeEq;
use tidings_domain::KeyKind;

use crate::error::AuthError;
use crate::opaque_token::hash_secret;

/// Length of the public lookup prefix.
const PREFIX_LEN: usize = 12;

/// A key just generated.
pub struct GeneratedKey {
    /// The whole key, to show once.
    pub key: String,
    /// The public lookup part.
    pub prefix: String,
    /// SHA-256 of the whole key, to store.
    pub hash: String,
}

/// The public parts of a presented key.
#[derive(Debug, PartialEq, Eq)]
pub struct ParsedKey {
    /// Client or server key.
    pub kind: KeyKind,
    /// The lookup prefix.
    pub prefix: String,
}

fn kind_letter(kind: KeyKind) -> &'static str {
    match kind {
        KeyKind::Client => "c",
        KeyKind::Server => "s",
    }
}

/// A new random key of `kind`.
pub fn generate_api_key(kind: KeyKind) -> GeneratedKey {
    let prefix = Alphanumeric.sample_string(&mut rand::rng(), PREFIX_LEN).to_ascii_lowercase();
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let key = format!("tdk_{}_{prefix}_{}", kind_letter(kind), B64.encode(secret));
    let hash = hash_secret(&key);
    GeneratedKey { key, prefix, hash }
}

/// Reads the kind and prefix of a presented key.
pub fn parse_api_key(key: &str) -> Result<ParsedKey, AuthError> {
    // The secret is base64url and may itself contain `_`: split off the fixed parts only.
    let mut parts = key.splitn(4, '_');
    let (Some("tdk"), Some(kind), Some(prefix), Some(secret)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::InvalidKeyFormat);
    };
    let kind = match kind {
        "c" => KeyKind::Client,
        "s" => KeyKind::Server,
        _ => return Err(AuthError::InvalidKeyFormat),
    };
    let prefix_ok =
        prefix.len() == PREFIX_LEN && prefix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !prefix_ok || secret.is_empty() {
        return Err(AuthError::InvalidKeyFormat);
    }
    Ok(ParsedKey { kind, prefix: prefix.to_owned() })
}

/// Whether the presented key hashes to the stored hash (compared in constant time).
pub fn verify_api_key(key: &str, stored_hash: &str) -> bool {
    hash_secret(key).as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_verify() {
        for kind in [KeyKind::Client, KeyKind::Server] {
            let generated = generate_api_key(kind);
            let parsed = parse_api_key(&generated.key).unwrap();
            assert_eq!(parsed, ParsedKey { kind, prefix: generated.prefix.clone() });
            assert!(verify_api_key(&generated.key, &generated.hash));
            assert!(!verify_api_key(&format!("{}x", generated.key), &generated.hash));
        }
        let (a, b) = (generate_api_key(KeyKind::Client), generate_api_key(KeyKind::Client));
        assert_ne!(a.key, b.key);
        assert_ne!(a.prefix, b.prefix);
    }

    #[test]
    fn malformed_keys_are_refused() {
        let prefix = "abcdefghijkl";
        for key in [
            String::new(),
            "tdk".into(),
            format!("tdk_c_{prefix}"),
            format!("tdk_c_{prefix}_"),
            format!("xyz_c_{prefix}_secret"),
            format!("tdk_x_{prefix}_secret"),
            "tdk_c_short_secret".into(),
            format!("tdk_c_{}_secret", prefix.to_uppercase()),
        ] {
            assert!(matches!(parse_api_key(&key), Err(AuthError::InvalidKeyFormat)), "{key}");
        }
        assert!(parse_api_key(&format!("tdk_s_{prefix}_se_cr_et")).is_ok(), "`_` in the secret is fine");
    }
}
