//! Test support of the Yueshang counter: real print daemons and PostgreSQL clusters a test starts,
//! owns and stops, and an auditor's own checks of what the exports write.
//!
//! [`PrintLab`] is a private CUPS scheduler on a free loopback port with queues that really
//! print: a `cups-pdf` queue (Ghostscript writes a PDF) and an "exact" queue backed by an
//! `ippeveprinter` that keeps the very bytes it received. Nothing of the machine's own CUPS is
//! used or changed, so labs of several test binaries can run at the same time.
//!
//! Every failure panics with what went wrong and, for a missing program, the Debian package to
//! install: a test that cannot print for real fails, it never skips.

pub mod auditor;
mod lab;
mod mdns;
pub mod postgres;
mod process;
mod tools;

pub use lab::{JobState, PrintLab};
pub use tools::{qr_codes_on_first_page, require_tool};
