//! What the window receives about the hall (全厅, ui/src/types.ts mirrors them): the hall's day as
//! this counter's day summary plus each counter and the alarms, the event filter it sends, and the
//! export's answer. Mappings of the hall protocol's types (core shipping::wire).

use crate::shift_dto::{AuditFilterDto, DaySummaryDto};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use yueshang_core::audit::day::{CountRow, DaySummary, EventFilter, HourRow, Labels};
use yueshang_core::shipping::reads::HallExport;
use yueshang_core::shipping::wire::{Alarm, Count, CounterDay, HallDay};

/// `[hall_service]` as the window needs it: that there is one, and where.
#[derive(Debug, Serialize)]
pub(crate) struct HallServiceDto {
    pub(crate) url: String,
}

/// The alarm kinds the window has words for (ui HallAlarms: a kind without them breaks the list);
/// a kind a newer hall service adds stays in `yueshang hall report` until the window learns it.
const SHOWN_ALARMS: [&str; 4] = ["fork", "bad_signature", "gap", "unenrolled"];

/// The hall's day: the same figures as this counter's (`DaySummaryDto`, success rate included),
/// then every counter and the alarms.
#[derive(Debug, Serialize)]
pub(crate) struct HallDaySummaryDto {
    #[serde(flatten)]
    day: DaySummaryDto,
    counters: Vec<HallCounterDto>,
    alarms: Vec<HallAlarmDto>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct HallCounterDto {
    hall: String,
    counter: String,
    events: u64,
    acked_seq: i64,
    last_at: Option<String>,
    gaps: u64,
}

impl From<&CounterDay> for HallCounterDto {
    fn from(c: &CounterDay) -> Self {
        HallCounterDto {
            hall: c.hall.clone(),
            counter: c.counter.clone(),
            events: c.events,
            acked_seq: c.acked_seq,
            last_at: c.last_at.clone(),
            gaps: c.gaps,
        }
    }
}

#[derive(Debug, Serialize)]
struct HallAlarmDto {
    hall: String,
    counter: String,
    seq: Option<i64>,
    kind: String,
    /// The last time the hall refused it (an alarm repeats while the counter keeps trying).
    at: String,
    message: String,
}

impl From<&Alarm> for HallAlarmDto {
    fn from(a: &Alarm) -> Self {
        HallAlarmDto {
            hall: a.hall.clone().unwrap_or_default(),
            counter: a.counter.clone().unwrap_or_default(),
            seq: a.seq,
            kind: a.kind.clone(),
            at: a.last_at.clone(),
            message: a.message.clone(),
        }
    }
}

impl HallDaySummaryDto {
    /// `asked`: the date the window asked for, should the hall's answer not name one that parses.
    /// `labels`: this counter's item names and people, preferred to the hall's codes and accounts.
    pub(crate) fn new(day: &HallDay, asked: NaiveDate, labels: &Labels) -> Self {
        let summary = DaySummary {
            date: NaiveDate::parse_from_str(&day.date, "%Y-%m-%d").unwrap_or(asked),
            events: day.events,
            customers: day.customers,
            scans: day.scans,
            scans_ok: day.scans_ok,
            licenses_fetched: day.licenses_fetched,
            licenses_failed: day.licenses_failed,
            copies_printed: day.copies_printed,
            records_submitted: day.records_submitted,
            median_scan_ms: day.median_scan_ms,
            slowest_scan_ms: day.slowest_scan_ms,
            slowest_biz_num: day.slowest_biz_num.clone(),
            failures_by_reason: rows(&day.failures_by_reason, None),
            by_hour: day
                .by_hour
                .iter()
                .map(|h| HourRow { hour: h.hour, events: h.events, scans: h.scans, failures: h.failures })
                .collect(),
            by_item: rows(&day.by_item, Some(&labels.items)),
            by_clerk: rows(&day.by_clerk, Some(&labels.people)),
            by_kind: rows(&day.by_kind, None),
        };
        HallDaySummaryDto {
            day: DaySummaryDto::from(&summary),
            counters: day.counters.iter().map(HallCounterDto::from).collect(),
            alarms: day
                .alarms
                .iter()
                .filter(|a| SHOWN_ALARMS.contains(&a.kind.as_str()))
                .map(HallAlarmDto::from)
                .collect(),
        }
    }
}

/// The hall's counts with this counter's name for a code it knows; the hall's label otherwise (an
/// item only other counters handle, a clerk of another counter). The blank key keeps the hall's
/// "（不涉及事项）" or "（未知）".
fn rows(counts: &[Count], names: Option<&HashMap<String, String>>) -> Vec<CountRow> {
    counts
        .iter()
        .map(|c| {
            let own = names.filter(|_| !c.key.is_empty()).and_then(|names| names.get(&c.key));
            CountRow { key: c.key.clone(), label: own.unwrap_or(&c.label).clone(), count: c.count }
        })
        .collect()
}

/// The hall's event filter as the window sends it: this counter's filter plus one counter (blank
/// or null: every counter).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct HallFilterDto {
    #[serde(flatten)]
    filter: AuditFilterDto,
    counter: Option<String>,
}

impl HallFilterDto {
    /// The filter cleaned as this counter's list cleans it (trimmed, blank open, USCC upper case),
    /// and the counter.
    pub(crate) fn into_parts(self) -> (EventFilter, Option<String>) {
        let counter = self.counter.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
        (self.filter.into(), counter)
    }
}

/// What `hall_export` wrote: how many counters' sets, their events, every file's path.
#[derive(Debug, Default, Serialize)]
pub(crate) struct HallExportResultDto {
    pub(crate) counters: u64,
    pub(crate) events: u64,
    pub(crate) files: Vec<String>,
}

impl From<HallExport> for HallExportResultDto {
    fn from(written: HallExport) -> Self {
        HallExportResultDto {
            counters: written.counters,
            events: written.events,
            files: written.files.iter().map(|f| f.display().to_string()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shift_dto::AuditPageDto;
    use serde_json::{Value, json};
    use yueshang_core::shipping::wire::{HallEvent, HallEventPage, HourCount};

    fn count(key: &str, label: &str, count: u64) -> Count {
        Count { key: key.into(), label: label.into(), count }
    }

    fn alarm(kind: &str, counter: Option<&str>, seq: Option<i64>) -> Alarm {
        Alarm {
            kind: kind.into(),
            hall: counter.map(|_| "440106001".into()),
            counter: counter.map(Into::into),
            seq,
            key_fingerprint: None,
            first_at: "2026-11-30T09:00:00+08:00".into(),
            last_at: "2026-11-30T15:04:01+08:00".into(),
            attempts: 3,
            message: "窗口 B07 审计链分叉".into(),
        }
    }

    fn sample_day() -> HallDay {
        HallDay {
            date: "2026-11-30".into(),
            events: 1011,
            customers: 139,
            scans: 160,
            scans_ok: 120,
            licenses_fetched: 934,
            licenses_failed: 21,
            copies_printed: 201,
            records_submitted: 133,
            median_scan_ms: Some(1720),
            slowest_scan_ms: Some(18400),
            slowest_biz_num: Some("YS-440106001-B07-20261130-0012".into()),
            failures_by_reason: vec![count("GATEWAY_TIMEOUT", "网关响应超时", 5)],
            by_hour: (0..24).map(|hour| HourCount { hour, events: 1, scans: 0, failures: 0 }).collect(),
            by_item: vec![
                count("", "（不涉及事项）", 40),
                count("SP-001", "大厅的名字", 24),
                count("GS-010", "企业登记信息变更", 17),
            ],
            by_clerk: vec![count("wangxm", "wangxm", 29), count("zhoul", "zhoul", 40)],
            by_kind: vec![count("scan", "扫码", 160)],
            counters: vec![CounterDay {
                hall: "440106001".into(),
                counter: "B07".into(),
                events: 268,
                acked_seq: 30417,
                last_at: Some("2026-11-30T15:03:44+08:00".into()),
                gaps: 2,
                last_contact_at: Some("2026-11-30T15:04:01+08:00".into()),
            }],
            alarms: vec![
                alarm("unenrolled", None, None),
                alarm("fork", Some("B07"), Some(30418)),
                alarm("a_kind_of_a_newer_hall", Some("B09"), None),
            ],
            records: 133,
        }
    }

    fn labels() -> Labels {
        Labels {
            items: HashMap::from([("SP-001".into(), "食品经营许可（新办）".into()), ("".into(), "不该用".into())]),
            people: HashMap::from([("wangxm".into(), "王小明".into())]),
        }
    }

    #[test]
    fn the_halls_day_reads_as_the_window_expects() {
        let asked = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let dto = serde_json::to_value(HallDaySummaryDto::new(&sample_day(), asked, &labels())).unwrap();
        // The day summary's own keys, flattened beside counters and alarms.
        assert_eq!(dto["date"], "2026-11-30");
        assert_eq!(dto["successRate"], json!(0.75));
        assert_eq!(dto["scansOk"], 120);
        assert_eq!(dto["slowestBizNum"], "YS-440106001-B07-20261130-0012");
        assert_eq!(dto["byHour"].as_array().map(Vec::len), Some(24));
        assert_eq!(dto["failuresByReason"][0]["label"], "网关响应超时");
        // 各窗口.
        let counter = &dto["counters"][0];
        assert_eq!(counter["ackedSeq"], 30417);
        assert_eq!(counter["lastAt"], "2026-11-30T15:03:44+08:00");
        assert_eq!(
            (counter["hall"].as_str(), counter["counter"].as_str(), &counter["gaps"]),
            (Some("440106001"), Some("B07"), &json!(2))
        );
        assert!(counter.get("lastContactAt").is_none());
        // Alarms: only the kinds the window has words for, `at` the last time.
        let alarms = dto["alarms"].as_array().unwrap();
        assert_eq!(alarms.len(), 2);
        assert_eq!(
            (&alarms[0]["kind"], &alarms[0]["counter"], &alarms[0]["seq"]),
            (&json!("unenrolled"), &json!(""), &Value::Null)
        );
        assert_eq!(alarms[1]["kind"], "fork");
        assert_eq!(alarms[1]["at"], "2026-11-30T15:04:01+08:00");
        assert_eq!((&alarms[1]["counter"], &alarms[1]["seq"]), (&json!("B07"), &json!(30418)));
        // This counter's names where it has them, the hall's otherwise; the blank key stays the hall's.
        let labels = |list: &Value| {
            list.as_array().unwrap().iter().map(|r| r["label"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        };
        assert_eq!(labels(&dto["byItem"]), ["（不涉及事项）", "食品经营许可（新办）", "企业登记信息变更"]);
        assert_eq!(labels(&dto["byClerk"]), ["王小明", "zhoul"]);
    }

    #[test]
    fn an_alarm_without_a_counter_has_blank_strings() {
        let dto = serde_json::to_value(HallAlarmDto::from(&alarm("bad_signature", None, None))).unwrap();
        assert_eq!((&dto["hall"], &dto["counter"], &dto["seq"]), (&json!(""), &json!(""), &Value::Null));
    }

    #[test]
    fn the_halls_events_carry_their_counter_and_this_counters_labels() {
        let page = HallEventPage {
            total: 240,
            offset: 100,
            rows: vec![HallEvent {
                hall: "440106001".into(),
                counter: "B07".into(),
                seq: 30100,
                at: "2026-11-30T09:00:07+08:00".into(),
                kind: "license_fetch".into(),
                outcome: "failed".into(),
                error_code: Some("GATEWAY_TIMEOUT".into()),
                operator_account: None,
                service_item_code: Some("SP-001".into()),
                biz_num: None,
                uscc: Some("91440101MA5CXXXX1A".into()),
                license_code: None,
                detail: None,
            }],
        };
        let dto = serde_json::to_value(AuditPageDto::from(&page)).unwrap();
        assert_eq!((&dto["total"], &dto["offset"]), (&json!(240), &json!(100)));
        let row = &dto["rows"][0];
        assert_eq!(row["counter"], "B07");
        assert_eq!((row["kindLabel"].as_str(), row["outcomeLabel"].as_str()), (Some("取证"), Some("失败")));
        assert_eq!(row["reason"], yueshang_core::audit::export::reason_label(Some("GATEWAY_TIMEOUT")));
        assert_eq!(
            (&row["operator"], &row["itemCode"], &row["at"]),
            (&json!(""), &json!("SP-001"), &json!("2026-11-30T09:00:07+08:00"))
        );
    }

    #[test]
    fn the_filter_is_cleaned_as_this_counters_and_names_one_counter() {
        let sent = json!({ "clerk": " wangxm ", "item": null, "outcome": "", "kind": "scan", "bizNum": null,
                           "uscc": "91440101ma5cxxxx1a", "counter": " B07 " });
        let (filter, counter) = serde_json::from_value::<HallFilterDto>(sent).unwrap().into_parts();
        assert_eq!(counter.as_deref(), Some("B07"));
        assert_eq!(filter.clerk.as_deref(), Some("wangxm"));
        assert_eq!((filter.item, filter.outcome), (None, None));
        assert_eq!(filter.uscc.as_deref(), Some("91440101MA5CXXXX1A"));
        let (_, every) = serde_json::from_value::<HallFilterDto>(json!({ "counter": null })).unwrap().into_parts();
        assert_eq!(every, None);
    }
}
