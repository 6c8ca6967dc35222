//! The setup screen in the real window: a PC with no configuration offers it; each step is filled
//! (an invalid PaaS ID shows its reason and is fixed), 测试连接 fails red against a closed port
//! with a fix per check, goes green against a sandbox gateway this test starts, and 保存 writes an
//! owner-only file without secrets, the secrets sealed in the gateway mode's database.

use crate::harness::{Display, Driver, app_binary};
use crate::page::Window;
use crate::shift::sign_in;
use fantoccini::Locator;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use yueshang_core::cache::Cache;
use yueshang_core::config::Config;
use yueshang_core::keystore::KeyStore;
use yueshang_core::secrets;
use yueshang_gateway_sim::{self as sim, SANDBOX_ACCOUNTS, SandboxGateway, SimOptions};

/// A loopback port nothing listens on (tcpmux): the connection is refused at once.
const CLOSED_BASE: &str = "http://127.0.0.1:1";

/// How long 测试连接 may take: every network step is bounded, a refused port fails fast.
const TEST_TIMEOUT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_setup_screen_configures_a_new_counter() {
    let app = app_binary();
    let display = Display::start();
    let sim = SandboxGateway::start("127.0.0.1:0".parse().unwrap(), SimOptions::default())
        .await
        .expect("start the sandbox gateway");
    let home = tempfile::tempdir().expect("temp dir");
    let xdg = home.path().join("xdg-config");
    let data = home.path().join("data");
    // No configuration anywhere: not the user's, not a machine-wide one.
    let driver = Driver::start(
        &display,
        &[("XDG_CONFIG_HOME", &xdg), ("YUESHANG_DATA_DIR", &data), ("YUESHANG_MACHINE_CONFIG", Path::new(""))],
    );
    let window = Window::open(&driver.url, &app, &display, "setup").await;

    // The sandbox counter of a PC never set up offers the setup, already on its sign-in screen.
    window.until_text("first-run", "").await;
    window.screenshot("00-sign-in-first-run").await;
    let clerk = &SANDBOX_ACCOUNTS[0];
    sign_in(&window, clerk.account, clerk.password).await;
    window.until_text("first-run", "").await;
    window.screenshot("00-first-run").await;
    window.click(r#"[data-testid="first-run-setup"]"#).await;
    until_step(&window, "environment").await;
    window.screenshot("01-environment").await;

    // 测试环境: the official test bases are filled in.
    window.click(r#"[data-testid="setup-env"][data-env="test"] input"#).await;
    window.until_text("setup-env-note", "bs-test.digitalgd.com.cn").await;
    next(&window, "gateway").await;
    let prefilled = value_of(&window, "setup-licenseBase").await;
    assert_eq!(prefilled, "https://bs-test.digitalgd.com.cn/ebus/dzzz_convergence-service");

    // A PaaS ID typed without its prefix: the reason, in Chinese, under the field; then fixed.
    type_into(&window, "setup-paasid", "sandbox").await;
    window.until_text("setup-error-paasid", "yst_").await;
    window.screenshot("02-paasid-invalid").await;
    clear(&window, "setup-paasid").await;
    type_into(&window, "setup-paasid", sim::SANDBOX_PAASID).await;
    window.until_gone("setup-error-paasid").await;
    let typed_base = value_of(&window, "setup-ystBase").await;
    assert!(typed_base.ends_with(sim::SANDBOX_PAASID), "the 粤商通 base follows the PaaS ID: {typed_base}");
    fill(&window, "setup-token", sim::SANDBOX_TOKEN).await;
    // First against a port where nothing listens.
    fill(&window, "setup-ystBase", &format!("{CLOSED_BASE}/ebus/{}", sim::SANDBOX_PAASID)).await;
    fill(&window, "setup-licenseBase", &format!("{CLOSED_BASE}/ebus/dzzz_convergence-service")).await;
    window.screenshot("03-gateway").await;
    next(&window, "license").await;

    for (field, text) in [
        ("setup-systemId", sim::SANDBOX_SYSTEM_ID),
        ("setup-venderId", sim::SANDBOX_VENDER_ID),
        ("setup-departmentId", sim::SANDBOX_DEPARTMENT_ID),
        ("setup-account", sim::SANDBOX_ACCOUNT),
        ("setup-password", sim::SANDBOX_PASSWORD),
        ("setup-appKey", sim::SANDBOX_APP_KEY),
        ("setup-appSecret", sim::SANDBOX_APP_SECRET),
    ] {
        fill(&window, field, text).await;
    }
    window.screenshot("04-license").await;
    next(&window, "hall").await;

    for (field, text) in [
        ("setup-operatorAccount", "e2e_it"),
        ("setup-operatorName", "林测试"),
        ("setup-divisionCode", "440106"),
        ("setup-serviceOrg", "广州市天河区政务服务中心"),
        ("setup-serviceOrgCode", sim::SANDBOX_DEPARTMENT_ID),
        ("setup-hallCode", "440106001"),
        ("setup-hallName", "天河区政务服务中心"),
        ("setup-counter", "C12"),
        ("setup-hallPhone", "020-38880000"),
    ] {
        fill(&window, field, text).await;
    }
    window.screenshot("05-hall").await;
    next(&window, "items").await;

    // Two columns pasted from Excel (tab-separated), the sandbox's own items.
    let items = sim::sandbox_settings(&sim.base_url()).service_items;
    let pasted: String = items.iter().map(|i| format!("{}\t{}\n", i.code, i.name)).collect();
    fill(&window, "setup-paste", &pasted).await;
    window.click(r#"[data-testid="setup-paste-add"]"#).await;
    window
        .until("the pasted items as rows", || async {
            let rows = window.js(r#"return document.querySelectorAll('[data-testid="setup-item-row"]').length;"#).await;
            (rows.as_u64() == Some(items.len() as u64)).then_some(())
        })
        .await;
    window.screenshot("06-items").await;
    next(&window, "finish").await;
    window.screenshot("07-finish").await;

    // 测试连接 against the closed port: red, each failing check with its fix.
    let failed = test_connection(&window, false).await;
    let tcp = failed.iter().find(|c| c["id"] == "tcp").expect("a tcp check");
    assert_eq!(tcp["state"], "fail", "{tcp}");
    assert!(tcp["fix"].as_str().is_some_and(|f| !f.is_empty()), "a failing check says what to do: {tcp}");
    window.screenshot("08-test-failed").await;

    // The real (sandbox) gateway's address, and again: green.
    window.click(r#"[data-testid="setup-step-tab"][data-step="gateway"]"#).await;
    until_step(&window, "gateway").await;
    let settings = sim::sandbox_settings(&sim.base_url());
    fill(&window, "setup-ystBase", settings.gateway.yst_base.as_str()).await;
    fill(&window, "setup-licenseBase", settings.gateway.license_base.as_str()).await;
    window.click(r#"[data-testid="setup-step-tab"][data-step="finish"]"#).await;
    until_step(&window, "finish").await;
    let passed = test_connection(&window, true).await;
    for id in ["config", "dns", "tcp", "clock", "signature", "license_login", "data_dir", "secrets"] {
        let check = passed.iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("no {id} check: {passed:?}"));
        assert!(matches!(check["state"].as_str(), Some("ok" | "warn")), "{id} should pass: {check}");
    }
    window.screenshot("09-test-green").await;

    // 保存: the file, owner-only, parses, holds no secret; the secrets are in the sealed store.
    window.click(r#"[data-testid="setup-save"]"#).await;
    let saved_path = window.until_text("setup-saved-path", "config.toml").await;
    window.until_text("setup-sealed", "gateway.token").await;
    window.screenshot("10-saved").await;
    let file = xdg.join("yueshang-counter").join("config.toml");
    assert_eq!(Path::new(saved_path.trim()), file, "saved where the counter reads it");
    expect_the_saved_configuration(&file, &data);

    // 诊断（IT） from 关于: the doctor on the configuration in force (still this launch's sandbox).
    window.click(r#"[data-testid="setup-close"]"#).await;
    window.until_gone("setup-screen").await;
    window.click(r#"[data-testid="about-open"]"#).await;
    window.click(r#"[data-testid="about-doctor"]"#).await;
    let rows = window
        .until_for("诊断 to finish", TEST_TIMEOUT, || async {
            let done = window
                .js(r#"const p = document.querySelector('[data-testid="doctor-checks"]'); if (!p) return null;
                       const s = p.querySelector('[data-testid="check-summary"]');
                       if (!s || s.dataset.ready !== 'true') return null;
                       return [...p.querySelectorAll('[data-testid="check-row"]')].map(r => r.dataset.id);"#)
                .await;
            done.as_array().cloned()
        })
        .await;
    let ids: Vec<&str> = rows.iter().filter_map(Value::as_str).collect();
    assert_eq!(ids, yueshang_core::doctor::CHECK_IDS, "the doctor's checks, in order");
    window.screenshot("11-doctor").await;
    window.close().await;
    drop(driver);
    sim.shutdown().await;
}

/// The file is 0600, a complete gateway configuration for this counter, without any secret; the
/// secrets are in `cache.sqlite3`, opened with the storage key beside the file.
fn expect_the_saved_configuration(file: &Path, data: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(file).expect("the configuration file").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "only the counter's user may read {}", file.display());
    let text = std::fs::read_to_string(file).unwrap();
    for secret in [sim::SANDBOX_TOKEN, sim::SANDBOX_PASSWORD, sim::SANDBOX_APP_SECRET] {
        assert!(!text.contains(secret), "{secret} is in the file:\n{text}");
    }
    let config = Config::load(file).unwrap_or_else(|e| panic!("{}\n{text}", e.message));
    assert_eq!(config.counter.as_ref().map(|c| c.counter.as_str()), Some("C12"));
    let mut settings = config.into_settings(None).expect("a complete gateway configuration");
    assert_eq!(settings.gateway.paasid, sim::SANDBOX_PAASID);
    assert!(settings.gateway.secrets_in_file.is_empty() && settings.gateway.token.is_empty());
    let keys = KeyStore::for_config(Some(file)).expect("the key store beside the file");
    let cache = Cache::open(&data.join("cache.sqlite3"), &keys).expect("the gateway mode's database");
    secrets::fill_gateway(&mut settings.gateway, &cache).expect("every secret sealed");
    assert_eq!(settings.gateway.token.expose(), sim::SANDBOX_TOKEN);
    assert_eq!(settings.gateway.password.expose(), sim::SANDBOX_PASSWORD);
    assert_eq!(settings.gateway.app_secret.expose(), sim::SANDBOX_APP_SECRET);
}

async fn until_step(window: &Window<'_>, step: &str) {
    window
        .until(&format!("the setup step {step}"), || async {
            let shown = window
                .js(r#"const s = document.querySelector('[data-testid="setup-screen"]'); return s ? s.dataset.step : null;"#)
                .await;
            (shown == step).then_some(())
        })
        .await
}

/// 下一步, which goes on only when the step is right.
async fn next(window: &Window<'_>, to: &str) {
    window.click(r#"[data-testid="setup-next"]"#).await;
    until_step(window, to).await;
}

async fn value_of(window: &Window<'_>, testid: &str) -> String {
    let v = window.js(&format!(r#"return document.querySelector('[data-testid="{testid}"]').value;"#)).await;
    v.as_str().unwrap_or_default().to_owned()
}

/// Sets a field as a paste does: its whole value at once, then the input event.
async fn fill(window: &Window<'_>, testid: &str, text: &str) {
    let script = format!(
        r#"const e = document.querySelector('[data-testid="{testid}"]'); if (!e) return false;
           e.focus(); e.value = {}; e.dispatchEvent(new Event('input', {{ bubbles: true }})); return true;"#,
        Value::String(text.to_owned())
    );
    assert_eq!(window.js(&script).await, true, "no field {testid}");
}

async fn clear(window: &Window<'_>, testid: &str) {
    fill(window, testid, "").await;
}

/// Types into a field key by key, as IT does.
async fn type_into(window: &Window<'_>, testid: &str, text: &str) {
    let field = window
        .client
        .find(Locator::Css(&format!(r#"[data-testid="{testid}"]"#)))
        .await
        .unwrap_or_else(|e| panic!("no field {testid}: {e}"));
    field.send_keys(text).await.unwrap_or_else(|e| panic!("typing into {testid}: {e}"));
}

/// Runs 测试连接 and waits for its verdict (`ready`), returning the checks as the window shows them.
async fn test_connection(window: &Window<'_>, ready: bool) -> Vec<Value> {
    window.click(r#"[data-testid="setup-test"]"#).await;
    let want = if ready { "true" } else { "false" };
    window
        .until_for(&format!("测试连接 to end with ready = {want}"), TEST_TIMEOUT, || async {
            let rows = window
                .js(r#"const p = document.querySelector('[data-testid="setup-checks"]'); if (!p) return null;
                       const s = p.querySelector('[data-testid="check-summary"]');
                       return { ready: s ? s.dataset.ready : '', rows: [...p.querySelectorAll('[data-testid="check-row"]')].map(r => ({
                         id: r.dataset.id, state: r.dataset.state,
                         figure: (r.querySelector('[data-testid="check-figure"]') || {}).innerText || '',
                         fix: (r.querySelector('[data-testid="check-fix"]') || {}).innerText || null })) };"#)
                .await;
            (rows["ready"] == want).then(|| rows["rows"].as_array().cloned().unwrap_or_default())
        })
        .await
}
