//! A shift in the real window, sandbox mode: the sign-in screen with the sample accounts, a wrong
//! password, a clerk's scan with the mouse (and no way into the supervisor view), 退出登录 that
//! leaves nothing of the customer, then the supervisor: the day at a glance with its charts, the
//! event list filtered, an export that verifies, the chain's status and the About panel's key.

use crate::harness::{Display, Driver};
use crate::page::{ENTER, Window};
use std::path::Path;
use yueshang_core::audit::key::CounterKey;
use yueshang_core::audit::verify::verify_export;
use yueshang_core::cache::Cache;
use yueshang_core::keystore::KeyStore;
use yueshang_gateway_sim::SANDBOX_ACCOUNTS;

pub(crate) const TAB: char = '\u{E004}';
/// WebDriver's code for F10 (值班长视图).
pub(crate) const F10: char = '\u{E03A}';

pub(crate) async fn exists(window: &Window<'_>, testid: &str) -> bool {
    window.js(&format!(r#"return !!document.querySelector('[data-testid="{testid}"]');"#)).await == true
}

/// Types an account and password as a person does: account, Tab, password, Enter.
pub(crate) async fn sign_in(window: &Window<'_>, account: &str, password: &str) {
    window.until("the sign-in screen", || async { exists(window, "sign-in-account").await.then_some(()) }).await;
    window.js(r#"const a = document.querySelector('[data-testid="sign-in-account"]'); a.value = ''; a.dispatchEvent(new Event('input')); a.focus(); return true;"#).await;
    window.js(r#"const p = document.querySelector('[data-testid="sign-in-password"]'); p.value = ''; p.dispatchEvent(new Event('input')); return true;"#).await;
    window.type_keys(&format!("{account}{TAB}{password}{ENTER}")).await;
}

pub(crate) async fn a_shift_with_sign_in(app: &Path, display: &Display, home: &Path) {
    let data = home.join("shift-data");
    let exports = home.join("audit-exports");
    let config = home.join("shift.toml");
    // Sandbox mode, with the folder the hall's IT set for exports.
    std::fs::write(&config, format!("mode = \"sandbox\"\n[audit]\nexport_dir = \"{}\"\n", exports.display())).unwrap();
    let driver = Driver::start(display, &[("YUESHANG_CONFIG", &config), ("YUESHANG_DATA_DIR", &data)]);
    let window = Window::open(&driver.url, app, display, "shift").await;
    let [clerk, chief] = SANDBOX_ACCOUNTS;

    // The sign-in screen, with the sample accounts and nothing of the counter behind it.
    window.until_text("sandbox-accounts", chief.password).await;
    assert!(!exists(&window, "scan-bar").await, "the counter is behind the sign-in screen");
    window.screenshot("01-sign-in").await;
    sign_in(&window, clerk.account, "not-the-password").await;
    window.until_text("sign-in-error", "还可再试 4 次").await;
    window.screenshot("02-wrong-password").await;

    // The clerk: the counter, their name in the header, no supervisor view by button or key.
    sign_in(&window, clerk.account, clerk.password).await;
    window.until_text("clerk-name", clerk.name).await;
    assert!(!exists(&window, "supervisor-open").await);
    window.type_keys(&F10.to_string()).await;
    assert!(!exists(&window, "supervisor-view").await, "F10 opened the supervisor view for a clerk");

    // A bad scan and a sample enterprise from the sandbox helper, with the mouse.
    window.scan("hello").await;
    window.until_text("error-banner", "粤商码").await;
    let name = crate::serve_from_the_sandbox_panel(&window, "03-sandbox-panel").await;
    window
        .until("settled cards", || async {
            let cards = crate::cards(&window).await;
            (!cards.is_empty() && cards.iter().all(|c| c["state"] != "loading")).then_some(())
        })
        .await;
    window.screenshot("04-clerk-result").await;
    let first_line = name.lines().next().unwrap_or_default().to_owned();

    // 退出登录: back at the sign-in screen, and the enterprise is nowhere in the page.
    window.click(r#"[data-testid="sign-out"]"#).await;
    if exists(&window, "sign-out-confirm").await {
        window.click(r#"[data-testid="sign-out-confirm"]"#).await;
    }
    window.until("the sign-in screen again", || async { exists(&window, "sign-in-account").await.then_some(()) }).await;
    let page = window.js("return document.documentElement.outerHTML;").await;
    assert!(!page.as_str().unwrap().contains(&first_line), "{first_line} is still in the page after 退出登录");

    // The supervisor: the day at a glance, with charts drawn and their numbers beside them.
    sign_in(&window, chief.account, chief.password).await;
    window.until_text("clerk-name", chief.name).await;
    window.type_keys(&F10.to_string()).await;
    window.until_text("stat-customers", "1").await;
    let charts = window
        .until("drawn charts", || async {
            let drawn = window
                .js(r#"return [...document.querySelectorAll('[data-testid="chart-canvas"] canvas')]
                           .filter(c => c.width > 100 && c.height > 100).length;"#)
                .await;
            drawn.as_u64().filter(|n| *n >= 4)
        })
        .await;
    assert!(charts >= 4, "{charts} charts");
    window.until_text("day-panel", "扫到的不是粤商码").await;
    window.screenshot("05-day-at-a-glance").await;

    // The event list, filtered to failures: the bad scan, by the clerk.
    window.click(r#"[data-testid="sup-tab-events"]"#).await;
    window.until("event rows", || async { exists(&window, "event-row").await.then_some(()) }).await;
    window
        .js(r#"const s = document.querySelector('[data-testid="filter-outcome"]'); s.value = 'failed';
               s.dispatchEvent(new Event('change')); return true;"#)
        .await;
    let rows = window
        .until("only failures", || async {
            let rows = window
                .js(r#"return [...document.querySelectorAll('[data-testid="event-row"]')].map(r => r.innerText);"#)
                .await;
            let rows: Vec<String> = rows.as_array()?.iter().filter_map(|r| r.as_str().map(str::to_owned)).collect();
            (!rows.is_empty() && rows.iter().all(|r| r.contains("失败"))).then_some(rows)
        })
        .await;
    assert!(rows.iter().any(|r| r.contains(clerk.account)), "{rows:?}");
    window.screenshot("06-event-list").await;

    // The export into IT's folder: both files, signed, and they verify offline.
    window.click(r#"[data-testid="sup-tab-export"]"#).await;
    window.click(r#"[data-testid="export-both"]"#).await;
    window.until_text("export-result", "已签名校验").await;
    let files = window
        .js(r#"return [...document.querySelectorAll('[data-testid="export-file"]')].map(f => f.innerText.trim());"#)
        .await;
    let files: Vec<String> = files.as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_owned()).collect();
    window.screenshot("07-export-result").await;
    for file in files.iter().filter(|f| f.ends_with(".csv") || f.ends_with(".xlsx")) {
        assert!(Path::new(file).starts_with(&exports), "{file} is not in {}", exports.display());
        let report = verify_export(Path::new(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(report.events > 10, "{file}: {} events", report.events);
    }
    assert!(files.iter().any(|f| f.ends_with(".checkpoint.sig")), "{files:?}");

    // The chain: intact, with the count; the About panel shows the key the files were signed with.
    window.click(r#"[data-testid="sup-tab-chain"]"#).await;
    window.until_text("chain-status", "审计链完整").await;
    window.screenshot("08-chain").await;
    window.click(r#"[data-testid="about-open"]"#).await;
    let shown = window.until_text("about-fingerprint", "").await;
    // The key is sealed in the counter's database, under the storage key beside its configuration.
    let keys = KeyStore::for_config(Some(&config)).unwrap();
    let key = CounterKey::load_or_create(&Cache::open(&data.join("sandbox.sqlite3"), &keys).unwrap()).unwrap();
    assert_eq!(shown.split_whitespace().collect::<String>(), key.fingerprint());
    // Where the sealed cache's storage key is: this headless PC has no keyring, so the private
    // file beside the configuration, never in the data folder.
    let storage = window.until_text("about-storage-key", "密钥文件").await;
    let key_file = home.join("keys");
    assert!(storage.contains(key_file.to_str().unwrap()), "{storage}");
    assert!(window.js(r#"return !document.querySelector('[data-testid="about-plain-secrets"]');"#).await == true);
    window.screenshot("09-about").await;
    window.close().await;
    drop(driver);
}
