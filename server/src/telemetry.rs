//! Logging through `tracing`, to stdout.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; later calls (as in tests) are no-ops. A
/// filter that does not parse falls back to `info`: the binary refuses one
/// first, with [`check_filter`].
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).try_init();
}

/// Refuses a log filter (`HEARTH_LOG`) that `EnvFilter` cannot parse, with
/// one line that names the setting.
pub fn check_filter(filter: &str) -> Result<(), String> {
    EnvFilter::try_new(filter)
        .map(drop)
        .map_err(|e| format!("HEARTH_LOG (--log) {filter:?} is not a log filter ({e}); e.g. info,tower_http=warn"))
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
    use super::{check_filter, redact_path};

    #[test]
    fn a_log_filter_that_does_not_parse_is_refused() {
        assert!(check_filter("info,tower_http=info").is_ok());
        assert!(check_filter("off").is_ok());
        let err = check_filter("[[[,warn").unwrap_err();
        assert!(err.starts_with("HEARTH_LOG") && !err.contains('\n'), "{err}");
    }

    #[test]
    fn application_tokens_never_reach_the_logs() {
        assert_eq!(redact_path("/api/applications/0123abcd/chats/1"), "/api/applications/[token]/chats/1");
        assert_eq!(redact_path("/api/applications/0123abcd"), "/api/applications/[token]");
        assert_eq!(redact_path("/api/applications"), "/api/applications");
        assert_eq!(redact_path("/conversations/1"), "/conversations/1");
    }
}
