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
use crate::ports::{AccessRepository, EnvironmentKey, ProjectKey, Scope};

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

/// Resolves and authorises project-scoped requests: one store round trip
/// ([`AccessRepository::find_scope`]) per request.
#[derive(Clone)]
pub struct AccessService {
    scopes: Arc<dyn AccessRepository>,
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

/// The answer for a token whose user no longer exists: the same 401 as any
/// other invalid token ([`crate::auth::AuthService::authenticate`]).
fn user_gone() -> AppError {
    AppError::unauthorized("Invalid token")
}

/// No UUID v7 (what patchbay generates) is nil: a key that finds nothing.
const NO_PROJECT: ProjectKey<'static> = ProjectKey::Id(Uuid::nil());

impl AccessService {
    #[must_use]
    pub fn new(scopes: Arc<dyn AccessRepository>) -> Self {
        Self { scopes }
    }

    /// Applies the module's order to what the store found; `Ok` carries the
    /// scope's parts, the environment still optional.
    fn decide(
        scope: Scope,
        action: Action,
        wants_environment: bool,
    ) -> Result<(User, Project, Role, Option<Environment>), AppError> {
        let user = scope.user.ok_or_else(user_gone)?;
        let project = scope.project.ok_or_else(project_not_found)?;
        let role = scope
            .role
            .ok_or_else(|| AppError::forbidden("Project access denied"))?;
        if wants_environment && scope.environment.is_none() {
            return Err(environment_not_found());
        }
        role.require(action)?;
        Ok((user, project, role, scope.environment))
    }

    /// `/api/v1/projects/:id/...` routes, for the token's user `caller`.
    ///
    /// # Errors
    /// 401 when the user no longer exists; 404 / 403 as the module doc says.
    pub async fn project(
        &self,
        caller: Uuid,
        project_id: Uuid,
        action: Action,
    ) -> Result<ProjectAccess, AppError> {
        let scope = self
            .scopes
            .find_scope(caller, ProjectKey::Id(project_id), None)
            .await?;
        let (user, project, role, _) = Self::decide(scope, action, false)?;
        Ok(ProjectAccess {
            user,
            project,
            role,
        })
    }

    /// `/api/v1/projects/:id/environments/:envId/...` routes.
    ///
    /// # Errors
    /// 401 when the user no longer exists; 404 / 403 as the module doc says.
    pub async fn environment_by_id(
        &self,
        caller: Uuid,
        project_id: Uuid,
        env_id: Uuid,
        action: Action,
    ) -> Result<EnvironmentAccess, AppError> {
        let scope = self
            .scopes
            .find_scope(
                caller,
                ProjectKey::Id(project_id),
                Some(EnvironmentKey::Id(env_id)),
            )
            .await?;
        Self::environment_access(scope, action)
    }

    /// `/api/:projectSlug/:environmentSlug/...` routes.
    ///
    /// # Errors
    /// 401 when the user no longer exists; 404 / 403 as the module doc says.
    pub async fn environment_by_slug(
        &self,
        caller: Uuid,
        project_slug: &str,
        environment_slug: &str,
        action: Action,
    ) -> Result<EnvironmentAccess, AppError> {
        // A string that is not a slug names no project or environment: never
        // send it to the store (odd bytes such as NUL are refused there), but
        // still look the user up, so a deleted user's token stays 401 first.
        let project_name = ProjectName::parse(project_slug).ok();
        let environment_name = Slug::parse(environment_slug).ok();
        let project = project_name
            .as_ref()
            .map_or(NO_PROJECT, |name| ProjectKey::Name(name.as_str()));
        let environment = environment_name
            .as_ref()
            .map(|name| EnvironmentKey::Name(name.as_str()));
        let scope = self.scopes.find_scope(caller, project, environment).await?;
        Self::environment_access(scope, action)
    }

    fn environment_access(scope: Scope, action: Action) -> Result<EnvironmentAccess, AppError> {
        let (user, project, role, environment) = Self::decide(scope, action, true)?;
        let environment = environment.ok_or_else(environment_not_found)?;
        Ok(EnvironmentAccess {
            user,
            project,
            environment,
            role,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::AppErrorKind;
    use crate::test_support::{environment, project, user};

    /// A store holding `users`, `projects`, the memberships `(project, user,
    /// role)` and `environments`, answering [`AccessRepository::find_scope`]
    /// as the real join does: each part only inside the one before it.
    struct FakeScopes {
        users: Vec<User>,
        projects: Vec<Project>,
        memberships: Vec<(Uuid, Uuid, Role)>,
        environments: Vec<Environment>,
    }

    #[async_trait::async_trait]
    impl AccessRepository for FakeScopes {
        async fn find_scope<'a>(
            &self,
            user_id: Uuid,
            project: ProjectKey<'a>,
            environment: Option<EnvironmentKey<'a>>,
        ) -> Result<Scope, crate::StoreError> {
            let Some(user) = self.users.iter().find(|u| u.id == user_id).cloned() else {
                return Ok(Scope {
                    user: None,
                    project: None,
                    role: None,
                    environment: None,
                });
            };
            let project = self
                .projects
                .iter()
                .find(|p| match project {
                    ProjectKey::Id(id) => p.id == id,
                    ProjectKey::Name(name) => p.name.as_str() == name,
                })
                .cloned();
            let role = project.as_ref().and_then(|p| {
                self.memberships
                    .iter()
                    .find(|(mp, mu, _)| *mp == p.id && *mu == user_id)
                    .map(|m| m.2)
            });
            let environment = project.as_ref().and_then(|p| {
                let key = environment?;
                self.environments
                    .iter()
                    .find(|e| {
                        e.project_id == p.id
                            && match key {
                                EnvironmentKey::Id(id) => e.id == id,
                                EnvironmentKey::Name(name) => e.name.as_str() == name,
                            }
                    })
                    .cloned()
            });
            Ok(Scope {
                user: Some(user),
                project,
                role,
                environment,
            })
        }
    }

    /// The users `users` and the store content the other arguments name.
    fn service(
        users: &[&User],
        projects: Vec<Project>,
        memberships: Vec<(Uuid, Uuid, Role)>,
        environments: Vec<Environment>,
    ) -> AccessService {
        AccessService::new(Arc::new(FakeScopes {
            users: users.iter().map(|u| (*u).clone()).collect(),
            projects,
            memberships,
            environments,
        }))
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
        let svc = service(
            &[&ada],
            vec![p.clone()],
            vec![(p.id, ada.id, Role::Owner)],
            vec![],
        );
        let err = svc
            .project(ada.id, Uuid::now_v7(), Action::ViewProject)
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
            &[&ada, &grace],
            vec![p.clone(), q.clone()],
            vec![(q.id, ada.id, Role::Owner), (p.id, grace.id, Role::Owner)],
            vec![],
        );
        for err in [
            svc.project(ada.id, p.id, Action::ViewProject)
                .await
                .unwrap_err(),
            svc.environment_by_slug(ada.id, "p", "production", Action::ViewProject)
                .await
                .unwrap_err(),
        ] {
            assert_eq!(err.kind, AppErrorKind::Forbidden);
            assert_eq!(err.message, "Project access denied");
        }
        let ok = svc
            .project(ada.id, q.id, Action::ViewProject)
            .await
            .unwrap();
        assert_eq!(ok.project.id, q.id);
    }

    #[tokio::test]
    async fn roles_are_checked_against_the_domain_matrix() {
        let ada = user("ada");
        let p = project(Uuid::now_v7());
        let viewer = service(
            &[&ada],
            vec![p.clone()],
            vec![(p.id, ada.id, Role::Viewer)],
            vec![],
        );
        let err = viewer
            .project(ada.id, p.id, Action::UpdateProject)
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Forbidden);
        let admin = service(
            &[&ada],
            vec![p.clone()],
            vec![(p.id, ada.id, Role::Admin)],
            vec![],
        );
        let ok = admin
            .project(ada.id, p.id, Action::UpdateProject)
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
            &[&ada],
            vec![p.clone(), q.clone()],
            vec![(p.id, ada.id, Role::Owner), (q.id, ada.id, Role::Owner)],
            vec![pe.clone(), qe.clone()],
        );
        let err = svc
            .environment_by_id(ada.id, p.id, qe.id, Action::ViewProject)
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
        assert_eq!(err.message, "Environment not found");
        let ok = svc
            .environment_by_id(ada.id, p.id, pe.id, Action::ViewProject)
            .await
            .unwrap();
        assert_eq!((ok.project.id, ok.environment.id), (p.id, pe.id));
        let ok = svc
            .environment_by_slug(ada.id, "q", "production", Action::ViewProject)
            .await
            .unwrap();
        assert_eq!((ok.project.id, ok.environment.id), (q.id, qe.id));
        let err = svc
            .environment_by_slug(ada.id, "q", "staging", Action::ViewProject)
            .await
            .unwrap_err();
        assert_eq!(err.message, "Environment not found");
    }

    #[tokio::test]
    async fn a_deleted_user_is_401_before_anything_else_is_decided() {
        let ada = user("ada");
        let p = named("p");
        let pe = environment(p.id);
        // Ada's token outlived her account; the project and membership remain.
        let svc = service(
            &[],
            vec![p.clone()],
            vec![(p.id, ada.id, Role::Owner)],
            vec![pe.clone()],
        );
        for err in [
            svc.project(ada.id, p.id, Action::ViewProject)
                .await
                .unwrap_err(),
            svc.project(ada.id, Uuid::now_v7(), Action::ViewProject)
                .await
                .unwrap_err(),
            svc.environment_by_id(ada.id, p.id, pe.id, Action::ViewProject)
                .await
                .unwrap_err(),
            svc.environment_by_slug(ada.id, "p", "production", Action::ViewProject)
                .await
                .unwrap_err(),
            // Not even a slug: the user is still checked first.
            svc.environment_by_slug(ada.id, "P\0", "x y", Action::ViewProject)
                .await
                .unwrap_err(),
        ] {
            assert_eq!(err.kind, AppErrorKind::Unauthorized);
            assert_eq!(err.message, "Invalid token");
        }
    }

    #[tokio::test]
    async fn strings_that_are_not_slugs_find_nothing() {
        let ada = user("ada");
        let p = named("p");
        let svc = service(
            &[&ada],
            vec![p.clone()],
            vec![(p.id, ada.id, Role::Owner)],
            vec![environment(p.id)],
        );
        let err = svc
            .environment_by_slug(ada.id, "P\0", "production", Action::ViewProject)
            .await
            .unwrap_err();
        assert_eq!(err.message, "Project not found");
        let err = svc
            .environment_by_slug(ada.id, "p", "no such\0slug", Action::ViewProject)
            .await
            .unwrap_err();
        assert_eq!(err.message, "Environment not found");
    }

    #[tokio::test]
    async fn the_action_is_checked_after_the_environment_is_found() {
        let ada = user("ada");
        let p = named("p");
        let svc = service(
            &[&ada],
            vec![p.clone()],
            vec![(p.id, ada.id, Role::Viewer)],
            vec![environment(p.id)],
        );
        let err = svc
            .environment_by_slug(ada.id, "p", "staging", Action::WriteResources)
            .await
            .unwrap_err();
        assert_eq!(err.message, "Environment not found");
        let err = svc
            .environment_by_slug(ada.id, "p", "production", Action::WriteResources)
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Forbidden);
    }
}
