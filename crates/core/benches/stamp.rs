//! Stamping benchmark (being written).
fn main() {}
