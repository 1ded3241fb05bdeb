//! Uploads: rows round-trip, stay inside their company, take an image's dimensions, and go; a
//! message claims its uploads with it, once, and lets go of them when deleted.

use chrono::{Duration, Utc};
use tidings_domain::{
    CompanyId, Direction, MessageRepo, NewMessage, RepoErrorKind, Upload, UploadId, UploadRepo,
};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::conversations::app;
use crate::error_kind;
use crate::messages::{fixture, message};

backend_tests!(
    uploads_round_trip_inside_their_company,
    messages_claim_their_uploads_once,
    deleted_messages_let_go_of_their_uploads,
);

fn upload(company_id: CompanyId) -> Upload {
    let id = UploadId::new();
    Upload {
        id,
        company_id,
        object_key: format!("companies/{company_id}/uploads/{id}"),
        name: "photo.png".into(),
        content_type: "image/png".into(),
        size: 10,
        sha256: "ab".repeat(32),
        width: None,
        height: None,
        thumbnail_key: None,
        uploaded_by: "user:test".into(),
        created_at: Utc::now(),
        message_id: None,
    }
}

async fn messages_claim_their_uploads_once(db: &TestDb) {
    let (acme, globex) = (fixture(db, "Acme").await, fixture(db, "Globex").await);
    let s = db.store();
    let (a, b) = (upload(acme.company_id), upload(acme.company_id));
    let foreign = upload(globex.company_id);
    for u in [&a, &b, &foreign] {
        s.create_upload(u.clone()).await.unwrap();
    }
    let with =
        |uploads: Vec<UploadId>| NewMessage { uploads, ..message(&acme, Direction::Outbound, "file", None) };
    // Another company's upload cannot be claimed, and nothing of the message is kept.
    let refused = s.append_message(with(vec![a.id, foreign.id])).await;
    assert_eq!(error_kind(&refused), Some(RepoErrorKind::Conflict));
    assert_eq!(db.count_rows("messages").await, 0, "the message went with the refused claim");
    assert_eq!(s.get_upload(acme.company_id, a.id).await.unwrap().message_id, None);
    assert_eq!(s.get_upload(globex.company_id, foreign.id).await.unwrap().message_id, None);
    // Both of the company's: claimed in the unit that stores the message.
    let unit = s.begin().await.unwrap();
    let sent = unit.append_message(with(vec![a.id, b.id])).await.unwrap().message;
    unit.commit().await.unwrap();
    for id in [a.id, b.id] {
        assert_eq!(s.get_upload(acme.company_id, id).await.unwrap().message_id, Some(sent.id));
    }
    // Claimed once: a second message cannot take one of them.
    let again = s.append_message(with(vec![b.id])).await;
    let constraint = again.as_ref().err().and_then(|e| e.constraint().map(str::to_owned));
    assert_eq!(constraint.as_deref(), Some("uploads_attached"));
    // A held upload is not deleted on its own.
    let held = s.delete_upload(acme.company_id, a.id).await;
    assert_eq!(error_kind(&held), Some(RepoErrorKind::Conflict));
    let found = s.uploads_by_id(acme.company_id, &[a.id, b.id, foreign.id, UploadId::new()]).await.unwrap();
    let mut ids: Vec<UploadId> = found.iter().map(|u| u.id).collect();
    ids.sort();
    let mut expected = vec![a.id, b.id];
    expected.sort();
    assert_eq!(ids, expected, "only the company's own, known uploads");
    // The database itself keeps an upload and its message in one company.
    let crossing = format!("UPDATE uploads SET message_id = '{}' WHERE id = '{}'", sent.id, foreign.id);
    assert_eq!(error_kind(&db.execute(&crossing).await), Some(RepoErrorKind::NotFound));
    // Collection sees only unattached uploads made before the cut.
    let collectable = s.unattached_uploads(Utc::now() + Duration::seconds(5), 100).await.unwrap();
    let collectable: Vec<UploadId> = collectable.iter().map(|u| u.id).collect();
    assert_eq!(collectable, vec![foreign.id]);
    assert!(s.unattached_uploads(Utc::now() - Duration::hours(1), 100).await.unwrap().is_empty());
}

async fn deleted_messages_let_go_of_their_uploads(db: &TestDb) {
    let acme = fixture(db, "Acme").await;
    let s = db.store();
    let a = upload(acme.company_id);
    s.create_upload(a.clone()).await.unwrap();
    let new = NewMessage { uploads: vec![a.id], ..message(&acme, Direction::Outbound, "file", None) };
    let sent = s.append_message(new).await.unwrap().message;
    s.delete_message(acme.company_id, sent.id).await.unwrap();
    assert_eq!(s.get_upload(acme.company_id, a.id).await.unwrap().message_id, None);
    s.delete_upload(acme.company_id, a.id).await.unwrap();
    assert_eq!(error_kind(&s.get_upload(acme.company_id, a.id).await), Some(RepoErrorKind::NotFound));
}

async fn uploads_round_trip_inside_their_company(db: &TestDb) {
    let (acme, globex) = (app(db, "Acme").await.company_id, app(db, "Globex").await.company_id);
    let s = db.store();
    let upload = Upload { size: 5 * 1024 * 1024 * 1024, ..upload(acme) };
    let id = upload.id;
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
