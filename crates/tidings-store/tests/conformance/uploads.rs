//! Uploads: rows round-trip, stay inside their company, take an image's dimensions, and go.

use chrono::Utc;
use tidings_domain::{RepoErrorKind, Upload, UploadId, UploadRepo};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::conversations::app;
use crate::error_kind;

backend_tests!(uploads_round_trip_inside_their_company);

async fn uploads_round_trip_inside_their_company(db: &TestDb) {
    let (acme, globex) = (app(db, "Acme").await.company_id, app(db, "Globex").await.company_id);
    let s = db.store();
    let id = UploadId::new();
    let upload = Upload {
        id,
        company_id: acme,
        object_key: format!("companies/{acme}/uploads/{id}"),
        name: "photo.png".into(),
        content_type: "image/png".into(),
        size: 5 * 1024 * 1024 * 1024,
        sha256: "ab".repeat(32),
        width: None,
        height: None,
        thumbnail_key: None,
        uploaded_by: "user:test".into(),
        created_at: Utc::now(),
    };
    s.create_upload(upload.clone()).await.unwrap();
    let read = s.get_upload(acme, id).await.unwrap();
    assert_eq!(
        (read.size, read.name.as_str(), read.width),
        (upload.size, "photo.png", None),
        "sizes past 4 GiB"
    );
    assert_eq!(error_kind(&s.get_upload(globex, id).await), Some(RepoErrorKind::NotFound));
    assert_eq!(error_kind(&s.set_thumbnail(globex, id, 1, 1, None).await), Some(RepoErrorKind::NotFound));
    let thumbed = s.set_thumbnail(acme, id, 640, 480, Some("thumb".into())).await.unwrap();
    assert_eq!(
        (thumbed.width, thumbed.height, thumbed.thumbnail_key.as_deref()),
        (Some(640), Some(480), Some("thumb"))
    );
    assert_eq!(error_kind(&s.delete_upload(globex, id).await), Some(RepoErrorKind::NotFound));
    s.delete_upload(acme, id).await.unwrap();
    assert_eq!(error_kind(&s.get_upload(acme, id).await), Some(RepoErrorKind::NotFound));
}
