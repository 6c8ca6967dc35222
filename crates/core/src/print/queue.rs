//! The print systems: CUPS over IPP on Linux, the Windows spooler; one small interface.
//!
//! Linux, UOS and Kylin print through CUPS: IPP requests built with the `ipp` crate (protocol
//! only) and posted with the core's own `reqwest` (`application/ipp`), so there is one HTTP
//! stack. What goes to the queue is the stamped PDF file itself, never a rendering of it.
//! A job is sent only to a queue that can print it now: CUPS silently accepts jobs into a
//! stopped queue, where a copy would wait unseen while the clerk thinks it printed.
//!
//! Windows: the shell will provide the spooler path (WebView2 `PrintAsync` on the stamped file)
//! behind these same calls; nothing of it lives here.

mod messages;
mod server;

use std::time::Duration;

use ipp::request::IppRequestResponse;
use reqwest::header::CONTENT_TYPE;

use self::messages::QueueStatus;
use self::server::CupsServer;
use crate::config::PrintingSettings;
use crate::error::{Error, ErrorCode, Result};

/// The most copies one print may ask for; a counter never needs more of one license.
const MAX_COPIES: u32 = 99;
/// A print server that does not answer a connection within this is down for the clerk.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Listing and checking queues: small answers.
const QUERY_TIMEOUT: Duration = Duration::from_secs(15);
/// Sending a job: a stamped copy of a few MB to a print server across the hall's network.
const SEND_TIMEOUT: Duration = Duration::from_secs(60);
/// The media type of IPP over HTTP (RFC 8010).
const IPP_MEDIA_TYPE: &str = "application/ipp";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueState {
    Idle,
    Printing,
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterQueue {
    pub name: String,
    pub description: String,
    pub is_default: bool,
    pub state: QueueState,
    pub accepting: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintJob {
    pub printer: String,
    pub job_id: i32,
}

/// The print system of this PC. Linux/UOS/Kylin: CUPS over IPP. (Windows: the shell will
/// provide the WebView2 spooler path later behind the same calls.)
pub struct PrintSystem {
    server: CupsServer,
    http: reqwest::Client,
    /// Who the jobs belong to in the queue (`requesting-user-name`): the logged-in user.
    user: String,
}

/// Windows has no CUPS: its spooler path (WebView2 `ICoreWebView2_16` printing of the stamped
/// file, or PDFium) is not built yet, so a Windows counter is told to save and print the PDF
/// rather than be sent to a print server that is not there. `cfg!` keeps this compiled everywhere.
fn refuse_without_cups() -> Result<()> {
    if cfg!(windows) {
        return Err(Error::with_fact(
            ErrorCode::PrintFailed,
            "本版本在 Windows 上还不能直接打印：请先“另存为 PDF”，再用系统的 PDF 阅读器打印该文件。",
        ));
    }
    Ok(())
}

impl PrintSystem {
    /// The CUPS server of `settings.cups_server`, else of `CUPS_SERVER`, else `localhost:631`.
    pub fn new(settings: &PrintingSettings) -> PrintSystem {
        let environment = std::env::var("CUPS_SERVER").ok();
        let server = CupsServer::resolve(settings.cups_server.as_deref(), environment.as_deref());
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            // IPP goes straight to the print server: a web proxy of the hall must not see it.
            .no_proxy()
            .build()
            .unwrap_or_default();
        PrintSystem { server, http, user: login_name() }
    }

    /// Every queue, the default marked (CUPS-Get-Printers + CUPS-Get-Default).
    pub async fn queues(&self) -> Result<Vec<PrinterQueue>> {
        refuse_without_cups()?;
        let (all, default) = futures::try_join!(self.all_queues(), self.default_queue())?;
        Ok(all.into_iter().map(|status| status.queue).map(|q| mark_default(q, default.as_deref())).collect())
    }

    /// Prints the PDF bytes to `printer` (None: the CUPS default) as `copies` copies and
    /// returns the job CUPS created. Nothing is sent unless the queue can print now.
    pub async fn print(&self, printer: Option<&str>, pdf: &[u8], job_name: &str, copies: u32) -> Result<PrintJob> {
        refuse_without_cups()?;
        check_copies(copies)?;
        check_is_pdf(pdf)?;
        let printer = match printer.map(str::trim).filter(|p| !p.is_empty()) {
            Some(name) => name.to_owned(),
            None => self.default_queue().await?.ok_or_else(|| self.no_default_printer())?,
        };
        let status = self.queue_status(&printer).await?;
        check_can_print(&status)?;
        let job_id = self.send_job(&printer, pdf, job_name, copies).await?;
        tracing::info!(printer = %printer, job_id, copies, bytes = pdf.len(), "print job accepted by CUPS");
        Ok(PrintJob { printer, job_id })
    }

    async fn all_queues(&self) -> Result<Vec<QueueStatus>> {
        let answer = self.exchange(&[], messages::get_printers(&self.user), &[], QUERY_TIMEOUT).await?;
        match answer.header().status_code() {
            status if status.is_success() => Ok(messages::queues(&answer)),
            // CUPS answers "not found" when it has no queue at all.
            ipp::model::StatusCode::ClientErrorNotFound => Ok(Vec::new()),
            _ => Err(self.refused("列出打印机", &answer)),
        }
    }

    async fn default_queue(&self) -> Result<Option<String>> {
        let answer = self.exchange(&[], messages::get_default(&self.user), &[], QUERY_TIMEOUT).await?;
        match answer.header().status_code() {
            status if status.is_success() => Ok(messages::printer_name(&answer)),
            ipp::model::StatusCode::ClientErrorNotFound => Ok(None),
            _ => Err(self.refused("查询默认打印机", &answer)),
        }
    }

    async fn queue_status(&self, printer: &str) -> Result<QueueStatus> {
        let uri = self.printer_uri(printer)?;
        let request = messages::get_printer(&uri, &self.user);
        let answer = self.exchange(&["printers", printer], request, &[], QUERY_TIMEOUT).await?;
        match answer.header().status_code() {
            status if status.is_success() => messages::queues(&answer)
                .into_iter()
                .next()
                .ok_or_else(|| self.unreadable_answer().detail(format!("no printer attributes for {printer}"))),
            ipp::model::StatusCode::ClientErrorNotFound => Err(printer_not_found(printer, self.server.shown())),
            _ => Err(self.refused("查询打印机状态", &answer)),
        }
    }

    async fn send_job(&self, printer: &str, pdf: &[u8], job_name: &str, copies: u32) -> Result<i32> {
        let uri = self.printer_uri(printer)?;
        let request = messages::print_job(&uri, &self.user, job_name, copies);
        let answer = self.exchange(&["printers", printer], request, pdf, SEND_TIMEOUT).await?;
        match answer.header().status_code() {
            status if status.is_success() => messages::job_id(&answer)
                .ok_or_else(|| self.unreadable_answer().detail(format!("Print-Job to {printer} answered no job-id"))),
            ipp::model::StatusCode::ClientErrorNotFound => Err(printer_not_found(printer, self.server.shown())),
            // Stopped or rejecting between our check and the job: the same answer for the clerk.
            ipp::model::StatusCode::ServerErrorNotAcceptingJobs => {
                let why = messages::status_message(&answer).map(|m| format!("（{m}）")).unwrap_or_default();
                Err(Error::with_fact(
                    ErrorCode::PrinterUnavailable,
                    format!("打印机「{printer}」不接收新的打印任务{why}。"),
                ))
            }
            _ => Err(self.refused("打印", &answer)),
        }
    }

    /// Posts one IPP request (and the document after it, if any) and reads the IPP answer.
    async fn exchange(
        &self,
        path: &[&str],
        request: IppRequestResponse,
        document: &[u8],
        timeout: Duration,
    ) -> Result<IppRequestResponse> {
        let url = self.server.http_url(path).map_err(|e| self.bad_address(e))?;
        let mut body = request.to_bytes().to_vec();
        body.extend_from_slice(document);
        let sent = self.http.post(url).header(CONTENT_TYPE, IPP_MEDIA_TYPE).timeout(timeout).body(body).send().await;
        let response = sent.map_err(|e| self.unreachable(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::with_fact(
                ErrorCode::PrintFailed,
                format!("打印服务 CUPS（{}）拒绝了请求（HTTP {}）。", self.server.shown(), status.as_u16()),
            ));
        }
        let bytes = response.bytes().await.map_err(|e| self.unreachable(&e))?;
        messages::parse(bytes.to_vec()).map_err(|e| self.unreadable_answer().detail(e.to_string()))
    }

    fn printer_uri(&self, printer: &str) -> Result<String> {
        self.server.ipp_uri(&["printers", printer]).map_err(|e| self.bad_address(e))
    }

    fn no_default_printer(&self) -> Error {
        Error::with_fact(ErrorCode::NoPrinter, format!("打印服务 CUPS（{}）没有设置默认打印机。", self.server.shown()))
    }

    /// Transport failures are logged by kind only, like the gateway's.
    fn unreachable(&self, err: &reqwest::Error) -> Error {
        let kind = if err.is_timeout() {
            "timeout"
        } else if err.is_connect() {
            "connect"
        } else {
            "transport"
        };
        Error::with_fact(ErrorCode::PrintFailed, format!("连不上打印服务 CUPS（{}）。", self.server.shown()))
            .detail(format!("CUPS {} {kind} error", self.server.shown()))
    }

    fn unreadable_answer(&self) -> Error {
        Error::with_fact(ErrorCode::PrintFailed, format!("打印服务 CUPS（{}）的回答无法识别。", self.server.shown()))
    }

    fn bad_address(&self, problem: String) -> Error {
        Error::with_fact(ErrorCode::PrintFailed, format!("打印服务地址「{}」无效。", self.server.shown()))
            .detail(problem)
    }

    /// CUPS said no for a reason not of its own category (authentication, policy, bad request).
    fn refused(&self, action: &str, answer: &IppRequestResponse) -> Error {
        let status = answer.header().status_code();
        let words = messages::status_message(answer).map(|m| format!("：{m}")).unwrap_or_default();
        Error::with_fact(
            ErrorCode::PrintFailed,
            format!("打印服务 CUPS（{}）拒绝{action}{words}。", self.server.shown()),
        )
        .detail(format!("IPP status {status:?}"))
    }
}

fn mark_default(mut queue: PrinterQueue, default: Option<&str>) -> PrinterQueue {
    queue.is_default = default == Some(queue.name.as_str());
    queue
}

fn check_copies(copies: u32) -> Result<()> {
    if (1..=MAX_COPIES).contains(&copies) {
        return Ok(());
    }
    Err(Error::with_fact(
        ErrorCode::PrintFailed,
        format!("打印份数 {copies} 不在 1 到 {MAX_COPIES} 之间，没有发送打印任务。"),
    ))
}

fn check_is_pdf(document: &[u8]) -> Result<()> {
    // The queue would take anything; a non-PDF would come out as pages of garbage or nothing.
    if document.starts_with(b"%PDF-") {
        return Ok(());
    }
    Err(Error::with_fact(ErrorCode::FileUnreadable, "要打印的副本不是 PDF 文件，没有发送打印任务。"))
}

/// A stopped queue or one that refuses jobs would swallow the copy: refuse before sending.
fn check_can_print(status: &QueueStatus) -> Result<()> {
    let queue = &status.queue;
    let why = reason_text(status);
    if queue.state == QueueState::Stopped {
        return Err(Error::with_fact(ErrorCode::PrinterUnavailable, format!("打印机「{}」已暂停{why}。", queue.name)));
    }
    if !queue.accepting {
        return Err(Error::with_fact(
            ErrorCode::PrinterUnavailable,
            format!("打印机「{}」不接收新的打印任务{why}。", queue.name),
        ));
    }
    Ok(())
}

/// What CUPS says about the queue: its state message (the reason IT gave), else its state
/// reasons other than the plain "paused", in brackets; empty when it says nothing.
fn reason_text(status: &QueueStatus) -> String {
    let reasons: Vec<&str> = status.reasons.iter().map(String::as_str).filter(|r| *r != "paused").collect();
    match (&status.message, reasons.is_empty()) {
        (Some(message), _) => format!("（原因：{message}）"),
        (None, false) => format!("（原因：{}）", reasons.join("、")),
        (None, true) => String::new(),
    }
}

fn printer_not_found(printer: &str, server: &str) -> Error {
    Error::with_fact(ErrorCode::PrinterNotFound, format!("打印服务 CUPS（{server}）中没有名为「{printer}」的打印机。"))
}

/// The logged-in user's name for the queue listing; CUPS needs some name, not a true one.
fn login_name() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .into_iter()
        .filter_map(|var| std::env::var(var).ok())
        .map(|name| name.trim().to_owned())
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| "yueshang".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: QueueState, accepting: bool, message: Option<&str>, reasons: &[&str]) -> QueueStatus {
        let queue =
            PrinterQueue { name: "前台".into(), description: "前台".into(), is_default: false, state, accepting };
        QueueStatus {
            queue,
            message: message.map(Into::into),
            reasons: reasons.iter().map(|r| r.to_string()).collect(),
        }
    }

    #[test]
    fn copies_outside_one_to_ninety_nine_are_refused_before_anything_is_sent() {
        assert!(check_copies(1).is_ok() && check_copies(99).is_ok());
        assert_eq!(check_copies(0).unwrap_err().code, ErrorCode::PrintFailed);
        assert_eq!(check_copies(100).unwrap_err().code, ErrorCode::PrintFailed);
    }

    #[test]
    fn only_a_pdf_is_sent() {
        assert!(check_is_pdf(b"%PDF-1.7\n").is_ok());
        assert_eq!(check_is_pdf(b"\xff\xd8\xff").unwrap_err().code, ErrorCode::FileUnreadable);
    }

    #[test]
    fn a_stopped_or_rejecting_queue_is_unavailable_with_the_reason_cups_gives() {
        let stopped = check_can_print(&status(QueueState::Stopped, true, Some("缺纸"), &["paused"])).unwrap_err();
        assert_eq!(stopped.code, ErrorCode::PrinterUnavailable);
        assert!(stopped.message.starts_with("打印机「前台」已暂停（原因：缺纸）。"), "{}", stopped.message);
        let plain = check_can_print(&status(QueueState::Stopped, true, None, &["paused"])).unwrap_err();
        assert!(plain.message.starts_with("打印机「前台」已暂停。"), "{}", plain.message);
        let rejecting = check_can_print(&status(QueueState::Idle, false, None, &["media-empty"])).unwrap_err();
        assert!(rejecting.message.starts_with("打印机「前台」不接收新的打印任务（原因：media-empty）。"));
        assert!(check_can_print(&status(QueueState::Printing, true, None, &[])).is_ok());
    }
}
