//! The tasks this binary knows: one line per task crate. Adding a task means adding its crate and
//! its line here (see `docs/adding-a-task.md`).

use valkey_bot_core::TaskFactory;

/// Every registered task.
pub fn factories() -> Vec<&'static dyn TaskFactory> {
    vec![]
}
