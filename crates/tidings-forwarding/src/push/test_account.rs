//! A throwaway service account for tests: a fresh RSA key per call, never a key of a real project.
#![allow(clippy::expect_used, reason = "test support: a failure here fails the test")]

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;

/// A service account file with a generated key.
pub struct TestAccount {
    /// The file's contents (`project_id` is `tidings-test`).
    pub json: String,
    /// The private key alone, PKCS#8 PEM.
    pub pem: String,
    /// The public key (PKCS#1 DER), to verify what was signed with the private one.
    pub public_key: Vec<u8>,
}

impl TestAccount {
    /// A new account whose tokens are exchanged at `token_uri`.
    pub fn generate(token_uri: &str) -> TestAccount {
        let key = KeyPair::generate(KeySize::Rsa2048).expect("generate an RSA key");
        let der = key.as_der().expect("encode the key");
        let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
            .collect();
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n"));
        let json = serde_json::json!({
            "type": "service_account",
            "project_id": "tidings-test",
            "private_key_id": "test-key-1",
            "private_key": pem,
            "client_email": "push@tidings-test.iam.gserviceaccount.com",
            "client_id": "1234567890",
            "token_uri": token_uri,
        })
        .to_string();
        TestAccount { json, pem, public_key: key.public_key().as_ref().to_vec() }
    }
}
