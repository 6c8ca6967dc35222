//! The counter app's shell: starts the engine (configured gateway or in-process sandbox),
//! registers the window's commands and opens the window. All the work is in yueshang-core.

mod camera;
mod case_dto;
mod commands;
mod dto;
mod hall_commands;
mod hall_dto;
mod health_commands;
mod image_commands;
mod launch;
mod logging;
mod memory;
mod setup_commands;
mod setup_dto;
mod shift_commands;
mod shift_dto;
mod startup;
mod webview;
mod window;

use launch::{AppState, Launch};
use std::sync::Arc;
use tauri::{AppHandle, Emitter, Manager};

/// The event that tells the window the outbox changed (a record sent, queued again, refused).
const OUTBOX_CHANGED: &str = "outbox-changed";

/// Runs the app until its window closes.
pub fn run() {
    let startup = startup::Startup::now();
    let launch = Launch::from_args(std::env::args().skip(1));
    let logs = logging::init(launch.as_ref().ok().and_then(Launch::data_dir).as_deref());
    tracing::info!(version = env!("CARGO_PKG_VERSION"), logs = ?logs, "yueshang-counter starting");
    memory::return_big_buffers();
    tauri::Builder::default()
        // First: a second instance must hand over before anything else starts.
        .plugin(window::single_instance())
        .plugin(window::remembered_state())
        .plugin(window::autostart())
        .manage(startup)
        .setup(move |app| {
            webview::tune(app.handle());
            // Setup reads and writes where this launch does, also when the launch was refused.
            app.manage(launch.as_ref().cloned().unwrap_or_default());
            // A counter that cannot start still opens its window, which tells IT what to fix.
            let state = match launch {
                Ok(launch) => match tauri::async_runtime::block_on(launch::start(launch)) {
                    Ok(counter) => AppState::Ready(Box::new(counter)),
                    Err(error) => AppState::Broken(error),
                },
                Err(error) => AppState::Broken(error),
            };
            if let AppState::Broken(error) = &state {
                tracing::error!(code = %error.code, message = %error.message, detail = ?error.detail, "counter did not start");
            }
            app.manage(state);
            camera::enable(app.handle());
            // Started once the state is managed: the sender reports to the window at once.
            if let AppState::Ready(counter) = app.state::<AppState>().inner() {
                window::apply(app.handle(), counter.window);
                start_outbox_sender(app.handle().clone(), counter);
                start_hourly_purge(app.handle().clone());
                health_commands::start_gateway_health(app.handle().clone());
                if counter.hall.is_some() {
                    hall_commands::start_hall_shipping(app.handle().clone());
                }
            }
            Ok(())
        })
        .plugin(tauri_plugin_dialog::init())
        // 网页模式 opens the portal from Rust (health_commands); the window has no opener permission
        // and gets no link-click script.
        .plugin(tauri_plugin_opener::Builder::new().open_js_links_on_click(false).build())
        .on_permission_request(camera::permission)
        .invoke_handler(tauri::generate_handler![
            commands::counter_info,
            commands::scan,
            commands::read_entry,
            commands::lookup,
            commands::next_customer,
            commands::idle_clear,
            commands::retry_license,
            commands::license_file,
            commands::sandbox_enterprises,
            commands::sandbox_issue_code,
            commands::prepare_copy,
            commands::copy_file,
            commands::printers,
            commands::print_copies,
            commands::cancel_print,
            commands::save_copies,
            commands::submit_record,
            commands::outbox_status,
            commands::retry_record,
            image_commands::read_image,
            image_commands::read_image_file,
            shift_commands::sign_in,
            shift_commands::sign_out,
            shift_commands::lock_session,
            shift_commands::day_summary,
            shift_commands::audit_events,
            shift_commands::export_audit,
            shift_commands::chain_status,
            shift_commands::accounts_list,
            shift_commands::account_add,
            shift_commands::account_set_disabled,
            shift_commands::account_reset_password,
            hall_commands::hall_day_summary,
            hall_commands::hall_events,
            hall_commands::hall_export,
            setup_commands::setup_state,
            setup_commands::validate_setup,
            setup_commands::test_setup,
            setup_commands::save_setup,
            setup_commands::restart_app,
            setup_commands::run_doctor,
            setup_commands::write_forms,
            health_commands::gateway_health,
            health_commands::open_portal,
            startup::window_ready,
        ])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "the window could not run");
            std::process::exit(1);
        });
}

/// Erases expired customers' licenses every hour (the first start after midnight did it already),
/// keeping the customer on the desk until 下一位.
fn start_hourly_purge(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
        hourly.tick().await;
        loop {
            hourly.tick().await;
            let Some(state) = app.try_state::<AppState>() else { return };
            let Ok(counter) = state.counter() else { return };
            let keep = counter.desk.customer().map(|c| c.authorization.auth_id.clone());
            let station = counter.desk.station();
            tokio::task::block_in_place(|| launch::purge_licenses(station, keep.as_deref()));
        }
    });
}

/// Sends queued handling records in the background for the app's lifetime (across 下一位 and,
/// since the outbox is in SQLite, across restarts), telling the window what changed.
fn start_outbox_sender(app: AppHandle, counter: &launch::Counter) {
    let outbox = counter.desk.outbox().clone();
    let wake = counter.outbox_wake.clone();
    let on_change = Arc::new(move |_| {
        let Some(state) = app.try_state::<AppState>() else { return };
        let Ok(counter) = state.counter() else { return };
        match commands::outbox_status_of(counter) {
            Ok(status) => {
                if let Err(e) = app.emit_to("main", OUTBOX_CHANGED, status) {
                    tracing::warn!(error = %e, "could not tell the window about the outbox");
                }
            }
            Err(e) => tracing::warn!(code = %e.code, "could not read the outbox"),
        }
    });
    tauri::async_runtime::spawn(outbox.run(wake, on_change));
}
