//! Request limits enforced around the whole router (by [`crate::serve`]),
//! each answered in JSON `{"errors": [...]}`:
//!
//! - a request target over [`MAX_URI_BYTES`]: **414**;
//! - a request head with more than [`MAX_HEADERS`] header lines, or whose
//!   header lines total over [`MAX_HEADER_BYTES`]: **431**;
//! - a request body that stalls (no bytes for `HEARTH_BODY_READ_TIMEOUT`,
//!   30 s, while the handler reads it): **408**, and the connection closes.
//!   The timer restarts with every chunk, so a slow upload is fine and a
//!   silent one is not; handlers that never read a body are not timed.
//!
//! hyper's own limits are set above these ([`HYPER_MAX_HEADERS`],
//! [`HYPER_MAX_BUF`]; hyper caps a request target at 64 KiB): beyond them
//! hyper answers 414 or 431 itself, with an empty body, before any of this
//! runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde_json::json;
use tower_http::timeout::{TimeoutBody, TimeoutError};

/// Longest request target (path and query) answered normally.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Most header lines in one request.
pub const MAX_HEADERS: usize = 100;
/// Most bytes of header lines (`name: value\r\n` each) in one request.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// hyper's cap on header lines, above [`MAX_HEADERS`].
pub const HYPER_MAX_HEADERS: usize = 256;
/// hyper's read buffer cap, so its cap on a whole request head: above
/// [`MAX_URI_BYTES`] + [`MAX_HEADER_BYTES`], and well below its ~400 KB
/// default, which is what each stalled connection could otherwise hold.
pub const HYPER_MAX_BUF: usize = 64 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    body_read_timeout: Duration,
}

impl Limits {
    pub fn new(body_read_timeout: Duration) -> Self {
        Self { body_read_timeout }
    }
}

/// The limits, as the middleware outermost around the router and its
/// fallback (`crate::startup`).
pub async fn enforce(State(limits): State<Limits>, request: Request, next: Next) -> Response {
    if uri_len(request.uri()) > MAX_URI_BYTES {
        tracing::debug!("refused a request target over {MAX_URI_BYTES} bytes");
        return error(StatusCode::URI_TOO_LONG, format!("The request target is longer than {MAX_URI_BYTES} bytes"));
    }
    let headers = request.headers();
    let header_bytes: usize = headers.iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    if headers.len() > MAX_HEADERS || header_bytes > MAX_HEADER_BYTES {
        tracing::debug!(count = headers.len(), bytes = header_bytes, "refused oversized request headers");
        return error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("Request headers are limited to {MAX_HEADERS} lines and {MAX_HEADER_BYTES} bytes"),
        );
    }

    let stalled = Arc::new(AtomicBool::new(false));
    let flag = stalled.clone();
    let timeout = limits.body_read_timeout;
    let request = request.map(|body| {
        Body::new(TimeoutBody::new(timeout, body).map_err(move |err| {
            if err.is::<TimeoutError>() {
                flag.store(true, Ordering::Relaxed);
            }
            err
        }))
    });
    let response = next.run(request).await;
    if stalled.load(Ordering::Relaxed) {
        // Whatever the handler made of the failed read, the client hears why.
        tracing::debug!("request body stalled");
        let mut response =
            error(StatusCode::REQUEST_TIMEOUT, format!("The request body stalled for {} s", timeout.as_secs_f64()));
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    response
}

/// The request target's length as sent (origin or absolute form).
fn uri_len(uri: &Uri) -> usize {
    uri.scheme_str().map_or(0, |s| s.len() + 3)
        + uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path_and_query().map_or(0, |pq| pq.as_str().len())
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "errors": [message] }))).into_response()
}
