//! What the window receives: camelCase DTOs made from the core's types (ui/src/types.ts mirrors them).
//!
//! Auth codes never leave the shell: the window gets summaries and an auth id, not the bearer
//! codes that fetch a license.

use crate::case_dto::{OutboxStatusDto, PrintingDto};
use crate::hall_dto::HallServiceDto;
use crate::shift_dto::{AboutInfo, PrivacyInfo, SignInInfo};
use serde::Serialize;
use yueshang_core::Error;
use yueshang_core::cache::FileInfo;
use yueshang_core::config::{Mode, Settings, WindowSettings};
use yueshang_core::domain::{Authorization, BizNum, Enterprise, License, LicenseStatus, LicenseSummary, Operator};
use yueshang_core::station::{LicenseOutcome, ScanEvent, ScanOutcome};

/// What every command rejects with: the code the UI branches on and the message for the person.
///
/// `fact` is the message without the code's standard advice (which the window shows in the
/// person's language from errors.ts), e.g. "本机时间比网关慢 250 秒。"; `None` when the message
/// is only that advice.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AppError {
    code: &'static str,
    message: String,
    fact: Option<String>,
}

impl From<Error> for AppError {
    fn from(err: Error) -> Self {
        // The detail is for IT's log, not for the window.
        if let Some(detail) = &err.detail {
            tracing::warn!(code = %err.code, %detail, "command failed");
        }
        let fact = err.message.strip_suffix(err.code.advice()).unwrap_or(&err.message).trim();
        let fact = (!fact.is_empty()).then(|| fact.to_owned());
        AppError { code: err.code.as_str(), message: err.message, fact }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CounterInfo {
    mode: &'static str,
    environment: &'static str,
    hall: HallDto,
    counter: String,
    operator: OperatorDto,
    service_items: Vec<ServiceItemDto>,
    biz_num: String,
    version: &'static str,
    printing: PrintingDto,
    outbox: OutboxStatusDto,
    sign_in: SignInInfo,
    about: AboutInfo,
    audit: AuditInfo,
    privacy: PrivacyInfo,
    /// The legal grounds a lookup by USCC (依职能用证) may be made on, in the order shown.
    lookup_grounds: Vec<String>,
    /// `[window] large_type`: 大字模式 unless the clerk turned it off on this PC.
    large_type: bool,
    /// `[hall_service]`: the supervisor view offers 全厅; `None` (null): no hall service.
    hall_service: Option<HallServiceDto>,
}

/// `[audit]` as the supervisor view needs it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuditInfo {
    /// The folder IT set for exports; the supervisor may still pick another.
    export_dir: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct HallDto {
    code: String,
    name: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct OperatorDto {
    account: String,
    name: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct ServiceItemDto {
    code: String,
    name: String,
}

impl CounterInfo {
    pub(crate) fn new(
        mode: Mode,
        settings: &Settings,
        operator: &Operator,
        biz_num: &BizNum,
        (printing, outbox): (PrintingDto, OutboxStatusDto),
        (sign_in, about): (SignInInfo, AboutInfo),
        window: WindowSettings,
    ) -> Self {
        CounterInfo {
            mode: match mode {
                Mode::Sandbox => "sandbox",
                Mode::Gateway => "gateway",
            },
            environment: settings.gateway.environment.as_str(),
            hall: HallDto { code: settings.counter.hall_code.clone(), name: settings.counter.hall_name.clone() },
            counter: settings.counter.counter.clone(),
            operator: OperatorDto { account: operator.account.clone(), name: operator.name.clone() },
            service_items: settings
                .service_items
                .iter()
                .map(|i| ServiceItemDto { code: i.code.clone(), name: i.name.clone() })
                .collect(),
            biz_num: biz_num.as_str().to_owned(),
            version: env!("CARGO_PKG_VERSION"),
            printing,
            outbox,
            sign_in,
            about,
            audit: AuditInfo { export_dir: settings.audit.export_dir.as_ref().map(|d| d.display().to_string()) },
            privacy: PrivacyInfo::from(&settings.privacy),
            lookup_grounds: settings.lookup.grounds.clone(),
            large_type: window.large_type,
            hall_service: None,
        }
    }

    /// The hall service this counter ships to and reads 全厅 from (`[hall_service] url`).
    pub(crate) fn with_hall_service(mut self, url: Option<&str>) -> Self {
        self.hall_service = url.map(|url| HallServiceDto { url: url.to_owned() });
        self
    }
}

/// What a typed or scanned line is: `code` (scan it) or `uscc` (look it up, with the folded USCC).
#[derive(Debug, Serialize)]
pub(crate) struct EntryDto {
    pub(crate) kind: &'static str,
    pub(crate) uscc: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NextCustomer {
    pub(crate) biz_num: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EnterpriseDto {
    name: String,
    uscc: String,
    legal_rep_name: String,
}

impl From<&Enterprise> for EnterpriseDto {
    fn from(e: &Enterprise) -> Self {
        EnterpriseDto {
            name: e.name.clone(),
            uscc: e.uscc.as_str().to_owned(),
            legal_rep_name: e.legal_rep_name.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SummaryDto {
    position: usize,
    license_code: String,
    name: String,
    number: String,
    issuer: String,
    valid_from: Option<String>,
    valid_until: Option<String>,
    status: &'static str,
}

impl SummaryDto {
    pub(crate) fn new(position: usize, summary: &LicenseSummary, status: LicenseStatus) -> Self {
        SummaryDto {
            position,
            license_code: summary.license_code.clone(),
            name: summary.name.clone(),
            number: summary.id_code.clone(),
            issuer: summary.issue_org_name.clone(),
            valid_from: summary.begin_date.map(|d| d.to_string()),
            valid_until: summary.expiry_date.map(|d| d.to_string()),
            status: status.as_str(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuthorizationDto {
    auth_id: String,
    expires_at: String,
    licenses: Vec<SummaryDto>,
}

impl AuthorizationDto {
    /// Statuses are computed for `today` (China date), as the station does.
    fn new(authorization: &Authorization, today: chrono::NaiveDate) -> Self {
        AuthorizationDto {
            auth_id: authorization.auth_id.clone(),
            expires_at: authorization.expires_at.to_rfc3339(),
            licenses: authorization
                .licenses
                .iter()
                .enumerate()
                .map(|(i, l)| SummaryDto::new(i, &l.summary, l.summary.status_on(today)))
                .collect(),
        }
    }

    /// The authorization as the scan ended: statuses from the fetched licenses where they came.
    fn of_outcome(outcome: &ScanOutcome) -> Self {
        AuthorizationDto {
            auth_id: outcome.auth_id.clone(),
            expires_at: outcome.auth_expires_at.to_rfc3339(),
            licenses: outcome
                .licenses
                .iter()
                .enumerate()
                .map(|(i, l)| SummaryDto::new(i, &l.summary, l.status))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct FaceFieldDto {
    name: String,
    value: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LicenseDto {
    #[serde(flatten)]
    summary: SummaryDto,
    holder_name: String,
    issue_date: Option<String>,
    division: String,
    trust_level: String,
    abolish_reason: Option<String>,
    face_fields: Vec<FaceFieldDto>,
}

impl LicenseDto {
    fn new(position: usize, license: &License, status: LicenseStatus) -> Self {
        LicenseDto {
            summary: SummaryDto::new(position, &license.summary, status),
            holder_name: license.holder_name.clone(),
            issue_date: license.issue_date.map(|d| d.to_string()),
            division: license.division.clone(),
            trust_level: license.trust_level.clone(),
            abolish_reason: license.abolish_reason.clone(),
            face_fields: license
                .face_fields
                .0
                .iter()
                .map(|(name, value)| FaceFieldDto { name: name.clone(), value: value.clone() })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FileDto {
    file_name: String,
    mime: String,
    size: u64,
    sha256: String,
}

impl From<&FileInfo> for FileDto {
    fn from(f: &FileInfo) -> Self {
        FileDto { file_name: f.file_name.clone(), mime: f.mime.clone(), size: f.size, sha256: f.sha256.clone() }
    }
}

/// The "scan-progress" event's payload: which scan, and what happened.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScanProgress {
    pub(crate) scan_id: u64,
    pub(crate) event: ProgressDto,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub(crate) enum ProgressDto {
    EnterpriseKnown { biz_num: String, enterprise: EnterpriseDto, authorization: AuthorizationDto },
    LicenseArrived { license: Box<LicenseDto> },
    FileArrived { position: usize, license_code: String, file: FileDto },
    LicenseFailed { position: usize, license_code: String, error: AppError },
}

impl ProgressDto {
    /// The window's view of a scan event; `None` for the end events, which the command's own
    /// answer carries.
    pub(crate) fn of(event: &ScanEvent, today: chrono::NaiveDate) -> Option<Self> {
        Some(match event {
            ScanEvent::EnterpriseKnown { biz_num, enterprise, authorization } => ProgressDto::EnterpriseKnown {
                biz_num: biz_num.as_str().to_owned(),
                enterprise: enterprise.into(),
                authorization: AuthorizationDto::new(authorization, today),
            },
            ScanEvent::LicenseArrived { position, license, status } => {
                ProgressDto::LicenseArrived { license: Box::new(LicenseDto::new(*position, license, *status)) }
            }
            ScanEvent::FileArrived { position, license_code, file } => {
                ProgressDto::FileArrived { position: *position, license_code: license_code.clone(), file: file.into() }
            }
            ScanEvent::LicenseFailed { position, license_code, error } => ProgressDto::LicenseFailed {
                position: *position,
                license_code: license_code.clone(),
                error: error.clone().into(),
            },
            ScanEvent::Done { .. } | ScanEvent::Failed { .. } => return None,
        })
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OutcomeDto {
    summary: SummaryDto,
    license: Option<LicenseDto>,
    file: Option<FileDto>,
    error: Option<AppError>,
}

impl OutcomeDto {
    pub(crate) fn new(position: usize, outcome: &LicenseOutcome) -> Self {
        OutcomeDto {
            summary: SummaryDto::new(position, &outcome.summary, outcome.status),
            license: outcome.license.as_ref().map(|l| LicenseDto::new(position, l, outcome.status)),
            file: outcome.file.as_ref().map(FileDto::from),
            error: outcome.error.clone().map(AppError::from),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScanResult {
    biz_num: String,
    enterprise: EnterpriseDto,
    authorization: AuthorizationDto,
    elapsed_ms: u64,
    licenses: Vec<OutcomeDto>,
}

impl ScanResult {
    pub(crate) fn new(outcome: &ScanOutcome) -> Self {
        ScanResult {
            biz_num: outcome.biz_num.as_str().to_owned(),
            enterprise: (&outcome.enterprise).into(),
            authorization: AuthorizationDto::of_outcome(outcome),
            elapsed_ms: u64::try_from(outcome.elapsed.as_millis()).unwrap_or(u64::MAX),
            licenses: outcome.licenses.iter().enumerate().map(|(i, l)| OutcomeDto::new(i, l)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yueshang_core::ErrorCode;

    #[test]
    fn the_fact_is_what_the_message_adds_to_the_standard_advice() {
        let plain = AppError::from(Error::new(ErrorCode::CodeExpired));
        assert_eq!(plain.fact, None);
        assert_eq!(plain.message, ErrorCode::CodeExpired.advice());

        let specific = AppError::from(Error::with_fact(ErrorCode::ClockSkew, "本机时间比网关慢 250 秒。"));
        assert_eq!(specific.fact.as_deref(), Some("本机时间比网关慢 250 秒。"));
        assert_eq!(specific.code, "CLOCK_SKEW");
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SandboxEnterprise {
    pub(crate) uscc: String,
    pub(crate) name: String,
    pub(crate) note: String,
    pub(crate) license_count: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IssuedCodeDto {
    pub(crate) payload: String,
    pub(crate) qr_png: String,
    pub(crate) expires_at: String,
}
