//! The company's own settings.

use serde::Serialize;
use tidings_messaging::RetentionSettings;

/// How long the company keeps its data.
#[derive(Debug, Serialize)]
pub struct RetentionView {
    /// Messages older than this many days are removed for good; `null` keeps them all.
    pub message_days: Option<u32>,
}

impl From<RetentionSettings> for RetentionView {
    fn from(settings: RetentionSettings) -> Self {
        Self { message_days: settings.message_days }
    }
}
