//! The sandbox gateway: a real HTTP server implementing the gateway contract, with sample data and faults.

pub mod documents;
pub mod samples;
