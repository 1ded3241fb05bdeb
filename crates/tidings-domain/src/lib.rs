//! Tidings domain: entities, identifiers, validation rules and the repository traits the store implements.
//!
//! This crate does no I/O. Services depend on the traits declared here, so they can run over any store.

pub mod account_mail;
pub mod api_key;
pub mod app;
pub mod appointment;
pub mod audit;
pub mod blob;
pub mod company;
pub mod contact;
pub mod conversation;
pub mod device;
pub mod effect;
pub mod error;
pub mod event;
pub mod feed;
pub mod health;
pub mod identity;
pub mod ids;
pub mod integration;
pub mod job;
pub mod message;
mod named_enum;
pub mod outbox;
pub mod password_reset;
pub mod principal;
pub mod rate;
pub mod recent;
pub mod refresh_token;
pub mod revocation;
pub mod schedule;
pub mod sealing;
pub mod social;
pub mod unit_of_work;
pub mod upload;
pub mod user;
pub mod verification;
pub mod webhook;

pub use account_mail::{AccountEmail, AccountMail};
pub use api_key::{ApiKey, ApiKeyRepo, KeyKind, NewApiKey};
pub use app::{App, AppRepo, IdentityVerification, NewApp};
pub use appointment::{
    Appointment, AppointmentQuery, AppointmentRepo, AppointmentStatus, Booking, DURATIONS, PersonalData,
    normalized_email,
};
pub use audit::{Audit, AuditAction, AuditActor, AuditEntry, AuditEvent, AuditQuery, AuditRepo, Origin};
pub use blob::{BlobError, BlobStore, BlobWriter, ByteStream};
pub use company::{Company, CompanyRepo, NewCompany};
pub use contact::{Contact, ContactFields, ContactQuery, ContactRepo};
pub use conversation::{
    Conversation, ConversationPatch, ConversationQuery, ConversationRepo, ConversationStatus,
};
pub use device::{Device, DeviceRepo, Platform};
pub use effect::{DomainEvent, EffectList, Effects};
pub use error::{BoxError, ErrorChain, RepoError, RepoErrorKind, RepoResult};
pub use event::{Event, EventRepo, NewEvent};
pub use feed::{ChangeCursor, ChangeKind, ChangedPage, FeedChange, FeedEntry, FeedRepo, Recorded};
pub use health::{PoolStats, StoreHealth};
pub use identity::IdentityRepos;
pub use ids::{
    ApiKeyId, AppId, AppointmentId, AuditId, CompanyId, ContactId, ConversationId, DeviceId, EventId,
    MessageId, OutboxId, PasswordResetId, RefreshTokenId, UploadId, UserId, WebhookAttemptId, WebhookId,
};
pub use integration::{Integration, IntegrationKind, IntegrationLookup, IntegrationRepo, LookupKey};
pub use job::{JobRepo, JobRun, JobState};
pub use message::{
    Appended, Direction, LOCAL_ID_TAKEN, Message, MessageCursor, MessageRepo, MessageStatus, NewMessage,
    Sender,
};
pub use outbox::{
    Claimed, NewOutboxItem, OutboxItem, OutboxKind, OutboxRepo, OutboxStats, OutboxStatus, Settlement,
};
pub use password_reset::{NewPasswordReset, PasswordReset, PasswordResetRepo};
pub use principal::{Caller, ClientPrincipal, Principal, ServicePrincipal};
pub use rate::SharedLimiter;
pub use recent::{Lookup, Recent};
pub use refresh_token::{NewRefreshToken, RefreshToken, RefreshTokenRepo};
pub use revocation::{NoRevocations, Revocations};
pub use schedule::{AppointmentSettings, OpenHours, OutsideHours, Schedule};
pub use sealing::{SealError, Sealed, Sealer, Signer};
pub use social::{SocialEvent, SocialEventKind, SocialInbox};
pub use unit_of_work::{Transaction, UnitOfWork};
pub use upload::{AttachmentLinks, Upload, UploadRepo, attached_upload};
pub use user::{FailedLogin, NewUser, Role, User, UserRepo};
pub use verification::{IdentityVerdict, IdentityVerifier, NoIdentityVerification};
pub use webhook::{WEBHOOK_EVENTS, WebhookAttempt, WebhookEndpoint, WebhookPatch, WebhookRepo};
