//! Tidings forwarding: the outbox worker, its retry policy and dead letters, and the outbound
//! channels (the Meta bot service first; webhooks, e-mail and push later).
//!
//! A [`Worker`] claims due outbox items from any store implementing the domain's `OutboxRepo`, hands
//! each to the [`Channel`] of its kind, and settles it: delivered, retried later with
//! [`RetryPolicy`]'s backoff, or dead.

pub mod channel;
pub mod meta;
pub mod retry;
pub mod worker;

pub use channel::{Channel, DeliveryError};
pub use meta::{MetaBot, MetaCredentials};
pub use retry::RetryPolicy;
pub use worker::{Worker, WorkerSettings};
