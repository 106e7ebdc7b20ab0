//! Telling people what happened: the release tracking issue, the run summary, alerts, and log
//! lines GitHub Actions turns into annotations.

pub mod actions;
pub mod alert;
pub mod labels;
pub mod summary;
pub mod tracking;
