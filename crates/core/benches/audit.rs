//! Benchmark of the audit trail: generated events in an on-disk database, export to CSV, to XLSX,
//! verify those files and the chain in the database, and what the chain costs each write;
//! prints figures, asserts nothing.
//!
//! `cargo bench` passes `--bench`: then 100 000 events (issue 8's size); otherwise (a debug run
//! by `cargo test --all-targets`) 2 000, so the run stays short.

use chrono::{DateTime, Duration, FixedOffset, TimeZone};
use rusqlite::Connection;
use std::path::Path;
use std::time::Instant;
use yueshang_core::audit::day::{EventFilter, Labels, events as day_events, summarize};
use yueshang_core::audit::export::{ExportRequest, Formats, export};
use yueshang_core::audit::key::CounterKey;
use yueshang_core::audit::verify::verify_export;
use yueshang_core::audit::{AuditContext, AuditEvent, AuditKind, Outcome};
use yueshang_core::cache::Cache;
use yueshang_core::clock::china_tz;
use yueshang_core::keystore::{KeyStore, Preference};

/// Peak resident memory so far (VmHWM, kB), where /proc tells it.
fn peak_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The CPU time this process has used (user + system, ms), where /proc tells it: the build
/// machine is shared, and CPU time shows the work done whatever else competes for the cores.
fn cpu_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let mut fields = stat.rsplit_once(") ")?.1.split_whitespace();
    // After the command come state (field 3) … utime (14) and stime (15), in 1/100 s (USER_HZ).
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) * 10)
}

/// Wall time since it started, with the CPU time beside it when known: "483 ms (cpu 470 ms)".
struct Took(Instant, Option<u64>);

impl Took {
    fn start() -> Self {
        Took(Instant::now(), cpu_ms())
    }
}

impl std::fmt::Display for Took {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ms", self.0.elapsed().as_millis())?;
        match (self.1, cpu_ms()) {
            (Some(from), Some(to)) => write!(f, " (cpu {} ms)", to.saturating_sub(from)),
            _ => Ok(()),
        }
    }
}

fn main() {
    let events: u32 = if std::env::args().any(|a| a == "--bench") { 100_000 } else { 2_000 };
    let dir = tempfile::tempdir().expect("temp dir");
    let keys = KeyStore::with_preference(dir.path().join("config"), Preference::File);
    let cache = Cache::open(&dir.path().join("cache.sqlite3"), &keys).expect("cache");
    let ctx = AuditContext { operator_account: "clerk01".into(), hall_code: "4401061".into(), counter: "B07".into() };
    let start = china_tz().with_ymd_and_hms(2026, 11, 28, 8, 0, 0).unwrap();
    let began = Instant::now();
    for i in 0..events {
        let event = AuditEvent {
            service_item_code: Some("11440100007502736Q4440111001000".into()),
            biz_num: Some(format!("4401061B0720261128{:04}", i / 8)),
            uscc: Some("91440101MA5CXXXX1X".into()),
            detail: (i % 8 == 7).then(|| format!("3 licenses, 0 failed, {} ms", 200 + i % 500)),
            ..AuditEvent::new(if i % 8 == 7 { AuditKind::ScanDone } else { AuditKind::LicenseFetch }, Outcome::Ok)
        };
        let at = start + Duration::milliseconds(i64::from(i) * 400);
        cache.append_audit(&ctx, &event, at).expect("append");
    }
    println!("audit: {events} events generated in {} ms", began.elapsed().as_millis());
    let key = CounterKey::load_or_create(&cache).expect("key");
    let range = cache.seq_range_between(start, start + Duration::days(2)).expect("range").expect("events in range");
    let out = dir.path().join("out");

    // What every export pays before writing a byte: reading the chained rows out of SQLite.
    let began = Took::start();
    let mut streamed = 0u64;
    cache
        .chained_events(range.0, range.1, &mut |_| {
            streamed += 1;
            Ok(())
        })
        .expect("stream");
    println!("audit: reading the {streamed} chained rows alone: {began}");
    let began = Took::start();
    let mut hashed = 0u64;
    cache
        .chained_events(range.0, range.1, &mut |event| {
            hashed += u64::from(event.computed_hash() == event.hash);
            Ok(())
        })
        .expect("stream");
    println!("audit: reading them and recomputing every hash: {began} ({hashed} match)");
    let began = Took::start();
    cache.sign_checkpoint(&key, "4401061", "B07", range.0, range.1, start).expect("sign");
    println!("audit: signing a checkpoint over them: {began}");

    let before = peak_kb();
    for (name, formats) in [("csv", Formats { csv: true, xlsx: false }), ("xlsx", Formats { csv: false, xlsx: true })] {
        let request =
            ExportRequest { by: &ctx, range, formats, out_dir: &out, stem: name, now: start + Duration::days(1) };
        let began = Took::start();
        let report = export(&cache, &key, &request).expect("export");
        let took = began.to_string();
        let bytes = std::fs::metadata(&report.files[0]).map(|m| m.len()).unwrap_or(0);
        println!("audit: export {name}: {took}, {} events, {} kB", report.events, bytes / 1024);
    }
    if let (Some(before), Some(after)) = (before, peak_kb()) {
        println!("audit: peak memory before exports {} MB, after {} MB", before / 1024, after / 1024);
    }
    let began = Took::start();
    let verified = verify_export(&out.join("csv.csv")).expect("verify csv");
    println!("audit: verify csv: {began}, {} events", verified.events);
    let began = Took::start();
    let verified = verify_export(&out.join("xlsx.xlsx")).expect("verify xlsx");
    println!("audit: verify xlsx: {began}, {} events", verified.events);

    // verify-db: the whole chain in the database and its stored checkpoints (the two exports' and
    // the one signed above), what `yueshang audit verify-db` and the app's chain panel run.
    let began = Took::start();
    let status = cache.verify_chain().expect("verify-db");
    println!("audit: verify-db: {began}, {} events, {} checkpoints", status.count, status.checkpoints);

    // The supervisor's day: every event above falls on 2026-11-28 (400 ms apart from 08:00).
    let day = start.date_naive();
    let labels = Labels::default();
    let began = Took::start();
    let summary = summarize(&cache, day, &labels).expect("day summary");
    println!(
        "audit: day summary (target ≤ 200 ms): {began}, {} events, median scan {} ms",
        summary.events,
        summary.median_scan_ms.unwrap_or_default()
    );
    let began = Took::start();
    let page = day_events(&cache, day, &EventFilter::default(), 0, 100).expect("first page");
    println!("audit: event list, first page of 100 of {}: {began}", page.total);
    let began = Took::start();
    let last =
        day_events(&cache, day, &EventFilter::default(), page.total.saturating_sub(100), 100).expect("last page");
    println!("audit: event list, last page ({} rows): {began}", last.rows.len());
    let filter = EventFilter { kind: Some("scan_done".into()), ..EventFilter::default() };
    let began = Took::start();
    let filtered = day_events(&cache, day, &filter, 0, 100).expect("filtered page");
    println!("audit: event list filtered to scan_done ({} match): {began}", filtered.total);

    let writes = if events >= 100_000 { 10_000 } else { 500 };
    write_cost(&cache, &dir.path().join("cache.sqlite3"), &ctx, start + Duration::days(3), writes);
}

/// What the chain costs each write: `n` events through `Cache::append_audit` (head read, SM3 link,
/// INSERT with the unique `seq` index and the triggers, one IMMEDIATE transaction each) against the
/// same rows INSERTed into a table with the same columns but no chain, in the same database, one
/// IMMEDIATE transaction each, on a second connection set up as the cache sets up its own.
fn write_cost(cache: &Cache, db: &Path, ctx: &AuditContext, from: DateTime<FixedOffset>, n: u32) {
    let event = |i: u32| AuditEvent {
        service_item_code: Some("11440100007502736Q4440111001000".into()),
        biz_num: Some(format!("4401061B0720261201{:04}", i / 8)),
        uscc: Some("91440101MA5CXXXX1X".into()),
        detail: Some(format!("3 licenses, 0 failed, {} ms", 200 + i % 500)),
        ..AuditEvent::new(AuditKind::ScanDone, Outcome::Ok)
    };
    let at = |i: u32| from + Duration::milliseconds(i64::from(i) * 400);

    let mut plain = Connection::open(db).expect("second connection");
    plain.pragma_update(None, "synchronous", "NORMAL").expect("synchronous");
    plain.busy_timeout(std::time::Duration::from_secs(5)).expect("busy timeout");
    plain
        .execute_batch(
            "CREATE TABLE bench_plain_events (
                 id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, kind TEXT NOT NULL, outcome TEXT NOT NULL,
                 error_code TEXT, operator_account TEXT NOT NULL, hall_code TEXT NOT NULL, counter TEXT NOT NULL,
                 service_item_code TEXT, biz_num TEXT, uscc TEXT, auth_id TEXT, license_code TEXT, detail TEXT);
             CREATE INDEX bench_plain_events_at ON bench_plain_events(at);",
        )
        .expect("plain table");
    // Interleaved, one of each in turn, so that WAL checkpoints and whatever else runs on the
    // machine fall on both alike.
    let (mut plain_time, mut chained_time) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    for i in 0..n {
        let e = event(i);
        let began = Instant::now();
        let tx = plain.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).expect("begin");
        tx.execute(
            "INSERT INTO bench_plain_events (at, kind, outcome, error_code, operator_account, hall_code, counter,
             service_item_code, biz_num, uscc, auth_id, license_code, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            rusqlite::params![
                at(i).to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
                e.kind.as_str(),
                e.outcome.as_str(),
                e.error_code.map(|c| c.as_str()),
                ctx.operator_account,
                ctx.hall_code,
                ctx.counter,
                e.service_item_code,
                e.biz_num,
                e.uscc,
                e.auth_id,
                e.license_code,
                e.detail
            ],
        )
        .expect("plain insert");
        tx.commit().expect("commit");
        plain_time += began.elapsed();
        let began = Instant::now();
        cache.append_audit(ctx, &e, at(i)).expect("append");
        chained_time += began.elapsed();
    }
    let per_event = |total: std::time::Duration| total.as_secs_f64() * 1e6 / f64::from(n);
    let (plain_us, chained_us) = (per_event(plain_time), per_event(chained_time));
    println!(
        "audit: chain write cost: {chained_us:.1} µs vs {plain_us:.1} µs per event = {:.2}× ({n} events, one transaction each)",
        chained_us / plain_us
    );
}
