//! Shipping to the hall service: the audit table is the outbox. The counter sends the events after
//! the hall's acknowledged `seq`, in order and in batches, each with a checkpoint it signs over the
//! day's events so far, plus the handling records the hall has not seen in their current state;
//! it keeps the hall's countersignatures (witnesses). Offline for days, it catches up in order.

pub mod client;
pub mod reads;
pub mod wire;

use crate::audit::chain::{CHAINED_COLUMNS, ChainedEvent, GENESIS, chained_from_row};
use crate::audit::checkpoint::{self, SignedCheckpoint};
use crate::audit::key::{CounterKey, fingerprint_of_pem, verify_signature};
use crate::cache::Cache;
use crate::error::{Error, ErrorCode, Result};
use crate::wire::yst::OperatorRef;
use base64::Engine as _;
use chrono::{DateTime, FixedOffset};
pub use client::HallClient;
use rusqlite::{Connection, OptionalExtension, params};
use std::time::Duration;
use wire::{Ack, Batch, WireCheckpoint, WireEvent, WireRecord};

/// Who the checkpoints name: the counter's hall code and counter (as enrolled at the hall).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub hall: String,
    pub counter: String,
}

/// What one round of shipping did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShipReport {
    /// Events the hall stored that it did not have.
    pub shipped: u64,
    /// The hall's acknowledged seq at the end.
    pub acked_seq: i64,
    /// Handling records the hall took (new or changed).
    pub records: u64,
    pub batches: u64,
    /// Events this counter holds after `acked_seq` (0 when caught up).
    pub behind: i64,
}

/// How often a round asks again after the hall said the batch does not start where its chain
/// ends (another process of this counter shipped meanwhile): then it gives up until the next round.
const GAP_RETRIES: u32 = 3;

/// One round: asks the hall where its copy of this chain ends, then sends everything after it,
/// batch by batch, until caught up. A refusal (fork, unknown key) stops the round with its error.
pub async fn ship(
    cache: &Cache,
    key: &CounterKey,
    client: &HallClient,
    scope: &Scope,
    now: DateTime<FixedOffset>,
) -> Result<ShipReport> {
    let head = client.head(key, now).await?;
    pin_hall_key(cache, &head.hall_public_pem, head.acked_seq, now)?;
    let mut report = ShipReport { acked_seq: head.acked_seq, ..ShipReport::default() };
    let mut gaps = 0;
    loop {
        let prepared = next_batch(cache, key, scope, report.acked_seq, now)?;
        let empty = prepared.batch.events.is_empty() && prepared.batch.records.is_empty();
        // A round with nothing new still sends one empty batch: it carries the anchor (this
        // counter's hash at the acknowledged seq), so a chain rewritten quietly is caught now.
        if empty && report.batches > 0 {
            break;
        }
        match client.send(key, &prepared.batch, now).await {
            Ok(ack) => {
                accept(cache, &prepared, &ack, &head.hall_public_pem, now)?;
                report.shipped += ack.stored;
                report.records += ack.records;
                report.acked_seq = ack.acked_seq;
                report.batches += 1;
            }
            Err(client::SendError::Gap { acked_seq }) if gaps < GAP_RETRIES => {
                gaps += 1;
                report.acked_seq = acked_seq;
            }
            Err(client::SendError::Gap { acked_seq }) => {
                return Err(Error::with_fact(
                    ErrorCode::HallRefused,
                    format!("大厅服务多次回复记录不衔接（大厅已确认到第 {acked_seq} 条）。"),
                ));
            }
            Err(client::SendError::Refused(err)) => return Err(err),
        }
        if empty {
            break;
        }
    }
    report.behind = cache.read(|conn| behind(conn, report.acked_seq))?;
    Ok(report)
}

/// A batch ready to send, with what must be remembered once the hall took it.
struct Prepared {
    batch: Batch,
    signed: Option<SignedCheckpoint>,
    /// `(biz_num, state)` of the records in the batch.
    records: RecordStates,
}

/// The events after `acked_seq` (at most [`wire::MAX_BATCH_EVENTS`], about
/// [`wire::MAX_BATCH_BYTES`], one China day), signed, with the records the hall has not seen.
fn next_batch(
    cache: &Cache,
    key: &CounterKey,
    scope: &Scope,
    acked_seq: i64,
    now: DateTime<FixedOffset>,
) -> Result<Prepared> {
    cache.transaction(|tx| {
        let events = unshipped_events(tx, acked_seq)?;
        let signed = match (events.first(), events.last()) {
            (Some(first), Some(last)) => {
                let start = day_run_start(tx, first)?;
                let scope = (scope.hall.as_str(), scope.counter.as_str());
                Some(checkpoint::sign(tx, key, scope, start, last.seq(), now)?)
            }
            _ => None,
        };
        let (records, states) = unshipped_records(tx)?;
        let anchor = anchor(tx, acked_seq)?;
        let batch = Batch {
            events: events.iter().map(WireEvent::from_chained).collect(),
            checkpoint: signed.as_ref().map(|s| WireCheckpoint {
                text: s.text.clone(),
                signature: base64::engine::general_purpose::STANDARD.encode(&s.signature),
            }),
            records,
            anchor,
        };
        Ok(Prepared { batch, signed, records: states })
    })
}

/// The events after `acked_seq` that fit one batch: gapless from the first held, one China day
/// (a checkpoint per day is what an export of that day verifies against), bounded in count and size.
fn unshipped_events(conn: &Connection, acked_seq: i64) -> Result<Vec<ChainedEvent>> {
    let first_held: Option<i64> = conn.query_row("SELECT MIN(seq) FROM audit_events", [], |r| r.get(0))?;
    let Some(first_held) = first_held else { return Ok(Vec::new()) };
    let from = (acked_seq + 1).max(first_held);
    let mut stmt = conn.prepare(&format!(
        "SELECT {CHAINED_COLUMNS} FROM audit_events WHERE seq >= ?1 ORDER BY seq LIMIT {}",
        wire::MAX_BATCH_EVENTS
    ))?;
    let mut rows = stmt.query([from])?;
    let mut events: Vec<ChainedEvent> = Vec::new();
    let mut bytes = 0usize;
    while let Some(row) = rows.next()? {
        let event = chained_from_row(row)?;
        // About what its JSON takes: the values, their quotes and commas, the two hashes.
        let size = event.values.iter().flatten().map(|v| v.len() + 8).sum::<usize>() + 160;
        let other_day = events.first().is_some_and(|first| china_day(first) != china_day(&event));
        if other_day || (bytes + size > wire::MAX_BATCH_BYTES && !events.is_empty()) {
            break;
        }
        bytes += size;
        events.push(event);
    }
    Ok(events)
}

/// The China date of an event: the date part of its `at` (RFC 3339 in China time).
pub fn china_day(event: &ChainedEvent) -> &str {
    event.field("at").and_then(|at| at.get(..10)).unwrap_or("")
}

/// The `seq` where the run of events of `first`'s China day begins (the events just before it in
/// `seq` order that share its date): the checkpoint of a batch covers the day so far.
fn day_run_start(conn: &Connection, first: &ChainedEvent) -> Result<i64> {
    let seq = first.seq();
    let other_day: Option<i64> = conn
        .query_row(
            "SELECT seq FROM audit_events WHERE seq < ?1 AND substr(at, 1, 10) <> ?2 ORDER BY seq DESC LIMIT 1",
            params![seq, china_day(first)],
            |r| r.get(0),
        )
        .optional()?;
    let first_held: i64 = conn.query_row("SELECT MIN(seq) FROM audit_events", [], |r| r.get(0))?;
    Ok(other_day.map_or(first_held, |s| s + 1))
}

/// This counter's own hash at the seq the hall acknowledged (`None` before the first).
fn anchor(conn: &Connection, acked_seq: i64) -> Result<Option<wire::Anchor>> {
    if acked_seq < 1 {
        return Ok(None);
    }
    let hash: Option<String> =
        conn.query_row("SELECT hash FROM audit_events WHERE seq = ?1", [acked_seq], |r| r.get(0)).optional()?;
    // Retention may have removed it: then the hall's check of the next batch's link is the anchor.
    Ok(hash.map(|hash| wire::Anchor { seq: acked_seq, hash }))
}

/// `(biz_num, outbox state)` of records sent to the hall.
type RecordStates = Vec<(String, String)>;

/// Handling records whose current state the hall has not received, oldest first.
fn unshipped_records(conn: &Connection) -> Result<(Vec<WireRecord>, RecordStates)> {
    let mut stmt = conn.prepare(
        "SELECT o.biz_num, o.auth_id, o.uscc, o.service_item_code, o.service_item_name, o.status, o.reason,
                o.used_license_codes, o.operator_json, o.submitted_at, o.state, o.record_id, o.sent_at
         FROM outbox o LEFT JOIN hall_records_shipped s ON s.biz_num = o.biz_num
         WHERE s.state IS NULL OR s.state <> o.state
         ORDER BY o.submitted_at LIMIT ?1",
    )?;
    let rows = stmt.query_map([wire::MAX_BATCH_RECORDS as i64], |r| {
        let codes: String = r.get(7)?;
        let operator: String = r.get(8)?;
        Ok(WireRecord {
            biz_num: r.get(0)?,
            auth_id: r.get(1)?,
            uscc: r.get(2)?,
            service_item_code: r.get(3)?,
            service_item_name: r.get(4)?,
            status: r.get(5)?,
            reason: r.get(6)?,
            used_license_codes: serde_json::from_str(&codes).unwrap_or_default(),
            operator_account: serde_json::from_str::<OperatorRef>(&operator).map(|o| o.account).unwrap_or_default(),
            submitted_at: r.get(9)?,
            state: r.get(10)?,
            record_id: r.get(11)?,
            sent_at: r.get(12)?,
        })
    })?;
    let records = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    let states = records.iter().map(|r| (r.biz_num.clone(), r.state.clone())).collect();
    Ok((records, states))
}

/// Remembers what the hall took: its acknowledged seq, the witness (verified with the pinned key
/// first: a countersignature that does not verify is not kept) and the records' states.
fn accept(cache: &Cache, prepared: &Prepared, ack: &Ack, hall_pem: &str, now: DateTime<FixedOffset>) -> Result<()> {
    let witness = match (&ack.witness, &prepared.signed) {
        (Some(witness), Some(signed)) => {
            let signature = base64::engine::general_purpose::STANDARD
                .decode(&witness.signature)
                .map_err(|e| refused("大厅的见证签名不是 base64", e))?;
            if witness.hall_public_pem != hall_pem || !verify_signature(hall_pem, signed.text.as_bytes(), &signature) {
                return Err(Error::with_fact(ErrorCode::HallRefused, "大厅服务的见证签名无法验证。"));
            }
            Some((signed, signature))
        }
        _ => None,
    };
    let at = crate::cache::audit_time(now);
    cache.transaction(|tx| {
        tx.execute("UPDATE hall_shipping SET acked_seq = ?1, acked_at = ?2", params![ack.acked_seq, at])?;
        if let Some((signed, signature)) = &witness {
            tx.execute(
                "INSERT OR REPLACE INTO hall_witnesses
                     (first_seq, last_seq, checkpoint_text, hall_signature, hall_public_pem, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![signed.checkpoint.first_seq, signed.checkpoint.last_seq, signed.text, signature, hall_pem, at],
            )?;
        }
        for (biz_num, state) in &prepared.records {
            tx.execute(
                "INSERT INTO hall_records_shipped (biz_num, state) VALUES (?1, ?2)
                 ON CONFLICT (biz_num) DO UPDATE SET state = excluded.state",
                params![biz_num, state],
            )?;
        }
        Ok(())
    })
}

/// The hall's witness key is pinned at first contact; another key later is refused.
fn pin_hall_key(cache: &Cache, hall_pem: &str, acked_seq: i64, now: DateTime<FixedOffset>) -> Result<()> {
    let fingerprint = fingerprint_of_pem(hall_pem)
        .ok_or_else(|| Error::with_fact(ErrorCode::HallRefused, "大厅服务给出的见证公钥不是 SM2 公钥。"))?;
    cache.transaction(|tx| {
        let pinned: Option<String> =
            tx.query_row("SELECT hall_key FROM hall_shipping WHERE id = 1", [], |r| r.get(0)).optional()?;
        match pinned {
            Some(pinned) if pinned == fingerprint => Ok(()),
            Some(pinned) => Err(Error::with_fact(
                ErrorCode::HallRefused,
                format!(
                    "大厅服务的见证密钥（{}…）与本窗口首次连接时的（{}…）不同：可能连到了别的服务器。",
                    &fingerprint[..12],
                    pinned.get(..12).unwrap_or(&pinned)
                ),
            )),
            None => {
                tx.execute(
                    "INSERT INTO hall_shipping (id, acked_seq, acked_at, hall_key) VALUES (1, ?1, ?2, ?3)",
                    params![acked_seq, crate::cache::audit_time(now), fingerprint],
                )?;
                Ok(())
            }
        }
    })
}

/// Events held after `acked_seq`.
fn behind(conn: &Connection, acked_seq: i64) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM audit_events WHERE seq > ?1", [acked_seq], |r| r.get(0))?)
}

/// Where shipping stands on this counter, from its own database (no network).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipStatus {
    pub acked_seq: i64,
    pub acked_at: Option<String>,
    pub behind: i64,
    pub witnesses: i64,
}

pub fn status(cache: &Cache) -> Result<ShipStatus> {
    cache.read(|conn| {
        let (acked_seq, acked_at) = conn
            .query_row("SELECT acked_seq, acked_at FROM hall_shipping WHERE id = 1", [], |r| {
                Ok((r.get::<_, i64>(0)?, Some(r.get::<_, String>(1)?)))
            })
            .optional()?
            .unwrap_or((0, None));
        let witnesses = conn.query_row("SELECT COUNT(*) FROM hall_witnesses", [], |r| r.get(0))?;
        Ok(ShipStatus { acked_seq, acked_at, behind: behind(conn, acked_seq)?, witnesses })
    })
}

/// The wait before the next round after `failures` failed ones in a row: 5 s doubling to 5
/// minutes, spread by `jitter` in `[0, 1)` over its upper half so forty counters do not return
/// at the same instant after the hall comes back.
pub fn retry_delay(failures: u32, jitter: f64) -> Duration {
    const BASE: Duration = Duration::from_secs(5);
    const CAP: Duration = Duration::from_secs(5 * 60);
    let full = BASE.saturating_mul(1u32 << failures.saturating_sub(1).min(16)).min(CAP);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

fn refused(what: &str, e: impl std::fmt::Display) -> Error {
    Error::with_fact(ErrorCode::HallRefused, format!("{what}。")).detail(e.to_string())
}

/// The hash every chain starts from, re-exported for the hall's checks.
pub const CHAIN_GENESIS: &str = GENESIS;

#[cfg(test)]
mod tests;
