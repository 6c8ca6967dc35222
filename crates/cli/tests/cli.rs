//! End to end through the real `yueshang` binary: a sandbox started as a process, codes issued and
//! scanned by further processes, JSON read back as a script would.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_yueshang");

/// The configuration folder every `yueshang` of these tests uses (where storage keys go), in the
/// target folder, so tests never touch the machine's own `~/.config`.
fn config_home() -> std::path::PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-config-home")
}

/// The storage keys of a counter started without `--config`, as the binary finds them.
fn default_keys() -> yueshang_core::keystore::KeyStore {
    yueshang_core::keystore::KeyStore::new(config_home().join("yueshang-counter"))
}

fn yueshang() -> Command {
    let mut command = Command::new(BIN);
    command.env("XDG_CONFIG_HOME", config_home()).env_remove("YUESHANG_CONFIG").env("YUESHANG_MACHINE_CONFIG", "");
    command
}

/// A `yueshang sim` process, killed when dropped.
struct Sim {
    child: Child,
    url: String,
}

impl Sim {
    fn start(args: &[&str]) -> Sim {
        let mut child = yueshang()
            .arg("sim")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start yueshang sim");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).expect("first line");
        let url =
            first.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("first line: {first:?}")).to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        Sim { child, url }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary and returns its exit code and stdout parsed as JSON.
fn run_json(args: &[&str]) -> (i32, Value) {
    let out = yueshang().args(args).output().expect("run yueshang");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("{args:?} printed no JSON ({e}): {stdout}\nstderr: {}", String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code().unwrap_or(-1), json)
}

fn issue(sim: &Sim, uscc: &str) -> String {
    let (code, json) = run_json(&["sim", "issue-code", "--sim", &sim.url, "--enterprise", uscc, "--json"]);
    assert_eq!(code, 0, "{json}");
    json["payload"].as_str().unwrap().to_owned()
}

fn scan(sim: &Sim, payload: &str, data_dir: &Path) -> (i32, Value) {
    run_json(&["scan", payload, "--sim", &sim.url, "--data-dir", data_dir.to_str().unwrap(), "--json"])
}

#[test]
fn every_sample_enterprise_end_to_end() {
    let sim = Sim::start(&[]);
    let data = tempfile::tempdir().unwrap();
    let (code, list) = run_json(&["sim", "enterprises", "--sim", &sim.url, "--json"]);
    assert_eq!(code, 0);
    let list = list.as_array().unwrap();
    assert!(list.len() >= 6);
    for e in list {
        let mut keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["name", "note", "uscc"]);
    }
    let mut statuses = std::collections::BTreeSet::new();
    let mut cached = 0;
    for e in list {
        let uscc = e["uscc"].as_str().unwrap();
        let note = e["note"].as_str().unwrap();
        let (code, out) = scan(&sim, &issue(&sim, uscc), data.path());
        if note.contains("declined") {
            assert_eq!(code, 1, "{out}");
            assert_eq!(out["error"]["code"], "CONSENT_DECLINED");
            assert!(out["error"]["message"].as_str().unwrap().contains("授权"));
            continue;
        }
        assert_eq!(code, 0, "{note}: {out}");
        assert_eq!(out["enterprise"]["uscc"], uscc);
        assert!(out["elapsed_ms"].as_u64().is_some());
        assert!(out["auth_id"].as_str().is_some_and(|s| !s.is_empty()));
        for l in out["licenses"].as_array().unwrap() {
            let status = l["status"].as_str().unwrap();
            statuses.insert(status.to_owned());
            match status {
                "revoked" => assert!(l["file"].is_null()),
                "valid" | "expired" => {
                    assert!(l["file"]["bytes"].as_u64().unwrap() > 100);
                    assert_eq!(l["file"]["sha256"].as_str().unwrap().len(), 64);
                }
                other => panic!("unexpected status {other}"),
            }
            cached += 1;
        }
        if note.contains("many") {
            assert!(out["licenses"].as_array().unwrap().len() >= 10);
        }
    }
    assert_eq!(statuses.into_iter().collect::<Vec<_>>(), ["expired", "revoked", "valid"]);
    let (code, listed) = run_json(&["licenses", "--data-dir", data.path().to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    assert_eq!(listed.as_array().unwrap().len(), cached);
}

#[test]
fn qr_image_and_code_errors() {
    let sim = Sim::start(&[]);
    let data = tempfile::tempdir().unwrap();
    let (_, list) = run_json(&["sim", "enterprises", "--sim", &sim.url, "--json"]);
    let uscc = list[0]["uscc"].as_str().unwrap();
    let png = data.path().join("code.png");
    let (code, issued) = run_json(&[
        "sim",
        "issue-code",
        "--sim",
        &sim.url,
        "--enterprise",
        uscc,
        "--png",
        png.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0);
    assert!(issued["expires_at"].as_str().unwrap().contains("+08:00"));
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG file");

    let payload = issued["payload"].as_str().unwrap();
    assert_eq!(scan(&sim, payload, data.path()).0, 0);
    let (code, out) = scan(&sim, payload, data.path());
    assert_eq!((code, out["error"]["code"].as_str()), (1, Some("CODE_USED")));

    let (code, out) = scan(&sim, "hello world", data.path());
    assert_eq!((code, out["error"]["code"].as_str()), (1, Some("CODE_INVALID")));

    let (code, out) =
        run_json(&["sim", "issue-code", "--sim", &sim.url, "--enterprise", "91440300708461136T", "--json"]);
    assert_eq!((code, out["error"]["code"].as_str()), (1, Some("CONFIG_INVALID")));

    let (code, out) = run_json(&["scan", payload, "--data-dir", data.path().to_str().unwrap(), "--json"]);
    assert_eq!((code, out["error"]["code"].as_str()), (1, Some("CONFIG_INVALID")), "no config, no --sim");
}

#[test]
fn faults_given_to_the_sim_process_reach_the_scan() {
    let sim = Sim::start(&["--latency-ms", "20", "--fault", "code2auth:status=504"]);
    let data = tempfile::tempdir().unwrap();
    let (_, list) = run_json(&["sim", "enterprises", "--sim", &sim.url, "--json"]);
    let (code, out) = scan(&sim, &issue(&sim, list[0]["uscc"].as_str().unwrap()), data.path());
    assert_eq!((code, out["error"]["code"].as_str()), (1, Some("GATEWAY_TIMEOUT")));

    let sim = Sim::start(&["--fault", "archive:status=503"]);
    let (code, out) = scan(&sim, &issue(&sim, list[0]["uscc"].as_str().unwrap()), data.path());
    assert_eq!(code, 3, "some licenses failed: {out}");
    assert!(out["licenses"].as_array().unwrap().iter().all(|l| l["error"]["code"] == "GATEWAY_UNAVAILABLE"));

    let out = yueshang().args(["sim", "--fault", "nonsense"]).output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("KIND"), "the grammar is explained");
}

#[test]
fn a_config_file_is_checked_and_named_problems_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "mode = \"gateway\"\n[gateway]\nenvironment = \"test\"\n").unwrap();
    let (code, out) = run_json(&[
        "scan",
        "abcdefghijklmnop",
        "--config",
        config.to_str().unwrap(),
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 1);
    assert_eq!(out["error"]["code"], "CONFIG_INVALID");
    assert!(out["error"]["message"].as_str().unwrap().contains("gateway."), "{out}");
}

/// A granted sample enterprise with a few issued PDF licenses: a case that can be submitted.
fn normal_uscc() -> String {
    use yueshang_gateway_sim::samples::{self, Consent, FileKind};
    samples::enterprises()
        .into_iter()
        .find(|e| {
            e.consent == Consent::Granted
                && (2..=4).contains(&e.licenses.len())
                && e.licenses.iter().all(|l| l.license.license_status == "ISSUED" && l.file == FileKind::Pdf)
        })
        .expect("a normal sample enterprise")
        .uscc
}

/// Scans the normal enterprise into `data_dir` and returns the handling number the scan recorded.
fn scanned_case(sim: &Sim, data_dir: &Path) -> String {
    let (code, out) = scan(sim, &issue(sim, &normal_uscc()), data_dir);
    assert_eq!(code, 0, "{out}");
    out["biz_num"].as_str().unwrap().to_owned()
}

/// `yueshang submit BIZ_NUM --status STATUS [extra…] --json` against `sim` on `data_dir`.
fn submit(sim: &Sim, data_dir: &Path, biz_num: &str, status: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["submit", biz_num, "--status", status, "--sim", &sim.url];
    args.extend(["--data-dir", data_dir.to_str().unwrap(), "--json"]);
    args.extend(extra);
    run_json(&args)
}

/// `yueshang outbox [--send] --json`.
fn outbox(sim: &Sim, data_dir: &Path, send: bool) -> (i32, Value) {
    let mut args = vec!["outbox", "--sim", &sim.url, "--data-dir", data_dir.to_str().unwrap(), "--json"];
    if send {
        args.push("--send");
    }
    run_json(&args)
}

/// The handling records the sandbox received (`/sim/records`), as a script would read them.
fn sim_records(sim: &Sim) -> Vec<Value> {
    let url = format!("{}/sim/records", sim.url);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let records: Value = runtime.block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() });
    records.as_array().unwrap().clone()
}

fn records_of(sim: &Sim, biz_num: &str) -> Vec<Value> {
    sim_records(sim).into_iter().filter(|r| r["request"]["biz_num"] == biz_num).collect()
}

#[test]
fn a_submitted_record_is_acknowledged_and_bad_ones_are_refused_locally() {
    let sim = Sim::start(&[]);
    let data = tempfile::tempdir().unwrap();
    let biz_num = scanned_case(&sim, data.path());

    let (code, out) = submit(&sim, data.path(), &biz_num, "REJECTED", &[]);
    assert_eq!((code, out["error"]["code"].as_str()), (1, Some("RECORD_INVALID")), "{out}");
    assert!(out["error"]["message"].as_str().unwrap().contains("理由"), "{out}");
    let (code, listed) = outbox(&sim, data.path(), false);
    assert_eq!(code, 0, "nothing was queued: {listed}");
    assert!(listed["records"].as_array().unwrap().is_empty());

    let (code, out) = submit(&sim, data.path(), "YS-NOPE-A01-20261128-0001", "DONE", &[]);
    assert_eq!((code, out["error"]["code"].as_str()), (1, Some("BIZ_NUM_UNKNOWN")), "{out}");
    assert!(out["error"]["message"].as_str().unwrap().contains("YS-NOPE-A01-20261128-0001"));

    let (code, out) = submit(&sim, data.path(), &biz_num, "DONE", &["--licenses", "NOT-OURS-1"]);
    assert_eq!((code, out["error"]["code"].as_str()), (1, Some("RECORD_INVALID")), "{out}");
    assert!(sim_records(&sim).is_empty(), "nothing reached the sandbox");

    let (code, out) = submit(&sim, data.path(), &biz_num, "DONE", &[]);
    assert_eq!(code, 0, "{out}");
    let mut keys: Vec<&str> = out.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["biz_num", "duplicate", "queued", "record_id"]);
    assert_eq!((out["biz_num"].as_str(), out["queued"].as_bool()), (Some(biz_num.as_str()), Some(false)));
    assert_eq!(out["duplicate"], false);
    let received = records_of(&sim, &biz_num);
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["record_id"], out["record_id"]);
    assert_eq!(received[0]["request"]["status"], "DONE");
    assert!(!received[0]["request"]["used_license_codes"].as_array().unwrap().is_empty(), "valid licenses by default");

    let (code, out) = submit(&sim, data.path(), &biz_num, "DONE", &[]);
    assert_eq!((code, out["error"]["code"].as_str()), (1, Some("RECORD_INVALID")), "already sent: {out}");
    let (code, listed) = outbox(&sim, data.path(), false);
    assert_eq!((code, listed["waiting"].as_u64()), (0, Some(0)));
    assert_eq!(listed["records"][0]["state"], "sent", "today's sent record is listed: {listed}");
}

#[test]
fn an_unreachable_gateway_keeps_the_record_until_outbox_send() {
    let sim = Sim::start(&["--fault", "submit:status=503*1"]);
    let data = tempfile::tempdir().unwrap();
    let biz_num = scanned_case(&sim, data.path());

    let (code, out) = submit(&sim, data.path(), &biz_num, "REJECTED", &["--reason", "材料不齐全"]);
    assert_eq!(code, 4, "{out}");
    assert_eq!((out["biz_num"].as_str(), out["queued"].as_bool()), (Some(biz_num.as_str()), Some(true)));
    assert_eq!(out["error"]["code"], "GATEWAY_UNAVAILABLE");
    assert!(out["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));

    let (code, listed) = outbox(&sim, data.path(), false);
    assert_eq!((code, listed["waiting"].as_u64()), (4, Some(1)), "{listed}");
    assert_eq!(listed["records"][0]["state"], "queued");
    assert_eq!(listed["records"][0]["attempts"], 1);

    let (code, sent) = outbox(&sim, data.path(), true);
    assert_eq!(code, 0, "{sent}");
    assert_eq!(sent["attempted"][0]["state"], "sent");
    assert_eq!(sent["attempted"][0]["duplicate"], false);
    assert_eq!(sent["waiting"], 0);
    let received = records_of(&sim, &biz_num);
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["request"]["reason"], "材料不齐全");
}

#[test]
fn a_submit_killed_while_its_request_is_in_flight_is_sent_once_by_outbox_send() {
    // The sandbox stores the record at once and answers a minute later: long enough to kill the
    // process while its request is in flight.
    let sim = Sim::start(&["--fault", "submit:latency=60000*1"]);
    let data = tempfile::tempdir().unwrap();
    let biz_num = scanned_case(&sim, data.path());

    let data_dir = data.path().to_str().unwrap();
    let mut child = yueshang()
        .args(["submit", &biz_num, "--status", "ACCEPTED", "--sim", &sim.url, "--data-dir", data_dir, "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start yueshang submit");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while records_of(&sim, &biz_num).is_empty() {
        assert!(child.try_wait().unwrap().is_none(), "submit ended before the sandbox stored the record");
        assert!(std::time::Instant::now() < deadline, "the sandbox never stored the record");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().expect("kill -9 yueshang submit");
    let status = child.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9), "killed by SIGKILL");

    let (code, listed) = outbox(&sim, data.path(), false);
    assert_eq!((code, listed["waiting"].as_u64()), (4, Some(1)), "the record survived the kill: {listed}");
    let (code, sent) = outbox(&sim, data.path(), true);
    assert_eq!(code, 0, "{sent}");
    assert_eq!(sent["attempted"][0]["state"], "sent");
    assert_eq!(sent["attempted"][0]["duplicate"], true, "the sandbox already had it");
    assert_eq!(records_of(&sim, &biz_num).len(), 1, "exactly one record");
    assert_eq!(sim_records(&sim).len(), 1);
}

/// `yueshang audit export --from D --to D` over `data_dir` into `out`, as JSON.
fn export_days(data_dir: &Path, out: &Path, from: &str, to: &str) -> (i32, Value) {
    let (data, out) = (data_dir.to_str().unwrap(), out.to_str().unwrap());
    run_json(&["audit", "export", "--from", from, "--to", to, "--out-dir", out, "--data-dir", data, "--json"])
}

#[test]
fn a_day_of_real_scans_is_exported_verified_and_tampering_named_by_row() {
    let sim = Sim::start(&[]);
    let data = tempfile::tempdir().unwrap();
    scanned_case(&sim, data.path());
    scanned_case(&sim, data.path());
    // Around today in China time, whatever the hour the test runs at.
    let today = chrono::Utc::now().with_timezone(&yueshang_core::clock::china_tz()).date_naive();
    let (from, to) = (today.pred_opt().unwrap().to_string(), today.succ_opt().unwrap().to_string());
    let out = data.path().join("export");
    let (code, exported) = export_days(data.path(), &out, &from, &to);
    assert_eq!(code, 0, "{exported}");
    let events = exported["events"].as_u64().unwrap();
    assert!(events >= 6, "{exported}");
    assert_eq!(exported["first_seq"], 1);
    assert_eq!(exported["last_seq"].as_u64(), Some(events));
    let files: Vec<String> = exported["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().into()).collect();
    assert_eq!(files.len(), 5, "{exported}");

    for file in files.iter().filter(|f| f.ends_with(".csv") || f.ends_with(".xlsx")) {
        let (code, verified) = run_json(&["audit", "verify", file, "--json"]);
        assert_eq!(code, 0, "{file}: {verified}");
        assert_eq!((verified["intact"].as_bool(), verified["events"].as_u64()), (Some(true), Some(events)));
        assert_eq!(verified["head"], exported["head"]);
    }
    let csv = files.iter().find(|f| f.ends_with(".csv")).unwrap();
    let plain = yueshang().args(["audit", "verify", csv]).output().unwrap();
    let said = String::from_utf8_lossy(&plain.stdout);
    assert!(said.starts_with(&format!("intact: {events} events")), "{said}");

    // Lines 3 and 4 swapped: the first row out of place is line 3.
    let text = std::fs::read_to_string(csv).unwrap();
    let mut lines: Vec<&str> = text.split_inclusive("\r\n").collect();
    lines.swap(2, 3);
    std::fs::write(csv, lines.concat()).unwrap();
    let (code, refused) = run_json(&["audit", "verify", csv, "--json"]);
    assert_eq!(code, 1, "{refused}");
    assert_eq!(refused["error"]["code"], "AUDIT_TAMPERED");
    assert_eq!(refused["error"]["row"], 3, "{refused}");

    // The first export is itself in the trail, after the range it exported.
    let (code, again) = export_days(data.path(), &data.path().join("again"), &from, &to);
    assert_eq!(code, 0, "{again}");
    assert_eq!(again["events"].as_u64(), Some(events + 1), "{again}");

    let (code, nothing) = export_days(data.path(), &out, "2020-01-01", "2020-01-02");
    assert_eq!((code, nothing["events"].as_u64(), nothing["files"].as_array().map(Vec::len)), (0, Some(0), Some(0)));
    let (code, unreadable) =
        run_json(&["audit", "verify", data.path().join("cache.sqlite3").to_str().unwrap(), "--json"]);
    assert_eq!((code, unreadable["error"]["code"].as_str()), (1, Some("EXPORT_UNREADABLE")));
}

/// Three events written by the core into `data_dir`, the first two covered by a signed checkpoint.
fn chained_counter(data_dir: &Path) -> String {
    use yueshang_core::audit::key::CounterKey;
    use yueshang_core::audit::{AuditContext, AuditEvent, AuditKind, Outcome};
    let cache = yueshang_core::cache::Cache::open(&data_dir.join("cache.sqlite3"), &default_keys()).unwrap();
    let ctx = AuditContext { operator_account: "clerk01".into(), hall_code: "4401061".into(), counter: "B07".into() };
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-28T10:00:00.417+08:00").unwrap();
    for kind in [AuditKind::Scan, AuditKind::Exchange, AuditKind::ScanDone] {
        cache.append_audit(&ctx, &AuditEvent::new(kind, Outcome::Ok), at).unwrap();
    }
    let key = CounterKey::load_or_create(&cache).unwrap();
    cache.sign_checkpoint(&key, "4401061", "B07", 1, 2, at).unwrap();
    key.fingerprint()
}

#[test]
fn verify_db_reports_an_intact_chain_and_names_the_first_tampered_event() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let fingerprint = chained_counter(data.path());

    let (code, intact) = run_json(&["audit", "verify-db", "--data-dir", dir, "--json"]);
    assert_eq!(code, 0, "{intact}");
    assert_eq!((intact["count"].as_i64(), intact["checkpoints"].as_i64()), (Some(3), Some(1)), "{intact}");
    assert_eq!(intact["head"].as_str().map(str::len), Some(64), "{intact}");
    let plain = yueshang().args(["audit", "verify-db", "--data-dir", dir]).output().unwrap();
    let said = String::from_utf8_lossy(&plain.stdout);
    assert!(plain.status.success() && said.starts_with("审计链完整，共 3 条"), "{said}");

    let key = yueshang().args(["audit", "key", "--data-dir", dir]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&key.stdout).trim(), fingerprint);
    let pem = yueshang().args(["audit", "key", "--pem", "--data-dir", dir]).output().unwrap();
    let pem = String::from_utf8(pem.stdout).unwrap();
    assert!(pem.starts_with(&format!("{fingerprint}\n-----BEGIN PUBLIC KEY-----\n")), "{pem}");
    assert!(pem.ends_with("-----END PUBLIC KEY-----\n"), "{pem}");

    // Someone with the file drops the append-only triggers and edits event 2.
    let found = Command::new("sh").args(["-c", "command -v python3"]).output().unwrap();
    assert!(found.status.success(), "python3 is needed by this test: install the Debian package `python3`");
    let edit = "import sqlite3, sys\ndb = sqlite3.connect(sys.argv[1])\n\
                db.executescript(\"DROP TRIGGER audit_events_no_update; \
                UPDATE audit_events SET detail = 'x' WHERE seq = 2;\")\ndb.commit()\n";
    let edited = Command::new("python3").args(["-c", edit, &format!("{dir}/cache.sqlite3")]).output().unwrap();
    assert!(edited.status.success(), "{}", String::from_utf8_lossy(&edited.stderr));
    let (code, tampered) = run_json(&["audit", "verify-db", "--data-dir", dir, "--json"]);
    assert_eq!(code, 1, "{tampered}");
    assert_eq!(tampered["error"]["code"], "AUDIT_TAMPERED");
    assert_eq!(tampered["error"]["seq"], 2, "{tampered}");
    assert!(tampered["error"]["message"].as_str().unwrap().contains("第 2 条"), "{tampered}");
}

/// `yueshang accounts …` on `data_dir`, with `stdin` as the password line; exit code, stdout, stderr.
fn accounts(data_dir: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write as _;
    // No request is made: the sandbox address only names the counter's settings.
    let mut child = yueshang()
        .arg("accounts")
        .args(args)
        .args(["--sim", "http://127.0.0.1:9/", "--data-dir", data_dir.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run yueshang accounts");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code().unwrap_or(-1), text(out.stdout), text(out.stderr))
}

#[test]
fn it_manages_accounts_without_a_password_ever_on_the_command_line_or_screen() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, out, _) = accounts(d, &["list"], "");
    assert_eq!(code, 0);
    assert!(out.contains("本机还没有账号"), "{out}");

    let add = ["add", "clerk07", "--name", "黄丽", "--role", "clerk", "--password-stdin"];
    let (code, out, err) = accounts(d, &add, "counter-pass-7\n");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "已添加账号 clerk07（黄丽，窗口人员）。");
    let (code, _, err) = accounts(d, &add, "counter-pass-7\n");
    assert_eq!(code, 1);
    assert!(err.contains("[ACCOUNT_EXISTS]"), "{err}");
    let (code, _, err) = accounts(d, &["add", "x9", "--name", "某", "--role", "clerk", "--password-stdin"], "short\n");
    assert_eq!(code, 1);
    assert!(err.contains("密码至少 8 位"), "{err}");
    let (code, _, err) = accounts(d, &["add", "x9", "--name", "某", "--role", "boss", "--password-stdin"], "");
    assert_eq!(code, 2, "clap refuses an unknown role: {err}");
    assert!(err.contains("clerk（窗口人员）或 supervisor（值班长）"), "{err}");
    let chief = ["add", "chief07", "--name", "周建国", "--role", "supervisor", "--password-stdin"];
    assert_eq!(accounts(d, &chief, "chief-pass-77\n").0, 0);

    let (code, out, _) = accounts(d, &["disable", "clerk07"], "");
    assert_eq!((code, out.trim()), (0, "已停用账号 clerk07。"));
    let (code, out, _) = accounts(d, &["passwd", "clerk07", "--password-stdin"], "another-pass-7\n");
    assert_eq!(code, 0);
    assert!(out.contains("已为账号 clerk07 设置新密码"), "{out}");
    let (code, _, err) = accounts(d, &["passwd", "nobody", "--password-stdin"], "another-pass-7\n");
    assert_eq!(code, 1);
    assert!(err.contains("[ACCOUNT_NOT_FOUND]"), "{err}");

    let (code, out, _) = accounts(d, &["list", "--json"], "");
    assert_eq!(code, 0);
    let list: Value = serde_json::from_str(&out).unwrap();
    let rows: Vec<(&str, &str, bool)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["account"].as_str().unwrap(), a["role"].as_str().unwrap(), a["disabled"].as_bool().unwrap()))
        .collect();
    assert_eq!(rows, [("chief07", "supervisor", false), ("clerk07", "clerk", true)]);
    assert!(!out.contains("argon2") && !out.contains("pass"), "{out}");

    // The changes are in the audit trail, which still verifies.
    let (code, json) = run_json(&["audit", "verify-db", "--data-dir", d.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["count"], 4, "two adds, a disable and a password reset: {json}");
}

#[test]
fn cache_purge_erases_by_the_rule_or_all_and_prints_counts() {
    let sim = Sim::start(&[]);
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let granted = yueshang_gateway_sim::samples::enterprises()
        .into_iter()
        .filter(|e| e.consent == yueshang_gateway_sim::samples::Consent::Granted && !e.licenses.is_empty());
    for sample in granted.take(2) {
        let (code, json) = scan(&sim, &issue(&sim, &sample.uscc), data.path());
        assert!(code == 0 || code == 3, "{json}");
    }
    let (_, listed) = run_json(&["licenses", "--data-dir", dir, "--json"]);
    let cached = listed.as_array().unwrap().len() as u64;
    assert!(cached >= 2, "{listed}");

    // Fetched today: the default rule (one day) keeps them.
    let (code, kept) = run_json(&["cache", "purge", "--data-dir", dir, "--json"]);
    assert_eq!((code, kept), (0, serde_json::json!({"purged_customers": 0, "purged_licenses": 0})));
    let (code, all) = run_json(&["cache", "purge", "--all", "--data-dir", dir, "--json"]);
    assert_eq!((code, all), (0, serde_json::json!({"purged_customers": 2, "purged_licenses": cached})));
    let (_, listed) = run_json(&["licenses", "--data-dir", dir, "--json"]);
    assert_eq!(listed, serde_json::json!([]));

    let (code, key) = run_json(&["cache", "key", "--data-dir", dir, "--json"]);
    assert_eq!((code, key["backend"].as_str()), (0, Some("file")), "{key}");
    let location = key["location"].as_str().unwrap();
    assert!(location.starts_with(config_home().to_str().unwrap()) && !location.starts_with(dir), "{location}");
}

#[test]
fn secrets_are_set_listed_without_values_and_moved_out_of_a_configuration_file() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let conf_dir = tempfile::tempdir().unwrap();
    let config = conf_dir.path().join("config.toml");
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config.example.toml")).unwrap();
    let with_secrets = example
        .replace("# token = ", "token = ")
        .replace("# password = ", "password = ")
        .replace("# app_secret = ", "app_secret = ");
    std::fs::write(&config, &with_secrets).unwrap();
    let conf = config.to_str().unwrap();

    let (code, listed) = run_json(&["secrets", "list", "--config", conf, "--data-dir", dir, "--json"]);
    assert_eq!(code, 0, "{listed}");
    assert!(listed.as_array().unwrap().iter().all(|s| s["set"] == false), "{listed}");

    let moved = yueshang().args(["secrets", "import", "--config", conf, "--data-dir", dir]).output().unwrap();
    let said = String::from_utf8_lossy(&moved.stdout);
    assert!(moved.status.success(), "{said}{}", String::from_utf8_lossy(&moved.stderr));
    assert!(said.contains("gateway.token、gateway.password、gateway.app_secret"), "{said}");
    let rewritten = std::fs::read_to_string(&config).unwrap();
    for line in rewritten.lines() {
        let key = line.split('=').next().unwrap().trim();
        assert!(!["token", "password", "app_secret"].contains(&key), "a secret stayed: {line}");
    }
    assert!(rewritten.contains("paasid") && rewritten.contains("# "), "the rest and the comments stay");
    let leftovers: Vec<_> = std::fs::read_dir(conf_dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(leftovers.iter().all(|n| n == "config.toml" || n == "keys"), "no backup of the plain file: {leftovers:?}");

    let mut set = yueshang()
        .args(["secrets", "set", "token", "--stdin", "--config", conf, "--data-dir", dir])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    set.stdin.take().unwrap().write_all(b"new-paas-token-9f3\n").unwrap();
    assert!(set.wait().unwrap().success());
    let (code, listed) = run_json(&["secrets", "list", "--config", conf, "--data-dir", dir, "--json"]);
    assert_eq!(code, 0);
    assert!(listed.as_array().unwrap().iter().all(|s| s["set"] == true), "{listed}");
    assert!(!listed.to_string().contains("new-paas-token-9f3"));
    // Stored sealed: nowhere in the data folder in plain text.
    for entry in std::fs::read_dir(data.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!bytes.windows(18).any(|w| w == b"new-paas-token-9f3"));
    }
    // The keys of a counter with a configuration file live beside that file.
    let (_, key) = run_json(&["cache", "key", "--config", conf, "--data-dir", dir, "--json"]);
    assert!(key["location"].as_str().unwrap().starts_with(conf_dir.path().to_str().unwrap()), "{key}");
}

#[test]
fn a_lost_storage_key_is_named_and_reset_after_a_confirmation_keeps_the_audit_trail() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    chained_counter(data.path());
    let (_, key) = run_json(&["cache", "key", "--data-dir", dir, "--json"]);
    std::fs::remove_file(key["location"].as_str().unwrap()).unwrap();

    let (code, lost) = run_json(&["licenses", "--data-dir", dir, "--json"]);
    assert_eq!((code, lost["error"]["code"].as_str()), (1, Some("STORAGE_KEY_MISSING")), "{lost}");
    assert!(lost["error"]["message"].as_str().unwrap().contains("yueshang cache reset"), "{lost}");

    // Without a terminal and without --yes nothing happens.
    let refused = yueshang().args(["cache", "reset", "--data-dir", dir]).stdin(Stdio::null()).output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"), "{}", String::from_utf8_lossy(&refused.stderr));
    // The sandbox mode's own database is a different file: there is none here.
    let sandbox = yueshang().args(["cache", "reset", "--yes", "--sandbox", "--data-dir", dir]).output().unwrap();
    assert!(String::from_utf8_lossy(&sandbox.stderr).contains("没有缓存数据库"), "{sandbox:?}");
    let reset = yueshang().args(["cache", "reset", "--yes", "--data-dir", dir]).output().unwrap();
    assert!(reset.status.success(), "{}", String::from_utf8_lossy(&reset.stderr));
    let (code, listed) = run_json(&["licenses", "--data-dir", dir, "--json"]);
    assert_eq!((code, listed), (0, serde_json::json!([])));
    let (code, chain) = run_json(&["audit", "verify-db", "--data-dir", dir, "--json"]);
    assert_eq!((code, chain["count"].as_i64()), (0, Some(4)), "three events and the reset: {chain}");
}

#[test]
fn forms_writes_the_onboarding_kit_and_lists_it_for_people_and_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, include_str!("../../../config.example.toml")).unwrap();
    let out = dir.path().join("kit");
    let (code, json) =
        run_json(&["forms", "--config", config.to_str().unwrap(), "--out", out.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{json}");
    let titles: Vec<&str> = json["forms"].as_array().unwrap().iter().map(|f| f["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["接入步骤清单", "粤商通免证办接入申请表", "网络策略配置表", "网关申请表", "证照服务申请表"]);
    for form in json["forms"].as_array().unwrap() {
        let path = Path::new(form["path"].as_str().unwrap());
        assert!(path.starts_with(&out), "{form}");
        let bytes = std::fs::read(path).unwrap();
        assert!(bytes.starts_with(b"PK"), "{} is an XLSX (zip) file", path.display());
    }

    // For people: one line per file; a second run replaces the files.
    let people = yueshang()
        .args(["forms", "--config", config.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(people.status.success(), "{}", String::from_utf8_lossy(&people.stderr));
    let stdout = String::from_utf8(people.stdout).unwrap();
    assert!(stdout.contains("2-网络策略配置表.xlsx") && stdout.contains("已生成 5 份表格"), "{stdout}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 5);

    let (code, bad) = run_json(&[
        "forms",
        "--config",
        dir.path().join("none.toml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!((code, bad["error"]["code"].as_str()), (1, Some("CONFIG_INVALID")), "{bad}");
}

#[test]
fn the_doctor_passes_against_the_built_in_sandbox_with_every_check_in_order() {
    let data = tempfile::tempdir().unwrap();
    let (code, report) = run_json(&["doctor", "--sandbox", "--json", "--data-dir", data.path().to_str().unwrap()]);
    let ids: Vec<&str> = report["checks"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "config",
            "dns",
            "tcp",
            "tls",
            "clock",
            "signature",
            "license_login",
            "data_dir",
            "disk",
            "font",
            "printers",
            "logs",
            "secrets"
        ]
    );
    assert_eq!(code, 0, "{report:#}");
    for check in report["checks"].as_array().unwrap() {
        let keys: Vec<&str> = check.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["id", "title", "ok", "warn", "figure", "fix", "millis"], "{check}");
    }
    assert_eq!(report["checks"][3]["ok"], true);
    assert!(report["checks"][3]["figure"].as_str().unwrap().contains("不适用"), "{report:#}");
}

#[test]
fn lookup_by_uscc_on_a_ground_prints_as_scan_and_the_export_marks_it() {
    let sim = Sim::start(&[]);
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let uscc = normal_uscc();
    // As a clerk types it off a business licence: lower case, in groups.
    let typed = format!("{} {}", &uscc[..8], uscc[8..].to_lowercase());
    let (code, out) =
        run_json(&["lookup", &typed, "--ground", "部门间协查", "--sim", &sim.url, "--data-dir", dir, "--json"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["enterprise"]["uscc"], uscc.as_str());
    let licenses = out["licenses"].as_array().unwrap();
    assert!(!licenses.is_empty() && licenses.iter().all(|l| l["file"]["sha256"].is_string()), "{out}");
    let (_, scanned) = scan(&sim, &issue(&sim, &uscc), data.path());
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&out), keys(&scanned), "the same JSON as scan");

    let (code, refused) =
        run_json(&["lookup", &uscc, "--ground", "领导同意", "--sim", &sim.url, "--data-dir", dir, "--json"]);
    assert_eq!((code, refused["error"]["code"].as_str()), (1, Some("GROUND_REQUIRED")), "{refused}");
    let wrong = format!("{}{}", &uscc[..17], if uscc.ends_with('A') { 'B' } else { 'A' });
    let (code, refused) =
        run_json(&["lookup", &wrong, "--ground", "部门间协查", "--sim", &sim.url, "--data-dir", dir, "--json"]);
    assert_eq!((code, refused["error"]["code"].as_str()), (1, Some("USCC_INVALID")), "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("第 18 位"), "{refused}");

    let today = chrono::Utc::now().with_timezone(&yueshang_core::clock::china_tz()).date_naive();
    let (from, to) = (today.pred_opt().unwrap().to_string(), today.succ_opt().unwrap().to_string());
    let (code, exported) = export_days(data.path(), &data.path().join("export"), &from, &to);
    assert_eq!(code, 0, "{exported}");
    let csv = exported["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).find(|f| f.ends_with(".csv"));
    let text = std::fs::read_to_string(csv.unwrap()).unwrap();
    let marked: Vec<&str> = text.lines().filter(|l| l.contains(",lookup,")).collect();
    assert_eq!(marked.len(), 2, "asked, then answered: {text}");
    assert!(marked.iter().all(|l| l.contains("依据：部门间协查") && l.contains(&uscc)), "{marked:?}");
}

#[test]
fn scan_image_reads_the_code_from_a_picture_and_scans_it_like_a_payload() {
    let sim = Sim::start(&[]);
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let uscc = normal_uscc();
    let png = data.path().join("粤商码.png");
    let issued = issue_png(&sim, &uscc, &png);

    let image_scan = |path: &Path| {
        run_json(&["scan", "--image", path.to_str().unwrap(), "--sim", &sim.url, "--data-dir", dir, "--json"])
    };
    let (code, out) = image_scan(&png);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["enterprise"]["uscc"], uscc.as_str());
    assert!(!out["licenses"].as_array().unwrap().is_empty(), "{out}");
    // The code read from the picture was the issued one: it is now used, as after a scanner gun's scan.
    let (code, again) = scan(&sim, issued["payload"].as_str().unwrap(), data.path());
    assert_eq!((code, again["error"]["code"].as_str()), (1, Some("CODE_USED")), "{again}");

    // Without --json a person reads what the picture held, then the scan as usual.
    let png = data.path().join("second.png");
    issue_png(&sim, &uscc, &png);
    let out = yueshang()
        .args(["scan", "--image", png.to_str().unwrap(), "--sim", &sim.url, "--data-dir", dir])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("读到粤商码（图中共 1 个二维码）") && text.contains(&uscc), "{text}");
}

#[test]
fn scan_image_refuses_what_is_not_a_picture_of_a_code_before_any_call() {
    let sim = Sim::start(&[]);
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let not_an_image = data.path().join("license.pdf");
    std::fs::write(&not_an_image, b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n").unwrap();
    let image_scan = |path: &Path| {
        run_json(&["scan", "--image", path.to_str().unwrap(), "--sim", &sim.url, "--data-dir", dir, "--json"])
    };
    let before = sim_stats(&sim);
    let (code, out) = image_scan(&not_an_image);
    assert_eq!((code, out["error"]["code"].as_str()), (1, Some("IMAGE_UNREADABLE")), "{out}");
    assert!(out["error"]["message"].as_str().unwrap().starts_with("文件不是图片。"), "{out}");
    let (code, out) = image_scan(&data.path().join("missing.png"));
    assert_eq!((code, out["error"]["code"].as_str()), (1, Some("IMAGE_UNREADABLE")), "{out}");
    assert_eq!(sim_stats(&sim), before, "no request reached the sandbox");

    // Exactly one of a payload and --image.
    let both = yueshang().args(["scan", "abcdefghijklmnop", "--image", "x.png", "--sim", &sim.url]).output().unwrap();
    assert_eq!(both.status.code(), Some(2), "{}", String::from_utf8_lossy(&both.stderr));
    let neither = yueshang().args(["scan", "--sim", &sim.url]).output().unwrap();
    assert_eq!(neither.status.code(), Some(2), "{}", String::from_utf8_lossy(&neither.stderr));
}

/// A fresh code for `uscc` whose QR image the sandbox wrote to `png`; its JSON (`payload`, …).
fn issue_png(sim: &Sim, uscc: &str, png: &Path) -> Value {
    let path = png.to_str().unwrap();
    let (code, issued) =
        run_json(&["sim", "issue-code", "--sim", &sim.url, "--enterprise", uscc, "--png", path, "--json"]);
    assert_eq!(code, 0, "{issued}");
    issued
}

/// The sandbox's request counters (`/sim/stats`).
fn sim_stats(sim: &Sim) -> Value {
    let url = format!("{}/sim/stats", sim.url);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() })
}
