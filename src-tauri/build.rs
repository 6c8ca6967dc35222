//! Generates the Tauri context and one permission per app command (granted in capabilities/).

fn main() {
    let commands = tauri_build::AppManifest::new().commands(&[
        "counter_info",
        "scan",
        "read_entry",
        "lookup",
        "next_customer",
        "idle_clear",
        "retry_license",
        "license_file",
        "sandbox_enterprises",
        "sandbox_issue_code",
        "prepare_copy",
        "copy_file",
        "printers",
        "print_copies",
        "cancel_print",
        "save_copies",
        "submit_record",
        "outbox_status",
        "retry_record",
        "read_image",
        "read_image_file",
        "sign_in",
        "sign_out",
        "lock_session",
        "day_summary",
        "audit_events",
        "export_audit",
        "chain_status",
        "accounts_list",
        "account_add",
        "account_set_disabled",
        "account_reset_password",
        "setup_state",
        "validate_setup",
        "test_setup",
        "save_setup",
        "restart_app",
        "run_doctor",
        "write_forms",
        "gateway_health",
        "open_portal",
        "window_ready",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(commands)).expect("tauri build script");
    // The app embeds the built UI: a new `npm run build` must rebuild it (seen: a release app kept
    // the previous UI, so a measurement ran on old code).
    println!("cargo:rerun-if-changed=../ui/dist");
}
