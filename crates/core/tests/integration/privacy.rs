//! Privacy at rest: a sandbox scan of every sample enterprise leaves no plain content in the data
//! folder's raw files, before or after a purge; retention by China midnight; crypto-shredding that a
//! crash cannot undo; a copied database, a lost key, a tampered value and a full disk.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use yueshang_core::ErrorCode;
use yueshang_core::audit::AuditContext;
use yueshang_core::audit::key::CounterKey;
use yueshang_core::cache::{Cache, LicenseRecord, Source};
use yueshang_core::clock::{RandomNonces, SystemClock, china_tz};
use yueshang_core::domain::{
    Authorization, AuthorizedLicense, BizNum, Enterprise, FaceFields, IssueState, LicenseStatus, LicenseSummary,
    ServiceItem, Uscc,
};
use yueshang_core::gateway::LicenseFile;
use yueshang_core::keystore::{Backend, KeyBackend, KeyStore, Preference};
use yueshang_core::purge::{Purged, Scope, purge};
use yueshang_core::station::Station;
use yueshang_gateway_sim::samples::{self, Consent};
use yueshang_gateway_sim::{SandboxGateway, SimOptions};

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};

fn ctx() -> AuditContext {
    AuditContext { operator_account: "clerk01".into(), hall_code: "4401061".into(), counter: "B07".into() }
}

fn china(d: u32, h: u32, m: u32) -> DateTime<FixedOffset> {
    china_tz().with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap()
}

/// A hall PC's layout: the data folder, and the configuration folder beside it holding the key.
struct Counter {
    _dir: tempfile::TempDir,
    data: PathBuf,
    keys: KeyStore,
}

impl Counter {
    fn new() -> Counter {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let keys = KeyStore::with_preference(dir.path().join("config"), Preference::File);
        Counter { data, keys, _dir: dir }
    }

    fn db(&self) -> PathBuf {
        self.data.join("cache.sqlite3")
    }

    fn open(&self) -> Cache {
        Cache::open(&self.db(), &self.keys).unwrap()
    }
}

/// Every file in the data folder (database, WAL, shared memory, journals, temp files), raw.
fn raw_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(raw_files(&path));
        } else {
            found.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    found
}

/// The needles the data folder must not hold in plain text, named for the failure message.
fn found_in(dir: &Path, needles: &[(String, Vec<u8>)]) -> Vec<String> {
    let files = raw_files(dir);
    assert!(files.iter().any(|(p, _)| p.ends_with("cache.sqlite3")), "the database is in {}", dir.display());
    let mut hits = Vec::new();
    for (what, needle) in needles {
        let finder = memchr::memmem::Finder::new(needle);
        for (path, bytes) in &files {
            if !needle.is_empty() && finder.find(bytes).is_some() {
                hits.push(format!("{what} in {}", path.display()));
            }
        }
    }
    hits
}

/// Windows of a file's bytes at a quarter, a half and three quarters of it.
fn file_windows(name: &str, bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    [4, 2]
        .iter()
        .chain([4].iter())
        .enumerate()
        .map(|(i, d)| {
            let at = if i == 2 { bytes.len() * 3 / 4 } else { bytes.len() / d };
            let at = at.min(bytes.len().saturating_sub(32));
            (format!("bytes {at}.. of {name}"), bytes[at..(at + 32).min(bytes.len())].to_vec())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_scan_of_every_sample_enterprise_leaves_no_plain_content_before_or_after_a_purge() {
    let sim = SandboxGateway::start("127.0.0.1:0".parse().unwrap(), SimOptions::default()).await.unwrap();
    let counter = Counter::new();
    let cache = Arc::new(counter.open());
    let settings = yueshang_gateway_sim::sandbox_settings(&sim.base_url());
    let station = Station::new(settings, cache.clone(), Arc::new(SystemClock), Arc::new(RandomNonces)).unwrap();
    CounterKey::load_or_create(&cache).unwrap();

    let mut needles: Vec<(String, Vec<u8>)> = Vec::new();
    let mut plain_by_design: Vec<(String, Vec<u8>)> = Vec::new();
    let mut public: std::collections::HashSet<String> = std::collections::HashSet::new();
    let (mut customers, mut licenses) = (0u64, 0u64);
    for sample in samples::enterprises() {
        let code = sim.control().issue_code(&sample.uscc, None).unwrap().payload;
        let biz = station.next_biz_num().unwrap();
        let outcome = station.scan(&code, None, &biz, &|_| {}).await;
        if sample.consent == Consent::Declined {
            assert!(outcome.is_err());
            continue;
        }
        let outcome = outcome.unwrap();
        customers += 1;
        needles.push((format!("legal rep of {}", sample.name), sample.legal_rep_name.clone().into_bytes()));
        plain_by_design.push((format!("name of {}", sample.name), sample.name.clone().into_bytes()));
        for license in &outcome.licenses {
            let code = &license.summary.license_code;
            if license.error.is_none() {
                licenses += 1;
            }
            let auth_code = cache.auth_code(&outcome.auth_id, code).unwrap().unwrap();
            needles.push((format!("auth code of {code}"), auth_code.expose().as_bytes().to_vec()));
            if let Some(full) = &license.license {
                // The identifiers the public register prints (enterprise name, USCC, license
                // number, issuing authority) are plain by design, also where a face repeats them.
                public.extend([
                    sample.name.clone(),
                    sample.uscc.clone(),
                    full.summary.id_code.clone(),
                    full.summary.issue_org_name.clone(),
                    full.summary.name.clone(),
                ]);
                for (field, value) in &full.face_fields.0 {
                    // Short values (a masked name, a date) are told by the longer ones around them.
                    if value.len() >= 12 {
                        needles.push((format!("face field {field} of {code}"), value.clone().into_bytes()));
                    }
                }
            }
            if let Some(bytes) = cache.file_content(&outcome.auth_id, code).unwrap() {
                needles.extend(file_windows(code, &bytes));
            }
        }
    }
    // A face field that repeats a public identifier (any license's authority, say) is plain by design.
    needles.retain(|(_, needle)| !public.iter().any(|p| p.as_bytes() == needle.as_slice()));
    assert!(customers >= 5 && licenses >= 10, "{customers} customers, {licenses} licenses");
    assert!(needles.len() > 50, "{} needles", needles.len());

    let before = found_in(&counter.data, &needles);
    assert!(before.is_empty(), "plain content in the data folder: {before:#?}");
    // The search does find what is plain by design (the public register's enterprise names), so a
    // clean result above is not a search that cannot find anything.
    assert!(!found_in(&counter.data, &plain_by_design).is_empty());

    let purged = purge(station.cache(), Scope::All, &ctx(), china(30, 9, 0)).unwrap();
    assert_eq!(purged, Purged { customers, licenses });
    let after = found_in(&counter.data, &needles);
    assert!(after.is_empty(), "plain content after the purge: {after:#?}");
    let names_left = found_in(&counter.data, &plain_by_design);
    assert!(names_left.is_empty(), "erased customers' names still in the folder: {names_left:#?}");
    assert!(cache.licenses().unwrap().is_empty());
    let events = cache.audit_events().unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.kind, "cache_purge");
    assert_eq!(
        last.detail.as_deref(),
        Some(format!("清除 {customers} 位办事人的 {licenses} 张证照（全部清除）").as_str())
    );
    cache.verify_chain().unwrap();
}

fn enterprise(uscc: &str) -> Enterprise {
    Enterprise {
        name: "广州穗禾餐饮管理有限公司".into(),
        uscc: Uscc::parse(uscc).unwrap(),
        legal_rep_name: "欧阳**".into(),
    }
}

fn summary(code: &str) -> LicenseSummary {
    LicenseSummary {
        license_code: code.into(),
        name: "食品经营许可证".into(),
        license_type: "CERTIFICATE".into(),
        id_code: format!("JY1440106{code}"),
        issue_org_name: "广州市天河区市场监督管理局".into(),
        begin_date: NaiveDate::from_ymd_opt(2024, 1, 1),
        expiry_date: NaiveDate::from_ymd_opt(2029, 1, 1),
        issue_state: IssueState::Issued,
    }
}

/// Caches one customer with these licenses (each with a file) at `at`.
fn cache_customer(cache: &Cache, auth_id: &str, codes: &[&str], at: DateTime<FixedOffset>) {
    let enterprise = enterprise("91440300708461136T");
    let authorization = Authorization {
        auth_id: auth_id.into(),
        expires_at: at + chrono::Duration::minutes(30),
        licenses: codes
            .iter()
            .map(|c| AuthorizedLicense { summary: summary(c), auth_code: format!("ac-{c}").into() })
            .collect(),
    };
    let item = ServiceItem::new("ITEM1", "食品经营许可（新办）").unwrap();
    cache.store_authorization(&enterprise, &authorization, &item, &BizNum::from_existing(auth_id), at).unwrap();
    for code in codes {
        let file = LicenseFile::new(format!("{code}.pdf"), format!("%PDF-1.7 content of {code}").into_bytes());
        let faces = FaceFields(vec![("经营场所".into(), format!("广州市天河区体育西路 {code} 号"))]);
        store_file(cache, auth_id, code, &file, &faces, at).unwrap();
    }
}

/// Stores one valid license of the sample enterprise with its file.
fn store_file(
    cache: &Cache,
    auth_id: &str,
    code: &str,
    file: &LicenseFile,
    faces: &FaceFields,
    at: DateTime<FixedOffset>,
) -> yueshang_core::Result<()> {
    cache.store_license(&LicenseRecord {
        auth_id,
        uscc: &enterprise("91440300708461136T").uscc,
        summary: &summary(code),
        abolish_reason: None,
        face_fields: faces,
        status: LicenseStatus::Valid,
        source: Source::Code2Auth,
        fetched_at: at,
        file: Some((file, "食品经营许可（新办）")),
    })
}

fn auth_ids(cache: &Cache) -> Vec<String> {
    let mut ids: Vec<String> = cache.licenses().unwrap().into_iter().map(|l| l.auth_id).collect();
    ids.dedup();
    ids
}

#[test]
fn licenses_stay_until_the_china_midnight_their_retention_ends() {
    let counter = Counter::new();
    let cache = counter.open();
    cache_customer(&cache, "A-morning", &["L1", "L2"], china(29, 9, 0));
    cache_customer(&cache, "A-evening", &["L3"], china(29, 23, 50));
    let expired = |keep| Scope::Expired { license_days: 1, keep };

    assert_eq!(purge(&cache, expired(None), &ctx(), china(29, 23, 59)).unwrap(), Purged::default());
    // 00:10 China time is 16:10 UTC the day before: the day is China's.
    let after_midnight = chrono::Utc.with_ymd_and_hms(2026, 11, 29, 16, 10, 0).unwrap().fixed_offset();
    // The customer still on the desk at midnight is kept until 下一位.
    let purged = purge(&cache, expired(Some("A-evening")), &ctx(), after_midnight).unwrap();
    assert_eq!(purged, Purged { customers: 1, licenses: 2 });
    assert_eq!(auth_ids(&cache), ["A-evening"]);
    assert_eq!(purge(&cache, expired(None), &ctx(), after_midnight).unwrap(), Purged { customers: 1, licenses: 1 });
    assert!(cache.licenses().unwrap().is_empty());

    // Three days' retention keeps the day before yesterday's until the midnight after it.
    cache_customer(&cache, "A-three", &["L4"], china(27, 15, 0));
    let three = Scope::Expired { license_days: 3, keep: None };
    assert_eq!(purge(&cache, three, &ctx(), china(29, 23, 0)).unwrap(), Purged::default());
    assert_eq!(purge(&cache, three, &ctx(), china(30, 0, 1)).unwrap(), Purged { customers: 1, licenses: 1 });

    cache_customer(&cache, "A-one", &["L5"], china(30, 9, 0));
    cache_customer(&cache, "A-two", &["L6"], china(30, 9, 5));
    assert_eq!(purge(&cache, Scope::Customer("A-one"), &ctx(), china(30, 9, 6)).unwrap().customers, 1);
    assert_eq!(auth_ids(&cache), ["A-two"]);
    let kinds: Vec<String> = cache
        .audit_events()
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "cache_purge")
        .filter_map(|e| e.detail)
        .collect();
    assert_eq!(
        kinds,
        [
            "清除 1 位办事人的 2 张证照（保留期 1 天）",
            "清除 1 位办事人的 1 张证照（保留期 1 天）",
            "清除 1 位办事人的 1 张证照（保留期 3 天）",
            "清除 1 位办事人的 1 张证照（下一位（保留期 0 天））",
        ]
    );
}

#[test]
fn a_purge_cut_short_after_its_keys_went_is_finished_by_the_next_one() {
    let counter = Counter::new();
    let cache = counter.open();
    cache_customer(&cache, "A-1", &["L1", "L2"], china(29, 9, 0));
    cache_customer(&cache, "A-2", &["L3"], china(30, 9, 0));
    drop(cache);
    // What a kill -9 right after the purge's first commit leaves: the data key gone, the rows not yet.
    let raw = rusqlite::Connection::open(counter.db()).unwrap();
    raw.execute("DELETE FROM data_keys WHERE auth_id = 'A-1'", []).unwrap();
    drop(raw);

    let cache = counter.open();
    // Its content no longer opens: crypto-shredded already.
    let err = cache.file_content("A-1", "L1").unwrap_err();
    assert_eq!(err.code, ErrorCode::StorageFailed);
    // The next start's purge finishes it, whatever the retention says of the rest.
    let purged = purge(&cache, Scope::Expired { license_days: 30, keep: None }, &ctx(), china(30, 10, 0)).unwrap();
    assert_eq!(purged, Purged { customers: 1, licenses: 2 });
    assert_eq!(auth_ids(&cache), ["A-2"]);
    assert_eq!(cache.partial_license_count().unwrap(), 0);
}

#[test]
fn a_tampered_sealed_value_names_its_license_and_the_others_still_open() {
    let counter = Counter::new();
    let cache = counter.open();
    cache_customer(&cache, "A-1", &["L1", "L2"], china(30, 9, 0));
    drop(cache);
    let raw = rusqlite::Connection::open(counter.db()).unwrap();
    let mut sealed: Vec<u8> =
        raw.query_row("SELECT content_sealed FROM files WHERE license_code = 'L1'", [], |r| r.get(0)).unwrap();
    let middle = sealed.len() / 2;
    sealed[middle] ^= 0x40;
    raw.execute("UPDATE files SET content_sealed = ?1 WHERE license_code = 'L1'", [sealed]).unwrap();
    // A sealed value moved to another row does not open there either.
    raw.execute(
        "UPDATE licenses SET face_fields_sealed = (SELECT face_fields_sealed FROM licenses WHERE license_code = 'L1')
         WHERE license_code = 'L2'",
        [],
    )
    .unwrap();
    drop(raw);

    let cache = counter.open();
    let err = cache.file_content("A-1", "L1").unwrap_err();
    assert_eq!(err.code, ErrorCode::StorageFailed);
    assert!(err.message.contains("食品经营许可证") && err.message.contains("L1"), "{}", err.message);
    assert_eq!(cache.file_content("A-1", "L2").unwrap().unwrap().as_slice(), b"%PDF-1.7 content of L2");
    assert_eq!(cache.face_fields("A-1", "L2").unwrap_err().code, ErrorCode::StorageFailed);
    assert_eq!(cache.face_fields("A-1", "L1").unwrap().unwrap().get("经营场所"), Some("广州市天河区体育西路 L1 号"));
    assert_eq!(cache.legal_rep_name("A-1").unwrap().as_deref(), Some("欧阳**"));
}

#[test]
fn a_database_copied_to_another_pc_or_without_its_key_opens_nothing_until_it_is_reset() {
    let counter = Counter::new();
    let cache = counter.open();
    assert_eq!(cache.key_info().backend, Backend::File);
    let key_file = PathBuf::from(cache.key_info().location);
    assert!(key_file.starts_with(counter.keys.dir()) && !key_file.starts_with(&counter.data));
    cache_customer(&cache, "A-1", &["L1"], china(30, 9, 0));
    let fingerprint = CounterKey::load_or_create(&cache).unwrap().fingerprint();
    cache
        .append_audit(
            &ctx(),
            &yueshang_core::audit::AuditEvent::new(
                yueshang_core::audit::AuditKind::Scan,
                yueshang_core::audit::Outcome::Info,
            ),
            china(30, 9, 1),
        )
        .unwrap();
    drop(cache);

    // Another PC: the same file, another configuration folder (its own keys).
    let other = Counter::new();
    std::fs::create_dir_all(&other.data).unwrap();
    std::fs::copy(counter.db(), other.db()).unwrap();
    let err = Cache::open(&other.db(), &other.keys).unwrap_err();
    assert_eq!(err.code, ErrorCode::StorageKeyMissing);
    assert!(err.message.contains("yueshang cache reset"), "{}", err.message);
    // Another PC with a key of its own of the same id would still not open it (the check value).
    let own = other.open_fresh_key_like(&counter);
    assert_eq!(Cache::open(&other.db(), &own).unwrap_err().code, ErrorCode::StorageKeyMissing);

    // This PC, its key deleted: the same, and nothing new is made in its place.
    std::fs::remove_file(&key_file).unwrap();
    assert_eq!(Cache::open(&counter.db(), &counter.keys).unwrap_err().code, ErrorCode::StorageKeyMissing);
    assert!(!key_file.exists());

    // IT's way out: the sealed cache is wiped, a new key made, the audit trail kept and verifying.
    let cache = Cache::reset(&counter.db(), &counter.keys, "it-admin", china(30, 10, 0)).unwrap();
    assert!(cache.licenses().unwrap().is_empty());
    let events = cache.audit_events().unwrap();
    assert_eq!(events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), ["scan", "storage_reset"]);
    assert_eq!(events[1].hall_code, "4401061");
    cache.verify_chain().unwrap();
    assert_ne!(
        CounterKey::load_or_create(&cache).unwrap().fingerprint(),
        fingerprint,
        "the old audit key was sealed under the lost key"
    );
    drop(cache);
    counter.open();
}

impl Counter {
    /// A key store on this "PC" holding a random key under the id the other counter's database
    /// recorded: what an attacker guessing the layout would make.
    fn open_fresh_key_like(&self, original: &Counter) -> KeyStore {
        let raw = rusqlite::Connection::open(original.db()).unwrap();
        let key_id: String = raw.query_row("SELECT key_id FROM storage_key", [], |r| r.get(0)).unwrap();
        let keys = KeyStore::with_preference(self.data.parent().unwrap().join("config"), Preference::File);
        yueshang_core::keystore::file::FileBackend::new(keys.dir()).store(&key_id, &[9u8; 16]).unwrap();
        keys
    }
}

#[test]
fn a_full_disk_mid_write_caches_nothing_of_that_license() {
    let counter = Counter::new();
    let cache = counter.open();
    cache_customer(&cache, "A-1", &["L1"], china(30, 9, 0));
    let pages = cache.page_count().unwrap();
    cache.limit_pages(pages + 2).unwrap();
    let big = LicenseFile::new("big.pdf".into(), vec![0x25; 64 * 1024]);
    let err = store_file(&cache, "A-1", "L1", &big, &FaceFields::default(), china(30, 9, 1)).unwrap_err();
    assert_eq!(err.code, ErrorCode::StorageFailed);
    // The earlier fetch of L1 stands whole; nothing half-written replaced it.
    assert_eq!(cache.file_content("A-1", "L1").unwrap().unwrap().as_slice(), b"%PDF-1.7 content of L1");
    assert_eq!(cache.partial_license_count().unwrap(), 0);
}

#[test]
fn gateway_secrets_left_out_of_the_file_come_from_the_sealed_store() {
    use yueshang_core::secret::Secret;
    use yueshang_core::secrets::{SecretName, fill_gateway, list, set};
    let counter = Counter::new();
    let cache = counter.open();
    let mut gateway = yueshang_gateway_sim::sandbox_settings(&"http://127.0.0.1:9".parse().unwrap()).gateway;
    gateway.token = Secret::default();
    gateway.app_secret = Secret::default();
    let err = fill_gateway(&mut gateway.clone(), &cache).unwrap_err();
    assert_eq!(err.code, ErrorCode::ConfigInvalid);
    assert!(err.message.contains("yueshang secrets set token"), "{}", err.message);

    set(&cache, SecretName::Token, &Secret::new("sealed-token-7d1"), &ctx(), china(30, 9, 0)).unwrap();
    set(&cache, SecretName::AppSecret, &Secret::new("sealed-app-secret-3c9"), &ctx(), china(30, 9, 0)).unwrap();
    assert_eq!(
        set(&cache, SecretName::Password, &Secret::new("  "), &ctx(), china(30, 9, 0)).unwrap_err().code,
        ErrorCode::ConfigInvalid
    );
    fill_gateway(&mut gateway, &cache).unwrap();
    assert_eq!((gateway.token.expose(), gateway.app_secret.expose()), ("sealed-token-7d1", "sealed-app-secret-3c9"));
    let states = list(&cache).unwrap();
    assert_eq!(states.iter().filter(|s| s.updated_at.is_some()).count(), 2);
    let details: Vec<String> = cache.audit_events().unwrap().into_iter().filter_map(|e| e.detail).collect();
    assert_eq!(details, ["保存 gateway.token", "保存 gateway.app_secret"]);
    drop(cache);
    let needles = [
        ("token".to_owned(), b"sealed-token-7d1".to_vec()),
        ("app secret".to_owned(), b"sealed-app-secret-3c9".to_vec()),
    ];
    assert!(found_in(&counter.data, &needles).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_retention_a_customer_is_erased_at_next_customer_and_kept_while_on_the_desk() {
    use yueshang_core::desk::Desk;
    use yueshang_core::outbox::{Outbox, random_jitter};
    let sim = SandboxGateway::start("127.0.0.1:0".parse().unwrap(), SimOptions::default()).await.unwrap();
    let mut settings = yueshang_gateway_sim::sandbox_settings(&sim.base_url());
    settings.privacy.license_days = 0;
    let counter = Counter::new();
    let cache = Arc::new(counter.open());
    let station =
        Arc::new(Station::new(settings, cache.clone(), Arc::new(SystemClock), Arc::new(RandomNonces)).unwrap());
    let desk = Desk::new(station.clone(), Arc::new(Outbox::new(station, random_jitter()))).unwrap();
    let code = sim.control().issue_code(&crate::small_uscc(), None).unwrap().payload;
    let outcome = desk.scan(code, None, Arc::new(|_| {})).await.unwrap();
    let first = outcome.licenses[0].summary.license_code.clone();
    assert!(!desk.license_file(&first).unwrap().is_empty(), "the customer on the desk is served from the cache");
    assert_eq!(cache.licenses().unwrap().len(), outcome.licenses.len());

    desk.next_customer().unwrap();
    assert!(cache.licenses().unwrap().is_empty());
    let kinds: Vec<String> = cache.audit_events().unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(&kinds[kinds.len() - 2..], ["case_closed", "cache_purge"]);
}
