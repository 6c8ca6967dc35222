//! Injected time and randomness: the real clock and nonces, and fixed ones for tests.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use rand::Rng;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// China Standard Time, the zone every date on a license and every handling number uses.
pub fn china_tz() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

/// The start of a China day (a fixed offset has exactly one midnight a day).
pub fn china_midnight(day: chrono::NaiveDate) -> DateTime<FixedOffset> {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    china_tz().from_local_datetime(&midnight).single().expect("a fixed offset has one midnight")
}

/// The source of "now" for everything that depends on time (signatures, expiry, status, handling numbers).
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;

    fn now_china(&self) -> DateTime<FixedOffset> {
        self.now().with_timezone(&china_tz())
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stays where it is put; tests move it explicitly.
#[derive(Debug)]
pub struct FixedClock {
    unix_ms: AtomicI64,
}

impl FixedClock {
    pub fn at(time: DateTime<Utc>) -> Self {
        FixedClock { unix_ms: AtomicI64::new(time.timestamp_millis()) }
    }

    /// A fixed clock at a China-time wall clock reading, e.g. `FixedClock::china(2026, 11, 28, 10, 0, 0)`.
    pub fn china(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Self {
        let local = china_tz().with_ymd_and_hms(y, mo, d, h, mi, s).single().expect("valid China time");
        FixedClock::at(local.with_timezone(&Utc))
    }

    pub fn advance_secs(&self, secs: i64) {
        self.unix_ms.fetch_add(secs * 1000, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.unix_ms.load(Ordering::SeqCst)).single().expect("valid timestamp")
    }
}

/// The source of fresh random strings: TIF nonces and request ids.
pub trait NonceSource: Send + Sync + 'static {
    /// A fresh string of `len` characters from `A-Za-z0-9`.
    fn nonce(&self, len: usize) -> String;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct RandomNonces;

impl NonceSource for RandomNonces {
    fn nonce(&self, len: usize) -> String {
        rand::rng().sample_iter(rand::distr::Alphanumeric).take(len).map(char::from).collect()
    }
}

/// Predictable nonces for tests: a prefix and a counter, padded to the asked length.
#[derive(Debug)]
pub struct SequenceNonces {
    prefix: String,
    next: AtomicU64,
    issued: Mutex<Vec<String>>,
}

impl SequenceNonces {
    pub fn new(prefix: &str) -> Self {
        SequenceNonces { prefix: prefix.to_owned(), next: AtomicU64::new(1), issued: Mutex::new(Vec::new()) }
    }

    /// Every nonce handed out so far, in order.
    pub fn issued(&self) -> Vec<String> {
        self.issued.lock().expect("nonce log lock").clone()
    }
}

impl NonceSource for SequenceNonces {
    fn nonce(&self, len: usize) -> String {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let mut s = format!("{}{:0width$}", self.prefix, n, width = len.saturating_sub(self.prefix.len()));
        s.truncate(len.max(self.prefix.len() + 1));
        self.issued.lock().expect("nonce log lock").push(s.clone());
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_reads_china_time() {
        let clock = FixedClock::china(2026, 11, 28, 10, 0, 0);
        assert_eq!(clock.now().to_rfc3339(), "2026-11-28T02:00:00+00:00");
        assert_eq!(clock.now_china().to_rfc3339(), "2026-11-28T10:00:00+08:00");
        clock.advance_secs(61);
        assert_eq!(clock.now_china().to_rfc3339(), "2026-11-28T10:01:01+08:00");
    }

    #[test]
    fn random_nonces_are_fresh_and_alphanumeric() {
        let a = RandomNonces.nonce(24);
        let b = RandomNonces.nonce(24);
        assert_eq!(a.len(), 24);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn sequence_nonces_have_the_asked_length() {
        let n = SequenceNonces::new("n");
        assert_eq!(n.nonce(16), "n000000000000001");
        assert_eq!(n.nonce(16), "n000000000000002");
        assert_eq!(n.issued().len(), 2);
    }
}
