//! Uploads: files agents and customers send. The bytes stream into the blob store while their
//! SHA-256 and size are counted; their kind is read from their first bytes and must be on the
//! allow-list before anything is written; a file over the size limit is dropped, never kept.
//! Downloads go through links the server signs, which expire.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tidings_domain::{BlobError, BlobStore, ByteStream, Caller, Signer, Upload, UploadId};

use crate::actor::Actor;
use crate::attachments::Attachments;
use crate::download_links::{DownloadLink, DownloadLinks, Linked};
use crate::error::{MessagingError, MessagingResult};
use crate::repos::MessagingRepos;
use crate::thumbnails;
use crate::upload_kinds::{SNIFF_BYTES, agrees, sniff};

/// Limits and links of uploads.
#[derive(Clone, Debug)]
pub struct UploadSettings {
    /// Largest file accepted, in bytes (default 25 MiB).
    pub max_bytes: u64,
    /// How long a download link works (default one hour).
    pub link_lifetime: chrono::Duration,
    /// Where clients reach the API, to build download links (`http://127.0.0.1:8080`).
    pub public_url: String,
}

impl Default for UploadSettings {
    fn default() -> Self {
        Self {
            max_bytes: 25 * 1024 * 1024,
            link_lifetime: chrono::Duration::hours(1),
            public_url: "http://127.0.0.1:8080".into(),
        }
    }
}

/// What an upload request declares about its file.
#[derive(Clone, Debug, Default)]
pub struct UploadInput {
    /// The file's name, for downloads.
    pub name: Option<String>,
    /// The content type the client claims (checked against the bytes, never trusted).
    pub declared_type: Option<String>,
    /// The length the client announced, refused early when over the limit.
    pub declared_length: Option<u64>,
}

/// Uploading and downloading files.
#[derive(Clone)]
pub struct Uploads {
    repos: Arc<dyn MessagingRepos>,
    blobs: Arc<dyn BlobStore>,
    links: DownloadLinks,
    attachments: Attachments,
    settings: UploadSettings,
}

impl Uploads {
    /// Builds the service over `repos` and `blobs`, signing links with `signer`.
    pub fn new(
        repos: Arc<dyn MessagingRepos>,
        blobs: Arc<dyn BlobStore>,
        signer: Arc<dyn Signer>,
        settings: UploadSettings,
    ) -> Self {
        let links = DownloadLinks::new(signer, &settings);
        let attachments = Attachments::new(repos.clone(), blobs.clone(), links.clone());
        Self { repos, blobs, links, attachments, settings }
    }

    /// Messages' files over the same store, blobs and links, for the message services.
    pub fn attachments(&self) -> Attachments {
        self.attachments.clone()
    }

    /// Stores a file an agent or an SDK device sends, streamed from `body`.
    pub async fn upload<S, E>(&self, caller: &Caller, input: UploadInput, body: S) -> MessagingResult<Linked>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        if input.declared_length.is_some_and(|length| length > self.settings.max_bytes) {
            return Err(MessagingError::TooLarge("the file is larger than the upload limit"));
        }
        let actor = Actor::resolve(&*self.repos, caller).await?;
        let company_id = actor.company_id();
        // Fused: a stream may not be polled again once it has ended (a form field panics).
        let mut body = body.fuse();
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        let mut rest: Option<Bytes> = None;
        while head.len() < SNIFF_BYTES {
            match body.next().await {
                Some(chunk) => {
                    let chunk = chunk.map_err(|e| MessagingError::Invalid("body", e.to_string()))?;
                    let take = chunk.len().min(SNIFF_BYTES - head.len());
                    head.extend_from_slice(&chunk[..take]);
                    if take < chunk.len() {
                        rest = Some(chunk.slice(take..));
                    }
                }
                None => break,
            }
        }
        if head.is_empty() {
            return Err(MessagingError::Invalid("body", "the file is empty".into()));
        }
        let content_type = sniff(&head).map_err(MessagingError::Unsupported)?;
        if let Some(declared) = &input.declared_type
            && !agrees(declared, content_type)
        {
            return Err(MessagingError::Unsupported(format!(
                "the file was sent as {declared} but its bytes are {content_type}"
            )));
        }
        let id = UploadId::new();
        let object_key = format!("companies/{company_id}/uploads/{id}");
        let mut writer = self.blobs.writer(&object_key).await.map_err(blob_failed)?;
        let (mut hasher, mut size) = (Sha256::new(), 0u64);
        // An image's headers, kept to read its dimensions from once it is stored.
        let mut header = content_type.starts_with("image/").then(|| Vec::with_capacity(SNIFF_BYTES));
        let mut pending = vec![Bytes::from(head)];
        pending.extend(rest);
        loop {
            for chunk in pending.drain(..) {
                size += chunk.len() as u64;
                if size > self.settings.max_bytes {
                    writer.abort().await;
                    return Err(MessagingError::TooLarge("the file is larger than the upload limit"));
                }
                hasher.update(&chunk);
                if let Some(header) = header.as_mut() {
                    let take = chunk.len().min(thumbnails::HEADER_BYTES - header.len());
                    header.extend_from_slice(&chunk[..take]);
                }
                if let Err(error) = writer.write(chunk).await {
                    writer.abort().await;
                    return Err(blob_failed(error));
                }
            }
            match body.next().await {
                Some(Ok(chunk)) => pending.push(chunk),
                Some(Err(error)) => {
                    writer.abort().await;
                    return Err(MessagingError::Invalid("body", error.to_string()));
                }
                None => break,
            }
        }
        writer.finish().await.map_err(blob_failed)?;
        let (width, height) = header.as_deref().and_then(thumbnails::measure).unzip();
        let upload = Upload {
            id,
            company_id,
            object_key: object_key.clone(),
            name: file_name(input.name.as_deref(), id, content_type),
            content_type: content_type.to_owned(),
            size: i64::try_from(size).unwrap_or(i64::MAX),
            sha256: hex::encode(hasher.finalize()),
            width,
            height,
            thumbnail_key: None,
            uploaded_by: actor.author(),
            created_at: Utc::now(),
            message_id: None,
        };
        match self.repos.create_upload(upload).await {
            Ok(upload) => {
                if upload.content_type.starts_with("image/") {
                    // Off the request path: the answer does not wait for the pixels.
                    let (repos, blobs, image) = (self.repos.clone(), self.blobs.clone(), upload.clone());
                    tokio::spawn(async move {
                        if let Err(error) = thumbnails::make(repos, blobs, image.clone()).await {
                            tracing::info!(upload = %image.id, %error, "no thumbnail for an image");
                        }
                    });
                }
                Ok(self.links.upload(upload))
            }
            Err(error) => {
                // The row is the file's only reference: without it the bytes are orphans.
                let _ = self.blobs.delete(&object_key).await;
                Err(error.into())
            }
        }
    }

    /// An upload the caller may see: agents their company's, devices their contact's own.
    pub async fn get(&self, caller: &Caller, id: UploadId) -> MessagingResult<Linked> {
        let actor = Actor::find(&*self.repos, caller).await?;
        let upload = self.repos.get_upload(actor.company_id(), id).await?;
        if matches!(actor, Actor::Contact(_)) && upload.uploaded_by != actor.author() {
            return Err(MessagingError::NotFound);
        }
        Ok(self.links.upload(upload))
    }

    /// Deletes an upload: its row, its bytes and its thumbnail. Agents may delete any of their
    /// company's (admins and owners) or their own; SDK devices their contact's own.
    pub async fn delete(&self, caller: &Caller, id: UploadId) -> MessagingResult<()> {
        let actor = Actor::find(&*self.repos, caller).await?;
        let upload = self.repos.get_upload(actor.company_id(), id).await?;
        let allowed = match &actor {
            Actor::Agent(principal) => {
                principal.role >= tidings_domain::Role::Admin || upload.uploaded_by == actor.author()
            }
            Actor::Contact(_) => upload.uploaded_by == actor.author(),
        };
        if !allowed {
            return match actor {
                Actor::Agent(_) => {
                    Err(MessagingError::Forbidden("only admins delete other people's uploads"))
                }
                Actor::Contact(_) => Err(MessagingError::NotFound),
            };
        }
        if upload.message_id.is_some() {
            return Err(MessagingError::Conflict("the upload is attached to a message: delete the message"));
        }
        // The row first: once it is gone no link opens the bytes, whatever happens to them next.
        if self.attachments.remove(upload).await {
            Ok(())
        } else {
            Err(MessagingError::Conflict("the upload was attached to a message meanwhile"))
        }
    }

    /// What a signed link leads to (the link is the credential): the upload, or its thumbnail; a
    /// forged, altered or expired link, or a thumbnail not made, is not found.
    pub async fn resolve(&self, link: &DownloadLink) -> MessagingResult<Download> {
        if !self.links.verify(link) {
            return Err(MessagingError::NotFound);
        }
        let upload = self.repos.get_upload(link.company_id, link.id).await?;
        if !link.thumbnail {
            let size = u64::try_from(upload.size).ok();
            return Ok(Download {
                key: upload.object_key.clone(),
                content_type: upload.content_type.clone(),
                size,
                upload,
            });
        }
        let key = upload.thumbnail_key.clone().ok_or(MessagingError::NotFound)?;
        Ok(Download { key, content_type: "image/jpeg".into(), size: None, upload })
    }

    /// `range` of a download's bytes, or all of them.
    pub async fn bytes(&self, download: &Download, range: Option<Range<u64>>) -> MessagingResult<ByteStream> {
        self.blobs.read(&download.key, range).await.map_err(|error| match error {
            BlobError::NotFound => MessagingError::NotFound,
            other => blob_failed(other),
        })
    }
}

/// What a signed link leads to.
#[derive(Clone, Debug)]
pub struct Download {
    /// The upload.
    pub upload: Upload,
    /// The blob: the file, or its thumbnail.
    pub key: String,
    /// Its content type.
    pub content_type: String,
    /// Its size, when known (not for thumbnails).
    pub size: Option<u64>,
}

/// A file name safe to put in a header and on a disk: no path, no control characters, at most
/// 200 characters; the id and the kind's extension when none was given.
fn file_name(given: Option<&str>, id: UploadId, content_type: &str) -> String {
    let base = given.and_then(|name| name.rsplit(['/', '\\']).next()).unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control() && *c != '"').take(200).collect();
    let clean = clean.trim().trim_start_matches('.').to_owned();
    if clean.is_empty() {
        let extension = content_type.rsplit('/').next().unwrap_or("bin");
        format!("{id}.{extension}")
    } else {
        clean
    }
}

fn blob_failed(error: BlobError) -> MessagingError {
    MessagingError::Store(tidings_domain::RepoError::unavailable(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        let id = UploadId::new();
        assert_eq!(file_name(Some("../../etc/passwd"), id, "image/png"), "passwd");
        assert_eq!(file_name(Some("C:\\Users\\ada\\photo 1.png"), id, "image/png"), "photo 1.png");
        assert_eq!(file_name(Some("a\"b\r\nc.pdf"), id, "application/pdf"), "abc.pdf");
        assert_eq!(file_name(Some("  "), id, "image/png"), format!("{id}.png"));
        assert_eq!(file_name(None, id, "application/pdf"), format!("{id}.pdf"));
        assert_eq!(file_name(Some(".hidden"), id, "image/png"), "hidden");
    }
}
