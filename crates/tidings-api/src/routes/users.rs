//! `/v1/users`: the team. Agents read; admins and owners manage.

use actix_web::{HttpResponse, web};
use tidings_auth::{NewMemberInput, RoleInput};
use tidings_domain::UserId;

use crate::caller::{Admin, Staff};
use crate::envelope::ErrorEnvelope;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::paging::{self, IdPageParams};
use crate::state::AppState;
use crate::views::{List, UserView};

/// Lists the team, oldest first.
#[utoipa::path(
    get, path = "/v1/users", tag = "users", operation_id = "list_users",
    params(IdPageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of users", body = List<UserView>)),
)]
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

/// Reads a user of the company.
#[utoipa::path(
    get, path = "/v1/users/{id}", tag = "users", operation_id = "get_user",
    params(("id" = UserId, Path, description = "The user")),
    security(("bearer" = [])),
    responses((status = 200, description = "The user", body = UserView)),
)]
pub async fn get(
    state: web::Data<AppState>,
    staff: Staff,
    id: Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    let user = state.team.get(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(UserView::from(user)))
}

/// Adds a member to the team (admins and owners), and e-mails them an invitation.
///
/// Without `password`, the member chooses theirs with the invitation's link before they can log in.
/// The role is at most the caller's own.
#[utoipa::path(
    post, path = "/v1/users", tag = "users", operation_id = "create_user",
    request_body(content = NewMemberInput, example = json!({
        "email": "bob@acme.test", "name": "Bob", "password": "another good one", "role": "agent"
    })),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new user", body = UserView),
        (status = 409, description = "`CONFLICT`: the e-mail is already registered", body = ErrorEnvelope),
    ),
)]
pub async fn create(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    input: Json<NewMemberInput>,
) -> Result<HttpResponse, ApiError> {
    let user = state.team.add(&staff.principal, input.into_inner()).await?;
    Ok(HttpResponse::Created().json(UserView::from(user)))
}

/// Changes a user's role (admins and owners; never one's own, nor above one's own).
#[utoipa::path(
    patch, path = "/v1/users/{id}", tag = "users", operation_id = "set_user_role",
    params(("id" = UserId, Path, description = "The user")),
    request_body(content = RoleInput, example = json!({"role": "admin"})),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 409, description = "`CONFLICT`: the change would leave the company without an owner", body = ErrorEnvelope),
    ),
)]
pub async fn set_role(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<UserId>,
    input: Json<RoleInput>,
) -> Result<HttpResponse, ApiError> {
    let user = state.team.set_role(&staff.principal, id.into_inner(), input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(UserView::from(user)))
}

/// Removes a user (admins and owners; never oneself).
#[utoipa::path(
    delete, path = "/v1/users/{id}", tag = "users", operation_id = "delete_user",
    params(("id" = UserId, Path, description = "The user")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = "`CONFLICT`: the company would be left without an owner", body = ErrorEnvelope),
    ),
)]
pub async fn remove(
    state: web::Data<AppState>,
    staff: Staff<Admin>,
    id: Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    state.team.remove(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
