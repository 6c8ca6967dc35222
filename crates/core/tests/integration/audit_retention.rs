//! Retention of the audit trail (issue 8 §2): after 200 days of events with daily checkpoints, a
//! purge removes only whole checkpointed days older than the retention, the rest still verifies
//! from the checkpoint that anchors it, and no removal without such an anchor goes unnoticed.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use yueshang_core::ErrorCode;
use yueshang_core::audit::checkpoint::{checkpoint_previous_day, tampered_seq};
use yueshang_core::audit::export::{ExportRequest, Formats, export};
use yueshang_core::audit::key::CounterKey;
use yueshang_core::audit::retention::purge_expired;
use yueshang_core::audit::verify::verify_export;
use yueshang_core::audit::{AuditContext, AuditEvent, AuditKind, Outcome};
use yueshang_core::cache::Cache;
use yueshang_core::clock::{Clock, FixedClock, china_tz};
use yueshang_core::config::Config;

const PER_DAY: i64 = 4;
const DAYS: i64 = 200;
const HALL: &str = "4401061";
const COUNTER: &str = "B07";

fn ctx() -> AuditContext {
    AuditContext { operator_account: "clerk01".into(), hall_code: HALL.into(), counter: COUNTER.into() }
}

/// Midnight China time of day `n` of the test (day 0 is 2026-01-01).
fn day(n: i64) -> DateTime<FixedOffset> {
    china_tz().with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::days(n)
}

fn date(n: i64) -> NaiveDate {
    day(n).date_naive()
}

struct Counter {
    _dir: tempfile::TempDir,
    path: PathBuf,
    cache: Cache,
    key: CounterKey,
}

/// 200 days of events on an on-disk counter database, `PER_DAY` a day from 09:00, written at the
/// fixed clock's time. With `daily_checkpoints`, the counter is started every morning and signs
/// the previous day, as the app does.
fn two_hundred_days(daily_checkpoints: bool) -> Counter {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    let cache = Cache::open(&path, &crate::keys_beside(&path)).unwrap();
    let key = CounterKey::load_or_create(&cache).unwrap();
    let clock = FixedClock::at(day(0).to_utc());
    for d in 0..DAYS {
        clock.advance_secs(9 * 3600);
        if daily_checkpoints {
            checkpoint_previous_day(&cache, &key, HALL, COUNTER, clock.now_china()).unwrap();
        }
        for i in 0..PER_DAY {
            let mut event = AuditEvent::new(AuditKind::Scan, Outcome::Ok);
            event.detail = Some(format!("day {d} event {i}"));
            cache.append_audit(&ctx(), &event, clock.now_china()).unwrap();
            clock.advance_secs(600);
        }
        clock.advance_secs(15 * 3600 - PER_DAY * 600);
    }
    assert_eq!(clock.now_china(), day(DAYS));
    Counter { _dir: dir, path, cache, key }
}

fn raw(path: &Path) -> Connection {
    Connection::open(path).unwrap()
}

fn held(path: &Path) -> (i64, i64, i64) {
    raw(path)
        .query_row("SELECT MIN(seq), MAX(seq), COUNT(*) FROM audit_events", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap()
}

fn oldest_date(cache: &Cache) -> NaiveDate {
    cache.audit_events().unwrap()[0].at.with_timezone(&china_tz()).date_naive()
}

fn assert_tampered_at(cache: &Cache, seq: i64) {
    let err = cache.verify_chain().unwrap_err();
    assert_eq!(err.code, ErrorCode::AuditTampered, "{err:?}");
    assert_eq!(tampered_seq(&err), Some(seq), "{err:?}");
}

/// The last `seq` of day `n` (days before it all have `PER_DAY` events).
fn last_of_day(n: i64) -> i64 {
    (n + 1) * PER_DAY
}

#[test]
fn a_purge_on_day_200_removes_only_the_checkpointed_days_older_than_180_and_the_rest_verifies() {
    let c = two_hundred_days(true);
    let before = c.cache.verify_chain().unwrap();
    assert_eq!((before.first_seq, before.count, before.checkpoints), (Some(1), DAYS * PER_DAY, DAYS - 1));

    let now = day(DAYS) + Duration::hours(8);
    let purged = purge_expired(&c.cache, &c.key, HALL, COUNTER, 180, now).unwrap();
    // Day 200 keeps days 20..=200: days 0..=19 go, whole, each under its daily checkpoint.
    assert_eq!(purged.kept_from, date(20));
    assert_eq!(purged.removed, 20 * PER_DAY as u64);
    assert_eq!(purged.first_seq, Some(last_of_day(19) + 1));
    assert_eq!(purged.signed, None, "the daily checkpoint of day 19 anchors the rest");
    assert_eq!(held(&c.path), (last_of_day(19) + 1, DAYS * PER_DAY, (DAYS - 20) * PER_DAY));
    assert_eq!(oldest_date(&c.cache), date(20), "nothing younger than 180 days was removed");

    let status = c.cache.verify_chain().unwrap();
    assert_eq!(status.first_seq, Some(last_of_day(19) + 1));
    assert_eq!(status.count, (DAYS - 20) * PER_DAY);
    assert_eq!(status.head, before.head);
    assert_eq!(status.checkpoints, before.checkpoints, "the checkpoints stay: they are the anchor");

    // The same day again removes nothing; the next day removes day 20 only.
    let again = purge_expired(&c.cache, &c.key, HALL, COUNTER, 180, now + Duration::hours(2)).unwrap();
    assert_eq!((again.removed, again.first_seq), (0, Some(last_of_day(19) + 1)));
    let next = purge_expired(&c.cache, &c.key, HALL, COUNTER, 180, now + Duration::days(1)).unwrap();
    assert_eq!((next.removed, next.first_seq, next.signed), (PER_DAY as u64, Some(last_of_day(20) + 1), None));
    assert_eq!(oldest_date(&c.cache), date(21));

    // The chain goes on after a purge.
    c.cache.append_audit(&ctx(), &AuditEvent::new(AuditKind::Scan, Outcome::Ok), now + Duration::days(1)).unwrap();
    let status = c.cache.verify_chain().unwrap();
    assert_eq!((status.first_seq, status.count), (Some(last_of_day(20) + 1), (DAYS - 21) * PER_DAY + 1));
}

#[test]
fn a_retention_of_365_days_removes_nothing_younger() {
    let c = two_hundred_days(true);
    let purged = purge_expired(&c.cache, &c.key, HALL, COUNTER, 365, day(DAYS) + Duration::hours(8)).unwrap();
    assert_eq!((purged.removed, purged.first_seq, purged.signed), (0, Some(1), None));
    assert_eq!(purged.kept_from, day(DAYS).date_naive() - chrono::Days::new(365));
    assert_eq!(held(&c.path), (1, DAYS * PER_DAY, DAYS * PER_DAY));
    // 366 days after day 0 only day 0 has expired.
    let later = day(366) + Duration::hours(8);
    let purged = purge_expired(&c.cache, &c.key, HALL, COUNTER, 365, later).unwrap();
    assert_eq!((purged.removed, purged.first_seq), (PER_DAY as u64, Some(PER_DAY + 1)));
    assert_eq!(c.cache.verify_chain().unwrap().first_seq, Some(PER_DAY + 1));
}

#[test]
fn without_daily_checkpoints_the_purge_signs_the_expired_range_first() {
    let c = two_hundred_days(false);
    assert_eq!(c.cache.verify_chain().unwrap().checkpoints, 0);
    let now = day(DAYS) + Duration::hours(8);
    let purged = purge_expired(&c.cache, &c.key, HALL, COUNTER, 180, now).unwrap();
    let signed = purged.signed.expect("a checkpoint over the expired events");
    assert_eq!((signed.checkpoint.first_seq, signed.checkpoint.last_seq), (1, last_of_day(19)));
    assert_eq!(signed.checkpoint.prev_hash, yueshang_core::audit::chain::GENESIS);
    assert_eq!((purged.removed, purged.first_seq), (20 * PER_DAY as u64, Some(last_of_day(19) + 1)));
    let status = c.cache.verify_chain().unwrap();
    assert_eq!((status.first_seq, status.checkpoints), (Some(last_of_day(19) + 1), 1));
    // The first event held links to the signed head.
    let first = &c.cache.audit_events().unwrap()[0];
    assert_eq!(first.seq, last_of_day(19) + 1);
    let mut prev = String::new();
    c.cache
        .chained_events(first.seq, first.seq, &mut |e| {
            prev = e.prev_hash;
            Ok(())
        })
        .unwrap();
    assert_eq!(prev, signed.checkpoint.head);
}

#[test]
fn a_tampered_expired_event_is_not_purged_away() {
    let c = two_hundred_days(false);
    raw(&c.path)
        .execute_batch(
            "DROP TRIGGER audit_events_no_update;
             UPDATE audit_events SET detail = 'nothing happened' WHERE seq = 7;",
        )
        .unwrap();
    let err = purge_expired(&c.cache, &c.key, HALL, COUNTER, 180, day(DAYS) + Duration::hours(8)).unwrap_err();
    assert_eq!((err.code, tampered_seq(&err)), (ErrorCode::AuditTampered, Some(7)));
    assert_eq!(held(&c.path), (1, DAYS * PER_DAY, DAYS * PER_DAY), "the evidence stays");
    assert_eq!(c.cache.verify_chain().unwrap_err().code, ErrorCode::AuditTampered);
}

#[test]
fn the_trigger_refuses_to_delete_an_event_no_checkpoint_covers() {
    let c = two_hundred_days(true);
    // Day 199's events are not signed yet (that happens on day 200's first start).
    let uncovered = DAYS * PER_DAY;
    let err = raw(&c.path).execute("DELETE FROM audit_events WHERE seq = ?1", [uncovered]).unwrap_err();
    assert!(err.to_string().contains("signed checkpoint"), "{err}");
    // A statement that reaches one uncovered event is refused whole.
    assert!(raw(&c.path).execute("DELETE FROM audit_events WHERE seq >= ?1", [uncovered - 10]).is_err());
    assert_eq!(held(&c.path).2, DAYS * PER_DAY, "the refused statement removed nothing");
    // A covered event can be deleted by hand, but a hole is still a hole.
    raw(&c.path).execute("DELETE FROM audit_events WHERE seq = 10", []).unwrap();
    assert_tampered_at(&c.cache, 10);
}

#[test]
fn removing_the_first_events_without_a_checkpoint_is_named_by_its_seq() {
    let c = two_hundred_days(false);
    raw(&c.path)
        .execute_batch("DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq <= 80;")
        .unwrap();
    assert_tampered_at(&c.cache, 1);

    // After a real purge, the events after the anchor removed by hand are named from the anchor on.
    let c = two_hundred_days(true);
    purge_expired(&c.cache, &c.key, HALL, COUNTER, 180, day(DAYS) + Duration::hours(8)).unwrap();
    let first = last_of_day(19) + 1;
    raw(&c.path)
        .execute_batch(&format!(
            "DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq < {};",
            first + 3
        ))
        .unwrap();
    assert_tampered_at(&c.cache, first);
}

#[test]
fn an_anchor_that_is_not_what_the_key_signed_does_not_anchor() {
    let c = two_hundred_days(true);
    purge_expired(&c.cache, &c.key, HALL, COUNTER, 180, day(DAYS) + Duration::hours(8)).unwrap();
    let anchor = last_of_day(19);
    raw(&c.path)
        .execute_batch(&format!(
            "DROP TRIGGER audit_checkpoints_no_update;
             UPDATE audit_checkpoints SET signature = X'3006020101020101' WHERE last_seq = {anchor};"
        ))
        .unwrap();
    let err = c.cache.verify_chain().unwrap_err();
    assert_eq!(err.code, ErrorCode::AuditTampered);
    assert!(tampered_seq(&err).is_some_and(|seq| seq <= anchor + 1), "{err:?}");
}

#[test]
fn a_range_partly_removed_exports_what_remains_and_verifies() {
    let c = two_hundred_days(true);
    purge_expired(&c.cache, &c.key, HALL, COUNTER, 180, day(DAYS) + Duration::hours(8)).unwrap();
    // Days 10..=29, of which 10..=19 were removed.
    let range = c.cache.seq_range_between(day(10), day(30)).unwrap().expect("days 20..=29 remain");
    assert_eq!(range, (last_of_day(19) + 1, last_of_day(29)));
    let out = c.path.with_file_name("out");
    let request = ExportRequest {
        by: &ctx(),
        range,
        formats: Formats { csv: true, xlsx: true },
        out_dir: &out,
        stem: "days",
        now: day(DAYS) + Duration::hours(9),
    };
    let report = export(&c.cache, &c.key, &request).unwrap();
    assert_eq!(report.events, 10 * PER_DAY as u64);
    for file in ["days.csv", "days.xlsx"] {
        let verified = verify_export(&out.join(file)).unwrap();
        assert_eq!((verified.first_seq, verified.last_seq), range, "{file}");
    }
    assert!(c.cache.verify_chain().is_ok());
}

#[test]
fn a_retention_below_180_days_is_refused_by_the_configuration() {
    let err = Config::parse("[audit]\nretention_days = 90\n").unwrap_err();
    assert_eq!(err.code, ErrorCode::ConfigInvalid);
    assert!(err.message.contains("audit.retention_days") && err.message.contains("180"), "{}", err.message);
    assert_eq!(Config::parse("[audit]\nretention_days = 400\n").unwrap().audit.retention_days, 400);
    assert_eq!(Config::parse("").unwrap().audit.retention_days, 180);
}
