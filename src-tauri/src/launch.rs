//! Starting the counter: the configured gateway, or the in-process sandbox gateway with its sample
//! enterprises when no configuration file exists; and the state the commands share.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use yueshang_core::audit::checkpoint::checkpoint_previous_day;
use yueshang_core::audit::key::CounterKey;
use yueshang_core::audit::retention::purge_expired;
use yueshang_core::cache::Cache;
use yueshang_core::clock::{RandomNonces, SystemClock};
use yueshang_core::config::{self, ConfigFiles, HallServiceSettings, Mode, Settings, WindowSettings};
use yueshang_core::desk::Desk;
use yueshang_core::keystore::KeyStore;
use yueshang_core::outbox::{Outbox, random_jitter};
use yueshang_core::purge::{Scope, purge};
use yueshang_core::secrets;
use yueshang_core::shipping::{HallClient, Scope as HallScope};
use yueshang_core::station::Station;
use yueshang_core::supervision::Supervision;
use yueshang_core::vault::KeyInfo;
use yueshang_core::{Error, ErrorCode};
use yueshang_gateway_sim::{SANDBOX_ACCOUNTS, SandboxGateway, SimOptions, sandbox_settings};

/// Latency of the in-process sandbox: enough for a person to see license cards stream in.
const SANDBOX_LATENCY: Duration = Duration::from_millis(60);

/// What the command line may say: `--config FILE`, `--data-dir DIR` (also as `--x=value`), and
/// `--sandbox` (the sandbox whatever the configuration says: trying the app on a configured PC).
/// Kept in the app's state: setup writes where this launch reads.
#[derive(Debug, Default, Clone)]
pub(crate) struct Launch {
    config: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    sandbox: bool,
}

impl Launch {
    pub(crate) fn from_args(args: impl IntoIterator<Item = String>) -> Result<Self, Error> {
        let mut launch = Launch::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
                None => (arg, None),
            };
            if name == "--sandbox" && inline.is_none() {
                launch.sandbox = true;
                continue;
            }
            let slot = match name.as_str() {
                "--config" => &mut launch.config,
                "--data-dir" => &mut launch.data_dir,
                other => {
                    return Err(Error::with_fact(
                        ErrorCode::ConfigInvalid,
                        format!("不认识的启动参数 {other}（可用：--config 文件、--data-dir 目录、--sandbox）。"),
                    ));
                }
            };
            let value = inline.or_else(|| args.next()).ok_or_else(|| Error::config(&name, "后面缺少路径"))?;
            *slot = Some(PathBuf::from(value));
        }
        Ok(launch)
    }

    /// The configuration files this launch reads: none with `--sandbox`.
    pub(crate) fn config_files(&self) -> ConfigFiles {
        if self.sandbox { ConfigFiles::default() } else { ConfigFiles::find(self.config.clone()) }
    }

    /// `--config` as given.
    pub(crate) fn config(&self) -> Option<&Path> {
        self.config.as_deref()
    }

    /// `--data-dir` as given (the environment and the platform's folder apply without it).
    pub(crate) fn data_dir_arg(&self) -> Option<PathBuf> {
        self.data_dir.clone()
    }

    /// The data folder this launch will use, if it can be known.
    pub(crate) fn data_dir(&self) -> Option<PathBuf> {
        config::data_dir(self.data_dir.clone()).ok()
    }
}

/// A started counter: its desk, how it is connected, and the sandbox it runs when in sandbox mode.
pub(crate) struct Counter {
    pub(crate) desk: Desk,
    pub(crate) supervision: Supervision,
    pub(crate) mode: Mode,
    /// What the About panel shows IT.
    pub(crate) about: About,
    /// Wakes the background sender of the outbox when a record was queued.
    pub(crate) outbox_wake: Arc<Notify>,
    /// Kept alive for the app's lifetime: dropping it stops the sandbox gateway.
    pub(crate) sandbox: Option<SandboxGateway>,
    /// Full screen and start with the session, as `[window]` says.
    pub(crate) window: WindowSettings,
    /// `[hall_service]`: where this counter ships its audit chain and reads the hall's (全厅).
    pub(crate) hall: Option<HallLink>,
}

/// This counter's way to the hall service: the client, the key every request is signed with (the
/// audit key) and the hall code and counter its checkpoints name.
pub(crate) struct HallLink {
    pub(crate) client: HallClient,
    pub(crate) key: CounterKey,
    pub(crate) scope: HallScope,
    /// How long the background shipper waits after a round that went well.
    pub(crate) ship_interval: Duration,
}

impl HallLink {
    /// The supervision keeps its own copy of the audit key (`CounterKey` is not `Clone`), so the
    /// link loads the same key again from the sealed cache.
    fn new(settings: &HallServiceSettings, station: &Station) -> Result<Self, Error> {
        let counter = &station.settings().counter;
        Ok(HallLink {
            client: HallClient::new(settings)?,
            key: CounterKey::load_or_create(station.cache())?,
            scope: HallScope { hall: counter.hall_code.clone(), counter: counter.counter.clone() },
            ship_interval: settings.ship_interval,
        })
    }
}

/// Where this counter keeps its things, and the fingerprint of its audit key.
pub(crate) struct About {
    pub(crate) data_dir: PathBuf,
    pub(crate) config_path: Option<PathBuf>,
    pub(crate) key_fingerprint: String,
    /// Where the sealed cache's storage key is kept (backend and path or keyring entry).
    pub(crate) storage_key: KeyInfo,
    /// Gateway secrets the configuration file carries in plain text (to be moved out).
    pub(crate) secrets_in_file: Vec<&'static str>,
}

/// The app's managed state: a counter, or why it could not start (shown in the window for IT).
pub(crate) enum AppState {
    Ready(Box<Counter>),
    Broken(Error),
}

impl AppState {
    pub(crate) fn counter(&self) -> Result<&Counter, Error> {
        match self {
            AppState::Ready(counter) => Ok(counter),
            AppState::Broken(error) => Err(error.clone()),
        }
    }
}

/// Starts the counter. Without a configuration file: sandbox mode, its own cache file, so sample
/// data never mixes with real records.
pub(crate) async fn start(launch: Launch) -> Result<Counter, Error> {
    let data_dir = config::data_dir(launch.data_dir_arg())?;
    let files = launch.config_files();
    // The file a problem found after the merge is blamed on: the user's, else the machine's.
    let blamed = files.user.clone().or_else(|| files.machine.clone());
    let named = |e: Error| match &blamed {
        Some(path) => naming_the_file(e, path),
        None => e,
    };
    let loaded = files.load()?;
    let window = loaded.as_ref().map(|l| l.config.window).unwrap_or_default();
    // Not part of the station's settings: taken before the configuration becomes them.
    let hall_service = loaded.as_ref().and_then(|l| l.config.hall_service.clone());
    let (mode, settings, sandbox) = match loaded {
        None => {
            let sandbox = start_sandbox().await?;
            (Mode::Sandbox, sandbox_settings(&sandbox.base_url()), Some(sandbox))
        }
        Some(loaded) => {
            tracing::info!(machine = ?files.machine, user = ?files.user, "configuration files");
            match loaded.config.mode {
                Mode::Gateway => (Mode::Gateway, loaded.config.into_settings(None).map_err(named)?, None),
                Mode::Sandbox => {
                    let sandbox = start_sandbox().await?;
                    let settings =
                        loaded.config.into_settings(Some(sandbox_settings(&sandbox.base_url()))).map_err(named)?;
                    (Mode::Sandbox, settings, Some(sandbox))
                }
            }
        }
    };
    let cache_file = data_dir.join(match mode {
        Mode::Sandbox => "sandbox.sqlite3",
        Mode::Gateway => "cache.sqlite3",
    });
    std::fs::create_dir_all(&data_dir).map_err(|e| {
        Error::with_fact(ErrorCode::StorageFailed, format!("无法创建数据目录 {}（{e}）。", data_dir.display()))
    })?;
    let keys = KeyStore::for_config(files.key_home())?;
    let cache = Arc::new(Cache::open(&cache_file, &keys)?);
    let mut settings = settings;
    secrets::fill_gateway(&mut settings.gateway, &cache).map_err(named)?;
    if !settings.gateway.secrets_in_file.is_empty() {
        tracing::warn!(
            keys = ?settings.gateway.secrets_in_file,
            "the configuration file carries gateway secrets in plain text: move them with `yueshang secrets import`"
        );
    }
    CounterKey::import_legacy_file(&cache, &data_dir)?;
    let station = Arc::new(station(settings, cache)?);
    let key = CounterKey::load_or_create(station.cache())?;
    sign_previous_day(&station, &key);
    purge_expired_events(&station, &key);
    purge_licenses(&station, None);
    let outbox = Arc::new(Outbox::new(station.clone(), random_jitter()));
    let desk = Desk::new(station.clone(), outbox)?;
    // A CA file that cannot be read is a configuration error like any other; an unreachable hall
    // is not (the shipper retries, the 全厅 view says so).
    let hall = hall_service.as_ref().map(|settings| HallLink::new(settings, &station)).transpose().map_err(named)?;
    if mode == Mode::Sandbox {
        // The demo stays one click away: the sign-in screen lists these with their passwords.
        desk.accounts().seed(&SANDBOX_ACCOUNTS)?;
    }
    tracing::info!(mode = ?mode, cache = %cache_file.display(), "counter started");
    let about = About {
        key_fingerprint: key.fingerprint(),
        storage_key: station.cache().key_info(),
        secrets_in_file: station.settings().gateway.secrets_in_file.clone(),
        data_dir: data_dir.clone(),
        config_path: files.user.clone(),
    };
    Ok(Counter {
        desk,
        supervision: Supervision::new(station, key),
        mode,
        about,
        outbox_wake: Arc::new(Notify::new()),
        sandbox,
        window,
        hall,
    })
}

/// The previous China day's audit events get their signed checkpoint at the first start after
/// midnight. A failure is logged, not fatal: the chain itself is intact, and the next start or
/// export signs again.
fn sign_previous_day(station: &Station, key: &CounterKey) {
    let counter = &station.settings().counter;
    let signed = checkpoint_previous_day(
        station.cache(),
        key,
        &counter.hall_code,
        &counter.counter,
        station.clock().now_china(),
    );
    match signed {
        Ok(Some(signed)) => tracing::info!(
            first_seq = signed.checkpoint.first_seq,
            last_seq = signed.checkpoint.last_seq,
            "signed the audit checkpoint of the previous day"
        ),
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(code = %e.code, detail = ?e.detail, "could not sign the previous day's audit checkpoint")
        }
    }
}

/// Audit events older than `[audit] retention_days` go, anchored by a signed checkpoint; usually
/// one day's worth at a start. A failure is logged, not fatal: the events simply stay longer.
fn purge_expired_events(station: &Station, key: &CounterKey) {
    let counter = &station.settings().counter;
    let purged = purge_expired(
        station.cache(),
        key,
        &counter.hall_code,
        &counter.counter,
        station.settings().audit.retention_days,
        station.clock().now_china(),
    );
    match purged {
        Ok(p) if p.removed > 0 => {
            tracing::info!(removed = p.removed, first_seq = ?p.first_seq, kept_from = %p.kept_from, "expired audit events removed")
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(code = %e.code, detail = ?e.detail, "could not remove expired audit events"),
    }
}

/// Customers' licenses past `[retention] license_days` are erased (crypto-shredded, then their
/// rows), except the customer on the desk (`keep`). At start and hourly; a failure is logged and
/// tried again at the next hour.
pub(crate) fn purge_licenses(station: &Station, keep: Option<&str>) {
    let scope = Scope::Expired { license_days: station.settings().privacy.license_days, keep };
    match purge(station.cache(), scope, &station.audit_context(), station.clock().now_china()) {
        Ok(p) if p.customers > 0 => {
            tracing::info!(customers = p.customers, licenses = p.licenses, "expired licenses erased from the cache")
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(code = %e.code, detail = ?e.detail, "could not erase expired licenses"),
    }
}

/// IT looking at the window must know which of the PC's files to fix.
fn naming_the_file(mut error: Error, path: &Path) -> Error {
    let shown = path.display().to_string();
    if error.code == ErrorCode::ConfigInvalid && !error.message.contains(&shown) {
        error.message = format!("配置文件 {shown}：{}", error.message);
    }
    error
}

fn station(settings: Settings, cache: Arc<Cache>) -> Result<Station, Error> {
    Station::new(settings, cache, Arc::new(SystemClock), Arc::new(RandomNonces))
}

async fn start_sandbox() -> Result<SandboxGateway, Error> {
    let options = SimOptions { latency: SANDBOX_LATENCY, ..SimOptions::default() };
    SandboxGateway::start(([127, 0, 0, 1], 0).into(), options)
        .await
        .map_err(|e| Error::with_fact(ErrorCode::GatewayUnavailable, "内置沙箱网关无法启动。").detail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn reads_both_spellings_of_each_option() {
        let launch = Launch::from_args(args(&["--config", "/etc/y.toml", "--data-dir=/var/y"])).unwrap();
        assert_eq!(launch.config, Some(PathBuf::from("/etc/y.toml")));
        assert_eq!(launch.data_dir, Some(PathBuf::from("/var/y")));
        assert!(Launch::from_args(args(&[])).unwrap().config.is_none());
    }

    #[test]
    fn a_configuration_error_names_the_file_once() {
        let path = Path::new("/etc/yueshang/config.toml");
        let named = naming_the_file(Error::config("gateway.paasid", "不能为空"), path);
        assert!(named.message.starts_with("配置文件 /etc/yueshang/config.toml：配置项 gateway.paasid"));
        let again = naming_the_file(named.clone(), path);
        assert_eq!(again.message, named.message);
        let other = naming_the_file(Error::new(ErrorCode::StorageFailed), path);
        assert_eq!(other.message, ErrorCode::StorageFailed.advice());
    }

    #[test]
    fn refuses_what_it_does_not_know_in_chinese() {
        let err = Launch::from_args(args(&["--confg", "x"])).unwrap_err();
        assert_eq!(err.code, ErrorCode::ConfigInvalid);
        assert!(err.message.contains("--confg"));
        assert_eq!(Launch::from_args(args(&["--config"])).unwrap_err().code, ErrorCode::ConfigInvalid);
    }
}
