//! Retention of customers' licenses (`[retention] license_days`): which customers are past it, and
//! erasing them — their data key first (crypto-shredding), then their rows with `secure_delete`, then
//! the WAL truncated — audited with counts only. The audit trail is not touched.

use crate::audit::{AuditContext, AuditEvent, AuditKind, Outcome};
use crate::cache::{Cache, insert_audit};
use crate::clock::china_midnight;
use crate::error::Result;
use chrono::{DateTime, Days, FixedOffset};
use rusqlite::{Connection, params};
use std::collections::HashSet;

/// Whose licenses a purge erases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Customers fetched before the cut-off of `license_days` (see [`cutoff`]), except the one on
    /// the desk (`keep`): a case under way at midnight is finished first.
    Expired { license_days: u32, keep: Option<&'a str> },
    /// One customer (下一位 with `license_days = 0`).
    Customer(&'a str),
    /// Every customer (`yueshang cache purge --all`).
    All,
}

/// What a purge erased.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub customers: u64,
    pub licenses: u64,
}

/// Licenses fetched before this are past `license_days`: 1 → today's midnight (China time), N → the
/// midnight N-1 days earlier, 0 → now.
pub fn cutoff(now: DateTime<FixedOffset>, license_days: u32) -> DateTime<FixedOffset> {
    match license_days {
        0 => now,
        days => {
            let today = now.with_timezone(&crate::clock::china_tz()).date_naive();
            china_midnight(today.checked_sub_days(Days::new(u64::from(days - 1))).unwrap_or(today))
        }
    }
}

/// Erases the customers `scope` names, and finishes any purge a crash interrupted (authorizations
/// whose data key is already gone). Audited as one `cache_purge` event when anything was erased.
pub fn purge(cache: &Cache, scope: Scope<'_>, ctx: &AuditContext, now: DateTime<FixedOffset>) -> Result<Purged> {
    // First the keys, in a transaction of their own: from this commit on, everything of these
    // customers is unreadable, even in pages SQLite has not overwritten yet.
    cache.transaction(|tx| {
        for auth_id in chosen(tx, scope, now)? {
            tx.execute("DELETE FROM data_keys WHERE auth_id = ?1", [&auth_id])?;
        }
        Ok(())
    })?;
    let purged = cache.transaction(|tx| {
        let purged = erase_keyless(tx)?;
        if purged.customers > 0 {
            let why = match scope {
                Scope::Expired { license_days, .. } => format!("保留期 {license_days} 天"),
                Scope::Customer(_) => "下一位（保留期 0 天）".to_owned(),
                Scope::All => "全部清除".to_owned(),
            };
            let event = AuditEvent {
                detail: Some(format!("清除 {} 位办事人的 {} 张证照（{why}）", purged.customers, purged.licenses)),
                ..AuditEvent::new(AuditKind::CachePurge, Outcome::Ok)
            };
            insert_audit(tx, ctx, &event, now)?;
        }
        Ok(purged)
    })?;
    if purged.customers > 0 {
        cache.truncate_wal();
    }
    Ok(purged)
}

/// The authorizations the scope picks that still have their data key.
fn chosen(conn: &Connection, scope: Scope<'_>, now: DateTime<FixedOffset>) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT auth_id, created_at FROM data_keys")?;
    let keys = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut chosen = Vec::new();
    for key in keys {
        let (auth_id, created_at) = key?;
        let pick = match scope {
            Scope::All => true,
            Scope::Customer(one) => auth_id == one,
            Scope::Expired { license_days, keep } => {
                // An unreadable time is treated as old: erasing too early is safe, keeping forever is not.
                let made = DateTime::parse_from_rfc3339(&created_at).ok();
                keep != Some(auth_id.as_str()) && made.is_none_or(|made| made < cutoff(now, license_days))
            }
        };
        if pick {
            chosen.push(auth_id);
        }
    }
    Ok(chosen)
}

/// Deletes every row of every authorization without a data key (just shredded, or left by a crash
/// or by a database older than the sealed cache), and enterprises nobody refers to any more.
fn erase_keyless(tx: &Connection) -> Result<Purged> {
    let keyless: HashSet<String> = {
        let mut stmt = tx.prepare(
            "SELECT auth_id FROM authorizations WHERE auth_id NOT IN (SELECT auth_id FROM data_keys)
             UNION SELECT auth_id FROM licenses WHERE auth_id NOT IN (SELECT auth_id FROM data_keys)
             UNION SELECT auth_id FROM authorized_licenses WHERE auth_id NOT IN (SELECT auth_id FROM data_keys)",
        )?;
        stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
    };
    let mut purged = Purged::default();
    for auth_id in &keyless {
        tx.execute("DELETE FROM files WHERE auth_id = ?1", [auth_id])?;
        purged.licenses += tx.execute("DELETE FROM licenses WHERE auth_id = ?1", [auth_id])? as u64;
        tx.execute("DELETE FROM authorized_licenses WHERE auth_id = ?1", [auth_id])?;
        tx.execute("DELETE FROM authorizations WHERE auth_id = ?1", [auth_id])?;
        purged.customers += 1;
    }
    tx.execute("DELETE FROM enterprises WHERE uscc NOT IN (SELECT uscc FROM authorizations)", params![])?;
    Ok(purged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::china_tz;
    use chrono::TimeZone;

    #[test]
    fn the_cutoff_is_a_china_midnight() {
        let now = china_tz().with_ymd_and_hms(2026, 11, 30, 0, 30, 0).unwrap();
        assert_eq!(cutoff(now, 1), china_tz().with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap());
        assert_eq!(cutoff(now, 3), china_tz().with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap());
        assert_eq!(cutoff(now, 0), now);
        // 23:30 UTC on the 29th is already the 30th in China.
        let utc_evening = chrono::Utc.with_ymd_and_hms(2026, 11, 29, 23, 30, 0).unwrap().fixed_offset();
        assert_eq!(cutoff(utc_evening, 1), china_tz().with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap());
    }
}
