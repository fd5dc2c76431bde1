//! Environment use cases: list, create, get, update, delete (default → 409,
//! non-empty → 409 unless forced), set-default, clone.

use std::sync::Arc;

use crate::access::{EnvironmentAccess, ProjectAccess};
use crate::error::{AppError, StoreError};
use crate::ports::{Clock, CloneReport, EnvironmentRepository, IdGenerator, constraint};
use crate::projects::{parse_color, parse_description, parse_display_name};
use patchbay_domain::{Action, Environment, EnvironmentType, Slug};

/// `POST …/environments` input (unvalidated).
#[derive(Debug, Clone, Default)]
pub struct NewEnvironmentInput {
    pub name: String,
    pub display_name: Option<String>,
    pub env_type: Option<String>,
    pub description: Option<String>,
    pub color: Option<String>,
    pub git_branch: Option<String>,
}

/// `PUT …/environments/:envId` input: `None` unchanged, `Some(None)` cleared.
#[derive(Debug, Clone, Default)]
pub struct EnvironmentPatchInput {
    pub name: Option<String>,
    pub display_name: Option<Option<String>>,
    pub env_type: Option<String>,
    pub description: Option<Option<String>>,
    pub color: Option<Option<String>>,
    pub git_branch: Option<Option<String>>,
}

/// `POST …/clone` input.
#[derive(Debug, Clone, Default)]
pub struct CloneInput {
    pub name: String,
    pub env_type: Option<String>,
    pub description: Option<String>,
    pub display_name: Option<String>,
}

fn parse_name(name: &str) -> Result<Slug, AppError> {
    Slug::parse(name).map_err(|e| AppError::invalid_field("name", e))
}

fn parse_type(v: &str) -> Result<EnvironmentType, AppError> {
    EnvironmentType::parse(v).map_err(|e| AppError::invalid_field("type", e))
}

/// A git branch name: 1–255 characters of letters, digits and `._/-`, not
/// starting with `-` or `/`, without `..` or `//`.
fn parse_git_branch(v: Option<String>) -> Result<Option<String>, AppError> {
    let Some(b) = v else { return Ok(None) };
    let ok = !b.is_empty()
        && b.len() <= 255
        && b.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'/' | b'-'))
        && !b.starts_with(['-', '/'])
        && !b.ends_with(['/', '.'])
        && !b.contains("..")
        && !b.contains("//");
    if ok {
        Ok(Some(b))
    } else {
        Err(AppError::invalid_field(
            "git_branch",
            "must be a branch name of letters, digits and . _ / - (no '..', no leading '-')",
        ))
    }
}

fn env_conflict(err: StoreError) -> AppError {
    match err {
        StoreError::Conflict(c) if c == constraint::ENVIRONMENT_NAME => {
            AppError::conflict("An environment with this name already exists in the project")
        }
        StoreError::NotFound => AppError::not_found("Environment not found"),
        other => other.into(),
    }
}

/// Environment use cases.
#[derive(Clone)]
pub struct EnvironmentService {
    environments: Arc<dyn EnvironmentRepository>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

impl std::fmt::Debug for EnvironmentService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvironmentService").finish_non_exhaustive()
    }
}

impl EnvironmentService {
    #[must_use]
    pub fn new(
        environments: Arc<dyn EnvironmentRepository>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self {
            environments,
            clock,
            ids,
        }
    }

    /// # Errors
    /// 403; store failures.
    pub async fn list(&self, access: &ProjectAccess) -> Result<Vec<Environment>, AppError> {
        access.role.require(Action::ViewEnvironment)?;
        Ok(self
            .environments
            .list_environments(access.project.id)
            .await?)
    }

    /// Creates an environment (type defaults to `development`).
    ///
    /// # Errors
    /// 400 naming the invalid field; 403; 409 name taken.
    pub async fn create(
        &self,
        access: &ProjectAccess,
        input: NewEnvironmentInput,
    ) -> Result<Environment, AppError> {
        access.role.require(Action::ManageEnvironments)?;
        let now = self.clock.now();
        let env = Environment {
            id: self.ids.new_id(),
            project_id: access.project.id,
            name: parse_name(&input.name)?,
            display_name: parse_display_name("display_name", input.display_name)?,
            env_type: input
                .env_type
                .as_deref()
                .map(parse_type)
                .transpose()?
                .unwrap_or(EnvironmentType::Development),
            description: parse_description("description", input.description)?,
            color: parse_color("color", input.color)?,
            git_branch: parse_git_branch(input.git_branch)?,
            is_default: false,
            created_at: now,
            updated_at: now,
        };
        self.environments
            .create_environment(env)
            .await
            .map_err(env_conflict)
    }

    /// Changes only the fields sent.
    ///
    /// # Errors
    /// 400; 403; 409 name taken.
    pub async fn update(
        &self,
        access: EnvironmentAccess,
        patch: EnvironmentPatchInput,
    ) -> Result<Environment, AppError> {
        access.role.require(Action::ManageEnvironments)?;
        let mut env = access.environment;
        if let Some(name) = patch.name {
            env.name = parse_name(&name)?;
        }
        if let Some(v) = patch.display_name {
            env.display_name = parse_display_name("display_name", v)?;
        }
        if let Some(v) = patch.env_type {
            env.env_type = parse_type(&v)?;
        }
        if let Some(v) = patch.description {
            env.description = parse_description("description", v)?;
        }
        if let Some(v) = patch.color {
            env.color = parse_color("color", v)?;
        }
        if let Some(v) = patch.git_branch {
            env.git_branch = parse_git_branch(v)?;
        }
        env.updated_at = self.clock.now();
        self.environments
            .update_environment(env)
            .await
            .map_err(env_conflict)
    }

    /// Deletes an environment under the domain's rule.
    ///
    /// # Errors
    /// 403; 409 default or (without force) non-empty.
    pub async fn delete(&self, access: &EnvironmentAccess, force: bool) -> Result<(), AppError> {
        access.role.require(Action::ManageEnvironments)?;
        self.environments
            .delete_environment(access.project.id, access.environment.id, force)
            .await
            .map_err(env_conflict)??;
        Ok(())
    }

    /// Makes the environment the project's default.
    ///
    /// # Errors
    /// 403; store failures.
    pub async fn set_default(&self, access: &EnvironmentAccess) -> Result<Environment, AppError> {
        access.role.require(Action::ManageEnvironments)?;
        self.environments
            .set_default_environment(access.project.id, access.environment.id, self.clock.now())
            .await
            .map_err(env_conflict)
    }

    /// Copies the environment and everything in it under a new name.
    ///
    /// # Errors
    /// 400; 403; 409 name taken.
    pub async fn clone_environment(
        &self,
        access: &EnvironmentAccess,
        input: CloneInput,
    ) -> Result<CloneReport, AppError> {
        access.role.require(Action::CloneEnvironment)?;
        let source = &access.environment;
        let now = self.clock.now();
        let target = Environment {
            id: self.ids.new_id(),
            project_id: access.project.id,
            name: parse_name(&input.name)?,
            display_name: parse_display_name("display_name", input.display_name)?,
            env_type: input
                .env_type
                .as_deref()
                .map(parse_type)
                .transpose()?
                .unwrap_or(source.env_type),
            description: match input.description {
                Some(d) => parse_description("description", Some(d))?,
                None => source.description.clone(),
            },
            color: source.color.clone(),
            git_branch: source.git_branch.clone(),
            is_default: false,
            created_at: now,
            updated_at: now,
        };
        self.environments
            .clone_environment(source.id, target, access.user.id)
            .await
            .map_err(env_conflict)
    }
}
