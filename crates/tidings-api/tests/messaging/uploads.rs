//! Uploads through HTTP on both stores, bytes in a directory: the kind is read from the bytes and
//! must be allowed, oversized bodies are refused without being kept, downloads go through signed
//! links that expire and serve ranges; another company or another customer sees nothing.

use std::sync::Arc;

use actix_web::test::TestRequest;
use bytes::Bytes;
use serde_json::Value;
use tidings_messaging::{UploadInput, UploadSettings};
use tidings_store::backend_tests;
use tidings_store::test_db::TestDb;

use crate::support::{Caller, Reply, get, register, sdk, sdk_app, settings, state};

backend_tests!(
    files_are_uploaded_and_downloaded_whole_or_in_ranges,
    images_get_a_thumbnail_and_their_dimensions_after_the_upload,
    deleting_an_upload_removes_its_bytes_and_thumbnail,
    only_allowed_kinds_told_by_their_bytes_are_taken,
    oversized_files_are_refused_and_leave_nothing,
    links_are_signed_expire_and_stay_in_their_company,
    forms_are_taken_as_browsers_and_curl_send_them,
);

/// A 1x1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xff\xff?\0\x05\xfe\x02\xfe\xa75\x81\x84\0\0\0\0IEND\xaeB`\x82";

pub(crate) fn png(size: usize) -> Vec<u8> {
    let mut bytes = PNG.to_vec();
    bytes.extend((0..size.saturating_sub(PNG.len())).map(|i| (i % 251) as u8));
    bytes
}

pub(crate) fn upload(token: &str, body: Vec<u8>, content_type: &str, name: &str) -> TestRequest {
    TestRequest::post()
        .uri(&format!("/v1/uploads?name={name}"))
        .insert_header(("authorization", format!("Bearer {token}")))
        .insert_header(("content-type", content_type))
        .set_payload(body)
}

/// The path and query of a download link, and a raw GET of it.
pub(crate) fn fetch(url: &str) -> TestRequest {
    let path = url.split_once("://").map(|(_, rest)| &rest[rest.find('/').unwrap()..]).unwrap();
    TestRequest::get().uri(path)
}

pub(crate) async fn raw<S, B>(svc: &S, req: TestRequest) -> (u16, actix_web::http::header::HeaderMap, Bytes)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let res = actix_web::test::call_service(svc, req.to_request()).await;
    let (status, headers) = (res.status().as_u16(), res.headers().clone());
    (status, headers, actix_web::test::read_body(res).await)
}

async fn files_are_uploaded_and_downloaded_whole_or_in_ranges(db: &TestDb) {
    let svc = actix_web::test::init_service(tidings_api::app(state(db, settings()))).await;
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let bytes = png(100_000);
    let created =
        svc.call(upload(&acme.token, bytes.clone(), "image/png", "../holiday%20photo.png")).await.expect(201);
    assert_eq!(
        (created["content_type"].as_str(), created["size"].as_i64()),
        (Some("image/png"), Some(100_000))
    );
    assert_eq!(created["name"], "holiday photo.png");
    let digest = hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes).as_ref());
    assert_eq!(created["sha256"], digest.as_str());
    let url = created["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:8080/v1/uploads/"), "{url}");

    let (status, headers, body) = raw(&svc, fetch(&url)).await;
    assert_eq!((status, body.len()), (200, bytes.len()));
    assert_eq!(body.as_ref(), bytes.as_slice());
    let header = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_owned();
    assert_eq!(header("content-type"), "image/png");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("accept-ranges"), "bytes");
    assert_eq!(header("content-disposition"), "inline; filename*=UTF-8''holiday%20photo%2Epng");

    let (status, headers, body) = raw(&svc, fetch(&url).insert_header(("range", "bytes=1000-1999"))).await;
    assert_eq!((status, body.as_ref()), (206, &bytes[1000..2000]));
    assert_eq!(headers.get("content-range").unwrap(), "bytes 1000-1999/100000");
    let (status, _, body) = raw(&svc, fetch(&url).insert_header(("range", "bytes=-10"))).await;
    assert_eq!((status, body.as_ref()), (206, &bytes[99_990..]));
    let (status, headers, _) = raw(&svc, fetch(&url).insert_header(("range", "bytes=200000-"))).await;
    assert_eq!((status, headers.get("content-range").unwrap().to_str().unwrap()), (416, "bytes */100000"));

    let read = svc
        .call(get(&format!("/v1/uploads/{}", created["id"].as_str().unwrap()), &acme.token))
        .await
        .expect(200);
    assert_eq!(
        (read["sha256"].clone(), read["uploaded_by"].clone()),
        (created["sha256"].clone(), created["uploaded_by"].clone())
    );
}

async fn only_allowed_kinds_told_by_their_bytes_are_taken(db: &TestDb) {
    let svc = actix_web::test::init_service(tidings_api::app(state(db, settings()))).await;
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n".to_vec();
    for (body, declared, why) in [
        (
            b"<html><script>alert(document.cookie)</script></html>".to_vec(),
            "image/png",
            "HTML sent as a picture",
        ),
        (
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec(),
            "image/svg+xml",
            "SVG runs script",
        ),
        (
            b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0\0\0\0\0\0@".to_vec(),
            "application/octet-stream",
            "an executable",
        ),
        (pdf.clone(), "image/png", "a PDF sent as a picture"),
        (b"just some words".to_vec(), "text/plain", "nothing tells its kind"),
    ] {
        let reply: Reply = svc.call(upload(&acme.token, body, declared, "x")).await;
        reply.assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
        assert!(!reply.body["error"]["message"].as_str().unwrap().is_empty(), "{why}");
    }
    svc.call(upload(&acme.token, Vec::new(), "image/png", "x")).await.assert_error(400, "VALIDATION_ERROR");
    assert_eq!(db.count_rows("uploads").await, 0, "nothing refused was kept");
    let taken = svc.call(upload(&acme.token, pdf, "application/octet-stream", "offer.pdf")).await.expect(201);
    assert_eq!(taken["content_type"], "application/pdf", "the bytes say what it is");
}

async fn oversized_files_are_refused_and_leave_nothing(db: &TestDb) {
    let dir = std::env::temp_dir().join(format!(
        "tidings-upload-limit-{}-{}",
        std::process::id(),
        uuid::Uuid::now_v7()
    ));
    let blobs = Arc::new(tidings_blobs::Blobs::local(&dir).unwrap());
    let limits = UploadSettings { max_bytes: 64 * 1024, ..UploadSettings::default() };
    let app = state(db, settings()).with_uploads(blobs, limits, Arc::new(settings().cipher()));
    let svc = actix_web::test::init_service(tidings_api::app(app.clone())).await;
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    // Announced too large: refused before a byte is read.
    svc.call(upload(&acme.token, png(65 * 1024), "image/png", "big.png"))
        .await
        .assert_error(413, "PAYLOAD_TOO_LARGE");
    // Not announced (streamed): refused once the limit is passed, the partial file dropped.
    let principal = tidings_domain::Caller::User(tidings_domain::Principal {
        user_id: acme.owner_id.parse().unwrap(),
        company_id: acme.company_id.parse().unwrap(),
        role: tidings_domain::Role::Owner,
    });
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        png(200 * 1024).chunks(16 * 1024).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    let refused =
        app.uploads.upload(&principal, UploadInput::default(), futures_util::stream::iter(chunks)).await;
    assert!(matches!(refused, Err(tidings_messaging::MessagingError::TooLarge(_))), "{refused:?}");
    let exact: Vec<Result<Bytes, std::io::Error>> = vec![Ok(Bytes::from(png(64 * 1024)))];
    app.uploads
        .upload(&principal, UploadInput::default(), futures_util::stream::iter(exact))
        .await
        .expect("at the limit");
    assert_eq!(db.count_rows("uploads").await, 1);
    let files: Vec<_> = walk(&dir);
    assert_eq!(files.len(), 1, "only the accepted file: {files:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

pub(crate) fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}

async fn links_are_signed_expire_and_stay_in_their_company(db: &TestDb) {
    let svc = actix_web::test::init_service(tidings_api::app(state(db, settings()))).await;
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    let created = svc.call(upload(&acme.token, png(2000), "image/png", "a.png")).await.expect(201);
    let (id, url) = (created["id"].as_str().unwrap().to_owned(), created["url"].as_str().unwrap().to_owned());
    svc.call(get(&format!("/v1/uploads/{id}"), &globex.token)).await.assert_error(404, "NOT_FOUND");
    let tampered = [
        url.replace(&acme.company_id, &globex.company_id),
        url.replace("expires=", "expires=9"),
        url.replace("signature=", "signature=00"),
        url.split("&signature=").next().unwrap().to_owned() + "&signature=",
    ];
    for forged in tampered {
        let (status, _, _) = raw(&svc, fetch(&forged)).await;
        assert_eq!(status, 404, "{forged}");
    }
    // A link whose time is up.
    let short = UploadSettings { link_lifetime: chrono::Duration::seconds(-1), ..UploadSettings::default() };
    let blobs = Arc::new(
        tidings_blobs::Blobs::local(
            &std::env::temp_dir().join(format!("tidings-uploads-{}", std::process::id())),
        )
        .unwrap(),
    );
    let expiring = actix_web::test::init_service(tidings_api::app(state(db, settings()).with_uploads(
        blobs,
        short,
        Arc::new(settings().cipher()),
    )))
    .await;
    let stale = expiring.call(get(&format!("/v1/uploads/{id}"), &acme.token)).await.expect(200);
    let (status, _, _) = raw(&svc, fetch(stale["url"].as_str().unwrap())).await;
    assert_eq!(status, 404, "expired");

    // Customers see their own uploads only.
    let web = sdk_app(&svc, &acme).await;
    let mine = sdk(
        TestRequest::post()
            .uri("/v1/uploads")
            .insert_header(("content-type", "image/png"))
            .set_payload(png(500)),
        &web,
        "phone-1",
    );
    let mine: Value = svc.call(mine).await.expect(201);
    assert!(mine["uploaded_by"].as_str().unwrap().starts_with("contact:"));
    let path = format!("/v1/uploads/{}", mine["id"].as_str().unwrap());
    svc.call(sdk(TestRequest::get().uri(&path), &web, "phone-1")).await.expect(200);
    svc.call(sdk(TestRequest::get().uri(&path), &web, "phone-2")).await.assert_error(404, "NOT_FOUND");
    svc.call(sdk(TestRequest::get().uri(&format!("/v1/uploads/{id}")), &web, "phone-1"))
        .await
        .assert_error(404, "NOT_FOUND");
    svc.call(get(&path, &acme.token)).await.expect(200);
}

async fn images_get_a_thumbnail_and_their_dimensions_after_the_upload(db: &TestDb) {
    let svc = actix_web::test::init_service(tidings_api::app(state(db, settings()))).await;
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let photo =
        image::DynamicImage::ImageRgb8(image::ImageBuffer::from_pixel(1200, 800, image::Rgb([30, 140, 60])));
    let mut encoded = std::io::Cursor::new(Vec::new());
    photo.write_to(&mut encoded, image::ImageFormat::Png).unwrap();
    let created =
        svc.call(upload(&acme.token, encoded.into_inner(), "image/png", "garden.png")).await.expect(201);
    let path = format!("/v1/uploads/{}", created["id"].as_str().unwrap());
    // Made off the request path: the answer came first; the thumbnail follows.
    let mut read = Value::Null;
    for _ in 0..200 {
        read = svc.call(get(&path, &acme.token)).await.expect(200);
        if read["thumbnail_url"].is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!((read["width"].as_i64(), read["height"].as_i64()), (Some(1200), Some(800)), "{read}");
    let (status, headers, body) = raw(&svc, fetch(read["thumbnail_url"].as_str().unwrap())).await;
    assert_eq!((status, headers.get("content-type").unwrap().to_str().unwrap()), (200, "image/jpeg"));
    let thumb = image::load_from_memory(&body).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (320, 213));
    // The thumbnail's link is its own: turned into the original's, it no longer checks.
    let forged = read["thumbnail_url"].as_str().unwrap().replace("&variant=thumbnail", "");
    let (status, _, _) = raw(&svc, fetch(&forged)).await;
    assert_eq!(status, 404);
    // A PDF has no thumbnail.
    let pdf = svc
        .call(upload(&acme.token, b"%PDF-1.7\n%\xe2\xe3\n".to_vec(), "application/pdf", "a.pdf"))
        .await
        .expect(201);
    assert!(pdf["thumbnail_url"].is_null() && pdf["width"].is_null());
}

async fn deleting_an_upload_removes_its_bytes_and_thumbnail(db: &TestDb) {
    let dir = std::env::temp_dir().join(format!("tidings-upload-delete-{}", uuid::Uuid::now_v7()));
    let blobs = Arc::new(tidings_blobs::Blobs::local(&dir).unwrap());
    let app =
        state(db, settings()).with_uploads(blobs, UploadSettings::default(), Arc::new(settings().cipher()));
    let svc = actix_web::test::init_service(tidings_api::app(app)).await;
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let globex = register(&svc, "Globex", "owner@globex.test").await;
    let (_, agent) = crate::support::member(&svc, &acme, "agent@acme.test", "agent").await;
    let photo =
        image::DynamicImage::ImageRgb8(image::ImageBuffer::from_pixel(640, 480, image::Rgb([1, 2, 3])));
    let mut encoded = std::io::Cursor::new(Vec::new());
    photo.write_to(&mut encoded, image::ImageFormat::Png).unwrap();
    let created = svc.call(upload(&acme.token, encoded.into_inner(), "image/png", "p.png")).await.expect(201);
    let path = format!("/v1/uploads/{}", created["id"].as_str().unwrap());
    for _ in 0..200 {
        if svc.call(get(&path, &acme.token)).await.expect(200)["thumbnail_url"].is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(walk(&dir).len(), 2, "the file and its thumbnail");
    let delete = |token: &str| {
        TestRequest::delete().uri(&path).insert_header(("authorization", format!("Bearer {token}")))
    };
    svc.call(delete(&globex.token)).await.assert_error(404, "NOT_FOUND");
    svc.call(delete(&agent)).await.assert_error(403, "FORBIDDEN");
    assert_eq!(svc.call(delete(&acme.token)).await.status.as_u16(), 204);
    svc.call(get(&path, &acme.token)).await.assert_error(404, "NOT_FOUND");
    let (status, _, _) = raw(&svc, fetch(created["url"].as_str().unwrap())).await;
    assert_eq!(status, 404, "its link opens nothing");
    assert!(walk(&dir).is_empty(), "no object left: {:?}", walk(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A `multipart/form-data` body: plain fields, then a file.
fn form(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----tidings-form-7d8a";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .bytes(),
        );
    }
    if let Some((filename, content_type, bytes)) = file {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn forms_are_taken_as_browsers_and_curl_send_them(db: &TestDb) {
    let small = UploadSettings { max_bytes: 4096, ..UploadSettings::default() };
    let blobs =
        Arc::new(tidings_blobs::Blobs::local(&std::env::temp_dir().join("tidings-form-uploads")).unwrap());
    let app = state(db, settings()).with_uploads(blobs, small, Arc::new(settings().cipher()));
    let svc = actix_web::test::init_service(tidings_api::app(app)).await;
    let acme = register(&svc, "Acme", "owner@acme.test").await;
    let post_form = |(content_type, body): (String, Vec<u8>)| {
        TestRequest::post()
            .uri("/v1/uploads")
            .insert_header(("authorization", format!("Bearer {}", acme.token)))
            .insert_header(("content-type", content_type))
            .set_payload(body)
    };
    let pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n".to_vec();
    let sent = form(&[("note", "the signed copy")], Some(("../scans/contract.pdf", "application/pdf", &pdf)));
    let created = svc.call(post_form(sent)).await.expect(201);
    assert_eq!(
        (created["name"].as_str(), created["content_type"].as_str()),
        (Some("contract.pdf"), Some("application/pdf"))
    );
    assert_eq!(created["size"].as_u64(), Some(pdf.len() as u64));
    let (status, _, body) = raw(&svc, fetch(created["url"].as_str().unwrap())).await;
    assert_eq!((status, body.as_ref()), (200, pdf.as_slice()), "the file alone, without the form around it");

    svc.call(post_form(form(&[("note", "x")], None))).await.assert_error(400, "VALIDATION_ERROR");
    let spoofed = form(&[], Some(("a.png", "image/png", &pdf)));
    svc.call(post_form(spoofed)).await.assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    let big = png(5000);
    svc.call(post_form(form(&[], Some(("big.png", "image/png", &big)))))
        .await
        .assert_error(413, "PAYLOAD_TOO_LARGE");
    let long = "y".repeat(70 * 1024);
    let padded = form(&[("note", &long)], Some(("a.pdf", "application/pdf", &pdf)));
    svc.call(post_form(padded)).await.assert_error(400, "VALIDATION_ERROR");
    assert_eq!(db.count_rows("uploads").await, 1, "only the good form left a file");
}
