//! Generates the Tauri context and one permission per app command (granted in capabilities/).

fn main() {
    let commands = tauri_build::AppManifest::new().commands(&[
        "counter_info",
        "scan",
        "next_customer",
        "retry_license",
        "license_file",
        "sandbox_enterprises",
        "sandbox_issue_code",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(commands)).expect("tauri build script");
}
