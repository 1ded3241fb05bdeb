//! `GET /v1/presence`: who of the company is online (on this node), a page at a time.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::caller::Staff;
use crate::error::ApiError;
use crate::extract::Query;
use crate::paging::{limit, parse_presence_cursor, presence_cursor};
use crate::state::AppState;
use crate::views::{List, PresenceView};

/// `?limit=&cursor=`
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PresenceQuery {
    /// Page size: 1 to 200, 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Lists who of the company is connected to the live doors now, agents first.
#[utoipa::path(
    get, path = "/v1/presence", tag = "realtime", operation_id = "list_presence",
    params(PresenceQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of who is online", body = List<PresenceView>)),
)]
pub async fn list(
    state: web::Data<AppState>,
    staff: Staff,
    query: Query<PresenceQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = usize::try_from(limit(query.limit)?).unwrap_or(usize::MAX);
    let after = query.cursor.as_deref().map(parse_presence_cursor).transpose()?;
    let page = state.hub.presence().online(staff.principal.company_id, after, limit).await;
    let next_cursor =
        (page.len() == limit).then(|| page.last().map(|e| presence_cursor(e.participant))).flatten();
    Ok(HttpResponse::Ok().json(List::<PresenceView>::of(page, next_cursor)))
}
