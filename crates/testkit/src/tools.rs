//! The system programs the lab drives: finding them (or naming the package that has them),
//! running them, waiting on them with a deadline, and reading a QR code off a printed page.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How often a wait looks again; short, because every check is a cheap file or socket probe.
const POLL_EVERY: Duration = Duration::from_millis(25);

/// The full path of a system program, or a panic naming the apt package that provides it.
///
/// Looks in `PATH` and in the sbin folders too, because a test runner's `PATH` often lacks
/// them while `cupsd`, `lpadmin` and `ippeveprinter` live there.
pub fn require_tool(program: &str, package: &str) -> PathBuf {
    let path_dirs = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default();
    let fixed = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from);
    path_dirs
        .iter()
        .chain(fixed.iter())
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("{program} is missing: install the Debian package `{package}` (apt-get install {package})")
        })
}

/// A required file a package installs (a backend, a PPD), or a panic naming the package.
pub(crate) fn require_file(path: &str, package: &str) -> PathBuf {
    let path = PathBuf::from(path);
    assert!(
        path.exists(),
        "{} is missing: install the Debian package `{package}` (apt-get install {package})",
        path.display()
    );
    path
}

/// Runs a program to completion and returns its output, panicking (with its stderr) if it
/// cannot start or exits unsuccessfully.
pub(crate) fn run_ok(command: &mut Command) -> Output {
    let output = run(command);
    assert!(
        output.status.success(),
        "{command:?} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs a program to completion, whatever its exit status.
pub(crate) fn run(command: &mut Command) -> Output {
    command.output().unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

/// Polls `probe` until it gives a value, or panics after `limit` saying what was awaited.
pub(crate) fn wait_for<T>(what: &str, limit: Duration, probe: impl FnMut() -> Option<T>) -> T {
    wait_until(limit, probe).unwrap_or_else(|| panic!("gave up after {limit:?} waiting for {what}"))
}

/// Polls `probe` until it gives a value or `limit` has passed (then `None`).
pub(crate) fn wait_until<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(POLL_EVERY);
    }
}

/// The texts of every QR code on page 1 of a PDF, read the way a person would: rendered at
/// 150 dpi by `pdftoppm`, then decoded by `zbarimg`. Empty when the page has none.
pub fn qr_codes_on_first_page(pdf: &Path) -> Vec<String> {
    let pdftoppm = require_tool("pdftoppm", "poppler-utils");
    let zbarimg = require_tool("zbarimg", "zbar-tools");
    let dir = tempfile::tempdir().expect("a temporary folder for the rendered page");
    let prefix = dir.path().join("page");
    run_ok(
        Command::new(pdftoppm).args(["-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile"]).arg(pdf).arg(&prefix),
    );
    let output = run(Command::new(zbarimg).args(["--raw", "-q"]).arg(prefix.with_extension("png")));
    // zbarimg exits 4 when the image holds no code at all: that is an answer, not a failure.
    assert!(
        output.status.success() || output.status.code() == Some(4),
        "zbarimg failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).lines().map(str::to_owned).filter(|l| !l.is_empty()).collect()
}
