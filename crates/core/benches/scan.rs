//! Scan benchmark: time from scan to every license and file cached, against the critical-path
//! bound and a sequential baseline measured in the same run. Prints figures; asserts nothing.
//!
//! Run with `cargo bench -p yueshang-core --bench scan`.

use std::sync::Arc;
use std::time::{Duration, Instant};
use yueshang_core::cache::Cache;
use yueshang_core::clock::{RandomNonces, SystemClock};
use yueshang_core::domain::EnterpriseCode;
use yueshang_core::gateway::GatewayClient;
use yueshang_core::keystore::{KeyStore, Preference};
use yueshang_core::station::Station;
use yueshang_gateway_sim::samples::{self, Consent};
use yueshang_gateway_sim::{SandboxGateway, SimOptions};

const LATENCY: Duration = Duration::from_millis(50);
const RUNS: usize = 5;

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Bench {
    sim: SandboxGateway,
    uscc: String,
    dir: tempfile::TempDir,
}

impl Bench {
    fn fresh_payload(&self) -> String {
        self.sim.control().issue_code(&self.uscc, None).expect("sample enterprise").payload
    }

    fn station(&self, run: usize) -> Station {
        let settings = yueshang_gateway_sim::sandbox_settings(&self.sim.base_url());
        let keys = KeyStore::with_preference(self.dir.path().join("config"), Preference::File);
        let cache = Cache::open(&self.dir.path().join(format!("cache-{run}.sqlite3")), &keys).expect("cache");
        Station::new(settings, Arc::new(cache), Arc::new(SystemClock), Arc::new(RandomNonces)).expect("station")
    }

    fn client(&self) -> GatewayClient {
        let settings = yueshang_gateway_sim::sandbox_settings(&self.sim.base_url());
        GatewayClient::new(&settings, Arc::new(SystemClock), Arc::new(RandomNonces)).expect("client")
    }

    /// The whole flow, as the counter runs it, into a fresh on-disk cache.
    async fn scan(&self, run: usize) -> (Duration, usize) {
        let station = self.station(run);
        let biz = station.next_biz_num().expect("biz num");
        let code = self.fresh_payload();
        let started = Instant::now();
        let outcome = station.scan(&code, None, &biz, &|_| {}).await.expect("scan");
        let elapsed = started.elapsed();
        assert!(outcome.licenses.iter().all(|l| l.error.is_none()), "every license fetched");
        (elapsed, outcome.licenses.len())
    }

    /// The exchange alone, then each license's detail-then-archive chain alone, one at a time:
    /// the bound is the exchange plus the slowest chain; the sequential baseline is their sum.
    async fn parts(&self) -> (Duration, Duration, Duration) {
        let client = self.client();
        client.ensure_login().await.expect("login");
        let settings = yueshang_gateway_sim::sandbox_settings(&self.sim.base_url());
        let item = &settings.service_items[0];
        let biz = yueshang_core::domain::BizNum::from_existing("YS-BENCH-1");
        let code = EnterpriseCode::parse(&self.fresh_payload()).expect("code");
        let started = Instant::now();
        let (_, auth) =
            client.exchange_code(&code, item, &biz, &settings.operator, &settings.counter).await.expect("exchange");
        let exchange = started.elapsed();
        let mut chains = Vec::new();
        for l in &auth.licenses {
            let started = Instant::now();
            client.get_license(l.auth_code.expose()).await.expect("detail");
            client.archive(l.auth_code.expose(), &item.name).await.expect("archive");
            chains.push(started.elapsed());
        }
        let slowest = chains.iter().copied().max().unwrap_or_default();
        let sequential = exchange + chains.iter().sum::<Duration>();
        (exchange, exchange + slowest, sequential)
    }
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too, once, quickly.
    let quick = !std::env::args().any(|a| a == "--bench");
    let runs = if quick { 1 } else { RUNS };
    let many = samples::enterprises()
        .into_iter()
        .filter(|e| e.consent == Consent::Granted)
        .max_by_key(|e| e.licenses.len())
        .expect("a sample enterprise");
    let options = SimOptions { latency: LATENCY, ..SimOptions::default() };
    let sim = SandboxGateway::start("127.0.0.1:0".parse().expect("addr"), options).await.expect("sandbox");
    let bench = Bench { sim, uscc: many.uscc.clone(), dir: tempfile::tempdir().expect("tempdir") };

    // Warm-up: the sandbox renders each annotated copy once and keeps it, so every measured run
    // sees the same server-side cost.
    bench.scan(usize::MAX).await;

    let mut scans = Vec::new();
    let mut bounds = Vec::new();
    let mut sequentials = Vec::new();
    let mut exchanges = Vec::new();
    let mut licenses = 0;
    for run in 0..runs {
        let (scan, n) = bench.scan(run).await;
        let (exchange, bound, sequential) = bench.parts().await;
        scans.push(scan);
        bounds.push(bound);
        sequentials.push(sequential);
        exchanges.push(exchange);
        licenses = n;
    }
    let (scan, bound, sequential) = (median(scans), median(bounds), median(sequentials));
    let settings = yueshang_gateway_sim::sandbox_settings(&bench.sim.base_url());
    println!(
        "scan benchmark: sandbox latency {} ms, {} ({} licenses), max_parallel_licenses {}, median of {runs} run(s)",
        LATENCY.as_millis(),
        many.name,
        licenses,
        settings.tuning.max_parallel_licenses
    );
    println!("exchange_ms={:.1}", ms(median(exchanges)));
    println!("scan_ms={:.1}", ms(scan));
    println!("bound_ms={:.1}", ms(bound));
    println!("sequential_ms={:.1}", ms(sequential));
    println!("ratio_to_bound={:.2}", scan.as_secs_f64() / bound.as_secs_f64());
    println!("speedup_vs_sequential={:.1}", sequential.as_secs_f64() / scan.as_secs_f64());
    bench.sim.shutdown().await;
}
