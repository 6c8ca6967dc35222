//! Signed checkpoints of the audit chain (`shared/docs/audit-format.md` §3): their text, signing
//! them, the daily one, and verifying the whole chain in the database against them.

use crate::audit::chain::{self, CHAINED_COLUMNS, ChainedEvent, GENESIS};
use crate::audit::key::{CounterKey, fingerprint_of_pem, verify_signature};
use crate::cache::Cache;
use crate::clock::{china_midnight, china_tz};
use crate::error::{Error, ErrorCode, Result};
use chrono::{DateTime, Days, FixedOffset, SecondsFormat};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;

const MAGIC: &str = "yueshang-audit-checkpoint/v1";

/// What a checkpoint states: events `first_seq ..= last_seq` of a counter, from `prev_hash` to `head`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub hall: String,
    pub counter: String,
    /// The SM3 fingerprint of the signing public key (the `key:` line).
    pub key: String,
    pub first_seq: i64,
    pub last_seq: i64,
    pub prev_hash: String,
    pub head: String,
    pub signed_at: String,
}

impl Checkpoint {
    /// exactly §3's lines, count = last-first+1, each ending in \n
    pub fn text(&self) -> String {
        format!(
            "{MAGIC}\nhall: {}\ncounter: {}\nkey: {}\nfirst_seq: {}\nlast_seq: {}\ncount: {}\nprev_hash: {}\nhead: {}\nsigned_at: {}\n",
            self.hall,
            self.counter,
            self.key,
            self.first_seq,
            self.last_seq,
            self.last_seq - self.first_seq + 1,
            self.prev_hash,
            self.head,
            self.signed_at
        )
    }

    /// Reads a checkpoint text; ExportUnreadable on a malformed text (anything [`Checkpoint::text`]
    /// would not write back byte for byte, a wrong `count` included).
    pub fn parse(text: &str) -> Result<Checkpoint> {
        let mut lines = text.split_inclusive('\n');
        if lines.next() != Some("yueshang-audit-checkpoint/v1\n") {
            return Err(unreadable(format!("第一行应为 {MAGIC}")));
        }
        let mut line = |name: &str| next_line(&mut lines, name);
        let (hall, counter, key) = (line("hall")?, line("counter")?, line("key")?);
        let first_seq = number("first_seq", &line("first_seq")?)?;
        let last_seq = number("last_seq", &line("last_seq")?)?;
        let count = number("count", &line("count")?)?;
        let (prev_hash, head, signed_at) = (line("prev_hash")?, line("head")?, line("signed_at")?);
        if first_seq < 1 || last_seq < first_seq || count != last_seq - first_seq + 1 {
            return Err(unreadable("first_seq、last_seq 与 count 不一致".to_owned()));
        }
        let checkpoint = Checkpoint { hall, counter, key, first_seq, last_seq, prev_hash, head, signed_at };
        // Whatever text() would not write back byte for byte (extra lines, spaces) is not a checkpoint.
        if checkpoint.text() != text {
            return Err(unreadable("多余的行或空白".to_owned()));
        }
        Ok(checkpoint)
    }
}

fn number(name: &str, value: &str) -> Result<i64> {
    value.parse().map_err(|_| unreadable(format!("{name} 不是整数")))
}

fn next_line<'a>(lines: &mut impl Iterator<Item = &'a str>, name: &str) -> Result<String> {
    let line = lines.next().ok_or_else(|| unreadable(format!("缺少 {name} 行")))?;
    line.strip_suffix('\n')
        .and_then(|l| l.strip_prefix(name))
        .and_then(|l| l.strip_prefix(": "))
        .map(str::to_owned)
        .ok_or_else(|| unreadable(format!("应为 {name} 行")))
}

fn unreadable(what: String) -> Error {
    Error::with_fact(ErrorCode::ExportUnreadable, format!("检查点文本格式不对（{what}）。"))
}

/// A checkpoint as signed: its exact text, the DER SM2 signature over it and the public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    pub text: String,
    pub signature: Vec<u8>,
    pub public_pem: String,
}

/// The chain in the database verified whole: how many events, the last hash, the signed checkpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainStatus {
    /// How many events the database holds (after retention removed the oldest, fewer than the
    /// last `seq`).
    pub count: i64,
    /// The `seq` of the first event held: 1, or after retention removed older events the one after
    /// the signed checkpoint that anchors the rest. `None` when there is no event.
    pub first_seq: Option<i64>,
    /// The hash of the last event (GENESIS when there is none).
    pub head: String,
    /// How many stored checkpoints were verified.
    pub checkpoints: i64,
    /// When the newest checkpoint was signed (its `signed_at`).
    pub last_checkpoint_at: Option<String>,
}

/// The `seq` of the first event that does not verify, from an `AuditTampered` error of
/// [`Cache::verify_chain`] or [`Cache::sign_checkpoint`]: they put it in the detail as `seq=N: …`.
pub fn tampered_seq(err: &Error) -> Option<i64> {
    if err.code != ErrorCode::AuditTampered {
        return None;
    }
    err.detail.as_deref()?.strip_prefix("seq=")?.split(':').next()?.parse().ok()
}

fn tampered(seq: i64, reason: &str) -> Error {
    Error::with_fact(ErrorCode::AuditTampered, format!("第 {seq} 条审计记录校验未通过（{reason}）。"))
        .detail(format!("seq={seq}: {reason}"))
}

/// Signs the previous China day's events once: nothing when that day had none or a checkpoint
/// already covers them (so every start after midnight may call it).
pub fn checkpoint_previous_day(
    cache: &Cache,
    key: &CounterKey,
    hall: &str,
    counter: &str,
    now: DateTime<FixedOffset>,
) -> Result<Option<SignedCheckpoint>> {
    let today = now.with_timezone(&china_tz()).date_naive();
    let yesterday = today.checked_sub_days(Days::new(1)).expect("a date after year 1");
    let Some((first_seq, last_seq)) = cache.seq_range_between(china_midnight(yesterday), china_midnight(today))? else {
        return Ok(None);
    };
    if cache.read(|conn| covered(conn, first_seq, last_seq))? {
        return Ok(None);
    }
    cache.sign_checkpoint(key, hall, counter, first_seq, last_seq, now).map(Some)
}

fn covered(conn: &Connection, first_seq: i64, last_seq: i64) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM audit_checkpoints WHERE first_seq <= ?1 AND last_seq >= ?2 LIMIT 1",
            params![first_seq, last_seq],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The lowest and highest `seq` of the events whose `at` is in `[from, to)`. `at` is compared as a
/// time, not as text, because rows written before migration 4 carry other fractions of a second:
/// a text range one day wider on each side (wider than any UTC offset) narrows the rows on the index.
pub(crate) fn seq_range_between(
    conn: &Connection,
    from: DateTime<FixedOffset>,
    to_exclusive: DateTime<FixedOffset>,
) -> Result<Option<(i64, i64)>> {
    let china = |t: DateTime<FixedOffset>| t.with_timezone(&china_tz()).to_rfc3339_opts(SecondsFormat::Secs, false);
    let mut stmt = conn.prepare("SELECT seq, at FROM audit_events WHERE at >= ?1 AND at < ?2 AND seq IS NOT NULL")?;
    let mut rows =
        stmt.query(params![china(from - chrono::Duration::days(1)), china(to_exclusive + chrono::Duration::days(1))])?;
    let mut range: Option<(i64, i64)> = None;
    while let Some(row) = rows.next()? {
        let (seq, at): (i64, String) = (row.get(0)?, row.get(1)?);
        let Ok(at) = DateTime::parse_from_rfc3339(&at) else { continue };
        if at >= from && at < to_exclusive {
            range = Some(range.map_or((seq, seq), |(lo, hi)| (lo.min(seq), hi.max(seq))));
        }
    }
    Ok(range)
}

/// Walks events `first_seq ..= last_seq` in `seq` order, one row at a time (bounded memory).
pub(crate) fn each_chained(
    conn: &Connection,
    first_seq: i64,
    last_seq: i64,
    each: &mut dyn FnMut(ChainedEvent) -> Result<()>,
) -> Result<()> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {CHAINED_COLUMNS} FROM audit_events WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq, id"
    ))?;
    let mut rows = stmt.query(params![first_seq, last_seq])?;
    while let Some(row) = rows.next()? {
        each(chain::chained_from_row(row)?)?;
    }
    Ok(())
}

/// Checks events `first_seq ..= last_seq` link up (no gap, each hash recomputed, each `prev_hash`
/// the hash before it) and returns `(prev_hash of the first, hash of the last)`.
pub(crate) fn verified_range(conn: &Connection, first_seq: i64, last_seq: i64) -> Result<(String, String)> {
    let mut check = RangeCheck::new(first_seq);
    each_chained(conn, first_seq, last_seq, &mut |event| check.step(&event))?;
    check.finish(last_seq)
}

/// The check of a range of events as they stream by, for whoever already walks them (the export
/// writes each row as it is checked, then signs the range from what the walk computed, instead
/// of reading and hashing the range twice).
pub(crate) struct RangeCheck {
    walk: ChainWalk,
    first_prev: Option<String>,
}

impl RangeCheck {
    pub(crate) fn new(first_seq: i64) -> Self {
        RangeCheck { walk: ChainWalk::starting_at(first_seq, None), first_prev: None }
    }

    /// The next event: AuditTampered (naming its `seq`) when it does not follow the one before.
    pub(crate) fn step(&mut self, event: &ChainedEvent) -> Result<()> {
        self.first_prev.get_or_insert_with(|| event.prev_hash.clone());
        self.walk.step(event)
    }

    /// `(prev_hash of the first, hash of the last)` once the walk reached `last_seq`; a range that
    /// ended early is missing records.
    pub(crate) fn finish(self, last_seq: i64) -> Result<(String, String)> {
        match (self.first_prev, self.walk.expected_seq > last_seq) {
            (Some(prev), true) => Ok((prev, self.walk.prev_hash.unwrap_or_default())),
            _ => Err(tampered(self.walk.expected_seq, "记录缺失")),
        }
    }
}

/// Where a walk along the chain is: the next `seq` it expects and the hash that event must link to
/// (`None` at the start of a range whose previous event is not being walked).
struct ChainWalk {
    expected_seq: i64,
    prev_hash: Option<String>,
}

impl ChainWalk {
    fn starting_at(seq: i64, prev_hash: Option<String>) -> Self {
        ChainWalk { expected_seq: seq, prev_hash }
    }

    fn step(&mut self, event: &ChainedEvent) -> Result<()> {
        let seq = event.field("seq").and_then(|s| s.parse::<i64>().ok());
        match seq {
            Some(s) if s == self.expected_seq => {}
            Some(s) if s > self.expected_seq => return Err(tampered(self.expected_seq, "记录缺失")),
            Some(s) => return Err(tampered(s, "序号重复，有记录被插入")),
            None => return Err(tampered(self.expected_seq, "序号无效")),
        }
        if self.prev_hash.as_ref().is_some_and(|prev| *prev != event.prev_hash) {
            return Err(tampered(self.expected_seq, "与前一条记录的哈希不衔接"));
        }
        if event.computed_hash() != event.hash {
            return Err(tampered(self.expected_seq, "内容与哈希不符，记录被改动"));
        }
        self.prev_hash = Some(event.hash.clone());
        self.expected_seq += 1;
        Ok(())
    }
}

/// Signs events `first_seq ..= last_seq` after checking they link up, and keeps the checkpoint.
pub(crate) fn sign(
    conn: &Connection,
    key: &CounterKey,
    scope: (&str, &str),
    first_seq: i64,
    last_seq: i64,
    signed_at: DateTime<FixedOffset>,
) -> Result<SignedCheckpoint> {
    check_range(first_seq, last_seq)?;
    let (prev_hash, head) = verified_range(conn, first_seq, last_seq)?;
    store(conn, key, scope, (first_seq, last_seq), (prev_hash, head), signed_at)
}

/// A checkpoint covers at least one event, numbered from 1.
pub(crate) fn check_range(first_seq: i64, last_seq: i64) -> Result<()> {
    if first_seq < 1 || last_seq < first_seq {
        return Err(Error::with_fact(ErrorCode::RecordInvalid, format!("检查点范围 {first_seq}–{last_seq} 无效。")));
    }
    Ok(())
}

/// Signs and keeps the checkpoint of a range the caller has just verified (with [`RangeCheck`] or
/// [`verified_range`]), from the `(prev_hash, head)` that walk computed.
pub(crate) fn store(
    conn: &Connection,
    key: &CounterKey,
    scope: (&str, &str),
    (first_seq, last_seq): (i64, i64),
    (prev_hash, head): (String, String),
    signed_at: DateTime<FixedOffset>,
) -> Result<SignedCheckpoint> {
    check_range(first_seq, last_seq)?;
    let checkpoint = Checkpoint {
        hall: scope.0.to_owned(),
        counter: scope.1.to_owned(),
        key: key.fingerprint(),
        first_seq,
        last_seq,
        prev_hash,
        head,
        signed_at: signed_at.with_timezone(&china_tz()).to_rfc3339_opts(SecondsFormat::Secs, false),
    };
    let text = checkpoint.text();
    let signature = key.sign(text.as_bytes());
    let public_pem = key.public_pem();
    conn.execute(
        "INSERT INTO audit_checkpoints (first_seq, last_seq, text, signature, public_pem, signed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![first_seq, last_seq, text, signature, public_pem, checkpoint.signed_at],
    )?;
    Ok(SignedCheckpoint { checkpoint, text, signature, public_pem })
}

/// What a stored checkpoint requires of the chain at one `seq`.
enum Expectation {
    PrevHash(String),
    Hash(String),
    /// The first event held, when retention removed those before it: its `prev_hash` is the
    /// `head` of a signed checkpoint ending just before it.
    Anchor(String),
}

/// Verifies the whole chain and every stored checkpoint; `AuditTampered` names the lowest `seq`
/// that does not verify (see [`tampered_seq`]).
pub(crate) fn verify(conn: &Connection) -> Result<ChainStatus> {
    // One read snapshot for every query below: a purge by another process (the app at start,
    // beside the CLI) between reading the first `seq` and walking from it is not a missing event.
    let snapshot = conn.unchecked_transaction()?;
    let conn: &Connection = &snapshot;
    let mut first_problem: Option<Error> = None;
    let mut note = |err: Error| {
        if tampered_seq(&err) < first_problem.as_ref().and_then(tampered_seq).or(Some(i64::MAX)) {
            first_problem = Some(err);
        }
    };
    if let Some(err) = unchained_row(conn)? {
        note(err);
    }
    let Stored { mut expectations, heads, count: checkpoints, newest: last_checkpoint_at } =
        stored_checkpoints(conn, &mut note)?;
    let first_seq: Option<i64> = conn.query_row("SELECT MIN(seq) FROM audit_events", [], |r| r.get(0))?;
    let start = first_seq.unwrap_or(1).max(1);
    let mut walk = if start == 1 {
        ChainWalk::starting_at(1, Some(GENESIS.to_owned()))
    } else {
        // Events before `start` were removed: only a verified checkpoint ending at `start - 1`
        // vouches for what was there, and the first event held must link to its head.
        match heads.get(&(start - 1)) {
            Some(anchors) => {
                expectations.entry(start).or_default().extend(anchors.iter().cloned().map(Expectation::Anchor))
            }
            None => {
                // Nothing anchors the rest: the missing events start after the last verified
                // checkpoint below them (1 when there is none).
                let missing = heads.range(..start).next_back().map_or(1, |(last, _)| last + 1);
                note(tampered(missing, "记录缺失，且没有已签名检查点覆盖被移除的记录"));
            }
        }
        ChainWalk::starting_at(start, None)
    };
    // From the lowest row whatever it is numbered, so that one numbered below `start` is reported.
    let walked = each_chained(conn, i64::MIN, i64::MAX, &mut |event| {
        walk.step(&event)?;
        for expectation in expectations.get(&(walk.expected_seq - 1)).into_iter().flatten() {
            let (stated, actual, what) = match expectation {
                Expectation::PrevHash(h) => (h, &event.prev_hash, "与已签名检查点的起点不符"),
                Expectation::Hash(h) => (h, &event.hash, "与已签名检查点的终点不符"),
                Expectation::Anchor(h) => (h, &event.prev_hash, "与此前记录的已签名检查点不衔接"),
            };
            if stated != actual {
                return Err(tampered(walk.expected_seq - 1, what));
            }
        }
        Ok(())
    });
    match walked {
        Err(err) if err.code == ErrorCode::AuditTampered => note(err),
        Err(err) => return Err(err),
        Ok(()) => {
            if expectations.range(walk.expected_seq..).next().is_some() {
                note(tampered(walk.expected_seq, "已签名检查点覆盖的记录缺失"));
            }
        }
    }
    match first_problem {
        Some(err) => Err(err),
        None => Ok(ChainStatus {
            count: walk.expected_seq - start,
            first_seq: (walk.expected_seq > start).then_some(start),
            head: walk.prev_hash.unwrap_or_else(|| GENESIS.to_owned()),
            checkpoints,
            last_checkpoint_at,
        }),
    }
}

/// A row written without its link (only possible with the triggers dropped): named by the `seq`
/// its position in the table would have.
fn unchained_row(conn: &Connection) -> Result<Option<Error>> {
    let seq: Option<i64> = conn
        .query_row(
            "SELECT (SELECT COALESCE(MAX(b.seq), 0) + 1 FROM audit_events b WHERE b.id < a.id AND b.seq IS NOT NULL)
             FROM audit_events a WHERE a.seq IS NULL OR a.prev_hash IS NULL OR a.hash IS NULL ORDER BY a.id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(seq.map(|seq| tampered(seq, "有未入链的记录被插入")))
}

type Expectations = BTreeMap<i64, Vec<Expectation>>;

/// The stored checkpoints as [`verify`] needs them.
struct Stored {
    /// What each verified checkpoint requires of the chain, by `seq`.
    expectations: Expectations,
    /// The `head` of every verified checkpoint, by its `last_seq`: what may anchor a chain whose
    /// older events retention removed.
    heads: BTreeMap<i64, Vec<String>>,
    count: i64,
    /// The newest `signed_at`.
    newest: Option<String>,
}

/// Reads every stored checkpoint, checks its own text, key and signature (problems go to `note`),
/// and returns what each requires of the chain, their number and the newest `signed_at`.
fn stored_checkpoints(conn: &Connection, note: &mut dyn FnMut(Error)) -> Result<Stored> {
    let mut stmt =
        conn.prepare("SELECT first_seq, last_seq, text, signature, public_pem FROM audit_checkpoints ORDER BY id")?;
    let mut rows = stmt.query([])?;
    let mut expectations = Expectations::new();
    let mut heads = BTreeMap::<i64, Vec<String>>::new();
    let (mut count, mut newest) = (0i64, None::<(DateTime<FixedOffset>, String)>);
    while let Some(row) = rows.next()? {
        count += 1;
        let (first_seq, last_seq): (i64, i64) = (row.get(0)?, row.get(1)?);
        let (text, signature, public_pem): (String, Vec<u8>, String) = (row.get(2)?, row.get(3)?, row.get(4)?);
        let checkpoint = match Checkpoint::parse(&text) {
            Ok(c) if c.first_seq == first_seq && c.last_seq == last_seq => c,
            _ => {
                note(tampered(first_seq.max(1), "已签名检查点的内容被改动"));
                continue;
            }
        };
        if fingerprint_of_pem(&public_pem).as_deref() != Some(checkpoint.key.as_str())
            || !verify_signature(&public_pem, text.as_bytes(), &signature)
        {
            note(tampered(first_seq, "已签名检查点的签名不符"));
            continue;
        }
        if let Ok(at) = DateTime::parse_from_rfc3339(&checkpoint.signed_at)
            && newest.as_ref().is_none_or(|(t, _)| at >= *t)
        {
            newest = Some((at, checkpoint.signed_at.clone()));
        }
        heads.entry(last_seq).or_default().push(checkpoint.head.clone());
        expectations.entry(first_seq).or_default().push(Expectation::PrevHash(checkpoint.prev_hash));
        expectations.entry(last_seq).or_default().push(Expectation::Hash(checkpoint.head));
    }
    Ok(Stored { expectations, heads, count, newest: newest.map(|(_, text)| text) })
}

/// A stored checkpoint ending at `last_seq` whose text, key and signature verify: the anchor that
/// lets retention remove the events up to it. `None` when there is none.
pub(crate) fn verified_checkpoint_ending_at(conn: &Connection, last_seq: i64) -> Result<Option<Checkpoint>> {
    let mut stmt = conn.prepare(
        "SELECT first_seq, text, signature, public_pem FROM audit_checkpoints WHERE last_seq = ?1 ORDER BY id DESC",
    )?;
    let mut rows = stmt.query(params![last_seq])?;
    while let Some(row) = rows.next()? {
        let first_seq: i64 = row.get(0)?;
        let (text, signature, public_pem): (String, Vec<u8>, String) = (row.get(1)?, row.get(2)?, row.get(3)?);
        let Ok(checkpoint) = Checkpoint::parse(&text) else { continue };
        if checkpoint.first_seq == first_seq
            && checkpoint.last_seq == last_seq
            && fingerprint_of_pem(&public_pem).as_deref() == Some(checkpoint.key.as_str())
            && verify_signature(&public_pem, text.as_bytes(), &signature)
        {
            return Ok(Some(checkpoint));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        Checkpoint {
            hall: "4401061".into(),
            counter: "B07".into(),
            key: "ab".repeat(32),
            first_seq: 3,
            last_seq: 9,
            prev_hash: "cd".repeat(32),
            head: "ef".repeat(32),
            signed_at: "2026-11-30T00:05:00+08:00".into(),
        }
    }

    #[test]
    fn the_text_has_exactly_the_formats_lines() {
        let expected = format!(
            "yueshang-audit-checkpoint/v1\nhall: 4401061\ncounter: B07\nkey: {}\nfirst_seq: 3\nlast_seq: 9\ncount: 7\nprev_hash: {}\nhead: {}\nsigned_at: 2026-11-30T00:05:00+08:00\n",
            "ab".repeat(32),
            "cd".repeat(32),
            "ef".repeat(32)
        );
        assert_eq!(sample().text(), expected);
        assert_eq!(Checkpoint::parse(&expected).unwrap(), sample());
    }

    #[test]
    fn a_malformed_text_is_unreadable() {
        let text = sample().text();
        for bad in [
            String::new(),
            text.replace("count: 7", "count: 8"),
            text.replace("hall: ", "hall:"),
            text.trim_end().to_owned(),
            format!("{text}extra\n"),
            text.replace("first_seq: 3", "first_seq: x"),
            text.replace("yueshang-audit-checkpoint/v1", "yueshang-audit-checkpoint/v2"),
            text.replace('\n', "\r\n"),
        ] {
            assert_eq!(Checkpoint::parse(&bad).unwrap_err().code, ErrorCode::ExportUnreadable, "{bad:?}");
        }
    }

    #[test]
    fn the_tampered_seq_is_read_back_from_the_error() {
        assert_eq!(tampered_seq(&tampered(42, "记录缺失")), Some(42));
        assert_eq!(tampered_seq(&Error::new(ErrorCode::StorageFailed).detail("seq=1: x")), None);
    }
}
