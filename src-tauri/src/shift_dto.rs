//! What the window receives about sign-in, the supervisor view and the About panel (ui/src/types.ts
//! mirrors them): mappings of the core's accounts, day summary, event page (this counter's or the
//! hall's), export and chain status.

use crate::dto::AppError;
use serde::{Deserialize, Serialize};
use std::path::Path;
use yueshang_core::Error;
use yueshang_core::accounts::{Account, NewAccount, Role, SignedIn};
use yueshang_core::audit::AuditRecord;
use yueshang_core::audit::checkpoint::{ChainStatus, tampered_seq};
use yueshang_core::audit::day::{CountRow, DaySummary, EventFilter, EventPage, HourRow};
use yueshang_core::audit::export::{ExportReport, kind_label, outcome_label, reason_label};
use yueshang_core::config::PrivacySettings;
use yueshang_core::desk::IDLE_CLEAR_COUNTDOWN;
use yueshang_core::shipping::wire::{HallEvent, HallEventPage};

#[derive(Debug, Clone, Serialize)]
pub(crate) struct SignedInDto {
    account: String,
    name: String,
    role: &'static str,
}

impl From<&SignedIn> for SignedInDto {
    fn from(p: &SignedIn) -> Self {
        SignedInDto { account: p.account.clone(), name: p.name.clone(), role: p.role.as_str() }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct SandboxAccountDto {
    account: &'static str,
    name: &'static str,
    role: &'static str,
    password: &'static str,
}

impl From<&NewAccount<'static>> for SandboxAccountDto {
    fn from(a: &NewAccount<'static>) -> Self {
        SandboxAccountDto { account: a.account, name: a.name, role: a.role.as_str(), password: a.password }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SignInInfo {
    pub(crate) required: bool,
    /// Who may act now: `None` before sign-in and while the session is locked.
    pub(crate) user: Option<SignedInDto>,
    /// The person whose session is locked: the sign-in screen names them and offers their account.
    pub(crate) locked: Option<SignedInDto>,
    pub(crate) sandbox_accounts: Vec<SandboxAccountDto>,
}

/// `[privacy]` as the window's idle watcher needs it, in seconds; `None`: off.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PrivacyInfo {
    /// Without a key, a click or a scan for this long, with a customer on screen, the countdown starts.
    pub(crate) idle_clear_seconds: Option<u64>,
    /// Without a key, a click or a scan for this long, the session locks (counters with accounts).
    pub(crate) lock_seconds: Option<u64>,
    /// How long the countdown before an idle clear lasts.
    pub(crate) countdown_seconds: u64,
}

impl From<&PrivacySettings> for PrivacyInfo {
    fn from(p: &PrivacySettings) -> Self {
        PrivacyInfo {
            idle_clear_seconds: p.idle_clear.map(|d| d.as_secs()),
            lock_seconds: p.lock.map(|d| d.as_secs()),
            countdown_seconds: IDLE_CLEAR_COUNTDOWN.as_secs(),
        }
    }
}

/// What `lock_session` answers: whose session locked (`None`: nobody was signed in) and the
/// handling number the desk now shows.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LockedDto {
    pub(crate) locked: Option<SignedInDto>,
    pub(crate) biz_num: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AboutInfo {
    pub(crate) version: &'static str,
    pub(crate) key_fingerprint: String,
    pub(crate) data_dir: String,
    pub(crate) config_path: Option<String>,
    pub(crate) storage_key: StorageKeyDto,
    /// Gateway secrets the configuration file carries in plain text (`gateway.token`, …).
    pub(crate) plain_secrets: Vec<&'static str>,
}

/// Where the sealed cache's storage key is kept: the backend and its place, never the key.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StorageKeyDto {
    pub(crate) backend: &'static str,
    pub(crate) label: &'static str,
    pub(crate) location: String,
}

impl From<&yueshang_core::vault::KeyInfo> for StorageKeyDto {
    fn from(key: &yueshang_core::vault::KeyInfo) -> Self {
        StorageKeyDto { backend: key.backend.as_str(), label: key.backend.label(), location: key.location.clone() }
    }
}

#[derive(Debug, Serialize)]
struct CountRowDto {
    key: String,
    label: String,
    count: u64,
}

fn rows(list: &[CountRow]) -> Vec<CountRowDto> {
    list.iter().map(|r| CountRowDto { key: r.key.clone(), label: r.label.clone(), count: r.count }).collect()
}

#[derive(Debug, Serialize)]
struct HourRowDto {
    hour: u32,
    events: u64,
    scans: u64,
    failures: u64,
}

impl From<&HourRow> for HourRowDto {
    fn from(h: &HourRow) -> Self {
        HourRowDto { hour: h.hour, events: h.events, scans: h.scans, failures: h.failures }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DaySummaryDto {
    date: String,
    events: u64,
    customers: u64,
    scans: u64,
    scans_ok: u64,
    success_rate: Option<f64>,
    licenses_fetched: u64,
    licenses_failed: u64,
    copies_printed: u64,
    records_submitted: u64,
    median_scan_ms: Option<u64>,
    slowest_scan_ms: Option<u64>,
    slowest_biz_num: Option<String>,
    failures_by_reason: Vec<CountRowDto>,
    by_hour: Vec<HourRowDto>,
    by_item: Vec<CountRowDto>,
    by_clerk: Vec<CountRowDto>,
    by_kind: Vec<CountRowDto>,
}

impl From<&DaySummary> for DaySummaryDto {
    fn from(s: &DaySummary) -> Self {
        DaySummaryDto {
            date: s.date.to_string(),
            events: s.events,
            customers: s.customers,
            scans: s.scans,
            scans_ok: s.scans_ok,
            success_rate: s.success_rate(),
            licenses_fetched: s.licenses_fetched,
            licenses_failed: s.licenses_failed,
            copies_printed: s.copies_printed,
            records_submitted: s.records_submitted,
            median_scan_ms: s.median_scan_ms,
            slowest_scan_ms: s.slowest_scan_ms,
            slowest_biz_num: s.slowest_biz_num.clone(),
            failures_by_reason: rows(&s.failures_by_reason),
            by_hour: s.by_hour.iter().map(HourRowDto::from).collect(),
            by_item: rows(&s.by_item),
            by_clerk: rows(&s.by_clerk),
            by_kind: rows(&s.by_kind),
        }
    }
}

/// The event list's filter as the window sends it; blank fields are open.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct AuditFilterDto {
    clerk: Option<String>,
    item: Option<String>,
    outcome: Option<String>,
    kind: Option<String>,
    biz_num: Option<String>,
    uscc: Option<String>,
}

impl From<AuditFilterDto> for EventFilter {
    fn from(f: AuditFilterDto) -> Self {
        let open = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        EventFilter {
            clerk: open(f.clerk),
            item: open(f.item),
            outcome: open(f.outcome),
            kind: open(f.kind),
            biz_num: open(f.biz_num),
            uscc: open(f.uscc).map(|u| u.to_uppercase()),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AuditRowDto {
    seq: i64,
    at: String,
    kind: String,
    kind_label: String,
    outcome: String,
    outcome_label: String,
    error_code: Option<String>,
    reason: Option<String>,
    operator: String,
    item_code: Option<String>,
    biz_num: Option<String>,
    uscc: Option<String>,
    license_code: Option<String>,
    detail: Option<String>,
    /// The counter the event came from: only in the hall's list (全厅).
    #[serde(skip_serializing_if = "Option::is_none")]
    counter: Option<String>,
}

impl From<&AuditRecord> for AuditRowDto {
    fn from(r: &AuditRecord) -> Self {
        AuditRowDto {
            seq: r.seq,
            at: r.at.to_rfc3339(),
            kind_label: kind_label(&r.kind).to_owned(),
            kind: r.kind.clone(),
            outcome_label: outcome_label(&r.outcome).to_owned(),
            outcome: r.outcome.clone(),
            reason: r.error_code.as_deref().map(|c| reason_label(Some(c))),
            error_code: r.error_code.clone(),
            operator: r.operator_account.clone(),
            item_code: r.service_item_code.clone(),
            biz_num: r.biz_num.clone(),
            uscc: r.uscc.clone(),
            license_code: r.license_code.clone(),
            detail: r.detail.clone(),
            counter: None,
        }
    }
}

/// A hall event labelled exactly as this counter's own (the same label functions), plus its counter.
impl From<&HallEvent> for AuditRowDto {
    fn from(e: &HallEvent) -> Self {
        AuditRowDto {
            seq: e.seq,
            // The hall keeps the counter's `at` text; written the way this counter's rows are, when it reads.
            at: chrono::DateTime::parse_from_rfc3339(&e.at).map_or_else(|_| e.at.clone(), |at| at.to_rfc3339()),
            kind_label: kind_label(&e.kind).to_owned(),
            kind: e.kind.clone(),
            outcome_label: outcome_label(&e.outcome).to_owned(),
            outcome: e.outcome.clone(),
            reason: e.error_code.as_deref().map(|c| reason_label(Some(c))),
            error_code: e.error_code.clone(),
            operator: e.operator_account.clone().unwrap_or_default(),
            item_code: e.service_item_code.clone(),
            biz_num: e.biz_num.clone(),
            uscc: e.uscc.clone(),
            license_code: e.license_code.clone(),
            detail: e.detail.clone(),
            counter: Some(e.counter.clone()),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct AuditPageDto {
    total: u64,
    offset: u64,
    rows: Vec<AuditRowDto>,
}

impl From<&EventPage> for AuditPageDto {
    fn from(p: &EventPage) -> Self {
        AuditPageDto { total: p.total, offset: p.offset, rows: p.rows.iter().map(AuditRowDto::from).collect() }
    }
}

impl From<&HallEventPage> for AuditPageDto {
    fn from(p: &HallEventPage) -> Self {
        AuditPageDto { total: p.total, offset: p.offset, rows: p.rows.iter().map(AuditRowDto::from).collect() }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExportResultDto {
    events: u64,
    first_seq: Option<i64>,
    last_seq: Option<i64>,
    head: Option<String>,
    files: Vec<String>,
}

impl From<Option<&ExportReport>> for ExportResultDto {
    fn from(report: Option<&ExportReport>) -> Self {
        match report {
            Some(r) => ExportResultDto {
                events: r.events,
                first_seq: Some(r.first_seq),
                last_seq: Some(r.last_seq),
                head: Some(r.head.clone()),
                files: r.files.iter().map(|f| f.display().to_string()).collect(),
            },
            None => ExportResultDto { events: 0, first_seq: None, last_seq: None, head: None, files: Vec::new() },
        }
    }
}

/// How far an export has got, for the progress bar.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ExportProgressDto {
    pub(crate) done: u64,
    pub(crate) total: u64,
}

#[derive(Debug, Serialize)]
struct ProblemDto {
    seq: Option<i64>,
    message: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChainStatusDto {
    intact: bool,
    events: i64,
    head: Option<String>,
    first_seq: Option<i64>,
    last_signed_at: Option<String>,
    checkpoints: i64,
    problem: Option<ProblemDto>,
}

impl ChainStatusDto {
    /// A chain that does not verify is an answer the supervisor must see, not a failed call; any
    /// other failure (the database unreadable) stays an error.
    pub(crate) fn of(result: Result<ChainStatus, Error>) -> Result<Self, AppError> {
        match result {
            Ok(s) => Ok(ChainStatusDto {
                intact: true,
                events: s.count,
                head: Some(s.head),
                first_seq: s.first_seq,
                last_signed_at: s.last_checkpoint_at,
                checkpoints: s.checkpoints,
                problem: None,
            }),
            Err(err) if err.code == yueshang_core::ErrorCode::AuditTampered => Ok(ChainStatusDto {
                intact: false,
                events: 0,
                head: None,
                first_seq: None,
                last_signed_at: None,
                checkpoints: 0,
                problem: Some(ProblemDto { seq: tampered_seq(&err), message: err.message }),
            }),
            Err(err) => Err(err.into()),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccountDto {
    account: String,
    name: String,
    role: &'static str,
    disabled: bool,
    locked_until: Option<String>,
    last_sign_in_at: Option<String>,
}

impl AccountDto {
    /// `now`: a lock that ran out is not shown.
    pub(crate) fn new(a: &Account, now: chrono::DateTime<chrono::FixedOffset>) -> Self {
        AccountDto {
            account: a.account.clone(),
            name: a.name.clone(),
            role: a.role.as_str(),
            disabled: a.disabled,
            locked_until: a.locked_at(now).map(|t| t.to_rfc3339()),
            last_sign_in_at: a.last_sign_in_at.map(|t| t.to_rfc3339()),
        }
    }
}

pub(crate) fn parse_role(role: &str) -> Result<Role, Error> {
    Role::parse(role).ok_or_else(|| {
        Error::with_fact(
            yueshang_core::ErrorCode::AccountInvalid,
            format!("角色“{role}”无法识别（clerk 或 supervisor）。"),
        )
    })
}

pub(crate) fn path_text(path: &Path) -> String {
    path.display().to_string()
}
