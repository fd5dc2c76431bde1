//! The generic driver: resolve once, check every resolved address against
//! the guard, dial the first permitted one (the very address checked), and
//! report whether a TCP connection was established.

use std::net::SocketAddr;

use patchbay_app::ports::{ProbeFailure, ProbeOutcome, ProbeRequest};
use tokio::net::TcpStream;

use crate::guard::EgressPolicy;

/// Resolves `host:port` once and returns the addresses the policy permits,
/// or why there are none.
pub(crate) async fn resolve(
    policy: &EgressPolicy,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, ProbeFailure> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| ProbeFailure::Dns)?
        .collect();
    if addrs.is_empty() {
        return Err(ProbeFailure::Dns);
    }
    let permitted: Vec<SocketAddr> = addrs
        .into_iter()
        .filter(|a| policy.permits(a.ip()))
        .collect();
    if permitted.is_empty() {
        return Err(ProbeFailure::Blocked);
    }
    Ok(permitted)
}

pub(crate) async fn probe(policy: &EgressPolicy, request: &ProbeRequest) -> ProbeOutcome {
    let (Some(host), Some(port)) = (request.host.as_deref(), request.port) else {
        return ProbeOutcome::Failed {
            reason: ProbeFailure::Protocol,
        };
    };
    let addrs = match resolve(policy, host, port).await {
        Ok(addrs) => addrs,
        Err(reason) => return ProbeOutcome::Failed { reason },
    };
    let mut last = ProbeFailure::Refused;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(_) => return ProbeOutcome::Connected { driver: "tcp" },
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => last = ProbeFailure::Timeout,
            Err(_) => last = ProbeFailure::Refused,
        }
    }
    ProbeOutcome::Failed { reason: last }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use patchbay_app::ports::ConnectivityTester;
    use patchbay_domain::CredentialType;

    use super::*;
    use crate::Prober;

    fn generic(host: &str, port: u16) -> ProbeRequest {
        ProbeRequest {
            conn_type: CredentialType::Generic,
            host: Some(host.into()),
            port: Some(port),
            schema: None,
            login: None,
            password: None,
            extra: None,
        }
    }

    fn prober(allow_loopback: bool) -> Prober {
        Prober::new(
            EgressPolicy {
                allow_loopback,
                allow_private: false,
            },
            Duration::from_secs(5),
        )
    }

    #[tokio::test]
    async fn connects_to_a_loopback_listener() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let outcome = prober(true).test(generic("127.0.0.1", port)).await;
        assert_eq!(outcome, ProbeOutcome::Connected { driver: "tcp" });
        let outcome = prober(true).test(generic("localhost", port)).await;
        assert_eq!(outcome, ProbeOutcome::Connected { driver: "tcp" });
    }

    #[tokio::test]
    async fn a_closed_port_is_refused() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let outcome = prober(true).test(generic("127.0.0.1", port)).await;
        assert_eq!(
            outcome,
            ProbeOutcome::Failed {
                reason: ProbeFailure::Refused
            }
        );
    }

    #[tokio::test]
    async fn loopback_is_blocked_unless_allowed_and_unspecified_always() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let blocked = ProbeOutcome::Failed {
            reason: ProbeFailure::Blocked,
        };
        assert_eq!(
            prober(false).test(generic("127.0.0.1", port)).await,
            blocked
        );
        // 0.0.0.0 and [::] would land on loopback if dialled: the guard must
        // refuse them before any packet is sent, even with loopback allowed.
        assert_eq!(prober(true).test(generic("0.0.0.0", port)).await, blocked);
        assert_eq!(prober(true).test(generic("[::]", port)).await, blocked);
    }

    #[tokio::test]
    async fn missing_host_or_port_is_a_protocol_failure() {
        let mut req = generic("127.0.0.1", 1);
        req.port = None;
        assert_eq!(
            prober(true).test(req).await,
            ProbeOutcome::Failed {
                reason: ProbeFailure::Protocol
            }
        );
    }
}
