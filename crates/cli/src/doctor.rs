//! `yueshang doctor`: the core's checks of configuration, network, gateway and this PC, printed one
//! line each as they finish (or as JSON); exit 0 only when a scan can work.

use crate::output::{self, EXIT_FAILED, print_json, say};
use crate::scan::open_counter_cache;
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use yueshang_core::Error;
use yueshang_core::clock::{RandomNonces, SystemClock};
use yueshang_core::config::{self, Config, ConfigFiles, Mode};
use yueshang_core::doctor::{self, Check, DoctorInput};
use yueshang_gateway_sim::{SandboxGateway, SimOptions, sandbox_settings};

#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// Configuration file (TOML); also `YUESHANG_CONFIG`. Without one: the built-in sandbox.
    #[arg(long, conflicts_with = "sandbox")]
    config: Option<PathBuf>,
    /// Check against the built-in sandbox gateway, started in this process.
    #[arg(long)]
    sandbox: bool,
    /// Where the cache lives; also `YUESHANG_DATA_DIR`.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Print `{"checks":[…]}` for scripts.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct CheckDto<'a> {
    id: &'a str,
    title: &'a str,
    ok: bool,
    warn: bool,
    figure: &'a str,
    fix: Option<&'a str>,
    millis: Option<u64>,
}

#[derive(Serialize)]
struct ReportDto<'a> {
    checks: Vec<CheckDto<'a>>,
}

impl<'a> CheckDto<'a> {
    fn of(check: &'a Check) -> Self {
        CheckDto {
            id: check.id,
            title: check.title,
            ok: check.ok,
            warn: check.warn,
            figure: &check.figure,
            fix: check.fix.as_deref(),
            millis: check.millis,
        }
    }
}

pub(crate) async fn run(args: DoctorArgs) -> ExitCode {
    let data_dir = match config::data_dir(args.data_dir.clone()) {
        Ok(dir) => dir,
        Err(e) => return output::fail(&e, args.json),
    };
    let files = if args.sandbox { ConfigFiles::default() } else { ConfigFiles::find(args.config.clone()) };
    // The machine-wide file under the user's, as the app reads them; named by the user's file.
    let config_file = files.user.clone().or_else(|| files.machine.clone());
    let config = files.load().map(|loaded| loaded.map(|l| l.config));
    let sandbox_mode = args.sandbox || matches!(&config, Ok(None) | Ok(Some(Config { mode: Mode::Sandbox, .. })));
    // Kept alive until the checks are done: dropping it stops the sandbox gateway.
    let sandbox = match sandbox_mode {
        true => match SandboxGateway::start(([127, 0, 0, 1], 0).into(), SimOptions::default()).await {
            Ok(sandbox) => Some(sandbox),
            Err(e) => {
                let error = Error::with_fact(yueshang_core::ErrorCode::GatewayUnavailable, "内置沙箱网关无法启动。");
                return output::fail(&error.detail(e.to_string()), args.json);
            }
        },
        false => None,
    };
    let cache = (!sandbox_mode).then(|| open_counter_cache(files.key_home(), Some(data_dir.clone())));
    let input = DoctorInput {
        config_file,
        config,
        sandbox: sandbox.as_ref().map(|s| sandbox_settings(&s.base_url())),
        cache,
        log_dir: config::log_dir(&data_dir),
        data_dir,
        clock: Arc::new(SystemClock),
        nonces: Arc::new(RandomNonces),
    };
    let json = args.json;
    let report = doctor::run(input, |check| {
        if !json {
            print_line(check);
        }
    })
    .await;
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    if json {
        print_json(&ReportDto { checks: report.checks.iter().map(CheckDto::of).collect() });
    } else if report.ready_to_scan() {
        say!("\n可以扫码。");
    } else {
        say!("\n有必需的检查项未通过：按上面 → 后的提示处理后重新运行 yueshang doctor。");
    }
    if report.ready_to_scan() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_FAILED) }
}

/// `✔ 标题  figure (12 ms)`, with the fix indented under a warning or a failure.
fn print_line(check: &Check) {
    let mark = match (check.ok, check.warn) {
        (false, _) => '✘',
        (true, true) => '⚠',
        (true, false) => '✔',
    };
    let millis = check.millis.map(|ms| format!("（{ms} ms）")).unwrap_or_default();
    say!("{mark} {}  {}{millis}", check.title, check.figure);
    if let Some(fix) = check.fix.as_deref().filter(|_| !check.ok || check.warn) {
        say!("    → {fix}");
    }
}
