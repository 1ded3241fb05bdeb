//! Attachments through HTTP on both stores: a message refers to uploads of its company, each held by
//! one message; messages carry their files' names, kinds, sizes, dimensions and fresh signed links,
//! so the other side of the conversation can download them; deleting a message removes its files,
//! and uploads no message took are collected after a day.

use std::sync::Arc;

use actix_web::test::TestRequest;
use serde_json::{Value, json};
use tidings_messaging::UploadSettings;
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::guarantees::setup;
use crate::support::{Caller, delete, get, post, register, sdk, settings, state};
use crate::uploads::{fetch, png, raw, upload, walk};

backend_tests!(
    messages_carry_their_uploads_with_fresh_links,
    attachments_are_the_companys_own_uploads_each_held_once,
    deleting_a_message_removes_its_files,
    uploads_no_message_took_are_collected_after_a_day,
    attachments_live_in_an_s3_bucket,
);

/// A PNG of `width` x `height`.
fn picture(width: u32, height: u32) -> Vec<u8> {
    let image = image::DynamicImage::ImageRgb8(image::ImageBuffer::from_pixel(
        width,
        height,
        image::Rgb([9, 99, 199]),
    ));
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A device's upload request.
fn device_upload(app: &crate::support::SdkApp, device: &str, body: Vec<u8>, name: &str) -> TestRequest {
    let req = TestRequest::post()
        .uri(&format!("/v1/uploads?name={name}"))
        .insert_header(("content-type", "application/octet-stream"))
        .set_payload(body);
    sdk(req, app, device)
}

async fn messages_carry_their_uploads_with_fresh_links(db: &TestDb) {
    let svc = actix_web::test::init_service(tidings_api::app(state(db, settings()))).await;
    let (acme, web, conv) = setup(&svc).await;
    let path = format!("/v1/conversations/{conv}/messages");
    // The customer sends a photo of the problem.
    let photo = picture(1200, 800);
    let uploaded = svc.call(device_upload(&web, "dev-1", photo.clone(), "broken.png")).await.expect(201);
    let id = uploaded["id"].as_str().unwrap().to_owned();
    let sent = json!({ "body": "", "local_id": "m-1", "attachments": [id] });
    let message =
        svc.call(sdk(TestRequest::post().uri(&path).set_json(sent.clone()), &web, "dev-1")).await.expect(201);
    let file = &message["attachments"][0];
    assert_eq!(file["upload_id"], id.as_str());
    assert_eq!(
        (file["name"].as_str(), file["content_type"].as_str()),
        (Some("broken.png"), Some("image/png"))
    );
    assert_eq!(file["size"].as_u64(), Some(photo.len() as u64));
    assert_eq!(
        (file["width"].as_i64(), file["height"].as_i64()),
        (Some(1200), Some(800)),
        "measured at upload"
    );
    assert!(file["expires_at"].is_string() && file["thumbnail_url"].is_string(), "{file}");
    // A retry is the same message, its upload still its own.
    let retried =
        svc.call(sdk(TestRequest::post().uri(&path).set_json(sent), &web, "dev-1")).await.expect(200);
    assert_eq!(retried["id"], message["id"]);

    // The agent reads it, with links of its own, and downloads the photo.
    let page = svc.call(get(&path, &acme.token)).await.expect(200);
    let seen = &page["data"][0]["attachments"][0];
    assert_eq!(seen["upload_id"], id.as_str());
    let (status, headers, body) = raw(&svc, fetch(seen["url"].as_str().unwrap())).await;
    assert_eq!((status, body.as_ref()), (200, photo.as_slice()));
    assert_eq!(headers.get("content-type").unwrap(), "image/png");
    let mut thumbnail = 0;
    for _ in 0..200 {
        let single = svc
            .call(get(&format!("/v1/messages/{}", message["id"].as_str().unwrap()), &acme.token))
            .await
            .expect(200);
        let (status, _, _) =
            raw(&svc, fetch(single["attachments"][0]["thumbnail_url"].as_str().unwrap())).await;
        thumbnail = status;
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(thumbnail, 200, "the thumbnail's link opens once it is made");

    // The agent answers with a PDF; the customer, who could not read the agent's upload, downloads
    // it through the message.
    let pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n".to_vec();
    let manual =
        svc.call(upload(&acme.token, pdf.clone(), "application/pdf", "manual.pdf")).await.expect(201);
    let manual_id = manual["id"].as_str().unwrap();
    let direct = sdk(TestRequest::get().uri(&format!("/v1/uploads/{manual_id}")), &web, "dev-1");
    svc.call(direct).await.assert_error(404, "NOT_FOUND");
    let reply = json!({ "body": "Here is the manual", "attachments": [{ "upload_id": manual_id }] });
    svc.call(post(&path, &acme.token, reply)).await.expect(201);
    let theirs = svc.call(sdk(TestRequest::get().uri(&path), &web, "dev-1")).await.expect(200);
    let answer = theirs["data"].as_array().unwrap().iter().find(|m| m["sequence"] == 2).unwrap().clone();
    let file = &answer["attachments"][0];
    assert_eq!(
        (file["content_type"].as_str(), file["thumbnail_url"].clone()),
        (Some("application/pdf"), Value::Null)
    );
    let (status, headers, body) = raw(&svc, fetch(file["url"].as_str().unwrap())).await;
    assert_eq!((status, body.as_ref()), (200, pdf.as_slice()));
    assert_eq!(headers.get("content-disposition").unwrap(), "inline; filename*=UTF-8''manual%2Epdf");
}

async fn attachments_are_the_companys_own_uploads_each_held_once(db: &TestDb) {
    let svc = actix_web::test::init_service(tidings_api::app(state(db, settings()))).await;
    let (acme, web, conv) = setup(&svc).await;
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    let path = format!("/v1/conversations/{conv}/messages");
    let id_of = |reply: Value| reply["id"].as_str().unwrap().to_owned();
    let ours = id_of(svc.call(upload(&acme.token, png(300), "image/png", "a.png")).await.expect(201));
    let theirs = id_of(svc.call(upload(&globex.token, png(300), "image/png", "b.png")).await.expect(201));
    let other_device = id_of(svc.call(device_upload(&web, "dev-2", png(300), "c.png")).await.expect(201));
    let with = |files: Value| json!({ "body": "see", "attachments": files });

    // Another company's upload, an unknown one, or garbage: refused, nothing stored.
    for files in [
        json!([theirs]),
        json!([ours, theirs]),
        json!([uuid::Uuid::now_v7().to_string()]),
        json!(["not-an-id"]),
        json!([{ "upload_id": ours, "url": "https://elsewhere.test/x.png" }]),
        json!([ours, ours]),
        json!((0..11).map(|_| uuid::Uuid::now_v7().to_string()).collect::<Vec<_>>()),
    ] {
        svc.call(post(&path, &acme.token, with(files.clone()))).await.assert_error(400, "VALIDATION_ERROR");
    }
    // A customer attaches only their own device's uploads, not the agents' nor another device's.
    for files in [json!([ours]), json!([other_device])] {
        let req = sdk(TestRequest::post().uri(&path).set_json(with(files)), &web, "dev-1");
        svc.call(req).await.assert_error(400, "VALIDATION_ERROR");
    }
    assert_eq!(db.count_rows("messages").await, 0, "refused messages left nothing");

    // Held once: a second message cannot take it, nor can it be deleted from under its message.
    svc.call(post(&path, &acme.token, with(json!([ours])))).await.expect(201);
    svc.call(post(&path, &acme.token, with(json!([ours])))).await.assert_error(409, "CONFLICT");
    svc.call(delete(&format!("/v1/uploads/{ours}"), &acme.token)).await.assert_error(409, "CONFLICT");
    assert_eq!(db.count_rows("messages").await, 1);

    // Two sends racing for one upload: one gets it.
    let racing = id_of(svc.call(upload(&acme.token, png(300), "image/png", "r.png")).await.expect(201));
    let (a, b) = tokio::join!(
        svc.call(post(&path, &acme.token, with(json!([racing])))),
        svc.call(post(&path, &acme.token, with(json!([racing])))),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{} {}", a.body, b.body);
    assert_eq!(db.count_rows("messages").await, 2);
}

async fn deleting_a_message_removes_its_files(db: &TestDb) {
    let dir = std::env::temp_dir().join(format!("tidings-attachments-{}", uuid::Uuid::now_v7()));
    let blobs = Arc::new(tidings_blobs::Blobs::local(&dir).unwrap());
    let app =
        state(db, settings()).with_uploads(blobs, UploadSettings::default(), Arc::new(settings().cipher()));
    let svc = actix_web::test::init_service(tidings_api::app(app)).await;
    let (acme, _web, conv) = setup(&svc).await;
    let path = format!("/v1/conversations/{conv}/messages");
    let photo = svc.call(upload(&acme.token, picture(400, 300), "image/png", "p.png")).await.expect(201);
    let id = photo["id"].as_str().unwrap().to_owned();
    for _ in 0..200 {
        if walk(&dir).len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(walk(&dir).len(), 2, "the file and its thumbnail");
    let sent =
        svc.call(post(&path, &acme.token, json!({ "body": "x", "attachments": [id] }))).await.expect(201);
    let url = sent["attachments"][0]["url"].as_str().unwrap().to_owned();
    let message = format!("/v1/messages/{}", sent["id"].as_str().unwrap());
    let deleted = svc.call(delete(&message, &acme.token)).await.expect(200);
    assert_eq!(deleted["attachments"], json!([]));
    svc.call(get(&format!("/v1/uploads/{id}"), &acme.token)).await.assert_error(404, "NOT_FOUND");
    let (status, _, _) = raw(&svc, fetch(&url)).await;
    assert_eq!(status, 404, "its link opens nothing");
    assert!(walk(&dir).is_empty(), "no object left: {:?}", walk(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
}

async fn uploads_no_message_took_are_collected_after_a_day(db: &TestDb) {
    let dir = std::env::temp_dir().join(format!("tidings-collect-{}", uuid::Uuid::now_v7()));
    let blobs = Arc::new(tidings_blobs::Blobs::local(&dir).unwrap());
    let app =
        state(db, settings()).with_uploads(blobs, UploadSettings::default(), Arc::new(settings().cipher()));
    let attachments = app.uploads.attachments();
    let svc = actix_web::test::init_service(tidings_api::app(app)).await;
    let (acme, _web, conv) = setup(&svc).await;
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    let pdf = || b"%PDF-1.7\n%\xe2\xe3\n".to_vec();
    let kept = svc.call(upload(&acme.token, pdf(), "application/pdf", "kept.pdf")).await.expect(201);
    let left = svc.call(upload(&acme.token, pdf(), "application/pdf", "left.pdf")).await.expect(201);
    let foreign = svc.call(upload(&globex.token, pdf(), "application/pdf", "g.pdf")).await.expect(201);
    let path = format!("/v1/conversations/{conv}/messages");
    svc.call(post(&path, &acme.token, json!({ "body": "x", "attachments": [kept["id"]] }))).await.expect(201);

    assert_eq!(attachments.collect(chrono::Utc::now()).await.unwrap(), 0, "a day has not passed");
    assert_eq!(walk(&dir).len(), 3);
    let a_day_later = chrono::Utc::now() + chrono::Duration::days(1) + chrono::Duration::seconds(5);
    assert_eq!(attachments.collect(a_day_later).await.unwrap(), 2, "the two nobody attached");
    for (reply, token, status) in
        [(&kept, &acme.token, 200), (&left, &acme.token, 404), (&foreign, &globex.token, 404)]
    {
        let read = svc.call(get(&format!("/v1/uploads/{}", reply["id"].as_str().unwrap()), token)).await;
        assert_eq!(read.status.as_u16(), status, "{}", reply["name"]);
    }
    assert_eq!(walk(&dir).len(), 1, "only the attached file's bytes are left");
    std::fs::remove_dir_all(&dir).unwrap();
}

async fn attachments_live_in_an_s3_bucket(db: &TestDb) {
    let Some(moto) = tidings_blobs::test_s3::Moto::start() else { return };
    moto.bucket("files");
    let settings_s3 = moto.settings();
    let overrides: Vec<(&str, &str)> = settings_s3.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let bucket = tidings_blobs::Blobs::s3("s3://files/tidings", &overrides).unwrap();
    let app = state(db, settings()).with_uploads(
        Arc::new(bucket.clone()),
        UploadSettings::default(),
        Arc::new(settings().cipher()),
    );
    let svc = actix_web::test::init_service(tidings_api::app(app)).await;
    let (acme, web, conv) = setup(&svc).await;
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    let photo = picture(900, 600);
    let uploaded = svc.call(device_upload(&web, "dev-1", photo.clone(), "leak.png")).await.expect(201);
    let id = uploaded["id"].as_str().unwrap().to_owned();
    let company = acme.company_id.clone();
    let original = format!("companies/{company}/uploads/{id}");
    let thumbnail = format!("companies/{company}/thumbnails/{id}");
    let exists = |key: String| {
        let bucket = bucket.clone();
        async move { tidings_domain::BlobStore::read(&bucket, &key, Some(0..1)).await.is_ok() }
    };
    for _ in 0..200 {
        if exists(thumbnail.clone()).await {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        exists(original.clone()).await && exists(thumbnail.clone()).await,
        "file and thumbnail in the bucket"
    );
    // Another company can neither read nor attach it.
    svc.call(get(&format!("/v1/uploads/{id}"), &globex.token)).await.assert_error(404, "NOT_FOUND");

    let path = format!("/v1/conversations/{conv}/messages");
    let sent = json!({ "body": "the leak", "attachments": [id] });
    let message =
        svc.call(sdk(TestRequest::post().uri(&path).set_json(sent), &web, "dev-1")).await.expect(201);
    let url = message["attachments"][0]["url"].as_str().unwrap().to_owned();
    let (status, _, body) = raw(&svc, fetch(&url).insert_header(("range", "bytes=100-199"))).await;
    assert_eq!((status, body.as_ref()), (206, &photo[100..200]));
    let (status, _, body) = raw(&svc, fetch(&url)).await;
    assert_eq!((status, body.len()), (200, photo.len()));

    let message = format!("/v1/messages/{}", message["id"].as_str().unwrap());
    svc.call(sdk(TestRequest::delete().uri(&message), &web, "dev-1")).await.expect(200);
    assert!(!exists(original).await && !exists(thumbnail).await, "the objects went with the message");
    let (status, _, _) = raw(&svc, fetch(&url)).await;
    assert_eq!(status, 404);
}
