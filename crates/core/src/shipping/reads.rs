//! The hall's reads for the supervisor view's 全厅: the hall's day, its events and every counter's
//! export, signed like shipping; the export written whole into a folder and audited on this counter.

use super::HallClient;
use super::wire::{ExportFile, ExportSet, HallDay, HallEventPage};
use crate::audit::day::EventFilter;
use crate::audit::export::{Formats, write_bytes_whole};
use crate::audit::key::CounterKey;
use crate::audit::{AuditEvent, AuditKind, Outcome};
use crate::error::{Error, ErrorCode, Result};
use crate::station::Station;
use base64::Engine as _;
use chrono::{DateTime, FixedOffset, NaiveDate};
use std::path::{Component, Path, PathBuf};

impl HallClient {
    /// The hall's day at a glance.
    pub async fn day(&self, key: &CounterKey, date: NaiveDate, now: DateTime<FixedOffset>) -> Result<HallDay> {
        self.get(key, &path("/v1/report", &[("date", Some(date.to_string()))]), now).await
    }

    /// A page of the hall's events of `date`, narrowed as this counter's list is, and to one
    /// counter (by its name) when given.
    pub async fn events(
        &self,
        key: &CounterKey,
        date: NaiveDate,
        counter: Option<&str>,
        filter: &EventFilter,
        (offset, limit): (u64, u32),
        now: DateTime<FixedOffset>,
    ) -> Result<HallEventPage> {
        let pairs = [
            ("date", Some(date.to_string())),
            ("counter", counter.map(str::to_owned)),
            ("clerk", filter.clerk.clone()),
            ("item", filter.item.clone()),
            ("outcome", filter.outcome.clone()),
            ("kind", filter.kind.clone()),
            ("biz_num", filter.biz_num.clone()),
            ("uscc", filter.uscc.clone()),
            ("offset", Some(offset.to_string())),
            ("limit", Some(limit.to_string())),
        ];
        self.get(key, &path("/v1/events", &pairs), now).await
    }
}

/// What a hall export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HallExport {
    /// Counters' file sets written.
    pub counters: u64,
    pub events: u64,
    pub files: Vec<PathBuf>,
}

/// Every counter's files of `date` into `dir`, counter by counter as the hall signed and
/// countersigned them (a counter's day is a few MB: never the whole hall in memory), telling
/// `progress(done, total)` in counters; audited on this counter as an export, failed or not.
pub async fn export_day(
    station: &Station,
    (client, key): (&HallClient, &CounterKey),
    date: NaiveDate,
    formats: Formats,
    dir: &Path,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<HallExport> {
    let format = match (formats.csv, formats.xlsx) {
        (true, false) => "csv",
        (false, true) => "xlsx",
        _ => "both",
    };
    let written = write_day(station, (client, key), date, format, dir, progress).await;
    let (outcome, error_code) = match &written {
        Ok(_) => (Outcome::Ok, None),
        Err(err) => (Outcome::Failed, Some(err.code)),
    };
    let files: Vec<String> =
        written.as_ref().map(|w| w.files.iter().map(|f| f.display().to_string()).collect()).unwrap_or_default();
    let detail = serde_json::json!({
        "scope": "hall",
        "date": date.to_string(),
        "format": format,
        "counters": written.as_ref().ok().map(|w| w.counters),
        "events": written.as_ref().ok().map(|w| w.events),
        "files": files,
    });
    let event =
        AuditEvent { error_code, detail: Some(detail.to_string()), ..AuditEvent::new(AuditKind::AuditExport, outcome) };
    match written {
        Ok(written) => {
            station.audit(&event)?;
            Ok(written)
        }
        Err(err) => {
            // The failure is what the supervisor must see; a second failure to record it is only logged.
            if let Err(audit_err) = station.audit(&event) {
                tracing::warn!(code = %audit_err.code, "the failed hall export could not be audited");
            }
            Err(err)
        }
    }
}

async fn write_day(
    station: &Station,
    (client, key): (&HallClient, &CounterKey),
    date: NaiveDate,
    format: &str,
    dir: &Path,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<HallExport> {
    let now = || station.clock().now_china();
    let day = client.day(key, date, now()).await?;
    let mut names: Vec<&str> = Vec::new();
    for c in day.counters.iter().filter(|c| c.events > 0) {
        // The export asks by counter name: a name twice (two halls) is one request for both.
        if !names.contains(&c.counter.as_str()) {
            names.push(&c.counter);
        }
    }
    let total = names.len() as u64;
    progress(0, total);
    let mut result = HallExport::default();
    for (done, name) in names.into_iter().enumerate() {
        let query =
            [("date", Some(date.to_string())), ("counter", Some(name.to_owned())), ("format", Some(format.to_owned()))];
        let sets: Vec<ExportSet> = client.get(key, &path("/v1/export", &query), now()).await?;
        for set in sets {
            let dir = dir.to_owned();
            let files = tokio::task::spawn_blocking(move || write_files(&dir, &set.files))
                .await
                .map_err(|e| Error::storage(format!("the blocking task failed: {e}")))??;
            result.counters += 1;
            result.events += set.events;
            result.files.extend(files);
        }
        progress(done as u64 + 1, total);
    }
    Ok(result)
}

/// Writes a set's files into `dir`, each whole (the export's own `.part`, then rename).
fn write_files(dir: &Path, files: &[ExportFile]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::with_fact(ErrorCode::SaveFailed, format!("无法写入 {}（{e}）。", dir.display())))?;
    let mut written = Vec::with_capacity(files.len());
    for file in files {
        let target = dir.join(plain_name(&file.name)?);
        let bytes = base64::engine::general_purpose::STANDARD.decode(&file.content).map_err(|e| {
            Error::with_fact(ErrorCode::HallRefused, format!("大厅服务给出的文件 {} 不是 base64。", file.name))
                .detail(e.to_string())
        })?;
        write_bytes_whole(&target, &bytes)?;
        written.push(target);
    }
    Ok(written)
}

/// A file name the hall gave, used only as a name in the chosen folder: one plain component
/// (no separator, drive, `..` or leading dot), or the answer is refused.
fn plain_name(name: &str) -> Result<&str> {
    let mut components = Path::new(name).components();
    let single = matches!((components.next(), components.next()), (Some(Component::Normal(_)), None));
    if single && !name.starts_with('.') && !name.contains(['/', '\\', ':', '\0']) {
        return Ok(name);
    }
    Err(Error::with_fact(ErrorCode::HallRefused, format!("大厅服务给出的文件名“{name}”不能用作文件名。")))
}

/// `route?name=value&…` with the values form-encoded (a USCC or a name never breaks the query
/// or its signature); absent values are left out.
fn path(route: &str, pairs: &[(&str, Option<String>)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    format!("{route}?{}", query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_is_form_encoded_and_leaves_out_what_is_open() {
        let path = path(
            "/v1/events",
            &[
                ("date", Some("2026-11-30".into())),
                ("counter", None),
                ("clerk", Some("王 小&明=1".into())),
                ("uscc", Some("91440101MA5CXXXX1A".into())),
            ],
        );
        assert_eq!(
            path,
            "/v1/events?date=2026-11-30&clerk=%E7%8E%8B+%E5%B0%8F%26%E6%98%8E%3D1&uscc=91440101MA5CXXXX1A"
        );
        // What the client signs (the joined URL's path and query) is this text unchanged: what the
        // hall receives and checks the signature over.
        let joined = url::Url::parse("https://hall.example:8443/").unwrap().join(path.trim_start_matches('/')).unwrap();
        assert_eq!(&joined[url::Position::BeforePath..], path);
    }

    #[test]
    fn only_a_plain_file_name_is_written() {
        assert_eq!(plain_name("audit-440106001-A01-20261130.csv").ok(), Some("audit-440106001-A01-20261130.csv"));
        assert_eq!(plain_name("审计-A01.xlsx").ok(), Some("审计-A01.xlsx"));
        for bad in ["", ".", "..", "../x.csv", "a/b.csv", "a\\b.csv", "C:x.csv", "/etc/passwd", ".hidden", "x\0.csv"] {
            assert_eq!(plain_name(bad).map_err(|e| e.code), Err(ErrorCode::HallRefused), "{bad:?}");
        }
    }

    #[test]
    fn a_set_is_written_whole_and_a_bad_name_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let encode = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let files = [ExportFile { name: "a.csv".into(), content: encode(b"seq,at\r\n") }];
        let written = write_files(dir, &files).unwrap();
        assert_eq!(written, [dir.join("a.csv")]);
        assert_eq!(std::fs::read(dir.join("a.csv")).unwrap(), b"seq,at\r\n");
        assert!(!dir.join("a.csv.part").exists());
        let bad = [ExportFile { name: "../b.csv".into(), content: encode(b"x") }];
        assert_eq!(write_files(dir, &bad).map_err(|e| e.code), Err(ErrorCode::HallRefused));
        assert!(!dir.join("../b.csv.part").exists() && !dir.join("../b.csv").exists());
    }
}
