//! A daemon the lab started as its child: in a process group of its own, output to a log
//! file, readiness awaited on its TCP port, and the whole group stopped on drop.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::tools::{run, wait_for};

/// How long a daemon may take to open its port; generous for a loaded 2-core CI machine.
const READY_WITHIN: Duration = Duration::from_secs(20);
/// How long a daemon gets to exit on SIGTERM before the group is killed.
const EXIT_WITHIN: Duration = Duration::from_secs(5);

pub(crate) struct Daemon {
    name: String,
    child: Child,
    log: PathBuf,
    stopped: bool,
}

impl Daemon {
    /// Starts `command` in a new process group (so its filters and backends die with it),
    /// writing stdout and stderr to `log`.
    pub(crate) fn spawn(name: &str, mut command: Command, log: &Path) -> Daemon {
        use std::os::unix::process::CommandExt;
        let out = File::create(log).unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        let err = out.try_clone().expect("a second handle on the log file");
        command.stdin(Stdio::null()).stdout(out).stderr(err).process_group(0);
        let child = command.spawn().unwrap_or_else(|e| panic!("cannot start {name} ({command:?}): {e}"));
        Daemon { name: name.to_owned(), child, log: log.to_owned(), stopped: false }
    }

    /// Waits until the daemon accepts connections on `port`; an early exit is reported with
    /// the daemon's own words (its log) rather than as a timeout.
    pub(crate) fn wait_listening(&mut self, port: u16) -> Result<(), String> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut exited = None;
        wait_for(&format!("{} to listen on {addr}", self.name), READY_WITHIN, || {
            if let Ok(Some(status)) = self.child.try_wait() {
                exited = Some(status);
                return Some(());
            }
            TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok().map(drop)
        });
        match exited {
            None => Ok(()),
            Some(status) => Err(format!("{} exited ({status}) before listening: {}", self.name, self.log_text())),
        }
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM to the group, then SIGKILL if it does not go within a few seconds; idempotent.
    pub(crate) fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let group = format!("-{}", self.child.id());
        // `kill` the program: signalling a whole process group needs no unsafe code this way.
        run(Command::new("kill").args(["-TERM", "--", &group]).stderr(Stdio::null()));
        let mut gone = false;
        let deadline = std::time::Instant::now() + EXIT_WITHIN;
        while std::time::Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                gone = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        // Also after a clean exit: a filter or backend left in the group must not outlive the lab.
        run(Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()));
        if !gone {
            let _ = self.child.wait();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A TCP port on loopback that was free a moment ago (the OS picks it, so two labs starting
/// at once get different ones).
pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("a free loopback port");
    listener.local_addr().expect("the port bound").port()
}
