//! The `accounts` table: reading and writing account rows (never a password in clear).

use super::{Account, Role};
use crate::cache::audit_time;
use crate::error::{Error, Result};
use chrono::{DateTime, FixedOffset};
use rusqlite::{Connection, OptionalExtension, params};

/// A row as stored, with the password hash and the failure count the service needs.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub(super) account: Account,
    pub(super) password_hash: String,
    pub(super) failed_attempts: u32,
}

const COLUMNS: &str =
    "account, name, role, disabled, locked_until, last_sign_in_at, created_at, password_hash, failed_attempts";

fn time(text: Option<String>) -> Option<DateTime<FixedOffset>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let role: String = r.get(2)?;
    Ok(Row {
        account: Account {
            account: r.get(0)?,
            name: r.get(1)?,
            // The table's CHECK admits only these two.
            role: Role::parse(&role).unwrap_or(Role::Clerk),
            disabled: r.get(3)?,
            locked_until: time(r.get(4)?),
            last_sign_in_at: time(r.get(5)?),
            created_at: time(r.get(6)?),
        },
        password_hash: r.get(7)?,
        failed_attempts: r.get(8)?,
    })
}

pub(super) fn find(conn: &Connection, account: &str) -> Result<Option<Row>> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE account = ?1");
    Ok(conn.query_row(&sql, [account], row).optional()?)
}

pub(super) fn all(conn: &Connection) -> Result<Vec<Account>> {
    let sql = format!("SELECT {COLUMNS} FROM accounts ORDER BY role DESC, account");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], row)?.map(|r| r.map(|r| r.account)).collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub(super) fn any(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM accounts)", [], |r| r.get(0))?)
}

pub(super) fn insert(
    conn: &Connection,
    account: &str,
    name: &str,
    role: Role,
    password_hash: &str,
    now: DateTime<FixedOffset>,
) -> Result<()> {
    conn.execute(
        "INSERT INTO accounts (account, name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![account, name, role.as_str(), password_hash, audit_time(now)],
    )?;
    Ok(())
}

pub(super) fn set_disabled(conn: &Connection, account: &str, disabled: bool) -> Result<()> {
    changed_one(conn.execute("UPDATE accounts SET disabled = ?2 WHERE account = ?1", params![account, disabled])?)
}

/// A new password also ends a lock: the supervisor who reset it has spoken to the person.
pub(super) fn set_password(conn: &Connection, account: &str, password_hash: &str) -> Result<()> {
    changed_one(conn.execute(
        "UPDATE accounts SET password_hash = ?2, failed_attempts = 0, locked_until = NULL WHERE account = ?1",
        params![account, password_hash],
    )?)
}

pub(super) fn record_failure(
    conn: &Connection,
    account: &str,
    failed_attempts: u32,
    locked_until: Option<DateTime<FixedOffset>>,
) -> Result<()> {
    changed_one(conn.execute(
        "UPDATE accounts SET failed_attempts = ?2, locked_until = ?3 WHERE account = ?1",
        params![account, failed_attempts, locked_until.map(audit_time)],
    )?)
}

pub(super) fn record_sign_in(conn: &Connection, account: &str, now: DateTime<FixedOffset>) -> Result<()> {
    changed_one(conn.execute(
        "UPDATE accounts SET failed_attempts = 0, locked_until = NULL, last_sign_in_at = ?2 WHERE account = ?1",
        params![account, audit_time(now)],
    )?)
}

fn changed_one(rows: usize) -> Result<()> {
    if rows == 1 { Ok(()) } else { Err(Error::storage(format!("accounts: {rows} rows changed, expected 1"))) }
}
