//! The whole hall end to end through the real `yueshang` binary: a hall service on a throwaway
//! PostgreSQL, counters (each its own configuration, data folder and key) scanning on the sandbox
//! and shipping; the hall's rows equal to each counter's chain, its export verified with OpenSSL
//! and a few lines of Python; and the faults: kill -9 of the service mid-batch, PostgreSQL
//! restarted, a day offline, an unenrolled key, a rewritten chain, HTTPS, and a city database
//! subscribed to the hall's tables by PostgreSQL's own logical replication.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use yueshang_testkit::auditor::{openssl_verifies, python_verifies};
use yueshang_testkit::postgres::{Cluster, ClusterOptions};

const BIN: &str = env!("CARGO_BIN_EXE_yueshang");
const HALL: &str = "4401061";

fn yueshang() -> Command {
    let mut command = Command::new(BIN);
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hall-config-home");
    command.env("XDG_CONFIG_HOME", home).env_remove("YUESHANG_CONFIG").env("YUESHANG_MACHINE_CONFIG", "");
    command
}

/// Runs the binary: exit code, stdout as JSON.
fn run_json(args: &[&str]) -> (i32, Value) {
    let out = yueshang().args(args).output().expect("run yueshang");
    if !out.status.success() {
        eprintln!("{args:?} said on stderr: {}", String::from_utf8_lossy(&out.stderr));
    }
    let stdout = String::from_utf8(out.stdout).unwrap();
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("{args:?} printed no JSON ({e}): {stdout}\nstderr: {}", String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code().unwrap_or(-1), json)
}

/// A long-running `yueshang` (the sandbox, the hall service), killed with SIGKILL when dropped.
struct Service {
    child: Child,
    url: String,
}

impl Service {
    fn start(args: &[&str]) -> Service {
        let mut child =
            yueshang().args(args).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("start yueshang");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).expect("first line");
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("{args:?} first line: {first:?}"))
            .to_owned();
        Service { child, url }
    }

    /// `kill -9`: no shutdown, whatever it was doing is cut.
    fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn port(&self) -> u16 {
        self.url.rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill_hard();
    }
}

/// The hall: its database, its witness key and the running service.
struct Hall {
    db: Cluster,
    dir: tempfile::TempDir,
    service: Service,
}

impl Hall {
    fn start() -> Hall {
        Hall::start_with(ClusterOptions::default())
    }

    fn start_with(options: ClusterOptions) -> Hall {
        let db = Cluster::start_with(options);
        db.create_database("hall");
        let dir = tempfile::tempdir().unwrap();
        let service = Hall::serve(&db, dir.path(), "127.0.0.1:0");
        Hall { db, dir, service }
    }

    fn serve(db: &Cluster, dir: &Path, addr: &str) -> Service {
        let key = dir.join("witness.pem");
        Service::start(&[
            "hall",
            "serve",
            "--db",
            &db.url_for("hall"),
            "--addr",
            addr,
            "--witness-key",
            key.to_str().unwrap(),
        ])
    }

    fn url(&self) -> String {
        self.db.url_for("hall")
    }

    /// After a `kill -9`: the service again, on the same port, with the same key.
    fn restart_service(&mut self) {
        let addr = format!("127.0.0.1:{}", self.service.port());
        self.service.kill_hard();
        self.service = Hall::serve(&self.db, self.dir.path(), &addr);
    }

    fn sql(&self, sql: &str) -> String {
        self.db.psql("hall", sql)
    }

    fn report(&self, date: &str) -> Value {
        let (code, json) = run_json(&["hall", "report", "--db", &self.url(), "--date", date, "--json"]);
        assert_eq!(code, 0, "{json}");
        json
    }
}

/// A counter PC: its configuration (sandbox mode, its hall and counter, the hall service) and data folder.
struct CounterPc {
    dir: tempfile::TempDir,
    name: String,
}

impl CounterPc {
    fn new(name: &str, hall_url: &str, extra: &str) -> CounterPc {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "mode = \"sandbox\"\n\n[hall]\ncode = \"{HALL}\"\nname = \"天河区政务服务中心\"\ncounter = \"{name}\"\n\n\
             [hall_service]\nurl = \"{hall_url}\"\n{extra}"
        );
        std::fs::write(dir.path().join("counter.toml"), config).unwrap();
        CounterPc { dir, name: name.to_owned() }
    }

    fn config(&self) -> String {
        self.dir.path().join("counter.toml").display().to_string()
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn scan(&self, sim: &Service, uscc: &str) {
        let (code, json) = run_json(&["sim", "issue-code", "--sim", &sim.url, "--enterprise", uscc, "--json"]);
        assert_eq!(code, 0, "{json}");
        let payload = json["payload"].as_str().unwrap().to_owned();
        let (code, json) = run_json(&[
            "scan",
            &payload,
            "--config",
            &self.config(),
            "--sim",
            &sim.url,
            "--data-dir",
            &self.data(),
            "--json",
        ]);
        assert!(code == 0 || code == 3, "scan: {json}");
    }

    /// The counter's public key, as IT takes it to the hall server.
    fn public_key_file(&self) -> PathBuf {
        let out = yueshang()
            .args(["audit", "key", "--pem", "--config", &self.config(), "--data-dir", &self.data()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let pem = &text[text.find("-----BEGIN").expect("a PEM")..];
        let path = self.dir.path().join("counter.pub.pem");
        std::fs::write(&path, pem).unwrap();
        path
    }

    fn enroll(&self, hall: &Hall) {
        let key = self.public_key_file();
        let counter = format!("{HALL}/{}", self.name);
        let (code, json) = run_json(&[
            "hall",
            "enroll",
            "--db",
            &hall.url(),
            "--counter",
            &counter,
            "--key",
            key.to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(code, 0, "{json}");
    }

    fn ship(&self) -> (i32, Value) {
        run_json(&["hall", "ship", "--config", &self.config(), "--data-dir", &self.data(), "--json"])
    }

    /// The counter's own chain: how many events and the hash of the last.
    fn chain(&self) -> (i64, String) {
        let out = yueshang()
            .args(["audit", "verify-db", "--data-dir", &self.data(), "--json"])
            .env("YUESHANG_CONFIG", self.config())
            .output()
            .unwrap();
        let json: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("verify-db: {}", String::from_utf8_lossy(&out.stderr)));
        (json["count"].as_i64().expect("count"), json["head"].as_str().unwrap().to_owned())
    }

    fn database(&self) -> PathBuf {
        self.dir.path().join("data/cache.sqlite3")
    }
}

/// Two sample enterprises that authorize their licenses (the first two that do not decline).
fn sample_enterprises(sim: &Service) -> Vec<String> {
    let (code, list) = run_json(&["sim", "enterprises", "--sim", &sim.url, "--json"]);
    assert_eq!(code, 0, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["note"].as_str().unwrap_or_default().contains("declined"))
        .map(|e| e["uscc"].as_str().unwrap().to_owned())
        .take(2)
        .collect()
}

fn today() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 8 * 3600;
    let days = (now / 86_400) as i64;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The hall's copy of a counter's chain equals the counter's own: as many events, gapless, the same head.
fn assert_hall_holds(hall: &Hall, pc: &CounterPc) {
    let (count, head) = pc.chain();
    let row = hall.sql(&format!(
        "SELECT count(*), count(DISTINCT seq), min(seq), max(seq), (SELECT acked_seq FROM counters WHERE counter_ref = '{HALL}/{0}'),
                (SELECT head FROM counters WHERE counter_ref = '{HALL}/{0}')
         FROM events WHERE counter_ref = '{HALL}/{0}'",
        pc.name
    ));
    let cells: Vec<&str> = row.split('|').collect();
    assert_eq!(cells[0], count.to_string(), "{}: events at the hall vs the counter ({row})", pc.name);
    assert_eq!(cells[0], cells[1], "no seq twice");
    assert_eq!(cells[2], "1");
    assert_eq!(cells[3], count.to_string(), "gapless from 1");
    assert_eq!(cells[4], count.to_string(), "acknowledged to the last");
    assert_eq!(cells[5], head, "the same chain head");
    // The day's counts, kept as events are stored, agree with the events themselves.
    let counted = hall.sql(&format!(
        "SELECT (SELECT COALESCE(SUM(events), 0) FROM day_counts WHERE counter_ref = '{HALL}/{0}'),
                (SELECT COALESCE(SUM(events), 0) FROM counter_days WHERE counter_ref = '{HALL}/{0}')",
        pc.name
    ));
    assert_eq!(counted, format!("{count}|{count}"), "{}: counted vs stored", pc.name);
}

/// Exports the day from the hall and verifies each counter's files: Python over the rows, OpenSSL
/// over the counter's signature and the hall's countersignature. Returns the counters exported.
fn export_and_verify(hall: &Hall, date: &str) -> Vec<(String, u64)> {
    let out = tempfile::tempdir().unwrap();
    let (code, json) = run_json(&[
        "hall",
        "export",
        "--db",
        &hall.url(),
        "--date",
        date,
        "--out-dir",
        out.path().to_str().unwrap(),
        "--format",
        "both",
        "--json",
    ]);
    assert_eq!(code, 0, "{json}");
    let mut verified = Vec::new();
    for set in json["counters"].as_array().unwrap() {
        let stem = out.path().join(set["stem"].as_str().unwrap());
        let file = |ext: &str| PathBuf::from(format!("{}.{ext}", stem.display()));
        assert!(
            stem.file_name().unwrap().to_str().unwrap().ends_with(set["counter"].as_str().unwrap()),
            "stem ends in the counter"
        );
        let (rows, _) = python_verifies(&file("csv")).unwrap_or_else(|said| panic!("python: {said}"));
        assert_eq!(Some(rows), set["events"].as_u64());
        assert!(openssl_verifies(&file("pub.pem"), &file("checkpoint"), &file("checkpoint.sig")), "counter signature");
        assert!(
            openssl_verifies(&file("hall.pub.pem"), &file("checkpoint"), &file("checkpoint.hall.sig")),
            "hall witness"
        );
        assert!(file("xlsx").is_file());
        verified.push((set["counter"].as_str().unwrap().to_owned(), set["events"].as_u64().unwrap()));
    }
    verified
}

#[test]
fn three_counters_ship_and_each_counters_export_from_the_hall_verifies() {
    let hall = Hall::start();
    let sim = Service::start(&["sim"]);
    let pcs: Vec<CounterPc> = ["B01", "B02", "B03"].iter().map(|n| CounterPc::new(n, &hall.service.url, "")).collect();
    let usccs = sample_enterprises(&sim);
    for (i, pc) in pcs.iter().enumerate() {
        for uscc in &usccs[..=i.min(1)] {
            pc.scan(&sim, uscc);
        }
        pc.enroll(&hall);
    }
    for pc in &pcs {
        let (code, json) = pc.ship();
        assert_eq!(code, 0, "{json}");
        let (count, _) = pc.chain();
        assert_eq!(json["acked_seq"].as_i64(), Some(count), "{json}");
        assert_eq!(json["behind"].as_i64(), Some(0));
        assert_hall_holds(&hall, pc);
    }
    // Shipping again sends nothing new and changes nothing.
    let (code, json) = pcs[0].ship();
    assert_eq!((code, json["shipped"].as_u64()), (0, Some(0)), "{json}");

    // The counter's own export carries the hall's countersignature of what it shipped.
    let out = tempfile::tempdir().unwrap();
    let (code, json) = run_json(&[
        "audit",
        "export",
        "--date",
        &today(),
        "--format",
        "csv",
        "--out-dir",
        out.path().to_str().unwrap(),
        "--config",
        &pcs[0].config(),
        "--data-dir",
        &pcs[0].data(),
        "--json",
    ]);
    assert_eq!(code, 0, "{json}");
    let witness = |ext: &str| {
        let file = json["files"].as_array().unwrap().iter().map(|f| PathBuf::from(f.as_str().unwrap()));
        file.into_iter().find(|f| f.to_str().unwrap().ends_with(ext)).unwrap_or_else(|| panic!("no {ext}: {json}"))
    };
    assert!(openssl_verifies(&witness(".witness.pub.pem"), &witness(".witness.checkpoint"), &witness(".witness.sig")));

    let date = today();
    let report = hall.report(&date);
    let counters = report["counters"].as_array().unwrap();
    assert_eq!(counters.len(), 3, "{report}");
    let total: u64 = counters.iter().map(|c| c["events"].as_u64().unwrap()).sum();
    assert_eq!(report["events"].as_u64(), Some(total));
    let recount = hall.sql(&format!(
        "SELECT count(*), count(DISTINCT biz_num) FILTER (WHERE kind = 'exchange' AND outcome = 'ok'),
                count(*) FILTER (WHERE kind IN ('scan', 'scan_rejected')) FROM events WHERE day = '{date}'"
    ));
    let figures = format!("{}|{}|{}", report["events"], report["customers"], report["scans"]);
    assert_eq!(figures, recount, "the summary equals a count of the events");
    assert!(report["scans"].as_u64().unwrap() >= 4 && report["customers"].as_u64().unwrap() >= 2, "{report}");
    assert!(report["alarms"].as_array().unwrap().is_empty(), "{report}");

    let verified = export_and_verify(&hall, &date);
    assert_eq!(verified.len(), 3, "one set per counter: {verified:?}");
    let hall_rows: u64 = hall.sql("SELECT count(*) FROM events").parse().unwrap();
    assert_eq!(
        verified.iter().map(|(_, n)| n).sum::<u64>(),
        hall_rows,
        "the hall's rows are the union of the counters' chains"
    );
}

/// Appends `count` events to a counter's own database, dated `days_ago` days back, as its station
/// would (a busy counter's day in seconds instead of scans).
fn fill(pc: &CounterPc, count: usize, days_ago: i64) {
    use yueshang_core::audit::{AuditContext, AuditEvent, AuditKind, Outcome};
    let keys = yueshang_core::keystore::KeyStore::for_config(Some(Path::new(&pc.config()))).unwrap();
    let cache = yueshang_core::cache::Cache::open(&pc.database(), &keys).unwrap();
    let ctx = AuditContext { operator_account: "clerk01".into(), hall_code: HALL.into(), counter: pc.name.clone() };
    let at =
        yueshang_core::clock::Clock::now_china(&yueshang_core::clock::SystemClock) - chrono::Duration::days(days_ago);
    for i in 0..count {
        let (kind, outcome) =
            if i % 12 == 0 { (AuditKind::Scan, Outcome::Info) } else { (AuditKind::LicenseFetch, Outcome::Ok) };
        let event = AuditEvent {
            service_item_code: Some("1101".into()),
            biz_num: Some(format!("YS-{}-{}", pc.name, i / 12)),
            detail: Some(format!("第 {i} 条")),
            ..AuditEvent::new(kind, outcome)
        };
        cache.append_audit(&ctx, &event, at + chrono::Duration::milliseconds(i as i64)).unwrap();
    }
}

/// Ships until the hall holds everything (a round cut by a fault fails; the next goes on).
fn ship_until_caught_up(pc: &CounterPc, deadline: Duration) -> u32 {
    let start = Instant::now();
    let mut failures = 0;
    loop {
        let (code, json) = pc.ship();
        if code == 0 && json["behind"].as_i64() == Some(0) {
            return failures;
        }
        assert!(code == 0 || json["error"]["code"] == "HALL_UNREACHABLE", "only unreachable may fail: {json}");
        failures += 1;
        assert!(start.elapsed() < deadline, "{} did not catch up: {json}", pc.name);
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn kill_nine_mid_batch_and_a_postgres_restart_lose_and_duplicate_nothing() {
    const EACH: usize = 6000;
    let mut hall = Hall::start();
    let pcs: Vec<CounterPc> = ["C01", "C02", "C03"].iter().map(|n| CounterPc::new(n, &hall.service.url, "")).collect();
    for pc in &pcs {
        fill(pc, EACH, 0);
        pc.enroll(&hall);
    }
    let total = 3 * EACH as u64;
    let stored = |hall: &Hall| hall.sql("SELECT count(*) FROM events").parse::<u64>().unwrap();
    let (failures, faults_at) = std::thread::scope(|scope| {
        let shippers: Vec<_> =
            pcs.iter().map(|pc| scope.spawn(move || ship_until_caught_up(pc, Duration::from_secs(240)))).collect();
        // Each fault strikes while the counters are shipping: the hall holds some events, not all.
        let mut faults_at = Vec::new();
        for (i, threshold) in [total / 6, total / 2, 2 * total / 3].into_iter().enumerate() {
            while stored(&hall) < threshold {
                std::thread::sleep(Duration::from_millis(5));
            }
            faults_at.push(stored(&hall));
            if i == 1 { hall.db.restart() } else { hall.restart_service() }
        }
        (shippers.into_iter().map(|s| s.join().unwrap()).sum::<u32>(), faults_at)
    });
    eprintln!("faults struck with {faults_at:?} of {total} events stored; rounds cut: {failures}");
    assert!(faults_at.iter().all(|n| *n < total), "every fault struck mid-shipping: {faults_at:?}");
    assert!(failures > 0, "a fault cut at least one round");
    for pc in &pcs {
        assert_hall_holds(&hall, pc);
    }
    let verified = export_and_verify(&hall, &today());
    assert_eq!(verified.iter().map(|(_, n)| n).sum::<u64>(), total, "{verified:?}");
}

#[test]
fn a_counter_offline_for_a_day_catches_up_with_a_verifiable_export_of_each_day() {
    let mut hall = Hall::start();
    let pc = CounterPc::new("D01", &hall.service.url, "");
    pc.enroll(&hall);
    hall.service.kill_hard();
    fill(&pc, 1500, 1);
    let (code, json) = pc.ship();
    assert_eq!((code, json["error"]["code"].as_str()), (1, Some("HALL_UNREACHABLE")), "{json}");
    fill(&pc, 700, 0);
    hall.restart_service();
    ship_until_caught_up(&pc, Duration::from_secs(60));
    assert_hall_holds(&hall, &pc);
    let days = hall.sql("SELECT day, count(*) FROM events GROUP BY day ORDER BY day");
    assert_eq!(days.lines().map(|l| l.split('|').nth(1).unwrap()).collect::<Vec<_>>(), ["1500", "700"], "{days}");
    let yesterday = days.lines().next().unwrap().split('|').next().unwrap().to_owned();
    assert_eq!(export_and_verify(&hall, &yesterday), [("D01".to_owned(), 1500)]);
    assert_eq!(export_and_verify(&hall, &today()), [("D01".to_owned(), 700)]);
}

#[test]
fn a_batch_signed_by_an_unenrolled_key_is_refused_and_shown() {
    let hall = Hall::start();
    let pc = CounterPc::new("E01", &hall.service.url, "");
    fill(&pc, 20, 0);
    let (code, json) = pc.ship();
    assert_eq!((code, json["error"]["code"].as_str()), (1, Some("COUNTER_NOT_ENROLLED")), "{json}");
    assert_eq!(hall.sql("SELECT count(*) FROM events"), "0");
    let alarms = hall.report(&today())["alarms"].clone();
    assert_eq!(alarms[0]["kind"], "unenrolled", "{alarms}");
    // Enrolled, the same counter ships.
    pc.enroll(&hall);
    let (code, json) = pc.ship();
    assert_eq!((code, json["acked_seq"].as_i64()), (0, Some(20)), "{json}");
    assert_eq!(hall.report(&today())["alarms"], serde_json::json!([]), "an enrolled key is no longer an alarm");
}

/// Rewrites a counter's chain from `seq` on as someone with the PC would: the append-only trigger
/// dropped, one event's detail edited, every hash after it recomputed. The counter's own key then
/// signs whatever it ships next.
fn rewrite_chain(pc: &CounterPc, seq: i64) {
    use yueshang_core::audit::chain::{ChainedEvent, FIELDS};
    let conn = rusqlite::Connection::open(pc.database()).unwrap();
    conn.execute_batch("DROP TRIGGER audit_events_no_update").unwrap();
    let mut rows = conn
        .prepare(
            "SELECT CAST(seq AS TEXT), at, kind, outcome, error_code, operator_account, hall_code, counter,
                    service_item_code, biz_num, uscc, auth_id, license_code, detail, prev_hash, hash
             FROM audit_events WHERE seq >= ?1 ORDER BY seq",
        )
        .unwrap();
    let events: Vec<ChainedEvent> = rows
        .query_map([seq], |r| {
            Ok(ChainedEvent {
                values: (0..FIELDS.len()).map(|i| r.get::<_, Option<String>>(i)).collect::<Result<_, _>>()?,
                prev_hash: r.get(14)?,
                hash: r.get(15)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut prev = events[0].prev_hash.clone();
    for (i, mut event) in events.into_iter().enumerate() {
        if i == 0 {
            event.values[13] = Some("（被改过）".into());
        }
        event.prev_hash = prev;
        let hash = event.computed_hash();
        conn.execute(
            "UPDATE audit_events SET detail = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            rusqlite::params![event.values[13], event.prev_hash, hash, event.seq()],
        )
        .unwrap();
        prev = hash;
    }
}

#[test]
fn a_counter_chain_rewritten_after_shipping_is_caught_as_a_fork_with_an_alarm() {
    let hall = Hall::start();
    let pc = CounterPc::new("F01", &hall.service.url, "");
    fill(&pc, 50, 0);
    pc.enroll(&hall);
    assert_eq!(pc.ship().0, 0);
    let stored_head = hall.sql("SELECT head FROM counters");

    rewrite_chain(&pc, 10);
    // Even with nothing new to send, the anchor (the counter's hash at the acknowledged seq) is compared.
    let (code, json) = pc.ship();
    assert_eq!(
        (code, json["error"]["code"].as_str(), json["error"]["seq"].as_i64()),
        (1, Some("CHAIN_FORK"), Some(50)),
        "{json}"
    );
    // New events on the rewritten chain do not get in either.
    fill(&pc, 5, 0);
    let (code, json) = pc.ship();
    assert_eq!((code, json["error"]["code"].as_str()), (1, Some("CHAIN_FORK")), "{json}");
    assert_eq!(hall.sql("SELECT count(*) FROM events"), "50", "nothing of the rewritten chain is stored");
    assert_eq!(hall.sql("SELECT head FROM counters"), stored_head);

    let alarms = hall.report(&today())["alarms"].clone();
    let fork = alarms.as_array().unwrap().iter().find(|a| a["kind"] == "fork").unwrap_or_else(|| panic!("{alarms}"));
    assert_eq!((fork["counter"].as_str(), fork["seq"].as_i64()), (Some("F01"), Some(50)), "{fork}");
    assert!(fork["message"].as_str().unwrap().contains("分叉"), "{fork}");
    // The hall's export of the day is still the original chain, and verifies.
    assert_eq!(export_and_verify(&hall, &today()), [("F01".to_owned(), 50)]);
}

#[test]
fn https_with_the_halls_certificate_and_plain_http_only_on_loopback() {
    let db = Cluster::start();
    db.create_database("hall");
    let dir = tempfile::tempdir().unwrap();
    let refused = yueshang()
        .args(["hall", "serve", "--db", &db.url_for("hall"), "--addr", "0.0.0.0:0"])
        .args(["--witness-key", dir.path().join("w.pem").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("只允许本机地址"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.path().join("hall.crt"), dir.path().join("hall.key"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let service = Service::start(&[
        "hall",
        "serve",
        "--db",
        &db.url_for("hall"),
        "--addr",
        "127.0.0.1:0",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
        "--witness-key",
        dir.path().join("w.pem").to_str().unwrap(),
    ]);
    assert!(service.url.starts_with("https://127.0.0.1:"), "{}", service.url);
    let url = format!("https://localhost:{}", service.port());
    let pc = CounterPc::new("G01", &url, &format!("ca_file = \"{}\"\n", cert.display()));
    fill(&pc, 30, 0);
    let hall_db = db.url_for("hall");
    let pem = pc.public_key_file();
    let (code, json) = run_json(&[
        "hall",
        "enroll",
        "--db",
        &hall_db,
        "--counter",
        &format!("{HALL}/G01"),
        "--key",
        pem.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{json}");
    let (code, json) = pc.ship();
    assert_eq!((code, json["acked_seq"].as_i64()), (0, Some(30)), "{json}");

    // Without the hall's CA the counter does not trust the server.
    let stranger = CounterPc::new("G01", &url, "");
    fill(&stranger, 1, 0);
    let (code, json) = stranger.ship();
    assert_eq!((code, json["error"]["code"].as_str()), (1, Some("HALL_UNREACHABLE")), "{json}");
}

#[test]
fn a_city_database_subscribes_to_the_halls_tables_by_logical_replication() {
    let hall = Hall::start_with(ClusterOptions::default().config("wal_level = logical"));
    let pcs: Vec<CounterPc> = ["H01", "H02"].iter().map(|n| CounterPc::new(n, &hall.service.url, "")).collect();
    for pc in &pcs {
        fill(pc, 120, 0);
        pc.enroll(&hall);
        assert_eq!(pc.ship().0, 0);
    }
    // README's steps, verbatim in spirit: publish on the hall, copy the schema, subscribe in the city.
    hall.sql(
        "CREATE PUBLICATION yueshang_hall FOR TABLE counters, events, checkpoints, witness_keys, records, day_counts, counter_days",
    );
    let city = Cluster::start();
    city.create_database("city");
    let schema = Command::new("pg_dump")
        .args([
            "--schema-only",
            "--no-owner",
            "--no-publications",
            "-h",
            "127.0.0.1",
            "-p",
            &hall.db.port().to_string(),
        ])
        .args(["-U", "postgres", "-d", "hall"])
        .output()
        .expect("pg_dump (Debian package postgresql-client)");
    assert!(schema.status.success(), "{}", String::from_utf8_lossy(&schema.stderr));
    let load = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            &city.port().to_string(),
            "-U",
            "postgres",
            "-d",
            "city",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    load.stdin.as_ref().unwrap().write_all(&schema.stdout).unwrap();
    assert!(load.wait_with_output().unwrap().status.success());
    city.psql(
        "city",
        &format!(
            "CREATE SUBSCRIPTION from_hall_{HALL} CONNECTION '{}' PUBLICATION yueshang_hall",
            hall.db.conninfo("hall")
        ),
    );
    // More shipped after the subscription streams too.
    fill(&pcs[0], 30, 0);
    assert_eq!(pcs[0].ship().0, 0);
    let city_query =
        format!("SELECT split_part(counter_ref, '/', 1), count(*) FROM events WHERE day = '{}' GROUP BY 1", today());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let seen = city.psql("city", &city_query);
        if seen == format!("{HALL}|270") {
            break;
        }
        assert!(Instant::now() < deadline, "the city sees {seen:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(city.psql("city", "SELECT count(*) FROM checkpoints"), hall.sql("SELECT count(*) FROM checkpoints"));
    let counted = "SELECT sum(events) FROM day_counts";
    let deadline = Instant::now() + Duration::from_secs(60);
    while city.psql("city", counted) != hall.sql(counted) {
        assert!(Instant::now() < deadline, "the city's day counts: {}", city.psql("city", counted));
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// What the supervisor view's 全厅 asks for, over the signed HTTP reads the window's shell uses:
/// the day, the event list by counter, and a counter's export (which verifies as the CLI's does).
#[test]
fn the_halls_reads_answer_signed_requests_of_an_enrolled_counter_only() {
    use base64::Engine as _;
    use yueshang_core::shipping::wire::{ExportSet, HallDay, HallEventPage};
    let hall = Hall::start();
    let pcs: Vec<CounterPc> = ["R01", "R02"].iter().map(|n| CounterPc::new(n, &hall.service.url, "")).collect();
    for pc in &pcs {
        fill(pc, 40, 0);
        pc.enroll(&hall);
        assert_eq!(pc.ship().0, 0);
    }
    let keys = yueshang_core::keystore::KeyStore::for_config(Some(Path::new(&pcs[0].config()))).unwrap();
    let cache = std::sync::Arc::new(yueshang_core::cache::Cache::open(&pcs[0].database(), &keys).unwrap());
    let key = yueshang_core::audit::key::CounterKey::load_or_create(&cache).unwrap();
    let settings = yueshang_core::config::HallServiceSettings {
        url: hall.service.url.parse().unwrap(),
        ca_file: None,
        ship_interval: Duration::from_secs(30),
    };
    let client = yueshang_core::shipping::HallClient::new(&settings).unwrap();
    let now = yueshang_core::clock::Clock::now_china(&yueshang_core::clock::SystemClock);
    let date = today();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();

    let day: HallDay = runtime.block_on(client.get(&key, &format!("/v1/report?date={date}"), now)).unwrap();
    assert_eq!((day.events, day.counters.len()), (80, 2));
    let page: HallEventPage =
        runtime.block_on(client.get(&key, &format!("/v1/events?date={date}&counter=R02&limit=25"), now)).unwrap();
    assert_eq!((page.total, page.rows.len()), (40, 25));
    assert!(page.rows.iter().all(|r| r.counter == "R02"));

    let sets: Vec<ExportSet> =
        runtime.block_on(client.get(&key, &format!("/v1/export?date={date}&counter=R02&format=csv"), now)).unwrap();
    assert_eq!(sets.len(), 1);
    let out = tempfile::tempdir().unwrap();
    for file in &sets[0].files {
        let bytes = base64::engine::general_purpose::STANDARD.decode(&file.content).unwrap();
        std::fs::write(out.path().join(&file.name), bytes).unwrap();
    }
    let file = |ext: &str| out.path().join(format!("{}.{ext}", sets[0].stem));
    assert_eq!(python_verifies(&file("csv")).map(|(rows, _)| rows), Ok(40));
    assert!(openssl_verifies(&file("hall.pub.pem"), &file("checkpoint"), &file("checkpoint.hall.sig")));

    // The window's 全厅 export: every counter's set written whole into a folder, audited here.
    let mut settings = yueshang_gateway_sim::sandbox_settings(&"http://127.0.0.1:9/".parse().unwrap());
    settings.counter.hall_code = HALL.into();
    settings.counter.counter = pcs[0].name.clone();
    let station = yueshang_core::station::Station::new(
        settings,
        cache.clone(),
        std::sync::Arc::new(yueshang_core::clock::SystemClock),
        std::sync::Arc::new(yueshang_core::clock::RandomNonces),
    )
    .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let mut steps = Vec::new();
    let formats = yueshang_core::audit::export::Formats { csv: true, xlsx: false };
    let written = runtime
        .block_on(yueshang_core::shipping::reads::export_day(
            &station,
            (&client, &key),
            chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").unwrap(),
            formats,
            folder.path(),
            &mut |done, total| steps.push((done, total)),
        ))
        .unwrap();
    assert_eq!((written.counters, written.events, steps), (2, 80, vec![(0, 2), (1, 2), (2, 2)]));
    for csv in written.files.iter().filter(|f| f.extension().is_some_and(|e| e == "csv")) {
        assert_eq!(python_verifies(csv).map(|(rows, _)| rows), Ok(40), "{}", csv.display());
    }
    let audited = cache.audit_events().unwrap();
    let last = audited.last().unwrap();
    assert_eq!((last.kind.as_str(), last.outcome.as_str()), ("audit_export", "ok"));
    assert!(last.detail.as_deref().unwrap().contains("\"scope\":\"hall\""), "{:?}", last.detail);

    // A key the hall does not know, and no signature at all, read nothing.
    let stranger = yueshang_core::audit::key::CounterKey::generate_pkcs8_pem().unwrap().0;
    let refused =
        runtime.block_on(client.get::<HallDay>(&stranger, &format!("/v1/report?date={date}"), now)).unwrap_err();
    assert_eq!(refused.code, yueshang_core::ErrorCode::CounterNotEnrolled, "{refused:?}");
    let unsigned = runtime.block_on(reqwest::get(format!("{}/v1/report?date={date}", hall.service.url))).unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
}
