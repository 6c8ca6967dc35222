//! Integration tests of the core over real HTTP on loopback: against hand-written contract
//! fixtures (a second, independent reading of the contract) and against the sandbox gateway.

mod accounts;
mod audit_chain;
mod audit_crash;
mod audit_export;
mod audit_retention;
mod contract;
mod copies;
mod desk;
mod doctor;
mod forms;
mod fuzz_regressions;
mod gateway_health;
mod idle;
mod image_decode;
#[cfg(target_os = "linux")]
mod keystore_secret_service;
mod lookup;
mod outbox;
mod printing;
mod privacy;
mod sandbox;
mod scripted;
mod stamp;
mod supervision;
mod tidy;

/// Where a test counter keeps its storage key: a private file in a configuration folder of its own
/// beside (never inside) the data folder, as on a headless hall PC.
pub(crate) fn keys_beside(database: &impl AsRef<std::path::Path>) -> yueshang_core::keystore::KeyStore {
    let dir = database.as_ref().parent().expect("a database file is in a folder");
    yueshang_core::keystore::KeyStore::with_preference(dir.join("config"), yueshang_core::keystore::Preference::File)
}

/// A granted sample enterprise with a few licenses (2 to 4): quick to serve, enough to see order.
pub(crate) fn small_uscc() -> String {
    yueshang_gateway_sim::samples::enterprises()
        .into_iter()
        .find(|e| e.consent == yueshang_gateway_sim::samples::Consent::Granted && (2..=4).contains(&e.licenses.len()))
        .expect("a small sample enterprise")
        .uscc
}
