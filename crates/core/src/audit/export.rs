//! The audit export (audit-format.md §4): a signed checkpoint for a range of events, then the
//! CSV for auditors' scripts, the XLSX for supervisors, and the checkpoint files beside them.

use crate::audit::chain::{ChainedEvent, FIELDS};
use crate::audit::checkpoint::{self, RangeCheck, SignedCheckpoint};
use crate::audit::key::CounterKey;
use crate::audit::{AuditContext, AuditEvent, AuditKind, Outcome};
use crate::cache::Cache;
use crate::clock::china_tz;
use crate::error::{Error, ErrorCode, Result};
use base64::Engine as _;
use chrono::{DateTime, FixedOffset, NaiveDateTime, Timelike};
use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet, XlsxError};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Which files besides the checkpoint files an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    pub csv: bool,
    pub xlsx: bool,
}

impl Formats {
    /// `csv`, `xlsx` or `both`, as the window and the commands name them.
    pub fn parse(text: &str) -> Result<Formats> {
        match text.trim() {
            "csv" => Ok(Formats { csv: true, xlsx: false }),
            "xlsx" => Ok(Formats { csv: false, xlsx: true }),
            "both" => Ok(Formats { csv: true, xlsx: true }),
            other => Err(Error::with_fact(
                ErrorCode::ConfigInvalid,
                format!("导出格式应为 csv、xlsx 或 both，而不是“{other}”。"),
            )),
        }
    }
}

/// What to export, by whom and where to.
#[derive(Debug, Clone)]
pub struct ExportRequest<'a> {
    /// Who asks, and the hall and counter the checkpoint names (the export's own event is written with it).
    pub by: &'a AuditContext,
    /// The events `first_seq ..= last_seq`.
    pub range: (i64, i64),
    pub formats: Formats,
    pub out_dir: &'a Path,
    /// Every file is `<stem>.<ext>` in `out_dir`.
    pub stem: &'a str,
    /// When the checkpoint is signed and the export audited.
    pub now: DateTime<FixedOffset>,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    pub events: u64,
    pub first_seq: i64,
    pub last_seq: i64,
    /// The hash of the last exported event (the checkpoint's `head:`).
    pub head: String,
    /// In the order CSV, XLSX, checkpoint, signature, public key (those asked for).
    pub files: Vec<PathBuf>,
}

/// The header of the CSV: the recorded fields, then the two hashes (§4).
pub fn csv_header() -> Vec<&'static str> {
    FIELDS.iter().copied().chain(["prev_hash", "hash"]).collect()
}

/// Sheet names of the XLSX; the verifier finds the rows and the checkpoint by them.
pub const SHEET_ROWS: &str = "明细";
pub const SHEET_SUMMARY: &str = "汇总";
pub const SHEET_CHECK: &str = "校验";
/// Labels in column A of the 校验 sheet; the verifier reads column B beside them.
pub const LABEL_CHECKPOINT: &str = "检查点文本";
pub const LABEL_SIGNATURE: &str = "签名（DER，Base64）";
pub const LABEL_PUBLIC_KEY: &str = "公钥（PEM）";

/// What a column of the 明细 sheet shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// A recorded field, verbatim as text (the index into `FIELDS`).
    Field(usize),
    /// `at` as a real date and time in China time, for sorting and filtering.
    Time,
    KindLabel,
    OutcomeLabel,
    ReasonLabel,
    PrevHash,
    Hash,
}

/// One column of 明细: its Chinese title, its width in Excel units and what it shows.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub title: &'static str,
    pub width: f64,
    pub content: Content,
}

const fn col(title: &'static str, width: f64, content: Content) -> Column {
    Column { title, width, content }
}

const fn field(name: &str) -> usize {
    let mut i = 0;
    while i < FIELDS.len() {
        if const_eq(FIELDS[i], name) {
            return i;
        }
        i += 1;
    }
    panic!("not a v1 field")
}

const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The 明细 layout: what people read first, then the raw codes and the hashes that make each row
/// verifiable on its own (every recorded field appears verbatim in exactly one column).
pub const COLUMNS: [Column; 20] = [
    col("序号", 9.0, Content::Field(field("seq"))),
    col("时间", 24.0, Content::Time),
    col("事件", 12.0, Content::KindLabel),
    col("结果", 8.0, Content::OutcomeLabel),
    col("错误原因", 32.0, Content::ReasonLabel),
    col("操作员", 12.0, Content::Field(field("operator_account"))),
    col("事项编码", 26.0, Content::Field(field("service_item_code"))),
    col("办件号", 30.0, Content::Field(field("biz_num"))),
    col("统一社会信用代码", 22.0, Content::Field(field("uscc"))),
    col("证照标识", 34.0, Content::Field(field("license_code"))),
    col("授权编号", 26.0, Content::Field(field("auth_id"))),
    col("大厅编码", 10.0, Content::Field(field("hall_code"))),
    col("窗口", 8.0, Content::Field(field("counter"))),
    col("说明", 44.0, Content::Field(field("detail"))),
    col("记录时间 at", 31.0, Content::Field(field("at"))),
    col("事件代码 kind", 16.0, Content::Field(field("kind"))),
    col("结果代码 outcome", 17.0, Content::Field(field("outcome"))),
    col("错误代码 error_code", 24.0, Content::Field(field("error_code"))),
    col("前一哈希 prev_hash", 66.0, Content::PrevHash),
    col("哈希 hash", 66.0, Content::Hash),
];

/// The Chinese label of an event kind; an unknown (newer) kind shows its code.
pub fn kind_label(kind: &str) -> &str {
    match kind {
        "scan_rejected" => "扫码被拒",
        "scan" => "扫码",
        "exchange" => "换取授权",
        "license_fetch" => "取证",
        "scan_done" => "扫码完成",
        "submit" => "上报",
        "submit_queued" => "上报排队",
        "case_closed" => "下一位",
        "license_recheck" => "复核证照",
        "copy_stamp" => "出具副本",
        "copy_print" => "打印",
        "copy_save" => "另存副本",
        "view" | "license_view" => "查看",
        "sign_in" | "login" => "登录",
        "sign_in_failed" => "登录失败",
        "sign_out" | "logout" => "退出",
        "account_locked" => "账号锁定",
        "audit_export" => "审计导出",
        "account_change" => "账号管理",
        "idle_clear" => "闲置清屏",
        "session_lock" => "闲置锁定",
        "cache_purge" => "证照清除",
        "storage_reset" => "缓存重置",
        "secret_change" => "凭据管理",
        "lookup" => "依职能查询",
        "portal_open" => "网页模式",
        other => other,
    }
}

/// The Chinese label of an outcome code.
pub fn outcome_label(outcome: &str) -> &str {
    match outcome {
        "ok" => "成功",
        "failed" => "失败",
        "info" => "信息",
        other => other,
    }
}

/// A short Chinese reason for an error code: the first clause of its advice (always in step with
/// `ErrorCode::advice`); an unknown code shows itself, no code shows nothing.
pub fn reason_label(error_code: Option<&str>) -> String {
    let Some(code) = error_code.filter(|c| !c.is_empty()) else { return String::new() };
    match ErrorCode::parse(code) {
        Some(known) => first_clause(known.advice()).to_owned(),
        None => code.to_owned(),
    }
}

fn first_clause(text: &str) -> &str {
    text.split(['，', '。', '：', '；']).next().unwrap_or(text)
}

/// The text a 明细 cell shows for an event (the Time column's text is its raw `at`).
pub fn cell_text(event: &ChainedEvent, content: Content) -> String {
    match content {
        Content::Field(i) => event.values.get(i).cloned().flatten().unwrap_or_default(),
        Content::Time => event.field("at").unwrap_or_default().to_owned(),
        Content::KindLabel => kind_label(event.field("kind").unwrap_or_default()).to_owned(),
        Content::OutcomeLabel => outcome_label(event.field("outcome").unwrap_or_default()).to_owned(),
        Content::ReasonLabel => reason_label(event.field("error_code")),
        Content::PrevHash => event.prev_hash.clone(),
        Content::Hash => event.hash.clone(),
    }
}

/// A recorded `at` as a date and time in China time (what Excel shows), if it parses.
pub fn china_time(at: &str) -> Option<NaiveDateTime> {
    DateTime::parse_from_rfc3339(at).ok().map(|t| t.with_timezone(&china_tz()).naive_local())
}

/// Display width in Excel units: a CJK (full-width) character takes two.
pub fn display_width(text: &str) -> f64 {
    text.chars().map(|c| if is_wide(c) { 2.0 } else { 1.0 }).sum()
}

fn is_wide(c: char) -> bool {
    matches!(u32::from(c), 0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD)
}

/// Exports the events of `request.range`: streams them once, checking the chain as each row is
/// written into every asked format, then signs the checkpoint from the hashes that walk computed
/// (reading and hashing 100 000 events twice cost a third of the export), writes the checkpoint
/// files, then audits the export itself (after the range, so it is not part of it). A failed
/// export is audited as failed and leaves no partial file.
pub fn export(cache: &Cache, key: &CounterKey, request: &ExportRequest<'_>) -> Result<ExportReport> {
    export_with_progress(cache, key, request, &mut |_, _| {})
}

/// How often an export reports how far it got (events).
const PROGRESS_EVERY: u64 = 2_000;

/// [`export`], telling `progress(done, total)` how many of the range's events are written, every
/// few thousand and at the end (for a progress bar).
pub fn export_with_progress(
    cache: &Cache,
    key: &CounterKey,
    request: &ExportRequest<'_>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ExportReport> {
    match write_export(cache, key, request, progress) {
        Ok(report) => {
            audit_export(cache, request, Outcome::Ok, None, &export_detail(request, Some(&report)))?;
            Ok(report)
        }
        Err(err) => {
            // The failure is what matters to the caller; a second failure to record it is only logged.
            if let Err(audit_err) =
                audit_export(cache, request, Outcome::Failed, Some(err.code), &export_detail(request, None))
            {
                tracing::warn!(code = %audit_err.code, "the failed export could not be audited");
            }
            Err(err)
        }
    }
}

fn write_export(
    cache: &Cache,
    key: &CounterKey,
    request: &ExportRequest<'_>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ExportReport> {
    let (first_seq, last_seq) = request.range;
    let by = request.by;
    checkpoint::check_range(first_seq, last_seq)?;
    let target = ExportTarget { formats: request.formats, out_dir: request.out_dir, stem: request.stem };
    let walk = &mut |each: &mut dyn FnMut(ChainedEvent) -> Result<()>| cache.chained_events(first_seq, last_seq, each);
    // The rows are append-only, so what was just checked is what is signed, as if signed first.
    let scope = (by.hall_code.as_str(), by.counter.as_str());
    let seal =
        |hashes| cache.transaction(|tx| checkpoint::store(tx, key, scope, (first_seq, last_seq), hashes, request.now));
    let (events, signed, mut files) = write_files(walk, (first_seq, last_seq), &target, progress, seal)?;
    files.extend(write_hall_witness(cache, &target, (first_seq, last_seq))?);
    Ok(ExportReport { events, first_seq, last_seq, head: signed.checkpoint.head.clone(), files })
}

/// The hall's countersignature of the widest checkpoint this counter shipped that ends inside the
/// range (`shipping`), when there is one: `<stem>.witness.checkpoint`, `.witness.sig` and
/// `.witness.pub.pem`. An auditor verifies it with OpenSSL like the counter's own, and finds its
/// `head` as the hash of the row at its `last_seq`: the hall had seen these rows, unchanged.
fn write_hall_witness(
    cache: &Cache,
    target: &ExportTarget<'_>,
    (first_seq, last_seq): (i64, i64),
) -> Result<Vec<PathBuf>> {
    let witness: Option<(String, Vec<u8>, String)> = cache.read(|conn| {
        use rusqlite::OptionalExtension as _;
        Ok(conn
            .query_row(
                "SELECT checkpoint_text, hall_signature, hall_public_pem FROM hall_witnesses
                 WHERE last_seq BETWEEN ?1 AND ?2 ORDER BY last_seq DESC, first_seq LIMIT 1",
                rusqlite::params![first_seq, last_seq],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    })?;
    let Some((text, signature, public_pem)) = witness else { return Ok(Vec::new()) };
    let mut files = Vec::new();
    for (ext, bytes) in [
        ("witness.checkpoint", text.as_bytes()),
        ("witness.sig", signature.as_slice()),
        ("witness.pub.pem", public_pem.as_bytes()),
    ] {
        let path = target.out_dir.join(format!("{}.{ext}", target.stem));
        write_whole(&path, |file| file.write_all(bytes))?;
        files.push(path);
    }
    Ok(files)
}

/// Where an export's files go: `<stem>.<ext>` in `out_dir`, the formats asked for.
#[derive(Debug, Clone, Copy)]
pub struct ExportTarget<'a> {
    pub formats: Formats,
    pub out_dir: &'a Path,
    pub stem: &'a str,
}

/// The hall's countersignature of a checkpoint: a second SM2 signature over the same text, with the
/// hall's key, written beside the counter's as `<stem>.checkpoint.hall.sig` and `<stem>.hall.pub.pem`.
#[derive(Debug, Clone, Copy)]
pub struct WitnessFiles<'a> {
    pub signature: &'a [u8],
    pub public_pem: &'a str,
}

/// The export files of events signed elsewhere (the hall's export of a counter's chain, from the
/// counter's own checkpoint): each row checked to link, the range checked to end at the
/// checkpoint's `head` from its `prev_hash`, then the checkpoint's files and the witness's.
pub fn write_signed(
    events: &[ChainedEvent],
    signed: &SignedCheckpoint,
    witness: Option<WitnessFiles<'_>>,
    target: &ExportTarget<'_>,
) -> Result<Vec<PathBuf>> {
    let checkpoint = &signed.checkpoint;
    let range = (checkpoint.first_seq, checkpoint.last_seq);
    checkpoint::check_range(range.0, range.1)?;
    let walk =
        &mut |each: &mut dyn FnMut(ChainedEvent) -> Result<()>| events.iter().try_for_each(|event| each(event.clone()));
    let seal = |(prev_hash, head): (String, String)| {
        if prev_hash != checkpoint.prev_hash || head != checkpoint.head {
            return Err(Error::with_fact(ErrorCode::AuditTampered, "记录与签名检查点的起止哈希不符。"));
        }
        Ok(signed.clone())
    };
    let (_, _, mut files) = write_files(walk, range, target, &mut |_, _| {}, seal)?;
    if let Some(witness) = witness {
        for (ext, bytes) in
            [("checkpoint.hall.sig", witness.signature), ("hall.pub.pem", witness.public_pem.as_bytes())]
        {
            let path = target.out_dir.join(format!("{}.{ext}", target.stem));
            write_whole(&path, |file| file.write_all(bytes))?;
            files.push(path);
        }
    }
    Ok(files)
}

/// Gives each row of a range, in order, to the function it is handed.
type Walk<'a> = dyn FnMut(&mut dyn FnMut(ChainedEvent) -> Result<()>) -> Result<()> + 'a;

/// Streams the rows `walk` gives into the CSV and XLSX asked for, each checked to follow the one
/// before from `first_seq` on, then has `seal` sign (or vouch for) the range from what the walk
/// computed, and writes the checkpoint files. A row that does not verify stops it with no file left.
fn write_files(
    walk: &mut Walk<'_>,
    (first_seq, last_seq): (i64, i64),
    target: &ExportTarget<'_>,
    progress: &mut dyn FnMut(u64, u64),
    seal: impl FnOnce((String, String)) -> Result<SignedCheckpoint>,
) -> Result<(u64, SignedCheckpoint, Vec<PathBuf>)> {
    std::fs::create_dir_all(target.out_dir).map_err(|e| save_failed(target.out_dir, &e))?;
    let path = |ext: &str| target.out_dir.join(format!("{}.{ext}", target.stem));

    let mut csv = target.formats.csv.then(|| CsvOut::create(&path("csv"))).transpose()?;
    let mut xlsx = target.formats.xlsx.then(XlsxOut::new).transpose()?;
    let mut check = RangeCheck::new(first_seq);
    let mut events = 0u64;
    // The range is gapless (the walk checks it), so its size is known before the first row.
    let total = u64::try_from(last_seq - first_seq + 1).unwrap_or(0);
    // A row that does not verify stops the walk before it is written; the CSV's `.part` file
    // goes when `csv` is dropped.
    walk(&mut |event| {
        check.step(&event)?;
        if let Some(out) = csv.as_mut() {
            out.row(&event)?;
        }
        if let Some(out) = xlsx.as_mut() {
            out.row(&event)?;
        }
        events += 1;
        if events.is_multiple_of(PROGRESS_EVERY) {
            progress(events, total);
        }
        Ok(())
    })?;
    progress(events, total);
    let signed = seal(check.finish(last_seq)?)?;

    let mut files = Vec::new();
    if let Some(out) = csv {
        files.push(out.finish()?);
    }
    if let Some(out) = xlsx {
        let target = path("xlsx");
        out.finish(&signed, &target)?;
        files.push(target);
    }
    for (ext, bytes) in [
        ("checkpoint", signed.text.as_bytes()),
        ("checkpoint.sig", signed.signature.as_slice()),
        ("pub.pem", signed.public_pem.as_bytes()),
    ] {
        let target = path(ext);
        write_whole(&target, |file| file.write_all(bytes))?;
        files.push(target);
    }
    Ok((events, signed, files))
}

fn audit_export(
    cache: &Cache,
    request: &ExportRequest<'_>,
    outcome: Outcome,
    error_code: Option<ErrorCode>,
    detail: &str,
) -> Result<i64> {
    let event =
        AuditEvent { error_code, detail: Some(detail.to_owned()), ..AuditEvent::new(AuditKind::AuditExport, outcome) };
    cache.append_audit(request.by, &event, request.now)
}

/// Which range and which files, as JSON text (the detail of the `audit_export` event).
fn export_detail(request: &ExportRequest<'_>, report: Option<&ExportReport>) -> String {
    let files: Vec<String> =
        report.map(|r| r.files.iter().map(|f| f.display().to_string()).collect()).unwrap_or_default();
    serde_json::json!({
        "first_seq": request.range.0,
        "last_seq": request.range.1,
        "events": report.map(|r| r.events),
        "head": report.map(|r| r.head.clone()),
        "files": files,
    })
    .to_string()
}

fn save_failed(path: &Path, err: &dyn std::fmt::Display) -> Error {
    Error::with_fact(ErrorCode::SaveFailed, format!("无法写入 {}（{err}）。", path.display()))
}

/// `<target>.part` beside the target: written whole, then renamed, so a reader never sees half a file.
fn part_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    target.with_file_name(name)
}

/// `bytes` as the file `target`, written whole (`.part`, then renamed).
pub(crate) fn write_bytes_whole(target: &Path, bytes: &[u8]) -> Result<()> {
    write_whole(target, |file| file.write_all(bytes))
}

fn write_whole(target: &Path, write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>) -> Result<()> {
    let part = part_path(target);
    let written = (|| {
        let mut file = BufWriter::new(File::create(&part)?);
        write(&mut file)?;
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    })();
    finish_part(&part, target, written)
}

fn finish_part(part: &Path, target: &Path, written: std::io::Result<()>) -> Result<()> {
    match written.and_then(|()| std::fs::rename(part, target)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(part);
            Err(save_failed(target, &e))
        }
    }
}

/// The CSV being written: UTF-8 BOM, RFC 4180 with CRLF, every value verbatim. Dropped before
/// [`CsvOut::finish`] (a failed export), it removes its `.part` file.
struct CsvOut {
    target: PathBuf,
    part: PathBuf,
    writer: Option<csv::Writer<BufWriter<File>>>,
}

impl Drop for CsvOut {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.part);
        }
    }
}

impl CsvOut {
    fn create(target: &Path) -> Result<Self> {
        let part = part_path(target);
        let mut file = BufWriter::new(File::create(&part).map_err(|e| save_failed(target, &e))?);
        // Excel reads UTF-8 only with a BOM; the hashes do not cover it.
        file.write_all("\u{feff}".as_bytes()).map_err(|e| save_failed(target, &e))?;
        let writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(file);
        let mut out = CsvOut { target: target.to_path_buf(), part, writer: Some(writer) };
        out.writer()?.write_record(csv_header()).map_err(|e| save_failed(target, &e))?;
        Ok(out)
    }

    fn writer(&mut self) -> Result<&mut csv::Writer<BufWriter<File>>> {
        self.writer.as_mut().ok_or_else(|| save_failed(&self.target, &"已写完"))
    }

    fn row(&mut self, event: &ChainedEvent) -> Result<()> {
        let values = event.values.iter().map(|v| v.as_deref().unwrap_or_default());
        let record = values.chain([event.prev_hash.as_str(), event.hash.as_str()]);
        let Some(writer) = self.writer.as_mut() else { return Err(save_failed(&self.target, &"已写完")) };
        writer.write_record(record).map_err(|e| save_failed(&self.target, &e))
    }

    fn finish(mut self) -> Result<PathBuf> {
        let writer = self.writer.take().ok_or_else(|| save_failed(&self.target, &"已写完"))?;
        let (target, part) = (self.target.clone(), self.part.clone());
        let written = writer
            .into_inner()
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|buffered| buffered.into_inner().map_err(|e| e.into_error()))
            .and_then(|file| file.sync_all());
        finish_part(&part, &target, written)?;
        Ok(target)
    }
}

fn xlsx_failed(err: XlsxError) -> Error {
    Error::with_fact(ErrorCode::SaveFailed, format!("无法生成 XLSX（{err}）。"))
}

/// The XLSX being written: 明细 streamed row by row (constant memory), the summary counted on the way.
struct XlsxOut {
    workbook: Workbook,
    row: u32,
    summary: Summary,
    time: Format,
}

impl XlsxOut {
    fn new() -> Result<Self> {
        let mut workbook = Workbook::new();
        // Deflate's fastest level: the hashes compress poorly at any level and a day's export
        // should take seconds, not tens of them (issue 8's benchmark).
        workbook.set_zip_compression_level(1);
        let header = Format::new().set_bold().set_background_color("#DDEBF7").set_align(FormatAlign::Center);
        let sheet = workbook.add_worksheet_with_constant_memory().map_err(xlsx_failed)?;
        sheet.set_name(SHEET_ROWS).map_err(xlsx_failed)?;
        // "@" (text) on the columns, so a value typed in later stays text too; the cells
        // themselves are strings, which Excel never turns into numbers.
        let text = Format::new().set_num_format("@");
        for (i, column) in COLUMNS.iter().enumerate() {
            let i = i as u16;
            let width = column.width.max(display_width(column.title) + 2.0);
            sheet.set_column_width(i, width).map_err(xlsx_failed)?;
            if column.content != Content::Time {
                sheet.set_column_format(i, &text).map_err(xlsx_failed)?;
            }
            sheet.write_string_with_format(0, i, column.title, &header).map_err(xlsx_failed)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx_failed)?;
        Ok(XlsxOut {
            workbook,
            row: 0,
            summary: Summary::default(),
            time: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss.000"),
        })
    }

    fn sheet(&mut self) -> Result<&mut Worksheet> {
        self.workbook.worksheet_from_name(SHEET_ROWS).map_err(xlsx_failed)
    }

    fn row(&mut self, event: &ChainedEvent) -> Result<()> {
        self.row += 1;
        self.summary.count(event);
        let row = self.row;
        // Fields, not `self.sheet()`: the sheet and the time format are borrowed side by side.
        let sheet = self.workbook.worksheet_from_name(SHEET_ROWS).map_err(xlsx_failed)?;
        for (i, column) in COLUMNS.iter().enumerate() {
            let i = i as u16;
            let value = cell_text(event, column.content);
            let time = if column.content == Content::Time { china_time(&value) } else { None };
            let written = match time {
                Some(at) => sheet.write_datetime_with_format(row, i, at, &self.time).map(|_| ()),
                _ if value.is_empty() => Ok(()),
                _ => sheet.write_string(row, i, &value).map(|_| ()),
            };
            written.map_err(xlsx_failed)?;
        }
        Ok(())
    }

    fn finish(mut self, signed: &SignedCheckpoint, target: &Path) -> Result<()> {
        let last_row = self.row;
        self.sheet()?.autofilter(0, 0, last_row, (COLUMNS.len() - 1) as u16).map_err(xlsx_failed)?;
        write_summary(self.workbook.add_worksheet(), &self.summary, signed).map_err(xlsx_failed)?;
        write_check(self.workbook.add_worksheet(), signed).map_err(xlsx_failed)?;
        let part = part_path(target);
        let saved = self.workbook.save(&part).map_err(|e| std::io::Error::other(e.to_string()));
        let synced = saved.and_then(|()| File::open(&part)?.sync_all());
        finish_part(&part, target, synced)
    }
}

/// The counts of 汇总, gathered while the rows stream by.
#[derive(Debug, Default)]
struct Summary {
    events: u64,
    first_at: Option<String>,
    last_at: Option<String>,
    by_hour: BTreeMap<u32, u64>,
    by_item: BTreeMap<String, u64>,
    by_clerk: BTreeMap<String, u64>,
    by_outcome: BTreeMap<String, u64>,
    by_reason: BTreeMap<String, u64>,
    scan_ms: Vec<u64>,
}

impl Summary {
    fn count(&mut self, event: &ChainedEvent) {
        self.events += 1;
        let at = event.field("at").unwrap_or_default();
        if self.first_at.is_none() {
            self.first_at = Some(at.to_owned());
        }
        self.last_at = Some(at.to_owned());
        if let Some(time) = china_time(at) {
            *self.by_hour.entry(time.hour()).or_default() += 1;
        }
        let tally = |map: &mut BTreeMap<String, u64>, key: Option<&str>| {
            *map.entry(key.unwrap_or("（无）").to_owned()).or_default() += 1;
        };
        tally(&mut self.by_item, event.field("service_item_code"));
        tally(&mut self.by_clerk, event.field("operator_account"));
        tally(&mut self.by_outcome, event.field("outcome"));
        if event.field("outcome") == Some("failed") {
            tally(&mut self.by_reason, event.field("error_code"));
        }
        if event.field("kind") == Some("scan_done")
            && let Some(ms) = event.field("detail").and_then(scan_millis)
        {
            self.scan_ms.push(ms);
        }
    }

    fn median_scan_ms(&mut self) -> Option<u64> {
        if self.scan_ms.is_empty() {
            return None;
        }
        self.scan_ms.sort_unstable();
        let mid = self.scan_ms.len() / 2;
        Some(if self.scan_ms.len() % 2 == 1 {
            self.scan_ms[mid]
        } else {
            (self.scan_ms[mid - 1] + self.scan_ms[mid]) / 2
        })
    }
}

/// The milliseconds of a `scan_done` detail, "N licenses, F failed, T ms" (station.rs).
pub fn scan_millis(detail: &str) -> Option<u64> {
    detail.trim().strip_suffix(" ms")?.rsplit([',', ' ']).next()?.parse().ok()
}

/// One block of 汇总: its title, the name of what it counts by, and the (name, count) rows.
type Block = (&'static str, &'static str, Vec<(String, u64)>);

/// 汇总: blocks of (title, rows) one under the other, two columns each, numbers as numbers.
fn write_summary(sheet: &mut Worksheet, summary: &Summary, signed: &SignedCheckpoint) -> Result<(), XlsxError> {
    sheet.set_name(SHEET_SUMMARY)?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let checkpoint = &signed.checkpoint;
    let mut median = Summary { scan_ms: summary.scan_ms.clone(), ..Summary::default() };
    let overview: Vec<(String, String)> = vec![
        ("大厅".into(), checkpoint.hall.clone()),
        ("窗口".into(), checkpoint.counter.clone()),
        ("序号范围".into(), format!("{}–{}", checkpoint.first_seq, checkpoint.last_seq)),
        ("事件数".into(), summary.events.to_string()),
        ("最早".into(), summary.first_at.clone().unwrap_or_default()),
        ("最晚".into(), summary.last_at.clone().unwrap_or_default()),
        ("扫码耗时中位数（毫秒）".into(), median.median_scan_ms().map(|m| m.to_string()).unwrap_or("—".into())),
        ("扫码次数".into(), summary.scan_ms.len().to_string()),
    ];
    let hours = summary.by_hour.iter().map(|(h, n)| (format!("{h:02}:00–{h:02}:59"), *n));
    let labeled = |map: &BTreeMap<String, u64>, label: fn(&str) -> String| {
        map.iter().map(|(k, n)| (label(k), *n)).collect::<Vec<_>>()
    };
    let blocks: Vec<Block> = vec![
        ("按小时", "小时", hours.collect()),
        ("按事项", "事项编码", labeled(&summary.by_item, str::to_owned)),
        ("按操作员", "操作员", labeled(&summary.by_clerk, str::to_owned)),
        ("按结果", "结果", labeled(&summary.by_outcome, |o| format!("{}（{o}）", outcome_label(o)))),
        ("按失败原因", "原因", labeled(&summary.by_reason, |c| format!("{}（{c}）", reason_label(Some(c))))),
    ];

    let mut row = 0u32;
    sheet.write_string_with_format(row, 0, "概况", &bold)?;
    row += 1;
    let mut widths = [display_width("扫码耗时中位数（毫秒）"), 12.0];
    for (name, value) in &overview {
        sheet.write_string(row, 0, name)?;
        sheet.write_string_with_format(row, 1, value, &text)?;
        widths[1] = widths[1].max(display_width(value));
        row += 1;
    }
    for (title, key, rows) in &blocks {
        row += 1;
        sheet.write_string_with_format(row, 0, *title, &bold)?;
        row += 1;
        sheet.write_string_with_format(row, 0, *key, &bold)?;
        sheet.write_string_with_format(row, 1, "件数", &bold)?;
        row += 1;
        if rows.is_empty() {
            sheet.write_string(row, 0, "（无）")?;
            sheet.write_number(row, 1, 0.0)?;
            row += 1;
        }
        for (name, n) in rows {
            sheet.write_string_with_format(row, 0, name, &text)?;
            sheet.write_number(row, 1, *n as f64)?;
            widths[0] = widths[0].max(display_width(name));
            row += 1;
        }
    }
    sheet.set_column_width(0, widths[0] + 2.0)?;
    sheet.set_column_width(1, widths[1] + 2.0)?;
    Ok(())
}

/// The verification steps of §5, as shown on 校验.
const STEPS: [&str; 5] = [
    "1. 另存本表中的检查点文本为 <stem>.checkpoint（UTF-8，每行以 \\n 结尾），签名 Base64 解码为 <stem>.checkpoint.sig，公钥另存为 <stem>.pub.pem（导出时已一并生成这三个文件）。",
    "2. 按 audit-format.md §1–§2 逐行重算 SM3 哈希：每行的 prev_hash 等于上一行的 hash，seq 连续无缺号。",
    "3. 检查点的 first_seq、last_seq、count、prev_hash、head 与明细一致。",
    "4. openssl pkeyutl -verify -pubin -inkey <stem>.pub.pem -rawin -digest sm3 -pkeyopt distid:1234567812345678 -in <stem>.checkpoint -sigfile <stem>.checkpoint.sig 应输出 Signature Verified Successfully。",
    "5. openssl pkey -pubin -in <stem>.pub.pem -outform DER | openssl dgst -sm3 的结果等于检查点 key: 行，且与大厅登记的本窗口公钥指纹一致。也可用 yueshang audit verify <文件> 一步完成。",
];

/// 校验: the checkpoint, its signature and the public key, exactly as signed, and how to verify.
fn write_check(sheet: &mut Worksheet, signed: &SignedCheckpoint) -> Result<(), XlsxError> {
    sheet.set_name(SHEET_CHECK)?;
    let bold = Format::new().set_bold();
    let block = Format::new().set_text_wrap().set_num_format("@").set_font_name("Consolas");
    let signature = base64::engine::general_purpose::STANDARD.encode(&signed.signature);
    sheet.set_column_width(0, display_width(LABEL_SIGNATURE) + 2.0)?;
    sheet.set_column_width(1, 100.0)?;
    sheet.write_string_with_format(0, 0, "项目", &bold)?;
    sheet.write_string_with_format(0, 1, "内容", &bold)?;
    let rows = [
        (LABEL_CHECKPOINT, signed.text.as_str()),
        (LABEL_SIGNATURE, signature.as_str()),
        (LABEL_PUBLIC_KEY, signed.public_pem.as_str()),
        ("公钥指纹（key）", signed.checkpoint.key.as_str()),
    ];
    for (i, (label, value)) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_string(row, 0, *label)?;
        sheet.write_string_with_format(row, 1, *value, &block)?;
        let lines = value.lines().count().max(1) as f64;
        sheet.set_row_height(row, 15.0 * lines)?;
    }
    sheet.write_string_with_format(6, 0, "校验步骤", &bold)?;
    for (i, step) in STEPS.iter().enumerate() {
        sheet.write_string(7 + i as u32, 1, *step)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_millis_reads_the_station_detail() {
        assert_eq!(scan_millis("3 licenses, 0 failed, 412 ms"), Some(412));
        assert_eq!(scan_millis("3 licenses"), None);
    }

    #[test]
    fn every_field_is_in_exactly_one_column() {
        for (i, name) in FIELDS.iter().enumerate() {
            assert_eq!(COLUMNS.iter().filter(|c| c.content == Content::Field(i)).count(), 1, "{name}");
        }
    }

    #[test]
    fn labels_are_chinese_and_widths_count_cjk_twice() {
        assert_eq!(kind_label("scan"), "扫码");
        assert_eq!(kind_label(AuditKind::AuditExport.as_str()), "审计导出");
        assert_eq!(reason_label(Some("CODE_EXPIRED")), "码已过期");
        assert_eq!(display_width("序号ab"), 6.0);
    }
}
