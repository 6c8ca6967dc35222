//! The `yueshang` command: thin wiring from arguments to the core and the sandbox gateway.

mod accounts;
mod audit;
mod audit_db;
mod config_cmd;
mod copy;
mod doctor;
mod forms;
mod hall;
mod lookup;
mod output;
mod record;
mod scan;
mod sim;
mod storage;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// 粤商码免证办柜台 — headless commands for IT, supervisors and tests.
#[derive(Debug, Parser)]
#[command(name = "yueshang", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the sandbox gateway, or talk to a running one (`enterprises`, `issue-code`).
    Sim(sim::SimArgs),
    /// Scan a 粤商码: exchange it, fetch and cache every authorized license.
    Scan(scan::ScanArgs),
    /// Look up an enterprise's licenses by its USCC (依职能用证) on a legal ground; prints as `scan`.
    Lookup(lookup::LookupArgs),
    /// List what the local cache holds.
    Licenses(scan::LicensesArgs),
    /// Stamp a cached license into a copy for one case (用证副本), re-checking its status first.
    Stamp(copy::StampArgs),
    /// The audit trail: where a stamped copy came from (`find-copy`).
    Audit(copy::AuditArgs),
    /// Submit the handling record (申办) of a scanned case; kept in the outbox if the gateway cannot take it now.
    Submit(record::SubmitArgs),
    /// List the handling records waiting to be sent (and send them now with --send).
    Outbox(record::OutboxArgs),
    /// The counter's accounts (sign-in and roles): add, list, disable, enable, passwd.
    Accounts(accounts::AccountsArgs),
    /// The sealed cache: erase licenses past their retention now (`purge`), wipe it after a lost key (`reset`), where its key is (`key`).
    Cache(storage::CacheArgs),
    /// Gateway credentials kept sealed on this PC: set, list, import from a configuration file.
    Secrets(storage::SecretsArgs),
    /// Fill the onboarding kit: the four application forms of the access guide and a checklist, one XLSX each.
    Forms(forms::FormsArgs),
    /// Check configuration, network, gateway (clock, signature, e-license login) and this PC; exit 0 when ready to scan.
    Doctor(doctor::DoctorArgs),
    /// The configuration in force: machine-wide and user files merged, each key with its file (`show`).
    Config(config_cmd::ConfigArgs),
    /// The whole hall: the hall service on PostgreSQL (serve, enroll, report, export) and shipping this counter to it (ship).
    Hall(hall::HallArgs),
}

/// Where the cache lives: `--data-dir`, else `YUESHANG_DATA_DIR`, else the platform's data folder.
fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("YUESHANG_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("无法启动运行时：{e}");
            return ExitCode::from(70);
        }
    };
    runtime.block_on(async {
        match cli.command {
            Command::Sim(args) => sim::run(args).await,
            Command::Scan(args) => scan::run(args).await,
            Command::Lookup(args) => lookup::run(args).await,
            Command::Licenses(args) => scan::licenses(args),
            Command::Stamp(args) => copy::stamp(args).await,
            Command::Audit(args) => copy::audit(args),
            Command::Submit(args) => record::submit(args).await,
            Command::Outbox(args) => record::outbox(args).await,
            Command::Accounts(args) => accounts::run(args),
            Command::Cache(args) => storage::cache(args),
            Command::Secrets(args) => storage::secrets(args),
            Command::Forms(args) => forms::run(args),
            Command::Doctor(args) => doctor::run(args).await,
            Command::Config(args) => config_cmd::run(args),
            Command::Hall(args) => hall::run(args).await,
        }
    })
}
