//! The [ours] parts of the gateway contract that may change when the official 粤商通 specification
//! arrives: paths and business codes, overridable from the `[contract]` section of the configuration.

use crate::error::ErrorCode;
use serde::Deserialize;
use std::fmt;
use std::str::FromStr;

/// A route of the gateway contract, named as logs, fault specs and the sandbox's statistics name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Route {
    Code2Auth,
    Submit,
    Login,
    LicenseAuth,
    GetLicense,
    Archive,
}

impl Route {
    pub const ALL: [Route; 6] =
        [Route::Code2Auth, Route::Submit, Route::Login, Route::LicenseAuth, Route::GetLicense, Route::Archive];

    pub fn as_str(self) -> &'static str {
        match self {
            Route::Code2Auth => "code2auth",
            Route::Submit => "submit",
            Route::Login => "login",
            Route::LicenseAuth => "license_auth",
            Route::GetLicense => "get_license",
            Route::Archive => "archive",
        }
    }

    /// 粤商通 routes live under `yst_base` (`/ebus/{paasid}`); the others under `license_base`.
    pub fn is_yst(self) -> bool {
        matches!(self, Route::Code2Auth | Route::Submit)
    }

    /// Whether sending it twice does no harm. The exchange consumes a one-time code; the
    /// handling record is idempotent by biz_num but is not a read, so its caller decides.
    pub fn idempotent(self) -> bool {
        matches!(self, Route::Login | Route::LicenseAuth | Route::GetLicense | Route::Archive)
    }

    /// The route's path under its base, as this contract names it.
    pub fn path(self, contract: &Contract) -> &str {
        match self {
            Route::Code2Auth => &contract.code2auth_path,
            Route::Submit => &contract.submit_path,
            Route::Login => &contract.login_path,
            Route::LicenseAuth => &contract.license_auth_path,
            Route::GetLicense => &contract.get_license_path,
            Route::Archive => &contract.archive_path,
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Route {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Route::ALL.into_iter().find(|r| r.as_str() == wanted).ok_or_else(|| {
            let names: Vec<&str> = Route::ALL.iter().map(|r| r.as_str()).collect();
            format!("unknown route \"{}\"; expected one of {}", s.trim(), names.join(", "))
        })
    }
}

/// Paths (relative to `yst_base` / `license_base`) and 粤商通 business codes.
///
/// Field names of the [ours] requests live in `wire::yst`; everything else that is ours is here.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Contract {
    pub code2auth_path: String,
    pub submit_path: String,
    pub login_path: String,
    pub license_auth_path: String,
    pub get_license_path: String,
    pub archive_path: String,
    pub errcodes: YstErrcodes,
}

impl Default for Contract {
    fn default() -> Self {
        Contract {
            code2auth_path: "/ysm/code2auth".to_owned(),
            submit_path: "/ysm/apply/submit".to_owned(),
            login_path: "/security/login".to_owned(),
            license_auth_path: "/license/auth".to_owned(),
            get_license_path: "/license/get_license".to_owned(),
            archive_path: "/license/archive".to_owned(),
            errcodes: YstErrcodes::default(),
        }
    }
}

/// The `errcode` values of the 粤商通 calls (contract §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct YstErrcodes {
    pub code_unknown: i64,
    pub code_expired: i64,
    pub code_used: i64,
    pub consent_declined: i64,
    pub item_not_allowed: i64,
    pub malformed: i64,
}

impl Default for YstErrcodes {
    fn default() -> Self {
        YstErrcodes {
            code_unknown: 40001,
            code_expired: 40002,
            code_used: 40003,
            consent_declined: 40004,
            item_not_allowed: 40005,
            malformed: 40010,
        }
    }
}

impl YstErrcodes {
    /// What a business failure means for the counter; an unlisted code is a response we cannot read.
    pub fn meaning(&self, errcode: i64) -> ErrorCode {
        match errcode {
            c if c == self.code_unknown => ErrorCode::CodeUnknown,
            c if c == self.code_expired => ErrorCode::CodeExpired,
            c if c == self.code_used => ErrorCode::CodeUsed,
            c if c == self.consent_declined => ErrorCode::ConsentDeclined,
            c if c == self.item_not_allowed => ErrorCode::ItemNotAllowed,
            c if c == self.malformed => ErrorCode::RequestRejected,
            _ => ErrorCode::BadResponse,
        }
    }

    /// The errcode a simulator answers for a failure the counter must tell apart.
    pub fn for_code(&self, code: ErrorCode) -> Option<i64> {
        Some(match code {
            ErrorCode::CodeUnknown => self.code_unknown,
            ErrorCode::CodeExpired => self.code_expired,
            ErrorCode::CodeUsed => self.code_used,
            ErrorCode::ConsentDeclined => self.consent_declined,
            ErrorCode::ItemNotAllowed => self.item_not_allowed,
            ErrorCode::RequestRejected => self.malformed,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errcodes_map_both_ways() {
        let e = YstErrcodes::default();
        for code in [
            ErrorCode::CodeUnknown,
            ErrorCode::CodeExpired,
            ErrorCode::CodeUsed,
            ErrorCode::ConsentDeclined,
            ErrorCode::ItemNotAllowed,
            ErrorCode::RequestRejected,
        ] {
            assert_eq!(e.meaning(e.for_code(code).unwrap()), code);
        }
        assert_eq!(e.meaning(49999), ErrorCode::BadResponse);
    }

    #[test]
    fn paths_can_be_overridden_in_part() {
        let c: Contract =
            toml::from_str("code2auth_path = \"/v2/ysm/exchange\"\n[errcodes]\ncode_used = 41003\n").unwrap();
        assert_eq!(c.code2auth_path, "/v2/ysm/exchange");
        assert_eq!(c.submit_path, "/ysm/apply/submit");
        assert_eq!(c.errcodes.code_used, 41003);
        assert_eq!(c.errcodes.code_unknown, 40001);
    }
}
