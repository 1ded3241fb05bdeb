//! Download links: the server signs a link to an upload's bytes (or its thumbnail) for a while;
//! whoever holds the link may download until it expires, as with presigned object-store URLs. Every
//! node signs with the same key, so a link made on one node opens on any other.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tidings_domain::{AttachmentLinks, CompanyId, Signer, Upload, UploadId, attached_upload};

use crate::uploads::UploadSettings;

/// An upload with download links.
#[derive(Clone, Debug)]
pub struct Linked {
    /// The upload.
    pub upload: Upload,
    /// A signed link to its bytes.
    pub url: String,
    /// A signed link to its thumbnail, once made (images only).
    pub thumbnail_url: Option<String>,
    /// When the links stop working.
    pub expires_at: DateTime<Utc>,
}

/// What a download link carries.
#[derive(Clone, Debug)]
pub struct DownloadLink {
    /// The upload's company.
    pub company_id: CompanyId,
    /// The upload.
    pub id: UploadId,
    /// Whether it is the link of the thumbnail.
    pub thumbnail: bool,
    /// When the link stops working (Unix seconds).
    pub expires: i64,
    /// The server's signature of the rest.
    pub signature: String,
}

impl DownloadLink {
    /// What is signed: every part of the link but the signature.
    fn message(&self) -> String {
        let variant = if self.thumbnail { "thumbnail" } else { "original" };
        format!("upload:{}:{}:{variant}:{}", self.company_id, self.id, self.expires)
    }
}

/// Signs and checks download links.
#[derive(Clone)]
pub struct DownloadLinks {
    signer: Arc<dyn Signer>,
    public_url: String,
    lifetime: chrono::Duration,
}

impl DownloadLinks {
    /// Links under `settings.public_url`, valid for `settings.link_lifetime`, signed by `signer`.
    pub fn new(signer: Arc<dyn Signer>, settings: &UploadSettings) -> Self {
        let public_url = settings.public_url.trim_end_matches('/').to_owned();
        Self { signer, public_url, lifetime: settings.link_lifetime }
    }

    /// Signed links to an upload's bytes and thumbnail.
    pub fn upload(&self, upload: Upload) -> Linked {
        let expires_at = self.expiry();
        let url = self.url(upload.company_id, upload.id, false, expires_at);
        let thumbnail_url =
            upload.thumbnail_key.as_ref().map(|_| self.url(upload.company_id, upload.id, true, expires_at));
        Linked { upload, url, thumbnail_url, expires_at }
    }

    /// Whether `link` was signed here and has not expired.
    pub fn verify(&self, link: &DownloadLink) -> bool {
        link.expires >= Utc::now().timestamp() && self.signer.verify(&link.message(), &link.signature)
    }

    fn expiry(&self) -> DateTime<Utc> {
        Utc::now() + self.lifetime
    }

    fn url(&self, company_id: CompanyId, id: UploadId, thumbnail: bool, expires_at: DateTime<Utc>) -> String {
        let expires = expires_at.timestamp();
        let link = DownloadLink { company_id, id, thumbnail, expires, signature: String::new() };
        let signature = self.signer.sign(&link.message());
        format!(
            "{}/v1/uploads/{id}/content?company={company_id}&expires={expires}{}&signature={signature}",
            self.public_url,
            if thumbnail { "&variant=thumbnail" } else { "" },
        )
    }
}

impl AttachmentLinks for DownloadLinks {
    /// Adds `url`, `expires_at` and, for images with known dimensions, `thumbnail_url` to each
    /// upload of `attachments`.
    /// A thumbnail is made just after its upload: for a moment its link may not open yet.
    fn link(&self, company_id: CompanyId, attachments: &Value) -> Value {
        let Some(items) = attachments.as_array() else { return attachments.clone() };
        let expires_at = self.expiry();
        let linked = items.iter().map(|item| {
            let (Some(id), Some(fields)) = (attached_upload(item), item.as_object()) else {
                return item.clone();
            };
            let mut fields = fields.clone();
            fields.insert("url".into(), self.url(company_id, id, false, expires_at).into());
            // An image whose headers could be read gets a thumbnail; one that could not be measured
            // (HEIC, say) cannot be decoded either.
            let image =
                fields.get("content_type").and_then(Value::as_str).is_some_and(|t| t.starts_with("image/"))
                    && fields.get("width").is_some_and(Value::is_number);
            let thumbnail = image.then(|| self.url(company_id, id, true, expires_at));
            fields.insert("thumbnail_url".into(), thumbnail.into());
            fields.insert(
                "expires_at".into(),
                expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into(),
            );
            Value::Object(fields)
        });
        Value::Array(linked.collect())
    }
}
