//! The app as a counter PC's session runs it, without WebDriver: a second launch by the same user
//! hands over to the running window and ends, and `[window] autostart` makes or removes the
//! session's autostart entry at each launch.

use crate::harness::{Display, Group, app_binary, require_program};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TITLE: &str = "粤商码免证办柜台";

/// A private D-Bus session bus (the single-instance lock lives on it), stopped when dropped.
struct SessionBus {
    address: String,
    _daemon: Group,
}

impl SessionBus {
    fn start() -> SessionBus {
        require_program("dbus-daemon", "apt-get install dbus");
        let mut command = Command::new("dbus-daemon");
        command.args(["--session", "--nofork", "--nopidfile", "--print-address=1"]).stdout(Stdio::piped());
        let mut daemon = Group::spawn("dbus-daemon", &mut command);
        let mut address = String::new();
        BufReader::new(daemon.stdout()).read_line(&mut address).expect("dbus-daemon prints its address");
        let address = address.trim().to_owned();
        assert!(address.starts_with("unix:"), "dbus-daemon printed {address:?}");
        SessionBus { address, _daemon: daemon }
    }
}

/// One user's counter PC: its display, session bus, configuration and data folders.
struct Session<'a> {
    display: &'a Display,
    bus: &'a SessionBus,
    home: &'a Path,
}

impl Session<'_> {
    fn config_home(&self) -> PathBuf {
        self.home.join("config")
    }

    fn write_config(&self, autostart: bool) -> PathBuf {
        let path = self.home.join("counter.toml");
        std::fs::write(&path, format!("mode = \"sandbox\"\n\n[window]\nautostart = {autostart}\n")).unwrap();
        path
    }

    fn launch(&self, name: &'static str, config: &Path) -> Group {
        let mut command = Command::new(app_binary());
        command
            .env("DISPLAY", &self.display.name)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus.address)
            // The autostart entry goes to $HOME/.config/autostart (the plugin ignores XDG_CONFIG_HOME).
            .env("HOME", self.home)
            .env("XDG_CONFIG_HOME", self.config_home())
            .env("YUESHANG_CONFIG", config)
            .env("YUESHANG_DATA_DIR", self.home.join("data"))
            .env("YUESHANG_MACHINE_CONFIG", "")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        Group::spawn(name, &mut command)
    }

    fn autostart_entry(&self) -> PathBuf {
        self.home.join(".config").join("autostart").join("yueshang-counter.desktop")
    }

    /// How many top-level windows with the counter's title the X server has.
    fn counter_windows(&self) -> usize {
        let out = Command::new("xwininfo")
            .args(["-display", &self.display.name, "-root", "-tree"])
            .output()
            .expect("run xwininfo (apt-get install x11-utils)");
        String::from_utf8_lossy(&out.stdout).matches(&format!("\"{TITLE}\"")).count()
    }

    fn wait_for_window(&self, app: &mut Group) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while self.counter_windows() == 0 {
            assert!(app.exit_within(Duration::ZERO).is_none(), "the app ended before its window opened");
            assert!(Instant::now() < deadline, "no window titled {TITLE} within 90 s");
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

#[test]
fn a_second_launch_hands_over_and_autostart_follows_the_configuration() {
    require_program("xwininfo", "apt-get install x11-utils");
    let display = Display::start();
    let bus = SessionBus::start();
    let home = tempfile::tempdir().unwrap();
    let session = Session { display: &display, bus: &bus, home: home.path() };

    let config = session.write_config(true);
    let mut first = session.launch("first counter", &config);
    session.wait_for_window(&mut first);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !session.autostart_entry().exists() {
        assert!(Instant::now() < deadline, "[window] autostart = true did not write the entry");
        std::thread::sleep(Duration::from_millis(100));
    }
    let entry = std::fs::read_to_string(session.autostart_entry()).unwrap();
    assert!(entry.contains("yueshang-counter"), "{entry}");

    let mut second = session.launch("second counter", &config);
    let status = second.exit_within(Duration::from_secs(30)).expect("the second launch ends within 30 s");
    assert!(status.success(), "the second launch handed over and exited with {status}");
    assert!(first.exit_within(Duration::ZERO).is_none(), "the first counter still runs");
    assert_eq!(session.counter_windows(), 1, "still exactly one counter window");
    drop(first);

    let config = session.write_config(false);
    let mut again = session.launch("counter without autostart", &config);
    session.wait_for_window(&mut again);
    let deadline = Instant::now() + Duration::from_secs(10);
    while session.autostart_entry().exists() {
        assert!(Instant::now() < deadline, "[window] autostart = false leaves the entry in place");
        std::thread::sleep(Duration::from_millis(100));
    }
}
