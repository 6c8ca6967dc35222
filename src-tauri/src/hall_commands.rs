//! The window's 全厅 commands (the hall's day, events and export, read from the hall service and
//! signed with this counter's audit key) and the background shipping of this counter's audit
//! chain to it. The protocol and the shipping are the core's (shipping/); this maps and writes.

use crate::dto::AppError;
use crate::hall_dto::{HallDaySummaryDto, HallExportResultDto, HallFilterDto};
use crate::launch::{AppState, Counter, HallLink};
use crate::shift_commands::{EXPORT_PROGRESS, date, export_dir, formats};
use crate::shift_dto::{AuditPageDto, ExportProgressDto};
use base64::Engine as _;
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager, State};
use yueshang_core::audit::day::Labels;
use yueshang_core::audit::{AuditEvent, AuditKind, Outcome};
use yueshang_core::shipping::wire::{ExportFile, ExportSet, HallDay, HallEventPage};
use yueshang_core::shipping::{self, ShipReport};
use yueshang_core::{Error, ErrorCode};

type Answer<T> = Result<T, AppError>;

/// The hall's day: the same figures as this counter's day, over every counter, with each counter
/// and the alarms; items and people named as this counter names them.
#[tauri::command]
pub(crate) async fn hall_day_summary(state: State<'_, AppState>, date: String) -> Answer<HallDaySummaryDto> {
    let day = self::date(&date)?;
    let counter = state.counter()?;
    let hall = hall_of(counter)?;
    let labels = labels(counter)?;
    let path = path("/v1/report", &[("date", Some(day.to_string()))]);
    let report: HallDay = hall.client.get(&hall.key, &path, now(counter)).await?;
    Ok(HallDaySummaryDto::new(&report, day, &labels))
}

/// One page of the hall's events, filtered as this counter's list is, plus one counter.
#[tauri::command]
pub(crate) async fn hall_events(
    state: State<'_, AppState>,
    date: String,
    filter: HallFilterDto,
    offset: u64,
    limit: u32,
) -> Answer<AuditPageDto> {
    let day = self::date(&date)?;
    let counter = state.counter()?;
    let hall = hall_of(counter)?;
    let (filter, only) = filter.into_parts();
    let path = path(
        "/v1/events",
        &[
            ("date", Some(day.to_string())),
            ("counter", only),
            ("clerk", filter.clerk),
            ("item", filter.item),
            ("outcome", filter.outcome),
            ("kind", filter.kind),
            ("biz_num", filter.biz_num),
            ("uscc", filter.uscc),
            ("offset", Some(offset.to_string())),
            ("limit", Some(limit.to_string())),
        ],
    );
    let page: HallEventPage = hall.client.get(&hall.key, &path, now(counter)).await?;
    Ok(AuditPageDto::from(&page))
}

/// Every counter's file set of one day, counter by counter, into `dir` (as the hall signed and
/// countersigned them); progress as "export-progress" in counters. Audited on this counter as an
/// export, like the local one.
#[tauri::command]
pub(crate) async fn hall_export(
    app: AppHandle,
    state: State<'_, AppState>,
    date: String,
    format: String,
    dir: String,
) -> Answer<HallExportResultDto> {
    let day = self::date(&date)?;
    formats(&format)?;
    let dir = export_dir(&dir)?;
    let counter = state.counter()?;
    let hall = hall_of(counter)?;
    let station = counter.desk.station();
    let written = export_counters(&app, hall, counter, &day.to_string(), &format, &dir).await;
    let (outcome, error_code) = match &written {
        Ok(_) => (Outcome::Ok, None),
        Err(err) => (Outcome::Failed, Some(err.code)),
    };
    let detail = serde_json::json!({
        "scope": "hall",
        "date": day.to_string(),
        "format": format,
        "counters": written.as_ref().ok().map(|w| w.counters),
        "events": written.as_ref().ok().map(|w| w.events),
        "files": written.as_ref().map(|w| w.files.clone()).unwrap_or_default(),
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
            Err(err.into())
        }
    }
}

/// Asks the hall which counters have events that day, then each one's files, writing them as
/// they come (a counter's day is a few MB: never the whole hall in memory at once).
async fn export_counters(
    app: &AppHandle,
    hall: &HallLink,
    counter: &Counter,
    day: &str,
    format: &str,
    dir: &Path,
) -> Result<HallExportResultDto, Error> {
    let report: HallDay =
        hall.client.get(&hall.key, &path("/v1/report", &[("date", Some(day.to_owned()))]), now(counter)).await?;
    let mut names: Vec<&str> = Vec::new();
    for c in report.counters.iter().filter(|c| c.events > 0) {
        // The export asks by counter name: a name twice (two halls) is one request for both.
        if !names.contains(&c.counter.as_str()) {
            names.push(&c.counter);
        }
    }
    let total = names.len() as u64;
    progress(app, 0, total);
    let mut result = HallExportResultDto::default();
    for (done, name) in names.into_iter().enumerate() {
        let query =
            [("date", Some(day.to_owned())), ("counter", Some(name.to_owned())), ("format", Some(format.to_owned()))];
        let sets: Vec<ExportSet> = hall.client.get(&hall.key, &path("/v1/export", &query), now(counter)).await?;
        for set in sets {
            let dir = dir.to_owned();
            let files = tauri::async_runtime::spawn_blocking(move || write_files(&dir, &set.files))
                .await
                .map_err(|e| Error::storage(format!("the blocking task failed: {e}")))??;
            result.counters += 1;
            result.events += set.events;
            result.files.extend(files.iter().map(|f| f.display().to_string()));
        }
        progress(app, done as u64 + 1, total);
    }
    Ok(result)
}

/// Writes a set's files into `dir`, each whole (`<name>.part`, then renamed).
fn write_files(dir: &Path, files: &[ExportFile]) -> Result<Vec<PathBuf>, Error> {
    std::fs::create_dir_all(dir).map_err(|e| save_failed(dir, &e))?;
    let mut written = Vec::with_capacity(files.len());
    for file in files {
        let target = dir.join(plain_name(&file.name)?);
        let bytes = base64::engine::general_purpose::STANDARD.decode(&file.content).map_err(|e| {
            Error::with_fact(ErrorCode::HallRefused, format!("大厅服务给出的文件 {} 不是 base64。", file.name))
                .detail(e.to_string())
        })?;
        let part = dir.join(format!("{}.part", file.name));
        let done = (|| {
            let mut out = std::fs::File::create(&part)?;
            out.write_all(&bytes)?;
            out.sync_all()
        })()
        .and_then(|()| std::fs::rename(&part, &target));
        if let Err(e) = done {
            let _ = std::fs::remove_file(&part);
            return Err(save_failed(&target, &e));
        }
        written.push(target);
    }
    Ok(written)
}

/// A file name the hall gave, used only as a name in the chosen folder: one plain component
/// (no separator, drive, `..` or leading dot), or the answer is refused.
fn plain_name(name: &str) -> Result<&str, Error> {
    let mut components = Path::new(name).components();
    let single = matches!((components.next(), components.next()), (Some(Component::Normal(_)), None));
    if single && !name.starts_with('.') && !name.contains(['/', '\\', ':', '\0']) {
        return Ok(name);
    }
    Err(Error::with_fact(ErrorCode::HallRefused, format!("大厅服务给出的文件名“{name}”不能用作文件名。")))
}

fn save_failed(path: &Path, err: &dyn std::fmt::Display) -> Error {
    Error::with_fact(ErrorCode::SaveFailed, format!("无法写入 {}（{err}）。", path.display()))
}

fn progress(app: &AppHandle, done: u64, total: u64) {
    if let Err(e) = app.emit_to("main", EXPORT_PROGRESS, ExportProgressDto { done, total }) {
        tracing::warn!(error = %e, "could not send export progress to the window");
    }
}

/// The hall link, for a signed-in supervisor only (the same check as this counter's day).
fn hall_of(counter: &Counter) -> Result<&HallLink, Error> {
    counter.desk.accounts().supervisor()?;
    counter.hall.as_ref().ok_or_else(|| Error::config("hall_service", "缺失：本窗口没有配置大厅服务"))
}

/// This counter's names for item codes and accounts, as its own day summary uses them.
fn labels(counter: &Counter) -> Result<Labels, Error> {
    let settings = counter.desk.station().settings();
    Ok(Labels {
        items: settings.service_items.iter().map(|i| (i.code.clone(), i.name.clone())).collect(),
        people: counter.desk.accounts().list()?.into_iter().map(|a| (a.account, a.name)).collect(),
    })
}

fn now(counter: &Counter) -> chrono::DateTime<chrono::FixedOffset> {
    counter.desk.station().clock().now_china()
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

/// How long the first round waits: the window's first reads of the database go first.
const FIRST_ROUND_AFTER: Duration = Duration::from_secs(5);

/// Ships this counter's audit chain and handling records to the hall for the app's lifetime:
/// a round every `ship_interval` while it goes well, backing off (5 s to 5 minutes, spread)
/// while the hall cannot be reached or refuses.
pub(crate) fn start_hall_shipping(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        let jitter = yueshang_core::outbox::random_jitter();
        let mut failures: u32 = 0;
        tokio::time::sleep(FIRST_ROUND_AFTER).await;
        loop {
            let Some(state) = app.try_state::<AppState>() else { return };
            let Ok(counter) = state.counter() else { return };
            let Some(hall) = &counter.hall else { return };
            let wait = match ship_round(counter, hall) {
                Ok(report) => {
                    failures = 0;
                    if report.shipped > 0 || report.records > 0 {
                        tracing::info!(
                            shipped = report.shipped,
                            records = report.records,
                            acked_seq = report.acked_seq,
                            behind = report.behind,
                            "audit events shipped to the hall service"
                        );
                    }
                    hall.ship_interval
                }
                Err(err) => {
                    failures = failures.saturating_add(1);
                    // Messages and details name codes, seqs and fingerprints, never a key.
                    match err.code {
                        ErrorCode::ChainFork | ErrorCode::HallRefused | ErrorCode::CounterNotEnrolled => {
                            tracing::error!(
                                code = %err.code,
                                message = %err.message,
                                detail = ?err.detail,
                                failures,
                                "the hall service refused this counter's audit chain"
                            )
                        }
                        _ => {
                            tracing::warn!(
                                code = %err.code,
                                message = %err.message,
                                detail = ?err.detail,
                                failures,
                                "could not ship to the hall service"
                            )
                        }
                    }
                    shipping::retry_delay(failures, jitter())
                }
            };
            tokio::time::sleep(wait).await;
        }
    });
}

/// One round, off the async threads: shipping reads and writes SQLite synchronously between its
/// requests, which must not hold up the window's commands.
fn ship_round(counter: &Counter, hall: &HallLink) -> Result<ShipReport, Error> {
    let station = counter.desk.station();
    let now = station.clock().now_china();
    tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(shipping::ship(
            station.cache(),
            &hall.key,
            &hall.client,
            &hall.scope,
            now,
        ))
    })
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
        let dir = std::env::temp_dir().join(format!("yueshang-hall-export-{}", std::process::id()));
        let encode = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let files = [ExportFile { name: "a.csv".into(), content: encode(b"seq,at\r\n") }];
        let written = write_files(&dir, &files).unwrap();
        assert_eq!(written, [dir.join("a.csv")]);
        assert_eq!(std::fs::read(dir.join("a.csv")).unwrap(), b"seq,at\r\n");
        assert!(!dir.join("a.csv.part").exists());
        let bad = [ExportFile { name: "../b.csv".into(), content: encode(b"x") }];
        assert_eq!(write_files(&dir, &bad).map_err(|e| e.code), Err(ErrorCode::HallRefused));
        assert!(!dir.join("../b.csv.part").exists() && !dir.join("../b.csv").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
