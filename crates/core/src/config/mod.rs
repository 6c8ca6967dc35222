//! The configuration (TOML): parsed and checked once, every problem named by its key (and, through
//! `layers`, by the file it came from).

mod layers;

pub use layers::{ConfigFiles, KeySource, Layer, Loaded, ShownKey, machine_config_file};

use crate::contract::Contract;
use crate::domain::{Counter, Operator, ServiceItem, Uscc};
use crate::error::{Error, Result};
use crate::secret::Secret;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// Where the counter gets its data from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The built-in sandbox gateway with sample enterprises; needs no credentials.
    Sandbox,
    /// A real provincial gateway (test or production), with the credentials in `[gateway]`.
    Gateway,
}

/// Test and production are applied for together and configured separately; they differ in limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Test,
    Production,
}

impl Environment {
    /// The gateway's request body limit (contract §1).
    pub fn body_limit(self) -> usize {
        match self {
            Environment::Test => 4 * 1024 * 1024,
            Environment::Production => 8 * 1024 * 1024,
        }
    }

    /// The largest answer the counter reads. The contract bounds requests only, and an annotated
    /// copy of a scanned multi-page permit is several MB before base64 (the sandbox's largest, 8 MB,
    /// is 10.7 MB as an answer); the bound keeps a broken or hostile answer from taking the PC's memory.
    pub const fn response_limit(self) -> usize {
        16 * 1024 * 1024
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Test => "test",
            Environment::Production => "production",
        }
    }
}

/// Gateway address and credentials. Secrets are `Secret`, so `Debug` of this never shows them.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    pub environment: Environment,
    pub yst_base: Url,
    pub license_base: Url,
    pub paasid: String,
    pub token: Secret,
    pub system_id: String,
    pub vender_id: String,
    pub department_id: String,
    pub account: String,
    pub password: Secret,
    pub app_key: String,
    pub app_secret: Secret,
    /// The secrets this configuration file itself carries in plain text (`gateway.token`, …):
    /// allowed (development, sandbox), warned about by the doctor and the setup screen. Those it
    /// leaves out come from the sealed store (`yueshang secrets set`).
    pub secrets_in_file: Vec<&'static str>,
    /// Extra trusted CA certificates (PEM) for the government extranet's own CA; the built-in
    /// roots stay trusted.
    pub ca_file: Option<PathBuf>,
    /// An HTTP(S) proxy every gateway call goes through; `None`: direct.
    pub proxy: Option<Url>,
}

/// Knobs with good defaults that IT rarely touches and tests shorten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// Per call; slightly above the gateway's own 15 s so its 504 arrives before we give up.
    pub request_timeout: Duration,
    /// The most gateway calls in flight at once, shared by every scan of the counter: the cap of the
    /// AIMD window (`gateway/window.rs`), which protects the gateway; a scan puts every call of its
    /// authorization in flight up to it.
    pub max_in_flight: usize,
    /// Retries of an idempotent read after the first try.
    pub max_retries: u32,
    /// No retry starts after this much time has passed since the first try.
    pub retry_budget: Duration,
    /// A `Retry-After` longer than this is not waited for: the clerk gets `RATE_LIMITED` at once.
    pub max_retry_after: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            request_timeout: Duration::from_secs(17),
            max_in_flight: 32,
            max_retries: 2,
            retry_budget: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(10),
        }
    }
}

/// How the counter sends stamped copies to paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintMode {
    /// The app's own printer picker (printer, copies), remembering the last choice.
    Picker,
    /// Straight to `[printing] printer`, no picker: counters with one fixed printer.
    Direct,
}

impl PrintMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PrintMode::Picker => "picker",
            PrintMode::Direct => "direct",
        }
    }
}

/// `[printing]`: stamped copies, their re-check, the printer and the save folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintingSettings {
    /// A license whose last status check is older than this is fetched again before a copy is
    /// made; zero re-checks every time.
    pub recheck_after: Duration,
    pub mode: PrintMode,
    /// The queue of direct mode, or the picker's first choice.
    pub printer: Option<String>,
    /// Where 另存为 writes; `None`: the window asks once and remembers.
    pub save_dir: Option<PathBuf>,
    /// A font file (TTF/OTF/TTC) covering Chinese to stamp with; `None`: the system's CJK font.
    pub font: Option<PathBuf>,
    /// The CUPS server (`host:port`); `None`: `CUPS_SERVER`, else `localhost:631`.
    pub cups_server: Option<String>,
}

impl Default for PrintingSettings {
    fn default() -> Self {
        PrintingSettings {
            recheck_after: Duration::from_secs(10 * 60),
            mode: PrintMode::Picker,
            printer: None,
            save_dir: None,
            font: None,
            cups_server: None,
        }
    }
}

/// The fewest days audit events are kept: China's Cybersecurity Law (art. 21) wants network logs
/// kept for no less than six months.
pub const MIN_AUDIT_RETENTION_DAYS: u32 = 180;

/// `[audit]`: how long the audit trail keeps its events, and where the window exports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSettings {
    /// Events whose China date is more than this many days before today may be removed, once a
    /// signed checkpoint anchors what remains. Never below [`MIN_AUDIT_RETENTION_DAYS`]: the
    /// configuration can only lengthen it.
    pub retention_days: u32,
    /// The folder the supervisor view exports into (e.g. the hall's share); `None`: the
    /// supervisor picks one.
    pub export_dir: Option<PathBuf>,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings { retention_days: MIN_AUDIT_RETENTION_DAYS, export_dir: None }
    }
}

/// The most days a license may stay cached: a customer's files are kept only as long as the job needs
/// (PIPL art. 19), at most a month for a case that spans days.
pub const MAX_LICENSE_RETENTION_DAYS: u32 = 30;

/// `[retention]` and `[privacy]`: how long a customer's licenses stay in the cache, and when an
/// unattended window clears itself and locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrivacySettings {
    /// 1 (default): everything fetched before today's midnight (China time) is purged; N: before
    /// the midnight N-1 days ago; 0: a customer's licenses are purged at 下一位.
    pub license_days: u32,
    /// With a customer on the desk and nobody touching the window for this long, a countdown
    /// starts and then the desk clears as at 下一位; `None`: never.
    pub idle_clear: Option<Duration>,
    /// On a counter with accounts, the session locks after this long without a touch; `None`: never.
    pub lock: Option<Duration>,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        PrivacySettings {
            license_days: 1,
            idle_clear: Some(Duration::from_secs(5 * 60)),
            lock: Some(Duration::from_secs(15 * 60)),
        }
    }
}

/// `[hall]`'s address book entry, for the onboarding forms only: 粤商通 lists the halls offering the
/// service with their address and phone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HallContact {
    pub city: Option<String>,
    pub district: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
}

/// `[onboarding]`: what only the province's application forms need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Onboarding {
    pub application_name: Option<String>,
    pub developer_name: Option<String>,
    pub department_name: Option<String>,
    /// The PaaS IDs of both environments (applied for together); `gateway.paasid` fills its own.
    pub test_paasid: Option<String>,
    pub production_paasid: Option<String>,
}

/// `[lookup]`: the other ways to a customer's licenses when the enterprise cannot show its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupSettings {
    /// The legal grounds a clerk may pick for a lookup by USCC (依职能用证), in the order shown.
    pub grounds: Vec<String>,
    /// The province's web portal for 证照查询 (网页模式), opened in the system browser.
    pub portal_url: String,
    /// Licenses asked for per page of a lookup (the service allows 1 to 150).
    pub page_size: u32,
}

/// The grounds a hall has unless its configuration lists its own.
pub const DEFAULT_GROUNDS: [&str; 3] = ["依职能核验", "企业现场书面授权", "部门间协查"];
/// 广东政务服务网, the provincial portal where 证照查询 can be done by hand.
pub const DEFAULT_PORTAL_URL: &str = "https://www.gdzwfw.gov.cn/";
/// The most licenses the e-license service returns in one page of `license/auth`.
pub const MAX_LOOKUP_PAGE_SIZE: u32 = 150;
/// Longest ground accepted: it goes into the audit trail and the export as text.
const GROUND_MAX_CHARS: usize = 40;

impl Default for LookupSettings {
    fn default() -> Self {
        LookupSettings {
            grounds: DEFAULT_GROUNDS.iter().map(|g| (*g).to_owned()).collect(),
            portal_url: DEFAULT_PORTAL_URL.to_owned(),
            page_size: MAX_LOOKUP_PAGE_SIZE,
        }
    }
}

impl LookupSettings {
    /// The configured ground the clerk picked, or `GROUND_REQUIRED` for none or one not on the list.
    pub fn ground(&self, picked: &str) -> Result<&str> {
        let picked = picked.trim();
        self.grounds.iter().map(String::as_str).find(|g| *g == picked).ok_or_else(|| {
            let fact = if picked.is_empty() {
                "没有选择依据。".to_owned()
            } else {
                format!("“{picked}”不在本窗口配置的依据中（{}）。", self.grounds.join("、"))
            };
            Error::with_fact(crate::error::ErrorCode::GroundRequired, fact)
        })
    }
}

/// `[window]`: how the app's window behaves on a counter PC.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowSettings {
    /// Full screen from the start (counter PCs that do nothing else).
    pub fullscreen: bool,
    /// Start with the user's session (the app registers or removes itself at each launch).
    pub autostart: bool,
    /// 大字模式 from the start (a hall of older clerks); each clerk's own choice in the header
    /// toggle is remembered on the PC and wins over this.
    pub large_type: bool,
}

/// `[hall_service]`: the hall's service that collects every counter's audit chain (issue 14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HallServiceSettings {
    /// HTTPS, or HTTP only to a loopback address (a hall service on this PC, the tests).
    pub url: Url,
    /// The hall's own CA (its certificate is usually issued inside the hall), PEM.
    pub ca_file: Option<PathBuf>,
    /// How often the background shipper looks for new events when all went well.
    pub ship_interval: Duration,
}

/// Everything the flow needs, complete and checked.
#[derive(Debug, Clone)]
pub struct Settings {
    pub gateway: GatewaySettings,
    pub operator: Operator,
    pub counter: Counter,
    pub service_items: Vec<ServiceItem>,
    pub contract: Contract,
    pub tuning: Tuning,
    pub printing: PrintingSettings,
    pub audit: AuditSettings,
    pub privacy: PrivacySettings,
    pub lookup: LookupSettings,
}

impl Settings {
    /// The configured item with this code, or the first one when no code is given.
    pub fn service_item(&self, code: Option<&str>) -> Result<&ServiceItem> {
        match code {
            None => self.service_items.first().ok_or_else(|| Error::config("service_items", "至少要配置一个事项")),
            Some(code) => self.service_items.iter().find(|i| i.code == code.trim()).ok_or_else(|| {
                let known: Vec<&str> = self.service_items.iter().map(|i| i.code.as_str()).collect();
                Error::config("service_items", format!("中没有事项 {code}（已配置：{}）", known.join("、")))
            }),
        }
    }
}

/// A parsed configuration file. In gateway mode it is complete; in sandbox mode the sandbox
/// gateway supplies what the file leaves out.
#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    pub gateway: Option<GatewaySettings>,
    pub operator: Option<Operator>,
    pub counter: Option<Counter>,
    pub service_items: Vec<ServiceItem>,
    pub contract: Contract,
    pub tuning: Tuning,
    pub printing: PrintingSettings,
    pub audit: AuditSettings,
    pub privacy: PrivacySettings,
    pub hall_contact: HallContact,
    pub onboarding: Onboarding,
    pub window: WindowSettings,
    pub lookup: LookupSettings,
    /// `[hall_service]`: where this counter ships its audit chain and handling records; `None`:
    /// it keeps them only here (no 全厅 view).
    pub hall_service: Option<HallServiceSettings>,
}

impl Config {
    /// One file on its own (no machine-wide layer): what `--config FILE` tools that rewrite it read.
    pub fn load(path: &Path) -> Result<Self> {
        let loaded = ConfigFiles::only(path.to_path_buf()).load()?;
        Ok(loaded.expect("a named file is a configuration").config)
    }

    pub fn parse(text: &str) -> Result<Self> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let fact = e.message().to_owned();
            Error::with_fact(crate::error::ErrorCode::ConfigInvalid, format!("配置文件格式有误：{fact}。"))
                .detail(e.to_string())
        })?;
        raw.check()
    }

    /// The complete settings: the file's own in gateway mode; in sandbox mode the sandbox's,
    /// with the file's operator, counter and items taking precedence where given.
    pub fn into_settings(self, sandbox: Option<Settings>) -> Result<Settings> {
        let base = match (self.mode, self.gateway, sandbox) {
            (Mode::Gateway, Some(gateway), _) => {
                return Ok(Settings {
                    gateway,
                    operator: self.operator.ok_or_else(|| Error::config("operator", "缺失"))?,
                    counter: self.counter.ok_or_else(|| Error::config("hall", "缺失"))?,
                    service_items: self.service_items,
                    contract: self.contract,
                    tuning: self.tuning,
                    printing: self.printing,
                    audit: self.audit,
                    privacy: self.privacy,
                    lookup: self.lookup,
                });
            }
            (Mode::Gateway, None, _) => return Err(Error::config("gateway", "缺失")),
            (Mode::Sandbox, _, Some(sandbox)) => sandbox,
            (Mode::Sandbox, _, None) => return Err(Error::config("mode", "为 sandbox，但沙箱网关没有启动")),
        };
        Ok(Settings {
            gateway: base.gateway,
            operator: self.operator.unwrap_or(base.operator),
            counter: self.counter.unwrap_or(base.counter),
            service_items: if self.service_items.is_empty() { base.service_items } else { self.service_items },
            contract: self.contract,
            tuning: self.tuning,
            printing: self.printing,
            audit: self.audit,
            privacy: self.privacy,
            // 网页模式 in the sandbox is the sandbox's own page, never the real portal.
            lookup: LookupSettings { portal_url: base.lookup.portal_url, ..self.lookup },
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    mode: Option<String>,
    gateway: Option<RawGateway>,
    operator: Option<RawOperator>,
    hall: Option<RawHall>,
    #[serde(default)]
    service_items: Vec<RawItem>,
    #[serde(default)]
    contract: Contract,
    #[serde(default)]
    tuning: RawTuning,
    #[serde(default)]
    printing: RawPrinting,
    #[serde(default)]
    audit: RawAudit,
    #[serde(default)]
    retention: RawRetention,
    #[serde(default)]
    privacy: RawPrivacy,
    #[serde(default)]
    onboarding: RawOnboarding,
    #[serde(default)]
    window: RawWindow,
    #[serde(default)]
    lookup: RawLookup,
    hall_service: Option<RawHallService>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGateway {
    environment: Option<String>,
    yst_base: Option<String>,
    license_base: Option<String>,
    paasid: Option<String>,
    token: Option<Secret>,
    system_id: Option<String>,
    vender_id: Option<String>,
    department_id: Option<String>,
    account: Option<String>,
    password: Option<Secret>,
    app_key: Option<String>,
    app_secret: Option<Secret>,
    ca_file: Option<PathBuf>,
    proxy: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOperator {
    account: Option<String>,
    name: Option<String>,
    role: Option<String>,
    division_code: Option<String>,
    service_org: Option<String>,
    service_org_code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHall {
    code: Option<String>,
    name: Option<String>,
    counter: Option<String>,
    city: Option<String>,
    district: Option<String>,
    address: Option<String>,
    phone: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOnboarding {
    application_name: Option<String>,
    developer_name: Option<String>,
    department_name: Option<String>,
    test_paasid: Option<String>,
    production_paasid: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLookup {
    grounds: Option<Vec<String>>,
    portal_url: Option<String>,
    page_size: Option<u32>,
}

impl RawLookup {
    fn check(self) -> Result<LookupSettings> {
        let defaults = LookupSettings::default();
        let grounds = match self.grounds {
            None => defaults.grounds,
            Some(list) => {
                let mut grounds: Vec<String> = Vec::new();
                for (i, ground) in list.into_iter().enumerate() {
                    let key = format!("lookup.grounds[{i}]");
                    let ground = optional_text(Some(ground)).ok_or_else(|| Error::config(&key, "为空"))?;
                    if ground.chars().count() > GROUND_MAX_CHARS {
                        return Err(Error::config(&key, format!("超过 {GROUND_MAX_CHARS} 个字")));
                    }
                    if grounds.contains(&ground) {
                        return Err(Error::config(&key, format!("重复（{ground}）")));
                    }
                    grounds.push(ground);
                }
                if grounds.is_empty() {
                    return Err(Error::config("lookup.grounds", "至少要有一项（不需要依职能查询时保留默认即可）"));
                }
                grounds
            }
        };
        let portal_url = match optional_text(self.portal_url) {
            None => defaults.portal_url,
            Some(text) => {
                let url = url::Url::parse(&text)
                    .map_err(|_| Error::config("lookup.portal_url", "不是有效的网址（应以 https:// 开头）"))?;
                if !matches!(url.scheme(), "https" | "http") {
                    return Err(Error::config("lookup.portal_url", "应以 https:// 开头"));
                }
                url.to_string()
            }
        };
        let page_size = self.page_size.unwrap_or(defaults.page_size);
        if !(1..=MAX_LOOKUP_PAGE_SIZE).contains(&page_size) {
            return Err(Error::config("lookup.page_size", format!("应在 1 到 {MAX_LOOKUP_PAGE_SIZE} 之间")));
        }
        Ok(LookupSettings { grounds, portal_url, page_size })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHallService {
    url: Option<String>,
    ca_file: Option<PathBuf>,
    ship_interval_seconds: Option<u64>,
}

impl RawHallService {
    fn check(self) -> Result<HallServiceSettings> {
        let url = base_url(self.url, "hall_service.url")?;
        let ship_interval = Duration::from_secs(self.ship_interval_seconds.unwrap_or(30));
        if !(Duration::from_secs(5)..=Duration::from_secs(3600)).contains(&ship_interval) {
            return Err(Error::config("hall_service.ship_interval_seconds", "应在 5 到 3600 之间"));
        }
        Ok(HallServiceSettings { url, ca_file: ca_file_at(self.ca_file, "hall_service.ca_file")?, ship_interval })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    fullscreen: Option<bool>,
    autostart: Option<bool>,
    large_type: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    code: Option<String>,
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTuning {
    request_timeout_ms: Option<u64>,
    max_in_flight: Option<usize>,
    max_retries: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrinting {
    recheck_after_minutes: Option<u64>,
    mode: Option<String>,
    printer: Option<String>,
    save_dir: Option<PathBuf>,
    font: Option<PathBuf>,
    cups_server: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    retention_days: Option<u32>,
    export_dir: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    license_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrivacy {
    idle_clear_minutes: Option<u32>,
    lock_minutes: Option<u32>,
}

/// Where a counter's files live, the same for the app and the CLI on every PC.
fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("cn", "gdzwfw", "yueshang-counter")
}

/// The configuration file to use: the one named on the command line, else `YUESHANG_CONFIG`,
/// else `config.toml` in the platform's config folder if IT put one there. `None` means sandbox.
pub fn config_file(explicit: Option<PathBuf>) -> Option<PathBuf> {
    explicit.or_else(|| std::env::var_os("YUESHANG_CONFIG").map(PathBuf::from)).or_else(|| {
        let path = default_config_file()?;
        path.exists().then_some(path)
    })
}

/// Where IT puts the configuration file when no path is given (README names it per platform).
pub fn default_config_file() -> Option<PathBuf> {
    Some(project_dirs()?.config_dir().join("config.toml"))
}

/// The folder of the cache: the one named on the command line, else `YUESHANG_DATA_DIR`, else
/// the platform's data folder.
pub fn data_dir(explicit: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(dir) = explicit.or_else(|| std::env::var_os("YUESHANG_DATA_DIR").map(PathBuf::from)) {
        return Ok(dir);
    }
    project_dirs()
        .map(|d| d.data_dir().to_path_buf())
        .ok_or_else(|| Error::config("data_dir", "无法确定：请用 --data-dir 或环境变量 YUESHANG_DATA_DIR 指定数据目录"))
}

/// Where the app writes its daily log files: `logs/` in the data folder (the app's logging and
/// the doctor agree through this one function).
pub fn log_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("logs")
}

pub(crate) fn required(value: Option<String>, key: &str) -> Result<String> {
    match value.map(|v| v.trim().to_owned()) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Error::config(key, "不能为空")),
    }
}

/// A secret the file may leave out (it is then taken from the sealed store); present, it must not be blank.
fn optional_secret(value: Option<Secret>, key: &'static str, in_file: &mut Vec<&'static str>) -> Result<Secret> {
    match value {
        None => Ok(Secret::default()),
        Some(v) if v.expose().trim().chars().any(char::is_whitespace) => {
            Err(Error::config(key, "中间含有空格或换行（多半是复制时带上的），请重新复制"))
        }
        Some(v) if !v.expose().trim().is_empty() => {
            in_file.push(key);
            Ok(Secret::new(v.expose().trim()))
        }
        Some(_) => Err(Error::config(key, "不能为空（删掉这一行，改用 yueshang secrets set 保存）")),
    }
}

/// A base URL: HTTPS, or HTTP only to a loopback address (the sandbox gateway).
pub(crate) fn base_url(value: Option<String>, key: &str) -> Result<Url> {
    let text = required(value, key)?;
    let url = Url::parse(&text).map_err(|e| Error::config(key, format!("不是有效的网址（{e}）")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(Error::config(key, "必须使用 https（http 只允许本机沙箱网关）")),
        other => Err(Error::config(key, format!("的协议 {other} 不受支持，应为 https"))),
    }
}

impl RawConfig {
    fn check(self) -> Result<Config> {
        let mode = match self.mode.as_deref().map(str::trim) {
            None | Some("sandbox") => Mode::Sandbox,
            Some("gateway") => Mode::Gateway,
            Some(other) => return Err(Error::config("mode", format!("应为 sandbox 或 gateway，而不是“{other}”"))),
        };
        let gateway = match (mode, self.gateway) {
            (Mode::Gateway, Some(g)) => Some(g.check()?),
            (Mode::Gateway, None) => return Err(Error::config("gateway", "缺失（mode = \"gateway\" 时必填）")),
            (Mode::Sandbox, _) => None,
        };
        let operator = match (mode, self.operator) {
            (_, Some(o)) => Some(o.check()?),
            (Mode::Gateway, None) => return Err(Error::config("operator", "缺失")),
            (Mode::Sandbox, None) => None,
        };
        let (counter, hall_contact) = match (mode, self.hall) {
            (_, Some(h)) => {
                let contact = h.contact();
                (Some(h.check()?), contact)
            }
            (Mode::Gateway, None) => return Err(Error::config("hall", "缺失")),
            (Mode::Sandbox, None) => (None, HallContact::default()),
        };
        let mut service_items = Vec::new();
        for (i, item) in self.service_items.into_iter().enumerate() {
            let code = required(item.code, &format!("service_items[{i}].code"))?;
            let name = required(item.name, &format!("service_items[{i}].name"))?;
            if service_items.iter().any(|s: &ServiceItem| s.code == code) {
                return Err(Error::config(&format!("service_items[{i}].code"), format!("重复（{code}）")));
            }
            service_items.push(ServiceItem::new(&code, &name)?);
        }
        if mode == Mode::Gateway && service_items.is_empty() {
            return Err(Error::config("service_items", "至少要配置一个事项"));
        }
        Ok(Config {
            mode,
            gateway,
            operator,
            counter,
            service_items,
            contract: self.contract,
            tuning: self.tuning.check()?,
            printing: self.printing.check()?,
            audit: self.audit.check()?,
            privacy: privacy_settings(self.retention, self.privacy)?,
            hall_contact,
            onboarding: self.onboarding.check()?,
            window: WindowSettings {
                fullscreen: self.window.fullscreen.unwrap_or(false),
                autostart: self.window.autostart.unwrap_or(false),
                large_type: self.window.large_type.unwrap_or(false),
            },
            lookup: self.lookup.check()?,
            hall_service: self.hall_service.map(RawHallService::check).transpose()?,
        })
    }
}

/// A free-text value: trimmed, and blank counts as absent.
pub(crate) fn optional_text(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A PaaS ID: the gateway gives this program IDs of the form `yst_<abbreviation>`.
pub(crate) fn paasid(value: &str, key: &str) -> Result<()> {
    if !value.starts_with("yst_") {
        return Err(Error::config(key, "应以 yst_ 开头（网关为粤商通应用分配的 PaaS ID）"));
    }
    if value.len() == 4 || !value[4..].chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(Error::config(key, "在 yst_ 之后应为字母、数字或下划线（检查是否多复制了空格或标点）"));
    }
    Ok(())
}

impl RawOnboarding {
    fn check(self) -> Result<Onboarding> {
        let test_paasid = optional_text(self.test_paasid);
        let production_paasid = optional_text(self.production_paasid);
        if let Some(id) = &test_paasid {
            paasid(id, "onboarding.test_paasid")?;
        }
        if let Some(id) = &production_paasid {
            paasid(id, "onboarding.production_paasid")?;
        }
        Ok(Onboarding {
            application_name: optional_text(self.application_name),
            developer_name: optional_text(self.developer_name),
            department_name: optional_text(self.department_name),
            test_paasid,
            production_paasid,
        })
    }
}

/// `[gateway] proxy`: an HTTP or HTTPS proxy URL with a host.
pub(crate) fn proxy_url(value: Option<String>) -> Result<Option<Url>> {
    let Some(text) = optional_text(value) else { return Ok(None) };
    let url = Url::parse(&text)
        .map_err(|e| Error::config("gateway.proxy", format!("不是有效的网址（{e}），应形如 http://10.0.0.1:3128")))?;
    match (url.scheme(), url.host()) {
        ("http" | "https", Some(_)) => Ok(Some(url)),
        _ => Err(Error::config("gateway.proxy", "应为 http:// 或 https:// 开头的代理地址，形如 http://10.0.0.1:3128")),
    }
}

/// `[gateway] ca_file`: a PEM file that exists; the gateway client reads it when it starts.
pub(crate) fn ca_file(value: Option<PathBuf>) -> Result<Option<PathBuf>> {
    ca_file_at(value, "gateway.ca_file")
}

/// A CA file named by configuration key `key` (`gateway.ca_file`, `hall_service.ca_file`).
fn ca_file_at(value: Option<PathBuf>, key: &str) -> Result<Option<PathBuf>> {
    let Some(path) = value.filter(|p| !p.as_os_str().is_empty()) else { return Ok(None) };
    if !path.is_file() {
        return Err(Error::config(key, format!("指向的证书文件 {} 不存在（请写 PEM 文件的完整路径）", path.display())));
    }
    Ok(Some(path))
}

impl RawGateway {
    fn check(self) -> Result<GatewaySettings> {
        let environment = match required(self.environment, "gateway.environment")?.as_str() {
            "test" => Environment::Test,
            "production" => Environment::Production,
            other => {
                return Err(Error::config("gateway.environment", format!("应为 test 或 production，而不是“{other}”")));
            }
        };
        let paasid_value = required(self.paasid, "gateway.paasid")?;
        paasid(&paasid_value, "gateway.paasid")?;
        let uscc_of = |value: Option<String>, key: &str| -> Result<String> {
            let v = required(value, key)?;
            Uscc::parse(&v).map(|u| u.as_str().to_owned()).map_err(|_| Error::config(key, "不是有效的统一社会信用代码"))
        };
        let mut in_file = Vec::new();
        Ok(GatewaySettings {
            environment,
            yst_base: base_url(self.yst_base, "gateway.yst_base")?,
            license_base: base_url(self.license_base, "gateway.license_base")?,
            paasid: paasid_value,
            token: optional_secret(self.token, "gateway.token", &mut in_file)?,
            system_id: required(self.system_id, "gateway.system_id")?,
            vender_id: uscc_of(self.vender_id, "gateway.vender_id")?,
            department_id: uscc_of(self.department_id, "gateway.department_id")?,
            account: required(self.account, "gateway.account")?,
            password: optional_secret(self.password, "gateway.password", &mut in_file)?,
            app_key: required(self.app_key, "gateway.app_key")?,
            app_secret: optional_secret(self.app_secret, "gateway.app_secret", &mut in_file)?,
            secrets_in_file: in_file,
            ca_file: ca_file(self.ca_file)?,
            proxy: proxy_url(self.proxy)?,
        })
    }
}

impl RawOperator {
    fn check(self) -> Result<Operator> {
        Ok(Operator {
            account: required(self.account, "operator.account")?,
            name: required(self.name, "operator.name")?,
            role: self
                .role
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| "窗口受理人员".to_owned()),
            division_code: required(self.division_code, "operator.division_code")?,
            service_org: required(self.service_org, "operator.service_org")?,
            service_org_code: required(self.service_org_code, "operator.service_org_code")?,
        })
    }
}

impl RawHall {
    fn contact(&self) -> HallContact {
        HallContact {
            city: optional_text(self.city.clone()),
            district: optional_text(self.district.clone()),
            address: optional_text(self.address.clone()),
            phone: optional_text(self.phone.clone()),
        }
    }

    fn check(self) -> Result<Counter> {
        Ok(Counter {
            hall_code: required(self.code, "hall.code")?,
            hall_name: required(self.name, "hall.name")?,
            counter: required(self.counter, "hall.counter")?,
        })
    }
}

impl RawTuning {
    fn check(self) -> Result<Tuning> {
        let mut t = Tuning::default();
        if let Some(ms) = self.request_timeout_ms {
            if !(100..=120_000).contains(&ms) {
                return Err(Error::config("tuning.request_timeout_ms", "应在 100 到 120000 之间"));
            }
            t.request_timeout = Duration::from_millis(ms);
        }
        if let Some(n) = self.max_in_flight {
            if !(1..=128).contains(&n) {
                return Err(Error::config("tuning.max_in_flight", "应在 1 到 128 之间"));
            }
            t.max_in_flight = n;
        }
        if let Some(n) = self.max_retries {
            if n > 5 {
                return Err(Error::config("tuning.max_retries", "不能超过 5"));
            }
            t.max_retries = n;
        }
        Ok(t)
    }
}

impl RawPrinting {
    fn check(self) -> Result<PrintingSettings> {
        let mut p = PrintingSettings::default();
        if let Some(minutes) = self.recheck_after_minutes {
            if minutes > 24 * 60 {
                return Err(Error::config("printing.recheck_after_minutes", "不能超过 1440（一天）"));
            }
            p.recheck_after = Duration::from_secs(minutes * 60);
        }
        let text = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        p.printer = text(self.printer);
        p.mode = match self.mode.as_deref().map(str::trim) {
            None | Some("picker") => PrintMode::Picker,
            Some("direct") if p.printer.is_some() => PrintMode::Direct,
            Some("direct") => return Err(Error::config("printing.printer", "缺失（mode = \"direct\" 时必填）")),
            Some(other) => {
                return Err(Error::config("printing.mode", format!("应为 picker 或 direct，而不是“{other}”")));
            }
        };
        p.save_dir = self.save_dir.filter(|d| !d.as_os_str().is_empty());
        if let Some(font) = self.font.filter(|f| !f.as_os_str().is_empty()) {
            if !font.is_file() {
                return Err(Error::config("printing.font", format!("指向的字体文件 {} 不存在", font.display())));
            }
            p.font = Some(font);
        }
        p.cups_server = text(self.cups_server);
        Ok(p)
    }
}

impl RawAudit {
    fn check(self) -> Result<AuditSettings> {
        let mut a = AuditSettings::default();
        if let Some(days) = self.retention_days {
            if days < MIN_AUDIT_RETENTION_DAYS {
                return Err(Error::config(
                    "audit.retention_days",
                    format!(
                        "不能少于 {MIN_AUDIT_RETENTION_DAYS} 天（《网络安全法》第二十一条要求网络日志留存不少于六个月），请改为 {MIN_AUDIT_RETENTION_DAYS} 或更大的天数"
                    ),
                ));
            }
            a.retention_days = days;
        }
        a.export_dir = self.export_dir.filter(|d| !d.as_os_str().is_empty());
        Ok(a)
    }
}

fn privacy_settings(retention: RawRetention, privacy: RawPrivacy) -> Result<PrivacySettings> {
    let mut p = PrivacySettings::default();
    if let Some(days) = retention.license_days {
        if days > MAX_LICENSE_RETENTION_DAYS {
            return Err(Error::config(
                "retention.license_days",
                format!(
                    "不能超过 {MAX_LICENSE_RETENTION_DAYS} 天（证照只在办事需要的时间内保留），请改为 0 到 {MAX_LICENSE_RETENTION_DAYS}"
                ),
            ));
        }
        p.license_days = days;
    }
    let minutes = |value: Option<u32>, key: &str, default: Option<Duration>| -> Result<Option<Duration>> {
        match value {
            None => Ok(default),
            Some(0) => Ok(None),
            Some(m) if m <= 24 * 60 => Ok(Some(Duration::from_secs(u64::from(m) * 60))),
            Some(_) => Err(Error::config(key, "不能超过 1440（一天）；0 表示不启用")),
        }
    };
    p.idle_clear = minutes(privacy.idle_clear_minutes, "privacy.idle_clear_minutes", p.idle_clear)?;
    p.lock = minutes(privacy.lock_minutes, "privacy.lock_minutes", p.lock)?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    pub(crate) const GATEWAY_CONFIG: &str = r#"
mode = "gateway"

[gateway]
environment = "test"
yst_base = "https://gateway.test.invalid/ebus/yst_counter"
license_base = "https://gateway.test.invalid/ebus/dzzz_convergence-service"
paasid = "yst_counter"
token = "paas-token-value"
system_id = "sys-001"
vender_id = "91440300708461136T"
department_id = "914403001922038216"
account = "hall_4401"
password = "pa55word-value"
app_key = "app-key"
app_secret = "app-secret-value"

[operator]
account = "zhangsan"
name = "张三"
division_code = "440100"
service_org = "广州市政务服务中心"
service_org_code = "11440100MB2C00001X"

[hall]
code = "4401001"
name = "广州市政务服务中心"
counter = "A03"

[[service_items]]
code = "11440100MB2C0000XX4440117001000"
name = "食品经营许可（新办）"
"#;

    fn check_err(text: &str, key: &str) {
        let err = Config::parse(text).expect_err(text);
        assert_eq!(err.code, ErrorCode::ConfigInvalid);
        assert!(err.message.contains(key), "message {:?} should name {key}", err.message);
    }

    #[test]
    fn a_complete_gateway_config_parses() {
        let c = Config::parse(GATEWAY_CONFIG).unwrap();
        assert_eq!(c.mode, Mode::Gateway);
        let s = c.into_settings(None).unwrap();
        assert_eq!(s.gateway.environment.body_limit(), 4 * 1024 * 1024);
        assert_eq!(s.operator.role, "窗口受理人员");
        assert_eq!(s.service_item(None).unwrap().name, "食品经营许可（新办）");
        assert_eq!(s.tuning, Tuning::default());
    }

    #[test]
    fn secrets_never_reach_debug_output() {
        let s = Config::parse(GATEWAY_CONFIG).unwrap().into_settings(None).unwrap();
        let debug = format!("{s:?}");
        for secret in ["paas-token-value", "pa55word-value", "app-secret-value"] {
            assert!(!debug.contains(secret), "{secret} leaked into {debug}");
        }
    }

    #[test]
    fn every_problem_names_its_key() {
        check_err(&GATEWAY_CONFIG.replace("paasid = \"yst_counter\"", ""), "gateway.paasid");
        check_err(&GATEWAY_CONFIG.replace("yst_counter\"\ntoken", "counter\"\ntoken"), "gateway.paasid");
        check_err(&GATEWAY_CONFIG.replace("token = \"paas-token-value\"", "token = \"  \""), "gateway.token");
        check_err(&GATEWAY_CONFIG.replace("\"test\"", "\"staging\""), "gateway.environment");
        check_err(
            &GATEWAY_CONFIG.replace("https://gateway.test.invalid/ebus/yst", "http://gateway.test.invalid/ebus/yst"),
            "gateway.yst_base",
        );
        check_err(&GATEWAY_CONFIG.replace("91440300708461136T", "91440300708461136A"), "gateway.vender_id");
        check_err(&GATEWAY_CONFIG.replace("name = \"张三\"", ""), "operator.name");
        check_err(&GATEWAY_CONFIG.replace("counter = \"A03\"", ""), "hall.counter");
        check_err(&GATEWAY_CONFIG.replace("mode = \"gateway\"", "mode = \"live\""), "mode");
        check_err(
            &format!("{GATEWAY_CONFIG}\n[[service_items]]\ncode = \"11440100MB2C0000XX4440117001000\"\nname = \"x\"\n"),
            "service_items[1].code",
        );
        check_err(&format!("{GATEWAY_CONFIG}\n[tuning]\nrequest_timeout_ms = 5\n"), "tuning.request_timeout_ms");
        check_err(&format!("{GATEWAY_CONFIG}\nsurprise = 1\n"), "surprise");
        check_err("mode = \"gateway\"\n", "gateway");
        check_err("this is not toml", "格式有误");
    }

    #[test]
    fn lookup_grounds_portal_and_page_size_are_checked() {
        let defaults = Config::parse("").unwrap().lookup;
        assert_eq!(defaults, LookupSettings::default());
        assert_eq!(defaults.ground(" 部门间协查 ").unwrap(), "部门间协查");
        assert_eq!(defaults.ground("").unwrap_err().code, crate::error::ErrorCode::GroundRequired);
        assert_eq!(defaults.ground("领导同意").unwrap_err().code, crate::error::ErrorCode::GroundRequired);
        let own = Config::parse("[lookup]\ngrounds = [\"依职能核验\", \"司法协助\"]\nportal_url = \"http://127.0.0.1:9/portal\"\npage_size = 5\n")
            .unwrap()
            .lookup;
        assert_eq!(own.grounds, ["依职能核验", "司法协助"]);
        assert_eq!((own.portal_url.as_str(), own.page_size), ("http://127.0.0.1:9/portal", 5));
        check_err("[lookup]\ngrounds = []\n", "lookup.grounds");
        check_err("[lookup]\ngrounds = [\"a\", \" \"]\n", "lookup.grounds[1]");
        check_err("[lookup]\ngrounds = [\"a\", \"a\"]\n", "lookup.grounds[1]");
        check_err("[lookup]\nportal_url = \"ftp://x\"\n", "lookup.portal_url");
        check_err("[lookup]\npage_size = 151\n", "lookup.page_size");
    }

    #[test]
    fn extranet_and_window_keys_are_checked() {
        let with = |extra: &str| {
            GATEWAY_CONFIG.replace("app_key = \"app-key\"\n", &format!("app_key = \"app-key\"\n{extra}\n"))
        };
        let ca = tempfile::NamedTempFile::new().unwrap();
        let g = Config::parse(&with(&format!("ca_file = {:?}\nproxy = \"http://10.0.0.1:3128\"", ca.path())))
            .unwrap()
            .gateway
            .unwrap();
        assert_eq!(g.ca_file.as_deref(), Some(ca.path()));
        assert_eq!(g.proxy.unwrap().as_str(), "http://10.0.0.1:3128/");
        check_err(&with("ca_file = \"/nonexistent/ca.pem\""), "gateway.ca_file");
        check_err(&with("proxy = \"socks5://10.0.0.1:1080\""), "gateway.proxy");
        check_err(&GATEWAY_CONFIG.replace("paas-token-value", "paas token"), "gateway.token");
        check_err(&GATEWAY_CONFIG.replace("\"yst_counter\"\ntoken", "\"yst_ counter\"\ntoken"), "gateway.paasid");
        let window = Config::parse("[window]\nfullscreen = true\n").unwrap().window;
        assert_eq!(window, WindowSettings { fullscreen: true, autostart: false, large_type: false });
        let window = Config::parse("[window]\nlarge_type = true\n").unwrap().window;
        assert!(window.large_type);
        check_err("[window]\nlarge_type = 2\n", "格式有误");
        check_err("[window]\nfullscreen = \"yes\"\n", "格式有误");
        check_err("[onboarding]\ntest_paasid = \"counter\"\n", "onboarding.test_paasid");
        let hall =
            Config::parse("[hall]\ncode = \"H\"\nname = \"大厅\"\ncounter = \"B1\"\ncity = \"广州市\"\n").unwrap();
        assert_eq!(hall.hall_contact.city.as_deref(), Some("广州市"));
    }

    #[test]
    fn privacy_defaults_and_limits() {
        let defaults = Config::parse("").unwrap().privacy;
        assert_eq!(defaults.license_days, 1);
        assert_eq!(defaults.idle_clear, Some(Duration::from_secs(300)));
        assert_eq!(defaults.lock, Some(Duration::from_secs(900)));
        let set = Config::parse("[retention]\nlicense_days = 0\n[privacy]\nidle_clear_minutes = 2\nlock_minutes = 0\n")
            .unwrap()
            .privacy;
        assert_eq!((set.license_days, set.idle_clear, set.lock), (0, Some(Duration::from_secs(120)), None));
        check_err("[retention]\nlicense_days = 31\n", "retention.license_days");
        check_err("[privacy]\nidle_clear_minutes = 1441\n", "privacy.idle_clear_minutes");
        check_err("[privacy]\nidle_minutes = 5\n", "idle_minutes");
    }

    #[test]
    fn audit_retention_can_only_be_lengthened() {
        let settings = Config::parse(GATEWAY_CONFIG).unwrap().into_settings(None).unwrap();
        assert_eq!(settings.audit.retention_days, 180);
        let longer = Config::parse(&format!("{GATEWAY_CONFIG}\n[audit]\nretention_days = 365\n")).unwrap();
        assert_eq!(longer.into_settings(None).unwrap().audit.retention_days, 365);
        assert_eq!(Config::parse("[audit]\nretention_days = 180\n").unwrap().audit.retention_days, 180);
        for days in [0, 90, 179] {
            let err = Config::parse(&format!("[audit]\nretention_days = {days}\n")).unwrap_err();
            assert_eq!(err.code, ErrorCode::ConfigInvalid);
            assert!(err.message.contains("audit.retention_days") && err.message.contains("180"), "{}", err.message);
        }
        check_err(&format!("{GATEWAY_CONFIG}\n[audit]\nretention_days = -1\n"), "格式有误");
        check_err(&format!("{GATEWAY_CONFIG}\n[audit]\nkeep = 1\n"), "keep");
    }

    #[test]
    fn the_shipped_example_parses() {
        let text = include_str!("../../../../config.example.toml");
        let settings = Config::parse(text).unwrap().into_settings(None).unwrap();
        assert_eq!(settings.gateway.paasid, "yst_example");
        assert!(settings.gateway.secrets_in_file.is_empty(), "the example keeps its secrets out of the file");
    }

    #[test]
    fn secrets_may_be_left_to_the_sealed_store_and_those_in_the_file_are_named() {
        let g = Config::parse(GATEWAY_CONFIG).unwrap().gateway.unwrap();
        assert_eq!(g.secrets_in_file, ["gateway.token", "gateway.password", "gateway.app_secret"]);
        let without = GATEWAY_CONFIG
            .replace("token = \"paas-token-value\"\n", "")
            .replace("app_secret = \"app-secret-value\"\n", "");
        let g = Config::parse(&without).unwrap().gateway.unwrap();
        assert_eq!(g.secrets_in_file, ["gateway.password"]);
        assert!(g.token.is_empty() && g.app_secret.is_empty());
    }

    #[test]
    fn the_hall_service_is_https_or_loopback_with_a_bounded_interval() {
        let hall = |body: &str| Config::parse(&format!("{GATEWAY_CONFIG}\n[hall_service]\n{body}"));
        let on = hall("url = \"https://hall.example:8443\"\n").unwrap().hall_service.unwrap();
        assert_eq!(on.url.as_str(), "https://hall.example:8443/");
        assert_eq!((on.ca_file, on.ship_interval), (None, Duration::from_secs(30)));
        assert!(Config::parse(GATEWAY_CONFIG).unwrap().hall_service.is_none());
        assert!(hall("url = \"http://127.0.0.1:8443\"\nship_interval_seconds = 5\n").is_ok());
        check_err(&format!("{GATEWAY_CONFIG}\n[hall_service]\nurl = \"http://10.0.0.2:8443\"\n"), "hall_service.url");
        check_err(&format!("{GATEWAY_CONFIG}\n[hall_service]\n"), "hall_service.url");
        check_err(
            &format!("{GATEWAY_CONFIG}\n[hall_service]\nurl = \"https://h\"\nship_interval_seconds = 2\n"),
            "ship_interval_seconds",
        );
        check_err(
            &format!("{GATEWAY_CONFIG}\n[hall_service]\nurl = \"https://h\"\nca_file = \"/nonexistent.pem\"\n"),
            "hall_service.ca_file",
        );
    }

    #[test]
    fn http_is_allowed_only_to_loopback() {
        let local = GATEWAY_CONFIG.replace("https://gateway.test.invalid", "http://127.0.0.1:8080");
        assert!(Config::parse(&local).is_ok());
    }

    #[test]
    fn sandbox_mode_needs_nothing_but_takes_overrides() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.mode, Mode::Sandbox);
        let c =
            Config::parse("mode = \"sandbox\"\n[hall]\ncode = \"H\"\nname = \"测试大厅\"\ncounter = \"B1\"\n").unwrap();
        assert_eq!(c.counter.as_ref().unwrap().counter, "B1");
        let err = c.into_settings(None).unwrap_err();
        assert_eq!(err.code, ErrorCode::ConfigInvalid);
    }
}
