//! Prometheus metrics: request counts and latencies by method, route pattern
//! (never the raw path, to keep cardinality bounded) and status; rate-limit
//! rejections by limiter; authentication failures by cause; the database
//! pool (read at scrape time), checkout failures and query latency by
//! family; connectivity tests by type and outcome; and the process's
//! memory, open files and CPU time (read from `/proc` at scrape time;
//! absent elsewhere). Every label takes values from a closed set, every
//! series exists from the first scrape, and every name is listed in
//! `docs/operations.md`. [`Metrics`] is also the app's [`Telemetry`]: the
//! store and the use cases report into it without knowing Prometheus.

use std::sync::Arc;
use std::time::Duration;

use patchbay_app::ports::{
    AcquireFailure, PROBE_OUTCOME_LABELS, PoolStatusSource, ProbeOutcome, QueryFamily, Telemetry,
    probe_outcome_label,
};
use patchbay_domain::CredentialType;
use prometheus::{
    Counter, Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// The causes `patchbay_auth_failures_total` counts: a protected route
/// without a token, with an `Authorization` header that is not
/// `Bearer <token>`, with a token that is invalid, expired or names no
/// user; and a login with a wrong email or password.
pub(crate) const AUTH_FAILURE_CAUSES: [&str; 4] = [
    "missing_token",
    "malformed_header",
    "invalid_token",
    "bad_credentials",
];

/// Linux's `USER_HZ` and page size on the platforms patchbay ships for.
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;
const PAGE_SIZE: u64 = 4096;

/// The buckets of `patchbay_db_query_duration_seconds`, in seconds: 0.5 ms
/// (an indexed read on a warm SQLite file) to 10 s (the acquire timeout).
const QUERY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The registry and the collectors the middleware, the store and the use
/// cases feed. Clones share the collectors.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    rate_limited: IntCounterVec,
    auth_failures: IntCounterVec,
    process: ProcessGauges,
    pool: PoolGauges,
    acquire_failures: IntCounterVec,
    query_latency: HistogramVec,
    connection_tests: IntCounterVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("pool_source", &self.pool.source.is_some())
            .finish_non_exhaustive()
    }
}

/// Pool gauges, set from the pool's status at each scrape.
#[derive(Clone)]
struct PoolGauges {
    /// Where the status comes from (set by [`Metrics::with_pool`]; without
    /// it the gauges stay 0).
    source: Option<Arc<dyn PoolStatusSource>>,
    max_size: IntGauge,
    size: IntGauge,
    in_use: IntGauge,
    waiting: IntGauge,
}

/// Process gauges, refreshed from `/proc/self` at each scrape.
#[derive(Clone, Debug)]
struct ProcessGauges {
    resident_memory: IntGauge,
    open_fds: IntGauge,
    cpu_seconds: Counter,
}

fn register<C: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    collector: C,
) -> Result<C, String> {
    registry
        .register(Box::new(collector.clone()))
        .map_err(|e| e.to_string())?;
    Ok(collector)
}

impl Metrics {
    /// # Errors
    /// Only if the collectors' definitions are invalid (a bug).
    pub fn new() -> Result<Self, String> {
        let registry =
            Registry::new_custom(Some("patchbay".into()), None).map_err(|e| e.to_string())?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests served"),
            &["method", "route", "status"],
        )
        .map_err(|e| e.to_string())?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency in seconds",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route"],
        )
        .map_err(|e| e.to_string())?;
        let requests = register(&registry, requests)?;
        let latency = register(&registry, latency)?;
        let rate_limited = register(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "rate_limit_rejections_total",
                    "Requests answered 429 by a rate limit, by limiter",
                ),
                &["limiter"],
            )
            .map_err(|e| e.to_string())?,
        )?;
        let auth_failures = register(
            &registry,
            IntCounterVec::new(
                Opts::new("auth_failures_total", "Failed authentications, by cause"),
                &["cause"],
            )
            .map_err(|e| e.to_string())?,
        )?;
        let gauge = |name: &str, help: &str| {
            register(
                &registry,
                IntGauge::new(name, help).map_err(|e| e.to_string())?,
            )
        };
        let pool = PoolGauges {
            source: None,
            max_size: gauge(
                "db_pool_max_connections",
                "The most connections the database pool opens",
            )?,
            size: gauge(
                "db_pool_connections",
                "Database connections open now, idle or in use",
            )?,
            in_use: gauge(
                "db_pool_connections_in_use",
                "Database connections checked out now",
            )?,
            waiting: gauge(
                "db_pool_waiting_requests",
                "Checkouts waiting for a database connection now",
            )?,
        };
        let acquire_failures = register(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "db_pool_acquire_failures_total",
                    "Database connection checkouts that failed (answered 503), by cause",
                ),
                &["cause"],
            )
            .map_err(|e| e.to_string())?,
        )?;
        let query_latency = register(
            &registry,
            HistogramVec::new(
                HistogramOpts::new(
                    "db_query_duration_seconds",
                    "Store operation latency in seconds (checkout to commit), by family",
                )
                .buckets(QUERY_BUCKETS.to_vec()),
                &["family"],
            )
            .map_err(|e| e.to_string())?,
        )?;
        let connection_tests = register(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "connection_tests_total",
                    "Connectivity tests run, by connection type and outcome",
                ),
                &["type", "outcome"],
            )
            .map_err(|e| e.to_string())?,
        )?;
        let process = ProcessGauges {
            resident_memory: register(
                &registry,
                IntGauge::new(
                    "process_resident_memory_bytes",
                    "Resident set size of the server process in bytes",
                )
                .map_err(|e| e.to_string())?,
            )?,
            open_fds: register(
                &registry,
                IntGauge::new("process_open_fds", "Open file descriptors")
                    .map_err(|e| e.to_string())?,
            )?,
            cpu_seconds: register(
                &registry,
                Counter::new(
                    "process_cpu_seconds_total",
                    "User and system CPU time of the process in seconds",
                )
                .map_err(|e| e.to_string())?,
            )?,
        };
        // Both label sets exist from the start, so a dashboard sees zeros.
        for limiter in ["login", "connection_tests"] {
            rate_limited.with_label_values(&[limiter]);
        }
        for cause in AUTH_FAILURE_CAUSES {
            auth_failures.with_label_values(&[cause]);
        }
        for failure in AcquireFailure::ALL {
            acquire_failures.with_label_values(&[failure.as_str()]);
        }
        for family in QueryFamily::ALL {
            query_latency.with_label_values(&[family.as_str()]);
        }
        for conn_type in CredentialType::ALL {
            for outcome in PROBE_OUTCOME_LABELS {
                connection_tests.with_label_values(&[conn_type.as_str(), outcome]);
            }
        }
        Ok(Self {
            registry,
            requests,
            latency,
            rate_limited,
            auth_failures,
            process,
            pool,
            acquire_failures,
            query_latency,
            connection_tests,
        })
    }

    /// These metrics reading the pool gauges from `source` at each scrape.
    /// (Give the store a clone made before this call, so that the store's
    /// handle does not hold the pool that holds it.)
    #[must_use]
    pub fn with_pool(mut self, source: Arc<dyn PoolStatusSource>) -> Self {
        self.pool.source = Some(source);
        self
    }

    pub(crate) fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        if status == 429 {
            self.rate_limited(route);
        }
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }

    /// A request answered 429 on `route`: the login limiter on the login
    /// route, the connection-test limits elsewhere (the only other limiter).
    fn rate_limited(&self, route: &str) {
        let limiter = if route == "/api/auth/login" {
            "login"
        } else {
            "connection_tests"
        };
        self.rate_limited.with_label_values(&[limiter]).inc();
    }

    /// One failed authentication; `cause` is one of
    /// [`AUTH_FAILURE_CAUSES`].
    pub(crate) fn auth_failure(&self, cause: &'static str) {
        self.auth_failures.with_label_values(&[cause]).inc();
    }

    fn refresh_process(&self) {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // Fields after the parenthesised command name (which may hold spaces).
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        // utime and stime are fields 14 and 15 of stat(5), in clock ticks
        // (100 per second on Linux); rss (24) is in pages (4 KiB here).
        let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
        if let (Some(user), Some(system)) = (field(14), field(15)) {
            #[expect(clippy::cast_precision_loss, reason = "CPU ticks fit f64's mantissa")]
            let now = (user + system) as f64 / CLOCK_TICKS_PER_SECOND;
            let counted = self.process.cpu_seconds.get();
            if now > counted {
                self.process.cpu_seconds.inc_by(now - counted);
            }
        }
        if let Some(pages) = field(24) {
            self.process
                .resident_memory
                .set(i64::try_from(pages.saturating_mul(PAGE_SIZE)).unwrap_or(i64::MAX));
        }
        if let Ok(entries) = std::fs::read_dir("/proc/self/fd") {
            self.process
                .open_fds
                .set(i64::try_from(entries.count()).unwrap_or(i64::MAX));
        }
    }

    fn refresh_pool(&self) {
        let Some(source) = &self.pool.source else {
            return;
        };
        let status = source.pool_status();
        let set = |gauge: &IntGauge, value: usize| {
            gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
        };
        set(&self.pool.max_size, status.max_size);
        set(&self.pool.size, status.size);
        set(&self.pool.in_use, status.in_use);
        set(&self.pool.waiting, status.waiting);
    }

    /// The text exposition format.
    pub(crate) fn render(&self) -> String {
        self.refresh_process();
        self.refresh_pool();
        let mut out = Vec::new();
        let families = self.registry.gather();
        if let Err(e) = TextEncoder::new().encode(&families, &mut out) {
            tracing::error!(error = %e, "cannot encode the metrics");
            return String::new();
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Telemetry for Metrics {
    fn query_finished(&self, family: QueryFamily, elapsed: Duration) {
        self.query_latency
            .with_label_values(&[family.as_str()])
            .observe(elapsed.as_secs_f64());
    }

    fn pool_acquire_failed(&self, failure: AcquireFailure) {
        self.acquire_failures
            .with_label_values(&[failure.as_str()])
            .inc();
    }

    fn connection_tested(&self, conn_type: CredentialType, outcome: ProbeOutcome) {
        self.connection_tests
            .with_label_values(&[conn_type.as_str(), probe_outcome_label(outcome)])
            .inc();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use patchbay_app::ports::{PoolStatus, ProbeFailure};

    #[test]
    fn every_series_renders_from_the_first_scrape() {
        let metrics = Metrics::new().unwrap();
        let families = metrics.registry.gather();
        let mut out = Vec::new();
        TextEncoder::new().encode(&families, &mut out).unwrap();
        let text = metrics.render();
        for name in [
            "patchbay_rate_limit_rejections_total{limiter=\"login\"} 0",
            "patchbay_auth_failures_total{cause=\"bad_credentials\"} 0",
            "patchbay_process_resident_memory_bytes",
            "patchbay_process_open_fds",
            "patchbay_process_cpu_seconds_total",
            "patchbay_db_pool_max_connections 0",
            "patchbay_db_pool_connections 0",
            "patchbay_db_pool_connections_in_use 0",
            "patchbay_db_pool_waiting_requests 0",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
        let mut series = Vec::new();
        for cause in ["timeout", "error"] {
            series.push(format!(
                "patchbay_db_pool_acquire_failures_total{{cause=\"{cause}\"}} 0"
            ));
        }
        for family in QueryFamily::ALL {
            series.push(format!(
                "patchbay_db_query_duration_seconds_count{{family=\"{}\"}} 0",
                family.as_str()
            ));
            series.push(format!(
                "patchbay_db_query_duration_seconds_bucket{{family=\"{}\",le=\"0.0005\"}} 0",
                family.as_str()
            ));
        }
        for conn_type in CredentialType::ALL {
            for outcome in PROBE_OUTCOME_LABELS {
                series.push(format!(
                    "patchbay_connection_tests_total{{outcome=\"{outcome}\",type=\"{}\"}} 0",
                    conn_type.as_str()
                ));
            }
        }
        assert_eq!(series.len(), 2 + 2 * 11 + 7 * 8);
        for line in series {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from:\n{text}"
            );
        }
    }

    #[derive(Debug)]
    struct FixedPool(PoolStatus);

    impl PoolStatusSource for FixedPool {
        fn pool_status(&self) -> PoolStatus {
            self.0
        }
    }

    #[test]
    fn the_store_and_the_tester_feed_their_series_and_the_pool_is_read_at_scrape() {
        let metrics = Metrics::new().unwrap();
        // What the store and the use cases hold: a clone, as `Telemetry`.
        let telemetry: Arc<dyn Telemetry> = Arc::new(metrics.clone());
        let metrics = metrics.with_pool(Arc::new(FixedPool(PoolStatus {
            max_size: 10,
            size: 3,
            in_use: 2,
            waiting: 1,
        })));
        telemetry.query_finished(QueryFamily::Projects, Duration::from_millis(3));
        telemetry.query_finished(QueryFamily::Projects, Duration::from_secs(20));
        telemetry.pool_acquire_failed(AcquireFailure::Timeout);
        telemetry.connection_tested(
            CredentialType::Postgres,
            ProbeOutcome::Failed {
                reason: ProbeFailure::Refused,
                driver: "tokio-postgres",
            },
        );
        telemetry.connection_tested(
            CredentialType::Generic,
            ProbeOutcome::Connected { driver: "tcp" },
        );
        let text = metrics.render();
        for line in [
            "patchbay_db_pool_max_connections 10",
            "patchbay_db_pool_connections 3",
            "patchbay_db_pool_connections_in_use 2",
            "patchbay_db_pool_waiting_requests 1",
            "patchbay_db_pool_acquire_failures_total{cause=\"timeout\"} 1",
            "patchbay_db_pool_acquire_failures_total{cause=\"error\"} 0",
            "patchbay_db_query_duration_seconds_count{family=\"projects\"} 2",
            "patchbay_db_query_duration_seconds_bucket{family=\"projects\",le=\"0.005\"} 1",
            "patchbay_db_query_duration_seconds_bucket{family=\"projects\",le=\"10\"} 1",
            "patchbay_db_query_duration_seconds_bucket{family=\"projects\",le=\"+Inf\"} 2",
            "patchbay_db_query_duration_seconds_count{family=\"users\"} 0",
            "patchbay_connection_tests_total{outcome=\"refused\",type=\"postgres\"} 1",
            "patchbay_connection_tests_total{outcome=\"connected\",type=\"generic\"} 1",
            "patchbay_connection_tests_total{outcome=\"connected\",type=\"postgres\"} 0",
            "# TYPE patchbay_db_query_duration_seconds histogram",
            "# TYPE patchbay_db_pool_acquire_failures_total counter",
            "# TYPE patchbay_db_pool_connections gauge",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from:\n{text}"
            );
        }
    }
}
