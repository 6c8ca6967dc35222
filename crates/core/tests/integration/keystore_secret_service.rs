//! The Secret Service key backend against a real GNOME Keyring on a private session bus, and without one.
//!
//! The bus is named by environment variables, which are one per process: so the steps that use the
//! backend run in child processes of this test binary (`step_*`, ignored unless run that way), each
//! given the bus and a home of its own, and the tests here start the daemons and judge the steps.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use yueshang_core::ErrorCode;
use yueshang_core::keystore::secret_service::{self, SecretServiceBackend};
use yueshang_core::keystore::{Backend, KeyBackend, KeyStore};

/// Set only in the child processes: a step run any other way (`cargo test -- --ignored`) does
/// nothing, rather than write into the desktop's own keyring.
const CHILD: &str = "YUESHANG_SECRET_SERVICE_STEP";
/// Where a step may write its configuration folder (it must stay empty: no key file).
const CONFIG_DIR: &str = "YUESHANG_SECRET_SERVICE_CONFIG";
const KEY_ID: &str = "5ec7e75e7a1ce0000000000000000001";
const DAMAGED_ID: &str = "5ec7e75e7a1ce00000000000000000da";
const KEY: [u8; 16] = [0x5e, 0xc7, 0xe7, 0x5e, 0x7a, 0x1c, 0xe0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09];
const PASSWORD: &str = "yueshang-test-keyring";

#[test]
fn secret_service_keeps_the_key_in_an_unlocked_keyring_and_refuses_a_locked_or_absent_one() {
    let mut keyring = PrivateKeyring::start();
    // An entry of ours that another client damaged: not a key.
    let mut damage = keyring
        .session(&mut Command::new("secret-tool"))
        .args([
            "store",
            "--label=damaged",
            "service",
            "yueshang-counter",
            "username",
            &format!("storage-key-{DAMAGED_ID}"),
        ])
        .stdin(Stdio::piped())
        .spawn()
        .expect("secret-tool runs");
    damage.stdin.take().unwrap().write_all(b"not hex").unwrap();
    assert!(damage.wait().unwrap().success(), "secret-tool store");

    keyring.step("step_round_trip");
    // Read back by another client (libsecret's secret-tool): the entry IT is told about holds the key.
    let lookup = keyring
        .session(&mut Command::new("secret-tool"))
        .args(["lookup", "service", "yueshang-counter", "username", &format!("storage-key-{KEY_ID}")])
        .output()
        .expect("secret-tool runs");
    assert!(lookup.status.success(), "secret-tool lookup: {}", String::from_utf8_lossy(&lookup.stderr));
    assert_eq!(String::from_utf8_lossy(&lookup.stdout).trim(), hex::encode(KEY));

    keyring.lock_login();
    keyring.step("step_locked");

    keyring.stop_keyring();
    keyring.step("step_no_keyring");
}

#[test]
fn without_a_session_bus_the_secret_service_is_not_usable_at_once() {
    let home = tempfile::tempdir().unwrap();
    let runtime = home.path().join("run");
    std::fs::create_dir(&runtime).unwrap();
    let nowhere = format!("unix:path={}", home.path().join("no-bus").display());
    // A bus address that leads nowhere, then no address at all (and no $XDG_RUNTIME_DIR/bus).
    for address in [Some(nowhere.as_str()), None] {
        let mut command = child_command("step_no_bus", home.path(), &home.path().join("config"));
        command.env("XDG_RUNTIME_DIR", &runtime);
        match address {
            Some(address) => command.env("DBUS_SESSION_BUS_ADDRESS", address),
            None => command.env_remove("DBUS_SESSION_BUS_ADDRESS"),
        };
        judge("step_no_bus", command.output().expect("the test binary runs again"));
    }
}

// ---- steps, each in a child process given a private bus ----

fn in_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

fn config_dir() -> PathBuf {
    PathBuf::from(std::env::var_os(CONFIG_DIR).expect("the parent names the configuration folder"))
}

/// In the app's own kind of runtime: the backend blocks on libdbus, never on tokio, so it may be
/// called from a task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a step of secret_service_keeps_the_key_…, run by it in a child process with a private keyring"]
async fn step_round_trip() {
    if !in_child() {
        return;
    }
    let started = Instant::now();
    assert!(secret_service::usable(), "a running, unlocked keyring is usable");
    assert!(started.elapsed() < Duration::from_secs(3));
    let store = KeyStore::new(config_dir());
    assert_eq!(store.for_new_key().unwrap().kind(), Backend::SecretService, "new keys go to the keyring");

    let backend = SecretServiceBackend::new();
    assert!(backend.load(KEY_ID).unwrap().is_none(), "a missing key is None");
    let damaged = backend.load(DAMAGED_ID).unwrap_err();
    assert_eq!(damaged.code, ErrorCode::StorageKeyMissing);
    assert!(damaged.message.contains("已损坏"), "{}", damaged.message);
    backend.store(KEY_ID, &KEY).unwrap();
    assert_eq!(backend.load(KEY_ID).unwrap().unwrap().as_slice(), &KEY);

    let twice = backend.store(KEY_ID, &[0u8; 16]).unwrap_err();
    assert_eq!(twice.code, ErrorCode::StorageFailed);
    assert!(twice.message.contains("不会覆盖"), "{}", twice.message);
    assert_eq!(backend.load(KEY_ID).unwrap().unwrap().as_slice(), &KEY, "never overwritten");

    backend.delete(KEY_ID).unwrap();
    backend.delete(KEY_ID).unwrap();
    assert!(backend.load(KEY_ID).unwrap().is_none());

    // The key the next steps look for, read back through the store's recorded-backend path.
    backend.store(KEY_ID, &KEY).unwrap();
    let recorded = store.backend(Backend::SecretService).unwrap();
    assert_eq!(recorded.load(KEY_ID).unwrap().unwrap().as_slice(), &KEY);
    assert!(!config_dir().join("keys").exists(), "nothing written to disk");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a step of secret_service_keeps_the_key_…, run by it in a child process with a private keyring"]
async fn step_locked() {
    if !in_child() {
        return;
    }
    let started = Instant::now();
    assert!(!secret_service::usable(), "a locked keyring is not usable");
    assert_eq!(KeyStore::new(config_dir()).for_new_key().unwrap().kind(), Backend::File);

    let backend = SecretServiceBackend::new();
    let error = backend.load(KEY_ID).unwrap_err();
    assert_eq!(error.code, ErrorCode::StorageKeyMissing);
    assert!(error.message.contains("已锁定") && error.message.contains("解锁"), "{}", error.message);
    assert!(error.message.contains("yueshang cache reset"), "{}", error.message);
    assert_no_key(&error);

    let error = backend.store("5ec7e75e7a1ce0000000000000000002", &KEY).unwrap_err();
    assert_eq!(error.code, ErrorCode::StorageFailed);
    assert!(error.message.contains("已锁定"), "{}", error.message);
    // Never an unlock dialog waited on: every answer came at once.
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

#[test]
#[ignore = "a step of secret_service_keeps_the_key_…, run by it in a child process with a private keyring"]
fn step_no_keyring() {
    if !in_child() {
        return;
    }
    let started = Instant::now();
    assert!(!secret_service::usable(), "a bus without a keyring daemon is not usable");
    let error = SecretServiceBackend::new().load(KEY_ID).unwrap_err();
    assert_eq!(error.code, ErrorCode::StorageKeyMissing, "a recorded key is not None when the keyring is gone");
    assert!(error.message.contains("没有运行"), "{}", error.message);
    assert!(error.message.contains("登录桌面会话"), "{}", error.message);
    assert_no_key(&error);
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

#[test]
#[ignore = "a step of without_a_session_bus_…, run by it in a child process"]
fn step_no_bus() {
    if !in_child() {
        return;
    }
    let started = Instant::now();
    assert!(!secret_service::usable());
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    assert_eq!(KeyStore::new(config_dir()).for_new_key().unwrap().kind(), Backend::File);
    let error = SecretServiceBackend::new().load(KEY_ID).unwrap_err();
    assert_eq!(error.code, ErrorCode::StorageKeyMissing);
    assert!(error.message.contains("登录桌面会话"), "{}", error.message);
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
}

fn assert_no_key(error: &yueshang_core::Error) {
    let key = hex::encode(KEY);
    assert!(!error.message.contains(&key) && !error.detail.clone().unwrap_or_default().contains(&key));
}

// ---- the parent's side: the daemons and the child processes ----

/// A session bus of our own (no service files: nothing is activated behind our back) and a
/// GNOME Keyring on it whose login collection is created and unlocked with a known password, all
/// under a temporary home, so the desktop's own keyring (if any) is never touched.
struct PrivateKeyring {
    home: tempfile::TempDir,
    address: String,
    bus: Child,
    keyring: Option<Child>,
}

impl PrivateKeyring {
    fn start() -> PrivateKeyring {
        for tool in ["dbus-daemon", "dbus-send", "gnome-keyring-daemon", "secret-tool"] {
            assert!(
                on_path(tool),
                "{tool} is missing: this test needs dbus, gnome-keyring and libsecret-tools (run scripts/install-deps)"
            );
        }
        let home = tempfile::tempdir().unwrap();
        let runtime = home.path().join("run");
        std::fs::create_dir(&runtime).unwrap();
        std::fs::set_permissions(&runtime, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        let config = home.path().join("bus.conf");
        std::fs::write(&config, bus_config(&home.path().join("bus"))).unwrap();

        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--nopidfile", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon starts");
        // The address is printed once the bus listens.
        let mut address = String::new();
        BufReader::new(bus.stdout.take().unwrap()).read_line(&mut address).unwrap();
        let address = address.trim().to_owned();
        assert!(address.starts_with("unix:"), "dbus-daemon printed {address:?}");

        let mut keyring = PrivateKeyring { home, address, bus, keyring: None };
        let log = std::fs::File::create(keyring.home.path().join("gnome-keyring.log")).unwrap();
        // --unlock reads the login keyring's password from stdin, creating that keyring the first time.
        let mut daemon = keyring
            .session(&mut Command::new("gnome-keyring-daemon"))
            .args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("gnome-keyring-daemon starts");
        let mut stdin = daemon.stdin.take().unwrap();
        stdin.write_all(PASSWORD.as_bytes()).unwrap();
        drop(stdin);
        keyring.keyring = Some(daemon);

        let ready =
            keyring.wait_for(Duration::from_secs(15), |k| k.name_has_owner() && k.login_locked() == Some(false));
        assert!(
            ready,
            "gnome-keyring-daemon did not offer an unlocked login collection on the private bus:\n{}",
            std::fs::read_to_string(keyring.home.path().join("gnome-keyring.log")).unwrap_or_default()
        );
        keyring
    }

    /// `command` in this keyring's session: its bus, its home, no display to autolaunch a bus from.
    fn session<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        session_env(command, self.home.path());
        command.env("XDG_RUNTIME_DIR", self.home.path().join("run")).env("DBUS_SESSION_BUS_ADDRESS", &self.address)
    }

    fn step(&self, step: &str) {
        let mut command = child_command(step, self.home.path(), &self.home.path().join("config"));
        self.session(&mut command);
        judge(step, command.output().expect("the test binary runs again"));
    }

    fn dbus_send(&self, args: &[&str]) -> Output {
        self.session(&mut Command::new("dbus-send"))
            .args(["--session", "--print-reply", "--reply-timeout=2000"])
            .args(args)
            .output()
            .expect("dbus-send runs")
    }

    /// Asks the bus itself, which never starts a service to answer.
    fn name_has_owner(&self) -> bool {
        let out = self.dbus_send(&[
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.freedesktop.secrets",
        ]);
        String::from_utf8_lossy(&out.stdout).contains("boolean true")
    }

    fn login_locked(&self) -> Option<bool> {
        let out = self.dbus_send(&[
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets/collection/login",
            "org.freedesktop.DBus.Properties.Get",
            "string:org.freedesktop.Secret.Collection",
            "string:Locked",
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        if text.contains("boolean true") {
            Some(true)
        } else if text.contains("boolean false") {
            Some(false)
        } else {
            None
        }
    }

    /// Locks the login collection as the screen locker or `Lock` in Seahorse would (no prompt needed).
    fn lock_login(&self) {
        let out = self.dbus_send(&[
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ]);
        assert!(out.status.success(), "Lock: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(self.login_locked(), Some(true));
    }

    /// Ends the keyring daemon, leaving the bus up: a session whose keyring is not running.
    fn stop_keyring(&mut self) {
        if let Some(mut daemon) = self.keyring.take() {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
        assert!(self.wait_for(Duration::from_secs(5), |k| !k.name_has_owner()), "the keyring left the bus");
    }

    fn wait_for(&self, limit: Duration, ready: impl Fn(&PrivateKeyring) -> bool) -> bool {
        let started = Instant::now();
        while started.elapsed() < limit {
            if ready(self) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for PrivateKeyring {
    fn drop(&mut self) {
        for child in self.keyring.iter_mut().chain([&mut self.bus]) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A session bus listening at `socket`, with no service directories: nothing is activated.
fn bus_config(socket: &Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
        socket.display()
    )
}

/// This test binary again, running one step, with a home of its own.
fn child_command(step: &str, home: &Path, config: &Path) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("the test binary's path"));
    command
        .args([&format!("keystore_secret_service::{step}"), "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env(CONFIG_DIR, config)
        .stdin(Stdio::null());
    session_env(&mut command, home);
    command
}

fn session_env<'c>(command: &'c mut Command, home: &Path) -> &'c mut Command {
    command
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config-home"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
}

fn judge(step: &str, output: Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "step {step} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}
