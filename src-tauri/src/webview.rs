//! How WebKitGTK runs the counter's page on Linux: composited in software, with the cache sized
//! for one local document. Set once, as the window is made, before the page has loaded.
//!
//! GPU compositing buys a page of cards and a PDF canvas nothing visible, yet it loads Mesa and
//! its LLVM into both the app and the web process (about 60 MB on a hall PC without a GPU driver
//! WebKit trusts, measured by `scripts/measure`), and on some domestic Linux GPU drivers it is what
//! leaves a WebKitGTK window blank. The page is the app's own bundle: no site to cache for.
//! Windows' WebView2 decides these itself.

/// Called first thing in the app's setup, while the page of the window from tauri.conf.json has
/// not loaded yet.
pub(crate) fn tune<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    #[cfg(target_os = "linux")]
    {
        use tauri::Manager as _;
        let Some(window) = app.get_webview_window(crate::camera::MAIN) else { return };
        let done = window.with_webview(|webview| {
            use webkit2gtk::{
                CacheModel, HardwareAccelerationPolicy, SettingsExt as _, WebContextExt as _, WebViewExt as _,
            };
            let view = webview.inner();
            if let Some(settings) = view.settings() {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
                // No back/forward navigation in the counter: nothing to keep a page cache for.
                settings.set_enable_page_cache(false);
            }
            if let Some(context) = view.context() {
                context.set_cache_model(CacheModel::DocumentViewer);
            }
        });
        if let Err(e) = done {
            tracing::warn!(error = %e, "could not tune the webview; it runs with WebKitGTK's defaults");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}
