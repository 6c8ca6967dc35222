//! The hall protocol (counter ↔ hall service): the JSON of a batch, its acknowledgement and a
//! refusal, and the bytes a counter signs for every request. Both sides use these types.

use crate::audit::chain::{ChainedEvent, FIELDS};
use serde::{Deserialize, Serialize};
use sm3::{Digest, Sm3};

/// The protocol's name, the first line of every signed request.
pub const PROTOCOL: &str = "yueshang-hall/v1";
/// The SM3 fingerprint of the counter key that signs the request (the `key:` of its checkpoints).
pub const HEADER_KEY: &str = "x-yueshang-key";
/// The DER SM2 signature over [`request_message`], base64.
pub const HEADER_SIGNATURE: &str = "x-yueshang-signature";
/// When the request was signed (RFC 3339); the hall refuses a time far from its own.
pub const HEADER_TIME: &str = "x-yueshang-time";
/// How far a request's time may be from the hall's clock.
pub const MAX_CLOCK_DIFFERENCE_SECONDS: i64 = 15 * 60;

/// A batch holds at most this many events …
pub const MAX_BATCH_EVENTS: usize = 1000;
/// … and at most about this many bytes of JSON.
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;
/// The hall refuses bodies larger than this (a batch near the limit, plus its records).
pub const MAX_BODY_BYTES: usize = 2 * MAX_BATCH_BYTES;
/// Handling records a batch carries at most.
pub const MAX_BATCH_RECORDS: usize = 200;

/// What a counter signs: the protocol, method, path with query, time and the body's SM3, one a
/// line. Signing the body's hash rather than the body keeps the text short and fixed in shape.
pub fn request_message(method: &str, path_and_query: &str, time: &str, body: &[u8]) -> Vec<u8> {
    format!("{PROTOCOL}\n{method}\n{path_and_query}\n{time}\n{}\n", hex::encode(Sm3::digest(body))).into_bytes()
}

/// One chained event as shipped: the 14 recorded fields in the order of audit-format.md §1
/// (`null` = absent) and its two hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireEvent {
    pub values: Vec<Option<String>>,
    pub prev_hash: String,
    pub hash: String,
}

impl WireEvent {
    pub fn from_chained(event: &ChainedEvent) -> Self {
        WireEvent { values: event.values.clone(), prev_hash: event.prev_hash.clone(), hash: event.hash.clone() }
    }

    /// The event as the chain code reads it; `None` when it does not carry exactly the v1 fields.
    pub fn into_chained(self) -> Option<ChainedEvent> {
        (self.values.len() == FIELDS.len()).then_some(ChainedEvent {
            values: self.values,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

/// A checkpoint (audit-format.md §3) and the counter's DER signature, base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireCheckpoint {
    pub text: String,
    pub signature: String,
}

/// A handling record (申办) as the hall keeps it: what was decided, by whom, and whether the
/// gateway took it. Never a license's content, a face field or an auth code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireRecord {
    pub biz_num: String,
    pub auth_id: String,
    pub uscc: String,
    pub service_item_code: String,
    pub service_item_name: String,
    pub status: String,
    pub reason: Option<String>,
    pub used_license_codes: Vec<String>,
    pub operator_account: String,
    pub submitted_at: String,
    /// queued, sent or refused (the outbox's state).
    pub state: String,
    pub record_id: Option<String>,
    pub sent_at: Option<String>,
}

/// What a counter sends: the next events of its chain (gapless, in `seq` order, one China day),
/// the counter's checkpoint over the day's events up to the last of them, and records that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub events: Vec<WireEvent>,
    /// Required when `events` is not empty.
    pub checkpoint: Option<WireCheckpoint>,
    #[serde(default)]
    pub records: Vec<WireRecord>,
    /// This counter's own hash at the seq the hall acknowledged last: the hall compares it with
    /// what it stored, so a chain rewritten behind the hall's back is caught even with no new event.
    #[serde(default)]
    pub anchor: Option<Anchor>,
}

/// An event of the chain named by its seq and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
}

/// Where the hall stands on a counter's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// The highest `seq` stored with every event before it (0: none).
    pub acked_seq: i64,
    /// The hash of that event (64 zeros before the first).
    pub head: String,
    /// The hall's witness key (SubjectPublicKeyInfo PEM).
    pub hall_public_pem: String,
}

/// The hall's countersignature of a counter checkpoint: an SM2 signature with the hall's own key
/// over the same checkpoint text (so OpenSSL verifies it exactly as the counter's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witness {
    pub first_seq: i64,
    pub last_seq: i64,
    pub signature: String,
    pub hall_public_pem: String,
}

/// A batch taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub acked_seq: i64,
    /// How many of the batch's events were new to the hall.
    pub stored: u64,
    pub records: u64,
    pub witness: Option<Witness>,
}

/// A refusal: the core's error code, a message for people, and where it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked_seq: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalEnvelope {
    pub error: Refusal,
}

/// A count with what it counts (an item code and its name, an account, a kind and its label).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub key: String,
    pub label: String,
    pub count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourCount {
    pub hour: u32,
    pub events: u64,
    pub scans: u64,
    pub failures: u64,
}

/// One counter's part of the hall's day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterDay {
    pub hall: String,
    pub counter: String,
    /// That day's events the hall holds.
    pub events: u64,
    pub acked_seq: i64,
    /// `at` of that day's last event held.
    pub last_at: Option<String>,
    /// Holes in that day's seq (`lead(seq)` more than one ahead): none when the chain is whole.
    pub gaps: u64,
    /// When the counter last reached the hall (RFC 3339).
    pub last_contact_at: Option<String>,
}

/// Something the hall refused and keeps telling the supervisor about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alarm {
    /// fork, bad_signature or unenrolled.
    pub kind: String,
    pub hall: Option<String>,
    pub counter: Option<String>,
    pub seq: Option<i64>,
    pub key_fingerprint: Option<String>,
    pub first_at: String,
    pub last_at: String,
    pub attempts: i64,
    /// For people, in Chinese.
    pub message: String,
}

/// The hall's day at a glance: the same figures as one counter's day (audit::day::DaySummary),
/// over every counter, plus each counter's part and the alarms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HallDay {
    pub date: String,
    pub events: u64,
    pub customers: u64,
    pub scans: u64,
    pub scans_ok: u64,
    pub licenses_fetched: u64,
    pub licenses_failed: u64,
    pub copies_printed: u64,
    pub records_submitted: u64,
    pub median_scan_ms: Option<u64>,
    pub slowest_scan_ms: Option<u64>,
    pub slowest_biz_num: Option<String>,
    pub failures_by_reason: Vec<Count>,
    pub by_hour: Vec<HourCount>,
    pub by_item: Vec<Count>,
    pub by_clerk: Vec<Count>,
    pub by_kind: Vec<Count>,
    pub counters: Vec<CounterDay>,
    pub alarms: Vec<Alarm>,
    /// Handling records the hall holds for that day (by submitted_at).
    pub records: u64,
}

/// One event of the hall's event list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HallEvent {
    pub hall: String,
    pub counter: String,
    pub seq: i64,
    pub at: String,
    pub kind: String,
    pub outcome: String,
    pub error_code: Option<String>,
    pub operator_account: Option<String>,
    pub service_item_code: Option<String>,
    pub biz_num: Option<String>,
    pub uscc: Option<String>,
    pub license_code: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HallEventPage {
    pub total: u64,
    pub offset: u64,
    pub rows: Vec<HallEvent>,
}

/// One file of an export, its bytes base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportFile {
    pub name: String,
    pub content: String,
}

/// A counter's export of one day (audit-format.md §4 plus the hall's countersignature).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSet {
    pub hall: String,
    pub counter: String,
    pub stem: String,
    pub events: u64,
    pub files: Vec<ExportFile>,
}

/// A refusal's code when the batch does not start where the hall's chain ends (the counter asks
/// again where that is and goes on from there).
pub const CHAIN_GAP: &str = "CHAIN_GAP";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_message_names_everything_and_hashes_the_body() {
        let message = request_message("POST", "/v1/batches", "2026-11-30T10:00:00+08:00", b"{}");
        let text = String::from_utf8(message).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[..4], ["yueshang-hall/v1", "POST", "/v1/batches", "2026-11-30T10:00:00+08:00"]);
        assert_eq!(lines[4], hex::encode(Sm3::digest(b"{}")));
        assert_ne!(
            request_message("POST", "/v1/batches", "t", b"{ }"),
            request_message("POST", "/v1/batches", "t", b"{}")
        );
    }

    #[test]
    fn an_event_without_the_fourteen_fields_is_not_an_event() {
        let event = WireEvent { values: vec![Some("1".into())], prev_hash: String::new(), hash: String::new() };
        assert!(event.into_chained().is_none());
        let full = WireEvent { values: vec![None; FIELDS.len()], prev_hash: "a".into(), hash: "b".into() };
        assert_eq!(full.clone().into_chained().map(|e| WireEvent::from_chained(&e)), Some(full));
    }
}
