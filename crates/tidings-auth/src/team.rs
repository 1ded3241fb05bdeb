//! The team of a company: who may add, promote, demote and remove whom. A member added is sent an
//! invitation e-mail with a link to choose a password (needed to log in when none was given).
//!
//! The API's role guard lets only admins and owners in; the rules here are finer: nobody acts on a
//! user ranked above them or grants a role above their own, and nobody changes or removes
//! themselves. A company always keeps an owner: the store refuses, atomically, the change that would
//! take away the last one (two owners demoting each other at once both pass the checks here).

use std::sync::Arc;

use garde::Validate;
use serde_json::json;
use tidings_domain::{
    Audit, AuditAction, AuditEvent, IdentityRepos, NewUser, RepoError, Revocations, User, UserId,
};

use crate::error::AuthError;
use crate::input::{NewMemberInput, RoleInput};
use crate::password::UNUSABLE_PASSWORD;
use crate::password_reset::PasswordResets;
use crate::passwords::Passwords;
use crate::settings::AuthSettings;
use tidings_domain::Principal;

/// Team management within the caller's company.
#[derive(Clone)]
pub struct Team {
    repos: Arc<dyn IdentityRepos>,
    passwords: Passwords,
    revocations: Arc<dyn Revocations>,
    invitations: PasswordResets,
    audit: Audit,
}

impl Team {
    /// Builds the service over `repos`; `revocations` hears of removed and re-roled users, and
    /// `invitations` sends new members their invitation.
    pub fn new(
        repos: Arc<dyn IdentityRepos>,
        settings: &AuthSettings,
        revocations: Arc<dyn Revocations>,
        invitations: PasswordResets,
    ) -> Self {
        Self {
            repos,
            passwords: Passwords::new(settings.bcrypt_cost),
            revocations,
            invitations,
            audit: Audit::default(),
        }
    }

    /// Records additions, role changes and removals in `audit`.
    pub fn with_audit(mut self, audit: Audit) -> Self {
        self.audit = audit;
        self
    }

    /// A page of at most `limit` of the caller's colleagues, oldest first, after the user `after`.
    pub async fn list(
        &self,
        actor: &Principal,
        after: Option<UserId>,
        limit: i64,
    ) -> Result<Vec<User>, AuthError> {
        Ok(self.repos.list_users(actor.company_id, after, limit).await?)
    }

    /// One colleague.
    pub async fn get(&self, actor: &Principal, id: UserId) -> Result<User, AuthError> {
        Ok(self.repos.get_user(actor.company_id, id).await?)
    }

    /// Adds a user to the caller's company and enqueues their invitation. Without a password the
    /// account cannot log in until its link is used.
    pub async fn add(&self, actor: &Principal, input: NewMemberInput) -> Result<User, AuthError> {
        input.validate()?;
        if input.role > actor.role {
            return Err(AuthError::Forbidden("cannot grant a role above your own"));
        }
        let has_password = input.password.is_some();
        let password_hash = match input.password {
            Some(password) => self.passwords.hash(password).await?,
            None => UNUSABLE_PASSWORD.to_owned(),
        };
        let new = NewUser {
            company_id: actor.company_id,
            email: input.email,
            name: input.name.trim().to_owned(),
            password_hash,
            role: input.role,
        };
        // The member and their invitation commit together.
        let unit = self.repos.begin().await?;
        let user = unit.create_user(new).await.map_err(|e| {
            if e.is_conflict() { AuthError::Conflict("this e-mail is already registered") } else { e.into() }
        })?;
        self.invitations.invite(&*unit, actor, &user, has_password).await?;
        unit.commit().await?;
        let event = AuditEvent::new(actor.company_id, AuditAction::UserAdded, actor)
            .target("user", user.id)
            .detail(json!({ "role": user.role }));
        self.audit.record(event).await;
        Ok(user)
    }

    /// Changes a colleague's role.
    pub async fn set_role(&self, actor: &Principal, id: UserId, input: RoleInput) -> Result<User, AuthError> {
        input.validate()?;
        let target = self.acted_on(actor, id).await?;
        if input.role > actor.role {
            return Err(AuthError::Forbidden("cannot grant a role above your own"));
        }
        let user =
            self.repos.set_user_role(actor.company_id, target.id, input.role).await.map_err(last_owner)?;
        self.revocations.withdrawn(actor.company_id);
        let event = AuditEvent::new(actor.company_id, AuditAction::RoleChanged, actor)
            .target("user", user.id)
            .detail(json!({ "role": user.role, "was": target.role }));
        self.audit.record(event).await;
        Ok(user)
    }

    /// Removes a colleague.
    pub async fn remove(&self, actor: &Principal, id: UserId) -> Result<(), AuthError> {
        let target = self.acted_on(actor, id).await?;
        self.repos.delete_user(actor.company_id, target.id).await.map_err(last_owner)?;
        self.revocations.withdrawn(actor.company_id);
        let event = AuditEvent::new(actor.company_id, AuditAction::UserRemoved, actor)
            .target("user", target.id)
            .detail(json!({ "role": target.role }));
        self.audit.record(event).await;
        Ok(())
    }

    /// Loads the user an action targets and checks the actor ranks at least as high.
    async fn acted_on(&self, actor: &Principal, id: UserId) -> Result<User, AuthError> {
        let target = self.repos.get_user(actor.company_id, id).await?;
        if target.id == actor.user_id {
            return Err(AuthError::Forbidden("cannot change or remove yourself"));
        }
        if target.role > actor.role {
            return Err(AuthError::Forbidden("cannot act on a user ranked above you"));
        }
        Ok(target)
    }
}

/// The store's only conflict on a role change or removal: the company would be left without an owner.
fn last_owner(err: RepoError) -> AuthError {
    if err.is_conflict() { AuthError::Conflict("a company must keep at least one owner") } else { err.into() }
}
