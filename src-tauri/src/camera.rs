//! The camera (F4) for the window: the counter's own page may use the camera (video only; never the
//! microphone, the screen or anything else a page may ask for), and on Linux WebKitGTK's media
//! streams are switched on, which it leaves off by default.
//!
//! Windows (WebView2) and macOS support `getUserMedia` as they are; the answer below spares the clerk
//! WebView2's own permission prompt. On Linux, WebKitGTK captures through GStreamer (v4l2src from
//! gstreamer1.0-plugins-good, or PipeWire): without them the window says there is no camera.

use tauri::webview::{PermissionKind, PermissionResponse};
use tauri::{AppHandle, Runtime, Webview};

/// The label of the counter's only window (tauri.conf.json).
pub(crate) const MAIN: &str = "main";

/// What the webview may use beyond its page: the camera, and only for the counter's window, whose
/// content is only the embedded UI (the window is sealed: no remote content, no navigation away).
pub(crate) fn permission<R: Runtime>(webview: Webview<R>, kind: PermissionKind) -> PermissionResponse {
    match kind {
        PermissionKind::Camera if webview.label() == MAIN => PermissionResponse::Allow,
        _ => {
            tracing::info!(?kind, webview = webview.label(), "a permission the counter does not give was refused");
            PermissionResponse::Deny
        }
    }
}

/// Called once the window exists: turns WebKitGTK's media streams on (`enable-media-stream`), so
/// `navigator.mediaDevices.getUserMedia` exists in the page; nothing to do on other systems.
pub(crate) fn enable<R: Runtime>(app: &AppHandle<R>) {
    #[cfg(target_os = "linux")]
    {
        use tauri::Manager as _;
        let Some(window) = app.get_webview_window(MAIN) else { return };
        let done = window.with_webview(|webview| {
            use webkit2gtk::{SettingsExt as _, WebViewExt as _};
            match webview.inner().settings() {
                Some(settings) => settings.set_enable_media_stream(true),
                None => tracing::warn!("the webview has no settings: the camera will not work"),
            }
        });
        if let Err(e) = done {
            tracing::warn!(error = %e, "could not switch the webview's media streams on: the camera will not work");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}
