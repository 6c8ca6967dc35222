//! The audit trail's events: every step of a handling, who did it, where, and how it ended.

pub mod chain;
pub mod checkpoint;
pub mod day;
pub mod key;

use crate::error::ErrorCode;
use chrono::{DateTime, FixedOffset};

pub mod export;
pub mod retention;
pub mod verify;

/// What happened. The strings are stable: supervisors' exports and filters rely on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    /// A scan was rejected locally (not a 粤商码); no network call was made.
    ScanRejected,
    /// A code was scanned and is being exchanged.
    Scan,
    /// The exchange answered (enterprise and authorization, or a business failure).
    Exchange,
    /// One license and its annotated copy were fetched and cached.
    LicenseFetch,
    /// A whole scan finished; the detail counts what arrived and what failed.
    ScanDone,
    /// A handling record was sent to the gateway (ok), or a send failed (failed; it stays queued
    /// or, refused for good, needs a person).
    Submit,
    /// A handling record was written to the outbox, to be sent.
    SubmitQueued,
    /// The clerk moved on (下一位, or the screen cleared itself); the detail says whether a
    /// handling record was made.
    CaseClosed,
    /// A license's status was fetched again before a copy was made.
    LicenseRecheck,
    /// A stamped copy (用证副本) was made; the detail carries its serial and the hashes.
    CopyStamp,
    /// A stamped copy was sent to a printer; the detail names the printer and the job.
    CopyPrint,
    /// A stamped copy was saved as a PDF file; the detail names the path.
    CopySave,
    /// An export of the audit trail (CSV/XLSX); the detail names the range and the files.
    AuditExport,
    /// A person signed in; the detail is their role.
    SignIn,
    /// A sign-in was refused (wrong password, unknown, disabled or locked account).
    SignInFailed,
    /// Five wrong passwords in a row locked the account; the detail says until when.
    AccountLocked,
    /// The shift ended; the detail says why (signed out, account disabled meanwhile, …).
    SignOut,
    /// An account was added, disabled, enabled or given a new password; the detail says which.
    AccountChange,
    /// Nobody touched the window for `idle_clear_minutes` with a customer on the desk: it cleared
    /// itself as at 下一位 (the case's own `case_closed` follows).
    IdleClear,
    /// Nobody touched the window for `lock_minutes`: the session locked until the clerk signs in again.
    SessionLock,
    /// Customers' cached licenses were erased (retention, 下一位 with `license_days = 0`, or
    /// `yueshang cache purge`); the detail counts customers and licenses, never names them.
    CachePurge,
    /// IT wiped the sealed cache (`yueshang cache reset`, e.g. after the storage key was lost).
    StorageReset,
    /// A gateway credential was stored sealed or moved out of a configuration file; the detail
    /// names which one, never its value.
    SecretChange,
    /// Licenses were looked up by the holder's USCC (依职能用证) instead of a scanned code; the
    /// detail carries the legal ground the clerk picked and confirmed.
    Lookup,
    /// The province's web portal (网页模式) was opened in the system browser to go on by hand.
    PortalOpen,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::ScanRejected => "scan_rejected",
            AuditKind::Scan => "scan",
            AuditKind::Exchange => "exchange",
            AuditKind::LicenseFetch => "license_fetch",
            AuditKind::ScanDone => "scan_done",
            AuditKind::Submit => "submit",
            AuditKind::SubmitQueued => "submit_queued",
            AuditKind::CaseClosed => "case_closed",
            AuditKind::LicenseRecheck => "license_recheck",
            AuditKind::CopyStamp => "copy_stamp",
            AuditKind::CopyPrint => "copy_print",
            AuditKind::CopySave => "copy_save",
            AuditKind::AuditExport => "audit_export",
            AuditKind::SignIn => "sign_in",
            AuditKind::SignInFailed => "sign_in_failed",
            AuditKind::AccountLocked => "account_locked",
            AuditKind::SignOut => "sign_out",
            AuditKind::AccountChange => "account_change",
            AuditKind::IdleClear => "idle_clear",
            AuditKind::SessionLock => "session_lock",
            AuditKind::CachePurge => "cache_purge",
            AuditKind::StorageReset => "storage_reset",
            AuditKind::SecretChange => "secret_change",
            AuditKind::Lookup => "lookup",
            AuditKind::PortalOpen => "portal_open",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Failed,
    Info,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Info => "info",
        }
    }
}

/// One step, before the station adds who and where. Never holds a code, token or file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub kind: AuditKind,
    pub outcome: Outcome,
    pub error_code: Option<ErrorCode>,
    pub service_item_code: Option<String>,
    pub biz_num: Option<String>,
    pub uscc: Option<String>,
    pub auth_id: Option<String>,
    pub license_code: Option<String>,
    pub detail: Option<String>,
}

impl AuditEvent {
    pub fn new(kind: AuditKind, outcome: Outcome) -> Self {
        AuditEvent {
            kind,
            outcome,
            error_code: None,
            service_item_code: None,
            biz_num: None,
            uscc: None,
            auth_id: None,
            license_code: None,
            detail: None,
        }
    }

    pub fn failed(kind: AuditKind, code: ErrorCode) -> Self {
        AuditEvent { error_code: Some(code), ..AuditEvent::new(kind, Outcome::Failed) }
    }
}

/// Who and where: filled in by the station from its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    pub operator_account: String,
    pub hall_code: String,
    pub counter: String,
}

/// An event as stored, with its sequence number and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    /// Its number in the counter's hash chain (1, 2, 3, … with no gap).
    pub seq: i64,
    pub at: DateTime<FixedOffset>,
    pub kind: String,
    pub outcome: String,
    pub error_code: Option<String>,
    pub operator_account: String,
    pub hall_code: String,
    pub counter: String,
    pub service_item_code: Option<String>,
    pub biz_num: Option<String>,
    pub uscc: Option<String>,
    pub auth_id: Option<String>,
    pub license_code: Option<String>,
    pub detail: Option<String>,
}
