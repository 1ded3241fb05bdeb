//! bcrypt off the async workers: hashing costs tens of milliseconds of CPU, which would stall every
//! other request on the same worker.

use std::sync::Arc;

use crate::error::AuthError;
use crate::password::PasswordHasher;

/// Async face of [`PasswordHasher`].
#[derive(Clone)]
pub struct Passwords {
    hasher: Arc<PasswordHasher>,
}

impl Passwords {
    /// A hasher of the given bcrypt cost.
    pub fn new(cost: u32) -> Self {
        Self { hasher: Arc::new(PasswordHasher::new(cost)) }
    }

    /// Hashes a password.
    pub async fn hash(&self, password: String) -> Result<String, AuthError> {
        let hasher = self.hasher.clone();
        tokio::task::spawn_blocking(move || hasher.hash(&password))
            .await
            .map_err(|e| AuthError::Hashing(e.to_string()))?
    }

    /// Checks a password against a stored hash.
    pub async fn verify(&self, password: String, hash: String) -> bool {
        let hasher = self.hasher.clone();
        tokio::task::spawn_blocking(move || hasher.verify(&password, &hash)).await.unwrap_or(false)
    }

    /// Spends the time of a verification without a real hash (for unknown e-mails).
    pub async fn verify_dummy(&self, password: String) {
        let hasher = self.hasher.clone();
        let _ = tokio::task::spawn_blocking(move || hasher.verify_dummy(&password)).await;
    }
}
