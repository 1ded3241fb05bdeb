//! Opaque secrets (refresh tokens, password reset tokens) and the one-way hash under which secrets
//! are stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new refresh token: `tdr_` and 32 random bytes, base64url.
pub fn generate_refresh_token() -> String {
    generate("tdr_")
}

/// A new password reset token (also an invitation's): `tdp_` and 32 random bytes, base64url.
pub fn generate_password_reset_token() -> String {
    generate("tdp_")
}

/// `prefix` (which tells what a leaked token is) and 32 random bytes, base64url.
fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", B64.encode(bytes))
}

/// Lower-case hex SHA-256 of a secret: what the store keeps instead of the secret. The secrets are
/// 256-bit random values, so a fast hash is enough (no dictionary to guess from).
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_are_hex() {
        let (a, b) = (generate_refresh_token(), generate_refresh_token());
        assert_ne!(a, b);
        assert!(a.starts_with("tdr_") && a.len() == 4 + 43, "{a}");
        let h = hash_secret(&a);
        assert_eq!(h.len(), 64);
        assert!(h.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(h, hash_secret(&a));
        assert_ne!(h, hash_secret(&b));
        let reset = generate_password_reset_token();
        assert!(reset.starts_with("tdp_") && reset.len() == 4 + 43, "{reset}");
    }
}
