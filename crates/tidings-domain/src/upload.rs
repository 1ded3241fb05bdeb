//! Uploads: files agents and customers send (photos, PDFs), kept in the blob store under a key of
//! their company, described by a row of their own.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::RepoResult;
use crate::ids::{CompanyId, UploadId};

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
    /// Removes an upload's row; its blobs are the caller's to remove.
    async fn delete_upload(&self, company_id: CompanyId, id: UploadId) -> RepoResult<()>;
}
