//! The audit log: who did what to a company's access, integrations and data, from which address and
//! when. Services record an entry once the action has taken effect. The client's address reaches them
//! as task-local context that the door sets for the request ([`Origin::scope`]), the way a tracing
//! span carries the request id, so no service signature speaks of HTTP. The address is personal
//! data: it is stored sealed, bound to its entry.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepoResult;
use crate::ids::{ApiKeyId, AuditId, CompanyId, UserId};
use crate::named_enum::named_enum;
use crate::principal::{Caller, Principal};
use crate::sealing::Sealer;

named_enum!(
    /// What an audit entry records.
    AuditAction {
        /// A user logged in.
        LoginSucceeded = "login.succeeded",
        /// A login with a known e-mail and a wrong password.
        LoginFailed = "login.failed",
        /// Repeated failed logins locked the account.
        AccountLocked = "account.locked",
        /// A user set a new password through a reset link.
        PasswordReset = "password.reset",
        /// A user was added to the team (and invited).
        UserAdded = "user.added",
        /// A user's role changed.
        RoleChanged = "user.role_changed",
        /// A user was removed from the team.
        UserRemoved = "user.removed",
        /// An API key was created.
        KeyCreated = "key.created",
        /// An API key was rotated.
        KeyRotated = "key.rotated",
        /// An API key was revoked.
        KeyRevoked = "key.revoked",
        /// An app's identity secret was issued or replaced.
        IdentitySecretIssued = "app.identity_secret_issued",
        /// An integration (Meta, Google Calendar) was connected or changed.
        IntegrationChanged = "integration.changed",
        /// An integration was disconnected.
        IntegrationRemoved = "integration.removed",
        /// A webhook endpoint was created.
        WebhookCreated = "webhook.created",
        /// A webhook endpoint was changed.
        WebhookChanged = "webhook.changed",
        /// A webhook endpoint's signing secret was replaced.
        WebhookSecretRotated = "webhook.secret_rotated",
        /// A webhook endpoint was deleted.
        WebhookDeleted = "webhook.deleted",
        /// A message was deleted.
        MessageDeleted = "message.deleted",
        /// An outbox item was removed by hand.
        OutboxDeleted = "outbox.deleted",
        /// The company's retention settings changed.
        RetentionChanged = "retention.changed",
    }
);

/// Who acted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditActor {
    /// A user of the company (for failed logins: the account tried).
    User(UserId),
    /// An SDK device or a service, by the API key it used.
    Key(ApiKeyId),
}

impl AuditActor {
    /// The stored kind: `user` or `api_key`.
    pub fn kind(&self) -> &'static str {
        match self {
            AuditActor::User(_) => "user",
            AuditActor::Key(_) => "api_key",
        }
    }

    /// The actor's id as text.
    pub fn id(&self) -> String {
        match self {
            AuditActor::User(id) => id.to_string(),
            AuditActor::Key(id) => id.to_string(),
        }
    }
}

impl From<&Principal> for AuditActor {
    fn from(principal: &Principal) -> Self {
        AuditActor::User(principal.user_id)
    }
}

impl From<&Caller> for AuditActor {
    fn from(caller: &Caller) -> Self {
        match caller {
            Caller::User(p) => AuditActor::User(p.user_id),
            Caller::Client(c) => AuditActor::Key(c.key_id),
            Caller::Service(s) => AuditActor::Key(s.key_id),
        }
    }
}

/// One entry of a company's audit log, as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEntry {
    /// Identifier (time-ordered).
    pub id: AuditId,
    /// The company whose log it is.
    pub company_id: CompanyId,
    /// What happened.
    pub action: AuditAction,
    /// Who did it.
    pub actor: AuditActor,
    /// What it was done to: a kind (`user`, `api_key`, `webhook`, ...) and an id.
    pub target: Option<(String, String)>,
    /// More about it (never a secret).
    pub detail: serde_json::Value,
    /// The client's address, sealed to this entry.
    pub ip_sealed: Option<String>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

/// A page of a company's audit log, newest first.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    /// Only entries of this action.
    pub action: Option<AuditAction>,
    /// Only entries older than this one (the cursor).
    pub before: Option<AuditId>,
    /// Most entries to return.
    pub limit: i64,
}

/// Persistence of the audit log.
#[async_trait]
pub trait AuditRepo: Send + Sync {
    /// Appends an entry.
    async fn record_audit(&self, entry: AuditEntry) -> RepoResult<()>;
    /// A page of a company's entries, newest first.
    async fn list_audit(&self, company_id: CompanyId, query: AuditQuery) -> RepoResult<Vec<AuditEntry>>;
    /// Removes up to `limit` entries of any company made before `before`; returns how many went.
    async fn expire_audit(&self, before: DateTime<Utc>, limit: i64) -> RepoResult<u64>;
}

/// Where the current request came from, as the door that took it knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// The client's address (behind trusted proxies, the one they name).
    pub ip: Option<IpAddr>,
}

tokio::task_local! {
    static ORIGIN: Origin;
}

impl Origin {
    /// Runs `work` with this origin as the current one.
    pub async fn scope<F: Future>(self, work: F) -> F::Output {
        ORIGIN.scope(self, work).await
    }

    /// The origin of the request being served; empty outside of one (jobs, tests).
    pub fn current() -> Origin {
        ORIGIN.try_with(|origin| *origin).unwrap_or_default()
    }
}

/// An action to record, before it gets its id, time and origin.
#[derive(Clone, Debug)]
pub struct AuditEvent {
    company_id: CompanyId,
    action: AuditAction,
    actor: AuditActor,
    target: Option<(String, String)>,
    detail: serde_json::Value,
}

impl AuditEvent {
    /// `actor` did `action` in `company_id`.
    pub fn new(company_id: CompanyId, action: AuditAction, actor: impl Into<AuditActor>) -> Self {
        Self { company_id, action, actor: actor.into(), target: None, detail: serde_json::json!({}) }
    }

    /// What the action was done to.
    #[must_use]
    pub fn target(mut self, kind: &str, id: impl ToString) -> Self {
        self.target = Some((kind.to_owned(), id.to_string()));
        self
    }

    /// More about the action; never put a secret here.
    #[must_use]
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// Records audit entries; the default one records nothing (embedding and tests that do not look).
#[derive(Clone, Default)]
pub struct Audit(Option<(Arc<dyn AuditRepo>, Arc<dyn Sealer>)>);

impl Audit {
    /// Records into `repo`, sealing addresses with `sealer`.
    pub fn new(repo: Arc<dyn AuditRepo>, sealer: Arc<dyn Sealer>) -> Self {
        Self(Some((repo, sealer)))
    }

    /// Stores `event` stamped with the time and the current [`Origin`]. The action has already
    /// taken effect, so a failure to record it is logged, not returned.
    pub async fn record(&self, event: AuditEvent) {
        let Some((repo, sealer)) = &self.0 else { return };
        let id = AuditId::new();
        let ip_sealed = match Origin::current().ip {
            Some(ip) => match sealer.seal(ip.to_string().as_bytes(), &ip_context(id)) {
                Ok(sealed) => Some(sealed.value),
                Err(error) => {
                    tracing::error!(%error, "an audit entry's address could not be sealed; stored without it");
                    None
                }
            },
            None => None,
        };
        let action = event.action;
        let entry = AuditEntry {
            id,
            company_id: event.company_id,
            action,
            actor: event.actor,
            target: event.target,
            detail: event.detail,
            ip_sealed,
            occurred_at: Utc::now(),
        };
        if let Err(error) = repo.record_audit(entry).await {
            tracing::error!(%action, company_id = %event.company_id, error = %crate::ErrorChain(&error), "an audit entry could not be stored");
        }
    }

    /// The client address of `entry`, opened; `None` when it has none or it does not open.
    pub fn address(&self, entry: &AuditEntry) -> Option<String> {
        let (_, sealer) = self.0.as_ref()?;
        let sealed = entry.ip_sealed.as_deref()?;
        let bytes = sealer.open(sealed, &ip_context(entry.id)).ok()?;
        String::from_utf8(bytes).ok()
    }
}

/// What an entry's address is sealed to: its own row.
fn ip_context(id: AuditId) -> String {
    format!("audit:{id}:ip")
}
