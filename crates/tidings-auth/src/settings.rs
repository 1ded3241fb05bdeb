//! Tunable parameters of identity and access, with the documented defaults.

use chrono::Duration;

use sha2::{Digest, Sha256};

use crate::cipher::{Cipher, KEY_LEN};
use crate::lockout::LockoutPolicy;

/// Settings of the identity services.
#[derive(Clone)]
pub struct AuthSettings {
    /// HMAC secret that signs access tokens.
    pub jwt_secret: Vec<u8>,
    /// Lifetime of an access token (default 15 minutes).
    pub access_ttl: Duration,
    /// Lifetime of a refresh token (default 30 days).
    pub refresh_ttl: Duration,
    /// bcrypt cost (default 12; tests lower it).
    pub bcrypt_cost: u32,
    /// Failed logins before a lock, and the lock's length (default 5, 15 minutes).
    pub lockout: LockoutPolicy,
    /// How long a rotated API key keeps working beside its successor (default 24 hours).
    pub key_rotation_overlap: Duration,
    /// Key that encrypts stored secrets (such as apps' identity secrets) at rest.
    pub encryption_key: [u8; KEY_LEN],
    /// Earlier encryption keys: values they sealed still open while they are sealed again.
    pub previous_encryption_keys: Vec<[u8; KEY_LEN]>,
    /// Where users open the web app, without a trailing slash: links in e-mails start with it
    /// (default `http://127.0.0.1:8080`).
    pub public_url: String,
    /// How long a password reset link works (default 1 hour).
    pub password_reset_ttl: Duration,
    /// How long an invitation's set-password link works (default 7 days).
    pub invitation_ttl: Duration,
}

impl AuthSettings {
    /// Defaults around a given signing secret. The encryption key is derived from it; a server sets
    /// its own (`TIDINGS_ENCRYPTION_KEY`) so that the two can be rotated apart.
    pub fn with_secret(jwt_secret: Vec<u8>) -> Self {
        let encryption_key = Sha256::new()
            .chain_update(b"tidings encryption key\0")
            .chain_update(&jwt_secret)
            .finalize()
            .into();
        Self {
            encryption_key,
            previous_encryption_keys: Vec::new(),
            jwt_secret,
            access_ttl: Duration::minutes(15),
            refresh_ttl: Duration::days(30),
            bcrypt_cost: 12,
            lockout: LockoutPolicy::default(),
            key_rotation_overlap: Duration::hours(24),
            public_url: "http://127.0.0.1:8080".into(),
            password_reset_ttl: Duration::hours(1),
            invitation_ttl: Duration::days(7),
        }
    }
}

impl AuthSettings {
    /// The cipher that seals and opens stored secrets under these keys.
    pub fn cipher(&self) -> Cipher {
        Cipher::new(&self.encryption_key).with_previous(&self.previous_encryption_keys)
    }
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSettings")
            .field("jwt_secret", &"***")
            .field("encryption_key", &"***")
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("bcrypt_cost", &self.bcrypt_cost)
            .field("key_rotation_overlap", &self.key_rotation_overlap)
            .field("public_url", &self.public_url)
            .field("password_reset_ttl", &self.password_reset_ttl)
            .field("invitation_ttl", &self.invitation_ttl)
            .finish()
    }
}
