//! The hall's PostgreSQL: the connection pool, the versioned migrations, enrolling counters and
//! finding them by key, and the alarms.

use crate::Refused;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;
use yueshang_core::audit::key::fingerprint_of_pem;
use yueshang_core::{Error, ErrorCode};

/// The migrations, in order; each runs once, in a transaction, under an advisory lock so two
/// hall services starting together do not both run it.
const MIGRATIONS: &[(i32, &str)] = &[(1, include_str!("../migrations/0001_hall.sql"))];

/// The advisory lock key of the migrations ("YS" 14).
const MIGRATION_LOCK: i64 = 0x5953_0014;

/// Connections the service keeps: batches of different counters are stored side by side.
pub const POOL_SIZE: usize = 16;

/// An enrolled counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolled {
    /// `<hall>/<counter>`.
    pub counter_ref: String,
    pub hall: String,
    pub counter: String,
    pub key_fingerprint: String,
    pub public_pem: String,
}

/// What kind of finding an alarm records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmKind {
    /// A different event at a seq the hall holds.
    Fork,
    /// A checkpoint signature that does not verify with the enrolled key.
    BadSignature,
    /// A request signed by a key no counter is enrolled with.
    Unenrolled,
}

impl AlarmKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmKind::Fork => "fork",
            AlarmKind::BadSignature => "bad_signature",
            AlarmKind::Unenrolled => "unenrolled",
        }
    }
}

/// One finding to record.
#[derive(Debug, Clone, Default)]
pub struct Finding<'a> {
    pub counter_ref: Option<&'a str>,
    pub key_fingerprint: Option<&'a str>,
    pub seq: Option<i64>,
    pub stored_hash: Option<&'a str>,
    pub offered_hash: Option<&'a str>,
}

#[derive(Clone)]
pub struct Store {
    pool: Pool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the pool on `url` (`postgres://user@host:port/db`) and brings the schema up to date.
    pub async fn open(url: &str, pool_size: usize) -> Result<Store, Error> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| {
            Error::with_fact(
                ErrorCode::ConfigInvalid,
                "数据库地址（--db）格式不对，应形如 postgres://用户@主机:端口/库名。",
            )
            .detail(format!("{e}"))
        })?;
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager).max_size(pool_size).build().map_err(|e| unavailable(&e))?;
        let store = Store { pool };
        store.migrate().await?;
        Ok(store)
    }

    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, Refused> {
        Ok(self.pool.get().await?)
    }

    async fn migrate(&self) -> Result<(), Error> {
        let mut client = self.pool.get().await.map_err(|e| unavailable(&e))?;
        let run = async {
            client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await?;
            client
                .batch_execute(
                    "CREATE TABLE IF NOT EXISTS hall_schema (
                         version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                )
                .await?;
            let current: i32 = client.query_one("SELECT COALESCE(MAX(version), 0) FROM hall_schema", &[]).await?.get(0);
            for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
                let tx = client.transaction().await?;
                tx.batch_execute(sql).await?;
                tx.execute("INSERT INTO hall_schema (version) VALUES ($1)", &[version]).await?;
                tx.commit().await?;
                tracing::info!(version, "hall schema migrated");
            }
            client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await?;
            Ok::<i32, tokio_postgres::Error>(current)
        };
        let current = run.await.map_err(|e| unavailable(&e))?;
        let known = MIGRATIONS.last().map_or(0, |(v, _)| *v);
        if current > known {
            return Err(Error::with_fact(
                ErrorCode::ConfigInvalid,
                format!("数据库的结构版本（{current}）比本程序（{known}）新：请用新版 yueshang 运行大厅服务。"),
            ));
        }
        Ok(())
    }

    /// Enrolls a counter with its public key (SubjectPublicKeyInfo PEM). Enrolling the same key
    /// again is a no-op; another key for an enrolled counter, or a key of another counter, is refused.
    pub async fn enroll(&self, hall: &str, counter: &str, public_pem: &str) -> Result<Enrolled, Error> {
        let (hall, counter) = (hall.trim(), counter.trim());
        if hall.is_empty() || counter.is_empty() || hall.contains('/') || counter.contains('/') {
            return Err(Error::with_fact(
                ErrorCode::ConfigInvalid,
                "--counter 应写成 大厅编码/窗口号，例如 4401061/B07。",
            ));
        }
        let fingerprint = fingerprint_of_pem(public_pem).ok_or_else(|| {
            Error::with_fact(
                ErrorCode::ConfigInvalid,
                "公钥文件不是 SM2 公钥（应为 yueshang audit key --pem 打印的 PEM）。",
            )
        })?;
        let counter_ref = format!("{hall}/{counter}");
        let client = self.client().await.map_err(Error::from)?;
        client
            .execute(
                "INSERT INTO counters (counter_ref, hall, counter, key_fingerprint, public_pem)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[&counter_ref, &hall, &counter, &fingerprint, &public_pem.trim()],
            )
            .await
            .map_err(|e| Error::from(Refused::store(e)))?;
        let row = client
            .query_opt(
                "SELECT counter_ref, key_fingerprint FROM counters WHERE counter_ref = $1 OR key_fingerprint = $2
                 ORDER BY (counter_ref = $1) DESC LIMIT 1",
                &[&counter_ref, &fingerprint],
            )
            .await
            .map_err(|e| Error::from(Refused::store(e)))?;
        match row.map(|r| (r.get::<_, String>(0), r.get::<_, String>(1))) {
            Some((r, f)) if r == counter_ref && f == fingerprint => Ok(Enrolled {
                counter_ref,
                hall: hall.to_owned(),
                counter: counter.to_owned(),
                key_fingerprint: fingerprint,
                public_pem: public_pem.trim().to_owned(),
            }),
            Some((r, _)) if r == counter_ref => Err(Error::with_fact(
                ErrorCode::ConfigInvalid,
                format!("窗口 {counter_ref} 已用另一把密钥登记；同一窗口不能换钥续链（换电脑请用新的窗口号登记）。"),
            )),
            _ => Err(Error::with_fact(ErrorCode::ConfigInvalid, "这把公钥已登记给另一个窗口。")),
        }
    }

    /// The counter enrolled with this key fingerprint.
    pub async fn enrolled_by_key(&self, fingerprint: &str) -> Result<Option<Enrolled>, Refused> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT counter_ref, hall, counter, key_fingerprint, public_pem FROM counters WHERE key_fingerprint = $1",
                &[&fingerprint],
            )
            .await?;
        Ok(row.map(|r| Enrolled {
            counter_ref: r.get(0),
            hall: r.get(1),
            counter: r.get(2),
            key_fingerprint: r.get(3),
            public_pem: r.get(4),
        }))
    }

    /// Where the hall's copy of a counter's chain ends: `(acked_seq, head)`.
    pub async fn head(&self, counter_ref: &str) -> Result<(i64, String), Refused> {
        let client = self.client().await?;
        let row =
            client.query_one("SELECT acked_seq, head FROM counters WHERE counter_ref = $1", &[&counter_ref]).await?;
        Ok((row.get(0), row.get(1)))
    }

    /// Records a finding, or counts one more attempt of a finding already recorded.
    pub async fn record_alarm(&self, kind: AlarmKind, finding: &Finding<'_>) -> Result<(), Refused> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO alarms (kind, counter_ref, key_fingerprint, seq, stored_hash, offered_hash)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (kind, counter_ref, key_fingerprint, seq, offered_hash)
                 DO UPDATE SET last_at = now(), attempts = alarms.attempts + 1",
                &[
                    &kind.as_str(),
                    &finding.counter_ref,
                    &finding.key_fingerprint,
                    &finding.seq,
                    &finding.stored_hash,
                    &finding.offered_hash,
                ],
            )
            .await?;
        tracing::warn!(kind = kind.as_str(), counter = ?finding.counter_ref, seq = ?finding.seq, "hall alarm");
        Ok(())
    }

    /// Makes the witness key known (its public half), so exports can name it.
    pub async fn register_witness_key(&self, fingerprint: &str, public_pem: &str) -> Result<(), Error> {
        let client = self.client().await.map_err(Error::from)?;
        client
            .execute(
                "INSERT INTO witness_keys (fingerprint, public_pem) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&fingerprint, &public_pem],
            )
            .await
            .map_err(|e| Error::from(Refused::store(e)))?;
        Ok(())
    }
}

fn unavailable(e: &dyn std::fmt::Display) -> Error {
    Error::with_fact(
        ErrorCode::HallUnreachable,
        "连不上大厅数据库（PostgreSQL）。请确认数据库已启动、--db 的地址、用户和库名正确。",
    )
    .detail(e.to_string())
}
