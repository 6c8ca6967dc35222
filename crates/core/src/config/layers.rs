//! Fleet configuration: the machine-wide file IT deploys to every PC under this user's file, merged
//! key by key, every key remembering the file it came from.

use super::{Config, RawConfig};
use crate::error::{Error, ErrorCode, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The keys whose values are never printed, wherever they come from.
const SECRET_KEYS: [&str; 3] = ["gateway.token", "gateway.password", "gateway.app_secret"];

/// The machine-wide file: `YUESHANG_MACHINE_CONFIG` if set (empty: none, for tests and odd
/// setups), else `/etc/yueshang-counter/config.toml`, or `%ProgramData%\gdzwfw\yueshang-counter\config.toml`.
pub fn machine_config_file() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("YUESHANG_MACHINE_CONFIG") {
        return (!path.is_empty()).then(|| PathBuf::from(path));
    }
    platform_machine_file()
}

#[cfg(windows)]
fn platform_machine_file() -> Option<PathBuf> {
    let program_data = std::env::var_os("ProgramData")?;
    Some(PathBuf::from(program_data).join("gdzwfw").join("yueshang-counter").join("config.toml"))
}

#[cfg(not(windows))]
fn platform_machine_file() -> Option<PathBuf> {
    Some(PathBuf::from("/etc/yueshang-counter/config.toml"))
}

/// Which of the two files a key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// The machine-wide file IT deploys to every PC of the hall.
    Machine,
    /// This user's file (or the one named by `--config`): what differs per counter.
    User,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Machine => "machine",
            Layer::User => "user",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Layer::Machine => "全机配置文件",
            Layer::User => "本用户配置文件",
        }
    }
}

/// The configuration files in force on this PC, lowest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigFiles {
    pub machine: Option<PathBuf>,
    pub user: Option<PathBuf>,
}

/// One key of the merged configuration and where its value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySource {
    /// Dotted path; a table array (`service_items`) counts as one key, its whole list from one file.
    pub key: String,
    pub layer: Layer,
    pub file: PathBuf,
}

/// One line of `yueshang config show`: a leaf value, masked if secret, and its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownKey {
    pub key: String,
    pub value: String,
    pub source: KeySource,
}

/// The checked configuration with the merged table it was read from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub files: ConfigFiles,
    merged: toml::Table,
    sources: Vec<KeySource>,
}

impl ConfigFiles {
    /// The machine-wide file when it exists, and the user's: `explicit` (`--config`), else
    /// `YUESHANG_CONFIG`, else the platform's per-user file when it exists.
    pub fn find(explicit: Option<PathBuf>) -> ConfigFiles {
        ConfigFiles { machine: machine_config_file().filter(|p| p.exists()), user: super::config_file(explicit) }
    }

    /// Just this one file, without the machine-wide layer (tests, and tools that rewrite one file).
    pub fn only(user: PathBuf) -> ConfigFiles {
        ConfigFiles { machine: None, user: Some(user) }
    }

    /// No file at all: the counter runs in sandbox mode.
    pub fn is_empty(&self) -> bool {
        self.machine.is_none() && self.user.is_none()
    }

    /// The file whose folder holds this user's storage keys: the user's own, never the machine's
    /// (which the user cannot write).
    pub fn key_home(&self) -> Option<&Path> {
        self.user.as_deref()
    }

    /// Reads, checks and merges the files; `None` when there are none (sandbox).
    pub fn load(&self) -> Result<Option<Loaded>> {
        if self.is_empty() {
            return Ok(None);
        }
        let mut merged = toml::Table::new();
        let mut sources = Vec::new();
        for (layer, path) in self.layers() {
            let table = read_layer(layer, path)?;
            merge_into(&mut merged, table, "", layer, path, &mut sources);
        }
        let raw = RawConfig::deserialize(toml::Value::Table(merged.clone()))
            .map_err(|e| Error::with_fact(ErrorCode::ConfigInvalid, format!("配置有误：{}。", e.message())))?;
        let config = raw.check().map_err(|e| naming_the_file(e, &sources))?;
        Ok(Some(Loaded { config, files: self.clone(), merged, sources }))
    }

    fn layers(&self) -> impl Iterator<Item = (Layer, &Path)> {
        let machine = self.machine.as_deref().map(|p| (Layer::Machine, p));
        let user = self.user.as_deref().map(|p| (Layer::User, p));
        machine.into_iter().chain(user)
    }
}

impl Loaded {
    /// Where a key's value came from: the key itself or the nearest table above it.
    pub fn source_of(&self, key: &str) -> Option<&KeySource> {
        source_of(&self.sources, key)
    }

    /// Every value of the merged files, secrets masked, each with its file; in key order.
    pub fn shown_keys(&self) -> Vec<ShownKey> {
        let mut leaves = Vec::new();
        flatten(&toml::Value::Table(self.merged.clone()), "", &mut leaves);
        leaves
            .into_iter()
            .filter_map(|(key, value)| {
                let source = self.source_of(&key)?.clone();
                let value = if SECRET_KEYS.contains(&key.as_str()) { "******".to_owned() } else { value };
                Some(ShownKey { key, value, source })
            })
            .collect()
    }
}

/// One file, read and checked on its own so a typo or a wrong type is named with its file and line.
fn read_layer(layer: Layer, path: &Path) -> Result<toml::Table> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let fix = if e.kind() == std::io::ErrorKind::PermissionDenied && layer == Layer::Machine {
            "请 IT 把它设为所有用户可读（Linux：chmod 644；Windows：给 Users 组“读取”权限），其中不要放密钥。"
        } else {
            ""
        };
        Error::with_fact(
            ErrorCode::ConfigInvalid,
            format!("无法读取{} {}（{e}）。{fix}", layer.label(), path.display()),
        )
    })?;
    let in_file = |e: toml::de::Error| {
        let place = e.span().map(|span| line_of(&text, span.start)).unwrap_or_default();
        Error::with_fact(
            ErrorCode::ConfigInvalid,
            format!("{} {}{place} 有误：{}。", layer.label(), path.display(), e.message().trim_end_matches('.')),
        )
        .detail(e.to_string())
    };
    toml::from_str::<RawConfig>(&text).map_err(in_file)?;
    let table = toml::from_str::<toml::Table>(&text).map_err(in_file)?;
    if layer == Layer::Machine {
        refuse_secrets(&table, path)?;
    }
    Ok(table)
}

/// Every user of the PC reads the machine-wide file, so a secret there is everyone's: each PC keeps
/// its own, sealed (`yueshang secrets set`, or 本机设置).
fn refuse_secrets(table: &toml::Table, path: &Path) -> Result<()> {
    let gateway = table.get("gateway").and_then(toml::Value::as_table);
    let Some(key) = SECRET_KEYS.iter().find(|k| gateway.is_some_and(|g| g.contains_key(&k["gateway.".len()..]))) else {
        return Ok(());
    };
    Err(Error::with_fact(
        ErrorCode::ConfigInvalid,
        format!(
            "全机配置文件 {} 中有密钥 {key}：该文件所有用户都能读取，不能存放密钥。请删掉这一行，在每台电脑上用 yueshang secrets set 或“本机设置”保存。",
            path.display()
        ),
    ))
}

/// `第 N 行（the line）`: where in the file, since toml's message alone does not name the key.
fn line_of(text: &str, offset: usize) -> String {
    let before = text.get(..offset).unwrap_or(text);
    let number = before.matches('\n').count() + 1;
    let line = text.lines().nth(number - 1).unwrap_or_default().trim();
    format!(" 第 {number} 行（{line}）")
}

/// Merges `table` over `into`: tables key by key, anything else (values, arrays, `[[service_items]]`)
/// replaced whole, recording each replaced key's source.
fn merge_into(
    into: &mut toml::Table,
    table: toml::Table,
    prefix: &str,
    layer: Layer,
    file: &Path,
    sources: &mut Vec<KeySource>,
) {
    for (name, value) in table {
        let key = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
        match (into.get_mut(&name), value) {
            (Some(toml::Value::Table(existing)), toml::Value::Table(sub)) => {
                merge_into(existing, sub, &key, layer, file, sources);
            }
            (_, value) => {
                if let toml::Value::Table(sub) = &value {
                    record_leaves(sub, &key, layer, file, sources);
                } else {
                    sources.retain(|s| s.key != key && !s.key.starts_with(&format!("{key}.")));
                    sources.push(KeySource { key, layer, file: file.to_path_buf() });
                }
                into.insert(name, value);
            }
        }
    }
}

/// A table new to the merge: every leaf under it comes from this file.
fn record_leaves(table: &toml::Table, prefix: &str, layer: Layer, file: &Path, sources: &mut Vec<KeySource>) {
    if table.is_empty() {
        sources.push(KeySource { key: prefix.to_owned(), layer, file: file.to_path_buf() });
    }
    for (name, value) in table {
        let key = format!("{prefix}.{name}");
        match value {
            toml::Value::Table(sub) => record_leaves(sub, &key, layer, file, sources),
            _ => sources.push(KeySource { key, layer, file: file.to_path_buf() }),
        }
    }
}

fn source_of<'a>(sources: &'a [KeySource], key: &str) -> Option<&'a KeySource> {
    let mut probe = key.to_owned();
    loop {
        let base = probe.split('[').next().unwrap_or(&probe).to_owned();
        if let Some(found) = sources.iter().find(|s| s.key == probe || s.key == base) {
            return Some(found);
        }
        probe = probe.rsplit_once('.')?.0.to_owned();
    }
}

/// Leaves as `key = value` text; table arrays indexed (`service_items[0].code`).
fn flatten(value: &toml::Value, key: &str, out: &mut Vec<(String, String)>) {
    match value {
        toml::Value::Table(table) => {
            for (name, sub) in table {
                let sub_key = if key.is_empty() { name.clone() } else { format!("{key}.{name}") };
                flatten(sub, &sub_key, out);
            }
        }
        toml::Value::Array(items) if items.iter().all(toml::Value::is_table) && !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                flatten(item, &format!("{key}[{i}]"), out);
            }
        }
        other => out.push((key.to_owned(), other.to_string())),
    }
}

/// A semantic problem after the merge (`配置项 KEY …`) names the file its key came from.
fn naming_the_file(err: Error, sources: &[KeySource]) -> Error {
    let Some(rest) = err.message.strip_prefix("配置项 ") else { return err };
    let key = rest.split([' ', '中', '的']).next().unwrap_or_default();
    let Some(source) = source_of(sources, key) else { return err };
    let message =
        err.message.replacen(&format!("配置项 {key}"), &format!("配置项 {key}（{}）", source.file.display()), 1);
    Error { message, ..err }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The configuration tests' gateway file without its secrets: what IT deploys to every PC.
    fn machine() -> String {
        let secret =
            |line: &&str| ["token", "password", "app_secret"].iter().any(|k| line.starts_with(&format!("{k} =")));
        super::super::tests::GATEWAY_CONFIG.lines().filter(|l| !secret(l)).map(|l| format!("{l}\n")).collect()
    }

    fn files(dir: &Path, machine: &str, user: &str) -> ConfigFiles {
        let (m, u) = (dir.join("machine.toml"), dir.join("user.toml"));
        std::fs::write(&m, machine).unwrap();
        std::fs::write(&u, user).unwrap();
        ConfigFiles { machine: Some(m), user: Some(u) }
    }

    #[test]
    fn the_user_file_overrides_key_by_key_and_each_key_knows_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let files = files(dir.path(), &machine(), "[hall]\ncounter = \"B07\"\n[gateway]\ntoken = \"tok-secret\"\n");
        let loaded = files.load().unwrap().unwrap();
        let counter = loaded.config.counter.as_ref().unwrap();
        assert_eq!((counter.counter.as_str(), counter.hall_code.as_str()), ("B07", "4401001"));
        assert_eq!(loaded.source_of("hall.counter").unwrap().layer, Layer::User);
        assert_eq!(loaded.source_of("hall.name").unwrap().layer, Layer::Machine);
        assert_eq!(loaded.source_of("service_items[0].code").unwrap().key, "service_items");
        let shown = loaded.shown_keys();
        let token = shown.iter().find(|k| k.key == "gateway.token").unwrap();
        assert_eq!((token.value.as_str(), token.source.layer), ("******", Layer::User));
        assert!(!format!("{shown:?}").contains("tok-secret"));
        assert!(shown.iter().any(|k| k.key == "service_items[0].name" && k.value.contains("食品经营许可")));
    }

    #[test]
    fn a_user_list_replaces_the_machine_list_whole() {
        let dir = tempfile::tempdir().unwrap();
        let user = "[[service_items]]\ncode = \"11440100MB2C0000XX4440117002000\"\nname = \"食品经营许可（变更）\"\n";
        let loaded = files(dir.path(), &machine(), user).load().unwrap().unwrap();
        assert_eq!(loaded.config.service_items.len(), 1);
        assert_eq!(loaded.config.service_items[0].name, "食品经营许可（变更）");
        assert_eq!(loaded.source_of("service_items").unwrap().layer, Layer::User);
    }

    #[test]
    fn problems_name_their_file() {
        let dir = tempfile::tempdir().unwrap();
        let typo = files(dir.path(), &machine(), "[hall]\ncountr = \"B07\"\n").load().unwrap_err();
        assert!(typo.message.contains("user.toml") && typo.message.contains("countr"), "{}", typo.message);
        let wrong_type = files(dir.path(), &machine(), "[window]\nfullscreen = \"yes\"\n").load().unwrap_err();
        assert!(wrong_type.message.contains("user.toml"), "{}", wrong_type.message);
        let bad = files(dir.path(), &machine().replace("paasid = \"yst_counter\"", "paasid = \"counter\""), "");
        let err = bad.load().unwrap_err();
        assert!(err.message.contains("gateway.paasid") && err.message.contains("machine.toml"), "{}", err.message);
    }

    #[test]
    fn the_machine_file_may_not_carry_a_secret() {
        let dir = tempfile::tempdir().unwrap();
        let with_token = machine().replace("app_key = \"app-key\"", "app_key = \"app-key\"\ntoken = \"shared\"");
        let err = files(dir.path(), &with_token, "").load().unwrap_err();
        assert!(err.message.contains("gateway.token") && err.message.contains("machine.toml"), "{}", err.message);
        assert!(!err.message.contains("shared"), "{}", err.message);
    }

    #[test]
    fn no_file_is_sandbox_and_a_missing_machine_file_is_named() {
        assert!(ConfigFiles::default().load().unwrap().is_none());
        let dir = tempfile::tempdir().unwrap();
        let gone = ConfigFiles { machine: Some(dir.path().join("nope.toml")), user: None };
        let err = gone.load().unwrap_err();
        assert!(err.message.contains("全机配置文件") && err.message.contains("nope.toml"), "{}", err.message);
    }
}
