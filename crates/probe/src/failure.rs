//! A failed probe as the drivers report it inside the crate: the coarse
//! [`ProbeFailure`] the API shows, plus a detail for the server log. The
//! detail is written by the drivers from library error text and addresses;
//! it must never hold a password, a key, or the `extra` text.

use std::fmt;

use patchbay_app::ports::ProbeFailure;

/// Why a driver failed: the coarse reason and a log-only detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// What the API answers.
    pub reason: ProbeFailure,
    /// What the log says (no secrets).
    pub detail: String,
}

impl Failure {
    /// A failure with its log detail.
    pub(crate) fn new(reason: ProbeFailure, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
        }
    }

    /// A request that lacks a field, or holds one the driver cannot use.
    pub(crate) fn config(detail: impl Into<String>) -> Self {
        Self::new(ProbeFailure::Protocol, detail)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason.as_str(), self.detail)
    }
}

/// Maps an I/O error from connecting or talking to a peer.
pub(crate) fn from_io(e: &std::io::Error) -> ProbeFailure {
    use std::io::ErrorKind as K;
    if find_source::<rustls::Error>(e).is_some() {
        return ProbeFailure::Tls;
    }
    match e.kind() {
        K::TimedOut | K::WouldBlock => ProbeFailure::Timeout,
        // A refused SYN, or no route: nothing answered at that address.
        K::ConnectionRefused
        | K::AddrNotAvailable
        | K::NetworkUnreachable
        | K::HostUnreachable
        | K::NetworkDown => ProbeFailure::Refused,
        // The connection existed and the peer dropped it mid-conversation:
        // something listens there, but not the protocol we speak.
        K::ConnectionReset
        | K::ConnectionAborted
        | K::NotConnected
        | K::UnexpectedEof
        | K::BrokenPipe
        | K::InvalidData => ProbeFailure::Protocol,
        _ => ProbeFailure::Refused,
    }
}

/// The first error of type `T` in `e`'s source chain (including `e`, and
/// the inner error of an [`std::io::Error`]).
pub(crate) fn find_source<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
        {
            if let Some(found) = inner.downcast_ref::<T>() {
                return Some(found);
            }
            current = inner.source();
            continue;
        }
        current = err.source();
    }
    None
}

/// The first [`std::io::Error`] in `e`'s source chain.
pub(crate) fn find_io<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    find_source::<std::io::Error>(e)
}

/// `e` and its sources joined with `: `, for the log.
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut current = e.source();
    while let Some(err) = current {
        let text = err.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        current = err.source();
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_map_to_coarse_reasons() {
        use std::io::{Error, ErrorKind as K};
        assert_eq!(
            from_io(&Error::from(K::ConnectionRefused)),
            ProbeFailure::Refused
        );
        assert_eq!(from_io(&Error::from(K::TimedOut)), ProbeFailure::Timeout);
        assert_eq!(
            from_io(&Error::from(K::UnexpectedEof)),
            ProbeFailure::Protocol
        );
        let tls = Error::new(
            K::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert_eq!(from_io(&tls), ProbeFailure::Tls);
        assert!(chain(&tls).contains("UnknownIssuer") || chain(&tls).contains("unknown issuer"));
    }
}
