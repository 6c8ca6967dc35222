//! The unattended counter in the real window: sandbox mode with `[privacy] idle_clear_minutes = 1`
//! and `lock_minutes = 2`, on the app's real timers (no test-only knob). The countdown over the
//! result, the idle clear audited as `idle_clear` + `case_closed`, the locked sign-in screen and the
//! same clerk back at work; and nothing of a customer's license files, face fields or legal
//! representative in the webview's own data, after 下一位 and after the app quit.
//!
//! Where that data is: Tauri hands WebKitGTK `$XDG_DATA_HOME/<identifier>` (here
//! `~/.local/share/cn.gdzwfw.yueshang-counter`) as both its data and its cache folder
//! (`localstorage/`, `WebKitCache/`, `CacheStorage/`, `storage/`, `mediakeys/`, HSTS), so nothing
//! goes to `~/.cache/<identifier>`; `~/.cache` only gets Mesa's shader cache and dconf. The test
//! gives the app a private HOME with its own XDG folders and searches all of it.

use crate::harness::{Display, Driver};
use crate::page::{ENTER, ESCAPE, F6, F8, Window};
use crate::shift::{F10, exists, sign_in};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use yueshang_gateway_sim::SANDBOX_ACCOUNTS;
use yueshang_gateway_sim::samples::{self, FileKind, SampleEnterprise};

/// `identifier` in src-tauri/tauri.conf.json: Tauri gives the webview `<XDG_DATA_HOME>/<identifier>`
/// as WebKitGTK's data and cache folder.
const IDENTIFIER: &str = "cn.gdzwfw.yueshang-counter";
const IDLE_CLEAR: Duration = Duration::from_secs(60);
const COUNTDOWN: Duration = Duration::from_secs(15);
const LOCK: Duration = Duration::from_secs(120);
/// What the test itself leaves in the webview's localStorage: found after the app quit, it proves
/// the search looks where the webview really keeps its data.
const PROBE: &str = "yueshang-e2e-probe-7f3a9c";

/// Something of the customer that must not be on disk, and what it is (for the failure message).
struct Needle {
    what: String,
    bytes: Vec<u8>,
}

/// A text as UTF-8 and as UTF-16 (WebKit keeps localStorage and some caches in UTF-16).
fn text_needles(what: &str, text: &str, out: &mut Vec<Needle>) {
    out.push(Needle { what: format!("{what} “{text}” (UTF-8)"), bytes: text.as_bytes().to_vec() });
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    out.push(Needle { what: format!("{what} “{text}” (UTF-16)"), bytes: utf16 });
}

/// Distinctive 32-byte windows from across a file (not runs of one byte, not repeated in the file).
fn file_needles(what: &str, bytes: &[u8], out: &mut Vec<Needle>) {
    const WIDTH: usize = 32;
    assert!(bytes.len() > WIDTH * 8, "{what} is only {} bytes", bytes.len());
    let mut taken = 0;
    for k in 1..=9 {
        let at = bytes.len() * k / 10;
        let window = &bytes[at..at + WIDTH];
        let mut distinct = window.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < 12 || count(bytes, window) != 1 {
            continue;
        }
        out.push(Needle { what: format!("{what}, bytes {at}..{}", at + WIDTH), bytes: window.to_vec() });
        taken += 1;
    }
    assert!(taken >= 4, "{what}: only {taken} distinctive windows");
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).filter(|w| *w == needle).count()
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            files_under(&entry.path(), out);
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
}

/// Every file under `home` (the webview's data and cache folders and anything else the app or
/// WebKit wrote there) checked for every needle; the files are listed for the log.
fn expect_nothing_of_the_customer(home: &Path, needles: &[Needle], when: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    files_under(home, &mut files);
    let mut found = Vec::new();
    let mut total = 0;
    for file in &files {
        let Ok(bytes) = std::fs::read(file) else { continue };
        total += bytes.len();
        for n in needles {
            if bytes.windows(n.bytes.len()).any(|w| w == n.bytes.as_slice()) {
                found.push(format!("{}: {}", file.display(), n.what));
            }
        }
    }
    eprintln!(
        "{when}: searched {} files ({total} bytes) under {} for {} needles",
        files.len(),
        home.display(),
        needles.len()
    );
    assert!(found.is_empty(), "{when}, the webview's data still holds the customer's data:\n{}", found.join("\n"));
    files
}

/// A license file exactly as the window received it, through the app's own command.
async fn license_bytes(window: &Window<'_>, code: &str) -> Vec<u8> {
    let script = r#"const done = arguments[arguments.length - 1];
        window.__TAURI_INTERNALS__.invoke('license_file', { licenseCode: arguments[0] })
          .then((b) => {
            const u = b instanceof ArrayBuffer ? new Uint8Array(b) : Array.isArray(b) ? Uint8Array.from(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
            done(Array.from(u));
          })
          .catch((e) => done({ error: String((e && (e.message || e.code)) || e) }));"#;
    let value = window.client.execute_async(script, vec![json!(code)]).await.expect("fetch the license file");
    let bytes: Option<Vec<u8>> =
        value.as_array().map(|a| a.iter().map(|b| b.as_u64().expect("a byte") as u8).collect());
    bytes.unwrap_or_else(|| panic!("license_file {code}: {value}"))
}

/// Feeds the sandbox helper's live code of `enterprise` and waits until every card of it is ready.
/// `spent` is the code fed last (the panel shows a fresh one after each feed): never fed twice.
async fn serve(window: &Window<'_>, enterprise: &SampleEnterprise, spent: &mut Option<String>) {
    let uscc = &enterprise.uscc;
    window.click(&format!(r#"[data-testid="sandbox-enterprise"][data-uscc="{uscc}"]"#)).await;
    let payload = window
        .until("a fresh code of the sample", || async {
            let chosen = window
                .js(&format!(
                    r#"const b = document.querySelector('[data-testid="sandbox-enterprise"][data-uscc="{uscc}"]');
                       const q = document.querySelector('[data-testid="sandbox-qr"]');
                       return !!b && b.getAttribute('aria-pressed') === 'true' && !!q && q.naturalWidth > 0;"#
                ))
                .await;
            let payload = window.text_of("sandbox-payload").await;
            (chosen == true && payload.is_some() && payload != *spent).then_some(payload)
        })
        .await;
    window.click(r#"[data-testid="sandbox-feed"]"#).await;
    *spent = payload;
    window.until_text("enterprise-card", uscc).await;
    window
        .until("every card ready", || async {
            let cards = crate::cards(window).await;
            (cards.len() == enterprise.licenses.len() && cards.iter().all(|c| c["state"] == "ready")).then_some(())
        })
        .await;
}

fn card(code: &str) -> String {
    format!(r#"[data-testid="license-card"][data-license-code="{code}"]"#)
}

/// The texts of the cells of every event row on the supervisor's list (seq first).
async fn event_rows(window: &Window<'_>) -> Vec<Vec<String>> {
    let rows = window
        .js(r#"return [...document.querySelectorAll('[data-testid="event-row"]')].map(r => [...r.cells].map(c => c.innerText.trim()));"#)
        .await;
    let rows = rows.as_array().cloned().unwrap_or_default();
    rows.iter()
        .map(|r| {
            r.as_array()
                .map(|c| c.iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect())
                .unwrap_or_default()
        })
        .collect()
}

pub(crate) async fn an_unattended_counter(app: &Path, display: &Display, home: &Path) {
    let data = home.join("idle-data");
    let config = home.join("idle.toml");
    std::fs::write(&config, "mode = \"sandbox\"\n[privacy]\nidle_clear_minutes = 1\nlock_minutes = 2\n").unwrap();
    // A HOME of its own: whatever the webview keeps is this session's, and all of it is searched.
    let user_home = home.join("idle-home");
    let xdg_data = user_home.join(".local/share");
    let xdg_cache = user_home.join(".cache");
    let xdg_config = user_home.join(".config");
    for dir in [&xdg_data, &xdg_cache, &xdg_config] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let driver = Driver::start(
        display,
        &[
            ("HOME", &user_home),
            ("XDG_DATA_HOME", &xdg_data),
            ("XDG_CACHE_HOME", &xdg_cache),
            ("XDG_CONFIG_HOME", &xdg_config),
            ("YUESHANG_CONFIG", &config),
            ("YUESHANG_DATA_DIR", &data),
        ],
    );
    let window = Window::open(&driver.url, app, display, "idle").await;
    let [clerk, chief] = SANDBOX_ACCOUNTS;
    sign_in(&window, clerk.account, clerk.password).await;
    window.until_text("clerk-name", clerk.name).await;
    window.js(&format!("localStorage.setItem('yueshang.e2e-probe', '{PROBE}'); return true;")).await;

    // The first customer: a pharmacy with a PDF business license and a scanned JPEG; both shown.
    let pharmacy = samples::find(crate::WITH_SCAN).expect("the sample with a scan");
    let pdf = pharmacy.licenses.iter().find(|l| l.file == FileKind::Pdf).expect("a PDF license");
    let jpeg = pharmacy.licenses.iter().find(|l| l.file == FileKind::ScannedJpeg).expect("a scanned license");
    window.type_keys(&F6.to_string()).await;
    let mut spent = None;
    serve(&window, &pharmacy, &mut spent).await;
    let mut needles = Vec::new();
    text_needles("the enterprise's name", &pharmacy.name, &mut needles);
    text_needles("the USCC", &pharmacy.uscc, &mut needles);
    let legal_rep = window.text_of("enterprise-legal-rep").await.expect("the legal representative");
    assert_eq!(legal_rep.trim(), pharmacy.legal_rep_name);
    text_needles("the legal representative", legal_rep.trim(), &mut needles);

    window.click(&card(&pdf.license.license_code)).await;
    window
        .until("the PDF rendered in the viewer", || async {
            let done = window
                .js(r#"const v = document.querySelector('[data-testid="viewer"]');
                       return !!v && v.dataset.kind === 'pdf' && v.dataset.rendered === 'true';"#)
                .await;
            (done == true).then_some(())
        })
        .await;
    let fields = window
        .js(r#"return [...document.querySelectorAll('[data-testid="face-fields"] tbody td')].map(td => td.innerText.trim());"#)
        .await;
    let fields: Vec<String> = fields.as_array().unwrap().iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
    // Every value of two characters or more: the legal representative's full name (李卓) is one.
    let values: Vec<&String> = fields.iter().filter(|f| f.chars().count() >= 2).collect();
    assert!(values.len() >= 5, "face fields on screen: {fields:?}");
    for value in values {
        text_needles("a face field", value, &mut needles);
    }
    window.screenshot("01-viewer").await;
    file_needles("the PDF", &license_bytes(&window, &pdf.license.license_code).await, &mut needles);
    window.type_keys(&ESCAPE.to_string()).await;
    window.until_gone("viewer").await;
    window.click(&card(&jpeg.license.license_code)).await;
    window
        .until("the scanned image in the viewer", || async {
            let shown = window
                .js(r#"const i = document.querySelector('[data-testid="viewer-image"]'); return !!i && i.complete && i.naturalWidth > 0;"#)
                .await;
            (shown == true).then_some(())
        })
        .await;
    file_needles("the scanned JPEG", &license_bytes(&window, &jpeg.license.license_code).await, &mut needles);
    window.type_keys(&ESCAPE.to_string()).await;
    window.until_gone("viewer").await;

    // 下一位: nothing of the customer in the webview's data while the app runs on.
    window.type_keys(&F8.to_string()).await;
    window.until_gone("enterprise-card").await;
    let webview_dir = xdg_data.join(IDENTIFIER);
    assert!(webview_dir.is_dir(), "the webview's data folder {} is missing", webview_dir.display());
    expect_nothing_of_the_customer(&user_home, &needles, "after 下一位");

    // The second customer, then nobody touches the window: the countdown after a minute.
    serve(&window, &pharmacy, &mut spent).await;
    // The sandbox helper (the customer's phone) lists the samples by name: closed, so the page can be searched.
    window.type_keys(&F6.to_string()).await;
    let touched = Instant::now();
    window.until_gone("sandbox-panel").await;
    let served = crate::biz_num(&window).await;
    window
        .until_for("the idle countdown", IDLE_CLEAR + Duration::from_secs(20), || async {
            exists(&window, "idle-countdown").await.then_some(())
        })
        .await;
    let waited = touched.elapsed();
    assert!(waited >= IDLE_CLEAR - Duration::from_secs(2), "the countdown came after {waited:?}");
    let banner = window.text_of("idle-countdown").await.unwrap_or_default();
    assert!(banner.contains("秒后自动清屏") && banner.contains("按任意键继续办理"), "{banner}");
    window.screenshot("02-countdown").await;

    // It runs out: the window is cleared as at 下一位, with a new handling number.
    window
        .until_for("the idle clear", COUNTDOWN + Duration::from_secs(20), || async {
            exists(&window, "idle-cleared").await.then_some(())
        })
        .await;
    assert!(
        touched.elapsed() >= IDLE_CLEAR + COUNTDOWN - Duration::from_secs(2),
        "cleared after {:?}",
        touched.elapsed()
    );
    assert!(!exists(&window, "enterprise-card").await && !exists(&window, "license-card").await);
    let cleared_to = crate::biz_num(&window).await;
    assert_ne!(cleared_to, served, "an idle clear starts a new handling number");
    crate::expect_no_trace(&window, &pharmacy).await;
    window.screenshot("03-cleared").await;

    // Two minutes without a touch: the session locks; the sign-in screen names the clerk.
    window
        .until_for("the locked sign-in screen", LOCK - IDLE_CLEAR + Duration::from_secs(20), || async {
            exists(&window, "sign-in-locked").await.then_some(())
        })
        .await;
    assert!(touched.elapsed() >= LOCK - Duration::from_secs(2), "locked after {:?}", touched.elapsed());
    window.until_text("sign-in-locked", &format!("已锁定：{}，请重新登录", clerk.name)).await;
    let account = window.js(r#"return document.querySelector('[data-testid="sign-in-account"]').value;"#).await;
    assert_eq!(account, clerk.account, "the locked clerk's account is filled in");
    assert!(!exists(&window, "scan-bar").await, "the counter is behind the sign-in screen");
    window.screenshot("04-locked").await;

    // The same clerk types only the password and is back at the counter. (The field has the focus
    // already; focused again just before, so the driver's fast keys are not taken for a scanner.)
    let focused = window.js("return document.activeElement && document.activeElement.dataset.testid;").await;
    assert_eq!(focused, "sign-in-password", "the cursor waits in the password field");
    window.js(r#"const p = document.querySelector('[data-testid="sign-in-password"]'); p.blur(); p.focus(); return true;"#).await;
    window.type_keys(&format!("{}{ENTER}", clerk.password)).await;
    window.until_text("clerk-name", clerk.name).await;
    window.screenshot("05-back").await;

    // The trail, as the supervisor sees it: idle clear and the case closed, the lock, the unlock.
    window.click(r#"[data-testid="sign-out"]"#).await;
    sign_in(&window, chief.account, chief.password).await;
    window.until_text("clerk-name", chief.name).await;
    window.type_keys(&F10.to_string()).await;
    // The supervisor view's code loads on first use.
    window.until("the supervisor view", || async { exists(&window, "sup-tab-events").await.then_some(()) }).await;
    window.click(r#"[data-testid="sup-tab-events"]"#).await;
    let rows = window
        .until("the day's events with the idle clear", || async {
            let rows = event_rows(&window).await;
            rows.iter().any(|r| r.get(2).is_some_and(|k| k == "闲置锁定")).then_some(rows)
        })
        .await;
    // The newest rows (the idle clear, the lock, the unlock) in the picture.
    window
        .js(r#"const w = document.querySelector('.events-table-wrap'); w.scrollTop = w.scrollHeight; return true;"#)
        .await;
    window.screenshot("06-events").await;
    let find = |kind: &str, biz: Option<&str>| {
        rows.iter().find(|r| r[2] == kind && biz.is_none_or(|b| r[7] == b)).unwrap_or_else(|| {
            panic!("no {kind} event{} in {rows:#?}", biz.map(|b| format!(" of {b}")).unwrap_or_default())
        })
    };
    let seq = |row: &Vec<String>| row[0].parse::<i64>().expect("a seq");
    let idle_clear = find("闲置清屏", Some(&served));
    let closed = find("下一位", Some(&served));
    assert_eq!(seq(closed), seq(idle_clear) + 1, "case_closed follows idle_clear at once");
    assert!(idle_clear[5].contains(clerk.account), "{idle_clear:?}");
    assert!(idle_clear[10].contains("1 分钟无操作"), "{idle_clear:?}");
    let lock = find("闲置锁定", None);
    assert!(lock[5].contains(clerk.account) && lock[10].contains("2 分钟无操作"), "{lock:?}");
    let unlock = rows.iter().find(|r| r[2] == "登录" && r[10].contains("解锁")).expect("the clerk's unlocking sign-in");
    assert!(seq(unlock) > seq(lock) && unlock[5].contains(clerk.account), "{unlock:?}");
    window.close().await;
    drop(driver);

    // After the app quit: still nothing of the customer, though what the webview keeps is there.
    let files = expect_nothing_of_the_customer(&user_home, &needles, "after the app quit");
    for file in files.iter().filter(|f| !f.starts_with(xdg_cache.join("mesa_shader_cache"))) {
        eprintln!("  {}", file.strip_prefix(&user_home).unwrap_or(file).display());
    }
    let mut probe = Vec::new();
    text_needles("the probe", PROBE, &mut probe);
    let kept = files.iter().any(|f| {
        std::fs::read(f).is_ok_and(|b| probe.iter().any(|n| b.windows(n.bytes.len()).any(|w| w == n.bytes.as_slice())))
    });
    assert!(
        kept,
        "the localStorage probe is nowhere under {}: the search missed the webview's data",
        user_home.display()
    );
}
