//! The window's life on a counter PC: one instance per user, the monitor and size it was left on,
//! full screen and start with the session as `[window]` says.

use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_autostart::ManagerExt as _;
use yueshang_core::config::WindowSettings;

/// The label of the counter's only window (tauri.conf.json).
const MAIN: &str = "main";

/// A second launch by the same user: the running window comes forward and the new process ends
/// (the plugin exits it), so a clerk double-clicking the icon never gets a second counter.
pub(crate) fn single_instance<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_single_instance::init(|app, _argv, _cwd| bring_forward(app))
}

/// Size, position, monitor and maximized state, saved when the window closes and restored when it
/// opens (the plugin checks the monitor is still there).
pub(crate) fn remembered_state<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_window_state::Builder::new().build()
}

pub(crate) fn autostart<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_autostart::Builder::new().build()
}

fn bring_forward<R: Runtime>(app: &AppHandle<R>) {
    let Some(window) = app.get_webview_window(MAIN) else { return };
    tracing::info!("a second launch: bringing the running window forward");
    let _ = window.unminimize();
    let _ = window.show();
    let _ = window.set_focus();
}

/// Applies `[window]` at start: full screen now, and the session's autostart entry made or removed
/// so it always matches the configuration IT deployed.
pub(crate) fn apply<R: Runtime>(app: &AppHandle<R>, settings: WindowSettings) {
    if settings.fullscreen
        && let Some(window) = app.get_webview_window(MAIN)
        && let Err(e) = window.set_fullscreen(true)
    {
        tracing::warn!(error = %e, "could not go full screen");
    }
    let autolaunch = app.autolaunch();
    let result = match (settings.autostart, autolaunch.is_enabled()) {
        (true, Ok(false)) => autolaunch.enable(),
        (false, Ok(true)) => autolaunch.disable(),
        (_, Ok(_)) => Ok(()),
        (_, Err(e)) => Err(e),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, autostart = settings.autostart, "could not set start with the session");
    }
}
