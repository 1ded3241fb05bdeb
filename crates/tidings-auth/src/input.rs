//! Inputs of the identity services, with their validation rules (garde). The services validate them,
//! so an embedding program gets the same rules as HTTP callers. Unknown fields are refused, so that a
//! misspelt or unsupported field (`"role"` at registration) is an error rather than silently ignored.

use chrono::{DateTime, Utc};
use garde::Validate;
use serde::Deserialize;
use tidings_domain::{IdentityVerification, KeyKind, Role};
use utoipa::ToSchema;

/// Rejects names that are only whitespace.
fn not_blank(value: &str, _ctx: &()) -> garde::Result {
    if value.trim().is_empty() { Err(garde::Error::new("must not be blank")) } else { Ok(()) }
}

/// `POST /v1/auth/register`: a new company and its owner.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterInput {
    /// Name of the new company.
    #[garde(length(chars, min = 1, max = 200), custom(not_blank))]
    #[schema(min_length = 1, max_length = 200, example = "Acme")]
    pub company_name: String,
    /// The owner's display name.
    #[garde(length(chars, min = 1, max = 200), custom(not_blank))]
    #[schema(min_length = 1, max_length = 200, example = "Ada Lovelace")]
    pub name: String,
    /// The owner's login e-mail.
    #[garde(email, length(max = 254))]
    #[schema(format = Email, max_length = 254, example = "ada@acme.test")]
    pub email: String,
    /// The owner's password, 10 to 128 characters.
    #[garde(length(chars, min = 10, max = 128))]
    #[schema(format = Password, min_length = 10, max_length = 128, example = "correct horse battery")]
    pub password: String,
}

/// `POST /v1/auth/login`.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    /// Login e-mail.
    #[garde(email, length(max = 254))]
    #[schema(format = Email, max_length = 254, example = "ada@acme.test")]
    pub email: String,
    /// Password; its length is not checked here so a login says nothing about the policy.
    #[garde(length(chars, min = 1, max = 128))]
    #[schema(format = Password, min_length = 1, max_length = 128, example = "correct horse battery")]
    pub password: String,
}

/// `POST /v1/auth/refresh` and `POST /v1/auth/logout`.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshInput {
    /// The refresh token from the last login or refresh.
    #[garde(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512, example = "tdr_…")]
    pub refresh_token: String,
}

/// `POST /v1/auth/password-reset`: asks for a link to choose a new password.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetInput {
    /// The account's login e-mail.
    #[garde(email, length(max = 254))]
    #[schema(format = Email, max_length = 254, example = "ada@acme.test")]
    pub email: String,
}

/// `POST /v1/auth/password-reset/confirm`: the token of the link and the new password.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirmInput {
    /// The token of the link (`tdp_…`).
    #[garde(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512, example = "tdp_…")]
    pub token: String,
    /// The new password, 10 to 128 characters (the policy of registration).
    #[garde(length(chars, min = 10, max = 128))]
    #[schema(format = Password, min_length = 10, max_length = 128, example = "a brand new one")]
    pub password: String,
}

/// `POST /v1/users`: a new member of the caller's company.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMemberInput {
    /// Login e-mail.
    #[garde(email, length(max = 254))]
    #[schema(format = Email, max_length = 254, example = "bob@acme.test")]
    pub email: String,
    /// Display name.
    #[garde(length(chars, min = 1, max = 200), custom(not_blank))]
    #[schema(min_length = 1, max_length = 200, example = "Bob")]
    pub name: String,
    /// Initial password, 10 to 128 characters; without one, the member chooses theirs with the link
    /// of the invitation e-mail before they can log in.
    #[garde(length(chars, min = 10, max = 128))]
    #[schema(format = Password, min_length = 10, max_length = 128)]
    pub password: Option<String>,
    /// Role; at most the caller's own.
    #[garde(skip)]
    pub role: Role,
}

/// `PATCH /v1/users/{id}`.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    /// The new role; at most the caller's own.
    #[garde(skip)]
    pub role: Role,
}

/// `POST /v1/apps`.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppInput {
    /// Display name.
    #[garde(length(chars, min = 1, max = 200), custom(not_blank))]
    #[schema(min_length = 1, max_length = 200, example = "Website")]
    pub name: String,
}

/// `PATCH /v1/apps/{id}`: settings of an app.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppPatchInput {
    /// `optional` or `required`: whether every SDK identify must be signed.
    #[garde(skip)]
    pub identity_verification: Option<IdentityVerification>,
}

/// `POST /v1/apps/{id}/keys`.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyInput {
    /// Client key (SDKs) or server key (services).
    #[garde(skip)]
    pub kind: KeyKind,
    /// Optional expiry; must be in the future.
    #[garde(skip)]
    pub expires_at: Option<DateTime<Utc>>,
}
