//! Login throttling: a keyed token bucket per client IP, so password guessing
//! from one address is slowed to the configured rate (429 past it).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

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
