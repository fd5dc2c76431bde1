//! The egress guard: classifies addresses and decides which ones a
//! connectivity test may dial. Link-local (cloud metadata), unspecified,
//! multicast and broadcast are always refused; loopback and private ranges
//! are refused unless the policy allows them. IPv4-mapped IPv6 addresses are
//! judged as the IPv4 address they carry.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What kind of address an IP is, for the guard's purposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    Loopback,
    /// 169.254.0.0/16, fe80::/10: includes cloud metadata endpoints.
    LinkLocal,
    Unspecified,
    Multicast,
    Broadcast,
    /// RFC 1918, fc00::/7 unique local, 100.64.0.0/10 shared.
    Private,
    Public,
}

/// Classifies one address.
#[must_use]
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => classify_v4(v4),
            None => classify_v6(v6),
        },
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, ..] = ip.octets();
    if ip.is_unspecified() || a == 0 {
        AddressClass::Unspecified
    } else if ip.is_loopback() {
        AddressClass::Loopback
    } else if ip.is_link_local() {
        AddressClass::LinkLocal
    } else if ip.is_multicast() {
        AddressClass::Multicast
    } else if ip.is_broadcast() {
        AddressClass::Broadcast
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        AddressClass::Private
    } else {
        AddressClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    let first = ip.segments()[0];
    if ip.is_unspecified() {
        AddressClass::Unspecified
    } else if ip.is_loopback() {
        AddressClass::Loopback
    } else if first & 0xffc0 == 0xfe80 {
        AddressClass::LinkLocal
    } else if ip.is_multicast() {
        AddressClass::Multicast
    } else if first & 0xfe00 == 0xfc00 {
        AddressClass::Private
    } else {
        AddressClass::Public
    }
}

/// Which address classes a test may reach beyond the always-allowed public
/// ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EgressPolicy {
    pub allow_loopback: bool,
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
            | AddressClass::Unspecified
            | AddressClass::Multicast
            | AddressClass::Broadcast => false,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    // These are classifier inputs only: nothing here opens a socket.
    #[test]
    fn classifies_every_range() {
        let cases = [
            ("127.0.0.1", AddressClass::Loopback),
            ("127.8.9.10", AddressClass::Loopback),
            ("::1", AddressClass::Loopback),
            ("169.254.169.254", AddressClass::LinkLocal),
            ("fe80::1", AddressClass::LinkLocal),
            ("febf::1", AddressClass::LinkLocal),
            ("0.0.0.0", AddressClass::Unspecified),
            ("0.1.2.3", AddressClass::Unspecified),
            ("::", AddressClass::Unspecified),
            ("224.0.0.1", AddressClass::Multicast),
            ("ff02::1", AddressClass::Multicast),
            ("255.255.255.255", AddressClass::Broadcast),
            ("10.1.2.3", AddressClass::Private),
            ("172.16.0.1", AddressClass::Private),
            ("172.31.255.255", AddressClass::Private),
            ("192.168.1.1", AddressClass::Private),
            ("100.64.0.1", AddressClass::Private),
            ("fd00::1", AddressClass::Private),
            ("172.32.0.1", AddressClass::Public),
            ("8.8.8.8", AddressClass::Public),
            ("2001:db8::1", AddressClass::Public),
            ("::ffff:169.254.169.254", AddressClass::LinkLocal),
            ("::ffff:127.0.0.1", AddressClass::Loopback),
            ("::ffff:10.0.0.1", AddressClass::Private),
        ];
        for (addr, class) in cases {
            assert_eq!(classify(ip(addr)), class, "{addr}");
        }
    }

    #[test]
    fn metadata_unspecified_and_multicast_are_never_permitted() {
        let open = EgressPolicy::dev();
        for addr in [
            "169.254.169.254",
            "fe80::1",
            "0.0.0.0",
            "::",
            "224.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!open.permits(ip(addr)), "{addr}");
        }
        let strict = EgressPolicy {
            allow_loopback: false,
            allow_private: false,
        };
        assert!(!strict.permits(ip("127.0.0.1")));
        assert!(!strict.permits(ip("::1")));
        assert!(!strict.permits(ip("10.0.0.1")));
        assert!(strict.permits(ip("8.8.8.8")));
        assert!(open.permits(ip("127.0.0.1")));
    }
}
