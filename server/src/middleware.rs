//! Request guards that apply across features.

use axum::Json;
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use hearth::auth::AuthSession;
use serde_json::json;

/// Refuses state-changing requests that a browser marks as coming from
/// another site (`Sec-Fetch-Site`), or whose `Origin` is not this host. This
/// covers the REST API and server functions alike, so a session cookie can
/// never be ridden cross-site. curl sends neither header and is let through.
///
/// Hand-written because no maintained tower crate does Fetch-Metadata
/// checks; token-based CSRF crates would break ChatFlow's plain-curl flow.
pub async fn refuse_cross_site_writes(req: Request, next: Next) -> Response {
    if !is_safe(req.method()) && is_cross_site(&req) {
        return (StatusCode::FORBIDDEN, Json(json!({ "errors": ["Cross-site request refused"] }))).into_response();
    }
    next.run(req).await
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn is_cross_site(req: &Request) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        // "none" is the user typing a URL or using a bookmark.
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host =
        origin.to_str().ok().and_then(|o| o.split_once("://")).map(|(_, rest)| rest.trim_end_matches('/'));
    match (origin_host, host) {
        (Some(o), Some(h)) => !o.eq_ignore_ascii_case(h),
        _ => true,
    }
}

/// Pages that anonymous visitors may see.
const PUBLIC_PAGES: [&str; 2] = ["/login", "/register"];

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
