//! The connectivity tester port (SPEC §8, seed 003 `POST …/test`): what a
//! test is asked to reach, and its coarse outcome. Drivers live in the
//! `patchbay-probe` adapter.

use async_trait::async_trait;
use patchbay_domain::CredentialType;

use super::SecretString;

/// What the connectivity tester is asked to reach. Secrets are already
/// opened here, held in zeroizing [`SecretString`]s; an implementation must
/// never log them. `Debug` redacts them.
#[derive(Debug)]
pub struct ProbeRequest {
    /// Which driver runs.
    pub conn_type: CredentialType,
    /// Host name, IPv4/IPv6 literal, or (sqlite) a file path.
    pub host: Option<String>,
    /// TCP port, 1–65535.
    pub port: Option<u16>,
    /// Database / schema name (postgres, mysql).
    pub schema: Option<String>,
    /// User name.
    pub login: Option<String>,
    /// Password, opened.
    pub password: Option<SecretString>,
    /// The `extra` JSON object as text, opened (may hold keys and tokens).
    pub extra: Option<SecretString>,
}

/// Why a probe failed, coarsely; details go to the server log only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProbeFailure {
    /// The 5 s budget ran out (DNS, connect, handshake or query).
    Timeout,
    /// The peer refused the TCP connection (or reset it).
    Refused,
    /// The host name did not resolve.
    Dns,
    /// The peer rejected the credentials.
    Auth,
    /// TLS or host-key verification failed.
    Tls,
    /// The peer spoke something unexpected, or the request lacked a field
    /// the driver needs.
    Protocol,
    /// The egress guard refused every address the host resolves to.
    Blocked,
}

impl ProbeFailure {
    /// The reason as the API shows it (`timeout`, `refused`, …).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Refused => "refused",
            Self::Dns => "dns",
            Self::Auth => "auth",
            Self::Tls => "tls",
            Self::Protocol => "protocol",
            Self::Blocked => "blocked",
        }
    }

    /// Parses [`Self::as_str`]'s output (for stored test results).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Timeout,
            Self::Refused,
            Self::Dns,
            Self::Auth,
            Self::Tls,
            Self::Protocol,
            Self::Blocked,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// The result of one connectivity test. `driver` names the client that ran
/// (`tokio-postgres`, `mysql_async`, `sqlite`, `reqwest`, `russh`,
/// `s3-sigv4`, `tcp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// The peer answered and (where the type has a protocol) accepted the
    /// credentials.
    Connected {
        /// The driver that ran.
        driver: &'static str,
    },
    /// The test failed.
    Failed {
        /// Why, coarsely.
        reason: ProbeFailure,
        /// The driver that ran.
        driver: &'static str,
    },
}

/// Tests that a credential connection's peer is reachable (and, where the
/// type has a protocol, that the credentials work).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ConnectivityTester: Send + Sync {
    /// Runs one test within the tester's own time budget (5 s). Never
    /// panics, never returns secrets in the outcome, never sends a packet
    /// to an address the egress guard refuses.
    async fn test(&self, request: ProbeRequest) -> ProbeOutcome;
}
