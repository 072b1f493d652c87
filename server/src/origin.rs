//! What "this server's origin" means, for the cross-site write guard
//! ([`crate::middleware::refuse_cross_site_writes`]) and the WebSocket
//! upgrade ([`crate::ws`]): one comparison, used by both.
//!
//! An origin is a scheme, a host and a port. The host and port are the
//! request's `Host`; the scheme is the one the operator serves over, which
//! the server cannot see behind a TLS-terminating proxy, so it follows
//! `--secure-cookies` (`HEARTH_SECURE_COOKIES`): `https` when it is on,
//! `http` otherwise.

use axum::http::{HeaderMap, HeaderValue, header};

/// The scheme browsers use to reach this server. Installed as a request
/// extension in `startup`, so the guard and the WebSocket read the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    /// `https` when the session cookie is `Secure` (the operator serves over
    /// https), else `http`.
    pub fn served_over(secure_cookies: bool) -> Self {
        if secure_cookies { Self::Https } else { Self::Http }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }

    fn default_port(self) -> &'static str {
        match self {
            Self::Http => "80",
            Self::Https => "443",
        }
    }
}

/// Whether `origin` (an `Origin` header, `scheme://host[:port]`) is this
/// server as the request addressed it: the same scheme as `scheme`, and the
/// request's `Host`. A default port written out (`:443` for https) matches
/// one left out. `null`, a missing `Host` or anything unparsable is foreign.
pub fn is_own_origin(origin: &str, headers: &HeaderMap, scheme: Scheme) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let Some((their_scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let authority = authority.strip_suffix('/').unwrap_or(authority);
    their_scheme.eq_ignore_ascii_case(scheme.as_str())
        && without_default_port(authority, scheme).eq_ignore_ascii_case(without_default_port(host, scheme))
}

/// Logs a refused `origin` that is this host over the other scheme: most
/// likely Hearth is served over https without `HEARTH_SECURE_COOKIES`.
pub fn warn_if_other_scheme(origin: &HeaderValue, headers: &HeaderMap, scheme: Scheme) {
    let other = match scheme {
        Scheme::Http => Scheme::Https,
        Scheme::Https => Scheme::Http,
    };
    if origin.to_str().is_ok_and(|origin| is_own_origin(origin, headers, other)) {
        tracing::warn!(
            origin = ?origin,
            serving = scheme.as_str(),
            "refused a request from this host over the other scheme; if Hearth is served over https, \
             set HEARTH_SECURE_COOKIES=true"
        );
    }
}

/// The origin part of a URL (a `Referer`): `scheme://host[:port]`, without
/// path, query or fragment. `None` when it has no scheme.
pub fn origin_of_url(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&url[..scheme.len() + "://".len() + end])
}

fn without_default_port(authority: &str, scheme: Scheme) -> &str {
    match authority.rsplit_once(':') {
        Some((host, port)) if port == scheme.default_port() => host,
        _ => authority,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn the_same_scheme_host_and_port_is_this_server() {
        assert!(is_own_origin("http://127.0.0.1:3000", &host("127.0.0.1:3000"), Scheme::Http));
        assert!(is_own_origin("https://Chat.Example", &host("chat.example"), Scheme::Https));
        assert!(is_own_origin("https://chat.example:443", &host("chat.example"), Scheme::Https));
        assert!(is_own_origin("http://chat.example", &host("chat.example:80"), Scheme::Http));
    }

    #[test]
    fn another_scheme_host_or_port_is_foreign() {
        assert!(!is_own_origin("https://127.0.0.1:3000", &host("127.0.0.1:3000"), Scheme::Http));
        assert!(!is_own_origin("http://chat.example", &host("chat.example"), Scheme::Https));
        assert!(!is_own_origin("http://evil.example", &host("chat.example"), Scheme::Http));
        assert!(!is_own_origin("http://chat.example:8080", &host("chat.example"), Scheme::Http));
        assert!(!is_own_origin("http://chat.example.evil.example", &host("chat.example"), Scheme::Http));
        assert!(!is_own_origin("null", &host("chat.example"), Scheme::Http));
        assert!(!is_own_origin("http://chat.example", &HeaderMap::new(), Scheme::Http));
    }

    #[test]
    fn the_origin_of_a_url_drops_path_query_and_fragment() {
        assert_eq!(origin_of_url("https://chat.example/rooms/1?x=2"), Some("https://chat.example"));
        assert_eq!(origin_of_url("http://127.0.0.1:3000?x"), Some("http://127.0.0.1:3000"));
        assert_eq!(origin_of_url("http://h#f"), Some("http://h"));
        assert_eq!(origin_of_url("http://h"), Some("http://h"));
        assert_eq!(origin_of_url("/relative"), None);
    }
}
