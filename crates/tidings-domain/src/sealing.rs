//! Sealing: encryption at rest of personal data the services must read back, and the keyed blind
//! indexes that find sealed rows by a value without opening them. The server's key ring implements it.

use thiserror::Error;

/// A value sealed under the current key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// The sealed text (`<key id>.<ciphertext>`).
    pub value: String,
    /// The id of the key that sealed it, kept beside it so a key rotation can find old rows.
    pub key_id: String,
}

/// A sealed value that does not open: another key, another row, or tampered with.
#[derive(Debug, Error)]
#[error("a sealed value does not open with the server's keys")]
pub struct SealError;

/// Seals and opens values, and digests values into blind indexes.
pub trait Sealer: Send + Sync {
    /// Encrypts `plaintext` bound to `context` (the row it belongs to), so that it opens nowhere else.
    fn seal(&self, plaintext: &[u8], context: &str) -> Result<Sealed, SealError>;
    /// Decrypts a value sealed under the same context, by the current key or a previous one.
    fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, SealError>;
    /// Keyed digests (hex) of `value` under the current key first, then each previous one: rows
    /// indexed before a key rotation are still found by one of them.
    fn blind_indexes(&self, value: &str) -> Vec<String>;
}

/// Signs short texts (a download link's file and expiry) so that the server can tell its own links
/// from forged ones; a key rotation keeps earlier signatures valid while the previous key is kept.
pub trait Signer: Send + Sync {
    /// The signature (hex) of `message` under the current key.
    fn sign(&self, message: &str) -> String;
    /// Whether `signature` is `message`'s under the current key or a previous one.
    fn verify(&self, message: &str, signature: &str) -> bool;
}
