//! Branch rulesets: a branch can require pull requests, as a GitHub ruleset or branch protection
//! does. Set up in tests with [`crate::RunningSandbox::rulesets`], or by a script through the file
//! `ROOT/_sandbox/rulesets.json` read at start:
//!
//! ```json
//! [{ "repository": "owner/name", "branch": "main", "app_may_bypass": false }]
//! ```
//!
//! A direct update of such a branch (`PATCH git/refs/heads/{branch}`) is refused with GitHub's 422
//! `Repository rule violations found … Changes must be made through a pull request.`, unless the
//! caller is an App installation and the rule lets the App bypass it.

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::error::{ApiError, SandboxError};

/// The message GitHub answers a direct update of a branch that requires pull requests with.
pub(crate) const PULL_REQUEST_RULE_MESSAGE: &str =
    "Repository rule violations found\n\nChanges must be made through a pull request.\n\n";

/// One branch that requires pull requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BranchRule {
    /// `owner/name`.
    pub repository: String,
    /// The branch name (without `refs/heads/`).
    pub branch: String,
    /// Whether the App's installation tokens are on the ruleset's bypass list.
    #[serde(default)]
    pub app_may_bypass: bool,
}

/// The JSON array in the sandbox file `path`, or an empty one if the file does not exist; a file
/// that is not such an array is `invalid(line, column, message)`.
pub(crate) fn read_list<T: serde::de::DeserializeOwned>(
    path: &Path,
    invalid: impl FnOnce(usize, usize, String) -> SandboxError,
) -> Result<Vec<T>, SandboxError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(SandboxError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    serde_json::from_str(&text)
        .map_err(|error| invalid(error.line(), error.column(), error.to_string()))
}

/// The rulesets in force; cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct Rulesets {
    rules: Arc<Mutex<Vec<BranchRule>>>,
}

impl Rulesets {
    /// The rules in `path` (a JSON array of [`BranchRule`]), or none if the file does not exist.
    pub(crate) fn load(path: &Path) -> Result<Self, SandboxError> {
        let rules = read_list(path, |line, column, message| SandboxError::Rulesets {
            path: path.to_owned(),
            line,
            column,
            message,
        })?;
        Ok(Self {
            rules: Arc::new(Mutex::new(rules)),
        })
    }

    /// Makes `branch` of `repository` (`owner/name`) require pull requests.
    pub fn require_pull_requests(&self, repository: &str, branch: &str, app_may_bypass: bool) {
        self.lock().push(BranchRule {
            repository: repository.to_owned(),
            branch: branch.to_owned(),
            app_may_bypass,
        });
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The rules in force.
    pub fn rules(&self) -> Vec<BranchRule> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<BranchRule>> {
        // A panic while holding the lock cannot leave the list half-changed.
        self.rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// 422 if `caller` may not update `reference` (`refs/heads/B`) of `repository` directly.
    pub(crate) fn check_update(
        &self,
        repository: &str,
        reference: &str,
        caller: &Caller,
    ) -> Result<(), ApiError> {
        let Some(branch) = reference.strip_prefix("refs/heads/") else {
            return Ok(());
        };
        let is_app = matches!(caller, Caller::Installation(_));
        let refused = self.lock().iter().any(|rule| {
            rule.repository == repository
                && rule.branch == branch
                && !(rule.app_may_bypass && is_app)
        });
        if refused {
            Err(ApiError::unprocessable(PULL_REQUEST_RULE_MESSAGE))
        } else {
            Ok(())
        }
    }
}
