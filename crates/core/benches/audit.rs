//! Benchmark of the audit export and its verification: generated events in an on-disk database,
//! export to CSV, to XLSX, and verify that CSV; prints figures, asserts nothing.
//!
//! `cargo bench` passes `--bench`: then 100 000 events (issue 8's size); otherwise (a debug run
//! by `cargo test --all-targets`) 2 000, so the run stays short.

use chrono::{Duration, TimeZone};
use std::time::Instant;
use yueshang_core::audit::export::{ExportRequest, Formats, export};
use yueshang_core::audit::key::{CounterKey, key_path};
use yueshang_core::audit::verify::verify_export;
use yueshang_core::audit::{AuditContext, AuditEvent, AuditKind, Outcome};
use yueshang_core::cache::Cache;
use yueshang_core::clock::china_tz;

/// Peak resident memory so far (VmHWM, kB), where /proc tells it.
fn peak_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let events: u32 = if std::env::args().any(|a| a == "--bench") { 100_000 } else { 2_000 };
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = Cache::open(&dir.path().join("cache.sqlite3")).expect("cache");
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
    let key = CounterKey::load_or_create(&key_path(dir.path())).expect("key");
    let range = cache.seq_range_between(start, start + Duration::days(2)).expect("range").expect("events in range");
    let out = dir.path().join("out");

    // What every export pays before writing a byte: reading the chained rows out of SQLite.
    let began = Instant::now();
    let mut streamed = 0u64;
    cache
        .chained_events(range.0, range.1, &mut |_| {
            streamed += 1;
            Ok(())
        })
        .expect("stream");
    println!("audit: reading the {streamed} chained rows alone: {} ms", began.elapsed().as_millis());
    let began = Instant::now();
    cache.sign_checkpoint(&key, "4401061", "B07", range.0, range.1, start).expect("sign");
    println!("audit: signing a checkpoint over them: {} ms", began.elapsed().as_millis());

    let before = peak_kb();
    for (name, formats) in [("csv", Formats { csv: true, xlsx: false }), ("xlsx", Formats { csv: false, xlsx: true })] {
        let request =
            ExportRequest { by: &ctx, range, formats, out_dir: &out, stem: name, now: start + Duration::days(1) };
        let began = Instant::now();
        let report = export(&cache, &key, &request).expect("export");
        let ms = began.elapsed().as_millis();
        let bytes = std::fs::metadata(&report.files[0]).map(|m| m.len()).unwrap_or(0);
        println!("audit: export {name}: {ms} ms, {} events, {} kB", report.events, bytes / 1024);
    }
    if let (Some(before), Some(after)) = (before, peak_kb()) {
        println!("audit: peak memory before exports {} MB, after {} MB", before / 1024, after / 1024);
    }
    let began = Instant::now();
    let verified = verify_export(&out.join("csv.csv")).expect("verify csv");
    println!("audit: verify csv: {} ms, {} events", began.elapsed().as_millis(), verified.events);
    let began = Instant::now();
    let verified = verify_export(&out.join("xlsx.xlsx")).expect("verify xlsx");
    println!("audit: verify xlsx: {} ms, {} events", began.elapsed().as_millis(), verified.events);
}
