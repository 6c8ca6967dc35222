//! What `scripts/measure` prints about the app as a whole: the release app under Xvfb, with a fresh
//! data folder, against its built-in sandbox — start-up to ready, memory idle and after a day of
//! scans next to WebKitGTK's own MiniBrowser, a cached license re-opened, and the binaries' size.
//! One `name=value` line per figure, then how it was measured.
//!
//!   cargo run --release -p yueshang-e2e --example measure -- --app PATH --cli PATH [--scans N]

#[path = "../window/a11y.rs"]
mod a11y;
#[allow(dead_code, reason = "the window tests' harness, shared; the measure uses part of it")]
#[path = "../window/harness.rs"]
mod harness;
#[allow(dead_code, reason = "the window tests' page driver, shared; the measure uses part of it")]
#[path = "../window/page.rs"]
mod page;

use harness::{Display, Driver, Group};
use page::{ENTER, ESCAPE, F6, F8, Window};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Cold starts for `ready_ms` (the median is printed).
const STARTS: usize = 5;
/// Settling time before a memory reading: caches filled, timers run, garbage collected.
const SETTLE: Duration = Duration::from_secs(10);
/// Re-opens of each large file (the median is printed).
const REOPENS: usize = 5;
/// The shell's log line for a ready window (src-tauri/src/startup.rs).
const READY_LINE: &str = "window ready for the scanner";
/// The sandbox sample with files of about 100 KB, 1 MB and 8 MB (gateway-sim samples).
const LARGE_FILES: &str = "large files";

struct Options {
    app: PathBuf,
    cli: PathBuf,
    scans: usize,
}

fn options() -> Options {
    let mut args = std::env::args().skip(1);
    let (mut app, mut cli, mut scans) = (None, None, 200);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--app" => app = Some(PathBuf::from(value())),
            "--cli" => cli = Some(PathBuf::from(value())),
            "--scans" => scans = value().parse().expect("--scans N"),
            other => panic!("unknown argument {other} (--app PATH --cli PATH [--scans N])"),
        }
    }
    let app = app.expect("--app: the release app binary");
    let cli = cli.expect("--cli: the release CLI binary");
    for binary in [&app, &cli] {
        assert!(binary.is_file(), "{} is missing: scripts/measure builds it", binary.display());
    }
    Options { app, cli, scans }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let options = options();
    let work = tempfile::tempdir().expect("a scratch folder");
    let display = Display::start();

    let (app_mb, cli_mb) = (stripped_mb(&options.app, work.path()), stripped_mb(&options.cli, work.path()));
    println!("binary_mb app={app_mb:.1} cli={cli_mb:.1}");

    let starts: Vec<Started> =
        (0..STARTS).map(|i| start_cold(&options.app, &display, &work.path().join(format!("start-{i}")))).collect();
    let ready: Vec<f64> = starts.iter().map(|s| s.ready_ms).collect();
    println!("ready_ms={:.0}  # median of {STARTS} cold starts: {}", median(&ready), list(&ready));
    let own: Vec<f64> = starts.iter().map(|s| s.own_ms).collect();
    let page: Vec<f64> = starts.iter().map(|s| s.page_ms).collect();
    println!(
        "ready_ms_in_app={:.0} page_ms={:.0}  # medians by the app's own clock (after exec and dynamic linking), and the page's part from its navigation start",
        median(&own),
        median(&page)
    );

    let idle = starts.last().expect("at least one start");
    println!("pss_idle_mb={:.0}  # {}", idle.pss.total_mb(), idle.pss.breakdown());
    let floor = minibrowser_pss(&display, work.path());
    println!("pss_webkit_floor_mb={:.0}  # MiniBrowser with a one-line page: {}", floor.total_mb(), floor.breakdown());
    println!("pss_idle_ratio_to_floor={:.2}", idle.pss.total_mb() / floor.total_mb());
    drop(starts);

    let day = a_day_of_scans(&options, &display, work.path()).await;
    println!(
        "pss_after_{}_scans_mb={:.0}  # idle in the same session {:.0}, growth {:+.1} %; {}",
        options.scans,
        day.after.total_mb(),
        day.before.total_mb(),
        (day.after.total_mb() / day.before.total_mb() - 1.0) * 100.0,
        day.after.breakdown()
    );
    println!(
        "pss_second_half_growth_mb={:+.0}  # after {} scans {:.0}: what grows after the first half is what a leak would look like",
        day.after.total_mb() - day.halfway.total_mb(),
        options.scans / 2,
        day.halfway.total_mb()
    );
    println!("scans={} failed={} seconds={:.0}", day.scans, day.failed, day.seconds);
    for reopen in &day.reopens {
        println!(
            "reopen_ms_{}={:.0}  # median of {REOPENS}: {}; first open {:.0} (of it the file's bytes {:.0}); {} KiB, {} pages",
            reopen.label,
            median(&reopen.times),
            list(&reopen.times),
            reopen.first,
            reopen.first_fetch,
            reopen.kib,
            reopen.pages
        );
    }
    println!("{}", machine());
}

// ---------------------------------------------------------------------------------------------
// Start-up and idle memory, without a driver in between

struct Started {
    ready_ms: f64,
    own_ms: f64,
    page_ms: f64,
    pss: Pss,
}

/// Starts the app as a desktop launcher would (fresh data folder, no configuration: sandbox
/// mode), waits for its ready line, then for the memory to settle, and reads the tree's PSS.
fn start_cold(app: &Path, display: &Display, home: &Path) -> Started {
    std::fs::create_dir_all(home).expect("a home for this start");
    let log = home.join("stderr.log");
    let began = Instant::now();
    let mut command = Command::new(app);
    command
        .env("DISPLAY", &display.name)
        .env_remove("YUESHANG_CONFIG")
        .env("YUESHANG_MACHINE_CONFIG", "")
        .env("YUESHANG_DATA_DIR", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("the app's log file"));
    let app_group = Group::spawn("the app", &mut command);
    let line = wait_for_line(&log, READY_LINE, Duration::from_secs(60));
    let ready_ms = began.elapsed().as_secs_f64() * 1000.0;
    let own_ms = field(&line, "since_start_ms").unwrap_or(f64::NAN);
    let page_ms = field(&line, "page_ms").unwrap_or(f64::NAN);
    std::thread::sleep(SETTLE);
    let pss = Pss::of_tree(app_group.id());
    drop(app_group);
    Started { ready_ms, own_ms, page_ms, pss }
}

/// WebKitGTK's own browser, with nothing but a one-line page: what any WebKitGTK window costs.
fn minibrowser_pss(display: &Display, work: &Path) -> Pss {
    let minibrowser = Path::new("/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser");
    assert!(minibrowser.is_file(), "{} is missing: apt-get install libwebkit2gtk-4.1-0", minibrowser.display());
    let page = work.join("one-line.html");
    std::fs::write(&page, "<!doctype html><p>粤商码免证办</p>\n").expect("write the page");
    let home = work.join("minibrowser");
    let mut command = Command::new(minibrowser);
    command
        .arg(format!("file://{}", page.display()))
        .env("DISPLAY", &display.name)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let browser = Group::spawn("MiniBrowser", &mut command);
    // It has no ready signal; a one-line local page is shown well within a second.
    std::thread::sleep(Duration::from_secs(1) + SETTLE);
    Pss::of_tree(browser.id())
}

fn wait_for_line(log: &Path, needle: &str, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains(needle)) {
            return line.to_owned();
        }
        assert!(Instant::now() < deadline, "no \"{needle}\" within {limit:?}; the app said:\n{text}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// `name=123` in a log line (colours, if any, taken out first).
fn field(line: &str, name: &str) -> Option<f64> {
    let plain = without_colours(line);
    let rest = &plain[plain.find(&format!("{name}="))? + name.len() + 1..];
    rest.split(|c: char| !c.is_ascii_digit() && c != '.').next()?.parse().ok()
}

/// The text of a line without its ANSI colour sequences (`ESC [ … m`).
fn without_colours(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| c.is_ascii_alphabetic());
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// A day of scans through the window

struct Day {
    before: Pss,
    halfway: Pss,
    after: Pss,
    scans: usize,
    failed: usize,
    seconds: f64,
    reopens: Vec<Reopen>,
}

struct Reopen {
    label: &'static str,
    first: f64,
    /// Of the first open, the time until the file's bytes were in the page (re-opens keep the
    /// parsed document and read nothing); the rest is pdf.js parsing and drawing.
    first_fetch: f64,
    times: Vec<f64>,
    kib: u64,
    pages: u64,
}

/// Signs in with the sandbox clerk, then scans the sample enterprises in turn from the sandbox
/// helper (the code typed as a scanner gun types it), each followed by 下一位; memory before and
/// after; finally the large files opened from their cached cards.
async fn a_day_of_scans(options: &Options, display: &Display, work: &Path) -> Day {
    let home = work.join("day");
    let (config_home, data) = (home.join("config"), home.join("data"));
    let driver = Driver::start(display, &[("XDG_CONFIG_HOME", &config_home), ("YUESHANG_DATA_DIR", &data)]);
    let window = Window::open(&driver.url, &options.app, display, "measure").await;
    window.until_text("sandbox-accounts", "沙箱账号").await;
    let clerk = &yueshang_gateway_sim::SANDBOX_ACCOUNTS[0];
    window
        .js(&format!(
            r#"document.querySelector('[data-testid="sandbox-account"][data-account="{}"]').click(); return true;"#,
            clerk.account
        ))
        .await;
    window.type_keys(&ENTER.to_string()).await;
    window.until_text("clerk-name", clerk.name).await;
    window.type_keys(&F6.to_string()).await;
    let samples: Vec<String> = window
        .until("the sandbox's sample list", || async {
            let list = window
                .js(r#"return [...document.querySelectorAll('[data-testid="sandbox-enterprise"]')].map(b => b.dataset.uscc);"#)
                .await;
            list.as_array().filter(|l| !l.is_empty()).map(|l| l.iter().filter_map(|u| u.as_str().map(str::to_owned)).collect())
        })
        .await;
    let app_pid = app_process(&options.app);
    tokio::time::sleep(SETTLE).await;
    let before = Pss::of_tree(app_pid);

    let began = Instant::now();
    let mut failed = 0;
    let mut halfway = None;
    for i in 0..options.scans {
        if i == options.scans / 2 {
            tokio::time::sleep(SETTLE).await;
            halfway = Some(Pss::of_tree(app_pid));
        }
        if !serve(&window, &samples[i % samples.len()]).await {
            failed += 1;
        }
        window.type_keys(&F8.to_string()).await;
        window.until_gone("enterprise-card").await;
    }
    // Less the pause for the halfway reading.
    let seconds = began.elapsed().as_secs_f64() - if halfway.is_some() { SETTLE.as_secs_f64() } else { 0.0 };
    tokio::time::sleep(SETTLE).await;
    let after = Pss::of_tree(app_pid);

    let large = window
        .js(&format!(
            r#"return [...document.querySelectorAll('[data-testid="sandbox-enterprise"]')]
                 .find(b => b.innerText.includes('{LARGE_FILES}'))?.dataset.uscc ?? null;"#
        ))
        .await;
    let large = large.as_str().expect("the sandbox's large-files sample").to_owned();
    assert!(serve(&window, &large).await, "the large-files sample scanned with failures");
    let reopens = reopen_each(&window).await;
    window.type_keys(&F8.to_string()).await;
    window.close().await;
    let halfway = halfway.unwrap_or_else(|| Pss::of_tree(app_pid));
    Day { before, halfway, after, scans: options.scans, failed, seconds, reopens }
}

/// One customer: picks the sample, types its live code as the scanner would and waits until the
/// scan has finished and every card has settled (or an error is shown, as for the declined
/// sample). `false`: some license failed to load.
async fn serve(window: &Window<'_>, uscc: &str) -> bool {
    window.click(&format!(r#"[data-testid="sandbox-enterprise"][data-uscc="{uscc}"]"#)).await;
    let payload = window
        .until("a live code of the sample", || async {
            let code = window
                .js(&format!(
                    r#"const chosen = document.querySelector('[data-testid="sandbox-enterprise"][data-uscc="{uscc}"]');
                       const p = document.querySelector('[data-testid="sandbox-payload"]');
                       return chosen?.getAttribute('aria-pressed') === 'true' && p ? p.innerText : null;"#
                ))
                .await;
            code.as_str().map(str::to_owned)
        })
        .await;
    window.scan(&payload).await;
    window
        .until_for("the customer's cards or an error", Duration::from_secs(60), || async {
            let state = window
                .js(r#"if (document.querySelector('[data-testid="error-banner"]')) return 'error';
                       const cards = [...document.querySelectorAll('[data-testid="license-card"]')];
                       const phase = document.querySelector('[data-testid="scan-status"]')?.dataset.phase;
                       if (!document.querySelector('[data-testid="enterprise-card"]') || phase !== 'done') return null;
                       if (cards.some(c => c.dataset.phase === 'loading')) return null;
                       return cards.some(c => c.dataset.phase === 'failed') ? 'failed' : 'ok';"#)
                .await;
            state.as_str().map(str::to_owned)
        })
        .await
        != "failed"
}

/// Each large PDF of the customer on the desk: opened once, closed, then re-opened `REOPENS`
/// times; each time from the click to the frame that shows the first page.
async fn reopen_each(window: &Window<'_>) -> Vec<Reopen> {
    let files = window
        .js(r#"return [...document.querySelectorAll('[data-testid="license-card"]')].map(c => c.dataset.licenseCode);"#)
        .await;
    let codes: Vec<String> =
        files.as_array().expect("cards").iter().filter_map(|c| c.as_str().map(str::to_owned)).collect();
    let mut out = Vec::new();
    for code in codes {
        let first = open_once(window, &code).await;
        let mut times = Vec::new();
        for _ in 0..REOPENS {
            times.push(open_once(window, &code).await.ms);
        }
        let label = match first.kib {
            0..=400 => "100kb",
            401..=3000 => "1mb",
            _ => "8mb",
        };
        out.push(Reopen {
            label,
            first: first.ms,
            first_fetch: first.fetch,
            times,
            kib: first.kib,
            pages: first.pages,
        });
    }
    out.sort_by_key(|r| r.kib);
    out
}

struct Opened {
    ms: f64,
    /// Of `ms`, until the file's bytes were in the page (the cache read and the IPC).
    fetch: f64,
    kib: u64,
    pages: u64,
}

async fn open_once(window: &Window<'_>, code: &str) -> Opened {
    let clicked = window
        .js(&format!(
            r#"const card = document.querySelector('[data-testid="license-card"][data-license-code="{code}"]');
               if (!card) return false; window.__openedAt = performance.now(); card.click(); return true;"#
        ))
        .await;
    assert_eq!(clicked, true, "no card {code}");
    let shown: Value = window
        .until_for("the first page drawn", Duration::from_secs(60), || async {
            let v = window
                .js(r#"const v = document.querySelector('[data-testid="viewer"][data-first-page-at]');
                       if (!v) return null;
                       const pages = (document.querySelector('[data-testid="viewer-page"]')?.innerText.match(/(\d+)\D*$/) || [])[1];
                       return { ms: Number(v.dataset.firstPageAt) - window.__openedAt, pages: Number(pages || 1),
                                fetch: Number(v.dataset.fileAt) - window.__openedAt,
                                kib: Number(v.dataset.fileSize || 0) / 1024 };"#)
                .await;
            (!v.is_null()).then_some(v)
        })
        .await;
    window.type_keys(&ESCAPE.to_string()).await;
    window.until_gone("viewer").await;
    Opened {
        ms: shown["ms"].as_f64().unwrap_or(f64::NAN),
        fetch: shown["fetch"].as_f64().unwrap_or(f64::NAN),
        kib: shown["kib"].as_f64().unwrap_or(0.0) as u64,
        pages: shown["pages"].as_u64().unwrap_or(1),
    }
}

/// The app the WebDriver session started (a child of WebKitWebDriver): the one process whose
/// executable is the measured binary.
fn app_process(app: &Path) -> u32 {
    let app = std::fs::canonicalize(app).expect("the app's path");
    let found: Vec<u32> = processes()
        .into_keys()
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).ok().as_ref() == Some(&app))
        .collect();
    assert_eq!(found.len(), 1, "exactly one running {} expected, found {found:?}", app.display());
    found[0]
}

// ---------------------------------------------------------------------------------------------
// Memory: proportional set size of a process and everything it started

struct Pss {
    /// (process name, kB) of the root and its descendants.
    parts: Vec<(String, u64)>,
}

impl Pss {
    fn of_tree(root: u32) -> Pss {
        let all = processes();
        let mut tree = vec![root];
        let mut i = 0;
        while i < tree.len() {
            let parent = tree[i];
            tree.extend(all.iter().filter(|(_, p)| p.parent == parent).map(|(pid, _)| *pid));
            i += 1;
        }
        let parts = tree.into_iter().filter_map(|pid| Some((all.get(&pid)?.name.clone(), pss_kb(pid)?))).collect();
        Pss { parts }
    }

    fn total_mb(&self) -> f64 {
        self.parts.iter().map(|(_, kb)| *kb).sum::<u64>() as f64 / 1024.0
    }

    fn breakdown(&self) -> String {
        self.parts.iter().map(|(name, kb)| format!("{name} {:.0}", *kb as f64 / 1024.0)).collect::<Vec<_>>().join(", ")
    }
}

struct Process {
    parent: u32,
    name: String,
}

fn processes() -> HashMap<u32, Process> {
    let mut out = HashMap::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // pid (comm) state ppid …; comm may hold spaces and parentheses, so split at the last ')'.
        let Some(close) = stat.rfind(')') else { continue };
        let name = stat[stat.find('(').map_or(0, |o| o + 1)..close].to_owned();
        let parent = stat[close + 1..].split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
        out.insert(pid, Process { parent, name });
    }
    out
}

fn pss_kb(pid: u32) -> Option<u64> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let line = rollup.lines().find(|l| l.starts_with("Pss:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

// ---------------------------------------------------------------------------------------------
// Small things

/// The binary's size once stripped (as the package ships it), in MiB.
fn stripped_mb(binary: &Path, work: &Path) -> f64 {
    let copy = work.join(binary.file_name().expect("a file name"));
    std::fs::copy(binary, &copy).expect("copy the binary");
    let status = Command::new("strip").arg(&copy).status().expect("run strip (binutils)");
    assert!(status.success(), "strip {} failed", copy.display());
    std::fs::metadata(&copy).expect("stripped binary").len() as f64 / (1024.0 * 1024.0)
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

fn list(values: &[f64]) -> String {
    values.iter().map(|v| format!("{v:.0}")).collect::<Vec<_>>().join(" ")
}

/// The machine the figures came from, for README's performance section.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("?")
        .trim()
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = field(&meminfo.replace(':', "=").replace(' ', ""), "MemTotal").unwrap_or(0.0) / 1024.0 / 1024.0;
    let webkit = Command::new("dpkg-query")
        .args(["-W", "-f", "${Version}", "libwebkit2gtk-4.1-0"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    format!("machine: {model}, {cores} cores, {mem_gib:.0} GiB; WebKitGTK {webkit}; Xvfb, software rendering")
}
