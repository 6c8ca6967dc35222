//! The counter app's entry point: everything happens in the library's `run`.

// No console window behind the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    yueshang_counter::run();
}
