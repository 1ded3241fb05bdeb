//! After an encryption key rotation, appointments' personal data is sealed again under the current
//! key (and its e-mail index computed with it) by a periodic job, so that the previous key can be
//! dropped even for appointments nobody edits any more.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tidings_auth::Cipher;
use tidings_domain::{Appointment, AppointmentRepo, Booking};

use crate::jobs::Job;

/// Rows read per page.
const PAGE: i64 = 200;

/// Seals appointments' personal data again under the current key.
pub struct AppointmentReseal {
    repo: Arc<dyn AppointmentRepo>,
    cipher: Cipher,
    period: Duration,
}

impl AppointmentReseal {
    /// The job over `repo`, with the server's key ring, looking every `period`.
    pub fn new(repo: Arc<dyn AppointmentRepo>, cipher: Cipher, period: Duration) -> Self {
        Self { repo, cipher, period }
    }

    /// One appointment sealed again; `Ok(false)` when an edit got there first.
    async fn reseal(&self, stored: Appointment) -> Result<bool, String> {
        let old_key = stored.key_id.clone().unwrap_or_default();
        let booking = Booking::open(stored, &self.cipher).map_err(|e| e.to_string())?;
        let mut resealed = booking.appointment;
        let sealed = booking.personal.seal(&self.cipher, resealed.id).map_err(|e| e.to_string())?;
        resealed.email_index = booking.personal.email_index(&self.cipher);
        (resealed.personal_sealed, resealed.key_id) = match sealed {
            Some(sealed) => (Some(sealed.value), Some(sealed.key_id)),
            None => (None, None),
        };
        self.repo.reseal_appointment(&resealed, &old_key).await.map_err(|e| e.to_string())
    }
}

#[async_trait]
impl Job for AppointmentReseal {
    fn name(&self) -> &'static str {
        "appointments.reseal"
    }

    fn period(&self) -> Duration {
        self.period
    }

    async fn run(&self) -> Result<(), String> {
        let (mut after, mut resealed, mut failed) = (None, 0, 0);
        loop {
            let page = self
                .repo
                .sealed_under_other_keys(self.cipher.key_id(), after, PAGE)
                .await
                .map_err(|e| e.to_string())?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            for appointment in page {
                match self.reseal(appointment).await {
                    Ok(true) => resealed += 1,
                    Ok(false) => {}
                    // A key no longer configured: it stays as it is, reported (without its content).
                    Err(_) => failed += 1,
                }
            }
        }
        if resealed > 0 || failed > 0 {
            tracing::info!(resealed, failed, "appointments sealed again under the current encryption key");
        }
        if failed > 0 {
            return Err(format!("{failed} appointments do not open with the configured encryption keys"));
        }
        Ok(())
    }
}
