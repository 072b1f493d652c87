//! Request guards that apply across features.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use hearth::auth::AuthSession;
use serde_json::json;

use crate::origin::{Scheme, is_own_origin, origin_of_url, warn_if_other_scheme};

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

/// Sends anonymous visitors of a page to `/login?next=<where they were going>`,
/// before anything renders. Applied to the page routes only.
pub async fn require_sign_in_for_pages(session: AuthSession, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if req.method() == Method::GET && session.user.is_none() && !PUBLIC_PAGES.contains(&path) {
        let target = req.uri().path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
        let encoded: String = form_urlencoded_component(target);
        return Redirect::to(&format!("/login?next={encoded}")).into_response();
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
