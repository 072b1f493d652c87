//! Logging through `tracing`, to stdout.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; later calls (as in tests) are no-ops. A
/// filter that does not parse falls back to `info`: the binary refuses one
/// first, with [`check_filter`]. Colours only on a terminal (and never with
/// `NO_COLOR` set): a log file or a pipe gets plain text.
pub fn init(filter: &str) {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(colour).try_init();
}

const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// Refuses a log filter (`HEARTH_LOG`) that `EnvFilter` cannot parse, with
/// one line that names the setting; and a bare word that is not a level
/// (`verbose`, `warning`), which `EnvFilter` reads as a target's name and
/// so turns every other log off, the "listening" line included.
pub fn check_filter(filter: &str) -> Result<(), String> {
    EnvFilter::try_new(filter)
        .map_err(|e| format!("HEARTH_LOG (--log) {filter:?} is not a log filter ({e}); e.g. info,tower_http=warn"))?;
    let bare = filter
        .split(',')
        .map(str::trim)
        .find(|d| !d.is_empty() && !d.contains(['=', '[', ':']) && !LEVELS.iter().any(|l| d.eq_ignore_ascii_case(l)));
    match bare {
        Some(word) => Err(format!(
            "HEARTH_LOG (--log) {filter:?}: {word:?} is not a level ({}); a target takes one, as in {word}=debug",
            LEVELS.join(", ")
        )),
        None => Ok(()),
    }
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
        // A word that is no level would be a target, and log nothing else.
        for word in ["verbose", "warning", "info,verbose"] {
            let err = check_filter(word).unwrap_err();
            assert!(err.contains("is not a level (off, error, warn, info, debug, trace)"), "{err}");
        }
        assert!(check_filter("WARN,hearth=debug,tower_http::trace=info").is_ok());
    }

    #[test]
    fn application_tokens_never_reach_the_logs() {
        assert_eq!(redact_path("/api/applications/0123abcd/chats/1"), "/api/applications/[token]/chats/1");
        assert_eq!(redact_path("/api/applications/0123abcd"), "/api/applications/[token]");
        assert_eq!(redact_path("/api/applications"), "/api/applications");
        assert_eq!(redact_path("/conversations/1"), "/conversations/1");
    }
}
