//! What the setup screen sends and receives (camelCase, /work/notes/setup-contract.md): the form,
//! its problems, the doctor's checks, what 保存 did. Secrets go in only: the form handed to the
//! window always has them blank.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use yueshang_core::doctor::{Check, Report};
use yueshang_core::forms::WrittenForm;
use yueshang_core::secret::Secret;
use yueshang_core::secrets::SecretName;
use yueshang_core::setup::{self, ItemRow, SetupEnvironment, SetupForm, SetupState};
use yueshang_core::{Error, ErrorCode};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct SetupFormDto {
    environment: String,
    yst_base: String,
    license_base: String,
    paasid: String,
    token: String,
    system_id: String,
    vender_id: String,
    department_id: String,
    account: String,
    password: String,
    app_key: String,
    app_secret: String,
    ca_file: String,
    proxy: String,
    operator_account: String,
    operator_name: String,
    division_code: String,
    service_org: String,
    service_org_code: String,
    hall_code: String,
    hall_name: String,
    counter: String,
    hall_city: String,
    hall_district: String,
    hall_address: String,
    hall_phone: String,
    items: Vec<ItemDto>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct ItemDto {
    code: String,
    name: String,
}

impl SetupFormDto {
    /// The form as the core takes it; an environment it does not know is refused.
    pub(crate) fn into_form(self) -> Result<SetupForm, Error> {
        let environment = SetupEnvironment::parse(&self.environment).ok_or_else(|| {
            Error::with_fact(
                ErrorCode::ConfigInvalid,
                format!("环境“{}”无法识别（应为 沙箱、测试环境 或 正式环境）。", self.environment),
            )
        })?;
        Ok(SetupForm {
            environment,
            yst_base: self.yst_base,
            license_base: self.license_base,
            paasid: self.paasid,
            token: Secret::new(self.token),
            system_id: self.system_id,
            vender_id: self.vender_id,
            department_id: self.department_id,
            account: self.account,
            password: Secret::new(self.password),
            app_key: self.app_key,
            app_secret: Secret::new(self.app_secret),
            ca_file: self.ca_file,
            proxy: self.proxy,
            operator_account: self.operator_account,
            operator_name: self.operator_name,
            division_code: self.division_code,
            service_org: self.service_org,
            service_org_code: self.service_org_code,
            hall_code: self.hall_code,
            hall_name: self.hall_name,
            counter: self.counter,
            hall_city: self.hall_city,
            hall_district: self.hall_district,
            hall_address: self.hall_address,
            hall_phone: self.hall_phone,
            items: self.items.into_iter().map(|i| ItemRow { code: i.code, name: i.name }).collect(),
        })
    }

    /// The form for the window: every secret blank, whatever the core holds.
    fn shown(form: &SetupForm) -> Self {
        SetupFormDto {
            environment: form.environment.as_str().to_owned(),
            yst_base: form.yst_base.clone(),
            license_base: form.license_base.clone(),
            paasid: form.paasid.clone(),
            system_id: form.system_id.clone(),
            vender_id: form.vender_id.clone(),
            department_id: form.department_id.clone(),
            account: form.account.clone(),
            app_key: form.app_key.clone(),
            ca_file: form.ca_file.clone(),
            proxy: form.proxy.clone(),
            operator_account: form.operator_account.clone(),
            operator_name: form.operator_name.clone(),
            division_code: form.division_code.clone(),
            service_org: form.service_org.clone(),
            service_org_code: form.service_org_code.clone(),
            hall_code: form.hall_code.clone(),
            hall_name: form.hall_name.clone(),
            counter: form.counter.clone(),
            hall_city: form.hall_city.clone(),
            hall_district: form.hall_district.clone(),
            hall_address: form.hall_address.clone(),
            hall_phone: form.hall_phone.clone(),
            items: form.items.iter().map(|i| ItemDto { code: i.code.clone(), name: i.name.clone() }).collect(),
            ..SetupFormDto::default()
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BasesDto {
    yst_base: String,
    license_base: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct DefaultsDto {
    test: BasesDto,
    production: BasesDto,
}

impl DefaultsDto {
    fn new() -> Self {
        let bases = |environment| {
            let b = setup::default_bases(environment, "").expect("test and production have bases");
            BasesDto { yst_base: b.yst_base, license_base: b.license_base }
        };
        DefaultsDto { test: bases(SetupEnvironment::Test), production: bases(SetupEnvironment::Production) }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SetupStateDto {
    form: SetupFormDto,
    has_token: bool,
    has_password: bool,
    has_app_secret: bool,
    user_file: String,
    machine_file: Option<String>,
    first_run: bool,
    defaults: DefaultsDto,
}

impl SetupStateDto {
    pub(crate) fn new(state: &SetupState, user_file: &Path, machine_file: Option<&Path>) -> Self {
        SetupStateDto {
            form: SetupFormDto::shown(&state.form),
            has_token: state.kept.has(SecretName::Token),
            has_password: state.kept.has(SecretName::Password),
            has_app_secret: state.kept.has(SecretName::AppSecret),
            user_file: user_file.display().to_string(),
            machine_file: machine_file.map(|p| p.display().to_string()),
            first_run: state.first_run,
            defaults: DefaultsDto::new(),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct ValidationDto {
    pub(crate) errors: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CheckDto {
    id: &'static str,
    title: &'static str,
    ok: bool,
    warn: bool,
    figure: String,
    fix: Option<String>,
    millis: Option<u64>,
}

impl From<&Check> for CheckDto {
    fn from(check: &Check) -> Self {
        CheckDto {
            id: check.id,
            title: check.title,
            ok: check.ok,
            warn: check.warn,
            figure: check.figure.clone(),
            fix: check.fix.clone(),
            millis: check.millis,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct DoctorReportDto {
    checks: Vec<CheckDto>,
    ready: bool,
}

impl From<&Report> for DoctorReportDto {
    fn from(report: &Report) -> Self {
        DoctorReportDto { checks: report.checks.iter().map(CheckDto::from).collect(), ready: report.ready_to_scan() }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SaveSetupDto {
    path: String,
    /// Names only (`gateway.token`), never values.
    secrets_sealed: Vec<&'static str>,
    restart: bool,
}

impl From<&setup::Saved> for SaveSetupDto {
    fn from(saved: &setup::Saved) -> Self {
        SaveSetupDto {
            path: saved.path.display().to_string(),
            secrets_sealed: saved.sealed.iter().map(|n| n.config_key()).collect(),
            // The configuration is read once, at start.
            restart: true,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct FormDto {
    title: String,
    path: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct FormsDto {
    forms: Vec<FormDto>,
}

impl From<&[WrittenForm]> for FormsDto {
    fn from(forms: &[WrittenForm]) -> Self {
        FormsDto {
            forms: forms
                .iter()
                .map(|f| FormDto { title: f.title.clone(), path: f.path.display().to_string() })
                .collect(),
        }
    }
}
