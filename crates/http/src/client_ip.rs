//! The client address of a request: the TCP peer, unless the peer is a
//! configured trusted proxy (`PATCHBAY_TRUSTED_PROXIES`); then the
//! rightmost untrusted hop of `Forwarded` (RFC 7239) or, without it,
//! `X-Forwarded-For`. It keys the login rate limit and appears in the
//! access log. Headers from an untrusted peer are never read, so a client
//! cannot choose its own address.

use std::net::IpAddr;

use actix_web::HttpMessage as _;
use actix_web::HttpRequest;
use actix_web::dev::ServiceRequest;
use actix_web::http::header::HeaderMap;

/// One `address/prefix` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("PATCHBAY_TRUSTED_PROXIES: '{text}' is not an address or CIDR block");
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().map_err(|_| bad())?,
            None => max,
        };
        if prefix > max {
            return Err(bad());
        }
        Ok(Self { network, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The proxies whose forwarding headers are believed. Empty by default:
/// then only the TCP peer counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Parses a comma- or space-separated list of addresses and CIDR blocks
    /// (`10.0.0.0/8, 127.0.0.1, ::1`).
    ///
    /// # Errors
    /// A message naming `PATCHBAY_TRUSTED_PROXIES` and the bad entry.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Cidr::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Whether no proxy is trusted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client address of a request from `peer` carrying `headers`.
    #[must_use]
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let chain = forwarded_chain(headers);
        let mut client = peer;
        // Right to left: each hop was reported by the (trusted) one after it.
        for hop in chain.iter().rev() {
            match hop {
                Some(ip) if self.trusts(*ip) => client = *ip,
                Some(ip) => return *ip,
                // An obfuscated or unknown hop: nothing further left can be
                // attributed, so the last trusted hop stands.
                None => return client,
            }
        }
        client
    }
}

/// The hops of `Forwarded` (`for=` of each element, in order), or else of
/// `X-Forwarded-For`; `None` for a hop that is not an IP address.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers
        .get_all("forwarded")
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|line| line.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(key, _)| key.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, value)| node_ip(value))
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(','))
        .map(node_ip)
        .collect()
}

/// An RFC 7239 node (`192.0.2.1`, `"192.0.2.1:8080"`, `"[2001:db8::1]:80"`)
/// or a plain `X-Forwarded-For` entry, as an address.
fn node_ip(value: &str) -> Option<IpAddr> {
    let value = value.trim().trim_matches('"');
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    if let Ok(ip) = value.parse() {
        return Some(ip);
    }
    // IPv4 with a port.
    let (host, _port) = value.rsplit_once(':')?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// The resolved client address, stored in the request's extensions by the
/// request middleware.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub(crate) IpAddr);

/// Resolves the client address of `req` and remembers it for handlers.
pub(crate) fn resolve(req: &ServiceRequest, trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let ip = trusted.client_ip(peer, req.headers());
    req.extensions_mut().insert(ClientIp(ip));
    Some(ip)
}

/// The client address the middleware resolved, else the TCP peer.
pub(crate) fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    req.extensions()
        .get::<ClientIp>()
        .map(|c| c.0)
        .or_else(|| req.peer_addr().map(|p| p.ip()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn cidr_blocks_parse_and_match() {
        let t = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1 ::1,fd00::/8").unwrap();
        assert!(t.trusts(ip("10.1.2.3")));
        assert!(t.trusts(ip("127.0.0.1")));
        assert!(!t.trusts(ip("127.0.0.2")));
        assert!(t.trusts(ip("::1")));
        assert!(t.trusts(ip("fd12::1")));
        assert!(
            t.trusts(ip("::ffff:10.0.0.1")),
            "IPv4-mapped addresses match"
        );
        assert!(!t.trusts(ip("11.0.0.1")));
        assert!(
            TrustedProxies::parse("0.0.0.0/0")
                .unwrap()
                .trusts(ip("1.2.3.4"))
        );
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        for bad in ["10.0.0.0/33", "nope", "10.0.0.0/x", "::/129"] {
            let e = TrustedProxies::parse(bad).unwrap_err();
            assert!(e.contains("PATCHBAY_TRUSTED_PROXIES"), "{e}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_sends() {
        let none = TrustedProxies::default();
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("forwarded", "for=2.2.2.2")]);
        assert_eq!(none.client_ip(ip("9.9.9.9"), &h), ip("9.9.9.9"));
        let some = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(some.client_ip(ip("9.9.9.9"), &h), ip("9.9.9.9"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let peer = ip("10.0.0.1");
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 1.1.1.1, 10.0.0.2")]);
        assert_eq!(t.client_ip(peer, &h), ip("1.1.1.1"));
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "1.1.1.1"),
        ]);
        assert_eq!(t.client_ip(peer, &h), ip("1.1.1.1"));
        // Forwarded wins over X-Forwarded-For; quoted, ported, IPv6 nodes.
        let h = headers(&[
            ("x-forwarded-for", "3.3.3.3"),
            (
                "forwarded",
                "for=6.6.6.6;proto=http, for=\"[2001:db8::17]:4711\";by=10.0.0.2",
            ),
        ]);
        assert_eq!(t.client_ip(peer, &h), ip("2001:db8::17"));
        let h = headers(&[("forwarded", "for=\"1.2.3.4:8080\"")]);
        assert_eq!(t.client_ip(peer, &h), ip("1.2.3.4"));
        // Only trusted hops: the leftmost is the client.
        let h = headers(&[("x-forwarded-for", "10.9.9.9, 10.0.0.2")]);
        assert_eq!(t.client_ip(peer, &h), ip("10.9.9.9"));
        // An unknown hop stops the walk at the last trusted one.
        let h = headers(&[("forwarded", "for=6.6.6.6, for=unknown, for=10.0.0.3")]);
        assert_eq!(t.client_ip(peer, &h), ip("10.0.0.3"));
        // No header: the peer.
        assert_eq!(t.client_ip(peer, &HeaderMap::new()), peer);
    }
}
