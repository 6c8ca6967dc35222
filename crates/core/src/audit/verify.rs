//! Offline verification of an audit export (audit-format.md §5): the chain of its rows, the
//! checkpoint against the rows, the SM2 signature and the key fingerprint, naming the first bad row.

use crate::audit::chain::{ChainedEvent, FIELDS};
use crate::audit::checkpoint::Checkpoint;
use crate::audit::export::{
    COLUMNS, Content, LABEL_CHECKPOINT, LABEL_PUBLIC_KEY, LABEL_SIGNATURE, SHEET_CHECK, SHEET_ROWS, cell_text,
    china_time, csv_header,
};
use crate::audit::key::{fingerprint_of_pem, verify_signature};
use crate::error::{Error, ErrorCode, Result};
use base64::Engine as _;
use calamine::{Data, Reader, Xlsx};
use std::path::{Path, PathBuf};

/// What a verified export holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub events: u64,
    pub first_seq: i64,
    pub last_seq: i64,
    pub head: String,
}

/// The error detail that carries the row of the first problem; `problem_row` reads it back.
const ROW_TAG: &str = "export-row=";

/// The row of the first problem of a failed `verify_export`: the line number in the CSV (line 1
/// is the header; a value with a line break makes a row span lines, this is its first), or the
/// row in the XLSX's 明细 sheet (row 1 is the header). `None` when the problem is not in a row
/// (the checkpoint files, the signature, the key) or the error is not from `verify_export`.
pub fn problem_row(err: &Error) -> Option<u64> {
    err.detail.as_deref()?.strip_prefix(ROW_TAG)?.parse().ok()
}

fn tampered_at(row: u64, fact: impl AsRef<str>) -> Error {
    Error::with_fact(ErrorCode::AuditTampered, fact).detail(format!("{ROW_TAG}{row}"))
}

fn tampered(fact: impl AsRef<str>) -> Error {
    Error::with_fact(ErrorCode::AuditTampered, fact)
}

fn unreadable(fact: impl AsRef<str>) -> Error {
    Error::with_fact(ErrorCode::ExportUnreadable, fact)
}

/// Verifies a `.csv` (with its `.checkpoint`, `.checkpoint.sig` and `.pub.pem` beside it) or an
/// `.xlsx` (whose 校验 sheet holds them) exactly as §5 says.
pub fn verify_export(path: &Path) -> Result<VerifyReport> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("csv") => verify_csv(path),
        Some("xlsx") => verify_xlsx(path),
        _ => Err(unreadable(format!("{} 不是 .csv 或 .xlsx 审计导出文件。", path.display()))),
    }
}

/// The signed anchor of an export: the checkpoint as signed, its signature and the public key.
struct Anchor {
    text: String,
    signature: Vec<u8>,
    public_pem: String,
}

impl Anchor {
    /// §5 steps 3 and 4: the signature over the exact checkpoint bytes, and `key:` = the PEM's fingerprint.
    fn checked(&self, source: &str) -> Result<Checkpoint> {
        if !verify_signature(&self.public_pem, self.text.as_bytes(), &self.signature) {
            return Err(tampered(format!("{source}的 SM2 签名与检查点文本或公钥不符。")));
        }
        let checkpoint = Checkpoint::parse(&self.text)
            .map_err(|_| tampered(format!("{source}的检查点文本不是 yueshang-audit-checkpoint/v1 格式。")))?;
        if fingerprint_of_pem(&self.public_pem).as_deref() != Some(checkpoint.key.as_str()) {
            return Err(tampered(format!("{source}的公钥指纹与检查点 key: 行不符。")));
        }
        Ok(checkpoint)
    }
}

/// Walks rows in order, checking §5 step 1 as they come and step 2 at the end.
struct ChainWalk {
    checkpoint: Checkpoint,
    events: u64,
    last_hash: Option<String>,
    last_seq: Option<i64>,
    first_seq: Option<i64>,
}

impl ChainWalk {
    fn new(checkpoint: Checkpoint) -> Self {
        ChainWalk { checkpoint, events: 0, last_hash: None, last_seq: None, first_seq: None }
    }

    fn row(&mut self, row: u64, event: &ChainedEvent) -> Result<()> {
        if event.computed_hash() != event.hash {
            return Err(tampered_at(row, format!("第 {row} 行的内容与它的哈希不符（该行被改动）。")));
        }
        let expected_prev = self.last_hash.as_deref().unwrap_or(&self.checkpoint.prev_hash);
        if event.prev_hash != expected_prev {
            return Err(tampered_at(
                row,
                format!("第 {row} 行的 prev_hash 与上一条记录的哈希不符（有行被删除、插入或调换）。"),
            ));
        }
        let seq: Option<i64> = event.field("seq").and_then(|s| s.parse().ok());
        let expected_seq = self.last_seq.map_or(self.checkpoint.first_seq, |s| s + 1);
        if seq != Some(expected_seq) {
            return Err(tampered_at(row, format!("第 {row} 行的序号应为 {expected_seq}（序号不连续）。")));
        }
        self.first_seq.get_or_insert(expected_seq);
        self.last_seq = Some(expected_seq);
        self.last_hash = Some(event.hash.clone());
        self.events += 1;
        Ok(())
    }

    /// §5 step 2 at the end: the rows reach the checkpoint's head, no more, no less.
    fn finish(self, next_row: u64) -> Result<VerifyReport> {
        let cp = &self.checkpoint;
        let count = (cp.last_seq - cp.first_seq + 1).max(0) as u64;
        if self.events < count || self.last_hash.as_deref() != Some(cp.head.as_str()) {
            return Err(tampered_at(
                next_row,
                format!(
                    "第 {next_row} 行起缺少记录：检查点记到第 {} 号（共 {count} 条），文件只有 {} 条，末行哈希不是检查点的 head（末尾的行被删去）。",
                    cp.last_seq, self.events
                ),
            ));
        }
        Ok(VerifyReport { events: self.events, first_seq: cp.first_seq, last_seq: cp.last_seq, head: cp.head.clone() })
    }
}

fn event_of(values: Vec<Option<String>>, prev_hash: String, hash: String) -> ChainedEvent {
    ChainedEvent { values, prev_hash, hash }
}

fn non_empty(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

// ---------------------------------------------------------------- CSV

fn beside(csv: &Path, ext: &str) -> PathBuf {
    let stem = csv.file_stem().unwrap_or_default().to_string_lossy();
    csv.with_file_name(format!("{stem}.{ext}"))
}

fn read_beside(csv: &Path, ext: &str) -> Result<Vec<u8>> {
    let path = beside(csv, ext);
    std::fs::read(&path).map_err(|e| unreadable(format!("缺少导出时一并生成的 {}（{e}）。", path.display())))
}

fn csv_anchor(path: &Path) -> Result<Anchor> {
    let text = String::from_utf8(read_beside(path, "checkpoint")?)
        .map_err(|_| tampered("检查点文件不是 UTF-8 文本（被改动）。"))?;
    let public_pem =
        String::from_utf8(read_beside(path, "pub.pem")?).map_err(|_| tampered("公钥文件不是 PEM 文本。"))?;
    Ok(Anchor { text, signature: read_beside(path, "checkpoint.sig")?, public_pem })
}

fn verify_csv(path: &Path) -> Result<VerifyReport> {
    let bytes = std::fs::read(path).map_err(|e| unreadable(format!("无法读取 {}（{e}）。", path.display())))?;
    let body = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
    // Every export ends its last row with CRLF: a file that does not was cut short.
    let whole = body.ends_with(b"\r\n");
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(body);
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        _ => return Err(not_csv_export(path)),
    };
    if !header.iter().eq(csv_header()) {
        return Err(not_csv_export(path));
    }
    let checkpoint = csv_anchor(path)?.checked("检查点文件")?;
    let mut walk = ChainWalk::new(checkpoint);
    let (mut next_line, mut last_line) = (2u64, 1u64);
    let mut records = records.peekable();
    while let Some(record) = records.next() {
        let is_last = records.peek().is_none();
        let line = next_line;
        last_line = line;
        let checked =
            record.map_err(|e| unreadable(format!("第 {line} 行不是合法的 CSV（{e}）。"))).and_then(|record| {
                // The reader's own line count lags by one with CRLF; a value's line breaks push the next row down.
                next_line += 1 + record.iter().map(|v| v.matches('\n').count() as u64).sum::<u64>();
                csv_row(&record, line).and_then(|event| walk.row(line, &event))
            });
        match checked {
            Err(_) if is_last && !whole => return Err(truncated(line)),
            Err(err) => return Err(err),
            Ok(()) => {}
        }
    }
    if !whole {
        return Err(truncated(last_line));
    }
    walk.finish(next_line)
}

fn csv_row(record: &csv::StringRecord, line: u64) -> Result<ChainedEvent> {
    let width = FIELDS.len() + 2;
    if record.len() != width {
        return Err(tampered_at(line, format!("第 {line} 行应有 {width} 列，实有 {} 列。", record.len())));
    }
    let values = record.iter().take(FIELDS.len()).map(non_empty).collect();
    Ok(event_of(values, record[FIELDS.len()].to_owned(), record[FIELDS.len() + 1].to_owned()))
}

fn truncated(line: u64) -> Error {
    unreadable(format!("CSV 文件在第 {line} 行处被截断（末行不完整）。")).detail(format!("{ROW_TAG}{line}"))
}

fn not_csv_export(path: &Path) -> Error {
    unreadable(format!("{} 不是审计导出 CSV：第一行应为 {}。", path.display(), csv_header().join(",")))
}

// ---------------------------------------------------------------- XLSX

fn verify_xlsx(path: &Path) -> Result<VerifyReport> {
    let mut workbook: Xlsx<_> = calamine::open_workbook(path)
        .map_err(|e| unreadable(format!("{} 不是可读的 XLSX 文件（{e}）。", path.display())))?;
    let check = sheet(&mut workbook, SHEET_CHECK)?;
    let rows = sheet(&mut workbook, SHEET_ROWS)?;
    let titles: Vec<String> = rows.rows().next().map(|r| r.iter().map(text_of).collect()).unwrap_or_default();
    if !titles.iter().map(String::as_str).eq(COLUMNS.iter().map(|c| c.title)) {
        return Err(unreadable(format!("{} 的“{SHEET_ROWS}”表头不是审计导出的列。", path.display())));
    }
    let checkpoint = xlsx_anchor(&check)?.checked(&format!("“{SHEET_CHECK}”表中"))?;
    let mut walk = ChainWalk::new(checkpoint);
    // Row numbers as Excel shows them: the header is row 1 (calamine's range starts at A1 here).
    let mut row_number = 1u64;
    for cells in rows.rows().skip(1) {
        row_number += 1;
        let event = xlsx_row(cells, row_number)?;
        walk.row(row_number, &event)?;
    }
    walk.finish(row_number + 1)
}

fn sheet(workbook: &mut Xlsx<std::io::BufReader<std::fs::File>>, name: &str) -> Result<calamine::Range<Data>> {
    workbook.worksheet_range(name).map_err(|_| unreadable(format!("XLSX 中没有“{name}”表，不是审计导出文件。")))
}

/// A cell as text; numbers (a cell someone retyped) become their shortest decimal text.
fn text_of(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

fn xlsx_anchor(check: &calamine::Range<Data>) -> Result<Anchor> {
    let value = |label: &str| {
        check
            .rows()
            .find(|r| r.first().map(text_of).as_deref() == Some(label))
            .and_then(|r| r.get(1).map(text_of))
            .ok_or_else(|| unreadable(format!("“{SHEET_CHECK}”表中缺少“{label}”。")))
    };
    let signature = base64::engine::general_purpose::STANDARD
        .decode(value(LABEL_SIGNATURE)?.trim())
        .map_err(|_| tampered(format!("“{SHEET_CHECK}”表中的签名不是 Base64。")))?;
    Ok(Anchor { text: value(LABEL_CHECKPOINT)?, signature, public_pem: value(LABEL_PUBLIC_KEY)? })
}

/// One 明细 row back to its event; the label and time columns must be what the raw fields say,
/// so an edited label or time is caught like an edited code.
fn xlsx_row(cells: &[Data], row: u64) -> Result<ChainedEvent> {
    let cell = |i: usize| cells.get(i).map(text_of).unwrap_or_default();
    let mut values = vec![None; FIELDS.len()];
    let (mut prev_hash, mut hash) = (String::new(), String::new());
    for (i, column) in COLUMNS.iter().enumerate() {
        match column.content {
            Content::Field(f) => values[f] = non_empty(&cell(i)),
            Content::PrevHash => prev_hash = cell(i),
            Content::Hash => hash = cell(i),
            Content::Time | Content::KindLabel | Content::OutcomeLabel | Content::ReasonLabel => {}
        }
    }
    let event = event_of(values, prev_hash, hash);
    for (i, column) in COLUMNS.iter().enumerate() {
        let is_label = matches!(column.content, Content::KindLabel | Content::OutcomeLabel | Content::ReasonLabel);
        let wrong = match column.content {
            Content::Time => !time_matches(cells.get(i), event.field("at").unwrap_or_default()),
            _ => is_label && cell(i) != cell_text(&event, column.content),
        };
        if wrong {
            return Err(tampered_at(row, format!("第 {row} 行的“{}”与记录的代码不符（该行被改动）。", column.title)));
        }
    }
    Ok(event)
}

/// Whether the 时间 cell shows the recorded `at` (China time) to the millisecond. Excel keeps a
/// date as its serial number (days since 1899-12-30); a copy re-saved as text keeps that number.
fn time_matches(cell: Option<&Data>, at: &str) -> bool {
    let serial = match cell {
        Some(Data::DateTime(d)) => Some(d.as_f64()),
        Some(Data::Float(f)) => Some(*f),
        Some(Data::String(s)) => s.parse().ok(),
        _ => None,
    };
    let Some(expected) = china_time(at) else {
        // An `at` that is not a time was written as its text.
        return cell.map(text_of).unwrap_or_default() == at;
    };
    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).and_then(|d| d.and_hms_opt(0, 0, 0));
    let Some(epoch) = epoch else { return false };
    let expected_ms = (expected - epoch).num_milliseconds() as f64;
    serial.is_some_and(|days| (days * 86_400_000.0 - expected_ms).abs() < 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_row_travels_in_the_detail() {
        assert_eq!(problem_row(&tampered_at(7, "x")), Some(7));
        assert_eq!(problem_row(&tampered("x")), None);
    }
}
