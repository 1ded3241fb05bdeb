//! `/v1/uploads`: agents and SDK devices upload files (the raw bytes as the body, or a form), read their
//! description, and download them through signed, expiring links that need no other credential
//! (so an `<img src>` works), with `Range` support.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::Deserialize;
use tidings_domain::{CompanyId, UploadId};
use tidings_messaging::{DownloadLink, UploadInput};
use utoipa::IntoParams;

use crate::caller::AnyCaller;
use crate::envelope::ErrorEnvelope;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::openapi::FileBytes;
use crate::state::AppState;
use crate::views::UploadView;

/// `?name=`: the file's name (or the `X-File-Name` header).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The file's name for downloads (paths, quotes and control characters are dropped); the
    /// `X-File-Name` header says the same.
    name: Option<String>,
}

/// The file of an upload form: the first field with a file name is the file.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "describes a form for the OpenAPI document only")]
pub struct UploadForm {
    /// The file.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
}

fn header_text(req: &HttpRequest, name: header::HeaderName) -> Option<String> {
    req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Uploads a file: the body is the file itself (any `Content-Type`, or none), or a
/// `multipart/form-data` form holding it.
///
/// The kind is read from the bytes: images, PDF, office documents, audio and video are taken;
/// anything else, or a declared type the bytes contradict, is `415`. At most 25 MiB by default.
#[utoipa::path(
    post, path = "/v1/uploads", tag = "uploads", operation_id = "create_upload",
    params(UploadParams),
    request_body(
        description = "The file's bytes, or a form with the file",
        content(
            (FileBytes = "application/octet-stream"),
            (UploadForm = "multipart/form-data"),
        ),
    ),
    security(("bearer" = []), ("app_id" = [], "device_id" = [], "client_key" = []), ("server_key" = [])),
    responses(
        (status = 201, description = "The upload, with a signed download link", body = UploadView),
        (status = 400, description = "`VALIDATION_ERROR`: an empty body, a form without a file, or a malformed \
                                      parameter", body = ErrorEnvelope),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the file is over the upload limit", body = ErrorEnvelope),
        (status = 415, description = "`UNSUPPORTED_MEDIA_TYPE`: a kind of file that is not taken, or a declared \
                                      type the bytes contradict", body = ErrorEnvelope),
    ),
)]
pub async fn create(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    req: HttpRequest,
    params: Query<UploadParams>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let mut input = UploadInput {
        name: params
            .into_inner()
            .name
            .or_else(|| header_text(&req, header::HeaderName::from_static("x-file-name"))),
        declared_type: header_text(&req, header::CONTENT_TYPE),
        declared_length: header_text(&req, header::CONTENT_LENGTH).and_then(|l| l.parse().ok()),
    };
    let form = input.declared_type.as_deref().is_some_and(|t| t.starts_with("multipart/form-data"));
    let linked = if form {
        let file = form_file(&req, body).await?;
        input.name = input.name.or(file.name);
        // The form's length is more than the file's; the limit is checked on the file's bytes.
        input.declared_type = file.content_type;
        input.declared_length = None;
        state.uploads.upload(&caller, input, file.field).await?
    } else {
        state.uploads.upload(&caller, input, body).await?
    };
    Ok(HttpResponse::Created().json(UploadView::from(linked)))
}

/// The file of an upload form, ready to stream.
struct FormFile {
    field: actix_multipart::Field,
    /// The form the field reads from: it must live while the field is read.
    _form: actix_multipart::Multipart,
    name: Option<String>,
    content_type: Option<String>,
}

/// Most bytes of plain fields read and dropped before the file of a form.
const FORM_FIELDS_BYTES: usize = 64 * 1024;

/// The first field of a form that carries a file name; plain fields before it are skipped.
async fn form_file(req: &HttpRequest, body: web::Payload) -> Result<FormFile, ApiError> {
    let refused = |why: String| ApiError::validation(format!("the upload form: {why}"));
    let mut form = actix_multipart::Multipart::new(req.headers(), body);
    let mut skipped = 0;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| refused(e.to_string()))?;
        let name = field.content_disposition().and_then(|d| d.get_filename()).map(str::to_owned);
        if name.is_some() {
            let content_type = field.content_type().map(ToString::to_string);
            return Ok(FormFile { field, _form: form, name, content_type });
        }
        while let Some(chunk) = field.next().await {
            skipped += chunk.map_err(|e| refused(e.to_string()))?.len();
            if skipped > FORM_FIELDS_BYTES {
                return Err(refused("the fields before the file are too long".into()));
            }
        }
    }
    Err(refused("it has no file (a field with a filename)".into()))
}

/// Reads an upload's description, with a fresh link (agents, or the SDK contact who uploaded it).
#[utoipa::path(
    get, path = "/v1/uploads/{id}", tag = "uploads", operation_id = "get_upload",
    params(("id" = UploadId, Path, description = "The upload")),
    security(("bearer" = []), ("app_id" = [], "device_id" = [], "client_key" = []), ("server_key" = [])),
    responses((status = 200, description = "The upload", body = UploadView)),
)]
pub async fn get(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<UploadId>,
) -> Result<HttpResponse, ApiError> {
    let linked = state.uploads.get(&caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(UploadView::from(linked)))
}

/// Deletes an upload: the file, its thumbnail and its description (the uploader, or an admin or
/// owner).
#[utoipa::path(
    delete, path = "/v1/uploads/{id}", tag = "uploads", operation_id = "delete_upload",
    params(("id" = UploadId, Path, description = "The upload")),
    security(("bearer" = []), ("app_id" = [], "device_id" = [], "client_key" = []), ("server_key" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "`CONFLICT`: a message holds it (delete the message)", body = ErrorEnvelope),
    ),
)]
pub async fn delete(
    state: web::Data<AppState>,
    AnyCaller(caller): AnyCaller,
    id: Path<UploadId>,
) -> Result<HttpResponse, ApiError> {
    state.uploads.delete(&caller, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `?company=&expires=&variant=&signature=` of a download link.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkParams {
    /// The upload's company.
    company: CompanyId,
    /// When the link stops working (Unix seconds).
    expires: i64,
    /// `thumbnail` for the image's thumbnail.
    variant: Option<String>,
    /// The server's signature of the link.
    signature: String,
}

/// A `Range` header against a file of `size` bytes: `Ok(None)` for the whole file (no header, or
/// one this server does not serve in parts, such as several ranges), `Err` when unsatisfiable.
fn range(req: &HttpRequest, size: u64) -> Result<Option<std::ops::Range<u64>>, ()> {
    let Some(spec) = header_text(req, header::RANGE) else { return Ok(None) };
    let Some(spec) = spec.trim().strip_prefix("bytes=") else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((start, end)) = spec.split_once('-') else { return Ok(None) };
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().map_err(|_| ())?;
            if n == 0 {
                return Err(());
            }
            (size.saturating_sub(n), size)
        }
        (start, "") => (start.parse().map_err(|_| ())?, size),
        (start, end) => {
            let end: u64 = end.parse().map_err(|_| ())?;
            (start.parse().map_err(|_| ())?, end.saturating_add(1).min(size))
        }
    };
    if start >= size || start >= end { Err(()) } else { Ok(Some(start..end)) }
}

/// Downloads a file through a signed link (`url` or `thumbnail_url` of an upload or attachment),
/// whole or a `Range` of it; the link is the only credential.
///
/// A link whose company, id, expiry or signature was changed, or that expired, answers `404`.
#[utoipa::path(
    get, path = "/v1/uploads/{id}/content", tag = "uploads", operation_id = "download_upload",
    params(
        ("id" = UploadId, Path, description = "The upload"),
        LinkParams,
        ("Range" = Option<String>, Header, description = "`bytes=a-b`, `bytes=a-` or `bytes=-n`"),
    ),
    responses(
        (status = 200, description = "The file, with its own `Content-Type`", content_type = "*/*", body = FileBytes,
         headers(
            ("Content-Disposition" = String, description = "`inline` or `attachment`, with the file's name"),
            ("Accept-Ranges" = String, description = "`bytes`"),
         )),
        (status = 206, description = "The range asked for", content_type = "*/*", body = FileBytes,
         headers(("Content-Range" = String, description = "`bytes a-b/size`"))),
        (status = 416, description = "The range is past the end of the file", body = ErrorEnvelope,
         headers(("Content-Range" = String, description = "`bytes */size`"))),
    ),
)]
pub async fn content(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: Path<UploadId>,
    link: Query<LinkParams>,
) -> Result<HttpResponse, ApiError> {
    let LinkParams { company, expires, variant, signature } = link.into_inner();
    let thumbnail = match variant.as_deref() {
        None => false,
        Some("thumbnail") => true,
        Some(_) => return Err(ApiError::not_found()),
    };
    let link = DownloadLink { company_id: company, id: id.into_inner(), thumbnail, expires, signature };
    let download = state.uploads.resolve(&link).await?;
    // A file is served in part when asked; a thumbnail (small, its size not kept) whole.
    let part = match download.size {
        Some(size) => match range(&req, size) {
            Ok(part) => part,
            Err(()) => {
                return Ok(HttpResponse::build(StatusCode::RANGE_NOT_SATISFIABLE)
                    .insert_header((header::CONTENT_RANGE, format!("bytes */{size}")))
                    .finish());
            }
        },
        None => None,
    };
    let bytes = state.uploads.bytes(&download, part.clone()).await?;
    let mut answer = match (&part, download.size) {
        (Some(r), Some(size)) => {
            let mut answer = HttpResponse::build(StatusCode::PARTIAL_CONTENT);
            answer.insert_header((header::CONTENT_RANGE, format!("bytes {}-{}/{size}", r.start, r.end - 1)));
            answer.no_chunking(r.end - r.start);
            answer
        }
        (_, Some(size)) => {
            let mut answer = HttpResponse::Ok();
            answer.no_chunking(size);
            answer
        }
        (_, None) => HttpResponse::Ok(),
    };
    let upload = &download.upload;
    let inline = ["image/", "video/", "audio/", "application/pdf"]
        .iter()
        .any(|p| download.content_type.starts_with(p));
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        percent_encoding::utf8_percent_encode(&upload.name, percent_encoding::NON_ALPHANUMERIC)
    );
    answer
        .insert_header((header::CONTENT_TYPE, download.content_type.clone()))
        .insert_header((
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
        ))
        .insert_header((header::ACCEPT_RANGES, if download.size.is_some() { "bytes" } else { "none" }))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox"))
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"));
    let stream =
        bytes.map(|chunk| chunk.map_err(|e| actix_web::error::ErrorServiceUnavailable(e.to_string())));
    Ok(answer.streaming(stream))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        let with = |spec: &str| {
            range(&TestRequest::default().insert_header((header::RANGE, spec)).to_http_request(), 1000)
        };
        assert_eq!(with("bytes=0-99"), Ok(Some(0..100)));
        assert_eq!(with("bytes=900-"), Ok(Some(900..1000)));
        assert_eq!(with("bytes=-100"), Ok(Some(900..1000)));
        assert_eq!(with("bytes=990-2000"), Ok(Some(990..1000)), "an end past the file stops at it");
        assert_eq!(with("bytes=1000-"), Err(()));
        assert_eq!(with("bytes=-0"), Err(()));
        assert_eq!(with("bytes=5-1"), Err(()));
        assert_eq!(with("bytes=0-1,5-6"), Ok(None), "several ranges: the whole file");
        assert_eq!(with("items=0-1"), Ok(None));
        assert_eq!(range(&TestRequest::default().to_http_request(), 1000), Ok(None));
    }
}
