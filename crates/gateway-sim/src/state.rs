//! The sandbox's memory: issued codes, authorizations, access tokens, seen nonces, records, statistics and faults.

use crate::fault::{ActiveFaults, Fault, FaultPlan};
use crate::route::Route;
use crate::samples::{self, FileKind};
use chrono::{DateTime, FixedOffset, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use yueshang_core::clock::{Clock, china_tz};
use yueshang_core::config::Environment;
use yueshang_core::signing::WINDOW_SECS;
use yueshang_core::wire::elicense::{ArchiveData, WireLicense};
use yueshang_core::wire::yst::{SubmitData, SubmitRequest};

/// How long a 粤商码 can be exchanged (contract §3).
pub const CODE_LIFETIME: Duration = Duration::from_secs(120);
/// How long an authorization and its license auth codes live (contract §5, [ours]).
pub const AUTHORIZATION_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// How long an e-license access token lives, as `expires_in` says.
pub const TOKEN_LIFETIME_SECS: u64 = 86_400;
/// Where an issued code's payload points; the `.invalid` host is never contacted.
pub const PAYLOAD_PREFIX: &str = "https://yueshangma.sandbox.invalid/ysm/";

/// A fresh 粤商码 for a sample enterprise, as the enterprise's app would show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCode {
    /// What the QR code holds: a URL with the code as its last path segment.
    pub payload: String,
    pub code: String,
    pub expires_at: DateTime<FixedOffset>,
}

/// A handling record the sandbox received through `apply/submit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitRecord {
    pub record_id: String,
    pub received_at: DateTime<FixedOffset>,
    pub request: SubmitRequest,
}

/// What the control API can refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    #[error("沙箱中没有统一社会信用代码为 {0} 的企业")]
    UnknownEnterprise(String),
}

/// What an exchange finds behind a scanned code; a fresh code is consumed by looking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CodeCheck {
    Unknown,
    Expired,
    Used,
    Fresh { uscc: String },
}

/// The right to read one license, behind one license auth code.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) license: WireLicense,
    pub(crate) file: FileKind,
    /// Who reads it, stamped on the annotated copy.
    pub(crate) hall: String,
    expires_at: DateTime<Utc>,
    expired: bool,
}

/// Why a license auth code reads nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GrantLapse {
    Unknown,
    Expired,
}

struct YsmCode {
    uscc: String,
    expires_at: DateTime<Utc>,
    used: bool,
}

/// Everything the sandbox remembers between requests, behind one lock.
#[derive(Default)]
struct Ledger {
    codes: HashMap<String, YsmCode>,
    grants: HashMap<String, Grant>,
    tokens: HashMap<String, DateTime<Utc>>,
    /// Nonce → when the gateway saw it; kept for the signature window to catch replays.
    nonces: HashMap<String, DateTime<Utc>>,
    records: Vec<SubmitRecord>,
    /// Licenses revoked by the issuer since the sandbox started: license code → abolish reason.
    revoked: HashMap<String, String>,
    stats: BTreeMap<String, u64>,
    faults: ActiveFaults,
    latency: Duration,
}

/// The stats key of the calls being answered now.
pub const IN_FLIGHT_STAT: &str = "in_flight";
/// The stats key of the calls refused 429 for going over the `concurrency` limit.
pub const RATE_LIMITED_STAT: &str = "rate_limited";

/// The sandbox's shared state; handlers, the gateway layer and `SimControl` all hold an `Arc` of it.
pub(crate) struct Sim {
    clock: Arc<dyn Clock>,
    pub(crate) environment: Environment,
    ledger: Mutex<Ledger>,
    /// Annotated copies by (license code, use cause): generating a PDF is slow, fetching it again is not.
    archives: Mutex<HashMap<(String, String), Arc<ArchiveData>>>,
    /// Contract calls being answered now (the sandbox knows one PaaS ID, so this is its count).
    in_flight: Arc<AtomicU64>,
}

/// One call in flight at the gateway; counted down when its answer has left.
pub(crate) struct InFlight(Arc<AtomicU64>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Sim {
    pub(crate) fn new(clock: Arc<dyn Clock>, environment: Environment, faults: Vec<Fault>, latency: Duration) -> Self {
        let ledger = Ledger { faults: ActiveFaults::new(faults), latency, ..Ledger::default() };
        Sim {
            clock,
            environment,
            ledger: Mutex::new(ledger),
            archives: Mutex::new(HashMap::new()),
            in_flight: Arc::new(AtomicU64::new(0)),
        }
    }

    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        // A panic while holding the lock leaves plain data behind, still usable for a simulator.
        self.ledger.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The gateway's "now": the injected clock plus any `clock-skew` fault.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        let skew = self.ledger().faults.clock_skew();
        self.clock.now() + skew
    }

    pub(crate) fn now_china(&self) -> DateTime<FixedOffset> {
        self.now().with_timezone(&china_tz())
    }

    pub(crate) fn count(&self, route: Route) {
        *self.ledger().stats.entry(route.as_str().to_owned()).or_default() += 1;
    }

    /// The calls per route so far, `rate_limited` (429s of the concurrency limit) and `in_flight` now.
    pub(crate) fn stats(&self) -> BTreeMap<String, u64> {
        let mut stats = self.ledger().stats.clone();
        stats.insert(IN_FLIGHT_STAT.to_owned(), self.in_flight.load(Ordering::SeqCst));
        stats
    }

    /// Counts a call in until the returned guard is dropped.
    pub(crate) fn call_started(&self) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.in_flight.clone())
    }

    /// Whether the call just counted in goes over a `concurrency` fault's limit.
    pub(crate) fn over_concurrency_limit(&self) -> bool {
        let limit = self.ledger().faults.concurrency_limit();
        limit.is_some_and(|limit| self.in_flight.load(Ordering::SeqCst) > limit)
    }

    pub(crate) fn count_rate_limited(&self) {
        *self.ledger().stats.entry(RATE_LIMITED_STAT.to_owned()).or_default() += 1;
    }

    /// Remembers a nonce; `false` if it was already seen within the signature window (a replay).
    pub(crate) fn admit_nonce(&self, nonce: &str, now: DateTime<Utc>) -> bool {
        let window = chrono::Duration::seconds(WINDOW_SECS);
        let mut ledger = self.ledger();
        ledger.nonces.retain(|_, seen| now.signed_duration_since(*seen).abs() <= window);
        if ledger.nonces.contains_key(nonce) {
            return false;
        }
        ledger.nonces.insert(nonce.to_owned(), now);
        true
    }

    pub(crate) fn fault_plan(&self, route: Route) -> FaultPlan {
        self.ledger().faults.take_for(route)
    }

    pub(crate) fn faults(&self) -> Vec<Fault> {
        self.ledger().faults.list()
    }

    pub(crate) fn set_faults(&self, faults: Vec<Fault>) {
        self.ledger().faults = ActiveFaults::new(faults);
    }

    pub(crate) fn add_fault(&self, fault: Fault) {
        self.ledger().faults.add(fault);
    }

    pub(crate) fn latency(&self) -> Duration {
        self.ledger().latency
    }

    pub(crate) fn set_latency(&self, latency: Duration) {
        self.ledger().latency = latency;
    }

    pub(crate) fn issue_code(&self, uscc: &str, valid_for: Option<Duration>) -> Result<IssuedCode, SimError> {
        let enterprise =
            samples::find(uscc.trim()).ok_or_else(|| SimError::UnknownEnterprise(uscc.trim().to_owned()))?;
        let now = self.now();
        let expires_at = now + chrono_duration(valid_for.unwrap_or(CODE_LIFETIME));
        let code = fresh_code(32);
        self.ledger().codes.insert(code.clone(), YsmCode { uscc: enterprise.uscc, expires_at, used: false });
        Ok(IssuedCode {
            payload: format!("{PAYLOAD_PREFIX}{code}"),
            code,
            expires_at: expires_at.with_timezone(&china_tz()),
        })
    }

    /// Looks a scanned code up and consumes it if it is fresh: a code is exchanged once.
    pub(crate) fn take_code(&self, code: &str) -> CodeCheck {
        let now = self.now();
        let mut ledger = self.ledger();
        let Some(entry) = ledger.codes.get_mut(code) else { return CodeCheck::Unknown };
        if now >= entry.expires_at {
            CodeCheck::Expired
        } else if entry.used {
            CodeCheck::Used
        } else {
            entry.used = true;
            CodeCheck::Fresh { uscc: entry.uscc.clone() }
        }
    }

    /// Grants reading one license until `expires_at`; returns the new license auth code.
    pub(crate) fn grant(&self, license: WireLicense, file: FileKind, hall: &str, expires_at: DateTime<Utc>) -> String {
        let code = fresh_code(32);
        let mut ledger = self.ledger();
        let mut grant = Grant { license, file, hall: hall.to_owned(), expires_at, expired: false };
        if let Some(reason) = ledger.revoked.get(&grant.license.license_code) {
            mark_abolished(&mut grant.license, reason);
        }
        ledger.grants.insert(code.clone(), grant);
        code
    }

    /// The issuer revokes a license: every grant of it, issued or to come, reads it as ABOLISHED.
    /// `false` if no sample license has this code.
    pub(crate) fn revoke_license(&self, license_code: &str, reason: &str) -> bool {
        if !samples::enterprises().iter().any(|e| e.licenses.iter().any(|l| l.license.license_code == license_code)) {
            return false;
        }
        let mut ledger = self.ledger();
        ledger.revoked.insert(license_code.to_owned(), reason.to_owned());
        for grant in ledger.grants.values_mut().filter(|g| g.license.license_code == license_code) {
            mark_abolished(&mut grant.license, reason);
        }
        true
    }

    pub(crate) fn grant_for(&self, auth_code: &str) -> Result<Grant, GrantLapse> {
        let now = self.now();
        match self.ledger().grants.get(auth_code) {
            None => Err(GrantLapse::Unknown),
            Some(g) if g.expired || now >= g.expires_at => Err(GrantLapse::Expired),
            Some(g) => Ok(g.clone()),
        }
    }

    pub(crate) fn expire_authorizations(&self) {
        self.ledger().grants.values_mut().for_each(|g| g.expired = true);
    }

    pub(crate) fn login(&self) -> String {
        let token = fresh_id("AT", 40);
        let expires_at = self.now() + chrono::Duration::seconds(TOKEN_LIFETIME_SECS as i64);
        self.ledger().tokens.insert(token.clone(), expires_at);
        token
    }

    pub(crate) fn token_is_valid(&self, token: &str) -> bool {
        let now = self.now();
        self.ledger().tokens.get(token).is_some_and(|expires_at| now < *expires_at)
    }

    pub(crate) fn expire_tokens(&self) {
        self.ledger().tokens.clear();
    }

    /// Records a handling record once per `biz_num`; the same `biz_num` again gets the first record's id.
    pub(crate) fn record_submit(&self, request: SubmitRequest) -> SubmitData {
        let received_at = self.now_china();
        let mut ledger = self.ledger();
        if let Some(existing) = ledger.records.iter().find(|r| r.request.biz_num == request.biz_num) {
            return SubmitData { record_id: existing.record_id.clone(), duplicate: true };
        }
        let record_id = format!("REC{}{:06}", received_at.format("%Y%m%d"), ledger.records.len() + 1);
        ledger.records.push(SubmitRecord { record_id: record_id.clone(), received_at, request });
        SubmitData { record_id, duplicate: false }
    }

    pub(crate) fn records(&self) -> Vec<SubmitRecord> {
        self.ledger().records.clone()
    }

    pub(crate) fn cached_archive(&self, license_code: &str, use_cause: &str) -> Option<Arc<ArchiveData>> {
        let archives = self.archives.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        archives.get(&(license_code.to_owned(), use_cause.to_owned())).cloned()
    }

    pub(crate) fn cache_archive(&self, license_code: &str, use_cause: &str, archive: Arc<ArchiveData>) {
        let mut archives = self.archives.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        archives.insert((license_code.to_owned(), use_cause.to_owned()), archive);
    }
}

fn mark_abolished(license: &mut WireLicense, reason: &str) {
    license.license_status = "ABOLISHED".to_owned();
    license.abolish_reason = Some(reason.to_owned());
}

pub(crate) fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// The alphabet of 粤商码 and license auth codes (contract §3).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A fresh random code of `len` characters of `A-Za-z0-9_-`.
pub(crate) fn fresh_code(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len).map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())])).collect()
}

/// A fresh alphanumeric identifier with a readable prefix (auth ids, tokens, response ids).
pub(crate) fn fresh_id(prefix: &str, len: usize) -> String {
    let tail: String = rand::rng().sample_iter(rand::distr::Alphanumeric).take(len).map(char::from).collect();
    format!("{prefix}{tail}")
}
