//! OAuth2 access tokens of the service account: a JWT signed with its key (RS256) is exchanged at
//! its `token_uri` (the JWT bearer grant), and the token is kept until shortly before it expires, so
//! that pushes do not pay for an exchange each.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, Header};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::account::ServiceAccount;
use crate::channel::{CALL_TIMEOUT, DeliveryError};

/// What the access token may do: send through FCM, nothing else.
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// The grant of a signed JWT (RFC 7523).
const GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// How long a signed request is valid (Google's maximum).
const ASSERTION_TTL: i64 = 3600;
/// A cached token is replaced this long before it expires, so that no call starts with a token
/// about to lapse (a call may take the whole call timeout).
const EARLY: chrono::Duration = chrono::Duration::seconds(60);

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

#[derive(Deserialize)]
struct Granted {
    access_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
}

struct Cached {
    token: String,
    until: DateTime<Utc>,
}

/// Access tokens of one service account, fetched when needed and cached.
pub struct AccessTokens {
    account: ServiceAccount,
    http: reqwest::Client,
    // An async lock held across the exchange: calls that find no token wait for the one exchange
    // under way instead of each making their own.
    cached: Mutex<Option<Cached>>,
}

impl AccessTokens {
    /// Tokens of `account`.
    pub fn new(account: ServiceAccount) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(CALL_TIMEOUT).build()?;
        Ok(Self { account, http, cached: Mutex::new(None) })
    }

    /// The account whose tokens these are.
    pub fn account(&self) -> &ServiceAccount {
        &self.account
    }

    /// A valid access token: the cached one, or a new one from the token endpoint.
    pub async fn get(&self) -> Result<String, DeliveryError> {
        let mut cached = self.cached.lock().await;
        let now = Utc::now();
        if let Some(held) = cached.as_ref().filter(|held| held.until - EARLY > now) {
            return Ok(held.token.clone());
        }
        let granted = self.exchange(now).await?;
        let lifetime = chrono::Duration::seconds(granted.expires_in.unwrap_or(ASSERTION_TTL));
        *cached = Some(Cached { token: granted.access_token.clone(), until: now + lifetime });
        Ok(granted.access_token)
    }

    /// Forgets `token` after FCM refused it (revoked early): the next call fetches another. A newer
    /// token fetched meanwhile is kept.
    pub async fn refused(&self, token: &str) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|held| held.token == token) {
            *cached = None;
        }
    }

    async fn exchange(&self, now: DateTime<Utc>) -> Result<Granted, DeliveryError> {
        let account = &self.account;
        let claims = Claims {
            iss: &account.client_email,
            scope: SCOPE,
            aud: &account.token_uri,
            iat: now.timestamp(),
            exp: now.timestamp() + ASSERTION_TTL,
        };
        let header = Header { kid: account.private_key_id.clone(), ..Header::new(Algorithm::RS256) };
        let assertion = jsonwebtoken::encode(&header, &claims, &account.key)
            .map_err(|e| DeliveryError::Permanent(format!("cannot sign the token request: {e}")))?;
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", GRANT)
            .append_pair("assertion", &assertion)
            .finish();
        let answer = self
            .http
            .post(&account.token_uri)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| DeliveryError::from_transport(&e))?;
        let status = answer.status();
        if !status.is_success() {
            // Google's error bodies name the error (`invalid_grant`, ...), never the key or a token.
            let text = answer.text().await.unwrap_or_default();
            return Err(match DeliveryError::from_status(status, &text) {
                DeliveryError::Transient(e) => DeliveryError::Transient(format!("token endpoint: {e}")),
                DeliveryError::Permanent(e) => DeliveryError::Permanent(format!("token endpoint: {e}")),
            });
        }
        answer
            .json::<Granted>()
            .await
            .map_err(|_| DeliveryError::Transient("token endpoint: an answer without an access token".into()))
    }
}
