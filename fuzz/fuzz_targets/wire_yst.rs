//! Fuzzes reading a 粤商通 answer (`YstEnvelope<Code2AuthData>`, `YstEnvelope<SubmitData>`, the
//! gateway's error body) from any bytes with serde_json, and the client's wire → domain steps on
//! what reads: never a panic, and what reads writes back the same (`yueshang_fuzz::wire_yst`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    yueshang_fuzz::wire_yst(data);
});
