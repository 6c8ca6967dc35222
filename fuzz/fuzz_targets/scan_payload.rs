//! Fuzzes `EnterpriseCode::parse` on any scanned text (bytes read as lossy UTF-8): it never panics,
//! refuses only with CODE_INVALID, and an accepted code is 16–64 characters of `A-Za-z0-9-_` that
//! parses again to itself (the property is `yueshang_fuzz::scan_payload`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    yueshang_fuzz::scan_payload(data);
});
