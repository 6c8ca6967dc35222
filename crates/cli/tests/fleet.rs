//! Fleet configuration through the real `yueshang` binary: the machine-wide file IT deploys, the
//! user's file over it key by key, `config show` naming each key's file, and bad files named.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_yueshang");

const MACHINE: &str = r#"mode = "gateway"

[gateway]
environment = "test"
yst_base = "https://gateway.test.invalid/ebus/yst_counter"
license_base = "https://gateway.test.invalid/ebus/dzzz_convergence-service"
paasid = "yst_counter"
system_id = "sys-001"
vender_id = "91440300708461136T"
department_id = "914403001922038216"
account = "hall_4401"
app_key = "app-key"

[operator]
account = "zhangsan"
name = "张三"
division_code = "440100"
service_org = "广州市政务服务中心"
service_org_code = "11440100MB2C00001X"

[hall]
code = "4401001"
name = "广州市政务服务中心"
counter = "A01"

[[service_items]]
code = "11440100MB2C0000XX4440117001000"
name = "食品经营许可（新办）"
"#;

fn yueshang(machine: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env("XDG_CONFIG_HOME", Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-config-home"))
        .env_remove("YUESHANG_CONFIG")
        .env("YUESHANG_MACHINE_CONFIG", machine);
    command
}

fn show_json(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("no JSON ({e}): {stdout}"))
}

fn key<'a>(shown: &'a Value, name: &str) -> &'a Value {
    shown["keys"].as_array().unwrap().iter().find(|k| k["key"] == name).unwrap_or_else(|| panic!("{name} in {shown}"))
}

#[test]
fn the_user_file_overrides_the_machine_file_key_by_key_and_show_names_each_file() {
    let dir = tempfile::tempdir().unwrap();
    let (machine, user) = (dir.path().join("machine.toml"), dir.path().join("user.toml"));
    std::fs::write(&machine, MACHINE).unwrap();
    std::fs::write(&user, "[hall]\ncounter = \"B07\"\n\n[gateway]\ntoken = \"tok-sekrit-1\"\n").unwrap();

    let out = yueshang(&machine).args(["config", "show", "--json", "--config"]).arg(&user).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shown = show_json(&out);
    assert_eq!(shown["mode"], "gateway");
    assert_eq!(shown["files"]["machine"], machine.display().to_string());
    assert_eq!(key(&shown, "hall.counter")["value"], "\"B07\"");
    assert_eq!(key(&shown, "hall.counter")["source"], "user");
    assert_eq!(key(&shown, "hall.code")["source"], "machine");
    assert_eq!(key(&shown, "hall.code")["file"], machine.display().to_string());
    assert_eq!(key(&shown, "gateway.token")["value"], "******");
    assert_eq!(key(&shown, "service_items[0].code")["source"], "machine");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("tok-sekrit-1"));

    let people = yueshang(&machine).args(["config", "show", "--config"]).arg(&user).output().unwrap();
    let text = String::from_utf8(people.stdout).unwrap();
    assert!(text.contains("全机配置文件：") && text.contains("hall.counter = \"B07\""), "{text}");
    assert!(!text.contains("tok-sekrit-1"), "{text}");
}

#[test]
fn each_bad_file_is_named_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let (machine, user) = (dir.path().join("machine.toml"), dir.path().join("user.toml"));
    let fails_naming = |machine_text: &str, user_text: &str, needles: &[&str]| {
        std::fs::write(&machine, machine_text).unwrap();
        std::fs::write(&user, user_text).unwrap();
        let out = yueshang(&machine).args(["config", "show", "--json", "--config"]).arg(&user).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let message = show_json(&out)["error"]["message"].as_str().unwrap().to_owned();
        for needle in needles {
            assert!(message.contains(needle), "{needle:?} not in {message}");
        }
    };
    fails_naming(MACHINE, "[hall]\ncountr = \"B07\"\n", &["user.toml", "countr"]);
    fails_naming(MACHINE, "[window]\nfullscreen = \"yes\"\n", &["user.toml", "fullscreen"]);
    fails_naming(
        &MACHINE.replace("https://gateway.test.invalid/ebus/yst", "http://gateway.test.invalid/ebus/yst"),
        "",
        &["machine.toml", "gateway.yst_base", "https"],
    );
    fails_naming(MACHINE, "[gateway]\ntoken = \"abc def\"\n", &["user.toml", "gateway.token", "空格"]);
    fails_naming(
        &MACHINE.replace("\"yst_counter\"\nsystem", "\"counter\"\nsystem"),
        "",
        &["machine.toml", "gateway.paasid", "yst_"],
    );
}

/// IT deployed the machine-wide file with the wrong permissions: the user cannot read it.
#[test]
fn a_machine_file_the_user_cannot_read_is_named_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let machine = dir.path().join("machine.toml");
    std::fs::write(&machine, MACHINE).unwrap();
    set_mode(dir.path(), 0o755);
    set_mode(&machine, 0o600);
    // As root every file is readable: ask as an ordinary user (nobody) instead.
    let mut command = yueshang(&machine);
    if is_root() {
        command = Command::new("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN])
            .env("XDG_CONFIG_HOME", dir.path().join("nobody-config"))
            .env_remove("YUESHANG_CONFIG")
            .env("YUESHANG_MACHINE_CONFIG", &machine);
    }
    let out = command.args(["config", "show", "--json"]).output().expect("run yueshang (setpriv from util-linux)");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let message = show_json(&out)["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("全机配置文件") && message.contains("machine.toml"), "{message}");
    assert!(message.contains("chmod 644"), "{message}");
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}
