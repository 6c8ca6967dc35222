//! The unattended counter over the sandbox, on a fixed clock: an idle clear is 下一位 audited as
//! such (and nothing without a customer), a locked session acts for nobody and closes the
//! customer, the same clerk signing in goes on, another account ends the locked shift.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use yueshang_core::ErrorCode;
use yueshang_core::accounts::{NewAccount, Role};
use yueshang_core::audit::AuditRecord;
use yueshang_core::cache::Cache;
use yueshang_core::clock::{Clock, FixedClock, RandomNonces};
use yueshang_core::desk::{Desk, SharedObserver};
use yueshang_core::outbox::{Outbox, random_jitter};
use yueshang_core::station::{ScanEvent, Station};
use yueshang_gateway_sim::{SandboxGateway, SimOptions};

const CLERK: NewAccount<'static> =
    NewAccount { account: "clerk01", name: "李晓红", role: Role::Clerk, password: "hall-clerk-01" };
const CHIEF: NewAccount<'static> =
    NewAccount { account: "chief01", name: "陈志强", role: Role::Supervisor, password: "hall-chief-01" };

struct Setup {
    sim: SandboxGateway,
    clock: Arc<FixedClock>,
    desk: Desk,
    events: Arc<Mutex<Vec<ScanEvent>>>,
}

/// A sandbox and a desk sharing one clock that stands still at the real time (the gateway checks
/// the signature's time); `accounts` adds the clerk and the supervisor.
async fn setup(accounts: bool) -> Setup {
    let clock = Arc::new(FixedClock::at(chrono::Utc::now()));
    let options = SimOptions { clock: clock.clone(), ..SimOptions::default() };
    let sim = SandboxGateway::start("127.0.0.1:0".parse().unwrap(), options).await.unwrap();
    let mut settings = yueshang_gateway_sim::sandbox_settings(&sim.base_url());
    settings.tuning.request_timeout = Duration::from_millis(800);
    let cache = Arc::new(Cache::open_in_memory().unwrap());
    let station = Arc::new(Station::new(settings, cache, clock.clone(), Arc::new(RandomNonces)).unwrap());
    let outbox = Arc::new(Outbox::new(station.clone(), random_jitter()));
    let desk = Desk::new(station, outbox).unwrap();
    if accounts {
        desk.accounts().add(&CHIEF).unwrap();
        desk.accounts().add(&CLERK).unwrap();
    }
    Setup { sim, clock, desk, events: Arc::default() }
}

impl Setup {
    async fn serve(&self) -> yueshang_core::station::ScanOutcome {
        let payload = self.sim.control().issue_code(&crate::small_uscc(), None).unwrap().payload;
        let events = self.events.clone();
        let observe: SharedObserver = Arc::new(move |e| events.lock().unwrap().push(e));
        self.desk.scan(payload, None, observe).await.unwrap()
    }

    fn audit(&self) -> Vec<AuditRecord> {
        self.desk.station().cache().audit_events().unwrap()
    }

    /// Kind, operator and detail of the events after the first `from`.
    fn kinds_since(&self, from: usize) -> Vec<(String, String, Option<String>)> {
        self.audit().into_iter().skip(from).map(|e| (e.kind, e.operator_account, e.detail)).collect()
    }
}

fn row(kind: &str, account: &str, detail: Option<&str>) -> (String, String, Option<String>) {
    (kind.to_owned(), account.to_owned(), detail.map(str::to_owned))
}

#[tokio::test]
async fn an_idle_clear_is_next_customer_audited_as_idle() {
    let s = setup(false).await;
    let outcome = s.serve().await;
    let code = outcome.licenses[0].summary.license_code.clone();
    let item = s.desk.customer().unwrap().item.code.clone();
    let before = s.audit().len();
    s.clock.advance_secs(5 * 60 + 15);

    let next = s.desk.idle_clear().unwrap().expect("a customer was on the desk");
    assert_ne!(next, outcome.biz_num);
    assert_eq!(s.desk.biz_num(), next);
    assert!(s.desk.customer().is_none());
    assert_eq!(s.desk.license_file(&code).unwrap_err().code, ErrorCode::NoCustomer);
    assert_eq!(s.desk.retry_license(&code).await.unwrap_err().code, ErrorCode::NoCustomer);

    let events: Vec<_> = s.audit().into_iter().skip(before).collect();
    let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["idle_clear", "case_closed"]);
    for e in &events {
        assert_eq!(e.biz_num.as_deref(), Some(outcome.biz_num.as_str()), "{e:?}");
        assert_eq!(e.uscc.as_deref(), Some(crate::small_uscc().as_str()), "{e:?}");
        assert_eq!(e.service_item_code.as_deref(), Some(item.as_str()), "{e:?}");
        assert_eq!(e.at, s.clock.now_china());
    }
    assert_eq!(events[0].detail.as_deref(), Some("5 分钟无操作，自动清屏"));
    assert_eq!(events[1].detail.as_deref(), Some("closed without record"));

    // Nobody on the desk: nothing happens, not even a new handling number.
    let after = s.audit().len();
    assert_eq!(s.desk.idle_clear().unwrap(), None);
    assert_eq!(s.desk.biz_num(), next);
    assert_eq!(s.audit().len(), after);
    s.desk.station().cache().verify_chain().unwrap();
}

#[tokio::test]
async fn a_locked_session_closes_the_customer_and_acts_for_nobody_until_the_clerk_signs_in_again() {
    let s = setup(true).await;
    s.desk.sign_in("clerk01", "hall-clerk-01").unwrap();
    let outcome = s.serve().await;
    let code = outcome.licenses[0].summary.license_code.clone();
    let before = s.audit().len();
    s.clock.advance_secs(15 * 60);

    let locked = s.desk.lock_session().unwrap().expect("someone was signed in");
    assert_eq!(locked.account, "clerk01");
    assert!(s.desk.customer().is_none(), "locking closes the customer");
    assert_ne!(s.desk.biz_num(), outcome.biz_num);
    let accounts = s.desk.accounts();
    assert_eq!(accounts.locked().map(|p| p.account).as_deref(), Some("clerk01"));
    // The shift is still theirs (events name them), but nobody may act for a customer.
    assert_eq!(accounts.current().map(|p| p.account).as_deref(), Some("clerk01"));
    let refused = accounts.acting().unwrap_err();
    assert_eq!(refused.code, ErrorCode::SignInRequired);
    assert!(refused.message.starts_with("会话已锁定。"), "{}", refused.message);
    assert_eq!(s.desk.license_file(&code).unwrap_err().code, ErrorCode::SignInRequired);
    let payload = s.sim.control().issue_code(&crate::small_uscc(), None).unwrap().payload;
    let scan = s.desk.scan(payload, None, Arc::new(|_| {})).await.unwrap_err();
    assert_eq!(scan.code, ErrorCode::SignInRequired);
    assert_eq!(s.desk.lock_session().unwrap(), None, "locked already: nothing more");

    // A wrong password changes nothing; the right one goes on with the same shift.
    assert_eq!(s.desk.sign_in("clerk01", "not-the-password").unwrap_err().code, ErrorCode::SignInFailed);
    assert!(accounts.acting().is_err());
    s.desk.sign_in("clerk01", "hall-clerk-01").unwrap();
    assert_eq!(accounts.locked(), None);
    assert_eq!(accounts.acting().unwrap().unwrap().account, "clerk01");
    assert_eq!(
        s.kinds_since(before),
        [
            row("session_lock", "clerk01", Some("15 分钟无操作，会话锁定")),
            row("case_closed", "clerk01", Some("closed without record")),
            row("sign_in_failed", "clerk01", Some("第 1 次密码错误")),
            row("sign_in", "clerk01", Some("clerk；解锁")),
        ]
    );
    let closed = s.audit().into_iter().rfind(|e| e.kind == "case_closed").unwrap();
    assert_eq!(closed.biz_num.as_deref(), Some(outcome.biz_num.as_str()));
    let lock = s.audit().into_iter().rfind(|e| e.kind == "session_lock").unwrap();
    assert_eq!(lock.at, s.clock.now_china());
    s.serve().await;
    s.desk.station().cache().verify_chain().unwrap();
}

#[tokio::test]
async fn another_account_at_a_locked_counter_ends_the_locked_shift() {
    let s = setup(true).await;
    s.desk.sign_in("clerk01", "hall-clerk-01").unwrap();
    s.desk.lock_session().unwrap().unwrap();
    let before = s.audit().len();

    let chief = s.desk.sign_in("chief01", "hall-chief-01").unwrap();
    assert_eq!(chief.account, "chief01");
    let accounts = s.desk.accounts();
    assert_eq!(accounts.locked(), None);
    assert_eq!(accounts.supervisor().unwrap().account, "chief01");
    assert_eq!(s.desk.station().operator().account, "chief01");
    assert_eq!(
        s.kinds_since(before),
        [row("sign_in", "chief01", Some("supervisor")), row("sign_out", "clerk01", Some("会话锁定后另一账号登录"))]
    );
    // The clerk signing in later starts a shift of their own (and ends the chief's).
    s.desk.sign_in("clerk01", "hall-clerk-01").unwrap();
    assert_eq!(
        s.kinds_since(before + 2),
        [row("sign_in", "clerk01", Some("clerk")), row("sign_out", "chief01", Some("另一账号登录"))]
    );
    s.desk.station().cache().verify_chain().unwrap();
}

#[tokio::test]
async fn nothing_locks_without_a_signed_in_person() {
    // No accounts: the counter acts as its configured operator and never locks.
    let s = setup(false).await;
    s.serve().await;
    let before = s.audit().len();
    assert_eq!(s.desk.lock_session().unwrap(), None);
    assert!(s.desk.customer().is_some(), "no lock, so the customer stays");
    assert_eq!(s.audit().len(), before);

    // Accounts, but nobody signed in (e.g. after 退出登录).
    let s = setup(true).await;
    let before = s.audit().len();
    assert_eq!(s.desk.lock_session().unwrap(), None);
    assert_eq!(s.desk.accounts().locked(), None);
    assert_eq!(s.audit().len(), before);

    // Signing out of a locked session ends it: the next sign-in is a fresh shift.
    s.desk.sign_in("clerk01", "hall-clerk-01").unwrap();
    s.desk.lock_session().unwrap().unwrap();
    s.desk.sign_out().unwrap();
    assert_eq!(s.desk.accounts().locked(), None);
    assert_eq!(s.desk.accounts().current(), None);
    assert_eq!(s.desk.accounts().acting().unwrap_err().code, ErrorCode::SignInRequired);
}
