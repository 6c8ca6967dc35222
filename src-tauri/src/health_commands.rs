//! The gateway's health in the header and 网页模式: the `gateway_health` and `open_portal` commands,
//! and the background task that pushes every change as a `gateway-health` event and probes an idle
//! gateway. The rule and the probe are the core's (`yueshang_core::gateway::health`).

use crate::dto::AppError;
use crate::launch::AppState;
use chrono::SecondsFormat;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, State};
use tauri_plugin_opener::OpenerExt;
use yueshang_core::gateway::{GatewayHealth, IDLE_PROBE_AFTER};
use yueshang_core::portal;

/// The event that carries every change of the gateway's health to the window.
const GATEWAY_HEALTH: &str = "gateway-health";
const MAIN_WINDOW: &str = "main";

type Answer<T> = Result<T, AppError>;

/// What the header shows: the level (`unknown|ok|degraded|down`), the figures behind it, and the
/// Chinese advice for the last failure.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GatewayHealthDto {
    level: &'static str,
    /// ISO 8601 in China time, e.g. `2026-11-28T10:02:00+08:00`.
    last_success_at: Option<String>,
    /// Failures within the last five minutes.
    recent_failures: u32,
    /// Failed calls since the last success.
    consecutive_failures: u32,
    last_failure_code: Option<&'static str>,
    last_failure_at: Option<String>,
    /// `ErrorCode::advice()` of the last failure.
    advice: Option<&'static str>,
    /// The gateway's clock minus this PC's, in seconds, as last seen.
    clock_skew_secs: Option<i64>,
}

impl From<&GatewayHealth> for GatewayHealthDto {
    fn from(h: &GatewayHealth) -> Self {
        let iso = |t: &chrono::DateTime<chrono::FixedOffset>| t.to_rfc3339_opts(SecondsFormat::Secs, false);
        GatewayHealthDto {
            level: h.level.as_str(),
            last_success_at: h.last_success_at.as_ref().map(iso),
            recent_failures: h.recent_failures,
            consecutive_failures: h.consecutive_failures,
            last_failure_code: h.last_failure.map(|(code, _)| code.as_str()),
            last_failure_at: h.last_failure.as_ref().map(|(_, at)| iso(at)),
            advice: h.last_failure.map(|(code, _)| code.advice()),
            clock_skew_secs: h.clock_skew_secs,
        }
    }
}

/// The gateway's health now.
#[tauri::command]
pub(crate) fn gateway_health(state: State<'_, AppState>) -> Answer<GatewayHealthDto> {
    let counter = state.counter()?;
    Ok(GatewayHealthDto::from(&counter.desk.station().gateway().health()))
}

/// The portal as opened, for the window to say where.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PortalDto {
    url: String,
    host: String,
}

/// 网页模式: the configured portal (the sandbox's own page in sandbox mode) in the system browser,
/// audited by the core. The window names no address: it cannot open anything else.
#[tauri::command]
pub(crate) fn open_portal(app: AppHandle, state: State<'_, AppState>) -> Answer<PortalDto> {
    let counter = state.counter()?;
    let opened =
        portal::open_portal(&counter.desk, |url| app.opener().open_url(url, None::<&str>).map_err(|e| e.to_string()))?;
    tracing::info!(host = %opened.host, "portal opened in the system browser");
    Ok(PortalDto { url: opened.url, host: opened.host })
}

/// For the app's lifetime: the health pushed to the window at every change, a look at the clock
/// every few seconds, and a bounded probe when the gateway was not used for a minute.
pub(crate) fn start_gateway_health(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        let Some(state) = app.try_state::<AppState>() else { return };
        let Ok(counter) = state.counter() else { return };
        let emitter = app.clone();
        let last_level = std::sync::Mutex::new(None);
        let on_change = move |health: GatewayHealth| {
            let level = health.level.as_str();
            let mut last = last_level.lock().unwrap_or_else(|p| p.into_inner());
            if *last != Some(level) {
                let code = health.last_failure.map(|(code, _)| code.as_str());
                tracing::info!(level, failures = health.recent_failures, last_failure = ?code, "gateway health");
                *last = Some(level);
            }
            drop(last);
            if let Err(e) = emitter.emit_to(MAIN_WINDOW, GATEWAY_HEALTH, GatewayHealthDto::from(&health)) {
                tracing::warn!(error = %e, "could not tell the window about the gateway's health");
            }
        };
        counter.desk.station().gateway().keep_health_fresh(IDLE_PROBE_AFTER, on_change).await;
    });
}
