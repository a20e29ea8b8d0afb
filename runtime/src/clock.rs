//! The clocks: the Gate's clock of token and session times (seconds since the Unix epoch,
//! replaceable for tests), and a monotonic clock for deadlines that no test clock may move.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The Gate's clock: the system's real time, or a function the app gave for tests.
#[derive(Clone)]
pub(crate) enum Clock {
    System,
    Custom(Arc<dyn Fn() -> SystemTime + Send + Sync>),
}

impl Clock {
    /// Now, in whole seconds since the Unix epoch (0 before it).
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        match self {
            Clock::System => system_now(),
            Clock::Custom(now) => seconds(now()),
        }
    }
}

/// A time as whole seconds since the Unix epoch (0 before it, `u64::MAX` past it).
pub(crate) fn seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Whole seconds since the Unix epoch as a time.
pub(crate) fn time(seconds: u64) -> SystemTime {
    UNIX_EPOCH
        .checked_add(Duration::from_secs(seconds))
        .unwrap_or(UNIX_EPOCH + Duration::from_secs(i64::MAX as u64 / 2))
}

/// The default clock: seconds since the epoch. On Linux the coarse real-time clock, which the
/// kernel updates every tick (a few ms) and reads without touching the time-stamp counter;
/// token times are whole seconds with a leeway, so the tick does not matter.
fn system_now() -> u64 {
    // Checked, not `clock_gettime`'s panic: a sandbox without the coarse clock falls back to
    // the precise one.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::time::{ClockId, DynamicClockId, clock_gettime_dynamic};
        if let Ok(now) = clock_gettime_dynamic(DynamicClockId::Known(ClockId::RealtimeCoarse)) {
            return u64::try_from(now.tv_sec).unwrap_or(0);
        }
    }
    seconds(SystemTime::now())
}

/// Milliseconds on a monotonic clock, never 0: the coarse clock on Linux (a few ms of
/// resolution, cheap enough for the cache-hit path), for the staleness deadlines of fetched
/// keys and of the revocation view. Unaffected by the Gate's own clock, which tests may fix.
pub(crate) fn monotonic_ms() -> u64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::time::{ClockId, DynamicClockId, clock_gettime_dynamic};
        if let Ok(t) = clock_gettime_dynamic(DynamicClockId::Known(ClockId::MonotonicCoarse)) {
            return (t.tv_sec as u64)
                .saturating_mul(1000)
                .saturating_add(t.tv_nsec as u64 / 1_000_000)
                .max(1);
        }
    }
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis() as u64
        + 1
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    /// The coarse default clock tells the same second as the precise one (give or take the
    /// boundary between them).
    #[test]
    fn the_default_clock_is_the_system_time() {
        let precise = || {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
        };
        let before = precise();
        let now = super::system_now();
        let after = precise();
        assert!(
            before.saturating_sub(1) <= now && now <= after,
            "{before} {now} {after}"
        );
    }

    #[test]
    fn seconds_and_times_round_trip() {
        for s in [0, 1, 1_900_000_000, u64::from(u32::MAX)] {
            assert_eq!(super::seconds(super::time(s)), s);
        }
    }
}
