//! The counter's accounts and who is signed in: sign-in with lockout, roles, and the account
//! management a supervisor (or IT at the command line) does. Every step is audited.

mod password;
mod store;

use crate::audit::{AuditContext, AuditEvent, AuditKind, Outcome};
use crate::cache::insert_audit;
use crate::error::{Error, ErrorCode, Result};
use crate::station::Station;
use chrono::{DateTime, Duration, FixedOffset};
use std::sync::{Arc, RwLock};

/// Wrong passwords in a row that lock an account.
pub const MAX_FAILED_ATTEMPTS: u32 = 5;
/// How long a lock lasts.
pub const LOCK_MINUTES: i64 = 5;
const MIN_PASSWORD_CHARS: usize = 8;

/// What an account may do. A clerk scans, views, prints and submits; a supervisor also reviews
/// the audit trail, exports it, manages accounts and changes settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Clerk,
    Supervisor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Supervisor => "supervisor",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text.trim() {
            "clerk" => Some(Role::Clerk),
            "supervisor" => Some(Role::Supervisor),
            _ => None,
        }
    }

    /// The role as the hall calls it.
    pub fn label(self) -> &'static str {
        match self {
            Role::Clerk => "窗口人员",
            Role::Supervisor => "值班长",
        }
    }

    /// The role as the operator fields sent to the gateway name it (gateway-contract.md).
    pub fn gateway_role(self) -> &'static str {
        match self {
            Role::Clerk => "窗口受理人员",
            Role::Supervisor => "值班长",
        }
    }
}

/// An account as a supervisor sees it: never its password or hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub account: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    /// Set while five wrong passwords keep it locked (a past time means unlocked).
    pub locked_until: Option<DateTime<FixedOffset>>,
    pub last_sign_in_at: Option<DateTime<FixedOffset>>,
    pub created_at: Option<DateTime<FixedOffset>>,
}

impl Account {
    /// The end of the lock, if the account is locked at `now`.
    pub fn locked_at(&self, now: DateTime<FixedOffset>) -> Option<DateTime<FixedOffset>> {
        self.locked_until.filter(|until| *until > now)
    }
}

/// An account to create.
#[derive(Debug, Clone, Copy)]
pub struct NewAccount<'a> {
    pub account: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password: &'a str,
}

/// The person signed in at this counter: the operator of every event and gateway call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub account: String,
    pub name: String,
    pub role: Role,
}

/// Who is signed in now, if anyone, and whether their session is locked; held by the station,
/// which names them in every event.
///
/// A locked shift still belongs to its person (events written meanwhile name them), but nobody
/// may act for a customer until someone signs in again.
#[derive(Debug, Default)]
pub struct Shift(RwLock<ShiftState>);

#[derive(Debug, Default)]
struct ShiftState {
    person: Option<SignedIn>,
    locked: bool,
}

impl Shift {
    /// The person whose shift it is, locked or not.
    pub fn current(&self) -> Option<SignedIn> {
        self.read().person.clone()
    }

    /// The person whose session is locked, waiting for a sign-in.
    pub fn locked(&self) -> Option<SignedIn> {
        let state = self.read();
        state.person.clone().filter(|_| state.locked)
    }

    /// Starts a shift (ending a locked one); the person whose shift it was.
    fn begin(&self, person: SignedIn) -> Option<SignedIn> {
        let mut state = self.write();
        state.locked = false;
        state.person.replace(person)
    }

    fn end(&self) -> Option<SignedIn> {
        let mut state = self.write();
        state.locked = false;
        state.person.take()
    }

    /// Locks the session of the person signed in, if any and not locked already.
    fn lock(&self) -> Option<SignedIn> {
        let mut state = self.write();
        if state.locked {
            return None;
        }
        let person = state.person.clone()?;
        state.locked = true;
        Some(person)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, ShiftState> {
        self.0.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, ShiftState> {
        self.0.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// The accounts of one counter, acting through its station (cache, clock, randomness, audit).
#[derive(Debug)]
pub struct Accounts {
    station: Arc<Station>,
}

impl Accounts {
    pub fn new(station: Arc<Station>) -> Self {
        Accounts { station }
    }

    /// Whether this counter has accounts, and so starts its shift at the sign-in screen. A counter
    /// without any keeps working as the configuration's `[operator]`.
    pub fn required(&self) -> Result<bool> {
        self.station.cache().read(store::any)
    }

    /// The person whose shift it is (also while their session is locked).
    pub fn current(&self) -> Option<SignedIn> {
        self.station.shift().current()
    }

    /// The person whose session is locked, waiting for a sign-in.
    pub fn locked(&self) -> Option<SignedIn> {
        self.station.shift().locked()
    }

    /// Signs a person in. Wrong password: `SignInFailed` saying how many tries are left (none
    /// for an unknown account: it must not tell itself apart); the fifth locks the account for
    /// five minutes (`AccountLocked`). A disabled account is told so only to someone who knows
    /// its password.
    pub fn sign_in(&self, account: &str, password: &str) -> Result<SignedIn> {
        let account = account.trim();
        let now = self.station.clock().now_china();
        let Some(row) = self.station.cache().read(|c| store::find(c, account))? else {
            password::matches(password, password::UNKNOWN_ACCOUNT_PHC);
            self.audit_as(
                "-",
                AuditEvent {
                    detail: Some("账号不存在".into()),
                    ..AuditEvent::failed(AuditKind::SignInFailed, ErrorCode::SignInFailed)
                },
            )?;
            return Err(Error::new(ErrorCode::SignInFailed));
        };
        if let Some(until) = row.account.locked_at(now) {
            self.audit_as(account, AuditEvent::failed(AuditKind::SignInFailed, ErrorCode::AccountLocked))?;
            return Err(locked(until));
        }
        if !password::matches(password, &row.password_hash) {
            return self.wrong_password(&row.account.account, now);
        }
        if row.account.disabled {
            self.audit_as(account, AuditEvent::failed(AuditKind::SignInFailed, ErrorCode::AccountDisabled))?;
            return Err(Error::new(ErrorCode::AccountDisabled));
        }
        let person = SignedIn { account: row.account.account.clone(), name: row.account.name, role: row.account.role };
        let locked = self.locked();
        let unlocks = locked.as_ref().is_some_and(|p| p.account == person.account);
        let role = person.role.as_str();
        let event = AuditEvent {
            detail: Some(if unlocks { format!("{role}；解锁") } else { role.to_owned() }),
            ..AuditEvent::new(AuditKind::SignIn, Outcome::Ok)
        };
        let ctx = self.context_of(&person.account);
        self.station.cache().transaction(|tx| {
            store::record_sign_in(tx, &person.account, now)?;
            insert_audit(tx, &ctx, &event, now)
        })?;
        // Someone forgot to sign out, or left their session locked: their shift ends, on the
        // record, and this one starts. The same person signing in again goes on with theirs.
        if let Some(previous) = self.station.shift().begin(person.clone())
            && previous.account != person.account
        {
            let why = if locked.is_some() { "会话锁定后另一账号登录" } else { "另一账号登录" };
            self.audit_as(&previous.account, signed_out(why))?;
        }
        Ok(person)
    }

    /// Locks the session after `why` (e.g. nobody touched the window for a while): nobody may act
    /// for a customer until someone signs in again; the same person signing in goes on with their
    /// shift, another ends it (see [`Accounts::sign_in`]). Audited as `session_lock`, naming the
    /// locked person. Nothing happens when nobody is signed in or the session is locked already;
    /// the locked person otherwise.
    pub fn lock_session(&self, why: &str) -> Result<Option<SignedIn>> {
        let Some(person) = self.station.shift().lock() else { return Ok(None) };
        let event =
            AuditEvent { detail: Some(why.to_owned()), ..AuditEvent::new(AuditKind::SessionLock, Outcome::Info) };
        self.audit_as(&person.account, event)?;
        Ok(Some(person))
    }

    /// Counts a wrong password, locking the account at the fifth. The count is read again inside
    /// the write transaction, so two PCs (or the app and the CLI) guessing at once cannot both
    /// count the same try.
    fn wrong_password(&self, account: &str, now: DateTime<FixedOffset>) -> Result<SignedIn> {
        let ctx = self.context_of(account);
        let locked_until = self.station.cache().transaction(|tx| {
            let row = store::find(tx, account)?.ok_or_else(|| Error::new(ErrorCode::SignInFailed))?;
            // A lock that ran out starts the count again.
            let before = if row.account.locked_until.is_some() { 0 } else { row.failed_attempts };
            let failed = before + 1;
            let (event, stored, until) = if failed >= MAX_FAILED_ATTEMPTS {
                let until = now + Duration::minutes(LOCK_MINUTES);
                let event = AuditEvent {
                    detail: Some(format!("连续 {failed} 次密码错误，锁定至 {}", until.format("%H:%M:%S"))),
                    ..AuditEvent::failed(AuditKind::AccountLocked, ErrorCode::AccountLocked)
                };
                (event, 0, Some(until))
            } else {
                let event = AuditEvent {
                    detail: Some(format!("第 {failed} 次密码错误")),
                    ..AuditEvent::failed(AuditKind::SignInFailed, ErrorCode::SignInFailed)
                };
                (event, failed, None)
            };
            store::record_failure(tx, account, stored, until)?;
            insert_audit(tx, &ctx, &event, now)?;
            Ok(until.ok_or(failed))
        })?;
        Err(match locked_until {
            Ok(until) => locked(until),
            Err(failed) => {
                Error::with_fact(ErrorCode::SignInFailed, format!("还可再试 {} 次。", MAX_FAILED_ATTEMPTS - failed))
            }
        })
    }

    /// Ends the shift (audited); nothing happens when nobody is signed in.
    pub fn sign_out(&self) -> Result<()> {
        if let Some(person) = self.station.shift().end() {
            self.audit_as(&person.account, signed_out("退出登录"))?;
        }
        Ok(())
    }

    /// Who may act for a customer now: the signed-in person, or nobody on a counter without
    /// accounts (the configuration's operator). `SignInRequired` when accounts exist and nobody
    /// is signed in, while the session is locked, or when the signed-in account was disabled or
    /// removed meanwhile (the shift then ends, on the record).
    pub fn acting(&self) -> Result<Option<SignedIn>> {
        if self.locked().is_some() {
            return Err(Error::with_fact(ErrorCode::SignInRequired, "会话已锁定。"));
        }
        let Some(person) = self.current() else {
            return if self.required()? { Err(Error::new(ErrorCode::SignInRequired)) } else { Ok(None) };
        };
        let row = self.station.cache().read(|c| store::find(c, &person.account))?;
        let gone = match &row {
            None => Some("账号已被删除"),
            Some(row) if row.account.disabled => Some("账号已被停用"),
            Some(_) => None,
        };
        if let Some(why) = gone {
            if self.station.shift().end().is_some() {
                self.audit_as(&person.account, signed_out(why))?;
            }
            return Err(Error::with_fact(ErrorCode::SignInRequired, format!("{why}。")));
        }
        // A role changed by IT takes effect at once.
        Ok(row.map(|r| SignedIn { account: r.account.account, name: r.account.name, role: r.account.role }))
    }

    /// The signed-in supervisor, or why this may not be done.
    pub fn supervisor(&self) -> Result<SignedIn> {
        match self.acting()? {
            Some(person) if person.role == Role::Supervisor => Ok(person),
            Some(_) => Err(Error::new(ErrorCode::NotPermitted)),
            // No accounts on this counter: nobody is a supervisor until IT adds one.
            None => Err(Error::with_fact(
                ErrorCode::NotPermitted,
                "本机还没有值班长账号（IT 可用 yueshang accounts add 添加）。",
            )),
        }
    }

    pub fn list(&self) -> Result<Vec<Account>> {
        self.station.cache().read(store::all)
    }

    pub fn find(&self, account: &str) -> Result<Account> {
        self.station
            .cache()
            .read(|c| store::find(c, account.trim()))?
            .map(|r| r.account)
            .ok_or_else(|| Error::new(ErrorCode::AccountNotFound))
    }

    /// Adds an account (audited; the password only as its Argon2id hash).
    pub fn add(&self, new: &NewAccount<'_>) -> Result<Account> {
        let account = valid_account(new.account)?;
        let name = valid_name(new.name)?;
        valid_password(new.password, account)?;
        let hash = password::hash(new.password, &self.station.nonces().nonce(22))?;
        let now = self.station.clock().now_china();
        let event = self.change_event(format!("新增账号 {account}（{}）", new.role.label()));
        let ctx = self.station.audit_context();
        self.station.cache().transaction(|tx| {
            if store::find(tx, account)?.is_some() {
                return Err(Error::new(ErrorCode::AccountExists));
            }
            store::insert(tx, account, name, new.role, &hash, now)?;
            insert_audit(tx, &ctx, &event, now)
        })?;
        self.find(account)
    }

    /// Disables or enables an account. A supervisor cannot disable themself (someone must be
    /// left who can undo it).
    pub fn set_disabled(&self, account: &str, disabled: bool) -> Result<Account> {
        let account = account.trim();
        if disabled && self.current().is_some_and(|p| p.account == account) {
            return Err(Error::with_fact(ErrorCode::NotPermitted, "不能停用自己正在使用的账号。"));
        }
        let what = if disabled { "停用" } else { "启用" };
        self.change(account, format!("{what}账号 {account}"), |tx| store::set_disabled(tx, account, disabled))?;
        self.find(account)
    }

    /// Sets a new password (and ends a lock). The old one is never shown or needed.
    pub fn reset_password(&self, account: &str, new_password: &str) -> Result<()> {
        let account = account.trim();
        valid_password(new_password, account)?;
        let hash = password::hash(new_password, &self.station.nonces().nonce(22))?;
        self.change(account, format!("重置账号 {account} 的密码"), |tx| store::set_password(tx, account, &hash))
    }

    /// Adds these accounts when the counter has none (the sandbox's sample accounts); returns how
    /// many were added.
    pub fn seed(&self, samples: &[NewAccount<'_>]) -> Result<usize> {
        if self.required()? {
            return Ok(0);
        }
        for sample in samples {
            self.add(sample)?;
        }
        Ok(samples.len())
    }

    fn change(
        &self,
        account: &str,
        detail: String,
        apply: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<()>,
    ) -> Result<()> {
        let now = self.station.clock().now_china();
        let event = self.change_event(detail);
        let ctx = self.station.audit_context();
        self.station.cache().transaction(|tx| {
            if store::find(tx, account)?.is_none() {
                return Err(Error::new(ErrorCode::AccountNotFound));
            }
            apply(tx)?;
            insert_audit(tx, &ctx, &event, now).map(|_| ())
        })
    }

    fn change_event(&self, detail: String) -> AuditEvent {
        AuditEvent { detail: Some(detail), ..AuditEvent::new(AuditKind::AccountChange, Outcome::Info) }
    }

    fn context_of(&self, account: &str) -> AuditContext {
        AuditContext { operator_account: account.to_owned(), ..self.station.audit_context() }
    }

    fn audit_as(&self, account: &str, event: AuditEvent) -> Result<i64> {
        let ctx = self.context_of(account);
        self.station.cache().append_audit(&ctx, &event, self.station.clock().now_china())
    }
}

fn signed_out(why: &str) -> AuditEvent {
    AuditEvent { detail: Some(why.to_owned()), ..AuditEvent::new(AuditKind::SignOut, Outcome::Info) }
}

fn locked(until: DateTime<FixedOffset>) -> Error {
    Error::with_fact(ErrorCode::AccountLocked, format!("请在 {} 后再试。", until.format("%H:%M")))
}

fn invalid(fact: &str) -> Error {
    Error::with_fact(ErrorCode::AccountInvalid, fact)
}

/// Account names are typed at a keyboard by clerks and IT: letters, digits, `_ . -`, 1–32.
fn valid_account(account: &str) -> Result<&str> {
    let account = account.trim();
    let ok = (1..=32).contains(&account.len())
        && account.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok { Ok(account) } else { Err(invalid("账号只能由字母、数字和 _ . - 组成，1 到 32 位。")) }
}

fn valid_name(name: &str) -> Result<&str> {
    let name = name.trim();
    let ok = (1..=32).contains(&name.chars().count()) && !name.chars().any(char::is_control);
    if ok { Ok(name) } else { Err(invalid("姓名不能为空，最多 32 个字。")) }
}

fn valid_password(password: &str, account: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(invalid(&format!("密码至少 {MIN_PASSWORD_CHARS} 位。")));
    }
    if chars > 128 {
        return Err(invalid("密码最多 128 位。"));
    }
    if password.trim() == account.trim() {
        return Err(invalid("密码不能与账号相同。"));
    }
    Ok(())
}
