//! Fuzzes `Uscc::parse` and `uscc::check_char` on any text (bytes read as lossy UTF-8): they never
//! panic, an accepted USCC is 18 characters ending in `check_char` of the first 17, and what
//! `check_char` completes always parses; `Entry::read` (a typed or scanned line: a 粤商码 or a USCC)
//! never panics and refuses only with USCC_INVALID or CODE_INVALID (the property is `yueshang_fuzz::uscc`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    yueshang_fuzz::uscc(data);
});
