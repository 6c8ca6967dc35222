//! Fuzzes the QR finder `imagecode::find_codes` on any image bytes: it never panics and returns
//! within libFuzzer's timeout (scripts/fuzz runs it with -max_len=65536 -rss_limit_mb=2048);
//! the property is `yueshang_fuzz::image`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    yueshang_fuzz::image(data);
});
