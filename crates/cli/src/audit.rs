//! `yueshang audit export` and `yueshang audit verify`: the daily audit export and its offline check.

use crate::output::{self, EXIT_FAILED, say};
use crate::scan::open_counter_cache;
use chrono::{NaiveDate, Utc};
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use yueshang_core::Error;
use yueshang_core::audit::AuditContext;
use yueshang_core::audit::day::{DaysExport, days_bounds, export_days};
use yueshang_core::audit::export::{ExportReport, Formats};
use yueshang_core::audit::key::CounterKey;
use yueshang_core::audit::verify::{VerifyReport, problem_row, verify_export};
use yueshang_core::cache::Cache;
use yueshang_core::clock::china_tz;
use yueshang_core::config::ConfigFiles;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Csv,
    Xlsx,
    Both,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("days").required(true).args(["date", "from", "yesterday"])))]
pub(crate) struct ExportArgs {
    /// One China day, YYYY-MM-DD.
    #[arg(long)]
    date: Option<NaiveDate>,
    /// First China day of a range, YYYY-MM-DD (with --to).
    #[arg(long, requires = "to")]
    from: Option<NaiveDate>,
    /// Last China day of a range, included.
    #[arg(long, requires = "from")]
    to: Option<NaiveDate>,
    /// Yesterday in China time (for a scheduled export).
    #[arg(long)]
    yesterday: bool,
    #[arg(long, value_enum, default_value = "both")]
    format: Format,
    #[arg(long)]
    out_dir: PathBuf,
    /// Configuration file naming the hall and counter; also `YUESHANG_CONFIG`.
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The exported .csv (with its .checkpoint, .checkpoint.sig and .pub.pem beside it) or .xlsx.
    file: PathBuf,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct ExportDto {
    events: u64,
    first_seq: Option<i64>,
    last_seq: Option<i64>,
    head: Option<String>,
    files: Vec<String>,
}

#[derive(Serialize)]
struct VerifyDto<'a> {
    intact: bool,
    events: u64,
    first_seq: i64,
    last_seq: i64,
    head: &'a str,
}

/// `{"error":{"code","message","row"}}`: `row` is the CSV line or the 明细 row of the first problem.
#[derive(Serialize)]
struct VerifyErrorDto<'a> {
    code: &'a str,
    message: &'a str,
    row: Option<u64>,
}

#[derive(Serialize)]
struct VerifyErrorEnvelope<'a> {
    error: VerifyErrorDto<'a>,
}

pub(crate) fn export_command(args: ExportArgs) -> ExitCode {
    let json = args.json;
    match run_export(args) {
        Ok(report) => {
            print_export(&report, json);
            ExitCode::SUCCESS
        }
        Err(err) => output::fail(&err, json),
    }
}

pub(crate) fn verify_command(args: VerifyArgs) -> ExitCode {
    match verify_export(&args.file) {
        Ok(report) => {
            print_verified(&args.file, &report, args.json);
            ExitCode::SUCCESS
        }
        Err(err) => {
            let row = problem_row(&err);
            if args.json {
                let dto = VerifyErrorDto { code: err.code.as_str(), message: &err.message, row };
                output::print_json(&VerifyErrorEnvelope { error: dto });
            } else {
                eprintln!("失败 [{}] {}", err.code, err.message);
            }
            ExitCode::from(EXIT_FAILED)
        }
    }
}

fn chosen_days(args: &ExportArgs) -> (NaiveDate, NaiveDate) {
    if let (Some(from), Some(to)) = (args.from, args.to) {
        return (from, to);
    }
    let today = Utc::now().with_timezone(&china_tz()).date_naive();
    let day = args.date.unwrap_or_else(|| today.pred_opt().unwrap_or(today));
    (day, day)
}

/// Who exports and for which hall and counter: the configuration's, else the events' own.
fn exporter(config: Option<PathBuf>, cache: &Cache, first_seq: i64) -> Result<AuditContext, Error> {
    let account = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "cli".into());
    if let Some(loaded) = ConfigFiles::find(config).load()? {
        let config = loaded.config;
        if let Some(counter) = config.counter {
            let operator_account = config.operator.map_or(account, |o| o.account);
            return Ok(AuditContext { operator_account, hall_code: counter.hall_code, counter: counter.counter });
        }
    }
    let mut place = None;
    cache.chained_events(first_seq, first_seq, &mut |event| {
        place = Some((
            event.field("hall_code").unwrap_or_default().to_owned(),
            event.field("counter").unwrap_or_default().to_owned(),
        ));
        Ok(())
    })?;
    let (hall_code, counter) = place.unwrap_or_default();
    Ok(AuditContext { operator_account: account, hall_code, counter })
}

fn run_export(args: ExportArgs) -> Result<Option<ExportReport>, Error> {
    let (from, to) = chosen_days(&args);
    let (start, end) = days_bounds(from, to)?;
    let cache = open_counter_cache(args.config.as_deref(), args.data_dir.clone())?;
    let Some((first_seq, _)) = cache.seq_range_between(start, end)? else {
        return Ok(None);
    };
    let by = exporter(args.config.clone(), &cache, first_seq)?;
    let key = CounterKey::load_or_create(&cache)?;
    let formats = match args.format {
        Format::Csv => Formats { csv: true, xlsx: false },
        Format::Xlsx => Formats { csv: false, xlsx: true },
        Format::Both => Formats { csv: true, xlsx: true },
    };
    let now = Utc::now().with_timezone(&china_tz());
    let days = DaysExport { by: &by, from, to, formats, out_dir: &args.out_dir, now };
    export_days(&cache, &key, &days, &mut |_, _| {})
}

fn print_export(report: &Option<ExportReport>, json: bool) {
    let files = |r: &ExportReport| r.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>();
    if json {
        output::print_json(&ExportDto {
            events: report.as_ref().map_or(0, |r| r.events),
            first_seq: report.as_ref().map(|r| r.first_seq),
            last_seq: report.as_ref().map(|r| r.last_seq),
            head: report.as_ref().map(|r| r.head.clone()),
            files: report.as_ref().map(files).unwrap_or_default(),
        });
        return;
    }
    match report {
        None => say!("所选日期没有审计记录，未生成文件。"),
        Some(r) => {
            say!("已导出 {} 条审计记录（第 {}–{} 号），已签名校验", r.events, r.first_seq, r.last_seq);
            say!("head     {}", r.head);
            for file in files(r) {
                say!("已写入   {file}");
            }
        }
    }
}

fn print_verified(file: &Path, report: &VerifyReport, json: bool) {
    if json {
        output::print_json(&VerifyDto {
            intact: true,
            events: report.events,
            first_seq: report.first_seq,
            last_seq: report.last_seq,
            head: &report.head,
        });
    } else {
        say!(
            "intact: {} events (seq {}–{}), head {} — {}",
            report.events,
            report.first_seq,
            report.last_seq,
            report.head,
            file.display()
        );
    }
}
