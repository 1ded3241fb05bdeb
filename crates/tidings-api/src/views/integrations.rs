//! Integrations, as their admins see them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tidings_forwarding::{CalendarView, MetaSettings};
use utoipa::ToSchema;

/// The Meta integration. Secrets appear only as a hint (`…abcd`, or `…` for short ones), or null
/// when not set.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetaIntegrationView {
    /// Facebook page id.
    pub page_id: Option<String>,
    /// Instagram business account id.
    pub instagram_account_id: Option<String>,
    /// The Meta app's id.
    pub app_id: Option<String>,
    /// Hint of the page access token.
    pub page_access_token: Option<String>,
    /// Hint of the Instagram access token.
    pub instagram_access_token: Option<String>,
    /// Hint of the app secret.
    pub app_secret: Option<String>,
    /// Hint of the webhook verify token.
    pub verify_token: Option<String>,
    /// When the page token expires, as Meta last said.
    pub token_expires_at: Option<DateTime<Utc>>,
    /// When the tokens were last refreshed.
    pub token_refreshed_at: Option<DateTime<Utc>>,
    /// Last change; null when never configured.
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<MetaSettings> for MetaIntegrationView {
    fn from(s: MetaSettings) -> Self {
        Self {
            page_id: s.config.page_id,
            instagram_account_id: s.config.instagram_account_id,
            app_id: s.config.app_id,
            page_access_token: s.page_access_token,
            instagram_access_token: s.instagram_access_token,
            app_secret: s.app_secret,
            verify_token: s.verify_token,
            token_expires_at: s.config.token_expires_at,
            token_refreshed_at: s.config.token_refreshed_at,
            updated_at: s.updated_at,
        }
    }
}

/// The Google Calendar connection. Secrets appear only as a hint, or null when not set.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarIntegrationView {
    /// The calendar confirmed appointments are written to (`primary` by default).
    pub calendar_id: String,
    /// The OAuth client's id.
    pub client_id: Option<String>,
    /// Hint of the OAuth client secret.
    pub client_secret: Option<String>,
    /// Hint of the refresh token.
    pub refresh_token: Option<String>,
    /// Whether appointments are being written (client id, secret and refresh token set).
    pub connected: bool,
    /// Last change; null when never configured.
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<CalendarView> for CalendarIntegrationView {
    fn from(c: CalendarView) -> Self {
        Self {
            calendar_id: c.calendar_id,
            client_id: c.client_id,
            client_secret: c.client_secret,
            refresh_token: c.refresh_token,
            connected: c.connected,
            updated_at: c.updated_at,
        }
    }
}
