//! `/v1/conversations`: the agents' inbox, and the SDK's current conversation.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use tidings_domain::{
    ChangeCursor, ContactId, ConversationId, ConversationQuery, ConversationStatus, Platform, UserId,
};
use tidings_messaging::ConversationPatchInput;
use utoipa::IntoParams;

use crate::caller::{AnyCaller, SdkClient, Staff};
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::paging;
use crate::state::AppState;
use crate::views::{ChangedView, ConversationList, ConversationListView, ConversationView, FeedView};

/// `?status=&assignee=&contact=&platform=&cursor=&limit=`; `assignee=none` lists unassigned ones.
/// `?changed_after=` (with `limit` only) lists the conversations that changed since a catch-up cursor.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationParams {
    /// A catch-up cursor (`sync_cursor` of a first page, or `next_cursor` of a catch-up): lists what
    /// changed since, and takes no other parameter but `limit`.
    changed_after: Option<String>,
    /// Only this status.
    status: Option<ConversationStatus>,
    /// Only this agent's (a user id), or `none` for unassigned ones.
    assignee: Option<String>,
    /// Only this contact's.
    contact: Option<ContactId>,
    /// Only this platform.
    platform: Option<Platform>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size: 1 to 200, 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

impl ConversationParams {
    /// The catch-up cursor, when the request is a catch-up; filters do not combine with it (a
    /// catch-up returns every conversation that changed, so that one that left a filter is seen).
    fn changed_after(&self) -> Result<Option<ChangeCursor>, ApiError> {
        let Some(cursor) = self.changed_after.as_deref() else { return Ok(None) };
        let filtered = self.status.is_some()
            || self.assignee.is_some()
            || self.contact.is_some()
            || self.platform.is_some()
            || self.cursor.is_some();
        if filtered {
            return Err(ApiError::validation("changed_after takes no filter and no cursor, only limit"));
        }
        paging::parse_change_cursor(cursor).map(Some)
    }

    fn into_query(self) -> Result<ConversationQuery, ApiError> {
        let (assignee_id, unassigned) = match self.assignee.as_deref() {
            None => (None, false),
            Some("none") => (None, true),
            Some(id) => {
                (Some(id.parse::<UserId>().map_err(|_| ApiError::validation("invalid assignee"))?), false)
            }
        };
        Ok(ConversationQuery {
            status: self.status,
            assignee_id,
            unassigned,
            contact_id: self.contact,
            platform: self.platform,
            after: self.cursor.as_deref().map(paging::parse_conversation_cursor).transpose()?,
            limit: paging::limit(self.limit)?,
        })
    }
}

/// Lists the inbox, newest activity first; with `changed_after`, what changed since a catch-up.
///
/// The first page of the inbox carries a `sync_cursor`: later, `?changed_after=<it>` returns every
/// conversation that changed since, oldest change first, with `has_more` and a `next_cursor` that is
/// always present.
#[utoipa::path(
    get, path = "/v1/conversations", tag = "conversations", operation_id = "list_conversations",
    params(ConversationParams),
    security(("bearer" = [])),
    responses((
        status = 200,
        description = "A page of the inbox (`ConversationListView`), or the conversations changed since the \
                       cursor (`ChangedView`, with `changed_after`)",
        body = ConversationList,
    )),
)]
pub async fn list(
    state: web::Data<AppState>,
    staff: Staff,
    params: Query<ConversationParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    if let Some(after) = params.changed_after()? {
        let changed =
            state.messaging.feed.changed(&staff.principal, Some(after), paging::limit(params.limit)?);
        return Ok(HttpResponse::Ok().json(ChangedView::of(changed.await?)));
    }
    let first_page = params.cursor.is_none();
    let query = params.into_query()?;
    let limit = query.limit;
    // Read before the list: what changes after the list was read is after the cursor.
    let sync_cursor = match first_page {
        true => Some(paging::change_cursor(state.messaging.feed.cursor_now().await?)),
        false => None,
    };
    let page = state.messaging.conversations.list(&staff.principal, query).await?;
    let next_cursor = paging::next_cursor(&page, limit, |last| {
        paging::conversation_cursor(last.conversation.updated_at, last.conversation.id)
    });
    let data = page.into_iter().map(ConversationView::from).collect();
    Ok(HttpResponse::Ok().json(ConversationListView { data, next_cursor, sync_cursor }))
}

/// `?after=&limit=` of a conversation's change feed.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// The position the page starts after (0, the default, for the start).
    #[param(minimum = 0)]
    after: Option<i64>,
    /// Page size: 1 to 200, 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// Reads a conversation's change feed after a position, oldest first.
///
/// Each change is shaped as the live event that announced it, with its `position`; while `has_more`
/// is true, ask again with `after` set to the last position received.
#[utoipa::path(
    get, path = "/v1/conversations/{id}/events", tag = "conversations", operation_id = "conversation_events",
    params(("id" = ConversationId, Path, description = "The conversation"), FeedParams),
    security(("bearer" = []), ("app_id" = [], "device_id" = [], "client_key" = [])),
    responses((status = 200, description = "A page of changes", body = FeedView)),
)]
pub async fn events(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<ConversationId>,
    params: Query<FeedParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = paging::limit(params.limit)?;
    let page =
        state.messaging.feed.events(&caller, id.into_inner(), params.after.unwrap_or(0), limit).await?;
    let has_more = page.events.len() as i64 == limit;
    Ok(HttpResponse::Ok().json(FeedView { data: page.events, last_position: page.last_position, has_more }))
}

/// Opens the SDK device's conversation: its unresolved one, created when there is none.
#[utoipa::path(
    post, path = "/v1/conversations", tag = "conversations", operation_id = "open_conversation",
    security(("app_id" = [], "device_id" = [], "client_key" = [])),
    responses((status = 200, description = "The device's open conversation", body = ConversationView)),
)]
pub async fn open(state: web::Data<AppState>, client: SdkClient) -> Result<HttpResponse, ApiError> {
    let conversation = state.messaging.conversations.open_for_device(&client.0).await?;
    Ok(HttpResponse::Ok().json(ConversationView::from(conversation)))
}

/// Reads a conversation (agents, or the SDK device's contact).
#[utoipa::path(
    get, path = "/v1/conversations/{id}", tag = "conversations", operation_id = "get_conversation",
    params(("id" = ConversationId, Path, description = "The conversation")),
    security(("bearer" = []), ("app_id" = [], "device_id" = [], "client_key" = []), ("server_key" = [])),
    responses((status = 200, description = "The conversation", body = ConversationView)),
)]
pub async fn get(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<ConversationId>,
) -> Result<HttpResponse, ApiError> {
    let summary = state.messaging.conversations.get(&caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(ConversationView::from(summary)))
}

/// Changes a conversation's status or assignee (`assignee_id: null` unassigns).
#[utoipa::path(
    patch, path = "/v1/conversations/{id}", tag = "conversations", operation_id = "update_conversation",
    params(("id" = ConversationId, Path, description = "The conversation")),
    request_body(content = ConversationPatchInput, example = json!({"status": "pending", "assignee_id": null})),
    security(("bearer" = [])),
    responses((status = 200, description = "The conversation", body = ConversationView)),
)]
pub async fn update(
    state: web::Data<AppState>,
    staff: Staff,
    id: Path<ConversationId>,
    input: Json<ConversationPatchInput>,
) -> Result<HttpResponse, ApiError> {
    let conversation =
        state.messaging.conversations.update(&staff.principal, id.into_inner(), input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(ConversationView::from(conversation)))
}
