//! The hall's day at a glance and its event list, from PostgreSQL: the same figures as one
//! counter's supervisor view (audit::day), over every counter, plus each counter's part, the gaps
//! in its chain and the alarms. Counted by the database, grouped once, folded here.

use crate::Refused;
use crate::store::Store;
use chrono::NaiveDate;
use std::collections::{BTreeMap, HashMap};
use yueshang_core::audit::day::{EventFilter, failure_rows};
use yueshang_core::audit::export::kind_label;
use yueshang_core::shipping::wire::{Alarm, Count, CounterDay, HallDay, HallEvent, HallEventPage, HourCount};

/// The most events one page of the list may hold.
pub const MAX_PAGE: i64 = 500;

/// The hall's day.
pub async fn day(store: &Store, date: NaiveDate) -> Result<HallDay, Refused> {
    // Three connections at once: the grouped counts, the per-counter part, the rest.
    let (groups, counters, extras, alarms) =
        tokio::try_join!(grouped(store, date), counter_days(store, date), extras(store, date), alarms(store))?;
    let mut day = fold(date, &groups, &extras.item_names);
    day.customers = extras.customers;
    day.median_scan_ms = extras.median_scan_ms;
    day.slowest_scan_ms = extras.slowest.as_ref().map(|(ms, _)| *ms);
    day.slowest_biz_num = extras.slowest.and_then(|(_, biz)| biz);
    day.records = extras.records;
    day.counters = counters;
    day.alarms = alarms;
    Ok(day)
}

/// The day's events grouped by everything the figures split by.
struct Group {
    hour: u32,
    kind: String,
    outcome: String,
    error_code: String,
    item: String,
    clerk: String,
    count: u64,
}

async fn grouped(store: &Store, date: NaiveDate) -> Result<Vec<Group>, Refused> {
    let client = store.client().await?;
    let rows = client
        .query(
            "SELECT hour, kind, outcome, error_code, service_item_code, operator_account, SUM(events)::bigint
             FROM day_counts WHERE day = $1 GROUP BY 1, 2, 3, 4, 5, 6",
            &[&date],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Group {
            hour: u32::try_from(r.get::<_, i16>(0)).ok().filter(|h| *h < 24).unwrap_or(0),
            kind: r.get(1),
            outcome: r.get(2),
            error_code: r.get(3),
            item: r.get(4),
            clerk: r.get(5),
            count: r.get::<_, i64>(6) as u64,
        })
        .collect())
}

/// The figures the groups give, counted as audit::day's tally counts one counter's events.
fn fold(date: NaiveDate, groups: &[Group], item_names: &HashMap<String, String>) -> HallDay {
    let mut hours = [HourCount { hour: 0, events: 0, scans: 0, failures: 0 }; 24];
    let (mut reasons, mut items, mut clerks, mut kinds) =
        (BTreeMap::new(), BTreeMap::<String, u64>::new(), BTreeMap::<String, u64>::new(), BTreeMap::new());
    let mut day = empty_day(date);
    for g in groups {
        let n = g.count;
        day.events += n;
        let slot = &mut hours[g.hour as usize];
        slot.events += n;
        let (ok, failed) = (g.outcome == "ok", g.outcome == "failed");
        if failed {
            slot.failures += n;
            *reasons.entry(g.error_code.clone()).or_insert(0u64) += n;
        }
        match g.kind.as_str() {
            "scan" | "scan_rejected" => {
                day.scans += n;
                slot.scans += n;
            }
            "scan_done" if ok => day.scans_ok += n,
            "license_fetch" if ok => day.licenses_fetched += n,
            "license_fetch" if failed => day.licenses_failed += n,
            "copy_print" if ok => day.copies_printed += n,
            "submit" if ok => day.records_submitted += n,
            _ => {}
        }
        *items.entry(g.item.clone()).or_default() += n;
        *clerks.entry(g.clerk.clone()).or_default() += n;
        *kinds.entry(g.kind.clone()).or_insert(0u64) += n;
    }
    for (hour, slot) in hours.iter_mut().enumerate() {
        slot.hour = hour as u32;
    }
    day.by_hour = hours.to_vec();
    day.failures_by_reason =
        failure_rows(reasons).into_iter().map(|r| Count { key: r.key, label: r.label, count: r.count }).collect();
    day.by_item = items
        .into_iter()
        .map(|(key, count)| {
            let label = match item_names.get(&key) {
                _ if key.is_empty() => "（不涉及事项）".to_owned(),
                Some(name) => name.clone(),
                None => key.clone(),
            };
            Count { key, label, count }
        })
        .collect();
    day.by_clerk = clerks
        .into_iter()
        .map(|(key, count)| Count {
            label: if key.is_empty() { "（未知）".to_owned() } else { key.clone() },
            key,
            count,
        })
        .collect();
    day.by_kind =
        kinds.into_iter().map(|(key, count)| Count { label: kind_label(&key).to_owned(), key, count }).collect();
    day
}

fn empty_day(date: NaiveDate) -> HallDay {
    HallDay {
        date: date.to_string(),
        events: 0,
        customers: 0,
        scans: 0,
        scans_ok: 0,
        licenses_fetched: 0,
        licenses_failed: 0,
        copies_printed: 0,
        records_submitted: 0,
        median_scan_ms: None,
        slowest_scan_ms: None,
        slowest_biz_num: None,
        failures_by_reason: vec![],
        by_hour: vec![],
        by_item: vec![],
        by_clerk: vec![],
        by_kind: vec![],
        counters: vec![],
        alarms: vec![],
        records: 0,
    }
}

/// Every enrolled counter's part of the day: its events, where its chain stands, its gaps (holes
/// in the day's seq, counted with `lead(seq)` only for a counter whose day is not whole).
async fn counter_days(store: &Store, date: NaiveDate) -> Result<Vec<CounterDay>, Refused> {
    let client = store.client().await?;
    let rows = client
        .query(
            "SELECT c.hall, c.counter, COALESCE(d.events, 0), c.acked_seq, d.last_at,
                    COALESCE(d.last_seq - d.first_seq + 1 > d.events, false), c.counter_ref,
                    to_char(c.last_contact_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+08:00\"')
             FROM counters c LEFT JOIN counter_days d ON d.counter_ref = c.counter_ref AND d.day = $1
             ORDER BY c.hall, c.counter",
            &[&date],
        )
        .await?;
    let mut days = Vec::with_capacity(rows.len());
    for r in rows {
        let holed: bool = r.get(5);
        let gaps = if holed {
            let counter_ref: String = r.get(6);
            let holes = client
                .query_one(
                    "SELECT COUNT(*) FROM (SELECT seq, lead(seq) OVER (ORDER BY seq) AS next_seq
                                           FROM events WHERE day = $1 AND counter_ref = $2) s
                     WHERE next_seq > seq + 1",
                    &[&date, &counter_ref],
                )
                .await?;
            holes.get::<_, i64>(0) as u64
        } else {
            0
        };
        days.push(CounterDay {
            hall: r.get(0),
            counter: r.get(1),
            events: r.get::<_, i64>(2) as u64,
            acked_seq: r.get(3),
            last_at: r.get(4),
            gaps,
            last_contact_at: r.get(7),
        });
    }
    Ok(days)
}

/// What the groups cannot give: distinct customers, the median and slowest scan, item names, records.
struct Extras {
    customers: u64,
    median_scan_ms: Option<u64>,
    slowest: Option<(u64, Option<String>)>,
    item_names: HashMap<String, String>,
    records: u64,
}

async fn extras(store: &Store, date: NaiveDate) -> Result<Extras, Refused> {
    let client = store.client().await?;
    // Each on its partial index (migration 1). The median as audit::day takes it: the middle value,
    // or the two middle ones averaged down.
    let customers: i64 = client
        .query_one(
            "SELECT COUNT(DISTINCT biz_num) FROM events WHERE day = $1 AND kind = 'exchange' AND outcome = 'ok'",
            &[&date],
        )
        .await?
        .get(0);
    let median: Option<i64> = client
        .query_one(
            "SELECT floor(percentile_cont(0.5) WITHIN GROUP (ORDER BY scan_ms))::bigint
             FROM events WHERE day = $1 AND kind = 'scan_done' AND scan_ms IS NOT NULL",
            &[&date],
        )
        .await?
        .get(0);
    let slowest = client
        .query_opt(
            "SELECT scan_ms, biz_num FROM events WHERE day = $1 AND kind = 'scan_done' AND scan_ms IS NOT NULL
             ORDER BY scan_ms DESC LIMIT 1",
            &[&date],
        )
        .await?;
    let names = client
        .query("SELECT DISTINCT ON (service_item_code) service_item_code, service_item_name FROM records", &[])
        .await?;
    let day_text = date.to_string();
    let records: i64 = client
        .query_one("SELECT COUNT(*) FROM records WHERE substr(submitted_at, 1, 10) = $1", &[&day_text])
        .await?
        .get(0);
    Ok(Extras {
        customers: customers as u64,
        median_scan_ms: median.map(|m| m as u64),
        slowest: slowest.map(|r| (r.get::<_, i32>(0) as u64, r.get(1))),
        item_names: names.iter().map(|r| (r.get(0), r.get(1))).collect(),
        records: records as u64,
    })
}

/// The alarms, newest first (they stay until IT has looked: the hall never forgets a fork; an
/// unknown key's goes once that key is enrolled).
pub async fn alarms(store: &Store) -> Result<Vec<Alarm>, Refused> {
    let client = store.client().await?;
    let rows = client
        .query(
            "SELECT a.kind, c.hall, c.counter, a.seq, a.key_fingerprint,
                    to_char(a.first_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+08:00\"'),
                    to_char(a.last_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+08:00\"'),
                    a.attempts
             FROM alarms a LEFT JOIN counters c ON c.counter_ref = a.counter_ref
             -- An unknown key that IT has enrolled since is no longer an alarm.
             WHERE NOT (a.kind = 'unenrolled' AND EXISTS (SELECT 1 FROM counters k WHERE k.key_fingerprint = a.key_fingerprint))
             ORDER BY a.last_at DESC LIMIT 200",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let (kind, hall, counter, seq, key): (String, Option<String>, Option<String>, Option<i64>, Option<String>) =
                (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
            let message = alarm_message(&kind, counter.as_deref(), seq, key.as_deref());
            Alarm {
                kind,
                hall,
                counter,
                seq,
                key_fingerprint: key,
                first_at: r.get(5),
                last_at: r.get(6),
                attempts: i64::from(r.get::<_, i32>(7)),
                message,
            }
        })
        .collect())
}

fn alarm_message(kind: &str, counter: Option<&str>, seq: Option<i64>, key: Option<&str>) -> String {
    let counter = counter.unwrap_or("（未知窗口）");
    let seq = seq.map_or_else(|| "?".to_owned(), |s| s.to_string());
    match kind {
        "fork" => format!("窗口 {counter} 审计链分叉：第 {seq} 条与大厅已存记录不一致，大厅已拒收。"),
        "bad_signature" => format!("窗口 {counter} 发来的签名检查点（止于第 {seq} 条）与登记的公钥不符，大厅已拒收。"),
        _ => format!(
            "未登记的密钥（指纹 {}…）尝试上传审计记录，大厅已拒收。",
            key.map_or("?", |k| &k[..k.len().min(16)])
        ),
    }
}

/// A page of the day's events across counters (in time order), narrowed as one counter's list is
/// (audit::day's filter) and to one counter by its name, with how many match.
pub async fn events(
    store: &Store,
    date: NaiveDate,
    (counter, filter): (&Option<String>, &EventFilter),
    offset: i64,
    limit: i64,
) -> Result<HallEventPage, Refused> {
    let wanted = [
        ("c.counter", counter),
        ("e.operator_account", &filter.clerk),
        ("e.service_item_code", &filter.item),
        ("e.outcome", &filter.outcome),
        ("e.kind", &filter.kind),
        ("e.biz_num", &filter.biz_num),
        ("e.uscc", &filter.uscc),
    ];
    let mut clauses = vec!["e.day = $1".to_owned()];
    let mut values: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![&date];
    for (column, value) in &wanted {
        if let Some(value) = value.as_ref().filter(|v| !v.trim().is_empty()) {
            values.push(value);
            clauses.push(format!("{column} = ${}", values.len()));
        }
    }
    let condition = clauses.join(" AND ");
    let (limit, offset) = (limit.clamp(1, MAX_PAGE), offset.max(0));
    let client = store.client().await?;
    let total: i64 = client
        .query_one(
            &format!(
                "SELECT COUNT(*) FROM events e JOIN counters c ON c.counter_ref = e.counter_ref WHERE {condition}"
            ),
            &values,
        )
        .await?
        .get(0);
    let rows = client
        .query(
            &format!(
                "SELECT c.hall, c.counter, e.seq, e.at, COALESCE(e.kind, ''), COALESCE(e.outcome, ''), e.error_code,
                        e.operator_account, e.service_item_code, e.biz_num, e.uscc, e.license_code, e.detail
                 FROM events e JOIN counters c ON c.counter_ref = e.counter_ref
                 WHERE {condition} ORDER BY e.at, e.counter_ref, e.seq LIMIT {limit} OFFSET {offset}"
            ),
            &values,
        )
        .await?;
    Ok(HallEventPage {
        total: total as u64,
        offset: offset as u64,
        rows: rows
            .iter()
            .map(|r| HallEvent {
                hall: r.get(0),
                counter: r.get(1),
                seq: r.get(2),
                at: r.get(3),
                kind: r.get(4),
                outcome: r.get(5),
                error_code: r.get(6),
                operator_account: r.get(7),
                service_item_code: r.get(8),
                biz_num: r.get(9),
                uscc: r.get(10),
                license_code: r.get(11),
                detail: r.get(12),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(hour: u32, kind: &str, outcome: &str, code: &str, count: u64) -> Group {
        Group {
            hour,
            kind: kind.into(),
            outcome: outcome.into(),
            error_code: code.into(),
            item: "1101".into(),
            clerk: "clerk01".into(),
            count,
        }
    }

    #[test]
    fn the_groups_fold_into_the_figures_of_one_counters_day() {
        let groups = [
            group(9, "scan", "info", "", 10),
            group(9, "scan_rejected", "failed", "CODE_INVALID", 2),
            group(10, "scan_done", "ok", "", 8),
            group(10, "license_fetch", "ok", "", 40),
            group(10, "license_fetch", "failed", "GATEWAY_TIMEOUT", 3),
            group(11, "submit", "ok", "", 7),
            group(11, "copy_print", "ok", "", 5),
        ];
        let names = HashMap::from([("1101".to_owned(), "食品经营许可".to_owned())]);
        let day = fold(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(), &groups, &names);
        assert_eq!((day.events, day.scans, day.scans_ok), (75, 12, 8));
        assert_eq!(
            (day.licenses_fetched, day.licenses_failed, day.records_submitted, day.copies_printed),
            (40, 3, 7, 5)
        );
        assert_eq!(day.by_hour.len(), 24);
        assert_eq!((day.by_hour[9].scans, day.by_hour[9].failures, day.by_hour[10].failures), (12, 2, 3));
        assert_eq!(day.failures_by_reason[0].key, "GATEWAY_TIMEOUT");
        assert_eq!(day.failures_by_reason[0].count, 3);
        assert_eq!(day.by_item[0].label, "食品经营许可");
        assert_eq!(day.by_kind.iter().map(|k| k.count).sum::<u64>(), 75);
    }
}
