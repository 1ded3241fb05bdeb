//! Password hashing with bcrypt.
//!
//! bcrypt reads at most 72 bytes, and passwords may be 128 characters (up to 512 bytes of UTF-8):
//! passwords are first reduced to a SHA-256 digest (base64, 44 bytes) so every character counts.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use crate::error::AuthError;

/// The stored hash of an account that has no password yet (a member invited without one): no
/// password matches it, since it is not a bcrypt hash.
pub const UNUSABLE_PASSWORD: &str = "!";

/// Hashes and verifies passwords at a fixed bcrypt cost. CPU-heavy: call from a blocking thread
/// (see [`crate::Passwords`]).
pub struct PasswordHasher {
    cost: u32,
    dummy_hash: OnceLock<String>,
}

fn prehash(password: &str) -> String {
    STANDARD.encode(Sha256::digest(password.as_bytes()))
}

impl PasswordHasher {
    /// A hasher of bcrypt cost `cost` (4 to 31).
    pub fn new(cost: u32) -> Self {
        Self { cost, dummy_hash: OnceLock::new() }
    }

    /// A bcrypt hash of the password, salted.
    pub fn hash(&self, password: &str) -> Result<String, AuthError> {
        bcrypt::hash(prehash(password), self.cost).map_err(|e| AuthError::Hashing(e.to_string()))
    }

    /// Whether the password matches the stored hash; false for a malformed hash (such as
    /// [`UNUSABLE_PASSWORD`]), after the work of a real verification, so that the time taken does
    /// not tell such an account from others.
    pub fn verify(&self, password: &str, hash: &str) -> bool {
        match bcrypt::verify(prehash(password), hash) {
            Ok(matches) => matches,
            Err(_) => {
                self.verify_dummy(password);
                false
            }
        }
    }

    /// Does the work of one verification against a hash of the same cost, for logins of unknown
    /// e-mails, so that they take as long as a wrong password.
    pub fn verify_dummy(&self, password: &str) {
        // The cost was validated when the hasher was built, so hashing cannot fail; were it to, the
        // verification below fails fast on the empty hash.
        let hash = self
            .dummy_hash
            .get_or_init(|| bcrypt::hash("tidings-dummy-password", self.cost).unwrap_or_default());
        let _ = bcrypt::verify(prehash(password), hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn right_password_matches_and_wrong_does_not() {
        let hasher = PasswordHasher::new(4);
        let hash = hasher.hash("correct horse battery").unwrap();
        assert!(hash.starts_with("$2b$04$"), "{hash}");
        assert!(hasher.verify("correct horse battery", &hash));
        assert!(!hasher.verify("correct horse batterY", &hash));
        assert!(!hasher.verify("correct horse battery", "not-a-hash"));
        assert!(!hasher.verify("", UNUSABLE_PASSWORD) && !hasher.verify("!", UNUSABLE_PASSWORD));
    }

    #[test]
    fn characters_past_72_bytes_count() {
        let hasher = PasswordHasher::new(4);
        let long = "a".repeat(100);
        let hash = hasher.hash(&long).unwrap();
        assert!(!hasher.verify(&format!("{}b", &long[..99]), &hash));
        assert!(hasher.verify(&long, &hash));
    }

    #[test]
    fn salts_differ() {
        let hasher = PasswordHasher::new(4);
        assert_ne!(hasher.hash("same password").unwrap(), hasher.hash("same password").unwrap());
    }

    #[test]
    fn the_dummy_hash_has_the_configured_cost() {
        let hasher = PasswordHasher::new(5);
        hasher.verify_dummy("anything");
        assert!(hasher.dummy_hash.get().unwrap().starts_with("$2b$05$"));
    }
}
