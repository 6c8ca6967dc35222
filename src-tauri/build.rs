//! Generates the Tauri context and one permission per app command (granted in capabilities/).

fn main() {
    let commands = tauri_build::AppManifest::new().commands(&[
        "counter_info",
        "scan",
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
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(commands)).expect("tauri build script");
}
