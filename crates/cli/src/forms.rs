//! `yueshang forms`: the onboarding kit (the province's four application forms and a checklist) filled from the configuration and this PC.

use crate::output::{self, say};
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use yueshang_core::Result;
use yueshang_core::config::{Config, ConfigFiles};
use yueshang_core::forms::{self, WrittenForm};

#[derive(Debug, Args)]
pub(crate) struct FormsArgs {
    /// The user's configuration file (TOML); also `YUESHANG_CONFIG`. The machine-wide file applies
    /// beneath it. Without either, only what this PC knows is filled.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The folder the forms are written into (made if missing; earlier forms of the same name are replaced).
    #[arg(long)]
    out: PathBuf,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct FormDto<'a> {
    title: &'a str,
    path: String,
}

#[derive(Serialize)]
struct FormsDto<'a> {
    forms: Vec<FormDto<'a>>,
}

fn write(args: &FormsArgs) -> Result<Vec<WrittenForm>> {
    // No configuration file is sandbox mode: the hall and the keys are blank, the addresses still filled.
    let config = match ConfigFiles::find(args.config.clone()).load()? {
        Some(loaded) => loaded.config,
        None => Config::parse("")?,
    };
    forms::write_kit_for(&config, &args.out)
}

pub(crate) fn run(args: FormsArgs) -> ExitCode {
    match write(&args) {
        Ok(written) => {
            if args.json {
                let forms =
                    written.iter().map(|w| FormDto { title: &w.title, path: w.path.display().to_string() }).collect();
                output::print_json(&FormsDto { forms });
            } else {
                for form in &written {
                    say!("{}\t{}", form.title, form.path.display());
                }
                say!("已生成 {} 份表格：空白处（联系人、电话、签字盖章等）请手工填写。", written.len());
            }
            ExitCode::SUCCESS
        }
        Err(err) => output::fail(&err, args.json),
    }
}
