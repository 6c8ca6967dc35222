//! Stamped copies (用证副本) of a case: serials, the status re-check before use, printing and
//! saving them, and the audit trail of each copy, so a copy found in a case file leads back here.

use crate::audit::{AuditEvent, AuditKind, Outcome};
use crate::cache::insert_audit;
use crate::domain::license::parse_license_date;
use crate::domain::{IssueState, LicenseStatus};
use crate::error::{Error, ErrorCode, Result};
use crate::print::font::StampFont;
use crate::print::queue::{PrintJob, PrintSystem, PrinterQueue};
use crate::print::stamp::{self, StampText};
use crate::station::Station;
use chrono::{DateTime, FixedOffset};
use rusqlite::Error::FromSqlConversionFailure as FromSqlError;
use rusqlite::types::Type;
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

/// Preference keys the counter remembers between sessions.
const LAST_PRINTER: &str = "printing.last_printer";
const LAST_COPIES: &str = "printing.last_copies";
const SAVE_DIR: &str = "printing.save_dir";

/// A copy of one license stamped for one case, ready to preview, print or save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StampedCopy {
    pub serial: String,
    pub license_code: String,
    pub license_name: String,
    pub biz_num: String,
    pub pages: usize,
    pub pdf: Vec<u8>,
    pub sha256: String,
    pub sm3: String,
    /// The last time the gateway confirmed the license valid.
    pub checked_at: DateTime<FixedOffset>,
    /// False when the re-check just before stamping could not reach the gateway.
    pub check_fresh: bool,
    /// The source carried a digital signature, which the copy cannot keep valid.
    pub source_signed: bool,
}

impl StampedCopy {
    /// `<biz_num>-<证照名称>-<serial>.pdf`, with characters no file system accepts replaced.
    pub fn file_name(&self) -> String {
        let name: String = self
            .license_name
            .chars()
            .map(|c| {
                if matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') || c.is_control() {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        format!("{}-{}-{}.pdf", self.biz_num, name.trim(), self.serial)
    }
}

/// Which license, case, clerk and time a copy belongs to (`yueshang audit find-copy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOrigin {
    pub serial: String,
    pub license_code: String,
    pub license_name: String,
    pub auth_id: String,
    pub biz_num: String,
    pub uscc: String,
    pub service_item_code: String,
    pub service_item_name: String,
    pub operator_account: String,
    pub operator_name: String,
    pub made_at: String,
    pub checked_at: String,
    pub check_fresh: bool,
    pub pages: usize,
    pub source_sha256: String,
    pub source_sm3: String,
    pub output_sha256: String,
    pub output_sm3: String,
}

/// What the printer picker starts from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrintChoice {
    pub printer: Option<String>,
    pub copies: u32,
}

/// A license of a recorded handling, as a copy needs it.
struct Source {
    license_name: String,
    auth_id: String,
    uscc: String,
    item_code: String,
    item_name: String,
    auth_code: crate::secret::Secret,
    auth_expires_at: DateTime<FixedOffset>,
    status: LicenseStatus,
    issue_state: IssueState,
    begin_date: Option<chrono::NaiveDate>,
    expiry_date: Option<chrono::NaiveDate>,
    checked_at: DateTime<FixedOffset>,
    file: Option<(String, Zeroizing<Vec<u8>>)>,
}

/// The counter's stamped copies: made, printed and saved for the case on the desk, or by handling
/// number from the command line.
pub struct Copies {
    station: Arc<Station>,
    /// Loaded on first use and kept; a failed load is tried again next time (IT may install a font).
    font: Mutex<Option<Arc<StampFont>>>,
}

impl std::fmt::Debug for Copies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Copies")
    }
}

impl Copies {
    pub fn new(station: Arc<Station>) -> Self {
        Copies { station, font: Mutex::new(None) }
    }

    /// Makes a stamped copy of one license of the handling `biz_num`.
    ///
    /// Only a license valid now is stamped: a status checked longer ago than
    /// `[printing] recheck_after_minutes` is fetched again first. Revoked since →
    /// `LICENSE_REVOKED` (the cache marks it revoked); expired → `LICENSE_EXPIRED`; the gateway
    /// out of reach → `STATUS_UNCHECKED`, unless `allow_unchecked`, when the copy says when the
    /// license was last checked.
    pub async fn make(&self, biz_num: &str, license_code: &str, allow_unchecked: bool) -> Result<StampedCopy> {
        let source = self.source(biz_num, license_code)?;
        let (checked_at, check_fresh) = self.recheck(biz_num, license_code, &source, allow_unchecked).await?;
        let Some((mime, bytes)) = source.file.clone() else {
            return Err(Error::with_fact(
                ErrorCode::StorageFailed,
                "本机缓存中没有这张证照的加注件，请点“重试”重新获取。",
            ));
        };
        let font = self.font()?;
        let serial = self.next_serial()?;
        let settings = self.station.settings();
        let text = StampText {
            item_name: source.item_name.clone(),
            hall_name: settings.counter.hall_name.clone(),
            counter: settings.counter.counter.clone(),
            clerk_name: self.station.operator().name,
            biz_num: biz_num.to_owned(),
            made_at: self.station.clock().now_china(),
            serial: serial.clone(),
            checked_at,
            check_fresh,
        };
        let made_at = text.made_at;
        let stamped = {
            let bytes = bytes.clone();
            // Stamping a long PDF takes a CPU for a while: keep it off the async workers.
            tokio::task::spawn_blocking(move || stamp::stamp(&bytes, &mime, &text, &font))
                .await
                .map_err(|e| Error::new(ErrorCode::FileUnreadable).detail(format!("stamping task failed: {e}")))?
        };
        let stamped = match stamped {
            Ok(stamped) => stamped,
            Err(err) => {
                self.station.audit(&AuditEvent {
                    detail: Some(format!("serial {serial}: {}", err.detail.as_deref().unwrap_or(&err.message))),
                    ..self.event(AuditKind::CopyStamp, biz_num, license_code, &source, Some(err.code))
                })?;
                return Err(err);
            }
        };
        let copy = StampedCopy {
            serial,
            license_code: license_code.to_owned(),
            license_name: source.license_name.clone(),
            biz_num: biz_num.to_owned(),
            pages: stamped.pages,
            sha256: sha256_hex(&stamped.pdf),
            sm3: sm3_hex(&stamped.pdf),
            pdf: stamped.pdf,
            checked_at,
            check_fresh,
            source_signed: stamped.source_signed,
        };
        self.record_copy(&copy, &source, &bytes, made_at)?;
        Ok(copy)
    }

    /// Sends copies to a printer: `printer`, else the configured one, else the system's default.
    /// Each copy is one job, audited with the printer and job; the choice is remembered.
    pub async fn print(&self, copies: &[Arc<StampedCopy>], printer: Option<&str>, count: u32) -> Result<Vec<PrintJob>> {
        let printing = &self.station.settings().printing;
        let target = printer.map(str::trim).filter(|p| !p.is_empty()).or(printing.printer.as_deref());
        let count = count.clamp(1, 99);
        let system = PrintSystem::new(printing);
        let mut jobs = Vec::with_capacity(copies.len());
        for copy in copies {
            let job_name = format!("{} {}", copy.license_name, copy.serial);
            match system.print(target, &copy.pdf, &job_name, count).await {
                Ok(job) => {
                    self.audit_copy(
                        AuditKind::CopyPrint,
                        copy,
                        Outcome::Ok,
                        None,
                        format!("serial {}; printer {}; job {}; copies {count}", copy.serial, job.printer, job.job_id),
                    )?;
                    jobs.push(job);
                }
                Err(err) => {
                    let printer = target.unwrap_or("(默认打印机)");
                    self.audit_copy(
                        AuditKind::CopyPrint,
                        copy,
                        Outcome::Failed,
                        Some(err.code),
                        format!("serial {}; printer {printer}", copy.serial),
                    )?;
                    return Err(err);
                }
            }
        }
        if let Some(job) = jobs.first() {
            self.remember(LAST_PRINTER, &job.printer)?;
            self.remember(LAST_COPIES, &count.to_string())?;
        }
        Ok(jobs)
    }

    /// The clerk closed the printer picker: nothing was sent, and the trail says so.
    pub fn cancel_print(&self, copies: &[Arc<StampedCopy>]) -> Result<()> {
        for copy in copies {
            self.audit_copy(
                AuditKind::CopyPrint,
                copy,
                Outcome::Failed,
                Some(ErrorCode::PrintCancelled),
                format!("serial {}; cancelled", copy.serial),
            )?;
        }
        Ok(())
    }

    /// Saves copies as PDF files in `dir`, else the configured or remembered folder; each file is
    /// written whole (a temporary file renamed) and audited with its path.
    pub fn save(&self, copies: &[Arc<StampedCopy>], dir: Option<&Path>) -> Result<Vec<PathBuf>> {
        let dir = match dir.map(Path::to_path_buf).or_else(|| self.save_dir()) {
            Some(dir) => dir,
            None => return Err(Error::with_fact(ErrorCode::SaveFailed, "还没有选择保存副本的文件夹。")),
        };
        if !dir.is_dir() {
            return Err(Error::with_fact(
                ErrorCode::SaveFailed,
                format!("文件夹 {} 不存在或无法访问。", dir.display()),
            ));
        }
        let mut saved = Vec::with_capacity(copies.len());
        for copy in copies {
            let path = dir.join(copy.file_name());
            match write_whole(&path, &copy.pdf) {
                Ok(()) => {
                    self.audit_copy(
                        AuditKind::CopySave,
                        copy,
                        Outcome::Ok,
                        None,
                        format!("serial {}; path {}", copy.serial, path.display()),
                    )?;
                    saved.push(path);
                }
                Err(e) => {
                    self.audit_copy(
                        AuditKind::CopySave,
                        copy,
                        Outcome::Failed,
                        Some(ErrorCode::SaveFailed),
                        format!("serial {}; path {}; {e}", copy.serial, path.display()),
                    )?;
                    return Err(Error::with_fact(
                        ErrorCode::SaveFailed,
                        format!("无法写入 {}（{e}）。", path.display()),
                    ));
                }
            }
        }
        self.remember(SAVE_DIR, &dir.to_string_lossy())?;
        Ok(saved)
    }

    /// The printers the picker offers; none at all is `NO_PRINTER`, so the clerk is told to ask IT.
    pub async fn printers(&self) -> Result<Vec<PrinterQueue>> {
        let queues = PrintSystem::new(&self.station.settings().printing).queues().await?;
        if queues.is_empty() {
            return Err(Error::new(ErrorCode::NoPrinter));
        }
        Ok(queues)
    }

    /// Where 另存为 writes without asking: the configured folder, else the last one chosen.
    pub fn save_dir(&self) -> Option<PathBuf> {
        self.station.settings().printing.save_dir.clone().or_else(|| self.preference(SAVE_DIR).map(PathBuf::from))
    }

    /// The printer and number of copies the picker starts from: the last ones used.
    pub fn last_choice(&self) -> PrintChoice {
        PrintChoice {
            printer: self.preference(LAST_PRINTER),
            copies: self.preference(LAST_COPIES).and_then(|c| c.parse().ok()).unwrap_or(1),
        }
    }

    /// Where a copy found in a case file came from.
    pub fn find(&self, serial: &str) -> Result<Option<CopyOrigin>> {
        find_copy(self.station.cache(), serial)
    }

    /// The license's status now, re-checked at the gateway when the last check is too old.
    async fn recheck(
        &self,
        biz_num: &str,
        license_code: &str,
        source: &Source,
        allow_unchecked: bool,
    ) -> Result<(DateTime<FixedOffset>, bool)> {
        let now = self.station.clock().now_china();
        let today = now.date_naive();
        refuse_unless_valid(
            source.status,
            LicenseStatus::of(&source.issue_state, source.begin_date, source.expiry_date, today),
        )?;
        let age = now.signed_duration_since(source.checked_at).to_std().unwrap_or_default();
        if age < self.station.settings().printing.recheck_after {
            return Ok((source.checked_at, true));
        }
        let fetched = if now < source.auth_expires_at {
            self.station.gateway().get_license(source.auth_code.expose()).await
        } else {
            Err(Error::with_fact(ErrorCode::AuthCodeExpired, "本次授权已结束，无法联网复核。"))
        };
        let event = |outcome, code, detail: String| AuditEvent {
            detail: Some(detail),
            ..self.event(AuditKind::LicenseRecheck, biz_num, license_code, source, code).with_outcome(outcome)
        };
        match fetched {
            Ok(license) => {
                let status = license.status_on(today);
                self.store_check(&source.auth_id, license_code, status, now)?;
                self.station.audit(&event(Outcome::Ok, None, format!("status {}", status.as_str())))?;
                refuse_unless_valid(status, status)?;
                Ok((now, true))
            }
            Err(err) if err.code == ErrorCode::LicenseRevoked => {
                self.store_check(&source.auth_id, license_code, LicenseStatus::Revoked, now)?;
                self.station.audit(&event(Outcome::Ok, None, "status revoked".to_owned()))?;
                Err(Error::with_fact(ErrorCode::LicenseRevoked, "发证机关已在本次扫码后注销该证照。"))
            }
            Err(err) if err.code.is_transient() || err.code == ErrorCode::AuthCodeExpired => {
                self.station.audit(&event(Outcome::Failed, Some(err.code), err.detail.clone().unwrap_or_default()))?;
                if allow_unchecked {
                    return Ok((source.checked_at, false));
                }
                let last = source.checked_at.format("%Y-%m-%d %H:%M");
                Err(Error::with_fact(ErrorCode::StatusUnchecked, format!("{}最近一次核验于 {last}。", fact_of(&err)))
                    .detail(format!("{}: {}", err.code, err.detail.unwrap_or_default())))
            }
            Err(err) => {
                self.station.audit(&event(Outcome::Failed, Some(err.code), err.detail.clone().unwrap_or_default()))?;
                Err(err)
            }
        }
    }

    fn source(&self, biz_num: &str, license_code: &str) -> Result<Source> {
        let cache = self.station.cache();
        let source = cache.read(|conn| {
            let sealed = conn
                .query_row(
                    "SELECT l.name, a.auth_id, a.uscc, a.service_item_code, a.service_item_name, al.auth_code_sealed,
                            a.expires_at, l.status_at_fetch, l.license_status, l.begin_date, l.expiry_date,
                            COALESCE(l.checked_at, l.fetched_at), f.mime, f.content_sealed
                     FROM authorizations a
                     JOIN licenses l ON l.auth_id = a.auth_id
                     JOIN authorized_licenses al ON al.auth_id = a.auth_id AND al.license_code = l.license_code
                     LEFT JOIN files f ON f.auth_id = l.auth_id AND f.license_code = l.license_code
                     WHERE a.biz_num = ?1 AND l.license_code = ?2
                     ORDER BY a.created_at DESC LIMIT 1",
                    params![biz_num, license_code],
                    |r| {
                        let status: String = r.get(7)?;
                        let issue_state: String = r.get(8)?;
                        let mime: Option<String> = r.get(12)?;
                        let content: Option<Vec<u8>> = r.get(13)?;
                        let auth_code: Vec<u8> = r.get(5)?;
                        let source = Source {
                            license_name: r.get(0)?,
                            auth_id: r.get(1)?,
                            uscc: r.get(2)?,
                            item_code: r.get(3)?,
                            item_name: r.get(4)?,
                            auth_code: crate::secret::Secret::default(),
                            auth_expires_at: time_at(r, 6)?,
                            status: LicenseStatus::parse(&status).unwrap_or(LicenseStatus::Revoked),
                            issue_state: IssueState::parse(&issue_state),
                            begin_date: date_at(r, 9)?,
                            expiry_date: date_at(r, 10)?,
                            checked_at: time_at(r, 11)?,
                            file: None,
                        };
                        Ok((source, auth_code, mime.zip(content)))
                    },
                )
                .optional()?;
            let Some((mut source, auth_code, file)) = sealed else { return Ok(None) };
            let opened =
                cache.open_sealed(conn, "authorized_licenses.auth_code", &source.auth_id, license_code, &auth_code)?;
            source.auth_code = crate::secret::Secret::new(String::from_utf8_lossy(&opened));
            if let Some((mime, content)) = file {
                source.file =
                    Some((mime, cache.open_sealed(conn, "files.content", &source.auth_id, license_code, &content)?));
            }
            Ok(Some(source))
        })?;
        source.ok_or_else(|| self.unknown(biz_num, license_code))
    }

    /// Why a copy cannot be made of something the cache does not hold for this handling.
    fn unknown(&self, biz_num: &str, license_code: &str) -> Error {
        let known = self.station.cache().read(|conn| {
            Ok(conn
                .query_row("SELECT 1 FROM authorizations WHERE biz_num = ?1", params![biz_num], |_| Ok(()))
                .optional()?
                .is_some())
        });
        match known {
            Ok(true) => Error::with_fact(
                ErrorCode::AuthCodeNotFound,
                format!("办件 {biz_num} 中没有已获取的证照 {license_code}。"),
            ),
            Ok(false) => Error::with_fact(ErrorCode::BizNumUnknown, format!("办件号 {biz_num} 不在本机记录中。")),
            Err(err) => err,
        }
    }

    fn store_check(
        &self,
        auth_id: &str,
        license_code: &str,
        status: LicenseStatus,
        at: DateTime<FixedOffset>,
    ) -> Result<()> {
        self.station.cache().transaction(|tx| {
            tx.execute(
                "UPDATE licenses SET status_at_fetch = ?1, checked_at = ?2 WHERE auth_id = ?3 AND license_code = ?4",
                params![status.as_str(), at.to_rfc3339(), auth_id, license_code],
            )?;
            // A revoked license is kept without its file, as a revoked fetch is: never shown as valid.
            if status == LicenseStatus::Revoked {
                tx.execute(
                    "DELETE FROM files WHERE auth_id = ?1 AND license_code = ?2",
                    params![auth_id, license_code],
                )?;
            }
            Ok(())
        })
    }

    fn font(&self) -> Result<Arc<StampFont>> {
        let mut slot = self.font.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(font) = slot.as_ref() {
            return Ok(font.clone());
        }
        let font = Arc::new(StampFont::load(self.station.settings().printing.font.as_deref())?);
        *slot = Some(font.clone());
        Ok(font)
    }

    /// `P-<hall>-<counter>-<YYYYMMDD>-<NNNN>`: per counter and day, never reused after a restart.
    fn next_serial(&self) -> Result<String> {
        let counter = &self.station.settings().counter;
        let day = self.station.clock().now_china().date_naive();
        let key = counter.device_id();
        let day_text = day.format("%Y-%m-%d").to_string();
        let seq: u32 = self.station.cache().transaction(|tx| {
            tx.execute(
                "INSERT INTO copy_serial_sequence (counter_key, day, last_seq) VALUES (?1, ?2, 1)
                 ON CONFLICT (counter_key, day) DO UPDATE SET last_seq = last_seq + 1",
                params![key, day_text],
            )?;
            Ok(tx.query_row(
                "SELECT last_seq FROM copy_serial_sequence WHERE counter_key = ?1 AND day = ?2",
                params![key, day_text],
                |r| r.get(0),
            )?)
        })?;
        Ok(format!("P-{}-{}-{}-{seq:04}", counter.hall_code, counter.counter, day.format("%Y%m%d")))
    }

    /// The copy's row and its audit event, in one transaction.
    fn record_copy(
        &self,
        copy: &StampedCopy,
        source: &Source,
        source_bytes: &[u8],
        made_at: DateTime<FixedOffset>,
    ) -> Result<()> {
        let operator = &self.station.operator();
        let (source_sha256, source_sm3) = (sha256_hex(source_bytes), sm3_hex(source_bytes));
        let mut detail = serde_json::json!({
            "serial": copy.serial,
            "pages": copy.pages,
            "source_sha256": source_sha256,
            "source_sm3": source_sm3,
            "output_sha256": copy.sha256,
            "output_sm3": copy.sm3,
            "checked_at": copy.checked_at.to_rfc3339(),
            "check_fresh": copy.check_fresh,
        });
        if copy.source_signed {
            detail["source_signed"] = serde_json::Value::Bool(true);
            detail["note"] = "源文件带数字签名；副本经改写，签名对副本不再有效，缓存中的原件未改动".into();
        }
        let event = AuditEvent {
            detail: Some(detail.to_string()),
            ..self.event(AuditKind::CopyStamp, &copy.biz_num, &copy.license_code, source, None)
        };
        let ctx = self.station.audit_context();
        self.station.cache().transaction(|tx| {
            tx.execute(
                "INSERT INTO copies (serial, license_code, license_name, auth_id, biz_num, uscc, service_item_code,
                 service_item_name, operator_account, operator_name, made_at, checked_at, check_fresh, pages,
                 source_sha256, source_sm3, output_sha256, output_sm3)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
                params![
                    copy.serial,
                    copy.license_code,
                    copy.license_name,
                    source.auth_id,
                    copy.biz_num,
                    source.uscc,
                    source.item_code,
                    source.item_name,
                    operator.account,
                    operator.name,
                    made_at.to_rfc3339(),
                    copy.checked_at.to_rfc3339(),
                    copy.check_fresh,
                    copy.pages as i64,
                    source_sha256,
                    source_sm3,
                    copy.sha256,
                    copy.sm3
                ],
            )?;
            insert_audit(tx, &ctx, &event, made_at)?;
            Ok(())
        })
    }

    fn event(
        &self,
        kind: AuditKind,
        biz_num: &str,
        license_code: &str,
        source: &Source,
        error: Option<ErrorCode>,
    ) -> AuditEvent {
        AuditEvent {
            error_code: error,
            service_item_code: Some(source.item_code.clone()),
            biz_num: Some(biz_num.to_owned()),
            uscc: Some(source.uscc.clone()),
            auth_id: Some(source.auth_id.clone()),
            license_code: Some(license_code.to_owned()),
            ..AuditEvent::new(kind, if error.is_some() { Outcome::Failed } else { Outcome::Ok })
        }
    }

    /// An event about what happened to a copy already made (printed, saved, cancelled).
    fn audit_copy(
        &self,
        kind: AuditKind,
        copy: &StampedCopy,
        outcome: Outcome,
        error: Option<ErrorCode>,
        detail: String,
    ) -> Result<()> {
        let origin = self.find(&copy.serial)?;
        self.station.audit(&AuditEvent {
            error_code: error,
            service_item_code: origin.as_ref().map(|o| o.service_item_code.clone()),
            biz_num: Some(copy.biz_num.clone()),
            uscc: origin.as_ref().map(|o| o.uscc.clone()),
            auth_id: origin.as_ref().map(|o| o.auth_id.clone()),
            license_code: Some(copy.license_code.clone()),
            detail: Some(detail),
            ..AuditEvent::new(kind, outcome)
        })?;
        Ok(())
    }

    fn preference(&self, key: &str) -> Option<String> {
        let value = self.station.cache().read(|conn| {
            Ok(conn.query_row("SELECT value FROM preferences WHERE key = ?1", params![key], |r| r.get(0)).optional()?)
        });
        value.ok().flatten()
    }

    fn remember(&self, key: &str, value: &str) -> Result<()> {
        self.station.cache().transaction(|tx| {
            tx.execute(
                "INSERT INTO preferences (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
            Ok(())
        })
    }
}

impl AuditEvent {
    fn with_outcome(self, outcome: Outcome) -> Self {
        AuditEvent { outcome, ..self }
    }
}

/// Where a copy came from, by its serial.
pub fn find_copy(cache: &crate::cache::Cache, serial: &str) -> Result<Option<CopyOrigin>> {
    cache.read(|conn| {
        Ok(conn
            .query_row(
                "SELECT serial, license_code, license_name, auth_id, biz_num, uscc, service_item_code, service_item_name,
                        operator_account, operator_name, made_at, checked_at, check_fresh, pages, source_sha256,
                        source_sm3, output_sha256, output_sm3
                 FROM copies WHERE serial = ?1",
                params![serial.trim()],
                |r| {
                    Ok(CopyOrigin {
                        serial: r.get(0)?,
                        license_code: r.get(1)?,
                        license_name: r.get(2)?,
                        auth_id: r.get(3)?,
                        biz_num: r.get(4)?,
                        uscc: r.get(5)?,
                        service_item_code: r.get(6)?,
                        service_item_name: r.get(7)?,
                        operator_account: r.get(8)?,
                        operator_name: r.get(9)?,
                        made_at: r.get(10)?,
                        checked_at: r.get(11)?,
                        check_fresh: r.get(12)?,
                        pages: r.get::<_, i64>(13)? as usize,
                        source_sha256: r.get(14)?,
                        source_sm3: r.get(15)?,
                        output_sha256: r.get(16)?,
                        output_sm3: r.get(17)?,
                    })
                },
            )
            .optional()?)
    })
}

/// A stored RFC 3339 time, as the row's column `index`.
fn time_at(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<DateTime<FixedOffset>> {
    let text: String = row.get(index)?;
    DateTime::parse_from_rfc3339(&text).map_err(|e| FromSqlError(index, Type::Text, Box::new(e)))
}

/// A stored license date (`None`: open-ended), as the row's column `index`.
fn date_at(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Option<chrono::NaiveDate>> {
    let Some(text) = row.get::<_, Option<String>>(index)? else { return Ok(None) };
    parse_license_date(&text).map_err(|e| FromSqlError(index, Type::Text, e.into()))
}

/// Refuses a license that is not valid, by what the cache recorded or what today's date makes of it.
fn refuse_unless_valid(recorded: LicenseStatus, today: LicenseStatus) -> Result<()> {
    match (recorded, today) {
        (LicenseStatus::Revoked, _) | (_, LicenseStatus::Revoked) => Err(Error::new(ErrorCode::LicenseRevoked)),
        (LicenseStatus::Valid, LicenseStatus::Valid) => Ok(()),
        _ => Err(Error::new(ErrorCode::LicenseExpired)),
    }
}

/// The part of an error's message that is specific to it, without the code's standard advice.
fn fact_of(err: &Error) -> String {
    err.message.strip_suffix(err.code.advice()).unwrap_or("").to_owned()
}

fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let part = path.with_extension("pdf.part");
    std::fs::write(&part, bytes)?;
    std::fs::rename(&part, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&part);
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn sm3_hex(bytes: &[u8]) -> String {
    // sm3 0.5 (the version sm2 uses) is on digest 0.11, sha2 0.10 on digest 0.10: each through its own trait.
    hex::encode(<sm3::Sm3 as sm3::Digest>::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_and_carry_case_and_serial() {
        let copy = StampedCopy {
            serial: "P-4401061-A03-20261129-0001".into(),
            license_code: "x".into(),
            license_name: "食品经营许可证/副本:1".into(),
            biz_num: "YS-4401061-A03-20261129-0003".into(),
            pages: 1,
            pdf: vec![],
            sha256: String::new(),
            sm3: String::new(),
            checked_at: chrono::DateTime::parse_from_rfc3339("2026-11-29T10:00:00+08:00").unwrap(),
            check_fresh: true,
            source_signed: false,
        };
        assert_eq!(
            copy.file_name(),
            "YS-4401061-A03-20261129-0003-食品经营许可证_副本_1-P-4401061-A03-20261129-0001.pdf"
        );
    }

    #[test]
    fn only_valid_licenses_pass() {
        use LicenseStatus::*;
        let check = |recorded, today, expected: Option<ErrorCode>| {
            assert_eq!(refuse_unless_valid(recorded, today).err().map(|e| e.code), expected, "{recorded:?} {today:?}");
        };
        check(Valid, Valid, None);
        check(Revoked, Valid, Some(ErrorCode::LicenseRevoked));
        check(Valid, Revoked, Some(ErrorCode::LicenseRevoked));
        check(Valid, Expired, Some(ErrorCode::LicenseExpired));
        check(Expired, Valid, Some(ErrorCode::LicenseExpired));
    }

    #[test]
    fn sm3_matches_the_standard_vector() {
        // GB/T 32905-2016 appendix A, example 1: SM3("abc").
        assert_eq!(sm3_hex(b"abc"), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    }
}
