//! The window's 全厅 commands (the hall's day, events and export, read from the hall service and
//! signed with this counter's audit key) and the background shipping of this counter's audit
//! chain to it. The protocol, the reads, the export and the shipping are the core's (shipping/);
//! this checks who asks and maps.

use crate::dto::AppError;
use crate::hall_dto::{HallDaySummaryDto, HallExportResultDto, HallFilterDto};
use crate::launch::{AppState, Counter, HallLink};
use crate::shift_commands::{EXPORT_PROGRESS, date, export_dir};
use crate::shift_dto::{AuditPageDto, ExportProgressDto};
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager, State};
use yueshang_core::audit::day::Labels;
use yueshang_core::audit::export::Formats;
use yueshang_core::shipping::{self, ShipReport, reads};
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
    let report = hall.client.day(&hall.key, day, now(counter)).await?;
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
    let page = hall.client.events(&hall.key, day, only.as_deref(), &filter, (offset, limit), now(counter)).await?;
    Ok(AuditPageDto::from(&page))
}

/// Every counter's file set of one day into `dir` (the core writes and audits it); progress as
/// "export-progress" in counters.
#[tauri::command]
pub(crate) async fn hall_export(
    app: AppHandle,
    state: State<'_, AppState>,
    date: String,
    format: String,
    dir: String,
) -> Answer<HallExportResultDto> {
    let day = self::date(&date)?;
    let formats = Formats::parse(&format)?;
    let dir = export_dir(&dir)?;
    let counter = state.counter()?;
    let hall = hall_of(counter)?;
    let mut progress = |done, total| {
        if let Err(e) = app.emit_to("main", EXPORT_PROGRESS, ExportProgressDto { done, total }) {
            tracing::warn!(error = %e, "could not send export progress to the window");
        }
    };
    let station = counter.desk.station();
    let written = reads::export_day(station, (&hall.client, &hall.key), day, formats, &dir, &mut progress).await?;
    Ok(HallExportResultDto::from(written))
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
