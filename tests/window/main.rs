//! The real counter app in a real window: Xvfb, tauri-driver and WebKitWebDriver drive the built
//! binary against a sandbox gateway this test starts (so it can issue codes and inject faults).
//!
//! One session walks a clerk's day: scanner key strokes into the window, the enterprise and every
//! license card with its status, the viewer, 下一位, an expired code, a gateway timeout, a revoked
//! license, and failed cards with 重试. A second session starts the app with no configuration at
//! all (sandbox mode) and uses the sandbox helper with the mouse; a third starts it with a broken
//! configuration; `case.rs` finishes cases (print preview, printing to real CUPS queues, 另存为,
//! the 办结 panel with the gateway up and down). `idle.rs` leaves a counter alone until it clears
//! itself and locks, and searches the webview's data for the customer; `lookup.rs` looks an
//! enterprise up by its USCC on a legal ground (依职能用证); `image.rs` reads codes from pasted and
//! dropped pictures and opens the camera; `health.rs` turns the gateway red and takes 网页模式.
//! Screenshots go to
//! tests/out/window/.

mod a11y;
mod case;
mod harness;
mod health;
mod idle;
mod image;
mod instance;
mod lookup;
mod page;
mod setup;
mod shift;

use harness::{Display, Driver, app_binary};
use page::{ESCAPE, F6, F8, Window};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use yueshang_core::clock::{Clock, SystemClock};
use yueshang_core::domain::license::parse_license_date;
use yueshang_core::domain::{IssueState, LicenseStatus};
use yueshang_gateway_sim::samples::{self, FileKind, SampleEnterprise};
use yueshang_gateway_sim::{SandboxGateway, SimOptions};

/// The sample with thirteen licenses, the one with a revoked license, and a plain one.
const MANY: &str = "91440300MA5F8LQ26J";
const WITH_REVOKED: &str = "91440604MA4UK2R7XR";
const WITH_EXPIRED: &str = "91441900MA51JN4P07";
/// The sample whose pharmacy license is a scanned JPEG.
const WITH_SCAN: &str = "91440703MA52RT6H9J";

/// What each license card must say, computed from the sample data with the core's status rule.
fn expected_statuses(enterprise: &SampleEnterprise) -> BTreeMap<String, &'static str> {
    let today = SystemClock.now_china().date_naive();
    enterprise
        .licenses
        .iter()
        .map(|l| {
            let w = &l.license;
            let status = LicenseStatus::of(
                &IssueState::parse(&w.license_status),
                parse_license_date(&w.begin_date).unwrap(),
                parse_license_date(&w.expiry_date).unwrap(),
                today,
            );
            (w.license_code.clone(), status.as_str())
        })
        .collect()
}

/// A gateway-mode configuration pointing at the test's sandbox, with a 4 s timeout: the timeout
/// step takes seconds, not the production 17 s, yet a busy 2-core machine rendering the sample
/// PDFs stays well within it.
fn write_config(dir: &Path, sim: &SandboxGateway, name: &str, extra: &str) -> std::path::PathBuf {
    use yueshang_gateway_sim as s;
    let settings = s::sandbox_settings(&sim.base_url());
    let g = &settings.gateway;
    let toml = format!(
        r#"mode = "gateway"
[gateway]
environment = "test"
yst_base = "{yst}"
license_base = "{license}"
paasid = "{paasid}"
token = "{token}"
system_id = "{system}"
vender_id = "{vender}"
department_id = "{department}"
account = "{account}"
password = "{password}"
app_key = "{app_key}"
app_secret = "{app_secret}"

[operator]
account = "e2e_clerk"
name = "林测试"
role = "窗口受理人员"
division_code = "440106"
service_org = "广州市天河区政务服务中心"
service_org_code = "{department}"

[hall]
code = "440106001"
name = "天河区政务服务中心"
counter = "B07"

[tuning]
request_timeout_ms = 4000
"#,
        yst = g.yst_base,
        license = g.license_base,
        paasid = g.paasid,
        token = s::SANDBOX_TOKEN,
        system = g.system_id,
        vender = g.vender_id,
        department = g.department_id,
        account = g.account,
        password = s::SANDBOX_PASSWORD,
        app_key = g.app_key,
        app_secret = s::SANDBOX_APP_SECRET,
    );
    let items: String = settings
        .service_items
        .iter()
        .map(|i| format!("\n[[service_items]]\ncode = \"{}\"\nname = \"{}\"\n", i.code, i.name))
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, toml + extra + &items).expect("write the test configuration");
    path
}

/// The license cards on screen: code, status attribute, badge text and phase (loading, ready, failed…).
pub(crate) async fn cards(window: &Window<'_>) -> Vec<Value> {
    let script = r#"return [...document.querySelectorAll('[data-testid="license-card"]')].map(c => ({
        code: c.dataset.licenseCode, status: c.dataset.status, state: c.dataset.phase,
        badge: (c.querySelector('[data-testid="status-badge"]') || {}).innerText || '' }));"#;
    window.js(script).await.as_array().cloned().unwrap_or_default()
}

/// Waits until every authorized license of `enterprise` has a settled card, then checks each
/// card's status against the sample data.
async fn expect_cards(window: &Window<'_>, enterprise: &SampleEnterprise) {
    let expected = expected_statuses(enterprise);
    let settled = window
        .until(&format!("{} settled license cards", expected.len()), || async {
            let cards = cards(window).await;
            let done = cards.iter().all(|c| c["state"] != "loading");
            (cards.len() == expected.len() && done).then_some(cards)
        })
        .await;
    for card in &settled {
        let code = card["code"].as_str().expect("card has a license code");
        let want = expected.get(code).unwrap_or_else(|| panic!("unexpected card {code}"));
        assert_eq!(card["status"], *want, "status of {code}: {card}");
        assert_eq!(card["state"], "ready", "{code} should have its file: {card}");
        let badge = card["badge"].as_str().unwrap_or_default();
        let label = LicenseStatus::parse(want).unwrap().label();
        assert!(badge.contains(label), "badge of {code} is \"{badge}\", want {label}");
        if *want != "valid" {
            assert!(!badge.contains("有效"), "a {want} license must never read 有效");
        }
    }
}

/// No enterprise data of `enterprise` anywhere in the page (not only hidden).
async fn expect_no_trace(window: &Window<'_>, enterprise: &SampleEnterprise) {
    let html = window.js("return document.documentElement.outerHTML;").await;
    let html = html.as_str().unwrap_or_default();
    assert!(!html.contains(&enterprise.name), "the enterprise's name is still in the DOM");
    assert!(!html.contains(&enterprise.uscc), "the enterprise's USCC is still in the DOM");
    for l in &enterprise.licenses {
        assert!(!html.contains(&l.license.id_code), "license number {} is still in the DOM", l.license.id_code);
    }
}

/// Nothing is cut off at 1366×768: no horizontal scrolling, header and 下一位 inside the view.
async fn expect_fits(window: &Window<'_>) {
    let facts = window
        .js(r#"const inView = s => { const e = document.querySelector(`[data-testid="${s}"]`); if (!e) return false;
            const r = e.getBoundingClientRect(); return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth; };
            return { w: innerWidth, h: innerHeight, scroll: document.documentElement.scrollWidth,
                     header: inView('counter-header'), next: inView('next-customer') };"#)
        .await;
    assert!(facts["scroll"].as_f64() <= facts["w"].as_f64(), "horizontal overflow: {facts}");
    assert_eq!(facts["header"], true, "header cut off: {facts}");
    assert_eq!(facts["next"], true, "下一位 cut off: {facts}");
}

async fn biz_num(window: &Window<'_>) -> String {
    window.until("a handling number", || async { window.text_of("biz-num").await.filter(|t| t.contains("YS-")) }).await
}

pub(crate) fn sample(uscc: &str) -> SampleEnterprise {
    samples::find(uscc).expect("sample enterprise")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerks_day_in_the_real_window() {
    let app = app_binary();
    let display = Display::start();
    let sim = SandboxGateway::start(
        "127.0.0.1:0".parse().unwrap(),
        SimOptions { latency: Duration::from_millis(30), ..SimOptions::default() },
    )
    .await
    .expect("start the sandbox gateway");
    let control = sim.control();
    let home = tempfile::tempdir().expect("temp dir");
    let config = write_config(home.path(), &sim, "config.toml", "");
    let data = home.path().join("data");

    let driver = Driver::start(&display, &[("YUESHANG_CONFIG", &config), ("YUESHANG_DATA_DIR", &data)]);
    let window = Window::open(&driver.url, &app, &display, "gateway").await;

    // Start: the counter's identity and a handling number; nothing focused that would take keys.
    window.until_text("counter-header", "B07").await;
    window.until_text("mode-badge", "测试环境").await;
    let first_biz = biz_num(&window).await;
    let focused = window.js("const a = document.activeElement; return a ? a.tagName : 'NONE';").await;
    assert!(
        !matches!(focused.as_str(), Some("INPUT" | "TEXTAREA" | "SELECT")),
        "a field is focused ({focused}); the scanner must work without one"
    );
    window.screenshot("01-idle").await;

    // The scanner types into the window; the enterprise and all thirteen cards arrive.
    let many = sample(MANY);
    window.scan(&control.issue_code(MANY, None).unwrap().payload).await;
    window.until_text("enterprise-card", &many.name).await;
    window.until_text("enterprise-card", MANY).await;
    expect_cards(&window, &many).await;
    expect_fits(&window).await;
    window.screenshot("02-result").await;
    // 大字模式 in WebKitGTK: the header button, text 1.5× larger, still fitting 1366×768, held to
    // 7:1 contrast by the screenshot's axe check; then back, as the clerk left it.
    let size =
        r#"return parseFloat(getComputedStyle(document.querySelector('[data-testid="enterprise-name"]')).fontSize);"#;
    let normal = window.js(size).await.as_f64().unwrap_or_default();
    window.click(r#"[data-testid="large-type-toggle"]"#).await;
    let large = window.js(size).await.as_f64().unwrap_or_default();
    assert!(large >= normal * 1.5 - 0.01, "大字模式: the enterprise name {normal} → {large} px");
    expect_fits(&window).await;
    window.screenshot("02b-result-large-type").await;
    window.click(r#"[data-testid="large-type-toggle"]"#).await;

    // The viewer shows the first license's annotated copy, with its pages and face fields.
    let first = &many.licenses[0].license;
    let card = format!(r#"[data-testid="license-card"][data-license-code="{}"]"#, first.license_code);
    window.js(&format!("document.querySelector('{card}').click(); return true;")).await;
    window.until_text("viewer-page", "1 /").await;
    window
        .until("a rendered PDF page", || async {
            let page = window
                .js(r#"const v = document.querySelector('[data-testid="viewer"]');
                       const c = document.querySelector('[data-testid="viewer-canvas"]');
                       return v && c && v.dataset.rendered === 'true' && v.dataset.kind === 'pdf' ? c.width * c.height : 0;"#)
                .await;
            (page.as_f64().unwrap_or(0.0) > 10_000.0).then_some(())
        })
        .await;
    window.until_text("face-fields", &first.holder_name).await;
    window.screenshot("03-viewer").await;
    window.type_keys(&ESCAPE.to_string()).await;
    window.until_gone("viewer").await;

    // 下一位 (F8): a new handling number and no trace of the enterprise anywhere in the DOM.
    window.type_keys(&F8.to_string()).await;
    window.until_gone("enterprise-card").await;
    let second_biz = biz_num(&window).await;
    assert_ne!(second_biz, first_biz, "下一位 starts a new handling number");
    expect_no_trace(&window, &many).await;
    window.screenshot("04-next-customer").await;

    // An expired code: the message tells the clerk to have the code refreshed.
    let expired = control.issue_code(WITH_EXPIRED, Some(Duration::from_millis(1))).unwrap().payload;
    tokio::time::sleep(Duration::from_millis(20)).await; // let the 1 ms code lapse
    window.scan(&expired).await;
    window.until_text("error-banner", "刷新").await;
    assert!(window.text_of("error-banner").await.unwrap().contains("过期"));
    window.screenshot("05-code-expired").await;

    // A gateway that does not answer in time: the timeout message, and the app goes on.
    control.set_faults(vec!["code2auth:latency=7000*1".parse().unwrap()]);
    window.scan(&control.issue_code(WITH_REVOKED, None).unwrap().payload).await;
    window.until_text("error-banner", "超时").await;
    window.screenshot("06-gateway-timeout").await;
    control.clear_faults();

    // Still usable: the next scan works, and a revoked license reads 已注销, never 有效.
    let revoked = sample(WITH_REVOKED);
    window.scan(&control.issue_code(WITH_REVOKED, None).unwrap().payload).await;
    window.until_text("enterprise-card", &revoked.name).await;
    window.until_gone("error-banner").await;
    expect_cards(&window, &revoked).await;
    window.screenshot("07-revoked").await;

    // 依职能用证: the enterprise's USCC typed in, a ground picked, the same cards.
    lookup::lookup_by_duty(&window, WITH_EXPIRED).await;

    // The gateway refuses every annotated copy (three tries each): each card says why and offers
    // 重试; 重试 on the scanned license brings it, and the viewer shows the image.
    let scanned = sample(WITH_SCAN);
    let tries = scanned.licenses.len() * 3;
    control.set_faults(vec![format!("archive:status=503*{tries}").parse().unwrap()]);
    window.scan(&control.issue_code(WITH_SCAN, None).unwrap().payload).await;
    window.until_text("enterprise-card", &scanned.name).await;
    window
        .until("every card failed, with 重试", || async {
            let cards = cards(&window).await;
            (cards.len() == scanned.licenses.len() && cards.iter().all(|c| c["state"] == "failed")).then_some(())
        })
        .await;
    let retries = window.js(r#"return document.querySelectorAll('[data-testid="retry-button"]').length;"#).await;
    assert_eq!(retries.as_u64(), Some(scanned.licenses.len() as u64));
    window.until_text("card-error", "稍后重试").await;
    window.screenshot("08-failed-cards").await;
    control.clear_faults();
    let jpeg = scanned.licenses.iter().find(|l| l.file == FileKind::ScannedJpeg).expect("a scanned license");
    let card = format!(r#"[data-testid="license-card"][data-license-code="{}"]"#, jpeg.license.license_code);
    window.js(&format!(r#"document.querySelector('{card} [data-testid="retry-button"]').click(); return true;"#)).await;
    window
        .until("the retried card to be ready", || async {
            let phase = window.js(&format!("return document.querySelector('{card}').dataset.phase;")).await;
            (phase == "ready").then_some(())
        })
        .await;
    window.js(&format!("document.querySelector('{card}').click(); return true;")).await;
    window
        .until("the scanned image in the viewer", || async {
            let shown = window
                .js(r#"const i = document.querySelector('[data-testid="viewer-image"]');
                       return !!i && i.complete && i.naturalWidth > 0;"#)
                .await;
            (shown == true).then_some(())
        })
        .await;
    window.screenshot("09-viewer-image").await;
    window.type_keys(&ESCAPE.to_string()).await;
    window.until_gone("viewer").await;
    window.close().await;
    drop(driver);
    expect_a_clean_log(&data);
    lookup::expect_the_ground_on_record(&config, &data, WITH_EXPIRED);

    case::finishing_a_case(&app, &display, home.path(), &sim).await;
    sandbox_mode_with_the_mouse(&app, &display, home.path()).await;
    shift::a_shift_with_sign_in(&app, &display, home.path()).await;
    a_broken_configuration_is_shown_for_it(&app, &display, home.path()).await;
}

/// A counter left alone with a customer on screen clears itself, then locks (real one- and
/// two-minute timers: mostly waiting, so it runs beside the clerk's day), and the webview keeps
/// nothing of the customer on disk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unattended_counter_clears_itself_and_locks() {
    let app = app_binary();
    let display = Display::start();
    let home = tempfile::tempdir().expect("temp dir");
    idle::an_unattended_counter(&app, &display, home.path()).await;
}

/// A configuration file IT left incomplete: the window opens and names the key to fix. A data
/// folder whose storage key is gone: the window names that and IT's way out.
async fn a_broken_configuration_is_shown_for_it(app: &Path, display: &Display, home: &Path) {
    let config = home.join("broken.toml");
    std::fs::write(&config, "mode = \"gateway\"\n[gateway]\nenvironment = \"test\"\n").expect("write config");
    let data = home.join("broken-data");
    let driver = Driver::start(display, &[("YUESHANG_CONFIG", &config), ("YUESHANG_DATA_DIR", &data)]);
    let window = Window::open(&driver.url, app, display, "config").await;
    window.until_text("app-starting", "gateway.paasid").await;
    window.until_text("error-banner", "CONFIG_INVALID").await;
    window.screenshot("01-invalid").await;
    window.close().await;
    drop(driver);

    // The data folder of another PC (or one whose key was deleted): the window opens, names the
    // missing storage key and IT's way out, and shows nothing of what the database holds.
    let copied = home.join("copied-data");
    let xdg = home.join("copied-xdg");
    let driver = Driver::start(display, &[("XDG_CONFIG_HOME", &xdg), ("YUESHANG_DATA_DIR", &copied)]);
    let window = Window::open(&driver.url, app, display, "key").await;
    window.until_text("sandbox-accounts", "沙箱账号").await;
    window.close().await;
    drop(driver);
    std::fs::remove_dir_all(xdg.join("yueshang-counter").join("keys"))
        .expect("the key folder beside the configuration");
    let driver = Driver::start(display, &[("XDG_CONFIG_HOME", &xdg), ("YUESHANG_DATA_DIR", &copied)]);
    let window = Window::open(&driver.url, app, display, "key").await;
    window.until_text("error-banner", "STORAGE_KEY_MISSING").await;
    window.until_text("app-starting", "yueshang cache reset").await;
    window.screenshot("02-key-missing").await;
    window.close().await;
}

/// The day's log file is in the data folder, says what happened, and holds no secret and no
/// scanned code.
fn expect_a_clean_log(data: &Path) {
    let logs = data.join("logs");
    let text: String = std::fs::read_dir(&logs)
        .unwrap_or_else(|e| panic!("{}: {e}", logs.display()))
        .map(|f| std::fs::read_to_string(f.expect("log entry").path()).expect("read log"))
        .collect();
    assert!(text.contains("counter started"), "the log says nothing of the start:\n{text}");
    assert!(text.contains("GATEWAY_TIMEOUT"), "the log does not record the timeout");
    use yueshang_gateway_sim as s;
    for secret in [s::SANDBOX_TOKEN, s::SANDBOX_PASSWORD, s::SANDBOX_APP_SECRET, "yueshangma.sandbox.invalid"] {
        assert!(!text.contains(secret), "the log holds {secret}");
    }
}

/// Opens the sandbox helper (F6), waits for its live QR code, takes a screenshot as `shot`, and
/// feeds the code with the mouse: the enterprise card's text once it appears.
pub(crate) async fn serve_from_the_sandbox_panel(window: &Window<'_>, shot: &str) -> String {
    window.type_keys(&F6.to_string()).await;
    window
        .until("the sandbox panel's QR code", || async {
            let loaded = window
                .js(r#"const q = document.querySelector('[data-testid="sandbox-qr"]'); return !!q && q.naturalWidth > 0;"#)
                .await;
            (loaded == true).then_some(())
        })
        .await;
    window.screenshot(shot).await;
    window.click(r#"[data-testid="sandbox-feed"]"#).await;
    window.until("an enterprise from the sandbox", || async { window.text_of("enterprise-card").await }).await
}

/// No configuration at all: the app runs its own sandbox, says so, starts at the sign-in screen
/// with the sample accounts (one click and Enter), and its helper panel lets a person scan a
/// sample enterprise's live code with the mouse.
async fn sandbox_mode_with_the_mouse(app: &Path, display: &Display, home: &Path) {
    let config_home = home.join("xdg-config");
    let data = home.join("sandbox-data");
    let driver = Driver::start(display, &[("XDG_CONFIG_HOME", &config_home), ("YUESHANG_DATA_DIR", &data)]);
    let window = Window::open(&driver.url, app, display, "sandbox").await;
    window.until_text("sandbox-accounts", "沙箱账号").await;
    window.screenshot("00-sign-in").await;
    let clerk = &yueshang_gateway_sim::SANDBOX_ACCOUNTS[0];
    window
        .js(&format!(
            r#"document.querySelector('[data-testid="sandbox-account"][data-account="{}"]').click(); return true;"#,
            clerk.account
        ))
        .await;
    window.type_keys(&page::ENTER.to_string()).await;
    window.until_text("clerk-name", clerk.name).await;
    window.until_text("mode-badge", "沙箱模式").await;

    let _enterprise = serve_from_the_sandbox_panel(&window, "01-sandbox-panel").await;
    window
        .until("settled cards", || async {
            let cards = cards(&window).await;
            (!cards.is_empty() && cards.iter().all(|c| c["state"] != "loading")).then_some(())
        })
        .await;
    window.screenshot("02-sandbox-result").await;
    window.close().await;
}
