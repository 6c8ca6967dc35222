//! The audit export against real files: CSV and XLSX verified by `verify_export`, by a few lines of
//! Python and by OpenSSL (§5), the XLSX read back by calamine, and every tampering case named by row.

use calamine::{Data, Reader, Xlsx};
use chrono::{DateTime, FixedOffset, TimeZone};
use std::path::{Path, PathBuf};
use std::process::Command;
use yueshang_core::audit::export::{ExportReport, ExportRequest, Formats, export};
use yueshang_core::audit::key::CounterKey;
use yueshang_core::audit::verify::{problem_row, verify_export};
use yueshang_core::audit::{AuditContext, AuditEvent, AuditKind, Outcome};
use yueshang_core::cache::Cache;
use yueshang_core::clock::china_tz;
use yueshang_core::{Error, ErrorCode};
use yueshang_testkit::auditor::{openssl_verifies, python_verifies};

const USCC: &str = "91440101MA5CXXXX1X";
/// A USCC-like code of digits only, which Excel would show as 9.14E+17 if written as a number.
const DIGITS: &str = "914401011234567890";
/// Events of the exported day; the last one's detail spans two lines.
const DAY_EVENTS: usize = 24;

fn china(d: u32, h: u32, mi: u32, ms: u32) -> DateTime<FixedOffset> {
    china_tz().with_ymd_and_hms(2026, 11, d, h, mi, 0).unwrap() + chrono::Duration::milliseconds(ms as i64)
}

fn ctx(clerk: &str) -> AuditContext {
    AuditContext { operator_account: clerk.into(), hall_code: "4401061".into(), counter: "B07".into() }
}

/// One event the day before, `DAY_EVENTS` on 28 November, one the day after.
fn record_a_day(cache: &Cache) {
    cache
        .append_audit(&ctx("clerk01"), &AuditEvent::new(AuditKind::Scan, Outcome::Info), china(27, 23, 59, 999))
        .unwrap();
    for i in 0..DAY_EVENTS - 1 {
        let clerk = if i % 3 == 0 { "clerk02" } else { "clerk01" };
        let mut event = match i % 4 {
            0 => AuditEvent::new(AuditKind::Scan, Outcome::Info),
            1 => AuditEvent::new(AuditKind::LicenseFetch, Outcome::Ok),
            2 => AuditEvent::failed(AuditKind::Exchange, ErrorCode::CodeExpired),
            _ => AuditEvent {
                detail: Some(format!("3 licenses, 0 failed, {} ms", 300 + i)),
                ..AuditEvent::new(AuditKind::ScanDone, Outcome::Ok)
            },
        };
        event.service_item_code = Some("11440100007502736Q4440111001000".into());
        event.uscc = Some(if i % 2 == 0 { USCC } else { DIGITS }.into());
        event.biz_num = Some(format!("4401061B0720261128{:04}", i / 4 + 1));
        if i == 5 {
            event.detail = Some("=1+1, \"quoted\", 中文".into());
        }
        cache.append_audit(&ctx(clerk), &event, china(28, 9 + (i as u32 % 8), i as u32, 417)).unwrap();
    }
    let last = AuditEvent {
        detail: Some("第一行\n第二行".into()),
        ..AuditEvent::new(AuditKind::CaseClosed, Outcome::Info)
    };
    cache.append_audit(&ctx("clerk01"), &last, china(28, 23, 59, 0)).unwrap();
    cache.append_audit(&ctx("clerk01"), &AuditEvent::new(AuditKind::Scan, Outcome::Info), china(29, 0, 0, 0)).unwrap();
}

struct Exported {
    _dir: tempfile::TempDir,
    cache: Cache,
    report: ExportReport,
    out: PathBuf,
}

impl Exported {
    fn file(&self, ext: &str) -> PathBuf {
        self.out.join(format!("day.{ext}"))
    }
}

fn export_the_day(formats: Formats) -> Exported {
    let dir = tempfile::tempdir().unwrap();
    let cache =
        Cache::open(&dir.path().join("cache.sqlite3"), &crate::keys_beside(&dir.path().join("cache.sqlite3"))).unwrap();
    record_a_day(&cache);
    let range = cache.seq_range_between(china(28, 0, 0, 0), china(29, 0, 0, 0)).unwrap().unwrap();
    let key = CounterKey::load_or_create(&cache).unwrap();
    let out = dir.path().join("out");
    let by = ctx("supervisor01");
    let request = ExportRequest { by: &by, range, formats, out_dir: &out, stem: "day", now: china(29, 8, 0, 0) };
    let report = export(&cache, &key, &request).unwrap();
    Exported { _dir: dir, cache, report, out }
}

fn both() -> Formats {
    Formats { csv: true, xlsx: true }
}

#[test]
fn a_day_exports_to_files_that_verify_and_the_export_is_audited() {
    let ex = export_the_day(both());
    assert_eq!(
        (ex.report.first_seq, ex.report.last_seq, ex.report.events),
        (2, 1 + DAY_EVENTS as i64, DAY_EVENTS as u64)
    );
    let names: Vec<String> =
        ex.report.files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["day.csv", "day.xlsx", "day.checkpoint", "day.checkpoint.sig", "day.pub.pem"]);
    let leftovers = std::fs::read_dir(&ex.out)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "part"));
    assert_eq!(leftovers.count(), 0);

    for file in [ex.file("csv"), ex.file("xlsx")] {
        let verified = verify_export(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(
            (verified.events, verified.first_seq, verified.last_seq),
            (DAY_EVENTS as u64, 2, 1 + DAY_EVENTS as i64)
        );
        assert_eq!(verified.head, ex.report.head);
    }

    let csv = std::fs::read(ex.file("csv")).unwrap();
    assert!(csv.starts_with("\u{feff}seq,at,kind,outcome,error_code,".as_bytes()));
    assert!(csv.ends_with(b"\r\n"));
    assert!(String::from_utf8_lossy(&csv).contains("\"=1+1, \"\"quoted\"\", 中文\""), "verbatim, quotes doubled");

    let events = ex.cache.audit_events().unwrap();
    let last = events.last().unwrap();
    assert_eq!((last.kind.as_str(), last.operator_account.as_str()), ("audit_export", "supervisor01"));
    let detail = last.detail.as_deref().unwrap();
    assert!(detail.contains("\"first_seq\":2") && detail.contains("day.xlsx"), "{detail}");
}

fn run(tool: &str, package: &str, args: &[&str]) -> std::process::Output {
    Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} is needed for this test: install the Debian package {package} ({e})"))
}

#[test]
fn python_and_openssl_verify_the_csv_and_its_checkpoint() {
    let ex = export_the_day(Formats { csv: true, xlsx: false });
    let (rows, key_line) = python_verifies(&ex.file("csv")).unwrap_or_else(|said| panic!("python: {said}"));
    assert_eq!(rows, DAY_EVENTS as u64);
    let (pem, cp, sig) = (ex.file("pub.pem"), ex.file("checkpoint"), ex.file("checkpoint.sig"));
    assert!(openssl_verifies(&pem, &cp, &sig), "OpenSSL: the checkpoint's signature");

    let der = ex.out.join("pub.der");
    let to_der = ["pkey", "-pubin", "-in", pem.to_str().unwrap(), "-outform", "DER", "-out", der.to_str().unwrap()];
    assert!(run("openssl", "openssl", &to_der).status.success());
    let digest = run("openssl", "openssl", &["dgst", "-sm3", "-r", der.to_str().unwrap()]);
    let fingerprint = String::from_utf8_lossy(&digest.stdout).split_whitespace().next().unwrap_or_default().to_owned();
    assert_eq!(fingerprint, key_line, "key: is the SM3 of the public key's DER");
}

#[test]
fn the_xlsx_reads_back_with_chinese_sheets_titles_text_codes_and_real_dates() {
    let ex = export_the_day(Formats { csv: false, xlsx: true });
    let mut book: Xlsx<_> = calamine::open_workbook(ex.file("xlsx")).unwrap();
    assert_eq!(book.sheet_names(), ["明细", "汇总", "校验"]);
    let rows = book.worksheet_range("明细").unwrap();
    assert_eq!(rows.height(), DAY_EVENTS + 1);
    let titles: Vec<String> = rows.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(&titles[..5], ["序号", "时间", "事件", "结果", "错误原因"]);
    let column = |title: &str| titles.iter().position(|t| t == title).unwrap();
    let second = rows.rows().nth(2).unwrap();
    assert_eq!(second[column("序号")], Data::String("3".into()), "seq is text");
    assert_eq!(second[column("统一社会信用代码")], Data::String(DIGITS.into()), "an all-digit code stays text");
    assert!(matches!(second[column("时间")], Data::DateTime(_)), "{:?}", second[column("时间")]);
    let failed = rows.rows().nth(3).unwrap();
    assert_eq!(failed[column("事件")], Data::String("换取授权".into()));
    assert_eq!(failed[column("结果")], Data::String("失败".into()));
    assert_eq!(failed[column("错误原因")], Data::String("码已过期".into()));

    let summary = book.worksheet_range("汇总").unwrap();
    let cells: Vec<String> = summary.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
    for title in ["按小时", "按事项", "按操作员", "按结果", "按失败原因", "扫码耗时中位数（毫秒）", "clerk02"]
    {
        assert!(cells.iter().any(|c| c == title), "汇总 lacks {title}");
    }
    let median = cells.iter().position(|c| c == "扫码耗时中位数（毫秒）").unwrap();
    assert_eq!(cells[median + 1], "311", "median of 303, 307, …, 319");

    let check = book.worksheet_range("校验").unwrap();
    let text: String = check.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
    let checkpoint = std::fs::read_to_string(ex.file("checkpoint")).unwrap();
    assert!(
        text.contains(&checkpoint) && text.contains("BEGIN PUBLIC KEY") && text.contains("distid:1234567812345678")
    );
}

/// A copy of the CSV export set in its own folder, with the CSV's records changed by `edit`
/// (records split on CRLF; record 0 is the header).
fn tampered_csv(ex: &Exported, name: &str, edit: impl FnOnce(&mut Vec<String>)) -> PathBuf {
    let dir = ex.out.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for ext in ["checkpoint", "checkpoint.sig", "pub.pem"] {
        std::fs::copy(ex.file(ext), dir.join(format!("day.{ext}"))).unwrap();
    }
    let text = std::fs::read_to_string(ex.file("csv")).unwrap();
    let mut records: Vec<String> = text.strip_suffix("\r\n").unwrap().split("\r\n").map(str::to_owned).collect();
    edit(&mut records);
    let csv = dir.join("day.csv");
    std::fs::write(&csv, records.join("\r\n") + "\r\n").unwrap();
    csv
}

fn refused(path: &Path) -> Error {
    verify_export(path).expect_err("a tampered export must not verify")
}

fn assert_tampered_at(path: &Path, row: u64) {
    let err = refused(path);
    assert_eq!((err.code, problem_row(&err)), (ErrorCode::AuditTampered, Some(row)), "{err}");
    assert!(err.message.contains(&format!("第 {row} 行")), "{}", err.message);
}

#[test]
fn every_tampering_of_the_csv_is_caught_at_its_line() {
    let ex = export_the_day(Formats { csv: true, xlsx: false });
    let edited = tampered_csv(&ex, "edited", |r| {
        r[5] = r[5].replacen("clerk01", "clerk09", 1).replacen("clerk02", "clerk09", 1)
    });
    assert_tampered_at(&edited, 6);
    assert_tampered_at(&tampered_csv(&ex, "deleted", |r| drop(r.remove(5))), 6);
    assert_tampered_at(&tampered_csv(&ex, "inserted", |r| r.insert(5, r[3].clone())), 6);
    assert_tampered_at(&tampered_csv(&ex, "swapped", |r| r.swap(5, 6)), 6);
    // The last rows cut off cleanly: the checkpoint's head is never reached; named after the last row.
    assert_tampered_at(&tampered_csv(&ex, "tail", |r| r.truncate(10)), 11);

    let cut = tampered_csv(&ex, "cut", |_| {});
    let bytes = std::fs::read(&cut).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() - 40]).unwrap();
    let err = refused(&cut);
    assert_eq!(err.code, ErrorCode::ExportUnreadable, "{err}");
    assert!(err.message.contains("截断"), "{}", err.message);

    let edit_file = |name: &str, ext: &str, change: &dyn Fn(Vec<u8>) -> Vec<u8>| {
        let csv = tampered_csv(&ex, name, |_| {});
        let path = csv.with_file_name(format!("day.{ext}"));
        std::fs::write(&path, change(std::fs::read(&path).unwrap())).unwrap();
        csv
    };
    let checkpoint = edit_file("checkpoint", "checkpoint", &|b| {
        String::from_utf8(b).unwrap().replace("first_seq: 2", "first_seq: 3").into_bytes()
    });
    let flipped = edit_file("signature", "checkpoint.sig", &|mut b| {
        let mid = b.len() / 2;
        b[mid] ^= 0x01;
        b
    });
    let stranger = CounterKey::load_or_create(&Cache::open_in_memory().unwrap()).unwrap().public_pem();
    let wrong_key = edit_file("key", "pub.pem", &|_| stranger.clone().into_bytes());
    for path in [checkpoint, flipped, wrong_key] {
        let err = refused(&path);
        assert_eq!((err.code, problem_row(&err)), (ErrorCode::AuditTampered, None), "{}: {err}", path.display());
    }
}

/// The 明细 and 校验 sheets copied cell by cell (as text) into a new workbook, with `edit` applied
/// to 明细's rows first: what someone editing the file in a spreadsheet would save.
fn tampered_xlsx(ex: &Exported, name: &str, edit: impl FnOnce(&mut Vec<Vec<String>>)) -> PathBuf {
    let mut book: Xlsx<_> = calamine::open_workbook(ex.file("xlsx")).unwrap();
    let mut out = rust_xlsxwriter::Workbook::new();
    let mut edit = Some(edit);
    for sheet in ["明细", "校验"] {
        let range = book.worksheet_range(sheet).unwrap();
        let mut rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
        if let Some(edit) = edit.take().filter(|_| sheet == "明细") {
            edit(&mut rows);
        }
        let ws = out.add_worksheet().set_name(sheet).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                if !value.is_empty() {
                    ws.write_string(r as u32, c as u16, value).unwrap();
                }
            }
        }
    }
    let path = ex.out.join(format!("{name}.xlsx"));
    out.save(&path).unwrap();
    path
}

#[test]
fn tampering_of_the_xlsx_is_caught_at_its_row_in_the_detail_sheet() {
    let ex = export_the_day(Formats { csv: false, xlsx: true });
    let intact = tampered_xlsx(&ex, "resaved", |_| {});
    assert_eq!(verify_export(&intact).unwrap().events, DAY_EVENTS as u64, "resaving as text keeps it verifiable");
    assert_tampered_at(&tampered_xlsx(&ex, "edited", |r| r[4][8] = USCC.replace('1', "7")), 5);
    assert_tampered_at(&tampered_xlsx(&ex, "label", |r| r[4][3] = "失败".into()), 5);
    let a_minute_later =
        |r: &mut Vec<Vec<String>>| r[4][1] = (r[4][1].parse::<f64>().unwrap() + 1.0 / 1440.0).to_string();
    assert_tampered_at(&tampered_xlsx(&ex, "time", a_minute_later), 5);
    assert_tampered_at(&tampered_xlsx(&ex, "deleted", |r| drop(r.remove(4))), 5);
    assert_tampered_at(&tampered_xlsx(&ex, "swapped", |r| r.swap(4, 7)), 5);
}

#[test]
fn a_file_that_is_not_an_export_says_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in
        [("notes.csv", &b"name,amount\r\nA,1\r\n"[..]), ("book.xlsx", b"PK\x03\x04 not really"), ("x.txt", b"hi")]
    {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = verify_export(&path).expect_err(name);
        assert_eq!(err.code, ErrorCode::ExportUnreadable, "{name}: {err}");
    }
    let err = verify_export(&dir.path().join("notes.csv")).unwrap_err();
    assert!(err.message.contains("seq,at,kind"), "{}", err.message);
}
