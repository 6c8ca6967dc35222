//! The gateway credentials kept sealed in the counter's database (`yueshang secrets`): set, listed
//! (never shown), moved out of a configuration file, and filled into the settings the file leaves
//! them out of.

use crate::audit::{AuditContext, AuditEvent, AuditKind, Outcome};
use crate::cache::{Cache, insert_audit};
use crate::config::GatewaySettings;
use crate::error::{Error, ErrorCode, Result};
use crate::secret::Secret;
use chrono::{DateTime, FixedOffset};
use rusqlite::OptionalExtension;
use std::io::Write;
use std::path::Path;
use zeroize::Zeroizing;

/// A gateway credential the configuration may leave to the sealed store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretName {
    /// The PaaS token of the API gateway.
    Token,
    /// The e-license service's login password.
    Password,
    /// The e-license service's app secret.
    AppSecret,
}

impl SecretName {
    pub const ALL: [SecretName; 3] = [SecretName::Token, SecretName::Password, SecretName::AppSecret];

    /// As typed after `yueshang secrets set`.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretName::Token => "token",
            SecretName::Password => "password",
            SecretName::AppSecret => "app_secret",
        }
    }

    pub fn parse(text: &str) -> Option<SecretName> {
        SecretName::ALL.into_iter().find(|n| n.as_str() == text.trim())
    }

    /// Its key in the configuration file.
    pub fn config_key(self) -> &'static str {
        match self {
            SecretName::Token => "gateway.token",
            SecretName::Password => "gateway.password",
            SecretName::AppSecret => "gateway.app_secret",
        }
    }

    fn stored_name(self) -> String {
        format!("gateway.{}", self.as_str())
    }
}

/// One credential as `secrets list` shows it: whether it is set and since when, never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretState {
    pub name: SecretName,
    pub updated_at: Option<String>,
}

/// Stores a credential sealed (replacing the one before), audited without its value.
pub fn set(
    cache: &Cache,
    name: SecretName,
    value: &Secret,
    ctx: &AuditContext,
    now: DateTime<FixedOffset>,
) -> Result<()> {
    let value = value.expose().trim();
    if value.is_empty() {
        return Err(Error::with_fact(ErrorCode::ConfigInvalid, format!("{} 不能为空。", name.config_key())));
    }
    cache.transaction(|tx| {
        cache.vault().set_secret(tx, &name.stored_name(), value.as_bytes(), now)?;
        insert_audit(tx, ctx, &changed(name, "保存"), now).map(|_| ())
    })
}

/// Which credentials are set.
pub fn list(cache: &Cache) -> Result<Vec<SecretState>> {
    cache.read(|conn| {
        SecretName::ALL
            .into_iter()
            .map(|name| {
                let updated_at = conn
                    .query_row("SELECT updated_at FROM sealed_secrets WHERE name = ?1", [name.stored_name()], |r| {
                        r.get(0)
                    })
                    .optional()?;
                Ok(SecretState { name, updated_at })
            })
            .collect()
    })
}

/// Fills the credentials the configuration file left out from the sealed store. One that is in
/// neither is `ConfigInvalid`, telling IT the command that sets it.
pub fn fill_gateway(gateway: &mut GatewaySettings, cache: &Cache) -> Result<()> {
    for name in SecretName::ALL {
        let slot = match name {
            SecretName::Token => &mut gateway.token,
            SecretName::Password => &mut gateway.password,
            SecretName::AppSecret => &mut gateway.app_secret,
        };
        if !slot.is_empty() {
            continue;
        }
        let stored = cache.read(|conn| cache.vault().secret(conn, &name.stored_name()))?.ok_or_else(|| {
            Error::with_fact(
                ErrorCode::ConfigInvalid,
                format!(
                    "{} 没有设置：请运行 yueshang secrets set {}（密文保存在本机），或写入配置文件。",
                    name.config_key(),
                    name.as_str()
                ),
            )
        })?;
        *slot = Secret::new(String::from_utf8_lossy(&stored));
    }
    Ok(())
}

/// Moves the plain credentials of a configuration file into the sealed store and rewrites the file
/// without them (comments and everything else kept). The new file replaces the old one by rename,
/// so no copy of the old text is left behind. Returns what was moved.
pub fn import_config(
    cache: &Cache,
    config: &Path,
    ctx: &AuditContext,
    now: DateTime<FixedOffset>,
) -> Result<Vec<SecretName>> {
    let text = Zeroizing::new(std::fs::read_to_string(config).map_err(|e| {
        Error::with_fact(ErrorCode::ConfigInvalid, format!("无法读取配置文件 {}（{e}）。", config.display()))
    })?);
    let mut document: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        Error::with_fact(ErrorCode::ConfigInvalid, format!("配置文件 {} 格式有误。", config.display()))
            .detail(e.message().to_owned())
    })?;
    let mut found: Vec<(SecretName, Secret)> = Vec::new();
    if let Some(gateway) = document.get_mut("gateway").and_then(|g| g.as_table_like_mut()) {
        for name in SecretName::ALL {
            let value = gateway.get(name.as_str()).and_then(|v| v.as_str()).map(|v| v.trim().to_owned());
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                found.push((name, Secret::new(value)));
                gateway.remove(name.as_str());
            }
        }
    }
    if found.is_empty() {
        return Ok(Vec::new());
    }
    cache.transaction(|tx| {
        for (name, value) in &found {
            cache.vault().set_secret(tx, &name.stored_name(), value.expose().as_bytes(), now)?;
            insert_audit(tx, ctx, &changed(*name, &format!("从配置文件 {} 移入", config.display())), now)?;
        }
        Ok(())
    })?;
    replace_file(config, document.to_string().as_bytes())?;
    Ok(found.into_iter().map(|(name, _)| name).collect())
}

fn changed(name: SecretName, what: &str) -> AuditEvent {
    AuditEvent {
        detail: Some(format!("{what} {}", name.config_key())),
        ..AuditEvent::new(AuditKind::SecretChange, Outcome::Ok)
    }
}

/// Writes `bytes` to a temporary file beside `path` (same permissions) and renames it over `path`.
fn replace_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let fail = |e: std::io::Error| {
        Error::with_fact(ErrorCode::ConfigInvalid, format!("无法改写配置文件 {}（{e}）。", path.display()))
    };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut temporary = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    if let Ok(metadata) = std::fs::metadata(path) {
        temporary.as_file().set_permissions(metadata.permissions()).map_err(fail)?;
    }
    temporary.write_all(bytes).and_then(|()| temporary.as_file().sync_all()).map_err(fail)?;
    temporary.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
