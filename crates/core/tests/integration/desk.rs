//! The desk over the sandbox: one customer at a time, a new handling number per customer, retry
//! of one license, and nothing of the previous customer reachable after "next customer".

use std::sync::{Arc, Mutex};
use std::time::Duration;
use yueshang_core::ErrorCode;
use yueshang_core::cache::Cache;
use yueshang_core::clock::{RandomNonces, SystemClock};
use yueshang_core::desk::{Desk, SharedObserver};
use yueshang_core::outbox::{Outbox, RecordState, RecordStatus, random_jitter};
use yueshang_core::station::{ScanEvent, Station};
use yueshang_gateway_sim::samples;
use yueshang_gateway_sim::{SandboxGateway, SimOptions};

struct Setup {
    sim: SandboxGateway,
    desk: Desk,
    events: Arc<Mutex<Vec<ScanEvent>>>,
}

async fn setup() -> Setup {
    let sim = SandboxGateway::start("127.0.0.1:0".parse().unwrap(), SimOptions::default()).await.unwrap();
    let mut settings = yueshang_gateway_sim::sandbox_settings(&sim.base_url());
    settings.tuning.request_timeout = Duration::from_millis(800);
    let cache = Arc::new(Cache::open_in_memory().unwrap());
    let station = Arc::new(Station::new(settings, cache, Arc::new(SystemClock), Arc::new(RandomNonces)).unwrap());
    let outbox = Arc::new(Outbox::new(station.clone(), random_jitter()));
    Setup { sim, desk: Desk::new(station, outbox).unwrap(), events: Arc::default() }
}

impl Setup {
    fn fresh_payload(&self) -> String {
        self.sim.control().issue_code(&crate::small_uscc(), None).unwrap().payload
    }

    fn observer(&self) -> SharedObserver {
        let events = self.events.clone();
        Arc::new(move |e| events.lock().unwrap().push(e))
    }

    fn event_count(&self) -> usize {
        self.events.lock().unwrap().len()
    }
}

#[tokio::test]
async fn a_failed_scan_keeps_the_handling_number_and_a_served_customer_gets_a_new_one() {
    let s = setup().await;
    let first = s.desk.biz_num();

    let err = s.desk.scan("not a code".into(), None, s.observer()).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::CodeInvalid);
    assert_eq!(s.desk.biz_num(), first, "nobody was served: the number stays");
    assert!(s.desk.customer().is_none());

    let outcome = s.desk.scan(s.fresh_payload(), None, s.observer()).await.unwrap();
    assert_eq!(outcome.biz_num, first);
    assert_eq!(s.desk.customer().unwrap().enterprise.uscc.as_str(), crate::small_uscc());

    let again = s.desk.scan(s.fresh_payload(), None, s.observer()).await.unwrap();
    assert_ne!(again.biz_num, first, "a second scan is a new customer");
    assert_eq!(s.desk.biz_num(), again.biz_num);
}

#[tokio::test]
async fn next_customer_forgets_the_enterprise() {
    let s = setup().await;
    let outcome = s.desk.scan(s.fresh_payload(), None, s.observer()).await.unwrap();
    let code = outcome.licenses[0].summary.license_code.clone();
    assert!(!s.desk.license_file(&code).unwrap().is_empty());

    let next = s.desk.next_customer().unwrap();
    assert_ne!(next, outcome.biz_num);
    assert_eq!(s.desk.license_file(&code).unwrap_err().code, ErrorCode::NoCustomer);
    assert_eq!(s.desk.retry_license(&code).await.unwrap_err().code, ErrorCode::NoCustomer);
}

#[tokio::test]
async fn next_customer_cancels_a_running_scan_and_silences_its_events() {
    let s = setup().await;
    s.sim.control().set_latency(Duration::from_millis(400));
    let payload = s.fresh_payload();
    // The scan is polled first, so its task exists before the clerk presses 下一位.
    let (scanned, next) = tokio::join!(s.desk.scan(payload, None, s.observer()), async {
        tokio::task::yield_now().await;
        s.desk.next_customer()
    });
    assert_eq!(scanned.unwrap_err().code, ErrorCode::ScanCancelled);
    let next = next.unwrap();
    assert_eq!(s.desk.biz_num(), next);
    assert!(s.desk.customer().is_none());
    assert_eq!(s.event_count(), 0, "no event of the abandoned scan reached the window");
}

#[tokio::test]
async fn a_failed_license_can_be_fetched_again() {
    let s = setup().await;
    let licenses = samples::find(&crate::small_uscc()).unwrap().licenses.len() as u32;
    // Every archive attempt of the first scan fails (three tries per license), then the gateway heals.
    s.sim.control().set_faults(vec![format!("archive:status=503*{}", licenses * 3).parse().unwrap()]);
    let outcome = s.desk.scan(s.fresh_payload(), None, s.observer()).await.unwrap();
    assert!(outcome.licenses.iter().all(|l| l.error.as_ref().map(|e| e.code) == Some(ErrorCode::GatewayUnavailable)));

    let code = outcome.licenses[1].summary.license_code.clone();
    let (position, retried) = s.desk.retry_license(&code).await.unwrap();
    assert_eq!(position, 1);
    assert!(retried.error.is_none(), "{:?}", retried.error);
    assert_eq!(retried.summary.license_code, code);
    assert!(retried.file.is_some());
    assert!(!s.desk.license_file(&code).unwrap().is_empty());

    let unknown = s.desk.retry_license("1.2.156.3005.2.nothing").await.unwrap_err();
    assert_eq!(unknown.code, ErrorCode::AuthCodeNotFound);
}

#[tokio::test]
async fn a_case_is_finished_on_the_desk_and_nothing_of_it_outlives_next_customer() {
    let s = setup().await;
    let outcome = s.desk.scan(s.fresh_payload(), None, s.observer()).await.unwrap();
    let code = outcome.licenses[0].summary.license_code.clone();
    let copy = s.desk.prepare_copy(&code, false).await.unwrap();
    assert_eq!(s.desk.copy(&copy.serial).unwrap().pdf, copy.pdf);

    let record = s.desk.submit_record(RecordStatus::Accepted, None, vec![code.clone()]).await.unwrap();
    assert_eq!(record.state, RecordState::Sent);
    assert_eq!(s.sim.control().records().len(), 1);
    assert_eq!(s.desk.current_record().unwrap().unwrap().biz_num, outcome.biz_num.as_str());

    s.desk.next_customer().unwrap();
    assert_eq!(s.desk.copy(&copy.serial).unwrap_err().code, ErrorCode::NoCustomer, "the copy went with the customer");
    assert!(s.desk.current_record().unwrap().is_none());
    assert_eq!(s.desk.prepare_copy(&code, false).await.unwrap_err().code, ErrorCode::NoCustomer);

    // A customer served without a record is closed as such.
    s.desk.scan(s.fresh_payload(), None, s.observer()).await.unwrap();
    s.desk.next_customer().unwrap();
    let closed: Vec<_> = s
        .desk
        .station()
        .cache()
        .audit_events()
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "case_closed")
        .map(|e| e.detail.unwrap_or_default())
        .collect();
    assert_eq!(closed.len(), 2, "{closed:?}");
    assert!(closed[0].starts_with("closed with record ACCEPTED"), "{closed:?}");
    assert_eq!(closed[1], "closed without record");
}

/// 下一位 during a scan against a slow gateway (2 s per call) leaves no request of the cancelled
/// scan running: the sandbox's count of calls in flight drops to 0 at once, not when they would
/// have been answered.
#[tokio::test]
async fn next_customer_during_a_slow_scan_leaves_no_request_running() {
    let mut s = setup().await;
    // This gateway is slow but answers: a 5 s timeout, as a hall's would be longer than 2 s.
    let mut settings = yueshang_gateway_sim::sandbox_settings(&s.sim.base_url());
    settings.tuning.request_timeout = Duration::from_secs(5);
    let cache = Arc::new(Cache::open_in_memory().unwrap());
    let station = Arc::new(Station::new(settings, cache, Arc::new(SystemClock), Arc::new(RandomNonces)).unwrap());
    let outbox = Arc::new(Outbox::new(station.clone(), random_jitter()));
    s.desk = Desk::new(station, outbox).unwrap();
    let many = samples::enterprises().into_iter().max_by_key(|e| e.licenses.len()).unwrap();
    let payload = s.sim.control().issue_code(&many.uscc, None).unwrap().payload;
    s.sim.control().set_latency(Duration::from_secs(2));
    let desk = Arc::new(s.desk);
    let scan = tokio::spawn({
        let (desk, observer) = (desk.clone(), {
            let events = s.events.clone();
            Arc::new(move |e| events.lock().unwrap().push(e)) as SharedObserver
        });
        async move { desk.scan(payload, None, observer).await }
    });
    let in_flight = || s.sim.control().stats().get(yueshang_gateway_sim::IN_FLIGHT_STAT).copied().unwrap_or(0);
    // Past the exchange: the licenses' calls are at the gateway.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !s.events.lock().unwrap().iter().any(|e| matches!(e, ScanEvent::EnterpriseKnown { .. })) || in_flight() < 2 {
        assert!(std::time::Instant::now() < deadline, "the licenses' calls never reached the gateway");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let busy = in_flight();
    desk.next_customer().unwrap();
    let cancelled = std::time::Instant::now();
    while in_flight() > 0 {
        assert!(cancelled.elapsed() < Duration::from_millis(1500), "calls still in flight: {}", in_flight());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!("{busy} calls in flight; 0 after {} ms", cancelled.elapsed().as_millis());
    assert_eq!(scan.await.unwrap().unwrap_err().code, ErrorCode::ScanCancelled);
}
