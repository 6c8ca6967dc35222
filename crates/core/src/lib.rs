//! The Yueshang counter's engine: domain types, gateway client, SQLite cache, audit trail and scan flow.
//!
//! Plain Rust with no UI: the CLI, the Tauri shell and the tests all call the same functions here.

pub mod accounts;
pub mod audit;
pub mod cache;
pub mod clock;
pub mod config;
pub mod contract;
pub mod copies;
pub mod desk;
pub mod doctor;
pub mod domain;
pub mod error;
pub mod forms;
pub mod gateway;
pub mod imagecode;
pub mod keystore;
pub mod outbox;
pub mod portal;
pub mod print;
pub mod purge;
pub mod secret;
pub mod secrets;
pub mod setup;
pub mod shipping;
pub mod signing;
pub mod station;
pub mod supervision;
pub mod vault;
pub mod wire;

pub use error::{Error, ErrorCode, Result};
