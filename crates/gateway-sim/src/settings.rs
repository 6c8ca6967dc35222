//! The sandbox's credentials and the complete `Settings` that point a counter at a running sandbox.

use crate::route::LICENSE_SERVICE_PREFIX;
use crate::samples;
use url::Url;
use yueshang_core::accounts::{NewAccount, Role};
use yueshang_core::config::{
    AuditSettings, Environment, GatewaySettings, LookupSettings, PrintingSettings, PrivacySettings, Settings, Tuning,
};
use yueshang_core::contract::Contract;
use yueshang_core::domain::{Counter, Operator, ServiceItem};
use yueshang_core::secret::Secret;

/// The PaaS ID the sandbox knows; any other is answered 403, as the real gateway does.
pub const SANDBOX_PAASID: &str = "yst_sandbox";
/// The PaaS token the sandbox verifies signatures with (not a secret: it exists only here).
pub const SANDBOX_TOKEN: &str = "yst-sandbox-token";
pub const SANDBOX_SYSTEM_ID: &str = "yst_sandbox_system";
/// The counter's vendor, a USCC as Guangdong's gateway wants it.
pub const SANDBOX_VENDER_ID: &str = "91440101MA5CYUT01M";
/// The hall's department (天河区政务服务数据管理局, fictional code), a USCC.
pub const SANDBOX_DEPARTMENT_ID: &str = "11440106MB2C00001N";
pub const SANDBOX_ACCOUNT: &str = "sandbox_hall";
pub const SANDBOX_PASSWORD: &str = "sandbox-password";
pub const SANDBOX_APP_KEY: &str = "sandbox-app-key";
pub const SANDBOX_APP_SECRET: &str = "sandbox-app-secret";

/// The sandbox counter's sample accounts, whose passwords the sign-in screen shows ("沙箱账号"):
/// the clerk is the sandbox's configured operator, and a supervisor to try the supervisor view.
pub const SANDBOX_ACCOUNTS: [NewAccount<'static>; 2] = [
    NewAccount { account: "chenxm", name: "陈晓敏", role: Role::Clerk, password: "sandbox-clerk" },
    NewAccount { account: "liuzb", name: "刘志斌", role: Role::Supervisor, password: "sandbox-chief" },
];

/// Complete settings for a counter talking to the sandbox at `base_url` ("http://127.0.0.1:PORT/").
pub fn sandbox_settings(base_url: &Url) -> Settings {
    Settings {
        gateway: sandbox_gateway_settings(base_url),
        operator: Operator {
            account: "chenxm".to_owned(),
            name: "陈晓敏".to_owned(),
            role: "窗口受理人员".to_owned(),
            division_code: "440106".to_owned(),
            service_org: "广州市天河区政务服务中心".to_owned(),
            service_org_code: SANDBOX_DEPARTMENT_ID.to_owned(),
        },
        counter: Counter {
            hall_code: "440106001".to_owned(),
            hall_name: "天河区政务服务中心".to_owned(),
            counter: "A03".to_owned(),
        },
        service_items: samples::service_items().into_iter().map(|(code, name)| ServiceItem { code, name }).collect(),
        contract: Contract::default(),
        tuning: Tuning::default(),
        printing: PrintingSettings::default(),
        audit: AuditSettings::default(),
        privacy: PrivacySettings::default(),
        // 网页模式 opens the sandbox's own page, never the real portal.
        lookup: LookupSettings { portal_url: sandbox_portal_url(base_url), ..LookupSettings::default() },
    }
}

/// The sandbox's stand-in for the provincial portal (`/sim/portal`) on the sandbox at `base_url`.
pub fn sandbox_portal_url(base_url: &Url) -> String {
    let base = base_url.as_str().trim_end_matches('/');
    format!("{base}{}", crate::portal::PORTAL_PATH)
}

fn sandbox_gateway_settings(base_url: &Url) -> GatewaySettings {
    let base = base_url.as_str().trim_end_matches('/');
    let url = |path: String| Url::parse(&format!("{base}{path}")).expect("a base URL plus a fixed path is a URL");
    GatewaySettings {
        environment: Environment::Test,
        yst_base: url(format!("/ebus/{SANDBOX_PAASID}")),
        license_base: url(LICENSE_SERVICE_PREFIX.to_owned()),
        paasid: SANDBOX_PAASID.to_owned(),
        token: Secret::new(SANDBOX_TOKEN),
        system_id: SANDBOX_SYSTEM_ID.to_owned(),
        vender_id: SANDBOX_VENDER_ID.to_owned(),
        department_id: SANDBOX_DEPARTMENT_ID.to_owned(),
        account: SANDBOX_ACCOUNT.to_owned(),
        password: Secret::new(SANDBOX_PASSWORD),
        app_key: SANDBOX_APP_KEY.to_owned(),
        app_secret: Secret::new(SANDBOX_APP_SECRET),
        // The sandbox's credentials are public sample values, built in rather than in a file.
        secrets_in_file: Vec::new(),
        ca_file: None,
        proxy: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yueshang_core::domain::Uscc;

    #[test]
    fn ids_that_must_be_usccs_are_valid() {
        for id in [SANDBOX_VENDER_ID, SANDBOX_DEPARTMENT_ID] {
            assert!(Uscc::parse(id).is_ok(), "{id}");
        }
    }

    #[test]
    fn settings_point_at_the_given_server() {
        let s = sandbox_settings(&Url::parse("http://127.0.0.1:4567/").unwrap());
        assert_eq!(s.gateway.yst_base.as_str(), "http://127.0.0.1:4567/ebus/yst_sandbox");
        assert_eq!(s.gateway.license_base.as_str(), "http://127.0.0.1:4567/ebus/dzzz_convergence-service");
        assert_eq!(s.gateway.environment, Environment::Test);
        assert!(Uscc::parse(&s.operator.service_org_code).is_ok());
        assert!(s.operator.service_org_code.starts_with("11440106"));
        assert!(!s.service_items.is_empty());
        assert!(!format!("{s:?}").contains(SANDBOX_PASSWORD));
        assert_eq!(s.lookup.portal_url, "http://127.0.0.1:4567/sim/portal", "网页模式 stays in the sandbox");
    }
}
