//! Messages table: the gapless sequence, idempotent appends, forward-only status, full-text search.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use tidings_domain::{
    Appended, ChangeKind, CompanyId, ContactId, ConversationId, Direction, LOCAL_ID_TAKEN, Message,
    MessageCursor, MessageId, MessageRepo, MessageStatus, NewMessage, Platform, Recorded, RepoError,
    RepoResult,
};

use crate::error::db_error;
use crate::feed::{ChangeRow, change_time, next_position, record_change};
use crate::pool::{Backend, atomic, with_conn};
use crate::rows::{json, naive, now, parse_id, utc};
use crate::schema::{conversations as c, messages as m, uploads as u};
use crate::store::{Source, Store};

#[derive(Clone, Queryable, QueryableByName, Insertable)]
#[diesel(table_name = m)]
pub(crate) struct MessageRow {
    pub id: String,
    pub company_id: String,
    pub conversation_id: String,
    pub sequence: i64,
    pub local_id: Option<String>,
    pub sender: String,
    pub author_id: Option<String>,
    pub direction: String,
    pub platform: String,
    pub body: String,
    pub attachments: String,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub edited_at: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
    pub position: i64,
}

impl TryFrom<MessageRow> for Message {
    type Error = RepoError;
    fn try_from(row: MessageRow) -> Result<Self, RepoError> {
        Ok(Message {
            id: parse_id(&row.id)?,
            company_id: parse_id(&row.company_id)?,
            conversation_id: parse_id(&row.conversation_id)?,
            sequence: row.sequence,
            local_id: row.local_id,
            sender: parse_id(&row.sender)?,
            author_id: row.author_id,
            direction: parse_id(&row.direction)?,
            platform: parse_id(&row.platform)?,
            body: row.body,
            attachments: json(&row.attachments)?,
            status: parse_id(&row.status)?,
            created_at: utc(row.created_at),
            edited_at: row.edited_at.map(utc),
            deleted_at: row.deleted_at.map(utc),
        })
    }
}

/// Statuses a message may leave for `target`: only earlier ones, so status never moves back.
fn earlier_than(target: MessageStatus) -> &'static [&'static str] {
    match target {
        MessageStatus::Sent => &["pending"],
        MessageStatus::Delivered => &["pending", "sent"],
        MessageStatus::Read => &["pending", "sent", "delivered"],
        MessageStatus::Pending | MessageStatus::Failed => &[],
    }
}

/// An FTS5 query that matches every word of `input` as a literal token (no operators).
fn fts5_query(input: &str) -> String {
    input
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

const PG_SEARCH: &str = "SELECT id, company_id, conversation_id, sequence, local_id, sender, author_id, direction, \
    platform, body, attachments, status, created_at, edited_at, deleted_at, position FROM messages \
    WHERE company_id = $1 AND deleted_at IS NULL AND search_vector @@ websearch_to_tsquery('english', $2) \
    ORDER BY ts_rank(search_vector, websearch_to_tsquery('english', $2)) DESC, id DESC LIMIT $3 OFFSET $4";

// The FTS5 index carries the message id (see migration 2026-11-25-000006_fts_message_id): the rowid of
// `messages` is SQLite's own and may be renumbered, so nothing joins on it.
const SQLITE_SEARCH: &str = "SELECT m.id, m.company_id, m.conversation_id, m.sequence, m.local_id, m.sender, \
    m.author_id, m.direction, m.platform, m.body, m.attachments, m.status, m.created_at, m.edited_at, m.deleted_at, \
    m.position \
    FROM messages_fts JOIN messages m ON m.id = messages_fts.message_id \
    WHERE messages_fts MATCH ? AND m.company_id = ? AND m.deleted_at IS NULL \
    ORDER BY bm25(messages_fts), m.id DESC LIMIT ? OFFSET ?";

/// What an edit, a deletion or a settled forward does to a message.
enum MessageChange {
    Edit(String),
    Delete,
    /// A forward was settled: the status of a message still pending becomes this one.
    Forwarded(MessageStatus),
}

impl Store {
    /// Changes a message that is not deleted, and records the change at the conversation's next feed
    /// position, in one transaction. `None` when the message is deleted (or not found), or, for a
    /// settled forward, no longer pending.
    async fn change_message(
        &self,
        company_id: CompanyId,
        id: MessageId,
        change: MessageChange,
    ) -> RepoResult<Option<i64>> {
        let (company, id) = (company_id.to_string(), id.to_string());
        let clock = self.clock();
        let changed = with_conn!(self, |conn| {
            let changed = conn
                .transaction(async |conn| {
                    // The conversation first, found through the message: a write that takes SQLite's
                    // lock at once (an UPDATE of `messages` first reads the full-text index's
                    // configuration before it writes, and a concurrent writer then makes it fail
                    // instead of wait), and PostgreSQL's row lock in the order every change takes.
                    let of_message = m::table
                        .filter(m::company_id.eq(&company))
                        .filter(m::id.eq(&id))
                        .filter(m::deleted_at.is_null())
                        .select(m::conversation_id.nullable())
                        .single_value();
                    let taken: Option<(String, i64, i64)> = diesel::update(
                        c::table.filter(c::company_id.eq(&company)).filter(c::id.nullable().eq(of_message)),
                    )
                    .set((c::last_position.eq(c::last_position + 1), c::changed_at.eq(change_time!(clock))))
                    .returning((c::id, c::last_position, c::last_sequence))
                    .get_result(conn)
                    .await
                    .optional()?;
                    let Some((conversation, position, sequence)) = taken else { return Ok(None) };
                    let target = m::table
                        .filter(m::company_id.eq(&company))
                        .filter(m::id.eq(&id))
                        .filter(m::deleted_at.is_null());
                    let updated = match &change {
                        MessageChange::Edit(body) => {
                            diesel::update(target)
                                .set((m::body.eq(body), m::edited_at.eq(Some(now()))))
                                .execute(conn)
                                .await?
                        }
                        MessageChange::Delete => {
                            let deleted = diesel::update(target)
                                .set((m::body.eq(""), m::attachments.eq("[]"), m::deleted_at.eq(Some(now()))))
                                .execute(conn)
                                .await?;
                            // Its files go with it: unattached, they are the collector's.
                            diesel::update(
                                u::table.filter(u::company_id.eq(&company)).filter(u::message_id.eq(&id)),
                            )
                            .set(u::message_id.eq(None::<String>))
                            .execute(conn)
                            .await?;
                            deleted
                        }
                        MessageChange::Forwarded(status) => {
                            // A forward given up and then retried by hand may still be delivered.
                            let from: &[&str] = match status {
                                MessageStatus::Sent => &["pending", "failed"],
                                _ => &["pending"],
                            };
                            diesel::update(target.filter(m::status.eq_any(from)))
                                .set(m::status.eq(status.as_str()))
                                .execute(conn)
                                .await?
                        }
                    };
                    // Deleted by a writer that held the lock before us: the position goes back.
                    if updated == 0 {
                        return Err(diesel::result::Error::RollbackTransaction);
                    }
                    let row = ChangeRow::new(
                        &company,
                        &conversation,
                        (position, sequence),
                        ChangeKind::MessageUpdated,
                        Some(&id),
                    );
                    record_change!(conn, &row)?;
                    Ok(Some(position))
                })
                .await;
            match changed {
                Err(diesel::result::Error::RollbackTransaction) => Ok(None),
                other => other.map_err(db_error),
            }
        })?;
        Ok(changed)
    }

    async fn find_by_local_id(
        &self,
        company_id: &str,
        conversation_id: &str,
        local_id: &str,
    ) -> RepoResult<Option<MessageRow>> {
        let (company_id, conversation_id) = (company_id.to_owned(), conversation_id.to_owned());
        let local_id = local_id.to_owned();
        with_conn!(self, |conn| {
            m::table
                .filter(m::company_id.eq(&company_id))
                .filter(m::conversation_id.eq(&conversation_id))
                .filter(m::local_id.eq(&local_id))
                .first(conn)
                .await
                .optional()
                .map_err(db_error)
        })
    }

    async fn message_row(&self, company_id: CompanyId, id: MessageId) -> RepoResult<MessageRow> {
        let (company_id, id) = (company_id.to_string(), id.to_string());
        with_conn!(self, |conn| {
            m::table
                .filter(m::company_id.eq(&company_id))
                .filter(m::id.eq(&id))
                .first(conn)
                .await
                .map_err(db_error)
        })
    }
}

/// Why an append stored nothing, besides a database error.
enum Refused {
    /// The conversation already has a message with this `local_id`.
    LocalIdTaken,
    /// An upload is gone or attached to another message.
    UploadsAttached,
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for Refused {
    fn from(e: diesel::result::Error) -> Self {
        Refused::Db(e)
    }
}

#[async_trait]
impl MessageRepo for Store {
    async fn append_message(&self, new: NewMessage) -> RepoResult<Appended> {
        let (company_id, conversation_id) = (new.company_id.to_string(), new.conversation_id.to_string());
        let now = now();
        let row = MessageRow {
            id: MessageId::new().to_string(),
            company_id: new.company_id.to_string(),
            conversation_id: conversation_id.clone(),
            sequence: 0,
            local_id: new.local_id.clone(),
            sender: new.sender.as_str().into(),
            author_id: new.author_id,
            direction: new.direction.as_str().into(),
            // Filled in inside the transaction when the caller leaves it to the conversation.
            platform: String::new(),
            body: new.body,
            attachments: new.attachments.to_string(),
            status: if new.awaiting_forward { MessageStatus::Pending } else { MessageStatus::Sent }
                .as_str()
                .into(),
            created_at: now,
            edited_at: None,
            deleted_at: None,
            position: 0,
        };
        let given_platform = new.platform.map(|p| p.as_str());
        let uploads: Vec<String> = new.uploads.iter().map(ToString::to_string).collect();
        let clock = self.clock();
        // The counter update comes first: it is a write, so on SQLite the transaction takes the write
        // lock at once, and on PostgreSQL it locks the conversation row until commit. Concurrent
        // senders therefore queue on it and each gets the next sequence and feed position (which so
        // grow together); a failed insert rolls both back, so no number is ever skipped. A `local_id`
        // already used is found by the insert itself (one round trip where a look-up first took
        // two), so a retry costs a rolled-back counter update, and a first send nothing more.
        let (company, conversation) = (company_id.clone(), conversation_id.clone());
        let appended = atomic!(self, |conn| {
            let (sequence, position, conversation_platform): (i64, i64, String) =
                diesel::update(c::table.filter(c::company_id.eq(&company)).find(&conversation))
                    .set((
                        c::last_sequence.eq(c::last_sequence + 1),
                        c::last_position.eq(c::last_position + 1),
                        c::last_message_at.eq(now),
                        c::updated_at.eq(now),
                        c::changed_at.eq(change_time!(clock)),
                    ))
                    .returning((c::last_sequence, c::last_position, c::platform))
                    .get_result(conn)
                    .await?;
            let platform = given_platform.map_or(conversation_platform, str::to_owned);
            let stored = MessageRow { sequence, position, platform, ..row.clone() };
            // The message row, with its position, is the feed's record of its creation.
            let inserted = diesel::insert_into(m::table)
                .values(&stored)
                .on_conflict((m::conversation_id, m::local_id))
                .do_nothing()
                .execute(conn)
                .await?;
            if inserted == 0 {
                return Err(Refused::LocalIdTaken);
            }
            if !uploads.is_empty() {
                // Each upload is claimed once: one gone or held by another message undoes it all.
                let claimed = diesel::update(
                    u::table
                        .filter(u::company_id.eq(&company))
                        .filter(u::id.eq_any(&uploads))
                        .filter(u::message_id.is_null()),
                )
                .set(u::message_id.eq(Some(&stored.id)))
                .execute(conn)
                .await?;
                if claimed != uploads.len() {
                    return Err(Refused::UploadsAttached);
                }
            }
            Ok::<_, Refused>(stored)
        })?;
        match appended {
            Ok(stored) => {
                let position = stored.position;
                Ok(Appended { message: stored.try_into()?, position, created: true })
            }
            // Inside a unit of work, the unit is spoiled: its owner looks the original up after it.
            Err(Refused::LocalIdTaken) if matches!(self.source(), Source::Held(_)) => {
                Err(RepoError::conflict(LOCAL_ID_TAKEN))
            }
            Err(Refused::LocalIdTaken) => {
                let local_id = new.local_id.as_deref().unwrap_or_default();
                match self.find_by_local_id(&company_id, &conversation_id, local_id).await? {
                    Some(existing) => {
                        let position = existing.position;
                        Ok(Appended { message: existing.try_into()?, position, created: false })
                    }
                    // Taken, then gone: only a deleted conversation does that.
                    None => Err(RepoError::conflict(LOCAL_ID_TAKEN)),
                }
            }
            Err(Refused::UploadsAttached) => Err(RepoError::conflict("uploads_attached")),
            Err(Refused::Db(e)) => Err(db_error(e)),
        }
    }

    async fn find_message_by_local_id(
        &self,
        company_id: CompanyId,
        conversation_id: ConversationId,
        local_id: &str,
    ) -> RepoResult<Option<Appended>> {
        let row =
            self.find_by_local_id(&company_id.to_string(), &conversation_id.to_string(), local_id).await?;
        row.map(|row| {
            let position = row.position;
            Ok(Appended { message: row.try_into()?, position, created: false })
        })
        .transpose()
    }

    async fn get_message(&self, company_id: CompanyId, id: MessageId) -> RepoResult<Message> {
        self.message_row(company_id, id).await?.try_into()
    }

    async fn list_messages(
        &self,
        company_id: CompanyId,
        conversation_id: ConversationId,
        cursor: MessageCursor,
        limit: i64,
    ) -> RepoResult<Vec<Message>> {
        let (company_id, conversation_id) = (company_id.to_string(), conversation_id.to_string());
        let mut rows: Vec<MessageRow> = with_conn!(self, |conn| {
            let q = m::table
                .filter(m::company_id.eq(&company_id))
                .filter(m::conversation_id.eq(&conversation_id))
                .limit(limit)
                .into_boxed();
            let q = match cursor {
                MessageCursor::Latest => q.order(m::sequence.desc()),
                MessageCursor::After(n) => q.filter(m::sequence.gt(n)).order(m::sequence.asc()),
                MessageCursor::Before(n) => q.filter(m::sequence.lt(n)).order(m::sequence.desc()),
            };
            q.load(conn).await.map_err(db_error)
        })?;
        if !matches!(cursor, MessageCursor::After(_)) {
            rows.reverse();
        }
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn edit_message(
        &self,
        company_id: CompanyId,
        id: MessageId,
        body: String,
    ) -> RepoResult<Recorded<Message>> {
        let position = self.change_message(company_id, id, MessageChange::Edit(body)).await?;
        let Some(position) = position else {
            self.message_row(company_id, id).await?;
            return Err(RepoError::conflict("message is deleted"));
        };
        Ok(Recorded { value: self.get_message(company_id, id).await?, position: Some(position) })
    }

    async fn delete_message(&self, company_id: CompanyId, id: MessageId) -> RepoResult<Recorded<Message>> {
        let position = self.change_message(company_id, id, MessageChange::Delete).await?;
        Ok(Recorded { value: self.get_message(company_id, id).await?, position })
    }

    async fn settle_forward(
        &self,
        company_id: CompanyId,
        id: MessageId,
        status: MessageStatus,
    ) -> RepoResult<Recorded<Option<Message>>> {
        if !matches!(status, MessageStatus::Sent | MessageStatus::Failed) {
            return Err(RepoError::internal(format!("a forward does not settle as {status}")));
        }
        let position = self.change_message(company_id, id, MessageChange::Forwarded(status)).await?;
        let value = match position {
            Some(_) => Some(self.get_message(company_id, id).await?),
            None => None,
        };
        Ok(Recorded { value, position })
    }

    async fn last_inbound_at(
        &self,
        company_id: CompanyId,
        contact_id: ContactId,
        platform: Platform,
    ) -> RepoResult<Option<DateTime<Utc>>> {
        let (company, contact) = (company_id.to_string(), contact_id.to_string());
        let latest: Option<NaiveDateTime> = with_conn!(self, |conn| {
            let conversations = c::table
                .filter(c::company_id.eq(&company))
                .filter(c::contact_id.eq(&contact))
                .filter(c::platform.eq(platform.as_str()))
                .select(c::id);
            m::table
                .filter(m::company_id.eq(&company))
                .filter(m::conversation_id.eq_any(conversations))
                .filter(m::direction.eq(Direction::Inbound.as_str()))
                .select(diesel::dsl::max(m::created_at))
                .first(conn)
                .await
                .map_err(db_error)
        })?;
        Ok(latest.map(utc))
    }

    async fn sequence_at(
        &self,
        company_id: CompanyId,
        conversation_id: ConversationId,
        at: DateTime<Utc>,
    ) -> RepoResult<Option<i64>> {
        let (company, conversation) = (company_id.to_string(), conversation_id.to_string());
        with_conn!(self, |conn| {
            m::table
                .filter(m::company_id.eq(&company))
                .filter(m::conversation_id.eq(&conversation))
                .filter(m::created_at.le(naive(at)))
                .select(diesel::dsl::max(m::sequence))
                .first(conn)
                .await
                .map_err(db_error)
        })
    }

    async fn advance_status(
        &self,
        company_id: CompanyId,
        conversation_id: ConversationId,
        direction: Direction,
        up_to_sequence: i64,
        status: MessageStatus,
    ) -> RepoResult<Recorded<u64>> {
        let (company, conversation) = (company_id.to_string(), conversation_id.to_string());
        let from = earlier_than(status);
        let clock = self.clock();
        // The conversation's next position first, as every change takes it (one lock order, no
        // deadlock; on SQLite the write lock at once); rolled back when no message moved, so a
        // receipt that changes nothing records nothing.
        let recorded = with_conn!(self, |conn| {
            let recorded = conn
                .transaction(async |conn| {
                    let Some(slot) = next_position!(conn, &company, &conversation, clock).optional()? else {
                        return Ok(Recorded { value: 0, position: None });
                    };
                    let moved = diesel::update(
                        m::table
                            .filter(m::company_id.eq(&company))
                            .filter(m::conversation_id.eq(&conversation))
                            .filter(m::direction.eq(direction.as_str()))
                            .filter(m::sequence.le(up_to_sequence))
                            .filter(m::status.eq_any(from)),
                    )
                    .set(m::status.eq(status.as_str()))
                    .execute(conn)
                    .await?;
                    if moved == 0 {
                        return Err(diesel::result::Error::RollbackTransaction);
                    }
                    if status == MessageStatus::Read {
                        let target =
                            c::table.filter(c::company_id.eq(&company)).filter(c::id.eq(&conversation));
                        match direction {
                            Direction::Inbound => {
                                diesel::update(target.filter(c::agent_read_sequence.lt(up_to_sequence)))
                                    .set(c::agent_read_sequence.eq(up_to_sequence))
                                    .execute(conn)
                                    .await?
                            }
                            Direction::Outbound => {
                                diesel::update(target.filter(c::contact_read_sequence.lt(up_to_sequence)))
                                    .set(c::contact_read_sequence.eq(up_to_sequence))
                                    .execute(conn)
                                    .await?
                            }
                        };
                    }
                    let change =
                        ChangeRow::receipt(&company, &conversation, slot, direction, status, up_to_sequence);
                    record_change!(conn, &change)?;
                    Ok(Recorded { value: moved as u64, position: Some(slot.0) })
                })
                .await;
            match recorded {
                Err(diesel::result::Error::RollbackTransaction) => Ok(Recorded { value: 0, position: None }),
                other => other.map_err(db_error),
            }
        })?;
        Ok(recorded)
    }

    async fn expire_messages(
        &self,
        company_id: CompanyId,
        before: DateTime<Utc>,
        limit: i64,
    ) -> RepoResult<u64> {
        let (company, bound, before) = (company_id.to_string(), first_id_at(before), naive(before));
        let deleted = with_conn!(self, |conn| {
            // Ids are UUID v7, time-ordered: the company's (company_id, id) key finds the old rows
            // without an index on creation time, which every append would have to maintain.
            let oldest: Vec<String> = m::table
                .select(m::id)
                .filter(m::company_id.eq(&company))
                .filter(m::id.lt(&bound))
                .filter(m::created_at.lt(before))
                .order(m::id.asc())
                .limit(limit)
                .load(conn)
                .await
                .map_err(db_error)?;
            diesel::delete(m::table.filter(m::company_id.eq(&company)).filter(m::id.eq_any(&oldest)))
                .execute(conn)
                .await
                .map_err(db_error)
        })?;
        Ok(deleted as u64)
    }

    async fn search_messages(
        &self,
        company_id: CompanyId,
        query: &str,
        limit: i64,
        offset: i64,
    ) -> RepoResult<Vec<Message>> {
        use diesel::sql_types::{BigInt, Text};
        let company_id = company_id.to_string();
        let (sql, text) = match self.backend() {
            Backend::Postgres => (PG_SEARCH, query.to_owned()),
            Backend::Sqlite => (SQLITE_SEARCH, fts5_query(query)),
        };
        if text.trim().is_empty() {
            return Ok(Vec::new());
        }
        let backend = self.backend();
        let rows: Vec<MessageRow> = with_conn!(self, |conn| {
            let q = diesel::sql_query(sql);
            let q = match backend {
                Backend::Postgres => q.bind::<Text, _>(&company_id).bind::<Text, _>(&text).into_boxed(),
                Backend::Sqlite => q.bind::<Text, _>(&text).bind::<Text, _>(&company_id).into_boxed(),
            };
            q.bind::<BigInt, _>(limit).bind::<BigInt, _>(offset).load(conn).await.map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}

/// The smallest UUID v7 (as stored text) of time `at`: every id made before `at` sorts below it.
fn first_id_at(at: DateTime<Utc>) -> String {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    bytes[6] = 0x70;
    bytes[8] = 0x80;
    uuid::Uuid::from_bytes(bytes).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts5_queries_have_no_operators() {
        assert_eq!(fts5_query("refund, please!"), "\"refund\" \"please\"");
        assert_eq!(fts5_query("a\" OR body:*"), "\"a\" \"OR\" \"body\"");
        assert_eq!(fts5_query("  -- "), "");
    }

    #[test]
    fn first_id_at_sorts_between_the_ids_of_before_and_after() {
        let at = Utc::now();
        let earlier = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            u64::try_from((at - chrono::Duration::milliseconds(1)).timestamp()).unwrap(),
            (at - chrono::Duration::milliseconds(1)).timestamp_subsec_nanos(),
        ));
        let later = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            u64::try_from(at.timestamp()).unwrap(),
            at.timestamp_subsec_nanos(),
        ));
        let bound = first_id_at(at);
        assert!(earlier.to_string() < bound, "{earlier} < {bound}");
        assert!(later.to_string() >= bound, "{later} >= {bound}");
    }
}
