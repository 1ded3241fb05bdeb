//! Devices table, and merging the contacts behind devices.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use tidings_domain::{
    AppId, ChangeKind, CompanyId, ContactFields, ContactId, Device, DeviceId, DeviceRepo, Platform,
    RepoError, RepoResult,
};

use crate::contacts::new_contact_row;
use crate::error::db_error;
use crate::feed::{ChangeRow, next_position, record_change};
use crate::pool::with_conn;
use crate::rows::{now, parse_id, utc};
use crate::schema::{contacts, conversations, devices};
use crate::store::Store;

#[derive(Queryable, Insertable)]
#[diesel(table_name = devices)]
pub(crate) struct DeviceRow {
    pub id: String,
    pub company_id: String,
    pub app_id: String,
    pub device_id: String,
    pub contact_id: String,
    pub platform: String,
    pub push_token: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl TryFrom<DeviceRow> for Device {
    type Error = RepoError;
    fn try_from(row: DeviceRow) -> Result<Self, RepoError> {
        Ok(Device {
            id: parse_id(&row.id)?,
            company_id: parse_id(&row.company_id)?,
            app_id: parse_id(&row.app_id)?,
            device_id: row.device_id,
            contact_id: parse_id(&row.contact_id)?,
            platform: parse_id(&row.platform)?,
            push_token: row.push_token,
            created_at: utc(row.created_at),
        })
    }
}

impl Store {
    async fn find_device_row(
        &self,
        company_id: &str,
        app_id: &str,
        device_id: &str,
    ) -> RepoResult<Option<DeviceRow>> {
        let (company_id, app_id, device_id) =
            (company_id.to_owned(), app_id.to_owned(), device_id.to_owned());
        with_conn!(self, |conn| {
            devices::table
                .filter(devices::company_id.eq(&company_id))
                .filter(devices::app_id.eq(&app_id))
                .filter(devices::device_id.eq(&device_id))
                .first(conn)
                .await
                .optional()
                .map_err(db_error)
        })
    }
}

#[async_trait]
impl DeviceRepo for Store {
    async fn device_for(
        &self,
        company_id: CompanyId,
        app_id: AppId,
        device_id: &str,
        platform: Platform,
    ) -> RepoResult<Device> {
        let (company, app) = (company_id.to_string(), app_id.to_string());
        if let Some(row) = self.find_device_row(&company, &app, device_id).await? {
            return row.try_into();
        }
        let contact = new_contact_row(company_id, ContactFields::default());
        let now = now();
        let row = DeviceRow {
            id: DeviceId::new().to_string(),
            company_id: company_id.to_string(),
            app_id: app.clone(),
            device_id: device_id.to_owned(),
            contact_id: contact.id.clone(),
            platform: platform.as_str().into(),
            push_token: None,
            created_at: now,
            updated_at: now,
        };
        let created = with_conn!(self, |conn| {
            conn.transaction(async |conn| {
                diesel::insert_into(contacts::table).values(&contact).execute(conn).await?;
                diesel::insert_into(devices::table).values(&row).execute(conn).await
            })
            .await
            .map_err(db_error)?;
            Ok(row)
        });
        match created {
            Ok(row) => row.try_into(),
            // Another request registered the same device first: use it.
            Err(e) if e.is_conflict() => self
                .find_device_row(&company, &app, device_id)
                .await?
                .ok_or_else(RepoError::not_found)?
                .try_into(),
            Err(e) => Err(e),
        }
    }

    async fn find_device(
        &self,
        company_id: CompanyId,
        app_id: AppId,
        device_id: &str,
    ) -> RepoResult<Option<Device>> {
        let (company, app) = (company_id.to_string(), app_id.to_string());
        self.find_device_row(&company, &app, device_id).await?.map(TryInto::try_into).transpose()
    }

    async fn update_device(
        &self,
        company_id: CompanyId,
        id: DeviceId,
        platform: Platform,
        push_token: Option<String>,
    ) -> RepoResult<Device> {
        let (company_id, id) = (company_id.to_string(), id.to_string());
        let row: DeviceRow = with_conn!(self, |conn| {
            diesel::update(devices::table.filter(devices::company_id.eq(&company_id)).find(&id))
                .set((
                    devices::platform.eq(platform.as_str()),
                    devices::push_token.eq(&push_token),
                    devices::updated_at.eq(now()),
                ))
                .returning(devices::all_columns)
                .get_result(conn)
                .await
                .map_err(db_error)
        })?;
        row.try_into()
    }

    async fn assign_device(
        &self,
        company_id: CompanyId,
        id: DeviceId,
        contact_id: ContactId,
    ) -> RepoResult<Device> {
        let (company_id, id, contact_id) = (company_id.to_string(), id.to_string(), contact_id.to_string());
        let row: DeviceRow = with_conn!(self, |conn| {
            // The contact must be the company's too: the sub-select finds nothing otherwise, and the
            // update then fails on the NOT NULL column instead of linking across companies.
            let contact = contacts::table
                .filter(contacts::company_id.eq(company_id.clone()))
                .filter(contacts::id.eq(contact_id.clone()))
                .select(contacts::id)
                .single_value();
            diesel::update(devices::table.filter(devices::company_id.eq(&company_id)).find(&id))
                .set((devices::contact_id.eq(contact.assume_not_null()), devices::updated_at.eq(now())))
                .returning(devices::all_columns)
                .get_result(conn)
                .await
                .map_err(db_error)
        })?;
        row.try_into()
    }

    async fn push_targets(&self, company_id: CompanyId, contact_id: ContactId) -> RepoResult<Vec<Device>> {
        let (company_id, contact_id) = (company_id.to_string(), contact_id.to_string());
        let rows: Vec<DeviceRow> = with_conn!(self, |conn| {
            devices::table
                .filter(devices::company_id.eq(&company_id))
                .filter(devices::contact_id.eq(&contact_id))
                .filter(devices::push_token.is_not_null())
                .order((devices::created_at.asc(), devices::id.asc()))
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn clear_push_token(&self, company_id: CompanyId, id: DeviceId, token: &str) -> RepoResult<bool> {
        let (company_id, id, token) = (company_id.to_string(), id.to_string(), token.to_owned());
        let cleared = with_conn!(self, |conn| {
            // Only the token the push service refused: the device may have registered a new one
            // while the call was under way, and that one must stay.
            diesel::update(
                devices::table
                    .filter(devices::company_id.eq(&company_id))
                    .filter(devices::id.eq(&id))
                    .filter(devices::push_token.eq(&token)),
            )
            .set((devices::push_token.eq(None::<String>), devices::updated_at.eq(now())))
            .execute(conn)
            .await
            .map_err(db_error)
        })?;
        Ok(cleared == 1)
    }

    async fn merge_contacts(
        &self,
        company_id: CompanyId,
        from: ContactId,
        into: ContactId,
    ) -> RepoResult<()> {
        let (company, from, into) = (company_id.to_string(), from.to_string(), into.to_string());
        let clock = self.clock();
        with_conn!(self, |conn| {
            conn.transaction(async |conn| {
                diesel::update(
                    devices::table
                        .filter(devices::company_id.eq(&company))
                        .filter(devices::contact_id.eq(&from)),
                )
                .set(devices::contact_id.eq(&into))
                .execute(conn)
                .await?;
                // Only into a contact of the same company (checked after the first write, which on
                // SQLite takes the write lock): the transaction rolls back otherwise.
                let target: i64 = contacts::table
                    .filter(contacts::company_id.eq(&company))
                    .filter(contacts::id.eq(&into))
                    .count()
                    .get_result(conn)
                    .await?;
                if target == 0 {
                    return Err(diesel::result::Error::NotFound);
                }
                // Where both contacts have an unresolved conversation on the same app, the merged-in
                // one is resolved (its messages stay) so the contact keeps a single open thread.
                let open_targets: Vec<(Option<String>, String)> = conversations::table
                    .filter(conversations::company_id.eq(&company))
                    .filter(conversations::contact_id.eq(&into))
                    .filter(conversations::status.ne("resolved"))
                    .select((conversations::app_id, conversations::platform))
                    .load(conn)
                    .await?;
                for (app_id, platform) in open_targets {
                    let colliding = conversations::table
                        .filter(conversations::company_id.eq(&company))
                        .filter(conversations::contact_id.eq(&from))
                        .filter(conversations::status.ne("resolved"))
                        .filter(conversations::platform.eq(&platform))
                        .into_boxed();
                    let colliding = match &app_id {
                        Some(app) => colliding.filter(conversations::app_id.eq(app)),
                        None => colliding.filter(conversations::app_id.is_null()),
                    };
                    let ids: Vec<String> = colliding.select(conversations::id).load(conn).await?;
                    diesel::update(
                        conversations::table
                            .filter(conversations::company_id.eq(&company))
                            .filter(conversations::id.eq_any(&ids)),
                    )
                    .set((conversations::status.eq("resolved"), conversations::updated_at.eq(now())))
                    .execute(conn)
                    .await?;
                }
                let moved: Vec<String> = diesel::update(
                    conversations::table
                        .filter(conversations::company_id.eq(&company))
                        .filter(conversations::contact_id.eq(&from)),
                )
                .set(conversations::contact_id.eq(&into))
                .returning(conversations::id)
                .get_results(conn)
                .await?;
                // Each moved conversation changed (its contact, and maybe its status): its feed says so.
                for conversation in &moved {
                    let slot = next_position!(conn, &company, conversation, clock)?;
                    let change =
                        ChangeRow::new(&company, conversation, slot, ChangeKind::ConversationUpdated, None);
                    record_change!(conn, &change)?;
                }
                diesel::delete(
                    contacts::table.filter(contacts::company_id.eq(&company)).filter(contacts::id.eq(&from)),
                )
                .execute(conn)
                .await
            })
            .await
            .map_err(db_error)
        })?;
        Ok(())
    }
}
