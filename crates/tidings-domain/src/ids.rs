//! Typed identifiers: UUID v7 under the hood, so ids sort by creation time even as text.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Declares a typed id so a user id can never be passed where a company id is expected. In the API's
/// schema each is a UUID string of its own name.
macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
        )]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

typed_id!(
    /// Identifies a company, the tenant that owns every other row.
    CompanyId
);
typed_id!(
    /// Identifies a user (an agent, admin or owner of a company).
    UserId
);
typed_id!(
    /// Identifies a stored refresh token, or a family of them.
    RefreshTokenId
);
typed_id!(
    /// Identifies an app (an SDK integration) of a company.
    AppId
);
typed_id!(
    /// Identifies an API key.
    ApiKeyId
);
typed_id!(
    /// Identifies a contact (a customer of a company).
    ContactId
);
typed_id!(
    /// Identifies a stored device.
    DeviceId
);
typed_id!(
    /// Identifies a conversation.
    ConversationId
);
typed_id!(
    /// Identifies a message.
    MessageId
);
typed_id!(
    /// Identifies a tracked analytics event.
    EventId
);
typed_id!(
    /// Identifies an outbox item (one call that must leave the system).
    OutboxId
);
typed_id!(
    /// Identifies a webhook endpoint of a company.
    WebhookId
);
typed_id!(
    /// Identifies one attempt to deliver an event to a webhook endpoint.
    WebhookAttemptId
);
typed_id!(
    /// Identifies a password reset token (also sent as an invitation's set-password link).
    PasswordResetId
);
typed_id!(
    /// Identifies an appointment.
    AppointmentId
);
typed_id!(
    /// Identifies an uploaded file.
    UploadId
);
typed_id!(
    /// Identifies an entry of a company's audit log.
    AuditId
);
