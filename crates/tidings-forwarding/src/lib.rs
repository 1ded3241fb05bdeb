//! Tidings forwarding: the outbox worker, its retry policy and dead letters, the outbound channels
//! (the Meta bot service, signed webhooks, push notifications through FCM, e-mail over SMTP), the
//! e-mails' templates, and the
//! cluster-safe job runner.
//!
//! A [`Worker`] claims due outbox items from any store implementing the domain's `OutboxRepo`, hands
//! each to the [`Channel`] of its kind, and settles it: delivered, retried later with
//! [`RetryPolicy`]'s backoff, or dead. A [`JobRunner`] runs periodic [`Job`]s once per period across
//! every node sharing the store, under leases the store grants.

pub mod account_mail;
pub mod admin;
pub mod appointment_mail;
pub mod appointment_reseal;
pub mod appointment_templates;
pub mod calendar;
pub mod channel;
pub mod email;
pub mod error;
pub mod integrations;
pub mod jobs;
pub mod mail;
pub mod meta;
pub mod meta_webhook;
pub mod push;
pub mod retry;
pub mod smtp;
pub mod templates;
#[cfg(feature = "test-util")]
pub mod test_smtp;
pub mod token_refresh;
pub mod webhook_channel;
pub mod webhook_events;
pub mod webhook_notice;
pub mod webhooks;
pub mod worker;

pub use account_mail::AccountMailer;
pub use admin::OutboxAdmin;
pub use appointment_mail::{AppointmentMail, AppointmentReminders, ReminderRepos};
pub use appointment_reseal::AppointmentReseal;
pub use calendar::{
    CalendarInput, CalendarRepos, CalendarSync, CalendarView, Calendars, GoogleCalendar, GoogleEndpoints,
};
pub use channel::{CALL_TIMEOUT, Channel, Delivery, DeliveryError};
pub use email::{EmailChannel, NO_SMTP_SERVER, SmtpSetupError};
pub use error::{ForwardingError, ForwardingResult};
pub use integrations::{Integrations, MetaConfig, MetaInput, MetaSecrets, MetaSettings};
pub use jobs::{Job, JobRunner, JobSettings};
pub use mail::{Email, enqueue_email, enqueue_email_in_order};
pub use meta::{MetaBot, MetaCredentials};
pub use meta_webhook::{Handshake, MetaWebhooks};
pub use push::{ContactOnline, FcmChannel, PushNotifications, ServiceAccount};
pub use retry::RetryPolicy;
pub use smtp::{DEFAULT_FROM, Sender, SenderError, SmtpSecurity, SmtpServer, SmtpUrlError};
pub use token_refresh::MetaTokenRefresh;
pub use webhook_channel::{DisabledNotice, WebhookChannel};
pub use webhook_events::{RECENT_ENDPOINTS, RecentEndpoints, WebhookEvents, recent_endpoints};
pub use webhook_notice::{NoticeRepos, OwnersByEmail};
pub use webhooks::{WebhookInput, WebhookPatchInput, WebhookRepos, Webhooks, WithSecret};
pub use worker::{ForwardListener, ForwardingRepos, Worker, WorkerSettings};
