//! Core ↔ sandbox gateway over real HTTP (filled in once the sandbox lands).
