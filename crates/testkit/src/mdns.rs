//! The system D-Bus and Avahi daemons that `ippeveprinter` needs for DNS-SD ("Unable to
//! initialize DNS-SD" without them): one pair per machine, shared by every lab of every test
//! process, started when missing and stopped by the last lab that uses them.
//!
//! They cannot be private to a lab: both live at fixed paths (`/run/dbus/system_bus_socket`,
//! `/run/avahi-daemon/`). So labs coordinate through two lock files: `gate` serialises
//! starting and stopping, and every lab holds `users` shared for as long as it lives; whoever
//! can take `users` exclusively at the end is the last one, and stops what a lab started.
//! Daemons the machine runs by itself (systemd) are never touched.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::tools::{require_tool, run, run_ok, wait_for};

const DBUS_SOCKET: &str = "/run/dbus/system_bus_socket";
const AVAHI_SOCKET: &str = "/run/avahi-daemon/socket";
const AVAHI_PID_FILE: &str = "/run/avahi-daemon/pid";
const READY_WITHIN: Duration = Duration::from_secs(20);
const EXIT_WITHIN: Duration = Duration::from_secs(5);

/// A lab's claim on the shared daemons; dropping the last claim stops the daemons labs started.
pub(crate) struct MdnsLease {
    users: Option<File>,
}

impl MdnsLease {
    pub(crate) fn acquire() -> MdnsLease {
        let gate = lock_file("gate.lock");
        gate.lock().expect("the testkit's gate lock");
        ensure_running(DBUS_SOCKET, "dbus-daemon", start_dbus);
        ensure_running(AVAHI_SOCKET, "avahi-daemon", start_avahi);
        let users = lock_file("users.lock");
        users.lock_shared().expect("a shared hold on the testkit's users lock");
        drop(gate);
        MdnsLease { users: Some(users) }
    }
}

impl Drop for MdnsLease {
    fn drop(&mut self) {
        let gate = lock_file("gate.lock");
        if gate.lock().is_err() {
            return;
        }
        drop(self.users.take());
        // Another open description of the same file: exclusive only when no lab holds it.
        let probe = lock_file("users.lock");
        if probe.try_lock().is_ok() {
            stop_started_daemons();
        }
    }
}

/// The folder of the lock and state files, the same for every test process on the machine.
fn state_dir() -> PathBuf {
    let dir = std::env::temp_dir().join("yueshang-testkit");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

fn lock_file(name: &str) -> File {
    let path = state_dir().join(name);
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()))
}

/// Where the pids of daemons started by labs are kept, one `pid program` per line.
fn started_list() -> PathBuf {
    state_dir().join("started-daemons")
}

fn is_listening(socket: &str) -> bool {
    UnixStream::connect(socket).is_ok()
}

fn ensure_running(socket: &str, program: &str, start: fn() -> u32) {
    if is_listening(socket) {
        return;
    }
    let pid = start();
    let mut list = OpenOptions::new().create(true).append(true).open(started_list()).expect("the started-daemons list");
    writeln!(list, "{pid} {program}").expect("recording a started daemon");
    wait_for(&format!("{program} to listen on {socket}"), READY_WITHIN, || is_listening(socket).then_some(()));
}

/// The system bus, daemonised by itself (`--fork`), so it outlives the test process that
/// started it for as long as other labs use it.
fn start_dbus() -> u32 {
    let dbus = require_tool("dbus-daemon", "dbus");
    std::fs::create_dir_all("/run/dbus").expect("creating /run/dbus (the lab must run as root)");
    // A socket left by a killed bus would make the new one fail to bind.
    let _ = std::fs::remove_file(DBUS_SOCKET);
    let output = run_ok(Command::new(dbus).args(["--system", "--fork", "--nopidfile", "--print-pid"]));
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim().parse().unwrap_or_else(|_| panic!("dbus-daemon printed no pid: {text:?}"))
}

fn start_avahi() -> u32 {
    let avahi = require_tool("avahi-daemon", "avahi-daemon");
    // avahi refuses to start over a pid file of a daemon that is gone but left it behind.
    if !is_listening(AVAHI_SOCKET) {
        let _ = std::fs::remove_file(AVAHI_PID_FILE);
    }
    run_ok(Command::new(avahi).args(["--daemonize", "--no-chroot", "--no-drop-root", "--no-rlimits"]));
    let text = std::fs::read_to_string(AVAHI_PID_FILE).unwrap_or_default();
    text.trim().parse().unwrap_or_else(|_| panic!("avahi-daemon wrote no pid to {AVAHI_PID_FILE}: {text:?}"))
}

/// Stops, newest first, every daemon a lab recorded that is still that program (a pid reused
/// by something else is left alone), then forgets the list.
fn stop_started_daemons() {
    let list = started_list();
    let text = std::fs::read_to_string(&list).unwrap_or_default();
    for line in text.lines().rev() {
        let Some((pid, program)) = line.split_once(' ') else { continue };
        if is_running_as(pid, program) {
            stop_pid(pid, program);
        }
    }
    let _ = std::fs::remove_file(list);
}

fn is_running_as(pid: &str, program: &str) -> bool {
    let proc_dir = Path::new("/proc").join(pid);
    let comm = std::fs::read_to_string(proc_dir.join("comm")).unwrap_or_default();
    // The kernel keeps only the first 15 bytes of a program's name.
    let same_program = !comm.trim().is_empty() && program.starts_with(comm.trim());
    // A container's init may never reap the daemonised process: a zombie counts as stopped.
    let stat = std::fs::read_to_string(proc_dir.join("stat")).unwrap_or_default();
    let zombie = stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z'));
    same_program && !zombie
}

fn stop_pid(pid: &str, program: &str) {
    run(Command::new("kill").args(["-TERM", pid]));
    let gone = || (!is_running_as(pid, program)).then_some(());
    let deadline = std::time::Instant::now() + EXIT_WITHIN;
    while std::time::Instant::now() < deadline {
        if gone().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    run(Command::new("kill").args(["-KILL", pid]));
}
