//! Project hygiene checked as a test: every source file (Rust, TypeScript, Vue) says in its
//! first line what it owns.

use std::path::{Path, PathBuf};

/// Source files under `dir`, skipping generated and installed folders.
fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if !matches!(name.to_str(), Some("target" | "node_modules" | "dist" | "gen" | "out" | ".git")) {
                source_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| ["rs", "ts", "mjs", "vue"].iter().any(|x| e == *x)) {
            out.push(path);
        }
    }
}

/// A purpose line: a comment in the file's own language, with words in it.
fn opens_with_purpose(path: &Path) -> bool {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let opener = if path.extension().is_some_and(|e| e == "vue") { "<!--" } else { "//" };
    first.starts_with(opener) && first.len() > opener.len() + 10
}

#[test]
fn every_source_file_opens_with_a_line_saying_what_it_owns() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["crates", "src-tauri", "tests", "ui/src", "ui/test"] {
        source_files(&root.join(dir), &mut files);
    }
    for dir in ["crates", "src-tauri/src", "tests", "ui/src"] {
        assert!(files.iter().any(|f| f.starts_with(root.join(dir))), "no source files found under {dir}");
    }
    let missing: Vec<String> =
        files.iter().filter(|f| !opens_with_purpose(f)).map(|f| f.display().to_string()).collect();
    assert!(missing.is_empty(), "files without a purpose line: {missing:?}");
}

/// The window's error table (ui/src/types.ts, ui/src/errors.ts) names exactly the core's codes,
/// so a code added on one side cannot reach the clerk as an unknown one.
#[test]
fn the_ui_knows_every_error_code_and_no_other() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let types = std::fs::read_to_string(root.join("ui/src/types.ts")).expect("ui/src/types.ts");
    let union = types.split("export type ErrorCode =").nth(1).expect("an ErrorCode union").split(';').next().unwrap();
    let mut ui: Vec<String> =
        union.split('|').map(|c| c.trim().trim_matches('\'').to_owned()).filter(|c| !c.is_empty()).collect();
    ui.sort();
    let mut core: Vec<String> = yueshang_core::ErrorCode::ALL.iter().map(|c| c.as_str().to_owned()).collect();
    core.sort();
    assert_eq!(ui, core, "ui/src/types.ts ErrorCode differs from yueshang_core::ErrorCode");

    let errors = std::fs::read_to_string(root.join("ui/src/errors.ts")).expect("ui/src/errors.ts");
    for code in &core {
        assert!(errors.contains(&format!("  {code}: {{")), "ui/src/errors.ts has no advice for {code}");
    }
}
