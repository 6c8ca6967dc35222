//! `yueshang submit` and `yueshang outbox`: the handling record (申办) and the outbox it waits in.

use crate::output::{self, ErrorDto, say};
use crate::scan::CounterArgs;
use clap::Args;
use serde::Serialize;
use std::process::ExitCode;
use std::sync::Arc;
use yueshang_core::Error;
use yueshang_core::domain::BizNum;
use yueshang_core::outbox::{
    Outbox, OutboxRecord, OutboxSummary, RecordDraft, RecordState, RecordStatus, random_jitter,
};

/// Exit status when a record is kept in the outbox to be sent later (the gateway could not be reached).
const EXIT_QUEUED: u8 = 4;

#[derive(Debug, Args)]
pub(crate) struct SubmitArgs {
    /// The handling number (办件号) a scan on this counter recorded.
    biz_num: String,
    /// The result: RECEIVED (收件), ACCEPTED (受理), DONE (办结) or REJECTED (不予受理).
    #[arg(long, value_parser = parse_status)]
    status: RecordStatus,
    /// Why the case was refused; required with REJECTED.
    #[arg(long)]
    reason: Option<String>,
    /// The licenses used, comma-separated; default: every license of the handling cached as valid.
    #[arg(long, value_delimiter = ',')]
    licenses: Option<Vec<String>>,
    #[command(flatten)]
    counter: CounterArgs,
    /// Print JSON for scripts.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct OutboxArgs {
    /// Send every waiting record now, whatever its backoff.
    #[arg(long)]
    send: bool,
    /// Give a record that needs a person (需处理) another try, once its cause is fixed; repeatable.
    #[arg(long = "retry", value_name = "BIZ_NUM")]
    retry: Vec<String>,
    #[command(flatten)]
    counter: CounterArgs,
    /// Print JSON for scripts.
    #[arg(long)]
    json: bool,
}

fn parse_status(text: &str) -> Result<RecordStatus, String> {
    RecordStatus::parse(text).ok_or_else(|| format!("\"{text}\": expected RECEIVED, ACCEPTED, DONE or REJECTED"))
}

/// The counter's outbox on its cache, sending through the configured gateway.
fn open_outbox(counter: CounterArgs) -> Result<Outbox, Error> {
    Ok(Outbox::new(Arc::new(counter.station()?), random_jitter()))
}

/// What `submit` prints: the receipt, or that the record waits, or why it was refused.
#[derive(Serialize)]
struct SubmitDto<'a> {
    biz_num: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    record_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duplicate: Option<bool>,
    queued: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorDto<'a>>,
}

pub(crate) async fn submit(args: SubmitArgs) -> ExitCode {
    let json = args.json;
    let attempted = async {
        let outbox = open_outbox(args.counter)?;
        let biz_num = BizNum::from_existing(args.biz_num.trim());
        let used_license_codes = match args.licenses {
            Some(codes) => codes,
            None => outbox.usable_licenses(&biz_num)?,
        };
        let draft = RecordDraft { biz_num, status: args.status, reason: args.reason, used_license_codes };
        let queued = outbox.enqueue(draft)?;
        outbox.send(&queued.biz_num).await
    }
    .await;
    match attempted {
        Ok(record) => print_submitted(&record, json),
        Err(err) => output::fail(&err, json),
    }
}

/// Prints how the send ended and picks the exit status: 0 sent, 4 waiting, 1 refused.
fn print_submitted(record: &OutboxRecord, json: bool) -> ExitCode {
    let error = record.last_error.as_ref().map(|(code, message)| ErrorDto { code: code.as_str(), message });
    let (dto, exit) = match record.state {
        RecordState::Sent => (
            SubmitDto {
                biz_num: &record.biz_num,
                record_id: record.record_id.as_deref(),
                duplicate: Some(record.duplicate),
                queued: false,
                error: None,
            },
            ExitCode::SUCCESS,
        ),
        RecordState::Queued => (
            SubmitDto { biz_num: &record.biz_num, record_id: None, duplicate: None, queued: true, error },
            ExitCode::from(EXIT_QUEUED),
        ),
        RecordState::Refused => (
            SubmitDto { biz_num: &record.biz_num, record_id: None, duplicate: None, queued: false, error },
            ExitCode::from(output::EXIT_FAILED),
        ),
    };
    if json {
        output::print_json(&dto);
    } else {
        print_record_line(record);
        match record.state {
            RecordState::Sent => {}
            RecordState::Queued => {
                say!("记录已保存在本机，将自动重新上报；也可运行 `yueshang outbox --send` 立即重发。")
            }
            RecordState::Refused => {
                say!("网关拒收，需处理：请按上面的提示排除原因后运行 `yueshang outbox --retry {}`。", record.biz_num)
            }
        }
    }
    exit
}

/// One line for a person: state, number, enterprise, result and what happened last.
fn print_record_line(r: &OutboxRecord) {
    let outcome = match (r.state, &r.last_error) {
        (RecordState::Sent, _) => {
            let duplicate = if r.duplicate { "（网关已有此记录，未重复登记）" } else { "" };
            format!("回执 {}{duplicate}", r.record_id.as_deref().unwrap_or("-"))
        }
        (RecordState::Queued, Some((code, message))) => {
            format!("第 {} 次上报失败 [{code}] {message} 下次重试 {}", r.attempts, r.next_attempt_at.format("%H:%M:%S"))
        }
        (RecordState::Queued, None) => "等待上报".to_owned(),
        (RecordState::Refused, Some((code, message))) => format!("[{code}] {message}"),
        (RecordState::Refused, None) => "网关拒收".to_owned(),
    };
    say!("{}  {}  {}  {}  {outcome}", r.state.label(), r.biz_num, r.enterprise_name, r.status.label());
}

#[derive(Serialize)]
struct EnterpriseDto<'a> {
    name: &'a str,
    uscc: &'a str,
}

#[derive(Serialize)]
struct RecordDto<'a> {
    biz_num: &'a str,
    enterprise: EnterpriseDto<'a>,
    service_item_code: &'a str,
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    used_license_codes: &'a [String],
    /// `queued` | `sent` | `refused`.
    state: &'a str,
    attempts: u32,
    next_attempt_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorDto<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    record_id: Option<&'a str>,
    duplicate: bool,
    submitted_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sent_at: Option<String>,
}

fn record_dto(r: &OutboxRecord) -> RecordDto<'_> {
    RecordDto {
        biz_num: &r.biz_num,
        enterprise: EnterpriseDto { name: &r.enterprise_name, uscc: &r.uscc },
        service_item_code: &r.item.code,
        status: r.status.as_str(),
        reason: r.reason.as_deref(),
        used_license_codes: &r.used_license_codes,
        state: r.state.as_str(),
        attempts: r.attempts,
        next_attempt_at: r.next_attempt_at.to_rfc3339(),
        error: r.last_error.as_ref().map(|(code, message)| ErrorDto { code: code.as_str(), message }),
        record_id: r.record_id.as_deref(),
        duplicate: r.duplicate,
        submitted_at: r.submitted_at.to_rfc3339(),
        sent_at: r.sent_at.map(|t| t.to_rfc3339()),
    }
}

/// What `outbox` prints: the counts, what this run tried to send, and the list.
#[derive(Serialize)]
struct OutboxDto<'a> {
    waiting: usize,
    refused: usize,
    attempted: Vec<RecordDto<'a>>,
    records: Vec<RecordDto<'a>>,
}

pub(crate) async fn outbox(args: OutboxArgs) -> ExitCode {
    let json = args.json;
    let done = async {
        let outbox = open_outbox(args.counter)?;
        for biz_num in &args.retry {
            outbox.retry_refused(biz_num.trim())?;
        }
        let attempted = if args.send { outbox.send_all().await? } else { Vec::new() };
        Ok::<_, Error>((attempted, outbox.list()?, outbox.summary()?))
    }
    .await;
    let (attempted, records, summary) = match done {
        Ok(done) => done,
        Err(err) => return output::fail(&err, json),
    };
    if json {
        output::print_json(&OutboxDto {
            waiting: summary.waiting,
            refused: summary.refused,
            attempted: attempted.iter().map(record_dto).collect(),
            records: records.iter().map(record_dto).collect(),
        });
    } else {
        print_outbox(&attempted, &records, summary);
    }
    // Anything not delivered (waiting, or refused and needing a person) is worth a script's attention.
    if summary == OutboxSummary::default() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_QUEUED) }
}

fn print_outbox(attempted: &[OutboxRecord], records: &[OutboxRecord], summary: OutboxSummary) {
    if !attempted.is_empty() {
        let sent = attempted.iter().filter(|r| r.state == RecordState::Sent).count();
        say!("本次上报 {} 条，成功 {sent} 条。", attempted.len());
    }
    say!("待上报 {} 条，需处理 {} 条。", summary.waiting, summary.refused);
    for r in records {
        print_record_line(r);
    }
}
