//! The six contract routes by name: how faults, statistics and the router refer to them.

use std::fmt;
use std::str::FromStr;
use yueshang_core::contract::Contract;

/// The path prefix of the e-license use service behind the gateway (contract §2).
pub const LICENSE_SERVICE_PREFIX: &str = "/ebus/dzzz_convergence-service";

/// A route of the gateway contract, named as fault specs and `/sim/stats` name it.
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

    /// 粤商通 routes live under `/ebus/{paasid}`; the e-license routes under the service's own prefix.
    pub fn is_yst(self) -> bool {
        matches!(self, Route::Code2Auth | Route::Submit)
    }

    /// The axum path pattern of this route under the given contract.
    pub(crate) fn pattern(self, contract: &Contract) -> String {
        match self {
            Route::Code2Auth => format!("/ebus/{{paasid}}{}", contract.code2auth_path),
            Route::Submit => format!("/ebus/{{paasid}}{}", contract.submit_path),
            Route::Login => format!("{LICENSE_SERVICE_PREFIX}{}", contract.login_path),
            Route::LicenseAuth => format!("{LICENSE_SERVICE_PREFIX}{}", contract.license_auth_path),
            Route::GetLicense => format!("{LICENSE_SERVICE_PREFIX}{}", contract.get_license_path),
            Route::Archive => format!("{LICENSE_SERVICE_PREFIX}{}", contract.archive_path),
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
