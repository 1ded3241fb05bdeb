//! Uploads table: one row per file in the blob store, always read and changed within its company.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tidings_domain::{CompanyId, RepoError, RepoResult, Upload, UploadId, UploadRepo};

use crate::error::db_error;
use crate::pool::with_conn;
use crate::rows::{naive, parse_id, utc};
use crate::schema::uploads as u;
use crate::store::Store;

#[derive(Clone, Queryable, Insertable)]
#[diesel(table_name = u)]
struct UploadRow {
    id: String,
    company_id: String,
    object_key: String,
    name: String,
    content_type: String,
    size: i64,
    sha256: String,
    width: Option<i32>,
    height: Option<i32>,
    thumbnail_key: Option<String>,
    uploaded_by: String,
    created_at: NaiveDateTime,
    message_id: Option<String>,
}

impl From<&Upload> for UploadRow {
    fn from(x: &Upload) -> Self {
        UploadRow {
            id: x.id.to_string(),
            company_id: x.company_id.to_string(),
            object_key: x.object_key.clone(),
            name: x.name.clone(),
            content_type: x.content_type.clone(),
            size: x.size,
            sha256: x.sha256.clone(),
            width: x.width,
            height: x.height,
            thumbnail_key: x.thumbnail_key.clone(),
            uploaded_by: x.uploaded_by.clone(),
            created_at: naive(x.created_at),
            message_id: x.message_id.map(|id| id.to_string()),
        }
    }
}

impl TryFrom<UploadRow> for Upload {
    type Error = RepoError;
    fn try_from(row: UploadRow) -> Result<Self, RepoError> {
        Ok(Upload {
            id: parse_id(&row.id)?,
            company_id: parse_id(&row.company_id)?,
            object_key: row.object_key,
            name: row.name,
            content_type: row.content_type,
            size: row.size,
            sha256: row.sha256,
            width: row.width,
            height: row.height,
            thumbnail_key: row.thumbnail_key,
            uploaded_by: row.uploaded_by,
            created_at: utc(row.created_at),
            message_id: row.message_id.as_deref().map(parse_id).transpose()?,
        })
    }
}

#[async_trait]
impl UploadRepo for Store {
    async fn create_upload(&self, upload: Upload) -> RepoResult<Upload> {
        let row = UploadRow::from(&upload);
        with_conn!(self, |conn| diesel::insert_into(u::table)
            .values(&row)
            .execute(conn)
            .await
            .map_err(db_error))?;
        Ok(upload)
    }

    async fn get_upload(&self, company_id: CompanyId, id: UploadId) -> RepoResult<Upload> {
        let (company, id) = (company_id.to_string(), id.to_string());
        let row: UploadRow = with_conn!(self, |conn| {
            u::table
                .filter(u::company_id.eq(&company))
                .filter(u::id.eq(&id))
                .first(conn)
                .await
                .map_err(db_error)
        })?;
        row.try_into()
    }

    async fn set_thumbnail(
        &self,
        company_id: CompanyId,
        id: UploadId,
        width: i32,
        height: i32,
        thumbnail_key: Option<String>,
    ) -> RepoResult<Upload> {
        let (company, id) = (company_id.to_string(), id.to_string());
        let row: UploadRow = with_conn!(self, |conn| {
            diesel::update(u::table.filter(u::company_id.eq(&company)).filter(u::id.eq(&id)))
                .set((
                    u::width.eq(Some(width)),
                    u::height.eq(Some(height)),
                    u::thumbnail_key.eq(thumbnail_key),
                ))
                .get_result(conn)
                .await
                .map_err(db_error)
        })?;
        row.try_into()
    }

    async fn uploads_by_id(&self, company_id: CompanyId, ids: &[UploadId]) -> RepoResult<Vec<Upload>> {
        let company = company_id.to_string();
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let rows: Vec<UploadRow> = with_conn!(self, |conn| {
            u::table
                .filter(u::company_id.eq(&company))
                .filter(u::id.eq_any(&ids))
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn delete_upload(&self, company_id: CompanyId, id: UploadId) -> RepoResult<()> {
        let (company, id) = (company_id.to_string(), id.to_string());
        let (deleted, exists) = with_conn!(self, |conn| {
            let of_company = u::table.filter(u::company_id.eq(&company)).filter(u::id.eq(&id));
            let deleted = diesel::delete(of_company.filter(u::message_id.is_null()))
                .execute(conn)
                .await
                .map_err(db_error)?;
            let exists: i64 =
                if deleted > 0 { 1 } else { of_company.count().get_result(conn).await.map_err(db_error)? };
            Ok::<_, RepoError>((deleted, exists > 0))
        })?;
        match (deleted, exists) {
            (0, true) => Err(RepoError::conflict("uploads_attached")),
            (0, false) => Err(RepoError::not_found()),
            _ => Ok(()),
        }
    }

    async fn unattached_uploads(&self, before: DateTime<Utc>, limit: i64) -> RepoResult<Vec<Upload>> {
        let before = naive(before);
        let rows: Vec<UploadRow> = with_conn!(self, |conn| {
            u::table
                .filter(u::message_id.is_null())
                .filter(u::created_at.lt(before))
                .order(u::created_at.asc())
                .limit(limit)
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}
