//! `PrintLab`: a private CUPS scheduler of one test, its queues and what they printed.
//!
//! The scheduler has its own configuration, spool, cache, state and logs in a temporary folder
//! and listens on a free loopback port only; the system's filters and backends do the work.
//! Queue names are the test's own (the scheduler is private); everything outside the lab that
//! needs a machine-wide name (a cups-pdf configuration, a DNS-SD service) carries the lab's tag.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tempfile::TempDir;

use crate::mdns::MdnsLease;
use crate::process::{Daemon, free_port};
use crate::tools::{require_file, require_tool, run, run_ok, wait_for, wait_until};

/// Ghostscript and a loaded CI machine can take a while for one page; still bounded.
const JOB_DONE_WITHIN: Duration = Duration::from_secs(90);
const OUTPUT_WITHIN: Duration = Duration::from_secs(15);
/// A port picked free can be taken before the daemon binds it; a second port fixes that.
const START_ATTEMPTS: usize = 3;
const CUPS_PDF_BACKEND: &str = "/usr/lib/cups/backend/cups-pdf";
const CUPS_PDF_PPD: &str = "/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd";
/// cups-pdf reads `cups-pdf-<name>.conf` here for a queue whose device is `cups-pdf:/<name>`;
/// the folder is compiled in, so a lab's own output folder can only be set from there.
const CUPS_PDF_CONF_DIR: &str = "/etc/cups";

/// A job's state as CUPS reports it (`job-state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Pending,
    Held,
    Processing,
    Stopped,
    Canceled,
    Aborted,
    Completed,
}

impl JobState {
    fn from_keyword(keyword: &str) -> Option<JobState> {
        Some(match keyword {
            "pending" => JobState::Pending,
            "pending-held" => JobState::Held,
            "processing" => JobState::Processing,
            "processing-stopped" => JobState::Stopped,
            "canceled" => JobState::Canceled,
            "aborted" => JobState::Aborted,
            "completed" => JobState::Completed,
            _ => return None,
        })
    }

    /// Whether the job is over, one way or another.
    pub fn is_done(self) -> bool {
        matches!(self, JobState::Canceled | JobState::Aborted | JobState::Completed)
    }
}

/// The CUPS client programs, found once when the lab starts.
struct Clients {
    lpadmin: PathBuf,
    cupsdisable: PathBuf,
    cupsreject: PathBuf,
    ipptool: PathBuf,
}

/// An `ippeveprinter` behind an exact queue, and the folder where it keeps every document.
struct ExactPrinter {
    queue: String,
    spool: PathBuf,
    daemon: Daemon,
}

/// A private CUPS of one test with real queues; everything it started stops on drop.
pub struct PrintLab {
    dir: TempDir,
    port: u16,
    tag: String,
    clients: Clients,
    cupsd: Daemon,
    exact: Mutex<Vec<ExactPrinter>>,
    cups_pdf_confs: Mutex<Vec<PathBuf>>,
    mdns: Mutex<Option<MdnsLease>>,
}

impl PrintLab {
    /// Starts the lab's scheduler (no queue, no default yet) and waits until it answers.
    pub fn start() -> PrintLab {
        let cupsd = require_tool("cupsd", "cups-daemon");
        let clients = Clients {
            lpadmin: require_tool("lpadmin", "cups-client"),
            cupsdisable: require_tool("cupsdisable", "cups-client"),
            cupsreject: require_tool("cupsreject", "cups-client"),
            ipptool: require_tool("ipptool", "cups-ipp-utils"),
        };
        let dir = tempfile::Builder::new().prefix("yueshang-printlab-").tempdir().expect("a folder for the lab");
        prepare_folders(dir.path());
        write_ipptool_tests(dir.path());
        let (port, daemon) = start_cupsd(&cupsd, dir.path());
        PrintLab {
            tag: lab_tag(),
            dir,
            port,
            clients,
            cupsd: daemon,
            exact: Mutex::new(Vec::new()),
            cups_pdf_confs: Mutex::new(Vec::new()),
            mdns: Mutex::new(None),
        }
    }

    /// `127.0.0.1:PORT`, for `PrintingSettings.cups_server` or `CUPS_SERVER`.
    pub fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The lab's temporary folder (logs are in `log/`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The scheduler's error log, for a failing test to show.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log/error_log")).unwrap_or_default()
    }

    /// Adds an enabled queue `name` that prints through cups-pdf (Ghostscript) into a PDF file
    /// in the lab's folder; find it with [`PrintLab::pdf_output`].
    pub fn add_pdf_queue(&self, name: &str) {
        require_file(CUPS_PDF_BACKEND, "printer-driver-cups-pdf");
        let ppd = require_file(CUPS_PDF_PPD, "printer-driver-cups-pdf");
        let config_name = format!("{}-{name}", self.tag);
        let conf = Path::new(CUPS_PDF_CONF_DIR).join(format!("cups-pdf-{config_name}.conf"));
        write_file(&conf, &cups_pdf_conf(self.dir.path()));
        self.cups_pdf_confs.lock().expect("lab lock").push(conf);
        self.lpadmin(&["-p", name, "-v", &format!("cups-pdf:/{config_name}"), "-P"], Some(&ppd), &["-E"]);
    }

    /// Adds an enabled queue `name` whose device is a virtual IPP printer (`ippeveprinter -k`)
    /// that keeps every document exactly as received; find it with [`PrintLab::exact_output`].
    ///
    /// The queue is raw, so CUPS passes the document through unchanged.
    pub fn add_exact_queue(&self, name: &str) {
        let program = require_tool("ippeveprinter", "cups-ipp-utils");
        self.lease_mdns();
        let spool = self.dir.path().join("exact").join(name);
        std::fs::create_dir_all(&spool).expect("the printer's spool folder");
        let service = format!("{name}-{}", self.tag);
        let log = self.dir.path().join("log").join(format!("ippeveprinter-{name}.log"));
        let (port, daemon) = start_with_free_port("ippeveprinter", &log, |port| {
            let mut command = Command::new(&program);
            command.args(["-n", "localhost", "-p", &port.to_string(), "-k", "-f", "application/pdf", "-d"]);
            command.arg(&spool).arg(&service);
            command
        });
        self.exact.lock().expect("lab lock").push(ExactPrinter { queue: name.to_owned(), spool, daemon });
        let device = format!("ipp://localhost:{port}/ipp/print");
        self.lpadmin(&["-p", name, "-v", &device, "-m", "raw", "-E"], None, &[]);
    }

    /// Stops (pauses) a queue the way `cupsdisable` does; CUPS still accepts jobs into it.
    pub fn stop_queue(&self, name: &str) {
        run_ok(Command::new(&self.clients.cupsdisable).args(["-h", &self.server(), name]));
    }

    /// Stops a queue and says why, as IT would (`cupsdisable -r REASON`).
    pub fn stop_queue_because(&self, name: &str, reason: &str) {
        run_ok(Command::new(&self.clients.cupsdisable).args(["-h", &self.server(), "-r", reason, name]));
    }

    /// Makes a queue refuse new jobs (`cupsreject`) while it stays enabled.
    pub fn reject_jobs(&self, name: &str) {
        run_ok(Command::new(&self.clients.cupsreject).args(["-h", &self.server(), name]));
    }

    /// Makes `name` the scheduler's default queue.
    pub fn set_default(&self, name: &str) {
        self.lpadmin(&["-d", name], None, &[]);
    }

    /// Every job the queue ever got (pending, printing and finished), oldest first.
    pub fn jobs(&self, queue: &str) -> Vec<(i32, JobState)> {
        let uri = format!("ipp://{}/printers/{queue}", self.server());
        let output = self.ipptool(&uri, "get-jobs.test");
        let ids = attribute_values(&output, "job-id");
        let states = attribute_values(&output, "job-state");
        let mut jobs: Vec<(i32, JobState)> = ids
            .iter()
            .zip(&states)
            .filter_map(|(id, state)| Some((id.parse().ok()?, JobState::from_keyword(state)?)))
            .collect();
        jobs.sort_by_key(|(id, _)| *id);
        jobs
    }

    /// One attribute of a job as `ipptool` prints it (`3`, `completed`, `application/pdf`).
    pub fn job_attribute(&self, job_id: i32, attribute: &str) -> Option<String> {
        let output = self.ipptool(&format!("ipp://{}/jobs/{job_id}", self.server()), "get-job-attributes.test");
        attribute_values(&output, attribute).pop()
    }

    pub fn job_state(&self, job_id: i32) -> Option<JobState> {
        self.job_attribute(job_id, "job-state").as_deref().and_then(JobState::from_keyword)
    }

    /// Waits until the job is over and returns how it ended.
    pub fn wait_until_done(&self, job_id: i32) -> JobState {
        wait_for(&format!("job {job_id} to finish"), JOB_DONE_WITHIN, || self.job_state(job_id).filter(|s| s.is_done()))
    }

    /// The PDF cups-pdf wrote for a job of a cups-pdf queue, once the job completed.
    pub fn pdf_output(&self, job_id: i32) -> PathBuf {
        self.expect_completed(job_id);
        let folder = self.dir.path().join("cups-pdf-out");
        // cups-pdf with `Label 1` names the file `<title>-job_<id>.pdf`.
        let suffix = format!("-job_{job_id}.pdf");
        let found = wait_until(OUTPUT_WITHIN, || {
            file_in(&folder, |name| name.ends_with(&suffix) || name.starts_with(&format!("job_{job_id}-")))
        });
        found.unwrap_or_else(|| {
            panic!(
                "no file of job {job_id} from cups-pdf in {} (it holds {:?}); cups-pdf's logs:\n{}",
                folder.display(),
                file_names(&folder),
                self.cups_pdf_logs()
            )
        })
    }

    /// What cups-pdf logged for this lab's queues (one log per queue configuration).
    fn cups_pdf_logs(&self) -> String {
        let logs = self.dir.path().join("log");
        let names = file_names(&logs).into_iter().filter(|n| n.starts_with("cups-pdf"));
        names.map(|n| std::fs::read_to_string(logs.join(n)).unwrap_or_default()).collect::<Vec<_>>().join("\n")
    }

    /// The document the exact queue's printer received for a job, once the job completed.
    ///
    /// CUPS sends a queue's jobs to its printer one at a time in job order, so the n-th
    /// completed job of the queue is the printer's n-th document (`<n>-<title>.pdf`).
    pub fn exact_output(&self, queue: &str, job_id: i32) -> PathBuf {
        self.expect_completed(job_id);
        let completed: Vec<i32> =
            self.jobs(queue).into_iter().filter(|(_, s)| *s == JobState::Completed).map(|(id, _)| id).collect();
        let position = completed
            .iter()
            .position(|id| *id == job_id)
            .unwrap_or_else(|| panic!("job {job_id} is not a completed job of queue {queue} ({completed:?})"));
        let spool = self.exact_spool(queue);
        let prefix = format!("{}-", position + 1);
        wait_for(&format!("the document of job {job_id} in {}", spool.display()), OUTPUT_WITHIN, || {
            file_in(&spool, |name| name.starts_with(&prefix))
        })
    }

    fn exact_spool(&self, queue: &str) -> PathBuf {
        let printers = self.exact.lock().expect("lab lock");
        let printer = printers.iter().find(|p| p.queue == queue);
        printer.map(|p| p.spool.clone()).unwrap_or_else(|| panic!("{queue} is not an exact queue of this lab"))
    }

    fn expect_completed(&self, job_id: i32) {
        let state = self.wait_until_done(job_id);
        if state != JobState::Completed {
            let why = self.job_attribute(job_id, "job-printer-state-message").unwrap_or_default();
            panic!("job {job_id} ended {state:?} ({why}); scheduler log:\n{}", self.error_log());
        }
    }

    fn lease_mdns(&self) {
        let mut lease = self.mdns.lock().expect("lab lock");
        if lease.is_none() {
            *lease = Some(MdnsLease::acquire());
        }
    }

    /// `lpadmin` against this lab's scheduler: `before`, then an optional path, then `after`.
    fn lpadmin(&self, before: &[&str], path: Option<&Path>, after: &[&str]) {
        let mut command = Command::new(&self.clients.lpadmin);
        command.args(["-h", &self.server()]).args(before);
        if let Some(path) = path {
            command.arg(path);
        }
        run_ok(command.args(after));
    }

    fn ipptool(&self, uri: &str, test: &str) -> String {
        let test = self.dir.path().join("ipptool").join(test);
        let output = run(Command::new(&self.clients.ipptool).arg("-tv").arg(uri).arg(test));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for PrintLab {
    fn drop(&mut self) {
        // Printers before the scheduler (no job half-sent into a dead printer), and the shared
        // DNS-SD daemons last, once no printer of this lab registers with them any more.
        for printer in self.exact.get_mut().map(std::mem::take).unwrap_or_default() {
            drop(printer.daemon);
        }
        self.cupsd.stop();
        for conf in self.cups_pdf_confs.get_mut().map(std::mem::take).unwrap_or_default() {
            let _ = std::fs::remove_file(conf);
        }
        if let Ok(lease) = self.mdns.get_mut() {
            drop(lease.take());
        }
    }
}

/// A name no other live lab on the machine has: this process's id and a counter.
fn lab_tag() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    format!("ys{}x{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

fn prepare_folders(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for sub in ["conf", "spool", "cache", "state", "tmp", "log", "ipptool", "cups-pdf-out", "cups-pdf-spool", "exact"] {
        std::fs::create_dir_all(dir.join(sub)).expect("a folder of the lab");
    }
    // Filters run as the `lp` user: they must reach the lab's folder and write its TempDir.
    // cups-pdf runs Ghostscript as the job's user, or as `nobody` for a user this machine
    // does not know: any user must be able to write the output folder.
    set_mode(dir, 0o755);
    set_mode(&dir.join("tmp"), 0o1777);
    set_mode(&dir.join("cups-pdf-out"), 0o1777);
    fn set_mode(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("folder permissions");
    }
}

/// Starts cupsd on a free port, trying another port if the first was taken meanwhile.
fn start_cupsd(cupsd: &Path, dir: &Path) -> (u16, Daemon) {
    let conf = dir.join("conf");
    start_with_free_port("cupsd", &dir.join("log/cupsd.out"), |port| {
        write_file(&conf.join("cupsd.conf"), &cupsd_conf(port));
        write_file(&conf.join("cups-files.conf"), &cups_files_conf(dir));
        let mut command = Command::new(cupsd);
        command.arg("-f").arg("-c").arg(conf.join("cupsd.conf")).arg("-s").arg(conf.join("cups-files.conf"));
        command
    })
}

/// Spawns the daemon `command_for(port)` makes and waits until it listens; a daemon that
/// exits first (port taken, DNS-SD not ready) is tried again on a new port, a few times.
fn start_with_free_port(name: &str, log: &Path, mut command_for: impl FnMut(u16) -> Command) -> (u16, Daemon) {
    let mut failures = Vec::new();
    for _ in 0..START_ATTEMPTS {
        let port = free_port();
        let mut daemon = Daemon::spawn(name, command_for(port), log);
        match daemon.wait_listening(port) {
            Ok(()) => return (port, daemon),
            Err(failure) => failures.push(failure),
        }
    }
    panic!("{name} did not start: {}", failures.join("\n"));
}

fn cupsd_conf(port: u16) -> String {
    format!(
        "# A test lab's scheduler: loopback only, nothing shared or browsed, anyone local may administer.
Listen 127.0.0.1:{port}
LogLevel info
Browsing No
BrowseLocalProtocols none
DefaultShared No
WebInterface No
DefaultAuthType None
PreserveJobHistory Yes
# A failing job must not stop the queue for the next test.
ErrorPolicy abort-job
<Location />
  Order allow,deny
  Allow 127.0.0.1
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
"
    )
}

fn cups_files_conf(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "ServerRoot {d}/conf
RequestRoot {d}/spool
CacheDir {d}/cache
StateDir {d}/state
TempDir {d}/tmp
Printcap {d}/printcap
AccessLog {d}/log/access_log
ErrorLog {d}/log/error_log
PageLog {d}/log/page_log
SystemGroup root
"
    )
}

/// cups-pdf for one lab: output, spool and log in the lab's folder; files named with the job
/// id so a test finds its own job's file.
fn cups_pdf_conf(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "Out {d}/cups-pdf-out
AnonDirName {d}/cups-pdf-out
Spool {d}/cups-pdf-spool
Log {d}/log
Label 1
Grp root
"
    )
}

/// ipptool requests the lab asks the scheduler: all jobs of a queue, all attributes of a job.
fn write_ipptool_tests(dir: &Path) {
    let header = "  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en\n";
    let get_jobs = format!(
        "{{\n  NAME \"jobs of a queue\"\n  OPERATION Get-Jobs\n{header}  ATTR uri printer-uri $uri
  ATTR name requesting-user-name root
  ATTR keyword which-jobs all
  ATTR keyword requested-attributes job-id,job-state\n  STATUS successful-ok\n}}\n"
    );
    let get_job = format!(
        "{{\n  NAME \"a job\"\n  OPERATION Get-Job-Attributes\n{header}  ATTR uri job-uri $uri
  ATTR name requesting-user-name root
  ATTR keyword requested-attributes all\n  STATUS successful-ok\n}}\n"
    );
    write_file(&dir.join("ipptool/get-jobs.test"), &get_jobs);
    write_file(&dir.join("ipptool/get-job-attributes.test"), &get_job);
}

/// The values of `name` in `ipptool -tv` output (`        name (type) = value`), in order;
/// the request's own attributes come first, so the answer's are the later ones.
fn attribute_values(output: &str, name: &str) -> Vec<String> {
    let start = format!("{name} (");
    output
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with(&start))
        .filter_map(|line| line.split_once(" = ").map(|(_, value)| value.to_owned()))
        .collect()
}

fn file_names(folder: &Path) -> Vec<String> {
    let entries = std::fs::read_dir(folder).map(|e| e.flatten().collect::<Vec<_>>()).unwrap_or_default();
    entries.iter().filter_map(|e| e.file_name().to_str().map(str::to_owned)).collect()
}

fn file_in(folder: &Path, matches: impl Fn(&str) -> bool) -> Option<PathBuf> {
    let entries = std::fs::read_dir(folder).ok()?;
    entries.flatten().map(|e| e.path()).find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(&matches))
}

fn write_file(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}
