//! The generic driver: a TCP connection to the checked address, nothing
//! more (the type has no protocol to speak). Success means the peer
//! completed the TCP handshake.

use patchbay_app::ports::ProbeRequest;

use crate::Context;
use crate::failure::Failure;
use crate::net::{self, Trace};

pub(crate) async fn probe(
    ctx: &Context,
    request: &ProbeRequest,
    trace: &Trace,
) -> Result<(), Failure> {
    let (host, port) = super::host_port(request)?;
    let addrs = crate::guard::resolve(&ctx.policy, host, port).await?;
    let (_stream, _addr) = net::connect(&addrs, trace).await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use patchbay_app::ports::{ConnectivityTester, ProbeFailure, ProbeOutcome};
    use patchbay_domain::CredentialType;

    use crate::drivers::test_support::{closed_port, prober, request};

    fn generic(host: &str, port: u16) -> patchbay_app::ports::ProbeRequest {
        request(CredentialType::Generic, host, port)
    }

    fn failed(reason: ProbeFailure) -> ProbeOutcome {
        ProbeOutcome::Failed {
            reason,
            driver: "tcp",
        }
    }

    #[tokio::test]
    async fn connects_to_a_loopback_listener() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let outcome = prober(true).test(generic("127.0.0.1", port)).await;
        assert_eq!(outcome, ProbeOutcome::Connected { driver: "tcp" });
    }

    #[tokio::test]
    async fn a_closed_port_is_refused() {
        let outcome = prober(true).test(generic("127.0.0.1", closed_port())).await;
        assert_eq!(outcome, failed(ProbeFailure::Refused));
    }

    #[tokio::test]
    async fn loopback_is_blocked_unless_allowed_and_unspecified_always() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let blocked = failed(ProbeFailure::Blocked);
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
        assert_eq!(prober(true).test(req).await, failed(ProbeFailure::Protocol));
        let mut req = generic("127.0.0.1", 1);
        req.host = Some("  ".into());
        assert_eq!(prober(true).test(req).await, failed(ProbeFailure::Protocol));
    }

    #[tokio::test]
    async fn the_invalid_domain_fails_dns_without_a_query() {
        let outcome = prober(true).test(generic("nonexistent.invalid", 80)).await;
        assert_eq!(outcome, failed(ProbeFailure::Dns));
    }
}
