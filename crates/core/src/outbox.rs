//! The handling record outbox: written before it is sent, resent until the gateway accepts it.
//!
//! A record (申办) is written to SQLite together with its `submit_queued` audit event, and only then
//! sent. A transient failure (timeout, 5xx, dropped connection, 429) keeps it queued for another
//! try after a capped, jittered backoff; a failure that retrying cannot fix marks it refused
//! (需处理) with the reason, until a person asks for another try. Because the queue lives in the
//! cache, it survives 下一位 and restarts; because `biz_num` is the gateway's idempotency key, a
//! resend after a lost answer is reported as a duplicate and never makes a second record.

use crate::audit::{AuditContext, AuditEvent, AuditKind, Outcome};
use crate::cache::insert_audit;
use crate::clock::china_tz;
use crate::domain::{BizNum, LicenseStatus, Operator, ServiceItem, Uscc};
use crate::error::{Error, ErrorCode, Result};
use crate::gateway::{HandlingRecord, SubmitReceipt, operator_ref};
use crate::station::Station;
use crate::wire::yst::OperatorRef;
use chrono::{DateTime, FixedOffset};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The first wait after a failed send; it doubles with every further failure.
pub const BACKOFF_BASE: Duration = Duration::from_secs(5);
/// The longest wait between two sends of one record, so a gateway that comes back is noticed soon.
pub const BACKOFF_CAP: Duration = Duration::from_secs(5 * 60);
/// How long the background sender sleeps at most, so records queued by another process (the
/// `yueshang` command on the same cache) or a changed wall clock are noticed without a wake-up.
const IDLE_RECHECK: Duration = Duration::from_secs(5 * 60);

/// A number in `[0, 1)` that spreads the resends of many counters apart; injected so tests are exact.
pub type Jitter = Arc<dyn Fn() -> f64 + Send + Sync>;

/// The real jitter: uniformly random.
pub fn random_jitter() -> Jitter {
    Arc::new(rand::random::<f64>)
}

/// What the clerk decided about the case (contract §4.2 `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordStatus {
    /// 收件
    Received,
    /// 受理
    Accepted,
    /// 办结
    Done,
    /// 不予受理: needs a reason.
    Rejected,
}

impl RecordStatus {
    pub const ALL: [RecordStatus; 4] =
        [RecordStatus::Received, RecordStatus::Accepted, RecordStatus::Done, RecordStatus::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Received => "RECEIVED",
            RecordStatus::Accepted => "ACCEPTED",
            RecordStatus::Done => "DONE",
            RecordStatus::Rejected => "REJECTED",
        }
    }

    /// Reads a status as the contract (or a person typing it) spells it; case does not matter.
    pub fn parse(value: &str) -> Option<Self> {
        let wanted = value.trim().to_ascii_uppercase();
        RecordStatus::ALL.into_iter().find(|s| s.as_str() == wanted)
    }

    /// The clerk's word for it.
    pub fn label(self) -> &'static str {
        match self {
            RecordStatus::Received => "收件",
            RecordStatus::Accepted => "受理",
            RecordStatus::Done => "办结",
            RecordStatus::Rejected => "不予受理",
        }
    }
}

/// Where a record stands in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordState {
    /// Waits to be sent (待上报), first or again after a transient failure.
    Queued,
    /// The gateway accepted it (已上报).
    Sent,
    /// The gateway refused it in a way retrying cannot fix: a person must act (需处理).
    Refused,
}

impl RecordState {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordState::Queued => "queued",
            RecordState::Sent => "sent",
            RecordState::Refused => "refused",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [RecordState::Queued, RecordState::Sent, RecordState::Refused].into_iter().find(|s| s.as_str() == value)
    }

    /// The clerk's word for it.
    pub fn label(self) -> &'static str {
        match self {
            RecordState::Queued => "待上报",
            RecordState::Sent => "已上报",
            RecordState::Refused => "需处理",
        }
    }
}

/// What the clerk decided (from the 办结 panel or the CLI), before it is queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordDraft {
    pub biz_num: BizNum,
    pub status: RecordStatus,
    pub reason: Option<String>,
    pub used_license_codes: Vec<String>,
}

/// A record as the outbox holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    pub biz_num: String,
    pub auth_id: String,
    pub uscc: String,
    pub enterprise_name: String,
    pub item: ServiceItem,
    pub status: RecordStatus,
    pub reason: Option<String>,
    pub used_license_codes: Vec<String>,
    pub state: RecordState,
    /// Sends tried so far (since it was queued or last given another try).
    pub attempts: u32,
    /// When the background sender may try it again; meaningful while queued.
    pub next_attempt_at: DateTime<FixedOffset>,
    /// Why the last send failed, with the message for the person.
    pub last_error: Option<(ErrorCode, String)>,
    /// The gateway's receipt, once sent.
    pub record_id: Option<String>,
    /// The gateway already had it (an earlier answer was lost).
    pub duplicate: bool,
    /// When the clerk submitted it; sent as `submitted_at`, whenever the send happens.
    pub submitted_at: DateTime<FixedOffset>,
    pub sent_at: Option<DateTime<FixedOffset>>,
}

/// How many records wait, for the header's badge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxSummary {
    /// Queued: will be sent on their own.
    pub waiting: usize,
    /// Refused: need a person (需处理).
    pub refused: usize,
}

/// The wait before the next send of a record whose last `failed_attempts` sends failed:
/// 5 s, 10 s, 20 s, … capped at 5 min, with "equal jitter" (half of it fixed, half spread by
/// `jitter` in `[0, 1)`), so that counters coming back online do not all send at once and a
/// record's waits still grow.
pub fn backoff(failed_attempts: u32, jitter: f64) -> Duration {
    let doublings = failed_attempts.saturating_sub(1).min(16);
    let ceiling = BACKOFF_BASE.saturating_mul(1 << doublings).min(BACKOFF_CAP);
    let spread = if jitter.is_finite() { jitter.clamp(0.0, 1.0) } else { 0.5 };
    ceiling.mul_f64(0.5 + 0.5 * spread)
}

/// The handling of a number as the scan recorded it: who applied, under which authorization, for what.
struct Handling {
    auth_id: String,
    uscc: String,
    enterprise_name: String,
    item: ServiceItem,
}

/// The outbox of one counter: its queue is the cache's `outbox` table.
pub struct Outbox {
    station: Arc<Station>,
    jitter: Jitter,
    /// Records being sent by this process right now: never two sends of one record at once, and
    /// no correction while its earlier version is on the wire.
    in_flight: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").field("station", &self.station).finish_non_exhaustive()
    }
}

/// Marks a record as being sent until dropped.
struct InFlight<'a> {
    set: &'a Mutex<HashSet<String>>,
    biz_num: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        lock(self.set).remove(&self.biz_num);
    }
}

fn lock(set: &Mutex<HashSet<String>>) -> std::sync::MutexGuard<'_, HashSet<String>> {
    // The set holds plain strings: a panic elsewhere leaves it usable.
    set.lock().unwrap_or_else(|p| p.into_inner())
}

impl Outbox {
    /// An outbox for the station's counter; `jitter` gives numbers in `[0, 1)` (see [`random_jitter`]).
    pub fn new(station: Arc<Station>, jitter: Jitter) -> Outbox {
        Outbox { station, jitter, in_flight: Mutex::new(HashSet::new()) }
    }

    pub fn station(&self) -> &Arc<Station> {
        &self.station
    }

    fn now(&self) -> DateTime<FixedOffset> {
        self.station.clock().now_china()
    }

    /// The licenses of a handling that were cached as valid: what the 办结 panel ticks by default.
    pub fn usable_licenses(&self, biz_num: &BizNum) -> Result<Vec<String>> {
        self.station.cache().read(|conn| {
            let handling = handling_of(conn, biz_num)?;
            let mut stmt = conn.prepare(
                "SELECT a.license_code FROM authorized_licenses a
                 JOIN licenses l ON l.license_code = a.license_code AND l.auth_id = a.auth_id
                 WHERE a.auth_id = ?1 AND l.status_at_fetch = ?2
                 ORDER BY a.position",
            )?;
            let codes = stmt.query_map(params![handling.auth_id, LicenseStatus::Valid.as_str()], |r| r.get(0))?;
            Ok(codes.collect::<rusqlite::Result<Vec<String>>>()?)
        })
    }

    /// Validates the clerk's decision, looks up what the cache recorded for the handling number
    /// (enterprise, authorization, item), and writes the record and its `submit_queued` audit
    /// event in one transaction. A queued or refused record of the same number is replaced (the
    /// clerk corrected it); a sent one never is.
    pub fn enqueue(&self, draft: RecordDraft) -> Result<OutboxRecord> {
        let reason = required_reason(draft.status, draft.reason.as_deref())?;
        let codes = distinct(&draft.used_license_codes);
        let biz_num = draft.biz_num.as_str().to_owned();
        if lock(&self.in_flight).contains(&biz_num) {
            return Err(Error::with_fact(
                ErrorCode::RecordInvalid,
                format!("办件 {biz_num} 正在上报，请等上报结束后再提交更正。"),
            ));
        }
        let now = self.now();
        let operator = serde_json::to_string(&operator_ref(&self.station.operator())).map_err(Error::storage)?;
        let ctx = self.station.audit_context();
        self.station.cache().transaction(|tx| {
            let handling = handling_of(tx, &draft.biz_num)?;
            check_licenses(tx, &handling.auth_id, &codes)?;
            let previous = state_of(tx, &biz_num)?;
            if let Some((RecordState::Sent, record_id)) = &previous {
                return Err(Error::with_fact(
                    ErrorCode::RecordInvalid,
                    format!("办件 {biz_num} 已上报（回执 {}），不能再次提交。", record_id.as_deref().unwrap_or("-")),
                ));
            }
            tx.execute(
                "INSERT OR REPLACE INTO outbox (biz_num, auth_id, uscc, enterprise_name, service_item_code,
                 service_item_name, status, reason, used_license_codes, operator_json, submitted_at, state,
                 attempts, next_attempt_at, last_error_code, last_error_message, record_id, duplicate, sent_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'queued', 0, ?11, NULL, NULL, NULL, NULL, NULL)",
                params![
                    biz_num,
                    handling.auth_id,
                    handling.uscc,
                    handling.enterprise_name,
                    handling.item.code,
                    handling.item.name,
                    draft.status.as_str(),
                    reason,
                    serde_json::to_string(&codes).map_err(Error::storage)?,
                    operator,
                    now.to_rfc3339(),
                ],
            )?;
            let replaced = match previous {
                Some((state, _)) => format!("; replaces a {} record", state.as_str()),
                None => String::new(),
            };
            let event = AuditEvent {
                detail: Some(format!("status {}, {} licenses{replaced}", draft.status.as_str(), codes.len())),
                ..record_event(AuditKind::SubmitQueued, Outcome::Info, &biz_num, &handling)
            };
            insert_audit(tx, &ctx, &event, now)?;
            Ok(())
        })?;
        self.require(&biz_num)
    }

    /// Sends one queued record now: accepted → sent (with the receipt); a transient failure →
    /// still queued, with the next try after the backoff; any other failure → refused (需处理).
    /// Every attempt is audited. A record that is not queued is returned as it is, unsent.
    pub async fn send(&self, biz_num: &str) -> Result<OutboxRecord> {
        let Some(_guard) = self.claim(biz_num) else {
            // This process is sending it already; that send will record the outcome.
            return self.require(biz_num);
        };
        let record = self.require(biz_num)?;
        if record.state != RecordState::Queued {
            return Ok(record);
        }
        let operator = self.queued_operator(biz_num)?;
        let result = match handling_record(&record) {
            Ok(handling) => self.station.gateway().submit_record(&handling, &operator).await,
            Err(err) => Err(err),
        };
        self.record_attempt(&record, &operator, result)?;
        self.require(biz_num)
    }

    /// Sends every queued record whose backoff has run out; returns the records after their attempt.
    pub async fn send_due(&self) -> Result<Vec<OutboxRecord>> {
        let now = self.now();
        let due = self.queued()?.into_iter().filter(|r| r.next_attempt_at <= now);
        self.send_each(due.map(|r| r.biz_num).collect()).await
    }

    /// Sends every queued record now, whatever its backoff: IT asked for it (`yueshang outbox --send`).
    pub async fn send_all(&self) -> Result<Vec<OutboxRecord>> {
        let queued = self.queued()?;
        self.send_each(queued.into_iter().map(|r| r.biz_num).collect()).await
    }

    /// Sends the records one after the other: the gateway is one, and a counter has few records.
    async fn send_each(&self, biz_nums: Vec<String>) -> Result<Vec<OutboxRecord>> {
        let mut after = Vec::with_capacity(biz_nums.len());
        for biz_num in biz_nums {
            after.push(self.send(&biz_num).await?);
        }
        Ok(after)
    }

    /// The background sender of the app. Forever: sends what is due, then sleeps until the next
    /// record is due or `wake` is notified (call `notify_one`, so a wake-up while sending is not
    /// lost). Calls `on_change` once at the start and after every round that sent anything.
    /// Nothing is held in memory between rounds: a restart picks up where the cache stands.
    pub async fn run(
        self: Arc<Self>,
        wake: Arc<tokio::sync::Notify>,
        on_change: Arc<dyn Fn(OutboxSummary) + Send + Sync>,
    ) {
        match self.summary() {
            Ok(summary) => on_change(summary),
            Err(err) => tracing::warn!(code = %err.code, detail = ?err.detail, "outbox: cannot read the queue"),
        }
        loop {
            let wait = match self.send_due().await {
                Ok(sent) => {
                    if !sent.is_empty()
                        && let Ok(summary) = self.summary()
                    {
                        on_change(summary);
                    }
                    self.until_next_due().unwrap_or(BACKOFF_BASE)
                }
                Err(err) => {
                    // The cache failed (disk full, locked): try again a little later.
                    tracing::warn!(code = %err.code, detail = ?err.detail, "outbox: a round failed");
                    BACKOFF_BASE
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = wake.notified() => {}
            }
        }
    }

    /// How long until the earliest queued record is due, at most [`IDLE_RECHECK`].
    fn until_next_due(&self) -> Result<Duration> {
        let now = self.now();
        let next = self.queued()?.into_iter().map(|r| r.next_attempt_at).min();
        Ok(match next {
            Some(at) => (at - now).to_std().unwrap_or(Duration::ZERO).min(IDLE_RECHECK),
            None => IDLE_RECHECK,
        })
    }

    /// How many records wait and how many need a person.
    pub fn summary(&self) -> Result<OutboxSummary> {
        self.station.cache().read(|conn| {
            let count = |state: RecordState| -> Result<usize> {
                let n: i64 =
                    conn.query_row("SELECT COUNT(*) FROM outbox WHERE state = ?1", [state.as_str()], |r| r.get(0))?;
                Ok(n as usize)
            };
            Ok(OutboxSummary { waiting: count(RecordState::Queued)?, refused: count(RecordState::Refused)? })
        })
    }

    /// One record, if the outbox has it.
    pub fn record(&self, biz_num: &str) -> Result<Option<OutboxRecord>> {
        self.station.cache().read(|conn| {
            let mut stmt = conn.prepare(&format!("{SELECT_RECORD} WHERE biz_num = ?1"))?;
            stmt.query_row([biz_num], read_row).optional()?.transpose()
        })
    }

    /// Queued and refused records first, then today's sent ones; each group newest first.
    pub fn list(&self) -> Result<Vec<OutboxRecord>> {
        let today = self.now().date_naive();
        let all = self.records_where("1 = 1")?;
        let (open, sent): (Vec<_>, Vec<_>) = all.into_iter().partition(|r| r.state != RecordState::Sent);
        let sent_today = sent.into_iter().filter(|r| r.sent_at.is_some_and(|at| at.date_naive() == today));
        Ok(open.into_iter().chain(sent_today).collect())
    }

    /// Gives a refused record another try (after IT fixed the cause): queued again, due now.
    pub fn retry_refused(&self, biz_num: &str) -> Result<OutboxRecord> {
        let record = self.require(biz_num)?;
        if record.state != RecordState::Refused {
            return Err(Error::with_fact(
                ErrorCode::RecordInvalid,
                format!("办件 {biz_num} 是“{}”，不是“需处理”，无需重新上报。", record.state.label()),
            ));
        }
        let now = self.now();
        let ctx = self.station.audit_context();
        let handling = handling_from(&record);
        self.station.cache().transaction(|tx| {
            tx.execute(
                "UPDATE outbox SET state = 'queued', attempts = 0, next_attempt_at = ?2
                 WHERE biz_num = ?1 AND state = 'refused'",
                params![biz_num, now.to_rfc3339()],
            )?;
            let event = AuditEvent {
                detail: Some("queued again after a refusal".to_owned()),
                ..record_event(AuditKind::SubmitQueued, Outcome::Info, biz_num, &handling)
            };
            insert_audit(tx, &ctx, &event, now)?;
            Ok(())
        })?;
        self.require(biz_num)
    }

    /// Stores how one send ended, with its audit event, in one transaction.
    fn record_attempt(&self, record: &OutboxRecord, operator: &Operator, result: Result<SubmitReceipt>) -> Result<()> {
        let now = self.now();
        let attempts = record.attempts + 1;
        let ctx = AuditContext { operator_account: operator.account.clone(), ..self.station.audit_context() };
        let handling = handling_from(record);
        let biz_num = record.biz_num.as_str();
        let base = |outcome| record_event(AuditKind::Submit, outcome, biz_num, &handling);
        self.station.cache().transaction(|tx| {
            let event = match &result {
                Ok(receipt) => {
                    tx.execute(
                        "UPDATE outbox SET state = 'sent', attempts = ?2, record_id = ?3, duplicate = ?4, sent_at = ?5,
                         last_error_code = NULL, last_error_message = NULL WHERE biz_num = ?1",
                        params![biz_num, attempts, receipt.record_id, receipt.duplicate, now.to_rfc3339()],
                    )?;
                    AuditEvent {
                        detail: Some(format!(
                            "record_id {}, duplicate {}, attempt {attempts}",
                            receipt.record_id, receipt.duplicate
                        )),
                        ..base(Outcome::Ok)
                    }
                }
                Err(err) if err.code.is_transient() => {
                    let next = now + chrono_duration(backoff(attempts, (self.jitter)()));
                    tx.execute(
                        "UPDATE outbox SET attempts = ?2, next_attempt_at = ?3, last_error_code = ?4,
                         last_error_message = ?5 WHERE biz_num = ?1",
                        params![biz_num, attempts, next.to_rfc3339(), err.code.as_str(), err.message],
                    )?;
                    AuditEvent {
                        error_code: Some(err.code),
                        detail: Some(format!(
                            "attempt {attempts} failed, queued until {}{}",
                            next.to_rfc3339(),
                            detail_suffix(err)
                        )),
                        ..base(Outcome::Failed)
                    }
                }
                Err(err) => {
                    tx.execute(
                        "UPDATE outbox SET state = 'refused', attempts = ?2, last_error_code = ?3,
                         last_error_message = ?4 WHERE biz_num = ?1",
                        params![biz_num, attempts, err.code.as_str(), err.message],
                    )?;
                    AuditEvent {
                        error_code: Some(err.code),
                        detail: Some(format!("attempt {attempts} refused for good{}", detail_suffix(err))),
                        ..base(Outcome::Failed)
                    }
                }
            };
            insert_audit(tx, &ctx, &event, now)?;
            Ok(())
        })
    }

    /// Marks a record as being sent by this process; `None` if it already is.
    fn claim(&self, biz_num: &str) -> Option<InFlight<'_>> {
        lock(&self.in_flight)
            .insert(biz_num.to_owned())
            .then(|| InFlight { set: &self.in_flight, biz_num: biz_num.to_owned() })
    }

    fn require(&self, biz_num: &str) -> Result<OutboxRecord> {
        self.record(biz_num)?
            .ok_or_else(|| Error::with_fact(ErrorCode::BizNumUnknown, format!("待上报记录中没有办件 {biz_num}。")))
    }

    fn queued(&self) -> Result<Vec<OutboxRecord>> {
        self.records_where("state = 'queued'")
    }

    fn records_where(&self, condition: &str) -> Result<Vec<OutboxRecord>> {
        self.station.cache().read(|conn| {
            let mut stmt = conn.prepare(&format!("{SELECT_RECORD} WHERE {condition} ORDER BY submitted_at DESC"))?;
            let rows = stmt.query_map([], read_row)?;
            rows.map(|row| row?).collect()
        })
    }

    /// The clerk recorded when the record was queued: the one the gateway must see.
    fn queued_operator(&self, biz_num: &str) -> Result<Operator> {
        let json: String = self.station.cache().read(|conn| {
            Ok(conn.query_row("SELECT operator_json FROM outbox WHERE biz_num = ?1", [biz_num], |r| r.get(0))?)
        })?;
        let o: OperatorRef = serde_json::from_str(&json).map_err(Error::storage)?;
        Ok(Operator {
            account: o.account,
            name: o.name,
            role: o.role,
            division_code: o.division_code,
            service_org: o.service_org,
            service_org_code: o.service_org_code,
        })
    }
}

/// A REJECTED record must say why; any reason is trimmed, and an empty one is none.
fn required_reason(status: RecordStatus, reason: Option<&str>) -> Result<Option<String>> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
    if status == RecordStatus::Rejected && reason.is_none() {
        return Err(Error::with_fact(ErrorCode::RecordInvalid, "“不予受理”必须填写理由。"));
    }
    Ok(reason)
}

/// The codes in their order, each once, blanks dropped.
fn distinct(codes: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    codes.iter().map(|c| c.trim()).filter(|c| !c.is_empty() && seen.insert(*c)).map(str::to_owned).collect()
}

/// What the scan recorded for this handling number: the latest authorization under it.
fn handling_of(conn: &Connection, biz_num: &BizNum) -> Result<Handling> {
    conn.query_row(
        "SELECT a.auth_id, a.uscc, COALESCE(e.name, ''), a.service_item_code, a.service_item_name
         FROM authorizations a LEFT JOIN enterprises e ON e.uscc = a.uscc
         WHERE a.biz_num = ?1 ORDER BY a.created_at DESC, a.rowid DESC LIMIT 1",
        [biz_num.as_str()],
        |r| {
            Ok(Handling {
                auth_id: r.get(0)?,
                uscc: r.get(1)?,
                enterprise_name: r.get(2)?,
                item: ServiceItem { code: r.get(3)?, name: r.get(4)? },
            })
        },
    )
    .optional()?
    .ok_or_else(|| {
        Error::with_fact(ErrorCode::BizNumUnknown, format!("办件号 {biz_num} 在本机没有扫码记录（企业授权）。"))
    })
}

/// Every used license belongs to the handling's authorization and was not cached as revoked or expired.
fn check_licenses(conn: &Connection, auth_id: &str, codes: &[String]) -> Result<()> {
    for code in codes {
        let authorized: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM authorized_licenses WHERE auth_id = ?1 AND license_code = ?2)",
            params![auth_id, code],
            |r| r.get(0),
        )?;
        if !authorized {
            return Err(Error::with_fact(ErrorCode::RecordInvalid, format!("证照 {code} 不在本次办件的授权范围内。")));
        }
        let status: Option<String> = conn
            .query_row(
                "SELECT status_at_fetch FROM licenses WHERE auth_id = ?1 AND license_code = ?2",
                params![auth_id, code],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(status) = status.as_deref().and_then(LicenseStatus::parse).filter(|s| *s != LicenseStatus::Valid) {
            return Err(Error::with_fact(
                ErrorCode::RecordInvalid,
                format!("证照 {code} {}，不能作为本次办件的用证。", status.label()),
            ));
        }
    }
    Ok(())
}

/// The state and receipt of a record already in the outbox.
fn state_of(conn: &Connection, biz_num: &str) -> Result<Option<(RecordState, Option<String>)>> {
    let row: Option<(String, Option<String>)> = conn
        .query_row("SELECT state, record_id FROM outbox WHERE biz_num = ?1", [biz_num], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(row.map(|(state, record_id)| (RecordState::parse(&state).unwrap_or(RecordState::Queued), record_id)))
}

/// The record as the gateway client sends it.
fn handling_record(record: &OutboxRecord) -> Result<HandlingRecord> {
    Ok(HandlingRecord {
        biz_num: BizNum::from_existing(record.biz_num.clone()),
        // A case handled by holder (依职能) has no authorization of the enterprise's: the
        // gateway takes an empty auth_id for it (contract §4.2), never our local id.
        auth_id: if crate::station::is_holder_lookup(&record.auth_id) { String::new() } else { record.auth_id.clone() },
        item: record.item.clone(),
        applicant_name: record.enterprise_name.clone(),
        applicant_uscc: Uscc::parse(&record.uscc)?,
        used_license_codes: record.used_license_codes.clone(),
        status: record.status.as_str(),
        reason: record.reason.clone(),
        submitted_at: record.submitted_at,
    })
}

fn handling_from(record: &OutboxRecord) -> Handling {
    Handling {
        auth_id: record.auth_id.clone(),
        uscc: record.uscc.clone(),
        enterprise_name: record.enterprise_name.clone(),
        item: record.item.clone(),
    }
}

/// An audit event about one record, naming its handling.
fn record_event(kind: AuditKind, outcome: Outcome, biz_num: &str, handling: &Handling) -> AuditEvent {
    AuditEvent {
        service_item_code: Some(handling.item.code.clone()),
        biz_num: Some(biz_num.to_owned()),
        uscc: Some(handling.uscc.clone()),
        auth_id: Some(handling.auth_id.clone()),
        ..AuditEvent::new(kind, outcome)
    }
}

fn detail_suffix(err: &Error) -> String {
    err.detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

const SELECT_RECORD: &str = "SELECT biz_num, auth_id, uscc, enterprise_name, service_item_code, service_item_name,
    status, reason, used_license_codes, state, attempts, next_attempt_at, last_error_code, last_error_message,
    record_id, duplicate, submitted_at, sent_at FROM outbox";

/// One row of `SELECT_RECORD` as SQLite holds it, before its texts are read.
struct RawRecord {
    biz_num: String,
    auth_id: String,
    uscc: String,
    enterprise_name: String,
    item_code: String,
    item_name: String,
    status: String,
    reason: Option<String>,
    codes: String,
    state: String,
    attempts: u32,
    next_attempt_at: String,
    error_code: Option<String>,
    error_message: Option<String>,
    record_id: Option<String>,
    duplicate: Option<bool>,
    submitted_at: String,
    sent_at: Option<String>,
}

/// One row of `SELECT_RECORD`; the outer error is SQLite's, the inner one a row this code cannot read.
fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<OutboxRecord>> {
    let raw = RawRecord {
        biz_num: r.get(0)?,
        auth_id: r.get(1)?,
        uscc: r.get(2)?,
        enterprise_name: r.get(3)?,
        item_code: r.get(4)?,
        item_name: r.get(5)?,
        status: r.get(6)?,
        reason: r.get(7)?,
        codes: r.get(8)?,
        state: r.get(9)?,
        attempts: r.get(10)?,
        next_attempt_at: r.get(11)?,
        error_code: r.get(12)?,
        error_message: r.get(13)?,
        record_id: r.get(14)?,
        duplicate: r.get(15)?,
        submitted_at: r.get(16)?,
        sent_at: r.get(17)?,
    };
    Ok(raw.into_record())
}

impl RawRecord {
    fn into_record(self) -> Result<OutboxRecord> {
        Ok(OutboxRecord {
            status: RecordStatus::parse(&self.status).ok_or_else(|| unreadable("status", &self.status))?,
            used_license_codes: serde_json::from_str(&self.codes).map_err(Error::storage)?,
            state: RecordState::parse(&self.state).ok_or_else(|| unreadable("state", &self.state))?,
            next_attempt_at: timestamp(&self.next_attempt_at)?,
            last_error: self.error_code.map(|c| {
                (ErrorCode::parse(&c).unwrap_or(ErrorCode::BadResponse), self.error_message.unwrap_or_default())
            }),
            submitted_at: timestamp(&self.submitted_at)?,
            sent_at: self.sent_at.as_deref().map(timestamp).transpose()?,
            biz_num: self.biz_num,
            auth_id: self.auth_id,
            uscc: self.uscc,
            enterprise_name: self.enterprise_name,
            item: ServiceItem { code: self.item_code, name: self.item_name },
            reason: self.reason,
            attempts: self.attempts,
            record_id: self.record_id,
            duplicate: self.duplicate.unwrap_or(false),
        })
    }
}

fn timestamp(text: &str) -> Result<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&china_tz()))
        .map_err(|e| unreadable("time", text).detail(e.to_string()))
}

fn unreadable(what: &str, value: &str) -> Error {
    Error::storage(format!("outbox {what} unreadable: {value:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_five_seconds_up_to_five_minutes_with_equal_jitter() {
        let secs = |attempts, jitter| backoff(attempts, jitter).as_secs_f64();
        assert_eq!(secs(1, 0.0), 2.5);
        assert!((4.99..5.0).contains(&secs(1, 0.999_999)), "just under the ceiling");
        assert_eq!(secs(2, 0.0), 5.0);
        assert_eq!(secs(3, 0.5), 15.0);
        assert_eq!(secs(7, 0.0), 150.0, "capped at 5 min before the jitter");
        assert_eq!(secs(40, 0.0), 150.0);
        assert!(secs(40, 0.999) < 300.0);
        assert_eq!(secs(1, f64::NAN), 3.75, "a broken jitter source falls back to the middle");
        assert_eq!(secs(1, 7.0), 5.0, "clamped");
    }

    #[test]
    fn statuses_and_states_read_back() {
        for s in RecordStatus::ALL {
            assert_eq!(RecordStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(RecordStatus::parse(" done "), Some(RecordStatus::Done));
        assert_eq!(RecordStatus::parse("FINISHED"), None);
        for s in [RecordState::Queued, RecordState::Sent, RecordState::Refused] {
            assert_eq!(RecordState::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn a_rejection_needs_a_reason_and_blanks_are_none() {
        assert_eq!(required_reason(RecordStatus::Rejected, Some("  ")).unwrap_err().code, ErrorCode::RecordInvalid);
        assert_eq!(required_reason(RecordStatus::Rejected, None).unwrap_err().code, ErrorCode::RecordInvalid);
        assert_eq!(required_reason(RecordStatus::Rejected, Some(" 材料不全 ")).unwrap(), Some("材料不全".into()));
        assert_eq!(required_reason(RecordStatus::Done, Some(" ")).unwrap(), None);
    }

    #[test]
    fn license_codes_are_kept_once_in_order() {
        let codes = ["B", " A", "B", "", "C"].map(String::from);
        assert_eq!(distinct(&codes), ["B", "A", "C"]);
    }
}
