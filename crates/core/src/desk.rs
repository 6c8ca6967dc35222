//! The counter desk: the customer being served (handling number, enterprise, authorization), one
//! scan at a time, and the move to the next customer that forgets the previous one.

use crate::domain::BizNum;
use crate::error::{Error, ErrorCode, Result};
use crate::station::{Customer, LicenseOutcome, ScanEvent, ScanOutcome, Station};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::task::AbortHandle;

/// Where a desk's scan events go; shared with the scan's task, so owned.
pub type SharedObserver = Arc<dyn Fn(ScanEvent) + Send + Sync>;

/// The state of one counter between customers, for a window that serves one customer at a time.
///
/// The desk hands out a handling number per customer, cancels a scan that the clerk abandoned,
/// and forgets the enterprise on [`Desk::next_customer`], so nothing of a previous customer can
/// be shown, retried or opened afterwards.
pub struct Desk {
    station: Arc<Station>,
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
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk").field("biz_num", &self.lock().biz_num).finish_non_exhaustive()
    }
}

impl Desk {
    /// A desk with a fresh handling number.
    pub fn new(station: Arc<Station>) -> Result<Self> {
        let biz_num = station.next_biz_num()?;
        let state = DeskState { biz_num, customer: None, scan: None, generation: 0 };
        Ok(Desk { station, state: Arc::new(Mutex::new(state)) })
    }

    pub fn station(&self) -> &Station {
        &self.station
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
        let item = self.station.settings().service_item(item_code.as_deref())?.clone();
        let (generation, biz_num) = {
            let mut state = self.lock();
            state.stop_scan();
            if state.customer.take().is_some() {
                state.biz_num = self.station.next_biz_num()?;
            }
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
        let task = tokio::spawn(async move { station.scan(&scanned, item_code.as_deref(), &biz_num, &forward).await });
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
        let biz_num = self.station.next_biz_num()?;
        let mut state = self.lock();
        state.stop_scan();
        state.generation += 1;
        state.customer = None;
        state.biz_num = biz_num.clone();
        Ok(biz_num)
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

    /// The cached annotated copy of one license of the current customer.
    pub fn license_file(&self, license_code: &str) -> Result<Vec<u8>> {
        let customer = self.require_customer()?;
        self.station.cache().file_content(&customer.authorization.auth_id, license_code)?.ok_or_else(|| {
            Error::with_fact(ErrorCode::StorageFailed, "本机缓存中没有这张证照的加注件，请点“重试”重新获取。")
        })
    }

    fn require_customer(&self) -> Result<Arc<Customer>> {
        self.customer().ok_or_else(|| Error::new(ErrorCode::NoCustomer))
    }

    fn lock(&self) -> MutexGuard<'_, DeskState> {
        lock(&self.state)
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
