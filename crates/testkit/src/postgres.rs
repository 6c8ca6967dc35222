//! `Cluster`: a throwaway PostgreSQL cluster of one test, never the machine's own service.
//!
//! `initdb` makes a fresh cluster in a temporary folder (data, Unix socket, server log); the
//! server listens on a loopback port the OS picked and trusts every local connection as the
//! `postgres` superuser. A test can stop, restart and hard-kill it (crash recovery on the next
//! start); dropping the cluster stops the server and removes the folder, and a watchdog does
//! the same if the test process dies without unwinding.
//!
//! `initdb` and `pg_ctl` refuse to run as root: a test running as root runs them as the
//! `postgres` system user (Debian's package creates it) and hands it the folder.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use tempfile::TempDir;

use crate::process::{Daemon, free_port};
use crate::tools::{require_tool, run, run_ok, wait_until};

/// `pg_ctl -t`: start, crash recovery and shutdown on a loaded 2-core CI machine; still bounded.
const PG_CTL_WAIT_SECONDS: &str = "60";
/// A port picked free can be taken before the server binds it; another port fixes that.
const START_ATTEMPTS: usize = 3;
/// How long the server's processes get to notice their postmaster died before they are killed.
const ORPHANS_EXIT_WITHIN: Duration = Duration::from_secs(10);
const INSTALL_HINT: &str = "run scripts/install-deps (it installs the Debian package `postgresql`)";
/// The locale of the cluster and of its programs' messages (which the start-up retry reads).
const LOCALE: &str = "C.UTF-8";
/// The lines of the server log a failure shows.
const LOG_TAIL_LINES: usize = 40;

/// What a test changes in a cluster before it starts; [`ClusterOptions::default`] changes nothing.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    config: Vec<String>,
}

impl ClusterOptions {
    /// Adds a `postgresql.conf` line (`wal_level = logical`); it overrides the kit's defaults,
    /// except the port and the addresses, which are the kit's.
    pub fn config(mut self, line: &str) -> ClusterOptions {
        self.config.push(line.to_owned());
        self
    }
}

/// A PostgreSQL cluster of one test on `127.0.0.1:`[`port`](Cluster::port), superuser
/// `postgres`, no password; stopped and removed on drop.
pub struct Cluster {
    bin: PathBuf,
    user: ServerUser,
    port: u16,
    data: PathBuf,
    socket_dir: PathBuf,
    log: PathBuf,
    /// Stops the server and removes the folder if this process dies without dropping the cluster.
    watchdog: Option<Daemon>,
    dir: TempDir,
}

impl Cluster {
    /// A fresh cluster with the kit's settings, started and accepting connections.
    pub fn start() -> Cluster {
        Cluster::start_with(ClusterOptions::default())
    }

    /// A fresh cluster with the kit's settings and the options' `postgresql.conf` lines.
    pub fn start_with(options: ClusterOptions) -> Cluster {
        let bin = postgres_bin_dir();
        let user = ServerUser::detect();
        // As root the `postgres` user must reach the folder: /tmp, not a TMPDIR that may sit in
        // root's home.
        let parent = if user.is_postgres() { PathBuf::from("/tmp") } else { std::env::temp_dir() };
        let dir = tempfile::Builder::new()
            .prefix("yueshang-pg-")
            .tempdir_in(&parent)
            .unwrap_or_else(|e| panic!("cannot create a folder for the cluster in {}: {e}", parent.display()));
        user.give(dir.path());
        let socket_dir = dir.path().join("socket");
        std::fs::create_dir(&socket_dir).expect("the cluster's socket folder");
        user.give(&socket_dir);
        // Built before the server exists, so that a failing start still stops and removes
        // whatever it got to through Drop.
        let mut cluster = Cluster {
            data: dir.path().join("data"),
            socket_dir: socket_dir.clone(),
            log: dir.path().join("server.log"),
            watchdog: None,
            port: 0,
            bin,
            user,
            dir,
        };
        cluster.watchdog = Some(cluster.start_watchdog());
        cluster.initdb();
        cluster.port = cluster.start_on_free_port(&options);
        cluster
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The data directory (`PGDATA`); it belongs to the `postgres` user when the test is root.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    /// `postgres://postgres@127.0.0.1:PORT/DB`; the name goes in unencoded, so keep it plain.
    pub fn url_for(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// `host=127.0.0.1 port=PORT user=postgres dbname=DB`, for `CREATE SUBSCRIPTION … CONNECTION`.
    pub fn conninfo(&self, db: &str) -> String {
        format!("host=127.0.0.1 port={} user=postgres dbname={db}", self.port)
    }

    /// The server's log so far, for a failing test to show.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn create_database(&self, name: &str) {
        self.psql("postgres", &format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\"")));
    }

    /// Runs `sql` in database `db` as `postgres` and returns the rows psql prints, unaligned
    /// without headers (`a|b` per row) and trimmed; panics with psql's error on failure.
    ///
    /// `-q` keeps command tags (`INSERT 0 1`) out of the answer. Several statements in one
    /// call run as one transaction, so `CREATE DATABASE` and `CREATE SUBSCRIPTION` need a
    /// call of their own.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let output = run(Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-w", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1"])
            .args(["-p", &self.port.to_string(), "-U", "postgres", "-d", db, "-c", sql]));
        assert!(
            output.status.success(),
            "psql on port {} database {db} failed ({}) for `{sql}`: {}",
            self.port,
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// Stops the server the polite way (`pg_ctl stop -m fast`: sessions ended, a checkpoint
    /// written); [`Cluster::start_again`] brings it back on the same port.
    pub fn stop(&self) {
        self.expect_running("stop");
        self.pg_ctl_ok("stop", &["stop", "-m", "fast"]);
    }

    /// `pg_ctl restart -m fast`: the same data and port, every session cut.
    pub fn restart(&self) {
        self.expect_running("restart");
        self.pg_ctl_ok("restart", &["-l", path_str(&self.log), "restart", "-m", "fast"]);
    }

    /// Kills the postmaster with SIGKILL, as a crash or the OOM killer would, and waits until
    /// its processes are gone; committed transactions must survive [`Cluster::start_again`].
    pub fn kill_hard(&self) {
        let pid = self.expect_running("kill");
        // Stopped first, the postmaster cannot fork a backend between the listing and the kill.
        run_ok(Command::new("kill").args(["-STOP", &pid.to_string()]));
        let children = children_of(pid);
        run_ok(Command::new("kill").args(["-KILL", &pid.to_string()]));
        wait_dead(&[pid], ORPHANS_EXIT_WITHIN);
        // Orphaned backends notice the postmaster's death by themselves; the slow ones are
        // killed, so no old process keeps the data directory's shared memory attached.
        if !wait_dead(&children, ORPHANS_EXIT_WITHIN) {
            kill_all(&children);
            assert!(
                wait_dead(&children, ORPHANS_EXIT_WITHIN),
                "processes of the killed server on port {} do not die: {children:?}",
                self.port
            );
        }
    }

    /// Starts the server again after [`Cluster::stop`] or [`Cluster::kill_hard`] (then with
    /// crash recovery), on the same port.
    pub fn start_again(&self) {
        if let Some(pid) = self.postmaster_pid() {
            assert!(!is_alive(pid), "the cluster on port {} is running already (postmaster {pid})", self.port);
            // A killed postmaster's lock files stay behind, and its pid may still exist as a
            // zombie (this machine's init need not reap orphans): the new postmaster would
            // take it for a running server and refuse.
            let _ = std::fs::remove_file(self.data.join("postmaster.pid"));
            for name in [format!(".s.PGSQL.{}", self.port), format!(".s.PGSQL.{}.lock", self.port)] {
                let _ = std::fs::remove_file(self.socket_dir.join(name));
            }
        }
        if let Err(failure) = self.pg_ctl_start() {
            panic!("{failure}");
        }
    }

    fn initdb(&self) {
        let mut command = self.server_command("initdb");
        command.arg("-D").arg(&self.data).args(["-A", "trust", "-U", "postgres", "--encoding=UTF8"]);
        // --no-sync: a test cluster needs no durable initdb, only durable commits afterwards.
        command.args([&format!("--locale={LOCALE}"), "--no-sync", "--no-instructions"]);
        run_ok(&mut command);
        let mut conf =
            OpenOptions::new().append(true).open(self.data.join("postgresql.conf")).expect("initdb's postgresql.conf");
        // The kit's settings in a file of their own, rewritten for every port a start tries.
        writeln!(conf, "\ninclude 'testkit.conf'").expect("the include line in postgresql.conf");
    }

    fn start_on_free_port(&self, options: &ClusterOptions) -> u16 {
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            self.user.write(&self.data.join("testkit.conf"), &testkit_conf(port, &self.socket_dir, options));
            let log_before = self.log().len();
            match self.pg_ctl_start() {
                Ok(()) => return port,
                Err(failure) => {
                    let taken = self.log().get(log_before..).is_some_and(|new| new.contains("already in use"));
                    assert!(taken, "{failure}");
                    failures.push(failure);
                }
            }
        }
        panic!("PostgreSQL did not start on a free port: {}", failures.join("\n"));
    }

    fn pg_ctl_start(&self) -> Result<(), String> {
        let output = self.pg_ctl(&["-l", path_str(&self.log), "start"]);
        match output.status.success() {
            true => Ok(()),
            false => Err(self.failure("start", &output)),
        }
    }

    fn pg_ctl_ok(&self, what: &str, args: &[&str]) {
        let output = self.pg_ctl(args);
        assert!(output.status.success(), "{}", self.failure(what, &output));
    }

    /// `pg_ctl -D DATA -w -t 60 ARGS`; `-l` for every start, so that the server never holds
    /// pg_ctl's output pipes (reading them would wait for the server's end).
    fn pg_ctl(&self, args: &[&str]) -> Output {
        let mut command = self.server_command("pg_ctl");
        command.arg("-D").arg(&self.data).args(["-w", "-t", PG_CTL_WAIT_SECONDS]).args(args);
        run(&mut command)
    }

    fn failure(&self, what: &str, output: &Output) -> String {
        format!(
            "PostgreSQL in {} did not {what} ({}): {}{}\nthe server log ends with:\n{}",
            self.data.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            tail(&self.log(), LOG_TAIL_LINES)
        )
    }

    /// A program of the PostgreSQL installation, run as the server's user, in the cluster's
    /// folder (the test's working directory may be closed to `postgres`).
    fn server_command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        let mut command = match &self.user {
            ServerUser::Current => Command::new(program),
            ServerUser::Postgres { runuser, .. } => {
                let mut command = Command::new(runuser);
                command.args(["-u", "postgres", "--"]).arg(program);
                command
            }
        };
        command.current_dir(self.dir.path()).env("LC_ALL", LOCALE).env_remove("LANGUAGE");
        command
    }

    /// The postmaster's pid from the first line of `postmaster.pid`, if the file is there.
    fn postmaster_pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.data.join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    fn expect_running(&self, what: &str) -> u32 {
        let pid = self.postmaster_pid().filter(|pid| is_alive(*pid));
        pid.unwrap_or_else(|| panic!("cannot {what} the cluster on port {}: it is not running", self.port))
    }

    /// A shell that waits for this test process to end, however it ends, then stops the
    /// server at once (SIGQUIT: immediate shutdown) and removes the folder. A panicking test
    /// drops the cluster and the cluster stops the watchdog; this is for an abort or a kill.
    fn start_watchdog(&self) -> Daemon {
        let script = r#"
alive() { grep -qs '^State:[[:space:]]*[^ZX]' "/proc/$1/status"; }
while alive "$1"; do sleep 1; done
pid=$(head -n 1 "$2/postmaster.pid" 2>/dev/null)
if [ -n "$pid" ] && alive "$pid"; then
  kill -QUIT "$pid"
  i=0
  while [ "$i" -lt 100 ] && [ -e "$2/postmaster.pid" ]; do sleep 0.1; i=$((i + 1)); done
fi
rm -rf "$3"
"#;
        let mut command = Command::new("sh");
        command.args(["-c", script, "yueshang-pg-watchdog", &std::process::id().to_string()]);
        command.arg(&self.data).arg(self.dir.path());
        Daemon::spawn("the cluster's watchdog", command, &self.dir.path().join("watchdog.log"))
    }

    fn stop_at_once(&self) {
        let Some(pid) = self.postmaster_pid().filter(|pid| is_alive(*pid)) else { return };
        let children = children_of(pid);
        let stopped = self.pg_ctl(&["stop", "-m", "immediate"]).status.success();
        if !stopped || !wait_dead(&[pid], ORPHANS_EXIT_WITHIN) {
            kill_all(&[pid]);
            kill_all(&children);
            wait_dead(&[pid], ORPHANS_EXIT_WITHIN);
        }
        wait_dead(&children, ORPHANS_EXIT_WITHIN);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // The server before the folder it works in; the watchdog last, so that a panic in
        // here still leaves it to clean up once the process ends.
        self.stop_at_once();
        drop(self.watchdog.take());
    }
}

/// Who runs `initdb` and `pg_ctl`: the test's own user, or `postgres` for a test run as root.
enum ServerUser {
    Current,
    Postgres { runuser: PathBuf, uid: u32, gid: u32 },
}

impl ServerUser {
    fn detect() -> ServerUser {
        if effective_uid() != 0 {
            return ServerUser::Current;
        }
        let runuser = require_tool("runuser", "util-linux");
        let id = |flag: &str| -> u32 {
            let output = run(Command::new("id").args([flag, "postgres"]));
            let text = String::from_utf8_lossy(&output.stdout);
            match (output.status.success(), text.trim().parse()) {
                (true, Ok(id)) => id,
                _ => panic!(
                    "the test runs as root and there is no `postgres` system user to run the cluster as: {INSTALL_HINT}"
                ),
            }
        };
        ServerUser::Postgres { runuser, uid: id("-u"), gid: id("-g") }
    }

    fn is_postgres(&self) -> bool {
        matches!(self, ServerUser::Postgres { .. })
    }

    /// Makes a folder or file the kit created the server user's.
    fn give(&self, path: &Path) {
        if let ServerUser::Postgres { uid, gid, .. } = self {
            std::os::unix::fs::chown(path, Some(*uid), Some(*gid))
                .unwrap_or_else(|e| panic!("cannot hand {} to the postgres user: {e}", path.display()));
        }
    }

    fn write(&self, path: &Path, text: &str) {
        std::fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        self.give(path);
    }
}

/// The effective uid from `/proc/self/status` (`Uid: real effective saved fs`), without libc.
fn effective_uid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let uids = status.lines().find_map(|line| line.strip_prefix("Uid:")).expect("a Uid line in /proc/self/status");
    uids.split_whitespace().nth(1).and_then(|uid| uid.parse().ok()).expect("the effective uid")
}

/// The newest `/usr/lib/postgresql/<N>/bin` with `initdb`, else `pg_config --bindir`.
fn postgres_bin_dir() -> PathBuf {
    let versions =
        std::fs::read_dir("/usr/lib/postgresql").map(|e| e.flatten().collect::<Vec<_>>()).unwrap_or_default();
    let newest = versions
        .iter()
        .filter_map(|entry| Some((entry.file_name().to_str()?.parse::<u32>().ok()?, entry.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").is_file())
        .max_by_key(|(version, _)| *version);
    if let Some((_, bin)) = newest {
        return bin;
    }
    let from_pg_config = Command::new("pg_config").arg("--bindir").output().ok().filter(|o| o.status.success());
    let bin = from_pg_config.map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    bin.filter(|bin| bin.join("initdb").is_file()).unwrap_or_else(|| {
        panic!("PostgreSQL is missing (no /usr/lib/postgresql/<N>/bin/initdb, no pg_config --bindir): {INSTALL_HINT}")
    })
}

fn testkit_conf(port: u16, socket_dir: &Path, options: &ClusterOptions) -> String {
    // fsync stays on and synchronous_commit at its default: the crash tests need commits that
    // survive a killed server.
    let mut conf = String::from(
        "# The testkit's cluster: loopback only, on a port the OS picked; the socket in its folder.
max_connections = 200
shared_buffers = 128MB
",
    );
    for line in &options.config {
        conf.push_str(line);
        conf.push('\n');
    }
    conf.push_str(&format!(
        "listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\n",
        socket_dir.display()
    ));
    conf
}

/// Whether a process exists and has not exited; a zombie (exited, not yet reaped) is dead.
fn is_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| !matches!(process_state(&stat), Some('Z' | 'X')))
}

/// The state letter of a `/proc/PID/stat` line: the field after the `(name)`, which may hold spaces.
fn process_state(stat: &str) -> Option<char> {
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// The pids whose parent is `parent`, from `/proc/*/stat` (field 4, after the state).
fn children_of(parent: u32) -> Vec<u32> {
    let entries = std::fs::read_dir("/proc").map(|e| e.flatten().collect::<Vec<_>>()).unwrap_or_default();
    let pids = entries.iter().filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok());
    pids.filter(|pid| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        ppid == Some(parent)
    })
    .collect()
}

/// Waits until none of `pids` is alive; false if some still are after `limit`.
fn wait_dead(pids: &[u32], limit: Duration) -> bool {
    wait_until(limit, || pids.iter().all(|pid| !is_alive(*pid)).then_some(())).is_some()
}

fn kill_all(pids: &[u32]) {
    for pid in pids.iter().filter(|pid| is_alive(**pid)) {
        run(Command::new("kill").args(["-KILL", &pid.to_string()]));
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("the kit's temporary paths are UTF-8")
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Committed rows survive a clean restart and a SIGKILL of the postmaster; two clusters
    /// live side by side on different ports.
    #[test]
    fn cluster_keeps_committed_rows_across_restart_and_crash() {
        let cluster = Cluster::start();
        let other = Cluster::start();
        assert_ne!(cluster.port(), other.port());
        assert_eq!(cluster.url(), format!("postgres://postgres@127.0.0.1:{}/postgres", cluster.port()));
        assert_eq!(other.psql("postgres", "SELECT 1"), "1");
        drop(other);

        cluster.create_database("hall");
        cluster.psql("hall", "CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL)");
        cluster.psql("hall", "INSERT INTO t VALUES (1, '粤商')");
        cluster.restart();
        assert_eq!(cluster.psql("hall", "SELECT id, name FROM t"), "1|粤商");

        cluster.psql("hall", "INSERT INTO t VALUES (2, 'after restart')");
        cluster.kill_hard();
        let refused = run(Command::new(cluster.bin.join("pg_isready"))
            .args(["-h", "127.0.0.1"])
            .arg("-p")
            .arg(cluster.port().to_string()));
        assert!(!refused.status.success(), "the killed server still answers");
        cluster.start_again();
        assert_eq!(cluster.psql("hall", "SELECT count(*) FROM t"), "2");
        assert!(cluster.log().contains("not properly shut down"), "no crash recovery in:\n{}", cluster.log());

        cluster.stop();
        cluster.start_again();
        assert_eq!(cluster.psql("hall", "SELECT name FROM t WHERE id = 2"), "after restart");

        let data = cluster.data_dir().to_owned();
        drop(cluster);
        assert!(!data.exists(), "the cluster's folder outlived it");
    }

    /// A publication on one cluster reaches a subscription on another: the copy of the rows
    /// that were there, then a row inserted afterwards.
    #[test]
    fn logical_replication_between_two_clusters() {
        let publisher = Cluster::start_with(ClusterOptions::default().config("wal_level = logical"));
        let subscriber = Cluster::start();
        assert_eq!(publisher.psql("postgres", "SHOW wal_level"), "logical");
        for cluster in [&publisher, &subscriber] {
            cluster.create_database("city");
            cluster.psql("city", "CREATE TABLE t (id int PRIMARY KEY, hall text NOT NULL)");
        }
        publisher.psql("city", "INSERT INTO t VALUES (1, 'before')");
        publisher.psql("city", "CREATE PUBLICATION p FOR TABLE t");
        let connection = publisher.conninfo("city");
        subscriber.psql("city", &format!("CREATE SUBSCRIPTION s CONNECTION '{connection}' PUBLICATION p"));
        publisher.psql("city", "INSERT INTO t VALUES (2, 'after')");

        let rows = wait_until(Duration::from_secs(30), || {
            Some(subscriber.psql("city", "SELECT id, hall FROM t ORDER BY id")).filter(|rows| rows.lines().count() == 2)
        });
        assert_eq!(
            rows.as_deref(),
            Some("1|before\n2|after"),
            "the subscriber did not get both rows; its log:\n{}\nthe publisher's log:\n{}",
            tail(&subscriber.log(), LOG_TAIL_LINES),
            tail(&publisher.log(), LOG_TAIL_LINES)
        );
    }
}
