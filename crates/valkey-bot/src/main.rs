//! The `valkey-bot` command line.

fn main() {}
