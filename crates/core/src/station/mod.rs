//! The counter station: the scan flow (exchange → concurrent license fetches → cache → result),
//! reported step by step as events, with every step in the audit trail; `lookup.rs` the way in
//! by the holder's USCC (依职能用证).

mod lookup;

pub use lookup::is_holder_lookup;

use crate::accounts::Shift;
use crate::audit::{AuditContext, AuditEvent, AuditKind, Outcome};
use crate::cache::{Cache, CachedLicense, FileInfo, LicenseRecord, Source};
use crate::clock::{Clock, NonceSource};
use crate::config::Settings;
use crate::domain::Operator;
use crate::domain::{
    Authorization, AuthorizedLicense, BizNum, Enterprise, Entry, FaceFields, License, LicenseStatus, LicenseSummary,
    ServiceItem,
};
use crate::error::{Error, ErrorCode, Result};
use crate::gateway::{GatewayClient, LicenseFile};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a scan reports as it goes, so a window can draw cards as they come.
///
/// Order: `EnterpriseKnown`, then for each license `LicenseArrived` followed by `FileArrived`
/// or `LicenseFailed` (a license may also fail before it arrives), then `Done`; or `Failed` alone.
#[derive(Debug, Clone)]
pub enum ScanEvent {
    EnterpriseKnown {
        biz_num: BizNum,
        enterprise: Enterprise,
        authorization: Authorization,
    },
    /// Boxed: a license is large, and most events are small.
    LicenseArrived {
        position: usize,
        license: Box<License>,
        status: LicenseStatus,
    },
    FileArrived {
        position: usize,
        license_code: String,
        file: FileInfo,
    },
    LicenseFailed {
        position: usize,
        license_code: String,
        error: Error,
    },
    Done {
        elapsed: Duration,
        fetched: usize,
        failed: usize,
    },
    Failed {
        error: Error,
    },
}

/// How one authorized license ended.
#[derive(Debug, Clone)]
pub struct LicenseOutcome {
    pub summary: LicenseSummary,
    pub status: LicenseStatus,
    /// The full license, when `get_license` answered.
    pub license: Option<License>,
    /// The cached annotated copy; `None` for a revoked license or a failed fetch.
    pub file: Option<FileInfo>,
    /// Why the fetch failed; the license is then not in the cache.
    pub error: Option<Error>,
}

/// The result of a scan: the enterprise, the authorization and every license's outcome in order.
#[derive(Debug, Clone)]
pub struct ScanOutcome {
    pub biz_num: BizNum,
    pub enterprise: Enterprise,
    pub auth_id: String,
    pub auth_expires_at: chrono::DateTime<chrono::FixedOffset>,
    pub elapsed: Duration,
    pub licenses: Vec<LicenseOutcome>,
}

/// The customer being served once the exchange succeeded: what a later retry of one license needs.
#[derive(Debug, Clone)]
pub struct Customer {
    pub item: ServiceItem,
    pub biz_num: BizNum,
    pub enterprise: Enterprise,
    pub authorization: Authorization,
}

/// One counter PC's engine: settings, gateway client and cache, with time injected.
pub struct Station {
    settings: Settings,
    gateway: GatewayClient,
    cache: Arc<Cache>,
    clock: Arc<dyn Clock>,
    nonces: Arc<dyn NonceSource>,
    /// Who is signed in; the configuration's `[operator]` acts when nobody is.
    shift: Shift,
}

impl std::fmt::Debug for Station {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Station").field("counter", &self.settings.counter).finish_non_exhaustive()
    }
}

/// Where scan events go.
type Observer<'a> = &'a (dyn Fn(ScanEvent) + Send + Sync);

/// The per-scan facts every license fetch and its audit event need, once the exchange is done.
struct Handling<'a> {
    item: &'a ServiceItem,
    biz_num: &'a BizNum,
    enterprise: &'a Enterprise,
    auth_id: &'a str,
    /// How the licenses were reached: a scanned code's authorization, or a lookup by holder.
    source: Source,
    /// The China date the statuses are computed for, fixed for the whole scan.
    today: chrono::NaiveDate,
    observe: Observer<'a>,
}

impl Handling<'_> {
    /// An audit event about one license of this handling.
    fn license_event(&self, license_code: &str, outcome: Outcome, error: Option<&Error>) -> AuditEvent {
        AuditEvent {
            error_code: error.map(|e| e.code),
            service_item_code: Some(self.item.code.clone()),
            biz_num: Some(self.biz_num.as_str().to_owned()),
            uscc: Some(self.enterprise.uscc.as_str().to_owned()),
            auth_id: Some(self.auth_id.to_owned()),
            license_code: Some(license_code.to_owned()),
            ..AuditEvent::new(AuditKind::LicenseFetch, outcome)
        }
    }
}

impl Station {
    pub fn new(
        settings: Settings,
        cache: Arc<Cache>,
        clock: Arc<dyn Clock>,
        nonces: Arc<dyn NonceSource>,
    ) -> Result<Self> {
        let gateway = GatewayClient::new(&settings, clock.clone(), nonces.clone())?;
        Ok(Station { settings, gateway, cache, clock, nonces, shift: Shift::default() })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn gateway(&self) -> &GatewayClient {
        &self.gateway
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// The station's clock, for the rooms of the core that act for it (copies, outbox).
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The station's randomness (salts, nonces), for the rooms of the core that act for it.
    pub fn nonces(&self) -> &Arc<dyn NonceSource> {
        &self.nonces
    }

    /// Who is signed in at this counter (see [`crate::accounts::Accounts`]).
    pub fn shift(&self) -> &Shift {
        &self.shift
    }

    /// The operator named in gateway calls, handling records and copies: the signed-in person
    /// (their account, name and role) in the configuration's division and service org; the
    /// configuration's `[operator]` when nobody is signed in.
    pub fn operator(&self) -> Operator {
        let configured = &self.settings.operator;
        match self.shift.current() {
            Some(person) => Operator {
                account: person.account,
                name: person.name,
                role: person.role.gateway_role().to_owned(),
                ..configured.clone()
            },
            None => configured.clone(),
        }
    }

    /// Who and where, for every audit event this counter writes.
    pub fn audit_context(&self) -> AuditContext {
        AuditContext {
            operator_account: match self.shift.current() {
                Some(person) => person.account,
                None => self.settings.operator.account.clone(),
            },
            hall_code: self.settings.counter.hall_code.clone(),
            counter: self.settings.counter.counter.clone(),
        }
    }

    /// Today's date in China, the date license statuses are computed for.
    pub fn today(&self) -> chrono::NaiveDate {
        self.clock.now_china().date_naive()
    }

    /// A fresh handling number for the next customer.
    pub fn next_biz_num(&self) -> Result<BizNum> {
        self.cache.next_biz_num(&self.settings.counter, self.clock.now_china().date_naive())
    }

    /// Every license in the cache, newest first.
    pub fn cached_licenses(&self) -> Result<Vec<CachedLicense>> {
        self.cache.licenses()
    }

    /// Scans: parses the code locally, exchanges it, fetches every authorized license and its
    /// annotated copy concurrently (bounded), caches each license whole, and reports as it goes.
    pub async fn scan(
        &self,
        scanned: &str,
        item_code: Option<&str>,
        biz_num: &BizNum,
        observe: Observer<'_>,
    ) -> Result<ScanOutcome> {
        let started = Instant::now();
        let result = self.scan_inner(scanned, item_code, biz_num, observe, started).await;
        Self::report_end(&result, observe);
        result
    }

    /// The last event of a scan or a lookup: `Done` with the counts, or `Failed`.
    fn report_end(result: &Result<ScanOutcome>, observe: Observer<'_>) {
        match result {
            Ok(outcome) => {
                let failed = outcome.licenses.iter().filter(|l| l.error.is_some()).count();
                let fetched = outcome.licenses.len() - failed;
                observe(ScanEvent::Done { elapsed: outcome.elapsed, fetched, failed });
            }
            Err(error) => observe(ScanEvent::Failed { error: error.clone() }),
        }
    }

    async fn scan_inner(
        &self,
        scanned: &str,
        item_code: Option<&str>,
        biz_num: &BizNum,
        observe: Observer<'_>,
        started: Instant,
    ) -> Result<ScanOutcome> {
        let item = self.settings.service_item(item_code)?;
        let base_event = |kind, outcome| AuditEvent {
            service_item_code: Some(item.code.clone()),
            biz_num: Some(biz_num.as_str().to_owned()),
            ..AuditEvent::new(kind, outcome)
        };
        // A USCC is never sent as a code: it is looked up on a ground (`lookup`), or it is refused
        // here with the reason, as any other line that is not a 粤商码.
        let read = Entry::read(scanned).and_then(|entry| match entry {
            Entry::Code(code) => Ok(code),
            Entry::Holder(_) => Err(Error::with_fact(
                ErrorCode::GroundRequired,
                "扫到的是统一社会信用代码，不是粤商码：依职能查询须选择依据。",
            )),
        });
        let code = match read {
            Ok(code) => code,
            Err(err) => {
                let event =
                    AuditEvent { error_code: Some(err.code), ..base_event(AuditKind::ScanRejected, Outcome::Failed) };
                self.audit(&event)?;
                return Err(err);
            }
        };
        self.audit(&AuditEvent { detail: Some(code.hint()), ..base_event(AuditKind::Scan, Outcome::Info) })?;

        // The e-license login runs alongside the exchange so it is off the critical path.
        let operator = self.operator();
        let (exchanged, login) = tokio::join!(
            self.gateway.exchange_code(&code, item, biz_num, &operator, &self.settings.counter),
            self.gateway.ensure_login()
        );
        let (enterprise, authorization) = match exchanged {
            Ok(pair) => pair,
            Err(err) => {
                let event = AuditEvent {
                    error_code: Some(err.code),
                    detail: err.detail.clone(),
                    ..base_event(AuditKind::Exchange, Outcome::Failed)
                };
                self.audit(&event)?;
                return Err(err);
            }
        };
        self.cache.store_authorization(&enterprise, &authorization, item, biz_num, self.clock.now_china())?;
        self.audit(&AuditEvent {
            uscc: Some(enterprise.uscc.as_str().to_owned()),
            auth_id: Some(authorization.auth_id.clone()),
            detail: Some(format!("{} licenses authorized", authorization.licenses.len())),
            ..base_event(AuditKind::Exchange, Outcome::Ok)
        })?;
        let handling = self.open_handling(item, biz_num, (&enterprise, &authorization), Source::Code2Auth, observe);
        // A login the gateway refuses for good would be refused again for every license.
        let login_refused = login.err().filter(|e| !e.code.is_transient());
        let fetches = authorization.licenses.iter().map(|authorized| (authorized, None));
        let licenses = self.fetch_all(&handling, fetches, login_refused.as_ref()).await;
        self.finish(&handling, authorization.expires_at, licenses, started)
    }

    /// Tells the observer the enterprise is known, and opens the handling its licenses are fetched under.
    fn open_handling<'a>(
        &self,
        item: &'a ServiceItem,
        biz_num: &'a BizNum,
        (enterprise, authorization): (&'a Enterprise, &'a Authorization),
        source: Source,
        observe: Observer<'a>,
    ) -> Handling<'a> {
        observe(ScanEvent::EnterpriseKnown {
            biz_num: biz_num.clone(),
            enterprise: enterprise.clone(),
            authorization: authorization.clone(),
        });
        Handling {
            item,
            biz_num,
            enterprise,
            auth_id: &authorization.auth_id,
            source,
            today: self.clock.now_china().date_naive(),
            observe,
        }
    }

    /// Fetches every license of a handling at once (the gateway client's call window decides how
    /// many calls are really in flight), with the outcomes in order. A license whose detail is
    /// already known (a lookup by holder returns it) fetches only its file.
    async fn fetch_all<'l>(
        &self,
        handling: &Handling<'_>,
        licenses: impl Iterator<Item = (&'l AuthorizedLicense, Option<&'l License>)>,
        login_refused: Option<&Error>,
    ) -> Vec<LicenseOutcome> {
        // The futures are made up front (they start only when polled): a stream holding the
        // mapping closure would not be `Send` across the borrow, and the desk runs scans as tasks.
        let fetches: Vec<_> = licenses
            .enumerate()
            .map(|(position, (authorized, known))| {
                self.fetch_license(handling, position, authorized, known, login_refused)
            })
            .collect();
        futures::future::join_all(fetches).await
    }

    /// The outcome of a whole handling, with its `scan_done` event counting what arrived and failed.
    fn finish(
        &self,
        handling: &Handling<'_>,
        auth_expires_at: chrono::DateTime<chrono::FixedOffset>,
        licenses: Vec<LicenseOutcome>,
        started: Instant,
    ) -> Result<ScanOutcome> {
        let outcome = ScanOutcome {
            biz_num: handling.biz_num.clone(),
            enterprise: handling.enterprise.clone(),
            auth_id: handling.auth_id.to_owned(),
            auth_expires_at,
            elapsed: started.elapsed(),
            licenses,
        };
        let failed = outcome.licenses.iter().filter(|l| l.error.is_some()).count();
        self.audit(&AuditEvent {
            service_item_code: Some(handling.item.code.clone()),
            biz_num: Some(handling.biz_num.as_str().to_owned()),
            uscc: Some(handling.enterprise.uscc.as_str().to_owned()),
            auth_id: Some(outcome.auth_id.clone()),
            detail: Some(format!(
                "{} licenses, {} failed, {} ms",
                outcome.licenses.len(),
                failed,
                outcome.elapsed.as_millis()
            )),
            ..AuditEvent::new(AuditKind::ScanDone, if failed == 0 { Outcome::Ok } else { Outcome::Failed })
        })?;
        Ok(outcome)
    }

    /// Fetches one license of a customer again (its first fetch failed), with the authorization's
    /// auth code; resolves with the license's position in the authorization and its new
    /// outcome, failed or not.
    pub async fn retry_license(
        &self,
        customer: &Customer,
        license_code: &str,
        observe: Observer<'_>,
    ) -> Result<(usize, LicenseOutcome)> {
        let (position, authorized) = customer
            .authorization
            .licenses
            .iter()
            .enumerate()
            .find(|(_, l)| l.summary.license_code == license_code)
            .ok_or_else(|| Error::with_fact(ErrorCode::AuthCodeNotFound, "本次授权中没有这张证照。"))?;
        let handling = Handling {
            item: &customer.item,
            biz_num: &customer.biz_num,
            enterprise: &customer.enterprise,
            auth_id: &customer.authorization.auth_id,
            source: if is_holder_lookup(&customer.authorization.auth_id) {
                Source::LicenseAuth
            } else {
                Source::Code2Auth
            },
            today: self.clock.now_china().date_naive(),
            observe,
        };
        Ok((position, self.fetch_license(&handling, position, authorized, None, None).await))
    }

    /// Fetches one license's detail and annotated copy at the same time and stores them together;
    /// with the detail `known` already, only the copy.
    async fn fetch_license(
        &self,
        handling: &Handling<'_>,
        position: usize,
        authorized: &AuthorizedLicense,
        known: Option<&License>,
        login_refused: Option<&Error>,
    ) -> LicenseOutcome {
        let summary = &authorized.summary;
        let fetched = match login_refused {
            Some(err) => Err(err.clone()),
            None => {
                let detail = async {
                    let result = match known {
                        Some(license) => Ok(license.clone()),
                        None => self.gateway.get_license(authorized.auth_code.expose()).await,
                    };
                    if let Ok(license) = &result {
                        let status = license.status_on(handling.today);
                        (handling.observe)(ScanEvent::LicenseArrived {
                            position,
                            license: Box::new(license.clone()),
                            status,
                        });
                    }
                    result
                };
                let file = self.gateway.archive(authorized.auth_code.expose(), &handling.item.name);
                let (detail, file) = tokio::join!(detail, file);
                self.resolve(handling, position, authorized, detail, file)
            }
        };
        let outcome = fetched.unwrap_or_else(|error| LicenseOutcome {
            summary: summary.clone(),
            status: summary.status_on(handling.today),
            license: None,
            file: None,
            error: Some(error),
        });
        let event = match &outcome.error {
            Some(error) => {
                (handling.observe)(ScanEvent::LicenseFailed {
                    position,
                    license_code: summary.license_code.clone(),
                    error: error.clone(),
                });
                AuditEvent {
                    detail: error.detail.clone(),
                    ..handling.license_event(&summary.license_code, Outcome::Failed, Some(error))
                }
            }
            None => AuditEvent {
                detail: Some(format!("status {}", outcome.status.as_str())),
                ..handling.license_event(&summary.license_code, Outcome::Ok, None)
            },
        };
        if let Err(err) = self.audit(&event) {
            // The license is cached but its audit line is not: report the license as failed
            // rather than show something the log does not account for.
            tracing::error!(code = %err.code, detail = ?err.detail, "audit write failed");
            return LicenseOutcome { file: None, error: Some(err), ..outcome };
        }
        outcome
    }

    /// Decides what a license's two answers amount to, and caches it whole or not at all.
    fn resolve(
        &self,
        handling: &Handling<'_>,
        position: usize,
        authorized: &AuthorizedLicense,
        detail: Result<License>,
        file: Result<LicenseFile>,
    ) -> Result<LicenseOutcome> {
        let file_revoked = matches!(&file, Err(e) if e.code == ErrorCode::LicenseRevoked);
        let detail_revoked = matches!(&detail, Err(e) if e.code == ErrorCode::LicenseRevoked);
        let (license, file) = match (detail, file) {
            // The gateway refused the file or the detail because the license was revoked: keep
            // the license, shown as revoked, without a file. Never shown as valid.
            (detail, _) if file_revoked || detail_revoked => {
                let license = detail.unwrap_or_else(|_| {
                    let license = License::from_summary(authorized.summary.clone());
                    (handling.observe)(ScanEvent::LicenseArrived {
                        position,
                        license: Box::new(license.clone()),
                        status: LicenseStatus::Revoked,
                    });
                    license
                });
                (license, None)
            }
            (Ok(license), Ok(file)) => (license, Some(file)),
            (Err(err), _) | (_, Err(err)) => return Err(err),
        };
        let status = if file.is_none() { LicenseStatus::Revoked } else { license.status_on(handling.today) };
        self.cache.store_license(&LicenseRecord {
            auth_id: handling.auth_id,
            uscc: &handling.enterprise.uscc,
            summary: &license.summary,
            abolish_reason: license.abolish_reason.as_deref(),
            face_fields: &license.face_fields,
            status,
            source: handling.source,
            fetched_at: self.clock.now_china(),
            file: file.as_ref().map(|f| (f, handling.item.name.as_str())),
        })?;
        let file_info = file.map(|f| FileInfo {
            file_name: f.file_name,
            mime: f.mime.to_owned(),
            size: f.bytes.len() as u64,
            sha256: f.sha256,
        });
        if let Some(info) = &file_info {
            (handling.observe)(ScanEvent::FileArrived {
                position,
                license_code: license.summary.license_code.clone(),
                file: info.clone(),
            });
        }
        Ok(LicenseOutcome {
            summary: license.summary.clone(),
            status,
            license: Some(license),
            file: file_info,
            error: None,
        })
    }

    /// Appends one event to the audit trail, with this counter's who and where and the time now.
    pub fn audit(&self, event: &AuditEvent) -> Result<i64> {
        self.cache.append_audit(&self.audit_context(), event, self.clock.now_china())
    }
}

impl License {
    /// A license known only from its summary (its detail was refused because it was revoked).
    pub fn from_summary(summary: LicenseSummary) -> Self {
        License {
            summary,
            license_item_code: String::new(),
            holder_name: String::new(),
            holder_identity_type: String::new(),
            holder_identity_num: String::new(),
            issue_org_code: String::new(),
            division: String::new(),
            division_code: String::new(),
            issue_date: None,
            trust_level: String::new(),
            abolish_reason: None,
            face_fields: FaceFields::default(),
            last_modification_time: String::new(),
        }
    }
}
