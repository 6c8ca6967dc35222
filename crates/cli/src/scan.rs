//! `yueshang scan` and `yueshang licenses`: the scan flow and the cache, from the command line.

use crate::output::{self, EXIT_PARTIAL, ErrorDto, say};
use clap::Args;
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use url::Url;
use yueshang_core::audit::key::CounterKey;
use yueshang_core::cache::Cache;
use yueshang_core::clock::{RandomNonces, SystemClock};
use yueshang_core::config::{self, ConfigFiles, Mode, Settings};
use yueshang_core::imagecode;
use yueshang_core::keystore::KeyStore;
use yueshang_core::secrets;
use yueshang_core::station::{ScanEvent, ScanOutcome, Station};
use yueshang_core::{Error, ErrorCode};

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// What the scanner read: the 粤商码 URL or bare code.
    #[arg(required_unless_present = "image")]
    payload: Option<String>,
    /// Read the 粤商码 from a screenshot or photo of it instead (PNG, JPEG, BMP, GIF, WebP).
    #[arg(long, value_name = "FILE", conflicts_with = "payload")]
    image: Option<PathBuf>,
    /// Service item code (事项编码); defaults to the first configured item.
    #[arg(long)]
    item: Option<String>,
    #[command(flatten)]
    counter: CounterArgs,
    /// Print JSON for scripts.
    #[arg(long)]
    json: bool,
}

/// Which gateway and cache a command works with.
#[derive(Debug, Args)]
pub(crate) struct CounterArgs {
    /// Configuration file (TOML); also `YUESHANG_CONFIG`. In sandbox mode, with --sim: the file's
    /// hall, counter and operator on the sandbox gateway.
    #[arg(long)]
    config: Option<PathBuf>,
    /// A running sandbox gateway (`yueshang sim`), used with its built-in credentials and items.
    #[arg(long)]
    sim: Option<Url>,
    /// Where the cache lives; also `YUESHANG_DATA_DIR`.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

impl CounterArgs {
    /// The counter's station: the configured (or sandbox) gateway and the cache in the data folder.
    pub(crate) fn station(self) -> Result<Station, Error> {
        let mut settings = settings(self.config.clone(), self.sim)?;
        let cache = open_counter_cache(self.config.as_deref(), self.data_dir)?;
        secrets::fill_gateway(&mut settings.gateway, &cache)?;
        Station::new(settings, cache, Arc::new(SystemClock), Arc::new(RandomNonces))
    }
}

#[derive(Debug, Args)]
pub(crate) struct LicensesArgs {
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

fn settings(config: Option<PathBuf>, sim: Option<Url>) -> Result<Settings, Error> {
    match (ConfigFiles::find(config).load()?, sim) {
        (None, Some(url)) => Ok(yueshang_gateway_sim::sandbox_settings(&url)),
        (Some(loaded), sim) => {
            let config = loaded.config;
            match (config.mode, sim) {
                (Mode::Gateway, _) => config.into_settings(None),
                (Mode::Sandbox, Some(url)) => config.into_settings(Some(yueshang_gateway_sim::sandbox_settings(&url))),
                (Mode::Sandbox, None) => {
                    Err(Error::config("mode", "为 sandbox：请先运行 `yueshang sim`，再加 --sim URL"))
                }
            }
        }
        (None, None) => Err(Error::with_fact(
            ErrorCode::ConfigInvalid,
            "没有找到配置文件：用 --config 指定，或试用沙箱：先运行 `yueshang sim`，再加 --sim URL。",
        )),
    }
}

/// The counter's cache in the data folder, unlocked with its storage key from the configuration
/// folder (`YUESHANG_CONFIG`'s or the platform's, as the app finds it).
pub(crate) fn open_cache(data_dir: Option<PathBuf>) -> Result<Arc<Cache>, Error> {
    open_counter_cache(None, data_dir)
}

/// The cache of the counter started with this configuration file: its keys are in the file's folder.
pub(crate) fn open_counter_cache(config: Option<&Path>, data_dir: Option<PathBuf>) -> Result<Arc<Cache>, Error> {
    open_database(config, data_dir, COUNTER_DATABASE)
}

/// The counter's database in the data folder; the app in sandbox mode keeps its own beside it.
pub(crate) const COUNTER_DATABASE: &str = "cache.sqlite3";
pub(crate) const SANDBOX_DATABASE: &str = "sandbox.sqlite3";

/// One of the data folder's databases, unlocked with the storage key of this configuration.
pub(crate) fn open_database(config: Option<&Path>, data_dir: Option<PathBuf>, file: &str) -> Result<Arc<Cache>, Error> {
    let dir = config::data_dir(data_dir)?;
    let keys = KeyStore::for_config(config::config_file(config.map(Path::to_path_buf)).as_deref())?;
    let cache = Cache::open(&dir.join(file), &keys)?;
    CounterKey::import_legacy_file(&cache, &dir)?;
    Ok(Arc::new(cache))
}

#[derive(Serialize)]
struct EnterpriseDto<'a> {
    name: &'a str,
    uscc: &'a str,
}

#[derive(Serialize)]
struct FileDto<'a> {
    name: &'a str,
    bytes: u64,
    sha256: &'a str,
}

#[derive(Serialize)]
struct LicenseDto<'a> {
    license_code: &'a str,
    name: &'a str,
    status: &'a str,
    file: Option<FileDto<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorDto<'a>>,
}

#[derive(Serialize)]
struct ScanDto<'a> {
    enterprise: EnterpriseDto<'a>,
    auth_id: &'a str,
    biz_num: &'a str,
    elapsed_ms: u128,
    licenses: Vec<LicenseDto<'a>>,
}

fn scan_dto(outcome: &ScanOutcome) -> ScanDto<'_> {
    ScanDto {
        enterprise: EnterpriseDto { name: &outcome.enterprise.name, uscc: outcome.enterprise.uscc.as_str() },
        auth_id: &outcome.auth_id,
        biz_num: outcome.biz_num.as_str(),
        elapsed_ms: outcome.elapsed.as_millis(),
        licenses: outcome
            .licenses
            .iter()
            .map(|l| LicenseDto {
                license_code: &l.summary.license_code,
                name: &l.summary.name,
                status: l.status.as_str(),
                file: l.file.as_ref().map(|f| FileDto { name: &f.file_name, bytes: f.size, sha256: &f.sha256 }),
                error: l.error.as_ref().map(ErrorDto::of),
            })
            .collect(),
    }
}

/// Lines for a person watching the scan, printed as events arrive.
pub(crate) fn print_event(event: &ScanEvent) {
    match event {
        ScanEvent::EnterpriseKnown { biz_num, enterprise, authorization } => {
            say!("办件号  {biz_num}");
            say!("企业    {}（{}） 法定代表人 {}", enterprise.name, enterprise.uscc, enterprise.legal_rep_name);
            say!(
                "授权    {} 张证照，授权至 {}",
                authorization.licenses.len(),
                authorization.expires_at.format("%Y-%m-%d %H:%M:%S")
            );
        }
        ScanEvent::FileArrived { position, file, .. } => {
            say!("  [{:>2}] 已取得 {}（{} 字节）", position + 1, file.file_name, file.size);
        }
        ScanEvent::LicenseFailed { position, license_code, error } => {
            say!("  [{:>2}] 失败 {license_code}：[{}] {}", position + 1, error.code, error.message);
        }
        ScanEvent::Done { elapsed, fetched, failed } => {
            say!("完成    {fetched} 张成功，{failed} 张失败，用时 {} ms", elapsed.as_millis());
        }
        ScanEvent::LicenseArrived { .. } | ScanEvent::Failed { .. } => {}
    }
}

fn print_outcome(outcome: &ScanOutcome) {
    for l in &outcome.licenses {
        let status = l.status.label();
        let expiry = l.summary.expiry_date.map(|d| d.to_string()).unwrap_or_else(|| "长期".to_owned());
        say!("  {status:<4} {}  {}  有效期至 {expiry}", l.summary.name, l.summary.id_code);
    }
}

pub(crate) async fn run(args: ScanArgs) -> ExitCode {
    let json = args.json;
    let outcome = async {
        // The image is read first: a file that is no picture of a code needs no gateway or cache.
        let payload = scanned(args.payload, args.image.as_deref(), json)?;
        let station = args.counter.station()?;
        let biz_num = station.next_biz_num()?;
        let observe = move |event: ScanEvent| {
            if !json {
                print_event(&event);
            }
        };
        station.scan(&payload, args.item.as_deref(), &biz_num, &observe).await
    }
    .await;
    report(outcome, json)
}

/// What was scanned: the payload as typed, or the text of the 粤商码 in the image file, which is then
/// scanned exactly like a payload (so it is parsed by the same rules, never sent unchecked).
fn scanned(payload: Option<String>, image: Option<&Path>, json: bool) -> Result<String, Error> {
    let Some(path) = image else {
        // clap requires one of the two; an empty scan is what the core calls it otherwise.
        return Ok(payload.unwrap_or_default());
    };
    let bytes = read_image_file(path)?;
    let read = imagecode::read_code(&bytes)?;
    if !json {
        say!("图片    读到粤商码（图中共 {} 个二维码）", read.codes_found);
    }
    Ok(read.text)
}

/// The file's bytes, at most one byte past the core's limit, so a huge file is refused by the core
/// without being read whole.
fn read_image_file(path: &Path) -> Result<Vec<u8>, Error> {
    let cannot = |err: std::io::Error| {
        Error::with_fact(ErrorCode::ImageUnreadable, format!("无法读取文件 {}。", path.display()))
            .detail(err.to_string())
    };
    let mut bytes = Vec::new();
    let limit = imagecode::MAX_FILE_BYTES as u64 + 1;
    std::fs::File::open(path).and_then(|file| file.take(limit).read_to_end(&mut bytes)).map_err(cannot)?;
    Ok(bytes)
}

/// What a scan or a lookup prints at the end, and its exit code (partial when a license failed).
pub(crate) fn report(outcome: Result<ScanOutcome, Error>, json: bool) -> ExitCode {
    match outcome {
        Ok(outcome) => {
            if json {
                output::print_json(&scan_dto(&outcome));
            } else {
                print_outcome(&outcome);
            }
            if outcome.licenses.iter().any(|l| l.error.is_some()) {
                ExitCode::from(EXIT_PARTIAL)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(err) => output::fail(&err, json),
    }
}

#[derive(Serialize)]
struct CachedDto<'a> {
    license_code: &'a str,
    name: &'a str,
    id_code: &'a str,
    enterprise: EnterpriseDto<'a>,
    auth_id: &'a str,
    status: &'a str,
    fetched_at: &'a str,
    file: Option<FileDto<'a>>,
}

pub(crate) fn licenses(args: LicensesArgs) -> ExitCode {
    let listed = open_cache(args.data_dir).and_then(|cache| cache.licenses());
    let listed = match listed {
        Ok(l) => l,
        Err(err) => return output::fail(&err, args.json),
    };
    if args.json {
        let dtos: Vec<CachedDto<'_>> = listed
            .iter()
            .map(|c| CachedDto {
                license_code: &c.license_code,
                name: &c.name,
                id_code: &c.id_code,
                enterprise: EnterpriseDto { name: &c.enterprise_name, uscc: &c.uscc },
                auth_id: &c.auth_id,
                status: c.status_at_fetch.as_str(),
                fetched_at: &c.fetched_at,
                file: c.file.as_ref().map(|f| FileDto { name: &f.file_name, bytes: f.size, sha256: &f.sha256 }),
            })
            .collect();
        output::print_json(&dtos);
    } else if listed.is_empty() {
        say!("缓存中没有证照。");
    } else {
        for c in &listed {
            let file = c
                .file
                .as_ref()
                .map(|f| format!("{}（{} 字节）", f.file_name, f.size))
                .unwrap_or_else(|| "无文件".into());
            say!(
                "{}  {:<4} {}  {}  {}  {}",
                c.fetched_at,
                c.status_at_fetch.label(),
                c.enterprise_name,
                c.name,
                c.id_code,
                file
            );
        }
    }
    ExitCode::SUCCESS
}
