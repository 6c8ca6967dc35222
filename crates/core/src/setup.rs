//! The setup screen's engine (first run, or IT from the supervisor's settings): the form, each field
//! checked with its reason in Chinese, the user's configuration file written from it (0600, keys
//! the form does not know kept, secrets never in it) with the secrets in the sealed store, and the
//! unsaved form as a configuration the doctor can test.

use crate::audit::AuditContext;
use crate::cache::Cache;
use crate::config::{self, Config, ConfigFiles};
use crate::domain::Uscc;
use crate::error::{Error, ErrorCode, Result};
use crate::keystore::KeyStore;
use crate::secret::Secret;
use crate::secrets::{self, SecretName};
use chrono::{DateTime, FixedOffset};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

/// The official gateway domains (the seed's test and production bases).
pub const TEST_DOMAIN: &str = "https://bs-test.digitalgd.com.cn";
pub const PRODUCTION_DOMAIN: &str = "https://zwms3.gdbs.gov.cn";

/// What the form's placeholder PaaS ID looks like before one is typed.
const PAASID_PLACEHOLDER: &str = "yst_…";

/// The database the gateway mode keeps its sealed credentials in (the sandbox has its own).
pub const GATEWAY_DATABASE: &str = "cache.sqlite3";

/// Which gateway the counter talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SetupEnvironment {
    /// The built-in sandbox gateway: only the hall and the items matter.
    #[default]
    Sandbox,
    Test,
    Production,
}

impl SetupEnvironment {
    pub fn parse(text: &str) -> Option<SetupEnvironment> {
        match text.trim() {
            "sandbox" => Some(SetupEnvironment::Sandbox),
            "test" => Some(SetupEnvironment::Test),
            "production" => Some(SetupEnvironment::Production),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SetupEnvironment::Sandbox => "sandbox",
            SetupEnvironment::Test => "test",
            SetupEnvironment::Production => "production",
        }
    }

    fn domain(self) -> Option<&'static str> {
        match self {
            SetupEnvironment::Sandbox => None,
            SetupEnvironment::Test => Some(TEST_DOMAIN),
            SetupEnvironment::Production => Some(PRODUCTION_DOMAIN),
        }
    }
}

/// The gateway bases an environment starts from (IT may change them, e.g. for an extranet proxy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultBases {
    pub yst_base: String,
    pub license_base: String,
}

/// The official bases of `environment`; the 粤商通 base ends in the PaaS ID (a placeholder until
/// one is typed). `None` for the sandbox, which runs its own.
pub fn default_bases(environment: SetupEnvironment, paasid: &str) -> Option<DefaultBases> {
    let domain = environment.domain()?;
    let paasid = if paasid.trim().is_empty() { PAASID_PLACEHOLDER } else { paasid.trim() };
    Some(DefaultBases {
        yst_base: format!("{domain}/ebus/{paasid}"),
        license_base: format!("{domain}/ebus/dzzz_convergence-service"),
    })
}

/// One service item row (typed, or pasted from two Excel columns).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemRow {
    pub code: String,
    pub name: String,
}

/// The setup form as typed. Secrets left blank keep the stored value.
#[derive(Debug, Clone, Default)]
pub struct SetupForm {
    pub environment: SetupEnvironment,
    pub yst_base: String,
    pub license_base: String,
    pub paasid: String,
    pub token: Secret,
    pub system_id: String,
    pub vender_id: String,
    pub department_id: String,
    pub account: String,
    pub password: Secret,
    pub app_key: String,
    pub app_secret: Secret,
    pub ca_file: String,
    pub proxy: String,
    pub operator_account: String,
    pub operator_name: String,
    pub division_code: String,
    pub service_org: String,
    pub service_org_code: String,
    pub hall_code: String,
    pub hall_name: String,
    pub counter: String,
    pub hall_city: String,
    pub hall_district: String,
    pub hall_address: String,
    pub hall_phone: String,
    pub items: Vec<ItemRow>,
}

impl SetupForm {
    fn secret(&self, name: SecretName) -> &Secret {
        match name {
            SecretName::Token => &self.token,
            SecretName::Password => &self.password,
            SecretName::AppSecret => &self.app_secret,
        }
    }

    fn secret_field(name: SecretName) -> &'static str {
        match name {
            SecretName::Token => "token",
            SecretName::Password => "password",
            SecretName::AppSecret => "appSecret",
        }
    }
}

/// The secrets this counter already has: sealed in the database, or (until the next save moves
/// them) in plain text in the user's file. Never shown; a blank field keeps them.
#[derive(Debug, Clone, Default)]
pub struct KeptSecrets {
    pub sealed: Vec<SecretName>,
    pub in_file: Vec<(SecretName, Secret)>,
}

impl KeptSecrets {
    pub fn has(&self, name: SecretName) -> bool {
        self.sealed.contains(&name) || self.in_file.iter().any(|(n, _)| *n == name)
    }

    fn plain(&self, name: SecretName) -> Option<&Secret> {
        self.in_file.iter().find(|(n, _)| *n == name).map(|(_, s)| s)
    }
}

/// Where setup reads and writes: the user's file (written by 保存, and whose folder holds the
/// storage key), the machine-wide file under it, and the data folder with the sealed store.
#[derive(Debug, Clone)]
pub struct SetupPaths {
    pub user_file: PathBuf,
    pub machine_file: Option<PathBuf>,
    pub data_dir: PathBuf,
}

impl SetupPaths {
    /// For a launch with `--config` (or none): the user's file even when it does not exist yet.
    pub fn find(explicit_config: Option<PathBuf>, data_dir: PathBuf) -> Result<SetupPaths> {
        let files = ConfigFiles::find(explicit_config);
        let user_file = files
            .user
            .or_else(config::default_config_file)
            .ok_or_else(|| Error::config("config_dir", "无法确定：请用 --config 指定配置文件"))?;
        Ok(SetupPaths { user_file, machine_file: files.machine, data_dir })
    }

    /// No configuration file at all: the counter has never been set up.
    pub fn first_run(&self) -> bool {
        self.machine_file.is_none() && !self.user_file.exists()
    }

    fn database(&self) -> PathBuf {
        self.data_dir.join(GATEWAY_DATABASE)
    }

    /// The gateway mode's database, unlocked with this user's storage key (made if missing).
    pub fn open_cache(&self) -> Result<Cache> {
        std::fs::create_dir_all(&self.data_dir).map_err(|e| {
            Error::with_fact(ErrorCode::StorageFailed, format!("无法创建数据目录 {}（{e}）。", self.data_dir.display()))
        })?;
        Cache::open(&self.database(), &KeyStore::for_config(Some(&self.user_file))?)
    }
}

/// What the setup screen opens with.
#[derive(Debug, Clone)]
pub struct SetupState {
    /// The values in force (machine file under the user's), secrets blank.
    pub form: SetupForm,
    pub kept: KeptSecrets,
    pub first_run: bool,
}

/// The form filled from the files as they are, even a broken one (that is when IT needs this).
pub fn state(paths: &SetupPaths) -> Result<SetupState> {
    let machine = paths.machine_file.as_deref().and_then(read_document);
    let user = read_document(&paths.user_file);
    let layers: Vec<&DocumentMut> = machine.iter().chain(user.iter()).collect();
    let mut form = form_from(&layers);
    let mut kept = KeptSecrets::default();
    if let Some(user) = &user {
        kept.in_file = plain_secrets(user);
    }
    // Opening the database would make it and a storage key: a first look makes nothing.
    if paths.database().exists() {
        // A database whose key is gone must not keep IT from the screen that fixes the rest.
        kept.sealed = sealed_names(paths).unwrap_or_else(|e| {
            tracing::warn!(code = %e.code, "setup could not read which credentials are sealed");
            Vec::new()
        });
    }
    if paths.first_run() {
        form.environment = SetupEnvironment::Test;
    }
    if form.license_base.is_empty()
        && let Some(bases) = default_bases(form.environment, &form.paasid)
    {
        form.license_base = bases.license_base;
    }
    Ok(SetupState { form, kept, first_run: paths.first_run() })
}

/// Which credentials the sealed store holds (names only).
fn sealed_names(paths: &SetupPaths) -> Result<Vec<SecretName>> {
    let cache = paths.open_cache()?;
    Ok(secrets::list(&cache)?.into_iter().filter(|s| s.updated_at.is_some()).map(|s| s.name).collect())
}

fn read_document(path: &Path) -> Option<DocumentMut> {
    std::fs::read_to_string(path).ok()?.parse().ok()
}

/// A string at `table.key` in the highest layer that has it.
fn layered(layers: &[&DocumentMut], table: &str, key: &str) -> String {
    layers
        .iter()
        .rev()
        .find_map(|doc| doc.get(table)?.get(key)?.as_str().map(|s| s.trim().to_owned()))
        .unwrap_or_default()
}

fn form_from(layers: &[&DocumentMut]) -> SetupForm {
    let get = |table: &str, key: &str| layered(layers, table, key);
    let gateway_mode = layers.iter().rev().find_map(|d| d.get("mode")?.as_str()).map(str::trim) == Some("gateway");
    let environment = match (gateway_mode, get("gateway", "environment").as_str()) {
        (true, "production") => SetupEnvironment::Production,
        (true, _) => SetupEnvironment::Test,
        (false, _) => SetupEnvironment::Sandbox,
    };
    let items = layers
        .iter()
        .rev()
        .find_map(|doc| doc.get("service_items")?.as_array_of_tables())
        .map(|aot| {
            aot.iter()
                .map(|t| ItemRow {
                    code: t.get("code").and_then(Item::as_str).unwrap_or_default().trim().to_owned(),
                    name: t.get("name").and_then(Item::as_str).unwrap_or_default().trim().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    SetupForm {
        environment,
        yst_base: get("gateway", "yst_base"),
        license_base: get("gateway", "license_base"),
        paasid: get("gateway", "paasid"),
        system_id: get("gateway", "system_id"),
        vender_id: get("gateway", "vender_id"),
        department_id: get("gateway", "department_id"),
        account: get("gateway", "account"),
        app_key: get("gateway", "app_key"),
        ca_file: get("gateway", "ca_file"),
        proxy: get("gateway", "proxy"),
        operator_account: get("operator", "account"),
        operator_name: get("operator", "name"),
        division_code: get("operator", "division_code"),
        service_org: get("operator", "service_org"),
        service_org_code: get("operator", "service_org_code"),
        hall_code: get("hall", "code"),
        hall_name: get("hall", "name"),
        counter: get("hall", "counter"),
        hall_city: get("hall", "city"),
        hall_district: get("hall", "district"),
        hall_address: get("hall", "address"),
        hall_phone: get("hall", "phone"),
        items,
        ..SetupForm::default()
    }
}

fn plain_secrets(doc: &DocumentMut) -> Vec<(SecretName, Secret)> {
    let Some(gateway) = doc.get("gateway") else { return Vec::new() };
    SecretName::ALL
        .into_iter()
        .filter_map(|name| {
            let text = gateway.get(name.as_str())?.as_str()?.trim();
            (!text.is_empty()).then(|| (name, Secret::new(text)))
        })
        .collect()
}

/// Problems by field (the form's field name, or `items.3.code`), each a reason in Chinese; empty
/// when the form can be saved. The sandbox needs only the hall and items, all optional.
pub fn validate(form: &SetupForm, kept: &KeptSecrets) -> BTreeMap<String, String> {
    let mut errors = Errors::default();
    if form.environment != SetupEnvironment::Sandbox {
        check_gateway(form, kept, &mut errors);
        check_operator(form, &mut errors);
    }
    check_hall(form, &mut errors);
    check_items(form, &mut errors);
    errors.0
}

#[derive(Default)]
struct Errors(BTreeMap<String, String>);

impl Errors {
    fn add(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| reason.into());
    }

    /// A blank required field: says what to put there.
    fn required(&mut self, field: &str, value: &str, what: &str) -> bool {
        if value.trim().is_empty() {
            self.add(field, format!("必填：{what}"));
            return false;
        }
        true
    }
}

/// The configuration's own reason without its frame (`配置项 KEY …。` and the advice), so the
/// screen and the file agree on what is wrong.
fn reason(err: Error, key: &str) -> String {
    let message = err.message.strip_suffix(err.code.advice()).unwrap_or(&err.message);
    let message = message.strip_prefix(&format!("配置项 {key} ")).unwrap_or(message);
    message.trim_end_matches('。').to_owned()
}

fn check_gateway(form: &SetupForm, kept: &KeptSecrets, errors: &mut Errors) {
    for (field, text, key) in
        [("ystBase", &form.yst_base, "gateway.yst_base"), ("licenseBase", &form.license_base, "gateway.license_base")]
    {
        if !errors.required(field, text, "网关地址，选择环境后会自动填入") {
            continue;
        }
        if text.contains(PAASID_PLACEHOLDER) {
            errors.add(field, "地址中的 yst_… 要换成本应用的 PaaS ID");
        } else if let Err(e) = config::base_url(Some(text.clone()), key) {
            let why = reason(e, key);
            let why = if why.starts_with("不是有效的网址") {
                "不是有效的网址，应形如 https://bs-test.digitalgd.com.cn/ebus/yst_xxx".to_owned()
            } else {
                why
            };
            errors.add(field, why);
        }
    }
    if errors.required("paasid", &form.paasid, "网关为粤商通应用分配的 PaaS ID（yst_ 开头）")
        && let Err(e) = config::paasid(form.paasid.trim(), "gateway.paasid")
    {
        errors.add("paasid", reason(e, "gateway.paasid"));
    }
    for name in SecretName::ALL {
        check_secret(form, kept, name, errors);
    }
    errors.required("systemId", &form.system_id, "网关分配的系统 ID（systemId）");
    for (field, text, what) in [
        ("venderId", &form.vender_id, "开发商的统一社会信用代码"),
        ("departmentId", &form.department_id, "部门的统一社会信用代码"),
    ] {
        if errors.required(field, text, what) {
            check_uscc(field, text, errors);
        }
    }
    errors.required("account", &form.account, "电子证照服务的登录账号");
    errors.required("appKey", &form.app_key, "电子证照服务分配的 appKey");
    if let Err(e) = config::ca_file(config::optional_text(Some(form.ca_file.clone())).map(PathBuf::from)) {
        errors.add("caFile", reason(e, "gateway.ca_file"));
    }
    if let Err(e) = config::proxy_url(Some(form.proxy.clone())) {
        errors.add("proxy", reason(e, "gateway.proxy"));
    }
}

fn check_secret(form: &SetupForm, kept: &KeptSecrets, name: SecretName, errors: &mut Errors) {
    let field = SetupForm::secret_field(name);
    let typed = form.secret(name).expose().trim();
    if typed.is_empty() {
        if !kept.has(name) {
            errors.add(field, "必填：本机还没有保存过（已保存的可留空保持不变）");
        }
    } else if typed.chars().any(char::is_whitespace) {
        errors.add(field, "中间含有空格或换行（多半是复制时带上的），请重新复制");
    }
}

fn check_uscc(field: &str, text: &str, errors: &mut Errors) {
    let text = text.trim();
    if text.chars().count() != 18 {
        errors.add(field, format!("统一社会信用代码应为 18 位，现在是 {} 位", text.chars().count()));
    } else if Uscc::parse(text).is_err() {
        errors.add(field, "不是有效的统一社会信用代码（校验位不对，请逐位核对）");
    }
}

fn check_operator(form: &SetupForm, errors: &mut Errors) {
    errors.required("operatorAccount", &form.operator_account, "默认经办人账号（启用登录后以登录人为准）");
    errors.required("operatorName", &form.operator_name, "默认经办人姓名");
    let division = form.division_code.trim();
    let digits = matches!(division.len(), 6 | 12) && division.chars().all(|c| c.is_ascii_digit());
    if errors.required("divisionCode", division, "行政区划代码，如 440106") && !digits {
        errors.add("divisionCode", "应为 6 位（或 12 位）数字的行政区划代码，如 440106");
    }
    errors.required("serviceOrg", &form.service_org, "办理机构名称，如 广州市天河区政务服务中心");
    // The org code is a USCC on every hall seen so far; another shape is left to the gateway.
    if errors.required("serviceOrgCode", &form.service_org_code, "办理机构的统一社会信用代码")
        && form.service_org_code.trim().chars().count() == 18
    {
        check_uscc("serviceOrgCode", &form.service_org_code, errors);
    }
}

fn check_hall(form: &SetupForm, errors: &mut Errors) {
    let hall = [
        ("hallCode", &form.hall_code, "大厅编码"),
        ("hallName", &form.hall_name, "大厅名称"),
        ("counter", &form.counter, "窗口号，如 A03"),
    ];
    // The sandbox brings its own hall; one given must be whole, as the file needs it.
    let any = hall.iter().any(|(_, v, _)| !v.trim().is_empty());
    if form.environment != SetupEnvironment::Sandbox || any {
        for (field, text, what) in hall {
            errors.required(field, text, what);
        }
    }
    if form.counter.trim().chars().any(char::is_whitespace) {
        errors.add("counter", "不能含空格（窗口号会写进副本编号）");
    }
    let phone = form.hall_phone.trim();
    if !phone.chars().all(|c| c.is_ascii_digit() || "-+() ".contains(c)) {
        errors.add("hallPhone", "只能含数字、-、+、括号，如 020-12345678");
    }
}

fn check_items(form: &SetupForm, errors: &mut Errors) {
    if form.environment != SetupEnvironment::Sandbox && form.items.is_empty() {
        errors.add("items", "至少要有一个事项（可从 Excel 复制“事项编码、事项名称”两列粘贴）");
    }
    for (i, item) in form.items.iter().enumerate() {
        let code = item.code.trim();
        if errors.required(&format!("items.{i}.code"), code, "事项编码") && code.chars().any(char::is_whitespace) {
            errors.add(format!("items.{i}.code"), "不能含空格");
        }
        errors.required(&format!("items.{i}.name"), &item.name, "事项名称");
        if !code.is_empty() && form.items[..i].iter().any(|earlier| earlier.code.trim() == code) {
            errors.add(format!("items.{i}.code"), format!("与前面的事项重复（{code}）"));
        }
    }
}

/// The refusal of a form with problems: `CONFIG_INVALID`, naming the first few.
fn invalid(errors: &BTreeMap<String, String>) -> Error {
    let listed: Vec<String> = errors.iter().take(3).map(|(field, why)| format!("{field}：{why}")).collect();
    let more = if errors.len() > 3 { format!(" 等 {} 项", errors.len()) } else { String::new() };
    Error::with_fact(ErrorCode::ConfigInvalid, format!("设置有误，未保存：{}{more}。", listed.join("；")))
}

/// The user's file as it will be: `existing` (kept: comments, and keys the form does not know such
/// as `[printing]` and `[privacy]`) with the form's values written in; never a secret.
pub fn render(form: &SetupForm, existing: Option<&str>) -> Result<String> {
    let mut doc: DocumentMut = match existing {
        Some(text) => text.parse().map_err(|e: toml_edit::TomlError| {
            Error::with_fact(ErrorCode::ConfigInvalid, "现有配置文件格式有误，无法在其上修改（请先修正或移走它）。")
                .detail(e.message().to_owned())
        })?,
        None => DocumentMut::new(),
    };
    if existing.is_none() {
        doc.decor_mut().set_prefix(
            "# 粤商码免证办柜台的配置（由设置界面写入，可手工修改）。\n# 网关密钥不在此文件：密文保存在本机数据库。\n",
        );
    }
    let gateway_mode = form.environment != SetupEnvironment::Sandbox;
    set_text(doc.as_table_mut(), "mode", if gateway_mode { "gateway" } else { "sandbox" });
    if gateway_mode {
        render_gateway(&mut doc, form);
        render_operator(&mut doc, form);
    }
    render_hall(&mut doc, form);
    render_items(&mut doc, form);
    Ok(doc.to_string())
}

/// The table `name`, made with its comment when the file has none.
fn table<'d>(doc: &'d mut DocumentMut, name: &str, comment: &str) -> &'d mut Table {
    if !doc.contains_table(name) {
        let mut table = Table::new();
        table.decor_mut().set_prefix(format!("\n# {comment}\n"));
        doc.insert(name, Item::Table(table));
    }
    doc[name].as_table_mut().expect("a table: checked above")
}

/// Sets a string, keeping the comment around an existing value.
fn set_text(table: &mut Table, key: &str, text: &str) {
    match table.get_mut(key).and_then(Item::as_value_mut) {
        Some(existing) => {
            let decor = existing.decor().clone();
            *existing = toml_edit::Value::from(text);
            *existing.decor_mut() = decor;
        }
        None => {
            table.insert(key, value(text));
        }
    }
}

/// Sets a free-text value, or removes the key when it is blank.
fn set_optional(table: &mut Table, key: &str, text: &str) {
    match text.trim() {
        "" => {
            table.remove(key);
        }
        text => set_text(table, key, text),
    }
}

fn render_gateway(doc: &mut DocumentMut, form: &SetupForm) {
    let environment = form.environment.as_str();
    let gateway = table(
        doc,
        "gateway",
        "广东政务服务网关（粤商通、电子证照）；token、password、app_secret 密文保存在本机，不写在这里",
    );
    set_text(gateway, "environment", environment);
    for (key, text) in [
        ("yst_base", &form.yst_base),
        ("license_base", &form.license_base),
        ("paasid", &form.paasid),
        ("system_id", &form.system_id),
        ("vender_id", &form.vender_id),
        ("department_id", &form.department_id),
        ("account", &form.account),
        ("app_key", &form.app_key),
    ] {
        set_text(gateway, key, text.trim());
    }
    set_optional(gateway, "ca_file", &form.ca_file);
    set_optional(gateway, "proxy", &form.proxy);
    for name in SecretName::ALL {
        gateway.remove(name.as_str());
    }
}

fn render_operator(doc: &mut DocumentMut, form: &SetupForm) {
    let operator = table(doc, "operator", "默认经办人（启用账号登录后，以登录人为准）");
    for (key, text) in [
        ("account", &form.operator_account),
        ("name", &form.operator_name),
        ("division_code", &form.division_code),
        ("service_org", &form.service_org),
        ("service_org_code", &form.service_org_code),
    ] {
        set_text(operator, key, text.trim());
    }
}

fn render_hall(doc: &mut DocumentMut, form: &SetupForm) {
    let given = [&form.hall_code, &form.hall_name, &form.counter].iter().any(|v| !v.trim().is_empty());
    if !given && form.environment == SetupEnvironment::Sandbox {
        return;
    }
    let hall = table(doc, "hall", "本大厅与本窗口（窗口号写进办件号和副本编号）");
    set_text(hall, "code", form.hall_code.trim());
    set_text(hall, "name", form.hall_name.trim());
    set_text(hall, "counter", form.counter.trim());
    set_optional(hall, "city", &form.hall_city);
    set_optional(hall, "district", &form.hall_district);
    set_optional(hall, "address", &form.hall_address);
    set_optional(hall, "phone", &form.hall_phone);
}

fn render_items(doc: &mut DocumentMut, form: &SetupForm) {
    if form.items.is_empty() {
        doc.remove("service_items");
        return;
    }
    let mut items = ArrayOfTables::new();
    for (i, row) in form.items.iter().enumerate() {
        let mut item = Table::new();
        if i == 0 {
            item.decor_mut().set_prefix("\n# 本窗口办理的事项（编码、名称）\n");
        }
        item.insert("code", value(row.code.trim()));
        item.insert("name", value(row.name.trim()));
        items.push(item);
    }
    doc.insert("service_items", Item::ArrayOfTables(items));
}

/// Writes the configuration file whole or not at all: a temporary file beside it, readable only by
/// this user (it names the gateway and the accounts), renamed over it; the folder made if missing.
pub fn write_config(path: &Path, text: &str) -> Result<()> {
    let fail = |e: std::io::Error| {
        Error::with_fact(
            ErrorCode::ConfigInvalid,
            format!("无法写入配置文件 {}（{e}），请检查该文件夹的权限。", path.display()),
        )
    };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(fail)?;
    let mut temporary = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    owner_only(temporary.as_file()).map_err(fail)?;
    temporary.write_all(text.as_bytes()).and_then(|()| temporary.as_file().sync_all()).map_err(fail)?;
    temporary.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

#[cfg(unix)]
fn owner_only(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

/// On Windows the file lives in the user's own profile folder, which only they may read.
#[cfg(not(unix))]
fn owner_only(_file: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

/// What 保存 did.
#[derive(Debug, Clone)]
pub struct Saved {
    pub path: PathBuf,
    /// The credentials written to the sealed store this time.
    pub sealed: Vec<SecretName>,
}

/// 保存: refuses a form with problems; otherwise the secrets into the sealed store first (typed
/// ones, and any the old file carried in plain text), then the file without them.
pub fn save(paths: &SetupPaths, form: &SetupForm, ctx: &AuditContext, now: DateTime<FixedOffset>) -> Result<Saved> {
    let existing = read_existing(&paths.user_file)?;
    let mut kept = KeptSecrets::default();
    if let Some(text) = &existing
        && let Ok(doc) = text.parse::<DocumentMut>()
    {
        kept.in_file = plain_secrets(&doc);
    }
    if form.environment != SetupEnvironment::Sandbox && paths.database().exists() {
        kept.sealed = sealed_names(paths)?;
    }
    let errors = validate(form, &kept);
    if !errors.is_empty() {
        return Err(invalid(&errors));
    }
    let text = render(form, existing.as_deref())?;
    let sealed = match form.environment {
        SetupEnvironment::Sandbox => Vec::new(),
        _ => seal_secrets(&paths.open_cache()?, form, &kept, ctx, now)?,
    };
    write_config(&paths.user_file, &text)?;
    Ok(Saved { path: paths.user_file.clone(), sealed })
}

fn read_existing(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => {
            Err(Error::with_fact(ErrorCode::ConfigInvalid, format!("无法读取配置文件 {}（{e}）。", path.display())))
        }
    }
}

/// Typed secrets replace the stored ones; a blank one keeps it, and one the old file carried in
/// plain text moves into the store (the new file leaves it out).
fn seal_secrets(
    cache: &Cache,
    form: &SetupForm,
    kept: &KeptSecrets,
    ctx: &AuditContext,
    now: DateTime<FixedOffset>,
) -> Result<Vec<SecretName>> {
    let mut sealed = Vec::new();
    for name in SecretName::ALL {
        let typed = form.secret(name);
        let value = if typed.expose().trim().is_empty() { kept.plain(name) } else { Some(typed) };
        if let Some(value) = value {
            secrets::set(cache, name, value, ctx, now)?;
            sealed.push(name);
        }
    }
    Ok(sealed)
}

/// The unsaved form as the configuration it would make, for the doctor's 测试连接: the file as
/// 保存 would write it, under the machine-wide file; the typed secrets filled in, else those the
/// old file carries (the rest the doctor takes from the sealed store). Problems are refused as at 保存.
pub fn config_for_test(paths: &SetupPaths, form: &SetupForm, kept: &KeptSecrets) -> Result<Config> {
    let errors = validate(form, kept);
    if !errors.is_empty() {
        return Err(invalid(&errors));
    }
    let text = render(form, read_existing(&paths.user_file)?.as_deref())?;
    let scratch = tempfile::tempdir().map_err(Error::storage)?;
    let planned = scratch.path().join("config.toml");
    write_config(&planned, &text)?;
    let files = ConfigFiles { machine: paths.machine_file.clone(), user: Some(planned) };
    let mut config = files.load()?.expect("a user file was given").config;
    if let Some(gateway) = config.gateway.as_mut() {
        gateway.secrets_in_file.clear();
        for name in SecretName::ALL {
            let typed = form.secret(name);
            let value = if typed.expose().trim().is_empty() { kept.plain(name).cloned() } else { Some(typed.clone()) };
            let slot = match name {
                SecretName::Token => &mut gateway.token,
                SecretName::Password => &mut gateway.password,
                SecretName::AppSecret => &mut gateway.app_secret,
            };
            *slot = value.map(|v| Secret::new(v.expose().trim())).unwrap_or_default();
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Mode;

    const VENDER: &str = "91440300708461136T";
    const DEPARTMENT: &str = "914403001922038216";

    fn gateway_form() -> SetupForm {
        let bases = default_bases(SetupEnvironment::Test, "yst_counter").unwrap();
        SetupForm {
            environment: SetupEnvironment::Test,
            yst_base: bases.yst_base,
            license_base: bases.license_base,
            paasid: "yst_counter".into(),
            token: Secret::new("paas-token-value"),
            system_id: "sys-001".into(),
            vender_id: VENDER.into(),
            department_id: DEPARTMENT.into(),
            account: "hall_4401".into(),
            password: Secret::new("pa55word-value"),
            app_key: "app-key".into(),
            app_secret: Secret::new("app-secret-value"),
            operator_account: "zhangsan".into(),
            operator_name: "张三".into(),
            division_code: "440106".into(),
            service_org: "广州市天河区政务服务中心".into(),
            service_org_code: DEPARTMENT.into(),
            hall_code: "440106001".into(),
            hall_name: "天河区政务服务中心".into(),
            counter: "B07".into(),
            hall_phone: "020-12345678".into(),
            items: vec![ItemRow {
                code: "11440100MB2C0000XX4440117001000".into(),
                name: "食品经营许可（新办）".into(),
            }],
            ..SetupForm::default()
        }
    }

    fn paths(dir: &Path) -> SetupPaths {
        SetupPaths { user_file: dir.join("conf").join("config.toml"), machine_file: None, data_dir: dir.join("data") }
    }

    fn ctx() -> AuditContext {
        AuditContext { operator_account: "it".into(), hall_code: "440106001".into(), counter: "B07".into() }
    }

    fn now() -> DateTime<FixedOffset> {
        chrono::Utc::now().with_timezone(&crate::clock::china_tz())
    }

    #[test]
    fn default_bases_follow_the_environment_and_the_paasid() {
        let test = default_bases(SetupEnvironment::Test, "yst_abc").unwrap();
        assert_eq!(test.yst_base, "https://bs-test.digitalgd.com.cn/ebus/yst_abc");
        assert_eq!(test.license_base, "https://bs-test.digitalgd.com.cn/ebus/dzzz_convergence-service");
        let production = default_bases(SetupEnvironment::Production, "").unwrap();
        assert_eq!(production.yst_base, "https://zwms3.gdbs.gov.cn/ebus/yst_…");
        assert!(default_bases(SetupEnvironment::Sandbox, "yst_abc").is_none());
    }

    #[test]
    fn a_complete_form_is_valid() {
        assert_eq!(validate(&gateway_form(), &KeptSecrets::default()), BTreeMap::new());
    }

    /// Makes one field of a good form wrong.
    type Spoil = fn(&mut SetupForm);

    #[test]
    fn each_bad_field_is_named_with_its_reason() {
        let cases: Vec<(Spoil, &str, &str)> = vec![
            (|f| f.paasid = "counter".into(), "paasid", "应以 yst_ 开头"),
            (|f| f.paasid = "yst_a b".into(), "paasid", "字母、数字"),
            (|f| f.paasid = String::new(), "paasid", "必填"),
            (|f| f.yst_base = "http://gateway.example.cn/ebus/yst_counter".into(), "ystBase", "必须使用 https"),
            (|f| f.license_base = "not a url".into(), "licenseBase", "不是有效的网址"),
            (|f| f.yst_base = "https://bs-test.digitalgd.com.cn/ebus/yst_…".into(), "ystBase", "PaaS ID"),
            (|f| f.vender_id = "91440300708461136A".into(), "venderId", "校验位"),
            (|f| f.department_id = "9144".into(), "departmentId", "18 位"),
            (|f| f.service_org_code = "91440300708461136A".into(), "serviceOrgCode", "校验位"),
            (|f| f.token = Secret::new("abc def"), "token", "空格"),
            (|f| f.token = Secret::default(), "token", "必填"),
            (|f| f.proxy = "ftp://proxy".into(), "proxy", "http://"),
            (|f| f.ca_file = "/nowhere/ca.pem".into(), "caFile", "不存在"),
            (|f| f.division_code = "44x".into(), "divisionCode", "行政区划代码"),
            (|f| f.counter = String::new(), "counter", "必填"),
            (|f| f.hall_phone = "电话".into(), "hallPhone", "数字"),
            (|f| f.items.clear(), "items", "至少要有一个事项"),
            (|f| f.items.push(f.items[0].clone()), "items.1.code", "重复"),
            (|f| f.items.push(ItemRow { code: "X1".into(), name: " ".into() }), "items.1.name", "必填"),
        ];
        for (spoil, field, needle) in cases {
            let mut form = gateway_form();
            spoil(&mut form);
            let errors = validate(&form, &KeptSecrets::default());
            let why = errors.get(field).unwrap_or_else(|| panic!("{field} not flagged: {errors:?}"));
            assert!(why.contains(needle), "{field}: {why:?} should say {needle}");
            assert!(!why.contains("配置项") && !why.contains("联系IT"), "{field}: {why:?} keeps its frame");
            assert_eq!(errors.len(), 1, "only {field} is wrong: {errors:?}");
        }
    }

    #[test]
    fn a_blank_secret_keeps_the_stored_one() {
        let mut form = gateway_form();
        form.token = Secret::default();
        let kept = KeptSecrets { sealed: vec![SecretName::Token], in_file: Vec::new() };
        assert!(validate(&form, &kept).is_empty());
    }

    #[test]
    fn the_sandbox_checks_only_hall_and_items() {
        let form = SetupForm { environment: SetupEnvironment::Sandbox, paasid: "bad".into(), ..SetupForm::default() };
        assert!(validate(&form, &KeptSecrets::default()).is_empty());
        let half = SetupForm { hall_code: "H1".into(), ..form };
        let errors = validate(&half, &KeptSecrets::default());
        assert_eq!(errors.keys().collect::<Vec<_>>(), ["counter", "hallName"]);
        let text = render(&SetupForm { hall_name: "测试大厅".into(), counter: "B1".into(), ..half }, None).unwrap();
        let config = Config::parse(&text).unwrap();
        assert_eq!(config.mode, Mode::Sandbox);
        assert_eq!(config.counter.unwrap().counter, "B1");
        assert!(!text.contains("[gateway]") && !text.contains("[operator]"), "{text}");
    }

    #[test]
    fn the_rendered_file_parses_to_the_form_and_holds_no_secret() {
        let form = gateway_form();
        let text = render(&form, None).unwrap();
        for secret in ["paas-token-value", "pa55word-value", "app-secret-value"] {
            assert!(!text.contains(secret), "{secret} in\n{text}");
        }
        assert!(text.contains("# 广东政务服务网关"), "{text}");
        let config = Config::parse(&text).unwrap();
        assert_eq!(config.mode, Mode::Gateway);
        let gateway = config.gateway.as_ref().unwrap();
        assert_eq!(gateway.yst_base.as_str(), "https://bs-test.digitalgd.com.cn/ebus/yst_counter");
        assert!(gateway.secrets_in_file.is_empty() && gateway.token.is_empty());
        assert_eq!(config.counter.as_ref().unwrap().counter, "B07");
        assert_eq!(config.hall_contact.phone.as_deref(), Some("020-12345678"));
        assert_eq!(config.service_items[0].name, "食品经营许可（新办）");
        let back = form_from(&[&text.parse().unwrap()]);
        assert_eq!((back.paasid.as_str(), back.environment), ("yst_counter", SetupEnvironment::Test));
        assert_eq!(back.items, form.items);
    }

    #[test]
    fn keys_the_form_does_not_know_are_kept_and_plain_secrets_leave() {
        let existing = "# IT 的说明\nmode = \"sandbox\"\n\n[printing]\nrecheck_after_minutes = 5 # 五分钟\n\n[privacy]\nlock_minutes = 0\n\n[gateway]\npaasid = \"yst_old\" # 旧的\ntoken = \"old-token\"\n";
        let text = render(&gateway_form(), Some(existing)).unwrap();
        assert!(text.starts_with("# IT 的说明"), "{text}");
        assert!(text.contains("recheck_after_minutes = 5 # 五分钟") && text.contains("lock_minutes = 0"), "{text}");
        assert!(text.contains("paasid = \"yst_counter\" # 旧的"), "{text}");
        assert!(!text.contains("old-token"), "{text}");
        let config = Config::parse(&text).unwrap();
        assert_eq!(config.printing.recheck_after, std::time::Duration::from_secs(300));
        assert_eq!(config.privacy.lock, None);
    }

    #[cfg(unix)]
    #[test]
    fn save_writes_an_owner_only_file_and_seals_the_secrets() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path());
        assert!(paths.first_run());
        std::fs::create_dir_all(paths.user_file.parent().unwrap()).unwrap();
        std::fs::write(
            &paths.user_file,
            "[printing]\nrecheck_after_minutes = 5\n[gateway]\napp_secret = \"from-file\"\n",
        )
        .unwrap();
        let mut form = gateway_form();
        form.app_secret = Secret::default();
        let saved = save(&paths, &form, &ctx(), now()).unwrap();
        assert_eq!(saved.sealed, SecretName::ALL);
        let mode = std::fs::metadata(&paths.user_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text = std::fs::read_to_string(&paths.user_file).unwrap();
        for secret in ["paas-token-value", "pa55word-value", "from-file"] {
            assert!(!text.contains(secret), "{secret} in the file");
        }
        let config = Config::load(&paths.user_file).unwrap();
        let mut settings = config.into_settings(None).unwrap();
        assert_eq!(settings.printing.recheck_after, std::time::Duration::from_secs(300));
        secrets::fill_gateway(&mut settings.gateway, &paths.open_cache().unwrap()).unwrap();
        assert_eq!(settings.gateway.token.expose(), "paas-token-value");
        assert_eq!(settings.gateway.app_secret.expose(), "from-file");

        // Opened again: the values in force, secrets blank but known to be kept.
        let state = state(&paths).unwrap();
        assert!(!state.first_run);
        assert!(state.form.token.is_empty() && SecretName::ALL.iter().all(|n| state.kept.has(*n)));
        assert_eq!(state.form.counter, "B07");
        let mut again = state.form.clone();
        again.counter = "B08".into();
        assert!(save(&paths, &again, &ctx(), now()).unwrap().sealed.is_empty());
        assert_eq!(Config::load(&paths.user_file).unwrap().counter.unwrap().counter, "B08");
    }

    #[test]
    fn a_form_with_problems_is_not_saved() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path());
        let mut form = gateway_form();
        form.paasid = "counter".into();
        let err = save(&paths, &form, &ctx(), now()).unwrap_err();
        assert_eq!(err.code, ErrorCode::ConfigInvalid);
        assert!(err.message.contains("paasid"), "{}", err.message);
        assert!(!paths.user_file.exists() && !paths.data_dir.join(GATEWAY_DATABASE).exists());
    }

    #[test]
    fn the_unsaved_form_tests_with_its_own_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let config = config_for_test(&paths(dir.path()), &gateway_form(), &KeptSecrets::default()).unwrap();
        let gateway = config.gateway.as_ref().unwrap();
        assert_eq!(gateway.token.expose(), "paas-token-value");
        assert!(gateway.secrets_in_file.is_empty());
        assert!(!paths(dir.path()).user_file.exists(), "testing writes nothing");
    }

    #[test]
    fn a_broken_file_still_fills_the_form() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path());
        std::fs::create_dir_all(paths.user_file.parent().unwrap()).unwrap();
        std::fs::write(
            &paths.user_file,
            "mode = \"gateway\"\n[gateway]\nenvironment = \"production\"\npaasid = \"yst_x\"\n",
        )
        .unwrap();
        let state = state(&paths).unwrap();
        assert_eq!(state.form.environment, SetupEnvironment::Production);
        assert_eq!(state.form.paasid, "yst_x");
        assert_eq!(state.form.license_base, "https://zwms3.gdbs.gov.cn/ebus/dzzz_convergence-service");
    }
}
