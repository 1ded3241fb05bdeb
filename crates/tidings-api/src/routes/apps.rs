//! `/v1/apps` and `/v1/keys`: SDK integrations and their API keys. Agents may list apps; everything
//! about keys is for admins and owners.

use actix_web::{HttpResponse, web};
use tidings_auth::{AppInput, AppPatchInput, KeyInput};
use tidings_domain::{ApiKeyId, AppId};

use crate::caller::{Admin, Staff};
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::paging::{self, IdPageParams};
use crate::state::AppState;
use crate::views::{ApiKeyView, AppView, IdentitySecretView, IssuedKeyView, List};

/// `GET /v1/apps?limit=&cursor=`: oldest first.
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

/// `POST /v1/apps`
pub async fn create(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    input: Json<AppInput>,
) -> Result<HttpResponse, ApiError> {
    let app = state.app_keys.create_app(&staff.principal, input.into_inner()).await?;
    Ok(HttpResponse::Created().json(AppView::from(app)))
}

/// `PATCH /v1/apps/{id}`
pub async fn update(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<AppId>,
    input: Json<AppPatchInput>,
) -> Result<HttpResponse, ApiError> {
    let app = state.app_keys.update_app(&staff.principal, id.into_inner(), input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(AppView::from(app)))
}

/// `POST /v1/apps/{id}/identity_secret`
pub async fn issue_identity_secret(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<AppId>,
) -> Result<HttpResponse, ApiError> {
    let issued = state.app_keys.issue_identity_secret(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::Created().json(IdentitySecretView::from(issued)))
}

/// `GET /v1/apps/{id}/keys?limit=&cursor=`: oldest first.
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

/// `POST /v1/apps/{id}/keys`
pub async fn create_key(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<AppId>,
    input: Json<KeyInput>,
) -> Result<HttpResponse, ApiError> {
    let issued = state.app_keys.create_key(&staff.principal, id.into_inner(), input.into_inner()).await?;
    Ok(HttpResponse::Created().json(IssuedKeyView::from(issued)))
}

/// `POST /v1/keys/{id}/rotate`
pub async fn rotate_key(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<ApiKeyId>,
) -> Result<HttpResponse, ApiError> {
    let issued = state.app_keys.rotate_key(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::Created().json(IssuedKeyView::from(issued)))
}

/// `DELETE /v1/keys/{id}`
pub async fn revoke_key(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<ApiKeyId>,
) -> Result<HttpResponse, ApiError> {
    state.app_keys.revoke_key(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
