//! End to end through the real `yueshang` binary: a sandbox started as a process, codes issued and
//! scanned by further processes, JSON read back as a script would.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_yueshang");

/// A `yueshang sim` process, killed when dropped.
struct Sim {
    child: Child,
    url: String,
}

impl Sim {
    fn start(args: &[&str]) -> Sim {
        let mut child = Command::new(BIN)
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
    let out = Command::new(BIN).args(args).output().expect("run yueshang");
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

    let out = Command::new(BIN).args(["sim", "--fault", "nonsense"]).output().unwrap();
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
