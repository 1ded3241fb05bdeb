//! Accounts: registration, login with lockout, refresh-token rotation with reuse detection, logout.

use std::sync::Arc;

use chrono::Utc;
use garde::Validate;
use tidings_domain::{
    Audit, AuditAction, AuditActor, AuditEvent, Company, FailedLogin, IdentityRepos, NewCompany,
    NewRefreshToken, NewUser, RefreshTokenId, Role, User,
};

use crate::access_token::AccessTokens;
use crate::error::AuthError;
use crate::input::{LoginInput, RefreshInput, RegisterInput};
use crate::opaque_token::{generate_refresh_token, hash_secret};
use crate::passwords::Passwords;
use crate::settings::AuthSettings;
use tidings_domain::Principal;

/// A fresh access token and refresh token.
#[derive(Clone, Debug)]
pub struct TokenPair {
    /// JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Opaque token for `POST /v1/auth/refresh`; shown once.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// A logged-in user with their company and tokens.
#[derive(Clone, Debug)]
pub struct Session {
    /// The user.
    pub user: User,
    /// The user's company.
    pub company: Company,
    /// The tokens.
    pub tokens: TokenPair,
}

/// Registration, login, refresh and logout.
#[derive(Clone)]
pub struct Accounts {
    repos: Arc<dyn IdentityRepos>,
    passwords: Passwords,
    tokens: AccessTokens,
    settings: AuthSettings,
    audit: Audit,
}

impl Accounts {
    /// Builds the service over `repos`.
    pub fn new(repos: Arc<dyn IdentityRepos>, settings: AuthSettings) -> Self {
        Self {
            passwords: Passwords::new(settings.bcrypt_cost),
            tokens: AccessTokens::new(&settings.jwt_secret, settings.access_ttl),
            repos,
            settings,
            audit: Audit::default(),
        }
    }

    /// Records logins, failed logins and lockouts in `audit`.
    pub fn with_audit(mut self, audit: Audit) -> Self {
        self.audit = audit;
        self
    }

    /// Creates a company and its owner, and logs the owner in.
    pub async fn register(&self, input: RegisterInput) -> Result<Session, AuthError> {
        input.validate()?;
        let password_hash = self.passwords.hash(input.password).await?;
        let owner = NewUser {
            company_id: Default::default(),
            email: input.email,
            name: input.name.trim().to_owned(),
            password_hash,
            role: Role::Owner,
        };
        let company = NewCompany { name: input.company_name.trim().to_owned() };
        // The company, its owner and the owner's first session commit together.
        let unit = self.repos.begin().await?;
        let (company, user) = unit.create_company_with_owner(company, owner).await.map_err(|e| {
            if e.is_conflict() { AuthError::Conflict("this e-mail is already registered") } else { e.into() }
        })?;
        let (new, tokens) = self.issue(&user, RefreshTokenId::new())?;
        unit.insert_refresh_token(new).await?;
        unit.commit().await?;
        Ok(Session { user, company, tokens })
    }

    /// Checks e-mail and password. Unknown e-mail, wrong password and locked account get the same
    /// answer after the same bcrypt work, so the response reveals nothing about the account.
    pub async fn login(&self, input: LoginInput) -> Result<Session, AuthError> {
        input.validate()?;
        let Some(mut user) = self.repos.find_user_by_email(&input.email).await? else {
            self.passwords.verify_dummy(input.password).await;
            return Err(AuthError::InvalidCredentials);
        };
        let password_ok = self.passwords.verify(input.password, user.password_hash.clone()).await;
        // The lock is judged by the store after bcrypt, atomically with counting the failure or
        // clearing the count, never from the row read above: every guess sent together would have
        // read the account unlocked, and would be judged after the lock fell.
        let now = Utc::now();
        let lockout = &self.settings.lockout;
        if !password_ok {
            let outcome = self
                .repos
                .record_failed_login(user.id, now, lockout.limit(), lockout.lock_until(now))
                .await?;
            let account = AuditActor::User(user.id);
            let reason = if outcome == FailedLogin::AlreadyLocked { "locked" } else { "password" };
            let failed = AuditEvent::new(user.company_id, AuditAction::LoginFailed, account)
                .target("user", user.id)
                .detail(serde_json::json!({ "reason": reason }));
            self.audit.record(failed).await;
            if outcome == FailedLogin::Locked {
                tracing::warn!(user_id = %user.id, "account locked after repeated failed logins");
                let locked = AuditEvent::new(user.company_id, AuditAction::AccountLocked, account)
                    .target("user", user.id)
                    .detail(serde_json::json!({ "locked_until": lockout.lock_until(now) }));
                self.audit.record(locked).await;
            }
            return Err(AuthError::InvalidCredentials);
        }
        if !self.repos.record_successful_login(user.id, now).await? {
            // The password was right but the account is locked.
            let refused =
                AuditEvent::new(user.company_id, AuditAction::LoginFailed, AuditActor::User(user.id))
                    .target("user", user.id)
                    .detail(serde_json::json!({ "reason": "locked" }));
            self.audit.record(refused).await;
            return Err(AuthError::InvalidCredentials);
        }
        let succeeded =
            AuditEvent::new(user.company_id, AuditAction::LoginSucceeded, AuditActor::User(user.id))
                .target("user", user.id);
        self.audit.record(succeeded).await;
        // What the store now holds for the user.
        (user.failed_logins, user.locked_until) = (0, None);
        let company = self.repos.get_company(user.company_id).await?;
        let tokens = self.start_session(&user).await?;
        Ok(Session { user, company, tokens })
    }

    /// Trades a refresh token for a new pair. A token that was already spent means it leaked:
    /// its whole family is revoked and the caller must log in again.
    pub async fn refresh(&self, input: RefreshInput) -> Result<TokenPair, AuthError> {
        input.validate()?;
        let now = Utc::now();
        let Some(stored) = self.repos.find_refresh_token(&hash_secret(&input.refresh_token)).await? else {
            return Err(AuthError::InvalidRefreshToken);
        };
        if stored.revoked_at.is_some() || stored.replaced_by.is_some() {
            self.revoke_family_after_reuse(stored.family_id).await?;
            return Err(AuthError::InvalidRefreshToken);
        }
        if stored.expires_at <= now {
            return Err(AuthError::InvalidRefreshToken);
        }
        let user = match self.repos.get_user(stored.company_id, stored.user_id).await {
            Ok(user) => user,
            Err(e) if e.is_not_found() => return Err(AuthError::InvalidRefreshToken),
            Err(e) => return Err(e.into()),
        };
        let (new, pair) = self.issue(&user, stored.family_id)?;
        match self.repos.rotate_refresh_token(stored.id, new, now).await? {
            Some(_) => Ok(pair),
            // Another request spent the same token first: that is reuse too.
            None => {
                self.revoke_family_after_reuse(stored.family_id).await?;
                Err(AuthError::InvalidRefreshToken)
            }
        }
    }

    /// Ends the session the refresh token belongs to. Unknown tokens are accepted silently.
    pub async fn logout(&self, input: RefreshInput) -> Result<(), AuthError> {
        input.validate()?;
        if let Some(stored) = self.repos.find_refresh_token(&hash_secret(&input.refresh_token)).await? {
            self.repos.revoke_refresh_family(stored.family_id, Utc::now()).await?;
        }
        Ok(())
    }

    /// Whether no company exists yet, so that the server's setup page may create the first one.
    pub async fn setup_needed(&self) -> Result<bool, AuthError> {
        Ok(!self.repos.any_company().await?)
    }

    /// How long a refresh token lives, for a cookie that carries one to expire with it.
    pub fn refresh_ttl(&self) -> chrono::Duration {
        self.settings.refresh_ttl
    }

    /// The caller's user and company.
    pub async fn me(&self, principal: &Principal) -> Result<(User, Company), AuthError> {
        let user = self.repos.get_user(principal.company_id, principal.user_id).await?;
        let company = self.repos.get_company(principal.company_id).await?;
        Ok((user, company))
    }

    async fn start_session(&self, user: &User) -> Result<TokenPair, AuthError> {
        let (new, pair) = self.issue(user, RefreshTokenId::new())?;
        self.repos.insert_refresh_token(new).await?;
        Ok(pair)
    }

    fn issue(
        &self,
        user: &User,
        family_id: RefreshTokenId,
    ) -> Result<(NewRefreshToken, TokenPair), AuthError> {
        let (access_token, _) = self.tokens.issue(user.id, user.company_id, user.role)?;
        let refresh_token = generate_refresh_token();
        let new = NewRefreshToken {
            company_id: user.company_id,
            user_id: user.id,
            family_id,
            token_hash: hash_secret(&refresh_token),
            expires_at: Utc::now() + self.settings.refresh_ttl,
        };
        let expires_in = self.settings.access_ttl.num_seconds();
        Ok((new, TokenPair { access_token, refresh_token, expires_in }))
    }

    async fn revoke_family_after_reuse(&self, family_id: RefreshTokenId) -> Result<(), AuthError> {
        tracing::warn!(%family_id, "spent refresh token presented again; revoking its family");
        self.repos.revoke_refresh_family(family_id, Utc::now()).await?;
        Ok(())
    }
}
