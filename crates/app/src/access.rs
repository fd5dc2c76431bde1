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
    use crate::test_support::{environment, project, user};
    use chrono::Utc;
    use patchbay_domain::Member;

    /// A store holding `projects`, the memberships `(project, user, role)`
    /// and `environments`. Each lookup answers only for the ids it is given:
    /// a use case that asks with the wrong project id finds nothing.
    fn service(
        projects: Vec<Project>,
        memberships: Vec<(Uuid, Uuid, Role)>,
        environments: Vec<Environment>,
    ) -> AccessService {
        let mut project_repo = MockProjectRepository::new();
        let by_id = projects.clone();
        project_repo
            .expect_find_project()
            .returning(move |id| Ok(by_id.iter().find(|p| p.id == id).cloned()));
        project_repo
            .expect_find_project_by_name()
            .returning(move |name| Ok(projects.iter().find(|p| p.name.as_str() == name).cloned()));
        let mut members = MockMemberRepository::new();
        members.expect_find_member().returning(move |p, u| {
            Ok(memberships
                .iter()
                .find(|(mp, mu, _)| *mp == p && *mu == u)
                .map(|&(project_id, user_id, role)| Member {
                    id: Uuid::now_v7(),
                    project_id,
                    user_id,
                    role,
                    created_at: Utc::now(),
                }))
        });
        let mut envs = MockEnvironmentRepository::new();
        let by_id = environments.clone();
        envs.expect_find_environment().returning(move |p, e| {
            Ok(by_id
                .iter()
                .find(|env| env.project_id == p && env.id == e)
                .cloned())
        });
        envs.expect_find_environment_by_name()
            .returning(move |p, name| {
                Ok(environments
                    .iter()
                    .find(|env| env.project_id == p && env.name.as_str() == name)
                    .cloned())
            });
        AccessService::new(Arc::new(project_repo), Arc::new(members), Arc::new(envs))
    }

    fn named(name: &str) -> Project {
        Project {
            name: ProjectName::parse(name).unwrap(),
            ..project(Uuid::now_v7())
        }
    }

    #[tokio::test]
    async fn missing_project_is_404_before_membership_is_looked_at() {
        let ada = user("ada");
        let p = project(Uuid::now_v7());
        let svc = service(vec![p.clone()], vec![(p.id, ada.id, Role::Owner)], vec![]);
        let err = svc
            .project(&ada, Uuid::now_v7(), Action::ViewProject)
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
        assert_eq!(err.message, "Project not found");
    }

    #[tokio::test]
    async fn non_members_get_403_project_access_denied() {
        let ada = user("ada");
        let grace = user("grace");
        let (p, q) = (named("p"), named("q"));
        // Ada is an owner, but of another project.
        let svc = service(
            vec![p.clone(), q.clone()],
            vec![(q.id, ada.id, Role::Owner), (p.id, grace.id, Role::Owner)],
            vec![],
        );
        for err in [
            svc.project(&ada, p.id, Action::ViewProject)
                .await
                .unwrap_err(),
            svc.environment_by_slug(&ada, "p", "production", Action::ViewProject)
                .await
                .unwrap_err(),
        ] {
            assert_eq!(err.kind, AppErrorKind::Forbidden);
            assert_eq!(err.message, "Project access denied");
        }
        let ok = svc.project(&ada, q.id, Action::ViewProject).await.unwrap();
        assert_eq!(ok.project.id, q.id);
    }

    #[tokio::test]
    async fn roles_are_checked_against_the_domain_matrix() {
        let ada = user("ada");
        let p = project(Uuid::now_v7());
        let viewer = service(vec![p.clone()], vec![(p.id, ada.id, Role::Viewer)], vec![]);
        let err = viewer
            .project(&ada, p.id, Action::UpdateProject)
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Forbidden);
        let admin = service(vec![p.clone()], vec![(p.id, ada.id, Role::Admin)], vec![]);
        let ok = admin
            .project(&ada, p.id, Action::UpdateProject)
            .await
            .unwrap();
        assert_eq!(ok.role, Role::Admin);
        assert_eq!(ok.project.id, p.id);
    }

    #[tokio::test]
    async fn an_environment_of_another_project_is_not_found() {
        let ada = user("ada");
        let (p, q) = (named("p"), named("q"));
        let (pe, qe) = (environment(p.id), environment(q.id));
        let svc = service(
            vec![p.clone(), q.clone()],
            vec![(p.id, ada.id, Role::Owner), (q.id, ada.id, Role::Owner)],
            vec![pe.clone(), qe.clone()],
        );
        let err = svc
            .environment_by_id(&ada, p.id, qe.id, Action::ViewProject)
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
        assert_eq!(err.message, "Environment not found");
        let ok = svc
            .environment_by_id(&ada, p.id, pe.id, Action::ViewProject)
            .await
            .unwrap();
        assert_eq!((ok.project.id, ok.environment.id), (p.id, pe.id));
        let ok = svc
            .environment_by_slug(&ada, "q", "production", Action::ViewProject)
            .await
            .unwrap();
        assert_eq!((ok.project.id, ok.environment.id), (q.id, qe.id));
        let err = svc
            .environment_by_slug(&ada, "q", "staging", Action::ViewProject)
            .await
            .unwrap_err();
        assert_eq!(err.message, "Environment not found");
    }
}
