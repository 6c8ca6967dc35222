//! The SQLite cache: enterprises, authorizations, licenses with their files (content sealed under
//! each customer's data key), handling numbers and the audit trail. Each license is written in one
//! transaction, so a crash never leaves half of one.

use crate::audit::chain::{self, ChainedEvent};
use crate::audit::checkpoint::{self, ChainStatus, SignedCheckpoint};
use crate::audit::key::CounterKey;
use crate::audit::{AuditContext, AuditEvent, AuditRecord};
use crate::domain::{
    Authorization, BizNum, Counter, Enterprise, FaceFields, LicenseStatus, LicenseSummary, ServiceItem, Uscc,
};
use crate::error::{Error, ErrorCode, Result};
use crate::gateway::LicenseFile;
use crate::keystore::{KeyStore, SealKey};
use crate::vault::{self, KeyInfo, Vault};
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
        M::up(include_str!("schema_7.sql")),
        M::up(include_str!("schema_8.sql")),
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
    vault: Vault,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cache")
    }
}

impl Cache {
    /// Opens (creating if needed) the cache file, in WAL mode, migrated to the latest schema, and
    /// unlocks it with its storage key from `keys` (made there for a new database). A database
    /// whose key is not found is `StorageKeyMissing`.
    pub fn open(path: &Path, keys: &KeyStore) -> Result<Self> {
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
        let mut conn = Cache::prepare(conn)?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // When the key was made is bookkeeping for IT, not logic: the real clock is fine here.
        let vault = Vault::unlock(&tx, keys, crate::clock::Clock::now_china(&crate::clock::SystemClock))?;
        tx.commit()?;
        Ok(Cache { conn: Mutex::new(conn), vault })
    }

    /// A cache that lives in memory only (tests), sealed with a key that dies with it.
    pub fn open_in_memory() -> Result<Self> {
        Ok(Cache { conn: Mutex::new(Cache::prepare(Connection::open_in_memory()?)?), vault: Vault::memory() })
    }

    fn prepare(mut conn: Connection) -> Result<Connection> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted rows are overwritten with zeros, so a purged customer's pages keep nothing.
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations().to_latest(&mut conn).map_err(Error::storage)?;
        Ok(conn)
    }

    /// Moves the WAL's pages into the database and truncates the WAL to nothing, so pages of erased
    /// rows do not linger there. Best effort: a reader in another process (the CLI beside the app)
    /// keeps the WAL for now, and the next purge or SQLite's own checkpoint clears it.
    pub(crate) fn truncate_wal(&self) {
        let busy: rusqlite::Result<i64> = self.conn().query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0));
        match busy {
            Ok(0) => {}
            Ok(_) => tracing::warn!("WAL not truncated after a purge: another process is reading the cache"),
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint after a purge failed"),
        }
    }

    /// Wipes the sealed cache of a database whose storage key is lost (or that IT wants emptied):
    /// every customer's rows, data keys and the counter's sealed secrets go, a new storage key is
    /// made, and the reset is audited. The audit trail, which holds no content, stays.
    pub fn reset(path: &Path, keys: &KeyStore, operator: &str, now: DateTime<FixedOffset>) -> Result<Cache> {
        let mut conn = Cache::prepare(Connection::open(path)?)?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let old: Option<(String, String)> = tx
            .query_row("SELECT backend, key_id FROM storage_key WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        for table in [
            "files",
            "licenses",
            "authorized_licenses",
            "authorizations",
            "enterprises",
            "data_keys",
            "sealed_secrets",
            "storage_key",
        ] {
            tx.execute(&format!("DELETE FROM {table}"), [])?;
        }
        tx.commit()?;
        drop(conn);
        // The old key opens nothing any more; forget it where it was (if this PC has it at all).
        if let Some((backend, key_id)) = old {
            let forgotten = crate::keystore::Backend::parse(&backend)
                .map(|kind| keys.backend(kind).and_then(|b| b.delete(&key_id)));
            if let Some(Err(e)) = forgotten {
                tracing::warn!(error = %e, "the old storage key could not be deleted");
            }
        }
        let cache = Cache::open(path, keys)?;
        let event = AuditEvent {
            detail: Some(format!("清空加密缓存，新的存储密钥保存在{}", cache.key_info().backend.label())),
            ..AuditEvent::new(crate::audit::AuditKind::StorageReset, crate::audit::Outcome::Ok)
        };
        let (hall_code, counter) = cache.last_place()?.unwrap_or_default();
        let ctx = AuditContext { operator_account: operator.to_owned(), hall_code, counter };
        cache.append_audit(&ctx, &event, now)?;
        cache.truncate_wal();
        Ok(cache)
    }

    /// The hall and counter of the newest audit event: who "this database" is, for commands run
    /// without a configuration file.
    pub fn last_place(&self) -> Result<Option<(String, String)>> {
        Ok(self
            .conn()
            .query_row("SELECT hall_code, counter FROM audit_events ORDER BY seq DESC LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?)
    }

    /// Pages the database file has now.
    pub fn page_count(&self) -> Result<u32> {
        Ok(self.conn().query_row("PRAGMA page_count", [], |r| r.get(0))?)
    }

    /// Caps the database at `pages` pages, as a full disk would: tests of a write that runs out of
    /// room use it (SQLite answers SQLITE_FULL exactly as when the disk is full).
    #[doc(hidden)]
    pub fn limit_pages(&self, pages: u32) -> Result<()> {
        self.conn().query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))?;
        Ok(())
    }

    /// Where this database's storage key is kept (for the doctor and the About panel).
    pub fn key_info(&self) -> KeyInfo {
        self.vault.info()
    }

    pub(crate) fn vault(&self) -> &Vault {
        &self.vault
    }

    /// Opens one sealed value of a customer's license; a value that does not open (changed on
    /// disk, or its customer purged) is `StorageFailed` naming the license, so the others still open.
    pub(crate) fn open_sealed(
        &self,
        conn: &Connection,
        column: &str,
        auth_id: &str,
        license_code: &str,
        sealed: &[u8],
    ) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        self.data_key(conn, auth_id)?
            .open(&vault::aad(column, auth_id, license_code), sealed)
            .ok_or_else(|| damaged(conn, auth_id, license_code))
    }

    fn data_key(&self, conn: &Connection, auth_id: &str) -> Result<SealKey> {
        self.vault.data_key(conn, auth_id)?.ok_or_else(|| {
            Error::with_fact(ErrorCode::StorageFailed, "这位办事人的证照缓存已按保留期限清除，请重新扫码。")
        })
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
        let auth_id = authorization.auth_id.as_str();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO enterprises (uscc, name, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (uscc) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
            params![enterprise.uscc.as_str(), enterprise.name, now.to_rfc3339()],
        )?;
        let key = self.vault.new_data_key(&tx, auth_id, now)?;
        let legal_rep =
            key.seal(&vault::aad("authorizations.legal_rep", auth_id, ""), enterprise.legal_rep_name.as_bytes());
        tx.execute(
            "INSERT INTO authorizations (auth_id, uscc, service_item_code, service_item_name, biz_num, expires_at,
             created_at, legal_rep_sealed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                auth_id,
                enterprise.uscc.as_str(),
                item.code,
                item.name,
                biz_num.as_str(),
                authorization.expires_at.to_rfc3339(),
                now.to_rfc3339(),
                legal_rep
            ],
        )?;
        for (position, l) in authorization.licenses.iter().enumerate() {
            let code = l.summary.license_code.as_str();
            let auth_code =
                key.seal(&vault::aad("authorized_licenses.auth_code", auth_id, code), l.auth_code.expose().as_bytes());
            let summary = key
                .seal(&vault::aad("authorized_licenses.summary", auth_id, code), summary_json(&l.summary).as_bytes());
            tx.execute(
                "INSERT INTO authorized_licenses (auth_id, position, license_code, name, auth_code_sealed, summary_sealed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![auth_id, position as i64, code, l.summary.name, auth_code, summary],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Stores one license and its file in a single transaction; a second fetch replaces the first.
    pub fn store_license(&self, record: &LicenseRecord<'_>) -> Result<()> {
        let s = record.summary;
        let face_fields = zeroize::Zeroizing::new(serde_json::to_vec(&record.face_fields.0).map_err(Error::storage)?);
        let (auth_id, code) = (record.auth_id, s.license_code.as_str());
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let key = self.data_key(&tx, auth_id)?;
        let face_fields = key.seal(&vault::aad("licenses.face_fields", auth_id, code), &face_fields);
        tx.execute(
            "INSERT OR REPLACE INTO licenses (license_code, auth_id, uscc, name, license_type, id_code, issue_org_name,
             begin_date, expiry_date, license_status, abolish_reason, status_at_fetch, face_fields_sealed, source,
             fetched_at)
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
            let content = key.seal(&vault::aad("files.content", auth_id, code), &file.bytes);
            tx.execute(
                "INSERT OR REPLACE INTO files (license_code, auth_id, file_name, mime, size, sha256, use_cause,
                 content_sealed, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    s.license_code,
                    record.auth_id,
                    file.file_name,
                    file.mime,
                    file.bytes.len() as i64,
                    file.sha256,
                    use_cause,
                    content,
                    record.fetched_at.to_rfc3339()
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The auth code of one authorized license, to fetch it again (重试).
    pub fn auth_code(&self, auth_id: &str, license_code: &str) -> Result<Option<crate::secret::Secret>> {
        let sql = "SELECT auth_code_sealed FROM authorized_licenses WHERE auth_id = ?1 AND license_code = ?2";
        let plain =
            self.opened(sql, params![auth_id, license_code], "authorized_licenses.auth_code", auth_id, license_code)?;
        Ok(plain.map(|p| crate::secret::Secret::new(String::from_utf8_lossy(&p))))
    }

    /// The legal representative's name as the authorization recorded it.
    pub fn legal_rep_name(&self, auth_id: &str) -> Result<Option<String>> {
        let sql = "SELECT legal_rep_sealed FROM authorizations WHERE auth_id = ?1";
        // Bound to no license: it is the authorization's own value.
        let plain = self.opened(sql, [auth_id], "authorizations.legal_rep", auth_id, "")?;
        Ok(plain.map(|p| String::from_utf8_lossy(&p).into_owned()))
    }

    /// The face fields of a cached license.
    pub fn face_fields(&self, auth_id: &str, license_code: &str) -> Result<Option<FaceFields>> {
        let sql = "SELECT face_fields_sealed FROM licenses WHERE auth_id = ?1 AND license_code = ?2";
        let opened = self.opened(sql, params![auth_id, license_code], "licenses.face_fields", auth_id, license_code)?;
        let Some(plain) = opened else { return Ok(None) };
        Ok(Some(FaceFields(serde_json::from_slice(&plain).map_err(Error::storage)?)))
    }

    /// One sealed value, selected by `sql` with `args`, opened as `column` of this authorization and
    /// license; `None` when there is no such row (or a NULL value).
    fn opened(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
        column: &str,
        auth_id: &str,
        license_code: &str,
    ) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>> {
        let conn = self.conn();
        let sealed: Option<Option<Vec<u8>>> = conn.query_row(sql, args, |r| r.get(0)).optional()?;
        let Some(Some(sealed)) = sealed else { return Ok(None) };
        self.open_sealed(&conn, column, auth_id, license_code, &sealed).map(Some)
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

    /// The bytes of a cached file, opened; zeroized when the caller drops them.
    pub fn file_content(&self, auth_id: &str, license_code: &str) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>> {
        let sql = "SELECT content_sealed FROM files WHERE auth_id = ?1 AND license_code = ?2";
        self.opened(sql, params![auth_id, license_code], "files.content", auth_id, license_code)
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

/// Why one sealed value of a license does not open: named, so the clerk knows which one to fetch again.
fn damaged(conn: &Connection, auth_id: &str, license_code: &str) -> Error {
    let name: Option<String> = conn
        .query_row(
            "SELECT name FROM authorized_licenses WHERE auth_id = ?1 AND license_code = ?2",
            params![auth_id, license_code],
            |r| r.get(0),
        )
        .optional()
        .ok()
        .flatten();
    let what = match name {
        Some(name) => format!("证照“{name}”（{license_code}）"),
        None if license_code.is_empty() => "这位办事人".to_owned(),
        None => format!("证照 {license_code}"),
    };
    Error::with_fact(ErrorCode::StorageFailed, format!("本机缓存中{what}的数据已损坏，无法打开；请点“重试”重新获取。"))
        .detail(format!("SM4-GCM tag mismatch: auth {auth_id}, license {license_code}"))
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
