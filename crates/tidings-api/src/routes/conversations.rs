//! `/v1/conversations`: the agents' inbox, and the SDK's current conversation.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use tidings_domain::{ContactId, ConversationId, ConversationQuery, ConversationStatus, Platform, UserId};
use tidings_messaging::ConversationPatchInput;

use crate::caller::{AnyCaller, SdkClient, Staff};
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::paging;
use crate::state::AppState;
use crate::views::{ConversationView, List};

/// `?status=&assignee=&contact=&platform=&cursor=&limit=`; `assignee=none` lists unassigned ones.
#[derive(Deserialize)]
pub struct ConversationParams {
    status: Option<ConversationStatus>,
    assignee: Option<String>,
    contact: Option<ContactId>,
    platform: Option<Platform>,
    cursor: Option<String>,
    limit: Option<i64>,
}

impl ConversationParams {
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

/// `GET /v1/conversations`
pub async fn list(
    state: web::Data<AppState>,
    staff: Staff,
    params: Query<ConversationParams>,
) -> Result<HttpResponse, ApiError> {
    let query = params.into_inner().into_query()?;
    let limit = query.limit;
    let page = state.messaging.conversations.list(&staff.principal, query).await?;
    let next = paging::next_cursor(&page, limit, |last| {
        paging::conversation_cursor(last.conversation.updated_at, last.conversation.id)
    });
    Ok(HttpResponse::Ok().json(List::<ConversationView>::of(page, next)))
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
