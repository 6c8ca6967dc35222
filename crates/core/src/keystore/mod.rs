//! The counter's master key (storage key): where it is kept (the Secret Service, a DPAPI-wrapped
//! file, or a private file in the configuration folder), made once, never switched silently.

#[cfg(windows)]
pub mod dpapi;
pub mod file;
pub mod seal;
#[cfg(target_os = "linux")]
pub mod secret_service;

use crate::error::{Error, ErrorCode, Result};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub use seal::SealKey;

/// Where a master key is kept. The database records the one its key was made in, and the key is
/// only ever looked for there: a key that is not found is `STORAGE_KEY_MISSING`, never a new key
/// in another place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The desktop's Secret Service (GNOME Keyring, KWallet) over D-Bus, unlocked with the session.
    SecretService,
    /// Windows: a file in the configuration folder holding the key wrapped with DPAPI (current user).
    Dpapi,
    /// A file readable only by the counter's user, in the configuration folder (never the data folder).
    File,
    /// Memory only: a cache that lives in memory (tests) has a key that dies with it.
    Memory,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::SecretService => "secret-service",
            Backend::Dpapi => "dpapi",
            Backend::File => "file",
            Backend::Memory => "memory",
        }
    }

    pub fn parse(text: &str) -> Option<Backend> {
        [Backend::SecretService, Backend::Dpapi, Backend::File, Backend::Memory]
            .into_iter()
            .find(|b| b.as_str() == text)
    }

    /// How IT reads it in the doctor and the About panel.
    pub fn label(self) -> &'static str {
        match self {
            Backend::SecretService => "系统密钥环（Secret Service）",
            Backend::Dpapi => "Windows DPAPI（当前用户）",
            Backend::File => "仅本用户可读的密钥文件",
            Backend::Memory => "仅内存（测试）",
        }
    }
}

/// One place master keys are kept, by key id (a random id the database records).
pub trait KeyBackend: Send + Sync {
    fn kind(&self) -> Backend;
    /// Where this key is, for IT (a path, or the keyring's service and account); never the key.
    fn location(&self, key_id: &str) -> String;
    /// The key's bytes, or `None` when this backend has no key of that id.
    fn load(&self, key_id: &str) -> Result<Option<Zeroizing<Vec<u8>>>>;
    /// Keeps a new key; an existing key of that id is never replaced (`StorageFailed`).
    fn store(&self, key_id: &str, key: &[u8]) -> Result<()>;
    /// Forgets the key (after `yueshang cache reset` made a new one); a missing key is fine.
    fn delete(&self, key_id: &str) -> Result<()>;
}

/// Which backend a new key goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preference {
    /// DPAPI on Windows; on Linux the Secret Service when one is running and unlocked, else the file.
    Auto,
    /// Always the private file (headless counters, tests).
    File,
    /// Always the Secret Service (tests that start their own keyring daemon); fails without one.
    SecretService,
}

/// Where this counter keeps its master keys: the configuration folder, and which backend a new key
/// goes to. Keys already made are found through the backend their database recorded.
#[derive(Debug, Clone)]
pub struct KeyStore {
    dir: PathBuf,
    preference: Preference,
}

impl KeyStore {
    /// The counter's keys: in `config_dir` (the configuration file's folder, or the platform's
    /// configuration folder), the best backend this PC offers for new ones.
    pub fn new(config_dir: impl Into<PathBuf>) -> KeyStore {
        KeyStore { dir: config_dir.into(), preference: Preference::Auto }
    }

    pub fn with_preference(config_dir: impl Into<PathBuf>, preference: Preference) -> KeyStore {
        KeyStore { dir: config_dir.into(), preference }
    }

    /// The keys of a counter started with this configuration file (or none: sandbox): kept in the
    /// file's folder, else in the platform's configuration folder (where `config.toml` goes), never
    /// in the data folder beside the database.
    pub fn for_config(config_file: Option<&Path>) -> Result<KeyStore> {
        let dir = match config_file {
            Some(file) => file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf(),
            None => crate::config::default_config_file()
                .and_then(|f| f.parent().map(Path::to_path_buf))
                .ok_or_else(|| Error::config("config_dir", "无法确定：请用 --config 指定配置文件"))?,
        };
        Ok(KeyStore::new(dir))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The backend a new key is made in.
    pub fn for_new_key(&self) -> Result<Box<dyn KeyBackend>> {
        match self.preference {
            Preference::File => self.backend(Backend::File),
            Preference::SecretService => self.backend(Backend::SecretService),
            Preference::Auto if cfg!(windows) => self.backend(Backend::Dpapi),
            Preference::Auto if secret_service_usable() => self.backend(Backend::SecretService),
            Preference::Auto => self.backend(Backend::File),
        }
    }

    /// The backend a database recorded; one this PC does not have is `STORAGE_KEY_MISSING`.
    pub fn backend(&self, kind: Backend) -> Result<Box<dyn KeyBackend>> {
        match kind {
            Backend::File => Ok(Box::new(file::FileBackend::new(&self.dir))),
            #[cfg(target_os = "linux")]
            Backend::SecretService => Ok(Box::new(secret_service::SecretServiceBackend::new())),
            #[cfg(windows)]
            Backend::Dpapi => Ok(Box::new(dpapi::DpapiBackend::new(&self.dir))),
            other => Err(Error::with_fact(
                ErrorCode::StorageKeyMissing,
                format!("缓存的存储密钥保存在{}，本机没有这种密钥存储。", other.label()),
            )),
        }
    }
}

#[cfg(target_os = "linux")]
fn secret_service_usable() -> bool {
    secret_service::usable()
}

#[cfg(not(target_os = "linux"))]
fn secret_service_usable() -> bool {
    false
}
