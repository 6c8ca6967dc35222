//! The window's commands: each parses its input, calls one function of the core (or of the
//! sandbox in sandbox mode) and maps the answer to a DTO.

use crate::case_dto::{CopyDto, OutboxStatusDto, PrintedDto, PrinterDto, PrintingDto, RecordDto, SavedDto};
use crate::dto::{
    AppError, CounterInfo, EntryDto, IssuedCodeDto, NextCustomer, OutcomeDto, ProgressDto, SandboxEnterprise,
    ScanProgress, ScanResult,
};
use crate::launch::{AppState, Counter};
use crate::shift_dto::{AboutInfo, SandboxAccountDto, SignInInfo, SignedInDto, StorageKeyDto, path_text};
use base64::Engine as _;
use std::path::PathBuf;
use std::sync::Arc;
use tauri::{AppHandle, Emitter, State};
use yueshang_core::config::Mode;
use yueshang_core::desk::SharedObserver;
use yueshang_core::domain::Entry;
use yueshang_core::outbox::RecordStatus;
use yueshang_core::{Error, ErrorCode};
use yueshang_gateway_sim::SANDBOX_ACCOUNTS;
use yueshang_gateway_sim::SandboxGateway;

/// The event that carries scan progress to the window.
const SCAN_PROGRESS: &str = "scan-progress";
const MAIN_WINDOW: &str = "main";

type Answer<T> = Result<T, AppError>;

#[tauri::command]
pub(crate) fn counter_info(state: State<'_, AppState>) -> Answer<CounterInfo> {
    let counter = state.counter()?;
    let station = counter.desk.station();
    let copies = counter.desk.copies();
    let printing = PrintingDto::new(&station.settings().printing, copies.save_dir().as_deref(), copies.last_choice());
    let accounts = counter.desk.accounts();
    let locked = accounts.locked();
    let sign_in = SignInInfo {
        required: accounts.required()?,
        user: accounts.current().filter(|_| locked.is_none()).as_ref().map(SignedInDto::from),
        locked: locked.as_ref().map(SignedInDto::from),
        sandbox_accounts: match counter.mode {
            Mode::Sandbox => SANDBOX_ACCOUNTS.iter().map(SandboxAccountDto::from).collect(),
            Mode::Gateway => Vec::new(),
        },
    };
    let about = AboutInfo {
        version: env!("CARGO_PKG_VERSION"),
        key_fingerprint: counter.about.key_fingerprint.clone(),
        data_dir: path_text(&counter.about.data_dir),
        config_path: counter.about.config_path.as_deref().map(path_text),
        storage_key: StorageKeyDto::from(&counter.about.storage_key),
        plain_secrets: counter.about.secrets_in_file.clone(),
    };
    Ok(CounterInfo::new(
        counter.mode,
        station.settings(),
        &station.operator(),
        &counter.desk.biz_num(),
        (printing, outbox_status_of(counter)?),
        (sign_in, about),
        counter.window,
    )
    .with_hall_service(counter.hall.as_ref().map(|h| h.client.url().as_str())))
}

/// Runs a scan for the current customer; progress goes out as "scan-progress" events tagged
/// with the window's `scan_id`.
#[tauri::command]
pub(crate) async fn scan(
    app: AppHandle,
    state: State<'_, AppState>,
    scan_id: u64,
    payload: String,
    item_code: String,
) -> Answer<ScanResult> {
    let counter = state.counter()?;
    let observe = progress_to_window(app, scan_id, counter.desk.station().today());
    let outcome = counter.desk.scan(payload, Some(item_code), observe).await?;
    Ok(ScanResult::new(&outcome))
}

/// What a line the clerk typed or scanned is: a 粤商码 to scan, or a USCC to look up on a ground
/// (`USCC_INVALID` naming the position of a mistake, `CODE_INVALID` for neither). Nothing goes out.
#[tauri::command]
pub(crate) fn read_entry(text: String) -> Answer<EntryDto> {
    Ok(match Entry::read(&text)? {
        Entry::Code(_) => EntryDto { kind: "code", uscc: None },
        Entry::Holder(uscc) => EntryDto { kind: "uscc", uscc: Some(uscc.as_str().to_owned()) },
    })
}

/// Looks up the licenses of an enterprise by its USCC on a legal ground (依职能用证), reporting
/// "scan-progress" events and answering exactly as `scan` does.
#[tauri::command]
pub(crate) async fn lookup(
    app: AppHandle,
    state: State<'_, AppState>,
    scan_id: u64,
    uscc: String,
    ground: String,
    item_code: String,
) -> Answer<ScanResult> {
    let counter = state.counter()?;
    let Entry::Holder(uscc) = Entry::read(&uscc)? else {
        return Err(Error::with_fact(ErrorCode::UsccInvalid, "查询依据的不是统一社会信用代码。").into());
    };
    let observe = progress_to_window(app, scan_id, counter.desk.station().today());
    let outcome = counter.desk.lookup(uscc, ground, Some(item_code), observe).await?;
    Ok(ScanResult::new(&outcome))
}

/// Forwards a scan's or a lookup's events to the window, tagged with the window's `scan_id`.
fn progress_to_window(app: AppHandle, scan_id: u64, today: chrono::NaiveDate) -> SharedObserver {
    Arc::new(move |event| {
        let Some(event) = ProgressDto::of(&event, today) else { return };
        if let Err(e) = app.emit_to(MAIN_WINDOW, SCAN_PROGRESS, ScanProgress { scan_id, event }) {
            tracing::warn!(error = %e, "could not send scan progress to the window");
        }
    })
}

#[tauri::command]
pub(crate) async fn next_customer(state: State<'_, AppState>) -> Answer<NextCustomer> {
    let biz_num = state.counter()?.desk.next_customer()?;
    Ok(NextCustomer { biz_num: biz_num.as_str().to_owned() })
}

/// Nobody touched the window for `[privacy] idle_clear_minutes` and the countdown ran out: the
/// same as 下一位, audited as an idle clear; `None` when no customer was on the desk.
#[tauri::command]
pub(crate) async fn idle_clear(state: State<'_, AppState>) -> Answer<Option<NextCustomer>> {
    let next = state.counter()?.desk.idle_clear()?;
    Ok(next.map(|biz_num| NextCustomer { biz_num: biz_num.as_str().to_owned() }))
}

#[tauri::command]
pub(crate) async fn retry_license(state: State<'_, AppState>, license_code: String) -> Answer<OutcomeDto> {
    let (position, outcome) = state.counter()?.desk.retry_license(&license_code).await?;
    Ok(OutcomeDto::new(position, &outcome))
}

/// The annotated copy's bytes, sent as raw binary rather than a JSON array of numbers.
#[tauri::command]
pub(crate) async fn license_file(state: State<'_, AppState>, license_code: String) -> Answer<tauri::ipc::Response> {
    let bytes = state.counter()?.desk.license_file(&license_code)?;
    Ok(tauri::ipc::Response::new(bytes))
}

#[tauri::command]
pub(crate) fn sandbox_enterprises(state: State<'_, AppState>) -> Answer<Vec<SandboxEnterprise>> {
    sandbox(state.counter()?)?;
    Ok(yueshang_gateway_sim::samples::enterprises()
        .into_iter()
        .map(|e| SandboxEnterprise { license_count: e.licenses.len(), uscc: e.uscc, name: e.name, note: e.note })
        .collect())
}

#[tauri::command]
pub(crate) fn sandbox_issue_code(state: State<'_, AppState>, uscc: String) -> Answer<IssuedCodeDto> {
    let issued = sandbox(state.counter()?)?.control().issue_code(uscc.trim(), None).map_err(|e| {
        Error::with_fact(ErrorCode::CodeUnknown, format!("沙箱没有发出粤商码：{e}。")).detail(e.to_string())
    })?;
    let png = yueshang_gateway_sim::qr_png(&issued.payload);
    Ok(IssuedCodeDto {
        qr_png: format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png)),
        payload: issued.payload,
        expires_at: issued.expires_at.to_rfc3339(),
    })
}

fn sandbox(counter: &Counter) -> Result<&SandboxGateway, Error> {
    counter.sandbox.as_ref().ok_or_else(|| Error::new(ErrorCode::SandboxOnly))
}

/// Stamps a copy of one license of the current customer for this case (its status re-checked
/// first when the last check is old); `allow_unchecked` goes on when the re-check cannot reach
/// the gateway.
#[tauri::command]
pub(crate) async fn prepare_copy(
    state: State<'_, AppState>,
    license_code: String,
    allow_unchecked: bool,
) -> Answer<CopyDto> {
    let copy = state.counter()?.desk.prepare_copy(&license_code, allow_unchecked).await?;
    Ok(CopyDto::from(copy.as_ref()))
}

/// The stamped copy's bytes, for the print preview.
#[tauri::command]
pub(crate) async fn copy_file(state: State<'_, AppState>, serial: String) -> Answer<tauri::ipc::Response> {
    let copy = state.counter()?.desk.copy(&serial)?;
    Ok(tauri::ipc::Response::new(copy.pdf.clone()))
}

#[tauri::command]
pub(crate) async fn printers(state: State<'_, AppState>) -> Answer<Vec<PrinterDto>> {
    let queues = state.counter()?.desk.copies().printers().await?;
    Ok(queues.into_iter().map(PrinterDto::from).collect())
}

#[tauri::command]
pub(crate) async fn print_copies(
    state: State<'_, AppState>,
    serials: Vec<String>,
    printer: Option<String>,
    copies: u32,
) -> Answer<Vec<PrintedDto>> {
    let jobs = state.counter()?.desk.print_copies(&serials, printer.as_deref(), copies).await?;
    Ok(serials.iter().zip(jobs).map(|(serial, job)| PrintedDto::new(serial, job)).collect())
}

#[tauri::command]
pub(crate) async fn cancel_print(state: State<'_, AppState>, serials: Vec<String>) -> Answer<()> {
    Ok(state.counter()?.desk.cancel_print(&serials)?)
}

#[tauri::command]
pub(crate) async fn save_copies(
    state: State<'_, AppState>,
    serials: Vec<String>,
    dir: Option<String>,
) -> Answer<Vec<SavedDto>> {
    let dir = dir.filter(|d| !d.trim().is_empty()).map(PathBuf::from);
    let paths = state.counter()?.desk.save_copies(&serials, dir.as_deref())?;
    Ok(serials.iter().zip(&paths).map(|(serial, path)| SavedDto::new(serial, path)).collect())
}

/// Writes the current customer's handling record to the outbox and tries to send it once; the
/// background sender is woken for whatever waits.
#[tauri::command]
pub(crate) async fn submit_record(
    state: State<'_, AppState>,
    status: String,
    reason: Option<String>,
    license_codes: Vec<String>,
) -> Answer<RecordDto> {
    let counter = state.counter()?;
    let status = RecordStatus::parse(&status)
        .ok_or_else(|| Error::with_fact(ErrorCode::RecordInvalid, format!("办理结果“{status}”无法识别。")))?;
    let reason = reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    let record = counter.desk.submit_record(status, reason, license_codes).await;
    counter.outbox_wake.notify_one();
    Ok(RecordDto::from(&record?))
}

#[tauri::command]
pub(crate) fn outbox_status(state: State<'_, AppState>) -> Answer<OutboxStatusDto> {
    Ok(outbox_status_of(state.counter()?)?)
}

/// A refused record (需处理) queued again, after the cause was fixed.
#[tauri::command]
pub(crate) async fn retry_record(state: State<'_, AppState>, biz_num: String) -> Answer<RecordDto> {
    let counter = state.counter()?;
    counter.desk.outbox().retry_refused(biz_num.trim())?;
    let record = counter.desk.outbox().send(biz_num.trim()).await;
    counter.outbox_wake.notify_one();
    Ok(RecordDto::from(&record?))
}

/// How many records wait or need a person, and the record of the customer on the desk.
pub(crate) fn outbox_status_of(counter: &Counter) -> Result<OutboxStatusDto, Error> {
    let summary = counter.desk.outbox().summary()?;
    Ok(OutboxStatusDto::new(&summary, counter.desk.current_record()?.as_ref()))
}
