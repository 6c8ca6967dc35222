//! `yueshang cache purge|reset|key` and `yueshang secrets set|list|import`: the sealed cache, its
//! storage key and the gateway credentials kept sealed, for IT.

use crate::output::{self, say};
use crate::scan::{COUNTER_DATABASE, SANDBOX_DATABASE, open_database};
use chrono::Utc;
use clap::{Args, Subcommand};
use serde::Serialize;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use yueshang_core::audit::AuditContext;
use yueshang_core::cache::Cache;
use yueshang_core::clock::china_tz;
use yueshang_core::config::{self, ConfigFiles, PrivacySettings};
use yueshang_core::keystore::KeyStore;
use yueshang_core::purge::{Scope, purge};
use yueshang_core::secret::Secret;
use yueshang_core::secrets::{self, SecretName};
use yueshang_core::{Error, ErrorCode};

/// Which counter: its configuration file (where its keys are) and its data folder.
#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    /// Configuration file (TOML); also `YUESHANG_CONFIG`. Its folder holds the storage key.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Where the cache lives; also `YUESHANG_DATA_DIR`.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The app's sandbox-mode database (`sandbox.sqlite3`) instead of the counter's (`cache.sqlite3`).
    #[arg(long)]
    sandbox: bool,
}

impl StoreArgs {
    fn database(&self) -> &'static str {
        if self.sandbox { SANDBOX_DATABASE } else { COUNTER_DATABASE }
    }
}

#[derive(Debug, Args)]
pub(crate) struct CacheArgs {
    #[command(subcommand)]
    command: CacheCommand,
}

#[derive(Debug, Subcommand)]
enum CacheCommand {
    /// Erase the licenses past `[retention] license_days` now (`--all`: every customer's).
    Purge {
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Wipe the sealed cache and make a new storage key (after the key was lost); the audit trail stays.
    Reset {
        /// Do not ask (scripts).
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Where the storage key of the sealed cache is kept.
    Key {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Args)]
pub(crate) struct SecretsArgs {
    #[command(subcommand)]
    command: SecretsCommand,
}

#[derive(Debug, Subcommand)]
enum SecretsCommand {
    /// Store a gateway credential sealed: token, password or app_secret (typed without echo, or --stdin).
    Set {
        #[arg(value_parser = parse_name)]
        name: SecretName,
        /// Read the value from standard input (one line).
        #[arg(long)]
        stdin: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Which credentials are stored (never their values).
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Move the plain credentials of a configuration file into the sealed store, rewriting the file without them.
    Import {
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn parse_name(text: &str) -> Result<SecretName, String> {
    SecretName::parse(text).ok_or_else(|| "应为 token、password 或 app_secret".to_owned())
}

#[derive(Serialize)]
struct PurgedDto {
    purged_customers: u64,
    purged_licenses: u64,
}

#[derive(Serialize)]
struct KeyDto<'a> {
    backend: &'a str,
    label: &'a str,
    location: &'a str,
}

#[derive(Serialize)]
struct SecretDto<'a> {
    name: &'a str,
    config_key: &'a str,
    set: bool,
    updated_at: Option<&'a str>,
}

pub(crate) fn cache(args: CacheArgs) -> ExitCode {
    match args.command {
        CacheCommand::Purge { all, json, store } => match run_purge(all, &store) {
            Ok(purged) => {
                if json {
                    output::print_json(&PurgedDto {
                        purged_customers: purged.customers,
                        purged_licenses: purged.licenses,
                    });
                } else {
                    say!("已清除 {} 位办事人的 {} 张证照。", purged.customers, purged.licenses);
                }
                ExitCode::SUCCESS
            }
            Err(err) => output::fail(&err, json),
        },
        CacheCommand::Reset { yes, store } => match run_reset(yes, &store) {
            Ok(cache) => {
                let key = cache.key_info();
                say!("加密缓存已清空（审计记录保留）。新的存储密钥保存在{}：{}", key.backend.label(), key.location);
                ExitCode::SUCCESS
            }
            Err(err) => output::fail(&err, false),
        },
        CacheCommand::Key { json, store } => match open(&store) {
            Ok(cache) => {
                let key = cache.key_info();
                if json {
                    output::print_json(&KeyDto {
                        backend: key.backend.as_str(),
                        label: key.backend.label(),
                        location: &key.location,
                    });
                } else {
                    say!("存储密钥  {}（{}）", key.backend.label(), key.backend.as_str());
                    say!("位置      {}", key.location);
                }
                ExitCode::SUCCESS
            }
            Err(err) => output::fail(&err, json),
        },
    }
}

pub(crate) fn secrets(args: SecretsArgs) -> ExitCode {
    match args.command {
        SecretsCommand::Set { name, stdin, store } => {
            let set = read_secret(name, stdin).and_then(|value| {
                let cache = open(&store)?;
                secrets::set(&cache, name, &value, &context(&store, &cache)?, now())
            });
            match set {
                Ok(()) => {
                    say!("已加密保存 {}。", name.config_key());
                    ExitCode::SUCCESS
                }
                Err(err) => output::fail(&err, false),
            }
        }
        SecretsCommand::List { json, store } => match open(&store).and_then(|cache| secrets::list(&cache)) {
            Ok(states) => {
                if json {
                    let dtos: Vec<SecretDto<'_>> = states
                        .iter()
                        .map(|s| SecretDto {
                            name: s.name.as_str(),
                            config_key: s.name.config_key(),
                            set: s.updated_at.is_some(),
                            updated_at: s.updated_at.as_deref(),
                        })
                        .collect();
                    output::print_json(&dtos);
                } else {
                    for s in &states {
                        match &s.updated_at {
                            Some(at) => say!("{:<20} 已设置（{at}）", s.name.config_key()),
                            None => say!("{:<20} 未设置", s.name.config_key()),
                        }
                    }
                }
                ExitCode::SUCCESS
            }
            Err(err) => output::fail(&err, json),
        },
        SecretsCommand::Import { store } => match run_import(&store) {
            Ok((path, moved)) if moved.is_empty() => {
                say!("配置文件 {} 中没有明文凭据，无需移动。", path.display());
                ExitCode::SUCCESS
            }
            Ok((path, moved)) => {
                let keys: Vec<&str> = moved.iter().map(|n| n.config_key()).collect();
                say!("已把 {} 加密保存到本机，并从配置文件 {} 中删除。", keys.join("、"), path.display());
                ExitCode::SUCCESS
            }
            Err(err) => output::fail(&err, false),
        },
    }
}

fn open(store: &StoreArgs) -> Result<std::sync::Arc<Cache>, Error> {
    open_database(store.config.as_deref(), store.data_dir.clone(), store.database())
}

fn now() -> chrono::DateTime<chrono::FixedOffset> {
    Utc::now().with_timezone(&china_tz())
}

/// Who acts, where: the configuration's operator and counter, else the person at the terminal and
/// the counter the database's own events name.
fn context(store: &StoreArgs, cache: &Cache) -> Result<AuditContext, Error> {
    let user = terminal_user();
    if let Some(loaded) = ConfigFiles::find(store.config.clone()).load()? {
        let config = loaded.config;
        if let Some(counter) = config.counter {
            let operator_account = config.operator.map_or(user, |o| o.account);
            return Ok(AuditContext { operator_account, hall_code: counter.hall_code, counter: counter.counter });
        }
    }
    let (hall_code, counter) = cache.last_place()?.unwrap_or_default();
    Ok(AuditContext { operator_account: user, hall_code, counter })
}

fn terminal_user() -> String {
    std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "cli".into())
}

fn run_purge(all: bool, store: &StoreArgs) -> Result<yueshang_core::purge::Purged, Error> {
    let privacy = match ConfigFiles::find(store.config.clone()).load()? {
        Some(loaded) => loaded.config.privacy,
        None => PrivacySettings::default(),
    };
    let cache = open(store)?;
    let scope = if all { Scope::All } else { Scope::Expired { license_days: privacy.license_days, keep: None } };
    purge(&cache, scope, &context(store, &cache)?, now())
}

fn run_reset(yes: bool, store: &StoreArgs) -> Result<Cache, Error> {
    let data_dir = config::data_dir(store.data_dir.clone())?;
    let path = data_dir.join(store.database());
    if !path.exists() {
        return Err(Error::with_fact(
            ErrorCode::StorageFailed,
            format!("数据目录 {} 中没有缓存数据库。", data_dir.display()),
        ));
    }
    if !yes {
        confirm(&path)?;
    }
    let keys = KeyStore::for_config(config::config_file(store.config.clone()).as_deref())?;
    Cache::reset(&path, &keys, &terminal_user(), now())
}

/// IT types RESET at a terminal; anything else (or no terminal and no --yes) leaves the cache alone.
fn confirm(path: &Path) -> Result<(), Error> {
    let refused = || Error::with_fact(ErrorCode::ConfigInvalid, "未确认，缓存没有改动（脚本中请加 --yes）。");
    if !std::io::stdin().is_terminal() {
        return Err(refused());
    }
    eprint!(
        "将清空 {} 中所有加密缓存的证照和本机保存的网关凭据（审计记录保留），并生成新的存储密钥。\n输入 RESET 确认：",
        path.display()
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).map_err(|_| refused())?;
    if answer.trim() == "RESET" { Ok(()) } else { Err(refused()) }
}

fn read_secret(name: SecretName, from_stdin: bool) -> Result<Secret, Error> {
    let unreadable = |e: std::io::Error| {
        Error::with_fact(ErrorCode::ConfigInvalid, format!("无法读取 {}（{e}）。", name.config_key()))
    };
    let value = if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(unreadable)?;
        line
    } else {
        rpassword::prompt_password(format!("{}：", name.config_key())).map_err(unreadable)?
    };
    Ok(Secret::new(value.trim()))
}

fn run_import(store: &StoreArgs) -> Result<(PathBuf, Vec<SecretName>), Error> {
    let path = config::config_file(store.config.clone())
        .ok_or_else(|| Error::with_fact(ErrorCode::ConfigInvalid, "请用 --config 指定要移出凭据的配置文件。"))?;
    let cache = open(store)?;
    let moved = secrets::import_config(&cache, &path, &context(store, &cache)?, now())?;
    Ok((path, moved))
}
