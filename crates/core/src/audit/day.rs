//! The supervisor's day: the day at a glance (counts, scan times, failures by reason, by hour,
//! item and clerk) and the day's events, filtered and paged, read straight from the audit trail.

use crate::audit::export::{
    ExportReport, ExportRequest, Formats, export_with_progress, kind_label, reason_label, scan_millis,
};
use crate::audit::key::CounterKey;
use crate::audit::{AuditContext, AuditRecord};
use crate::cache::{Cache, audit_time};
use crate::clock::china_midnight;
use crate::error::{Error, ErrorCode, Result};
use chrono::{DateTime, FixedOffset, NaiveDate};
use rusqlite::{ToSql, params_from_iter};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// The most events one page may hold: a screen's worth, never the whole day.
pub const MAX_PAGE: u32 = 500;

/// A count with what it counts: an item code and its name, an account and its person, a kind
/// and its Chinese label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountRow {
    pub key: String,
    pub label: String,
    pub count: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HourRow {
    pub hour: u32,
    pub events: u64,
    pub scans: u64,
    pub failures: u64,
}

/// One day at a glance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DaySummary {
    pub date: NaiveDate,
    pub events: u64,
    /// Handling numbers whose exchange succeeded: the customers actually served.
    pub customers: u64,
    /// Codes scanned, the rejected ones included.
    pub scans: u64,
    /// Scans that ended with every license fetched.
    pub scans_ok: u64,
    pub licenses_fetched: u64,
    pub licenses_failed: u64,
    pub copies_printed: u64,
    pub records_submitted: u64,
    pub median_scan_ms: Option<u64>,
    pub slowest_scan_ms: Option<u64>,
    pub slowest_biz_num: Option<String>,
    /// Sorted by count, largest first.
    pub failures_by_reason: Vec<CountRow>,
    /// All 24 hours, 0–23.
    pub by_hour: Vec<HourRow>,
    pub by_item: Vec<CountRow>,
    pub by_clerk: Vec<CountRow>,
    /// The kinds that occurred, for the event list's filter.
    pub by_kind: Vec<CountRow>,
}

impl DaySummary {
    /// `scans_ok / scans`, or `None` on a day without scans.
    pub fn success_rate(&self) -> Option<f64> {
        (self.scans > 0).then(|| self.scans_ok as f64 / self.scans as f64)
    }
}

/// The names shown beside codes: service items by code, people by account.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    pub items: HashMap<String, String>,
    pub people: HashMap<String, String>,
}

/// What the event list is narrowed to; `None` leaves a field open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub clerk: Option<String>,
    pub item: Option<String>,
    pub outcome: Option<String>,
    pub kind: Option<String>,
    pub biz_num: Option<String>,
    pub uscc: Option<String>,
}

/// A page of the day's events in chain order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    pub total: u64,
    pub offset: u64,
    pub rows: Vec<AuditRecord>,
}

/// `[00:00, next 00:00)` of `date` in China time, as stored `at` texts (which sort as times).
fn day_bounds(date: NaiveDate) -> Result<(String, String)> {
    let (start, end) = days_bounds(date, date)?;
    Ok((audit_time(start), audit_time(end)))
}

/// Tallies one day in a single pass over its events.
pub fn summarize(cache: &Cache, date: NaiveDate, labels: &Labels) -> Result<DaySummary> {
    let (from, to) = day_bounds(date)?;
    let mut tally = Tally::default();
    cache.read(|conn| {
        let mut stmt = conn.prepare_cached(
            "SELECT at, kind, outcome, error_code, operator_account, service_item_code, biz_num, detail
             FROM audit_events WHERE at >= ?1 AND at < ?2",
        )?;
        let mut rows = stmt.query([&from, &to])?;
        while let Some(row) = rows.next()? {
            let text = |i: usize| -> Result<Option<&str>> {
                row.get_ref(i)?.as_str_or_null().map_err(|e| Error::storage(format!("audit column {i}: {e}")))
            };
            tally.count(&Seen {
                at: text(0)?.unwrap_or_default(),
                kind: text(1)?.unwrap_or_default(),
                outcome: text(2)?.unwrap_or_default(),
                error_code: text(3)?,
                operator: text(4)?.unwrap_or_default(),
                item: text(5)?,
                biz_num: text(6)?,
                detail: text(7)?,
            });
        }
        Ok(())
    })?;
    Ok(tally.finish(date, labels))
}

/// One event as the tally reads it, borrowed from the row.
struct Seen<'a> {
    at: &'a str,
    kind: &'a str,
    outcome: &'a str,
    error_code: Option<&'a str>,
    operator: &'a str,
    item: Option<&'a str>,
    biz_num: Option<&'a str>,
    detail: Option<&'a str>,
}

#[derive(Default)]
struct Tally {
    summary: DaySummary,
    hours: [HourRow; 24],
    customers: HashSet<String>,
    scan_ms: Vec<u64>,
    slowest: Option<(u64, Option<String>)>,
    reasons: HashMap<String, u64>,
    items: BTreeMap<String, u64>,
    clerks: BTreeMap<String, u64>,
    kinds: BTreeMap<String, u64>,
}

impl Tally {
    fn count(&mut self, e: &Seen<'_>) {
        let s = &mut self.summary;
        s.events += 1;
        // `at` is `YYYY-MM-DDTHH:…` in China time: the hour is at a fixed place.
        let hour = e.at.get(11..13).and_then(|h| h.parse::<usize>().ok()).filter(|h| *h < 24).unwrap_or(0);
        let slot = &mut self.hours[hour];
        slot.events += 1;
        let ok = e.outcome == "ok";
        let failed = e.outcome == "failed";
        if failed {
            slot.failures += 1;
            *self.reasons.entry(e.error_code.unwrap_or_default().to_owned()).or_default() += 1;
        }
        match e.kind {
            "scan" | "scan_rejected" => {
                s.scans += 1;
                slot.scans += 1;
            }
            "exchange" if ok => {
                if let Some(biz_num) = e.biz_num
                    && !self.customers.contains(biz_num)
                {
                    self.customers.insert(biz_num.to_owned());
                }
            }
            "scan_done" => {
                s.scans_ok += u64::from(ok);
                if let Some(ms) = e.detail.and_then(scan_millis) {
                    self.scan_ms.push(ms);
                    if self.slowest.as_ref().is_none_or(|(slowest, _)| ms > *slowest) {
                        self.slowest = Some((ms, e.biz_num.map(str::to_owned)));
                    }
                }
            }
            "license_fetch" if ok => s.licenses_fetched += 1,
            "license_fetch" if failed => s.licenses_failed += 1,
            "copy_print" if ok => s.copies_printed += 1,
            "submit" if ok => s.records_submitted += 1,
            _ => {}
        }
        bump(&mut self.items, e.item.unwrap_or_default());
        bump(&mut self.clerks, e.operator);
        bump(&mut self.kinds, e.kind);
    }

    fn finish(mut self, date: NaiveDate, labels: &Labels) -> DaySummary {
        let mut s = self.summary;
        s.date = date;
        s.customers = self.customers.len() as u64;
        for (hour, row) in self.hours.iter_mut().enumerate() {
            row.hour = hour as u32;
        }
        s.by_hour = self.hours.to_vec();
        s.median_scan_ms = median(&mut self.scan_ms);
        if let Some((ms, biz_num)) = self.slowest {
            s.slowest_scan_ms = Some(ms);
            s.slowest_biz_num = biz_num;
        }
        s.failures_by_reason = failure_rows(self.reasons);
        let named = |map: BTreeMap<String, u64>, names: &HashMap<String, String>, none: &str| {
            map.into_iter()
                .map(|(key, count)| {
                    let label = if key.is_empty() {
                        none.to_owned()
                    } else {
                        names.get(&key).cloned().unwrap_or_else(|| key.clone())
                    };
                    CountRow { key, label, count }
                })
                .collect::<Vec<_>>()
        };
        s.by_item = named(self.items, &labels.items, "（不涉及事项）");
        s.by_clerk = named(self.clerks, &labels.people, "（未知）");
        s.by_kind = self
            .kinds
            .into_iter()
            .map(|(key, count)| CountRow { label: kind_label(&key).to_owned(), key, count })
            .collect();
        s
    }
}

/// Failures by reason (error code, `""` for none named) as the day shows them: labelled, most first.
pub fn failure_rows(reasons: impl IntoIterator<Item = (String, u64)>) -> Vec<CountRow> {
    let mut rows: Vec<CountRow> = reasons
        .into_iter()
        .map(|(code, count)| {
            let label = if code.is_empty() { "未注明原因".to_owned() } else { reason_label(Some(&code)) };
            CountRow { key: code, label, count }
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    rows
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_owned(), 1);
        }
    }
}

fn median(values: &mut [u64]) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 { values[mid] } else { (values[mid - 1] + values[mid]) / 2 })
}

/// The day's events matching `filter`, `limit` of them from `offset`, in chain order, with how
/// many match in all.
pub fn events(cache: &Cache, date: NaiveDate, filter: &EventFilter, offset: u64, limit: u32) -> Result<EventPage> {
    let (from, to) = day_bounds(date)?;
    let mut clauses = vec!["at >= ?1", "at < ?2"];
    let mut values: Vec<&dyn ToSql> = vec![&from, &to];
    let wanted = [
        ("operator_account", &filter.clerk),
        ("service_item_code", &filter.item),
        ("outcome", &filter.outcome),
        ("kind", &filter.kind),
        ("biz_num", &filter.biz_num),
        ("uscc", &filter.uscc),
    ];
    let mut conditions = Vec::new();
    for (column, value) in wanted {
        if let Some(value) = value.as_ref().filter(|v| !v.trim().is_empty()) {
            values.push(value);
            conditions.push(format!("{column} = ?{}", values.len()));
        }
    }
    clauses.extend(conditions.iter().map(String::as_str));
    let condition = clauses.join(" AND ");
    let limit = i64::from(limit.clamp(1, MAX_PAGE));
    let offset_value = i64::try_from(offset).unwrap_or(i64::MAX);
    cache.read(|conn| {
        let total: i64 = conn.query_row(
            &format!("SELECT COUNT(*) FROM audit_events WHERE {condition}"),
            params_from_iter(values.iter()),
            |r| r.get(0),
        )?;
        let sql = format!(
            "SELECT id, at, kind, outcome, error_code, operator_account, hall_code, counter, service_item_code,
                    biz_num, uscc, auth_id, license_code, detail, seq
             FROM audit_events WHERE {condition} ORDER BY seq LIMIT {limit} OFFSET {offset_value}"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt
            .query_map(params_from_iter(values.iter()), crate::cache::audit_record)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(EventPage { total: total as u64, offset, rows })
    })
}

/// China days `[from, to]` as instants `[start, end)`.
pub fn days_bounds(from: NaiveDate, to: NaiveDate) -> Result<(DateTime<FixedOffset>, DateTime<FixedOffset>)> {
    if from > to {
        return Err(Error::with_fact(ErrorCode::ConfigInvalid, "起始日期不能晚于结束日期。"));
    }
    let after = to.succ_opt().ok_or_else(|| Error::with_fact(ErrorCode::ConfigInvalid, "日期超出范围。"))?;
    Ok((china_midnight(from), china_midnight(after)))
}

/// An export of whole China days `[from, to]`, by whom, into which folder.
#[derive(Debug, Clone, Copy)]
pub struct DaysExport<'a> {
    pub by: &'a AuditContext,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub formats: Formats,
    pub out_dir: &'a Path,
    pub now: DateTime<FixedOffset>,
}

/// Exports whole days (audit-format.md §4): the files are named
/// `audit-<hall>-<counter>-<YYYYMMDD>[-<YYYYMMDD>]`. `None` when those days hold no event.
pub fn export_days(
    cache: &Cache,
    key: &CounterKey,
    days: &DaysExport<'_>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Option<ExportReport>> {
    let DaysExport { by, from, to, formats, out_dir, now } = *days;
    let (start, end) = days_bounds(from, to)?;
    let Some(range) = cache.seq_range_between(start, end)? else {
        return Ok(None);
    };
    let stem = export_stem(by, from, to);
    let request = ExportRequest { by, range, formats, out_dir, stem: &stem, now };
    export_with_progress(cache, key, &request, progress).map(Some)
}

/// `audit-<hall>-<counter>-<YYYYMMDD>[-<YYYYMMDD>]`, safe as a file name on every PC.
fn export_stem(by: &AuditContext, from: NaiveDate, to: NaiveDate) -> String {
    let days = if from == to {
        from.format("%Y%m%d").to_string()
    } else {
        format!("{}-{}", from.format("%Y%m%d"), to.format("%Y%m%d"))
    };
    let safe = |s: &str| s.chars().map(|c| if c.is_alphanumeric() || c == '-' { c } else { '_' }).collect::<String>();
    format!("audit-{}-{}-{days}", safe(&by.hall_code), safe(&by.counter))
}
