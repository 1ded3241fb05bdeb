//! Uploaded files.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tidings_domain::UploadId;
use tidings_messaging::Linked;
use utoipa::ToSchema;

/// An upload, with a signed link to its bytes.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadView {
    /// Identifier; messages reference it in `attachments`.
    pub id: UploadId,
    /// The file name, as given (without a path).
    pub name: String,
    /// The content type read from the bytes.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// SHA-256 of the bytes (hex).
    pub sha256: String,
    /// Width in pixels, for images whose thumbnail was made.
    pub width: Option<i32>,
    /// Height in pixels.
    pub height: Option<i32>,
    /// A link to the bytes, signed; it stops working at `url_expires_at`.
    pub url: String,
    /// A signed link to a JPEG thumbnail (at most 320 px on a side), once made; images only.
    pub thumbnail_url: Option<String>,
    /// When the links stop working.
    pub url_expires_at: DateTime<Utc>,
    /// Who uploaded it (`user:<id>` or `contact:<id>`).
    pub uploaded_by: String,
    /// Upload time.
    pub created_at: DateTime<Utc>,
}

impl From<Linked> for UploadView {
    fn from(Linked { upload: u, url, thumbnail_url, expires_at }: Linked) -> Self {
        Self {
            id: u.id,
            name: u.name,
            content_type: u.content_type,
            size: u.size,
            sha256: u.sha256,
            width: u.width,
            height: u.height,
            url,
            thumbnail_url,
            url_expires_at: expires_at,
            uploaded_by: u.uploaded_by,
            created_at: u.created_at,
        }
    }
}
