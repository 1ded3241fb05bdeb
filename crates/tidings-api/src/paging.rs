//! Query parameters shared by list endpoints: `limit` and opaque cursors.

use std::fmt::Display;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tidings_domain::{ChangeCursor, ConversationId};
use tidings_messaging::realtime::Participant;

use crate::error::ApiError;

/// Default page size.
pub const DEFAULT_LIMIT: i64 = 50;
/// Largest page size.
pub const MAX_LIMIT: i64 = 200;

/// Checks `?limit=`: 1 to 200, 50 when absent.
pub fn limit(raw: Option<i64>) -> Result<i64, ApiError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::validation(format!("limit must be between 1 and {MAX_LIMIT}"))),
    }
}

/// `?limit=&cursor=` of the lists that page by id (users, apps, API keys).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IdPageParams {
    /// Page size: 1 to 200, 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

impl IdPageParams {
    /// The checked page size, and the id the page starts after.
    pub fn parse<Id: FromStr>(&self) -> Result<(Option<Id>, i64), ApiError> {
        let after = self.cursor.as_deref().map(parse_id_cursor).transpose()?;
        Ok((after, limit(self.limit)?))
    }
}

/// The next cursor of a page: a full page may have a successor (it starts after the last item), a
/// shorter one is the last.
pub fn next_cursor<T>(page: &[T], limit: i64, cursor: impl FnOnce(&T) -> String) -> Option<String> {
    if page.len() as i64 == limit { page.last().map(cursor) } else { None }
}

/// The opaque cursor of a list that pages by id: the last item's id. Ids are UUID v7, so they sort
/// by creation time.
pub fn id_cursor(id: impl Display) -> String {
    B64.encode(id.to_string())
}

/// Reads a cursor made by [`id_cursor`].
pub fn parse_id_cursor<Id: FromStr>(cursor: &str) -> Result<Id, ApiError> {
    let invalid = || ApiError::validation("invalid cursor");
    let raw = String::from_utf8(B64.decode(cursor).map_err(|_| invalid())?).map_err(|_| invalid())?;
    raw.parse().map_err(|_| invalid())
}

/// The opaque cursor of a list ordered by a time and then an id (conversations by activity,
/// appointments by start): the last item's.
pub fn time_id_cursor(at: DateTime<Utc>, id: impl Display) -> String {
    B64.encode(format!("{}.{id}", at.timestamp_micros()))
}

/// Reads a cursor made by [`time_id_cursor`].
pub fn parse_time_id_cursor<Id: FromStr>(cursor: &str) -> Result<(DateTime<Utc>, Id), ApiError> {
    let invalid = || ApiError::validation("invalid cursor");
    let raw = String::from_utf8(B64.decode(cursor).map_err(|_| invalid())?).map_err(|_| invalid())?;
    let (micros, id) = raw.split_once('.').ok_or_else(invalid)?;
    let at = DateTime::from_timestamp_micros(micros.parse().map_err(|_| invalid())?).ok_or_else(invalid)?;
    Ok((at, id.parse().map_err(|_| invalid())?))
}

/// The opaque cursor of a conversation list: the last item's activity time and id.
pub fn conversation_cursor(updated_at: DateTime<Utc>, id: ConversationId) -> String {
    time_id_cursor(updated_at, id)
}

/// Reads a cursor made by [`conversation_cursor`].
pub fn parse_conversation_cursor(cursor: &str) -> Result<(DateTime<Utc>, ConversationId), ApiError> {
    parse_time_id_cursor(cursor)
}

/// The opaque cursor of an inbox catch-up (`?changed_after=`): a change time, and the conversation
/// that changed then, if the cursor stops at one.
pub fn change_cursor(cursor: ChangeCursor) -> String {
    let id = cursor.id.map_or_else(|| "-".to_owned(), |id| id.to_string());
    B64.encode(format!("changes.{}.{id}", cursor.changed_at.timestamp_micros()))
}

/// Reads a cursor made by [`change_cursor`].
pub fn parse_change_cursor(cursor: &str) -> Result<ChangeCursor, ApiError> {
    let invalid = || ApiError::validation("invalid changed_after cursor");
    let raw = String::from_utf8(B64.decode(cursor).map_err(|_| invalid())?).map_err(|_| invalid())?;
    let mut parts = raw.splitn(3, '.');
    let (Some("changes"), Some(micros), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid());
    };
    let micros = micros.parse().map_err(|_| invalid())?;
    let changed_at = DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?;
    let id = match id {
        "-" => None,
        id => Some(id.parse().map_err(|_| invalid())?),
    };
    Ok(ChangeCursor { changed_at, id })
}

/// The opaque cursor of the presence list: the last participant.
pub fn presence_cursor(participant: Participant) -> String {
    match participant {
        Participant::Agent(id) => B64.encode(format!("agent.{id}")),
        Participant::Contact(id) => B64.encode(format!("contact.{id}")),
    }
}

/// Reads a cursor made by [`presence_cursor`].
pub fn parse_presence_cursor(cursor: &str) -> Result<Participant, ApiError> {
    let invalid = || ApiError::validation("invalid cursor");
    let raw = String::from_utf8(B64.decode(cursor).map_err(|_| invalid())?).map_err(|_| invalid())?;
    match raw.split_once('.').ok_or_else(invalid)? {
        ("agent", id) => Ok(Participant::Agent(id.parse().map_err(|_| invalid())?)),
        ("contact", id) => Ok(Participant::Contact(id.parse().map_err(|_| invalid())?)),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let (at, id) =
            (DateTime::from_timestamp_micros(1_795_000_000_123_456).unwrap(), ConversationId::new());
        assert_eq!(parse_conversation_cursor(&conversation_cursor(at, id)).unwrap(), (at, id));
        assert!(parse_conversation_cursor("not base64!").is_err());
        assert!(parse_conversation_cursor(&B64.encode("12.not-an-id")).is_err());
        assert!(limit(Some(0)).is_err() && limit(Some(201)).is_err());
        assert_eq!(limit(None).unwrap(), 50);
        let someone = Participant::Contact(tidings_domain::ContactId::new());
        assert_eq!(parse_presence_cursor(&presence_cursor(someone)).unwrap(), someone);
        assert!(parse_presence_cursor(&B64.encode("robot.x")).is_err());
        let user = tidings_domain::UserId::new();
        assert_eq!(parse_id_cursor::<tidings_domain::UserId>(&id_cursor(user)).unwrap(), user);
        assert!(parse_id_cursor::<tidings_domain::UserId>(&B64.encode("not-an-id")).is_err());
        assert!(parse_id_cursor::<tidings_domain::UserId>("not base64!").is_err());
        assert_eq!(next_cursor(&[1, 2], 2, |n| n.to_string()), Some("2".into()));
        assert_eq!(next_cursor(&[1], 2, |n| n.to_string()), None);
        for id in [None, Some(ConversationId::new())] {
            let cursor = ChangeCursor { changed_at: at, id };
            assert_eq!(parse_change_cursor(&change_cursor(cursor)).unwrap(), cursor);
        }
        assert!(parse_change_cursor(&conversation_cursor(at, id)).is_err(), "another list's cursor");
        assert!(parse_change_cursor(&B64.encode("changes.x.-")).is_err());
    }
}
