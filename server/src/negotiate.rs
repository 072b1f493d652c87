//! Errors that axum, tower-http or leptos answer by themselves (an unknown
//! route, a method the route lacks, a body over the limit) come with an
//! empty, plain-text or HTML body. API clients get the one JSON shape every
//! other error has, `{"errors": [...]}`: on API paths, and wherever the
//! request asks for JSON. Browsers asking for a page still get the HTML one.
//!
//! A browser that navigates to an API path that has a page (ChatFlow's
//! `/users/sign_in`, `/conversations/12`, the API's `/rooms` and `/search`)
//! is sent to that page instead of being shown JSON or a 405.

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Paths the JSON API owns (pages are `/`, `/login`, `/rooms/:id`, …).
const API_PREFIXES: [&str; 10] =
    ["/users", "/conversations", "/messages", "/message", "/api/", "/search", "/fn/", "/healthz", "/ws", "/cable"];
/// API paths only below these: `/admin` itself is a page.
const API_ONLY_BELOW: [&str; 3] = ["/admin/", "/push/", "/attachments/"];

/// Gives framework-made error answers the API's JSON body where JSON is wanted.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let wants_json = wants_json(req.uri().path(), req.headers());
    let response = next.run(req).await;
    let status = response.status();
    let is_error = status.is_client_error() || status.is_server_error();
    if !wants_json || !is_error || is_json(response.headers()) || is_server_fn_error(response.headers()) {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let mut json = (status, Json(json!({ "errors": [message_for(status)] }))).into_response();
    // Keep what the original said besides its body (`Allow`, `Retry-After`…).
    for (name, value) in parts.headers {
        if let Some(name) = name
            && name != header::CONTENT_TYPE
        {
            json.headers_mut().insert(name, value);
        }
    }
    json
}

/// Sends a browser's page load of an API path to the page for it (303).
/// Only navigations: a GET whose `Accept` puts `text/html` first, as
/// browsers do for a page and API clients (`*/*`, JSON) never do. Either
/// answer on such a path says `Vary: Accept`, so no cache hands one to the
/// other.
pub async fn pages_for_browsers(req: Request, next: Next) -> Response {
    let reads = matches!(*req.method(), Method::GET | Method::HEAD);
    let Some(page) = reads.then(|| page_for(req.uri().path(), req.uri().query())).flatten() else {
        return next.run(req).await;
    };
    let navigation = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .and_then(|a| a.split(',').next())
        .is_some_and(|first| first.trim().starts_with("text/html"));
    let mut response = match HeaderValue::try_from(page) {
        Ok(location) if navigation => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            response.headers_mut().insert(header::LOCATION, location);
            response
        }
        _ => next.run(req).await,
    };
    response.headers_mut().append(header::VARY, HeaderValue::from_static("accept"));
    response
}

/// The page that shows what API path `path` answers, if one does; a
/// search keeps its query (`q` on both).
fn page_for(path: &str, query: Option<&str>) -> Option<String> {
    let page = match path {
        "/users/sign_in" => "/login".to_owned(),
        "/users/sign_up" => "/register".to_owned(),
        "/users/password/new" => "/forgot-password".to_owned(),
        "/users" => "/people".to_owned(),
        "/conversations" => "/".to_owned(),
        "/rooms" => "/browse".to_owned(),
        "/search" => match query {
            Some(query) => format!("/find?{query}"),
            None => "/find".to_owned(),
        },
        _ => {
            let id = path.strip_prefix("/conversations/")?;
            if id.is_empty() || id.len() > 18 || !id.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            format!("/rooms/{id}")
        }
    };
    Some(page)
}

fn wants_json(path: &str, headers: &HeaderMap) -> bool {
    let api = path == "/rooms"
        || API_PREFIXES.iter().any(|p| path == p.trim_end_matches('/') || path.starts_with(p))
        || API_ONLY_BELOW.iter().any(|p| path.starts_with(p));
    let accept = headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()).unwrap_or("");
    api || (accept.contains("application/json") && !accept.contains("text/html"))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json") || c.ends_with("+json"))
}

/// Server functions encode their own errors, which the browser decodes.
fn is_server_fn_error(headers: &HeaderMap) -> bool {
    headers.contains_key("serverfnerror")
}

fn message_for(status: StatusCode) -> String {
    match status {
        StatusCode::NOT_FOUND => "Not found".into(),
        StatusCode::METHOD_NOT_ALLOWED => "Method not allowed".into(),
        StatusCode::PAYLOAD_TOO_LARGE => "Request body is too large".into(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "Unsupported content type".into(),
        StatusCode::REQUEST_TIMEOUT => "Request timed out".into(),
        other => other.canonical_reason().unwrap_or("Request failed").into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_and_json_clients_want_json() {
        let none = HeaderMap::new();
        for api in ["/users/me", "/conversations/1/x", "/api/applications/t", "/fn/login123", "/rooms", "/search"] {
            assert!(wants_json(api, &none), "{api}");
        }
        assert!(!wants_json("/rooms/12", &none));
        assert!(!wants_json("/nowhere", &none));
        let mut json = HeaderMap::new();
        json.insert(header::ACCEPT, "application/json".parse().expect("a valid header value"));
        assert!(wants_json("/nowhere", &json));
    }

    #[test]
    fn api_paths_with_a_page_name_it() {
        assert_eq!(page_for("/users/sign_in", None).as_deref(), Some("/login"));
        assert_eq!(page_for("/users/sign_up", None).as_deref(), Some("/register"));
        assert_eq!(page_for("/users/password/new", None).as_deref(), Some("/forgot-password"));
        assert_eq!(page_for("/users", None).as_deref(), Some("/people"));
        assert_eq!(page_for("/conversations", None).as_deref(), Some("/"));
        assert_eq!(page_for("/search", None).as_deref(), Some("/find"));
        assert_eq!(page_for("/conversations/12", None).as_deref(), Some("/rooms/12"));
        assert_eq!(page_for("/search", Some("q=ell%20w")).as_deref(), Some("/find?q=ell%20w"));
        assert_eq!(page_for("/rooms", Some("x=1")).as_deref(), Some("/browse"));
        for none in ["/conversations/12/messages", "/conversations/x", "/conversations/", "/users/me", "/rooms/3"] {
            assert_eq!(page_for(none, None), None, "{none}");
        }
        assert_eq!(page_for(&format!("/conversations/{}", "9".repeat(19)), None), None);
    }
}
