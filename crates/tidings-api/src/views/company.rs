//! The company's own settings.

use serde::Serialize;
use tidings_messaging::RetentionSettings;
use utoipa::ToSchema;

/// How long the company keeps its data.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetentionView {
    /// Messages older than this many days are removed for good; `null` keeps them all.
    #[schema(minimum = 1, maximum = 3650)]
    pub message_days: Option<u32>,
}

impl From<RetentionSettings> for RetentionView {
    fn from(settings: RetentionSettings) -> Self {
        Self { message_days: settings.message_days }
    }
}
