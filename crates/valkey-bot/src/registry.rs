//! The tasks this binary knows: one line per task crate. Adding a task means adding its crate and
//! its line here (see `docs/adding-a-task.md`).

use valkey_bot_core::TaskFactory;

/// Every registered task.
pub fn factories() -> Vec<&'static dyn TaskFactory> {
    vec![
        &valkey_bot_task_checksums::FACTORY,
        &valkey_bot_task_artifacts::FACTORY,
        &valkey_bot_task_container::FACTORY,
        &valkey_bot_task_website::FACTORY,
        &valkey_bot_task_bundle::FACTORY,
        &valkey_bot_task_docs::FACTORY,
        &valkey_bot_task_workflow::FACTORY,
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn task_names_are_unique_and_valid() {
        let names: Vec<&str> = factories().iter().map(|f| f.name()).collect();
        let unique: BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(
            unique.len(),
            names.len(),
            "duplicate task names in {names:?}"
        );
        for name in names {
            assert!(valkey_bot_core::request::is_task_name(name), "{name}");
        }
    }

    #[test]
    fn the_shipped_tasks_toml_names_only_registered_tasks() {
        let source = include_str!("../../../tasks.toml");
        let config = valkey_bot_core::config::load("tasks.toml", source, &factories())
            .expect("the shipped tasks.toml loads");
        assert!(!config.tasks.is_empty());
    }
}
