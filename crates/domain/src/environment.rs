//! Environments of a project: [`EnvironmentType`], the [`Environment`]
//! entity and the rules for deleting and cloning one. Counting what an
//! environment holds is the store's job; the rule only needs the answer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::color::HexColor;
use crate::error::{DomainError, ErrorKind};
use crate::resource_connection::ConnectionStatus;
use crate::slug::Slug;
use crate::string_enum::string_enum;

/// The environment every new project starts with (its default).
pub const DEFAULT_ENVIRONMENT_NAME: &str = "production";

/// The status a resource connection gets when its environment is cloned.
pub const CLONED_CONNECTION_STATUS: ConnectionStatus = ConnectionStatus::Pending;

string_enum! {
    /// What an environment is for.
    pub enum EnvironmentType as "environment type" {
        /// Serves real users.
        Production = "production",
        /// Pre-production.
        Staging = "staging",
        /// Day-to-day work (the default type).
        Development = "development",
        /// Short-lived, e.g. per pull request.
        Preview = "preview",
    }
}

/// An environment (`name` is the `:environmentSlug` of paths).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    /// The environment's id (UUID v7).
    pub id: Uuid,
    /// The project it belongs to.
    pub project_id: Uuid,
    /// Its name, a slug unique in the project (`:environmentSlug` in paths).
    pub name: Slug,
    /// A human name, if set.
    pub display_name: Option<String>,
    /// production, staging, development or preview.
    pub env_type: EnvironmentType,
    /// Free text, if set.
    pub description: Option<String>,
    /// A `#rrggbb` colour for the UI, if set.
    pub color: Option<HexColor>,
    /// The git branch it deploys, if set.
    pub git_branch: Option<String>,
    /// Exactly one environment of a project is the default.
    pub is_default: bool,
    /// Creation time (UTC).
    pub created_at: DateTime<Utc>,
    /// Last change (UTC).
    pub updated_at: DateTime<Utc>,
}

/// Why an environment change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvironmentError {
    /// The default environment is never deleted.
    #[error(
        "The default environment cannot be deleted; make another environment the default first"
    )]
    DefaultCannotBeDeleted,
    /// The environment still holds resources or credential connections.
    #[error("The environment is not empty; pass ?force=true to delete it with everything in it")]
    NotEmpty,
}

impl EnvironmentError {
    /// Always [`ErrorKind::Conflict`]: both depend on the current state.
    #[must_use]
    pub const fn kind(&self) -> ErrorKind {
        ErrorKind::Conflict
    }
}

impl DomainError for EnvironmentError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Conflict
    }
}

/// May an environment be deleted? Never the default; a non-empty one only
/// with `force` (which deletes everything in it).
///
/// # Errors
/// [`EnvironmentError::DefaultCannotBeDeleted`] (even with `force`), then
/// [`EnvironmentError::NotEmpty`].
pub const fn check_environment_delete(
    is_default: bool,
    is_empty: bool,
    force: bool,
) -> Result<(), EnvironmentError> {
    if is_default {
        Err(EnvironmentError::DefaultCannotBeDeleted)
    } else if !is_empty && !force {
        Err(EnvironmentError::NotEmpty)
    } else {
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn every_cell_of_the_delete_rule() {
        use EnvironmentError as E;
        for is_empty in [true, false] {
            for force in [true, false] {
                assert_eq!(
                    check_environment_delete(true, is_empty, force),
                    Err(E::DefaultCannotBeDeleted)
                );
            }
        }
        assert_eq!(check_environment_delete(false, true, false), Ok(()));
        assert_eq!(check_environment_delete(false, true, true), Ok(()));
        assert_eq!(check_environment_delete(false, false, true), Ok(()));
        assert_eq!(
            check_environment_delete(false, false, false),
            Err(E::NotEmpty)
        );
        assert!(E::NotEmpty.to_string().contains("?force=true"));
        assert_eq!(E::NotEmpty.kind(), ErrorKind::Conflict);
        assert_eq!(E::DefaultCannotBeDeleted.kind(), ErrorKind::Conflict);
    }

    #[test]
    fn types_and_defaults() {
        assert_eq!(
            EnvironmentType::ALL
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>(),
            ["production", "staging", "development", "preview"]
        );
        assert!(EnvironmentType::parse("prod").is_err());
        assert!(Slug::parse(DEFAULT_ENVIRONMENT_NAME).is_ok());
        assert_eq!(CLONED_CONNECTION_STATUS, ConnectionStatus::Pending);
    }

    #[test]
    fn environments_serialize_through_value_objects() {
        let env = Environment {
            id: Uuid::nil(),
            project_id: Uuid::nil(),
            name: Slug::parse("staging").unwrap(),
            display_name: Some("Staging".into()),
            env_type: EnvironmentType::Staging,
            description: None,
            color: Some(HexColor::parse("#f59e0b").unwrap()),
            git_branch: Some("develop".into()),
            is_default: false,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        };
        let v = serde_json::to_value(&env).unwrap();
        assert_eq!(v["env_type"], "staging");
        assert_eq!(v["color"], "#F59E0B");
        assert_eq!(serde_json::from_value::<Environment>(v).unwrap(), env);
    }
}
