//! The doctor (`yueshang doctor`, the window's IT screen, the setup screen's 测试连接): every check
//! a counter needs before a scan — configuration, network, gateway, this PC — each with its status,
//! a figure and a fix in Chinese, streamed as it finishes.
//!
//! The checks run in the order of [`CHECK_IDS`]. A network step that cannot be tried because an
//! earlier one failed is still reported, failing "未检查：…", so the list is always complete and
//! a broken network never makes the doctor hang: every step is bounded by the connect timeout
//! and the gateway's request timeout (at most 17 s).

mod gateway;
mod machine;
mod network;

use crate::cache::Cache;
use crate::clock::{Clock, NonceSource};
use crate::config::{Config, Mode, Settings};
use crate::error::Result;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Every check's id, in the order they run and are reported.
pub const CHECK_IDS: [&str; 13] = [
    "config",
    "dns",
    "tcp",
    "tls",
    "clock",
    "signature",
    "license_login",
    "data_dir",
    "disk",
    "font",
    "printers",
    "logs",
    "secrets",
];

/// Checks a counter can scan without: stamping and printing copies, and the log files.
const NOT_NEEDED_TO_SCAN: [&str; 3] = ["font", "printers", "logs"];

/// One finished check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Stable: one of [`CHECK_IDS`].
    pub id: &'static str,
    /// For people, e.g. "时钟偏差".
    pub title: &'static str,
    pub ok: bool,
    /// Passed, but IT should look (secrets in the file, no printer, a certificate close to expiry).
    pub warn: bool,
    /// What was measured or found, e.g. "本机比网关慢 3 秒".
    pub figure: String,
    /// What to do, for a failing or warning check.
    pub fix: Option<String>,
    /// How long the check took, for the checks that go over the network or the disk.
    pub millis: Option<u64>,
}

impl Check {
    fn new(id: &'static str, ok: bool, figure: impl Into<String>) -> Check {
        Check { id, title: title_of(id), ok, warn: false, figure: figure.into(), fix: None, millis: None }
    }

    pub(crate) fn pass(id: &'static str, figure: impl Into<String>) -> Check {
        Check::new(id, true, figure)
    }

    pub(crate) fn warning(id: &'static str, figure: impl Into<String>, fix: impl Into<String>) -> Check {
        Check { warn: true, fix: Some(fix.into()), ..Check::new(id, true, figure) }
    }

    pub(crate) fn fail(id: &'static str, figure: impl Into<String>, fix: impl Into<String>) -> Check {
        Check { fix: Some(fix.into()), ..Check::new(id, false, figure) }
    }

    /// A step that was not tried because an earlier one failed: failing, and saying which.
    pub(crate) fn not_tried(id: &'static str, because: &str) -> Check {
        Check::fail(id, format!("未检查：{because}"), "先解决上面失败的检查项，再重新检查。")
    }

    pub(crate) fn timed(mut self, started: Instant) -> Check {
        self.millis = Some(started.elapsed().as_millis() as u64);
        self
    }

    /// Whether a scan depends on this check.
    pub fn needed_to_scan(&self) -> bool {
        !NOT_NEEDED_TO_SCAN.contains(&self.id)
    }
}

fn title_of(id: &str) -> &'static str {
    match id {
        "config" => "配置文件",
        "dns" => "域名解析",
        "tcp" => "网络连通",
        "tls" => "TLS 证书",
        "clock" => "时钟偏差",
        "signature" => "网关签名",
        "license_login" => "电子证照登录",
        "data_dir" => "数据目录",
        "disk" => "磁盘空间",
        "font" => "中文字体",
        "printers" => "打印机",
        "logs" => "日志目录",
        "secrets" => "凭据存放",
        _ => "其他",
    }
}

/// Every check, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    /// Everything a scan needs passed (warnings allowed): the CLI's exit status 0.
    pub fn ready_to_scan(&self) -> bool {
        self.checks.iter().filter(|c| c.needed_to_scan()).all(|c| c.ok)
    }

    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
}

/// What the doctor examines: the counter as it would start.
pub struct DoctorInput {
    /// The configuration file in use, if any (shown in the figure).
    pub config_file: Option<PathBuf>,
    /// The parsed file, `None` without one (the built-in sandbox), or why it could not be read.
    pub config: Result<Option<Config>>,
    /// The running sandbox gateway's settings when the counter is in sandbox mode (no file, or
    /// `mode = "sandbox"`); tests also hand complete settings here (a TLS terminator, a proxy).
    pub sandbox: Option<Settings>,
    /// The counter's database in gateway mode, where the sealed credentials are (or why it did not
    /// open); `None` in sandbox mode, whose credentials are built in.
    pub cache: Option<Result<Arc<Cache>>>,
    pub data_dir: PathBuf,
    pub log_dir: PathBuf,
    pub clock: Arc<dyn Clock>,
    pub nonces: Arc<dyn NonceSource>,
}

/// The counter the checks look at, once the configuration is read.
pub(crate) struct Counter {
    pub(crate) settings: Settings,
    pub(crate) mode: Mode,
    /// Why the gateway credentials are incomplete (gateway mode), if they are.
    pub(crate) secrets_missing: Option<String>,
}

/// Runs every check in order, calling `on_check` as each one finishes.
pub async fn run(input: DoctorInput, mut on_check: impl FnMut(&Check)) -> Report {
    let mut checks = Vec::with_capacity(CHECK_IDS.len());
    let mut emit = |check: Check| {
        on_check(&check);
        checks.push(check);
    };
    let (config_check, counter) = read_configuration(&input);
    emit(config_check);
    match &counter {
        Some(counter) => network::run(counter, &input, &mut emit).await,
        None => {
            for id in &CHECK_IDS[1..7] {
                emit(Check::not_tried(id, "配置无效"));
            }
        }
    }
    let printing = counter.as_ref().map(|c| c.settings.printing.clone()).unwrap_or_default();
    machine::run(&input, counter.as_ref(), &printing, &mut emit).await;
    Report { checks }
}

/// The `config` check, and the counter's settings when the configuration is usable.
fn read_configuration(input: &DoctorInput) -> (Check, Option<Counter>) {
    let file = input.config_file.as_ref().map(|p| p.display().to_string());
    let started = Instant::now();
    let config = match &input.config {
        Err(e) => return (Check::fail("config", e.message.clone(), config_fix(file.as_deref())), None),
        Ok(config) => config.clone(),
    };
    let resolved = match (config, input.sandbox.clone()) {
        (None, Some(sandbox)) => Ok((sandbox, Mode::Sandbox)),
        (None, None) => Err(crate::Error::config("mode", "没有配置文件，也没有启动沙箱网关")),
        (Some(config), sandbox) => {
            let mode = config.mode;
            config.into_settings(sandbox).map(|s| (s, mode))
        }
    };
    let (mut settings, mode) = match resolved {
        Ok(resolved) => resolved,
        Err(e) => return (Check::fail("config", e.message, config_fix(file.as_deref())), None),
    };
    let secrets_missing = match (mode, &input.cache) {
        (Mode::Sandbox, _) => None,
        (Mode::Gateway, Some(Ok(cache))) => {
            crate::secrets::fill_gateway(&mut settings.gateway, cache).err().map(|e| e.message)
        }
        (Mode::Gateway, Some(Err(e))) => Some(e.message.clone()),
        (Mode::Gateway, None) => Some("没有打开本机数据库，无法取出密文保存的网关凭据".to_owned()),
    };
    let figure = match (mode, file) {
        (Mode::Sandbox, None) => "没有配置文件：使用内置沙箱网关（示例数据）".to_owned(),
        (Mode::Sandbox, Some(f)) => format!("{f}：沙箱模式"),
        (Mode::Gateway, f) => format!(
            "{}：{} 环境，网关 {}",
            f.unwrap_or_else(|| "配置".to_owned()),
            settings.gateway.environment.as_str(),
            network::origin(&settings.gateway.yst_base)
        ),
    };
    (Check::pass("config", figure).timed(started), Some(Counter { settings, mode, secrets_missing }))
}

fn config_fix(file: Option<&str>) -> String {
    match file {
        Some(f) => format!("按提示改正配置文件 {f}（配置项说明见 config.example.toml），然后重新检查。"),
        None => "用 --config 指定配置文件，或不带配置文件运行内置沙箱。".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_exist_for_every_id_and_scan_needs_exclude_printing() {
        for id in CHECK_IDS {
            assert_ne!(title_of(id), "其他", "{id}");
        }
        let report = Report {
            checks: vec![
                Check::pass("config", "x"),
                Check::fail("font", "没有中文字体", "安装"),
                Check::warning("secrets", "在文件里", "移入"),
            ],
        };
        assert!(report.ready_to_scan());
        let broken = Report { checks: vec![Check::not_tried("tls", "TCP 连接失败")] };
        assert!(!broken.ready_to_scan());
        assert!(broken.checks[0].figure.starts_with("未检查"));
    }
}
