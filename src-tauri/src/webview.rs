//! How WebKitGTK runs the counter's page on Linux: the cache sized for one local document. Set
//! once, as the window is made, before the page has loaded.
//!
//! The page is the app's own bundle: no site to cache for, no back/forward navigation to keep a page
//! cache for. Compositing stays WebKitGTK's choice: with the hardware acceleration policy set to
//! *never* (which saved the web process about 80 MB of Mesa and LLVM), the page stopped running
//! `requestAnimationFrame` after its first error banner under Xvfb, and WebDriver's key strokes
//! waited forever for a frame: a window that stops repainting is worse than the memory.
//! Windows' WebView2 decides these itself.

/// Called first thing in the app's setup, while the page of the window from tauri.conf.json has
/// not loaded yet.
pub(crate) fn tune<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    #[cfg(target_os = "linux")]
    {
        use tauri::Manager as _;
        let Some(window) = app.get_webview_window(crate::camera::MAIN) else { return };
        let done = window.with_webview(|webview| {
            use webkit2gtk::{CacheModel, SettingsExt as _, WebContextExt as _, WebViewExt as _};
            let view = webview.inner();
            if let Some(settings) = view.settings() {
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
