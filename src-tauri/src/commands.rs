//! The window's commands: each parses its input, calls one function of the core (or of the
//! sandbox in sandbox mode) and maps the answer to a DTO.

use crate::dto::{
    AppError, CounterInfo, IssuedCodeDto, NextCustomer, OutcomeDto, ProgressDto, SandboxEnterprise, ScanProgress,
    ScanResult,
};
use crate::launch::{AppState, Counter};
use base64::Engine as _;
use std::sync::Arc;
use tauri::{AppHandle, Emitter, State};
use yueshang_core::desk::SharedObserver;
use yueshang_core::{Error, ErrorCode};
use yueshang_gateway_sim::SandboxGateway;

/// The event that carries scan progress to the window.
const SCAN_PROGRESS: &str = "scan-progress";
const MAIN_WINDOW: &str = "main";

type Answer<T> = Result<T, AppError>;

#[tauri::command]
pub(crate) fn counter_info(state: State<'_, AppState>) -> Answer<CounterInfo> {
    let counter = state.counter()?;
    let station = counter.desk.station();
    Ok(CounterInfo::new(counter.mode, station.settings(), &counter.desk.biz_num()))
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
    let today = counter.desk.station().today();
    let observe: SharedObserver = Arc::new(move |event| {
        let Some(event) = ProgressDto::of(&event, today) else { return };
        if let Err(e) = app.emit_to(MAIN_WINDOW, SCAN_PROGRESS, ScanProgress { scan_id, event }) {
            tracing::warn!(error = %e, "could not send scan progress to the window");
        }
    });
    let outcome = counter.desk.scan(payload, Some(item_code), observe).await?;
    Ok(ScanResult::new(&outcome))
}

#[tauri::command]
pub(crate) async fn next_customer(state: State<'_, AppState>) -> Answer<NextCustomer> {
    let biz_num = state.counter()?.desk.next_customer()?;
    Ok(NextCustomer { biz_num: biz_num.as_str().to_owned() })
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
