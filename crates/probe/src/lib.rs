//! The connectivity tester adapter: the egress guard (which addresses a test
//! may reach) and one driver per credential type behind the app's
//! [`ConnectivityTester`] port. This build ships the generic TCP driver; the
//! protocol drivers (postgres, mysql, sqlite, http, sftp, s3) come with the
//! credential-connections work.

mod guard;
mod tcp;

use std::time::Duration;

use async_trait::async_trait;
use patchbay_app::ports::{ConnectivityTester, ProbeFailure, ProbeOutcome, ProbeRequest};
use patchbay_domain::CredentialType;

pub use guard::{AddressClass, EgressPolicy, classify};

/// The production tester.
#[derive(Debug, Clone)]
pub struct Prober {
    policy: EgressPolicy,
    timeout: Duration,
}

impl Prober {
    /// A tester with the given egress policy and per-test time budget.
    #[must_use]
    pub fn new(policy: EgressPolicy, timeout: Duration) -> Self {
        Self { policy, timeout }
    }
}

#[async_trait]
impl ConnectivityTester for Prober {
    async fn test(&self, request: ProbeRequest) -> ProbeOutcome {
        let outcome = match request.conn_type {
            CredentialType::Generic => {
                tokio::time::timeout(self.timeout, tcp::probe(&self.policy, &request))
                    .await
                    .unwrap_or(ProbeOutcome::Failed {
                        reason: ProbeFailure::Timeout,
                    })
            }
            other => {
                tracing::warn!(conn_type = ?other, "no connectivity driver for this type in this build");
                ProbeOutcome::Failed {
                    reason: ProbeFailure::Protocol,
                }
            }
        };
        if let ProbeOutcome::Failed { reason } = &outcome {
            tracing::info!(conn_type = ?request.conn_type, reason = reason.as_str(), "connection test failed");
        }
        outcome
    }
}
