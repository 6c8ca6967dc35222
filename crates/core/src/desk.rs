//! The counter desk: the customer being served (handling number, enterprise, authorization), one
//! scan at a time, and the move to the next customer that forgets the previous one.

use crate::accounts::{Accounts, SignedIn};
use crate::audit::{AuditEvent, AuditKind, Outcome};
use crate::copies::{Copies, StampedCopy};
use crate::domain::{BizNum, Uscc};
use crate::error::{Error, ErrorCode, Result};
use crate::outbox::{Outbox, OutboxRecord, RecordDraft, RecordStatus};
use crate::print::queue::PrintJob;
use crate::purge::{Scope, purge};
use crate::station::{Customer, LicenseOutcome, ScanEvent, ScanOutcome, Station};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::task::AbortHandle;

/// How long the window counts down, saying so, before an idle clear (any key stops it).
pub const IDLE_CLEAR_COUNTDOWN: Duration = Duration::from_secs(15);

/// Where a desk's scan events go; shared with the scan's task, so owned.
pub type SharedObserver = Arc<dyn Fn(ScanEvent) + Send + Sync>;

/// What a desk asks the gateway for a customer: a scanned code, or a lookup by holder on a ground.
#[derive(Debug, Clone)]
pub enum Query {
    Code(String),
    Holder { uscc: Uscc, ground: String },
}

/// The state of one counter between customers, for a window that serves one customer at a time.
///
/// The desk hands out a handling number per customer, cancels a scan that the clerk abandoned,
/// and forgets the enterprise on [`Desk::next_customer`], so nothing of a previous customer can
/// be shown, retried or opened afterwards.
pub struct Desk {
    station: Arc<Station>,
    accounts: Accounts,
    copies: Arc<Copies>,
    outbox: Arc<Outbox>,
    state: Arc<Mutex<DeskState>>,
}

struct DeskState {
    biz_num: BizNum,
    /// Set once a scan of this handling number reached the enterprise.
    customer: Option<Arc<Customer>>,
    /// The running scan, so that a newer scan or the next customer can stop it.
    scan: Option<AbortHandle>,
    /// Bumped by every scan and every next customer; events of an older generation are dropped.
    generation: u64,
    /// Stamped copies made for this customer, by serial, for preview, print and save until the
    /// next customer.
    copies: HashMap<String, Arc<StampedCopy>>,
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk").field("biz_num", &self.lock().biz_num).finish_non_exhaustive()
    }
}

impl Desk {
    /// A desk with a fresh handling number, sending its handling records through `outbox`.
    pub fn new(station: Arc<Station>, outbox: Arc<Outbox>) -> Result<Self> {
        let biz_num = station.next_biz_num()?;
        let state = DeskState { biz_num, customer: None, scan: None, generation: 0, copies: HashMap::new() };
        let copies = Arc::new(Copies::new(station.clone()));
        let accounts = Accounts::new(station.clone());
        Ok(Desk { station, accounts, copies, outbox, state: Arc::new(Mutex::new(state)) })
    }

    pub fn station(&self) -> &Station {
        &self.station
    }

    pub fn copies(&self) -> &Copies {
        &self.copies
    }

    /// The counter's accounts and who is signed in.
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// Starts a shift. A customer left on the desk by the previous person (their shift ended
    /// without 下一位) is closed first, so nobody sees another's customer.
    pub fn sign_in(&self, account: &str, password: &str) -> Result<SignedIn> {
        let person = self.accounts.sign_in(account, password)?;
        if self.customer().is_some() {
            self.next_customer()?;
        }
        Ok(person)
    }

    /// Ends the shift: the customer on the desk is closed first (the next person must not see
    /// them), then the sign-out is recorded.
    pub fn sign_out(&self) -> Result<BizNum> {
        let next = self.next_customer()?;
        self.accounts.sign_out()?;
        Ok(next)
    }

    pub fn outbox(&self) -> &Arc<Outbox> {
        &self.outbox
    }

    /// The handling number of the customer being served (or about to be).
    pub fn biz_num(&self) -> BizNum {
        self.lock().biz_num.clone()
    }

    /// Scans for the current customer. A scan while an enterprise is already on the desk is a
    /// new customer: it gets a new handling number first. A scan still running is cancelled.
    ///
    /// Events reach `observe` only while this scan is the desk's current one.
    pub async fn scan(
        &self,
        scanned: String,
        item_code: Option<String>,
        observe: SharedObserver,
    ) -> Result<ScanOutcome> {
        self.serve(Query::Code(scanned), item_code, observe).await
    }

    /// Looks up the licenses of an enterprise by its USCC (依职能用证) on a configured legal ground,
    /// for a new customer exactly as [`Desk::scan`] does for a scanned code.
    pub async fn lookup(
        &self,
        uscc: Uscc,
        ground: String,
        item_code: Option<String>,
        observe: SharedObserver,
    ) -> Result<ScanOutcome> {
        self.serve(Query::Holder { uscc, ground }, item_code, observe).await
    }

    async fn serve(&self, query: Query, item_code: Option<String>, observe: SharedObserver) -> Result<ScanOutcome> {
        self.accounts.acting()?;
        let item = self.station.settings().service_item(item_code.as_deref())?.clone();
        let (generation, biz_num) = {
            let mut state = self.lock();
            state.stop_scan();
            if let Some(previous) = state.customer.take() {
                self.close_case(&previous)?;
                state.biz_num = self.station.next_biz_num()?;
            }
            state.copies.clear();
            state.generation += 1;
            (state.generation, state.biz_num.clone())
        };

        let shared = self.state.clone();
        let forward = move |event: ScanEvent| {
            // Checked and forwarded under the lock, so no event of an abandoned scan slips out
            // after `next_customer` returned.
            let mut state = lock(&shared);
            if state.generation != generation {
                return;
            }
            if let ScanEvent::EnterpriseKnown { biz_num, enterprise, authorization } = &event {
                state.customer = Some(Arc::new(Customer {
                    item: item.clone(),
                    biz_num: biz_num.clone(),
                    enterprise: enterprise.clone(),
                    authorization: authorization.clone(),
                }));
            }
            observe(event);
        };
        let station = self.station.clone();
        let task = tokio::spawn(async move {
            let item_code = item_code.as_deref();
            match query {
                Query::Code(scanned) => station.scan(&scanned, item_code, &biz_num, &forward).await,
                Query::Holder { uscc, ground } => station.lookup(&uscc, &ground, item_code, &biz_num, &forward).await,
            }
        });
        {
            // 下一位 may have come while the task was being spawned: then it stops at once.
            let mut state = self.lock();
            if state.generation == generation {
                state.scan = Some(task.abort_handle());
            } else {
                task.abort();
            }
        }

        let result = task.await;
        let mut state = self.lock();
        if state.generation == generation {
            state.scan = None;
        }
        match result {
            Ok(outcome) => outcome,
            Err(e) if e.is_cancelled() => Err(Error::new(ErrorCode::ScanCancelled)),
            // A panic in the flow is a bug: let it surface as it would without the task.
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }

    /// Moves to the next customer: stops a running scan, forgets the enterprise and returns a
    /// new handling number.
    pub fn next_customer(&self) -> Result<BizNum> {
        self.move_on(Leaving::Next)
    }

    /// Nobody touched the window for `[privacy] idle_clear_minutes` with a customer on the desk
    /// (and the countdown ran out): the same as [`Desk::next_customer`], audited `idle_clear`
    /// before the case's `case_closed`. With no customer on the desk nothing happens (`None`).
    pub fn idle_clear(&self) -> Result<Option<BizNum>> {
        if self.customer().is_none() {
            return Ok(None);
        }
        self.move_on(Leaving::IdleClear).map(Some)
    }

    /// Nobody touched the window for `[privacy] lock_minutes`: the session locks (audited
    /// `session_lock`; nobody may act until someone signs in again) and a customer on the desk is
    /// closed as at 下一位. Nothing happens on a counter without accounts, with nobody signed in,
    /// or when locked already (`None`); otherwise the locked person.
    pub fn lock_session(&self) -> Result<Option<SignedIn>> {
        let why = match self.station.settings().privacy.lock {
            Some(after) => format!("{} 分钟无操作，会话锁定", after.as_secs().div_ceil(60)),
            None => "会话锁定".to_owned(),
        };
        let Some(person) = self.accounts.lock_session(&why)? else { return Ok(None) };
        if self.customer().is_some() {
            self.move_on(Leaving::Next)?;
        }
        Ok(Some(person))
    }

    /// The one way a customer leaves the desk (下一位, idle clear, sign-in and sign-out, lock):
    /// stops a running scan, forgets the enterprise and its copies, audits the case as closed
    /// and returns a new handling number.
    fn move_on(&self, why: Leaving) -> Result<BizNum> {
        let biz_num = self.station.next_biz_num()?;
        let mut state = self.lock();
        state.stop_scan();
        state.generation += 1;
        if let Some(previous) = state.customer.take() {
            if let Leaving::IdleClear = why {
                self.audit_idle_clear(&previous)?;
            }
            self.close_case(&previous)?;
        }
        state.copies.clear();
        state.biz_num = biz_num.clone();
        Ok(biz_num)
    }

    fn audit_idle_clear(&self, customer: &Customer) -> Result<()> {
        let detail = match self.station.settings().privacy.idle_clear {
            Some(after) => format!("{} 分钟无操作，自动清屏", after.as_secs().div_ceil(60)),
            None => "自动清屏".to_owned(),
        };
        self.station.audit(&AuditEvent { detail: Some(detail), ..case_event(customer, AuditKind::IdleClear) })?;
        Ok(())
    }

    /// Audits that the clerk moved on from a customer, with or without a handling record (not
    /// every scan becomes a case). Every way a customer leaves the desk ends here.
    fn close_case(&self, customer: &Customer) -> Result<()> {
        let biz_num = customer.biz_num.as_str();
        let detail = match self.outbox.record(biz_num)? {
            Some(record) => format!("closed with record {} ({})", record.status.as_str(), record.state.as_str()),
            None => "closed without record".to_owned(),
        };
        self.station.audit(&AuditEvent { detail: Some(detail), ..case_event(customer, AuditKind::CaseClosed) })?;
        // `[retention] license_days = 0`: the customer's licenses go as they leave the desk.
        if self.station.settings().privacy.license_days == 0 {
            let scope = Scope::Customer(&customer.authorization.auth_id);
            purge(self.station.cache(), scope, &self.station.audit_context(), self.station.clock().now_china())?;
        }
        Ok(())
    }

    /// Stamps a copy of one license of the current customer for this case (re-checking its
    /// status first when the last check is old); kept on the desk for preview, print and save.
    pub async fn prepare_copy(&self, license_code: &str, allow_unchecked: bool) -> Result<Arc<StampedCopy>> {
        let customer = self.require_customer()?;
        let copy = Arc::new(self.copies.make(customer.biz_num.as_str(), license_code, allow_unchecked).await?);
        let mut state = self.lock();
        // The clerk may have moved on while the copy was being made: it then belongs to nobody on screen.
        if state.customer.as_ref().is_none_or(|c| c.biz_num != customer.biz_num) {
            return Err(Error::new(ErrorCode::NoCustomer));
        }
        state.copies.insert(copy.serial.clone(), copy.clone());
        Ok(copy)
    }

    /// A copy made for the current customer.
    pub fn copy(&self, serial: &str) -> Result<Arc<StampedCopy>> {
        self.lock().copies.get(serial).cloned().ok_or_else(|| Error::new(ErrorCode::NoCustomer))
    }

    fn copies_of(&self, serials: &[String]) -> Result<Vec<Arc<StampedCopy>>> {
        self.accounts.acting()?;
        serials.iter().map(|s| self.copy(s)).collect()
    }

    /// Prints copies of the current customer (`printer`: the picker's choice; `None`: the
    /// configured or default printer).
    pub async fn print_copies(&self, serials: &[String], printer: Option<&str>, count: u32) -> Result<Vec<PrintJob>> {
        let copies = self.copies_of(serials)?;
        self.copies.print(&copies, printer, count).await
    }

    /// The clerk closed the printer picker.
    pub fn cancel_print(&self, serials: &[String]) -> Result<()> {
        self.copies.cancel_print(&self.copies_of(serials)?)
    }

    /// Saves copies of the current customer as PDF files.
    pub fn save_copies(&self, serials: &[String], dir: Option<&Path>) -> Result<Vec<PathBuf>> {
        self.copies.save(&self.copies_of(serials)?, dir)
    }

    /// Writes the current customer's handling record to the outbox, then tries to send it once;
    /// a record the gateway did not take yet stays queued and is resent in the background.
    pub async fn submit_record(
        &self,
        status: RecordStatus,
        reason: Option<String>,
        used_license_codes: Vec<String>,
    ) -> Result<OutboxRecord> {
        let customer = self.require_customer()?;
        let draft = RecordDraft { biz_num: customer.biz_num.clone(), status, reason, used_license_codes };
        let queued = self.outbox.enqueue(draft)?;
        self.outbox.send(&queued.biz_num).await
    }

    /// The handling record of the customer on the desk, if one was submitted.
    pub fn current_record(&self) -> Result<Option<OutboxRecord>> {
        match self.customer() {
            Some(customer) => self.outbox.record(customer.biz_num.as_str()),
            None => Ok(None),
        }
    }

    /// The customer on the desk, if a scan reached the enterprise.
    pub fn customer(&self) -> Option<Arc<Customer>> {
        self.lock().customer.clone()
    }

    /// Fetches one license of the current customer again; its position in the authorization and
    /// its new outcome.
    pub async fn retry_license(&self, license_code: &str) -> Result<(usize, LicenseOutcome)> {
        let customer = self.require_customer()?;
        self.station.retry_license(&customer, license_code, &|_| {}).await
    }

    /// The cached annotated copy of one license of the current customer, opened for the viewer
    /// (which takes the bytes: from here on they are the window's to forget).
    pub fn license_file(&self, license_code: &str) -> Result<Vec<u8>> {
        let customer = self.require_customer()?;
        let mut bytes =
            self.station.cache().file_content(&customer.authorization.auth_id, license_code)?.ok_or_else(|| {
                Error::with_fact(ErrorCode::StorageFailed, "本机缓存中没有这张证照的加注件，请点“重试”重新获取。")
            })?;
        Ok(std::mem::take(&mut *bytes))
    }

    /// The customer on the desk, for someone allowed to act for them (signed in, account still
    /// enabled).
    fn require_customer(&self) -> Result<Arc<Customer>> {
        self.accounts.acting()?;
        self.customer().ok_or_else(|| Error::new(ErrorCode::NoCustomer))
    }

    fn lock(&self) -> MutexGuard<'_, DeskState> {
        lock(&self.state)
    }
}

/// Why a customer leaves the desk.
#[derive(Debug, Clone, Copy)]
enum Leaving {
    /// 下一位, a new scan's customer, a sign-in or sign-out, a locked session.
    Next,
    /// Nobody touched the window for a while.
    IdleClear,
}

/// An event about a customer's case, naming its item, handling number, enterprise and authorization.
fn case_event(customer: &Customer, kind: AuditKind) -> AuditEvent {
    AuditEvent {
        service_item_code: Some(customer.item.code.clone()),
        biz_num: Some(customer.biz_num.as_str().to_owned()),
        uscc: Some(customer.enterprise.uscc.as_str().to_owned()),
        auth_id: Some(customer.authorization.auth_id.clone()),
        ..AuditEvent::new(kind, Outcome::Info)
    }
}

impl DeskState {
    fn stop_scan(&mut self) {
        if let Some(scan) = self.scan.take() {
            scan.abort();
        }
    }
}

/// The desk's state is plain data that stays consistent even if a holder panicked.
fn lock(state: &Mutex<DeskState>) -> MutexGuard<'_, DeskState> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
