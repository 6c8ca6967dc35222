//! The window's commands for the shift (sign-in, sign-out, the idle lock) and the supervisor view (day at a
//! glance, events, export, chain status, accounts). Roles are checked in the core.

use crate::dto::AppError;
use crate::launch::{AppState, Counter};
use crate::shift_dto::{
    AccountDto, AuditFilterDto, AuditPageDto, ChainStatusDto, DaySummaryDto, ExportProgressDto, ExportResultDto,
    LockedDto, SignedInDto, parse_role,
};
use chrono::NaiveDate;
use std::path::PathBuf;
use tauri::{AppHandle, Emitter, Manager, State};
use yueshang_core::accounts::NewAccount;
use yueshang_core::audit::export::Formats;
use yueshang_core::{Error, ErrorCode};

type Answer<T> = Result<T, AppError>;

/// The event that carries an export's progress to the window.
pub(crate) const EXPORT_PROGRESS: &str = "export-progress";

/// Async, like the account commands below: Argon2 takes tens of milliseconds, which must not be
/// spent on the window's thread.
#[tauri::command]
pub(crate) async fn sign_in(state: State<'_, AppState>, account: String, password: String) -> Answer<SignedInDto> {
    let person = state.counter()?.desk.sign_in(&account, &password)?;
    Ok(SignedInDto::from(&person))
}

/// Ends the shift; the customer on the desk is closed first.
#[tauri::command]
pub(crate) fn sign_out(state: State<'_, AppState>) -> Answer<()> {
    state.counter()?.desk.sign_out()?;
    Ok(())
}

/// Nobody touched the window for `[privacy] lock_minutes`: the session locks until someone
/// signs in again, and the customer on the desk is closed.
#[tauri::command]
pub(crate) fn lock_session(state: State<'_, AppState>) -> Answer<LockedDto> {
    let desk = &state.counter()?.desk;
    let locked = desk.lock_session()?;
    Ok(LockedDto { locked: locked.as_ref().map(SignedInDto::from), biz_num: desk.biz_num().as_str().to_owned() })
}

pub(crate) fn date(text: &str) -> Result<NaiveDate, Error> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| Error::with_fact(ErrorCode::ConfigInvalid, format!("日期“{text}”无法识别（应为 YYYY-MM-DD）。")))
}

#[tauri::command]
pub(crate) async fn day_summary(app: AppHandle, date: String) -> Answer<DaySummaryDto> {
    let day = self::date(&date)?;
    let summary = off_the_runtime(app, move |_, counter| counter.supervision.day_summary(day)).await?;
    Ok(DaySummaryDto::from(&summary))
}

#[tauri::command]
pub(crate) async fn audit_events(
    state: State<'_, AppState>,
    date: String,
    filter: AuditFilterDto,
    offset: u64,
    limit: u32,
) -> Answer<AuditPageDto> {
    let page = state.counter()?.supervision.events(self::date(&date)?, &filter.into(), offset, limit)?;
    Ok(AuditPageDto::from(&page))
}

/// Exports one day into `dir`; progress goes out as "export-progress" events. Runs off the
/// window's thread: 100 000 events take a second or more.
#[tauri::command]
pub(crate) async fn export_audit(app: AppHandle, date: String, format: String, dir: String) -> Answer<ExportResultDto> {
    let day = self::date(&date)?;
    let formats = Formats::parse(&format)?;
    let dir = export_dir(&dir)?;
    let report = off_the_runtime(app, move |app, counter| {
        counter.supervision.export_day(day, formats, &dir, &mut |done, total| {
            if let Err(e) = app.emit_to("main", EXPORT_PROGRESS, ExportProgressDto { done, total }) {
                tracing::warn!(error = %e, "could not send export progress to the window");
            }
        })
    })
    .await?;
    Ok(ExportResultDto::from(report.as_ref()))
}

/// The folder the supervisor chose (or IT set); none chosen is refused before anything is read.
pub(crate) fn export_dir(text: &str) -> Result<PathBuf, Error> {
    let dir = PathBuf::from(text.trim());
    if dir.as_os_str().is_empty() {
        return Err(Error::with_fact(ErrorCode::SaveFailed, "没有选择导出文件夹。"));
    }
    Ok(dir)
}

/// Walks the whole chain: a chain that does not verify is shown, naming the event.
#[tauri::command]
pub(crate) async fn chain_status(app: AppHandle) -> Answer<ChainStatusDto> {
    let result = off_the_runtime(app, |_, counter| Ok(counter.supervision.chain_status())).await?;
    ChainStatusDto::of(result)
}

/// Runs a long read or write of the database (an export, a walk of the whole chain) on a
/// blocking thread, so the async runtime keeps serving the window meanwhile.
async fn off_the_runtime<T: Send + 'static>(
    app: AppHandle,
    work: impl FnOnce(&AppHandle, &Counter) -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let joined = tauri::async_runtime::spawn_blocking(move || {
        let state = app.state::<AppState>();
        work(&app, state.counter()?)
    })
    .await;
    joined.map_err(|e| Error::storage(format!("the blocking task failed: {e}")))?
}

#[tauri::command]
pub(crate) fn accounts_list(state: State<'_, AppState>) -> Answer<Vec<AccountDto>> {
    let counter = state.counter()?;
    let now = counter.desk.station().clock().now_china();
    Ok(counter.supervision.accounts()?.iter().map(|a| AccountDto::new(a, now)).collect())
}

#[tauri::command]
pub(crate) async fn account_add(
    state: State<'_, AppState>,
    account: String,
    name: String,
    role: String,
    password: String,
) -> Answer<AccountDto> {
    let counter = state.counter()?;
    let new = NewAccount { account: &account, name: &name, role: parse_role(&role)?, password: &password };
    let added = counter.supervision.add_account(&new)?;
    Ok(AccountDto::new(&added, counter.desk.station().clock().now_china()))
}

#[tauri::command]
pub(crate) fn account_set_disabled(state: State<'_, AppState>, account: String, disabled: bool) -> Answer<AccountDto> {
    let counter = state.counter()?;
    let changed = counter.supervision.set_disabled(&account, disabled)?;
    Ok(AccountDto::new(&changed, counter.desk.station().clock().now_china()))
}

#[tauri::command]
pub(crate) async fn account_reset_password(
    state: State<'_, AppState>,
    account: String,
    password: String,
) -> Answer<()> {
    Ok(state.counter()?.supervision.reset_password(&account, &password)?)
}
