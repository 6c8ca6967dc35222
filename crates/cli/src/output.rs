//! What the CLI prints: JSON for scripts (the DTOs below) or lines for people.

use serde::Serialize;
use std::process::ExitCode;
use yueshang_core::Error;

/// Exit status of a whole-command failure (`{"error":{…}}`).
pub(crate) const EXIT_FAILED: u8 = 1;
/// Exit status of a scan that arrived with some licenses failed.
pub(crate) const EXIT_PARTIAL: u8 = 3;

#[derive(Serialize)]
pub(crate) struct ErrorDto<'a> {
    pub(crate) code: &'a str,
    pub(crate) message: &'a str,
}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    error: ErrorDto<'a>,
}

impl<'a> ErrorDto<'a> {
    pub(crate) fn of(err: &'a Error) -> Self {
        ErrorDto { code: err.code.as_str(), message: &err.message }
    }
}

/// Prints a line on stdout without panicking when the reader has gone (`yueshang … | head -1`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
pub(crate) use say;

pub(crate) fn print_json<T: Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => say!("{text}"),
        Err(e) => eprintln!("cannot print JSON: {e}"),
    }
}

/// Reports a failed command: JSON on stdout for scripts, a readable line on stderr for people.
pub(crate) fn fail(err: &Error, json: bool) -> ExitCode {
    if json {
        print_json(&ErrorEnvelope { error: ErrorDto::of(err) });
    } else {
        eprintln!("失败 [{}] {}", err.code, err.message);
    }
    if let Some(detail) = &err.detail {
        tracing::info!(%detail, "error detail");
    }
    ExitCode::from(EXIT_FAILED)
}
