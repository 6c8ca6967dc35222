//! The doctor's checks of this PC: the data folder writable and its disk's free space, a CJK font
//! to stamp with, the printers, the log folder, and where the gateway credentials live.

use super::{Check, Counter, DoctorInput};
use crate::config::{Mode, PrintMode, PrintingSettings};
use crate::print::font::StampFont;
use crate::print::queue::PrintSystem;
use crate::secrets::SecretName;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Below this the cache cannot be trusted to take a customer's licenses (a few MB each) and SQLite's
/// journal: fail.
const DISK_FAIL_BYTES: u64 = 200 * 1024 * 1024;
/// Below this the day's licenses and logs will soon fill it: warn.
const DISK_WARN_BYTES: u64 = 1024 * 1024 * 1024;
/// Listing printers is a local or LAN call; a print server that takes longer is as good as absent.
const PRINTERS_TIMEOUT: Duration = Duration::from_secs(10);

/// data_dir → disk → font → printers → logs → secrets.
pub(crate) async fn run(
    input: &DoctorInput,
    counter: Option<&Counter>,
    printing: &PrintingSettings,
    emit: &mut impl FnMut(Check),
) {
    emit(writable("data_dir", &input.data_dir, "数据目录"));
    emit(disk(&input.data_dir));
    emit(font(printing).await);
    emit(printers(printing).await);
    emit(writable("logs", &input.log_dir, "日志目录"));
    emit(secrets(input, counter));
}

/// A folder exists (made if missing, as the app would) and takes a file: one is written and removed.
fn writable(id: &'static str, dir: &Path, what: &str) -> Check {
    let started = Instant::now();
    let tried =
        std::fs::create_dir_all(dir).and_then(|()| tempfile::NamedTempFile::new_in(dir)).and_then(|mut file| {
            use std::io::Write as _;
            file.write_all(b"yueshang doctor")?;
            file.close()
        });
    match tried {
        Ok(()) => Check::pass(id, format!("{} 可写", dir.display())).timed(started),
        Err(e) => Check::fail(
            id,
            format!("{what} {} 不可写（{e}）", dir.display()),
            format!(
                "让运行柜台的用户对 {} 有读写权限，或用 --data-dir / YUESHANG_DATA_DIR 换一个目录。",
                dir.display()
            ),
        )
        .timed(started),
    }
}

/// The `disk` check: free space on the data folder's disk.
fn disk(data_dir: &Path) -> Check {
    let started = Instant::now();
    let at = existing_ancestor(data_dir);
    let free = match fs4::available_space(&at) {
        Ok(free) => free,
        Err(e) => {
            return Check::fail(
                "disk",
                format!("无法读取 {} 所在磁盘的空间（{e}）", at.display()),
                "检查数据目录是否存在且可访问。",
            )
            .timed(started);
        }
    };
    let figure = format!("{} 所在磁盘可用 {}", data_dir.display(), human_bytes(free));
    let check = if free < DISK_FAIL_BYTES {
        Check::fail(
            "disk",
            figure,
            "可用空间不足 200 MB：清理磁盘，或把数据目录移到空间充足的磁盘（--data-dir / YUESHANG_DATA_DIR）。",
        )
    } else if free < DISK_WARN_BYTES {
        Check::warning("disk", figure, "可用空间不足 1 GB：请尽快清理磁盘。")
    } else {
        Check::pass("disk", figure)
    };
    check.timed(started)
}

/// The folder itself, or the nearest parent that exists (the data folder may not be made yet).
fn existing_ancestor(dir: &Path) -> PathBuf {
    dir.ancestors().find(|a| a.exists()).map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

fn human_bytes(bytes: u64) -> String {
    const GB: f64 = 1024.0 * 1024.0 * 1024.0;
    match bytes as f64 {
        b if b >= GB => format!("{:.1} GB", b / GB),
        b => format!("{:.0} MB", b / (1024.0 * 1024.0)),
    }
}

/// The `font` check: the CJK font stamped copies are written in (`[printing] font`, else the system's).
async fn font(printing: &PrintingSettings) -> Check {
    let started = Instant::now();
    let configured = printing.font.clone();
    // A search walks the system's font folders: off the async threads.
    let found = tokio::task::spawn_blocking(move || StampFont::load(configured.as_deref())).await;
    let check = match found {
        Ok(Ok(font)) => Check::pass("font", format!("{}（{}）", font.family(), font.path().display())),
        Ok(Err(e)) => Check::fail(
            "font",
            e.message,
            "安装中文字体（UOS/麒麟/Debian：sudo apt install fonts-wqy-microhei 或 fonts-noto-cjk），或在 [printing] font 中写字体文件路径。扫码不受影响，只是不能盖章打印副本。",
        ),
        Err(e) => Check::fail("font", format!("查找字体时出错（{e}）"), "把日志发给信息部门。"),
    };
    check.timed(started)
}

/// The `printers` check: the print system's queues. None is fine for a PC that only scans.
async fn printers(printing: &PrintingSettings) -> Check {
    let started = Instant::now();
    let system = PrintSystem::new(printing);
    let listed = tokio::time::timeout(PRINTERS_TIMEOUT, system.queues()).await;
    let check = match listed {
        Ok(Ok(queues)) if queues.is_empty() => {
            Check::warning("printers", "没有打印机", "只扫码、不打印副本的电脑可以忽略；要打印请在系统中添加打印机。")
        }
        Ok(Ok(queues)) => {
            let names: Vec<String> = queues
                .iter()
                .map(|q| if q.is_default { format!("{}（默认）", q.name) } else { q.name.clone() })
                .collect();
            let figure = format!("{} 台：{}", queues.len(), names.join("、"));
            match (&printing.mode, &printing.printer) {
                (PrintMode::Direct, Some(p)) if !queues.iter().any(|q| &q.name == p) => Check::fail(
                    "printers",
                    format!("{figure}；没有配置的打印机 {p}"),
                    "改正配置项 [printing] printer 为上面列出的打印机之一。",
                ),
                _ => Check::pass("printers", figure),
            }
        }
        Ok(Err(e)) => Check::warning(
            "printers",
            // The fact only: the error's standard advice is about a print job, and there was none.
            format!(
                "无法列出打印机（{}）",
                e.message.strip_suffix(e.code.advice()).unwrap_or(&e.message).trim_end_matches('。')
            ),
            "只扫码的电脑可以忽略；要打印请确认打印服务（CUPS）已启动，或检查 [printing] cups_server。",
        ),
        Err(_) => Check::warning(
            "printers",
            format!("打印服务 {} 秒内没有应答", PRINTERS_TIMEOUT.as_secs()),
            "只扫码的电脑可以忽略；要打印请检查打印服务（CUPS）。",
        ),
    };
    check.timed(started)
}

/// The `secrets` check: built in (sandbox), sealed on this PC, in the configuration file (warned),
/// or missing.
fn secrets(input: &DoctorInput, counter: Option<&Counter>) -> Check {
    let Some(counter) = counter else {
        return Check::not_tried("secrets", "配置无效");
    };
    if counter.mode == Mode::Sandbox {
        return Check::pass("secrets", "沙箱：使用内置的公开示例凭据");
    }
    if let Some(why) = &counter.secrets_missing {
        return Check::fail(
            "secrets",
            why.clone(),
            "用 yueshang secrets set token、yueshang secrets set password、yueshang secrets set app_secret 保存网关凭据（密文保存在本机）。",
        );
    }
    let in_file = &counter.settings.gateway.secrets_in_file;
    let sealed = match &input.cache {
        // All of them in the file: nothing of the gateway's is in the sealed store to point at.
        Some(Ok(_)) if in_file.len() == SecretName::ALL.len() => String::new(),
        Some(Ok(cache)) => {
            let key = cache.key_info();
            format!("其余密文保存在本机数据库，存储密钥在{}（{}）", key.backend.label(), key.location)
        }
        _ => String::new(),
    };
    if in_file.is_empty() {
        return Check::pass("secrets", sealed.replacen("其余密文", "网关凭据密文", 1));
    }
    let file = input.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "配置文件".to_owned());
    let figure = format!("配置文件中有明文凭据：{}；{sealed}", in_file.join("、"));
    Check::warning(
        "secrets",
        figure.trim_end_matches('；').to_owned(),
        format!(
            "运行 yueshang secrets import --config {file}，把明文凭据移入本机密文存储（配置文件会被改写，不再含凭据）。"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_reads_for_people() {
        assert_eq!(human_bytes(150 * 1024 * 1024), "150 MB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024 + 512 * 1024 * 1024), "3.5 GB");
        assert_eq!(existing_ancestor(Path::new("/definitely/not/here")), PathBuf::from("/"));
    }
}
