//! The access port: everything authorising a project- or environment-scoped
//! request needs, read in one round trip (issue 11: the token's user, the
//! project, the caller's membership and the environment used to be four
//! queries one after another).

use async_trait::async_trait;
use patchbay_domain::{Environment, Project, Role, User};
use uuid::Uuid;

use crate::error::StoreError;

/// How a route names its project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectKey<'a> {
    /// `/api/v1/projects/:id/...`.
    Id(Uuid),
    /// `/api/:projectSlug/...`: the project's (already parsed) name.
    Name(&'a str),
}

/// How a route names its environment, within the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvironmentKey<'a> {
    /// `.../environments/:envId/...`.
    Id(Uuid),
    /// `/api/:projectSlug/:environmentSlug/...`: the (already parsed) slug.
    Name(&'a str),
}

/// What one [`AccessRepository::find_scope`] query found. Each part is
/// `None` when it does not exist; a part is only looked for inside the one
/// before it (the environment only inside the project).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The user the token names (`None`: deleted since the token was issued).
    pub user: Option<User>,
    /// The project, if it exists.
    pub project: Option<Project>,
    /// The user's role in it, if a member.
    pub role: Option<Role>,
    /// The environment of that project, when one was asked for and exists.
    pub environment: Option<Environment>,
}

/// Reads the authorisation scope of a request.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AccessRepository: Send + Sync {
    /// The user `user_id`, the project `project`, the user's role in it and
    /// (when `environment` is given) that environment of the project, in one
    /// query (left joins from the user; both backends).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`]/[`StoreError::Backend`] only: anything
    /// missing is a `None` in the [`Scope`].
    async fn find_scope<'a>(
        &self,
        user_id: Uuid,
        project: ProjectKey<'a>,
        environment: Option<EnvironmentKey<'a>>,
    ) -> Result<Scope, StoreError>;
}
