//! Messages of a conversation, single messages, receipts and search. Agents and SDK clients share
//! these endpoints; the service decides direction and visibility from the caller.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use tidings_domain::{ConversationId, MessageCursor, MessageId};
use tidings_messaging::{EditMessageInput, Receipt, ReceiptInput, SendMessageInput};

use crate::caller::{AnyCaller, Staff};
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::paging;
use crate::state::AppState;
use crate::views::{List, MessageView, ReceiptView, SentView};

/// `POST /v1/conversations/{id}/messages`: 201 with the new message, or 200 with the original when
/// the `local_id` was sent before.
pub async fn send(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<ConversationId>,
    input: Json<SendMessageInput>,
) -> Result<HttpResponse, ApiError> {
    let sent = state.messaging.messages.send(&caller, id.into_inner(), input.into_inner()).await?;
    let mut response = if sent.created { HttpResponse::Created() } else { HttpResponse::Ok() };
    Ok(response.json(SentView::from(sent)))
}

/// `?after=&before=&limit=`
#[derive(Deserialize)]
pub struct MessageParams {
    after: Option<i64>,
    before: Option<i64>,
    limit: Option<i64>,
}

/// `GET /v1/conversations/{id}/messages`: oldest first within the page. `after` pages forward,
/// `before` backward; neither gives the newest messages. `next_cursor` is the value for the same
/// parameter (for the newest page: for `before`).
pub async fn list(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<ConversationId>,
    params: Query<MessageParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = paging::limit(params.limit)?;
    let cursor = match (params.after, params.before) {
        (Some(_), Some(_)) => return Err(ApiError::validation("give `after` or `before`, not both")),
        (Some(n), None) if n >= 0 => MessageCursor::After(n),
        (None, Some(n)) if n >= 1 => MessageCursor::Before(n),
        (None, None) => MessageCursor::Latest,
        _ => return Err(ApiError::validation("`after` must be 0 or more, `before` 1 or more")),
    };
    let messages = state.messaging.messages.list(&caller, id.into_inner(), cursor, limit).await?;
    let next = match cursor {
        _ if (messages.len() as i64) < limit => None,
        MessageCursor::After(_) => messages.last().map(|m| m.sequence.to_string()),
        MessageCursor::Before(_) | MessageCursor::Latest => messages.first().map(|m| m.sequence.to_string()),
    };
    Ok(HttpResponse::Ok().json(List::<MessageView>::of(messages, next)))
}

async fn receipt(
    state: web::Data<AppState>,
    caller: tidings_domain::Caller,
    id: ConversationId,
    kind: Receipt,
    input: ReceiptInput,
) -> Result<HttpResponse, ApiError> {
    // The service lowers `up_to_sequence` to the conversation's last message: answer what it applied,
    // so a client never believes it has covered messages that do not exist yet.
    let applied = state.messaging.messages.receipt(&caller, id, kind, input).await?;
    Ok(HttpResponse::Ok().json(ReceiptView::from(applied)))
}

/// `POST /v1/conversations/{id}/messages/delivered`
pub async fn delivered(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<ConversationId>,
    input: Json<ReceiptInput>,
) -> Result<HttpResponse, ApiError> {
    receipt(state, caller, id.into_inner(), Receipt::Delivered, input.into_inner()).await
}

/// `POST /v1/conversations/{id}/messages/read`
pub async fn read(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<ConversationId>,
    input: Json<ReceiptInput>,
) -> Result<HttpResponse, ApiError> {
    receipt(state, caller, id.into_inner(), Receipt::Read, input.into_inner()).await
}

/// `GET /v1/messages/{id}`
pub async fn get(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<MessageId>,
) -> Result<HttpResponse, ApiError> {
    let message = state.messaging.messages.get(&caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(MessageView::from(message)))
}

/// `PATCH /v1/messages/{id}`
pub async fn edit(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<MessageId>,
    input: Json<EditMessageInput>,
) -> Result<HttpResponse, ApiError> {
    let message = state.messaging.messages.edit(&caller, id.into_inner(), input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(MessageView::from(message)))
}

/// `DELETE /v1/messages/{id}`: 200 with the emptied message.
pub async fn delete(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<MessageId>,
) -> Result<HttpResponse, ApiError> {
    let message = state.messaging.messages.delete(&caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(MessageView::from(message)))
}

/// `?q=&limit=&offset=`
#[derive(Deserialize)]
pub struct SearchParams {
    q: String,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `GET /v1/search/messages`: best match first; `next_cursor` is the next `offset`.
pub async fn search(
    state: web::Data<AppState>,
    staff: Staff,
    params: Query<SearchParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = paging::limit(params.limit)?;
    let offset = params.offset.unwrap_or(0);
    if !(0..=10_000).contains(&offset) {
        return Err(ApiError::validation("offset must be between 0 and 10000"));
    }
    let found = state.messaging.messages.search(&staff.principal, &params.q, limit, offset).await?;
    let next = (found.len() as i64 == limit).then(|| (offset + limit).to_string());
    Ok(HttpResponse::Ok().json(List::<MessageView>::of(found, next)))
}
