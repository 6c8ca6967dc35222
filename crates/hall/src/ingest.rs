//! Taking a counter's batch: checked whole before anything is stored (every hash recomputed,
//! every link, the counter's checkpoint and its signature), then stored in one transaction under
//! the counter's row lock: idempotent on `(counter, seq)`, a gap refused, a different event at a
//! stored seq refused as a fork and recorded as an alarm; the checkpoint countersigned.

use crate::Refused;
use crate::store::{AlarmKind, Enrolled, Finding, Store};
use crate::witness::Witness;
use base64::Engine as _;
use chrono::NaiveDate;
use yueshang_core::ErrorCode;
use yueshang_core::audit::chain::ChainedEvent;
use yueshang_core::audit::checkpoint::Checkpoint;
use yueshang_core::audit::export::scan_millis;
use yueshang_core::audit::key::verify_signature;
use yueshang_core::shipping::china_day;
use yueshang_core::shipping::wire::{self, Ack, Anchor, Batch, WireRecord};

/// A batch that verified on its own (before the hall's stored chain is consulted).
#[derive(Debug)]
pub struct Checked {
    events: Vec<ChainedEvent>,
    day: Option<NaiveDate>,
    checkpoint: Option<SignedCheckpoint>,
    records: Vec<WireRecord>,
    anchor: Option<Anchor>,
}

#[derive(Debug)]
struct SignedCheckpoint {
    checkpoint: Checkpoint,
    text: String,
    signature: Vec<u8>,
}

/// Why a batch failed its own check: malformed, or signed by something other than the enrolled key.
#[derive(Debug)]
pub enum CheckFailure {
    Invalid(Refused),
    BadSignature(Refused),
}

/// Checks a batch on its own: the events link up from the first to the last, each hash is what its
/// fields give, they are one China day, and the counter's checkpoint covers them, names this
/// counter and its key, and is signed by it.
pub fn check(batch: Batch, counter: &Enrolled) -> Result<Checked, CheckFailure> {
    let invalid = |message: String| CheckFailure::Invalid(Refused::invalid(message));
    if batch.events.len() > wire::MAX_BATCH_EVENTS || batch.records.len() > wire::MAX_BATCH_RECORDS {
        return Err(invalid(format!("一批最多 {} 条记录、{} 条申办", wire::MAX_BATCH_EVENTS, wire::MAX_BATCH_RECORDS)));
    }
    let mut events = Vec::with_capacity(batch.events.len());
    for event in batch.events {
        events.push(event.into_chained().ok_or_else(|| invalid("记录的字段数不是 14".to_owned()))?);
    }
    let day = check_links(&events).map_err(CheckFailure::Invalid)?;
    if batch.records.iter().any(|r| r.biz_num.trim().is_empty()) {
        return Err(invalid("申办记录缺少办件号".to_owned()));
    }
    let checkpoint = match (events.first(), events.last(), batch.checkpoint) {
        (Some(first), Some(last), Some(wire)) => Some(check_checkpoint(first, last, wire, counter)?),
        (Some(_), _, _) => return Err(invalid("有记录却没有签名检查点".to_owned())),
        (None, _, _) => None,
    };
    Ok(Checked { events, day, checkpoint, records: batch.records, anchor: batch.anchor })
}

/// Each event's seq follows the one before (written as the number it is), its prev_hash is the
/// hash before it, its hash is what its fields give; all on one China day (returned).
fn check_links(events: &[ChainedEvent]) -> Result<Option<NaiveDate>, Refused> {
    let mut before: Option<&ChainedEvent> = None;
    let mut day = None;
    for event in events {
        let seq = event.seq();
        if seq < 1 || event.field("seq") != Some(seq.to_string().as_str()) {
            return Err(Refused::invalid("记录的序号无效"));
        }
        if let Some(prev) = before {
            if seq != prev.seq() + 1 {
                return Err(Refused::invalid("一批中的序号不连续").at_seq(seq));
            }
            if event.prev_hash != prev.hash {
                return Err(Refused::invalid("一批中的记录前后哈希不衔接").at_seq(seq));
            }
        }
        if event.computed_hash() != event.hash {
            return Err(Refused::invalid("记录的哈希与内容不符").at_seq(seq));
        }
        let this_day = NaiveDate::parse_from_str(china_day(event), "%Y-%m-%d")
            .map_err(|_| Refused::invalid("记录的时间无效").at_seq(seq))?;
        if day.is_some_and(|d| d != this_day) {
            return Err(Refused::invalid("一批记录跨了日期").at_seq(seq));
        }
        day = Some(this_day);
        before = Some(event);
    }
    Ok(day)
}

fn check_checkpoint(
    first: &ChainedEvent,
    last: &ChainedEvent,
    wire: wire::WireCheckpoint,
    counter: &Enrolled,
) -> Result<SignedCheckpoint, CheckFailure> {
    let invalid = |message: &str| CheckFailure::Invalid(Refused::invalid(format!("签名检查点{message}")));
    let checkpoint = Checkpoint::parse(&wire.text).map_err(|_| invalid("格式不对"))?;
    if checkpoint.key != counter.key_fingerprint {
        return Err(invalid("的密钥不是本窗口登记的密钥"));
    }
    if checkpoint.hall != counter.hall || checkpoint.counter != counter.counter {
        return Err(invalid(&format!(
            "写的是 {}/{}，不是登记的 {}",
            checkpoint.hall, checkpoint.counter, counter.counter_ref
        )));
    }
    if checkpoint.last_seq != last.seq() || checkpoint.head != last.hash {
        return Err(invalid("没有止于这批的最后一条记录"));
    }
    if checkpoint.first_seq > first.seq()
        || (checkpoint.first_seq == first.seq() && checkpoint.prev_hash != first.prev_hash)
    {
        return Err(invalid("没有覆盖这批记录"));
    }
    let signature =
        base64::engine::general_purpose::STANDARD.decode(&wire.signature).map_err(|_| invalid("的签名不是 base64"))?;
    if !verify_signature(&counter.public_pem, wire.text.as_bytes(), &signature) {
        return Err(CheckFailure::BadSignature(
            Refused::invalid("签名检查点的签名与登记的公钥不符").at_seq(checkpoint.last_seq),
        ));
    }
    Ok(SignedCheckpoint { checkpoint, text: wire.text, signature })
}

/// Where a stored chain and an offered one part: the seq, the hash the hall holds, the one offered.
struct Fork {
    seq: i64,
    stored: String,
    offered: String,
}

enum Outcome {
    Taken(Ack),
    Forked(Fork),
}

/// Stores a checked batch for `counter`; a fork is recorded as an alarm and refused.
pub async fn store(store: &Store, counter: &Enrolled, checked: Checked, witness: &Witness) -> Result<Ack, Refused> {
    match apply(store, counter, checked, witness).await? {
        Outcome::Taken(ack) => Ok(ack),
        Outcome::Forked(fork) => {
            let finding = Finding {
                counter_ref: Some(&counter.counter_ref),
                seq: Some(fork.seq),
                stored_hash: Some(&fork.stored),
                offered_hash: Some(&fork.offered),
                ..Finding::default()
            };
            store.record_alarm(AlarmKind::Fork, &finding).await?;
            Err(Refused::new(
                409,
                ErrorCode::ChainFork,
                format!("窗口 {} 的第 {} 条审计记录与大厅已保存的不一致（分叉）", counter.counter_ref, fork.seq),
            )
            .at_seq(fork.seq))
        }
    }
}

async fn apply(store: &Store, counter: &Enrolled, checked: Checked, witness: &Witness) -> Result<Outcome, Refused> {
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    let row = tx
        .query_one("SELECT acked_seq, head FROM counters WHERE counter_ref = $1 FOR UPDATE", &[&counter.counter_ref])
        .await?;
    let (acked_seq, head): (i64, String) = (row.get(0), row.get(1));
    if let Some(anchor) = checked.anchor.as_ref().filter(|a| a.seq >= 1 && a.seq <= acked_seq)
        && let Some(stored) = stored_hash(&tx, &counter.counter_ref, anchor.seq).await?
        && stored != anchor.hash
    {
        return Ok(Outcome::Forked(Fork { seq: anchor.seq, stored, offered: anchor.hash.clone() }));
    }
    let mut stored_count = 0u64;
    let mut new_acked = acked_seq;
    let mut witness_answer = None;
    if let (Some(first), Some(last), Some(signed), Some(day)) =
        (checked.events.first(), checked.events.last(), &checked.checkpoint, checked.day)
    {
        let (first_seq, last_seq) = (first.seq(), last.seq());
        if acked_seq > 0 && first_seq > acked_seq + 1 {
            let mut gap = Refused::new(
                409,
                ErrorCode::HallRefused,
                format!("这批从第 {first_seq} 条开始，大厅只确认到第 {acked_seq} 条"),
            );
            gap.code = wire::CHAIN_GAP.to_owned();
            gap.acked_seq = Some(acked_seq);
            return Err(gap);
        }
        if let Some(fork) = compare_overlap(&tx, &counter.counter_ref, &checked.events, acked_seq, &head).await? {
            return Ok(Outcome::Forked(fork));
        }
        let checkpoint = &signed.checkpoint;
        if checkpoint.first_seq < first_seq {
            match stored_prev_hash(&tx, &counter.counter_ref, checkpoint.first_seq).await? {
                Some(prev) if prev == checkpoint.prev_hash => {}
                Some(prev) => {
                    return Ok(Outcome::Forked(Fork {
                        seq: checkpoint.first_seq,
                        stored: prev,
                        offered: checkpoint.prev_hash.clone(),
                    }));
                }
                None => {
                    return Err(Refused::invalid("签名检查点的起点不在大厅保存的记录中").at_seq(checkpoint.first_seq));
                }
            }
        }
        let new: Vec<&ChainedEvent> = checked.events.iter().filter(|e| e.seq() > acked_seq).collect();
        stored_count = insert_events(&tx, &counter.counter_ref, day, &new).await?;
        let countersignature = witness.countersign(&signed.text);
        let checkpoint_day = checkpoint_day(&tx, &counter.counter_ref, checkpoint.first_seq, day).await?;
        tx.execute(
            "INSERT INTO checkpoints (counter_ref, first_seq, last_seq, day, text, signature, witness_key, witness_signature)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            &[
                &counter.counter_ref,
                &checkpoint.first_seq,
                &checkpoint.last_seq,
                &checkpoint_day,
                &signed.text,
                &signed.signature,
                &witness.fingerprint,
                &countersignature,
            ],
        )
        .await?;
        if last_seq > acked_seq {
            tx.execute(
                "UPDATE counters SET acked_seq = $2, head = $3 WHERE counter_ref = $1",
                &[&counter.counter_ref, &last_seq, &last.hash],
            )
            .await?;
            new_acked = last_seq;
        }
        witness_answer = Some(wire::Witness {
            first_seq: checkpoint.first_seq,
            last_seq: checkpoint.last_seq,
            signature: base64::engine::general_purpose::STANDARD.encode(&countersignature),
            hall_public_pem: witness.public_pem.clone(),
        });
    }
    let records = upsert_records(&tx, &counter.counter_ref, &checked.records).await?;
    tx.execute("UPDATE counters SET last_contact_at = now() WHERE counter_ref = $1", &[&counter.counter_ref]).await?;
    tx.commit().await?;
    Ok(Outcome::Taken(Ack { acked_seq: new_acked, stored: stored_count, records, witness: witness_answer }))
}

/// The part of the batch at seqs the hall holds must be exactly what it holds; the first new
/// event must link to the stored head.
async fn compare_overlap(
    tx: &tokio_postgres::Transaction<'_>,
    counter_ref: &str,
    events: &[ChainedEvent],
    acked_seq: i64,
    head: &str,
) -> Result<Option<Fork>, Refused> {
    let first_seq = events[0].seq();
    if first_seq > acked_seq {
        // The batch starts right after the stored head (or is the first ever).
        let expected = if acked_seq == 0 { None } else { Some(head) };
        return Ok(match expected {
            Some(head) if events[0].prev_hash != head => {
                Some(Fork { seq: acked_seq, stored: head.to_owned(), offered: events[0].prev_hash.clone() })
            }
            _ => None,
        });
    }
    let until = acked_seq.min(events[events.len() - 1].seq());
    let rows = tx
        .query(
            "SELECT seq, hash FROM events WHERE counter_ref = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq",
            &[&counter_ref, &first_seq, &until],
        )
        .await?;
    for row in rows {
        let (seq, stored): (i64, String) = (row.get(0), row.get(1));
        let offered = &events[(seq - first_seq) as usize];
        if offered.hash != stored {
            return Ok(Some(Fork { seq, stored, offered: offered.hash.clone() }));
        }
    }
    // Before the stored events of the range: the batch's first event must link to the one before it.
    if first_seq > 1
        && let Some(stored) = stored_hash(tx, counter_ref, first_seq - 1).await?
        && stored != events[0].prev_hash
    {
        return Ok(Some(Fork { seq: first_seq - 1, stored, offered: events[0].prev_hash.clone() }));
    }
    Ok(None)
}

async fn stored_hash(
    tx: &tokio_postgres::Transaction<'_>,
    counter_ref: &str,
    seq: i64,
) -> Result<Option<String>, Refused> {
    let row =
        tx.query_opt("SELECT hash FROM events WHERE counter_ref = $1 AND seq = $2", &[&counter_ref, &seq]).await?;
    Ok(row.map(|r| r.get(0)))
}

async fn stored_prev_hash(
    tx: &tokio_postgres::Transaction<'_>,
    counter_ref: &str,
    seq: i64,
) -> Result<Option<String>, Refused> {
    let row =
        tx.query_opt("SELECT prev_hash FROM events WHERE counter_ref = $1 AND seq = $2", &[&counter_ref, &seq]).await?;
    Ok(row.map(|r| r.get(0)))
}

/// The day of a checkpoint: the day of its first event (stored, or in this batch: `day`).
async fn checkpoint_day(
    tx: &tokio_postgres::Transaction<'_>,
    counter_ref: &str,
    first_seq: i64,
    day: NaiveDate,
) -> Result<NaiveDate, Refused> {
    let row =
        tx.query_opt("SELECT day FROM events WHERE counter_ref = $1 AND seq = $2", &[&counter_ref, &first_seq]).await?;
    Ok(row.map_or(day, |r| r.get(0)))
}

/// The events as rows, in one statement (arrays unnested), skipping any already stored.
async fn insert_events(
    tx: &tokio_postgres::Transaction<'_>,
    counter_ref: &str,
    day: NaiveDate,
    events: &[&ChainedEvent],
) -> Result<u64, Refused> {
    if events.is_empty() {
        return Ok(0);
    }
    let seqs: Vec<i64> = events.iter().map(|e| e.seq()).collect();
    let days: Vec<NaiveDate> = vec![day; events.len()];
    // Columns 1..=13 of the v1 fields (seq is its own column), then the derived and the hashes.
    let column = |i: usize| -> Vec<Option<&str>> { events.iter().map(|e| e.values[i].as_deref()).collect() };
    let fields: Vec<Vec<Option<&str>>> = (1..14).map(column).collect();
    let scan_ms: Vec<Option<i32>> = events
        .iter()
        .map(|e| {
            (e.field("kind") == Some("scan_done"))
                .then(|| e.field("detail").and_then(scan_millis))
                .flatten()
                .and_then(|ms| i32::try_from(ms).ok())
        })
        .collect();
    let prev: Vec<&str> = events.iter().map(|e| e.prev_hash.as_str()).collect();
    let hash: Vec<&str> = events.iter().map(|e| e.hash.as_str()).collect();
    let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![&counter_ref, &seqs, &days];
    for field in &fields {
        params.push(field);
    }
    params.extend([&scan_ms as &(dyn tokio_postgres::types::ToSql + Sync), &prev, &hash]);
    let inserted: u64 = tx
        .execute(
            "INSERT INTO events (counter_ref, seq, day, at, kind, outcome, error_code, operator_account, hall_code,
                 counter, service_item_code, biz_num, uscc, auth_id, license_code, detail, scan_ms, prev_hash, hash)
             SELECT $1, * FROM unnest($2::bigint[], $3::date[], $4::text[], $5::text[], $6::text[], $7::text[],
                 $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                 $15::text[], $16::text[], $17::integer[], $18::text[], $19::text[])
             ON CONFLICT DO NOTHING",
            &params,
        )
        .await?;
    // Under the counter's row lock only events after the stored head get here: all are new.
    if inserted != events.len() as u64 {
        return Err(Refused::store(format!("{counter_ref}: {inserted} of {} events inserted", events.len())));
    }
    count_day(tx, counter_ref, day, events).await?;
    Ok(inserted)
}

/// The day's counts grouped as the day at a glance reads them, and the counter's part of the day.
async fn count_day(
    tx: &tokio_postgres::Transaction<'_>,
    counter_ref: &str,
    day: NaiveDate,
    events: &[&ChainedEvent],
) -> Result<(), Refused> {
    type Group<'a> = (i16, &'a str, &'a str, &'a str, &'a str, &'a str);
    let mut groups: std::collections::HashMap<Group<'_>, i64> = std::collections::HashMap::new();
    for e in events {
        let hour = e.field("at").and_then(|at| at.get(11..13)).and_then(|h| h.parse().ok()).filter(|h| *h < 24);
        let text = |name: &str| e.field(name).unwrap_or("");
        let key = (
            hour.unwrap_or(0),
            text("kind"),
            text("outcome"),
            text("error_code"),
            text("service_item_code"),
            text("operator_account"),
        );
        *groups.entry(key).or_default() += 1;
    }
    let n = groups.len();
    let (mut hours, mut counts) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut texts: [Vec<&str>; 5] = Default::default();
    for ((hour, kind, outcome, code, item, clerk), count) in &groups {
        hours.push(*hour);
        counts.push(*count);
        for (column, value) in texts.iter_mut().zip([kind, outcome, code, item, clerk]) {
            column.push(*value);
        }
    }
    let [kinds, outcomes, codes, items, clerks] = &texts;
    tx.execute(
        "INSERT INTO day_counts (day, counter_ref, hour, kind, outcome, error_code, service_item_code, operator_account, events)
         SELECT $1, $2, * FROM unnest($3::smallint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[])
         ON CONFLICT (day, counter_ref, hour, kind, outcome, error_code, service_item_code, operator_account)
         DO UPDATE SET events = day_counts.events + excluded.events",
        &[&day, &counter_ref, &hours, kinds, outcomes, codes, items, clerks, &counts],
    )
    .await?;
    let (first, last) = (events[0], events[events.len() - 1]);
    let last_at = events.iter().filter_map(|e| e.field("at")).max().unwrap_or("");
    tx.execute(
        "INSERT INTO counter_days (day, counter_ref, events, first_seq, last_seq, last_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (day, counter_ref) DO UPDATE SET events = counter_days.events + excluded.events,
             first_seq = least(counter_days.first_seq, excluded.first_seq),
             last_seq = greatest(counter_days.last_seq, excluded.last_seq),
             last_at = greatest(counter_days.last_at, excluded.last_at)",
        &[&day, &counter_ref, &(events.len() as i64), &first.seq(), &last.seq(), &last_at],
    )
    .await?;
    Ok(())
}

async fn upsert_records(
    tx: &tokio_postgres::Transaction<'_>,
    counter_ref: &str,
    records: &[WireRecord],
) -> Result<u64, Refused> {
    let statement = tx
        .prepare(
            "INSERT INTO records (counter_ref, biz_num, auth_id, uscc, service_item_code, service_item_name, status,
                 reason, used_license_codes, operator_account, submitted_at, state, record_id, sent_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (counter_ref, biz_num) DO UPDATE SET status = excluded.status, reason = excluded.reason,
                 used_license_codes = excluded.used_license_codes, state = excluded.state,
                 record_id = excluded.record_id, sent_at = excluded.sent_at, received_at = now()",
        )
        .await?;
    for r in records {
        tx.execute(
            &statement,
            &[
                &counter_ref,
                &r.biz_num,
                &r.auth_id,
                &r.uscc,
                &r.service_item_code,
                &r.service_item_name,
                &r.status,
                &r.reason,
                &r.used_license_codes,
                &r.operator_account,
                &r.submitted_at,
                &r.state,
                &r.record_id,
                &r.sent_at,
            ],
        )
        .await?;
    }
    Ok(records.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use yueshang_core::audit::chain::{FIELDS, GENESIS, canonical, link};
    use yueshang_core::audit::key::CounterKey;
    use yueshang_core::cache::Cache;
    use yueshang_core::shipping::wire::{WireCheckpoint, WireEvent};

    fn chain(from: i64, count: i64, prev: &str, day: &str) -> Vec<ChainedEvent> {
        let mut prev = prev.to_owned();
        (from..from + count)
            .map(|seq| {
                let mut values = vec![None; FIELDS.len()];
                values[0] = Some(seq.to_string());
                values[1] = Some(format!("{day}T10:00:00.000+08:00"));
                values[2] = Some("scan".to_owned());
                let fields: Vec<(&str, Option<&str>)> =
                    FIELDS.iter().zip(&values).map(|(n, v)| (*n, v.as_deref())).collect();
                let hash = link(&prev, &canonical(&fields));
                let event = ChainedEvent { values, prev_hash: prev.clone(), hash: hash.clone() };
                prev = hash;
                event
            })
            .collect()
    }

    fn enrolled(key: &CounterKey) -> Enrolled {
        Enrolled {
            counter_ref: "4401061/B07".into(),
            hall: "4401061".into(),
            counter: "B07".into(),
            key_fingerprint: key.fingerprint(),
            public_pem: key.public_pem(),
        }
    }

    fn signed_batch(key: &CounterKey, events: &[ChainedEvent], hall: &str, counter: &str) -> Batch {
        let checkpoint = Checkpoint {
            hall: hall.into(),
            counter: counter.into(),
            key: key.fingerprint(),
            first_seq: events[0].seq(),
            last_seq: events[events.len() - 1].seq(),
            prev_hash: events[0].prev_hash.clone(),
            head: events[events.len() - 1].hash.clone(),
            signed_at: "2026-11-30T10:00:00+08:00".into(),
        };
        let text = checkpoint.text();
        Batch {
            events: events.iter().map(WireEvent::from_chained).collect(),
            checkpoint: Some(WireCheckpoint {
                signature: base64::engine::general_purpose::STANDARD.encode(key.sign(text.as_bytes())),
                text,
            }),
            records: vec![],
            anchor: None,
        }
    }

    fn key() -> CounterKey {
        CounterKey::load_or_create(&Cache::open_in_memory().unwrap()).unwrap()
    }

    fn refused_message(result: Result<Checked, CheckFailure>) -> String {
        match result {
            Err(CheckFailure::Invalid(r)) => format!("invalid: {}", r.message),
            Err(CheckFailure::BadSignature(r)) => format!("signature: {}", r.message),
            Ok(_) => "taken".to_owned(),
        }
    }

    #[test]
    fn an_honest_batch_passes_its_own_check() {
        let key = key();
        let events = chain(1, 5, GENESIS, "2026-11-30");
        let checked = check(signed_batch(&key, &events, "4401061", "B07"), &enrolled(&key)).map_err(|_| ()).unwrap();
        assert_eq!(checked.events.len(), 5);
        assert_eq!(checked.day, NaiveDate::from_ymd_opt(2026, 11, 30));
    }

    #[test]
    fn every_way_a_batch_can_lie_is_refused_before_storing() {
        let key = key();
        let counter = enrolled(&key);
        let events = chain(1, 5, GENESIS, "2026-11-30");

        let mut edited = signed_batch(&key, &events, "4401061", "B07");
        edited.events[2].values[2] = Some("scan_done".into());
        assert!(refused_message(check(edited, &counter)).contains("哈希与内容不符"));

        let mut dropped = signed_batch(&key, &events, "4401061", "B07");
        dropped.events.remove(2);
        assert!(refused_message(check(dropped, &counter)).contains("不连续"));

        let other = self::key();
        let foreign = signed_batch(&other, &events, "4401061", "B07");
        assert!(refused_message(check(foreign, &counter)).contains("不是本窗口登记的密钥"));

        let elsewhere = signed_batch(&key, &events, "4401061", "B08");
        assert!(refused_message(check(elsewhere, &counter)).contains("不是登记的"));

        let mut forged = signed_batch(&key, &events, "4401061", "B07");
        let text = forged.checkpoint.as_ref().unwrap().text.clone();
        forged.checkpoint = Some(WireCheckpoint {
            text: text.clone(),
            signature: base64::engine::general_purpose::STANDARD.encode(other.sign(text.as_bytes())),
        });
        assert!(refused_message(check(forged, &counter)).starts_with("signature:"));

        let mut unsigned = signed_batch(&key, &events, "4401061", "B07");
        unsigned.checkpoint = None;
        assert!(refused_message(check(unsigned, &counter)).contains("没有签名检查点"));

        let mut two_days = chain(1, 2, GENESIS, "2026-11-29");
        two_days.extend(chain(3, 2, &two_days[1].hash.clone(), "2026-11-30"));
        assert!(refused_message(check(signed_batch(&key, &two_days, "4401061", "B07"), &counter)).contains("跨了日期"));

        let short = signed_batch(&key, &events[..3], "4401061", "B07");
        let mut cut = signed_batch(&key, &events, "4401061", "B07");
        cut.checkpoint = short.checkpoint;
        assert!(refused_message(check(cut, &counter)).contains("没有止于"));
    }
}
