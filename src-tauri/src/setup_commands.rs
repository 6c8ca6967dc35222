//! The setup screen's commands (first run, a broken configuration, or the supervisor's settings):
//! the form, its checks, 测试连接 and the doctor with "setup-check"/"doctor-check" events, 保存,
//! restart, the onboarding forms. They work whether the counter started or not: the paths come
//! from the launch, not from a running counter.

use crate::dto::AppError;
use crate::launch::{AppState, Launch};
use crate::setup_dto::{CheckDto, DoctorReportDto, FormsDto, SaveSetupDto, SetupFormDto, SetupStateDto, ValidationDto};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tauri::{AppHandle, Emitter, Manager};
use yueshang_core::audit::AuditContext;
use yueshang_core::clock::{Clock, RandomNonces, SystemClock};
use yueshang_core::config::{self, Config, ConfigFiles, Mode, Settings};
use yueshang_core::doctor::{self, DoctorInput};
use yueshang_core::setup::{self, SetupEnvironment, SetupForm, SetupPaths};
use yueshang_core::{Error, ErrorCode};
use yueshang_gateway_sim::{SandboxGateway, SimOptions, sandbox_settings};

type Answer<T> = Result<T, AppError>;

/// The events that carry each finished check to the window.
const SETUP_CHECK: &str = "setup-check";
const DOCTOR_CHECK: &str = "doctor-check";
const MAIN_WINDOW: &str = "main";

#[tauri::command]
pub(crate) async fn setup_state(app: AppHandle) -> Answer<SetupStateDto> {
    may_configure(&app)?;
    let paths = launch_paths(&app)?;
    let (state, paths) = blocking(move || setup::state(&paths).map(|s| (s, paths))).await?;
    Ok(SetupStateDto::new(&state, &paths.user_file, paths.machine_file.as_deref()))
}

/// Checks every field as typed; no file is touched.
#[tauri::command]
pub(crate) async fn validate_setup(app: AppHandle, form: SetupFormDto) -> Answer<ValidationDto> {
    may_configure(&app)?;
    let form = form.into_form()?;
    let paths = launch_paths(&app)?;
    let errors = blocking(move || Ok(setup::validate(&form, &setup::state(&paths)?.kept))).await?;
    Ok(ValidationDto { errors })
}

/// 测试连接: the doctor on the unsaved form, each check sent as "setup-check" as it finishes.
#[tauri::command]
pub(crate) async fn test_setup(app: AppHandle, form: SetupFormDto) -> Answer<DoctorReportDto> {
    may_configure(&app)?;
    let form = form.into_form()?;
    let paths = launch_paths(&app)?;
    let sandboxed = form.environment == SetupEnvironment::Sandbox;
    let (config, paths) = blocking(move || {
        let kept = setup::state(&paths)?.kept;
        Ok((setup::config_for_test(&paths, &form, &kept).map(Some), paths))
    })
    .await?;
    let report = examine(&app, SETUP_CHECK, &paths, Some(paths.user_file.clone()), config, sandboxed).await?;
    Ok(DoctorReportDto::from(&report))
}

/// The doctor on the configuration in force, each check sent as "doctor-check".
#[tauri::command]
pub(crate) async fn run_doctor(app: AppHandle) -> Answer<DoctorReportDto> {
    may_configure(&app)?;
    let paths = launch_paths(&app)?;
    let files = files_in_force(&app);
    let config = files.load().map(|loaded| loaded.map(|l| l.config));
    let sandboxed = matches!(&config, Ok(None) | Ok(Some(Config { mode: Mode::Sandbox, .. })));
    let shown = files.user.clone().or_else(|| files.machine.clone());
    let report = examine(&app, DOCTOR_CHECK, &paths, shown, config, sandboxed).await?;
    Ok(DoctorReportDto::from(&report))
}

/// 保存: the file (0600) and the secrets (sealed store). The new configuration takes effect at
/// the next start (`restart_app`).
#[tauri::command]
pub(crate) async fn save_setup(app: AppHandle, form: SetupFormDto) -> Answer<SaveSetupDto> {
    may_configure(&app)?;
    let form = form.into_form()?;
    let paths = launch_paths(&app)?;
    let (ctx, now) = who_and_when(&app, &form);
    let saved = blocking(move || setup::save(&paths, &form, &ctx, now)).await?;
    tracing::info!(path = %saved.path.display(), sealed = saved.sealed.len(), "setup saved the configuration");
    Ok(SaveSetupDto::from(&saved))
}

#[tauri::command]
pub(crate) fn restart_app(app: AppHandle) {
    tracing::info!("restarting for the new configuration");
    app.restart()
}

/// The onboarding kit for the configuration in force, written into `dir`.
#[tauri::command]
pub(crate) async fn write_forms(app: AppHandle, dir: Option<String>) -> Answer<FormsDto> {
    may_configure(&app)?;
    let dir = dir.map(|d| PathBuf::from(d.trim())).filter(|d| !d.as_os_str().is_empty());
    let dir = dir.ok_or_else(|| Error::with_fact(ErrorCode::SaveFailed, "没有选择保存申请表的文件夹。"))?;
    let files = files_in_force(&app);
    let written = blocking(move || {
        let config = match files.load()? {
            Some(loaded) => loaded.config,
            None => Config::parse("")?,
        };
        yueshang_core::forms::write_kit_for(&config, &dir)
    })
    .await?;
    Ok(FormsDto::from(written.as_slice()))
}

/// Runs the doctor, sending each check to the window as `event`. The sandbox's settings come from
/// the running counter's sandbox, else from one started for the checks.
async fn examine(
    app: &AppHandle,
    event: &'static str,
    paths: &SetupPaths,
    config_file: Option<PathBuf>,
    config: Result<Option<Config>, Error>,
    sandboxed: bool,
) -> Result<doctor::Report, Error> {
    let (sandbox, own_sandbox) = match sandboxed {
        false => (None, None),
        true => match running_sandbox(app) {
            Some(settings) => (Some(settings), None),
            None => {
                let started = start_sandbox().await?;
                (Some(sandbox_settings(&started.base_url())), Some(started))
            }
        },
    };
    let cache = match sandboxed {
        true => None,
        false => {
            let paths = paths.clone();
            Some(blocking(move || Ok(paths.open_cache().map(Arc::new))).await?)
        }
    };
    let input = DoctorInput {
        config_file,
        config,
        sandbox,
        cache,
        log_dir: config::log_dir(&paths.data_dir),
        data_dir: paths.data_dir.clone(),
        clock: Arc::new(SystemClock),
        nonces: Arc::new(RandomNonces),
    };
    let window = app.clone();
    let report = doctor::run(input, move |check| {
        if let Err(e) = window.emit_to(MAIN_WINDOW, event, CheckDto::from(check)) {
            tracing::warn!(error = %e, "could not send a check to the window");
        }
    })
    .await;
    if let Some(sandbox) = own_sandbox {
        sandbox.shutdown().await;
    }
    Ok(report)
}

fn running_sandbox(app: &AppHandle) -> Option<Settings> {
    let state = app.state::<AppState>();
    let counter = state.counter().ok()?;
    counter.sandbox.as_ref().map(|s| sandbox_settings(&s.base_url()))
}

async fn start_sandbox() -> Result<SandboxGateway, Error> {
    SandboxGateway::start(([127, 0, 0, 1], 0).into(), SimOptions::default())
        .await
        .map_err(|e| Error::with_fact(ErrorCode::GatewayUnavailable, "内置沙箱网关无法启动。").detail(e.to_string()))
}

/// On a configured counter with accounts only a signed-in supervisor changes the configuration;
/// a counter in sandbox mode, one without accounts, or one that did not start is IT's to set up.
fn may_configure(app: &AppHandle) -> Result<(), Error> {
    let state = app.state::<AppState>();
    match state.inner() {
        AppState::Ready(counter) if counter.mode == Mode::Gateway && counter.desk.accounts().required()? => {
            counter.desk.accounts().supervisor().map(|_| ())
        }
        _ => Ok(()),
    }
}

/// Who the secret changes are audited as: the signed-in person on a running counter, else the
/// form's operator at the form's counter (the first setup has nobody signed in).
fn who_and_when(app: &AppHandle, form: &SetupForm) -> (AuditContext, chrono::DateTime<chrono::FixedOffset>) {
    let state = app.state::<AppState>();
    match state.counter() {
        Ok(counter) => {
            let station = counter.desk.station();
            (station.audit_context(), station.clock().now_china())
        }
        Err(_) => {
            let operator = form.operator_account.trim();
            let ctx = AuditContext {
                operator_account: if operator.is_empty() { "setup".to_owned() } else { operator.to_owned() },
                hall_code: form.hall_code.trim().to_owned(),
                counter: form.counter.trim().to_owned(),
            };
            (ctx, SystemClock.now_china())
        }
    }
}

/// The configuration files this launch reads (none with `--sandbox`).
fn files_in_force(app: &AppHandle) -> ConfigFiles {
    app.state::<Launch>().config_files()
}

/// Where setup writes: from the launch's `--config`/`--data-dir` (else the environment and the
/// platform's folders), the same rules the start used.
fn launch_paths(app: &AppHandle) -> Result<SetupPaths, Error> {
    let launch = app.state::<Launch>();
    SetupPaths::find(launch.config().map(Path::to_path_buf), config::data_dir(launch.data_dir_arg())?)
}

/// File and database work off the async runtime's threads.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, Error> + Send + 'static) -> Result<T, Error> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| Error::storage(format!("the blocking task failed: {e}")))?
}
