//! `/v1/contacts`: the company's customers, for agents.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use tidings_domain::{ContactId, ContactQuery};
use tidings_messaging::ContactInput;
use utoipa::IntoParams;

use crate::caller::Staff;
use crate::envelope::ErrorEnvelope;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::paging;
use crate::state::AppState;
use crate::views::{ContactView, List};

/// `?q=&ids=&after=&limit=`
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactParams {
    /// Searches name, e-mail and phone (case-insensitive substring).
    q: Option<String>,
    /// The `next_cursor` of the previous page.
    after: Option<ContactId>,
    /// Only these contacts: ids separated by commas, at most `limit` of them (to name the contacts
    /// of a page of conversations in one call).
    ids: Option<String>,
    /// Page size: 1 to 200, 50 when absent.
    #[param(minimum = 1, maximum = 200)]
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

/// A 409 of a contact's social ids: each is unique within the company.
const CLAIMED: &str = "`CONFLICT`: another contact of the company has this `facebook_id` or `instagram_id`";

/// Lists or searches the company's contacts, oldest first.
#[utoipa::path(
    get, path = "/v1/contacts", tag = "contacts", operation_id = "list_contacts",
    params(ContactParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of contacts", body = List<ContactView>)),
)]
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

/// Creates a contact.
///
/// `metadata` is a JSON object of at most 16 KiB.
#[utoipa::path(
    post, path = "/v1/contacts", tag = "contacts", operation_id = "create_contact",
    request_body(content = ContactInput, example = json!({
        "name": "Grace Hopper", "email": "grace@example.com", "metadata": {"plan": "pro"}
    })),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The contact", body = ContactView),
        (status = 409, description = CLAIMED, body = ErrorEnvelope),
    ),
)]
pub async fn create(
    state: web::Data<AppState>,
    staff: Staff,
    input: Json<ContactInput>,
) -> Result<HttpResponse, ApiError> {
    let contact = state.messaging.contacts.create(&staff.principal, input.into_inner()).await?;
    Ok(HttpResponse::Created().json(ContactView::from(contact)))
}

/// Reads a contact.
#[utoipa::path(
    get, path = "/v1/contacts/{id}", tag = "contacts", operation_id = "get_contact",
    params(("id" = ContactId, Path, description = "The contact")),
    security(("bearer" = [])),
    responses((status = 200, description = "The contact", body = ContactView)),
)]
pub async fn get(
    state: web::Data<AppState>,
    staff: Staff,
    id: Path<ContactId>,
) -> Result<HttpResponse, ApiError> {
    let contact = state.messaging.contacts.get(&staff.principal, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(ContactView::from(contact)))
}

/// Changes a contact; fields left out are kept.
#[utoipa::path(
    patch, path = "/v1/contacts/{id}", tag = "contacts", operation_id = "update_contact",
    params(("id" = ContactId, Path, description = "The contact")),
    request_body(content = ContactInput, example = json!({"phone": "+49 30 1234567"})),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The contact", body = ContactView),
        (status = 409, description = CLAIMED, body = ErrorEnvelope),
    ),
)]
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
