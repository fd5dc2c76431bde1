//! The telemetry port: the measurements adapters and use cases report
//! (query latency by family, pool checkout failures, connectivity tests by
//! type and outcome) and the pool status read at scrape time. The HTTP
//! adapter's Prometheus registry implements it; nothing here knows
//! Prometheus, and no label a measurement carries is free text: each is one
//! of a closed set, so the series stay bounded.

use std::time::Duration;

use patchbay_domain::CredentialType;

use super::ProbeOutcome;

/// The store's query families: one per repository module (the same names
/// on every layer), plus `health` for `/readyz`'s ping. `access` is the
/// caller's scope (user, project, membership, environment) that every
/// project- and environment-scoped request reads first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryFamily {
    Access,
    Users,
    Projects,
    Members,
    Invites,
    Environments,
    Resources,
    ResourceConnections,
    AllowedConnections,
    CredentialConnections,
    Health,
}

impl QueryFamily {
    /// Every family, in the order the metrics list them.
    pub const ALL: [Self; 11] = [
        Self::Access,
        Self::Users,
        Self::Projects,
        Self::Members,
        Self::Invites,
        Self::Environments,
        Self::Resources,
        Self::ResourceConnections,
        Self::AllowedConnections,
        Self::CredentialConnections,
        Self::Health,
    ];

    /// The family as a metric label (`projects`, `resource_connections`, …).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Users => "users",
            Self::Projects => "projects",
            Self::Members => "members",
            Self::Invites => "invites",
            Self::Environments => "environments",
            Self::Resources => "resources",
            Self::ResourceConnections => "resource_connections",
            Self::AllowedConnections => "allowed_connections",
            Self::CredentialConnections => "credential_connections",
            Self::Health => "health",
        }
    }
}

/// Why a connection could not be checked out of the pool (the request is
/// answered 503 either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AcquireFailure {
    /// No connection became free, nor could one be opened, within the
    /// acquire timeout.
    Timeout,
    /// Opening a connection failed (database unreachable, refused login).
    Error,
}

impl AcquireFailure {
    /// Both causes, in the order the metrics list them.
    pub const ALL: [Self; 2] = [Self::Timeout, Self::Error];

    /// The cause as a metric label: `timeout` or `error`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Error => "error",
        }
    }
}

/// A connectivity test's outcome as a metric label: `connected`, or the
/// failure reason ([`super::ProbeFailure::as_str`]).
#[must_use]
pub const fn probe_outcome_label(outcome: ProbeOutcome) -> &'static str {
    match outcome {
        ProbeOutcome::Connected { .. } => "connected",
        ProbeOutcome::Failed { reason, .. } => reason.as_str(),
    }
}

/// Every value [`probe_outcome_label`] returns.
pub const PROBE_OUTCOME_LABELS: [&str; 8] = [
    "connected",
    "timeout",
    "refused",
    "dns",
    "auth",
    "tls",
    "protocol",
    "blocked",
];

/// A snapshot of the database pool, in connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStatus {
    /// The most connections the pool opens.
    pub max_size: usize,
    /// Connections open now (idle or checked out).
    pub size: usize,
    /// Connections checked out now.
    pub in_use: usize,
    /// Checkouts waiting for a connection now.
    pub waiting: usize,
}

/// Where measurements go. Implementations must be cheap (they run on every
/// query) and must never fail or block.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Telemetry: Send + Sync {
    /// One store operation of `family` took `elapsed`, from connection
    /// checkout to the end of its body (a transaction's commit included,
    /// the wait for the connection excluded); failed ones count too.
    fn query_finished(&self, family: QueryFamily, elapsed: Duration);

    /// A connection checkout failed with `failure`.
    fn pool_acquire_failed(&self, failure: AcquireFailure);

    /// A connectivity test of a `conn_type` connection ran and gave
    /// `outcome`.
    fn connection_tested(&self, conn_type: CredentialType, outcome: ProbeOutcome);
}

/// Telemetry that drops every measurement (tools, tests, and the default
/// until a registry is wired).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTelemetry;

impl Telemetry for NoTelemetry {
    fn query_finished(&self, _family: QueryFamily, _elapsed: Duration) {}
    fn pool_acquire_failed(&self, _failure: AcquireFailure) {}
    fn connection_tested(&self, _conn_type: CredentialType, _outcome: ProbeOutcome) {}
}

/// The database pool's status, read at each scrape.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait PoolStatusSource: Send + Sync {
    /// The pool as it is now; never blocks on a checkout.
    fn pool_status(&self) -> PoolStatus;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::ProbeFailure;

    #[test]
    fn outcome_labels_are_the_closed_set() {
        let mut labels = vec![probe_outcome_label(ProbeOutcome::Connected {
            driver: "tcp",
        })];
        for reason in [
            ProbeFailure::Timeout,
            ProbeFailure::Refused,
            ProbeFailure::Dns,
            ProbeFailure::Auth,
            ProbeFailure::Tls,
            ProbeFailure::Protocol,
            ProbeFailure::Blocked,
        ] {
            labels.push(probe_outcome_label(ProbeOutcome::Failed {
                reason,
                driver: "tcp",
            }));
        }
        assert_eq!(labels, PROBE_OUTCOME_LABELS);
        let families: Vec<_> = QueryFamily::ALL.iter().map(|f| f.as_str()).collect();
        let mut unique = families.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), families.len());
    }
}
