//! The app's log, for IT: to stderr, and to one file a day in the data folder's `logs/`, kept
//! 30 days. Filter with `YUESHANG_LOG` (default `info`); tokens and codes never reach it.

use std::path::{Path, PathBuf};
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};
use yueshang_core::clock::china_tz;

/// A month of days: enough to look back at a reported problem, small on a hall PC's disk.
const KEPT_DAYS: usize = 30;

/// Log lines carry China time, as the audit trail and the clerk's report of the problem do.
struct ChinaTime;

impl FormatTime for ChinaTime {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        let now = chrono::Utc::now().with_timezone(&china_tz());
        write!(w, "{}", now.format("%Y-%m-%d %H:%M:%S%.3f%:z"))
    }
}

/// Starts logging; returns the folder of the daily files, or `None` when it could not be made
/// (the app still runs, logging to stderr only).
pub(crate) fn init(data_dir: Option<&Path>) -> Option<PathBuf> {
    let filter = || EnvFilter::try_from_env("YUESHANG_LOG").unwrap_or_else(|_| "info".into());
    // The same folder `yueshang doctor` checks.
    let dir = data_dir.map(yueshang_core::config::log_dir);
    let daily = dir.as_deref().and_then(|dir| {
        std::fs::create_dir_all(dir).ok()?;
        RollingFileAppender::builder()
            .rotation(Rotation::DAILY)
            .filename_prefix("counter")
            .filename_suffix("log")
            .max_log_files(KEPT_DAYS)
            .build(dir)
            .ok()
    });
    let opened = daily.is_some();
    tracing_subscriber::registry()
        .with(fmt::layer().with_timer(ChinaTime).with_writer(std::io::stderr).with_filter(filter()))
        .with(
            daily.map(|file| {
                fmt::layer().with_timer(ChinaTime).with_ansi(false).with_writer(file).with_filter(filter())
            }),
        )
        .init();
    if opened { dir } else { None }
}
