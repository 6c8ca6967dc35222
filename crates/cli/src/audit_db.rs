//! `yueshang audit verify-db` and `yueshang audit key`: the hash chain in this counter's database
//! and the key its checkpoints are signed with, for supervisors and IT.

use crate::output::{self, say};
use crate::scan::{open_cache, open_counter_cache};
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use yueshang_core::audit::checkpoint::{ChainStatus, tampered_seq};
use yueshang_core::audit::key::CounterKey;

#[derive(Debug, Args)]
pub(crate) struct VerifyDbArgs {
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct KeyArgs {
    /// Also print the public key (SubjectPublicKeyInfo PEM), for the hall to register.
    #[arg(long)]
    pem: bool,
    /// The counter's configuration (its storage key is found beside it); also YUESHANG_CONFIG.
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

#[derive(Serialize)]
struct ChainDto<'a> {
    count: i64,
    head: &'a str,
    checkpoints: i64,
}

/// A tampered chain: the usual error envelope plus the first event that does not verify.
#[derive(Serialize)]
struct TamperedDto<'a> {
    code: &'a str,
    message: &'a str,
    seq: i64,
}

#[derive(Serialize)]
struct TamperedEnvelope<'a> {
    error: TamperedDto<'a>,
}

pub(crate) fn verify_db(args: VerifyDbArgs) -> ExitCode {
    match open_cache(args.data_dir).and_then(|cache| cache.verify_chain()) {
        Ok(status) => {
            if args.json {
                output::print_json(&ChainDto {
                    count: status.count,
                    head: &status.head,
                    checkpoints: status.checkpoints,
                });
            } else {
                print_status(&status);
            }
            ExitCode::SUCCESS
        }
        Err(err) => match tampered_seq(&err) {
            Some(seq) if args.json => {
                let error = TamperedDto { code: err.code.as_str(), message: &err.message, seq };
                output::print_json(&TamperedEnvelope { error });
                ExitCode::from(output::EXIT_FAILED)
            }
            _ => output::fail(&err, args.json),
        },
    }
}

fn print_status(status: &ChainStatus) {
    match &status.last_checkpoint_at {
        Some(at) => {
            say!("审计链完整，共 {} 条，最新签名于 {at}（共 {} 个签名检查点）。", status.count, status.checkpoints)
        }
        None => say!("审计链完整，共 {} 条，尚无签名检查点。", status.count),
    }
    say!("链头     {}", status.head);
}

pub(crate) fn key(args: KeyArgs) -> ExitCode {
    let loaded =
        open_counter_cache(args.config.as_deref(), args.data_dir).and_then(|cache| CounterKey::load_or_create(&cache));
    match loaded {
        Ok(key) => {
            say!("{}", key.fingerprint());
            if args.pem {
                say!("{}", key.public_pem().trim_end());
            }
            ExitCode::SUCCESS
        }
        Err(err) => output::fail(&err, false),
    }
}
