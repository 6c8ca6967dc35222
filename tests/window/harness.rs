//! The real parts the window test drives: a private X display (Xvfb), tauri-driver (which starts
//! WebKitWebDriver, which starts the app), the built app binary, and the output folder.
//!
//! A missing prerequisite fails the test with what to install; nothing is skipped.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// The workspace root, where `target/` and `ui/` are.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace").to_path_buf()
}

/// Where screenshots go: `tests/out/window/` (ignored by git).
pub(crate) fn out_dir() -> PathBuf {
    let dir = workspace_root().join("tests/out/window");
    std::fs::create_dir_all(&dir).expect("create the screenshot folder");
    dir
}

/// Fails with the install hint when a program the test needs is not on PATH.
pub(crate) fn require_program(name: &str, install: &str) {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
        .unwrap_or(false);
    assert!(found, "{name} is not installed; {install} (scripts/install-deps does this)");
}

/// The debug build of the app, checked to be newer than its sources and the built UI, so the
/// test never drives a stale binary.
pub(crate) fn app_binary() -> PathBuf {
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let app = target.join("debug/yueshang-counter");
    let built = std::fs::metadata(&app).and_then(|m| m.modified()).unwrap_or_else(|_| {
        panic!("{} is missing: build it with `cargo build -p yueshang-counter` (scripts/test does)", app.display())
    });
    for source in ["ui/dist", "src-tauri/src", "crates/core/src", "crates/gateway-sim/src"] {
        let newest = newest_mtime(&root.join(source));
        assert!(
            newest <= built,
            "{} is older than {source}: rebuild the UI (`npm run build` in ui/) and the app (`cargo build -p yueshang-counter`)",
            app.display()
        );
    }
    app
}

fn newest_mtime(path: &Path) -> SystemTime {
    let meta = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if meta.is_file() {
        return meta.modified().expect("file mtime");
    }
    std::fs::read_dir(path)
        .expect("read dir")
        .map(|entry| newest_mtime(&entry.expect("dir entry").path()))
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// A child process in its own process group, killed with its whole group when dropped, so an
/// app started by the driver never outlives the test.
pub(crate) struct Group {
    child: Child,
    name: &'static str,
}

impl Group {
    pub(crate) fn spawn(name: &'static str, command: &mut Command) -> Group {
        let child = command.process_group(0).spawn().unwrap_or_else(|e| panic!("could not start {name}: {e}"));
        Group { child, name }
    }

    #[allow(dead_code, reason = "the measure (tests/measure) reads its memory; the window tests do not")]
    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }

    /// Its standard output, when it was spawned with a pipe there.
    pub(crate) fn stdout(&mut self) -> std::process::ChildStdout {
        self.child.stdout.take().expect("spawned with stdout piped")
    }

    /// Its exit status once it has ended, waiting up to `limit`; `None`: still running.
    pub(crate) fn exit_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the child") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        // `kill` the command rather than a libc call: no unsafe code in the tests either.
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        if self.child.try_wait().ok().flatten().is_none() {
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline && self.child.try_wait().ok().flatten().is_none() {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = self.child.wait();
        }
        eprintln!("stopped {}", self.name);
    }
}

/// A private X display at hall-monitor size, on a display number Xvfb picks itself.
pub(crate) struct Display {
    pub(crate) name: String,
    _server: Group,
    /// Held open: a closed pipe would end Xvfb at its next write.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Display {
    pub(crate) fn start() -> Display {
        require_program("Xvfb", "apt-get install xvfb xauth");
        let mut server = Group::spawn(
            "Xvfb",
            Command::new("Xvfb")
                .args(["-displayfd", "1", "-screen", "0", "1366x768x24", "-nolisten", "tcp"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let mut stdout = BufReader::new(server.child.stdout.take().expect("Xvfb stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read Xvfb's display number");
        let number = line.trim();
        assert!(!number.is_empty(), "Xvfb did not report a display number");
        Display { name: format!(":{number}"), _server: server, _stdout: stdout }
    }

    /// A screenshot of the whole screen (window frame and all), as a person would see it.
    pub(crate) fn screenshot(&self, path: &Path) {
        let status = Command::new("import")
            .args(["-display", &self.name, "-window", "root"])
            .arg(path)
            .status()
            .expect("run ImageMagick's import (apt-get install imagemagick)");
        assert!(status.success(), "import -window root failed");
    }
}

/// tauri-driver on free loopback ports, with the environment the app will inherit.
pub(crate) struct Driver {
    pub(crate) url: String,
    _process: Group,
}

impl Driver {
    pub(crate) fn start(display: &Display, env: &[(&str, &Path)]) -> Driver {
        require_program("tauri-driver", "cargo install --locked tauri-driver --version 2.1.0");
        require_program("WebKitWebDriver", "apt-get install webkit2gtk-driver");
        let [port, native_port] = free_ports();
        let mut command = Command::new("tauri-driver");
        command
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("DISPLAY", &display.name)
            // The app must find no configuration but what the test gives it: no machine-wide
            // file, and its remembered window state and autostart entry in the target folder.
            .env_remove("YUESHANG_CONFIG")
            .env_remove("YUESHANG_DATA_DIR")
            .env("YUESHANG_MACHINE_CONFIG", "")
            .env("XDG_CONFIG_HOME", target_tmp().join("window-config-home"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        let process = Group::spawn("tauri-driver", &mut command);
        // tauri-driver answers before the WebKitWebDriver it starts does; a session asked for
        // in between fails. Both must listen.
        wait_for_port(port, "tauri-driver");
        wait_for_port(native_port, "WebKitWebDriver");
        Driver { url: format!("http://127.0.0.1:{port}"), _process: process }
    }
}

/// Cargo's scratch folder for tests (`target/tmp`); an example (the measure) is not given one.
fn target_tmp() -> PathBuf {
    option_env!("CARGO_TARGET_TMPDIR").map_or_else(|| workspace_root().join("target/tmp"), PathBuf::from)
}

/// Two distinct free loopback ports: both are held while asking, or the system could hand out
/// the same one twice.
fn free_ports() -> [u16; 2] {
    let bind = || TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    let (a, b) = (bind(), bind());
    [a, b].map(|l| l.local_addr().expect("bound address").port())
}

/// Waits until a driver accepts connections (each starts in well under a second).
fn wait_for_port(port: u16, who: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{who} did not listen on port {port} within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}
