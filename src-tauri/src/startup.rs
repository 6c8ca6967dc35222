//! When the window became ready for the scanner: the UI reports its first screen drawn and
//! listening, once per start, and the log says how long that took (IT sees slow starts, and
//! `scripts/measure` reads the same line).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tauri::State;

/// The line `scripts/measure` waits for; keep the two the same.
pub(crate) const READY_LINE: &str = "window ready for the scanner";

pub(crate) struct Startup {
    began: Instant,
    reported: AtomicBool,
}

impl Startup {
    /// Taken first thing in `run`, before logging, plugins and the engine start.
    pub(crate) fn now() -> Startup {
        Startup { began: Instant::now(), reported: AtomicBool::new(false) }
    }
}

/// The UI's first screen is drawn and its keyboard listeners are attached; `page_ms` is the
/// page's own part (from its navigation start), so the log tells a slow page from a slow
/// process start. A reload of the page (which a clerk cannot do) would report again; only the
/// first report counts.
#[tauri::command]
pub(crate) fn window_ready(startup: State<'_, Startup>, page_ms: f64) {
    if startup.reported.swap(true, Ordering::SeqCst) {
        return;
    }
    let since_start_ms = startup.began.elapsed().as_millis() as u64;
    let page_ms = page_ms.clamp(0.0, 3_600_000.0).round() as u64;
    tracing::info!(since_start_ms, page_ms, "{READY_LINE}");
}
