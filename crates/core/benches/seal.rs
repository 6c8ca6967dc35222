//! Sealing benchmark: SM4-GCM throughput on this machine; re-opening a cached license file sealed
//! vs the same bytes read plain from SQLite (100 KB, 1 MB, 8 MB); and what sealing adds to a whole
//! sandbox scan (ratio to the same scan without the seal calls). Prints figures; asserts nothing.
//!
//! Run with `cargo bench -p yueshang-core --bench seal`.

use std::sync::Arc;
use std::time::{Duration, Instant};
use yueshang_core::cache::{Cache, LicenseRecord, Source};
use yueshang_core::clock::{RandomNonces, SystemClock};
use yueshang_core::domain::{
    Authorization, AuthorizedLicense, BizNum, Enterprise, FaceFields, IssueState, LicenseStatus, LicenseSummary,
    ServiceItem, Uscc,
};
use yueshang_core::gateway::LicenseFile;
use yueshang_core::keystore::{KeyStore, Preference, SealKey};
use yueshang_core::station::Station;
use yueshang_gateway_sim::samples::{self, Consent};
use yueshang_gateway_sim::{SandboxGateway, SimOptions};

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn timed<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let started = Instant::now();
    let value = f();
    (started.elapsed(), value)
}

/// Bytes that do not compress or repeat, like a PDF's streams.
fn noise(len: usize) -> Vec<u8> {
    let key = SealKey::random();
    let mut bytes = key.seal(b"noise", &vec![0u8; len]);
    bytes.truncate(len);
    bytes
}

fn sm4_gcm_throughput(runs: usize) {
    let key = SealKey::random();
    let plain = noise(8 << 20);
    let seal = median((0..runs).map(|_| timed(|| key.seal(b"bench", &plain)).0).collect());
    let sealed = key.seal(b"bench", &plain);
    let open = median((0..runs).map(|_| timed(|| key.open(b"bench", &sealed)).0).collect());
    let mb = plain.len() as f64 / (1 << 20) as f64;
    println!(
        "SM4-GCM on this machine (8 MiB): seal {:.0} MB/s, open {:.0} MB/s",
        mb / seal.as_secs_f64(),
        mb / open.as_secs_f64()
    );
}

/// One customer with one license whose file has `len` bytes, in an on-disk sealed cache.
fn cache_with_file(dir: &std::path::Path, len: usize) -> (Cache, Vec<u8>) {
    let keys = KeyStore::with_preference(dir.join("config"), Preference::File);
    let cache = Cache::open(&dir.join(format!("cache-{len}.sqlite3")), &keys).expect("cache");
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-30T09:00:00+08:00").expect("time");
    let uscc = Uscc::parse("91440300708461136T").expect("uscc");
    let summary = LicenseSummary {
        license_code: "L1".into(),
        name: "食品经营许可证".into(),
        license_type: "CERTIFICATE".into(),
        id_code: "JY14401060012345".into(),
        issue_org_name: "广州市天河区市场监督管理局".into(),
        begin_date: None,
        expiry_date: None,
        issue_state: IssueState::Issued,
    };
    let enterprise =
        Enterprise {
            name: "广州穗禾餐饮管理有限公司".into(), uscc: uscc.clone(), legal_rep_name: "李*".into()
        };
    let authorization = Authorization {
        auth_id: "A-1".into(),
        expires_at: now,
        licenses: vec![AuthorizedLicense { summary: summary.clone(), auth_code: "ac-1".into() }],
    };
    let item = ServiceItem::new("ITEM1", "食品经营许可（新办）").expect("item");
    cache.store_authorization(&enterprise, &authorization, &item, &BizNum::from_existing("YS-1"), now).expect("store");
    let bytes = noise(len);
    let file = LicenseFile::new("l1.pdf".into(), bytes.clone());
    cache
        .store_license(&LicenseRecord {
            auth_id: "A-1",
            uscc: &uscc,
            summary: &summary,
            abolish_reason: None,
            face_fields: &FaceFields::default(),
            status: LicenseStatus::Valid,
            source: Source::Code2Auth,
            fetched_at: now,
            file: Some((&file, "x")),
        })
        .expect("store license");
    (cache, bytes)
}

fn reopen_sealed_vs_plain(runs: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    println!(
        "re-opening a cached license (median of {runs}; plain = the same bytes as a BLOB in the same database file):"
    );
    for (label, len) in [("100 KB", 100 * 1024), ("1 MB", 1 << 20), ("8 MB", 8 << 20)] {
        let (cache, bytes) = cache_with_file(dir.path(), len);
        let plain = rusqlite::Connection::open(dir.path().join(format!("cache-{len}.sqlite3"))).expect("plain");
        plain.execute("CREATE TABLE IF NOT EXISTS plain_files (id INTEGER PRIMARY KEY, content BLOB)", []).expect("t");
        plain.execute("INSERT OR REPLACE INTO plain_files (id, content) VALUES (1, ?1)", [&bytes]).expect("i");
        let read_plain = || -> Vec<u8> {
            plain.query_row("SELECT content FROM plain_files WHERE id = 1", [], |r| r.get(0)).expect("read")
        };
        let open_sealed = || cache.file_content("A-1", "L1").expect("open").expect("file");
        assert_eq!(open_sealed().as_slice(), read_plain().as_slice());
        let plain_t = median((0..runs).map(|_| timed(read_plain).0).collect());
        let sealed_t = median((0..runs).map(|_| timed(open_sealed).0).collect());
        println!(
            "  {label:>6}: sealed {:>7.2} ms, plain {:>6.2} ms (×{:.1})",
            ms(sealed_t),
            ms(plain_t),
            sealed_t.as_secs_f64() / plain_t.as_secs_f64().max(1e-9)
        );
    }
    println!("  targets: 1 MB ≤ 30 ms, 8 MB ≤ 200 ms");
}

/// A real sandbox scan into a sealed on-disk cache, and the seal calls of that scan timed alone:
/// the scan without them would take the difference.
async fn scan_cost(runs: usize) {
    let many = samples::enterprises()
        .into_iter()
        .filter(|e| e.consent == Consent::Granted)
        .max_by_key(|e| e.licenses.len())
        .expect("a sample enterprise");
    let options = SimOptions { latency: Duration::from_millis(50), ..SimOptions::default() };
    let sim = SandboxGateway::start("127.0.0.1:0".parse().expect("addr"), options).await.expect("sandbox");
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = KeyStore::with_preference(dir.path().join("config"), Preference::File);
    let mut scans = Vec::new();
    let mut seals = Vec::new();
    let mut content = 0;
    for run in 0..=runs {
        let cache = Arc::new(Cache::open(&dir.path().join(format!("scan-{run}.sqlite3")), &keys).expect("cache"));
        let settings = yueshang_gateway_sim::sandbox_settings(&sim.base_url());
        let station = Station::new(settings, cache.clone(), Arc::new(SystemClock), Arc::new(RandomNonces)).expect("s");
        let biz = station.next_biz_num().expect("biz");
        let code = sim.control().issue_code(&many.uscc, None).expect("code").payload;
        let started = Instant::now();
        let outcome = station.scan(&code, None, &biz, &|_| {}).await.expect("scan");
        let scan = started.elapsed();
        // What the scan sealed: each file, each face, each auth code and summary, the legal rep.
        let mut values: Vec<Vec<u8>> = vec![outcome.enterprise.legal_rep_name.clone().into_bytes()];
        for l in &outcome.licenses {
            let code = &l.summary.license_code;
            values.push(cache.file_content(&outcome.auth_id, code).expect("f").map(|b| b.to_vec()).unwrap_or_default());
            values.push(serde_json::to_vec(&l.license.as_ref().map(|x| x.face_fields.0.clone())).expect("json"));
            values.push(cache.auth_code(&outcome.auth_id, code).expect("a").expect("a").expose().as_bytes().to_vec());
            values.push(vec![b'x'; 300]);
        }
        let key = SealKey::random();
        let (seal, _) = timed(|| values.iter().map(|v| key.seal(b"bench", v).len()).sum::<usize>());
        if run > 0 {
            // run 0 warms the sandbox's rendered files
            scans.push(scan);
            seals.push(seal);
            content = values.iter().map(Vec::len).sum();
        }
    }
    let (scan, seal) = (median(scans), median(seals));
    let unsealed = scan.saturating_sub(seal);
    println!(
        "whole scan ({} licenses, {:.1} MB sealed, 50 ms sandbox latency): {:.1} ms sealed, sealing itself {:.2} ms → ratio to unsealed {:.3} (target ≤ 1.1)",
        many.licenses.len(),
        content as f64 / 1e6,
        ms(scan),
        ms(seal),
        scan.as_secs_f64() / unsealed.as_secs_f64()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too, once, quickly.
    let quick = !std::env::args().any(|a| a == "--bench");
    let runs = if quick { 1 } else { 15 };
    sm4_gcm_throughput(if quick { 1 } else { 5 });
    reopen_sealed_vs_plain(runs);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(scan_cost(if quick { 1 } else { 5 }));
}
