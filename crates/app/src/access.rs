//! The one place project-scoped requests are authorised: resolve the
//! project (by id or slug) and, where the route names one, the environment;
//! find the caller's membership; check `Role::allows(action)`. Every
//! project-scoped handler goes through [`AccessService`].
//!
//! Order matters: a missing project is 404 `Project not found`; a project the
//! caller is not a member of is 403 `Project access denied` (seed 002
//! distinguishes the two); only members learn whether an environment exists
//! (404 `Environment not found`); last, a role too low is 403.

use std::sync::Arc;

use patchbay_domain::{Action, Environment, Project, ProjectName, Role, Slug, User};
use uuid::Uuid;

use crate::error::AppError;
use crate::ports::{EnvironmentRepository, MemberRepository, ProjectRepository};

/// An authorised caller in a project.
#[derive(Debug, Clone)]
pub struct ProjectAccess {
    pub user: User,
    pub project: Project,
    pub role: Role,
}

/// An authorised caller in an environment of a project.
#[derive(Debug, Clone)]
pub struct EnvironmentAccess {
    pub user: User,
    pub project: Project,
    pub environment: Environment,
    pub role: Role,
}

/// Resolves and authorises project-scoped requests.
#[derive(Clone)]
pub struct AccessService {
    projects: Arc<dyn ProjectRepository>,
    members: Arc<dyn MemberRepository>,
    environments: Arc<dyn EnvironmentRepository>,
}

impl std::fmt::Debug for AccessService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessService").finish_non_exhaustive()
    }
}

pub(crate) fn project_not_found() -> AppError {
    AppError::not_found("Project not found")
}

fn environment_not_found() -> AppError {
    AppError::not_found("Environment not found")
}

impl AccessService {
    #[must_use]
    pub fn new(
        projects: Arc<dyn ProjectRepository>,
        members: Arc<dyn MemberRepository>,
        environments: Arc<dyn EnvironmentRepository>,
    ) -> Self {
        Self {
            projects,
            members,
            environments,
        }
    }

    async fn authorise(
        &self,
        user: &User,
        project: Option<Project>,
        action: Action,
    ) -> Result<ProjectAccess, AppError> {
        let project = project.ok_or_else(project_not_found)?;
        let member = self
            .members
            .find_member(project.id, user.id)
            .await?
            .ok_or_else(|| AppError::forbidden("Project access denied"))?;
        member.role.require(action)?;
        Ok(ProjectAccess {
            user: user.clone(),
            project,
            role: member.role,
        })
    }

    /// `/api/v1/projects/:id/...` routes.
    ///
    /// # Errors
    /// 404 / 403 as the module doc says.
    pub async fn project(
        &self,
        user: &User,
        project_id: Uuid,
        action: Action,
    ) -> Result<ProjectAccess, AppError> {
        let project = self.projects.find_project(project_id).await?;
        self.authorise(user, project, action).await
    }

    /// `/api/v1/projects/:id/environments/:envId/...` routes.
    ///
    /// # Errors
    /// 404 / 403 as the module doc says.
    pub async fn environment_by_id(
        &self,
        user: &User,
        project_id: Uuid,
        env_id: Uuid,
        action: Action,
    ) -> Result<EnvironmentAccess, AppError> {
        let access = self.project(user, project_id, Action::ViewProject).await?;
        let environment = self
            .environments
            .find_environment(project_id, env_id)
            .await?
            .ok_or_else(environment_not_found)?;
        access.role.require(action)?;
        Ok(EnvironmentAccess {
            user: access.user,
            project: access.project,
            environment,
            role: access.role,
        })
    }

    /// `/api/:projectSlug/:environmentSlug/...` routes.
    ///
    /// # Errors
    /// 404 / 403 as the module doc says.
    pub async fn environment_by_slug(
        &self,
        user: &User,
        project_slug: &str,
        environment_slug: &str,
        action: Action,
    ) -> Result<EnvironmentAccess, AppError> {
        // A string that is not a slug names no project or environment: answer
        // without asking the store (and never send it odd bytes such as NUL).
        let project = match ProjectName::parse(project_slug) {
            Ok(name) => self.projects.find_project_by_name(name.as_str()).await?,
            Err(_) => None,
        };
        let access = self.authorise(user, project, Action::ViewProject).await?;
        let environment = match Slug::parse(environment_slug) {
            Ok(name) => {
                self.environments
                    .find_environment_by_name(access.project.id, name.as_str())
                    .await?
            }
            Err(_) => None,
        }
        .ok_or_else(environment_not_found)?;
        access.role.require(action)?;
        Ok(EnvironmentAccess {
            user: access.user,
            project: access.project,
            environment,
            role: access.role,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::AppErrorKind;
    use crate::ports::{MockEnvironmentRepository, MockMemberRepository, MockProjectRepository};
    use crate::test_support::{project, user};
    use chrono::Utc;
    use patchbay_domain::Member;

    fn service(project: Option<Project>, role: Option<Role>) -> AccessService {
        let mut projects = MockProjectRepository::new();
        projects
            .expect_find_project()
            .returning(move |_| Ok(project.clone()));
        let mut members = MockMemberRepository::new();
        members.expect_find_member().returning(move |p, u| {
            Ok(role.map(|role| Member {
                id: Uuid::now_v7(),
                project_id: p,
                user_id: u,
                role,
                created_at: Utc::now(),
            }))
        });
        AccessService::new(
            Arc::new(projects),
            Arc::new(members),
            Arc::new(MockEnvironmentRepository::new()),
        )
    }

    #[tokio::test]
    async fn missing_project_is_404_before_membership_is_looked_at() {
        let err = service(None, Some(Role::Owner))
            .project(&user("ada"), Uuid::now_v7(), Action::ViewProject)
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
        assert_eq!(err.message, "Project not found");
    }

    #[tokio::test]
    async fn non_members_get_403_project_access_denied() {
        let err = service(Some(project(Uuid::now_v7())), None)
            .project(&user("ada"), Uuid::now_v7(), Action::ViewProject)
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Forbidden);
        assert_eq!(err.message, "Project access denied");
    }

    #[tokio::test]
    async fn roles_are_checked_against_the_domain_matrix() {
        let err = service(Some(project(Uuid::now_v7())), Some(Role::Viewer))
            .project(&user("ada"), Uuid::now_v7(), Action::UpdateProject)
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Forbidden);
        let ok = service(Some(project(Uuid::now_v7())), Some(Role::Admin))
            .project(&user("ada"), Uuid::now_v7(), Action::UpdateProject)
            .await
            .unwrap();
        assert_eq!(ok.role, Role::Admin);
    }
}
