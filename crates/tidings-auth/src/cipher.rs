//! Encryption at rest of secrets the server must be able to read back (an app's identity secret,
//! later third-party tokens): AES-256-GCM under the server's encryption key.
//!
//! A sealed value is `<key id>.<base64 of nonce and ciphertext>`. The key id (the first bytes of
//! the key's SHA-256) names which key sealed it, so that a later key rotation can tell old values
//! from new ones; a value sealed under another key is refused, never mis-decrypted.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::AuthError;

/// Length of an encryption key.
pub const KEY_LEN: usize = 32;

/// Seals with the current key; opens with it or with a previous one still being rotated out.
#[derive(Clone)]
pub struct Cipher {
    key: std::sync::Arc<LessSafeKey>,
    key_id: String,
    index: hmac::Key,
    signing: hmac::Key,
    previous: Vec<(String, std::sync::Arc<LessSafeKey>)>,
    previous_indexes: Vec<hmac::Key>,
    previous_signing: Vec<hmac::Key>,
}

/// A key derived from an encryption key for one `purpose`, so that it rotates with it, and never
/// the key itself.
fn derived_key(key: &[u8; KEY_LEN], purpose: &[u8]) -> hmac::Key {
    let derived = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), purpose);
    hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref())
}

/// The blind-index key of an encryption key.
fn index_key(key: &[u8; KEY_LEN]) -> hmac::Key {
    derived_key(key, b"tidings blind index v1")
}

/// The link-signing key of an encryption key.
fn signing_key(key: &[u8; KEY_LEN]) -> hmac::Key {
    derived_key(key, b"tidings link signature v1")
}

/// A key and its id.
#[allow(clippy::expect_used, reason = "AES-256 takes any 32-byte key; only a wrong length fails")]
fn keyed(key: &[u8; KEY_LEN]) -> (String, std::sync::Arc<LessSafeKey>) {
    let unbound = UnboundKey::new(&AES_256_GCM, key).expect("a 32-byte key is an AES-256 key");
    (hex::encode(&Sha256::digest(key)[..4]), std::sync::Arc::new(LessSafeKey::new(unbound)))
}

impl Cipher {
    /// A cipher over a 32-byte key.
    pub fn new(key: &[u8; KEY_LEN]) -> Self {
        let (key_id, sealing) = keyed(key);
        Self {
            key: sealing,
            key_id,
            index: index_key(key),
            signing: signing_key(key),
            previous: Vec::new(),
            previous_indexes: Vec::new(),
            previous_signing: Vec::new(),
        }
    }

    /// Also opens values sealed under these earlier keys (new values are sealed under the current
    /// one), so that a key can be replaced while stored values are sealed again.
    pub fn with_previous(mut self, keys: &[[u8; KEY_LEN]]) -> Self {
        self.previous = keys.iter().map(keyed).filter(|(id, _)| *id != self.key_id).collect();
        let others: Vec<&[u8; KEY_LEN]> = keys.iter().filter(|key| keyed(key).0 != self.key_id).collect();
        self.previous_indexes = others.iter().map(|key| index_key(key)).collect();
        self.previous_signing = others.iter().map(|key| signing_key(key)).collect();
        self
    }

    /// The id of the current key, stored beside each sealed value.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Encrypts `plaintext`; `context` (for example the row's id) is authenticated with it, so a
    /// sealed value copied onto another row does not open there.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<String, AuthError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let mut buffer = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut buffer,
            )
            .map_err(|_| AuthError::Hashing("encryption failed".into()))?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&buffer);
        Ok(format!("{}.{}", self.key_id, B64.encode(sealed)))
    }

    /// Decrypts a value sealed by [`Cipher::seal`] with the same key and context.
    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, AuthError> {
        let fail = || AuthError::Hashing("a sealed value does not open with this encryption key".into());
        let (key_id, body) = sealed.split_once('.').ok_or_else(fail)?;
        let key = if key_id == self.key_id {
            &self.key
        } else {
            &self.previous.iter().find(|(id, _)| id == key_id).ok_or_else(fail)?.1
        };
        let bytes = B64.decode(body).map_err(|_| fail())?;
        if bytes.len() < NONCE_LEN {
            return Err(fail());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| fail())?;
        let mut buffer = ciphertext.to_vec();
        let plain =
            key.open_in_place(nonce, Aad::from(context.as_bytes()), &mut buffer).map_err(|_| fail())?;
        Ok(plain.to_vec())
    }
}

impl tidings_domain::Sealer for Cipher {
    fn seal(
        &self,
        plaintext: &[u8],
        context: &str,
    ) -> Result<tidings_domain::Sealed, tidings_domain::SealError> {
        let value = Cipher::seal(self, plaintext, context).map_err(|_| tidings_domain::SealError)?;
        Ok(tidings_domain::Sealed { value, key_id: self.key_id.clone() })
    }

    fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, tidings_domain::SealError> {
        Cipher::open(self, sealed, context).map_err(|_| tidings_domain::SealError)
    }

    fn blind_indexes(&self, value: &str) -> Vec<String> {
        std::iter::once(&self.index)
            .chain(&self.previous_indexes)
            .map(|key| hex::encode(hmac::sign(key, value.as_bytes()).as_ref()))
            .collect()
    }
}

impl tidings_domain::Signer for Cipher {
    fn sign(&self, message: &str) -> String {
        hex::encode(hmac::sign(&self.signing, message.as_bytes()).as_ref())
    }

    fn verify(&self, message: &str, signature: &str) -> bool {
        let Ok(signature) = hex::decode(signature) else { return false };
        std::iter::once(&self.signing)
            .chain(&self.previous_signing)
            .any(|key| hmac::verify(key, message.as_bytes(), &signature).is_ok())
    }
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cipher").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let cipher = Cipher::new(&[7; KEY_LEN]);
        let sealed = cipher.seal(b"identity secret", "app-1").unwrap();
        assert!(!sealed.contains("identity"), "{sealed}");
        assert_eq!(cipher.open(&sealed, "app-1").unwrap(), b"identity secret");
        assert!(cipher.open(&sealed, "app-2").is_err(), "another row's context");
        assert!(Cipher::new(&[8; KEY_LEN]).open(&sealed, "app-1").is_err(), "another key");
        assert_ne!(sealed, cipher.seal(b"identity secret", "app-1").unwrap(), "a fresh nonce each time");
    }

    #[test]
    fn blind_indexes_are_keyed_and_follow_a_rotation() {
        use tidings_domain::Sealer;
        let old = Cipher::new(&[7; KEY_LEN]);
        let [index] = old.blind_indexes("ada@example.com").try_into().unwrap();
        assert_eq!(old.blind_indexes("ada@example.com")[0], index, "the same value, the same index");
        assert_ne!(old.blind_indexes("bob@example.com")[0], index);
        assert!(!index.contains("ada"));
        let rotated = Cipher::new(&[8; KEY_LEN]).with_previous(&[[7; KEY_LEN]]);
        let indexes = rotated.blind_indexes("ada@example.com");
        assert_eq!(indexes.len(), 2);
        assert!(indexes[0] != index && indexes[1] == index, "the new key's first, then the old one's");
    }

    #[test]
    fn signatures_verify_under_their_key_and_through_a_rotation() {
        use tidings_domain::Signer;
        let old = Cipher::new(&[7; KEY_LEN]);
        let signature = old.sign("upload:1:1700000000");
        assert!(old.verify("upload:1:1700000000", &signature));
        assert!(!old.verify("upload:2:1700000000", &signature), "another file");
        assert!(!old.verify("upload:1:1700000000", "zz"), "not hex");
        assert!(!Cipher::new(&[8; KEY_LEN]).verify("upload:1:1700000000", &signature), "another key");
        let rotated = Cipher::new(&[8; KEY_LEN]).with_previous(&[[7; KEY_LEN]]);
        assert!(rotated.verify("upload:1:1700000000", &signature), "kept through a rotation");
        assert_ne!(rotated.sign("upload:1:1700000000"), signature);
    }

    #[test]
    fn a_rotated_key_still_opens_what_the_previous_one_sealed() {
        let old = Cipher::new(&[7; KEY_LEN]);
        let sealed = old.seal(b"token", "row").unwrap();
        let rotated = Cipher::new(&[8; KEY_LEN]).with_previous(&[[7; KEY_LEN]]);
        assert_eq!(rotated.open(&sealed, "row").unwrap(), b"token");
        let resealed = rotated.seal(b"token", "row").unwrap();
        assert!(resealed.starts_with(rotated.key_id()) && !sealed.starts_with(rotated.key_id()));
        assert!(old.open(&resealed, "row").is_err(), "the old key alone cannot open new values");
    }
}
