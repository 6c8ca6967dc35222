//! The gateway's health in the real window, sandbox mode: the header green after the start-up
//! probe, amber after a rate-limited call, red once the sandbox's backend fails (faults put through
//! its `/sim/faults` route over HTTP), then 网页模式 opening the sandbox's own portal page through
//! the real opener (tauri-plugin-opener → the `open` crate → xdg-open → the desktop's default
//! browser, here a recording script), audited as `portal_open` for the signed-in clerk.
//!
//! Under a display, xdg-open asks the desktop's x-scheme-handler default before `$BROWSER` (on this
//! PC it would find chromium), so the test gives the app its own `mimeapps.list` and `.desktop`
//! browser in private XDG folders, and sets `BROWSER` to the same script for a desktop without one.

use crate::harness::{Display, Driver, app_binary};
use crate::page::Window;
use crate::shift::sign_in;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use yueshang_core::cache::Cache;
use yueshang_core::keystore::KeyStore;
use yueshang_gateway_sim::{PORTAL_TITLE, SANDBOX_ACCOUNTS};

/// A plain granted sample with a few licenses.
const SAMPLE: &str = "91441900MA51JN4P07";

/// One HTTP/1.1 request to the sandbox on loopback; the status and the body.
async fn http(base: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let authority = base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(authority).await.expect("connect to the sandbox");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send the request");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read the answer");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// The in-process sandbox's address, as the app's log names it at the start.
fn sandbox_base(data: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text: String = std::fs::read_dir(data.join("logs"))
            .map(|dir| dir.flatten().filter_map(|f| std::fs::read_to_string(f.path()).ok()).collect())
            .unwrap_or_default();
        let found = text.lines().filter(|l| l.contains("sandbox gateway listening")).find_map(|l| {
            let at = l.find("base_url=")? + "base_url=".len();
            Some(l[at..].split_whitespace().next()?.trim_matches('"').to_owned())
        });
        if let Some(base) = found {
            return base;
        }
        assert!(Instant::now() < deadline, "the log never named the sandbox's address:\n{text}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

async fn set_faults(base: &str, specs: &[&str]) {
    let body = serde_json::to_string(specs).unwrap();
    let (status, answer) = http(base, "PUT", "/sim/faults", &body).await;
    assert_eq!(status, 200, "PUT /sim/faults {body}: {answer}");
}

async fn fresh_code(base: &str) -> String {
    let (status, body) = http(base, "POST", "/sim/codes", &format!(r#"{{"uscc":"{SAMPLE}"}}"#)).await;
    assert_eq!(status, 200, "{body}");
    let issued: Value = serde_json::from_str(body.trim()).unwrap_or_else(|e| panic!("{e}: {body}"));
    issued["payload"].as_str().expect("a payload").to_owned()
}

async fn level(window: &Window<'_>) -> String {
    let script =
        r#"const e = document.querySelector('[data-testid="gateway-health"]'); return e ? e.dataset.level : null;"#;
    window.js(script).await.as_str().unwrap_or_default().to_owned()
}

async fn until_level(window: &Window<'_>, want: &str) -> String {
    window
        .until(&format!("the gateway's health to read {want}"), || async {
            if level(window).await == want { window.text_of("health-text").await } else { None }
        })
        .await
}

/// A private browser for xdg-open: a script that writes down what it was asked to open.
fn fake_browser(home: &Path) -> (std::path::PathBuf, [(&'static str, std::path::PathBuf); 3]) {
    let opened = home.join("opened.txt");
    let script = home.join("record-url.sh");
    std::fs::write(&script, format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", opened.display())).unwrap();
    let mut permissions = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&script, permissions).unwrap();
    let xdg_config = home.join("xdg-config");
    let xdg_data = home.join("xdg-data");
    std::fs::create_dir_all(&xdg_config).unwrap();
    std::fs::create_dir_all(xdg_data.join("applications")).unwrap();
    std::fs::write(
        xdg_config.join("mimeapps.list"),
        "[Default Applications]\nx-scheme-handler/http=yueshang-e2e-browser.desktop\nx-scheme-handler/https=yueshang-e2e-browser.desktop\n",
    )
    .unwrap();
    std::fs::write(
        xdg_data.join("applications/yueshang-e2e-browser.desktop"),
        format!(
            "[Desktop Entry]\nType=Application\nName=Recorder\nExec={} %u\nMimeType=x-scheme-handler/http;x-scheme-handler/https;\n",
            script.display()
        ),
    )
    .unwrap();
    (opened, [("XDG_CONFIG_HOME", xdg_config), ("XDG_DATA_HOME", xdg_data), ("BROWSER", script)])
}

/// Its own display and sandbox-mode counter, beside the other window tests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_health_in_the_header_and_the_web_portal() {
    let app = app_binary();
    let display = Display::start();
    let home = tempfile::tempdir().expect("temp dir");
    the_gateway_goes_down_and_the_clerk_takes_the_portal(&app, &display, home.path()).await;
}

async fn the_gateway_goes_down_and_the_clerk_takes_the_portal(app: &Path, display: &Display, home: &Path) {
    let data = home.join("health-data");
    let config = home.join("health.toml");
    std::fs::write(&config, "mode = \"sandbox\"\n").unwrap();
    let (opened, browser_env) = fake_browser(home);
    let mut env: Vec<(&str, &Path)> = vec![("YUESHANG_CONFIG", &config), ("YUESHANG_DATA_DIR", &data)];
    env.extend(browser_env.iter().map(|(k, v)| (*k, v.as_path())));
    let driver = Driver::start(display, &env);
    let window = Window::open(&driver.url, app, display, "health").await;
    let clerk = &SANDBOX_ACCOUNTS[0];
    sign_in(&window, clerk.account, clerk.password).await;
    window.until_text("clerk-name", clerk.name).await;

    // The start-up probe: green before anybody scanned.
    let text = until_level(&window, "ok").await;
    assert!(text.contains("网关正常") && text.contains("上次成功"), "{text}");
    window.screenshot("ok").await;
    let base = sandbox_base(&data);

    // One rate-limited exchange: amber, counted.
    set_faults(&base, &["code2auth:status=429*1"]).await;
    window.scan(&fresh_code(&base).await).await;
    window.until_text("error-banner", "频繁").await;
    let text = until_level(&window, "degraded").await;
    assert!(text.contains("网关不稳定") && text.contains("5 分钟内失败 1 次"), "{text}");
    window.screenshot("degraded").await;

    // The sandbox's backend gone (every contract route 503): red at the first failed call.
    set_faults(&base, &["status=503"]).await;
    window.scan(&fresh_code(&base).await).await;
    let text = until_level(&window, "down").await;
    assert!(text.contains("网关连不上"), "{text}");
    let button = window.text_of("portal-open").await.unwrap_or_default();
    assert!(button.contains("改用网页模式"), "the portal button is prominent when down: {button}");
    window.click(r#"[data-testid="health-indicator"]"#).await;
    window.until_text("health-details", "GATEWAY_UNAVAILABLE").await;
    window.until_text("health-details", "暂时连不上省网关").await;
    window.screenshot("down").await;
    window.click(r#"[data-testid="health-indicator"]"#).await;

    // 网页模式: the system browser gets the sandbox's own portal page, never the real portal.
    window.click(r#"[data-testid="portal-open"]"#).await;
    let portal = format!("{}/sim/portal", base.trim_end_matches('/'));
    let note = window.until_text("portal-note", "已在浏览器中打开").await;
    let host = portal.trim_start_matches("http://").trim_end_matches("/sim/portal").to_owned();
    assert!(note.contains(&host), "{note}");
    let recorded = window
        .until("the browser to be asked for the portal", || async {
            std::fs::read_to_string(&opened).ok().filter(|t| !t.trim().is_empty())
        })
        .await;
    assert_eq!(recorded.lines().collect::<Vec<_>>(), [portal.as_str()], "what the browser was asked to open");
    let (status, page) = http(&base, "GET", "/sim/portal", "").await;
    assert_eq!(status, 200);
    assert!(page.contains(PORTAL_TITLE), "{page}");
    window.screenshot("portal-opened").await;

    // The gateway back: the next call succeeds; amber while the failures are under 5 minutes old.
    let (status, _) = http(&base, "DELETE", "/sim/faults", "").await;
    assert_eq!(status, 204);
    window.scan(&fresh_code(&base).await).await;
    window.until("the enterprise", || async { window.text_of("enterprise-card").await }).await;
    let text = until_level(&window, "degraded").await;
    assert!(text.contains("5 分钟内失败 2 次"), "{text}");
    window.screenshot("recovered").await;
    window.close().await;
    drop(driver);

    // The audit trail: portal_open, ok, by the signed-in clerk, naming only the host.
    let keys = KeyStore::for_config(Some(&config)).unwrap();
    let cache = Cache::open(&data.join("sandbox.sqlite3"), &keys).unwrap();
    let events: Vec<_> = cache.audit_events().unwrap().into_iter().filter(|e| e.kind == "portal_open").collect();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.outcome, "ok");
    assert_eq!(event.operator_account, clerk.account);
    assert_eq!(event.detail.as_deref(), Some(format!("门户 {host}").as_str()));
}
