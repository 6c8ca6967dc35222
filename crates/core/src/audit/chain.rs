//! The audit hash chain of `shared/docs/audit-format.md` §1–§2: an event's canonical bytes (RFC 8785)
//! and the SM3 link that ties each event to the one before it.

use rusqlite::{Connection, OptionalExtension};
use sm3::{Digest, Sm3};

/// The v1 recorded fields, in the export's column order.
pub const FIELDS: [&str; 14] = [
    "seq",
    "at",
    "kind",
    "outcome",
    "error_code",
    "operator_account",
    "hall_code",
    "counter",
    "service_item_code",
    "biz_num",
    "uscc",
    "auth_id",
    "license_code",
    "detail",
];

/// The `prev_hash` of the first event of a counter's chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The domain tag before every link, so a chain hash can never be mistaken for any other SM3 of ours.
const LINK_TAG: &[u8] = b"YSAUDIT1";

/// RFC 8785 (JCS) bytes of the present fields (None or empty = absent), keys sorted by code point.
pub fn canonical(fields: &[(&str, Option<&str>)]) -> Vec<u8> {
    let mut present: Vec<(&str, &str)> =
        fields.iter().filter_map(|&(name, value)| value.filter(|v| !v.is_empty()).map(|v| (name, v))).collect();
    // Byte order of UTF-8 is code point order; v1 names are ASCII, where it is also JCS's UTF-16 order.
    present.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = Vec::with_capacity(64 + present.iter().map(|(k, v)| k.len() + v.len() + 6).sum::<usize>());
    write_object(&mut out, present.into_iter());
    out
}

/// `{"name":"value",…}` of fields already in code point order of their names.
fn write_object<'a>(out: &mut Vec<u8>, sorted: impl Iterator<Item = (&'a str, &'a str)>) {
    out.push(b'{');
    for (i, (name, value)) in sorted.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_json_string(out, name);
        out.push(b':');
        push_json_string(out, value);
    }
    out.push(b'}');
}

/// A JSON string as JCS writes it: only `"`, `\` and control characters are escaped, the rest raw.
/// Scanned as bytes and copied in runs (every chain hash and every export pays this per field):
/// the bytes it escapes are ASCII, which never occur inside a multi-byte UTF-8 character.
fn push_json_string(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    out.push(b'"');
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1f => &[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]],
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        out.extend_from_slice(short);
        run = i + 1;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// lowercase hex SM3("YSAUDIT1" ‖ bytes_from_hex(prev_hash) ‖ canonical)
///
/// A `prev_hash` that is not hex (only a tampered row has one) is hashed as its text: the result is
/// then simply a hash no honest chain produces, and the verifier reports that row.
pub fn link(prev_hash: &str, canonical: &[u8]) -> String {
    let mut sm3 = Sm3::new();
    sm3.update(LINK_TAG);
    // An honest prev_hash is 32 bytes: decoded on the stack, no allocation per event.
    let mut digest = [0u8; 32];
    match hex::decode_to_slice(prev_hash, &mut digest) {
        Ok(()) => sm3.update(digest),
        Err(_) => match hex::decode(prev_hash) {
            Ok(bytes) => sm3.update(&bytes),
            Err(_) => sm3.update(prev_hash.as_bytes()),
        },
    }
    sm3.update(canonical);
    hex::encode(sm3.finalize())
}

/// Indices into [`FIELDS`] in code point order of the names: the canonical form's key order,
/// fixed once so that hashing an event needs no sort (a unit test keeps it in step with FIELDS).
const SORTED_FIELDS: [usize; 14] = [1, 11, 9, 7, 13, 4, 6, 2, 12, 5, 3, 0, 8, 10];

/// One event as chained: its 14 field values (in FIELDS order; None = absent) and its two hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedEvent {
    pub values: Vec<Option<String>>,
    pub prev_hash: String,
    pub hash: String,
}

impl ChainedEvent {
    /// The event's number on this counter (0 if the `seq` value is missing or not a number).
    pub fn seq(&self) -> i64 {
        self.field("seq").and_then(|s| s.parse().ok()).unwrap_or(0)
    }

    /// A recorded field's value by its v1 name; `None` when absent (or not a v1 name).
    pub fn field(&self, name: &str) -> Option<&str> {
        let index = FIELDS.iter().position(|f| *f == name)?;
        self.values.get(index)?.as_deref().filter(|v| !v.is_empty())
    }

    /// The canonical bytes of this event's recorded fields (§1).
    pub fn canonical(&self) -> Vec<u8> {
        if self.values.len() != FIELDS.len() {
            // Not a v1 row (never written by the app): the general path pairs what there is.
            let fields: Vec<(&str, Option<&str>)> =
                FIELDS.iter().zip(&self.values).map(|(name, value)| (*name, value.as_deref())).collect();
            return canonical(&fields);
        }
        let present = SORTED_FIELDS
            .iter()
            .filter_map(|&i| self.values[i].as_deref().filter(|v| !v.is_empty()).map(|v| (FIELDS[i], v)));
        let size: usize = self.values.iter().flatten().map(|v| v.len() + 24).sum();
        let mut out = Vec::with_capacity(size + 2);
        write_object(&mut out, present);
        out
    }

    /// recomputes the hash from values and prev_hash
    pub fn computed_hash(&self) -> String {
        link(&self.prev_hash, &self.canonical())
    }
}

/// The columns of a chained row: the v1 fields in FIELDS order (seq as stored), then the two hashes.
pub(crate) const CHAINED_COLUMNS: &str = "seq, at, kind, outcome, error_code, operator_account, hall_code, counter, \
     service_item_code, biz_num, uscc, auth_id, license_code, detail, prev_hash, hash";

/// Reads a row selected with [`CHAINED_COLUMNS`]. Values are taken as the text they hold, whatever
/// their SQLite type, so that a row edited behind the app's back is still read and then reported.
pub(crate) fn chained_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ChainedEvent> {
    let values = (0..FIELDS.len()).map(|i| text_at(row, i)).collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ChainedEvent {
        values,
        prev_hash: text_at(row, FIELDS.len())?.unwrap_or_default(),
        hash: text_at(row, FIELDS.len() + 1)?.unwrap_or_default(),
    })
}

fn text_at(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Option<String>> {
    use rusqlite::types::ValueRef;
    Ok(match row.get_ref(index)? {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(x) => Some(x.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    })
}

/// The `seq` and `hash` of the chain's last event, `(0, GENESIS)` before the first. Read on the
/// connection or transaction the next event is written on, so the two can never fork the chain
/// (and the unique index on `seq` refuses a second writer that read the same head).
pub(crate) fn head(conn: &Connection) -> rusqlite::Result<(i64, String)> {
    conn.query_row("SELECT seq, hash FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1", [], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .optional()
    .map(|head| head.unwrap_or_else(|| (0, GENESIS.to_owned())))
}

/// The hook of migration 4: chains the rows written before it, in `id` order (§2), then puts back
/// the append-only trigger the migration's SQL dropped so these UPDATEs could run.
pub(crate) fn chain_existing_events(tx: &rusqlite::Transaction<'_>) -> rusqlite_migration::HookResult {
    let mut rows = tx.prepare(
        "SELECT NULL, at, kind, outcome, error_code, operator_account, hall_code, counter, service_item_code,
                biz_num, uscc, auth_id, license_code, detail, NULL, NULL, id
         FROM audit_events ORDER BY id",
    )?;
    let mut update = tx.prepare("UPDATE audit_events SET seq = ?1, prev_hash = ?2, hash = ?3 WHERE id = ?4")?;
    let mut prev_hash = GENESIS.to_owned();
    let mut seq = 0i64;
    let mut cursor = rows.query([])?;
    while let Some(row) = cursor.next()? {
        seq += 1;
        let mut event = chained_from_row(row)?;
        event.values[0] = Some(seq.to_string());
        event.prev_hash = prev_hash;
        let hash = event.computed_hash();
        let id: i64 = row.get(FIELDS.len() + 2)?;
        update.execute(rusqlite::params![seq, event.prev_hash, hash, id])?;
        prev_hash = hash;
    }
    tx.execute_batch(
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
         BEGIN
             SELECT RAISE(ABORT, 'audit_events is append-only');
         END;
         CREATE UNIQUE INDEX audit_events_seq ON audit_events(seq);",
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(fields: &[(&str, Option<&str>)], expected: &str) {
        assert_eq!(String::from_utf8(canonical(fields)).unwrap(), expected);
    }

    #[test]
    fn the_format_docs_example_is_reproduced_byte_for_byte() {
        check(
            &[
                ("seq", Some("1")),
                ("at", Some("2026-11-29T10:02:03.417+08:00")),
                ("kind", Some("scan")),
                ("outcome", Some("ok")),
                ("error_code", None),
                ("operator_account", Some("clerk01")),
                ("hall_code", Some("4401061")),
                ("counter", Some("B07")),
                ("detail", Some("")),
            ],
            r#"{"at":"2026-11-29T10:02:03.417+08:00","counter":"B07","hall_code":"4401061","kind":"scan","operator_account":"clerk01","outcome":"ok","seq":"1"}"#,
        );
    }

    #[test]
    fn the_sorted_field_order_is_the_code_point_order_of_the_names() {
        let sorted: Vec<&str> = SORTED_FIELDS.iter().map(|&i| FIELDS[i]).collect();
        let mut expected = FIELDS.to_vec();
        expected.sort();
        assert_eq!(sorted, expected);
    }

    #[test]
    fn an_event_is_canonical_as_the_general_form_says_with_every_field_and_escape() {
        let values: Vec<Option<String>> = FIELDS
            .iter()
            .enumerate()
            .map(|(i, name)| match i % 4 {
                0 => None,
                1 => Some(String::new()),
                2 => Some(format!("{name} \"q\" \\ \u{1}\u{1f}\n\t粤 ✓")),
                _ => Some(format!("{i}")),
            })
            .collect();
        let event = ChainedEvent { values: values.clone(), prev_hash: GENESIS.to_owned(), hash: String::new() };
        let fields: Vec<(&str, Option<&str>)> = FIELDS.iter().zip(&values).map(|(n, v)| (*n, v.as_deref())).collect();
        assert_eq!(event.canonical(), canonical(&fields));
        let all: Vec<Option<String>> = FIELDS.iter().map(|n| Some(format!("{n}\u{7f}"))).collect();
        let fields: Vec<(&str, Option<&str>)> = FIELDS.iter().zip(&all).map(|(n, v)| (*n, v.as_deref())).collect();
        assert_eq!(ChainedEvent { values: all.clone(), ..event }.canonical(), canonical(&fields));
    }

    #[test]
    fn a_prev_hash_that_is_not_hex_is_hashed_as_its_text() {
        let event = canonical(&[("seq", Some("1"))]);
        let mut expected = Sm3::new();
        expected.update(b"YSAUDIT1");
        expected.update(b"not hex");
        expected.update(&event);
        assert_eq!(link("not hex", &event), hex::encode(expected.finalize()));
        let mut short = Sm3::new();
        short.update(b"YSAUDIT1");
        short.update([0xab]);
        short.update(&event);
        assert_eq!(link("ab", &event), hex::encode(short.finalize()));
    }

    #[test]
    fn strings_are_escaped_as_jcs_says() {
        check(&[("detail", Some("a\"b\\c"))], r#"{"detail":"a\"b\\c"}"#);
        check(&[("detail", Some("l1\nl2\r\t\u{8}\u{c}"))], r#"{"detail":"l1\nl2\r\t\b\f"}"#);
        check(&[("detail", Some("\u{0}\u{1f}\u{1b}"))], r#"{"detail":"\u0000\u001f\u001b"}"#);
        check(&[("detail", Some("粤商码 ✓ \u{7f} /"))], "{\"detail\":\"粤商码 ✓ \u{7f} /\"}");
        check(&[], "{}");
    }

    #[test]
    fn the_first_link_hashes_the_tag_the_zero_hash_and_the_event() {
        let event = canonical(&[("seq", Some("1"))]);
        let mut expected = Sm3::new();
        expected.update(b"YSAUDIT1");
        expected.update([0u8; 32]);
        expected.update(&event);
        assert_eq!(link(GENESIS, &event), hex::encode(expected.finalize()));
        assert_eq!(link(GENESIS, &event).len(), 64);
    }

    #[test]
    fn a_chained_event_reads_its_fields_and_recomputes_its_hash() {
        let mut values = vec![None; FIELDS.len()];
        values[0] = Some("7".to_owned());
        values[2] = Some("scan".to_owned());
        values[13] = Some(String::new());
        let hash = link(GENESIS, &canonical(&[("seq", Some("7")), ("kind", Some("scan"))]));
        let event = ChainedEvent { values, prev_hash: GENESIS.to_owned(), hash: hash.clone() };
        assert_eq!(event.seq(), 7);
        assert_eq!(event.field("kind"), Some("scan"));
        assert_eq!(event.field("detail"), None);
        assert_eq!(event.field("nonsense"), None);
        assert_eq!(event.computed_hash(), hash);
    }
}
