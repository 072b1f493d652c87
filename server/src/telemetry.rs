//! Logging through `tracing`, to stdout.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; later calls (as in tests) are no-ops.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).try_init();
}

/// The request path as logs may show it: the token API's secret token is
/// replaced, so `/api/applications/abc…/chats` logs as
/// `/api/applications/[token]/chats`.
pub fn redact_path(path: &str) -> String {
    const PREFIX: &str = "/api/applications/";
    match path.strip_prefix(PREFIX) {
        Some(rest) if !rest.is_empty() => {
            let tail = rest.find('/').map(|i| &rest[i..]).unwrap_or("");
            format!("{PREFIX}[token]{tail}")
        }
        _ => path.to_owned(),
    }
}

/// The span for each request: method and redacted path, never the query
/// string (which may carry search text) or headers (which carry cookies).
pub fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::info_span!("request", method = %request.method(), path = %redact_path(request.uri().path()))
}

#[cfg(test)]
mod tests {
    use super::redact_path;

    #[test]
    fn application_tokens_never_reach_the_logs() {
        assert_eq!(redact_path("/api/applications/0123abcd/chats/1"), "/api/applications/[token]/chats/1");
        assert_eq!(redact_path("/api/applications/0123abcd"), "/api/applications/[token]");
        assert_eq!(redact_path("/api/applications"), "/api/applications");
        assert_eq!(redact_path("/conversations/1"), "/conversations/1");
    }
}
