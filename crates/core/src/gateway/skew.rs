//! Clock skew between this PC and the gateway, estimated from the gateway's `Date` header.

use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicI64, Ordering};

/// No estimate yet.
const UNKNOWN: i64 = i64::MIN;

/// The last observed offset of the gateway's clock from ours, in seconds (positive: the gateway is ahead).
///
/// A wrong PC clock breaks every signed call and the gateway's rejection does not say why,
/// so the client keeps this estimate to tell "clock wrong" from "credentials wrong".
#[derive(Debug)]
pub(crate) struct SkewEstimate(AtomicI64);

impl SkewEstimate {
    pub(crate) fn new() -> Self {
        SkewEstimate(AtomicI64::new(UNKNOWN))
    }

    /// Records the skew seen in one response. `Date` has one-second resolution, so the
    /// estimate is good to about a second, plenty against a 180-second window.
    pub(crate) fn observe(&self, date_header: Option<&str>, local_now: DateTime<Utc>) -> Option<i64> {
        let server = DateTime::parse_from_rfc2822(date_header?.trim()).ok()?;
        let skew = server.timestamp() - local_now.timestamp();
        self.0.store(skew, Ordering::Relaxed);
        Some(skew)
    }

    pub(crate) fn get(&self) -> Option<i64> {
        match self.0.load(Ordering::Relaxed) {
            UNKNOWN => None,
            s => Some(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_http_date_header() {
        let skew = SkewEstimate::new();
        assert_eq!(skew.get(), None);
        let local = DateTime::parse_from_rfc3339("2026-11-28T02:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(skew.observe(Some("Sat, 28 Nov 2026 02:05:00 GMT"), local), Some(300));
        assert_eq!(skew.get(), Some(300));
        assert_eq!(skew.observe(Some("Sat, 28 Nov 2026 01:59:30 GMT"), local), Some(-30));
        assert_eq!(skew.observe(Some("not a date"), local), None);
        assert_eq!(skew.observe(None, local), None);
        assert_eq!(skew.get(), Some(-30), "a bad header keeps the last estimate");
    }
}
