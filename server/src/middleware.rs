//! Request guards that apply across features.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use hearth::auth::AuthSession;
use serde_json::json;

use crate::origin::{Scheme, is_own_origin, origin_of_url, warn_if_other_scheme};

/// The body limit of every request but uploads, as tower-http's
/// `RequestBodyLimit` sets it: 413 at once when `Content-Length` is over
/// it, and a body that stops being read (so 413 from the extractor) once it
/// passes it. No request Hearth takes is near [`crate::startup::BODY_LIMIT`]
/// (a message is at most 10,000 characters, a list of ids 1,000), and
/// server functions read bodies whole. An upload (`crate::rest::is_upload`),
/// whose body is a file, reads up to the upload setting itself. (By hand
/// because the tower-http layer cannot leave some routes out.)
pub async fn limit_bodies(req: Request, next: Next) -> Response {
    use axum::body::Body;
    let limit = crate::startup::BODY_LIMIT;
    if crate::rest::is_upload(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        // `json_errors` writes the JSON body.
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    next.run(req.map(|body| Body::new(http_body_util::Limited::new(body, limit)))).await
}

/// Refuses what no handler could read the way it was meant:
///
/// - a query string whose percent-escapes are not UTF-8 (`?q=%FF`), with a
///   400: axum's `Query` decodes lossily, so a search or a name lookup would
///   quietly run on U+FFFD instead of what was sent;
/// - a body in a content coding (`Content-Encoding: gzip`), with a 415 and
///   `Accept-Encoding: identity` (RFC 9110, 15.5.16): no route decodes one,
///   and JSON read from gzip bytes would fail as a mere syntax error.
pub async fn refuse_unreadable_requests(req: Request, next: Next) -> Response {
    let query = req.uri().query().unwrap_or("");
    if percent_encoding::percent_decode_str(query).decode_utf8().is_err() {
        let errors = json!({ "errors": ["The query string is not valid UTF-8 once percent-decoded"] });
        return (StatusCode::BAD_REQUEST, Json(errors)).into_response();
    }
    let coded = req.headers().get_all(header::CONTENT_ENCODING).iter().any(|coding| {
        coding.to_str().map_or(true, |coding| coding.split(',').any(|c| !c.trim().eq_ignore_ascii_case("identity")))
    });
    if coded {
        let errors = json!({ "errors": ["Request bodies are taken uncompressed (Content-Encoding: identity)"] });
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, [(header::ACCEPT_ENCODING, "identity")], Json(errors))
            .into_response();
    }
    next.run(req).await
}

/// Refuses state-changing requests that a browser marks as coming from
/// another site, so a session cookie can never be ridden cross-site. It
/// covers the REST API and server functions alike:
///
/// - `Sec-Fetch-Site` (every current browser) must be `same-origin` or
///   `none` (typed or bookmarked);
/// - without it, `Origin` must be this server, scheme included
///   ([`crate::origin::is_own_origin`]);
/// - without either, a `Referer` must be this server too.
///
/// curl sends none of them and is let through; a browser always sends one
/// of the first two on a write. Server functions (`/fn/*`) also take only the
/// body type leptos sends, url-encoded form data: a cross-site `<form>` can
/// also send `text/plain` or `multipart/form-data`, which get a 415.
///
/// Hand-written because no maintained tower crate does Fetch-Metadata
/// checks; token-based CSRF crates would break ChatFlow's plain-curl flow.
pub async fn refuse_cross_site_writes(Extension(scheme): Extension<Scheme>, req: Request, next: Next) -> Response {
    if !is_safe(req.method()) {
        if is_cross_site(req.headers(), scheme) {
            return refuse(StatusCode::FORBIDDEN, "Cross-site request refused");
        }
        if req.uri().path().starts_with(SERVER_FUNCTIONS) && !is_form_data(req.headers()) {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/x-www-form-urlencoded",
            );
        }
    }
    next.run(req).await
}

/// Where leptos serves the server functions (`#[server(prefix = "/fn")]`).
const SERVER_FUNCTIONS: &str = "/fn/";

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "errors": [message] }))).into_response()
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn is_cross_site(headers: &HeaderMap, scheme: Scheme) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        // "none" is the user typing a URL or using a bookmark.
        return !matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let own = origin.to_str().is_ok_and(|origin| is_own_origin(origin, headers, scheme));
        if !own {
            warn_if_other_scheme(origin, headers, scheme);
        }
        return !own;
    }
    if let Some(referer) = headers.get(header::REFERER) {
        let own =
            referer.to_str().ok().and_then(origin_of_url).is_some_and(|origin| is_own_origin(origin, headers, scheme));
        return !own;
    }
    false
}

/// `application/x-www-form-urlencoded`, the body leptos' server functions
/// and the no-JavaScript forms send (parameters such as a charset allowed).
fn is_form_data(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// Pages that anonymous visitors may see.
const PUBLIC_PAGES: [&str; 4] = ["/login", "/register", "/reset-password", "/forgot-password"];

/// Pages for the signed-out, which someone signed in is sent on from.
const SIGNED_OUT_PAGES: [&str; 2] = ["/login", "/register"];

/// Sends anonymous visitors of a page to `/login?next=<where they were going>`,
/// before anything renders, and someone signed in who opens the sign-in or
/// sign-up page on to its `next` (a path on this site) or home. Applied to
/// the page routes only.
pub async fn require_sign_in_for_pages(session: AuthSession, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if req.method() == Method::GET && session.user.is_none() && !PUBLIC_PAGES.contains(&path) {
        let target = req.uri().path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
        let encoded: String = form_urlencoded_component(target);
        return Redirect::to(&format!("/login?next={encoded}")).into_response();
    }
    if req.method() == Method::GET && session.user.is_some() && SIGNED_OUT_PAGES.contains(&path) {
        let wanted = url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .find(|(key, _)| key == "next")
            .map(|(_, value)| value.into_owned());
        return Redirect::to(&hearth::redirect::safe_next(wanted.as_deref())).into_response();
    }
    next.run(req).await
}

/// Percent-encodes everything but unreserved characters and `/`.
fn form_urlencoded_component(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for byte in input.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
