//! Errors that axum, tower-http or leptos answer by themselves (an unknown
//! route, a method the route lacks, a body over the limit) come with an
//! empty, plain-text or HTML body. API clients get the one JSON shape every
//! other error has, `{"errors": [...]}`: on API paths, and wherever the
//! request asks for JSON. Browsers asking for a page still get the HTML one.

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Paths the JSON API owns (pages are `/`, `/login`, `/rooms/:id`, …).
const API_PREFIXES: [&str; 10] =
    ["/users", "/conversations", "/messages", "/message", "/api/", "/search", "/fn/", "/healthz", "/ws", "/cable"];

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

fn wants_json(path: &str, headers: &HeaderMap) -> bool {
    let api = path == "/rooms" || API_PREFIXES.iter().any(|p| path == p.trim_end_matches('/') || path.starts_with(p));
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
}
