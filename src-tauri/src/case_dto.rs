//! What the window receives about finishing a case: stamped copies, printers, print and save
//! results, handling records and the outbox (ui/src/types.ts mirrors them).

use crate::dto::AppError;
use serde::Serialize;
use std::path::Path;
use yueshang_core::Error;
use yueshang_core::config::PrintingSettings;
use yueshang_core::copies::{PrintChoice, StampedCopy};
use yueshang_core::outbox::{OutboxRecord, OutboxSummary};
use yueshang_core::print::queue::{PrintJob, PrinterQueue, QueueState};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PrintingDto {
    mode: &'static str,
    printer: Option<String>,
    save_dir: Option<String>,
    last_printer: Option<String>,
    last_copies: u32,
    recheck_after_minutes: u64,
}

impl PrintingDto {
    pub(crate) fn new(settings: &PrintingSettings, save_dir: Option<&Path>, last: PrintChoice) -> Self {
        PrintingDto {
            mode: settings.mode.as_str(),
            printer: settings.printer.clone(),
            save_dir: save_dir.map(|d| d.display().to_string()),
            last_printer: last.printer,
            last_copies: last.copies.max(1),
            recheck_after_minutes: settings.recheck_after.as_secs() / 60,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CopyDto {
    serial: String,
    license_code: String,
    license_name: String,
    pages: usize,
    bytes: usize,
    sha256: String,
    checked_at: String,
    check_fresh: bool,
    file_name: String,
    source_signed: bool,
}

impl From<&StampedCopy> for CopyDto {
    fn from(c: &StampedCopy) -> Self {
        CopyDto {
            serial: c.serial.clone(),
            license_code: c.license_code.clone(),
            license_name: c.license_name.clone(),
            pages: c.pages,
            bytes: c.pdf.len(),
            sha256: c.sha256.clone(),
            checked_at: c.checked_at.to_rfc3339(),
            check_fresh: c.check_fresh,
            file_name: c.file_name(),
            source_signed: c.source_signed,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PrinterDto {
    name: String,
    description: String,
    is_default: bool,
    state: &'static str,
    accepting: bool,
}

impl From<PrinterQueue> for PrinterDto {
    fn from(q: PrinterQueue) -> Self {
        PrinterDto {
            state: match q.state {
                QueueState::Idle => "idle",
                QueueState::Printing => "printing",
                QueueState::Stopped => "stopped",
            },
            name: q.name,
            description: q.description,
            is_default: q.is_default,
            accepting: q.accepting,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PrintedDto {
    serial: String,
    printer: String,
    job_id: i32,
}

impl PrintedDto {
    pub(crate) fn new(serial: &str, job: PrintJob) -> Self {
        PrintedDto { serial: serial.to_owned(), printer: job.printer, job_id: job.job_id }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct SavedDto {
    serial: String,
    path: String,
}

impl SavedDto {
    pub(crate) fn new(serial: &str, path: &Path) -> Self {
        SavedDto { serial: serial.to_owned(), path: path.display().to_string() }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RecordDto {
    biz_num: String,
    status: &'static str,
    reason: Option<String>,
    license_codes: Vec<String>,
    state: &'static str,
    record_id: Option<String>,
    duplicate: bool,
    attempts: u32,
    error: Option<AppError>,
    submitted_at: String,
}

impl From<&OutboxRecord> for RecordDto {
    fn from(r: &OutboxRecord) -> Self {
        RecordDto {
            biz_num: r.biz_num.clone(),
            status: r.status.as_str(),
            reason: r.reason.clone(),
            license_codes: r.used_license_codes.clone(),
            state: r.state.as_str(),
            record_id: r.record_id.clone(),
            duplicate: r.duplicate,
            attempts: r.attempts,
            error: r
                .last_error
                .as_ref()
                .map(|(code, message)| AppError::from(Error { code: *code, message: message.clone(), detail: None })),
            submitted_at: r.submitted_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct OutboxStatusDto {
    waiting: usize,
    refused: usize,
    current: Option<RecordDto>,
}

impl OutboxStatusDto {
    pub(crate) fn new(summary: &OutboxSummary, current: Option<&OutboxRecord>) -> Self {
        OutboxStatusDto { waiting: summary.waiting, refused: summary.refused, current: current.map(RecordDto::from) }
    }
}
