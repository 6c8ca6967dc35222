//! The outbox of handling records over the sandbox: sent at once, resent after transient faults
//! with a growing backoff (injected clock and jitter, no sleeping), a lost answer resent as a
//! duplicate, a refusal kept for a person, a restart with a record queued — each ending with
//! exactly one record at the sandbox and nothing left queued.

use chrono::{DateTime, FixedOffset};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use yueshang_core::ErrorCode;
use yueshang_core::cache::Cache;
use yueshang_core::clock::{Clock, FixedClock, RandomNonces};
use yueshang_core::domain::BizNum;
use yueshang_core::outbox::{Outbox, OutboxRecord, OutboxSummary, RecordDraft, RecordState, RecordStatus};
use yueshang_core::station::Station;
use yueshang_gateway_sim::samples::{self, Consent, FileKind};
use yueshang_gateway_sim::{SandboxGateway, SimOptions, SubmitRecord};

/// The jitter every test uses: the middle, so each wait is ¾ of its ceiling.
const JITTER: f64 = 0.5;

struct Setup {
    sim: SandboxGateway,
    clock: Arc<FixedClock>,
    station: Arc<Station>,
    outbox: Outbox,
    /// The handling the scan recorded.
    biz_num: BizNum,
    /// Holds the on-disk cache, so a "restarted" station can open the same file.
    dir: tempfile::TempDir,
}

fn cache_file(dir: &Path) -> std::path::PathBuf {
    dir.join("cache.sqlite3")
}

/// A granted enterprise whose few licenses are all issued PDFs.
fn normal_uscc() -> String {
    samples::enterprises()
        .into_iter()
        .find(|e| {
            e.consent == Consent::Granted
                && (2..=4).contains(&e.licenses.len())
                && e.licenses.iter().all(|l| l.license.license_status == "ISSUED" && l.file == FileKind::Pdf)
        })
        .expect("a normal sample enterprise")
        .uscc
}

/// A station on the cache file in `dir`, with the shared fixed clock.
fn open_station(sim: &SandboxGateway, dir: &Path, clock: Arc<FixedClock>) -> Arc<Station> {
    let mut settings = yueshang_gateway_sim::sandbox_settings(&sim.base_url());
    settings.tuning.request_timeout = Duration::from_millis(800);
    let cache = Arc::new(Cache::open(&cache_file(dir), &crate::keys_beside(&cache_file(dir))).unwrap());
    Arc::new(Station::new(settings, cache, clock, Arc::new(RandomNonces)).unwrap())
}

fn outbox_of(station: &Arc<Station>) -> Outbox {
    Outbox::new(station.clone(), Arc::new(|| JITTER))
}

/// A sandbox, a station whose clock stands still at the real time (the gateway checks the
/// signature's time), and one scan of a normal enterprise so the cache knows the handling.
async fn setup() -> Setup {
    let sim = SandboxGateway::start("127.0.0.1:0".parse().unwrap(), SimOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::at(chrono::Utc::now()));
    let station = open_station(&sim, dir.path(), clock.clone());
    let payload = sim.control().issue_code(&normal_uscc(), None).unwrap().payload;
    let biz_num = station.next_biz_num().unwrap();
    let outcome = station.scan(&payload, None, &biz_num, &|_| {}).await.unwrap();
    assert!(outcome.licenses.iter().all(|l| l.error.is_none()));
    Setup { outbox: outbox_of(&station), sim, clock, station, biz_num, dir }
}

impl Setup {
    fn faults(&self, specs: &[&str]) {
        self.sim.control().set_faults(specs.iter().map(|s| s.parse().unwrap()).collect());
    }

    fn draft(&self, status: RecordStatus, reason: Option<&str>) -> RecordDraft {
        RecordDraft {
            biz_num: self.biz_num.clone(),
            status,
            reason: reason.map(str::to_owned),
            used_license_codes: self.outbox.usable_licenses(&self.biz_num).unwrap(),
        }
    }

    fn enqueue_done(&self) -> OutboxRecord {
        self.outbox.enqueue(self.draft(RecordStatus::Done, None)).unwrap()
    }

    fn submits(&self) -> u64 {
        self.sim.control().stats().get("submit").copied().unwrap_or(0)
    }

    fn now(&self) -> DateTime<FixedOffset> {
        self.clock.now_china()
    }

    /// Moves the clock to the moment the record is due.
    fn advance_to(&self, at: DateTime<FixedOffset>) {
        let ms = (at - self.now()).num_milliseconds().max(0);
        self.clock.advance_secs((ms + 999) / 1000);
    }

    /// The sandbox's records of this handling.
    fn received(&self) -> Vec<SubmitRecord> {
        let biz_num = self.biz_num.as_str();
        self.sim.control().records().into_iter().filter(|r| r.request.biz_num == biz_num).collect()
    }

    /// The `(kind, outcome, error_code)` of every outbox event of this handling, in order.
    fn outbox_audit(&self) -> Vec<(String, String, Option<String>)> {
        self.station
            .cache()
            .audit_events()
            .unwrap()
            .into_iter()
            .filter(|e| e.kind.starts_with("submit") && e.biz_num.as_deref() == Some(self.biz_num.as_str()))
            .map(|e| (e.kind, e.outcome, e.error_code))
            .collect()
    }

    /// How every case ends: one record at the sandbox, sent here with its receipt, nothing waiting.
    fn assert_delivered_once(&self, duplicate: bool) -> OutboxRecord {
        let received = self.received();
        assert_eq!(received.len(), 1, "exactly one record at the sandbox");
        let record = self.outbox.record(self.biz_num.as_str()).unwrap().unwrap();
        assert_eq!(record.state, RecordState::Sent);
        assert_eq!(record.record_id.as_deref(), Some(received[0].record_id.as_str()));
        assert_eq!(record.duplicate, duplicate);
        assert!(record.sent_at.is_some());
        assert_eq!(self.outbox.summary().unwrap(), OutboxSummary::default());
        record
    }
}

fn step(kind: &str, outcome: &str, code: Option<&str>) -> (String, String, Option<String>) {
    (kind.to_owned(), outcome.to_owned(), code.map(str::to_owned))
}

#[tokio::test]
async fn a_record_is_accepted_at_once_with_what_the_scan_recorded() {
    let s = setup().await;
    let queued = s.enqueue_done();
    assert_eq!((queued.state, queued.attempts), (RecordState::Queued, 0));
    assert_eq!(queued.submitted_at, s.now());
    assert!(!queued.used_license_codes.is_empty());
    assert_eq!(s.outbox.summary().unwrap(), OutboxSummary { waiting: 1, refused: 0 });

    s.clock.advance_secs(7);
    let sent = s.outbox.send(s.biz_num.as_str()).await.unwrap();
    assert_eq!((sent.state, sent.attempts, sent.duplicate), (RecordState::Sent, 1, false));
    assert_eq!(sent.sent_at, Some(s.now()));
    s.assert_delivered_once(false);

    let request = &s.received()[0].request;
    assert_eq!(request.status, "DONE");
    assert_eq!(request.reason, None);
    assert_eq!(request.auth_id, queued.auth_id);
    assert_eq!(request.applicant.uscc, normal_uscc());
    assert_eq!(request.applicant.name, queued.enterprise_name);
    assert_eq!(request.service_item_code, s.station.settings().service_items[0].code);
    assert_eq!(request.used_license_codes, queued.used_license_codes);
    assert_eq!(request.operator.account, s.station.settings().operator.account);
    assert_eq!(request.submitted_at, queued.submitted_at.to_rfc3339(), "the clerk's time, not the send's");
    assert_eq!(s.outbox_audit(), [step("submit_queued", "info", None), step("submit", "ok", None)]);

    assert_eq!(s.outbox.list().unwrap(), std::slice::from_ref(&sent), "today's sent records are listed");
    let err = s.outbox.enqueue(s.draft(RecordStatus::Done, None)).unwrap_err();
    assert_eq!(err.code, ErrorCode::RecordInvalid, "a sent record is never replaced");
    assert!(err.message.contains("已上报"), "{}", err.message);
    assert_eq!(s.outbox.send(s.biz_num.as_str()).await.unwrap(), sent, "a sent record is not sent again");
    assert_eq!(s.submits(), 1);
}

#[tokio::test]
async fn two_unavailable_answers_then_success_with_the_backoff_respected() {
    let s = setup().await;
    s.faults(&["submit:status=503*2"]);
    s.enqueue_done();

    let first = s.outbox.send(s.biz_num.as_str()).await.unwrap();
    assert_eq!((first.state, first.attempts), (RecordState::Queued, 1));
    assert_eq!(first.last_error.as_ref().map(|e| e.0), Some(ErrorCode::GatewayUnavailable));
    assert!(first.last_error.as_ref().unwrap().1.contains("网关"));
    assert_eq!(first.next_attempt_at - s.now(), chrono::Duration::milliseconds(3750));

    assert!(s.outbox.send_due().await.unwrap().is_empty(), "not due yet");
    assert_eq!(s.submits(), 1, "nothing sent before its time");

    s.advance_to(first.next_attempt_at);
    let second = s.outbox.send_due().await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!((second[0].state, second[0].attempts), (RecordState::Queued, 2));
    assert_eq!(second[0].next_attempt_at - s.now(), chrono::Duration::milliseconds(7500));

    s.advance_to(second[0].next_attempt_at);
    let third = s.outbox.send_due().await.unwrap();
    assert_eq!((third[0].state, third[0].attempts), (RecordState::Sent, 3));
    assert_eq!(third[0].last_error, None);
    s.assert_delivered_once(false);
    assert_eq!(
        s.outbox_audit(),
        [
            step("submit_queued", "info", None),
            step("submit", "failed", Some("GATEWAY_UNAVAILABLE")),
            step("submit", "failed", Some("GATEWAY_UNAVAILABLE")),
            step("submit", "ok", None),
        ]
    );
}

#[tokio::test]
async fn an_answer_lost_after_the_gateway_stored_the_record_is_resent_as_a_duplicate() {
    let s = setup().await;
    s.faults(&["submit:drop-after*1"]);
    s.enqueue_done();

    let lost = s.outbox.send(s.biz_num.as_str()).await.unwrap();
    assert_eq!(lost.state, RecordState::Queued, "no answer: the counter cannot know it arrived");
    assert_eq!(lost.last_error.as_ref().map(|e| e.0), Some(ErrorCode::GatewayUnavailable));
    assert_eq!(s.received().len(), 1, "the sandbox stored it before the connection dropped");

    let resent = s.outbox.send_all().await.unwrap();
    assert_eq!(resent.len(), 1);
    assert_eq!((resent[0].state, resent[0].attempts), (RecordState::Sent, 2));
    s.assert_delivered_once(true);
    assert_eq!(s.submits(), 2);
    assert_eq!(
        s.outbox_audit(),
        [
            step("submit_queued", "info", None),
            step("submit", "failed", Some("GATEWAY_UNAVAILABLE")),
            step("submit", "ok", None),
        ]
    );
}

#[tokio::test]
async fn a_gateway_down_for_a_while_spaces_the_resends_out_until_it_is_back() {
    let s = setup().await;
    s.faults(&["submit:status=503"]);
    s.enqueue_done();

    // 5 s doubling per failure, ¾ of it with the jitter in the middle; capped at 5 min.
    let mut waits = Vec::new();
    let mut record = s.outbox.send(s.biz_num.as_str()).await.unwrap();
    for _ in 0..4 {
        waits.push((record.next_attempt_at - s.now()).num_milliseconds());
        assert!(s.outbox.send_due().await.unwrap().is_empty(), "not before its time");
        s.advance_to(record.next_attempt_at);
        record = s.outbox.send_due().await.unwrap().pop().expect("due now");
        assert_eq!(record.state, RecordState::Queued);
    }
    waits.push((record.next_attempt_at - s.now()).num_milliseconds());
    assert_eq!(waits, [3_750, 7_500, 15_000, 30_000, 60_000]);
    assert_eq!(record.attempts, 5);
    assert_eq!(s.submits(), 5);
    assert_eq!(s.outbox.summary().unwrap(), OutboxSummary { waiting: 1, refused: 0 });
    assert!(s.received().is_empty());

    s.sim.control().clear_faults();
    s.advance_to(record.next_attempt_at);
    let sent = s.outbox.send_due().await.unwrap();
    assert_eq!((sent[0].state, sent[0].attempts), (RecordState::Sent, 6));
    s.assert_delivered_once(false);
    let audit = s.outbox_audit();
    assert_eq!(audit.iter().filter(|e| e.1 == "failed").count(), 5);
    assert_eq!(audit.last(), Some(&step("submit", "ok", None)));
}

#[tokio::test]
async fn a_refusal_retrying_cannot_fix_waits_for_a_person_then_goes_through() {
    let s = setup().await;
    // The gateway refuses the credentials: resending unchanged would be refused again.
    s.faults(&["submit:sig-reject*1"]);
    s.enqueue_done();

    let refused = s.outbox.send(s.biz_num.as_str()).await.unwrap();
    assert_eq!(refused.state, RecordState::Refused);
    let (code, message) = refused.last_error.clone().unwrap();
    assert_eq!(code, ErrorCode::GatewayAuthRejected);
    assert!(message.contains("IT"), "{message}");
    assert_eq!(s.outbox.summary().unwrap(), OutboxSummary { waiting: 0, refused: 1 });
    assert_eq!(s.outbox.list().unwrap(), std::slice::from_ref(&refused), "需处理 is listed");

    // Long past any backoff, within the gateway's 180 s signature window.
    s.clock.advance_secs(120);
    assert!(s.outbox.send_due().await.unwrap().is_empty(), "a refused record is not resent on its own");
    assert!(s.outbox.send_all().await.unwrap().is_empty());
    assert_eq!(s.submits(), 1);

    let again = s.outbox.retry_refused(s.biz_num.as_str()).unwrap();
    assert_eq!((again.state, again.attempts), (RecordState::Queued, 0));
    assert_eq!(again.next_attempt_at, s.now());
    let sent = s.outbox.send_due().await.unwrap();
    assert_eq!(sent[0].state, RecordState::Sent);
    s.assert_delivered_once(false);
    assert_eq!(
        s.outbox.retry_refused(s.biz_num.as_str()).unwrap_err().code,
        ErrorCode::RecordInvalid,
        "only a refused record can be given another try"
    );
    assert_eq!(
        s.outbox_audit(),
        [
            step("submit_queued", "info", None),
            step("submit", "failed", Some("GATEWAY_AUTH_REJECTED")),
            step("submit_queued", "info", None),
            step("submit", "ok", None),
        ]
    );
}

#[tokio::test]
async fn a_queued_or_refused_record_can_be_corrected_before_it_is_sent() {
    let s = setup().await;
    s.faults(&["submit:status=503*1"]);
    s.enqueue_done();
    assert_eq!(s.outbox.send(s.biz_num.as_str()).await.unwrap().state, RecordState::Queued);

    s.clock.advance_secs(1);
    let corrected = s.outbox.enqueue(s.draft(RecordStatus::Rejected, Some("  材料不齐全，请补正后再申请 "))).unwrap();
    assert_eq!((corrected.state, corrected.attempts), (RecordState::Queued, 0));
    assert_eq!(corrected.reason.as_deref(), Some("材料不齐全，请补正后再申请"));
    assert_eq!(corrected.submitted_at, s.now());
    assert_eq!(s.outbox.list().unwrap().len(), 1, "replaced, not added");

    s.outbox.send(s.biz_num.as_str()).await.unwrap();
    s.assert_delivered_once(false);
    let request = &s.received()[0].request;
    assert_eq!(request.status, "REJECTED");
    assert_eq!(request.reason.as_deref(), Some("材料不齐全，请补正后再申请"));
}

#[tokio::test]
async fn invalid_records_are_refused_locally_and_leave_no_trace() {
    let s = setup().await;
    let audit_before = s.station.cache().audit_events().unwrap().len();

    for reason in [None, Some(""), Some("   ")] {
        let err = s.outbox.enqueue(s.draft(RecordStatus::Rejected, reason)).unwrap_err();
        assert_eq!(err.code, ErrorCode::RecordInvalid, "{reason:?}");
        assert!(err.message.contains("理由"), "{}", err.message);
    }

    let unknown =
        RecordDraft { biz_num: BizNum::from_existing("YS-NOPE-X-20261128-0001"), ..s.draft(RecordStatus::Done, None) };
    let err = s.outbox.enqueue(unknown).unwrap_err();
    assert_eq!(err.code, ErrorCode::BizNumUnknown);
    assert!(err.message.contains("YS-NOPE-X-20261128-0001"), "{}", err.message);
    assert_eq!(s.outbox.usable_licenses(&BizNum::from_existing("YS-NOPE")).unwrap_err().code, ErrorCode::BizNumUnknown);

    let foreign =
        RecordDraft { used_license_codes: vec!["NOT-AUTHORIZED-0001".into()], ..s.draft(RecordStatus::Done, None) };
    let err = s.outbox.enqueue(foreign).unwrap_err();
    assert_eq!(err.code, ErrorCode::RecordInvalid);
    assert!(err.message.contains("NOT-AUTHORIZED-0001"), "{}", err.message);

    assert_eq!(s.outbox.send(s.biz_num.as_str()).await.unwrap_err().code, ErrorCode::BizNumUnknown);
    assert_eq!(s.outbox.record(s.biz_num.as_str()).unwrap(), None);
    assert!(s.outbox.list().unwrap().is_empty());
    assert_eq!(s.outbox.summary().unwrap(), OutboxSummary::default());
    assert_eq!(s.station.cache().audit_events().unwrap().len(), audit_before, "nothing audited");
    assert_eq!(s.submits(), 0, "nothing reached the network");
    assert!(s.sim.control().records().is_empty());
}

#[tokio::test]
async fn a_record_queued_when_the_app_was_killed_is_sent_once_after_the_restart() {
    let s = setup().await;
    s.faults(&["submit:status=503"]);
    s.enqueue_done();
    assert_eq!(s.outbox.send(s.biz_num.as_str()).await.unwrap().state, RecordState::Queued);
    let Setup { sim, clock, station, outbox, biz_num, dir } = s;
    drop(outbox);
    drop(station);

    let station = open_station(&sim, dir.path(), clock.clone());
    let s = Setup { outbox: outbox_of(&station), sim, clock, station, biz_num, dir };
    let waiting = s.outbox.record(s.biz_num.as_str()).unwrap().unwrap();
    assert_eq!((waiting.state, waiting.attempts), (RecordState::Queued, 1));
    s.sim.control().clear_faults();
    s.advance_to(waiting.next_attempt_at);
    let sent = s.outbox.send_due().await.unwrap();
    assert_eq!(sent.len(), 1);
    s.assert_delivered_once(false);
    assert_eq!(s.received()[0].request.submitted_at, waiting.submitted_at.to_rfc3339());
}

#[tokio::test]
async fn the_background_sender_sends_when_woken_and_reports_the_count() {
    let s = setup().await;
    let outbox = Arc::new(s.outbox);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let wake = Arc::new(tokio::sync::Notify::new());
    let sender = tokio::spawn(outbox.clone().run(
        wake.clone(),
        Arc::new(move |summary| {
            let _ = tx.send(summary);
        }),
    ));
    assert_eq!(next_summary(&mut rx).await, OutboxSummary::default(), "the count is reported at the start");

    let draft = RecordDraft {
        biz_num: s.biz_num.clone(),
        status: RecordStatus::Accepted,
        reason: None,
        used_license_codes: outbox.usable_licenses(&s.biz_num).unwrap(),
    };
    outbox.enqueue(draft).unwrap();
    wake.notify_one();
    assert_eq!(next_summary(&mut rx).await, OutboxSummary::default(), "sent: nothing waits");
    sender.abort();
    assert_eq!(s.sim.control().records().len(), 1);
    assert_eq!(outbox.record(s.biz_num.as_str()).unwrap().unwrap().state, RecordState::Sent);
}

/// The next summary the background sender reports; the bound only keeps a broken sender from hanging the test.
async fn next_summary(rx: &mut tokio::sync::mpsc::UnboundedReceiver<OutboxSummary>) -> OutboxSummary {
    tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.expect("a summary in time").expect("sender alive")
}
