//! The 粤商通 calls [ours] (contract §4): code exchange and handling record, with the `errcode` envelope.
//!
//! This file is the one place that names the fields of our own contract; when the official
//! specification arrives, the renames happen here.

use serde::{Deserialize, Serialize};

/// `{"errcode": 0, "errmsg": "ok", "data": {...}}`; `errcode != 0` is a business failure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct YstEnvelope<T> {
    pub errcode: i64,
    #[serde(default)]
    pub errmsg: String,
    #[serde(default = "none")]
    pub data: Option<T>,
}

fn none<T>() -> Option<T> {
    None
}

impl<T> YstEnvelope<T> {
    pub fn ok(data: T) -> Self {
        YstEnvelope { errcode: 0, errmsg: "ok".to_owned(), data: Some(data) }
    }

    pub fn fail(errcode: i64, errmsg: &str) -> Self {
        YstEnvelope { errcode, errmsg: errmsg.to_owned(), data: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HallRef {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorRef {
    pub account: String,
    pub name: String,
    pub role: String,
    pub division_code: String,
    pub service_org: String,
    pub service_org_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalRef {
    pub device_id: String,
}

/// `POST {yst_base}/ysm/code2auth` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Code2AuthRequest {
    pub ysm_code: String,
    pub service_item_code: String,
    pub service_item_name: String,
    pub biz_num: String,
    pub hall: HallRef,
    pub operator: OperatorRef,
    pub terminal: TerminalRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnterpriseRef {
    pub name: String,
    pub uscc: String,
    #[serde(default)]
    pub legal_rep_name: String,
}

/// A license summary as the exchange lists it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LicenseSummaryRef {
    pub license_code: String,
    pub name: String,
    pub license_type: String,
    pub id_code: String,
    pub issue_org_name: String,
    pub begin_date: String,
    pub expiry_date: String,
    pub license_status: String,
}

/// `code2auth` success `data`; `auth_codes[i]` belongs to `licenses[i]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Code2AuthData {
    pub enterprise: EnterpriseRef,
    pub auth_id: String,
    /// RFC 3339 with offset.
    pub auth_expires_at: String,
    #[serde(default)]
    pub licenses: Vec<LicenseSummaryRef>,
    #[serde(default)]
    pub auth_codes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicantRef {
    pub name: String,
    pub uscc: String,
}

/// `POST {yst_base}/ysm/apply/submit` request; `biz_num` is the idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitRequest {
    pub biz_num: String,
    pub auth_id: String,
    pub service_item_code: String,
    pub service_item_name: String,
    pub applicant: ApplicantRef,
    pub operator: OperatorRef,
    pub used_license_codes: Vec<String>,
    /// `RECEIVED` | `ACCEPTED` | `DONE` | `REJECTED`.
    pub status: String,
    /// [ours] Why the case was refused (required for `REJECTED`, shown to the enterprise); left
    /// out of the body when there is none, so the public shape of §4.2 is unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub submitted_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitData {
    pub record_id: String,
    #[serde(default)]
    pub duplicate: bool,
}
