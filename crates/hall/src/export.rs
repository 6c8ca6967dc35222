//! The hall's export: per counter and day, the files of audit-format.md §4 from the counter's own
//! signed checkpoint over that day's events (so an auditor verifies each counter exactly as §5
//! says, against the key the hall enrolled), plus the hall's countersignature of that checkpoint.

use crate::Refused;
use crate::store::Store;
use chrono::NaiveDate;
use std::path::{Path, PathBuf};
use yueshang_core::audit::chain::ChainedEvent;
use yueshang_core::audit::checkpoint::{Checkpoint, SignedCheckpoint};
use yueshang_core::audit::export::{ExportTarget, Formats, WitnessFiles, write_signed};
use yueshang_core::{Error, ErrorCode};

/// One counter's files of one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterExport {
    pub hall: String,
    pub counter: String,
    pub date: NaiveDate,
    pub stem: String,
    pub events: u64,
    pub first_seq: i64,
    pub last_seq: i64,
    pub files: Vec<PathBuf>,
}

/// A run of a counter's day as the hall holds it: the counter's widest checkpoint from the day's
/// first event, the hall's countersignature, and the events it covers.
struct Run {
    hall: String,
    counter: String,
    signed: SignedCheckpoint,
    witness_signature: Vec<u8>,
    witness_pem: String,
    events: Vec<ChainedEvent>,
}

/// Writes every counter's files for each day of `[from, to]` into `out_dir` (only `counter` when
/// given, by its counter name); days and counters without events write nothing.
pub async fn export_days(
    store: &Store,
    (from, to): (NaiveDate, NaiveDate),
    counter: Option<&str>,
    formats: Formats,
    out_dir: &Path,
) -> Result<Vec<CounterExport>, Error> {
    if from > to {
        return Err(Error::with_fact(ErrorCode::ConfigInvalid, "起始日期不能晚于结束日期。"));
    }
    let mut written = Vec::new();
    let mut date = from;
    while date <= to {
        for run in runs(store, date, counter).await.map_err(Error::from)? {
            written.push(write_run(run, date, formats, out_dir.to_path_buf()).await?);
        }
        date = date.succ_opt().expect("a date before the end of time");
    }
    Ok(written)
}

async fn write_run(run: Run, date: NaiveDate, formats: Formats, out_dir: PathBuf) -> Result<CounterExport, Error> {
    let stem = stem(&run.hall, &run.counter, date);
    tokio::task::spawn_blocking(move || {
        let target = ExportTarget { formats, out_dir: &out_dir, stem: &stem };
        let witness = WitnessFiles { signature: &run.witness_signature, public_pem: &run.witness_pem };
        let files = write_signed(&run.events, &run.signed, Some(witness), &target)?;
        Ok(CounterExport {
            hall: run.hall,
            counter: run.counter,
            date,
            stem: stem.clone(),
            events: run.events.len() as u64,
            first_seq: run.signed.checkpoint.first_seq,
            last_seq: run.signed.checkpoint.last_seq,
            files,
        })
    })
    .await
    .map_err(|e| Error::with_fact(ErrorCode::SaveFailed, "导出中断。").detail(e.to_string()))?
}

/// `audit-<hall>-<YYYYMMDD>-<counter>`: a hall's folder sorts by day, then counter. (A second run
/// of a counter's day, after its clock went back over midnight, names its counter `<counter>-from<seq>`.)
fn stem(hall: &str, counter: &str, date: NaiveDate) -> String {
    let safe = |s: &str| s.chars().map(|c| if c.is_alphanumeric() || c == '-' { c } else { '_' }).collect::<String>();
    format!("audit-{}-{}-{}", safe(hall), date.format("%Y%m%d"), safe(counter))
}

/// The day's runs, each with the widest checkpoint the counter signed from its start.
async fn runs(store: &Store, date: NaiveDate, counter: Option<&str>) -> Result<Vec<Run>, Refused> {
    let client = store.client().await?;
    let rows = client
        .query(
            "SELECT DISTINCT ON (k.counter_ref, k.first_seq)
                    c.hall, c.counter, c.counter_ref, c.public_pem, k.text, k.signature, k.witness_signature, w.public_pem
             FROM checkpoints k
             JOIN counters c ON c.counter_ref = k.counter_ref
             JOIN witness_keys w ON w.fingerprint = k.witness_key
             WHERE k.day = $1 AND ($2::text IS NULL OR c.counter = $2)
             ORDER BY k.counter_ref, k.first_seq, k.last_seq DESC",
            &[&date, &counter],
        )
        .await?;
    let mut runs = Vec::with_capacity(rows.len());
    let mut seen_counters: Vec<String> = Vec::new();
    for row in rows {
        let (counter_ref, text): (String, String) = (row.get(2), row.get(4));
        let checkpoint = Checkpoint::parse(&text).map_err(Refused::from)?;
        let events = run_events(&client, &counter_ref, checkpoint.first_seq, checkpoint.last_seq).await?;
        let mut run = Run {
            hall: row.get(0),
            counter: row.get(1),
            signed: SignedCheckpoint { checkpoint, text, signature: row.get(5), public_pem: row.get(3) },
            witness_signature: row.get(6),
            witness_pem: row.get(7),
            events,
        };
        // A later run of the same counter's day is told apart in its file names.
        if seen_counters.contains(&counter_ref) {
            run.counter = format!("{}-from{}", run.counter, run.signed.checkpoint.first_seq);
        }
        seen_counters.push(counter_ref);
        runs.push(run);
    }
    Ok(runs)
}

async fn run_events(
    client: &tokio_postgres::Client,
    counter_ref: &str,
    first_seq: i64,
    last_seq: i64,
) -> Result<Vec<ChainedEvent>, Refused> {
    let rows = client
        .query(
            // `e.seq` in ORDER BY: a bare `seq` would be the text column of the select list.
            "SELECT e.seq::text, e.at, e.kind, e.outcome, e.error_code, e.operator_account, e.hall_code, e.counter,
                    e.service_item_code, e.biz_num, e.uscc, e.auth_id, e.license_code, e.detail, e.prev_hash, e.hash
             FROM events e WHERE e.counter_ref = $1 AND e.seq BETWEEN $2 AND $3 ORDER BY e.seq",
            &[&counter_ref, &first_seq, &last_seq],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| ChainedEvent {
            values: (0..14).map(|i| r.get::<_, Option<String>>(i)).collect(),
            prev_hash: r.get(14),
            hash: r.get(15),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stem_sorts_by_day_then_counter_and_is_safe_as_a_file_name() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(stem("4401061", "B07", date), "audit-4401061-20261130-B07");
        assert_eq!(stem("4401061", "B/07 x", date), "audit-4401061-20261130-B_07_x");
    }
}
