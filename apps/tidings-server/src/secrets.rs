//! The server's own secrets: the key that signs access tokens and the key that encrypts stored
//! secrets. Each comes from its variable, or is generated once into the data directory so that a
//! single node keeps working across restarts with no setup.

use std::io::Write;
use std::path::Path;

use tidings_auth::KEY_LEN;

use crate::config::{Config, Secret};

/// The signing secret: `TIDINGS_JWT_SECRET`, or `DATA_DIR/jwt-secret`.
pub fn jwt_secret(config: &Config) -> std::io::Result<Vec<u8>> {
    let secret = resolve(config, config.jwt_secret.as_ref(), "jwt-secret", "TIDINGS_JWT_SECRET")?;
    if secret.len() < 32 {
        return Err(std::io::Error::other("the stored JWT secret is shorter than 32 characters"));
    }
    Ok(secret.into_bytes())
}

/// The encryption key: `TIDINGS_ENCRYPTION_KEY` (64 hex digits), or `DATA_DIR/encryption-key`.
pub fn encryption_key(config: &Config) -> std::io::Result<[u8; KEY_LEN]> {
    let hex = resolve(config, config.encryption_key.as_ref(), "encryption-key", "TIDINGS_ENCRYPTION_KEY")?;
    decode_key(&hex).ok_or_else(|| std::io::Error::other("the stored encryption key is not 64 hex digits"))
}

/// 32 bytes written as 64 hex digits.
pub fn decode_key(hex: &str) -> Option<[u8; KEY_LEN]> {
    hex::decode(hex.trim()).ok()?.try_into().ok()
}

/// The configured value, or the one stored in (or newly generated into) the data directory.
fn resolve(
    config: &Config,
    configured: Option<&Secret>,
    file: &str,
    variable: &str,
) -> std::io::Result<String> {
    if let Some(secret) = configured {
        return Ok(secret.expose().to_owned());
    }
    let path = config.data_dir.join(file);
    match std::fs::read_to_string(&path) {
        Ok(stored) => return Ok(stored.trim().to_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let bytes: [u8; KEY_LEN] = rand::random();
    let secret = hex::encode(bytes);
    write_private(&path, &secret)?;
    tracing::warn!(
        path = %path.display(),
        "generated a secret; set {variable} to the same value on every node when running more than one"
    );
    Ok(secret)
}

/// Creates the file readable by its owner only; refuses to overwrite one.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}
