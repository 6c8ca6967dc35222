//! 办件流水号 (biz_num): the handling number, unique per counter and day.

use chrono::NaiveDate;
use std::fmt;

/// A handling number: `YS{hall}{counter}{yyyymmdd}{seq:04}` with separators, e.g. `YS-4401A-A03-20261128-0007`.
///
/// The sequence is kept in the cache (SQLite), so numbers are never reused after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BizNum(String);

impl BizNum {
    pub fn compose(hall_code: &str, counter: &str, day: NaiveDate, seq: u32) -> Self {
        BizNum(format!("YS-{}-{}-{}-{:04}", sanitize(hall_code), sanitize(counter), day.format("%Y%m%d"), seq))
    }

    /// Wraps a number that was composed earlier (read back from the cache or typed by IT).
    pub fn from_existing(value: impl Into<String>) -> Self {
        BizNum(value.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BizNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Keeps handling numbers to characters every downstream system accepts.
fn sanitize(part: &str) -> String {
    let cleaned: String = part.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    if cleaned.is_empty() { "X".to_owned() } else { cleaned }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composes_a_readable_number() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        assert_eq!(BizNum::compose("4401-ZW", "A03", day, 7).as_str(), "YS-4401ZW-A03-20261128-0007");
        assert_eq!(BizNum::compose("", "窗口", day, 12345).as_str(), "YS-X-X-20261128-12345");
    }
}
