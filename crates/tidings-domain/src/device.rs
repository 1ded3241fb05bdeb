//! Devices: an installation of an SDK app, identified by the SDK's `X-Device-Id`, always attached to a
//! contact (an anonymous one until `POST /v1/identify`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepoResult;
use crate::ids::{AppId, CompanyId, ContactId, DeviceId};
use crate::named_enum::named_enum;

named_enum!(
    /// Where a conversation or device lives.
    Platform {
        /// iOS SDK.
        Ios = "ios",
        /// Android SDK.
        Android = "android",
        /// Web SDK.
        Web = "web",
        /// Desktop SDK.
        Desktop = "desktop",
        /// Facebook Messenger.
        Facebook = "facebook",
        /// Instagram direct messages.
        Instagram = "instagram",
    }
);

impl Platform {
    /// Whether an SDK device can have this platform.
    pub fn is_device(self) -> bool {
        matches!(self, Platform::Ios | Platform::Android | Platform::Web | Platform::Desktop)
    }
}

/// An SDK installation.
#[derive(Clone, Debug, PartialEq)]
pub struct Device {
    /// Identifier.
    pub id: DeviceId,
    /// The owning company.
    pub company_id: CompanyId,
    /// The app it runs.
    pub app_id: AppId,
    /// The SDK's own id for the installation (`X-Device-Id`).
    pub device_id: String,
    /// The contact using it.
    pub contact_id: ContactId,
    /// ios, android, web or desktop.
    pub platform: Platform,
    /// Push notification token, when the SDK registered one.
    pub push_token: Option<String>,
    /// First seen.
    pub created_at: DateTime<Utc>,
}

/// Persistence of devices.
#[async_trait]
pub trait DeviceRepo: Send + Sync {
    /// The device of `app_id` named `device_id`, created with a new anonymous contact when it is new.
    async fn device_for(
        &self,
        company_id: CompanyId,
        app_id: AppId,
        device_id: &str,
        platform: Platform,
    ) -> RepoResult<Device>;
    /// The device of `app_id` named `device_id`, if it was ever registered; never creates one.
    async fn find_device(
        &self,
        company_id: CompanyId,
        app_id: AppId,
        device_id: &str,
    ) -> RepoResult<Option<Device>>;
    /// Sets the platform and push token of a device of `company_id`.
    async fn update_device(
        &self,
        company_id: CompanyId,
        id: DeviceId,
        platform: Platform,
        push_token: Option<String>,
    ) -> RepoResult<Device>;
    /// Moves one device of `company_id` to another contact of the company (its conversations stay).
    async fn assign_device(
        &self,
        company_id: CompanyId,
        id: DeviceId,
        contact_id: ContactId,
    ) -> RepoResult<Device>;
    /// Moves every device and conversation of contact `from` to contact `into`, then deletes `from`,
    /// in one transaction.
    async fn merge_contacts(&self, company_id: CompanyId, from: ContactId, into: ContactId)
    -> RepoResult<()>;
    /// The devices of a contact of `company_id` that have a push token, oldest first.
    async fn push_targets(&self, company_id: CompanyId, contact_id: ContactId) -> RepoResult<Vec<Device>>;
    /// Removes the push token of a device of `company_id` when it is still `token` (the push service
    /// said it is no longer valid); a token the device registered since is kept. True when removed.
    async fn clear_push_token(&self, company_id: CompanyId, id: DeviceId, token: &str) -> RepoResult<bool>;
}
