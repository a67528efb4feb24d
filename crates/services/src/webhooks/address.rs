//! Which addresses webhook deliveries refuse to contact (SSRF protection).
//!
//! Refused: loopback, private (RFC 1918), carrier-grade NAT, link-local, cloud metadata
//! endpoints, multicast, broadcast, unspecified, documentation, benchmarking and reserved ranges,
//! and for IPv6 also unique local, site-local and tunnelled forms. IPv6 addresses that carry an
//! IPv4 destination (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are judged by that IPv4 address.
//! An operator allow-list of [`Network`]s permits chosen addresses anyway, e.g. a receiver on
//! `127.0.0.1` in development.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A network in CIDR form (`127.0.0.1/32`, `10.0.0.0/8`, `::1/128`); a bare address is a /32 or
/// /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `a.b.c.d/n`, `v6/n`, or a bare address. Errors are human-readable strings naming
    /// the text.
    pub fn parse(text: &str) -> Result<Network, String> {
        let text = text.trim();
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text
            .parse()
            .map_err(|_| format!("`{text}` is not an IP address or CIDR network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix_text {
            None => max,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                // `u8::from_str` accepts a leading `+`, which CIDR notation does not.
                .filter(|&n| n <= max && !prefix.starts_with('+'))
                .ok_or_else(|| format!("`{text}` has a prefix length outside 0 to {max}"))?,
        };
        Ok(Network { addr, prefix })
    }

    /// Whether `ip` is inside. An IPv4 network also contains the IPv4-mapped IPv6 form
    /// (`::ffff:a.b.c.d`) of its addresses.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                same_prefix(net.to_bits().into(), ip.to_bits().into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                same_prefix(net.to_bits(), ip.to_bits(), 128, self.prefix)
            }
            // Across families, compare through the IPv4-mapped form.
            (IpAddr::V4(_), IpAddr::V6(ip)) => ip
                .to_ipv4_mapped()
                .is_some_and(|v4| self.contains(IpAddr::V4(v4))),
            (IpAddr::V6(_), IpAddr::V4(ip)) => self.contains(IpAddr::V6(ip.to_ipv6_mapped())),
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Whether `a` and `b` agree in their first `prefix` bits out of `width`.
fn same_prefix(a: u128, b: u128, width: u32, prefix: u8) -> bool {
    // A /0 IPv6 network shifts by 128, out of range for u128: everything matches.
    (a ^ b).checked_shr(width - u32::from(prefix)).unwrap_or(0) == 0
}

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Network {
    Network {
        addr: IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
        prefix,
    }
}

const fn v6(s: [u16; 8], prefix: u8) -> Network {
    let addr = Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]);
    Network {
        addr: IpAddr::V6(addr),
        prefix,
    }
}

/// Refused IPv4 ranges; the first match names the reason, so single addresses come first.
const V4_REFUSED: [(Network, &str); 17] = [
    (v4(169, 254, 169, 254, 32), "cloud metadata"),
    // Alibaba Cloud's metadata service.
    (v4(100, 100, 100, 200, 32), "cloud metadata"),
    (v4(255, 255, 255, 255, 32), "broadcast"),
    (v4(0, 0, 0, 0, 8), "unspecified"),
    (v4(10, 0, 0, 0, 8), "private"),
    (v4(100, 64, 0, 0, 10), "carrier-grade NAT"),
    (v4(127, 0, 0, 0, 8), "loopback"),
    (v4(169, 254, 0, 0, 16), "link-local"),
    (v4(172, 16, 0, 0, 12), "private"),
    (v4(192, 0, 0, 0, 24), "IETF protocol assignments"),
    (v4(192, 0, 2, 0, 24), "documentation"),
    (v4(192, 168, 0, 0, 16), "private"),
    (v4(198, 18, 0, 0, 15), "benchmarking"),
    (v4(198, 51, 100, 0, 24), "documentation"),
    (v4(203, 0, 113, 0, 24), "documentation"),
    (v4(224, 0, 0, 0, 4), "multicast"),
    (v4(240, 0, 0, 0, 4), "reserved"),
];

/// IPv6 ranges whose last 32 bits are the IPv4 destination: IPv4-mapped (`::ffff:0:0/96`),
/// IPv4-compatible (`::/96`, after `::` and `::1` are handled) and NAT64 (`64:ff9b::/96`).
const V6_EMBEDDING_V4: [Network; 3] = [
    v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96),
    v6([0, 0, 0, 0, 0, 0, 0, 0], 96),
    v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96),
];

/// 6to4: the IPv4 address the traffic is tunnelled to sits in bits 16..48.
const SIX_TO_FOUR: Network = v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16);

/// Refused IPv6 ranges, checked in order like [`V4_REFUSED`].
const V6_REFUSED: [(Network, &str); 8] = [
    // AWS's IPv6 metadata endpoint, inside fc00::/7.
    (
        v6([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254], 128),
        "cloud metadata",
    ),
    (v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), "unique local"),
    (v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), "link-local"),
    (v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), "site-local"),
    (v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), "multicast"),
    (v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), "documentation"),
    // Teredo tunnels to an address we cannot judge.
    (v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32), "reserved"),
    // Discard-only.
    (v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64), "reserved"),
];

fn first_match(rules: &[(Network, &'static str)], ip: IpAddr) -> Option<&'static str> {
    rules
        .iter()
        .find(|(net, _)| net.contains(ip))
        .map(|&(_, reason)| reason)
}

/// Why an address is refused (for error messages): e.g. "loopback", "private", "link-local",
/// "carrier-grade NAT", "multicast", "unspecified", "cloud metadata", "reserved",
/// "documentation", "broadcast", "unique local", "benchmarking", "IETF protocol assignments".
/// `None` for a public address.
pub fn refused_reason(ip: IpAddr) -> Option<&'static str> {
    let v6 = match ip {
        IpAddr::V4(_) => return first_match(&V4_REFUSED, ip),
        IpAddr::V6(v6) => v6,
    };
    if v6.is_unspecified() {
        return Some("unspecified");
    }
    if v6.is_loopback() {
        return Some("loopback");
    }
    let bits = v6.to_bits();
    if V6_EMBEDDING_V4.iter().any(|net| net.contains(ip)) {
        return refused_reason(IpAddr::V4(Ipv4Addr::from_bits(bits as u32)));
    }
    if SIX_TO_FOUR.contains(ip) {
        return refused_reason(IpAddr::V4(Ipv4Addr::from_bits((bits >> 80) as u32)));
    }
    first_match(&V6_REFUSED, ip)
}

/// The allow-list in force plus the checks: `Ok(())` when `ip` may be contacted (not refused, or
/// inside one of `allowed`), else `Err(reason)`.
pub fn check(ip: IpAddr, allowed: &[Network]) -> Result<(), &'static str> {
    if allowed.iter().any(|net| net.contains(ip)) {
        return Ok(());
    }
    match refused_reason(ip) {
        Some(reason) => Err(reason),
        None => Ok(()),
    }
}

/// The host part of a URL's host string as an IP address, when it is one. Hosts come from a
/// WHATWG URL parser (the `url` crate), which already normalises odd IPv4 encodings such as
/// `2130706433`, `0x7f.1` and `127.1` to `127.0.0.1`, and writes IPv6 hosts in brackets
/// (`[::1]`). Accepts both bracketed and bare forms; `None` for a domain name.
pub fn ip_literal(host: &str) -> Option<IpAddr> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn net(text: &str) -> Network {
        Network::parse(text).unwrap()
    }

    const CASES: &[(&str, Option<&str>)] = &[
        ("0.0.0.0", Some("unspecified")),
        ("0.1.2.3", Some("unspecified")),
        ("10.0.0.1", Some("private")),
        ("10.255.255.255", Some("private")),
        ("100.64.0.1", Some("carrier-grade NAT")),
        ("100.127.255.254", Some("carrier-grade NAT")),
        ("100.100.100.200", Some("cloud metadata")),
        ("127.0.0.1", Some("loopback")),
        ("127.255.255.254", Some("loopback")),
        ("169.254.169.254", Some("cloud metadata")),
        ("169.254.1.1", Some("link-local")),
        ("172.16.0.1", Some("private")),
        ("172.31.255.255", Some("private")),
        ("192.0.0.8", Some("IETF protocol assignments")),
        ("192.0.2.1", Some("documentation")),
        ("198.51.100.7", Some("documentation")),
        ("203.0.113.9", Some("documentation")),
        ("192.168.1.1", Some("private")),
        ("198.18.0.1", Some("benchmarking")),
        ("198.19.255.255", Some("benchmarking")),
        ("224.0.0.1", Some("multicast")),
        ("239.255.255.250", Some("multicast")),
        ("240.0.0.1", Some("reserved")),
        ("255.255.255.254", Some("reserved")),
        ("255.255.255.255", Some("broadcast")),
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        ("93.184.216.34", None),
        ("11.0.0.1", None),
        ("100.128.0.1", None),
        ("172.32.0.1", None),
        ("198.20.0.1", None),
        ("::", Some("unspecified")),
        ("::1", Some("loopback")),
        ("::ffff:127.0.0.1", Some("loopback")),
        ("::ffff:169.254.169.254", Some("cloud metadata")),
        ("::ffff:10.0.0.1", Some("private")),
        ("::ffff:8.8.8.8", None),
        ("::127.0.0.1", Some("loopback")),
        ("::192.168.0.1", Some("private")),
        ("::8.8.8.8", None),
        ("64:ff9b::127.0.0.1", Some("loopback")),
        ("64:ff9b::a9fe:a9fe", Some("cloud metadata")),
        ("64:ff9b::8.8.8.8", None),
        ("fd00:ec2::254", Some("cloud metadata")),
        ("fd12:3456::1", Some("unique local")),
        ("fc00::1", Some("unique local")),
        ("fe80::1", Some("link-local")),
        ("febf::1", Some("link-local")),
        ("fec0::1", Some("site-local")),
        ("ff02::1", Some("multicast")),
        ("2001:db8::1", Some("documentation")),
        ("2002:7f00:1::", Some("loopback")),
        ("2002:c0a8:101::1", Some("private")),
        ("2002:808:808::1", None),
        ("2001::1", Some("reserved")),
        ("2001:0:4136:e378::1", Some("reserved")),
        ("100::1", Some("reserved")),
        ("2606:4700:4700::1111", None),
        ("2001:4860:4860::8888", None),
    ];

    #[test]
    fn classifies_addresses() {
        for &(text, expected) in CASES {
            assert_eq!(refused_reason(ip(text)), expected, "{text}");
        }
    }

    #[test]
    fn reads_ip_literals() {
        assert_eq!(ip_literal("[::1]"), Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!(ip_literal("::1"), Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!(
            ip_literal("127.0.0.1"),
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        );
        assert_eq!(ip_literal("example.com"), None);
        assert_eq!(ip_literal("[::1"), None);
    }

    #[test]
    fn parses_and_prints_networks() {
        assert_eq!(net("10.0.0.0/8").to_string(), "10.0.0.0/8");
        assert_eq!(net("127.0.0.1").to_string(), "127.0.0.1/32");
        assert_eq!(net("::1").to_string(), "::1/128");
        for text in [
            "10.0.0.0/33",
            "nonsense",
            "::1/129",
            "10.0.0.0/",
            "10.0.0.0/+8",
        ] {
            let err = Network::parse(text).unwrap_err();
            assert!(err.contains(text), "{err}");
        }
    }

    #[test]
    fn networks_contain_addresses() {
        let ten = net("10.0.0.0/8");
        assert!(ten.contains(ip("10.255.0.1")));
        assert!(!ten.contains(ip("11.0.0.1")));

        let loopback = net("127.0.0.1/32");
        assert!(loopback.contains(ip("127.0.0.1")));
        assert!(loopback.contains(ip("::ffff:127.0.0.1")));
        assert!(!loopback.contains(ip("127.0.0.2")));
        assert!(!loopback.contains(ip("::1")));

        let loopback6 = net("::1/128");
        assert!(loopback6.contains(ip("::1")));
        assert!(!loopback6.contains(ip("::2")));
        assert!(!loopback6.contains(ip("127.0.0.1")));

        let all4 = net("0.0.0.0/0");
        for text in ["0.0.0.0", "8.8.8.8", "255.255.255.255", "::ffff:1.2.3.4"] {
            assert!(all4.contains(ip(text)), "{text}");
        }
        assert!(!all4.contains(ip("2606:4700::1")));

        let all6 = net("::/0");
        assert!(all6.contains(ip("::1")));
        assert!(all6.contains(ip("2606:4700::1")));
    }

    #[test]
    fn allow_list_wins_only_for_its_addresses() {
        let allowed = [net("127.0.0.1/32")];
        assert_eq!(check(ip("127.0.0.1"), &allowed), Ok(()));
        assert_eq!(check(ip("::ffff:127.0.0.1"), &allowed), Ok(()));
        assert_eq!(check(ip("127.0.0.2"), &allowed), Err("loopback"));
        assert_eq!(check(ip("10.0.0.1"), &allowed), Err("private"));
        assert_eq!(check(ip("8.8.8.8"), &allowed), Ok(()));
        assert_eq!(check(ip("169.254.169.254"), &[]), Err("cloud metadata"));
    }
}
