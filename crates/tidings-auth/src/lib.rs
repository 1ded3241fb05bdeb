//! Tidings identity and access, free of HTTP: password hashing, access and refresh tokens, API keys,
//! lockout, and the services built on them (accounts, password resets, team with invitations, apps
//! and keys, authentication).
//!
//! The services reach the database only through the repository traits of `tidings-domain`.

mod access_token;
mod accounts;
mod api_key;
mod app_keys;
mod audit_log;
mod authenticate;
mod cipher;
mod error;
mod input;
mod lockout;
mod opaque_token;
mod password;
mod password_reset;
mod passwords;
mod recent_users;
mod settings;
mod team;

pub use access_token::{AccessClaims, AccessTokens};
pub use accounts::{Accounts, Session, TokenPair};
pub use api_key::{GeneratedKey, ParsedKey, generate_api_key, parse_api_key, verify_api_key};
pub use app_keys::{AppKeys, IssuedIdentitySecret, IssuedKey};
pub use audit_log::{AuditLog, AuditRecord};
pub use authenticate::Authenticator;
pub use cipher::{Cipher, KEY_LEN};
pub use error::AuthError;
pub use input::{
    AppInput, AppPatchInput, KeyInput, LoginInput, NewMemberInput, PasswordResetConfirmInput,
    PasswordResetInput, RefreshInput, RegisterInput, RoleInput,
};
pub use lockout::LockoutPolicy;
pub use opaque_token::{generate_password_reset_token, generate_refresh_token, hash_secret};
pub use password::{PasswordHasher, UNUSABLE_PASSWORD};
pub use password_reset::PasswordResets;
pub use passwords::Passwords;
pub use recent_users::{Forgetting, RECENT, RecentUsers, recent_users};
pub use settings::AuthSettings;
pub use team::Team;
pub use tidings_domain::{ClientPrincipal, Principal, ServicePrincipal};
