//! `/v1/apps` and `/v1/keys`: SDK integrations and their API keys. Agents may list apps; everything
//! about keys is for admins and owners.

use actix_web::{HttpResponse, web};
use tidings_auth::{AppInput, AppPatchInput, KeyInput};
use tidings_domain::{ApiKeyId, AppId};

use crate::caller::{Admin, Staff};
use crate::envelope::ErrorEnvelope;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::paging::{self, IdPageParams};
use crate::state::AppState;
use crate::views::{ApiKeyView, AppView, IdentitySecretView, IssuedKeyView, List};

/// Lists the company's apps, oldest first.
#[utoipa::path(
    get, path = "/v1/apps", tag = "apps", operation_id = "list_apps",
    params(IdPageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of apps", body = List<AppView>)),
)]
pub async fn list(
    state: web::Data<AppState>,
    staff: Staff,
    params: Query<IdPageParams>,
) -> Result<HttpResponse, ApiError> {
    let (after, limit) = params.parse()?;
    let apps = state.app_keys.list_apps(&staff.principal, after, limit).await?;
    let next = paging::next_cursor(&apps, limit, |a| paging::id_cursor(a.id));
    Ok(HttpResponse::Ok().json(List::<AppView>::of(apps, next)))
}

/// Creates an app, an SDK integration (admins and owners).
#[utoipa::path(
    post, path = "/v1/apps", tag = "apps", operation_id = "create_app",
    request_body(content = AppInput, example = json!({"name": "Website"})),
    security(("bearer" = [])),
    responses((status = 201, description = "The app", body = AppView)),
)]
pub async fn create(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    input: Json<AppInput>,
) -> Result<HttpResponse, ApiError> {
    let app = state.app_keys.create_app(&staff.principal, input.into_inner()).await?;
    Ok(HttpResponse::Created().json(AppView::from(app)))
}

/// Changes an app's settings (admins and owners).
#[utoipa::path(
    patch, path = "/v1/apps/{id}", tag = "apps", operation_id = "update_app",
    params(("id" = AppId, Path, description = "The app")),
    request_body(content = AppPatchInput, example = json!({"identity_verification": "required"})),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The app", body = AppView),
        (status = 409, description = "`CONFLICT`: verification required before an identity secret exists", body = ErrorEnvelope),
    ),
)]
pub async fn update(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<AppId>,
    input: Json<AppPatchInput>,
) -> Result<HttpResponse, ApiError> {
    let app = state.app_keys.update_app(&staff.principal, id.into_inner(), input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(AppView::from(app)))
}

/// Issues a new identity secret for the app, replacing the previous one at once (admins and owners).
///
/// The company's backend signs user ids with it (`user_hash` of `POST /v1/identify`); it is shown
/// this once.
#[utoipa::path(
    post, path = "/v1/apps/{id}/identity_secret", tag = "apps", operation_id = "issue_identity_secret",
    params(("id" = AppId, Path, description = "The app")),
    security(("bearer" = [])),
    responses((status = 201, description = "The new secret", body = IdentitySecretView)),
)]
pub async fn issue_identity_secret(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<AppId>,
) -> Result<HttpResponse, ApiError> {
    let issued = state.app_keys.issue_identity_secret(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::Created().json(IdentitySecretView::from(issued)))
}

/// Lists an app's API keys, oldest first, never the keys themselves (admins and owners).
#[utoipa::path(
    get, path = "/v1/apps/{id}/keys", tag = "apps", operation_id = "list_keys",
    params(("id" = AppId, Path, description = "The app"), IdPageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of keys", body = List<ApiKeyView>)),
)]
pub async fn list_keys(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<AppId>,
    params: Query<IdPageParams>,
) -> Result<HttpResponse, ApiError> {
    let (after, limit) = params.parse()?;
    let keys = state.app_keys.list_keys(&staff.principal, id.into_inner(), after, limit).await?;
    let next = paging::next_cursor(&keys, limit, |k| paging::id_cursor(k.id));
    Ok(HttpResponse::Ok().json(List::<ApiKeyView>::of(keys, next)))
}

/// Issues an API key for the app: a client key for SDKs or a server key for services (admins and
/// owners). The key is shown this once.
#[utoipa::path(
    post, path = "/v1/apps/{id}/keys", tag = "apps", operation_id = "create_key",
    params(("id" = AppId, Path, description = "The app")),
    request_body(content = KeyInput, example = json!({"kind": "client"})),
    security(("bearer" = [])),
    responses((status = 201, description = "The key, whole, shown this once", body = IssuedKeyView)),
)]
pub async fn create_key(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<AppId>,
    input: Json<KeyInput>,
) -> Result<HttpResponse, ApiError> {
    let issued = state.app_keys.create_key(&staff.principal, id.into_inner(), input.into_inner()).await?;
    Ok(HttpResponse::Created().json(IssuedKeyView::from(issued)))
}

/// Replaces a key with a new one; the old one keeps working for 24 hours (admins and owners).
#[utoipa::path(
    post, path = "/v1/keys/{id}/rotate", tag = "apps", operation_id = "rotate_key",
    params(("id" = ApiKeyId, Path, description = "The key")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new key, whole, shown this once", body = IssuedKeyView),
        (status = 409, description = "`CONFLICT`: the key is revoked or expired; create a new one", body = ErrorEnvelope),
    ),
)]
pub async fn rotate_key(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<ApiKeyId>,
) -> Result<HttpResponse, ApiError> {
    let issued = state.app_keys.rotate_key(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::Created().json(IssuedKeyView::from(issued)))
}

/// Revokes a key: it is refused from now on (admins and owners).
#[utoipa::path(
    delete, path = "/v1/keys/{id}", tag = "apps", operation_id = "revoke_key",
    params(("id" = ApiKeyId, Path, description = "The key")),
    security(("bearer" = [])),
    responses((status = 204, description = "Revoked")),
)]
pub async fn revoke_key(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<ApiKeyId>,
) -> Result<HttpResponse, ApiError> {
    state.app_keys.revoke_key(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
