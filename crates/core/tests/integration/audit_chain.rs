//! The audit hash chain and its signed checkpoints on an on-disk cache, checked against the format
//! (shared/docs/audit-format.md) by independent tools: Python's hashlib/json for the hashes,
//! OpenSSL for the SM2 signature and the key fingerprint; and every kind of tampering caught.

use chrono::{DateTime, FixedOffset};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::process::Command;
use yueshang_core::ErrorCode;
use yueshang_core::audit::chain::{self, ChainedEvent, FIELDS, GENESIS};
use yueshang_core::audit::checkpoint::{Checkpoint, checkpoint_previous_day, tampered_seq};
use yueshang_core::audit::key::{CounterKey, fingerprint_of_pem, verify_signature};
use yueshang_core::audit::{AuditContext, AuditEvent, AuditKind, Outcome};
use yueshang_core::cache::Cache;

fn at(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).unwrap()
}

fn ctx() -> AuditContext {
    AuditContext { operator_account: "clerk01".into(), hall_code: "4401061".into(), counter: "B07".into() }
}

/// An on-disk counter database with `n` events written the way the station writes them, one a
/// minute from 10:00 China time on 2026-11-28; the details carry what JSON must escape.
fn counter_with_events(n: usize) -> (tempfile::TempDir, PathBuf, Cache) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    let cache = Cache::open(&path, &crate::keys_beside(&path)).unwrap();
    append_events(&cache, n, "2026-11-28T10:00:00.417+08:00");
    (dir, path, cache)
}

fn append_events(cache: &Cache, n: usize, from: &str) {
    let details = ["{\"serial\":\"P-1\",\"note\":\"引号\\\"与反斜杠\\\\\"}", "第一行\n第二行\t\u{1}", ""];
    for i in 0..n {
        let mut event = if i % 3 == 1 {
            AuditEvent::failed(AuditKind::Exchange, ErrorCode::CodeExpired)
        } else {
            AuditEvent::new(AuditKind::Scan, Outcome::Ok)
        };
        event.biz_num = Some(format!("YS-B07-20261128-{i:04}"));
        event.uscc = (i % 2 == 0).then(|| "91440101MA5CXXXX1X".to_owned());
        event.detail = Some(details[i % details.len()].to_owned());
        cache.append_audit(&ctx(), &event, at(from) + chrono::Duration::minutes(i as i64)).unwrap();
    }
}

fn all_events(cache: &Cache) -> Vec<ChainedEvent> {
    let mut events = Vec::new();
    cache
        .chained_events(1, i64::MAX, &mut |e| {
            events.push(e);
            Ok(())
        })
        .unwrap();
    events
}

/// A raw connection to the database file, as someone with the file (not the app) would have.
fn raw(path: &Path) -> Connection {
    Connection::open(path).unwrap()
}

fn drop_triggers(path: &Path) {
    raw(path)
        .execute_batch(
            "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;
             DROP TRIGGER audit_events_chained; DROP INDEX audit_events_seq;",
        )
        .unwrap();
}

fn assert_tampered_at(cache: &Cache, seq: i64) {
    let err = cache.verify_chain().unwrap_err();
    assert_eq!(err.code, ErrorCode::AuditTampered, "{err:?}");
    assert_eq!(tampered_seq(&err), Some(seq), "{err:?}");
    assert!(err.message.contains(&format!("第 {seq} 条")), "{}", err.message);
}

fn tool(name: &str, package: &str) -> String {
    let found = Command::new("sh").arg("-c").arg(format!("command -v {name}")).output().unwrap();
    assert!(found.status.success(), "{name} is needed by this test: install the Debian package `{package}`");
    name.to_owned()
}

#[test]
fn events_written_by_the_station_are_chained_and_verify() {
    let (_dir, _path, cache) = counter_with_events(5);
    let events = all_events(&cache);
    assert_eq!(events.len(), 5);
    assert_eq!(events[0].prev_hash, GENESIS);
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event.seq(), i as i64 + 1);
        assert_eq!(event.computed_hash(), event.hash);
        if i > 0 {
            assert_eq!(event.prev_hash, events[i - 1].hash);
        }
    }
    assert_eq!(events[0].field("at"), Some("2026-11-28T10:00:00.417+08:00"));
    assert_eq!(events[2].field("detail"), None, "an empty value is absent");
    let status = cache.verify_chain().unwrap();
    assert_eq!((status.count, status.head.as_str(), status.checkpoints), (5, events[4].hash.as_str(), 0));
    let records = cache.audit_events().unwrap();
    assert_eq!(records.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
}

#[test]
fn the_time_is_written_in_china_time_with_milliseconds() {
    let dir = tempfile::tempdir().unwrap();
    let cache =
        Cache::open(&dir.path().join("cache.sqlite3"), &crate::keys_beside(&dir.path().join("cache.sqlite3"))).unwrap();
    let utc = at("2026-11-29T02:02:03.417999Z");
    cache.append_audit(&ctx(), &AuditEvent::new(AuditKind::Scan, Outcome::Ok), utc).unwrap();
    assert_eq!(all_events(&cache)[0].field("at"), Some("2026-11-29T10:02:03.417+08:00"));
}

/// The script an auditor would write: §1 and §2 in Python, on the rows read straight from SQLite.
const PYTHON_CHAIN: &str = r#"
import hashlib, json, sqlite3, sys
fields = sys.argv[2].split(",")
db = sqlite3.connect(sys.argv[1])
prev = "0" * 64
for row in db.execute("SELECT " + ",".join(fields) + ", prev_hash, hash FROM audit_events ORDER BY seq"):
    obj = {k: str(v) for k, v in zip(fields, row) if v is not None and str(v) != ""}
    canonical = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    h = hashlib.new("sm3", b"YSAUDIT1" + bytes.fromhex(prev) + canonical).hexdigest()
    assert row[-2] == prev, ("prev_hash", obj["seq"])
    assert row[-1] == h, ("hash", obj["seq"], row[-1], h)
    print(obj["seq"], h)
    prev = h
"#;

fn python_recomputes(path: &Path) -> Vec<String> {
    let python = tool("python3", "python3");
    let script = path.with_file_name("chain.py");
    std::fs::write(&script, PYTHON_CHAIN).unwrap();
    let out = Command::new(python).arg(&script).arg(path).arg(FIELDS.join(",")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| l.split(' ').nth(1).unwrap().to_owned()).collect()
}

#[test]
fn python_recomputes_the_same_hashes_from_the_rows() {
    let (_dir, path, cache) = counter_with_events(6);
    let hashes: Vec<String> = all_events(&cache).into_iter().map(|e| e.hash).collect();
    assert_eq!(python_recomputes(&path), hashes);
}

#[test]
fn a_signed_checkpoint_verifies_with_openssl_and_its_key_line_is_the_openssl_fingerprint() {
    let (dir, _path, cache) = counter_with_events(4);
    let key = CounterKey::load_or_create(&cache).unwrap();
    let signed = cache.sign_checkpoint(&key, "4401061", "B07", 2, 4, at("2026-11-29T00:05:00+08:00")).unwrap();
    let events = all_events(&cache);
    let cp = &signed.checkpoint;
    assert_eq!((cp.first_seq, cp.last_seq), (2, 4));
    assert_eq!((cp.prev_hash.as_str(), cp.head.as_str()), (events[0].hash.as_str(), events[3].hash.as_str()));
    assert_eq!(cp.key, key.fingerprint());
    assert_eq!(signed.text, cp.text());
    assert!(signed.text.contains("\ncount: 3\n") && signed.text.contains("\nsigned_at: 2026-11-29T00:05:00+08:00\n"));
    assert_eq!(Checkpoint::parse(&signed.text).unwrap(), *cp);
    assert!(verify_signature(&signed.public_pem, signed.text.as_bytes(), &signed.signature));

    let openssl = tool("openssl", "openssl");
    let files = dir.path();
    std::fs::write(files.join("cp"), &signed.text).unwrap();
    std::fs::write(files.join("cp.sig"), &signed.signature).unwrap();
    std::fs::write(files.join("pub.pem"), &signed.public_pem).unwrap();
    let verified = Command::new(&openssl)
        .current_dir(files)
        .args(["pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-digest", "sm3"])
        .args(["-pkeyopt", "distid:1234567812345678", "-in", "cp", "-sigfile", "cp.sig"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&verified.stdout);
    assert!(said.contains("Signature Verified Successfully"), "{said} {}", String::from_utf8_lossy(&verified.stderr));

    let fingerprint = Command::new("sh")
        .current_dir(files)
        .arg("-c")
        .arg(format!("{openssl} pkey -pubin -in pub.pem -outform DER | {openssl} dgst -sm3 -r"))
        .output()
        .unwrap();
    let fingerprint = String::from_utf8(fingerprint.stdout).unwrap();
    assert_eq!(fingerprint.split_whitespace().next(), Some(cp.key.as_str()));
    assert_eq!(fingerprint_of_pem(&signed.public_pem).as_deref(), Some(cp.key.as_str()));

    let status = cache.verify_chain().unwrap();
    assert_eq!((status.count, status.checkpoints), (4, 1));
    assert_eq!(status.last_checkpoint_at.as_deref(), Some("2026-11-29T00:05:00+08:00"));
}

#[test]
fn an_edited_row_is_named_by_its_seq() {
    let (_dir, path, cache) = counter_with_events(5);
    assert!(raw(&path).execute("UPDATE audit_events SET detail = 'x' WHERE seq = 3", []).is_err());
    assert!(raw(&path).execute("DELETE FROM audit_events WHERE seq = 3", []).is_err());
    drop_triggers(&path);
    raw(&path).execute("UPDATE audit_events SET detail = 'nothing happened' WHERE seq = 3", []).unwrap();
    assert_tampered_at(&cache, 3);
}

#[test]
fn a_deleted_row_is_named_by_its_seq() {
    let (_dir, path, cache) = counter_with_events(5);
    drop_triggers(&path);
    raw(&path).execute("DELETE FROM audit_events WHERE seq = 2", []).unwrap();
    assert_tampered_at(&cache, 2);
    raw(&path).execute("DELETE FROM audit_events WHERE seq = 1", []).unwrap();
    assert_tampered_at(&cache, 1);
}

#[test]
fn an_inserted_row_is_named_by_its_seq() {
    // A row added without a link, between the others by its id.
    let (_dir, path, cache) = counter_with_events(5);
    drop_triggers(&path);
    raw(&path)
        .execute(
            "INSERT INTO audit_events (id, at, kind, outcome, operator_account, hall_code, counter)
             SELECT id + 1000, at, 'scan', 'ok', 'clerk01', '4401061', 'B07' FROM audit_events WHERE seq = 5",
            [],
        )
        .unwrap();
    assert_tampered_at(&cache, 6);

    // A forged last row that links to the head but whose hash is not its content's.
    let (_dir, path, cache) = counter_with_events(5);
    drop_triggers(&path);
    raw(&path)
        .execute(
            "INSERT INTO audit_events (seq, at, kind, outcome, operator_account, hall_code, counter, prev_hash, hash)
             SELECT 6, at, 'scan', 'ok', 'clerk02', '4401061', 'B07', hash, hash FROM audit_events WHERE seq = 5",
            [],
        )
        .unwrap();
    assert_tampered_at(&cache, 6);

    // A second row numbered 3.
    let (_dir, path, cache) = counter_with_events(5);
    drop_triggers(&path);
    raw(&path)
        .execute(
            "INSERT INTO audit_events (seq, at, kind, outcome, operator_account, hall_code, counter, prev_hash, hash)
             SELECT 3, at, kind, outcome, operator_account, hall_code, counter, prev_hash, hash
             FROM audit_events WHERE seq = 3",
            [],
        )
        .unwrap();
    assert_tampered_at(&cache, 3);
}

#[test]
fn a_rewritten_tail_is_caught_by_the_signed_checkpoint() {
    let (_dir, path, cache) = counter_with_events(5);
    let key = CounterKey::load_or_create(&cache).unwrap();
    cache.sign_checkpoint(&key, "4401061", "B07", 1, 5, at("2026-11-29T00:05:00+08:00")).unwrap();
    drop_triggers(&path);
    // Edit event 4 and re-link it and everything after it, as someone who read the format would.
    let db = raw(&path);
    db.execute("UPDATE audit_events SET detail = 'rewritten' WHERE seq = 4", []).unwrap();
    let mut prev = all_events(&cache)[2].hash.clone();
    for mut event in all_events(&cache).into_iter().skip(3) {
        event.prev_hash = prev;
        let hash = chain::link(&event.prev_hash, &event.canonical());
        db.execute(
            "UPDATE audit_events SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
            rusqlite::params![event.prev_hash, hash, event.seq()],
        )
        .unwrap();
        prev = hash;
    }
    assert_tampered_at(&cache, 5);
    // A stored checkpoint changed to match is no longer what the key signed.
    db.execute_batch("DROP TRIGGER audit_checkpoints_no_update").unwrap();
    db.execute("UPDATE audit_checkpoints SET text = replace(text, 'B07', 'B08')", []).unwrap();
    assert_tampered_at(&cache, 1);
}

#[test]
fn signing_a_range_that_does_not_link_up_is_refused() {
    let (_dir, path, cache) = counter_with_events(5);
    let key = CounterKey::load_or_create(&cache).unwrap();
    drop_triggers(&path);
    raw(&path).execute("UPDATE audit_events SET kind = 'scan_done' WHERE seq = 2", []).unwrap();
    let err = cache.sign_checkpoint(&key, "4401061", "B07", 1, 3, at("2026-11-29T00:05:00+08:00")).unwrap_err();
    assert_eq!((err.code, tampered_seq(&err)), (ErrorCode::AuditTampered, Some(2)));
}

#[test]
fn migration_4_chains_the_events_written_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite3");
    {
        // A counter database as migration 3 left it, with events in the old time format.
        let db = raw(&path);
        db.execute_batch(include_str!("../../src/cache/schema.sql")).unwrap();
        db.execute_batch(include_str!("../../src/cache/schema_2.sql")).unwrap();
        db.execute_batch(include_str!("../../src/cache/schema_3.sql")).unwrap();
        db.pragma_update(None, "user_version", 3).unwrap();
        for (at, kind, detail) in [
            ("2026-11-27T09:00:00+08:00", "scan", None),
            ("2026-11-27T09:00:01.123456789+08:00", "exchange", Some("{\"a\":\"\\u00e9\"}")),
            ("2026-11-27T09:05:00+08:00", "scan_done", Some("")),
        ] {
            db.execute(
                "INSERT INTO audit_events (at, kind, outcome, operator_account, hall_code, counter, detail)
                 VALUES (?1, ?2, 'ok', 'clerk01', '4401061', 'B07', ?3)",
                rusqlite::params![at, kind, detail],
            )
            .unwrap();
        }
    }
    let cache = Cache::open(&path, &crate::keys_beside(&path)).unwrap();
    append_events(&cache, 2, "2026-11-28T10:00:00.417+08:00");
    let events = all_events(&cache);
    assert_eq!(events.iter().map(ChainedEvent::seq).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
    assert_eq!(events[1].field("at"), Some("2026-11-27T09:00:01.123456789+08:00"), "old rows keep their text");
    assert_eq!(cache.verify_chain().unwrap().count, 5);
    assert_eq!(python_recomputes(&path), events.iter().map(|e| e.hash.clone()).collect::<Vec<_>>());
    assert!(raw(&path).execute("UPDATE audit_events SET detail = 'x' WHERE seq = 1", []).is_err());
    assert_eq!(
        cache.seq_range_between(at("2026-11-27T00:00:00+08:00"), at("2026-11-28T00:00:00+08:00")).unwrap(),
        Some((1, 3))
    );
}

#[test]
fn the_previous_days_checkpoint_is_made_once() {
    let (_dir, _path, cache) = counter_with_events(3);
    // The next day's events must not be in it.
    append_events(&cache, 2, "2026-11-29T00:00:00.000+08:00");
    let key = CounterKey::load_or_create(&cache).unwrap();
    let now = at("2026-11-29T00:30:00+08:00");
    let signed = checkpoint_previous_day(&cache, &key, "4401061", "B07", now).unwrap().expect("a checkpoint");
    assert_eq!((signed.checkpoint.first_seq, signed.checkpoint.last_seq), (1, 3));
    assert_eq!(
        checkpoint_previous_day(&cache, &key, "4401061", "B07", now + chrono::Duration::hours(3)).unwrap(),
        None
    );
    // A day without events has nothing to sign.
    assert_eq!(checkpoint_previous_day(&cache, &key, "4401061", "B07", at("2026-11-28T08:00:00+08:00")).unwrap(), None);
    let next =
        checkpoint_previous_day(&cache, &key, "4401061", "B07", at("2026-11-30T07:00:00+08:00")).unwrap().unwrap();
    assert_eq!((next.checkpoint.first_seq, next.checkpoint.last_seq), (4, 5));
    assert_eq!(cache.verify_chain().unwrap().checkpoints, 2);
}
