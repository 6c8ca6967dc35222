//! Printing for real, no fake printer: the core's CUPS client against a private scheduler the
//! test starts (`yueshang_testkit::PrintLab`), with a cups-pdf queue (Ghostscript rewrites the
//! PDF; the QR is read back from a rendering) and an ippeveprinter that keeps the exact bytes.

use std::net::TcpListener;
use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset};
use yueshang_core::config::PrintingSettings;
use yueshang_core::error::ErrorCode;
use yueshang_core::print::font::StampFont;
use yueshang_core::print::queue::{PrintSystem, QueueState};
use yueshang_core::print::stamp::{StampText, stamp};
use yueshang_gateway_sim::documents::{self, Stamp};
use yueshang_gateway_sim::samples::{self, FileKind};
use yueshang_testkit::{JobState, PrintLab, qr_codes_on_first_page};

const SERIAL: &str = "P-4401061-A03-20261129-0001";
const JOB_NAME: &str = "营业执照 用证副本 P-4401061-A03-20261129-0001";

fn printing_via(server: String) -> PrintSystem {
    PrintSystem::new(&PrintingSettings { cups_server: Some(server), ..PrintingSettings::default() })
}

fn china(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).unwrap()
}

/// A stamped copy of the first sample license, its footer QR holding [`SERIAL`]; made once.
fn stamped_copy() -> &'static [u8] {
    static COPY: OnceLock<Vec<u8>> = OnceLock::new();
    COPY.get_or_init(|| {
        let font = StampFont::load(None).unwrap_or_else(|e| panic!("{e} (apt-get install fonts-wqy-microhei)"));
        let license = samples::enterprises()
            .into_iter()
            .flat_map(|e| e.licenses)
            .find(|l| l.file == FileKind::Pdf)
            .expect("a sample license with a PDF")
            .license;
        let issued = Stamp {
            use_cause: "食品经营许可（新办）申请材料核验",
            stamped_at: china("2026-11-29T10:02:03+08:00"),
            hall: "广州市天河区政务服务中心",
        };
        let original = documents::annotated_pdf(&license, &issued).expect("the sample's PDF");
        let text = StampText {
            item_name: "食品经营许可（新办）".to_owned(),
            hall_name: "广州市天河区政务服务中心".to_owned(),
            counter: "A03".to_owned(),
            clerk_name: "王小丽".to_owned(),
            biz_num: "4401062026112900001".to_owned(),
            made_at: china("2026-11-29T10:05:00+08:00"),
            serial: SERIAL.to_owned(),
            checked_at: china("2026-11-29T10:04:00+08:00"),
            check_fresh: true,
        };
        stamp(&original, "application/pdf", &text, &font).expect("stamping the sample").pdf
    })
}

#[tokio::test]
async fn the_queue_list_marks_the_default_and_a_stopped_queue() {
    let lab = PrintLab::start();
    lab.add_pdf_queue("hall_pdf");
    lab.add_pdf_queue("hall_paused");
    lab.set_default("hall_pdf");
    lab.stop_queue("hall_paused");

    let mut queues = printing_via(lab.server()).queues().await.unwrap();
    queues.sort_by(|a, b| a.name.cmp(&b.name));

    let names: Vec<&str> = queues.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names, ["hall_paused", "hall_pdf"]);
    let (paused, pdf) = (&queues[0], &queues[1]);
    assert!(pdf.is_default && pdf.accepting && pdf.state == QueueState::Idle, "{pdf:?}");
    assert!(!paused.is_default && paused.state == QueueState::Stopped, "{paused:?}");
}

#[tokio::test]
async fn the_exact_printer_receives_the_very_bytes_sent_and_the_copies_asked() {
    let lab = PrintLab::start();
    lab.add_exact_queue("exact");

    let job = printing_via(lab.server()).print(Some("exact"), stamped_copy(), JOB_NAME, 3).await.unwrap();

    assert_eq!(job.printer, "exact");
    let received = std::fs::read(lab.exact_output("exact", job.job_id)).unwrap();
    assert!(
        received == stamped_copy(),
        "sent {} bytes, the printer kept {} different ones",
        stamped_copy().len(),
        received.len()
    );
    assert_eq!(lab.job_attribute(job.job_id, "copies").as_deref(), Some("3"));
    assert_eq!(lab.job_attribute(job.job_id, "job-name").as_deref(), Some(JOB_NAME));
    assert_eq!(lab.job_attribute(job.job_id, "document-format").as_deref(), Some("application/pdf"));
}

#[tokio::test]
async fn a_copy_printed_to_the_default_cups_pdf_queue_keeps_its_serial_qr() {
    let lab = PrintLab::start();
    lab.add_pdf_queue("hall_pdf");
    lab.set_default("hall_pdf");

    let job = printing_via(lab.server()).print(None, stamped_copy(), JOB_NAME, 1).await.unwrap();

    assert_eq!(job.printer, "hall_pdf");
    let output = lab.pdf_output(job.job_id);
    assert_eq!(qr_codes_on_first_page(&output), [SERIAL], "QR codes on page 1 of {}", output.display());
}

#[tokio::test]
async fn a_stopped_or_rejecting_queue_is_refused_and_gets_no_job() {
    let lab = PrintLab::start();
    lab.add_pdf_queue("paused");
    lab.stop_queue_because("paused", "缺纸");
    lab.add_pdf_queue("closed");
    lab.reject_jobs("closed");
    let printing = printing_via(lab.server());

    let stopped = printing.print(Some("paused"), stamped_copy(), JOB_NAME, 1).await.unwrap_err();
    assert_eq!(stopped.code, ErrorCode::PrinterUnavailable);
    assert!(stopped.message.starts_with("打印机「paused」已暂停（原因：缺纸）。"), "{}", stopped.message);

    let rejecting = printing.print(Some("closed"), stamped_copy(), JOB_NAME, 1).await.unwrap_err();
    assert_eq!(rejecting.code, ErrorCode::PrinterUnavailable);
    assert!(rejecting.message.contains("打印机「closed」不接收新的打印任务"), "{}", rejecting.message);

    let created: Vec<(i32, JobState)> = ["paused", "closed"].iter().flat_map(|q| lab.jobs(q)).collect();
    assert!(created.is_empty(), "jobs were created: {created:?}");
}

#[tokio::test]
async fn a_missing_printer_is_named() {
    let lab = PrintLab::start();
    lab.add_pdf_queue("hall_pdf");

    let err = printing_via(lab.server()).print(Some("no_such_queue"), stamped_copy(), JOB_NAME, 1).await.unwrap_err();

    assert_eq!(err.code, ErrorCode::PrinterNotFound);
    assert!(err.message.contains("「no_such_queue」"), "{}", err.message);
}

#[tokio::test]
async fn no_queue_and_no_default_is_no_printer() {
    let lab = PrintLab::start();
    let printing = printing_via(lab.server());

    assert_eq!(printing.queues().await.unwrap(), []);
    let err = printing.print(None, stamped_copy(), JOB_NAME, 1).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NoPrinter);
}

#[tokio::test]
async fn an_unreachable_cups_is_a_print_failure_naming_the_server() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let printing = printing_via(closed.to_string());

    let listing = printing.queues().await.unwrap_err();
    assert_eq!(listing.code, ErrorCode::PrintFailed);
    assert!(listing.message.contains(&closed.to_string()), "{}", listing.message);
    let print = printing.print(Some("hall_pdf"), stamped_copy(), JOB_NAME, 1).await.unwrap_err();
    assert_eq!(print.code, ErrorCode::PrintFailed);
}
