//! Password resets: a link to choose a new password, e-mailed to the account's address, and the
//! same link in the invitation of a member added to a team. A token is random (256 bits), stored as
//! its hash only, and works once: its use, the new password, the cleared lockout and the end of
//! every session of the user commit together.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use garde::Validate;
use tidings_domain::{
    AccountEmail, AccountMail, Audit, AuditAction, AuditActor, AuditEvent, IdentityRepos, NewPasswordReset,
    PasswordReset, Principal, Transaction, User,
};

use crate::error::AuthError;
use crate::input::{PasswordResetConfirmInput, PasswordResetInput};
use crate::opaque_token::{generate_password_reset_token, hash_secret};
use crate::passwords::Passwords;
use crate::settings::AuthSettings;

/// Who did not give a name when inviting (an account deleted meanwhile).
const SOMEONE: &str = "A colleague";

/// Password reset links and invitations.
#[derive(Clone)]
pub struct PasswordResets {
    repos: Arc<dyn IdentityRepos>,
    passwords: Passwords,
    mail: Arc<dyn AccountMail>,
    public_url: String,
    reset_ttl: Duration,
    invitation_ttl: Duration,
    audit: Audit,
}

impl PasswordResets {
    /// Builds the service over `repos`, e-mailing links through `mail`.
    pub fn new(repos: Arc<dyn IdentityRepos>, settings: &AuthSettings, mail: Arc<dyn AccountMail>) -> Self {
        Self {
            repos,
            passwords: Passwords::new(settings.bcrypt_cost),
            mail,
            public_url: settings.public_url.trim_end_matches('/').to_owned(),
            reset_ttl: settings.password_reset_ttl,
            invitation_ttl: settings.invitation_ttl,
            audit: Audit::default(),
        }
    }

    /// Records passwords set through a link in `audit`.
    pub fn with_audit(mut self, audit: Audit) -> Self {
        self.audit = audit;
        self
    }

    /// E-mails a link to choose a new password when `input.email` is an account's address; succeeds
    /// the same either way, so that the answer tells nobody whether the account exists.
    pub async fn request(&self, input: PasswordResetInput) -> Result<(), AuthError> {
        input.validate()?;
        // Drawn either way, so that an unknown address costs the same up to the lookup.
        let token = generate_password_reset_token();
        let Some(user) = self.repos.find_user_by_email(&input.email).await? else {
            return Ok(());
        };
        // The token and its e-mail commit together: no e-mail for a token that was not stored.
        let unit = self.repos.begin().await?;
        let (reset, link) = self.issue(&*unit, &user, token, self.reset_ttl).await?;
        let email = AccountEmail::PasswordReset { link, expires_at: reset.expires_at };
        self.mail.enqueue(&*unit, &user, key(&email, &reset), email).await?;
        unit.commit().await?;
        tracing::info!(user_id = %user.id, "password reset link sent");
        Ok(())
    }

    /// Sets the password of the token's user, once: every session of the user ends, and a lockout is
    /// lifted. An unknown, used or expired token changes nothing.
    pub async fn confirm(&self, input: PasswordResetConfirmInput) -> Result<(), AuthError> {
        input.validate()?;
        let now = Utc::now();
        let token_hash = hash_secret(&input.token);
        // A made-up token is refused before the password is hashed: it must not buy bcrypt's work.
        if self.repos.find_password_reset(&token_hash, now).await?.is_none() {
            return Err(AuthError::InvalidResetToken);
        }
        // Hashed before the token is spent, so that a failure here leaves the link working.
        let password_hash = self.passwords.hash(input.password).await?;
        let unit = self.repos.begin().await?;
        let Some(reset) = unit.spend_password_reset(&token_hash, now).await? else {
            return Err(AuthError::InvalidResetToken);
        };
        match unit.set_password(reset.company_id, reset.user_id, password_hash).await {
            Err(e) if e.is_not_found() => return Err(AuthError::InvalidResetToken),
            other => other?,
        }
        // A password reset is how an account someone else got into is taken back: their sessions
        // end with it (access tokens already issued live out their short lifetime).
        unit.revoke_user_refresh_tokens(reset.user_id, now).await?;
        unit.commit().await?;
        tracing::info!(user_id = %reset.user_id, "password reset");
        let user = AuditActor::User(reset.user_id);
        self.audit
            .record(
                AuditEvent::new(reset.company_id, AuditAction::PasswordReset, user)
                    .target("user", reset.user_id),
            )
            .await;
        Ok(())
    }

    /// Enqueues, in `unit` (the one that created `member`), the invitation of a member `inviter`
    /// added, with a link to choose a password; `has_password` tells whether they were given one.
    pub async fn invite(
        &self,
        unit: &dyn Transaction,
        inviter: &Principal,
        member: &User,
        has_password: bool,
    ) -> Result<(), AuthError> {
        let company = unit.get_company(member.company_id).await?;
        let invited_by = match unit.get_user(inviter.company_id, inviter.user_id).await {
            Ok(user) => user.name,
            Err(e) if e.is_not_found() => SOMEONE.to_owned(),
            Err(e) => return Err(e.into()),
        };
        let token = generate_password_reset_token();
        let (reset, link) = self.issue(unit, member, token, self.invitation_ttl).await?;
        let email = AccountEmail::Invitation {
            company_name: company.name,
            invited_by,
            role: member.role,
            has_password,
            link,
            expires_at: reset.expires_at,
        };
        self.mail.enqueue(unit, member, key(&email, &reset), email).await?;
        Ok(())
    }

    /// Stores the hash of `token` for `user`, valid for `ttl`; returns it with the link carrying it.
    async fn issue(
        &self,
        unit: &dyn Transaction,
        user: &User,
        token: String,
        ttl: Duration,
    ) -> Result<(PasswordReset, String), AuthError> {
        let expires_at: DateTime<Utc> = Utc::now() + ttl;
        let new = NewPasswordReset {
            company_id: user.company_id,
            user_id: user.id,
            token_hash: hash_secret(&token),
            expires_at,
        };
        let reset = unit.insert_password_reset(new).await?;
        // The token is URL-safe base64 with a `tdp_` prefix: nothing to escape.
        let link = format!("{}/reset-password?token={token}", self.public_url);
        Ok((reset, link))
    }
}

/// The e-mail's idempotency key: one e-mail per token.
fn key(email: &AccountEmail, reset: &PasswordReset) -> String {
    format!("{}:{}", email.name(), reset.id)
}
