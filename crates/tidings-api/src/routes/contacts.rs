//! `/v1/contacts`: the company's customers, for agents.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use tidings_domain::{ContactId, ContactQuery};
use tidings_messaging::ContactInput;

use crate::caller::Staff;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::paging;
use crate::state::AppState;
use crate::views::{ContactView, List};

/// `?q=&after=&ids=&limit=`
#[derive(Deserialize)]
pub struct ContactParams {
    q: Option<String>,
    after: Option<ContactId>,
    ids: Option<String>,
    limit: Option<i64>,
}

/// `?ids=a,b,c`: at most a page of contact ids, comma-separated.
fn parse_ids(raw: &str, limit: i64) -> Result<Vec<ContactId>, ApiError> {
    let ids: Vec<ContactId> = raw
        .split(',')
        .filter(|id| !id.trim().is_empty())
        .map(|id| id.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::validation("query parameter `ids`: expected UUIDs separated by commas"))?;
    if ids.len() as i64 > limit {
        return Err(ApiError::validation(format!(
            "query parameter `ids`: at most {limit} ids (the page size)"
        )));
    }
    Ok(ids)
}

/// `GET /v1/contacts`
pub async fn list(
    state: web::Data<AppState>,
    staff: Staff,
    params: Query<ContactParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let limit = paging::limit(params.limit)?;
    let search = params.q.filter(|q| !q.trim().is_empty());
    let ids = params.ids.as_deref().map(|raw| parse_ids(raw, limit)).transpose()?;
    let query = ContactQuery { search, after: params.after, ids, limit };
    let contacts = state.messaging.contacts.list(&staff.principal, query).await?;
    let next = paging::next_cursor(&contacts, limit, |c| c.id.to_string());
    Ok(HttpResponse::Ok().json(List::<ContactView>::of(contacts, next)))
}

/// `POST /v1/contacts`
pub async fn create(
    state: web::Data<AppState>,
    staff: Staff,
    input: Json<ContactInput>,
) -> Result<HttpResponse, ApiError> {
    let contact = state.messaging.contacts.create(&staff.principal, input.into_inner()).await?;
    Ok(HttpResponse::Created().json(ContactView::from(contact)))
}

/// `GET /v1/contacts/{id}`
pub async fn get(
    state: web::Data<AppState>,
    staff: Staff,
    id: Path<ContactId>,
) -> Result<HttpResponse, ApiError> {
    let contact = state.messaging.contacts.get(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(ContactView::from(contact)))
}

/// `PATCH /v1/contacts/{id}`
pub async fn update(
    state: web::Data<AppState>,
    staff: Staff,
    id: Path<ContactId>,
    input: Json<ContactInput>,
) -> Result<HttpResponse, ApiError> {
    let contact =
        state.messaging.contacts.update(&staff.principal, id.into_inner(), input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(ContactView::from(contact)))
}
