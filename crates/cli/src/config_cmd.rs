//! `yueshang config show`: the configuration in force on this PC, machine-wide file and user file
//! merged, each key with the file it came from and secrets masked.

use crate::output::{self, say};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use yueshang_core::config::{ConfigFiles, Loaded, Mode, ShownKey};

#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the merged configuration: each key, its value (secrets as ******) and its file.
    Show {
        /// The user's configuration file (else `YUESHANG_CONFIG`, else the platform's); the
        /// machine-wide file applies beneath it.
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct ShowDto {
    mode: &'static str,
    files: FilesDto,
    keys: Vec<KeyDto>,
}

#[derive(Serialize)]
struct FilesDto {
    machine: Option<String>,
    user: Option<String>,
}

#[derive(Serialize)]
struct KeyDto {
    key: String,
    value: String,
    source: &'static str,
    file: String,
}

pub(crate) fn run(args: ConfigArgs) -> ExitCode {
    let ConfigCommand::Show { config, json } = args.command;
    let files = ConfigFiles::find(config);
    let loaded = match files.load() {
        Ok(loaded) => loaded,
        Err(err) => return output::fail(&err, json),
    };
    let dto = show(&files, loaded.as_ref());
    if json {
        output::print_json(&dto);
    } else {
        print_for_people(&dto);
    }
    ExitCode::SUCCESS
}

fn show(files: &ConfigFiles, loaded: Option<&Loaded>) -> ShowDto {
    let text = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    let mode = match loaded.map(|l| l.config.mode) {
        Some(Mode::Gateway) => "gateway",
        Some(Mode::Sandbox) | None => "sandbox",
    };
    let keys = loaded.map(Loaded::shown_keys).unwrap_or_default().into_iter().map(key_dto).collect();
    ShowDto { mode, files: FilesDto { machine: text(&files.machine), user: text(&files.user) }, keys }
}

fn key_dto(shown: ShownKey) -> KeyDto {
    KeyDto {
        key: shown.key,
        value: shown.value,
        source: shown.source.layer.as_str(),
        file: shown.source.file.display().to_string(),
    }
}

fn print_for_people(dto: &ShowDto) {
    let none = "（无）".to_owned();
    say!("全机配置文件：{}", dto.files.machine.as_ref().unwrap_or(&none));
    say!("本用户配置文件：{}", dto.files.user.as_ref().unwrap_or(&none));
    if dto.keys.is_empty() {
        say!("没有配置文件：以沙箱模式运行。");
        return;
    }
    say!("模式：{}", if dto.mode == "gateway" { "网关（gateway）" } else { "沙箱（sandbox）" });
    let width = dto.keys.iter().map(|k| k.key.len() + k.value.chars().count()).max().unwrap_or(0) + 3;
    for key in &dto.keys {
        let line = format!("{} = {}", key.key, key.value);
        let pad = width.saturating_sub(key.key.len() + key.value.chars().count() + 3);
        let from = if key.source == "machine" { "全机" } else { "本用户" };
        say!("{line}{}  # {from}", " ".repeat(pad));
    }
}
