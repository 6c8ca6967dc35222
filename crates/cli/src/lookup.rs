//! `yueshang lookup`: an enterprise's licenses by its USCC (依职能用证) on a legal ground, printed as `scan` prints.

use crate::scan::{CounterArgs, print_event, report};
use clap::Args;
use std::process::ExitCode;
use yueshang_core::domain::Entry;
use yueshang_core::station::ScanEvent;
use yueshang_core::{Error, ErrorCode};

#[derive(Debug, Args)]
pub(crate) struct LookupArgs {
    /// The enterprise's 18-character unified social credit code (统一社会信用代码).
    uscc: String,
    /// Service item code (事项编码); defaults to the first configured item.
    #[arg(long)]
    item: Option<String>,
    /// The legal ground, one of the configuration's `[lookup] grounds` (e.g. 依职能核验).
    #[arg(long)]
    ground: String,
    #[command(flatten)]
    counter: CounterArgs,
    /// Print JSON for scripts (the same as `scan --json`).
    #[arg(long)]
    json: bool,
}

pub(crate) async fn run(args: LookupArgs) -> ExitCode {
    let json = args.json;
    let outcome = async {
        let Entry::Holder(uscc) = Entry::read(&args.uscc)? else {
            return Err(Error::with_fact(ErrorCode::UsccInvalid, format!("“{}”不是统一社会信用代码。", args.uscc)));
        };
        let station = args.counter.station()?;
        let biz_num = station.next_biz_num()?;
        let observe = move |event: ScanEvent| {
            if !json {
                print_event(&event);
            }
        };
        station.lookup(&uscc, &args.ground, args.item.as_deref(), &biz_num, &observe).await
    }
    .await;
    report(outcome, json)
}
