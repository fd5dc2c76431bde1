//! The egress guard (SPEC §8): classifies addresses, decides which ones a
//! connectivity test may dial, and resolves a host name exactly once into
//! the addresses the drivers then dial — so DNS rebinding cannot swap the
//! target between the check and the connect.
//!
//! Link-local and cloud-metadata addresses, unspecified, multicast,
//! broadcast and reserved ranges are always refused; loopback and private
//! ranges are refused unless the policy allows them. IPv6 forms that carry
//! an IPv4 address (IPv4-mapped `::ffff:0:0/96`, IPv4-compatible `::/96`,
//! NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, 6to4 `2002::/16`) are judged
//! as the IPv4 address they carry. This module never opens a socket; its
//! tests feed the classifier literals only.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use patchbay_app::ports::ProbeFailure;

use crate::failure::Failure;

/// What kind of address an IP is, for the guard's purposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// 127.0.0.0/8, `::1`.
    Loopback,
    /// 169.254.0.0/16, fe80::/10 (RFC 3927, RFC 4291): includes most cloud
    /// metadata endpoints (169.254.169.254).
    LinkLocal,
    /// Cloud metadata endpoints outside link-local: `fd00:ec2::254` (AWS
    /// IPv6 IMDS), 100.100.100.200 (Alibaba Cloud).
    Metadata,
    /// 0.0.0.0/8 ("this network", RFC 1122) and `::`. Dialling them lands on
    /// the local machine.
    Unspecified,
    /// 224.0.0.0/4, ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// 240.0.0.0/4 (RFC 1112 "future use"), not routable.
    Reserved,
    /// RFC 1918 (10/8, 172.16/12, 192.168/16), 100.64.0.0/10 shared address
    /// space (RFC 6598), 192.0.0.0/24 (RFC 6890), 198.18.0.0/15 benchmarking
    /// (RFC 2544), fc00::/7 unique local (RFC 4193), fec0::/10 site-local
    /// (deprecated, RFC 3879), `64:ff9b:1::/48` carrying a public address.
    Private,
    /// Everything else.
    Public,
}

impl AddressClass {
    /// A short name for logs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Loopback => "loopback",
            Self::LinkLocal => "link-local",
            Self::Metadata => "metadata",
            Self::Unspecified => "unspecified",
            Self::Multicast => "multicast",
            Self::Broadcast => "broadcast",
            Self::Reserved => "reserved",
            Self::Private => "private",
            Self::Public => "public",
        }
    }
}

/// Classifies one address.
#[must_use]
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, c, _] = ip.octets();
    if a == 0 {
        AddressClass::Unspecified
    } else if a == 127 {
        AddressClass::Loopback
    } else if a == 169 && b == 254 {
        AddressClass::LinkLocal
    } else if ip == Ipv4Addr::new(100, 100, 100, 200) {
        AddressClass::Metadata
    } else if (224..240).contains(&a) {
        AddressClass::Multicast
    } else if ip == Ipv4Addr::BROADCAST {
        AddressClass::Broadcast
    } else if a >= 240 {
        AddressClass::Reserved
    } else if a == 10
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
    {
        AddressClass::Private
    } else {
        AddressClass::Public
    }
}

/// The IPv4 address an IPv6 address carries, when it is one of the forms
/// that reach (or may be translated to) IPv4.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    match s {
        // ::ffff:a.b.c.d, IPv4-mapped (RFC 4291 §2.5.5.2).
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => Some(v4(hi, lo)),
        // ::a.b.c.d, IPv4-compatible (deprecated, RFC 4291 §2.5.5.1); `::`
        // and `::1` are their own classes.
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 || lo > 1 => Some(v4(hi, lo)),
        // 64:ff9b::/96, the NAT64 well-known prefix (RFC 6052 §2.1).
        [0x0064, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(v4(hi, lo)),
        // 64:ff9b:1::/48, local-use NAT64 (RFC 8215): with a /48 prefix the
        // address sits in bits 48..64 and 72..88 around the `u` octet
        // (RFC 6052 §2.2).
        [0x0064, 0xff9b, 0x0001, ab, uc, d_, _, _] => {
            let [a, b] = ab.to_be_bytes();
            let [_u, c] = uc.to_be_bytes();
            let [d, _] = d_.to_be_bytes();
            Some(Ipv4Addr::new(a, b, c, d))
        }
        // 2002:AABB:CCDD::/48, 6to4 (RFC 3056).
        [0x2002, hi, lo, ..] => Some(v4(hi, lo)),
        _ => None,
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    let first = ip.segments()[0];
    if ip.is_unspecified() {
        AddressClass::Unspecified
    } else if ip.is_loopback() {
        AddressClass::Loopback
    } else if first & 0xffc0 == 0xfe80 {
        AddressClass::LinkLocal
    } else if ip == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254) {
        AddressClass::Metadata
    } else if first & 0xff00 == 0xff00 {
        AddressClass::Multicast
    } else if first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfec0 {
        AddressClass::Private
    } else {
        AddressClass::Public
    }
}

/// Which address classes a test may reach beyond the always-allowed public
/// ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EgressPolicy {
    /// Whether 127.0.0.0/8 and `::1` may be dialled
    /// (`PATCHBAY_PROBE_ALLOW_LOOPBACK`).
    pub allow_loopback: bool,
    /// Whether the [`AddressClass::Private`] ranges may be dialled
    /// (`PATCHBAY_PROBE_ALLOW_PRIVATE`).
    pub allow_private: bool,
}

impl EgressPolicy {
    /// Dev default: loopback and private ranges allowed.
    #[must_use]
    pub const fn dev() -> Self {
        Self {
            allow_loopback: true,
            allow_private: true,
        }
    }

    /// Whether `ip` may be dialled.
    #[must_use]
    pub fn permits(&self, ip: IpAddr) -> bool {
        match classify(ip) {
            AddressClass::Public => true,
            AddressClass::Private => self.allow_private,
            AddressClass::Loopback => self.allow_loopback,
            AddressClass::LinkLocal
            | AddressClass::Metadata
            | AddressClass::Unspecified
            | AddressClass::Multicast
            | AddressClass::Broadcast
            | AddressClass::Reserved => false,
        }
    }
}

/// Strips the brackets of an IPv6 literal (`[::1]` → `::1`).
pub(crate) fn bare_host(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// Whether `host` is in the special-use `.invalid` domain, which RFC 6761
/// §6.4 says name-resolution libraries should fail at once, without a query.
fn is_invalid_domain(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "invalid" || host.ends_with(".invalid")
}

/// Resolves `host:port` once and checks every address against `policy`.
///
/// Returns the addresses in resolver order, without duplicates; the
/// drivers dial only these.
///
/// # Errors
/// [`ProbeFailure::Protocol`] for an empty host; [`ProbeFailure::Dns`] when
/// the name does not resolve (names under `.invalid` fail without a
/// query); [`ProbeFailure::Blocked`] when **any** resolved address is one
/// the policy refuses — a name that mixes a public address with a
/// metadata one is refused as a whole rather than trimmed.
pub(crate) async fn resolve(
    policy: &EgressPolicy,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, Failure> {
    let host = bare_host(host.trim());
    if host.is_empty() {
        return Err(Failure::new(ProbeFailure::Protocol, "empty host"));
    }
    let addrs: Vec<SocketAddr> = if let Ok(ip) = host.parse::<IpAddr>() {
        vec![SocketAddr::new(ip, port)]
    } else if is_invalid_domain(host) {
        return Err(Failure::new(
            ProbeFailure::Dns,
            format!("{host}: the .invalid domain never resolves (RFC 6761)"),
        ));
    } else {
        let mut found: Vec<SocketAddr> = Vec::new();
        let resolved = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| Failure::new(ProbeFailure::Dns, format!("{host}: {e}")))?;
        for addr in resolved {
            if !found.contains(&addr) {
                found.push(addr);
            }
        }
        found
    };
    if addrs.is_empty() {
        return Err(Failure::new(
            ProbeFailure::Dns,
            format!("{host}: no addresses"),
        ));
    }
    if let Some(refused) = addrs.iter().find(|a| !policy.permits(a.ip())) {
        return Err(Failure::new(
            ProbeFailure::Blocked,
            format!(
                "{host} resolves to {} ({}), which the egress guard refuses",
                refused.ip(),
                classify(refused.ip()).as_str()
            ),
        ));
    }
    Ok(addrs)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    // Every case below is a classifier input only: nothing here opens a
    // socket or sends a packet (SPEC §8).
    #[test]
    fn classifies_every_ipv4_range_at_its_edges() {
        use AddressClass as C;
        let cases = [
            ("0.0.0.0", C::Unspecified),
            ("0.1.2.3", C::Unspecified),
            ("0.255.255.255", C::Unspecified),
            ("1.0.0.0", C::Public),
            ("9.255.255.255", C::Public),
            ("10.0.0.0", C::Private),
            ("10.255.255.255", C::Private),
            ("11.0.0.0", C::Public),
            ("100.63.255.255", C::Public),
            ("100.64.0.0", C::Private),
            ("100.127.255.255", C::Private),
            ("100.128.0.0", C::Public),
            ("100.100.100.200", C::Metadata),
            ("100.100.100.201", C::Private),
            ("126.255.255.255", C::Public),
            ("127.0.0.0", C::Loopback),
            ("127.0.0.1", C::Loopback),
            ("127.255.255.255", C::Loopback),
            ("128.0.0.0", C::Public),
            ("169.253.255.255", C::Public),
            ("169.254.0.0", C::LinkLocal),
            ("169.254.169.254", C::LinkLocal),
            ("169.254.255.255", C::LinkLocal),
            ("169.255.0.0", C::Public),
            ("172.15.255.255", C::Public),
            ("172.16.0.0", C::Private),
            ("172.31.255.255", C::Private),
            ("172.32.0.0", C::Public),
            ("192.0.0.0", C::Private),
            ("192.0.0.255", C::Private),
            ("192.0.1.0", C::Public),
            ("192.167.255.255", C::Public),
            ("192.168.0.0", C::Private),
            ("192.168.255.255", C::Private),
            ("192.169.0.0", C::Public),
            ("198.17.255.255", C::Public),
            ("198.18.0.0", C::Private),
            ("198.19.255.255", C::Private),
            ("198.20.0.0", C::Public),
            ("223.255.255.255", C::Public),
            ("224.0.0.0", C::Multicast),
            ("239.255.255.255", C::Multicast),
            ("240.0.0.0", C::Reserved),
            ("255.255.255.254", C::Reserved),
            ("255.255.255.255", C::Broadcast),
        ];
        for (addr, class) in cases {
            assert_eq!(classify(ip(addr)), class, "{addr}");
        }
    }

    #[test]
    fn classifies_every_ipv6_range_at_its_edges() {
        use AddressClass as C;
        let cases = [
            ("::", C::Unspecified),
            ("::1", C::Loopback),
            ("::2", C::Unspecified),
            ("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", C::Public),
            ("fe80::", C::LinkLocal),
            ("fe80::1", C::LinkLocal),
            ("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", C::LinkLocal),
            ("fec0::1", C::Private),
            ("feff::1", C::Private),
            ("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", C::Public),
            ("fc00::", C::Private),
            ("fd00::1", C::Private),
            ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", C::Private),
            ("fd00:ec2::254", C::Metadata),
            ("fd00:ec2::253", C::Private),
            ("ff00::", C::Multicast),
            ("ff02::1", C::Multicast),
            ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", C::Multicast),
            ("2001:db8::1", C::Public),
            ("2606:4700::1", C::Public),
        ];
        for (addr, class) in cases {
            assert_eq!(classify(ip(addr)), class, "{addr}");
        }
    }

    #[test]
    fn ipv6_forms_that_carry_ipv4_are_judged_as_that_ipv4() {
        use AddressClass as C;
        let cases = [
            // IPv4-mapped.
            ("::ffff:169.254.169.254", C::LinkLocal),
            ("::ffff:127.0.0.1", C::Loopback),
            ("::ffff:0.0.0.0", C::Unspecified),
            ("::ffff:10.0.0.1", C::Private),
            ("::ffff:224.0.0.1", C::Multicast),
            ("::ffff:255.255.255.255", C::Broadcast),
            ("::ffff:100.100.100.200", C::Metadata),
            ("::ffff:8.8.8.8", C::Public),
            // IPv4-compatible (deprecated).
            ("::169.254.169.254", C::LinkLocal),
            ("::127.0.0.1", C::Loopback),
            ("::10.0.0.1", C::Private),
            // NAT64 well-known prefix.
            ("64:ff9b::169.254.169.254", C::LinkLocal),
            ("64:ff9b::a9fe:a9fe", C::LinkLocal),
            ("64:ff9b::127.0.0.1", C::Loopback),
            ("64:ff9b::0.0.0.0", C::Unspecified),
            ("64:ff9b::ffff:ffff", C::Broadcast),
            ("64:ff9b::192.168.0.1", C::Private),
            ("64:ff9b::8.8.8.8", C::Public),
            // Local-use NAT64 /48: a.b in bits 48..64, c.d around `u`.
            ("64:ff9b:1:a9fe:a9:fe00::", C::LinkLocal),
            ("64:ff9b:1:7f00:0:100::", C::Loopback),
            ("64:ff9b:1:808:8:800::", C::Public),
            // 6to4.
            ("2002:a9fe:a9fe::1", C::LinkLocal),
            ("2002:7f00:1::", C::Loopback),
            ("2002:0:0::1", C::Unspecified),
            ("2002:e000:1::", C::Multicast),
            ("2002:ffff:ffff::", C::Broadcast),
            ("2002:c0a8:101::1", C::Private),
            ("2002:808:808::1", C::Public),
        ];
        for (addr, class) in cases {
            assert_eq!(classify(ip(addr)), class, "{addr}");
        }
    }

    #[test]
    fn the_always_refused_classes_are_refused_under_every_policy() {
        let policies = [
            EgressPolicy::dev(),
            EgressPolicy {
                allow_loopback: false,
                allow_private: false,
            },
            EgressPolicy {
                allow_loopback: true,
                allow_private: false,
            },
            EgressPolicy {
                allow_loopback: false,
                allow_private: true,
            },
        ];
        for policy in policies {
            for addr in [
                "169.254.169.254",
                "169.254.0.1",
                "fe80::1",
                "fd00:ec2::254",
                "100.100.100.200",
                "0.0.0.0",
                "::",
                "224.0.0.1",
                "ff02::1",
                "255.255.255.255",
                "240.0.0.1",
                "::ffff:169.254.169.254",
                "::ffff:0.0.0.0",
                "64:ff9b::169.254.169.254",
                "2002:a9fe:a9fe::1",
            ] {
                assert!(!policy.permits(ip(addr)), "{addr} under {policy:?}");
            }
            assert!(policy.permits(ip("8.8.8.8")), "{policy:?}");
            assert!(policy.permits(ip("2606:4700::1")), "{policy:?}");
        }
    }

    #[test]
    fn loopback_and_private_follow_the_policy() {
        let loopbacks = ["127.0.0.1", "::1", "::ffff:127.0.0.1", "2002:7f00:1::"];
        let privates = [
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "fd12::1",
            "100.64.0.1",
        ];
        for allow_loopback in [true, false] {
            for allow_private in [true, false] {
                let policy = EgressPolicy {
                    allow_loopback,
                    allow_private,
                };
                for addr in loopbacks {
                    assert_eq!(policy.permits(ip(addr)), allow_loopback, "{addr}");
                }
                for addr in privates {
                    assert_eq!(policy.permits(ip(addr)), allow_private, "{addr}");
                }
            }
        }
    }

    #[test]
    fn the_invalid_domain_is_recognised() {
        for host in ["nonexistent.invalid", "A.INVALID", "invalid", "x.invalid."] {
            assert!(is_invalid_domain(host), "{host}");
        }
        for host in ["invalid.example", "localhost", "notinvalid"] {
            assert!(!is_invalid_domain(host), "{host}");
        }
        assert_eq!(bare_host("[::1]"), "::1");
        assert_eq!(bare_host("::1"), "::1");
        assert_eq!(bare_host("db.example"), "db.example");
    }

    // `resolve` with literals and `.invalid` names never queries DNS nor
    // opens a socket. Only addresses that would land on this machine are
    // used here (SPEC §8); the other refused ranges are proven on the
    // classifier above.
    #[tokio::test]
    async fn resolve_refuses_before_any_packet() {
        let open = EgressPolicy::dev();
        for host in ["0.0.0.0", "[::]", "::", "0.1.2.3", "[::ffff:0.0.0.0]"] {
            let err = resolve(&open, host, 80).await.unwrap_err();
            assert_eq!(err.reason, ProbeFailure::Blocked, "{host}");
        }
        let err = resolve(&open, "nonexistent.invalid", 80).await.unwrap_err();
        assert_eq!(err.reason, ProbeFailure::Dns);
        let err = resolve(&open, "  ", 80).await.unwrap_err();
        assert_eq!(err.reason, ProbeFailure::Protocol);
        let strict = EgressPolicy {
            allow_loopback: false,
            allow_private: true,
        };
        let err = resolve(&strict, "127.0.0.1", 80).await.unwrap_err();
        assert_eq!(err.reason, ProbeFailure::Blocked);
        let ok = resolve(&open, "[::1]", 80).await.unwrap();
        assert_eq!(ok, vec!["[::1]:80".parse().unwrap()]);
    }
}
