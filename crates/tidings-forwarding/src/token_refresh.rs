//! The Meta token refresh, a periodic job: every company's page access token is exchanged for a
//! fresh long-lived one through the Graph API (`fb_exchange_token`), before it expires. It runs
//! through the job runner, so once per period across the cluster, not once per node.

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use serde::Deserialize;

use crate::channel::CALL_TIMEOUT;
use crate::integrations::Integrations;
use crate::jobs::Job;

/// Refreshes page access tokens.
pub struct MetaTokenRefresh {
    integrations: Integrations,
    http: reqwest::Client,
    graph_url: String,
    period: Duration,
}

#[derive(Deserialize)]
struct Exchanged {
    access_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
}

impl MetaTokenRefresh {
    /// A job calling the Graph API at `graph_url` every `period`.
    pub fn new(
        integrations: Integrations,
        graph_url: &str,
        period: Duration,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(CALL_TIMEOUT).build()?;
        Ok(Self { integrations, http, graph_url: graph_url.trim_end_matches('/').to_owned(), period })
    }

    /// Refreshes one company's token; `Ok(false)` when it has nothing to refresh with.
    async fn refresh(&self, company_id: tidings_domain::CompanyId) -> Result<bool, String> {
        let Some(opened) = self.integrations.open(company_id).await.map_err(|e| e.to_string())? else {
            return Ok(false);
        };
        let (Some(app_id), Some(secret), Some(token)) =
            (&opened.config.app_id, &opened.secrets.app_secret, &opened.secrets.page_access_token)
        else {
            return Ok(false);
        };
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "fb_exchange_token")
            .append_pair("client_id", app_id)
            .append_pair("client_secret", secret)
            .append_pair("fb_exchange_token", token)
            .finish();
        let answer = self
            .http
            .get(format!("{}/oauth/access_token?{query}", self.graph_url))
            .send()
            .await
            // The URL carries secrets: only the kind of failure is reported.
            .map_err(|e| if e.is_timeout() { "timed out".to_owned() } else { "no answer".to_owned() })?;
        let status = answer.status();
        if !status.is_success() {
            return Err(format!("Graph API answered {status}"));
        }
        let exchanged: Exchanged =
            answer.json().await.map_err(|_| "unreadable Graph API answer".to_owned())?;
        // Read again just before writing, so that a token an admin set meanwhile is not overwritten.
        let Some(current) = self.integrations.open(company_id).await.map_err(|e| e.to_string())? else {
            return Ok(false);
        };
        if current.secrets.page_access_token.as_ref() != Some(token) {
            return Ok(false);
        }
        let (mut config, mut secrets) = (current.config, current.secrets);
        let now = Utc::now();
        secrets.page_access_token = Some(exchanged.access_token);
        config.token_refreshed_at = Some(now);
        config.token_expires_at = exchanged.expires_in.map(|s| now + chrono::Duration::seconds(s));
        self.integrations.store(company_id, &config, &secrets).await.map_err(|e| e.to_string())?;
        Ok(true)
    }
}

#[async_trait]
impl Job for MetaTokenRefresh {
    fn name(&self) -> &'static str {
        "meta.token_refresh"
    }

    fn period(&self) -> Duration {
        self.period
    }

    async fn run(&self) -> Result<(), String> {
        let companies = self.integrations.all().await.map_err(|e| e.to_string())?;
        let (mut refreshed, mut failed) = (0, 0);
        for opened in companies {
            let company_id = opened.integration.company_id;
            match self.refresh(company_id).await {
                Ok(true) => refreshed += 1,
                Ok(false) => {}
                Err(error) => {
                    failed += 1;
                    tracing::warn!(company = %company_id, %error, "could not refresh a Meta page token");
                }
            }
        }
        tracing::info!(refreshed, failed, "Meta page tokens refreshed");
        if failed > 0 { Err(format!("{failed} companies' tokens could not be refreshed")) } else { Ok(()) }
    }
}
