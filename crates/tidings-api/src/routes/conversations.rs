//! `/v1/conversations`: the agents' inbox, and the SDK's current conversation.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use tidings_domain::{
    ChangeCursor, ContactId, ConversationId, ConversationQuery, ConversationStatus, Platform, UserId,
};
use tidings_messaging::ConversationPatchInput;

use crate::caller::{AnyCaller, SdkClient, Staff};
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::paging;
use crate::state::AppState;
use crate::views::{ChangedView, ConversationListView, ConversationView, FeedView};

/// `?status=&assignee=&contact=&platform=&cursor=&limit=`; `assignee=none` lists unassigned ones.
/// `?changed_after=` (with `limit` only) lists the conversations that changed since a catch-up cursor.
#[derive(Deserialize)]
pub struct ConversationParams {
    changed_after: Option<String>,
    status: Option<ConversationStatus>,
    assignee: Option<String>,
    contact: Option<ContactId>,
    platform: Option<Platform>,
    cursor: Option<String>,
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

/// `GET /v1/conversations`: the inbox, or with `?changed_after=` what changed since a catch-up.
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
#[derive(Deserialize)]
pub struct FeedParams {
    after: Option<i64>,
    limit: Option<i64>,
}

/// `GET /v1/conversations/{id}/events`: the conversation's changes after a position, oldest first.
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

/// `POST /v1/conversations` (SDK): the device's open conversation, created when there is none.
pub async fn open(state: web::Data<AppState>, client: SdkClient) -> Result<HttpResponse, ApiError> {
    let conversation = state.messaging.conversations.open_for_device(&client.0).await?;
    Ok(HttpResponse::Ok().json(ConversationView::from(conversation)))
}

/// `GET /v1/conversations/{id}`
pub async fn get(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<ConversationId>,
) -> Result<HttpResponse, ApiError> {
    let summary = state.messaging.conversations.get(&caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(ConversationView::from(summary)))
}

/// `PATCH /v1/conversations/{id}`
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
