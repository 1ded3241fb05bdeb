//! `/v1/users`: the team. Agents read; admins and owners manage.

use actix_web::{HttpResponse, web};
use tidings_auth::{NewMemberInput, RoleInput};
use tidings_domain::UserId;

use crate::caller::{Admin, Staff};
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::paging::{self, IdPageParams};
use crate::state::AppState;
use crate::views::{List, UserView};

/// `GET /v1/users?limit=&cursor=`: oldest first.
pub async fn list(
    state: web::Data<AppState>,
    staff: Staff,
    params: Query<IdPageParams>,
) -> Result<HttpResponse, ApiError> {
    let (after, limit) = params.parse()?;
    let users = state.team.list(&staff.principal, after, limit).await?;
    let next = paging::next_cursor(&users, limit, |u| paging::id_cursor(u.id));
    Ok(HttpResponse::Ok().json(List::<UserView>::of(users, next)))
}

/// `GET /v1/users/{id}`
pub async fn get(
    state: web::Data<AppState>,
    staff: Staff,
    id: Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    let user = state.team.get(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(UserView::from(user)))
}

/// `POST /v1/users`
pub async fn create(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    input: Json<NewMemberInput>,
) -> Result<HttpResponse, ApiError> {
    let user = state.team.add(&staff.principal, input.into_inner()).await?;
    Ok(HttpResponse::Created().json(UserView::from(user)))
}

/// `PATCH /v1/users/{id}`
pub async fn set_role(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<UserId>,
    input: Json<RoleInput>,
) -> Result<HttpResponse, ApiError> {
    let user = state.team.set_role(&staff.principal, id.into_inner(), input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(UserView::from(user)))
}

/// `DELETE /v1/users/{id}`
pub async fn remove(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    state.team.remove(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
