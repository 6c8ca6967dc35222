//! The SQLite cache: enterprises, authorizations, licenses with their files, handling numbers and
//! the audit trail. Each license is written in one transaction, so a crash never leaves half of one.

use crate::audit::chain::{self, ChainedEvent};
use crate::audit::checkpoint::{self, ChainStatus, SignedCheckpoint};
use crate::audit::key::CounterKey;
use crate::audit::{AuditContext, AuditEvent, AuditRecord};
use crate::domain::{
    Authorization, BizNum, Counter, Enterprise, FaceFields, LicenseStatus, LicenseSummary, ServiceItem, Uscc,
};
use crate::error::{Error, Result};
use crate::gateway::LicenseFile;
use chrono::{DateTime, FixedOffset, NaiveDate};
use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("schema.sql")),
        M::up(include_str!("schema_2.sql")),
        M::up(include_str!("schema_3.sql")),
        M::up_with_hook(include_str!("schema_4.sql"), crate::audit::chain::chain_existing_events),
        M::up(include_str!("schema_5.sql")),
        M::up(include_str!("schema_6.sql")),
    ])
}

/// Where a license record came from: a scanned code's authorization, or a query by holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Code2Auth,
    LicenseAuth,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Code2Auth => "code2auth",
            Source::LicenseAuth => "license_auth",
        }
    }
}

/// Everything stored for one license of one authorization, written together or not at all.
#[derive(Debug)]
pub struct LicenseRecord<'a> {
    pub auth_id: &'a str,
    pub uscc: &'a Uscc,
    pub summary: &'a LicenseSummary,
    pub abolish_reason: Option<&'a str>,
    pub face_fields: &'a FaceFields,
    pub status: LicenseStatus,
    pub source: Source,
    pub fetched_at: DateTime<FixedOffset>,
    /// The annotated copy and the reason of use stamped on it; `None` only for a revoked license.
    pub file: Option<(&'a LicenseFile, &'a str)>,
}

/// A cached file's facts, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub file_name: String,
    pub mime: String,
    pub size: u64,
    pub sha256: String,
}

/// A cached license as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedLicense {
    pub license_code: String,
    pub auth_id: String,
    pub uscc: String,
    pub enterprise_name: String,
    pub name: String,
    pub id_code: String,
    pub status_at_fetch: LicenseStatus,
    pub fetched_at: String,
    pub file: Option<FileInfo>,
}

pub struct Cache {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cache")
    }
}

impl Cache {
    /// Opens (creating if needed) the cache file, in WAL mode, migrated to the latest schema.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::with_fact(crate::ErrorCode::StorageFailed, format!("无法创建数据目录 {}。", dir.display()))
                    .detail(e.to_string())
            })?;
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // WAL with NORMAL survives a process crash intact; only a power cut may lose the last
        // commits, never corrupt them.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Cache::prepare(conn)
    }

    /// A cache that lives in memory only (tests).
    pub fn open_in_memory() -> Result<Self> {
        Cache::prepare(Connection::open_in_memory()?)
    }

    fn prepare(mut conn: Connection) -> Result<Self> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations().to_latest(&mut conn).map_err(Error::storage)?;
        Ok(Cache { conn: Mutex::new(conn) })
    }

    /// Runs `f` in one transaction, committed only if it returns `Ok`: the rooms of the core that
    /// own their tables (copies, outbox) write their rows and the audit event together through it.
    ///
    /// IMMEDIATE: these transactions read before they write (the chain's head, the outbox row),
    /// and another process on the same file (the CLI beside the app) must make them wait for the
    /// write lock at the start, not fail them halfway with a stale snapshot.
    pub(crate) fn transaction<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Reads with the connection (no transaction of its own).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        f(&self.conn())
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back), so
        // the poisoned guard is still safe to use.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next handling number of this counter for `day`, never reused after a restart.
    pub fn next_biz_num(&self, counter: &Counter, day: NaiveDate) -> Result<BizNum> {
        let key = counter.device_id();
        let day_text = day.format("%Y-%m-%d").to_string();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO biz_num_sequence (counter_key, day, last_seq) VALUES (?1, ?2, 1)
             ON CONFLICT (counter_key, day) DO UPDATE SET last_seq = last_seq + 1",
            params![key, day_text],
        )?;
        let seq: u32 = tx.query_row(
            "SELECT last_seq FROM biz_num_sequence WHERE counter_key = ?1 AND day = ?2",
            params![key, day_text],
            |r| r.get(0),
        )?;
        tx.commit()?;
        Ok(BizNum::compose(&counter.hall_code, &counter.counter, day, seq))
    }

    /// Stores the enterprise and what it authorized, in one transaction.
    pub fn store_authorization(
        &self,
        enterprise: &Enterprise,
        authorization: &Authorization,
        item: &ServiceItem,
        biz_num: &BizNum,
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO enterprises (uscc, name, legal_rep_name, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (uscc) DO UPDATE SET name = excluded.name, legal_rep_name = excluded.legal_rep_name,
             updated_at = excluded.updated_at",
            params![enterprise.uscc.as_str(), enterprise.name, enterprise.legal_rep_name, now.to_rfc3339()],
        )?;
        tx.execute(
            "INSERT INTO authorizations (auth_id, uscc, service_item_code, service_item_name, biz_num, expires_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                authorization.auth_id,
                enterprise.uscc.as_str(),
                item.code,
                item.name,
                biz_num.as_str(),
                authorization.expires_at.to_rfc3339(),
                now.to_rfc3339()
            ],
        )?;
        for (position, l) in authorization.licenses.iter().enumerate() {
            tx.execute(
                "INSERT INTO authorized_licenses (auth_id, position, license_code, auth_code, name, summary_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    authorization.auth_id,
                    position as i64,
                    l.summary.license_code,
                    l.auth_code,
                    l.summary.name,
                    summary_json(&l.summary)
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Stores one license and its file in a single transaction; a second fetch replaces the first.
    pub fn store_license(&self, record: &LicenseRecord<'_>) -> Result<()> {
        let s = record.summary;
        let face_fields = serde_json::to_string(&record.face_fields.0).map_err(Error::storage)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO licenses (license_code, auth_id, uscc, name, license_type, id_code, issue_org_name,
             begin_date, expiry_date, license_status, abolish_reason, status_at_fetch, face_fields, source, fetched_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                s.license_code,
                record.auth_id,
                record.uscc.as_str(),
                s.name,
                s.license_type,
                s.id_code,
                s.issue_org_name,
                s.begin_date.map(|d| d.to_string()),
                s.expiry_date.map(|d| d.to_string()),
                s.issue_state.as_str(),
                record.abolish_reason,
                record.status.as_str(),
                face_fields,
                record.source.as_str(),
                record.fetched_at.to_rfc3339()
            ],
        )?;
        if let Some((file, use_cause)) = record.file {
            tx.execute(
                "INSERT OR REPLACE INTO files (license_code, auth_id, file_name, mime, size, sha256, use_cause, content, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    s.license_code,
                    record.auth_id,
                    file.file_name,
                    file.mime,
                    file.bytes.len() as i64,
                    file.sha256,
                    use_cause,
                    file.bytes,
                    record.fetched_at.to_rfc3339()
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The auth code of one authorized license, to fetch it again (重试).
    pub fn auth_code(&self, auth_id: &str, license_code: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT auth_code FROM authorized_licenses WHERE auth_id = ?1 AND license_code = ?2",
                params![auth_id, license_code],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Every cached license, newest first.
    pub fn licenses(&self) -> Result<Vec<CachedLicense>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT l.license_code, l.auth_id, l.uscc, COALESCE(e.name, ''), l.name, l.id_code, l.status_at_fetch,
                    l.fetched_at, f.file_name, f.mime, f.size, f.sha256
             FROM licenses l
             LEFT JOIN enterprises e ON e.uscc = l.uscc
             LEFT JOIN files f ON f.license_code = l.license_code AND f.auth_id = l.auth_id
             ORDER BY l.fetched_at DESC, l.rowid DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            let file_name: Option<String> = r.get(8)?;
            let status: String = r.get(6)?;
            Ok(CachedLicense {
                license_code: r.get(0)?,
                auth_id: r.get(1)?,
                uscc: r.get(2)?,
                enterprise_name: r.get(3)?,
                name: r.get(4)?,
                id_code: r.get(5)?,
                status_at_fetch: LicenseStatus::parse(&status).unwrap_or(LicenseStatus::Revoked),
                fetched_at: r.get(7)?,
                file: match file_name {
                    Some(file_name) => Some(FileInfo {
                        file_name,
                        mime: r.get(9)?,
                        size: r.get::<_, i64>(10)? as u64,
                        sha256: r.get(11)?,
                    }),
                    None => None,
                },
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The bytes of a cached file.
    pub fn file_content(&self, auth_id: &str, license_code: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT content FROM files WHERE auth_id = ?1 AND license_code = ?2",
                params![auth_id, license_code],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Appends one event to the audit trail, in a transaction of its own so that reading the
    /// chain's head and writing the next link cannot be split by another process.
    pub fn append_audit(&self, ctx: &AuditContext, event: &AuditEvent, at: DateTime<FixedOffset>) -> Result<i64> {
        self.transaction(|tx| insert_audit(tx, ctx, event, at))
    }

    /// Events `first_seq ..= last_seq` as chained, in `seq` order, streamed one row at a time.
    /// The cache is held meanwhile (one snapshot), so `each` must not call the cache (it would wait
    /// for itself) and should write, not wait.
    pub fn chained_events(
        &self,
        first_seq: i64,
        last_seq: i64,
        each: &mut dyn FnMut(ChainedEvent) -> Result<()>,
    ) -> Result<()> {
        checkpoint::each_chained(&self.conn(), first_seq, last_seq, each)
    }

    /// The lowest and highest `seq` of the events whose `at` falls in `[from, to_exclusive)`.
    pub fn seq_range_between(
        &self,
        from: DateTime<FixedOffset>,
        to_exclusive: DateTime<FixedOffset>,
    ) -> Result<Option<(i64, i64)>> {
        checkpoint::seq_range_between(&self.conn(), from, to_exclusive)
    }

    /// Signs a checkpoint of events `first_seq ..= last_seq` (after checking they link up: a range
    /// that does not is `AuditTampered`) and stores it with the others.
    pub fn sign_checkpoint(
        &self,
        key: &CounterKey,
        hall: &str,
        counter: &str,
        first_seq: i64,
        last_seq: i64,
        signed_at: DateTime<FixedOffset>,
    ) -> Result<SignedCheckpoint> {
        self.transaction(|tx| checkpoint::sign(tx, key, (hall, counter), first_seq, last_seq, signed_at))
    }

    /// Walks the whole chain and every stored checkpoint. `AuditTampered` names the lowest `seq`
    /// that does not verify in its message, and as `seq=N: …` in its detail, which
    /// [`crate::audit::checkpoint::tampered_seq`] reads back.
    pub fn verify_chain(&self) -> Result<ChainStatus> {
        checkpoint::verify(&self.conn())
    }

    /// The audit trail in order.
    pub fn audit_events(&self) -> Result<Vec<AuditRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, at, kind, outcome, error_code, operator_account, hall_code, counter, service_item_code,
                    biz_num, uscc, auth_id, license_code, detail, seq
             FROM audit_events ORDER BY seq",
        )?;
        let rows = stmt.query_map([], audit_record)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Licenses stored without the file they must have: the invariant that tests check after faults.
    pub fn partial_license_count(&self) -> Result<u64> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM licenses l
             WHERE l.status_at_fetch != 'revoked'
               AND NOT EXISTS (SELECT 1 FROM files f WHERE f.license_code = l.license_code AND f.auth_id = l.auth_id)",
            [],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }
}

/// An audit row selected as `id, at, kind, outcome, error_code, operator_account, hall_code,
/// counter, service_item_code, biz_num, uscc, auth_id, license_code, detail, seq`.
pub(crate) fn audit_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRecord> {
    let at: String = r.get(1)?;
    Ok(AuditRecord {
        id: r.get(0)?,
        at: DateTime::parse_from_rfc3339(&at)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e)))?,
        kind: r.get(2)?,
        outcome: r.get(3)?,
        error_code: r.get(4)?,
        operator_account: r.get(5)?,
        hall_code: r.get(6)?,
        counter: r.get(7)?,
        service_item_code: r.get(8)?,
        biz_num: r.get(9)?,
        uscc: r.get(10)?,
        auth_id: r.get(11)?,
        license_code: r.get(12)?,
        detail: r.get(13)?,
        seq: r.get(14)?,
    })
}

/// Appends one event to the audit trail on this connection or transaction, so that a room of the
/// core can write its rows and their event together. The event is chained on the same connection:
/// its `seq` follows the head read there and its hashes are written in the same INSERT, so a crash
/// leaves it in the chain whole or not at all.
pub(crate) fn insert_audit(
    conn: &Connection,
    ctx: &AuditContext,
    event: &AuditEvent,
    at: DateTime<FixedOffset>,
) -> Result<i64> {
    let (last_seq, prev_hash) = chain::head(conn)?;
    let seq = last_seq + 1;
    let values = [
        Some(seq.to_string()),
        Some(audit_time(at)),
        Some(event.kind.as_str().to_owned()),
        Some(event.outcome.as_str().to_owned()),
        event.error_code.map(|c| c.as_str().to_owned()),
        Some(ctx.operator_account.clone()),
        Some(ctx.hall_code.clone()),
        Some(ctx.counter.clone()),
        event.service_item_code.clone(),
        event.biz_num.clone(),
        event.uscc.clone(),
        event.auth_id.clone(),
        event.license_code.clone(),
        event.detail.clone(),
    ];
    let chained = ChainedEvent { values: values.to_vec(), prev_hash, hash: String::new() };
    let hash = chained.computed_hash();
    let [_, at, kind, outcome, error_code, operator, hall, counter, item, biz_num, uscc, auth_id, license, detail] =
        values;
    conn.execute(
        "INSERT INTO audit_events (seq, at, kind, outcome, error_code, operator_account, hall_code, counter,
         service_item_code, biz_num, uscc, auth_id, license_code, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        params![
            seq,
            at,
            kind,
            outcome,
            error_code,
            operator,
            hall,
            counter,
            item,
            biz_num,
            uscc,
            auth_id,
            license,
            detail,
            chained.prev_hash,
            hash
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// An event's `at` as the format fixes it: RFC 3339 in China time with milliseconds
/// (`2026-11-29T10:02:03.417+08:00`), hashed as this very text.
pub(crate) fn audit_time(at: DateTime<FixedOffset>) -> String {
    at.with_timezone(&crate::clock::china_tz()).to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

fn summary_json(s: &LicenseSummary) -> String {
    serde_json::json!({
        "license_code": s.license_code,
        "name": s.name,
        "license_type": s.license_type,
        "id_code": s.id_code,
        "issue_org_name": s.issue_org_name,
        "begin_date": s.begin_date.map(|d| d.to_string()),
        "expiry_date": s.expiry_date.map(|d| d.to_string()),
        "license_status": s.issue_state.as_str(),
    })
    .to_string()
}

#[cfg(test)]
mod tests;
