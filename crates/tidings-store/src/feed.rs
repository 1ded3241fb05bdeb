//! The conversation change feed: each write that changes a conversation takes the conversation's next
//! position (the row lock it takes serializes writers, so positions have no gap and no duplicate). A
//! new message records its creation in its own row (`messages.position`); any other change appends one
//! row naming it. Replays merge the two, with the messages as they are now.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tidings_domain::{
    ChangeCursor, ChangeKind, ChangedPage, CompanyId, ConversationId, Direction, FeedChange, FeedEntry,
    FeedRepo, MessageStatus, RepoResult,
};

use crate::conversations::ConversationRow;
use crate::error::db_error;
use crate::messages::MessageRow;
use crate::pool::{Backend, with_conn};
use crate::rows::{json, naive, now, parse_id, utc};
use crate::schema::{conversation_changes as cc, conversations as c, messages as m};
use crate::store::Store;

/// A change as its row holds it.
#[derive(Clone, Queryable, Insertable)]
#[diesel(table_name = cc)]
pub(crate) struct ChangeRow {
    pub company_id: String,
    pub conversation_id: String,
    pub position: i64,
    pub last_sequence: i64,
    pub kind: String,
    pub message_id: Option<String>,
    pub detail: String,
    pub recorded_at: NaiveDateTime,
}

impl ChangeRow {
    /// The change `kind` of a conversation, at the `slot` it took, about `message_id` if any.
    pub(crate) fn new(
        company_id: &str,
        conversation_id: &str,
        slot: Slot,
        kind: ChangeKind,
        message_id: Option<&str>,
    ) -> Self {
        ChangeRow {
            company_id: company_id.to_owned(),
            conversation_id: conversation_id.to_owned(),
            position: slot.0,
            last_sequence: slot.1,
            kind: kind.as_str().to_owned(),
            message_id: message_id.map(str::to_owned),
            detail: "{}".to_owned(),
            recorded_at: now(),
        }
    }

    /// A receipt: messages of `direction` up to `up_to_sequence` reached `status`.
    pub(crate) fn receipt(
        company_id: &str,
        conversation_id: &str,
        slot: Slot,
        direction: Direction,
        status: MessageStatus,
        up_to_sequence: i64,
    ) -> Self {
        let detail = serde_json::json!({
            "direction": direction.as_str(),
            "status": status.as_str(),
            "up_to_sequence": up_to_sequence,
        });
        ChangeRow {
            detail: detail.to_string(),
            ..ChangeRow::new(company_id, conversation_id, slot, ChangeKind::MessageStatus, None)
        }
    }
}

/// The feed position a change took, and the conversation's last message sequence then (which places
/// the change among the messages: see [`FeedRepo::feed_after`]).
pub(crate) type Slot = (i64, i64);

/// Where change times come from: PostgreSQL's clock, one for every node, read when the change takes
/// the conversation's lock; on SQLite, which lives in one process, the time this process bound.
#[derive(Clone, Copy)]
pub(crate) struct Clock {
    pub(crate) prefix: &'static str,
    pub(crate) suffix: &'static str,
    pub(crate) at: NaiveDateTime,
}

impl Store {
    /// The clock of this store's backend, for [`change_time!`].
    pub(crate) fn clock(&self) -> Clock {
        match self.backend() {
            Backend::Postgres => {
                Clock { prefix: "COALESCE((clock_timestamp() AT TIME ZONE 'UTC'), ", suffix: ")", at: now() }
            }
            Backend::Sqlite => Clock { prefix: "", suffix: "", at: now() },
        }
    }
}

/// The time of a change, as an SQL expression of a [`Clock`].
macro_rules! change_time {
    ($clock:expr) => {
        diesel::dsl::sql::<diesel::sql_types::Timestamp>($clock.prefix)
            .bind::<diesel::sql_types::Timestamp, _>($clock.at)
            .sql($clock.suffix)
    };
}
pub(crate) use change_time;

/// Takes the next feed position of a conversation of a company, stamping its change time; the row
/// stays locked until the transaction ends. Evaluates to `QueryResult<Slot>`.
macro_rules! next_position {
    ($conn:expr, $company:expr, $conversation:expr, $clock:expr) => {
        diesel::update(
            $crate::schema::conversations::table
                .filter($crate::schema::conversations::company_id.eq($company))
                .filter($crate::schema::conversations::id.eq($conversation)),
        )
        .set((
            $crate::schema::conversations::last_position.eq($crate::schema::conversations::last_position + 1),
            $crate::schema::conversations::changed_at.eq($crate::feed::change_time!($clock)),
        ))
        .returning((
            $crate::schema::conversations::last_position,
            $crate::schema::conversations::last_sequence,
        ))
        .get_result::<$crate::feed::Slot>($conn)
        .await
    };
}
pub(crate) use next_position;

/// Appends a change row. Evaluates to `QueryResult<usize>`.
macro_rules! record_change {
    ($conn:expr, $row:expr) => {
        diesel::insert_into($crate::schema::conversation_changes::table).values($row).execute($conn).await
    };
}
pub(crate) use record_change;

/// The feed entry of a change row; `None` for a change to a message that retention has since
/// removed (its row is gone, so there is nothing left to replay).
fn entry(row: ChangeRow, message: Option<MessageRow>) -> RepoResult<Option<FeedEntry>> {
    let kind: ChangeKind = parse_id(&row.kind)?;
    let change = match kind {
        ChangeKind::MessageNew | ChangeKind::MessageUpdated => {
            let Some(message) = message else { return Ok(None) };
            let message = message.try_into()?;
            if kind == ChangeKind::MessageNew {
                FeedChange::MessageNew(message)
            } else {
                FeedChange::MessageUpdated(message)
            }
        }
        ChangeKind::MessageStatus => {
            let detail = json(&row.detail)?;
            let field = |name: &str| detail.get(name).and_then(serde_json::Value::as_str).unwrap_or("");
            FeedChange::MessageStatus {
                direction: parse_id(field("direction"))?,
                status: parse_id(field("status"))?,
                up_to_sequence: detail.get("up_to_sequence").and_then(serde_json::Value::as_i64).unwrap_or(0),
            }
        }
        ChangeKind::ConversationUpdated => FeedChange::ConversationUpdated,
    };
    Ok(Some(FeedEntry { position: row.position, recorded_at: utc(row.recorded_at), change }))
}

#[async_trait]
impl FeedRepo for Store {
    async fn feed_after(
        &self,
        company_id: CompanyId,
        conversation_id: ConversationId,
        after: i64,
        limit: i64,
    ) -> RepoResult<Vec<FeedEntry>> {
        let (company, conversation) = (company_id.to_string(), conversation_id.to_string());
        let (changes, created) = with_conn!(self, |conn| {
            let changes: Vec<(ChangeRow, Option<MessageRow>)> = cc::table
                .left_join(
                    m::table.on(m::id.nullable().eq(cc::message_id).and(m::company_id.eq(cc::company_id))),
                )
                .filter(cc::company_id.eq(&company))
                .filter(cc::conversation_id.eq(&conversation))
                .filter(cc::position.gt(after))
                .order(cc::position.asc())
                .limit(limit)
                .select((cc::all_columns, m::all_columns.nullable()))
                .load(conn)
                .await
                .map_err(db_error)?;
            // Messages created after `after` are those whose sequence is above the conversation's last
            // sequence at `after`. The newest change row at or before `after` knew it then; every
            // position between that row and `after` is one more message. One key lookup.
            let below: Option<(i64, i64)> = cc::table
                .filter(cc::company_id.eq(&company))
                .filter(cc::conversation_id.eq(&conversation))
                .filter(cc::position.le(after))
                .order(cc::position.desc())
                .select((cc::position, cc::last_sequence))
                .first(conn)
                .await
                .optional()
                .map_err(db_error)?;
            let floor = match below {
                Some((position, sequence)) => sequence + (after - position),
                None => after,
            };
            let created: Vec<MessageRow> = m::table
                .filter(m::company_id.eq(&company))
                .filter(m::conversation_id.eq(&conversation))
                .filter(m::sequence.gt(floor))
                .order(m::sequence.asc())
                .limit(limit)
                .load(conn)
                .await
                .map_err(db_error)?;
            Ok((changes, created))
        })?;
        let mut entries = Vec::with_capacity(changes.len() + created.len());
        for (row, message) in changes {
            entries.extend(entry(row, message)?);
        }
        for row in created {
            let (position, recorded_at) = (row.position, utc(row.created_at));
            entries.push(FeedEntry {
                position,
                recorded_at,
                change: FeedChange::MessageNew(row.try_into()?),
            });
        }
        entries.sort_by_key(|e| e.position);
        entries.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(entries)
    }

    async fn position_of_sequence(
        &self,
        company_id: CompanyId,
        conversation_id: ConversationId,
        sequence: i64,
    ) -> RepoResult<i64> {
        let (company, conversation) = (company_id.to_string(), conversation_id.to_string());
        let position: Option<i64> = with_conn!(self, |conn| {
            m::table
                .filter(m::company_id.eq(&company))
                .filter(m::conversation_id.eq(&conversation))
                .filter(m::sequence.le(sequence))
                .order(m::sequence.desc())
                .select(m::position)
                .first(conn)
                .await
                .optional()
                .map_err(db_error)
        })?;
        Ok(position.unwrap_or(0))
    }

    async fn changed_conversations(
        &self,
        company_id: CompanyId,
        after: Option<ChangeCursor>,
        limit: i64,
    ) -> RepoResult<ChangedPage> {
        // Read first: whatever the page holds was committed by then.
        let clock = self.feed_clock().await?;
        let company = company_id.to_string();
        let after = after.map(|a| (naive(a.changed_at), a.id.map(|id| id.to_string())));
        let rows: Vec<ConversationRow> = with_conn!(self, |conn| {
            let mut q = c::table
                .filter(c::company_id.eq(&company))
                .order((c::changed_at.asc(), c::id.asc()))
                .limit(limit)
                .into_boxed();
            q = match &after {
                None => q,
                Some((at, None)) => q.filter(c::changed_at.ge(at)),
                Some((at, Some(id))) => {
                    q.filter(c::changed_at.gt(at).or(c::changed_at.eq(at).and(c::id.gt(id))))
                }
            };
            q.load(conn).await.map_err(db_error)
        })?;
        let conversations = rows.into_iter().map(TryInto::try_into).collect::<RepoResult<_>>()?;
        Ok(ChangedPage { conversations, clock })
    }

    async fn feed_clock(&self) -> RepoResult<DateTime<chrono::Utc>> {
        if self.backend() == Backend::Sqlite {
            return Ok(utc(now()));
        }
        let at: NaiveDateTime = with_conn!(self, |conn| {
            diesel::select(diesel::dsl::sql::<diesel::sql_types::Timestamp>(
                "(clock_timestamp() AT TIME ZONE 'UTC')",
            ))
            .get_result(conn)
            .await
            .map_err(db_error)
        })?;
        Ok(utc(at))
    }
}
