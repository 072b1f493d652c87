//! Where the server may connect on a user's behalf: the guard against
//! server-side request forgery (SSRF) for every outbound request whose
//! address a user chose (a link to preview, a push endpoint).
//!
//! The rule is an allow-list: only **public unicast** addresses. A URL's
//! host is resolved **once** by [`resolve`], every address it gives is
//! checked by [`is_public`], and the caller connects to the address that was
//! checked (never resolving the name again), so a name that answers a public
//! address to the check and a private one to the connection (DNS rebinding)
//! gains nothing. Each redirect is a new URL that passes the same check.
//!
//! Hosts written as numbers in odd forms (`2130706433`, `0177.0.0.1`,
//! `0x7f.1`, `[::ffff:127.0.0.1]`) need no code of their own: the WHATWG URL
//! parser (`url`) turns them into the address they mean, and the address is
//! what is checked.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::{Host, Url};

/// Why an outbound URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("only http and https URLs are fetched")]
    Scheme,
    #[error("the URL has no host")]
    NoHost,
    #[error("the URL carries a user name or password")]
    Credentials,
    #[error("{0} is not a public address")]
    NotPublic(IpAddr),
    #[error("the host does not resolve")]
    Unresolved,
}

/// What the guard lets through besides public addresses. Only tests widen
/// it: `allow_loopback` admits 127.0.0.0/8 and ::1 so that a test's own
/// server on loopback can stand in for a web site or a push service. It is
/// set by the test-only setting `HEARTH_TEST_ALLOW_LOOPBACK_FETCH`, which an
/// operator never sets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    pub allow_loopback: bool,
}

impl Policy {
    /// Public addresses only: what every deployment runs with.
    pub const PUBLIC: Policy = Policy { allow_loopback: false };

    /// Whether a connection to `ip` is allowed.
    pub fn admits(self, ip: IpAddr) -> bool {
        is_public(ip) || (self.allow_loopback && canonical(ip).is_loopback())
    }
}

/// An IPv6 address that only carries an IPv4 one (`::ffff:a.b.c.d`), as
/// that IPv4 address, so that one rule judges both spellings.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// Whether `ip` is a public unicast address: routable on the Internet, not
/// loopback, private, shared (CGNAT), link-local (which holds the cloud
/// metadata service, 169.254.169.254), documentation, benchmarking,
/// multicast, broadcast or reserved, in either family. IPv6 forms that embed
/// an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are refused
/// unless mapped, which is judged as the IPv4 address it carries.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0 // "this network"
        || a == 10 // private
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || a == 127 // loopback
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation (TEST-NET-1)
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168) // private
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation (TEST-NET-2)
        || (a == 203 && b == 0 && c == 113) // documentation (TEST-NET-3)
        || a >= 224; // multicast, reserved, broadcast
    !refused
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // Global unicast is 2000::/3; everything else (unspecified, loopback,
    // IPv4-compatible, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, discard
    // 100::/64, unique local fc00::/7, link-local fe80::/10, site-local
    // fec0::/10, multicast ff00::/8) is outside it.
    if s[0] & 0xe000 != 0x2000 {
        return false;
    }
    // 2001::/23 (IETF protocol assignments, Teredo 2001::/32 in it) and
    // 2001:db8::/32 (documentation).
    let refused = (s[0] == 0x2001 && (s[1] < 0x0200 || s[1] == 0x0db8))
        || s[0] == 0x2002 // 6to4: an IPv4 address inside
        || (s[0] == 0x3fff && s[1] < 0x1000); // documentation 3fff::/20
    !refused
}

/// Checks what can be checked without the network: the scheme (http or
/// https only), no credentials, a host, and a host written as an address
/// being one `policy` admits. Returns the host and port to [`resolve`].
pub fn check_url(url: &Url, policy: Policy) -> Result<(Host<String>, u16), Refused> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refused::Scheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refused::Credentials);
    }
    let host = url.host().ok_or(Refused::NoHost)?.to_owned();
    let port = url.port_or_known_default().ok_or(Refused::Scheme)?;
    let literal = match host {
        Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        Host::Domain(_) => None,
    };
    if let Some(ip) = literal.filter(|ip| !policy.admits(*ip)) {
        return Err(Refused::NotPublic(ip));
    }
    Ok((host, port))
}

/// Resolves `url`'s host once and returns the one address to connect to:
/// the first the name gives, provided **every** address it gives is
/// admitted (a name that mixes public and private answers is refused, so no
/// retry can land on the private one). The caller pins its connection to
/// this address.
pub async fn resolve(url: &Url, policy: Policy) -> Result<SocketAddr, Refused> {
    let (host, port) = check_url(url, policy)?;
    let addresses: Vec<SocketAddr> = match host {
        Host::Ipv4(v4) => vec![SocketAddr::new(IpAddr::V4(v4), port)],
        Host::Ipv6(v6) => vec![SocketAddr::new(IpAddr::V6(v6), port)],
        Host::Domain(name) => {
            tokio::net::lookup_host((name.as_str(), port)).await.map_err(|_| Refused::Unresolved)?.collect()
        }
    };
    if let Some(bad) = addresses.iter().find(|a| !policy.admits(a.ip())) {
        return Err(Refused::NotPublic(bad.ip()));
    }
    addresses.into_iter().next().ok_or(Refused::Unresolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        IpAddr::V4(s.parse().expect("an IPv4 literal"))
    }

    fn v6(s: &str) -> IpAddr {
        IpAddr::V6(s.parse().expect("an IPv6 literal"))
    }

    fn refused_url(u: &str) -> Refused {
        let url = Url::parse(u).expect("a URL");
        check_url(&url, Policy::PUBLIC).expect_err(u)
    }

    #[test]
    fn public_ipv4_addresses_pass_and_every_special_range_is_refused() {
        for ok in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.0.1",
            "172.32.0.1",
            "192.0.1.1",
            "223.255.255.255",
        ] {
            assert!(is_public(v4(ok)), "{ok} is public");
        }
        for bad in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "169.254.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!is_public(v4(bad)), "{bad} is refused");
        }
    }

    #[test]
    fn public_ipv6_addresses_pass_and_every_special_range_is_refused() {
        for ok in ["2606:4700:4700::1111", "2a00:1450:4001:81b::200e", "2001:4860:4860::8888"] {
            assert!(is_public(v6(ok)), "{ok} is public");
        }
        for bad in [
            "::",
            "::1",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:0:4136:e378::1",
            "2001:db8::1",
            "2002:7f00:1::1",
            "3fff::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "fec0::1",
            "ff02::1",
        ] {
            assert!(!is_public(v6(bad)), "{bad} is refused");
        }
    }

    #[test]
    fn an_ipv4_mapped_ipv6_address_is_judged_as_the_ipv4_address_it_carries() {
        assert!(!is_public(v6("::ffff:127.0.0.1")));
        assert!(!is_public(v6("::ffff:169.254.169.254")));
        assert!(!is_public(v6("::ffff:10.1.2.3")));
        assert!(is_public(v6("::ffff:8.8.8.8")));
    }

    #[test]
    fn hosts_written_in_decimal_octal_hex_or_short_forms_are_judged_by_the_address_they_mean() {
        for u in [
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://0x7f.0.0.1/",
            "http://0x7f000001/",
            "http://127.1/",
            "http://017700000001/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[0:0:0:0:0:0:0:1]/",
            "http://0251.0376.0251.0376/", // 169.254.169.254
            "http://2852039166/",          // 169.254.169.254
            "http://0xa9fea9fe/",          // 169.254.169.254
            "http://0/",
        ] {
            assert!(matches!(refused_url(u), Refused::NotPublic(_)), "{u} is refused as not public");
        }
        let url = Url::parse("http://134744072/").expect("a URL"); // 8.8.8.8
        assert!(check_url(&url, Policy::PUBLIC).is_ok());
    }

    #[test]
    fn only_http_and_https_without_credentials_are_fetched() {
        for u in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "gopher://example.com/",
            "javascript:alert(1)",
            "data:text/html,hi",
        ] {
            assert_eq!(refused_url(u), Refused::Scheme, "{u}");
        }
        assert_eq!(refused_url("http://user:pw@example.com/"), Refused::Credentials);
        let url = Url::parse("https://example.com:8443/a?b").expect("a URL");
        let (host, port) = check_url(&url, Policy::PUBLIC).expect("a public name passes the check before resolving");
        assert_eq!((host, port), (Host::Domain("example.com".to_owned()), 8443));
    }

    #[test]
    fn the_test_policy_admits_loopback_and_nothing_else() {
        let test = Policy { allow_loopback: true };
        assert!(test.admits(v4("127.0.0.1")) && test.admits(v6("::1")) && test.admits(v6("::ffff:127.0.0.1")));
        for bad in ["10.0.0.1", "169.254.169.254", "192.168.0.1"] {
            assert!(!test.admits(v4(bad)), "{bad}");
        }
        assert!(!Policy::PUBLIC.admits(v4("127.0.0.1")));
    }

    #[tokio::test]
    async fn a_name_is_resolved_once_and_refused_when_any_answer_is_not_public() {
        let url = Url::parse("http://localhost:9/").expect("a URL");
        assert!(matches!(resolve(&url, Policy::PUBLIC).await, Err(Refused::NotPublic(_))));
        let pinned = resolve(&url, Policy { allow_loopback: true }).await.expect("loopback is admitted for tests");
        assert!(pinned.ip().is_loopback() && pinned.port() == 9);
        let literal = Url::parse("http://[::1]:80/").expect("a URL");
        assert_eq!(resolve(&literal, Policy::PUBLIC).await, Err(Refused::NotPublic(v6("::1"))));
    }
}
