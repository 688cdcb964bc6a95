//! The one clock. Nothing in fazhi reads the system time except [`SystemClock`]; clippy's
//! `disallowed-methods` enforces it, so tests can move time with [`ManualClock`].

use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch, UTC. All stored times use this unit.
pub type Millis = i64;

pub const MINUTE_MS: Millis = 60_000;

/// Source of "now".
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now_ms(&self) -> Millis;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the single sanctioned read of the system clock
    fn now_ms(&self) -> Millis {
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
    }
}

/// A clock that only moves when told to; for tests.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start: Millis) -> Self {
        Self(AtomicI64::new(start))
    }

    pub fn advance(&self, by: Millis) {
        self.0.fetch_add(by, Ordering::SeqCst);
    }

    pub fn set(&self, to: Millis) {
        self.0.store(to, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> Millis {
        self.0.load(Ordering::SeqCst)
    }
}

/// The date in Beijing (UTC+8) at a unix-millisecond instant: the "today" of every
/// statutory clock (China has one time zone and no daylight saving).
pub fn beijing_date(ms: Millis) -> chrono::NaiveDate {
    let secs = ms.div_euclid(1000) + 8 * 3600;
    chrono::DateTime::from_timestamp(secs, 0).map(|d| d.date_naive()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn beijing_midnight() {
        // 2026-11-27 16:00 UTC is 2026-11-28 00:00 in Beijing.
        let ms = 1_795_795_200_000;
        assert_eq!(super::beijing_date(ms).to_string(), "2026-11-28");
        assert_eq!(super::beijing_date(ms - 1).to_string(), "2026-11-27");
    }
}
