//! Google Calendar: a company connects a calendar (OAuth client and tokens, sealed at rest), and its
//! confirmed appointments are created, moved and cancelled there through the outbox.

mod channel;
mod sync;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tidings_auth::Cipher;
use tidings_domain::{
    Audit, AuditAction, AuditEvent, CompanyId, Integration, IntegrationKind, IntegrationLookup,
    IntegrationRepo, Principal,
};

pub use channel::{CalendarRepos, GoogleCalendar, GoogleEndpoints};
pub use sync::CalendarSync;

use crate::error::{ForwardingError, ForwardingResult};
use crate::integrations::{admin_only, apply, hint};

/// Longest value accepted for an id, a secret or a token.
const MAX_FIELD: usize = 4096;

/// What is not secret: which calendar, and until when the current access token works.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct CalendarConfig {
    /// The calendar's id (`primary` when unset).
    pub calendar_id: Option<String>,
    /// The OAuth client's id.
    pub client_id: Option<String>,
    /// When the access token stops working.
    pub access_token_expires_at: Option<DateTime<Utc>>,
}

/// The OAuth secrets, sealed together.
#[derive(Clone, Default, Deserialize, Serialize)]
pub struct CalendarSecrets {
    /// The OAuth client's secret.
    pub client_secret: Option<String>,
    /// The long-lived refresh token the company's consent gave.
    pub refresh_token: Option<String>,
    /// The current access token, refreshed when it expires.
    pub access_token: Option<String>,
}

/// A change to the connection: a field left out keeps its value, an empty string clears it.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarInput {
    /// The calendar's id.
    pub calendar_id: Option<String>,
    /// The OAuth client's id.
    pub client_id: Option<String>,
    /// The OAuth client's secret.
    pub client_secret: Option<String>,
    /// The refresh token from the company's consent.
    pub refresh_token: Option<String>,
}

/// The connection as the API shows it: secrets only as a hint of their last characters.
#[derive(Clone, Debug, PartialEq)]
pub struct CalendarView {
    /// The calendar's id.
    pub calendar_id: String,
    /// The OAuth client's id.
    pub client_id: Option<String>,
    /// Hint of the client secret.
    pub client_secret: Option<String>,
    /// Hint of the refresh token.
    pub refresh_token: Option<String>,
    /// Whether appointments are being written to the calendar (client and refresh token set).
    pub connected: bool,
    /// Last change, `None` when never configured.
    pub updated_at: Option<DateTime<Utc>>,
}

/// A company's connection, opened.
#[derive(Clone)]
pub struct Connection {
    /// The company.
    pub company_id: CompanyId,
    /// What is not secret.
    pub config: CalendarConfig,
    /// The secrets in clear.
    pub secrets: CalendarSecrets,
    /// Last change.
    pub updated_at: Option<DateTime<Utc>>,
}

impl Connection {
    /// Whether appointments can be written with it.
    pub fn is_connected(&self) -> bool {
        self.config.client_id.is_some()
            && self.secrets.client_secret.is_some()
            && self.secrets.refresh_token.is_some()
    }

    /// The calendar appointments go to.
    pub fn calendar_id(&self) -> &str {
        self.config.calendar_id.as_deref().unwrap_or("primary")
    }
}

/// Managing and reading companies' Google Calendar connections.
#[derive(Clone)]
pub struct Calendars {
    repo: Arc<dyn IntegrationRepo>,
    cipher: Cipher,
    audit: Audit,
}

impl Calendars {
    /// Builds the service over `repo`, sealing with `cipher`.
    pub fn new(repo: Arc<dyn IntegrationRepo>, cipher: Cipher) -> Self {
        Self { repo, cipher, audit: Audit::default() }
    }

    /// Records connections changed and removed in `audit`.
    pub fn with_audit(mut self, audit: Audit) -> Self {
        self.audit = audit;
        self
    }

    /// The admin's company's connection (empty when never configured).
    pub async fn get(&self, admin: &Principal) -> ForwardingResult<CalendarView> {
        admin_only(admin)?;
        Ok(view(&self.open(admin.company_id).await?))
    }

    /// Changes the admin's company's connection. A new refresh token or client drops the access
    /// token, so that the next call fetches one for them.
    pub async fn put(&self, admin: &Principal, input: CalendarInput) -> ForwardingResult<CalendarView> {
        admin_only(admin)?;
        input.validate()?;
        let mut connection = self.open(admin.company_id).await?;
        let renewed =
            input.client_id.is_some() || input.client_secret.is_some() || input.refresh_token.is_some();
        apply(&mut connection.config.calendar_id, input.calendar_id);
        apply(&mut connection.config.client_id, input.client_id);
        apply(&mut connection.secrets.client_secret, input.client_secret);
        apply(&mut connection.secrets.refresh_token, input.refresh_token);
        if renewed {
            connection.secrets.access_token = None;
            connection.config.access_token_expires_at = None;
        }
        let stored = self.store(connection).await?;
        let event = AuditEvent::new(admin.company_id, AuditAction::IntegrationChanged, admin)
            .target("integration", "google_calendar")
            .detail(serde_json::json!({ "credentials_changed": renewed }));
        self.audit.record(event).await;
        Ok(view(&stored))
    }

    /// Disconnects the admin's company's calendar: nothing more is written to it.
    pub async fn delete(&self, admin: &Principal) -> ForwardingResult<()> {
        admin_only(admin)?;
        let empty = Connection {
            company_id: admin.company_id,
            config: CalendarConfig::default(),
            secrets: CalendarSecrets::default(),
            updated_at: None,
        };
        self.store(empty).await?;
        let event = AuditEvent::new(admin.company_id, AuditAction::IntegrationRemoved, admin)
            .target("integration", "google_calendar");
        self.audit.record(event).await;
        Ok(())
    }

    /// A company's connection, opened (empty when never configured).
    pub async fn open(&self, company_id: CompanyId) -> ForwardingResult<Connection> {
        let Some(stored) = self.repo.get_integration(company_id, IntegrationKind::GoogleCalendar).await?
        else {
            return Ok(Connection {
                company_id,
                config: CalendarConfig::default(),
                secrets: CalendarSecrets::default(),
                updated_at: None,
            });
        };
        let config = serde_json::from_value(stored.config.clone())
            .map_err(|e| ForwardingError::Internal(format!("stored calendar config: {e}")))?;
        let secrets = match &stored.secrets {
            Some(sealed) => {
                let plain = self
                    .cipher
                    .open(sealed, &context(company_id))
                    .map_err(|e| ForwardingError::Internal(e.to_string()))?;
                serde_json::from_slice(&plain)
                    .map_err(|e| ForwardingError::Internal(format!("stored calendar secrets: {e}")))?
            }
            None => CalendarSecrets::default(),
        };
        Ok(Connection { company_id, config, secrets, updated_at: Some(stored.updated_at) })
    }

    /// Seals and stores a connection.
    pub(crate) async fn store(&self, connection: Connection) -> ForwardingResult<Connection> {
        let internal = |e: &dyn std::fmt::Display| ForwardingError::Internal(e.to_string());
        let plain = serde_json::to_vec(&connection.secrets).map_err(|e| internal(&e))?;
        let sealed = self.cipher.seal(&plain, &context(connection.company_id)).map_err(|e| internal(&e))?;
        let integration = Integration {
            company_id: connection.company_id,
            kind: IntegrationKind::GoogleCalendar,
            config: serde_json::to_value(&connection.config).map_err(|e| internal(&e))?,
            secrets: Some(sealed),
            key_id: Some(self.cipher.key_id().to_owned()),
            lookup: IntegrationLookup::default(),
            updated_at: Utc::now(),
        };
        let stored = self.repo.put_integration(integration).await?;
        Ok(Connection { updated_at: Some(stored.updated_at), ..connection })
    }
}

impl CalendarInput {
    fn validate(&self) -> ForwardingResult<()> {
        let fields = [
            ("calendar_id", &self.calendar_id),
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
            ("refresh_token", &self.refresh_token),
        ];
        for (name, value) in fields {
            if value
                .as_ref()
                .is_some_and(|v| v.chars().count() > MAX_FIELD || v.chars().any(char::is_control))
            {
                return Err(ForwardingError::Invalid(
                    name,
                    format!("at most {MAX_FIELD} printable characters"),
                ));
            }
        }
        Ok(())
    }
}

fn view(connection: &Connection) -> CalendarView {
    CalendarView {
        calendar_id: connection.calendar_id().to_owned(),
        client_id: connection.config.client_id.clone(),
        client_secret: hint(&connection.secrets.client_secret),
        refresh_token: hint(&connection.secrets.refresh_token),
        connected: connection.is_connected(),
        updated_at: connection.updated_at,
    }
}

/// What a company's sealed calendar secrets are bound to.
fn context(company_id: CompanyId) -> String {
    format!("integration:google_calendar:{company_id}")
}
