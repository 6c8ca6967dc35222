//! `yueshang accounts`: IT adds, lists, disables and re-passwords the counter's accounts. A
//! password is read from the terminal without echo (twice) or from `--password-stdin`; it is
//! never an argument, so it stays out of shell history and process lists.

use crate::output::{self, say};
use crate::scan::CounterArgs;
use clap::{Args, Subcommand};
use serde::Serialize;
use std::io::BufRead;
use std::process::ExitCode;
use std::sync::Arc;
use yueshang_core::accounts::{Account, Accounts, NewAccount, Role};
use yueshang_core::{Error, ErrorCode};

#[derive(Debug, Args)]
pub(crate) struct AccountsArgs {
    #[command(subcommand)]
    command: AccountsCommand,
}

/// Each command carries the counter it acts on, so `--data-dir`/`--config` go anywhere after it.
#[derive(Debug, Subcommand)]
enum AccountsCommand {
    /// Add an account (the password is asked for twice, or read from stdin).
    Add {
        account: String,
        /// The person's name as shown on copies and sent to the gateway.
        #[arg(long)]
        name: String,
        /// clerk (窗口人员) or supervisor (值班长).
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        counter: CounterArgs,
    },
    /// List the accounts (never a password).
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        counter: CounterArgs,
    },
    /// Disable an account: it can no longer sign in, and a shift signed in with it ends.
    Disable {
        account: String,
        #[command(flatten)]
        counter: CounterArgs,
    },
    /// Enable a disabled account again.
    Enable {
        account: String,
        #[command(flatten)]
        counter: CounterArgs,
    },
    /// Set a new password (also ends a lock).
    Passwd {
        account: String,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        counter: CounterArgs,
    },
}

impl AccountsCommand {
    /// The counter part, taken out; what remains says what to do.
    fn split(self) -> (Action, CounterArgs) {
        match self {
            AccountsCommand::Add { account, name, role, password_stdin, counter } => {
                (Action::Add { account, name, role, password_stdin }, counter)
            }
            AccountsCommand::List { json, counter } => (Action::List { json }, counter),
            AccountsCommand::Disable { account, counter } => (Action::SetDisabled { account, disabled: true }, counter),
            AccountsCommand::Enable { account, counter } => (Action::SetDisabled { account, disabled: false }, counter),
            AccountsCommand::Passwd { account, password_stdin, counter } => {
                (Action::Passwd { account, password_stdin }, counter)
            }
        }
    }
}

enum Action {
    Add { account: String, name: String, role: Role, password_stdin: bool },
    List { json: bool },
    SetDisabled { account: String, disabled: bool },
    Passwd { account: String, password_stdin: bool },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("角色只能是 clerk（窗口人员）或 supervisor（值班长），不是 {text}"))
}

#[derive(Serialize)]
struct AccountDto<'a> {
    account: &'a str,
    name: &'a str,
    role: &'a str,
    disabled: bool,
    locked_until: Option<String>,
    last_sign_in_at: Option<String>,
}

impl<'a> AccountDto<'a> {
    fn of(a: &'a Account) -> Self {
        AccountDto {
            account: &a.account,
            name: &a.name,
            role: a.role.as_str(),
            disabled: a.disabled,
            locked_until: a.locked_until.map(|t| t.to_rfc3339()),
            last_sign_in_at: a.last_sign_in_at.map(|t| t.to_rfc3339()),
        }
    }
}

pub(crate) fn run(args: AccountsArgs) -> ExitCode {
    let (action, counter) = args.command.split();
    let json = matches!(action, Action::List { json: true });
    let accounts = match counter.station() {
        Ok(station) => Accounts::new(Arc::new(station)),
        Err(err) => return output::fail(&err, json),
    };
    match act(&accounts, action) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => output::fail(&err, json),
    }
}

fn act(accounts: &Accounts, action: Action) -> Result<(), Error> {
    match action {
        Action::Add { account, name, role, password_stdin } => {
            let password = new_password(password_stdin)?;
            let added = accounts.add(&NewAccount { account: &account, name: &name, role, password: &password })?;
            say!("已添加账号 {}（{}，{}）。", added.account, added.name, added.role.label());
        }
        Action::List { json } => {
            let list = accounts.list()?;
            if json {
                output::print_json(&list.iter().map(AccountDto::of).collect::<Vec<_>>());
            } else if list.is_empty() {
                say!("本机还没有账号：窗口按配置文件的 [operator] 办理，不需要登录。");
            } else {
                for a in &list {
                    let state = if a.disabled { "已停用" } else { "启用" };
                    let last = a
                        .last_sign_in_at
                        .map_or("从未登录".to_owned(), |t| format!("最近登录 {}", t.format("%F %T")));
                    say!("{}\t{}\t{}\t{state}\t{last}", a.account, a.name, a.role.label());
                }
            }
        }
        Action::SetDisabled { account, disabled } => {
            accounts.set_disabled(&account, disabled)?;
            say!("已{}账号 {account}。", if disabled { "停用" } else { "启用" });
        }
        Action::Passwd { account, password_stdin } => {
            // Fail before asking for a password that would go nowhere.
            accounts.find(&account)?;
            let password = new_password(password_stdin)?;
            accounts.reset_password(&account, &password)?;
            say!("已为账号 {account} 设置新密码（如被锁定，也已解锁）。");
        }
    }
    Ok(())
}

/// The new password: one line of stdin, or typed twice at the terminal without echo.
fn new_password(from_stdin: bool) -> Result<String, Error> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| unreadable(&e))?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = rpassword::prompt_password("新密码：").map_err(|e| unreadable(&e))?;
    let again = rpassword::prompt_password("再输入一次：").map_err(|e| unreadable(&e))?;
    if first != again {
        return Err(Error::with_fact(ErrorCode::AccountInvalid, "两次输入的密码不一致。"));
    }
    Ok(first)
}

fn unreadable(e: &std::io::Error) -> Error {
    Error::with_fact(ErrorCode::AccountInvalid, "无法读取密码：请在终端中运行，或用 --password-stdin 从标准输入提供。")
        .detail(e.to_string())
}
