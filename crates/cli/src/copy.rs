//! `yueshang stamp` and `yueshang audit find-copy`: stamped copies (用证副本) from the command line.

use crate::output::{self, say};
use crate::scan::{CounterArgs, open_cache};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use yueshang_core::copies::{Copies, CopyOrigin, find_copy};
use yueshang_core::{Error, ErrorCode};

#[derive(Debug, Args)]
pub(crate) struct StampArgs {
    /// The license's code (电子证照标识), as cached for that handling.
    license_code: String,
    /// The handling number (办件号) the copy serves.
    #[arg(long)]
    biz_num: String,
    /// Where to write the stamped PDF.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    counter: CounterArgs,
    /// Go on with the last status check when the gateway cannot be reached to re-check it.
    #[arg(long)]
    allow_unchecked: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Which license, case, clerk and time a stamped copy (副本编号) belongs to.
    FindCopy(FindCopyArgs),
    /// Export China days of the audit trail (CSV/XLSX) with a signed checkpoint.
    Export(crate::audit::ExportArgs),
    /// Verify an exported .csv or .xlsx offline: the chain of its rows and the signed checkpoint.
    Verify(crate::audit::VerifyArgs),
    /// Verify the whole hash chain in this counter's database and its signed checkpoints.
    VerifyDb(crate::audit_db::VerifyDbArgs),
    /// The fingerprint (and with --pem the public key) of this counter's audit signing key.
    Key(crate::audit_db::KeyArgs),
}

#[derive(Debug, Args)]
struct FindCopyArgs {
    /// The copy's serial, as printed in its footer and its QR code: P-<hall>-<counter>-<date>-<NNNN>.
    serial: String,
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct StampDto<'a> {
    serial: &'a str,
    pages: usize,
    bytes: usize,
    sha256: &'a str,
    checked_at: String,
}

pub(crate) async fn stamp(args: StampArgs) -> ExitCode {
    let json = args.json;
    let made = async {
        let station = args.counter.station()?;
        let copy = Copies::new(Arc::new(station)).make(&args.biz_num, &args.license_code, args.allow_unchecked).await?;
        std::fs::write(&args.out, &copy.pdf).map_err(|e| {
            Error::with_fact(ErrorCode::SaveFailed, format!("无法写入 {}（{e}）。", args.out.display()))
        })?;
        Ok::<_, Error>(copy)
    }
    .await;
    match made {
        Ok(copy) => {
            if json {
                output::print_json(&StampDto {
                    serial: &copy.serial,
                    pages: copy.pages,
                    bytes: copy.pdf.len(),
                    sha256: &copy.sha256,
                    checked_at: copy.checked_at.to_rfc3339(),
                });
            } else {
                say!("副本编号 {}", copy.serial);
                say!("已写入   {}（{} 页，{} 字节）", args.out.display(), copy.pages, copy.pdf.len());
                let check = if copy.check_fresh { "" } else { "（出具时未能联网复核）" };
                say!("核验于   {}{check}", copy.checked_at.format("%Y-%m-%d %H:%M"));
            }
            ExitCode::SUCCESS
        }
        Err(err) => output::fail(&err, json),
    }
}

pub(crate) fn audit(args: AuditArgs) -> ExitCode {
    match args.command {
        AuditCommand::FindCopy(args) => find(args),
        AuditCommand::Export(args) => crate::audit::export_command(args),
        AuditCommand::Verify(args) => crate::audit::verify_command(args),
        AuditCommand::VerifyDb(args) => crate::audit_db::verify_db(args),
        AuditCommand::Key(args) => crate::audit_db::key(args),
    }
}

fn find(args: FindCopyArgs) -> ExitCode {
    let found = open_cache(args.data_dir).and_then(|cache| find_copy(&cache, &args.serial));
    match found {
        Ok(Some(origin)) => {
            if args.json {
                output::print_json(&OriginDto::from(&origin));
            } else {
                print_origin(&origin);
            }
            ExitCode::SUCCESS
        }
        Ok(None) => output::fail(
            &Error::with_fact(
                ErrorCode::BizNumUnknown,
                format!("本机没有副本编号为 {} 的用证副本。", args.serial.trim()),
            ),
            args.json,
        ),
        Err(err) => output::fail(&err, args.json),
    }
}

fn print_origin(o: &CopyOrigin) {
    say!("副本编号 {}", o.serial);
    say!("证照     {}（{}）", o.license_name, o.license_code);
    say!("办件号   {}  企业 {}", o.biz_num, o.uscc);
    say!("事项     {}（{}）", o.service_item_name, o.service_item_code);
    say!("经办人   {}（{}）", o.operator_name, o.operator_account);
    say!("出具于   {}  核验于 {}{}", o.made_at, o.checked_at, if o.check_fresh { "" } else { "（未能联网复核）" });
    say!("页数     {}", o.pages);
    say!("原件     SHA-256 {}  SM3 {}", o.source_sha256, o.source_sm3);
    say!("副本     SHA-256 {}  SM3 {}", o.output_sha256, o.output_sm3);
}

#[derive(Serialize)]
struct OriginDto<'a> {
    serial: &'a str,
    license_code: &'a str,
    license_name: &'a str,
    biz_num: &'a str,
    uscc: &'a str,
    service_item_code: &'a str,
    service_item_name: &'a str,
    operator_account: &'a str,
    operator_name: &'a str,
    made_at: &'a str,
    checked_at: &'a str,
    check_fresh: bool,
    pages: usize,
    source_sha256: &'a str,
    source_sm3: &'a str,
    output_sha256: &'a str,
    output_sm3: &'a str,
}

impl<'a> From<&'a CopyOrigin> for OriginDto<'a> {
    fn from(o: &'a CopyOrigin) -> Self {
        OriginDto {
            serial: &o.serial,
            license_code: &o.license_code,
            license_name: &o.license_name,
            biz_num: &o.biz_num,
            uscc: &o.uscc,
            service_item_code: &o.service_item_code,
            service_item_name: &o.service_item_name,
            operator_account: &o.operator_account,
            operator_name: &o.operator_name,
            made_at: &o.made_at,
            checked_at: &o.checked_at,
            check_fresh: o.check_fresh,
            pages: o.pages,
            source_sha256: &o.source_sha256,
            source_sm3: &o.source_sm3,
            output_sha256: &o.output_sha256,
            output_sm3: &o.output_sm3,
        }
    }
}
