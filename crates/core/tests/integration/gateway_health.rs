//! The gateway's health against the sandbox over real HTTP: failed calls turn it amber and red with
//! the right code and count, a success brings it back, the unsigned probe records into the same
//! health (and cannot clear what only a signed call can see); 网页模式 opens the sandbox's own
//! portal page and is audited with who acted.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use yueshang_core::cache::Cache;
use yueshang_core::clock::{Clock, FixedClock, RandomNonces};
use yueshang_core::desk::Desk;
use yueshang_core::gateway::HealthLevel;
use yueshang_core::outbox::{Outbox, random_jitter};
use yueshang_core::portal::open_portal;
use yueshang_core::station::Station;
use yueshang_core::{Error, ErrorCode};
use yueshang_gateway_sim::{PORTAL_TITLE, SANDBOX_ACCOUNTS, SandboxGateway, SimOptions};

struct Setup {
    sim: SandboxGateway,
    station: Arc<Station>,
    clock: Arc<FixedClock>,
}

/// A sandbox and a station on one fixed clock (so the five-minute window can pass without the
/// gateway's signature window noticing).
async fn setup() -> Setup {
    let clock = Arc::new(FixedClock::at(chrono::Utc::now()));
    let options = SimOptions { clock: clock.clone(), ..SimOptions::default() };
    let sim = SandboxGateway::start("127.0.0.1:0".parse().unwrap(), options).await.unwrap();
    let mut settings = yueshang_gateway_sim::sandbox_settings(&sim.base_url());
    settings.tuning.request_timeout = Duration::from_millis(2000);
    let cache = Arc::new(Cache::open_in_memory().unwrap());
    let station = Arc::new(Station::new(settings, cache, clock.clone(), Arc::new(RandomNonces)).unwrap());
    Setup { sim, station, clock }
}

impl Setup {
    async fn scan(&self) -> Result<(), Error> {
        let payload = self.sim.control().issue_code(&crate::small_uscc(), None).unwrap().payload;
        self.scan_payload(&payload).await
    }

    async fn scan_payload(&self, payload: &str) -> Result<(), Error> {
        let biz = self.station.next_biz_num().unwrap();
        self.station.scan(payload, None, &biz, &|_| {}).await.map(|_| ())
    }

    fn fault(&self, spec: &str) {
        self.sim.control().set_faults(vec![spec.parse().unwrap()]);
    }
}

#[tokio::test]
async fn failing_calls_turn_the_health_amber_then_red_and_a_success_brings_it_back() {
    let s = setup().await;
    let gateway = s.station.gateway();
    let mut changes = gateway.watch_health();
    assert_eq!(gateway.health().level, HealthLevel::Unknown);

    // A scan that works: green, with the time of the last success.
    s.scan().await.unwrap();
    let h = gateway.health();
    assert_eq!(h.level, HealthLevel::Ok, "{h:?}");
    assert_eq!(h.last_success_at.unwrap(), s.clock.now_china());
    assert!(changes.has_changed().unwrap(), "subscribers heard of it");
    changes.borrow_and_update();

    // A business answer (the code expired) is the gateway working: still green.
    let expired = s.sim.control().issue_code(&crate::small_uscc(), Some(Duration::ZERO)).unwrap().payload;
    assert_eq!(s.scan_payload(&expired).await.unwrap_err().code, ErrorCode::CodeExpired);
    let h = gateway.health();
    assert_eq!((h.level, h.recent_failures, h.last_failure), (HealthLevel::Ok, 0, None), "{h:?}");

    // One unreadable answer: amber, one failure, BAD_RESPONSE.
    s.clock.advance_secs(10);
    s.fault("code2auth:malformed*1");
    assert_eq!(s.scan().await.unwrap_err().code, ErrorCode::BadResponse);
    let h = gateway.health();
    assert_eq!((h.level, h.recent_failures, h.consecutive_failures), (HealthLevel::Degraded, 1, 1), "{h:?}");
    assert_eq!(h.last_failure.unwrap(), (ErrorCode::BadResponse, s.clock.now_china()));
    assert_eq!(changes.borrow_and_update().level, HealthLevel::Degraded, "pushed to subscribers");

    // The gateway's backend gone: every route 503. The exchange is not retried: red at once.
    s.clock.advance_secs(10);
    s.fault("status=503");
    assert_eq!(s.scan().await.unwrap_err().code, ErrorCode::GatewayUnavailable);
    let h = gateway.health();
    assert_eq!(h.level, HealthLevel::Down, "{h:?}");
    assert_eq!((h.recent_failures, h.consecutive_failures), (2, 2));
    assert_eq!(h.last_failure.unwrap(), (ErrorCode::GatewayUnavailable, s.clock.now_china()));

    // The idle probe reaches the front door, which proves nothing about the backend: still red,
    // and the probe is no contract call (the sandbox counts none).
    let before = s.sim.control().stats();
    s.clock.advance_secs(60);
    assert_eq!(gateway.idle_for(), Some(Duration::from_secs(60)));
    let h = gateway.probe().await;
    assert_eq!((h.level, h.consecutive_failures), (HealthLevel::Down, 2), "{h:?}");
    assert_eq!(s.sim.control().stats(), before, "the probe is not a contract call");
    assert_eq!(gateway.idle_for(), Some(Duration::ZERO));

    // A read retried three times still counts as one failed call.
    let payload = s.sim.control().issue_code(&crate::small_uscc(), None).unwrap().payload;
    s.sim.control().clear_faults();
    s.station.gateway().ensure_login().await.unwrap();
    s.fault("get_license:status=503");
    let biz = s.station.next_biz_num().unwrap();
    let outcome = s.station.scan(&payload, None, &biz, &|_| {}).await.unwrap();
    let failed = outcome.licenses.iter().filter(|l| l.error.is_some()).count();
    assert!(failed > 0);
    let h = gateway.health();
    assert_eq!(h.last_failure.unwrap().0, ErrorCode::GatewayUnavailable);
    assert_eq!(h.recent_failures, 2 + failed as u32, "one failure per call, not per attempt: {h:?}");

    // The gateway back: a success ends the failures; amber while one is younger than 5 minutes.
    s.sim.control().clear_faults();
    s.clock.advance_secs(30);
    s.scan().await.unwrap();
    let h = gateway.health();
    assert_eq!((h.level, h.consecutive_failures), (HealthLevel::Degraded, 0), "{h:?}");
    assert_eq!(h.last_success_at.unwrap(), s.clock.now_china());
    assert_eq!(h.recent_failures, 2 + failed as u32, "{h:?}");
    s.clock.advance_secs(5 * 60 + 1);
    let h = gateway.health();
    assert_eq!((h.level, h.recent_failures), (HealthLevel::Ok, 0), "{h:?}");
    assert_eq!(changes.borrow_and_update().level, HealthLevel::Ok);
}

#[tokio::test]
async fn the_probe_sees_no_answer_and_a_wrong_clock() {
    let s = setup().await;
    let gateway = s.station.gateway();
    let h = gateway.probe().await;
    assert_eq!(h.level, HealthLevel::Ok, "{h:?}");
    assert_eq!(h.last_success_at.unwrap(), s.clock.now_china());

    // The gateway's clock 400 s ahead: its Date says every signed call would be refused.
    s.fault("clock-skew=400");
    let h = gateway.probe().await;
    assert_eq!(h.level, HealthLevel::Down, "{h:?}");
    assert_eq!(h.last_failure.unwrap().0, ErrorCode::ClockSkew);
    assert_eq!(h.clock_skew_secs, Some(400));
    // 90 s: no refusal yet, but a warning.
    s.fault("clock-skew=90");
    let h = gateway.probe().await;
    assert_eq!((h.level, h.consecutive_failures, h.clock_skew_secs), (HealthLevel::Degraded, 0, Some(90)));
    s.sim.control().clear_faults();

    // Nobody answers any more: red, GATEWAY_UNAVAILABLE, counted.
    s.clock.advance_secs(6 * 60);
    let Setup { sim, station, clock } = s;
    sim.shutdown().await;
    let gateway = station.gateway();
    let h = gateway.probe().await;
    assert_eq!(h.level, HealthLevel::Down, "{h:?}");
    assert_eq!(h.last_failure.unwrap(), (ErrorCode::GatewayUnavailable, clock.now_china()));
    assert_eq!((h.recent_failures, h.consecutive_failures), (1, 1));
}

/// The background loop the app runs: the health at once, a probe at the start (nothing was sent
/// yet), and every change pushed.
#[tokio::test]
async fn the_background_loop_probes_at_the_start_and_pushes_changes() {
    let s = setup().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let station = s.station.clone();
    let log = seen.clone();
    let task = tokio::spawn(async move {
        station.gateway().keep_health_fresh(Duration::from_secs(60), move |h| log.lock().unwrap().push(h.level)).await;
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !seen.lock().unwrap().contains(&HealthLevel::Ok) {
        assert!(std::time::Instant::now() < deadline, "no probe: {:?}", seen.lock().unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    s.fault("status=503");
    assert_eq!(s.scan().await.unwrap_err().code, ErrorCode::GatewayUnavailable);
    while !seen.lock().unwrap().contains(&HealthLevel::Down) {
        assert!(std::time::Instant::now() < deadline, "no change pushed: {:?}", seen.lock().unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    task.abort();
    assert_eq!(seen.lock().unwrap()[0], HealthLevel::Unknown, "the health at once, before anything");
}

#[tokio::test]
async fn the_portal_is_the_sandboxs_own_page_and_opening_it_is_audited() {
    let s = setup().await;
    let url = s.station.settings().lookup.portal_url.clone();
    assert_eq!(url, format!("{}sim/portal", s.sim.base_url()));
    // A sandbox-mode configuration file cannot send 网页模式 to the real portal; its grounds still apply.
    let file =
        "mode = \"sandbox\"\n[lookup]\nportal_url = \"https://www.gdzwfw.gov.cn/\"\ngrounds = [\"部门间协查\"]\n";
    let sandbox = yueshang_gateway_sim::sandbox_settings(&s.sim.base_url());
    let settings = yueshang_core::config::Config::parse(file).unwrap().into_settings(Some(sandbox)).unwrap();
    assert_eq!(settings.lookup.portal_url, url);
    assert_eq!(settings.lookup.grounds, ["部门间协查"]);
    let page = reqwest::get(&url).await.unwrap();
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.text().await.unwrap().contains(PORTAL_TITLE));

    let outbox = Arc::new(Outbox::new(s.station.clone(), random_jitter()));
    let desk = Desk::new(s.station.clone(), outbox).unwrap();
    desk.accounts().seed(&SANDBOX_ACCOUNTS).unwrap();
    let opened = Mutex::new(Vec::<String>::new());
    let open = |u: &str| {
        opened.lock().unwrap().push(u.to_owned());
        Ok(())
    };

    // A counter with accounts: nobody signed in, nothing opened and nothing recorded.
    assert_eq!(open_portal(&desk, open).unwrap_err().code, ErrorCode::SignInRequired);
    assert!(opened.lock().unwrap().is_empty());

    let clerk = &SANDBOX_ACCOUNTS[0];
    desk.sign_in(clerk.account, clerk.password).unwrap();
    let result = open_portal(&desk, open).unwrap();
    assert_eq!(result.url, url);
    assert_eq!(*opened.lock().unwrap(), [url.as_str()]);
    let host = s.sim.base_url().host_str().unwrap().to_owned();
    let port = s.sim.base_url().port().unwrap();
    assert_eq!(result.host, format!("{host}:{port}"));

    // A browser that does not start: CONFIG_INVALID naming the address, audited as failed.
    let err = open_portal(&desk, |_| Err("no launcher".to_owned())).unwrap_err();
    assert_eq!(err.code, ErrorCode::ConfigInvalid);
    assert!(err.message.contains(&url), "{}", err.message);

    let events: Vec<_> =
        s.station.cache().audit_events().unwrap().into_iter().filter(|e| e.kind == "portal_open").collect();
    assert_eq!(events.len(), 2, "{events:?}");
    let biz = desk.biz_num().as_str().to_owned();
    for (event, outcome) in events.iter().zip(["ok", "failed"]) {
        assert_eq!(event.outcome, outcome);
        assert_eq!(event.operator_account, clerk.account, "who acted is who signed in");
        assert_eq!(event.detail.as_deref(), Some(format!("门户 {host}:{port}").as_str()));
        assert_eq!(event.biz_num.as_deref(), Some(biz.as_str()));
    }
    assert_eq!(events[1].error_code.as_deref(), Some("CONFIG_INVALID"));
}
