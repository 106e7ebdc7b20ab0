//! valkey-bot: receives a release event, runs the post-release tasks of `tasks.toml` as a
//! dependency graph, and carries out their plans on GitHub. See `docs/architecture.md`.

pub mod audit;
pub mod commands;
pub mod connect;
pub mod deliver;
pub mod doctor;
pub mod dry_run;
pub mod forge;
pub mod notify;
pub mod outcome;
pub mod plan;
pub mod registry;
pub mod rehearse;
pub mod report;
pub mod runner;
pub mod scaffold;
pub mod settle;
pub mod shadow;
pub mod smoke;
