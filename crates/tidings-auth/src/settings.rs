//! Tunable parameters of identity and access, with the documented defaults.

use chrono::Duration;

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
}

impl AuthSettings {
    /// Defaults around a given signing secret.
    pub fn with_secret(jwt_secret: Vec<u8>) -> Self {
        Self {
            jwt_secret,
            access_ttl: Duration::minutes(15),
            refresh_ttl: Duration::days(30),
            bcrypt_cost: 12,
            lockout: LockoutPolicy::default(),
            key_rotation_overlap: Duration::hours(24),
        }
    }
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSettings")
            .field("jwt_secret", &"***")
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("bcrypt_cost", &self.bcrypt_cost)
            .field("key_rotation_overlap", &self.key_rotation_overlap)
            .finish()
    }
}
