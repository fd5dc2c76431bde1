//! Environment use cases: list, create, get, update, delete (default → 409,
//! non-empty → 409 unless forced), set-default, clone.

use std::sync::Arc;

use crate::Constraint;
use crate::access::{EnvironmentAccess, ProjectAccess};
use crate::error::{AppError, StoreError};
use crate::ports::{Clock, CloneReport, EnvironmentRepository, IdGenerator};
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
        StoreError::Conflict(Constraint::EnvironmentName) => {
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::AppErrorKind;
    use crate::ports::{MockEnvironmentRepository, UuidV7Generator};
    use crate::test_support::{self, clock, now, project_access};
    use patchbay_domain::{EnvironmentError, HexColor, Role};
    use uuid::Uuid;

    fn service(environments: MockEnvironmentRepository) -> EnvironmentService {
        EnvironmentService::new(
            Arc::new(environments),
            Arc::new(clock()),
            Arc::new(UuidV7Generator),
        )
    }

    /// The shared default environment, made a described, coloured staging
    /// one that tracks a branch, so every field has something to keep or clear.
    fn environment(project_id: Uuid) -> Environment {
        Environment {
            name: Slug::parse("staging").unwrap(),
            display_name: Some("Staging".into()),
            env_type: EnvironmentType::Staging,
            description: Some("Pre-production".into()),
            color: Some(HexColor::parse("#F59E0B").unwrap()),
            git_branch: Some("develop".into()),
            ..test_support::environment(project_id)
        }
    }

    /// The shared environment access, in the staging environment above.
    fn env_access(role: Role) -> EnvironmentAccess {
        let mut access = test_support::env_access(role);
        access.environment = environment(access.project.id);
        access
    }

    fn named(name: &str) -> NewEnvironmentInput {
        NewEnvironmentInput {
            name: name.into(),
            ..NewEnvironmentInput::default()
        }
    }

    /// A store that must not be written to.
    fn untouched() -> MockEnvironmentRepository {
        let mut environments = MockEnvironmentRepository::new();
        environments.expect_create_environment().never();
        environments.expect_update_environment().never();
        environments.expect_delete_environment().never();
        environments.expect_set_default_environment().never();
        environments.expect_clone_environment().never();
        environments
    }

    #[tokio::test]
    async fn create_defaults_the_type_to_development_and_is_never_default() {
        let access = project_access(Role::Admin);
        let project_id = access.project.id;
        let mut environments = MockEnvironmentRepository::new();
        environments
            .expect_create_environment()
            .times(1)
            .withf(move |env| {
                env.project_id == project_id
                    && env.name.as_str() == "feature-x"
                    && env.env_type == EnvironmentType::Development
                    && !env.is_default
                    && env.git_branch.as_deref() == Some("feature/x-1.2_b")
                    && env.created_at == now()
                    && env.updated_at == now()
            })
            .returning(Ok);
        let env = service(environments)
            .create(
                &access,
                NewEnvironmentInput {
                    git_branch: Some("feature/x-1.2_b".into()),
                    ..named("feature-x")
                },
            )
            .await
            .unwrap();
        assert_eq!(env.env_type, EnvironmentType::Development);
    }

    #[tokio::test]
    async fn create_refuses_bad_fields_naming_them_without_the_store() {
        let svc = service(untouched());
        let access = project_access(Role::Owner);
        let mut cases = vec![
            (named("Staging"), "name"),
            (named("-x"), "name"),
            (named(""), "name"),
            (
                NewEnvironmentInput {
                    env_type: Some("prod".into()),
                    ..named("ok")
                },
                "type",
            ),
            (
                NewEnvironmentInput {
                    color: Some("orange".into()),
                    ..named("ok")
                },
                "color",
            ),
            (
                NewEnvironmentInput {
                    display_name: Some(" ".into()),
                    ..named("ok")
                },
                "display_name",
            ),
        ];
        for branch in [
            "",
            "-rf",
            "/abs",
            "a..b",
            "a//b",
            "trailing/",
            "trailing.",
            "has space",
            "semi;colon",
            "new\nline",
            "ünicode",
        ] {
            cases.push((
                NewEnvironmentInput {
                    git_branch: Some(branch.into()),
                    ..named("ok")
                },
                "git_branch",
            ));
        }
        cases.push((
            NewEnvironmentInput {
                git_branch: Some("b".repeat(256)),
                ..named("ok")
            },
            "git_branch",
        ));
        for (input, field) in cases {
            let shown = format!("{input:?}");
            let err = svc.create(&access, input).await.unwrap_err();
            assert_eq!(err.kind, AppErrorKind::BadRequest, "{shown}");
            assert!(
                err.message.starts_with(&format!("{field}: ")),
                "{shown}: {}",
                err.message
            );
        }
    }

    #[tokio::test]
    async fn create_maps_a_taken_name_to_409() {
        let mut environments = MockEnvironmentRepository::new();
        environments
            .expect_create_environment()
            .returning(|_| Err(StoreError::Conflict(Constraint::EnvironmentName)));
        let err = service(environments)
            .create(&project_access(Role::Admin), named("staging"))
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Conflict);
        assert_eq!(
            err.message,
            "An environment with this name already exists in the project"
        );
    }

    #[tokio::test]
    async fn viewers_and_members_cannot_manage_environments() {
        let svc = service(untouched());
        for role in [Role::Viewer, Role::Member] {
            let err = svc
                .create(&project_access(role), named("ok"))
                .await
                .unwrap_err();
            assert_eq!(err.kind, AppErrorKind::Forbidden, "{role} create");
            let err = svc
                .update(env_access(role), EnvironmentPatchInput::default())
                .await
                .unwrap_err();
            assert_eq!(err.kind, AppErrorKind::Forbidden, "{role} update");
            let err = svc.delete(&env_access(role), true).await.unwrap_err();
            assert_eq!(err.kind, AppErrorKind::Forbidden, "{role} delete");
            let err = svc.set_default(&env_access(role)).await.unwrap_err();
            assert_eq!(err.kind, AppErrorKind::Forbidden, "{role} set_default");
            let err = svc
                .clone_environment(
                    &env_access(role),
                    CloneInput {
                        name: "copy".into(),
                        ..CloneInput::default()
                    },
                )
                .await
                .unwrap_err();
            assert_eq!(err.kind, AppErrorKind::Forbidden, "{role} clone");
        }
    }

    #[tokio::test]
    async fn update_changes_only_the_fields_sent_and_null_clears() {
        let access = env_access(Role::Admin);
        let before = access.environment.clone();
        let mut environments = MockEnvironmentRepository::new();
        environments
            .expect_update_environment()
            .times(1)
            .withf(move |env| {
                env.id == before.id
                    && env.name == before.name
                    && env.display_name == before.display_name
                    && env.env_type == EnvironmentType::Preview
                    && env.description == before.description
                    && env.color.is_none()
                    && env.git_branch.is_none()
                    && env.is_default == before.is_default
                    && env.created_at == before.created_at
                    && env.updated_at == now()
            })
            .returning(Ok);
        service(environments)
            .update(
                access,
                EnvironmentPatchInput {
                    env_type: Some("preview".into()),
                    color: Some(None),
                    git_branch: Some(None),
                    ..EnvironmentPatchInput::default()
                },
            )
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn update_refuses_bad_fields_before_the_store() {
        let svc = service(untouched());
        for (patch, field) in [
            (
                EnvironmentPatchInput {
                    git_branch: Some(Some("..".into())),
                    ..EnvironmentPatchInput::default()
                },
                "git_branch",
            ),
            (
                EnvironmentPatchInput {
                    env_type: Some("qa".into()),
                    ..EnvironmentPatchInput::default()
                },
                "type",
            ),
            (
                EnvironmentPatchInput {
                    name: Some("UPPER".into()),
                    ..EnvironmentPatchInput::default()
                },
                "name",
            ),
        ] {
            let err = svc
                .update(env_access(Role::Admin), patch)
                .await
                .unwrap_err();
            assert_eq!(err.kind, AppErrorKind::BadRequest);
            assert!(err.message.starts_with(&format!("{field}: ")), "{err}");
        }
    }

    #[tokio::test]
    async fn delete_maps_the_domain_refusal_to_409_and_passes_force() {
        for (refusal, force) in [
            (EnvironmentError::DefaultCannotBeDeleted, true),
            (EnvironmentError::NotEmpty, false),
        ] {
            let access = env_access(Role::Admin);
            let (project_id, env_id) = (access.project.id, access.environment.id);
            let mut environments = MockEnvironmentRepository::new();
            environments
                .expect_delete_environment()
                .times(1)
                .withf(move |p, e, f| *p == project_id && *e == env_id && *f == force)
                .returning(move |_, _, _| Ok(Err(refusal)));
            let err = service(environments)
                .delete(&access, force)
                .await
                .unwrap_err();
            assert_eq!(err.kind, AppErrorKind::Conflict);
            assert_eq!(err.message, refusal.to_string());
        }

        let mut environments = MockEnvironmentRepository::new();
        environments
            .expect_delete_environment()
            .returning(|_, _, _| Err(StoreError::NotFound));
        let err = service(environments)
            .delete(&env_access(Role::Owner), false)
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
        assert_eq!(err.message, "Environment not found");

        let mut environments = MockEnvironmentRepository::new();
        environments
            .expect_delete_environment()
            .times(1)
            .returning(|_, _, _| Ok(Ok(())));
        service(environments)
            .delete(&env_access(Role::Admin), false)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn set_default_names_the_environment_and_the_time() {
        let access = env_access(Role::Admin);
        let (project_id, env_id) = (access.project.id, access.environment.id);
        let env = access.environment.clone();
        let mut environments = MockEnvironmentRepository::new();
        environments
            .expect_set_default_environment()
            .times(1)
            .withf(move |p, e, at| *p == project_id && *e == env_id && *at == now())
            .returning(move |_, _, _| Ok(env.clone()));
        service(environments).set_default(&access).await.unwrap();
    }

    fn report(environment: Environment) -> CloneReport {
        CloneReport {
            environment,
            resources: 3,
            resource_connections: 2,
            credential_connections: 1,
        }
    }

    #[tokio::test]
    async fn clone_defaults_type_and_description_to_the_source_and_is_never_default() {
        let access = env_access(Role::Admin);
        let source = access.environment.clone();
        assert!(source.is_default, "the fixture clones the default");
        let actor = access.user.id;
        let mut environments = MockEnvironmentRepository::new();
        environments
            .expect_clone_environment()
            .times(1)
            .withf(move |source_id, target, by| {
                *source_id == source.id
                    && *by == actor
                    && target.id != source.id
                    && target.project_id == source.project_id
                    && target.name.as_str() == "staging-copy"
                    && target.env_type == source.env_type
                    && target.description == source.description
                    && target.color == source.color
                    && target.git_branch == source.git_branch
                    && target.display_name.is_none()
                    && !target.is_default
                    && target.created_at == now()
            })
            .returning(|_, target, _| Ok(report(target)));
        let cloned = service(environments)
            .clone_environment(
                &access,
                CloneInput {
                    name: "staging-copy".into(),
                    ..CloneInput::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(cloned.resources, 3);
        assert!(!cloned.environment.is_default);
    }

    #[tokio::test]
    async fn clone_takes_the_type_and_description_sent() {
        let access = env_access(Role::Admin);
        let mut environments = MockEnvironmentRepository::new();
        environments
            .expect_clone_environment()
            .times(1)
            .withf(|_, target, _| {
                target.env_type == EnvironmentType::Preview
                    && target.description.as_deref() == Some("for PR 7")
                    && target.display_name.as_deref() == Some("PR 7")
                    && !target.is_default
            })
            .returning(|_, target, _| Ok(report(target)));
        service(environments)
            .clone_environment(
                &access,
                CloneInput {
                    name: "pr-7".into(),
                    env_type: Some("preview".into()),
                    description: Some("for PR 7".into()),
                    display_name: Some("PR 7".into()),
                },
            )
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn clone_refuses_bad_input_and_maps_a_taken_name() {
        let svc = service(untouched());
        for (input, field) in [
            (
                CloneInput {
                    name: "Bad Name".into(),
                    ..CloneInput::default()
                },
                "name",
            ),
            (
                CloneInput {
                    name: "ok".into(),
                    env_type: Some("live".into()),
                    ..CloneInput::default()
                },
                "type",
            ),
        ] {
            let err = svc
                .clone_environment(&env_access(Role::Admin), input)
                .await
                .unwrap_err();
            assert_eq!(err.kind, AppErrorKind::BadRequest);
            assert!(err.message.starts_with(&format!("{field}: ")), "{err}");
        }

        let mut environments = MockEnvironmentRepository::new();
        environments
            .expect_clone_environment()
            .returning(|_, _, _| Err(StoreError::Conflict(Constraint::EnvironmentName)));
        let err = service(environments)
            .clone_environment(
                &env_access(Role::Admin),
                CloneInput {
                    name: "production".into(),
                    ..CloneInput::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Conflict);
    }
}
