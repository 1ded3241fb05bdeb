//! Attachments: a message's files are uploads of its company. When a message is sent, the uploads it
//! names are checked (the company's, a device's own, not held by another message) and described in
//! it; the store claims them with the message. Whenever a message leaves the services its uploads
//! carry fresh download links. A deleted message's files are removed, and uploads no message took
//! are collected after a day.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use tidings_domain::{AttachmentLinks, BlobStore, CompanyId, Message, Upload, UploadId};

use crate::actor::Actor;
use crate::download_links::DownloadLinks;
use crate::error::{MessagingError, MessagingResult};
use crate::input::upload_reference;
use crate::realtime::ServerEvent;
use crate::repos::MessagingRepos;

/// How long an upload may wait for a message before it is collected.
pub const UNATTACHED_GRACE: Duration = Duration::days(1);

/// How many unattached uploads one collection run removes at most.
pub const COLLECT_BATCH: usize = 500;

/// What a message's `attachments` say, and the uploads the store claims with it.
#[derive(Clone, Debug, Default)]
pub struct Described {
    /// The message's `attachments`: each upload's name, type, size and dimensions.
    pub attachments: Value,
    /// The uploads.
    pub uploads: Vec<UploadId>,
}

/// Messages' files: checking, linking, removing.
#[derive(Clone)]
pub struct Attachments {
    repos: Arc<dyn MessagingRepos>,
    blobs: Arc<dyn BlobStore>,
    links: DownloadLinks,
}

impl Attachments {
    /// Over `repos` and `blobs`, linking with `links`.
    pub fn new(repos: Arc<dyn MessagingRepos>, blobs: Arc<dyn BlobStore>, links: DownloadLinks) -> Self {
        Self { repos, blobs, links }
    }

    /// The links it signs, for the channels that hand attachments on (Meta forwards).
    pub fn links(&self) -> Arc<dyn AttachmentLinks> {
        Arc::new(self.links.clone())
    }

    /// Checks the uploads a message sent by `actor` names (validated input: ids, each once) and
    /// describes them. Unknown ids, other companies' and, for a device, uploads not its own are
    /// not found; one already attached to a message is a conflict.
    pub(crate) async fn describe(
        &self,
        actor: &Actor,
        references: Option<&Value>,
    ) -> MessagingResult<Described> {
        let ids: Vec<UploadId> =
            references.and_then(Value::as_array).into_iter().flatten().filter_map(upload_reference).collect();
        if ids.is_empty() {
            return Ok(Described { attachments: Value::Array(Vec::new()), uploads: ids });
        }
        let found = self.repos.uploads_by_id(actor.company_id(), &ids).await?;
        let mut described = Vec::with_capacity(ids.len());
        for id in &ids {
            let upload = found.iter().find(|u| u.id == *id);
            let Some(upload) = upload.filter(|u| usable_by(actor, u)) else {
                return Err(MessagingError::Invalid("attachments", format!("no upload {id} to attach")));
            };
            if upload.message_id.is_some() {
                return Err(MessagingError::Conflict("an upload is attached to one message only"));
            }
            described.push(upload.attachment());
        }
        Ok(Described { attachments: Value::Array(described), uploads: ids })
    }

    /// `message` with fresh download links on its uploads.
    pub fn message(&self, mut message: Message) -> Message {
        if message.attachments.as_array().is_some_and(|a| !a.is_empty()) {
            message.attachments = self.links.link(message.company_id, &message.attachments);
        }
        message
    }

    /// `event` with fresh download links on the uploads of the message it carries.
    pub(crate) fn event(&self, event: ServerEvent) -> ServerEvent {
        match event {
            ServerEvent::MessageNew { conversation_id, position, sequence, message } => {
                ServerEvent::MessageNew {
                    conversation_id,
                    position,
                    sequence,
                    message: self.message(message),
                }
            }
            ServerEvent::MessageUpdated { conversation_id, position, sequence, message } => {
                let message = self.message(message);
                ServerEvent::MessageUpdated { conversation_id, position, sequence, message }
            }
            other => other,
        }
    }

    /// Removes the files a deleted message let go of: rows first (no link opens them after), then
    /// bytes. What fails here is left to the collector.
    pub(crate) async fn discard(&self, company_id: CompanyId, attachments: &Value) {
        let ids = attachments.as_array().into_iter().flatten().filter_map(tidings_domain::attached_upload);
        for id in ids {
            if let Ok(upload) = self.repos.get_upload(company_id, id).await {
                self.remove(upload).await;
            }
        }
    }

    /// Removes uploads that no message took within [`UNATTACHED_GRACE`] of `now`, or that a
    /// deleted message let go of, a batch at a time; returns how many went.
    pub async fn collect(&self, now: DateTime<Utc>) -> MessagingResult<usize> {
        let stale = self.repos.unattached_uploads(now - UNATTACHED_GRACE, COLLECT_BATCH as i64).await?;
        let mut removed = 0;
        for upload in stale {
            if self.remove(upload).await {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Deletes an unattached upload's row, then its bytes and thumbnail; false when a message took
    /// it meanwhile (or it was gone).
    pub(crate) async fn remove(&self, upload: Upload) -> bool {
        if self.repos.delete_upload(upload.company_id, upload.id).await.is_err() {
            return false;
        }
        let keys = std::iter::once(upload.object_key.clone()).chain(upload.thumbnail_key.clone());
        for key in keys {
            if let Err(error) = self.blobs.delete(&key).await {
                tracing::warn!(upload = %upload.id, %error, "a removed upload's bytes could not be deleted");
            }
        }
        true
    }
}

/// Whether `actor` may attach `upload`: agents any of their company's, devices their contact's own.
fn usable_by(actor: &Actor, upload: &Upload) -> bool {
    matches!(actor, Actor::Agent(_)) || upload.uploaded_by == actor.author()
}
