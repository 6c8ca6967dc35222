//! Core ↔ sandbox gateway over real HTTP: every sample enterprise, every error code the gateway
//! can cause, every injected fault, and the invariants after each (no partial license, an audit
//! event for every failure).

use std::sync::{Arc, Mutex};
use std::time::Duration;
use yueshang_core::cache::Cache;
use yueshang_core::clock::{Clock, FixedClock, NonceSource, RandomNonces, SystemClock};
use yueshang_core::config::Settings;
use yueshang_core::domain::{BizNum, LicenseStatus, ServiceItem};
use yueshang_core::station::{ScanEvent, ScanOutcome, Station};
use yueshang_core::{Error, ErrorCode};
use yueshang_gateway_sim::samples::{self, Consent, FileKind};
use yueshang_gateway_sim::{SandboxGateway, SimOptions};

struct Setup {
    sim: SandboxGateway,
    station: Station,
    events: Arc<Mutex<Vec<ScanEvent>>>,
}

async fn sandbox() -> SandboxGateway {
    SandboxGateway::start("127.0.0.1:0".parse().unwrap(), SimOptions::default()).await.unwrap()
}

fn settings_for(sim: &SandboxGateway) -> Settings {
    let mut settings = yueshang_gateway_sim::sandbox_settings(&sim.base_url());
    // Short enough that timeout faults finish quickly (the real default is 17 s), long enough
    // that a 17 MiB oversized answer from a debug-built sandbox arrives on a loaded 2-core machine.
    settings.tuning.request_timeout = Duration::from_millis(4000);
    settings
}

fn station_with(settings: Settings, clock: Arc<dyn Clock>, nonces: Arc<dyn NonceSource>) -> Station {
    Station::new(settings, Arc::new(Cache::open_in_memory().unwrap()), clock, nonces).unwrap()
}

async fn setup() -> Setup {
    let sim = sandbox().await;
    let station = station_with(settings_for(&sim), Arc::new(SystemClock), Arc::new(RandomNonces));
    Setup { sim, station, events: Arc::new(Mutex::new(Vec::new())) }
}

fn uscc_with(consent: Consent, pick: impl Fn(&samples::SampleEnterprise) -> bool) -> String {
    samples::enterprises().into_iter().find(|e| e.consent == consent && pick(e)).expect("sample enterprise").uscc
}

fn normal_uscc() -> String {
    uscc_with(Consent::Granted, |e| {
        e.licenses.len() <= 4
            && e.licenses.iter().all(|l| l.license.license_status == "ISSUED" && l.file == FileKind::Pdf)
    })
}

impl Setup {
    fn code(&self, uscc: &str) -> String {
        self.sim.control().issue_code(uscc, None).unwrap().payload
    }

    async fn scan(&self, payload: &str) -> Result<ScanOutcome, Error> {
        self.scan_item(payload, None).await
    }

    async fn scan_item(&self, payload: &str, item: Option<&str>) -> Result<ScanOutcome, Error> {
        let biz = self.station.next_biz_num().unwrap();
        let events = self.events.clone();
        self.station.scan(payload, item, &biz, &move |e| events.lock().unwrap().push(e)).await
    }

    async fn scan_error(&self, payload: &str) -> ErrorCode {
        self.scan(payload).await.expect_err("scan should fail").code
    }

    fn requests(&self, route: &str) -> u64 {
        self.sim.control().stats().get(route).copied().unwrap_or(0)
    }

    fn audit_codes(&self) -> Vec<(String, Option<String>)> {
        self.station.cache().audit_events().unwrap().into_iter().map(|e| (e.kind, e.error_code)).collect()
    }

    /// The invariants that hold after anything: no license cached without its file (unless revoked).
    fn assert_no_partial_license(&self) {
        assert_eq!(self.station.cache().partial_license_count().unwrap(), 0);
    }
}

#[tokio::test]
async fn every_sample_enterprise_scans_as_its_note_says() {
    let sim = sandbox().await;
    // The large files are drawn per request, eight 8-megapixel scanned pages: seconds in a debug
    // build on a loaded 2-core machine, more than the timeout-fault tests' 4 s.
    let mut settings = settings_for(&sim);
    settings.tuning.request_timeout = Duration::from_secs(60);
    let station = station_with(settings, Arc::new(SystemClock), Arc::new(RandomNonces));
    let s = Setup { sim, station, events: Arc::new(Mutex::new(Vec::new())) };
    let today = chrono::Utc::now().with_timezone(&yueshang_core::clock::china_tz()).date_naive();
    for enterprise in samples::enterprises() {
        let result = s.scan(&s.code(&enterprise.uscc)).await;
        match enterprise.consent {
            Consent::Declined => {
                assert_eq!(result.unwrap_err().code, ErrorCode::ConsentDeclined, "{}", enterprise.name);
                continue;
            }
            Consent::NothingTicked => {
                assert!(result.unwrap().licenses.is_empty(), "{}", enterprise.name);
                continue;
            }
            Consent::Granted => {}
        }
        let outcome = result.unwrap_or_else(|e| panic!("{}: {e:?}", enterprise.name));
        assert_eq!(outcome.enterprise.uscc.as_str(), enterprise.uscc);
        assert_eq!(outcome.licenses.len(), enterprise.licenses.len(), "{}", enterprise.name);
        for (got, sample) in outcome.licenses.iter().zip(&enterprise.licenses) {
            let w = &sample.license;
            assert!(got.error.is_none(), "{} {}: {:?}", enterprise.name, w.name, got.error);
            assert_eq!(got.summary.license_code, w.license_code);
            let expected = if w.license_status == "ABOLISHED" {
                LicenseStatus::Revoked
            } else if yueshang_core::domain::license::parse_license_date(&w.expiry_date)
                .unwrap()
                .is_some_and(|d| d < today)
            {
                LicenseStatus::Expired
            } else {
                LicenseStatus::Valid
            };
            assert_eq!(got.status, expected, "{} {}", enterprise.name, w.name);
            match (expected, sample.file) {
                (LicenseStatus::Revoked, _) => assert!(got.file.is_none()),
                (_, FileKind::Pdf | FileKind::ScannedPdf) => {
                    assert_eq!(got.file.as_ref().unwrap().mime, "application/pdf")
                }
                (_, FileKind::ScannedJpeg) => assert_eq!(got.file.as_ref().unwrap().mime, "image/jpeg"),
            }
        }
    }
    s.assert_no_partial_license();
    let cached = s.station.cached_licenses().unwrap();
    let expected: usize =
        samples::enterprises().iter().filter(|e| e.consent == Consent::Granted).map(|e| e.licenses.len()).sum();
    assert_eq!(cached.len(), expected);
    for c in cached.iter().filter(|c| c.file.is_some()) {
        let bytes = s.station.cache().file_content(&c.auth_id, &c.license_code).unwrap().unwrap();
        assert_eq!(bytes.len() as u64, c.file.as_ref().unwrap().size);
    }
    assert_eq!(s.requests("login"), 1, "one e-license login serves every scan");
}

#[tokio::test]
async fn events_stream_in_order_and_the_audit_trail_has_every_step() {
    let s = setup().await;
    let many = uscc_with(Consent::Granted, |e| e.licenses.len() >= 10);
    let outcome = s.scan(&s.code(&many)).await.unwrap();
    let n = outcome.licenses.len();
    assert!(n >= 10);
    let events = s.events.lock().unwrap().clone();
    assert!(matches!(events.first(), Some(ScanEvent::EnterpriseKnown { .. })));
    assert!(matches!(events.last(), Some(ScanEvent::Done { fetched, failed: 0, .. }) if *fetched == n));
    let arrived = events.iter().filter(|e| matches!(e, ScanEvent::LicenseArrived { .. })).count();
    let files = events.iter().filter(|e| matches!(e, ScanEvent::FileArrived { .. })).count();
    assert_eq!((arrived, files), (n, n));
    for position in 0..n {
        let arrived_at =
            events.iter().position(|e| matches!(e, ScanEvent::LicenseArrived { position: p, .. } if *p == position));
        let file_at =
            events.iter().position(|e| matches!(e, ScanEvent::FileArrived { position: p, .. } if *p == position));
        assert!(arrived_at < file_at, "license {position} arrives before its file");
    }
    let kinds: Vec<String> = s.audit_codes().into_iter().map(|(k, _)| k).collect();
    assert_eq!(kinds.first().map(String::as_str), Some("scan"));
    assert_eq!(kinds.iter().filter(|k| *k == "license_fetch").count(), n);
    assert_eq!(kinds.last().map(String::as_str), Some("scan_done"));
    let audit = s.station.cache().audit_events().unwrap();
    assert!(audit.iter().all(|e| e.biz_num.as_deref() == Some(outcome.biz_num.as_str())));
    assert!(audit.iter().all(|e| e.operator_account == s.station.settings().operator.account));
    assert!(audit.iter().all(|e| e.counter == s.station.settings().counter.counter));
}

#[tokio::test]
async fn code_failures_are_told_apart_and_audited() {
    let s = setup().await;
    let normal = normal_uscc();

    assert_eq!(s.scan_error("not a 粤商码").await, ErrorCode::CodeInvalid);
    assert_eq!(s.requests("code2auth"), 0, "a bad scan never reaches the network");

    assert_eq!(
        s.scan_error("https://yueshangma.sandbox.invalid/ysm/NoSuchCode_0123456789abcdef").await,
        ErrorCode::CodeUnknown
    );

    let expired = s.sim.control().issue_code(&normal, Some(Duration::ZERO)).unwrap().payload;
    assert_eq!(s.scan_error(&expired).await, ErrorCode::CodeExpired);

    let code = s.code(&normal);
    s.scan(&code).await.unwrap();
    assert_eq!(s.scan_error(&code).await, ErrorCode::CodeUsed);

    let declined = uscc_with(Consent::Declined, |_| true);
    assert_eq!(s.scan_error(&s.code(&declined)).await, ErrorCode::ConsentDeclined);

    assert_eq!(s.scan_item(&s.code(&normal), Some("NO-SUCH-ITEM")).await.unwrap_err().code, ErrorCode::ConfigInvalid);

    let audit = s.audit_codes();
    for code in ["CODE_INVALID", "CODE_UNKNOWN", "CODE_EXPIRED", "CODE_USED", "CONSENT_DECLINED"] {
        assert!(audit.iter().any(|(_, c)| c.as_deref() == Some(code)), "audit lacks {code}: {audit:?}");
    }
}

#[tokio::test]
async fn an_item_the_gateway_has_not_opened_is_a_configuration_problem() {
    let sim = sandbox().await;
    let mut settings = settings_for(&sim);
    settings.service_items.push(ServiceItem::new("11440100MB2C99999X4440117999000", "户外广告设施设置审批").unwrap());
    let station = station_with(settings, Arc::new(SystemClock), Arc::new(RandomNonces));
    let code = sim.control().issue_code(&normal_uscc(), None).unwrap().payload;
    let biz = station.next_biz_num().unwrap();
    let err = station.scan(&code, Some("11440100MB2C99999X4440117999000"), &biz, &|_| {}).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::ItemNotAllowed);
    // The code was not consumed by a refused item: the clerk can pick the right item and rescan.
    station.scan(&code, None, &station.next_biz_num().unwrap(), &|_| {}).await.unwrap();
}

#[tokio::test]
async fn wrong_credentials_and_wrong_clocks_are_told_apart() {
    let sim = sandbox().await;
    let code = || sim.control().issue_code(&normal_uscc(), None).unwrap().payload;
    let scan = |station: Station, payload: String| async move {
        let biz = BizNum::from_existing("YS-T-1");
        station.scan(&payload, None, &biz, &|_| {}).await.unwrap_err().code
    };

    let mut wrong_token = settings_for(&sim);
    wrong_token.gateway.token = yueshang_core::secret::Secret::new("not-the-token");
    let station = station_with(wrong_token, Arc::new(SystemClock), Arc::new(RandomNonces));
    assert_eq!(scan(station, code()).await, ErrorCode::GatewayAuthRejected);

    // This PC's clock is ten minutes slow.
    let slow = Arc::new(FixedClock::at(chrono::Utc::now() - chrono::Duration::minutes(10)));
    let station = station_with(settings_for(&sim), slow, Arc::new(RandomNonces));
    let payload = code();
    let biz = BizNum::from_existing("YS-T-2");
    let err = station.scan(&payload, None, &biz, &|_| {}).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::ClockSkew);
    assert!(err.message.contains("本机时间比网关慢了约"), "{}", err.message);
    assert!(station.gateway().clock_skew_secs().unwrap() >= 590);

    // The gateway's clock is the one that is off: still a clock problem, reported the other way round.
    sim.control().set_faults(vec!["clock-skew=-600".parse().unwrap()]);
    let station = station_with(settings_for(&sim), Arc::new(SystemClock), Arc::new(RandomNonces));
    let err = station.scan(&code(), None, &biz, &|_| {}).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::ClockSkew);
    assert!(err.message.contains("快了约"), "{}", err.message);
    sim.control().clear_faults();

    let mut wrong_paasid = settings_for(&sim);
    wrong_paasid.gateway.paasid = "yst_unknown".into();
    wrong_paasid.gateway.yst_base = sim.base_url().join("ebus/yst_unknown").unwrap();
    let station = station_with(wrong_paasid, Arc::new(SystemClock), Arc::new(RandomNonces));
    assert_eq!(scan(station, code()).await, ErrorCode::GatewayForbidden);

    let mut wrong_password = settings_for(&sim);
    wrong_password.gateway.password = yueshang_core::secret::Secret::new("wrong");
    let station = station_with(wrong_password, Arc::new(SystemClock), Arc::new(RandomNonces));
    let logins_before = sim.control().stats().get("login").copied().unwrap_or(0);
    let outcome = station.scan(&code(), None, &biz, &|_| {}).await.unwrap();
    assert!(outcome.licenses.iter().all(|l| l.error.as_ref().unwrap().code == ErrorCode::LicenseLoginRejected));
    let logins = sim.control().stats().get("login").copied().unwrap_or(0) - logins_before;
    assert_eq!(logins, 1, "a refused login is not repeated for every license");
    assert_eq!(station.cache().partial_license_count().unwrap(), 0);

    sim.control().set_faults(vec!["code2auth:sig-reject".parse().unwrap()]);
    let station = station_with(settings_for(&sim), Arc::new(SystemClock), Arc::new(RandomNonces));
    assert_eq!(scan(station, code()).await, ErrorCode::GatewayAuthRejected);
}

/// A nonce source that hands out the same nonce every time: a replay, as the gateway sees it.
struct StuckNonce;

impl NonceSource for StuckNonce {
    fn nonce(&self, len: usize) -> String {
        "r".repeat(len)
    }
}

#[tokio::test]
async fn a_replayed_nonce_is_rejected() {
    let sim = sandbox().await;
    let station = station_with(settings_for(&sim), Arc::new(SystemClock), Arc::new(StuckNonce));
    let uscc = normal_uscc();
    let first = sim.control().issue_code(&uscc, None).unwrap().payload;
    let biz = BizNum::from_existing("YS-T-3");
    // The exchange and the login run at once with the same nonce: one of them is a replay.
    let outcome = station.scan(&first, None, &biz, &|_| {}).await;
    let replayed = match outcome {
        Err(e) => e.code,
        Ok(o) => o.licenses.iter().find_map(|l| l.error.as_ref().map(|e| e.code)).expect("a replay was rejected"),
    };
    assert_eq!(replayed, ErrorCode::GatewayAuthRejected);
}

/// Scans the normal enterprise with `faults` in force and returns the outcome.
async fn scan_with_faults(faults: &[&str]) -> (Setup, Result<ScanOutcome, Error>) {
    let s = setup().await;
    s.sim.control().set_faults(faults.iter().map(|f| f.parse().unwrap()).collect());
    let result = s.scan(&s.code(&normal_uscc())).await;
    s.assert_no_partial_license();
    (s, result)
}

/// Every license failed with `code`, nothing was cached, and each failure is in the audit trail.
fn assert_all_licenses_failed(s: &Setup, result: Result<ScanOutcome, Error>, code: ErrorCode) {
    let outcome = result.unwrap();
    assert!(!outcome.licenses.is_empty());
    for l in &outcome.licenses {
        assert_eq!(l.error.as_ref().map(|e| e.code), Some(code), "{}", l.summary.name);
        assert!(l.file.is_none());
    }
    assert!(s.station.cached_licenses().unwrap().is_empty());
    let failures = s
        .audit_codes()
        .into_iter()
        .filter(|(k, c)| k == "license_fetch" && c.as_deref() == Some(code.as_str()))
        .count();
    assert_eq!(failures, outcome.licenses.len());
}

#[tokio::test]
async fn exchange_faults_map_to_codes_and_are_never_retried() {
    for (fault, code) in [
        ("code2auth:status=500", ErrorCode::GatewayUnavailable),
        ("code2auth:status=502", ErrorCode::GatewayUnavailable),
        ("code2auth:status=504", ErrorCode::GatewayTimeout),
        ("code2auth:status=429", ErrorCode::RateLimited),
        ("code2auth:latency=8000", ErrorCode::GatewayTimeout),
        ("code2auth:malformed", ErrorCode::BadResponse),
        ("code2auth:truncated", ErrorCode::BadResponse),
        ("code2auth:oversized", ErrorCode::BodyTooLarge),
        ("code2auth:drop", ErrorCode::GatewayUnavailable),
        ("code2auth:slow-body", ErrorCode::GatewayTimeout),
    ] {
        let (s, result) = scan_with_faults(&[fault]).await;
        assert_eq!(result.unwrap_err().code, code, "{fault}");
        assert_eq!(s.requests("code2auth"), 1, "{fault}: the one-time code is sent once");
        let audit = s.audit_codes();
        assert!(audit.contains(&("exchange".into(), Some(code.as_str().into()))), "{fault}: {audit:?}");
    }
}

#[tokio::test]
async fn license_faults_fail_the_license_whole_and_are_audited() {
    for (fault, code) in [
        ("archive:status=503", ErrorCode::GatewayUnavailable),
        ("get_license:status=504", ErrorCode::GatewayTimeout),
        ("archive:retry-after=60", ErrorCode::RateLimited),
        ("archive:oversized", ErrorCode::BodyTooLarge),
        ("get_license:malformed", ErrorCode::BadResponse),
        ("archive:truncated", ErrorCode::BadResponse),
        ("get_license:drop", ErrorCode::GatewayUnavailable),
        ("archive:slow-body", ErrorCode::GatewayTimeout),
        ("archive:sig-reject", ErrorCode::GatewayAuthRejected),
    ] {
        let (s, result) = scan_with_faults(&[fault]).await;
        assert_all_licenses_failed(&s, result, code);
    }
}

#[tokio::test]
async fn transient_faults_on_reads_are_retried_and_the_scan_completes() {
    for fault in [
        "archive:status=500*2",
        "get_license:status=503*1",
        "archive:status=429*1",
        "get_license:retry-after=1*1",
        "archive:drop*1",
        "login:status=502*1",
    ] {
        let (s, result) = scan_with_faults(&[fault]).await;
        let outcome = result.unwrap();
        assert!(outcome.licenses.iter().all(|l| l.error.is_none()), "{fault}");
        assert_eq!(s.station.cached_licenses().unwrap().len(), outcome.licenses.len(), "{fault}");
    }
}

#[tokio::test]
async fn latency_slows_but_does_not_break_a_scan() {
    let (s, result) = scan_with_faults(&["latency=100"]).await;
    let outcome = result.unwrap();
    assert!(outcome.licenses.iter().all(|l| l.error.is_none()));
    assert!(outcome.elapsed >= Duration::from_millis(200), "exchange then fetches, each 100 ms late");
    drop(s);
}

#[tokio::test]
async fn expired_authorizations_revoked_licenses_and_expired_tokens() {
    let s = setup().await;
    let client = s.station.gateway();
    let revoked_uscc =
        uscc_with(Consent::Granted, |e| e.licenses.iter().any(|l| l.license.license_status == "ABOLISHED"));
    let outcome = s.scan(&s.code(&revoked_uscc)).await.unwrap();
    assert!(
        outcome.licenses.iter().any(|l| l.status == LicenseStatus::Revoked && l.file.is_none() && l.error.is_none())
    );
    let revoked_code =
        outcome.licenses.iter().find(|l| l.status == LicenseStatus::Revoked).unwrap().summary.license_code.clone();
    let auth_code = s.station.cache().auth_code(&outcome.auth_id, &revoked_code).unwrap().unwrap();
    assert_eq!(client.archive(auth_code.expose(), "测试").await.unwrap_err().code, ErrorCode::LicenseRevoked);

    assert_eq!(client.get_license("no-such-auth-code").await.unwrap_err().code, ErrorCode::AuthCodeNotFound);

    let logins = s.requests("login");
    s.sim.control().expire_tokens();
    client.get_license(auth_code.expose()).await.unwrap();
    assert_eq!(s.requests("login"), logins + 1, "one fresh login after the token was refused");

    s.sim.control().expire_authorizations();
    assert_eq!(client.get_license(auth_code.expose()).await.unwrap_err().code, ErrorCode::AuthCodeExpired);
}

#[tokio::test]
async fn the_handling_record_is_submitted_once_whatever_the_retries() {
    let s = setup().await;
    let outcome = s.scan(&s.code(&normal_uscc())).await.unwrap();
    let settings = s.station.settings();
    let record = yueshang_core::gateway::HandlingRecord {
        biz_num: outcome.biz_num.clone(),
        auth_id: outcome.auth_id.clone(),
        item: settings.service_items[0].clone(),
        applicant_name: outcome.enterprise.name.clone(),
        applicant_uscc: outcome.enterprise.uscc.clone(),
        used_license_codes: outcome.licenses.iter().map(|l| l.summary.license_code.clone()).collect(),
        status: "RECEIVED",
        reason: None,
        submitted_at: chrono::Utc::now().with_timezone(&yueshang_core::clock::china_tz()),
    };
    let first = s.station.gateway().submit_record(&record, &settings.operator).await.unwrap();
    let again = s.station.gateway().submit_record(&record, &settings.operator).await.unwrap();
    assert!(!first.duplicate);
    assert!(again.duplicate);
    assert_eq!(first.record_id, again.record_id);
    assert_eq!(s.sim.control().records().len(), 1);
}

/// The 40-license chain behind a gateway that takes 10 calls at once: the call window eases off
/// on 429 and every license arrives.
#[tokio::test]
async fn a_gateway_that_takes_ten_calls_at_once_still_gets_every_license() {
    let s = setup().await;
    let chain = samples::enterprises().into_iter().find(|e| e.note.contains("chain, 40 licenses")).unwrap();
    s.sim.control().set_faults(vec!["concurrency=10".parse().unwrap()]);
    let outcome = s.scan(&s.code(&chain.uscc)).await.unwrap();
    assert_eq!(outcome.licenses.len(), 40);
    assert!(outcome.licenses.iter().all(|l| l.error.is_none()), "every license arrived");
    let refused = s.requests(yueshang_gateway_sim::RATE_LIMITED_STAT);
    assert!(refused > 0, "the gateway did push back");
    assert!(refused < 80, "fewer refusals than calls: {refused}");
    assert_eq!(s.requests(yueshang_gateway_sim::IN_FLIGHT_STAT), 0);
    assert_eq!(s.station.cache().partial_license_count().unwrap(), 0);
}
