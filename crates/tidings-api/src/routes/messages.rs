//! Messages of a conversation, single messages, receipts and search. Agents and SDK clients share
//! these endpoints; the service decides direction and visibility from the caller.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use tidings_domain::{ConversationId, MessageCursor, MessageId};
use tidings_messaging::{EditMessageInput, Receipt, ReceiptInput, SendMessageInput};
use utoipa::IntoParams;

use crate::caller::{AnyCaller, Staff};
use crate::envelope::ErrorEnvelope;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use crate::paging;
use crate::state::AppState;
use crate::views::{List, MessageView, ReceiptView, SentView};

/// Sends a message: agents write outbound messages, SDK devices inbound ones.
///
/// `201` means the message is committed. With a `local_id` already used in the conversation, the
/// original message answers `200` (retry freely). Attachments are uploads of the company, by id. A
/// reply on Facebook or Instagram is queued for the bot service (`forwarding: "queued"`).
#[utoipa::path(
    post, path = "/v1/conversations/{id}/messages", tag = "messages", operation_id = "send_message",
    params(("id" = ConversationId, Path, description = "The conversation")),
    request_body(content = SendMessageInput, example = json!({"body": "Hello!", "local_id": "m-1"})),
    security(("bearer" = []), ("app_id" = [], "device_id" = [], "client_key" = []), ("server_key" = [])),
    responses(
        (status = 201, description = "The new message", body = SentView),
        (status = 200, description = "The original message of this `local_id`", body = SentView),
        (status = 409, description = "`CONFLICT`: the conversation is resolved (for the contact), an upload is \
                                      attached elsewhere, or Meta's reply window has closed", body = ErrorEnvelope),
        (status = 429, description = "`RATE_LIMITED`: too many requests from this address, or too many messages \
                                      from this sender (300 per 15 minutes); wait `Retry-After` seconds",
         body = ErrorEnvelope, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
)]
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
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageParams {
    /// Pages forward from this sequence (0 for the start); not with `before`.
    #[param(minimum = 0)]
    after: Option<i64>,
    /// Pages backward from this sequence; not with `after`.
    #[param(minimum = 1)]
    before: Option<i64>,
    /// Page size: 1 to 200, 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// Lists a conversation's messages, oldest first within the page.
///
/// `after` pages forward, `before` backward; neither gives the newest messages. `next_cursor` is the
/// value for the same parameter (for the newest page: for `before`).
#[utoipa::path(
    get, path = "/v1/conversations/{id}/messages", tag = "messages", operation_id = "list_messages",
    params(("id" = ConversationId, Path, description = "The conversation"), MessageParams),
    security(("bearer" = []), ("app_id" = [], "device_id" = [], "client_key" = []), ("server_key" = [])),
    responses((status = 200, description = "A page of messages", body = List<MessageView>)),
)]
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

/// Marks the other side's messages delivered, up to a sequence.
///
/// Status only moves forward; `up_to_sequence` is lowered to the conversation's last sequence, and
/// the answer says the one applied.
#[utoipa::path(
    post, path = "/v1/conversations/{id}/messages/delivered", tag = "messages", operation_id = "mark_delivered",
    params(("id" = ConversationId, Path, description = "The conversation")),
    request_body(content = ReceiptInput, example = json!({"up_to_sequence": 2})),
    security(("bearer" = []), ("app_id" = [], "device_id" = [], "client_key" = []), ("server_key" = [])),
    responses((status = 200, description = "What the receipt did", body = ReceiptView)),
)]
pub async fn delivered(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<ConversationId>,
    input: Json<ReceiptInput>,
) -> Result<HttpResponse, ApiError> {
    receipt(state, caller, id.into_inner(), Receipt::Delivered, input.into_inner()).await
}

/// Marks the other side's messages read, up to a sequence.
///
/// Status only moves forward; `up_to_sequence` is lowered to the conversation's last sequence, and
/// the answer says the one applied.
#[utoipa::path(
    post, path = "/v1/conversations/{id}/messages/read", tag = "messages", operation_id = "mark_read",
    params(("id" = ConversationId, Path, description = "The conversation")),
    request_body(content = ReceiptInput, example = json!({"up_to_sequence": 2})),
    security(("bearer" = []), ("app_id" = [], "device_id" = [], "client_key" = []), ("server_key" = [])),
    responses((status = 200, description = "What the receipt did", body = ReceiptView)),
)]
pub async fn read(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<ConversationId>,
    input: Json<ReceiptInput>,
) -> Result<HttpResponse, ApiError> {
    receipt(state, caller, id.into_inner(), Receipt::Read, input.into_inner()).await
}

/// Reads a message.
#[utoipa::path(
    get, path = "/v1/messages/{id}", tag = "messages", operation_id = "get_message",
    params(("id" = MessageId, Path, description = "The message")),
    security(("bearer" = []), ("app_id" = [], "device_id" = [], "client_key" = []), ("server_key" = [])),
    responses((status = 200, description = "The message", body = MessageView)),
)]
pub async fn get(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<MessageId>,
) -> Result<HttpResponse, ApiError> {
    let message = state.messaging.messages.get(&caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(MessageView::from(message)))
}

/// Edits a message's text (its author only).
#[utoipa::path(
    patch, path = "/v1/messages/{id}", tag = "messages", operation_id = "edit_message",
    params(("id" = MessageId, Path, description = "The message")),
    request_body(content = EditMessageInput, example = json!({"body": "Hello again!"})),
    security(("bearer" = []), ("app_id" = [], "device_id" = [], "client_key" = []), ("server_key" = [])),
    responses(
        (status = 200, description = "The message, with `edited_at`", body = MessageView),
        (status = 409, description = "`CONFLICT`: the message is deleted", body = ErrorEnvelope),
    ),
)]
pub async fn edit(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<MessageId>,
    input: Json<EditMessageInput>,
) -> Result<HttpResponse, ApiError> {
    let message = state.messaging.messages.edit(&caller, id.into_inner(), input.into_inner()).await?;
    Ok(HttpResponse::Ok().json(MessageView::from(message)))
}

/// Deletes a message (its author, or an admin or owner): it keeps its place with an empty body, and
/// its files are removed.
#[utoipa::path(
    delete, path = "/v1/messages/{id}", tag = "messages", operation_id = "delete_message",
    params(("id" = MessageId, Path, description = "The message")),
    security(("bearer" = []), ("app_id" = [], "device_id" = [], "client_key" = []), ("server_key" = [])),
    responses((status = 200, description = "The message, emptied, with `deleted_at`", body = MessageView)),
)]
pub async fn delete(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<MessageId>,
) -> Result<HttpResponse, ApiError> {
    let message = state.messaging.messages.delete(&caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(MessageView::from(message)))
}

/// `?q=&limit=&offset=`
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The words to find.
    q: String,
    /// Page size: 1 to 200, 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// How many matches to skip (the previous page's `next_cursor`), at most 10000.
    #[param(minimum = 0, maximum = 10000)]
    offset: Option<i64>,
}

/// Searches the company's messages, best match first; `next_cursor` is the next `offset`.
///
/// Deleted messages are never found. On PostgreSQL it matches English word stems, on SQLite whole
/// words.
#[utoipa::path(
    get, path = "/v1/search/messages", tag = "messages", operation_id = "search_messages",
    params(SearchParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of matches", body = List<MessageView>)),
)]
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
