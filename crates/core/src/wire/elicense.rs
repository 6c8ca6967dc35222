//! The e-license use service [public shape] (contract §5): the `ack_code` envelope, login, query, license, archive.

use serde::{Deserialize, Serialize};

pub const ACK_SUCCESS: &str = "SUCCESS";
pub const ACK_FAILURE: &str = "FAILURE";

/// `{ack_code, errors, timestamp, correlation_id, response_id, total_count, data}`;
/// `license/auth` adds a top-level `auth_codes`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LicenseEnvelope<T> {
    pub ack_code: String,
    #[serde(default)]
    pub errors: Vec<LicenseError>,
    #[serde(default)]
    pub timestamp: String,
    #[serde(default)]
    pub correlation_id: String,
    #[serde(default)]
    pub response_id: String,
    #[serde(default)]
    pub total_count: u64,
    #[serde(default = "none")]
    pub data: Option<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_codes: Option<Vec<String>>,
}

fn none<T>() -> Option<T> {
    None
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseError {
    pub code: String,
    #[serde(default)]
    pub message: String,
}

pub const INVALID_ACCESS_TOKEN: &str = "INVALID_ACCESS_TOKEN";
pub const AUTH_CODE_EXPIRED: &str = "AUTH_CODE_EXPIRED";
pub const AUTH_CODE_NOT_FOUND: &str = "AUTH_CODE_NOT_FOUND";
pub const LICENSE_ABOLISHED: &str = "LICENSE_ABOLISHED";
pub const NO_AUTHORIZATION: &str = "NO_AUTHORIZATION";
pub const PARAM_INVALID: &str = "PARAM_INVALID";
/// Not in the contract's table, but what the service answers to wrong login credentials.
pub const LOGIN_FAILED: &str = "LOGIN_FAILED";

/// `POST /security/login` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub account: String,
    pub password: String,
    pub app_key: String,
    pub app_secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginData {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: u64,
}

/// The operator block of `license/auth`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LicenseOperator {
    pub account: String,
    pub name: String,
    pub identity_num: String,
    pub role: String,
    pub division: String,
    pub division_code: String,
    pub service_org: String,
    pub service_org_code: String,
}

/// `POST /license/auth` body: query by holder (依职能用证).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseAuthRequest {
    pub identity_number: String,
    pub service_item_code: String,
    pub service_item_name: String,
    pub biz_num: String,
    pub page_index: u32,
    pub page_size: u32,
    pub operator: LicenseOperator,
}

/// A license in full, as `get_license` and `license/auth` return it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WireLicense {
    pub license_code: String,
    pub name: String,
    pub license_type: String,
    pub id_code: String,
    pub license_item_code: String,
    pub holder_name: String,
    pub holder_identity_type: String,
    pub holder_identity_num: String,
    pub issue_org_name: String,
    pub issue_org_code: String,
    pub division: String,
    pub division_code: String,
    pub issue_date: String,
    pub begin_date: String,
    pub expiry_date: String,
    /// The face fields, as a JSON *string*.
    pub data_fields: String,
    pub attachment_fields: serde_json::Value,
    pub trust_level: String,
    pub license_status: String,
    pub abolish_reason: Option<String>,
    pub public_key: String,
    pub s_sign_cert: String,
    pub algorithm: String,
    pub s_sign_data: String,
    pub last_modification_time: String,
}

/// `GET /license/archive` `data`: the annotated copy, base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveData {
    pub file_name: String,
    pub file_data: String,
}
