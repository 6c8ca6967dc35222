//! Stamped copies over the sandbox: serials, the audit trail and `find`, the status re-check
//! before use (revoked since the scan, gateway out of reach), licenses that are never stamped,
//! and the footer read back by an independent reader (pdftotext).

use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use yueshang_core::cache::Cache;
use yueshang_core::clock::{RandomNonces, SystemClock};
use yueshang_core::copies::{Copies, StampedCopy};
use yueshang_core::domain::LicenseStatus;
use yueshang_core::station::{ScanOutcome, Station};
use yueshang_core::{Error, ErrorCode};
use yueshang_gateway_sim::samples::{self, FileKind};
use yueshang_gateway_sim::{SandboxGateway, SimOptions};

struct Setup {
    sim: SandboxGateway,
    station: Arc<Station>,
    copies: Copies,
}

/// A sandbox and a station; `recheck`: how old a status check may be before a copy re-checks it.
async fn setup_with(recheck: Duration, cache: Cache) -> Setup {
    let sim = SandboxGateway::start("127.0.0.1:0".parse().unwrap(), SimOptions::default()).await.unwrap();
    let mut settings = yueshang_gateway_sim::sandbox_settings(&sim.base_url());
    // Generous: a busy machine renders the sample files slowly; the faults below answer at once.
    settings.tuning.request_timeout = Duration::from_secs(5);
    settings.tuning.max_retries = 0;
    settings.printing.recheck_after = recheck;
    let station =
        Arc::new(Station::new(settings, Arc::new(cache), Arc::new(SystemClock), Arc::new(RandomNonces)).unwrap());
    Setup { sim, copies: Copies::new(station.clone()), station }
}

async fn setup(recheck: Duration) -> Setup {
    setup_with(recheck, Cache::open_in_memory().unwrap()).await
}

/// The sample enterprise whose note says so.
fn uscc_noted(note: &str) -> String {
    samples::enterprises().into_iter().find(|e| e.note.contains(note)).unwrap_or_else(|| panic!("sample {note}")).uscc
}

impl Setup {
    async fn scan(&self, uscc: &str) -> ScanOutcome {
        let payload = self.sim.control().issue_code(uscc, None).unwrap().payload;
        let biz = self.station.next_biz_num().unwrap();
        self.station.scan(&payload, None, &biz, &|_| {}).await.unwrap()
    }

    async fn copy(&self, outcome: &ScanOutcome, position: usize, allow_unchecked: bool) -> Result<StampedCopy, Error> {
        let code = &outcome.licenses[position].summary.license_code;
        self.copies.make(outcome.biz_num.as_str(), code, allow_unchecked).await
    }

    fn audit_kinds(&self) -> Vec<(String, String, Option<String>)> {
        let events = self.station.cache().audit_events().unwrap();
        events.into_iter().map(|e| (e.kind, e.outcome, e.error_code)).collect()
    }
}

/// The text `pdftotext` reads from a PDF, layout kept so a footer line stays one line; diagonal
/// text left out, since the sample's own 加注件 watermark would otherwise cut through the lines.
pub(crate) fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("copy.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-layout", "-nodiag", "-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext is missing: apt-get install poppler-utils (scripts/install-deps does)");
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn a_copy_is_stamped_for_the_case_audited_and_found_by_its_serial() {
    let s = setup(Duration::from_secs(600)).await;
    let outcome = s.scan(&uscc_noted("(normal)")).await;
    let settings = s.station.settings();
    let day = s.station.today().format("%Y%m%d");

    let first = s.copy(&outcome, 1, false).await.unwrap();
    let second = s.copy(&outcome, 1, false).await.unwrap();
    let hall = &settings.counter.hall_code;
    let counter = &settings.counter.counter;
    assert_eq!(first.serial, format!("P-{hall}-{counter}-{day}-0001"));
    assert_eq!(second.serial, format!("P-{hall}-{counter}-{day}-0002"), "a serial is never reused");
    assert!(first.check_fresh, "checked at the scan, within the re-check interval");
    assert_eq!(first.sha256, sha256_hex(&first.pdf));

    let text = pdf_text(&first.pdf);
    let item = &settings.service_items[0].name;
    let line = format!(
        "仅供「{item}」使用 · {} {counter} · 经办人 {} · 办件号 {}",
        settings.counter.hall_name,
        settings.operator.name,
        outcome.biz_num.as_str()
    );
    assert!(text.contains(&line), "footer line 1 whole in:\n{text}");
    assert!(text.contains(&format!("副本编号 {}", first.serial)), "serial in the footer:\n{text}");
    assert!(text.contains("证照状态：有效（核验于"), "status line:\n{text}");
    assert!(!text.contains("未能联网复核"));

    let origin = s.copies.find(&first.serial).unwrap().expect("the copy is on record");
    assert_eq!(origin.license_code, outcome.licenses[1].summary.license_code);
    assert_eq!(origin.biz_num, outcome.biz_num.as_str());
    assert_eq!(origin.operator_account, settings.operator.account);
    assert_eq!(origin.output_sha256, first.sha256);
    assert_eq!(origin.output_sm3, first.sm3);
    let source = s.station.cache().file_content(&outcome.auth_id, &origin.license_code).unwrap().unwrap();
    assert_eq!(origin.source_sha256, sha256_hex(&source), "the source is hashed, and left unchanged");
    assert!(s.copies.find("P-0000000-X-20000101-0001").unwrap().is_none());

    let stamped: Vec<_> =
        s.station.cache().audit_events().unwrap().into_iter().filter(|e| e.kind == "copy_stamp").collect();
    assert_eq!(stamped.len(), 2);
    let detail: serde_json::Value = serde_json::from_str(stamped[0].detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["serial"], first.serial.as_str());
    assert_eq!(detail["source_sm3"], origin.source_sm3.as_str());
    assert_eq!(detail["output_sha256"], first.sha256.as_str());
    assert_eq!(stamped[0].biz_num.as_deref(), Some(outcome.biz_num.as_str()));
    assert_eq!(stamped[0].license_code.as_deref(), Some(origin.license_code.as_str()));
}

#[tokio::test]
async fn a_scanned_jpeg_becomes_a_stamped_page() {
    let s = setup(Duration::from_secs(600)).await;
    let uscc = samples::enterprises()
        .into_iter()
        .find(|e| e.licenses.iter().any(|l| l.file == FileKind::ScannedJpeg))
        .expect("a sample with a scanned license")
        .uscc;
    let outcome = s.scan(&uscc).await;
    let position = outcome
        .licenses
        .iter()
        .position(|l| l.file.as_ref().is_some_and(|f| f.mime == "image/jpeg"))
        .unwrap_or_else(|| panic!("a scanned license with its JPEG: {:?}", outcome.licenses));
    let copy = s.copy(&outcome, position, false).await.unwrap();
    assert_eq!(copy.pages, 1);
    assert!(pdf_text(&copy.pdf).contains(&copy.serial));
}

#[tokio::test]
async fn a_license_revoked_since_the_scan_is_refused_and_turns_revoked() {
    let s = setup(Duration::ZERO).await;
    let outcome = s.scan(&uscc_noted("(normal)")).await;
    let code = outcome.licenses[0].summary.license_code.clone();
    assert!(s.sim.control().revoke_license(&code, "发证机关依法撤销"));

    let err = s.copy(&outcome, 0, false).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::LicenseRevoked);
    let cached = s.station.cache().licenses().unwrap().into_iter().find(|l| l.license_code == code).unwrap();
    assert_eq!(cached.status_at_fetch, LicenseStatus::Revoked, "the card turns 已注销");
    assert!(cached.file.is_none(), "a revoked license keeps no file to show");
    assert_eq!(s.station.cache().partial_license_count().unwrap(), 0);
    assert!(s.audit_kinds().iter().any(|(k, o, _)| k == "license_recheck" && o == "ok"));
    assert!(!s.audit_kinds().iter().any(|(k, _, _)| k == "copy_stamp"), "nothing stamped");

    // Still refused on a second try, without asking the gateway again.
    assert_eq!(s.copy(&outcome, 0, true).await.unwrap_err().code, ErrorCode::LicenseRevoked);
    // The other licenses of the case are not affected.
    assert!(s.copy(&outcome, 1, false).await.is_ok());
}

#[tokio::test]
async fn an_unreachable_gateway_lets_the_clerk_go_on_with_the_last_check() {
    let s = setup(Duration::ZERO).await;
    let outcome = s.scan(&uscc_noted("(normal)")).await;
    s.sim.control().add_fault("get_license:status=503".parse().unwrap());

    let err = s.copy(&outcome, 1, false).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::StatusUnchecked);
    assert!(err.message.contains("最近一次核验于"), "{}", err.message);
    assert!(
        s.audit_kinds()
            .iter()
            .any(|(k, o, c)| k == "license_recheck" && o == "failed" && c.as_deref() == Some("GATEWAY_UNAVAILABLE"))
    );

    let copy = s.copy(&outcome, 1, true).await.unwrap();
    assert!(!copy.check_fresh);
    assert!(pdf_text(&copy.pdf).contains("出具时未能联网复核"), "the footer says the check is old");
    assert!(!s.copies.find(&copy.serial).unwrap().unwrap().check_fresh);

    // Back online: a fresh check again.
    s.sim.control().clear_faults();
    assert!(s.copy(&outcome, 1, false).await.unwrap().check_fresh);
}

#[tokio::test]
async fn expired_and_revoked_licenses_are_never_stamped() {
    let s = setup(Duration::from_secs(600)).await;
    for (note, refused) in
        [("(expired license)", ErrorCode::LicenseExpired), ("(revoked license)", ErrorCode::LicenseRevoked)]
    {
        let outcome = s.scan(&uscc_noted(note)).await;
        let position = outcome
            .licenses
            .iter()
            .position(|l| l.status != LicenseStatus::Valid)
            .unwrap_or_else(|| panic!("{note} has a license that is not valid"));
        assert_eq!(s.copy(&outcome, position, true).await.unwrap_err().code, refused, "{note}");
    }
    assert!(!s.audit_kinds().iter().any(|(k, _, _)| k == "copy_stamp"));
}

#[tokio::test]
async fn unknown_cases_and_licenses_are_named() {
    let s = setup(Duration::from_secs(600)).await;
    let outcome = s.scan(&uscc_noted("(normal)")).await;
    let code = &outcome.licenses[0].summary.license_code;
    let err = s.copies.make("YS-0000000-X-20000101-0001", code, false).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::BizNumUnknown);
    let err = s.copies.make(outcome.biz_num.as_str(), "1.2.156.3005.2.nothing", false).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::AuthCodeNotFound);
}

#[tokio::test]
async fn serials_are_never_reused_after_a_restart_and_saved_files_are_named_for_the_case() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.sqlite3");
    let first = {
        let s = setup_with(Duration::from_secs(600), Cache::open(&db, &crate::keys_beside(&db)).unwrap()).await;
        let outcome = s.scan(&uscc_noted("(normal)")).await;
        (s.copy(&outcome, 0, false).await.unwrap(), outcome.biz_num)
    };
    let s = setup_with(Duration::from_secs(600), Cache::open(&db, &crate::keys_beside(&db)).unwrap()).await;
    let again = s.copies.make(first.1.as_str(), &first.0.license_code, false).await.unwrap();
    assert!(again.serial.ends_with("-0002"), "{}", again.serial);

    let out = tempfile::tempdir().unwrap();
    let saved = s.copies.save(&[Arc::new(again.clone())], Some(out.path())).unwrap();
    assert_eq!(saved[0], out.path().join(again.file_name()));
    assert_eq!(std::fs::read(&saved[0]).unwrap(), again.pdf);
    assert_eq!(s.copies.save_dir().as_deref(), Some(out.path()), "the folder is remembered");
    let missing = s.copies.save(&[Arc::new(again)], Some(Path::new("/nonexistent/folder"))).unwrap_err();
    assert_eq!(missing.code, ErrorCode::SaveFailed);
    let saves: Vec<_> = s.audit_kinds().into_iter().filter(|(k, _, _)| k == "copy_save").collect();
    assert_eq!(saves.len(), 1, "a folder that does not exist is refused before anything is written");
}
