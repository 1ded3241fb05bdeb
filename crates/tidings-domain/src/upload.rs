//! Uploads: files agents and customers send (photos, PDFs), kept in the blob store under a key of
//! their company, described by a row of their own. A message's attachments are uploads: each is
//! attached to one message at most, and one never attached is collected after a day.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::error::RepoResult;
use crate::ids::{CompanyId, MessageId, UploadId};

/// An uploaded file as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Upload {
    /// Identifier.
    pub id: UploadId,
    /// The owning company.
    pub company_id: CompanyId,
    /// Where its bytes are in the blob store (`companies/<company>/uploads/<id>`).
    pub object_key: String,
    /// The file name the uploader gave (sanitised), for downloads.
    pub name: String,
    /// The content type sniffed from its bytes (never the client's word).
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// SHA-256 of its bytes (hex).
    pub sha256: String,
    /// Width in pixels, for images.
    pub width: Option<i32>,
    /// Height in pixels, for images.
    pub height: Option<i32>,
    /// Where its thumbnail is in the blob store, once made.
    pub thumbnail_key: Option<String>,
    /// Who uploaded it (`user:<id>` or `contact:<id>`).
    pub uploaded_by: String,
    /// Upload time.
    pub created_at: DateTime<Utc>,
    /// The message it is attached to, if any.
    pub message_id: Option<MessageId>,
}

impl Upload {
    /// How a message's `attachments` describe it: what clients show before they download it. Links
    /// are added when the message is read (see [`AttachmentLinks`]).
    pub fn attachment(&self) -> Value {
        json!({
            "upload_id": self.id,
            "name": self.name,
            "content_type": self.content_type,
            "size": self.size,
            "width": self.width,
            "height": self.height,
        })
    }
}

/// The upload an item of a message's `attachments` refers to; `None` for items that describe a
/// file elsewhere (a Facebook or Instagram attachment).
pub fn attached_upload(item: &Value) -> Option<UploadId> {
    item.get("upload_id")?.as_str()?.parse().ok()
}

/// Signs download links for the uploads a message's attachments refer to.
pub trait AttachmentLinks: Send + Sync {
    /// `attachments` (a message's JSON array) with fresh links on each item that is an upload of
    /// `company_id`; other items are left as they are.
    fn link(&self, company_id: CompanyId, attachments: &Value) -> Value;
}

/// Persistence of uploads.
#[async_trait]
pub trait UploadRepo: Send + Sync {
    /// Stores an upload's row (its bytes are already in the blob store).
    async fn create_upload(&self, upload: Upload) -> RepoResult<Upload>;
    /// One upload of a company.
    async fn get_upload(&self, company_id: CompanyId, id: UploadId) -> RepoResult<Upload>;
    /// Records an image's dimensions and thumbnail.
    async fn set_thumbnail(
        &self,
        company_id: CompanyId,
        id: UploadId,
        width: i32,
        height: i32,
        thumbnail_key: Option<String>,
    ) -> RepoResult<Upload>;
    /// The uploads of a company among `ids` (unknown and other companies' ids are left out).
    async fn uploads_by_id(&self, company_id: CompanyId, ids: &[UploadId]) -> RepoResult<Vec<Upload>>;
    /// Removes an upload's row when no message holds it (a conflict, `uploads_attached`, when one
    /// does); its blobs are the caller's to remove.
    async fn delete_upload(&self, company_id: CompanyId, id: UploadId) -> RepoResult<()>;
    /// Uploads of any company attached to no message and made before `before`, oldest first: the
    /// ones to collect.
    async fn unattached_uploads(&self, before: DateTime<Utc>, limit: i64) -> RepoResult<Vec<Upload>>;
}
