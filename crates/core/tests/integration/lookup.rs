//! 依职能用证 over the sandbox: a lookup by USCC on a ground ends in the same cached licenses, audit
//! trail and handling record as a scan; paging, a ground off the list, and an enterprise with nothing.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use yueshang_core::ErrorCode;
use yueshang_core::cache::Cache;
use yueshang_core::clock::{RandomNonces, SystemClock};
use yueshang_core::desk::{Desk, SharedObserver};
use yueshang_core::domain::{Entry, Uscc};
use yueshang_core::outbox::{Outbox, RecordState, RecordStatus, random_jitter};
use yueshang_core::station::{ScanEvent, Station};
use yueshang_gateway_sim::samples;
use yueshang_gateway_sim::{SandboxGateway, SimOptions};

const GROUND: &str = "依职能核验";

struct Setup {
    sim: SandboxGateway,
    desk: Desk,
    events: Arc<Mutex<Vec<ScanEvent>>>,
}

async fn setup(page_size: u32) -> Setup {
    let sim = SandboxGateway::start("127.0.0.1:0".parse().unwrap(), SimOptions::default()).await.unwrap();
    let mut settings = yueshang_gateway_sim::sandbox_settings(&sim.base_url());
    settings.tuning.request_timeout = Duration::from_millis(4000);
    settings.lookup.page_size = page_size;
    let cache = Arc::new(Cache::open_in_memory().unwrap());
    let station = Arc::new(Station::new(settings, cache, Arc::new(SystemClock), Arc::new(RandomNonces)).unwrap());
    let outbox = Arc::new(Outbox::new(station.clone(), random_jitter()));
    Setup { sim, desk: Desk::new(station, outbox).unwrap(), events: Arc::default() }
}

impl Setup {
    fn observer(&self) -> SharedObserver {
        let events = self.events.clone();
        Arc::new(move |e| events.lock().unwrap().push(e))
    }

    fn requests(&self, route: &str) -> u64 {
        self.sim.control().stats().get(route).copied().unwrap_or(0)
    }

    /// The audit trail's (kind, outcome, error code, detail) in order.
    fn trail(&self) -> Vec<(String, String, Option<String>, Option<String>)> {
        let events = self.desk.station().cache().audit_events().unwrap();
        events.into_iter().map(|e| (e.kind, e.outcome, e.error_code, e.detail)).collect()
    }
}

fn uscc(text: &str) -> Uscc {
    match Entry::read(text).unwrap() {
        Entry::Holder(uscc) => uscc,
        Entry::Code(_) => panic!("{text} should read as a USCC"),
    }
}

/// The sample enterprise with the most licenses (13), whose lookup needs several small pages.
fn largest() -> samples::SampleEnterprise {
    samples::enterprises().into_iter().max_by_key(|e| e.licenses.len()).unwrap()
}

#[tokio::test]
async fn a_lookup_on_a_ground_pages_through_and_caches_every_license_like_a_scan() {
    let s = setup(5).await;
    let sample = largest();
    // Typed as a clerk would, in lower case with spaces.
    let typed = format!("{} {}", &sample.uscc[..8], sample.uscc[8..].to_lowercase());
    let outcome = s.desk.lookup(uscc(&typed), GROUND.into(), None, s.observer()).await.unwrap();

    assert_eq!(outcome.enterprise.uscc.as_str(), sample.uscc);
    assert_eq!(outcome.licenses.len(), sample.licenses.len());
    let pages = sample.licenses.len().div_ceil(5) as u64;
    assert_eq!(s.requests("license_auth"), pages, "13 licenses in pages of 5");
    assert_eq!(s.requests("get_license"), 0, "the lookup returned every detail already");
    assert!(s.requests("archive") >= outcome.licenses.iter().filter(|l| l.file.is_some()).count() as u64);
    let station = s.desk.station();
    assert_eq!(station.cache().partial_license_count().unwrap(), 0);
    let cached = station.cache().licenses().unwrap();
    assert_eq!(cached.len(), sample.licenses.len());
    assert!(cached.iter().all(|c| c.auth_id == outcome.auth_id && c.uscc == sample.uscc));

    // The same events a scan reports, ending in Done.
    let events = s.events.lock().unwrap();
    assert!(matches!(events.first(), Some(ScanEvent::EnterpriseKnown { .. })));
    assert!(matches!(events.last(), Some(ScanEvent::Done { .. })));
    drop(events);

    // The ground is on record before the question went out, and with the answer.
    let trail = s.trail();
    let lookups: Vec<_> = trail.iter().filter(|(kind, ..)| kind == "lookup").collect();
    assert_eq!(lookups.len(), 2, "{trail:?}");
    assert_eq!(lookups[0].1, "info");
    assert_eq!(lookups[1].1, "ok");
    assert!(lookups.iter().all(|(.., detail)| detail.as_deref().unwrap().starts_with("依据：依职能核验")));
    assert_eq!(trail.iter().filter(|(kind, ..)| kind == "license_fetch").count(), sample.licenses.len());
    assert_eq!(trail.last().unwrap().0, "scan_done");
}

#[tokio::test]
async fn the_handling_record_of_a_lookup_carries_no_authorization() {
    let s = setup(150).await;
    let outcome = s.desk.lookup(uscc(&crate::small_uscc()), GROUND.into(), None, s.observer()).await.unwrap();
    let valid: Vec<String> = outcome
        .licenses
        .iter()
        .filter(|l| l.status == yueshang_core::domain::LicenseStatus::Valid)
        .map(|l| l.summary.license_code.clone())
        .collect();
    assert!(!valid.is_empty());
    let record = s.desk.submit_record(RecordStatus::Accepted, None, valid).await.unwrap();
    assert_eq!(record.state, RecordState::Sent);
    let sent = s.sim.control().records();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].request.auth_id, "", "a case handled by holder has no authorization of the enterprise's");
    assert_eq!(sent[0].request.biz_num, outcome.biz_num.as_str());
}

#[tokio::test]
async fn a_ground_off_the_list_asks_nothing_and_an_enterprise_with_nothing_is_said_so() {
    let s = setup(150).await;
    let sample = crate::small_uscc();
    let err = s.desk.lookup(uscc(&sample), "领导同意".into(), None, s.observer()).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::GroundRequired);
    assert_eq!(s.requests("license_auth"), 0, "no ground, no question");
    assert!(s.trail().is_empty(), "nothing was asked, so nothing to account for");

    // A valid USCC the sandbox has no licenses for.
    let first17 = "91440101MA5CNNNE0";
    let nobody = format!("{first17}{}", yueshang_core::domain::uscc::check_char(first17).unwrap());
    let err = s.desk.lookup(uscc(&nobody), GROUND.into(), None, s.observer()).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NoLicenses);
    assert!(err.message.starts_with("该企业没有可用证照"), "{}", err.message);
    assert!(s.desk.customer().is_none());
    let trail = s.trail();
    let last = trail.last().unwrap();
    assert_eq!((last.0.as_str(), last.1.as_str(), last.2.as_deref()), ("lookup", "failed", Some("NO_LICENSES")));
    assert!(last.3.as_deref().unwrap().starts_with("依据：依职能核验"));
}

#[tokio::test]
async fn a_uscc_given_to_scan_never_goes_out_as_a_code_and_its_refusal_is_on_record() {
    let s = setup(150).await;
    let sample = crate::small_uscc();
    let err = s.desk.scan(sample.to_lowercase(), None, s.observer()).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::GroundRequired);
    let wrong = format!("{}{}", &sample[..17], if sample.ends_with('A') { 'B' } else { 'A' });
    let err = s.desk.scan(wrong, None, s.observer()).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::UsccInvalid);
    assert!(err.message.contains("第 18 位"), "{}", err.message);
    assert_eq!(s.requests("code2auth") + s.requests("license_auth"), 0);
    let refused: Vec<_> =
        s.trail().into_iter().filter(|(kind, ..)| kind == "scan_rejected").map(|(.., code, _)| code).collect();
    assert_eq!(refused, [Some("GROUND_REQUIRED".to_owned()), Some("USCC_INVALID".to_owned())]);
}
