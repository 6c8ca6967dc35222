//! What goes over the wire (gateway-contract.md), shared by the client and the sandbox gateway.
//!
//! These serde types are the boundary: the client converts them into domain types in
//! `gateway::convert`, and nothing past that point sees them. Every field name of the
//! [ours] parts of the contract lives in `yst`; the paths and business codes live in
//! `crate::contract`.

pub mod elicense;
pub mod gateway;
pub mod yst;
