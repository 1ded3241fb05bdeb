//! A store that makes concurrent requests meet in the worst order for the rule under test, instead
//! of leaving the order to chance: it holds calls back until the others a test expects have
//! arrived. Races become deterministic; everything else passes straight through to the real store.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tidings_api::AppState;
use tidings_auth::{Accounts, AuthSettings, Team};
use tidings_domain::{
    ApiKey, ApiKeyId, ApiKeyRepo, App, AppId, AppRepo, Company, CompanyId, CompanyRepo, FailedLogin,
    IdentityVerification, NewApiKey, NewApp, NewCompany, NewPasswordReset, NewRefreshToken, NewUser,
    NoRevocations, PasswordReset, PasswordResetRepo, RefreshToken, RefreshTokenId, RefreshTokenRepo,
    RepoResult, Role, Transaction, UnitOfWork, User, UserId, UserRepo,
};
use tidings_store::Store;
use tidings_store::test_db::TestDb;
use tokio::sync::{Barrier, watch};

use crate::support::state;

/// The order an [`Ordered`] store imposes.
#[derive(Clone, Copy, Debug)]
pub enum Schedule {
    /// A burst of logins: no failure is judged before `reads` logins have read the account, and no
    /// success before `failures` failures have been judged.
    Logins { reads: usize, failures: usize },
    /// Role changes and removals reach the store two at a time, together: each was checked by the
    /// service before the other changed anything.
    TeamChangesInPairs,
}

/// App state whose accounts and team services run over an [`Ordered`] store; the store is returned
/// too, for what it saw.
pub fn ordered_state(db: &TestDb, auth: AuthSettings, schedule: Schedule) -> (AppState, Arc<Ordered>) {
    let store = Arc::new(Ordered::new(db.store().clone(), schedule));
    let mut app_state = state(db, auth.clone());
    let invitations = app_state.password_resets.clone();
    app_state.team = Team::new(store.clone(), &auth, Arc::new(NoRevocations), invitations);
    app_state.accounts = Accounts::new(store.clone(), auth);
    (app_state, store)
}

/// The store, with calls held back according to a [`Schedule`].
pub struct Ordered {
    store: Store,
    schedule: Schedule,
    read: watch::Sender<usize>,
    judged: watch::Sender<usize>,
    pairs: Barrier,
    /// What each judged failure did, in the order they were judged.
    pub failures: Mutex<Vec<FailedLogin>>,
}

impl Ordered {
    fn new(store: Store, schedule: Schedule) -> Self {
        Self {
            store,
            schedule,
            read: watch::channel(0).0,
            judged: watch::channel(0).0,
            pairs: Barrier::new(2),
            failures: Mutex::new(Vec::new()),
        }
    }

    async fn before_failure(&self) {
        if let Schedule::Logins { reads, .. } = self.schedule {
            within_a_while(reached(&self.read, reads)).await;
        }
    }

    async fn before_success(&self) {
        if let Schedule::Logins { failures, .. } = self.schedule {
            within_a_while(reached(&self.judged, failures)).await;
        }
    }

    async fn before_team_change(&self) {
        if let Schedule::TeamChangesInPairs = self.schedule {
            within_a_while(self.pairs.wait()).await;
        }
    }
}

/// Waits until the count behind `counter` reaches `at_least`.
async fn reached(counter: &watch::Sender<usize>, at_least: usize) {
    let mut counter = counter.subscribe();
    counter.wait_for(|n| *n >= at_least).await.expect("the sender lives as long as the store");
}

/// A request that failed before getting where the schedule expects it would leave the others
/// waiting for ever: give up after a while instead.
async fn within_a_while<T>(waiting: impl Future<Output = T>) {
    if tokio::time::timeout(Duration::from_secs(30), waiting).await.is_err() {
        panic!("the schedule was never met: a request failed early");
    }
}

#[async_trait]
impl UserRepo for Ordered {
    async fn find_user_by_email(&self, email: &str) -> RepoResult<Option<User>> {
        let found = self.store.find_user_by_email(email).await;
        self.read.send_modify(|n| *n += 1);
        found
    }

    async fn record_failed_login(
        &self,
        id: UserId,
        now: DateTime<Utc>,
        max_failures: i32,
        lock_until: DateTime<Utc>,
    ) -> RepoResult<FailedLogin> {
        self.before_failure().await;
        let outcome = self.store.record_failed_login(id, now, max_failures, lock_until).await?;
        self.failures.lock().unwrap().push(outcome);
        self.judged.send_modify(|n| *n += 1);
        Ok(outcome)
    }

    async fn record_successful_login(&self, id: UserId, now: DateTime<Utc>) -> RepoResult<bool> {
        self.before_success().await;
        self.store.record_successful_login(id, now).await
    }

    async fn create_user(&self, new: NewUser) -> RepoResult<User> {
        self.store.create_user(new).await
    }

    async fn get_user(&self, company_id: CompanyId, id: UserId) -> RepoResult<User> {
        self.store.get_user(company_id, id).await
    }

    async fn list_users(
        &self,
        company_id: CompanyId,
        after: Option<UserId>,
        limit: i64,
    ) -> RepoResult<Vec<User>> {
        self.store.list_users(company_id, after, limit).await
    }

    async fn set_user_role(&self, company_id: CompanyId, id: UserId, role: Role) -> RepoResult<User> {
        self.before_team_change().await;
        self.store.set_user_role(company_id, id, role).await
    }

    async fn delete_user(&self, company_id: CompanyId, id: UserId) -> RepoResult<()> {
        self.before_team_change().await;
        self.store.delete_user(company_id, id).await
    }

    async fn set_password(&self, company_id: CompanyId, id: UserId, password_hash: String) -> RepoResult<()> {
        self.store.set_password(company_id, id, password_hash).await
    }
}

#[async_trait]
impl CompanyRepo for Ordered {
    async fn create_company(&self, new: NewCompany) -> RepoResult<Company> {
        self.store.create_company(new).await
    }

    async fn create_company_with_owner(
        &self,
        new: NewCompany,
        owner: NewUser,
    ) -> RepoResult<(Company, User)> {
        self.store.create_company_with_owner(new, owner).await
    }

    async fn get_company(&self, id: CompanyId) -> RepoResult<Company> {
        self.store.get_company(id).await
    }

    async fn companies_with_setting(&self, key: &str) -> RepoResult<Vec<Company>> {
        self.store.companies_with_setting(key).await
    }

    async fn any_company(&self) -> RepoResult<bool> {
        self.store.any_company().await
    }

    async fn put_company_setting(
        &self,
        id: CompanyId,
        key: &str,
        value: serde_json::Value,
    ) -> RepoResult<Company> {
        self.store.put_company_setting(id, key, value).await
    }
}

#[async_trait]
impl RefreshTokenRepo for Ordered {
    async fn insert_refresh_token(&self, new: NewRefreshToken) -> RepoResult<RefreshTokenId> {
        self.store.insert_refresh_token(new).await
    }

    async fn find_refresh_token(&self, token_hash: &str) -> RepoResult<Option<RefreshToken>> {
        self.store.find_refresh_token(token_hash).await
    }

    async fn rotate_refresh_token(
        &self,
        old: RefreshTokenId,
        new: NewRefreshToken,
        now: DateTime<Utc>,
    ) -> RepoResult<Option<RefreshTokenId>> {
        self.store.rotate_refresh_token(old, new, now).await
    }

    async fn revoke_refresh_family(&self, family_id: RefreshTokenId, now: DateTime<Utc>) -> RepoResult<()> {
        self.store.revoke_refresh_family(family_id, now).await
    }

    async fn revoke_user_refresh_tokens(&self, user_id: UserId, now: DateTime<Utc>) -> RepoResult<()> {
        self.store.revoke_user_refresh_tokens(user_id, now).await
    }
}

#[async_trait]
impl PasswordResetRepo for Ordered {
    async fn insert_password_reset(&self, new: NewPasswordReset) -> RepoResult<PasswordReset> {
        self.store.insert_password_reset(new).await
    }

    async fn find_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> RepoResult<Option<PasswordReset>> {
        self.store.find_password_reset(token_hash, now).await
    }

    async fn spend_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> RepoResult<Option<PasswordReset>> {
        self.store.spend_password_reset(token_hash, now).await
    }
}

#[async_trait]
impl AppRepo for Ordered {
    async fn create_app(&self, new: NewApp) -> RepoResult<App> {
        self.store.create_app(new).await
    }

    async fn get_app(&self, company_id: CompanyId, id: AppId) -> RepoResult<App> {
        self.store.get_app(company_id, id).await
    }

    async fn list_apps(
        &self,
        company_id: CompanyId,
        after: Option<AppId>,
        limit: i64,
    ) -> RepoResult<Vec<App>> {
        self.store.list_apps(company_id, after, limit).await
    }

    async fn set_identity_secret(&self, company_id: CompanyId, id: AppId, sealed: String) -> RepoResult<App> {
        self.store.set_identity_secret(company_id, id, sealed).await
    }

    async fn identity_secret(&self, company_id: CompanyId, id: AppId) -> RepoResult<Option<String>> {
        self.store.identity_secret(company_id, id).await
    }

    async fn set_identity_verification(
        &self,
        company_id: CompanyId,
        id: AppId,
        mode: IdentityVerification,
    ) -> RepoResult<App> {
        self.store.set_identity_verification(company_id, id, mode).await
    }
}

#[async_trait]
impl ApiKeyRepo for Ordered {
    async fn create_api_key(&self, new: NewApiKey) -> RepoResult<ApiKey> {
        self.store.create_api_key(new).await
    }

    async fn get_api_key(&self, company_id: CompanyId, id: ApiKeyId) -> RepoResult<ApiKey> {
        self.store.get_api_key(company_id, id).await
    }

    async fn list_api_keys(
        &self,
        company_id: CompanyId,
        app_id: AppId,
        after: Option<ApiKeyId>,
        limit: i64,
    ) -> RepoResult<Vec<ApiKey>> {
        self.store.list_api_keys(company_id, app_id, after, limit).await
    }

    async fn find_api_key_by_prefix(&self, prefix: &str) -> RepoResult<Option<ApiKey>> {
        self.store.find_api_key_by_prefix(prefix).await
    }

    async fn revoke_api_key(
        &self,
        company_id: CompanyId,
        id: ApiKeyId,
        now: DateTime<Utc>,
    ) -> RepoResult<ApiKey> {
        self.store.revoke_api_key(company_id, id, now).await
    }

    async fn set_api_key_expiry(
        &self,
        company_id: CompanyId,
        id: ApiKeyId,
        expires_at: DateTime<Utc>,
    ) -> RepoResult<ApiKey> {
        self.store.set_api_key_expiry(company_id, id, expires_at).await
    }

    async fn touch_api_key(&self, id: ApiKeyId, now: DateTime<Utc>) -> RepoResult<()> {
        self.store.touch_api_key(id, now).await
    }
}

#[async_trait]
impl UnitOfWork for Ordered {
    async fn begin(&self) -> RepoResult<Box<dyn Transaction>> {
        UnitOfWork::begin(&self.store).await
    }
}
