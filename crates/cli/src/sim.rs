//! `yueshang sim`: run the sandbox gateway, list its sample enterprises, issue a fresh 粤商码.

use crate::output::{self, say};
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use url::Url;
use yueshang_core::{Error, ErrorCode};
use yueshang_gateway_sim::{Fault, SandboxGateway, SimOptions};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct SimArgs {
    #[command(subcommand)]
    command: Option<SimCommand>,
    /// Address to listen on; loopback only.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Delay added to every gateway answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// A fault to inject, `[ROUTE:]KIND[=VALUE][*COUNT]`, e.g. `archive:status=500*2`; repeatable.
    #[arg(long = "fault", value_parser = parse_fault)]
    faults: Vec<Fault>,
}

#[derive(Debug, Subcommand)]
enum SimCommand {
    /// List the sample enterprises of a running sandbox.
    Enterprises {
        #[arg(long)]
        sim: Url,
        #[arg(long)]
        json: bool,
    },
    /// Issue a fresh 粤商码 for a sample enterprise (valid 120 s, single use).
    IssueCode {
        #[arg(long)]
        sim: Url,
        /// The enterprise's USCC.
        #[arg(long)]
        enterprise: String,
        /// Also write the code's QR image (PNG) here.
        #[arg(long)]
        png: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

fn parse_fault(text: &str) -> Result<Fault, String> {
    text.parse()
}

pub(crate) async fn run(args: SimArgs) -> ExitCode {
    match args.command {
        None => serve(args.addr, args.latency_ms, args.faults).await,
        Some(SimCommand::Enterprises { sim, json }) => {
            enterprises(&sim, json).await.unwrap_or_else(|e| output::fail(&e, json))
        }
        Some(SimCommand::IssueCode { sim, enterprise, png, json }) => {
            issue_code(&sim, &enterprise, png, json).await.unwrap_or_else(|e| output::fail(&e, json))
        }
    }
}

async fn serve(addr: SocketAddr, latency_ms: u64, faults: Vec<Fault>) -> ExitCode {
    if !addr.ip().is_loopback() {
        return output::fail(
            &Error::config("--addr", "只能是本机回环地址（127.0.0.1 或 ::1）：沙箱网关不对外提供服务"),
            false,
        );
    }
    let options = SimOptions { latency: Duration::from_millis(latency_ms), faults, ..SimOptions::default() };
    let gateway = match SandboxGateway::start(addr, options).await {
        Ok(g) => g,
        Err(e) => {
            let err = Error::with_fact(ErrorCode::ConfigInvalid, format!("沙箱网关无法监听 {addr}（{e}）。"));
            return output::fail(&err, false);
        }
    };
    let url = gateway.base_url().as_str().trim_end_matches('/').to_owned();
    // The first line is the contract with scripts and tests: they read the address from it.
    // Written without panicking: a script may close the pipe once it has read the address.
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "listening on {url}").and_then(|_| stdout.flush());
    eprintln!("沙箱网关已启动：样例企业见 {url}/sim/enterprises，按 Ctrl-C 停止。");
    wait_for_stop().await;
    gateway.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn sim_unreachable(sim: &Url, e: &reqwest::Error) -> Error {
    let kind = if e.is_connect() {
        "连接被拒绝"
    } else if e.is_timeout() {
        "超时"
    } else {
        "请求失败"
    };
    Error::with_fact(
        ErrorCode::GatewayUnavailable,
        format!("连不上沙箱网关 {sim}（{kind}），请确认 `yueshang sim` 正在运行。"),
    )
}

fn sim_url(sim: &Url, path: &str) -> Result<Url, Error> {
    sim.join(path).map_err(|e| Error::config("--sim", format!("不是有效的网址（{e}）")))
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default()
}

#[derive(Deserialize, Serialize)]
struct EnterpriseDto {
    name: String,
    uscc: String,
    note: String,
}

async fn enterprises(sim: &Url, json: bool) -> Result<ExitCode, Error> {
    let url = sim_url(sim, "/sim/enterprises")?;
    let response = http().get(url).send().await.map_err(|e| sim_unreachable(sim, &e))?;
    let list: Vec<EnterpriseDto> = response
        .error_for_status()
        .map_err(|e| sim_unreachable(sim, &e))?
        .json()
        .await
        .map_err(|e| Error::bad_response(format!("sim enterprises: {e}")))?;
    if json {
        output::print_json(&list);
    } else {
        for e in &list {
            say!("{}  {}  {}", e.uscc, e.name, e.note);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Deserialize)]
struct IssuedDto {
    payload: String,
    expires_at: String,
}

#[derive(Serialize)]
struct IssuedOut<'a> {
    payload: &'a str,
    expires_at: &'a str,
}

async fn issue_code(sim: &Url, uscc: &str, png: Option<PathBuf>, json: bool) -> Result<ExitCode, Error> {
    let url = sim_url(sim, "/sim/codes")?;
    let response = http()
        .post(url)
        .json(&serde_json::json!({ "uscc": uscc.trim() }))
        .send()
        .await
        .map_err(|e| sim_unreachable(sim, &e))?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Err(Error::with_fact(
            ErrorCode::ConfigInvalid,
            format!("沙箱中没有统一社会信用代码为 {uscc} 的企业，请用 `yueshang sim enterprises` 查看。"),
        ));
    }
    let issued: IssuedDto = response
        .error_for_status()
        .map_err(|e| sim_unreachable(sim, &e))?
        .json()
        .await
        .map_err(|e| Error::bad_response(format!("sim codes: {e}")))?;
    if let Some(path) = &png {
        std::fs::write(path, yueshang_gateway_sim::qr_png(&issued.payload))
            .map_err(|e| Error::with_fact(ErrorCode::StorageFailed, format!("无法写入 {}（{e}）。", path.display())))?;
    }
    if json {
        output::print_json(&IssuedOut { payload: &issued.payload, expires_at: &issued.expires_at });
    } else {
        say!("{}", issued.payload);
        say!("有效至 {}", issued.expires_at);
        if let Some(path) = &png {
            say!("二维码 {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
