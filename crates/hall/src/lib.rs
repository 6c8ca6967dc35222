//! The hall service: takes every counter's audit chain and handling records into the hall's
//! PostgreSQL, verifies each batch (never trusts it), refuses gaps and forks, countersigns each
//! counter checkpoint with the hall's own SM2 key, and reports and exports the hall's day.

pub mod export;
pub mod ingest;
pub mod report;
pub mod server;
pub mod store;
pub mod witness;

use yueshang_core::shipping::wire::{Refusal, RefusalEnvelope};
use yueshang_core::{Error, ErrorCode};

/// Why the hall did not do what was asked: an HTTP status, the core's error code (the counter
/// branches on it), a message for people, and the seq it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub seq: Option<i64>,
    pub acked_seq: Option<i64>,
}

impl Refused {
    pub fn new(status: u16, code: ErrorCode, message: impl Into<String>) -> Self {
        Refused { status, code: code.as_str().to_owned(), message: message.into(), seq: None, acked_seq: None }
    }

    /// A batch that is malformed or does not verify: retrying it cannot help.
    pub fn invalid(message: impl Into<String>) -> Self {
        Refused::new(400, ErrorCode::HallRefused, message)
    }

    pub fn at_seq(mut self, seq: i64) -> Self {
        self.seq = Some(seq);
        self
    }

    /// The store failed: the counter keeps its events and tries again later.
    pub fn store(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "hall store failed");
        Refused::new(503, ErrorCode::HallUnreachable, "大厅数据库暂时不可用")
    }

    pub fn envelope(&self) -> RefusalEnvelope {
        RefusalEnvelope {
            error: Refusal {
                code: self.code.clone(),
                message: self.message.clone(),
                seq: self.seq,
                acked_seq: self.acked_seq,
            },
        }
    }
}

impl From<tokio_postgres::Error> for Refused {
    fn from(e: tokio_postgres::Error) -> Self {
        Refused::store(e)
    }
}

impl From<deadpool_postgres::PoolError> for Refused {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        Refused::store(e)
    }
}

impl From<Error> for Refused {
    fn from(e: Error) -> Self {
        let status = if e.code == ErrorCode::StorageFailed { 503 } else { 400 };
        let detail = e.detail.clone();
        let mut refused = Refused { status, ..Refused::new(status, e.code, e.message) };
        if let Some(seq) = detail.as_deref().and_then(|d| d.strip_prefix("seq=")).and_then(|d| d.split(':').next()) {
            refused.seq = seq.parse().ok();
        }
        refused
    }
}

impl From<Refused> for Error {
    /// For the hall's CLI commands: the refusal as the core's error (unknown codes as HALL_REFUSED).
    fn from(r: Refused) -> Self {
        let code = ErrorCode::parse(&r.code).unwrap_or(ErrorCode::HallRefused);
        let err = Error::with_fact(code, format!("{}。", r.message.trim_end_matches('。')));
        match r.seq {
            Some(seq) => err.detail(format!("seq={seq}")),
            None => err,
        }
    }
}
