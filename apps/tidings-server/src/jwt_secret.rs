//! The secret that signs access tokens: from `TIDINGS_JWT_SECRET`, or generated once into the data
//! directory so that a single node keeps its sessions across restarts with no setup.

use std::io::Write;
use std::path::Path;

use crate::config::Config;

/// File name of the generated secret inside the data directory.
const FILE_NAME: &str = "jwt-secret";

/// The configured secret, or the one stored in (or newly generated into) the data directory.
pub fn resolve(config: &Config) -> std::io::Result<Vec<u8>> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(secret.expose().as_bytes().to_vec());
    }
    let path = config.data_dir.join(FILE_NAME);
    match std::fs::read_to_string(&path) {
        Ok(stored) if stored.trim().len() >= 32 => return Ok(stored.trim().as_bytes().to_vec()),
        Ok(_) => {
            return Err(std::io::Error::other(format!("{} is shorter than 32 characters", path.display())));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let secret = generate();
    write_private(&path, &secret)?;
    tracing::warn!(
        path = %path.display(),
        "generated a JWT secret; set TIDINGS_JWT_SECRET to the same value on every node when running more than one"
    );
    Ok(secret.into_bytes())
}

fn generate() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
