//! Where to send a user after signing in or registering: the `next` they
//! came with, but only when it is a path on this site. Anything else (another
//! host, a scheme, a path a browser would read as one, control characters
//! that browsers strip or that cannot go into a `Location` header) goes to `/`.

/// Longest `next` honoured; a longer one is not a link anyone followed.
pub const NEXT_MAX: usize = 2048;

/// `raw` when it is a local path, else `/`.
///
/// A local path starts with one `/` and is followed by anything but `/` or
/// `\` (browsers read `//host` and `/\host` as another host); it holds only
/// visible ASCII (browsers drop tabs and newlines, so `/\t/evil` would become
/// `//evil`, and non-ASCII is sent percent-encoded anyway) and no `\` at all.
/// Percent-encoded slashes right after the first are refused too, and
/// percent-encoded control characters anywhere (`/%09/evil` decodes to
/// `/\t/evil`, which a browser reads as `//evil`), for any proxy or client
/// that decodes before it resolves.
pub fn safe_next(raw: Option<&str>) -> String {
    match raw {
        Some(path) if is_local_path(path) => path.to_owned(),
        _ => "/".to_owned(),
    }
}

fn is_local_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    let graphic = |b: &u8| b.is_ascii_graphic() && *b != b'\\';
    let second_starts_host = |rest: &str| {
        let lower = rest.get(..3).map(str::to_ascii_lowercase);
        rest.starts_with('/') || matches!(lower.as_deref(), Some("%2f" | "%5c"))
    };
    path.len() <= NEXT_MAX
        && bytes.first() == Some(&b'/')
        && bytes.iter().all(graphic)
        && !second_starts_host(&path[1..])
        && !encodes_control(bytes)
}

/// Whether `path` holds `%00`–`%1F` or `%7F`: a control character once
/// percent-decoded.
fn encodes_control(path: &[u8]) -> bool {
    path.windows(3).any(|w| {
        w[0] == b'%'
            && matches!((w[1], w[2].to_ascii_lowercase()), (b'0' | b'1', b'0'..=b'9' | b'a'..=b'f') | (b'7', b'f'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_are_kept() {
        let kept = ["/", "/rooms/12", "/find?q=hello%20world&room_id=3", "/rooms/1#m-5", "/a/b//c", "/find?q=1%2F2%25"];
        for ok in kept {
            assert_eq!(safe_next(Some(ok)), ok);
        }
    }

    #[test]
    fn anything_that_can_leave_the_site_goes_home() {
        for bad in [
            "",
            "//evil.com",
            "/\\evil.com",
            "/\t/evil.com",
            "/\r\nx",
            "/\n/x",
            "https://evil.com",
            "evil.com",
            "/%2F/evil.com",
            "/%2fevil.com",
            "/%5Cevil.com",
            " /rooms",
            "/rooms /x",
            "/ro\u{0}oms",
            "/rooms/é",
            "javascript:alert(1)",
            "/a\\b",
            // Found by fuzzing: decoded once, these are `/\t/evil.com` and
            // the like, which a browser resolves as `//evil.com`.
            "/%09/evil.com",
            "/%0A/evil.com",
            "/%0d%0a/evil.com",
            "/rooms%00",
            "/rooms%7F",
            "/rooms%1f",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?} must not be followed");
        }
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(NEXT_MAX)))), "/");
    }
}
