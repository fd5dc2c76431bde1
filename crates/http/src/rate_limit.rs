//! Throttling: login attempts per client IP (a keyed token bucket, so
//! password guessing from one address is slowed to the configured rate), and
//! connectivity tests per user plus a cap on tests in flight (SPEC §8); 429
//! past either.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use patchbay_app::AppError;
use uuid::Uuid;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Shared by every worker (the state is per process; behind a load balancer
/// each server throttles independently).
#[derive(Clone, Debug)]
pub struct LoginLimiter {
    inner: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl LoginLimiter {
    /// `per_minute` attempts per IP, with a burst of the same size.
    #[must_use]
    pub fn per_minute(per_minute: NonZeroU32) -> Self {
        Self {
            inner: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))),
        }
    }

    /// Whether one more attempt from `ip` may proceed now.
    #[must_use]
    pub fn check(&self, ip: IpAddr) -> bool {
        let ok = self.inner.check_key(&ip).is_ok();
        if self.inner.len() > 10_000 {
            self.inner.retain_recent();
        }
        ok
    }
}

/// Connectivity-test limits (SPEC §8): `per_minute` tests per user (a keyed
/// token bucket with a burst of the same size) and at most `max_in_flight`
/// tests running at once in this process. Both answer 429 past the limit.
/// The state is per process (see the README on several servers).
#[derive(Clone, Debug)]
pub struct ProbeLimiter {
    per_user: Arc<DefaultKeyedRateLimiter<Uuid>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: usize,
}

/// Holds one of the in-flight slots; the slot is released on drop.
#[derive(Debug)]
pub(crate) struct ProbePermit(Arc<AtomicUsize>);

impl Drop for ProbePermit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl ProbeLimiter {
    /// `per_minute` tests per user; `max_in_flight` (≥ 1) at once.
    #[must_use]
    pub fn new(per_minute: NonZeroU32, max_in_flight: usize) -> Self {
        Self {
            per_user: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))),
            in_flight: Arc::new(AtomicUsize::new(0)),
            max_in_flight: max_in_flight.max(1),
        }
    }

    /// Takes a slot for one test by `user`.
    ///
    /// # Errors
    /// 429 when the user used up the minute's tests, or when
    /// `max_in_flight` tests are running.
    pub(crate) fn acquire(&self, user: Uuid) -> Result<ProbePermit, AppError> {
        let taken = self.in_flight.fetch_add(1, Ordering::AcqRel);
        let permit = ProbePermit(self.in_flight.clone());
        if taken >= self.max_in_flight {
            return Err(AppError::rate_limited(
                "Too many connection tests are running; try again shortly",
            ));
        }
        if self.per_user.check_key(&user).is_err() {
            return Err(AppError::rate_limited(
                "Too many connection tests; try again later",
            ));
        }
        if self.per_user.len() > 10_000 {
            self.per_user.retain_recent();
        }
        Ok(permit)
    }
}
