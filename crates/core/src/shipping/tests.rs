//! Unit tests of shipping's own decisions: what goes in a batch, the day runs its checkpoints
//! cover, the records the hall has not seen, and the wait after failures.

use super::*;
use crate::audit::{AuditContext, AuditEvent, AuditKind, Outcome};
use chrono::TimeZone;

fn at(day: u32, hour: u32, minute: u32) -> DateTime<FixedOffset> {
    crate::clock::china_tz().with_ymd_and_hms(2026, 11, day, hour, minute, 0).unwrap()
}

fn ctx() -> AuditContext {
    AuditContext { operator_account: "clerk01".into(), hall_code: "4401061".into(), counter: "B07".into() }
}

fn scope() -> Scope {
    Scope { hall: "4401061".into(), counter: "B07".into() }
}

fn append(cache: &Cache, when: DateTime<FixedOffset>, detail: &str) {
    let event = AuditEvent { detail: Some(detail.to_owned()), ..AuditEvent::new(AuditKind::Scan, Outcome::Ok) };
    cache.append_audit(&ctx(), &event, when).unwrap();
}

#[test]
fn a_batch_is_one_day_of_events_after_the_acknowledged_seq_signed_from_the_days_first_event() {
    let cache = Cache::open_in_memory().unwrap();
    let key = CounterKey::load_or_create(&cache).unwrap();
    for minute in 0..3 {
        append(&cache, at(28, 23, 50 + minute), "late");
    }
    for minute in 0..4 {
        append(&cache, at(29, 9, minute), "morning");
    }
    let first = next_batch(&cache, &key, &scope(), 0, at(29, 10, 0)).unwrap();
    assert_eq!(first.batch.events.len(), 3, "the 28th's events only");
    let checkpoint = crate::audit::checkpoint::Checkpoint::parse(&first.batch.checkpoint.unwrap().text).unwrap();
    assert_eq!((checkpoint.first_seq, checkpoint.last_seq), (1, 3));
    assert!(first.batch.anchor.is_none());

    let second = next_batch(&cache, &key, &scope(), 5, at(29, 10, 0)).unwrap();
    assert_eq!(second.batch.events.iter().map(|e| e.values[0].clone().unwrap()).collect::<Vec<_>>(), ["6", "7"]);
    let checkpoint =
        crate::audit::checkpoint::Checkpoint::parse(&second.batch.checkpoint.as_ref().unwrap().text).unwrap();
    assert_eq!((checkpoint.first_seq, checkpoint.last_seq), (4, 7), "the 29th's run starts at 4");
    assert_eq!(second.batch.anchor.as_ref().map(|a| a.seq), Some(5));
    let signature = base64::engine::general_purpose::STANDARD
        .decode(second.batch.checkpoint.as_ref().map(|c| c.signature.clone()).unwrap_or_default())
        .unwrap();
    assert!(verify_signature(&key.public_pem(), checkpoint.text().as_bytes(), &signature));

    let caught_up = next_batch(&cache, &key, &scope(), 7, at(29, 10, 0)).unwrap();
    assert!(caught_up.batch.events.is_empty() && caught_up.batch.checkpoint.is_none());
    assert_eq!(caught_up.batch.anchor.map(|a| a.seq), Some(7));
}

#[test]
fn a_batch_stops_at_the_event_and_byte_limits() {
    let cache = Cache::open_in_memory().unwrap();
    let key = CounterKey::load_or_create(&cache).unwrap();
    for _ in 0..(wire::MAX_BATCH_EVENTS + 5) {
        append(&cache, at(29, 9, 0), "x");
    }
    let batch = next_batch(&cache, &key, &scope(), 0, at(29, 10, 0)).unwrap();
    assert_eq!(batch.batch.events.len(), wire::MAX_BATCH_EVENTS);

    let big = Cache::open_in_memory().unwrap();
    let detail = "详".repeat(100_000);
    for _ in 0..5 {
        append(&big, at(29, 9, 0), &detail);
    }
    let batch = next_batch(&big, &key, &scope(), 0, at(29, 10, 0)).unwrap();
    assert_eq!(batch.batch.events.len(), 3, "three 300 KB events fit 1 MB, four do not");
    assert!(serde_json::to_vec(&batch.batch).unwrap().len() <= wire::MAX_BODY_BYTES);
}

#[test]
fn records_go_until_the_hall_has_their_current_state() {
    let cache = Cache::open_in_memory().unwrap();
    cache
        .transaction(|tx| {
            tx.execute(
                "INSERT INTO outbox (biz_num, auth_id, uscc, enterprise_name, service_item_code, service_item_name,
                     status, used_license_codes, operator_json, submitted_at, state, next_attempt_at)
                 VALUES ('YS-1', 'A1', '91440101MA5CXXXX1A', '某公司', '1101', '事项', 'DONE', '[\"L1\",\"L2\"]',
                     '{\"account\":\"clerk01\",\"name\":\"张\",\"role\":\"r\",\"division_code\":\"d\",\"service_org\":\"s\",\"service_org_code\":\"c\"}',
                     '2026-11-29T09:00:00.000+08:00', 'queued', '2026-11-29T09:00:00.000+08:00')",
                [],
            )?;
            Ok(())
        })
        .unwrap();
    let (records, states) = cache.read(unshipped_records).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].used_license_codes, ["L1", "L2"]);
    assert_eq!(records[0].operator_account, "clerk01");
    let prepared = Prepared {
        batch: Batch { events: vec![], checkpoint: None, records, anchor: None },
        signed: None,
        records: states,
    };
    let ack = Ack { acked_seq: 0, stored: 0, records: 1, witness: None };
    let hall = CounterKey::load_or_create(&Cache::open_in_memory().unwrap()).unwrap();
    pin_hall_key(&cache, &hall.public_pem(), 0, at(29, 9, 0)).unwrap();
    accept(&cache, &prepared, &ack, &hall.public_pem(), at(29, 9, 1)).unwrap();
    assert!(cache.read(unshipped_records).unwrap().0.is_empty());
    cache.transaction(|tx| Ok(tx.execute("UPDATE outbox SET state = 'refused' WHERE biz_num = 'YS-1'", [])?)).unwrap();
    assert_eq!(cache.read(unshipped_records).unwrap().0.len(), 1, "a changed state goes again");
}

#[test]
fn the_hall_key_is_pinned_at_first_contact() {
    let cache = Cache::open_in_memory().unwrap();
    let hall = CounterKey::load_or_create(&Cache::open_in_memory().unwrap()).unwrap();
    let other = CounterKey::load_or_create(&Cache::open_in_memory().unwrap()).unwrap();
    pin_hall_key(&cache, &hall.public_pem(), 0, at(29, 9, 0)).unwrap();
    pin_hall_key(&cache, &hall.public_pem(), 0, at(29, 9, 0)).unwrap();
    let err = pin_hall_key(&cache, &other.public_pem(), 0, at(29, 9, 0)).unwrap_err();
    assert_eq!(err.code, ErrorCode::HallRefused);
    assert!(err.message.contains("不同"), "{}", err.message);
}

#[test]
fn the_wait_after_failures_doubles_to_five_minutes_and_is_spread() {
    assert_eq!(retry_delay(1, 1.0), Duration::from_secs(5));
    assert_eq!(retry_delay(1, 0.0), Duration::from_millis(2500));
    assert_eq!(retry_delay(3, 1.0), Duration::from_secs(20));
    assert_eq!(retry_delay(30, 1.0), Duration::from_secs(300));
    assert_eq!(retry_delay(30, 0.0), Duration::from_secs(150));
}

#[test]
fn the_halls_countersignature_goes_into_the_counters_own_export() {
    let cache = Cache::open_in_memory().unwrap();
    let key = CounterKey::load_or_create(&cache).unwrap();
    let hall = CounterKey::load_or_create(&Cache::open_in_memory().unwrap()).unwrap();
    for minute in 0..6 {
        append(&cache, at(29, 9, minute), "scan");
    }
    let prepared = next_batch(&cache, &key, &scope(), 0, at(29, 10, 0)).unwrap();
    let signed = prepared.signed.as_ref().unwrap();
    let witness = wire::Witness {
        first_seq: 1,
        last_seq: 6,
        signature: base64::engine::general_purpose::STANDARD.encode(hall.sign(signed.text.as_bytes())),
        hall_public_pem: hall.public_pem(),
    };
    pin_hall_key(&cache, &hall.public_pem(), 0, at(29, 10, 0)).unwrap();
    let ack = Ack { acked_seq: 6, stored: 6, records: 0, witness: Some(witness) };
    accept(&cache, &prepared, &ack, &hall.public_pem(), at(29, 10, 0)).unwrap();
    assert_eq!(
        status(&cache).unwrap(),
        ShipStatus { acked_seq: 6, acked_at: status(&cache).unwrap().acked_at, behind: 0, witnesses: 1 }
    );

    let out = tempfile::tempdir().unwrap();
    let request = crate::audit::export::ExportRequest {
        by: &ctx(),
        range: (1, 6),
        formats: crate::audit::export::Formats { csv: true, xlsx: false },
        out_dir: out.path(),
        stem: "day",
        now: at(29, 11, 0),
    };
    let report = crate::audit::export::export(&cache, &key, &request).unwrap();
    let names: Vec<String> =
        report.files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert!(
        names.ends_with(&["day.witness.checkpoint".into(), "day.witness.sig".into(), "day.witness.pub.pem".into()]),
        "{names:?}"
    );
    let text = std::fs::read(out.path().join("day.witness.checkpoint")).unwrap();
    let signature = std::fs::read(out.path().join("day.witness.sig")).unwrap();
    assert!(verify_signature(&hall.public_pem(), &text, &signature));
    let checkpoint = crate::audit::checkpoint::Checkpoint::parse(std::str::from_utf8(&text).unwrap()).unwrap();
    assert_eq!(checkpoint.head, report.head, "the hall witnessed the export's last row");

    // A forged countersignature is never kept.
    let mut forged = ack.clone();
    forged.witness.as_mut().unwrap().signature = base64::engine::general_purpose::STANDARD.encode(key.sign(b"other"));
    assert_eq!(
        accept(&cache, &prepared, &forged, &hall.public_pem(), at(29, 10, 0)).unwrap_err().code,
        ErrorCode::HallRefused
    );
}
