//! Conversations table: the one-open-conversation rule, activity-ordered lists, unread counts.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use tidings_domain::{
    AppId, ChangeKind, CompanyId, ContactId, Conversation, ConversationId, ConversationPatch,
    ConversationQuery, ConversationRepo, ConversationStatus, Direction, Message, Platform, Recorded,
    RepoError, RepoResult,
};

use crate::error::db_error;
use crate::feed::{ChangeRow, change_time, next_position, record_change};
use crate::messages::MessageRow;
use crate::pool::with_conn;
use crate::rows::{naive, now, parse_id, utc};
use crate::schema::{conversations as c, messages as m};
use crate::store::Store;

#[derive(Queryable, Insertable)]
#[diesel(table_name = c)]
pub(crate) struct ConversationRow {
    pub id: String,
    pub company_id: String,
    pub contact_id: String,
    pub app_id: Option<String>,
    pub platform: String,
    pub status: String,
    pub assignee_id: Option<String>,
    pub last_sequence: i64,
    pub last_message_at: Option<NaiveDateTime>,
    pub agent_read_sequence: i64,
    pub contact_read_sequence: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub last_position: i64,
    pub changed_at: NaiveDateTime,
}

impl TryFrom<ConversationRow> for Conversation {
    type Error = RepoError;
    fn try_from(row: ConversationRow) -> Result<Self, RepoError> {
        Ok(Conversation {
            id: parse_id(&row.id)?,
            company_id: parse_id(&row.company_id)?,
            contact_id: parse_id(&row.contact_id)?,
            app_id: row.app_id.as_deref().map(parse_id).transpose()?,
            platform: parse_id(&row.platform)?,
            status: parse_id(&row.status)?,
            assignee_id: row.assignee_id.as_deref().map(parse_id).transpose()?,
            last_sequence: row.last_sequence,
            last_message_at: row.last_message_at.map(utc),
            agent_read_sequence: row.agent_read_sequence,
            contact_read_sequence: row.contact_read_sequence,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            last_position: row.last_position,
            changed_at: utc(row.changed_at),
        })
    }
}

impl Store {
    async fn find_open_conversation(
        &self,
        company_id: &str,
        contact_id: &str,
        app_id: Option<&str>,
        platform: &str,
    ) -> RepoResult<Option<ConversationRow>> {
        let (company_id, contact_id) = (company_id.to_owned(), contact_id.to_owned());
        let (app_id, platform) = (app_id.map(str::to_owned), platform.to_owned());
        with_conn!(self, |conn| {
            let q = c::table
                .filter(c::company_id.eq(&company_id))
                .filter(c::contact_id.eq(&contact_id))
                .filter(c::status.ne(ConversationStatus::Resolved.as_str()))
                .into_boxed();
            let q = match &app_id {
                Some(app) => q.filter(c::app_id.eq(app)),
                None => q.filter(c::app_id.is_null()).filter(c::platform.eq(&platform)),
            };
            q.first(conn).await.optional().map_err(db_error)
        })
    }
}

#[async_trait]
impl ConversationRepo for Store {
    async fn open_conversation(
        &self,
        company_id: CompanyId,
        contact_id: ContactId,
        app_id: Option<AppId>,
        platform: Platform,
    ) -> RepoResult<Conversation> {
        let (company, contact) = (company_id.to_string(), contact_id.to_string());
        let app = app_id.map(|a| a.to_string());
        if let Some(row) =
            self.find_open_conversation(&company, &contact, app.as_deref(), platform.as_str()).await?
        {
            return row.try_into();
        }
        let now = now();
        let row = ConversationRow {
            id: ConversationId::new().to_string(),
            company_id: company.clone(),
            contact_id: contact.clone(),
            app_id: app.clone(),
            platform: platform.as_str().into(),
            status: ConversationStatus::Open.as_str().into(),
            assignee_id: None,
            last_sequence: 0,
            last_message_at: None,
            agent_read_sequence: 0,
            contact_read_sequence: 0,
            created_at: now,
            updated_at: now,
            last_position: 0,
            changed_at: now,
        };
        let clock = self.clock();
        // Its change time is taken from the store's clock like every other change's (the inbox
        // catch-up compares them).
        // A concurrent call may open it first (the unique index allows one): the insert then does
        // nothing, without failing, so that it may run inside a unit of work.
        let inserted = with_conn!(self, |conn| {
            conn.transaction(async |conn| {
                if diesel::insert_into(c::table).values(&row).on_conflict_do_nothing().execute(conn).await?
                    == 0
                {
                    return Ok(None);
                }
                diesel::update(c::table.filter(c::company_id.eq(&row.company_id)).filter(c::id.eq(&row.id)))
                    .set(c::changed_at.eq(change_time!(clock)))
                    .returning(c::changed_at)
                    .get_result::<NaiveDateTime>(conn)
                    .await
                    .map(Some)
            })
            .await
            .map_err(db_error)
            .map(|changed_at| changed_at.map(|changed_at| ConversationRow { changed_at, ..row }))
        })?;
        match inserted {
            Some(row) => row.try_into(),
            None => self
                .find_open_conversation(&company, &contact, app.as_deref(), platform.as_str())
                .await?
                .ok_or_else(RepoError::not_found)?
                .try_into(),
        }
    }

    async fn get_conversation(&self, company_id: CompanyId, id: ConversationId) -> RepoResult<Conversation> {
        let (company_id, id) = (company_id.to_string(), id.to_string());
        let row: ConversationRow = with_conn!(self, |conn| {
            c::table
                .filter(c::company_id.eq(&company_id))
                .filter(c::id.eq(&id))
                .first(conn)
                .await
                .map_err(db_error)
        })?;
        row.try_into()
    }

    async fn list_conversations(
        &self,
        company_id: CompanyId,
        query: ConversationQuery,
    ) -> RepoResult<Vec<Conversation>> {
        let company_id = company_id.to_string();
        let status = query.status.map(|s| s.as_str());
        let assignee = query.assignee_id.map(|a| a.to_string());
        let contact = query.contact_id.map(|a| a.to_string());
        let platform = query.platform.map(|p| p.as_str());
        let after = query.after.map(|(t, id)| (naive(t), id.to_string()));
        let rows: Vec<ConversationRow> = with_conn!(self, |conn| {
            let mut q = c::table
                .filter(c::company_id.eq(&company_id))
                .order((c::updated_at.desc(), c::id.desc()))
                .limit(query.limit)
                .into_boxed();
            if let Some(status) = status {
                q = q.filter(c::status.eq(status));
            }
            if let Some(assignee) = &assignee {
                q = q.filter(c::assignee_id.eq(assignee));
            } else if query.unassigned {
                q = q.filter(c::assignee_id.is_null());
            }
            if let Some(contact) = &contact {
                q = q.filter(c::contact_id.eq(contact));
            }
            if let Some(platform) = platform {
                q = q.filter(c::platform.eq(platform));
            }
            if let Some((t, id)) = &after {
                q = q.filter(c::updated_at.lt(t).or(c::updated_at.eq(t).and(c::id.lt(id))));
            }
            q.load(conn).await.map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn update_conversation(
        &self,
        company_id: CompanyId,
        id: ConversationId,
        patch: ConversationPatch,
    ) -> RepoResult<Recorded<Conversation>> {
        let status = patch.status.map(|s| s.as_str().to_owned());
        let assignee = patch.assignee_id.map(|a| a.map(|u| u.to_string()));
        let (company, id_text) = (company_id.to_string(), id.to_string());
        let clock = self.clock();
        // Lock the row first (a write that changes nothing, so that SQLite takes its lock at once),
        // then compare: a patch that changes nothing records nothing.
        let position = with_conn!(self, |conn| {
            conn.transaction(async |conn| {
                let target = c::table.filter(c::company_id.eq(&company)).filter(c::id.eq(&id_text));
                let (current_status, current_assignee): (String, Option<String>) = diesel::update(target)
                    .set(c::last_position.eq(c::last_position))
                    .returning((c::status, c::assignee_id))
                    .get_result(conn)
                    .await?;
                let new_status = status.clone().unwrap_or(current_status.clone());
                let new_assignee = assignee.clone().unwrap_or(current_assignee.clone());
                if new_status == current_status && new_assignee == current_assignee {
                    return Ok(None);
                }
                let slot = next_position!(conn, &company, &id_text, clock)?;
                diesel::update(target)
                    .set((
                        c::status.eq(&new_status),
                        c::assignee_id.eq(&new_assignee),
                        c::updated_at.eq(now()),
                    ))
                    .execute(conn)
                    .await?;
                let change = ChangeRow::new(&company, &id_text, slot, ChangeKind::ConversationUpdated, None);
                record_change!(conn, &change)?;
                Ok::<_, diesel::result::Error>(Some(slot.0))
            })
            .await
            .map_err(db_error)
        })?;
        Ok(Recorded { value: self.get_conversation(company_id, id).await?, position })
    }

    async fn unread_counts(
        &self,
        company_id: CompanyId,
        ids: &[ConversationId],
    ) -> RepoResult<Vec<(ConversationId, i64)>> {
        let company_id = company_id.to_string();
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let rows: Vec<(String, i64)> = with_conn!(self, |conn| {
            m::table
                .inner_join(c::table)
                .filter(c::company_id.eq(&company_id))
                .filter(m::conversation_id.eq_any(&ids))
                .filter(m::direction.eq(Direction::Inbound.as_str()))
                .filter(m::sequence.gt(c::agent_read_sequence))
                .filter(m::deleted_at.is_null())
                .group_by(m::conversation_id)
                .select((m::conversation_id, count_star()))
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        rows.into_iter().map(|(id, n)| Ok((parse_id(&id)?, n))).collect()
    }

    async fn last_messages(&self, company_id: CompanyId, ids: &[ConversationId]) -> RepoResult<Vec<Message>> {
        let company_id = company_id.to_string();
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        // A conversation's `last_sequence` is its newest message's: one indexed lookup each.
        let rows: Vec<MessageRow> = with_conn!(self, |conn| {
            m::table
                .inner_join(c::table)
                .filter(c::company_id.eq(&company_id))
                .filter(m::company_id.eq(&company_id))
                .filter(m::conversation_id.eq_any(&ids))
                .filter(m::sequence.eq(c::last_sequence))
                .select(m::all_columns)
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}
