//! The database side of sealing: which storage key a database was sealed with (and where it is
//! kept), one data key per customer wrapped by it, and the counter's own sealed secrets.

use crate::error::{Error, ErrorCode, Result};
use crate::keystore::{Backend, KeyStore, SealKey};
use chrono::{DateTime, FixedOffset};
use rusqlite::{Connection, OptionalExtension, params};
use zeroize::Zeroizing;

/// What the check value opens to: a wrong key is told at open, not at the first license.
const CHECK_TEXT: &[u8] = b"yueshang-counter storage key";

/// The storage key of one database, unlocked, and where it is kept.
pub struct Vault {
    master: SealKey,
    backend: Backend,
    location: String,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Vault({}: {})", self.backend.as_str(), self.location)
    }
}

/// Where the storage key of a database is kept, for the doctor and the About panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub backend: Backend,
    /// A path, or the keyring entry: never the key.
    pub location: String,
}

impl Vault {
    /// A key that lives and dies with an in-memory cache (tests).
    pub(crate) fn memory() -> Vault {
        Vault { master: SealKey::random(), backend: Backend::Memory, location: "memory".into() }
    }

    /// The storage key this database was sealed with, from the backend it recorded; made (in the
    /// store's preferred backend) for a database that has none yet. Inside the caller's IMMEDIATE
    /// transaction, so two processes opening a new database make one key between them.
    pub(crate) fn unlock(tx: &Connection, keys: &KeyStore, now: DateTime<FixedOffset>) -> Result<Vault> {
        let recorded: Option<(String, String, Vec<u8>)> = tx
            .query_row("SELECT backend, key_id, check_value FROM storage_key WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        match recorded {
            Some((backend, key_id, check)) => Vault::load(keys, &backend, &key_id, &check),
            None => Vault::create(tx, keys, now),
        }
    }

    fn load(keys: &KeyStore, backend: &str, key_id: &str, check: &[u8]) -> Result<Vault> {
        let kind = Backend::parse(backend).ok_or_else(|| {
            Error::with_fact(ErrorCode::StorageKeyMissing, format!("数据库记录的密钥存储“{backend}”无法识别。"))
        })?;
        let store = keys.backend(kind)?;
        let location = store.location(key_id);
        let bytes = store.load(key_id)?.ok_or_else(|| {
            Error::with_fact(
                ErrorCode::StorageKeyMissing,
                format!(
                    "缓存的存储密钥不在{}（{location}）：数据库可能是从别的电脑复制来的，或密钥已被删除。",
                    kind.label()
                ),
            )
        })?;
        let master = SealKey::from_bytes(&bytes)
            .filter(|master| master.open(&check_aad(key_id), check).is_some_and(|t| t.as_slice() == CHECK_TEXT))
            .ok_or_else(|| {
                Error::with_fact(
                    ErrorCode::StorageKeyMissing,
                    format!("{}（{location}）中的存储密钥与这个数据库不匹配。", kind.label()),
                )
            })?;
        Ok(Vault { master, backend: kind, location })
    }

    fn create(tx: &Connection, keys: &KeyStore, now: DateTime<FixedOffset>) -> Result<Vault> {
        let store = keys.for_new_key()?;
        let key_id = hex::encode(SealKey::random().as_bytes());
        let master = SealKey::random();
        store.store(&key_id, master.as_bytes())?;
        let check = master.seal(&check_aad(&key_id), CHECK_TEXT);
        tx.execute(
            "INSERT INTO storage_key (id, backend, key_id, check_value, created_at) VALUES (1, ?1, ?2, ?3, ?4)",
            params![store.kind().as_str(), key_id, check, now.to_rfc3339()],
        )?;
        tracing::info!(backend = store.kind().as_str(), "made the cache's storage key");
        Ok(Vault { master, backend: store.kind(), location: store.location(&key_id) })
    }

    pub fn info(&self) -> KeyInfo {
        KeyInfo { backend: self.backend, location: self.location.clone() }
    }

    /// Makes the data key of a new authorization and stores it wrapped, in the caller's transaction.
    pub(crate) fn new_data_key(&self, tx: &Connection, auth_id: &str, now: DateTime<FixedOffset>) -> Result<SealKey> {
        let key = SealKey::random();
        let wrapped = self.master.seal(&data_key_aad(auth_id), key.as_bytes());
        tx.execute(
            "INSERT INTO data_keys (auth_id, wrapped, created_at) VALUES (?1, ?2, ?3)",
            params![auth_id, wrapped, now.to_rfc3339()],
        )?;
        Ok(key)
    }

    /// The data key of an authorization; `None` once its customer was purged (or never sealed).
    pub(crate) fn data_key(&self, conn: &Connection, auth_id: &str) -> Result<Option<SealKey>> {
        let wrapped: Option<Vec<u8>> =
            conn.query_row("SELECT wrapped FROM data_keys WHERE auth_id = ?1", [auth_id], |r| r.get(0)).optional()?;
        let Some(wrapped) = wrapped else { return Ok(None) };
        let bytes = self.master.open(&data_key_aad(auth_id), &wrapped).ok_or_else(|| {
            Error::with_fact(
                ErrorCode::StorageFailed,
                format!("授权 {auth_id} 的数据密钥已损坏，该企业的缓存无法打开。"),
            )
        })?;
        Ok(SealKey::from_bytes(&bytes))
    }

    /// A counter secret (gateway credential, audit signing key), if stored.
    pub(crate) fn secret(&self, conn: &Connection, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let sealed: Option<Vec<u8>> =
            conn.query_row("SELECT sealed FROM sealed_secrets WHERE name = ?1", [name], |r| r.get(0)).optional()?;
        let Some(sealed) = sealed else { return Ok(None) };
        self.master.open(&secret_aad(name), &sealed).map(Some).ok_or_else(|| {
            Error::with_fact(ErrorCode::StorageFailed, format!("本机保存的 {name} 已损坏，请重新设置。"))
        })
    }

    /// Stores a counter secret sealed, replacing the one of that name.
    pub(crate) fn set_secret(
        &self,
        tx: &Connection,
        name: &str,
        value: &[u8],
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        let sealed = self.master.seal(&secret_aad(name), value);
        tx.execute(
            "INSERT INTO sealed_secrets (name, sealed, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at",
            params![name, sealed, now.to_rfc3339()],
        )?;
        Ok(())
    }
}

fn check_aad(key_id: &str) -> Vec<u8> {
    format!("storage_key.check|{key_id}").into_bytes()
}

fn data_key_aad(auth_id: &str) -> Vec<u8> {
    format!("data_keys.wrapped|{auth_id}").into_bytes()
}

fn secret_aad(name: &str) -> Vec<u8> {
    format!("sealed_secrets.sealed|{name}").into_bytes()
}

/// What a sealed cache value is and whose, bound into its tag: `table.column|auth_id|license_code`.
pub(crate) fn aad(column: &str, auth_id: &str, license_code: &str) -> Vec<u8> {
    format!("{column}|{auth_id}|{license_code}").into_bytes()
}
