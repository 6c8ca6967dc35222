//! Wire → domain conversions for gateway answers: the one place that reads wire types into domain types.

use crate::domain::license::parse_license_date;
use crate::domain::{
    Authorization, AuthorizedLicense, Enterprise, FaceFields, IssueState, License, LicenseSummary, Uscc,
};
use crate::error::{Error, Result};
use crate::wire::elicense::WireLicense;
use crate::wire::yst::{Code2AuthData, LicenseSummaryRef};
use chrono::{DateTime, NaiveDate};

fn date(value: &str, field: &str, license_code: &str) -> Result<Option<NaiveDate>> {
    parse_license_date(value).map_err(|e| Error::bad_response(format!("license {license_code}: {field}: {e}")))
}

/// Reads a summary; an unreadable date is an error, never "no end", so an expired license
/// cannot pass as valid.
pub fn summary(s: &LicenseSummaryRef) -> Result<LicenseSummary> {
    let code = &s.license_code;
    if code.trim().is_empty() {
        return Err(Error::bad_response("license without license_code"));
    }
    Ok(LicenseSummary {
        license_code: code.clone(),
        name: s.name.clone(),
        license_type: s.license_type.clone(),
        id_code: s.id_code.clone(),
        issue_org_name: s.issue_org_name.clone(),
        begin_date: date(&s.begin_date, "begin_date", code)?,
        expiry_date: date(&s.expiry_date, "expiry_date", code)?,
        issue_state: IssueState::parse(&s.license_status),
    })
}

/// The summary part of a full license.
fn summary_of(w: &WireLicense) -> LicenseSummaryRef {
    LicenseSummaryRef {
        license_code: w.license_code.clone(),
        name: w.name.clone(),
        license_type: w.license_type.clone(),
        id_code: w.id_code.clone(),
        issue_org_name: w.issue_org_name.clone(),
        begin_date: w.begin_date.clone(),
        expiry_date: w.expiry_date.clone(),
        license_status: w.license_status.clone(),
    }
}

pub fn license(w: &WireLicense) -> Result<License> {
    let summary = summary(&summary_of(w))?;
    // Unreadable face fields do not make the license unusable: the file is what counts, so the
    // license is kept and the table shown empty.
    let face_fields = FaceFields::parse(&w.data_fields).unwrap_or_else(|e| {
        tracing::warn!(license_code = %w.license_code, error = %e, "data_fields unreadable");
        FaceFields::default()
    });
    Ok(License {
        license_item_code: w.license_item_code.clone(),
        holder_name: w.holder_name.clone(),
        holder_identity_type: w.holder_identity_type.clone(),
        holder_identity_num: w.holder_identity_num.clone(),
        issue_org_code: w.issue_org_code.clone(),
        division: w.division.clone(),
        division_code: w.division_code.clone(),
        issue_date: date(&w.issue_date, "issue_date", &w.license_code)?,
        trust_level: w.trust_level.clone(),
        abolish_reason: w.abolish_reason.clone().filter(|r| !r.trim().is_empty()),
        face_fields,
        last_modification_time: w.last_modification_time.clone(),
        summary,
    })
}

pub fn exchange(data: &Code2AuthData) -> Result<(Enterprise, Authorization)> {
    let uscc = Uscc::parse(&data.enterprise.uscc)
        .map_err(|_| Error::bad_response(format!("enterprise uscc {:?} is not a valid USCC", data.enterprise.uscc)))?;
    let enterprise =
        Enterprise { name: data.enterprise.name.clone(), uscc, legal_rep_name: data.enterprise.legal_rep_name.clone() };
    let expires_at = DateTime::parse_from_rfc3339(&data.auth_expires_at)
        .map_err(|e| Error::bad_response(format!("auth_expires_at {:?}: {e}", data.auth_expires_at)))?;
    if data.licenses.len() != data.auth_codes.len() {
        return Err(Error::bad_response(format!(
            "{} licenses but {} auth_codes",
            data.licenses.len(),
            data.auth_codes.len()
        )));
    }
    if data.auth_id.trim().is_empty() {
        return Err(Error::bad_response("empty auth_id"));
    }
    let licenses = data
        .licenses
        .iter()
        .zip(&data.auth_codes)
        .map(|(s, code)| Ok(AuthorizedLicense { summary: summary(s)?, auth_code: code.clone().into() }))
        .collect::<Result<Vec<_>>>()?;
    Ok((enterprise, Authorization { auth_id: data.auth_id.clone(), expires_at, licenses }))
}
