//! Retention: a company may keep its messages for a set number of days. A cluster-wide job removes
//! older ones for good, in small batches (each a short statement of its own, so no lock is held for
//! long), along with their search entries; their files are left to the upload collector.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tidings_domain::{Audit, AuditAction, AuditEvent, Principal};

use crate::error::{MessagingError, MessagingResult};
use crate::repos::MessagingRepos;

/// The key of a company's settings that holds its [`RetentionSettings`].
const SETTINGS_KEY: &str = "retention";

/// The longest retention a company may set (ten years); longer is keeping everything.
pub const MAX_DAYS: u32 = 3650;

/// Messages removed per statement.
pub const EXPIRE_BATCH: i64 = 500;

/// How long a company keeps its data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// Messages older than this many days are removed; `None` keeps them all (the default).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub message_days: Option<u32>,
}

impl RetentionSettings {
    /// The settings stored in a company's settings object (defaults where there are none).
    fn of_company(settings: &serde_json::Value) -> Self {
        settings
            .get(SETTINGS_KEY)
            .and_then(|value| serde_json::from_value(value.clone()).ok())
            .unwrap_or_default()
    }
}

/// Reading and changing retention, and enforcing it.
#[derive(Clone)]
pub struct Retention {
    repos: Arc<dyn MessagingRepos>,
    audit: Audit,
}

impl Retention {
    /// Builds the service over `repos`, recording changes of the settings in `audit`.
    pub fn new(repos: Arc<dyn MessagingRepos>, audit: Audit) -> Self {
        Self { repos, audit }
    }

    /// The caller's company's retention settings.
    pub async fn settings(&self, staff: &Principal) -> MessagingResult<RetentionSettings> {
        let company = self.repos.get_company(staff.company_id).await?;
        Ok(RetentionSettings::of_company(&company.settings))
    }

    /// Replaces the company's retention settings; messages past the new limit go at the job's next run.
    pub async fn put_settings(
        &self,
        owner: &Principal,
        settings: RetentionSettings,
    ) -> MessagingResult<RetentionSettings> {
        if settings.message_days.is_some_and(|days| !(1..=MAX_DAYS).contains(&days)) {
            return Err(MessagingError::Invalid(
                "message_days",
                format!("must be between 1 and {MAX_DAYS}, or null to keep every message"),
            ));
        }
        let before = self.settings(owner).await?;
        let value = serde_json::to_value(settings)
            .map_err(|_| MessagingError::Invalid("settings", "cannot be stored".into()))?;
        let company = self.repos.put_company_setting(owner.company_id, SETTINGS_KEY, value).await?;
        let after = RetentionSettings::of_company(&company.settings);
        if after != before {
            self.audit
                .record(AuditEvent::new(owner.company_id, AuditAction::RetentionChanged, owner).detail(
                    serde_json::json!({ "message_days": after.message_days, "was": before.message_days }),
                ))
                .await;
        }
        Ok(after)
    }

    /// Removes the messages every company keeps no longer, batch by batch, until none is left or
    /// `budget` is spent (the rest wait for the next run). Returns how many went.
    pub async fn expire(&self, now: DateTime<Utc>, budget: Duration) -> MessagingResult<u64> {
        let started = Instant::now();
        let mut removed = 0;
        for company in self.repos.companies_with_setting(SETTINGS_KEY).await? {
            let Some(days) = RetentionSettings::of_company(&company.settings).message_days else { continue };
            let before = now - chrono::Duration::days(i64::from(days));
            let mut of_company = 0;
            loop {
                let batch = self.repos.expire_messages(company.id, before, EXPIRE_BATCH).await?;
                of_company += batch;
                if batch < EXPIRE_BATCH as u64 || started.elapsed() >= budget {
                    break;
                }
            }
            removed += of_company;
            if of_company > 0 {
                tracing::debug!(company_id = %company.id, days, removed = of_company, "expired messages removed");
            }
            if started.elapsed() >= budget {
                break;
            }
        }
        Ok(removed)
    }
}
