//! Liveness and readiness probes.

use serde::Serialize;
use utoipa::ToSchema;

/// `GET /health`: `{"status": "ok"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthView {
    /// Always `ok`.
    #[schema(schema_with = ok)]
    pub status: &'static str,
}

/// The schema of [`HealthView::status`].
fn ok() -> utoipa::openapi::schema::ObjectBuilder {
    super::word("ok")
}

/// The schema of [`ReadinessView::status`].
fn ready() -> utoipa::openapi::schema::ObjectBuilder {
    super::word("ready")
}

/// `GET /health/ready` when ready: `{"status": "ready", "checks": {...}, "outbox": {...}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessView {
    /// Always `ready`.
    #[schema(schema_with = ready)]
    pub status: &'static str,
    /// The outcome of each check.
    pub checks: ChecksView,
    /// The outbox's counts; absent when they could not be read in time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox: Option<crate::views::OutboxHealthView>,
    /// The store's connection pool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<PoolView>,
}

/// The store's connection pool in readiness.
#[derive(Debug, Serialize, ToSchema)]
pub struct PoolView {
    /// Most connections it may open.
    pub max_size: usize,
    /// Connections open.
    pub open: usize,
    /// Open connections in use.
    pub in_use: usize,
    /// Open connections nobody uses.
    pub idle: usize,
    /// Requests waiting for a connection.
    pub waiting: usize,
}

impl From<tidings_domain::PoolStats> for PoolView {
    fn from(s: tidings_domain::PoolStats) -> Self {
        Self {
            max_size: s.max_size,
            open: s.open,
            in_use: s.open.saturating_sub(s.idle),
            idle: s.idle,
            waiting: s.waiting,
        }
    }
}

/// The `details` of the `503` answered when not ready.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotReadyDetails {
    /// The outcome of each check.
    pub checks: ChecksView,
}

/// The outcome of each readiness check.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChecksView {
    /// Whether the store answered a query in time.
    pub store: Check,
    /// How the bus reaches the other nodes: `local` (one node), `ok`, or `degraded` (cut off from
    /// the other nodes; this node still serves its own clients, so it stays ready).
    pub bus: BusCheck,
}

/// The bus's part of readiness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BusCheck {
    /// One node, in-process bus.
    Local,
    /// Connected to the other nodes.
    Ok,
    /// Cut off from the other nodes.
    Degraded,
}

/// The outcome of one readiness check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// It passed.
    Ok,
    /// It failed or timed out.
    Unavailable,
}
