//! Enterprises, authorizations and licenses as the counter reasons about them, with the status rule.

use crate::domain::uscc::Uscc;
use chrono::{DateTime, FixedOffset, NaiveDate};

/// The enterprise behind a scanned code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enterprise {
    pub name: String,
    pub uscc: Uscc,
    /// As the gateway masks it, e.g. `张*`.
    pub legal_rep_name: String,
}

/// What the enterprise authorized for this service item: an id, an expiry and the licenses it ticked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub auth_id: String,
    pub expires_at: DateTime<FixedOffset>,
    pub licenses: Vec<AuthorizedLicense>,
}

/// One license of an authorization: the summary the exchange returned and the code to fetch it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedLicense {
    pub summary: LicenseSummary,
    /// A bearer credential for 30 minutes: never printed, zeroized when dropped.
    pub auth_code: crate::secret::Secret,
}

/// What the issuing system says of a license (`license_status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueState {
    Issued,
    Draft,
    Registered,
    Abolished,
    Other(String),
}

impl IssueState {
    pub fn parse(value: &str) -> Self {
        match value.trim().to_ascii_uppercase().as_str() {
            "ISSUED" => IssueState::Issued,
            "DRAFT" => IssueState::Draft,
            "REGISTERED" => IssueState::Registered,
            "ABOLISHED" => IssueState::Abolished,
            _ => IssueState::Other(value.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            IssueState::Issued => "ISSUED",
            IssueState::Draft => "DRAFT",
            IssueState::Registered => "REGISTERED",
            IssueState::Abolished => "ABOLISHED",
            IssueState::Other(v) => v,
        }
    }
}

/// The fields of a license that the exchange's summary carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseSummary {
    pub license_code: String,
    pub name: String,
    pub license_type: String,
    pub id_code: String,
    pub issue_org_name: String,
    pub begin_date: Option<NaiveDate>,
    /// `None` for a license without end (长期).
    pub expiry_date: Option<NaiveDate>,
    pub issue_state: IssueState,
}

impl LicenseSummary {
    pub fn status_on(&self, today: NaiveDate) -> LicenseStatus {
        LicenseStatus::of(&self.issue_state, self.begin_date, self.expiry_date, today)
    }
}

/// A license as fetched in full (`get_license`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct License {
    pub summary: LicenseSummary,
    pub license_item_code: String,
    pub holder_name: String,
    pub holder_identity_type: String,
    pub holder_identity_num: String,
    pub issue_org_code: String,
    pub division: String,
    pub division_code: String,
    pub issue_date: Option<NaiveDate>,
    pub trust_level: String,
    pub abolish_reason: Option<String>,
    pub face_fields: FaceFields,
    pub last_modification_time: String,
}

impl License {
    pub fn status_on(&self, today: NaiveDate) -> LicenseStatus {
        self.summary.status_on(today)
    }
}

/// Whether a license can be relied on today.
///
/// The three values are what a clerk must tell apart; anything not positively in force
/// is never `Valid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenseStatus {
    Valid,
    Expired,
    Revoked,
}

impl LicenseStatus {
    /// The status rule: abolished (or never issued) is revoked; outside its validity period is
    /// expired; otherwise valid. Dates are China dates; a license is valid through its expiry day.
    pub fn of(state: &IssueState, begin: Option<NaiveDate>, expiry: Option<NaiveDate>, today: NaiveDate) -> Self {
        match state {
            IssueState::Issued | IssueState::Registered => {}
            // A draft or an unknown state is not in force; the counter shows it as revoked
            // rather than invent a fourth status the enterprise's app does not know.
            IssueState::Abolished | IssueState::Draft | IssueState::Other(_) => return LicenseStatus::Revoked,
        }
        let ended = expiry.is_some_and(|e| e < today);
        let not_begun = begin.is_some_and(|b| b > today);
        if ended || not_begun { LicenseStatus::Expired } else { LicenseStatus::Valid }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LicenseStatus::Valid => "valid",
            LicenseStatus::Expired => "expired",
            LicenseStatus::Revoked => "revoked",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "valid" => Some(LicenseStatus::Valid),
            "expired" => Some(LicenseStatus::Expired),
            "revoked" => Some(LicenseStatus::Revoked),
            _ => None,
        }
    }

    /// The badge a clerk reads.
    pub fn label(self) -> &'static str {
        match self {
            LicenseStatus::Valid => "有效",
            LicenseStatus::Expired => "已过期",
            LicenseStatus::Revoked => "已注销",
        }
    }
}

/// Parses a license date as the e-license systems write it.
///
/// Accepts `yyyy-MM-dd`, `yyyyMMdd`, `yyyy/MM/dd` and those followed by a time; `长期`,
/// an empty value and the `9999-…` sentinel mean "no end" and give `None`.
pub fn parse_license_date(value: &str) -> Result<Option<NaiveDate>, String> {
    let v = value.trim();
    if v.is_empty() || v == "长期" || v.starts_with("9999") {
        return Ok(None);
    }
    let date_part = v.split([' ', 'T']).next().unwrap_or(v);
    for format in ["%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y年%m月%d日"] {
        if let Ok(d) = NaiveDate::parse_from_str(date_part, format) {
            return Ok(Some(d));
        }
    }
    Err(format!("unreadable date {v:?}"))
}

/// The face fields of a license (`data_fields`), in the order the issuer wrote them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaceFields(pub Vec<(String, String)>);

impl FaceFields {
    /// Reads `data_fields`: a JSON string holding an object of name → value, or a list of
    /// `{name|key|label, value}` objects. Anything unreadable gives `Err` with the reason;
    /// the caller keeps the license and shows the fields as unavailable.
    pub fn parse(data_fields: &str) -> Result<Self, String> {
        if data_fields.trim().is_empty() {
            return Ok(FaceFields::default());
        }
        let value: serde_json::Value = serde_json::from_str(data_fields).map_err(|e| e.to_string())?;
        let pairs = match value {
            serde_json::Value::Object(map) => map.into_iter().map(|(k, v)| (k, scalar_text(&v))).collect(),
            serde_json::Value::Array(items) => items
                .iter()
                .filter_map(|item| {
                    let name = ["name", "key", "label"].iter().find_map(|k| item.get(*k)?.as_str())?;
                    Some((name.to_owned(), item.get("value").map(scalar_text).unwrap_or_default()))
                })
                .collect(),
            other => return Err(format!("data_fields is a {}", json_kind(&other))),
        };
        Ok(FaceFields(pairs))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn scalar_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<NaiveDate> {
        parse_license_date(s).unwrap()
    }

    #[test]
    fn status_rule_with_a_fixed_day() {
        let today = d("2026-11-28").unwrap();
        let check = |state: &str, begin: &str, expiry: &str, want: LicenseStatus| {
            let got = LicenseStatus::of(&IssueState::parse(state), d(begin), d(expiry), today);
            assert_eq!(got, want, "{state} {begin}..{expiry}");
        };
        check("ISSUED", "2020-01-01", "2030-01-01", LicenseStatus::Valid);
        check("ISSUED", "2020-01-01", "长期", LicenseStatus::Valid);
        check("ISSUED", "2020-01-01", "2026-11-28", LicenseStatus::Valid); // valid through its last day
        check("ISSUED", "2020-01-01", "2026-11-27", LicenseStatus::Expired);
        check("ISSUED", "2026-11-29", "2030-01-01", LicenseStatus::Expired); // not yet in force
        check("REGISTERED", "", "", LicenseStatus::Valid);
        check("ABOLISHED", "2020-01-01", "2030-01-01", LicenseStatus::Revoked);
        check("abolished", "2020-01-01", "2020-01-02", LicenseStatus::Revoked); // revoked wins over expired
        check("DRAFT", "2020-01-01", "2030-01-01", LicenseStatus::Revoked);
        check("SOMETHING_NEW", "", "", LicenseStatus::Revoked);
    }

    #[test]
    fn license_dates_in_the_forms_issuers_use() {
        assert_eq!(d("2026-11-28"), NaiveDate::from_ymd_opt(2026, 11, 28));
        assert_eq!(d("20261128"), NaiveDate::from_ymd_opt(2026, 11, 28));
        assert_eq!(d("2026/11/28"), NaiveDate::from_ymd_opt(2026, 11, 28));
        assert_eq!(d("2026-11-28 00:00:00"), NaiveDate::from_ymd_opt(2026, 11, 28));
        assert_eq!(d("2026年11月28日"), NaiveDate::from_ymd_opt(2026, 11, 28));
        assert_eq!(d("长期"), None);
        assert_eq!(d("9999-12-31"), None);
        assert_eq!(d(""), None);
        assert!(parse_license_date("next year").is_err());
    }

    #[test]
    fn face_fields_from_object_and_list() {
        let f = FaceFields::parse(r#"{"名称":"广州穗禾餐饮管理有限公司","注册资本":500,"备注":null}"#).unwrap();
        let names: Vec<&str> = f.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["名称", "注册资本", "备注"], "the issuer's order, not sorted");
        assert_eq!(f.get("注册资本"), Some("500"));
        assert_eq!(f.get("备注"), Some(""));
        let f = FaceFields::parse(r#"[{"name":"许可项目","value":"热食类食品制售"},{"key":"编号","value":"JY1"}]"#)
            .unwrap();
        assert_eq!(f.get("许可项目"), Some("热食类食品制售"));
        assert_eq!(f.get("编号"), Some("JY1"));
        assert!(FaceFields::parse("").unwrap().0.is_empty());
        assert!(FaceFields::parse("{not json").is_err());
        assert!(FaceFields::parse("42").is_err());
    }
}
