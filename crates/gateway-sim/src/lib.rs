//! The sandbox gateway: a real HTTP server implementing the gateway contract, with sample data and faults.
//!
//! `SandboxGateway::start` serves the whole contract (gateway-contract.md) on a local port, behind a
//! TIF gateway layer that checks signatures as the provincial one does; `SimControl` and the `/sim`
//! routes issue codes, inject faults and show what arrived. The client under test shares the wire
//! types of `yueshang_core::wire`, so the two cannot drift apart silently.

pub mod documents;
pub mod samples;

mod control;
mod elicense;
mod fault;
mod gateway;
mod portal;
mod qr;
mod route;
mod server;
mod settings;
mod state;
mod yst;

pub use control::SimControl;
pub use elicense::{DOCUMENT_FAILED, MAX_PAGE_SIZE};
pub use fault::{DEFAULT_RETRY_AFTER_SECS, FAULT_STATUSES, Fault, FaultKind};
pub use gateway::OVERSIZE_BYTES;
pub use portal::{PORTAL_PATH, PORTAL_TITLE};
pub use qr::qr_png;
pub use route::{LICENSE_SERVICE_PREFIX, Route};
pub use server::{SandboxGateway, SimOptions};
pub use settings::{
    SANDBOX_ACCOUNT, SANDBOX_ACCOUNTS, SANDBOX_APP_KEY, SANDBOX_APP_SECRET, SANDBOX_DEPARTMENT_ID, SANDBOX_PAASID,
    SANDBOX_PASSWORD, SANDBOX_SYSTEM_ID, SANDBOX_TOKEN, SANDBOX_VENDER_ID, sandbox_portal_url, sandbox_settings,
};
pub use state::{
    AUTHORIZATION_LIFETIME, CODE_LIFETIME, IN_FLIGHT_STAT, IssuedCode, PAYLOAD_PREFIX, RATE_LIMITED_STAT, SimError,
    SubmitRecord, TOKEN_LIFETIME_SECS,
};
pub use yst::RECORD_STATUSES;
