//! Unit tests of the cache: in-memory SQLite, fixed times.

use super::*;
use crate::audit::{AuditContext, AuditKind, Outcome};
use crate::domain::{AuthorizedLicense, IssueState};
use crate::error::ErrorCode;
use crate::keystore::{KeyStore, Preference};

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn counter() -> Counter {
    Counter { hall_code: "4401001".into(), hall_name: "天河区政务服务中心".into(), counter: "A03".into() }
}

fn enterprise() -> Enterprise {
    Enterprise {
        name: "广州穗禾餐饮管理有限公司".into(),
        uscc: Uscc::parse("91440300708461136T").unwrap(),
        legal_rep_name: "李*".into(),
    }
}

fn summary(code: &str) -> LicenseSummary {
    LicenseSummary {
        license_code: code.into(),
        name: "食品经营许可证".into(),
        license_type: "CERTIFICATE".into(),
        id_code: "JY14401060012345".into(),
        issue_org_name: "广州市天河区市场监督管理局".into(),
        begin_date: NaiveDate::from_ymd_opt(2024, 1, 1),
        expiry_date: NaiveDate::from_ymd_opt(2029, 1, 1),
        issue_state: IssueState::Issued,
    }
}

fn authorization(codes: &[&str]) -> Authorization {
    Authorization {
        auth_id: "AUTH-1".into(),
        expires_at: at("2026-11-28T10:30:00+08:00"),
        licenses: codes
            .iter()
            .map(|c| AuthorizedLicense { summary: summary(c), auth_code: format!("ac-{c}").into() })
            .collect(),
    }
}

fn seeded(codes: &[&str]) -> Cache {
    let cache = Cache::open_in_memory().unwrap();
    let item = ServiceItem::new("ITEM1", "食品经营许可（新办）").unwrap();
    let biz = BizNum::from_existing("YS-1");
    cache
        .store_authorization(&enterprise(), &authorization(codes), &item, &biz, at("2026-11-28T10:00:00+08:00"))
        .unwrap();
    cache
}

#[test]
fn migrations_are_valid() {
    migrations().validate().unwrap();
}

/// A counter that cached licenses in plain text before the sealed cache: after the upgrade and the
/// first start's purge, none of it is left in the database file or its WAL.
#[test]
fn an_upgrade_leaves_nothing_of_the_plain_cache_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/cache.sqlite3");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let secret_bytes = "PLAIN-LICENSE-FILE-BYTES-0417";
    let face = "广州市天河区体育西路 103 号 明文面项";
    {
        let mut old = Connection::open(&path).unwrap();
        old.pragma_update(None, "journal_mode", "WAL").unwrap();
        migrations().to_version(&mut old, 6).unwrap();
        old.execute_batch(&format!(
            "INSERT INTO enterprises VALUES ('91440300708461136T', '广州穗禾餐饮管理有限公司', '欧阳明辉', 't');
             INSERT INTO authorizations VALUES ('OLD-1', '91440300708461136T', 'I', '事项', 'YS-1', 't', '2026-11-01T09:00:00+08:00');
             INSERT INTO authorized_licenses VALUES ('OLD-1', 0, 'L1', 'AC-PLAIN-AUTH-CODE-77', '证', '{{}}');
             INSERT INTO licenses (license_code, auth_id, uscc, name, license_type, id_code, issue_org_name,
                 license_status, status_at_fetch, face_fields, source, fetched_at)
                 VALUES ('L1', 'OLD-1', '91440300708461136T', '证', 'C', 'N', 'O', 'ISSUED', 'valid', '{face}', 'code2auth', 't');
             INSERT INTO files VALUES ('L1', 'OLD-1', 'f.pdf', 'application/pdf', 1, 'h', 'u', CAST('{secret_bytes}' AS BLOB), 't');"
        ))
        .unwrap();
    }
    let on_disk = |needle: &str| {
        std::fs::read_dir(path.parent().unwrap()).unwrap().any(|file| {
            let bytes = std::fs::read(file.unwrap().path()).unwrap();
            bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        })
    };
    assert!(on_disk(secret_bytes) && on_disk("欧阳明辉"), "the old cache holds them in plain text");
    let keys = KeyStore::with_preference(dir.path().join("config"), Preference::File);
    let cache = Cache::open(&path, &keys).unwrap();
    let ctx = AuditContext { operator_account: "-".into(), hall_code: "H".into(), counter: "C".into() };
    let at = at("2026-11-30T09:00:00+08:00");
    let purged = crate::purge::purge(&cache, crate::purge::Scope::Expired { license_days: 1, keep: None }, &ctx, at);
    assert_eq!(purged.unwrap().customers, 1, "the old authorization has no data key: erased");
    for needle in [secret_bytes, face, "欧阳明辉", "AC-PLAIN-AUTH-CODE-77"] {
        assert!(!on_disk(needle), "{needle} is still on disk");
    }
}

#[test]
fn handling_numbers_count_per_day_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/cache.sqlite3");
    let keys = KeyStore::with_preference(dir.path().join("config"), Preference::File);
    let day = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    {
        let cache = Cache::open(&path, &keys).unwrap();
        assert_eq!(cache.next_biz_num(&counter(), day).unwrap().as_str(), "YS-4401001-A03-20261128-0001");
        assert_eq!(cache.next_biz_num(&counter(), day).unwrap().as_str(), "YS-4401001-A03-20261128-0002");
    }
    let cache = Cache::open(&path, &keys).unwrap();
    assert_eq!(cache.next_biz_num(&counter(), day).unwrap().as_str(), "YS-4401001-A03-20261128-0003");
    let next_day = day.succ_opt().unwrap();
    assert_eq!(cache.next_biz_num(&counter(), next_day).unwrap().as_str(), "YS-4401001-A03-20261129-0001");
    let other = Counter { counter: "A04".into(), ..counter() };
    assert_eq!(cache.next_biz_num(&other, day).unwrap().as_str(), "YS-4401001-A04-20261128-0001");
}

#[test]
fn a_license_and_its_file_are_stored_together() {
    let cache = seeded(&["L1", "L2"]);
    let file = LicenseFile::new("食品经营许可证.pdf".into(), b"%PDF-1.7 test".to_vec());
    let s = summary("L1");
    let uscc = enterprise().uscc;
    let faces = FaceFields(vec![("经营者名称".into(), "广州穗禾餐饮管理有限公司".into())]);
    let record = LicenseRecord {
        auth_id: "AUTH-1",
        uscc: &uscc,
        summary: &s,
        abolish_reason: None,
        face_fields: &faces,
        status: LicenseStatus::Valid,
        source: Source::Code2Auth,
        fetched_at: at("2026-11-28T10:00:01+08:00"),
        file: Some((&file, "食品经营许可（新办）")),
    };
    cache.store_license(&record).unwrap();
    cache.store_license(&record).unwrap(); // a re-fetch replaces, never duplicates
    let listed = cache.licenses().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].enterprise_name, "广州穗禾餐饮管理有限公司");
    assert_eq!(listed[0].file.as_ref().unwrap().sha256, file.sha256);
    assert_eq!(*cache.file_content("AUTH-1", "L1").unwrap().unwrap(), file.bytes);
    assert_eq!(cache.auth_code("AUTH-1", "L2").unwrap().unwrap().expose(), "ac-L2");
    assert_eq!(cache.partial_license_count().unwrap(), 0);
}

#[test]
fn a_failed_file_write_leaves_no_license_behind() {
    let cache = seeded(&["L1"]);
    // A license whose authorization is unknown violates a foreign key in the middle of the
    // transaction: nothing of it may remain.
    let file = LicenseFile::new("x.pdf".into(), b"%PDF".to_vec());
    let s = summary("L1");
    let uscc = enterprise().uscc;
    let record = LicenseRecord {
        auth_id: "NO-SUCH-AUTH",
        uscc: &uscc,
        summary: &s,
        abolish_reason: None,
        face_fields: &FaceFields::default(),
        status: LicenseStatus::Valid,
        source: Source::Code2Auth,
        fetched_at: at("2026-11-28T10:00:01+08:00"),
        file: Some((&file, "x")),
    };
    let err = cache.store_license(&record).unwrap_err();
    assert_eq!(err.code, ErrorCode::StorageFailed);
    assert!(cache.licenses().unwrap().is_empty());
}

#[test]
fn the_audit_trail_is_append_only() {
    let cache = Cache::open_in_memory().unwrap();
    let ctx = AuditContext { operator_account: "chenxm".into(), hall_code: "4401001".into(), counter: "A03".into() };
    let mut event = AuditEvent::failed(AuditKind::Exchange, ErrorCode::CodeExpired);
    event.biz_num = Some("YS-1".into());
    let id = cache.append_audit(&ctx, &event, at("2026-11-28T10:00:00+08:00")).unwrap();
    cache
        .append_audit(&ctx, &AuditEvent::new(AuditKind::ScanDone, Outcome::Info), at("2026-11-28T10:00:01+08:00"))
        .unwrap();
    let events = cache.audit_events().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].id, id);
    assert_eq!(events[0].error_code.as_deref(), Some("CODE_EXPIRED"));
    assert_eq!(events[0].operator_account, "chenxm");
    let conn = cache.conn();
    assert!(conn.execute("UPDATE audit_events SET kind = 'x'", []).is_err());
    assert!(conn.execute("DELETE FROM audit_events", []).is_err());
    drop(conn);
    assert_eq!(cache.audit_events().unwrap().len(), 2);
}
