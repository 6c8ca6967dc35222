//! A crash while audit events are written (issue 8 §5): a child process appends events as fast as
//! it can and is killed (SIGKILL on Unix) three times at different moments; every time the
//! database reopens to a chain that verifies, numbered 1..N without a gap, each event whole or
//! absent, and the next child goes on from its head.

use chrono::{Duration, TimeZone};
use rusqlite::Connection;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;
use yueshang_core::audit::{AuditContext, AuditEvent, AuditKind, Outcome};
use yueshang_core::cache::Cache;
use yueshang_core::clock::china_tz;

/// Set to the database path, it makes [`audit_crash_child`] the writer; unset, that test is a no-op.
const CHILD_ENV: &str = "AUDIT_CRASH_CHILD";

/// Not a test of its own: the writer the crash test runs in a child process (this same test
/// binary, run with `--exact`). It appends until it is killed and never returns.
#[test]
fn audit_crash_child() {
    let Some(path) = std::env::var_os(CHILD_ENV) else { return };
    let cache = Cache::open(Path::new(&path), &crate::keys_beside(&path)).expect("the child opens the database");
    let ctx = AuditContext { operator_account: "clerk01".into(), hall_code: "4401061".into(), counter: "B07".into() };
    let start = china_tz().with_ymd_and_hms(2026, 11, 28, 9, 0, 0).unwrap();
    for i in 0i64.. {
        let mut event = AuditEvent::new(AuditKind::LicenseFetch, Outcome::Ok);
        event.biz_num = Some(format!("4401061B0720261128{:04}", i % 10_000));
        // Long enough that a write spans pages, so a kill can land in the middle of one.
        event.detail = Some(format!("child {} event {i}: {}", std::process::id(), "证照".repeat(200)));
        cache.append_audit(&ctx, &event, start + Duration::milliseconds(i)).expect("append");
    }
}

/// The child, killed if the test fails before it does.
struct Writer(Child);

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_writer(db: &Path) -> Writer {
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "audit_crash::audit_crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, db)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Writer(child)
}

/// The highest `seq` the database holds now (0 before the child made the table).
fn last_seq(reader: &Connection) -> i64 {
    reader.query_row("SELECT COALESCE(MAX(seq), 0) FROM audit_events", [], |r| r.get(0)).unwrap_or(0)
}

#[test]
fn a_kill_while_events_are_written_leaves_a_chain_that_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.sqlite3");
    let began = Instant::now();
    let mut held = 0i64;
    // The kill lands a different number of events into each run, and a few ms apart in time.
    for (round, (more, pause_ms)) in [(800i64, 0u64), (1500, 7), (1100, 13)].into_iter().enumerate() {
        let mut writer = spawn_writer(&db);
        let reader = Connection::open(&db).unwrap();
        reader.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
        while last_seq(&reader) < held + more {
            assert!(began.elapsed().as_secs() < 60, "round {round}: the child wrote only up to {}", last_seq(&reader));
            assert!(writer.0.try_wait().unwrap().is_none(), "round {round}: the child stopped by itself");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(pause_ms));
        writer.0.kill().unwrap();
        writer.0.wait().unwrap();
        drop(reader);

        let cache = Cache::open(&db, &crate::keys_beside(&db)).unwrap();
        let status = cache.verify_chain().unwrap_or_else(|e| panic!("round {round}: {e:?}"));
        let (min, max, count): (i64, i64, i64) = Connection::open(&db)
            .unwrap()
            .query_row("SELECT MIN(seq), MAX(seq), COUNT(*) FROM audit_events", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!((min, count), (1, max), "round {round}: seq is 1..N without a gap");
        assert_eq!((status.first_seq, status.count), (Some(1), max), "round {round}");
        assert!(max >= held + more, "round {round}: the crash lost committed events");
        held = max;
    }
    assert!(held >= 3400);
}
