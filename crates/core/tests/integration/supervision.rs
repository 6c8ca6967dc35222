//! The supervisor's view over the sandbox: a clerk's shift of real scans, then the day at a glance,
//! the paged and filtered event list and an export — and a clerk never gets any of it.

use std::sync::Arc;
use std::time::Duration;
use yueshang_core::ErrorCode;
use yueshang_core::accounts::{NewAccount, Role};
use yueshang_core::audit::day::EventFilter;
use yueshang_core::audit::export::Formats;
use yueshang_core::audit::key::CounterKey;
use yueshang_core::audit::verify::verify_export;
use yueshang_core::cache::Cache;
use yueshang_core::clock::{RandomNonces, SystemClock};
use yueshang_core::desk::{Desk, SharedObserver};
use yueshang_core::outbox::{Outbox, random_jitter};
use yueshang_core::station::Station;
use yueshang_core::supervision::Supervision;
use yueshang_gateway_sim::samples;
use yueshang_gateway_sim::{SandboxGateway, SimOptions};

const CLERK: NewAccount<'static> =
    NewAccount { account: "clerk01", name: "李晓红", role: Role::Clerk, password: "hall-clerk-01" };
const CHIEF: NewAccount<'static> =
    NewAccount { account: "chief01", name: "陈志强", role: Role::Supervisor, password: "hall-chief-01" };

#[tokio::test]
async fn a_supervisor_sees_the_clerks_day_and_a_clerk_sees_none_of_it() {
    let sim = SandboxGateway::start("127.0.0.1:0".parse().unwrap(), SimOptions::default()).await.unwrap();
    let mut settings = yueshang_gateway_sim::sandbox_settings(&sim.base_url());
    settings.tuning.request_timeout = Duration::from_secs(4);
    let dir = tempfile::tempdir().unwrap();
    let cache = Arc::new(
        Cache::open(&dir.path().join("cache.sqlite3"), &crate::keys_beside(&dir.path().join("cache.sqlite3"))).unwrap(),
    );
    let station = Arc::new(Station::new(settings, cache, Arc::new(SystemClock), Arc::new(RandomNonces)).unwrap());
    let outbox = Arc::new(Outbox::new(station.clone(), random_jitter()));
    let desk = Desk::new(station.clone(), outbox).unwrap();
    let key = CounterKey::load_or_create(station.cache()).unwrap();
    let supervision = Supervision::new(station.clone(), key);
    desk.accounts().seed(&[CLERK, CHIEF]).unwrap();
    let quiet: SharedObserver = Arc::new(|_| {});

    // Nobody signed in: no scan, no review.
    let refused = desk.scan("x".into(), None, quiet.clone()).await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::SignInRequired);
    let today = station.today();
    assert_eq!(supervision.day_summary(today).unwrap_err().code, ErrorCode::SignInRequired);

    desk.sign_in("clerk01", "hall-clerk-01").unwrap();
    assert_eq!(desk.scan("not a code".into(), None, quiet.clone()).await.unwrap_err().code, ErrorCode::CodeInvalid);
    let uscc = crate::small_uscc();
    for _ in 0..2 {
        let payload = sim.control().issue_code(&uscc, None).unwrap().payload;
        desk.scan(payload, None, quiet.clone()).await.unwrap();
    }
    // The clerk reaches none of the supervisor's doors.
    for err in [
        supervision.day_summary(today).unwrap_err(),
        supervision.events(today, &EventFilter::default(), 0, 50).unwrap_err(),
        supervision.chain_status().unwrap_err(),
        supervision.accounts().unwrap_err(),
        supervision.reset_password("chief01", "taken-over-1").unwrap_err(),
    ] {
        assert_eq!(err.code, ErrorCode::NotPermitted);
    }
    desk.sign_out().unwrap();

    desk.sign_in("chief01", "hall-chief-01").unwrap();
    let day = supervision.day_summary(today).unwrap();
    assert_eq!((day.scans, day.scans_ok, day.customers), (3, 2, 2), "{day:?}");
    assert_eq!(day.success_rate(), Some(2.0 / 3.0));
    let licenses = samples::enterprises().into_iter().find(|e| e.uscc == uscc).unwrap().licenses.len() as u64;
    assert_eq!(day.licenses_fetched, 2 * licenses);
    assert!(day.median_scan_ms.is_some() && day.slowest_scan_ms >= day.median_scan_ms);
    assert!(day.slowest_biz_num.is_some());
    assert_eq!(day.failures_by_reason.len(), 1);
    assert_eq!((day.failures_by_reason[0].key.as_str(), day.failures_by_reason[0].count), ("CODE_INVALID", 1));
    assert_eq!(day.failures_by_reason[0].label, "扫到的不是粤商码");
    assert_eq!(day.by_hour.len(), 24);
    assert_eq!(day.by_hour.iter().map(|h| h.events).sum::<u64>(), day.events);
    let clerk = day.by_clerk.iter().find(|c| c.key == "clerk01").expect("the clerk's row");
    assert_eq!(clerk.label, "李晓红");
    let item = &station.settings().service_items[0];
    assert!(day.by_item.iter().any(|i| i.key == item.code && i.label == item.name), "{:?}", day.by_item);
    assert!(day.by_kind.iter().any(|k| k.key == "sign_in" && k.label == "登录"));

    // The event list: filtered, paged, in chain order.
    let all = supervision.events(today, &EventFilter::default(), 0, 500).unwrap();
    assert_eq!(all.total, day.events);
    let page = supervision.events(today, &EventFilter::default(), 5, 3).unwrap();
    assert_eq!(
        page.rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
        all.rows[5..8].iter().map(|r| r.seq).collect::<Vec<_>>()
    );
    let failed =
        EventFilter { outcome: Some("failed".into()), clerk: Some("clerk01".into()), ..EventFilter::default() };
    let failures = supervision.events(today, &failed, 0, 50).unwrap();
    assert_eq!(failures.total, 1);
    assert_eq!(failures.rows[0].error_code.as_deref(), Some("CODE_INVALID"));
    let fetches =
        EventFilter { kind: Some("license_fetch".into()), uscc: Some(uscc.clone()), ..EventFilter::default() };
    assert_eq!(supervision.events(today, &fetches, 0, 50).unwrap().total, 2 * licenses);
    let other_day = today.pred_opt().unwrap();
    assert_eq!(supervision.events(other_day, &EventFilter::default(), 0, 50).unwrap().total, 0);

    // The export of the day, with progress, verifies; it is itself on the record.
    let out = dir.path().join("export");
    let mut seen = Vec::new();
    let report = supervision
        .export_day(today, Formats { csv: true, xlsx: true }, &out, &mut |done, total| seen.push((done, total)))
        .unwrap()
        .expect("the day has events");
    assert_eq!(seen.last(), Some(&(report.events, report.events)));
    assert_eq!(verify_export(&report.files[0]).unwrap().events, report.events);
    assert_eq!(verify_export(&report.files[1]).unwrap().events, report.events);
    let last = station.cache().audit_events().unwrap().pop().unwrap();
    assert_eq!((last.kind.as_str(), last.operator_account.as_str()), ("audit_export", "chief01"));
    assert!(
        supervision.export_day(other_day, Formats { csv: true, xlsx: false }, &out, &mut |_, _| {}).unwrap().is_none()
    );

    let status = supervision.chain_status().unwrap();
    assert_eq!(status.count as u64, day.events + 1, "and the export since");
}
