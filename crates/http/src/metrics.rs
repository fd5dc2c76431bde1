//! Prometheus metrics: request counts and latencies by method, route pattern
//! (never the raw path, to keep cardinality bounded) and status; rate-limit
//! rejections by limiter; authentication failures by cause; and the
//! process's memory, open files and CPU time (read from `/proc` at scrape
//! time; absent elsewhere). Every name is listed in `docs/operations.md`.

use std::time::Duration;

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

/// The registry and the collectors the middleware feeds.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    rate_limited: IntCounterVec,
    auth_failures: IntCounterVec,
    process: ProcessGauges,
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
        Ok(Self {
            registry,
            requests,
            latency,
            rate_limited,
            auth_failures,
            process,
        })
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

    /// The text exposition format.
    pub(crate) fn render(&self) -> String {
        self.refresh_process();
        let mut out = Vec::new();
        let families = self.registry.gather();
        if let Err(e) = TextEncoder::new().encode(&families, &mut out) {
            tracing::error!(error = %e, "cannot encode the metrics");
            return String::new();
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
    }
}
