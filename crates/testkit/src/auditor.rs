//! An auditor's tools for the exports tests write: their own few lines of Python (audit-format.md
//! §5 steps 1 and 2, with nothing of ours) and OpenSSL's check of an SM2 signature (step 3).

use std::path::Path;
use std::process::Command;

/// Recomputes every row's SM3 link of an export's CSV and checks its `.checkpoint` against the
/// rows; prints `ok <rows> <key> <counter>`.
const PYTHON_VERIFY: &str = r#"
import csv, hashlib, json, sys
path = sys.argv[1]
with open(path, newline="", encoding="utf-8-sig") as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
fields = header[:-2]
prev = body[0][-2]
for r in body:
    assert r[-2] == prev, "prev_hash of seq " + r[0]
    obj = {k: v for k, v in zip(fields, r[:-2]) if v != ""}
    canonical = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    h = hashlib.new("sm3", b"YSAUDIT1" + bytes.fromhex(r[-2]) + canonical).hexdigest()
    assert h == r[-1], "hash of seq " + r[0]
    prev = h
lines = open(path[:-4] + ".checkpoint", encoding="utf-8").read().splitlines()
assert lines[0] == "yueshang-audit-checkpoint/v1"
cp = dict(line.split(": ", 1) for line in lines[1:])
assert cp["first_seq"] == body[0][0] and cp["last_seq"] == body[-1][0] and int(cp["count"]) == len(body)
assert cp["prev_hash"] == body[0][-2] and cp["head"] == prev
print("ok", len(body), cp["key"], cp["counter"])
"#;

/// What the auditor's script said of an export's CSV (its `.checkpoint` beside it): `Ok` with
/// `(rows, key fingerprint)`, or `Err` with what Python printed.
pub fn python_verifies(csv: &Path) -> Result<(u64, String), String> {
    let dir = tempfile::tempdir().expect("a temp folder");
    let script = dir.path().join("verify.py");
    std::fs::write(&script, PYTHON_VERIFY).expect("write the script");
    let out = Command::new("python3")
        .arg(&script)
        .arg(csv)
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed for this test: install the Debian package python3 ({e})"));
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut words = said.split_whitespace();
    match (out.status.success(), words.next(), words.next().and_then(|n| n.parse().ok()), words.next()) {
        (true, Some("ok"), Some(rows), Some(key)) => Ok((rows, key.to_owned())),
        _ => Err(format!("{said}{}", String::from_utf8_lossy(&out.stderr))),
    }
}

/// `openssl pkeyutl -verify` of a DER SM2 signature over `file` (SM3, the default user ID), as
/// audit-format.md §5 step 3 runs it.
pub fn openssl_verifies(public_pem: &Path, file: &Path, signature: &Path) -> bool {
    let out = Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
        .arg(public_pem)
        .args(["-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678", "-in"])
        .arg(file)
        .arg("-sigfile")
        .arg(signature)
        .output()
        .unwrap_or_else(|e| panic!("openssl is needed for this test: install the Debian package openssl ({e})"));
    String::from_utf8_lossy(&out.stdout).contains("Signature Verified Successfully")
}
