//! `yueshang hall …`: the hall service (serve, enroll, report, export, for IT on the hall server)
//! and `ship`, which sends this counter's audit chain and handling records to it now.

use crate::output::{self, say};
use crate::scan::open_counter_cache;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use yueshang_core::audit::export::Formats;
use yueshang_core::audit::key::CounterKey;
use yueshang_core::clock::{Clock, SystemClock, china_tz};
use yueshang_core::config::ConfigFiles;
use yueshang_core::shipping::{self, HallClient, Scope, client::fork_seq};
use yueshang_core::{Error, ErrorCode};
use yueshang_hall::server::{self, Tls};
use yueshang_hall::store::{POOL_SIZE, Store};
use yueshang_hall::witness::Witness;

#[derive(Debug, Args)]
pub(crate) struct HallArgs {
    #[command(subcommand)]
    command: HallCommand,
}

#[derive(Debug, Subcommand)]
enum HallCommand {
    /// Run the hall service on PostgreSQL; prints `listening on URL` first.
    Serve(ServeArgs),
    /// Enroll a counter's public key (from `yueshang audit key --pem`) so its batches are taken.
    Enroll(EnrollArgs),
    /// Send this counter's audit events and handling records to the hall service now.
    Ship(ShipArgs),
    /// The hall's day: each counter's events and acknowledged seq, the alarms.
    Report(ReportArgs),
    /// Export days of every counter (per counter: CSV/XLSX, its signed checkpoint, the hall's countersignature).
    Export(ExportArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// PostgreSQL, e.g. postgres://yueshang@127.0.0.1/yueshang_hall (also YUESHANG_HALL_DB).
    #[arg(long, env = "YUESHANG_HALL_DB")]
    db: String,
    /// Where to listen, e.g. 0.0.0.0:8443 (HTTPS needs --tls-cert and --tls-key; plain HTTP only on 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1:8443")]
    addr: SocketAddr,
    /// The hall server's certificate chain (PEM).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Its private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The hall's witness key (PKCS#8 PEM), made on first start; default: hall-witness-key.pem in the data folder.
    #[arg(long)]
    witness_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct EnrollArgs {
    #[arg(long, env = "YUESHANG_HALL_DB")]
    db: String,
    /// The counter as configured on it: HALL/COUNTER, e.g. 4401061/B07.
    #[arg(long)]
    counter: String,
    /// The counter's public key file (PEM).
    #[arg(long)]
    key: PathBuf,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ShipArgs {
    /// The counter's configuration (its [hall] and [hall_service]); also YUESHANG_CONFIG.
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ReportArgs {
    #[arg(long, env = "YUESHANG_HALL_DB")]
    db: String,
    /// The China date, YYYY-MM-DD (default: today).
    #[arg(long)]
    date: Option<NaiveDate>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ExportArgs {
    #[arg(long, env = "YUESHANG_HALL_DB")]
    db: String,
    /// One China day, YYYY-MM-DD.
    #[arg(long, conflicts_with_all = ["from", "to"], required_unless_present = "from")]
    date: Option<NaiveDate>,
    #[arg(long, requires = "to")]
    from: Option<NaiveDate>,
    #[arg(long, requires = "from")]
    to: Option<NaiveDate>,
    /// Only this counter (its name, e.g. B07).
    #[arg(long)]
    counter: Option<String>,
    #[arg(long)]
    out_dir: PathBuf,
    /// csv, xlsx or both.
    #[arg(long, default_value = "both")]
    format: String,
    #[arg(long)]
    json: bool,
}

pub(crate) async fn run(args: HallArgs) -> ExitCode {
    match args.command {
        HallCommand::Serve(args) => serve(args).await,
        HallCommand::Enroll(args) => {
            let json = args.json;
            finish(enroll(args).await, json)
        }
        HallCommand::Ship(args) => ship(args).await,
        HallCommand::Report(args) => {
            let json = args.json;
            match report(args).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => output::fail(&err, json),
            }
        }
        HallCommand::Export(args) => {
            let json = args.json;
            finish(export(args).await, json)
        }
    }
}

fn finish(result: Result<(), Error>, json: bool) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => output::fail(&err, json),
    }
}

async fn serve(args: ServeArgs) -> ExitCode {
    let bound = async {
        let store = Store::open(&args.db, POOL_SIZE).await?;
        let key_path = match args.witness_key {
            Some(path) => path,
            None => yueshang_core::config::data_dir(None)?.join("hall-witness-key.pem"),
        };
        let witness = Witness::load_or_create(&key_path)?;
        let tls = args.tls_cert.zip(args.tls_key).map(|(cert, key)| Tls { cert, key });
        server::bind(store, witness, Arc::new(SystemClock), args.addr, tls).await
    };
    match bound.await {
        Ok(bound) => {
            // The first line is what scripts and IT wait for.
            say!("listening on {}", bound.url);
            match bound.run().await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("大厅服务停止：{e}");
                    ExitCode::from(output::EXIT_FAILED)
                }
            }
        }
        Err(err) => output::fail(&err, false),
    }
}

#[derive(Serialize)]
struct EnrolledDto<'a> {
    hall: &'a str,
    counter: &'a str,
    key: &'a str,
}

async fn enroll(args: EnrollArgs) -> Result<(), Error> {
    let (hall, counter) = args.counter.split_once('/').ok_or_else(|| {
        Error::with_fact(ErrorCode::ConfigInvalid, "--counter 应写成 大厅编码/窗口号，例如 4401061/B07。")
    })?;
    let pem = std::fs::read_to_string(&args.key).map_err(|e| {
        Error::with_fact(ErrorCode::ConfigInvalid, format!("无法读取公钥文件 {}。", args.key.display()))
            .detail(e.to_string())
    })?;
    let store = Store::open(&args.db, 2).await?;
    let enrolled = store.enroll(hall, counter, &pem).await?;
    if args.json {
        output::print_json(&EnrolledDto {
            hall: &enrolled.hall,
            counter: &enrolled.counter,
            key: &enrolled.key_fingerprint,
        });
    } else {
        say!("已登记 {}，密钥指纹 {}", enrolled.counter_ref, enrolled.key_fingerprint);
    }
    Ok(())
}

#[derive(Serialize)]
struct ShippedDto {
    shipped: u64,
    acked_seq: i64,
    records: u64,
    behind: i64,
}

/// A refused fork: the usual error envelope plus the seq the hall named.
#[derive(Serialize)]
struct ForkDto<'a> {
    code: &'a str,
    message: &'a str,
    seq: i64,
}

#[derive(Serialize)]
struct ForkEnvelope<'a> {
    error: ForkDto<'a>,
}

async fn ship(args: ShipArgs) -> ExitCode {
    let json = args.json;
    match ship_now(args).await {
        Ok(report) => {
            if json {
                output::print_json(&ShippedDto {
                    shipped: report.shipped,
                    acked_seq: report.acked_seq,
                    records: report.records,
                    behind: report.behind,
                });
            } else {
                say!(
                    "已上传 {} 条审计记录、{} 条申办；大厅已确认到第 {} 条。",
                    report.shipped,
                    report.records,
                    report.acked_seq
                );
            }
            ExitCode::SUCCESS
        }
        Err(err) => match fork_seq(&err) {
            Some(seq) if json => {
                output::print_json(&ForkEnvelope {
                    error: ForkDto { code: err.code.as_str(), message: &err.message, seq },
                });
                ExitCode::from(output::EXIT_FAILED)
            }
            _ => output::fail(&err, json),
        },
    }
}

async fn ship_now(args: ShipArgs) -> Result<shipping::ShipReport, Error> {
    let loaded = ConfigFiles::find(args.config.clone())
        .load()?
        .ok_or_else(|| Error::config("hall_service", "缺失：没有找到配置文件（用 --config 指定）"))?;
    let hall_service = loaded
        .config
        .hall_service
        .clone()
        .ok_or_else(|| Error::config("hall_service", "缺失：配置中没有 [hall_service] url"))?;
    let counter = loaded
        .config
        .counter
        .clone()
        .ok_or_else(|| Error::config("hall", "缺失（上传需要本窗口的大厅编码和窗口号）"))?;
    let cache = open_counter_cache(args.config.as_deref(), args.data_dir)?;
    let key = CounterKey::load_or_create(&cache)?;
    let client = HallClient::new(&hall_service)?;
    let scope = Scope { hall: counter.hall_code, counter: counter.counter };
    shipping::ship(&cache, &key, &client, &scope, SystemClock.now_china()).await
}

async fn report(args: ReportArgs) -> Result<(), Error> {
    let date = args.date.unwrap_or_else(|| SystemClock.now().with_timezone(&china_tz()).date_naive());
    let store = Store::open(&args.db, 4).await?;
    let day = yueshang_hall::report::day(&store, date).await.map_err(Error::from)?;
    if args.json {
        output::print_json(&day);
        return Ok(());
    }
    say!("{date} 全厅：{} 条审计记录，{} 位办事人，{} 次扫码", day.events, day.customers, day.scans);
    for c in &day.counters {
        let gaps = if c.gaps > 0 { format!("，缺口 {}", c.gaps) } else { String::new() };
        say!("  {}/{}  当日 {} 条，已确认到第 {} 条{gaps}", c.hall, c.counter, c.events, c.acked_seq);
    }
    for alarm in &day.alarms {
        say!("告警  {}（{} 次，最近 {}）", alarm.message, alarm.attempts, alarm.last_at);
    }
    Ok(())
}

#[derive(Serialize)]
struct ExportedDto {
    hall: String,
    counter: String,
    date: String,
    stem: String,
    events: u64,
    first_seq: i64,
    last_seq: i64,
    files: Vec<String>,
}

async fn export(args: ExportArgs) -> Result<(), Error> {
    let (from, to) = match (args.date, args.from, args.to) {
        (Some(day), _, _) => (day, day),
        (None, Some(from), Some(to)) => (from, to),
        _ => return Err(Error::with_fact(ErrorCode::ConfigInvalid, "请用 --date，或同时给出 --from 和 --to。")),
    };
    let formats = Formats::parse(&args.format)?;
    let store = Store::open(&args.db, 2).await?;
    let written =
        yueshang_hall::export::export_days(&store, (from, to), args.counter.as_deref(), formats, &args.out_dir).await?;
    if args.json {
        let sets: Vec<ExportedDto> = written
            .into_iter()
            .map(|c| ExportedDto {
                hall: c.hall,
                counter: c.counter,
                date: c.date.to_string(),
                stem: c.stem,
                events: c.events,
                first_seq: c.first_seq,
                last_seq: c.last_seq,
                files: c.files.iter().map(|f| f.display().to_string()).collect(),
            })
            .collect();
        output::print_json(&serde_json::json!({ "counters": sets }));
    } else if written.is_empty() {
        say!("这些日期没有任何窗口的记录。");
    } else {
        for c in &written {
            say!(
                "{} {}/{}：{} 条（第 {}–{} 条）→ {}",
                c.date,
                c.hall,
                c.counter,
                c.events,
                c.first_seq,
                c.last_seq,
                c.stem
            );
        }
    }
    Ok(())
}
