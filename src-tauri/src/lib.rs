//! The counter app's shell: starts the engine (configured gateway or in-process sandbox),
//! registers the window's commands and opens the window. All the work is in yueshang-core.

mod commands;
mod dto;
mod launch;
mod logging;

use launch::{AppState, Launch};
use tauri::Manager;

/// Runs the app until its window closes.
pub fn run() {
    let launch = Launch::from_args(std::env::args().skip(1));
    let logs = logging::init(launch.as_ref().ok().and_then(Launch::data_dir).as_deref());
    tracing::info!(version = env!("CARGO_PKG_VERSION"), logs = ?logs, "yueshang-counter starting");
    tauri::Builder::default()
        .setup(move |app| {
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
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::counter_info,
            commands::scan,
            commands::next_customer,
            commands::retry_license,
            commands::license_file,
            commands::sandbox_enterprises,
            commands::sandbox_issue_code,
        ])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "the window could not run");
            std::process::exit(1);
        });
}
