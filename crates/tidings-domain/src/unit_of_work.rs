//! Units of work: writes that commit together or not at all.

use async_trait::async_trait;

use crate::appointment::AppointmentRepo;
use crate::contact::ContactRepo;
use crate::conversation::ConversationRepo;
use crate::device::DeviceRepo;
use crate::error::RepoResult;
use crate::event::EventRepo;
use crate::identity::IdentityRepos;
use crate::integration::IntegrationRepo;
use crate::message::MessageRepo;
use crate::outbox::OutboxRepo;
use crate::webhook::WebhookRepo;

/// A transaction: every repository call made through it is part of one unit, whose writes become
/// visible together on [`Transaction::commit`]. Dropped without a commit, it rolls them all back.
#[async_trait]
pub trait Transaction:
    IdentityRepos
    + AppointmentRepo
    + ContactRepo
    + DeviceRepo
    + ConversationRepo
    + MessageRepo
    + EventRepo
    + IntegrationRepo
    + OutboxRepo
    + WebhookRepo
    + Send
    + Sync
{
    /// Makes the unit's writes visible, all at once.
    async fn commit(self: Box<Self>) -> RepoResult<()>;
}

/// Starts units of work.
#[async_trait]
pub trait UnitOfWork: Send + Sync {
    /// A new transaction; these writes commit together.
    async fn begin(&self) -> RepoResult<Box<dyn Transaction>>;
}
