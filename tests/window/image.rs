//! The 粤商码 from an image in the real window: a picture pasted (Ctrl+V), a file dropped onto the
//! window, a picture without a code (shown beside the message), a QR code that is not a 粤商码, and
//! the camera (F4) on a PC without one. The images go through the real shell and the core's reader.

use crate::harness::{Display, Driver, app_binary, require_program};
use crate::page::{ESCAPE, Window};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use yueshang_gateway_sim::{SandboxGateway, SimOptions, samples};

/// WebDriver's codes for F4 (the camera) and Control.
const F4: char = '\u{E034}';
const CONTROL: char = '\u{E009}';

/// A plain sample (3 valid licenses) for the paste, another for the drop.
const PASTED: &str = "91440106MA5D2H7K3D";
const DROPPED: &str = "91442000MA53HW5D2F";

/// The QR image of an issued code as the sandbox serves it at `/sim/qr.png?payload=…` (the same
/// function makes both, so the test needs no HTTP client of its own).
fn qr_png(payload: &str) -> Vec<u8> {
    let png = yueshang_gateway_sim::qr_png(payload);
    assert!(!png.is_empty(), "the sandbox made no QR image");
    png
}

/// A picture on the display's clipboard (as a screenshot tool or a chat program puts it there),
/// then Ctrl+V with nothing focused: what the clerk does, through WebKitGTK's own paste.
async fn paste(window: &Window<'_>, display: &Display, dir: &Path, png: &[u8]) {
    let file = dir.join("clipboard.png");
    std::fs::write(&file, png).expect("write the picture");
    // xclip serves the selection from the background until another program takes it or the display ends.
    let served = Command::new("xclip")
        .args(["-display", &display.name, "-selection", "clipboard", "-t", "image/png", "-i"])
        .arg(&file)
        .status()
        .expect("run xclip");
    assert!(served.success(), "xclip could not put the picture on the clipboard");
    window.js("if (document.activeElement instanceof HTMLElement) document.activeElement.blur(); return true;").await;
    let keys = KeyActions::new("keyboard".to_owned())
        .then(KeyAction::Down { value: CONTROL })
        .then(KeyAction::Down { value: 'v' })
        .then(KeyAction::Up { value: 'v' })
        .then(KeyAction::Up { value: CONTROL });
    window.client.perform_actions(keys).await.expect("press Ctrl+V");
}

/// A picture without any code, drawn by the webview itself: a photo of a license, say.
async fn picture_without_a_code(window: &Window<'_>) -> Vec<u8> {
    let script = r#"
        const done = arguments[arguments.length - 1];
        const c = document.createElement('canvas');
        c.width = 480; c.height = 320;
        const g = c.getContext('2d');
        g.fillStyle = '#fffdf5'; g.fillRect(0, 0, 480, 320);
        g.strokeStyle = '#b22222'; g.lineWidth = 10; g.strokeRect(8, 8, 464, 304);
        g.fillStyle = '#222'; g.font = '40px sans-serif'; g.fillText('营业执照（照片）', 70, 150);
        g.font = '22px sans-serif'; g.fillText('没有二维码', 170, 210);
        c.toBlob((b) => b.arrayBuffer().then((a) => done(Array.from(new Uint8Array(a)))), 'image/png');
    "#;
    let bytes = window.client.execute_async(script, vec![]).await.expect("draw a picture");
    serde_json::from_value(bytes).expect("the picture's bytes")
}

/// Delivers a drag-and-drop event to the page's listeners exactly as the shell does when the
/// system reports one (Tauri evaluates this same call in the webview). A real drag from another
/// application cannot be made under WebDriver; what follows the event — the window's own handler,
/// the `read_image_file` command with a real file on disk, the core's reader — is all real.
async fn drag_event(window: &Window<'_>, event: &str, paths: &[&str]) {
    let script = r#"
        const [event, paths] = arguments;
        const emit = window.__internal_unstable_listeners_function_id__;
        const listeners = (window.__internal_unstable_listeners_object_id__ || {})[event] || {};
        const ids = Object.getOwnPropertyNames(listeners).map(Number);
        if (!emit || !ids.length) return 0;
        const payload = event === 'tauri://drag-leave' ? null : { paths, position: { x: 600, y: 400 } };
        emit({ event, payload }, ids);
        return ids.length;
    "#;
    let delivered = window.client.execute(script, vec![json!(event), json!(paths)]).await.expect("a drag event");
    assert_ne!(
        delivered, 0,
        "no listener for {event}: the window does not listen for drops (or Tauri renamed its internals)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_from_an_image_in_the_real_window() {
    require_program("xclip", "apt-get install xclip");
    let app = app_binary();
    let display = Display::start();
    let sim = SandboxGateway::start(
        "127.0.0.1:0".parse().unwrap(),
        SimOptions { latency: Duration::from_millis(20), ..SimOptions::default() },
    )
    .await
    .expect("start the sandbox gateway");
    let control = sim.control();
    let home = tempfile::tempdir().expect("temp dir");
    let config = crate::write_config(home.path(), &sim, "image.toml", "");
    let data = home.path().join("data");
    let driver = Driver::start(&display, &[("YUESHANG_CONFIG", &config), ("YUESHANG_DATA_DIR", &data)]);
    let window = Window::open(&driver.url, &app, &display, "image").await;
    window.until_text("counter-header", "B07").await;

    // Ctrl+V of a screenshot of the customer's code: the enterprise and its licenses.
    let pasted = samples::find(PASTED).expect("sample");
    let code = control.issue_code(PASTED, None).unwrap().payload;
    paste(&window, &display, home.path(), &qr_png(&code)).await;
    window.until_text("enterprise-card", &pasted.name).await;
    window.until_text("enterprise-card", PASTED).await;
    window.screenshot("01-pasted").await;

    // A picture without a code: the advice, and the picture beside it so the clerk sees why; the
    // customer on screen stays (nothing was scanned).
    let photo = picture_without_a_code(&window).await;
    paste(&window, &display, home.path(), &photo).await;
    window.until_text("error-banner", "图片中没有找到粤商码").await;
    window
        .until("the picture beside the message", || async {
            let shown = window
                .js(r#"const i = document.querySelector('[data-testid="image-no-code-img"]');
                       return !!i && i.complete && i.naturalWidth === 480 && i.src.startsWith('blob:');"#)
                .await;
            (shown == true).then_some(())
        })
        .await;
    assert!(window.text_of("enterprise-card").await.is_some_and(|t| t.contains(&pasted.name)));
    window.screenshot("02-no-code").await;
    window.click(r#"[data-testid="error-dismiss"]"#).await;
    window.until_gone("image-no-code").await;

    // A QR code that is not a 粤商码 (a payment link): said as a wrong code.
    paste(&window, &display, home.path(), &qr_png("https://pay.example.com/qr?order=20261128-0042")).await;
    window.until_text("error-banner", "CODE_INVALID").await;
    window.screenshot("03-not-a-code").await;

    // A file dropped onto the window: the overlay while it is dragged, then its enterprise.
    let dropped = samples::find(DROPPED).expect("sample");
    let file = home.path().join("粤商码截图.png");
    std::fs::write(&file, qr_png(&control.issue_code(DROPPED, None).unwrap().payload)).expect("write the picture");
    let path = file.to_str().expect("a UTF-8 path");
    drag_event(&window, "tauri://drag-enter", &[path]).await;
    window.until_text("image-drop", "松开鼠标识别图片中的粤商码").await;
    window.screenshot("04-drop-overlay").await;
    drag_event(&window, "tauri://drag-drop", &[path]).await;
    window.until_gone("image-drop").await;
    window.until_text("enterprise-card", &dropped.name).await;
    window.screenshot("05-dropped").await;

    // The camera: the webview offers media streams (switched on by the shell); this machine has no
    // camera, which the dialog says, and Esc closes it.
    let media = window.js("return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);").await;
    assert_eq!(media, true, "WebKitGTK's media streams are off: getUserMedia is missing");
    window.type_keys(&F4.to_string()).await;
    let status = window
        .until("the camera dialog's answer", || async {
            let phase = window
                .js(r#"const d = document.querySelector('[data-testid="camera-dialog"]'); return d ? d.dataset.phase : null;"#)
                .await;
            if phase == "failed" || phase == "looking" { window.text_of("camera-status").await } else { None }
        })
        .await;
    window.screenshot("06-camera").await;
    assert!(status.contains("摄像头") || status.contains("粤商码"), "the camera dialog says \"{status}\"");
    window.type_keys(&ESCAPE.to_string()).await;
    window.until_gone("camera-dialog").await;

    // A code read from an image is a bearer credential: not in the day's log.
    let secret = code.rsplit('/').next().expect("the code after /ysm/");
    assert!(!read_logs(&data).contains(secret), "a code read from an image is in the log");
    window.close().await;
}

fn read_logs(data: &std::path::Path) -> String {
    let logs = data.join("logs");
    std::fs::read_dir(&logs)
        .map(|dir| dir.filter_map(|f| std::fs::read_to_string(f.ok()?.path()).ok()).collect())
        .unwrap_or_default()
}
