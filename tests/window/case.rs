//! Finishing a case in the real window, against a real print system: the print preview of the
//! stamped copy, a print through the picker to a printer that keeps the exact bytes, 另存为, the
//! 办结 panel with the record sent and with it queued while the gateway fails (then resent in the
//! background), and a counter in direct mode printing to a cups-pdf queue whose output still
//! carries the copy's serial in its QR code; a license revoked after the scan is refused.

use crate::harness::{Display, Driver};
use crate::page::{ESCAPE, F8, Window};
use crate::{cards, write_config};
use sha2::{Digest, Sha256};
use std::path::Path;
use yueshang_core::cache::Cache;
use yueshang_core::copies::find_copy;
use yueshang_core::keystore::KeyStore;
use yueshang_gateway_sim::SandboxGateway;
use yueshang_gateway_sim::samples;
use yueshang_testkit::{PrintLab, qr_codes_on_first_page};

/// WebDriver's code for F9 (办结).
const F9: char = '\u{E039}';
/// A plain sample with three valid licenses, and a second one for the next customer.
const NORMAL: &str = "(normal)";
const BOOKSHOP: &str = "(normal, bookshop)";

fn uscc_noted(note: &str) -> String {
    samples::enterprises().into_iter().find(|e| e.note.contains(note)).expect("sample enterprise").uscc
}

/// Scans a sample enterprise and waits until its cards have settled; the license codes in order.
async fn serve(window: &Window<'_>, sim: &SandboxGateway, note: &str) -> Vec<String> {
    let uscc = uscc_noted(note);
    let count = samples::find(&uscc).unwrap().licenses.len();
    window.scan(&sim.control().issue_code(&uscc, None).unwrap().payload).await;
    window.until_text("enterprise-card", &uscc).await;
    window
        .until("every card ready", || async {
            let cards = cards(window).await;
            (cards.len() == count && cards.iter().all(|c| c["state"] == "ready"))
                .then(|| cards.iter().map(|c| c["code"].as_str().unwrap_or_default().to_owned()).collect())
        })
        .await
}

fn card(code: &str) -> String {
    format!(r#"[data-testid="license-card"][data-license-code="{code}"]"#)
}

/// The serials the print notice names.
async fn notice_serials(window: &Window<'_>) -> Vec<String> {
    window
        .until("the print notice with a serial", || async {
            let serials = window
                .js(r#"return [...document.querySelectorAll('[data-testid="print-notice-serial"]')].map(e => e.innerText.trim());"#)
                .await;
            let serials: Vec<String> =
                serials.as_array()?.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect();
            (!serials.is_empty()).then_some(serials)
        })
        .await
}

async fn submit_record(window: &Window<'_>, status: &str) -> String {
    window.type_keys(&F9.to_string()).await;
    window.until("the 办结 panel", || async { window.text_of("record-panel").await }).await;
    window.click(&format!(r#"[data-testid="record-status"][value="{status}"]"#)).await;
    window.click(r#"[data-testid="record-submit"]"#).await;
    window
        .until("the record's state", || async {
            let state = window
                .js(r#"const s = document.querySelector('[data-testid="record-state"]'); return s ? s.dataset.state : null;"#)
                .await;
            state.as_str().map(str::to_owned)
        })
        .await
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex_lower(&Sha256::digest(bytes))
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Picker mode: preview, print to the exact printer, save, and the handling record both ways.
pub(crate) async fn finishing_a_case(app: &Path, display: &Display, home: &Path, sim: &SandboxGateway) {
    let lab = PrintLab::start();
    lab.add_pdf_queue("HallPDF");
    lab.add_exact_queue("HallExact");
    lab.set_default("HallPDF");
    let saved = home.join("case-files");
    std::fs::create_dir_all(&saved).unwrap();
    let extra = format!("\n[printing]\ncups_server = \"{}\"\nsave_dir = \"{}\"\n", lab.server(), saved.display());
    let config = write_config(home, sim, "case.toml", &extra);
    let data = home.join("case-data");
    let driver = Driver::start(display, &[("YUESHANG_CONFIG", &config), ("YUESHANG_DATA_DIR", &data)]);
    let window = Window::open(&driver.url, app, display, "case").await;
    window.until_text("counter-header", "B07").await;

    // 打印 on a card: the dialog previews the stamped copy, not the original.
    let codes = serve(&window, sim, NORMAL).await;
    window.click(&format!(r#"{} [data-testid="card-print"]"#, card(&codes[0]))).await;
    window
        .until("the stamped preview drawn", || async {
            let drawn = window
                .js(r#"const d = document.querySelector('[data-testid="print-dialog"]');
                       return !!d && d.dataset.rendered === 'true';"#)
                .await;
            (drawn == true).then_some(())
        })
        .await;
    let serial = window.until_text("print-serial", "P-").await;
    window
        .until("both queues in the picker", || async {
            let names = window
            .js(r#"return [...document.querySelectorAll('[data-testid="printer-select"] option')].map(o => o.value);"#)
            .await;
            let names = names.as_array()?.clone();
            (names.iter().any(|n| n == "HallExact") && names.iter().any(|n| n == "HallPDF")).then_some(())
        })
        .await;
    window.screenshot("01-print-preview").await;

    // The picker prints to the printer that keeps the bytes: what arrives is the stamped copy
    // on record for that serial, byte for byte.
    window
        .js(r#"const s = document.querySelector('[data-testid="printer-select"]'); s.value = 'HallExact';
               s.dispatchEvent(new Event('change')); return true;"#)
        .await;
    window.click(r#"[data-testid="print-confirm"]"#).await;
    let printed = notice_serials(&window).await;
    assert!(printed.iter().any(|s| serial.contains(s.as_str())), "notice {printed:?} vs dialog {serial}");
    window.until_text("print-notice-printer", "HallExact").await;
    window.until_gone("print-dialog").await;
    window.screenshot("02-printed").await;
    let jobs = lab.jobs("HallExact");
    assert_eq!(jobs.len(), 1, "one job: {jobs:?}");
    lab.wait_until_done(jobs[0].0);
    let spooled = std::fs::read(lab.exact_output("HallExact", jobs[0].0)).unwrap();
    let cache = Cache::open(&data.join("cache.sqlite3"), &KeyStore::for_config(Some(&config)).unwrap()).unwrap();
    let origin = find_copy(&cache, &printed[0]).unwrap().expect("the printed copy is on record");
    assert_eq!(sha256_hex(&spooled), origin.output_sha256, "the printer got the stamped copy itself");
    assert_eq!(origin.license_code, codes[0]);

    // 另存为 for a selected license: a file named for the case, in the configured folder.
    window.click(&format!(r#"{} [data-testid="card-select"]"#, card(&codes[1]))).await;
    window.click(r#"[data-testid="save-selected"]"#).await;
    let path = window.until_text("print-notice-path", ".pdf").await;
    let path = Path::new(path.trim());
    assert!(path.starts_with(&saved), "{} is not in {}", path.display(), saved.display());
    let file = std::fs::read(path).unwrap();
    assert!(file.starts_with(b"%PDF-"));
    window.screenshot("03-saved").await;

    // 办结 with the gateway up: 已上报, one record at the gateway.
    assert_eq!(submit_record(&window, "ACCEPTED").await, "sent");
    window.screenshot("04-record-sent").await;
    assert_eq!(sim.control().records().len(), 1);
    window.type_keys(&ESCAPE.to_string()).await;
    window.until_gone("record-panel").await;

    // The next customer, with the gateway failing: 待上报, counted in the header; once the
    // gateway is back the background sender delivers it, once.
    window.type_keys(&F8.to_string()).await;
    window.until_gone("enterprise-card").await;
    serve(&window, sim, BOOKSHOP).await;
    sim.control().set_faults(vec!["submit:status=503".parse().unwrap()]);
    assert_eq!(submit_record(&window, "RECEIVED").await, "queued");
    window.until_text("outbox-waiting", "1").await;
    window.screenshot("05-record-queued").await;
    sim.control().clear_faults();
    window.until_gone("outbox-waiting").await;
    window.until("the record shown as sent", || async {
        let state = window
            .js(r#"const s = document.querySelector('[data-testid="record-state"]'); return s ? s.dataset.state : null;"#)
            .await;
        (state == "sent").then_some(())
    })
    .await;
    assert_eq!(sim.control().records().len(), 2, "each handling number reached the gateway once");
    window.screenshot("06-record-resent").await;
    window.close().await;
    drop(driver);

    direct_printing(app, display, home, sim, &lab).await;
}

/// A counter with one fixed printer: 打印 prints at once; what cups-pdf makes of it (rewritten by
/// Ghostscript) still carries the serial in its QR code. A license revoked since the scan is
/// refused at print time and its card turns 已注销.
async fn direct_printing(app: &Path, display: &Display, home: &Path, sim: &SandboxGateway, lab: &PrintLab) {
    let extra = format!(
        "\n[printing]\nmode = \"direct\"\nprinter = \"HallPDF\"\ncups_server = \"{}\"\nrecheck_after_minutes = 0\n",
        lab.server()
    );
    let config = write_config(home, sim, "direct.toml", &extra);
    let data = home.join("direct-data");
    let driver = Driver::start(display, &[("YUESHANG_CONFIG", &config), ("YUESHANG_DATA_DIR", &data)]);
    let window = Window::open(&driver.url, app, display, "direct").await;
    window.until_text("counter-header", "B07").await;

    let codes = serve(&window, sim, NORMAL).await;
    let before = lab.jobs("HallPDF").len();
    window.click(&format!(r#"{} [data-testid="card-print"]"#, card(&codes[0]))).await;
    let serials = notice_serials(&window).await;
    assert!(window.text_of("print-dialog").await.is_none(), "direct mode shows no picker");
    window.screenshot("01-direct-printed").await;
    let jobs = lab.jobs("HallPDF");
    assert_eq!(jobs.len(), before + 1, "{jobs:?}");
    let job = jobs.iter().map(|j| j.0).max().unwrap();
    lab.wait_until_done(job);
    let decoded = qr_codes_on_first_page(&lab.pdf_output(job));
    assert_eq!(decoded, vec![serials[0].clone()], "the printed page's QR leads back to the copy");

    assert!(sim.control().revoke_license(&codes[1], "发证机关依法撤销"));
    window.click(&format!(r#"{} [data-testid="card-print"]"#, card(&codes[1]))).await;
    window
        .until("the card turned 已注销", || async {
            let status =
                window.js(&format!("return document.querySelector('{}').dataset.status;", card(&codes[1]))).await;
            (status == "revoked").then_some(())
        })
        .await;
    window.until_text("print-notice", "注销").await;
    window.screenshot("02-revoked-at-print").await;
    assert_eq!(lab.jobs("HallPDF").len(), before + 1, "nothing printed for the revoked license");
    window.close().await;
}
