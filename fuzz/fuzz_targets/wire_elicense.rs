//! Fuzzes reading an e-license answer (`LicenseEnvelope` of login, license, licenses, archive) from
//! any bytes with serde_json, and the client's wire → domain steps on successful ones (dates, face
//! fields, status rule, base64 file): never a panic (`yueshang_fuzz::wire_elicense`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    yueshang_fuzz::wire_elicense(data);
});
