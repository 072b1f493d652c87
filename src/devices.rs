//! The sessions a user sees on their profile: each named by the device it
//! signed in from, read out of the user agent ("Firefox on Linux"). A small
//! parser on purpose: it names the common browsers and systems, and says
//! "Unknown browser" / "unknown system" for the rest; nothing depends on it
//! but the label.

use serde::{Deserialize, Serialize};

/// One signed-in session of the user asking, as `GET /users/me/sessions`
/// lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActiveSession {
    /// Names the session for `DELETE /users/me/sessions/:id` (a hash of the
    /// session's secret id, which is never shown).
    pub id: String,
    /// "Firefox on Linux", from the user agent of its last request.
    pub device: String,
    /// When it signed in (RFC 3339, UTC).
    pub created_at: String,
    /// Its last request, to the minute (RFC 3339, UTC).
    pub last_seen_at: String,
    /// Whether this is the session asking.
    pub current: bool,
}

/// "Browser on system" for a `User-Agent` header; "Unknown device" without one.
pub fn describe(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.map(str::trim).filter(|ua| !ua.is_empty()) else {
        return "Unknown device".into();
    };
    format!("{} on {}", browser(ua), system(ua))
}

fn browser(ua: &str) -> &'static str {
    // Order matters: Edge and Opera say "Chrome", Chrome says "Safari".
    const BROWSERS: &[(&str, &str)] = &[
        ("Edg/", "Edge"),
        ("EdgA/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
        ("reqwest", "reqwest"),
    ];
    BROWSERS.iter().find(|(mark, _)| ua.contains(mark)).map_or("Unknown browser", |(_, name)| name)
}

fn system(ua: &str) -> &'static str {
    // Android says "Linux", iOS says "like Mac OS X".
    const SYSTEMS: &[(&str, &str)] = &[
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("CrOS", "ChromeOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Macintosh", "macOS"),
        ("Linux", "Linux"),
        ("FreeBSD", "FreeBSD"),
    ];
    SYSTEMS.iter().find(|(mark, _)| ua.contains(mark)).map_or("unknown system", |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn common_user_agents_are_named_by_browser_and_system() {
        let cases = [
            ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) \
                 Version/17.0 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) \
                 Version/17.0 Mobile/15E148 Safari/604.1",
                "Safari on iOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            ("curl/8.5.0", "curl on unknown system"),
            ("something else", "Unknown browser on unknown system"),
        ];
        for (ua, expected) in cases {
            assert_eq!(describe(Some(ua)), expected, "{ua}");
        }
        assert_eq!(describe(None), "Unknown device");
        assert_eq!(describe(Some("  ")), "Unknown device");
    }
}
