//! The connectivity tester adapter (SPEC §8, issue 10): one protocol driver
//! per credential type behind the app's [`ConnectivityTester`] port, all
//! behind the egress guard. This module owns the one place the time budget
//! is enforced and the one place outcomes are logged; the drivers
//! (`drivers/`) only speak their protocol and say why they failed.
//!
//! It must never log or return a password, a key, or the `extra` text, and
//! never dial an address the guard has not checked.

mod drivers;
mod extra;
mod failure;
mod guard;
mod net;
mod tls;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use patchbay_app::ports::{ConnectivityTester, ProbeFailure, ProbeOutcome, ProbeRequest};
use patchbay_domain::CredentialType;

pub use guard::{AddressClass, EgressPolicy, classify};

use crate::failure::Failure;
use crate::net::Trace;
use crate::tls::TlsConfigs;

/// The budget of one test when nothing else is configured: 5 s, as seed 003
/// promises ("Test has a 5-second timeout").
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How the tester behaves: its time budget and what it may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSettings {
    /// Total budget of one test — DNS, connect, TLS, handshake, auth and
    /// query together. Default [`DEFAULT_TIMEOUT`].
    pub timeout: Duration,
    /// Whether loopback addresses may be dialled
    /// (`PATCHBAY_PROBE_ALLOW_LOOPBACK`; the server defaults it to `true` in
    /// dev mode, `false` in production).
    pub allow_loopback: bool,
    /// Whether private ranges (RFC 1918, unique local, shared address space)
    /// may be dialled (`PATCHBAY_PROBE_ALLOW_PRIVATE`, default `true`:
    /// self-hosted users test their own databases).
    pub allow_private: bool,
    /// Directories under which the sqlite driver may open files
    /// (`PATCHBAY_PROBE_SQLITE_ROOTS`). Empty (the default) refuses every
    /// sqlite test with `blocked`.
    pub sqlite_roots: Vec<PathBuf>,
}

impl Default for ProbeSettings {
    /// 5 s, loopback refused, private allowed, no sqlite roots: the
    /// production posture.
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            allow_loopback: false,
            allow_private: true,
            sqlite_roots: Vec::new(),
        }
    }
}

impl ProbeSettings {
    /// Parses a `PATCHBAY_PROBE_SQLITE_ROOTS` value: directories separated
    /// by commas or colons; blanks are ignored.
    #[must_use]
    pub fn parse_roots(raw: &str) -> Vec<PathBuf> {
        raw.split([',', ':'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect()
    }
}

/// The production tester.
#[derive(Debug, Clone)]
pub struct Prober {
    inner: Arc<Inner>,
}

/// What every driver may read.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) policy: EgressPolicy,
    /// Canonical sqlite roots that exist.
    pub(crate) sqlite_roots: Vec<PathBuf>,
    pub(crate) tls: TlsConfigs,
}

#[derive(Debug)]
struct Inner {
    timeout: Duration,
    ctx: Context,
}

impl Prober {
    /// A tester with `settings`. Sqlite roots are canonicalised now; a root
    /// that does not exist is left out (and logged), so it can never match.
    #[must_use]
    pub fn new(settings: ProbeSettings) -> Self {
        // mysql_async builds its TLS configuration with the process-wide
        // default provider; make sure that is `ring` (a no-op if one is
        // installed already).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let sqlite_roots = settings
            .sqlite_roots
            .iter()
            .filter_map(|root| canonical_root(root))
            .collect();
        Self {
            inner: Arc::new(Inner {
                timeout: settings.timeout,
                ctx: Context {
                    policy: EgressPolicy {
                        allow_loopback: settings.allow_loopback,
                        allow_private: settings.allow_private,
                    },
                    sqlite_roots,
                    tls: TlsConfigs::new(),
                },
            }),
        }
    }

    /// The per-test budget.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }
}

fn canonical_root(root: &Path) -> Option<PathBuf> {
    match std::fs::canonicalize(root) {
        Ok(path) if path.is_dir() => Some(path),
        Ok(path) => {
            tracing::warn!(root = %path.display(), "PATCHBAY_PROBE_SQLITE_ROOTS entry is not a directory; ignored");
            None
        }
        Err(e) => {
            tracing::warn!(root = %root.display(), error = %e, "PATCHBAY_PROBE_SQLITE_ROOTS entry cannot be resolved; ignored");
            None
        }
    }
}

#[async_trait]
impl ConnectivityTester for Prober {
    async fn test(&self, request: ProbeRequest) -> ProbeOutcome {
        let driver = drivers::name(request.conn_type);
        let trace = Trace::default();
        trace.stage("resolve");
        let started = Instant::now();
        // The one place the budget is enforced: the whole driver — DNS,
        // connect, TLS, handshake, auth, query — runs inside it, and is
        // dropped (closing its sockets) when it runs out.
        let result = tokio::time::timeout(
            self.inner.timeout,
            drivers::run(&self.inner.ctx, &request, &trace),
        )
        .await
        .unwrap_or_else(|_| {
            Err(Failure::new(
                ProbeFailure::Timeout,
                format!(
                    "no answer within {} ms (during {})",
                    self.inner.timeout.as_millis(),
                    trace.current_stage()
                ),
            ))
        });
        log_outcome(request.conn_type, driver, &trace, started, &result);
        match result {
            Ok(()) => ProbeOutcome::Connected { driver },
            Err(failure) => ProbeOutcome::Failed {
                reason: failure.reason,
                driver,
            },
        }
    }
}

fn log_outcome(
    conn_type: CredentialType,
    driver: &'static str,
    trace: &Trace,
    started: Instant,
    result: &Result<(), Failure>,
) {
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let addr = trace.addr().map(|a| a.to_string());
    let addr = addr.as_deref().unwrap_or("-");
    match result {
        Ok(()) => tracing::info!(
            conn_type = conn_type.as_str(),
            driver,
            addr,
            elapsed_ms,
            "connection test succeeded"
        ),
        Err(failure) => tracing::warn!(
            conn_type = conn_type.as_str(),
            driver,
            addr,
            elapsed_ms,
            reason = failure.reason.as_str(),
            detail = %failure.detail,
            "connection test failed"
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn roots_split_on_commas_and_colons() {
        assert_eq!(
            ProbeSettings::parse_roots(" /a, /b:/c ,,"),
            vec![
                PathBuf::from("/a"),
                PathBuf::from("/b"),
                PathBuf::from("/c")
            ]
        );
        assert!(ProbeSettings::parse_roots("").is_empty());
    }

    #[test]
    fn the_default_is_the_production_posture() {
        let s = ProbeSettings::default();
        assert_eq!(s.timeout, Duration::from_secs(5));
        assert!(!s.allow_loopback);
        assert!(s.allow_private);
        assert!(s.sqlite_roots.is_empty());
    }

    /// The budget is enforced around the whole driver: a loopback peer that
    /// accepts and never answers ends as `timeout` when the budget ends.
    #[tokio::test]
    async fn the_budget_ends_a_silent_handshake() {
        use patchbay_app::ports::ConnectivityTester as _;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let _held = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let prober = Prober::new(ProbeSettings {
            timeout: Duration::from_millis(300),
            allow_loopback: true,
            ..ProbeSettings::default()
        });
        let mut request =
            drivers::test_support::request(CredentialType::Postgres, "127.0.0.1", port);
        request.login = Some("u".into());
        let started = Instant::now();
        let outcome = prober.test(request).await;
        assert_eq!(
            outcome,
            ProbeOutcome::Failed {
                reason: ProbeFailure::Timeout,
                driver: "tokio-postgres"
            }
        );
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(2),
            "{elapsed:?}"
        );
    }

    #[test]
    fn missing_roots_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let prober = Prober::new(ProbeSettings {
            sqlite_roots: vec![dir.path().to_owned(), dir.path().join("missing")],
            ..ProbeSettings::default()
        });
        assert_eq!(
            prober.inner.ctx.sqlite_roots,
            vec![std::fs::canonicalize(dir.path()).unwrap()]
        );
    }
}
