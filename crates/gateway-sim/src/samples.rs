//! Sample enterprises, licenses and service items of the sandbox (fictional, with valid check characters).
