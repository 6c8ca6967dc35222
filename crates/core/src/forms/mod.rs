//! The onboarding kit: the province's four application forms and a checklist, filled from the configuration and this PC as far as they know.
//!
//! The forms follow the access guide's appendix: 粤商通免证办接入申请表, 网络策略配置表, 网关申请表 and
//! 证照服务申请表, one XLSX each, printable on A4. What neither the configuration nor the machine
//! knows stays blank for people to fill; a person's contact details are never filled in.

mod access;
mod checklist;
mod gateway;
mod layout;
mod license;
mod network;

use crate::config::{Config, Environment};
use crate::domain::ServiceItem;
use crate::error::{Error, ErrorCode, Result};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use url::Url;

/// The application's name when `[onboarding] application_name` does not give the hall's own.
pub const DEFAULT_APPLICATION_NAME: &str = "粤商码免证办柜台";

/// Both environments, in the order the forms list them (applied for together, configured separately).
pub(crate) const ENVIRONMENTS: [Environment; 2] = [Environment::Test, Environment::Production];

/// The hall as 粤商通 lists it (list and map) and as the counter knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HallFacts {
    pub code: Option<String>,
    pub name: Option<String>,
    pub counter: Option<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    pub address: Option<String>,
    /// The hall's public phone (shown in 粤商通), not a person's.
    pub phone: Option<String>,
}

/// What one environment's forms need; `None` where it is still to be applied for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvironmentFacts {
    pub paasid: Option<String>,
    /// Issued by the e-license team per environment; known only for the configured one.
    pub system_id: Option<String>,
    /// The 粤商通 base (`{gateway domain}/ebus/{paasid}`), configured for one environment only.
    pub yst_base: Option<Url>,
    /// The gateway ports the counter calls; the gateway's HTTPS port when nothing says otherwise.
    pub ports: Vec<u16>,
}

/// Everything the kit is filled from: plain values, so the setup screen, the CLI and tests can
/// build it from a configuration ([`OnboardingFacts::from_config`]) or by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnboardingFacts {
    /// The environment this counter is configured for; `None` in sandbox mode.
    pub configured: Option<Environment>,
    pub test: EnvironmentFacts,
    pub production: EnvironmentFacts,
    pub application_name: String,
    pub developer_name: Option<String>,
    /// The developer's USCC (`vender_id`).
    pub vender_id: Option<String>,
    pub department_name: Option<String>,
    /// The department's USCC (`department_id`).
    pub department_id: Option<String>,
    pub hall: HallFacts,
    pub service_items: Vec<ServiceItem>,
    /// This PC's addresses, loopback excluded (see [`local_addresses`]).
    pub local_addresses: Vec<IpAddr>,
}

/// A form written by [`write_kit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenForm {
    pub title: String,
    pub path: PathBuf,
}

/// The gateway's HTTPS port: what the policy opens unless the configured base names another.
const HTTPS_PORT: u16 = 443;

/// The port a configured gateway base is reached on, or `None` for a loopback base (a sandbox
/// or a developer's proxy, which says nothing about the provincial gateway).
fn gateway_port(base: &Url) -> Option<u16> {
    let loopback = match base.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => true,
    };
    if loopback { None } else { base.port_or_known_default() }
}

fn ports_of(bases: &[&Url]) -> Vec<u16> {
    let mut ports: Vec<u16> = bases.iter().filter_map(|b| gateway_port(b)).collect();
    ports.sort_unstable();
    ports.dedup();
    if ports.is_empty() { vec![HTTPS_PORT] } else { ports }
}

impl OnboardingFacts {
    /// The facts a configuration gives, with this PC's `local_addresses`. In sandbox mode (no
    /// `[gateway]`) only the hall and the `[onboarding]` names are known; the rest stays blank.
    pub fn from_config(config: &Config, local_addresses: Vec<IpAddr>) -> OnboardingFacts {
        let onboarding = &config.onboarding;
        let gateway = config.gateway.as_ref();
        let environment_facts = |environment: Environment, paasid: &Option<String>| {
            let configured = gateway.filter(|g| g.environment == environment);
            EnvironmentFacts {
                // The gateway's own PaaS ID is the one in use; [onboarding] names the other one.
                paasid: configured.map(|g| g.paasid.clone()).or_else(|| paasid.clone()),
                system_id: configured.map(|g| g.system_id.clone()),
                yst_base: configured.map(|g| g.yst_base.clone()),
                ports: configured.map_or(vec![HTTPS_PORT], |g| ports_of(&[&g.yst_base, &g.license_base])),
            }
        };
        let counter = config.counter.as_ref();
        let contact = &config.hall_contact;
        OnboardingFacts {
            configured: gateway.map(|g| g.environment),
            test: environment_facts(Environment::Test, &onboarding.test_paasid),
            production: environment_facts(Environment::Production, &onboarding.production_paasid),
            application_name: onboarding
                .application_name
                .clone()
                .unwrap_or_else(|| DEFAULT_APPLICATION_NAME.to_owned()),
            developer_name: onboarding.developer_name.clone(),
            vender_id: gateway.map(|g| g.vender_id.clone()),
            // The department that uses the licenses is the operator's service organisation unless named.
            department_name: onboarding
                .department_name
                .clone()
                .or_else(|| config.operator.as_ref().map(|o| o.service_org.clone())),
            department_id: gateway.map(|g| g.department_id.clone()),
            hall: HallFacts {
                code: counter.map(|c| c.hall_code.clone()),
                name: counter.map(|c| c.hall_name.clone()),
                counter: counter.map(|c| c.counter.clone()),
                city: contact.city.clone(),
                district: contact.district.clone(),
                address: contact.address.clone(),
                phone: contact.phone.clone(),
            },
            service_items: config.service_items.clone(),
            local_addresses,
        }
    }

    pub(crate) fn environment(&self, environment: Environment) -> &EnvironmentFacts {
        match environment {
            Environment::Test => &self.test,
            Environment::Production => &self.production,
        }
    }

    /// This PC's government-extranet (政务外网) addresses: those starting with 19.
    pub(crate) fn extranet_addresses(&self) -> Vec<Ipv4Addr> {
        self.local_addresses
            .iter()
            .filter_map(|a| match a {
                IpAddr::V4(v4) if v4.octets()[0] == 19 => Some(*v4),
                _ => None,
            })
            .collect()
    }

    /// The addresses the gateway will see the counter come from: the extranet ones when the PC has
    /// any, else all of its own.
    pub(crate) fn server_addresses(&self) -> Vec<IpAddr> {
        let extranet = self.extranet_addresses();
        if extranet.is_empty() { self.local_addresses.clone() } else { extranet.into_iter().map(IpAddr::V4).collect() }
    }

    /// 政务外网 when the PC has a 19.x address, else 互联网: where the counter is deployed.
    pub(crate) fn network_name(&self) -> &'static str {
        if self.extranet_addresses().is_empty() { "互联网" } else { "政务外网" }
    }
}

/// The gateway's extranet address per environment (access guide: API gateway).
pub(crate) fn gateway_address(environment: Environment) -> Ipv4Addr {
    match environment {
        Environment::Test => Ipv4Addr::new(19, 15, 0, 128),
        Environment::Production => Ipv4Addr::new(19, 15, 0, 100),
    }
}

/// The gateway's domain per environment (access guide: e-license endpoints).
pub(crate) fn gateway_domain(environment: Environment) -> &'static str {
    match environment {
        Environment::Test => "bs-test.digitalgd.com.cn",
        Environment::Production => "zwms3.gdbs.gov.cn",
    }
}

/// The e-license use service (用证) per environment, as the guide publishes it.
pub(crate) fn license_service(environment: Environment) -> String {
    format!("https://{}/ebus/dzzz_convergence-service", gateway_domain(environment))
}

pub(crate) fn environment_label(environment: Environment) -> &'static str {
    match environment {
        Environment::Test => "测试环境",
        Environment::Production => "生产环境",
    }
}

/// Addresses one per line, as a form's cell shows several.
pub(crate) fn address_lines<A: std::fmt::Display>(addresses: &[A]) -> Option<String> {
    let lines: Vec<String> = addresses.iter().map(ToString::to_string).collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// This PC's addresses, loopback and link-local excluded (they never reach a gateway), IPv4 first.
/// A PC whose interfaces cannot be read gives none: the forms then leave the addresses blank.
pub fn local_addresses() -> Vec<IpAddr> {
    let interfaces = match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces,
        Err(err) => {
            tracing::warn!(%err, "cannot list this PC's network interfaces");
            return Vec::new();
        }
    };
    let mut addresses: Vec<IpAddr> =
        interfaces.iter().filter(|i| !i.is_loopback() && !i.is_link_local()).map(|i| i.ip()).collect();
    addresses.sort_by_key(|a| (a.is_ipv6(), *a));
    addresses.dedup();
    addresses
}

/// The kit in print order: the checklist first, then the four forms in the guide's order.
pub(crate) fn kit(facts: &OnboardingFacts) -> Vec<layout::Form> {
    vec![checklist::form(facts), access::form(facts), network::form(facts), gateway::form(facts), license::form(facts)]
}

/// Writes the kit into `out_dir` (made if missing), one XLSX per form, replacing earlier ones.
pub fn write_kit(facts: &OnboardingFacts, out_dir: &Path) -> Result<Vec<WrittenForm>> {
    std::fs::create_dir_all(out_dir).map_err(|e| {
        Error::with_fact(ErrorCode::SaveFailed, format!("无法创建文件夹 {}（{e}）。", out_dir.display()))
    })?;
    kit(facts)
        .into_iter()
        .map(|form| {
            let path = out_dir.join(form.file_name());
            layout::write(&form, &path)?;
            Ok(WrittenForm { title: form.title, path })
        })
        .collect()
}

/// The kit for this configuration and this PC: what the setup screen's button and the CLI call.
pub fn write_kit_for(config: &Config, out_dir: &Path) -> Result<Vec<WrittenForm>> {
    write_kit(&OnboardingFacts::from_config(config, local_addresses()), out_dir)
}

#[cfg(test)]
pub(crate) mod tests;
