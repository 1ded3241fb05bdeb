//! Telling a company's owners by e-mail that one of their webhook endpoints was disabled for failing.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use tidings_auth::Cipher;
use tidings_domain::{OutboxRepo, Role, UnitOfWork, UserRepo, WebhookEndpoint};

use crate::mail::enqueue_email;
use crate::templates;
use crate::webhook_channel::DisabledNotice;

/// The store the notice needs: owners, and the outbox their e-mails go through.
pub trait NoticeRepos: UserRepo + OutboxRepo + UnitOfWork {}

impl<T: UserRepo + OutboxRepo + UnitOfWork> NoticeRepos for T {}

/// E-mails every owner of the endpoint's company.
pub struct OwnersByEmail {
    repo: Arc<dyn NoticeRepos>,
    cipher: Cipher,
}

impl OwnersByEmail {
    /// Builds the notice; e-mails are sealed with `cipher`, the key the e-mail channel opens them with.
    pub fn new(repo: Arc<dyn NoticeRepos>, cipher: Cipher) -> Self {
        Self { repo, cipher }
    }

    async fn tell(&self, endpoint: &WebhookEndpoint, error: &str) -> tidings_domain::RepoResult<usize> {
        let owners: Vec<_> = self
            .repo
            .list_users(endpoint.company_id, None, 200)
            .await?
            .into_iter()
            .filter(|u| u.role == Role::Owner)
            .collect();
        let at = endpoint.disabled_at.unwrap_or_else(Utc::now);
        // One unit: either every owner is told, or a later failure of the same endpoint tries again.
        let unit = self.repo.begin().await?;
        for owner in &owners {
            let email = templates::webhook_endpoint_disabled(&owner.email, &endpoint.url, error, at);
            let key = format!("webhook-disabled:{}:{}:{}", endpoint.id, at.timestamp(), owner.id);
            enqueue_email(&*unit, &self.cipher, endpoint.company_id, key, &email).await?;
        }
        unit.commit().await?;
        Ok(owners.len())
    }
}

#[async_trait]
impl DisabledNotice for OwnersByEmail {
    async fn endpoint_disabled(&self, endpoint: &WebhookEndpoint, error: &str) {
        match self.tell(endpoint, error).await {
            Ok(owners) => {
                tracing::info!(endpoint = %endpoint.id, owners, "owners told of a disabled webhook endpoint")
            }
            Err(e) => {
                tracing::warn!(error = %tidings_domain::ErrorChain(&e), "could not tell owners of a disabled webhook endpoint")
            }
        }
    }
}
