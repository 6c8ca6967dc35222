//! Retention of the audit trail: events are kept at least 180 days (Cybersecurity Law art. 21:
//! network logs no less than six months), then removed whole checkpoints at a time, so that what
//! remains still verifies from the signed checkpoint that anchors it.

use crate::audit::checkpoint::{self, SignedCheckpoint};
use crate::audit::key::CounterKey;
use crate::cache::Cache;
use crate::clock::{china_midnight, china_tz};
use crate::config::MIN_AUDIT_RETENTION_DAYS;
use crate::error::{Error, ErrorCode, Result};
use chrono::{DateTime, Days, FixedOffset, NaiveDate};
use rusqlite::{Connection, OptionalExtension, params};

/// What one purge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purged {
    /// How many events were removed.
    pub removed: u64,
    /// The `seq` of the first event held afterwards (`None`: the database holds none).
    pub first_seq: Option<i64>,
    /// The first China day kept: events of earlier days were expired.
    pub kept_from: NaiveDate,
    /// The checkpoint signed over the expired events because none ended where they end (a day
    /// the counter was not started after, so the daily checkpoint never came); `None` when a
    /// stored one already anchored them, or nothing expired.
    pub signed: Option<SignedCheckpoint>,
}

/// Removes the events whose China date is more than `retention_days` days before `now`'s: those
/// up to the last event before the first one still kept, and never the chain's last event (the
/// next event links to it). Runs in one IMMEDIATE transaction: the expired range and the link to
/// the event after it are verified, a checkpoint ending exactly there is found among the stored
/// ones (signature checked) or signed with `key` as `checkpoint_previous_day` does, then the
/// events go and the checkpoint stays as the anchor `verify_chain` starts from.
///
/// A chain that does not verify where events would be removed is `AuditTampered` and nothing is
/// removed: the evidence stays. `retention_days` below 180 is `ConfigInvalid`.
pub fn purge_expired(
    cache: &Cache,
    key: &CounterKey,
    hall: &str,
    counter: &str,
    retention_days: u32,
    now: DateTime<FixedOffset>,
) -> Result<Purged> {
    if retention_days < MIN_AUDIT_RETENTION_DAYS {
        return Err(Error::config(
            "audit.retention_days",
            format!(
                "不能少于 {MIN_AUDIT_RETENTION_DAYS} 天（《网络安全法》第二十一条），请改为 {MIN_AUDIT_RETENTION_DAYS} 或更大的天数"
            ),
        ));
    }
    let today = now.with_timezone(&china_tz()).date_naive();
    let kept_from = today.checked_sub_days(Days::new(u64::from(retention_days))).unwrap_or(NaiveDate::MIN);
    let cutoff = china_midnight(kept_from);
    cache.transaction(|tx| {
        let nothing = |first_seq| Purged { removed: 0, first_seq, kept_from, signed: None };
        let Some((first_seq, last_seq)) = held_range(tx)? else { return Ok(nothing(None)) };
        let Some(last_expired) = last_expired(tx, first_seq, cutoff)?.map(|seq| seq.min(last_seq - 1)) else {
            return Ok(nothing(Some(first_seq)));
        };
        if last_expired < first_seq {
            return Ok(nothing(Some(first_seq)));
        }
        let (prev_hash, head) = checkpoint::verified_range(tx, first_seq, last_expired)?;
        check_anchored_start(tx, first_seq, &prev_hash)?;
        check_next_links(tx, last_expired + 1, &head)?;
        let signed = match checkpoint::verified_checkpoint_ending_at(tx, last_expired)? {
            Some(stored) if stored.head == head => None,
            // A stored checkpoint that states another head than the rows have: something was
            // changed, and removing the rows would remove the evidence.
            Some(_) => return Err(tampered(last_expired, "与已签名检查点的终点不符")),
            None => {
                Some(checkpoint::store(tx, key, (hall, counter), (first_seq, last_expired), (prev_hash, head), now)?)
            }
        };
        let removed =
            tx.execute("DELETE FROM audit_events WHERE seq >= ?1 AND seq <= ?2", params![first_seq, last_expired])?;
        Ok(Purged { removed: removed as u64, first_seq: Some(last_expired + 1), kept_from, signed })
    })
}

/// The lowest and highest `seq` held.
fn held_range(conn: &Connection) -> Result<Option<(i64, i64)>> {
    let range: (Option<i64>, Option<i64>) =
        conn.query_row("SELECT MIN(seq), MAX(seq) FROM audit_events", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(match range {
        (Some(first), Some(last)) => Some((first, last)),
        _ => None,
    })
}

/// The last `seq` before the first event that is kept (its `at` at or after `cutoff`, compared as a
/// time; an `at` that is not a time is kept, to be reported rather than removed), walking from the
/// oldest held. `None` when even the oldest is kept. A clock set back later cannot expire a young
/// event: the walk stops at the first kept one.
fn last_expired(conn: &Connection, first_seq: i64, cutoff: DateTime<FixedOffset>) -> Result<Option<i64>> {
    let mut stmt = conn.prepare("SELECT seq, at FROM audit_events WHERE seq >= ?1 ORDER BY seq")?;
    let mut rows = stmt.query(params![first_seq])?;
    let mut last = None;
    while let Some(row) = rows.next()? {
        let (seq, at): (i64, String) = (row.get(0)?, row.get(1)?);
        match DateTime::parse_from_rfc3339(&at) {
            Ok(at) if at < cutoff => last = Some(seq),
            _ => break,
        }
    }
    Ok(last)
}

/// The oldest event held links to the start of the chain, or to a verified checkpoint ending
/// just before it (an earlier purge's anchor).
fn check_anchored_start(conn: &Connection, first_seq: i64, prev_hash: &str) -> Result<()> {
    if first_seq == 1 && prev_hash == crate::audit::chain::GENESIS {
        return Ok(());
    }
    match checkpoint::verified_checkpoint_ending_at(conn, first_seq - 1)? {
        Some(anchor) if first_seq > 1 && anchor.head == prev_hash => Ok(()),
        _ => Err(tampered(first_seq, "记录缺失，且没有已签名检查点覆盖被移除的记录")),
    }
}

/// The event after the removed ones links to the last of them, so the anchor's head is where the
/// remaining chain really starts.
fn check_next_links(conn: &Connection, seq: i64, head: &str) -> Result<()> {
    let prev: Option<String> =
        conn.query_row("SELECT prev_hash FROM audit_events WHERE seq = ?1", params![seq], |r| r.get(0)).optional()?;
    match prev {
        Some(prev) if prev == head => Ok(()),
        Some(_) => Err(tampered(seq, "与前一条记录的哈希不衔接")),
        None => Err(tampered(seq, "记录缺失")),
    }
}

fn tampered(seq: i64, reason: &str) -> Error {
    Error::with_fact(ErrorCode::AuditTampered, format!("第 {seq} 条审计记录校验未通过（{reason}），未清理过期记录。"))
        .detail(format!("seq={seq}: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditContext, AuditEvent, AuditKind, Outcome};
    use chrono::TimeZone;

    fn china(y: i32, m: u32, d: u32, h: u32) -> DateTime<FixedOffset> {
        china_tz().with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn ctx() -> AuditContext {
        AuditContext { operator_account: "clerk01".into(), hall_code: "4401061".into(), counter: "B07".into() }
    }

    /// A counter key of a database of its own: any key signs, the test is about retention.
    fn key() -> (Cache, CounterKey) {
        let keys = Cache::open_in_memory().unwrap();
        let key = CounterKey::load_or_create(&keys).unwrap();
        (keys, key)
    }

    #[test]
    fn less_than_180_days_is_refused_before_anything_is_read() {
        let cache = Cache::open_in_memory().unwrap();
        let (_dir, key) = key();
        let err = purge_expired(&cache, &key, "4401061", "B07", 179, china(2027, 6, 1, 9)).unwrap_err();
        assert_eq!(err.code, ErrorCode::ConfigInvalid);
        assert!(err.message.contains("180"), "{}", err.message);
    }

    #[test]
    fn an_empty_trail_has_nothing_to_remove() {
        let cache = Cache::open_in_memory().unwrap();
        let (_dir, key) = key();
        let purged = purge_expired(&cache, &key, "4401061", "B07", 180, china(2027, 6, 1, 9)).unwrap();
        assert_eq!(
            purged,
            Purged {
                removed: 0,
                first_seq: None,
                kept_from: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
                signed: None
            }
        );
    }

    #[test]
    fn the_last_event_stays_even_when_expired_so_the_chain_goes_on() {
        let cache = Cache::open_in_memory().unwrap();
        let (_dir, key) = key();
        for day in 1..=3 {
            cache
                .append_audit(&ctx(), &AuditEvent::new(AuditKind::Scan, Outcome::Ok), china(2026, 1, day, 10))
                .unwrap();
        }
        let purged = purge_expired(&cache, &key, "4401061", "B07", 180, china(2027, 1, 1, 9)).unwrap();
        assert_eq!((purged.removed, purged.first_seq), (2, Some(3)));
        let signed = purged.signed.expect("no daily checkpoint: one is signed over the expired events");
        assert_eq!((signed.checkpoint.first_seq, signed.checkpoint.last_seq), (1, 2));
        let next = cache.append_audit(&ctx(), &AuditEvent::new(AuditKind::Scan, Outcome::Ok), china(2027, 1, 1, 10));
        assert!(next.is_ok());
        let status = cache.verify_chain().unwrap();
        assert_eq!((status.first_seq, status.count), (Some(3), 2));
    }
}
