//! Fuzzes `Config::parse` (and `into_settings`) on any configuration text (bytes read as lossy
//! UTF-8): never a panic, and every refusal is CONFIG_INVALID (`yueshang_fuzz::config`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    yueshang_fuzz::config(data);
});
