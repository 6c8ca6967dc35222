//! The properties the fuzz targets check, one function per target: each takes the raw input,
//! panics when a property fails, and returns whether the input was accepted (parsed, converted,
//! stamped). Shared by `fuzz_targets/*.rs` and by the core's `fuzz_regressions` test, which
//! includes this file to replay the committed seeds, so both check exactly the same thing.
//!
//! Only `yueshang_core` and crates the core itself depends on (chrono, serde_json, base64) are
//! used here, so the test can compile this file as one of its own modules.

use base64::Engine as _;
use chrono::{DateTime, Days, NaiveDate};
use yueshang_core::config::Config;
use yueshang_core::domain::license::parse_license_date;
use yueshang_core::domain::uscc::{check_char, typed_candidate};
use yueshang_core::domain::{EnterpriseCode, Entry, IssueState, LicenseStatus, LicenseSummary, Uscc};
use yueshang_core::gateway::{LicenseFile, convert};
use yueshang_core::print::font::StampFont;
use yueshang_core::print::stamp::{StampText, Stamped};
use yueshang_core::wire::elicense::{self as el, ArchiveData, LicenseEnvelope, LoginData, WireLicense};
use yueshang_core::wire::gateway::GatewayErrorBody;
use yueshang_core::wire::yst::{Code2AuthData, SubmitData, YstEnvelope};
use yueshang_core::{Error, ErrorCode};

/// The names of the targets, as `fuzz_targets/<name>.rs` and `seeds/<name>/`.
pub const TARGETS: [&str; 7] = ["scan_payload", "uscc", "wire_yst", "wire_elicense", "config", "stamp", "image"];

/// Runs the property of the target `name` on `data`; `None` for an unknown name.
pub fn check(name: &str, data: &[u8]) -> Option<bool> {
    Some(match name {
        "scan_payload" => scan_payload(data),
        "uscc" => uscc(data),
        "wire_yst" => wire_yst(data),
        "wire_elicense" => wire_elicense(data),
        "config" => config(data),
        "stamp" => stamp(data),
        "image" => image(data),
        _ => return None,
    })
}

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

// ---------------------------------------------------------------------------------------------
// scan_payload

/// `EnterpriseCode::parse` never panics; a refusal is `CODE_INVALID`; an accepted code is 16–64
/// characters of `A-Z a-z 0-9 - _`, parses again to itself, and its `Debug` does not show it.
pub fn scan_payload(data: &[u8]) -> bool {
    let scanned = text(data);
    match EnterpriseCode::parse(&scanned) {
        Ok(code) => {
            let s = code.as_str();
            assert!((16..=64).contains(&s.len()), "accepted a code of {} bytes: {s:?}", s.len());
            assert!(
                s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "accepted a code with a character outside A-Za-z0-9-_: {s:?}"
            );
            let again =
                EnterpriseCode::parse(s).unwrap_or_else(|e| panic!("accepted {s:?}, which does not parse again: {e}"));
            assert_eq!(again, code, "{s:?} parses again to another code");
            let shown = format!("{code:?} {}", code.hint());
            assert!(!shown.contains(s), "Debug or hint shows the whole code: {shown}");
            true
        }
        Err(e) => {
            assert_eq!(e.code, ErrorCode::CodeInvalid, "refused with another code: {e:?}");
            false
        }
    }
}

// ---------------------------------------------------------------------------------------------
// uscc

/// `Uscc::parse`, `check_char` and `Entry::read` never panic; an accepted USCC is 18 characters
/// whose last is `check_char` of the first 17, and parses again to itself; 17 characters
/// `check_char` accepts, completed with their check character, always make a USCC. `Entry::read`
/// gives a code that `scan_payload` would accept or a USCC as above, and refuses only with
/// `USCC_INVALID` (input shaped like a USCC) or `CODE_INVALID` (anything else).
pub fn uscc(data: &[u8]) -> bool {
    let input = text(data);
    let first17: String = input.chars().take(17).collect();
    if let Some(c) = check_char(&first17) {
        let made = format!("{first17}{c}");
        let parsed = Uscc::parse(&made).unwrap_or_else(|e| panic!("check_char made {made:?}, which is refused: {e}"));
        assert_eq!(parsed.as_str(), made);
    }
    let _ = check_char(&input);
    let entry = entry(&input);
    match Uscc::parse(&input) {
        Ok(u) => {
            valid_uscc(&u);
            true
        }
        Err(_) => entry,
    }
}

fn valid_uscc(u: &Uscc) {
    let s = u.as_str();
    assert_eq!(s.len(), 18, "accepted a USCC of {} bytes: {s:?}", s.len());
    assert_eq!(s.chars().count(), 18, "accepted a USCC of {} characters: {s:?}", s.chars().count());
    assert_eq!(check_char(&s[..17]), s.chars().last(), "accepted {s:?} with a wrong check character");
    let again = Uscc::parse(s).unwrap_or_else(|e| panic!("accepted {s:?}, which does not parse again: {e}"));
    assert_eq!(&again, u);
    assert_eq!(u.to_string(), s);
}

/// `Entry::read`: whether the typed or scanned line was taken.
fn entry(input: &str) -> bool {
    let shaped_like_uscc = typed_candidate(input).is_some();
    match Entry::read(input) {
        Ok(Entry::Holder(u)) => {
            assert!(shaped_like_uscc, "{input:?} read as a USCC but is not shaped like one");
            valid_uscc(&u);
            true
        }
        Ok(Entry::Code(code)) => {
            assert!(!shaped_like_uscc, "{input:?} is shaped like a USCC but read as a code");
            assert!(scan_payload(code.as_str().as_bytes()), "Entry::read took a code EnterpriseCode refuses");
            assert_eq!(
                EnterpriseCode::parse(input).as_ref(),
                Ok(&code),
                "Entry::read and EnterpriseCode::parse differ"
            );
            true
        }
        Err(e) => {
            let expected = if shaped_like_uscc { ErrorCode::UsccInvalid } else { ErrorCode::CodeInvalid };
            assert_eq!(e.code, expected, "{input:?} refused with another code: {e:?}");
            false
        }
    }
}

// ---------------------------------------------------------------------------------------------
// wire_yst

/// The 粤商通 envelopes the client reads (`code2auth`, `apply/submit`) and the gateway's error
/// body: deserializing never panics; what deserializes serializes and reads back the same; a
/// successful `code2auth` goes through the client's own conversion (`gateway::convert::exchange`),
/// and every summary it accepts keeps the status rule.
pub fn wire_yst(data: &[u8]) -> bool {
    let mut accepted = false;
    if let Ok(envelope) = serde_json::from_slice::<YstEnvelope<Code2AuthData>>(data) {
        let again: YstEnvelope<Code2AuthData> = round_trip(&envelope);
        assert_eq!((again.errcode, &again.errmsg, &again.data), (envelope.errcode, &envelope.errmsg, &envelope.data));
        if let (0, Some(data)) = (envelope.errcode, &envelope.data) {
            accepted |= exchange(data).is_ok();
        }
    }
    if let Ok(envelope) = serde_json::from_slice::<YstEnvelope<SubmitData>>(data) {
        let again: YstEnvelope<SubmitData> = round_trip(&envelope);
        assert_eq!((again.errcode, &again.errmsg, &again.data), (envelope.errcode, &envelope.errmsg, &envelope.data));
        accepted |= envelope.errcode == 0 && envelope.data.is_some_and(|d| !d.record_id.is_empty());
    }
    if let Ok(body) = serde_json::from_slice::<GatewayErrorBody>(data) {
        assert_eq!(round_trip::<GatewayErrorBody>(&body), body);
        accepted = true;
    }
    accepted
}

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(value: &impl serde::Serialize) -> T {
    let bytes = serde_json::to_vec(value).expect("a wire value serializes");
    serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!("what was read does not read back after writing ({e}): {}", String::from_utf8_lossy(&bytes))
    })
}

/// `gateway::convert::exchange`, and the status rule and the cached dates of every license in it.
fn exchange(data: &Code2AuthData) -> Result<(), Error> {
    let (_, authorization) = convert::exchange(data)?;
    for license in &authorization.licenses {
        summary_holds(&license.summary);
    }
    Ok(())
}

/// The status rule on the days that matter, and the dates as the cache writes them
/// (`NaiveDate`'s `Display`) read back the same (copies.rs reads them with `parse_license_date`).
fn summary_holds(s: &LicenseSummary) {
    for day in [s.begin_date, s.expiry_date].into_iter().flatten() {
        let cached = day.to_string();
        assert_eq!(parse_license_date(&cached), Ok(Some(day)), "{day} cached as {cached:?}");
    }
    status_rule(s);
}

/// Only an issued or registered license within its dates is ever valid.
fn status_rule(s: &LicenseSummary) {
    let in_force = matches!(s.issue_state, IssueState::Issued | IssueState::Registered);
    let mut days = vec![NaiveDate::MIN, NaiveDate::MAX, NaiveDate::from_ymd_opt(2026, 11, 29).expect("a day")];
    for edge in [s.begin_date, s.expiry_date].into_iter().flatten() {
        days.extend(
            [edge.checked_sub_days(Days::new(1)), Some(edge), edge.checked_add_days(Days::new(1))]
                .into_iter()
                .flatten(),
        );
    }
    for today in days {
        let status = s.status_on(today);
        if !in_force {
            assert_eq!(status, LicenseStatus::Revoked, "{:?} on {today}", s.issue_state);
        }
        if status == LicenseStatus::Valid {
            assert!(s.begin_date.is_none_or(|b| b <= today), "valid on {today} before its begin {:?}", s.begin_date);
            assert!(s.expiry_date.is_none_or(|e| today <= e), "valid on {today} after its expiry {:?}", s.expiry_date);
        }
        assert_eq!(LicenseStatus::parse(status.as_str()), Some(status));
    }
}

// ---------------------------------------------------------------------------------------------
// wire_elicense

/// The e-license envelopes the client reads (login, `get_license`, `license/auth`, archive):
/// deserializing never panics; successful answers go through the client's own conversion
/// (`gateway::convert::license`) and the steps of `GatewayClient::archive`.
pub fn wire_elicense(data: &[u8]) -> bool {
    let mut accepted = false;
    if let Some(login) = success::<LoginData>(data) {
        accepted |= !login.access_token.is_empty();
    }
    if let Some(license) = success::<WireLicense>(data) {
        accepted |= convert_license(&license).is_ok();
    }
    if let Ok(envelope) = serde_json::from_slice::<LicenseEnvelope<Vec<WireLicense>>>(data) {
        let codes = envelope.auth_codes.clone().unwrap_or_default();
        if let (el::ACK_SUCCESS, Some(licenses)) = (envelope.ack_code.as_str(), &envelope.data)
            && licenses.len() == codes.len()
        {
            accepted |= licenses.iter().map(convert_license).collect::<Result<Vec<_>, _>>().is_ok();
        }
    }
    if let Some(archive) = success::<ArchiveData>(data) {
        accepted |= archive_file(archive).is_ok();
    }
    accepted
}

/// The data of a successful answer (`license_data`), any error code read as the client reads it.
fn success<T: serde::de::DeserializeOwned>(data: &[u8]) -> Option<T> {
    let envelope = serde_json::from_slice::<LicenseEnvelope<T>>(data).ok()?;
    if envelope.ack_code != el::ACK_SUCCESS {
        let _ = envelope.errors.first().map(|e| (e.code.as_str(), e.message.as_str()));
        return None;
    }
    envelope.data
}

/// `gateway::convert::license`, and what every license it accepts must keep.
fn convert_license(w: &WireLicense) -> Result<(), Error> {
    let license = convert::license(w)?;
    summary_holds(&license.summary);
    for (name, _) in &license.face_fields.0 {
        assert!(license.face_fields.get(name).is_some(), "face field {name:?} listed but not found");
    }
    Ok(())
}

/// `GatewayClient::archive` after the envelope: base64, not empty, the file's type sniffed.
fn archive_file(archive: ArchiveData) -> Result<LicenseFile, String> {
    let bytes =
        base64::engine::general_purpose::STANDARD.decode(archive.file_data.trim()).map_err(|e| e.to_string())?;
    if bytes.is_empty() {
        return Err("empty file".to_owned());
    }
    let file = LicenseFile::new(archive.file_name, bytes);
    assert_eq!(file.sha256.len(), 64);
    assert!(
        ["application/pdf", "image/jpeg", "image/png", "application/ofd", "application/octet-stream"]
            .contains(&file.mime),
        "sniffed {:?}",
        file.mime
    );
    Ok(file)
}

// ---------------------------------------------------------------------------------------------
// config

/// `Config::parse` never panics and refuses only with `CONFIG_INVALID`; a parsed configuration
/// turned into settings (no sandbox) also fails only with `CONFIG_INVALID`.
pub fn config(data: &[u8]) -> bool {
    match Config::parse(&text(data)) {
        Ok(config) => {
            if let Err(e) = config.into_settings(None) {
                assert_eq!(e.code, ErrorCode::ConfigInvalid, "settings refused with another code: {e:?}");
            }
            true
        }
        Err(e) => {
            assert_eq!(e.code, ErrorCode::ConfigInvalid, "refused with another code: {e:?}");
            false
        }
    }
}

// ---------------------------------------------------------------------------------------------
// stamp

/// The file types the first input byte selects (modulo 3); the rest of the input is the file.
pub const STAMP_MIMES: [&str; 3] = ["application/pdf", "image/jpeg", "image/png"];

/// The system's CJK font, loaded once (tests get theirs the same way).
pub fn stamp_font() -> &'static StampFont {
    static FONT: std::sync::OnceLock<StampFont> = std::sync::OnceLock::new();
    FONT.get_or_init(|| StampFont::load(None).unwrap_or_else(|e| panic!("{e} (apt-get install fonts-wqy-microhei)")))
}

fn stamp_text() -> StampText {
    let china = |s: &str| DateTime::parse_from_rfc3339(s).expect("a time");
    StampText {
        item_name: "食品经营许可（新办）".to_owned(),
        hall_name: "广州市天河区政务服务中心".to_owned(),
        counter: "A03".to_owned(),
        clerk_name: "王小丽".to_owned(),
        biz_num: "4401062026112900007".to_owned(),
        made_at: china("2026-11-29T10:02:59+08:00"),
        serial: "P-4401061-A03-20261129-0007".to_owned(),
        checked_at: china("2026-11-29T09:58:00+08:00"),
        check_fresh: true,
    }
}

/// Stamps the input as the file type its first byte selects.
pub fn stamp_input(data: &[u8]) -> Option<yueshang_core::Result<Stamped>> {
    let (&selector, source) = data.split_first()?;
    let mime = STAMP_MIMES[usize::from(selector) % STAMP_MIMES.len()];
    Some(yueshang_core::print::stamp::stamp(source, mime, &stamp_text(), stamp_font()))
}

/// `print::stamp::stamp` never panics (a panic inside the PDF parser, which the stamper catches,
/// is its own `FILE_UNREADABLE`); it gives a PDF with at least one page, or `FILE_UNREADABLE`.
/// A stamped PDF is the original PDF's bytes from its `%PDF-` header on (anything before the
/// header is not part of the PDF), untouched, followed by the incremental update.
pub fn stamp(data: &[u8]) -> bool {
    let Some(result) = stamp_input(data) else { return false };
    match result {
        Ok(stamped) => {
            assert!(stamped.pdf.starts_with(b"%PDF-"), "the copy does not start with a PDF header");
            assert!(stamped.pages >= 1, "a copy of no pages");
            if STAMP_MIMES[usize::from(data[0]) % STAMP_MIMES.len()] == "application/pdf" {
                let source = &data[1..];
                let header = source.windows(5).position(|w| w == b"%PDF-").expect("a stamped PDF source has a header");
                assert!(stamped.pdf.starts_with(&source[header..]), "the original PDF's bytes were changed");
            }
            true
        }
        Err(e) => {
            assert_eq!(e.code, ErrorCode::FileUnreadable, "refused with another code: {e:?}");
            false
        }
    }
}

// ---------------------------------------------------------------------------------------------
// image

/// `imagecode::find_codes` never panics, and every code it finds is text with something in it.
pub fn image(data: &[u8]) -> bool {
    match yueshang_core::imagecode::find_codes(data) {
        Ok(codes) => {
            assert!(codes.iter().all(|c| !c.is_empty()), "an empty code found: {codes:?}");
            !codes.is_empty()
        }
        Err(_) => false,
    }
}
