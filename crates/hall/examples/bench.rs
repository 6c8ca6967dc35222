//! The hall service's benchmark (scripts/bench-hall): a simulated hall day — 60 counters × 250
//! customers × 12 events — shipped concurrently over HTTP to one hall service on a throwaway
//! PostgreSQL on this machine, every batch verified and countersigned. Prints events/s against a
//! bare insert of the same rows measured in the same run, batch latencies, the day summary's time
//! and the table's size per million events.

use base64::Engine as _;
use std::sync::Arc;
use std::time::{Duration, Instant};
use yueshang_core::audit::chain::{ChainedEvent, FIELDS, GENESIS, canonical, link};
use yueshang_core::audit::checkpoint::Checkpoint;
use yueshang_core::audit::key::CounterKey;
use yueshang_core::clock::{Clock, SystemClock};
use yueshang_core::config::HallServiceSettings;
use yueshang_core::shipping::HallClient;
use yueshang_core::shipping::wire::{Batch, MAX_BATCH_EVENTS, WireCheckpoint, WireEvent};
use yueshang_hall::store::{POOL_SIZE, Store};
use yueshang_hall::witness::Witness;
use yueshang_testkit::postgres::Cluster;

const HALL: &str = "4401061";

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One counter's day: its key and its events chained, as its station would have written them.
struct CounterDay {
    name: String,
    key: CounterKey,
    events: Vec<ChainedEvent>,
}

fn counter_day(index: usize, customers: usize, date: &str) -> CounterDay {
    let key = CounterKey::generate_pkcs8_pem().expect("a key").0;
    let name = format!("B{index:02}");
    let mut events = Vec::with_capacity(customers * 12);
    let mut prev = GENESIS.to_owned();
    for customer in 0..customers {
        let biz = format!("YS-{HALL}-{name}-{customer:04}");
        let second = 9 * 3600 + customer * 100;
        for step in 0..12 {
            let (kind, outcome, detail) = match step {
                0 => ("scan", "info", None),
                1 => ("exchange", "ok", None),
                10 => ("scan_done", "ok", Some(format!("9 licenses, 0 failed, {} ms", 800 + (customer * 37) % 2000))),
                11 => ("submit", "ok", None),
                _ => ("license_fetch", if (customer + step) % 29 == 0 { "failed" } else { "ok" }, None),
            };
            let seq = events.len() + 1;
            let at =
                format!("{date}T{:02}:{:02}:{:02}.{:03}+08:00", second / 3600, second / 60 % 60, second % 60, step);
            let values: Vec<Option<String>> = vec![
                Some(seq.to_string()),
                Some(at),
                Some(kind.to_owned()),
                Some(outcome.to_owned()),
                (outcome == "failed").then(|| "GATEWAY_TIMEOUT".to_owned()),
                Some(format!("clerk{:02}", index % 20)),
                Some(HALL.to_owned()),
                Some(name.clone()),
                Some(format!("11{:02}", customer % 7)),
                Some(biz.clone()),
                Some("91440101MA5CW8NB4X".to_owned()),
                Some(format!("AUTH-{name}-{customer}")),
                (kind == "license_fetch").then(|| format!("L{step:02}-{customer:05}")),
                detail,
            ];
            let fields: Vec<(&str, Option<&str>)> =
                FIELDS.iter().zip(&values).map(|(n, v)| (*n, v.as_deref())).collect();
            let hash = link(&prev, &canonical(&fields));
            events.push(ChainedEvent { values, prev_hash: prev, hash: hash.clone() });
            prev = hash;
        }
    }
    CounterDay { name, key, events }
}

/// The counter's batches of its day, each with its checkpoint from the day's first event.
fn batches(day: &CounterDay) -> Vec<Batch> {
    day.events
        .chunks(MAX_BATCH_EVENTS)
        .map(|chunk| {
            let last = chunk.last().unwrap();
            let checkpoint = Checkpoint {
                hall: HALL.into(),
                counter: day.name.clone(),
                key: day.key.fingerprint(),
                first_seq: 1,
                last_seq: last.seq(),
                prev_hash: GENESIS.into(),
                head: last.hash.clone(),
                signed_at: "2026-11-30T18:00:00+08:00".into(),
            };
            let text = checkpoint.text();
            let signature = base64::engine::general_purpose::STANDARD.encode(day.key.sign(text.as_bytes()));
            Batch {
                events: chunk.iter().map(WireEvent::from_chained).collect(),
                checkpoint: Some(WireCheckpoint { text, signature }),
                records: vec![],
                anchor: None,
            }
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let counters = arg("--counters", 60);
    let customers = arg("--customers", 250);
    let date = SystemClock.now_china().date_naive().to_string();
    let cluster = Cluster::start();
    cluster.create_database("hall");
    let store = Store::open(&cluster.url_for("hall"), POOL_SIZE).await.expect("store");
    let dir = tempfile::tempdir().unwrap();
    let witness = Witness::load_or_create(&dir.path().join("witness.pem")).unwrap();

    let started = Instant::now();
    let days: Vec<CounterDay> = (0..counters).map(|i| counter_day(i, customers, &date)).collect();
    let total: usize = days.iter().map(|d| d.events.len()).sum();
    for day in &days {
        store.enroll(HALL, &day.name, &day.key.public_pem()).await.expect("enroll");
    }
    let prepared: Vec<(CounterKey, Vec<Batch>)> =
        days.into_iter().map(|d| (batches(&d), d.key)).map(|(b, k)| (k, b)).collect();
    println!(
        "prepared {counters} counters × {customers} customers = {total} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let baseline = bare_insert_rate(&cluster, &prepared).await;

    let bound = yueshang_hall::server::bind(
        store.clone(),
        witness,
        Arc::new(SystemClock),
        "127.0.0.1:0".parse().unwrap(),
        None,
    )
    .await
    .expect("bind");
    let settings =
        HallServiceSettings { url: bound.url.parse().unwrap(), ca_file: None, ship_interval: Duration::from_secs(30) };
    tokio::spawn(bound.run());

    let started = Instant::now();
    let mut tasks = Vec::new();
    for (key, batches) in prepared {
        let client = HallClient::new(&settings).unwrap();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for batch in &batches {
                let sent = Instant::now();
                let ack = client.send(&key, batch, SystemClock.now_china()).await;
                assert!(ack.is_ok(), "a batch was refused: {:?}", ack.err().map(|e| format!("{e:?}")));
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let rate = total as f64 / elapsed.as_secs_f64();
    println!(
        "hall ingest: {total} events from {counters} counters in {:.2} s = {rate:.0} events/s, every batch verified and countersigned",
        elapsed.as_secs_f64()
    );
    println!(
        "bare insert of the same rows (one connection, no HTTP, no verification): {baseline:.0} events/s; hall ÷ bare = {:.2}",
        rate / baseline
    );
    println!(
        "batch latency ({} batches of ≤{MAX_BATCH_EVENTS}): p50 {} ms, p99 {} ms, max {} ms",
        latencies.len(),
        percentile(&latencies, 0.5).as_millis(),
        percentile(&latencies, 0.99).as_millis(),
        latencies.last().unwrap().as_millis()
    );

    // The same hall unloaded: one counter alone sends its batches one after the other.
    let alone = counter_day(counters, 840, &date);
    store.enroll(HALL, &alone.name, &alone.key.public_pem()).await.expect("enroll");
    let client = HallClient::new(&settings).unwrap();
    let mut unloaded = Vec::new();
    for batch in batches(&alone) {
        let sent = Instant::now();
        client.send(&alone.key, &batch, SystemClock.now_china()).await.map_err(|e| format!("{e:?}")).expect("taken");
        unloaded.push(sent.elapsed());
    }
    unloaded.sort();
    println!(
        "batch latency with the hall otherwise idle ({} batches of one counter, in turn): p50 {} ms, max {} ms",
        unloaded.len(),
        percentile(&unloaded, 0.5).as_millis(),
        unloaded.last().unwrap().as_millis()
    );
    let total = total + alone.events.len();

    let day = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").unwrap();
    let mut summaries = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let summary = yueshang_hall::report::day(&store, day).await.expect("summary");
        summaries.push(t.elapsed());
        assert_eq!(summary.events as usize, total);
    }
    summaries.sort();
    println!(
        "hall day summary over {total} events: median {} ms, slowest {} ms (of 7)",
        percentile(&summaries, 0.5).as_millis(),
        summaries.last().unwrap().as_millis()
    );
    let size: i64 = cluster.psql("hall", "SELECT pg_total_relation_size('events')").parse().unwrap();
    println!(
        "events table with its indexes: {:.1} MB, {:.0} MB per million events",
        size as f64 / 1e6,
        size as f64 / total as f64
    );
}

/// The same rows inserted by one connection with the hall's own statement shape, no HTTP and no
/// verification: what PostgreSQL itself does on this machine (the physics the hall is held to).
async fn bare_insert_rate(cluster: &Cluster, prepared: &[(CounterKey, Vec<Batch>)]) -> f64 {
    cluster.psql("hall", "CREATE TABLE bare_events (LIKE events INCLUDING DEFAULTS INCLUDING INDEXES)");
    let (client, connection) = tokio_postgres::connect(&cluster.url_for("hall"), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let today = SystemClock.now_china().date_naive();
    let started = Instant::now();
    let mut rows = 0usize;
    for (i, (_, batches)) in prepared.iter().enumerate() {
        let counter_ref = format!("{HALL}/B{i:02}");
        for batch in batches {
            let seqs: Vec<i64> =
                batch.events.iter().map(|e| e.values[0].as_deref().unwrap().parse().unwrap()).collect();
            let days = vec![today; seqs.len()];
            let fields: Vec<Vec<Option<&str>>> =
                (1..14).map(|f| batch.events.iter().map(|e| e.values[f].as_deref()).collect()).collect();
            let prev: Vec<&str> = batch.events.iter().map(|e| e.prev_hash.as_str()).collect();
            let hash: Vec<&str> = batch.events.iter().map(|e| e.hash.as_str()).collect();
            let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![&counter_ref, &seqs, &days];
            for f in &fields {
                params.push(f);
            }
            params.extend([&prev as &(dyn tokio_postgres::types::ToSql + Sync), &hash]);
            client
                .execute(
                    "INSERT INTO bare_events (counter_ref, seq, day, at, kind, outcome, error_code, operator_account,
                         hall_code, counter, service_item_code, biz_num, uscc, auth_id, license_code, detail, prev_hash, hash)
                     SELECT $1, * FROM unnest($2::bigint[], $3::date[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                         $15::text[], $16::text[], $17::text[], $18::text[])",
                    &params,
                )
                .await
                .unwrap();
            rows += seqs.len();
        }
    }
    let rate = rows as f64 / started.elapsed().as_secs_f64();
    cluster.psql("hall", "DROP TABLE bare_events");
    rate
}
