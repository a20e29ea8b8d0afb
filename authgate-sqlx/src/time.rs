//! Times as the tables keep them: whole seconds since the Unix epoch in a signed 64-bit
//! column (SQLite's `INTEGER`, PostgreSQL's `BIGINT`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `time` as seconds since the epoch: 0 before it, `i64::MAX` past what the column holds.
pub(crate) fn seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// Seconds since the epoch as a time: the epoch for a negative number, and the latest time
/// the platform's `SystemTime` holds (far past any login's end) for one it cannot.
pub(crate) fn time(seconds: i64) -> SystemTime {
    let seconds = u64::try_from(seconds).unwrap_or(0);
    UNIX_EPOCH
        .checked_add(Duration::from_secs(seconds))
        .unwrap_or_else(latest)
}

/// The latest whole-second time `SystemTime` holds here, found by halving from `i64::MAX`.
fn latest() -> SystemTime {
    let mut seconds = i64::MAX as u64;
    loop {
        if let Some(time) = UNIX_EPOCH.checked_add(Duration::from_secs(seconds)) {
            return time;
        }
        seconds /= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_through_seconds_and_saturate() {
        for s in [0, 1, 1_900_000_000, i64::from(u32::MAX) + 5] {
            assert_eq!(seconds(time(s)), s);
        }
        let before = UNIX_EPOCH - Duration::from_secs(10);
        assert_eq!(seconds(before), 0);
        assert_eq!(time(-5), UNIX_EPOCH);
        // Sub-second parts are dropped, not rounded.
        assert_eq!(seconds(UNIX_EPOCH + Duration::from_millis(2_999)), 2);
        assert!(time(i64::MAX) > time(i64::from(u32::MAX)));
    }
}
