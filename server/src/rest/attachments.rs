//! Files over HTTP (issue 16): uploads to a room, downloads for its members,
//! thumbnails, and uploaded avatars. The rules (who may, what type, which
//! limits) are the core's (`hearth::attachments`); this adapter reads the
//! body within the limit and writes the download headers.
//!
//! An upload is the file itself as the body, as GitHub's release-asset
//! upload is: `curl --data-binary @photo.jpg -H 'Content-Type: image/jpeg'
//! '…/conversations/12/attachments?name=photo.jpg'`. The browser sends each
//! chosen file this way (with a progress bar), then the message names them.
//!
//! Downloads carry `Content-Disposition` (inline for images and text, a
//! download for the rest), `X-Content-Type-Options: nosniff` and a
//! `Content-Security-Policy` that lets nothing run (both set for every
//! response, `crate::headers`), the type the core chose from the file's
//! bytes, and answer `Range` requests (one range; several get the whole
//! file).

use std::ops::Range;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use hearth::attachments::{Download, Part, path_segment};
use hearth::model::{Attachment, Profile, RoomId, UserId};
use hearth::{AppError, Hearth};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult};
use crate::extract::{CurrentUser, Path, Query};
use crate::state::AppState;

/// Whether a request is one of [`upload_router`]'s, which the server's
/// 2 MiB body limit leaves to read up to the upload setting themselves
/// (`crate::middleware::limit_bodies`).
pub fn is_upload(method: &Method, path: &str) -> bool {
    match *method {
        Method::POST => path
            .strip_prefix("/conversations/")
            .and_then(|rest| rest.strip_suffix("/attachments"))
            .is_some_and(|id| !id.is_empty() && !id.contains('/')),
        Method::PUT => path == "/users/me/avatar",
        _ => false,
    }
}

/// The routes that take a file as their body.
pub fn upload_router() -> Router<AppState> {
    Router::new().route("/conversations/{id}/attachments", post(upload)).route("/users/me/avatar", put(upload_avatar))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/attachments/{id}/{name}", get(download))
        .route("/attachments/thumbnails/{id}", get(thumbnail))
        .route("/users/{id}/avatar", get(avatar))
}

/// The upload's name.
#[derive(Deserialize, IntoParams)]
pub(super) struct UploadParams {
    /// The file's name (directories and control characters are dropped; at
    /// most 255 characters are kept).
    name: Option<String>,
}

/// The length the body declares (`Content-Length`), if any; one that is not
/// a number is hyper's 400 before this runs.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok())
}

/// Reads the whole body, or answers 413 as soon as it is over the limit.
/// Nothing is stored before the last byte has arrived; the upload was
/// admitted before the first (`Hearth::admit_upload`).
async fn read_upload(hearth: &Hearth, body: Body) -> Result<Bytes, ApiError> {
    let limit = usize::try_from(hearth.upload_limit()).unwrap_or(usize::MAX);
    axum::body::to_bytes(body, limit).await.map_err(|err| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(cause) = source {
            if cause.is::<http_body_util::LengthLimitError>() {
                return ApiError::Core(hearth.too_large());
            }
            source = cause.source();
        }
        ApiError::BadRequest(format!("The upload did not arrive whole: {err}"))
    })
}

/// Uploads a file to a conversation I belong to, for a message I am about
/// to send (`attachment_ids`). The body is the file; images get a
/// thumbnail. An upload no message takes within a day is deleted.
#[utoipa::path(post, path = "/conversations/{id}/attachments", tag = "messages",
    params(("id" = i64, Path, description = "The conversation's id"), UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes"),
    responses(
        (status = 201, description = "Uploaded, not sent yet", body = Attachment),
        (status = 413, description = "Over the upload limit (25 MB unless configured)", body = super::openapi::Errors),
        (status = 429, description = "Over 60 uploads a minute, or too many being received at once (Retry-After)", body = super::openapi::Errors)))]
pub(super) async fn upload(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    Query(params): Query<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<impl IntoResponse> {
    let declared = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let pass = hearth.admit_upload(me.id, Some(RoomId(id)), declared_length(&headers)).await?;
    let bytes = read_upload(&hearth, body).await?;
    let name = params.name.unwrap_or_default();
    let attachment = hearth.upload_attachment(pass, &name, declared.as_deref(), bytes).await?;
    Ok((StatusCode::CREATED, axum::Json(attachment)))
}

/// Sets my avatar from an image (the body): cropped to a square and served
/// at `/users/{id}/avatar`, which becomes my `avatar_url`.
#[utoipa::path(put, path = "/users/me/avatar", tag = "users",
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "A PNG, JPEG, GIF or WebP image"),
    responses(
        (status = 200, description = "My profile, with the new avatar_url", body = Profile),
        (status = 413, description = "Over the upload limit", body = super::openapi::Errors),
        (status = 429, description = "Over 60 uploads a minute, or too many being received at once (Retry-After)", body = super::openapi::Errors)))]
pub(super) async fn upload_avatar(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<impl IntoResponse> {
    let pass = hearth.admit_upload(me.id, None, declared_length(&headers)).await?;
    let bytes = read_upload(&hearth, body).await?;
    Ok(axum::Json(hearth.upload_avatar(pass, bytes).await?))
}

/// Downloads an attachment of a conversation I belong to (`Range` works).
#[utoipa::path(get, path = "/attachments/{id}/{name}", tag = "messages",
    params(("id" = i64, Path, description = "The attachment's id"), ("name" = String, Path, description = "Its name (any; the id decides)")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, description = "The range asked for", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 416, description = "The range is outside the file", body = super::openapi::Errors)))]
pub(super) async fn download(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path((id, _name)): Path<(i64, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let download = hearth.open_attachment(me.id, id, Part::File).await?;
    serve(&hearth, &download, &headers).await
}

/// An image attachment's thumbnail (at most 480 pixels a side).
#[utoipa::path(get, path = "/attachments/thumbnails/{id}", tag = "messages",
    params(("id" = i64, Path, description = "The attachment's id")),
    responses((status = 200, description = "A JPEG or PNG", content_type = "image/jpeg", body = Vec<u8>)))]
pub(super) async fn thumbnail(
    State(hearth): State<Hearth>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let download = hearth.open_attachment(me.id, id, Part::Thumbnail).await?;
    serve(&hearth, &download, &headers).await
}

/// A user's uploaded avatar (256 pixels square), for anyone signed in.
#[utoipa::path(get, path = "/users/{id}/avatar", tag = "users",
    params(("id" = i64, Path, description = "The user's id")),
    responses((status = 200, description = "A JPEG or PNG", content_type = "image/jpeg", body = Vec<u8>)))]
pub(super) async fn avatar(
    State(hearth): State<Hearth>,
    CurrentUser(_me): CurrentUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let download = hearth.open_avatar(UserId(id)).await?;
    serve(&hearth, &download, &headers).await
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    Whole,
    Part(Range<u64>),
    Unsatisfiable,
}

fn wanted(headers: &HeaderMap, size: u64) -> Wanted {
    let Some(raw) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Wanted::Whole;
    };
    match http_range_header::parse_range_header(raw).map(|ranges| ranges.validate(size)) {
        Ok(Ok(ranges)) if ranges.len() == 1 => {
            let range = &ranges[0];
            Wanted::Part(*range.start()..range.end() + 1)
        }
        // Several ranges: the whole file, which RFC 9110 allows.
        Ok(Ok(_)) => Wanted::Whole,
        // A range past the end.
        Ok(Err(_)) => Wanted::Unsatisfiable,
        // Not a byte range Hearth understands: ignored, as RFC 9110 says.
        Err(_) => Wanted::Whole,
    }
}

/// `inline; filename="photo.jpg"; filename*=UTF-8''photo.jpg` (or
/// `attachment; …`): the ASCII name for old clients, the exact one for the rest.
fn disposition(download: &Download) -> HeaderValue {
    let ascii: String = download
        .file_name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let kind = if download.inline { "inline" } else { "attachment" };
    let value = format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{}", path_segment(&download.file_name));
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

async fn serve(hearth: &Hearth, download: &Download, headers: &HeaderMap) -> ApiResult<Response> {
    let missing = || {
        tracing::error!(key = %download.key, "a blob the database records is missing from the store");
        ApiError::Core(AppError::NotFound("file"))
    };
    // A file (its size recorded) is streamed from the store, a piece at a
    // time; a thumbnail or an avatar (small, their type read from their
    // bytes) is read whole.
    let (status, body, size, range, content_type) = match download.size {
        Some(size) => {
            let (status, range) = match wanted(headers, size) {
                Wanted::Unsatisfiable => {
                    let mut refused =
                        ApiError::Core(AppError::invalid("range", "The range is outside the file")).into_response();
                    *refused.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
                    if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                        refused.headers_mut().insert(header::CONTENT_RANGE, value);
                    }
                    return Ok(refused);
                }
                Wanted::Part(range) => (StatusCode::PARTIAL_CONTENT, Some(range)),
                Wanted::Whole => (StatusCode::OK, None),
            };
            let pieces = hearth.stream_download(download, range.clone()).await?.ok_or_else(missing)?;
            let length = range.as_ref().map_or(size, |r| r.end - r.start);
            let given = match download.content_type.as_str() {
                "" => "application/octet-stream".to_owned(),
                given => given.to_owned(),
            };
            (status, (length, Body::from_stream(pieces)), size, range, given)
        }
        None => {
            let whole = hearth.read_download(download, None).await?.ok_or_else(missing)?;
            // Thumbnails and avatars: what Hearth encoded them as.
            let sniffed = hearth::images::sniff(&whole).map_or("application/octet-stream", hearth::images::media_type);
            let size = whole.len() as u64;
            (StatusCode::OK, (size, Body::from(whole)), size, None, sniffed.to_owned())
        }
    };
    let (length, body) = body;
    let mut response = (status, body).into_response();
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    out.insert(header::CONTENT_DISPOSITION, disposition(download));
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // Only this browser keeps a copy: the link works for members only.
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400"));
    if let Some(range) = range
        && let Ok(value) = HeaderValue::from_str(&format!("bytes {}-{}/{size}", range.start, range.end - 1))
    {
        out.insert(header::CONTENT_RANGE, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(raw: &str, size: u64) -> Wanted {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_str(raw).expect("a header"));
        wanted(&headers, size)
    }

    #[test]
    fn only_the_upload_routes_skip_the_body_limit() {
        assert!(is_upload(&Method::POST, "/conversations/12/attachments"));
        assert!(is_upload(&Method::PUT, "/users/me/avatar"));
        for (method, path) in [
            (Method::GET, "/conversations/12/attachments"),
            (Method::POST, "/conversations/12/messages"),
            (Method::POST, "/conversations//attachments"),
            (Method::POST, "/conversations/1/2/attachments"),
            (Method::POST, "/users/me/avatar"),
            (Method::PUT, "/users/me"),
        ] {
            assert!(!is_upload(&method, path), "{method} {path}");
        }
    }

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(wanted(&HeaderMap::new(), 10), Wanted::Whole);
        assert_eq!(range("bytes=0-3", 10), Wanted::Part(0..4));
        assert_eq!(range("bytes=7-", 10), Wanted::Part(7..10));
        assert_eq!(range("bytes=-2", 10), Wanted::Part(8..10));
        assert_eq!(range("bytes=5-100", 10), Wanted::Part(5..10));
        assert_eq!(range("bytes=10-12", 10), Wanted::Unsatisfiable);
        assert_eq!(range("bytes=0-1,4-5", 10), Wanted::Whole);
        assert_eq!(range("lines=1-2", 10), Wanted::Whole);
    }

    #[test]
    fn the_disposition_names_the_file_safely() {
        let download = |name: &str, inline| Download {
            key: String::new(),
            file_name: name.to_owned(),
            content_type: String::new(),
            inline,
            size: None,
        };
        assert_eq!(
            disposition(&download("a \"b\".png", true)),
            "inline; filename=\"a _b_.png\"; filename*=UTF-8''a%20%22b%22.png"
        );
        assert_eq!(
            disposition(&download("résumé.pdf", false)),
            "attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
        );
    }
}
