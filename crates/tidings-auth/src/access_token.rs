//! Access tokens: short-lived JWTs signed with HS256. Only HS256 is accepted, so a token claiming
//! `alg: none` or any other algorithm is refused before its signature is even looked at.

use chrono::{Duration, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tidings_domain::{CompanyId, Role, UserId};
use uuid::Uuid;

use crate::error::AuthError;

/// The claims of an access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user.
    pub sub: UserId,
    /// The user's company.
    pub company_id: CompanyId,
    /// The role when the token was issued (authorization uses the stored role).
    pub role: Role,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issue time, seconds since the epoch.
    pub iat: i64,
    /// Unique token id.
    pub jti: String,
}

/// Issues and verifies access tokens with one secret.
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl AccessTokens {
    /// Tokens signed with `secret`, valid for `ttl`.
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    /// How long issued tokens are valid.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A signed token for the user, and its claims.
    pub fn issue(
        &self,
        user: UserId,
        company_id: CompanyId,
        role: Role,
    ) -> Result<(String, AccessClaims), AuthError> {
        let now = Utc::now();
        let claims = AccessClaims {
            sub: user,
            company_id,
            role,
            iat: now.timestamp(),
            exp: (now + self.ttl).timestamp(),
            jti: Uuid::now_v7().to_string(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AuthError::Hashing(e.to_string()))?;
        Ok((token, claims))
    }

    /// The claims of a valid token; `TokenExpired` for an expired one, `InvalidToken` otherwise.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, AuthError> {
        match jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation) {
            Ok(data) => Ok(data.claims),
            Err(e) if matches!(e.kind(), ErrorKind::ExpiredSignature) => Err(AuthError::TokenExpired),
            Err(_) => Err(AuthError::InvalidToken),
        }
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

    use super::*;

    const SECRET: &[u8] = b"unit-test-secret-unit-test-secret-0123";

    fn tokens(ttl: Duration) -> AccessTokens {
        AccessTokens::new(SECRET, ttl)
    }

    #[test]
    fn round_trip_keeps_every_claim() {
        let t = tokens(Duration::minutes(15));
        let (user, company) = (UserId::new(), CompanyId::new());
        let (token, issued) = t.issue(user, company, Role::Admin).unwrap();
        let verified = t.verify(&token).unwrap();
        assert_eq!(verified, issued);
        assert_eq!((verified.sub, verified.company_id, verified.role), (user, company, Role::Admin));
        assert_eq!(verified.exp - verified.iat, 900);
        assert!(Uuid::parse_str(&verified.jti).is_ok());
    }

    #[test]
    fn expired_tokens_say_so() {
        let (token, _) =
            tokens(Duration::seconds(-1)).issue(UserId::new(), CompanyId::new(), Role::Agent).unwrap();
        assert!(matches!(tokens(Duration::minutes(15)).verify(&token), Err(AuthError::TokenExpired)));
    }

    #[test]
    fn forged_tokens_are_invalid() {
        let t = tokens(Duration::minutes(15));
        let (token, claims) = t.issue(UserId::new(), CompanyId::new(), Role::Agent).unwrap();

        let other = AccessTokens::new(b"another-secret-another-secret-0123456", Duration::minutes(15));
        assert!(matches!(other.verify(&token), Err(AuthError::InvalidToken)));

        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut payload: serde_json::Value = serde_json::from_slice(&B64.decode(&parts[1]).unwrap()).unwrap();
        payload["role"] = "owner".into();
        parts[1] = B64.encode(payload.to_string());
        assert!(matches!(t.verify(&parts.join(".")), Err(AuthError::InvalidToken)));

        let none = format!(
            "{}.{}.",
            B64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            B64.encode(serde_json::to_string(&claims).unwrap())
        );
        assert!(matches!(t.verify(&none), Err(AuthError::InvalidToken)));

        let hs512 =
            jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims, &EncodingKey::from_secret(SECRET))
                .unwrap();
        assert!(matches!(t.verify(&hs512), Err(AuthError::InvalidToken)));

        assert!(matches!(t.verify("not.a.token"), Err(AuthError::InvalidToken)));
        assert!(matches!(t.verify(""), Err(AuthError::InvalidToken)));
    }
}
