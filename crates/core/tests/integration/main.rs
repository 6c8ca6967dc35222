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
mod outbox;
mod printing;
mod sandbox;
mod scripted;
mod stamp;
mod supervision;
mod tidy;
