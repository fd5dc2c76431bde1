//! Project use cases: list, create (owner membership + default environment
//! in one transaction), update only what was sent, delete, icons.

use std::sync::Arc;

use patchbay_domain::{
    DEFAULT_ENVIRONMENT_NAME, DisplayName, Environment, EnvironmentType, HexColor, ImageFormat,
    MAX_ICON_BYTES, Member, Page, Project, ProjectName, Role, Slug, User,
};
use uuid::Uuid;

use crate::Constraint;
use crate::access::ProjectAccess;
use crate::error::{AppError, AppErrorKind, StoreError};
use crate::ports::{Clock, FileStore, IdGenerator, ProjectRepository, ProjectWithRole};

/// The URL prefix icons are served under.
pub const ICON_URL_PREFIX: &str = "/uploads/projects/";

/// `POST /api/v1/projects` input (unvalidated).
#[derive(Debug, Clone, Default)]
pub struct NewProjectInput {
    pub name: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub color: Option<String>,
    pub single_server_mode: Option<bool>,
    pub default_server_id: Option<Uuid>,
    pub auto_error_tracking_enabled: Option<bool>,
}

/// `PUT /api/v1/projects/:id` input: `None` = not sent (unchanged),
/// `Some(None)` = sent as `null` (cleared).
#[derive(Debug, Clone, Default)]
pub struct ProjectPatchInput {
    pub name: Option<String>,
    pub display_name: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub color: Option<Option<String>>,
    pub single_server_mode: Option<bool>,
    pub default_server_id: Option<Option<Uuid>>,
    pub auto_error_tracking_enabled: Option<bool>,
}

/// The longest description accepted, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;

pub(crate) fn parse_display_name(
    field: &str,
    v: Option<String>,
) -> Result<Option<String>, AppError> {
    v.map(|s| {
        DisplayName::parse(&s)
            .map(|d| d.as_str().to_owned())
            .map_err(|e| AppError::invalid_field(field, e))
    })
    .transpose()
}

pub(crate) fn parse_description(
    field: &str,
    v: Option<String>,
) -> Result<Option<String>, AppError> {
    match v {
        Some(s) if s.chars().count() > MAX_DESCRIPTION_CHARS => Err(AppError::invalid_field(
            field,
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        )),
        Some(s) if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => Err(
            AppError::invalid_field(field, "must not contain control characters"),
        ),
        other => Ok(other),
    }
}

pub(crate) fn parse_color(field: &str, v: Option<String>) -> Result<Option<HexColor>, AppError> {
    v.map(|s| HexColor::parse(&s).map_err(|e| AppError::invalid_field(field, e)))
        .transpose()
}

fn name_conflict(err: StoreError) -> AppError {
    match err {
        StoreError::Conflict(Constraint::ProjectName) => {
            AppError::conflict("A project with this name already exists")
        }
        other => other.into(),
    }
}

/// Project use cases.
#[derive(Clone)]
pub struct ProjectService {
    projects: Arc<dyn ProjectRepository>,
    files: Arc<dyn FileStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

impl std::fmt::Debug for ProjectService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProjectService").finish_non_exhaustive()
    }
}

impl ProjectService {
    #[must_use]
    pub fn new(
        projects: Arc<dyn ProjectRepository>,
        files: Arc<dyn FileStore>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self {
            projects,
            files,
            clock,
            ids,
        }
    }

    /// The caller's projects.
    ///
    /// # Errors
    /// Store failures.
    pub async fn list(
        &self,
        user: &User,
        page: Page,
    ) -> Result<(Vec<ProjectWithRole>, i64), AppError> {
        Ok(self.projects.list_projects_for_user(user.id, page).await?)
    }

    /// Creates a project owned by the caller, with a default `production`
    /// environment.
    ///
    /// # Errors
    /// 400 naming the invalid field; 409 when the name is taken.
    pub async fn create(
        &self,
        user: &User,
        input: NewProjectInput,
    ) -> Result<ProjectWithRole, AppError> {
        let name =
            ProjectName::parse(&input.name).map_err(|e| AppError::invalid_field("name", e))?;
        let display_name = parse_display_name("display_name", input.display_name)?;
        let description = parse_description("description", input.description)?;
        let color = parse_color("color", input.color)?;
        let now = self.clock.now();
        let project = Project {
            id: self.ids.new_id(),
            name,
            display_name,
            description,
            color,
            icon_path: None,
            single_server_mode: input.single_server_mode.unwrap_or(false),
            default_server_id: input.default_server_id,
            auto_error_tracking_enabled: input.auto_error_tracking_enabled.unwrap_or(false),
            owner_id: user.id,
            created_at: now,
            updated_at: now,
        };
        let owner = Member {
            id: self.ids.new_id(),
            project_id: project.id,
            user_id: user.id,
            role: Role::Owner,
            created_at: now,
        };
        let environment = Environment {
            id: self.ids.new_id(),
            project_id: project.id,
            name: Slug::parse(DEFAULT_ENVIRONMENT_NAME)
                .map_err(|e| AppError::internal(e.to_string()))?,
            display_name: Some("Production".into()),
            env_type: EnvironmentType::Production,
            description: None,
            color: None,
            git_branch: None,
            is_default: true,
            created_at: now,
            updated_at: now,
        };
        let project = self
            .projects
            .create_project(project, owner, environment)
            .await
            .map_err(name_conflict)?;
        Ok(ProjectWithRole {
            project,
            role: Role::Owner,
        })
    }

    /// Changes only the fields sent; `null` clears a nullable field.
    ///
    /// # Errors
    /// 400 naming the invalid field; 409 when renamed onto a taken name.
    pub async fn update(
        &self,
        access: ProjectAccess,
        patch: ProjectPatchInput,
    ) -> Result<ProjectWithRole, AppError> {
        let mut project = access.project;
        if let Some(name) = patch.name {
            project.name =
                ProjectName::parse(&name).map_err(|e| AppError::invalid_field("name", e))?;
        }
        if let Some(v) = patch.display_name {
            project.display_name = parse_display_name("display_name", v)?;
        }
        if let Some(v) = patch.description {
            project.description = parse_description("description", v)?;
        }
        if let Some(v) = patch.color {
            project.color = parse_color("color", v)?;
        }
        if let Some(v) = patch.single_server_mode {
            project.single_server_mode = v;
        }
        if let Some(v) = patch.default_server_id {
            project.default_server_id = v;
        }
        if let Some(v) = patch.auto_error_tracking_enabled {
            project.auto_error_tracking_enabled = v;
        }
        project.updated_at = self.clock.now();
        let project = self
            .projects
            .update_project(project)
            .await
            .map_err(name_conflict)?;
        Ok(ProjectWithRole {
            project,
            role: access.role,
        })
    }

    /// Deletes the project and everything in it (and its icon file).
    ///
    /// # Errors
    /// Store failures.
    pub async fn delete(&self, access: ProjectAccess) -> Result<(), AppError> {
        self.projects.delete_project(access.project.id).await?;
        if let Some(name) = access.project.icon_path.as_deref().and_then(icon_file_name) {
            if let Err(e) = self.files.delete(name).await {
                tracing::warn!(error = %e, "could not remove the icon of a deleted project");
            }
        }
        Ok(())
    }

    /// Replaces the project's icon with `bytes`, recognised by content.
    ///
    /// # Errors
    /// 413 over 1 MiB; 400 when the bytes are not PNG, JPEG, GIF or WebP.
    pub async fn set_icon(
        &self,
        access: ProjectAccess,
        bytes: Vec<u8>,
    ) -> Result<ProjectWithRole, AppError> {
        if bytes.len() > MAX_ICON_BYTES {
            return Err(AppError::new(
                AppErrorKind::PayloadTooLarge,
                format!("An icon may be at most {MAX_ICON_BYTES} bytes"),
            ));
        }
        let format = ImageFormat::sniff(&bytes).ok_or_else(|| {
            AppError::invalid_field("icon", "must be a PNG, JPEG, GIF or WebP image")
        })?;
        let file = format!("{}.{}", Uuid::new_v4().simple(), format.extension());
        self.files
            .put(&file, bytes)
            .await
            .map_err(AppError::internal)?;
        let old = access.project.icon_path.clone();
        let mut project = access.project;
        project.icon_path = Some(format!("{ICON_URL_PREFIX}{file}"));
        project.updated_at = self.clock.now();
        let project = match self.projects.update_project(project).await {
            Ok(p) => p,
            Err(e) => {
                let _ = self.files.delete(&file).await;
                return Err(e.into());
            }
        };
        if let Some(name) = old.as_deref().and_then(icon_file_name) {
            let _ = self.files.delete(name).await;
        }
        Ok(ProjectWithRole {
            project,
            role: access.role,
        })
    }

    /// Removes the project's icon (file and path).
    ///
    /// # Errors
    /// 404 when the project has no icon.
    pub async fn delete_icon(&self, access: ProjectAccess) -> Result<ProjectWithRole, AppError> {
        let Some(old) = access.project.icon_path.clone() else {
            return Err(AppError::not_found("The project has no icon"));
        };
        let mut project = access.project;
        project.icon_path = None;
        project.updated_at = self.clock.now();
        let project = self.projects.update_project(project).await?;
        if let Some(name) = icon_file_name(&old) {
            let _ = self.files.delete(name).await;
        }
        Ok(ProjectWithRole {
            project,
            role: access.role,
        })
    }

    /// An icon file by its served name, with its format. Only names patchbay
    /// generates are looked up: anything else is "not found".
    ///
    /// # Errors
    /// 404 for unknown or ill-formed names.
    pub async fn icon(&self, file: &str) -> Result<(Vec<u8>, ImageFormat), AppError> {
        let not_found = || AppError::not_found("No such icon");
        let (stem, ext) = file.split_once('.').ok_or_else(not_found)?;
        let format = ImageFormat::from_extension(ext).ok_or_else(not_found)?;
        if stem.len() != 32
            || !stem
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(not_found());
        }
        let bytes = self
            .files
            .get(file)
            .await
            .map_err(AppError::internal)?
            .ok_or_else(not_found)?;
        Ok((bytes, format))
    }
}

fn icon_file_name(path: &str) -> Option<&str> {
    path.strip_prefix(ICON_URL_PREFIX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::ports::{MockFileStore, MockIdGenerator, MockProjectRepository};
    use crate::test_support::{self, clock, now, project_access, user};

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n rest of a png";

    fn ids() -> MockIdGenerator {
        let mut ids = MockIdGenerator::new();
        ids.expect_new_id().returning(Uuid::now_v7);
        ids
    }

    /// The shared project, with every optional field set so that updates
    /// have something to keep or clear.
    fn project(owner_id: Uuid) -> Project {
        Project {
            display_name: Some("Demo".into()),
            description: Some("A demo".into()),
            color: Some(HexColor::parse("#112233").unwrap()),
            single_server_mode: true,
            default_server_id: Some(Uuid::now_v7()),
            auto_error_tracking_enabled: true,
            ..test_support::project(owner_id)
        }
    }

    /// The shared project access, to the full project above, owned by its user.
    fn access(role: Role) -> ProjectAccess {
        let mut access = project_access(role);
        access.project = project(access.user.id);
        access
    }

    fn service(projects: MockProjectRepository, files: MockFileStore) -> ProjectService {
        ProjectService::new(
            Arc::new(projects),
            Arc::new(files),
            Arc::new(clock()),
            Arc::new(ids()),
        )
    }

    fn input(name: &str) -> NewProjectInput {
        NewProjectInput {
            name: name.into(),
            ..NewProjectInput::default()
        }
    }

    fn is_generated_name(name: &str, ext: &str) -> bool {
        name.split_once('.').is_some_and(|(stem, e)| {
            e == ext
                && stem.len() == 32
                && stem
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
    }

    #[tokio::test]
    async fn create_builds_the_owner_membership_and_default_production_environment() {
        let actor = user("ada");
        let actor_id = actor.id;
        let mut projects = MockProjectRepository::new();
        projects
            .expect_create_project()
            .times(1)
            .withf(move |p, owner, env| {
                p.name.as_str() == "my-app"
                    && p.display_name.as_deref() == Some("My App")
                    && p.color.as_ref().map(HexColor::as_str) == Some("#3B82F6")
                    && p.owner_id == actor_id
                    && p.icon_path.is_none()
                    && !p.single_server_mode
                    && p.created_at == now()
                    && owner.project_id == p.id
                    && owner.user_id == actor_id
                    && owner.role == Role::Owner
                    && owner.id != p.id
                    && env.project_id == p.id
                    && env.name.as_str() == DEFAULT_ENVIRONMENT_NAME
                    && env.is_default
                    && env.env_type == EnvironmentType::Production
                    && env.id != p.id
                    && env.id != owner.id
            })
            .returning(|p, _, _| Ok(p));
        let created = service(projects, MockFileStore::new())
            .create(
                &actor,
                NewProjectInput {
                    name: "my-app".into(),
                    display_name: Some("  My App ".into()),
                    color: Some("#3b82f6".into()),
                    ..NewProjectInput::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(created.role, Role::Owner);
        assert_eq!(created.project.owner_id, actor_id);
    }

    #[tokio::test]
    async fn create_validates_every_field_before_the_store_is_called() {
        let mut projects = MockProjectRepository::new();
        projects.expect_create_project().never();
        let svc = service(projects, MockFileStore::new());
        let cases = [
            (input("Not A Slug"), "name"),
            (input("docs"), "name"),
            (input(""), "name"),
            (
                NewProjectInput {
                    display_name: Some("   ".into()),
                    ..input("ok")
                },
                "display_name",
            ),
            (
                NewProjectInput {
                    color: Some("blue".into()),
                    ..input("ok")
                },
                "color",
            ),
            (
                NewProjectInput {
                    description: Some("x".repeat(MAX_DESCRIPTION_CHARS + 1)),
                    ..input("ok")
                },
                "description",
            ),
            (
                NewProjectInput {
                    description: Some("bell \u{7}".into()),
                    ..input("ok")
                },
                "description",
            ),
        ];
        for (bad, field) in cases {
            let err = svc.create(&user("ada"), bad).await.unwrap_err();
            assert_eq!(err.kind, AppErrorKind::BadRequest, "{field}: {err}");
            assert!(
                err.message.starts_with(&format!("{field}: ")),
                "{field}: {}",
                err.message
            );
        }
    }

    #[tokio::test]
    async fn a_taken_name_is_409_with_its_own_message() {
        let mut projects = MockProjectRepository::new();
        projects
            .expect_create_project()
            .returning(|_, _, _| Err(StoreError::Conflict(Constraint::ProjectName)));
        projects
            .expect_update_project()
            .returning(|_| Err(StoreError::Conflict(Constraint::ProjectName)));
        let svc = service(projects, MockFileStore::new());
        let err = svc.create(&user("ada"), input("taken")).await.unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Conflict);
        assert_eq!(err.message, "A project with this name already exists");
        let err = svc
            .update(
                access(Role::Admin),
                ProjectPatchInput {
                    name: Some("taken".into()),
                    ..ProjectPatchInput::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Conflict);
        assert_eq!(err.message, "A project with this name already exists");
    }

    #[tokio::test]
    async fn other_store_failures_keep_their_own_kind() {
        let mut projects = MockProjectRepository::new();
        projects
            .expect_create_project()
            .returning(|_, _, _| Err(StoreError::Backend("SELECT boom".into())));
        let err = service(projects, MockFileStore::new())
            .create(&user("ada"), input("fine"))
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Internal);
        assert!(!err.message.contains("SELECT"));
    }

    #[tokio::test]
    async fn update_changes_only_the_fields_sent_and_null_clears() {
        let access = access(Role::Admin);
        let before = access.project.clone();
        let expected = before.clone();
        let mut projects = MockProjectRepository::new();
        projects
            .expect_update_project()
            .times(1)
            .withf(move |p| {
                p.id == expected.id
                    && p.name == expected.name
                    && p.display_name == expected.display_name
                    && p.description.is_none()
                    && p.color.as_ref().map(HexColor::as_str) == Some("#ABCDEF")
                    && p.single_server_mode == expected.single_server_mode
                    && p.default_server_id.is_none()
                    && p.auto_error_tracking_enabled == expected.auto_error_tracking_enabled
                    && p.owner_id == expected.owner_id
                    && p.created_at == expected.created_at
                    && p.updated_at == now()
            })
            .returning(Ok);
        let updated = service(projects, MockFileStore::new())
            .update(
                access,
                ProjectPatchInput {
                    description: Some(None),
                    color: Some(Some("#abcdef".into())),
                    default_server_id: Some(None),
                    ..ProjectPatchInput::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(updated.role, Role::Admin);
        assert_eq!(updated.project.display_name, before.display_name);
    }

    #[tokio::test]
    async fn update_refuses_bad_fields_before_the_store() {
        let mut projects = MockProjectRepository::new();
        projects.expect_update_project().never();
        let svc = service(projects, MockFileStore::new());
        for (patch, field) in [
            (
                ProjectPatchInput {
                    name: Some("v1".into()),
                    ..ProjectPatchInput::default()
                },
                "name",
            ),
            (
                ProjectPatchInput {
                    display_name: Some(Some(String::new())),
                    ..ProjectPatchInput::default()
                },
                "display_name",
            ),
            (
                ProjectPatchInput {
                    color: Some(Some("#12345".into())),
                    ..ProjectPatchInput::default()
                },
                "color",
            ),
        ] {
            let err = svc.update(access(Role::Owner), patch).await.unwrap_err();
            assert_eq!(err.kind, AppErrorKind::BadRequest);
            assert!(err.message.starts_with(&format!("{field}: ")), "{err}");
        }
    }

    #[tokio::test]
    async fn set_icon_refuses_oversized_and_non_image_uploads_without_storing_anything() {
        let mut files = MockFileStore::new();
        files.expect_put().never();
        files.expect_delete().never();
        let mut projects = MockProjectRepository::new();
        projects.expect_update_project().never();
        let svc = service(projects, files);

        let mut big = PNG.to_vec();
        big.resize(MAX_ICON_BYTES + 1, 0);
        let err = svc.set_icon(access(Role::Admin), big).await.unwrap_err();
        assert_eq!(err.kind, AppErrorKind::PayloadTooLarge);

        for not_an_image in [
            b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
            b"GIF8".to_vec(),
            Vec::new(),
        ] {
            let err = svc
                .set_icon(access(Role::Admin), not_an_image)
                .await
                .unwrap_err();
            assert_eq!(err.kind, AppErrorKind::BadRequest);
            assert!(err.message.starts_with("icon: "), "{err}");
        }
    }

    #[tokio::test]
    async fn set_icon_accepts_exactly_one_mebibyte() {
        let mut files = MockFileStore::new();
        files
            .expect_put()
            .times(1)
            .withf(|_, bytes| bytes.len() == MAX_ICON_BYTES)
            .returning(|_, _| Ok(()));
        let mut projects = MockProjectRepository::new();
        projects.expect_update_project().returning(Ok);
        let mut exact = PNG.to_vec();
        exact.resize(MAX_ICON_BYTES, 0);
        service(projects, files)
            .set_icon(access(Role::Admin), exact)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn set_icon_stores_a_sniffed_png_under_a_random_name_and_drops_the_old_file() {
        let old = format!("{ICON_URL_PREFIX}{}.gif", Uuid::new_v4().simple());
        let old_name = old.trim_start_matches(ICON_URL_PREFIX).to_owned();
        let mut access = access(Role::Admin);
        access.project.icon_path = Some(old);
        let stored = Arc::new(Mutex::new(String::new()));

        let mut files = MockFileStore::new();
        let put_name = Arc::clone(&stored);
        files
            .expect_put()
            .times(1)
            .withf(|name, bytes| is_generated_name(name, "png") && bytes == PNG)
            .returning(move |name, _| {
                *put_name.lock().unwrap() = name.to_owned();
                Ok(())
            });
        files
            .expect_delete()
            .times(1)
            .withf(move |name| name == old_name)
            .returning(|_| Ok(()));
        let mut projects = MockProjectRepository::new();
        let seen = Arc::clone(&stored);
        projects
            .expect_update_project()
            .times(1)
            .withf(move |p| {
                p.icon_path == Some(format!("{ICON_URL_PREFIX}{}", seen.lock().unwrap()))
                    && p.updated_at == now()
            })
            .returning(Ok);

        let updated = service(projects, files)
            .set_icon(access, PNG.to_vec())
            .await
            .unwrap();
        let name = stored.lock().unwrap().clone();
        assert!(is_generated_name(&name, "png"), "{name}");
        assert_eq!(
            updated.project.icon_path,
            Some(format!("{ICON_URL_PREFIX}{name}"))
        );
        assert_eq!(updated.role, Role::Admin);
    }

    #[tokio::test]
    async fn set_icon_names_are_random_per_upload() {
        let names = Arc::new(Mutex::new(Vec::<String>::new()));
        let mut files = MockFileStore::new();
        let seen = Arc::clone(&names);
        files.expect_put().times(2).returning(move |name, _| {
            seen.lock().unwrap().push(name.to_owned());
            Ok(())
        });
        let mut projects = MockProjectRepository::new();
        projects.expect_update_project().returning(Ok);
        let svc = service(projects, files);
        for _ in 0..2 {
            svc.set_icon(access(Role::Admin), PNG.to_vec())
                .await
                .unwrap();
        }
        let names = names.lock().unwrap();
        assert_ne!(names[0], names[1]);
    }

    #[tokio::test]
    async fn set_icon_removes_the_new_file_when_the_project_update_fails() {
        let mut access = access(Role::Admin);
        access.project.icon_path =
            Some(format!("{ICON_URL_PREFIX}{}.png", Uuid::new_v4().simple()));
        let stored = Arc::new(Mutex::new(String::new()));
        let mut files = MockFileStore::new();
        let put_name = Arc::clone(&stored);
        files.expect_put().times(1).returning(move |name, _| {
            *put_name.lock().unwrap() = name.to_owned();
            Ok(())
        });
        let deleted = Arc::clone(&stored);
        // Only the new file goes; the old icon is still the project's.
        files
            .expect_delete()
            .times(1)
            .withf(move |name| name == *deleted.lock().unwrap())
            .returning(|_| Ok(()));
        let mut projects = MockProjectRepository::new();
        projects
            .expect_update_project()
            .times(1)
            .returning(|_| Err(StoreError::Unavailable("pool timeout".into())));
        let err = service(projects, files)
            .set_icon(access, PNG.to_vec())
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Unavailable);
    }

    #[tokio::test]
    async fn set_icon_does_not_touch_the_project_when_the_file_cannot_be_written() {
        let mut files = MockFileStore::new();
        files.expect_put().returning(|_, _| Err("disk full".into()));
        files.expect_delete().never();
        let mut projects = MockProjectRepository::new();
        projects.expect_update_project().never();
        let err = service(projects, files)
            .set_icon(access(Role::Admin), PNG.to_vec())
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Internal);
        assert_eq!(err.detail.as_deref(), Some("disk full"));
    }

    #[tokio::test]
    async fn delete_icon_without_an_icon_is_404() {
        let mut projects = MockProjectRepository::new();
        projects.expect_update_project().never();
        let mut files = MockFileStore::new();
        files.expect_delete().never();
        let err = service(projects, files)
            .delete_icon(access(Role::Admin))
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
        assert_eq!(err.message, "The project has no icon");
    }

    #[tokio::test]
    async fn delete_icon_clears_the_path_then_removes_the_file() {
        let name = format!("{}.webp", Uuid::new_v4().simple());
        let mut access = access(Role::Admin);
        access.project.icon_path = Some(format!("{ICON_URL_PREFIX}{name}"));
        let mut seq = mockall::Sequence::new();
        let mut projects = MockProjectRepository::new();
        projects
            .expect_update_project()
            .times(1)
            .in_sequence(&mut seq)
            .withf(|p| p.icon_path.is_none() && p.updated_at == now())
            .returning(Ok);
        let mut files = MockFileStore::new();
        files
            .expect_delete()
            .times(1)
            .in_sequence(&mut seq)
            .withf(move |n| n == name)
            .returning(|_| Ok(()));
        let updated = service(projects, files).delete_icon(access).await.unwrap();
        assert!(updated.project.icon_path.is_none());
    }

    #[tokio::test]
    async fn delete_removes_the_project_then_its_icon() {
        let name = format!("{}.jpg", Uuid::new_v4().simple());
        let mut access = access(Role::Owner);
        access.project.icon_path = Some(format!("{ICON_URL_PREFIX}{name}"));
        let id = access.project.id;
        let mut seq = mockall::Sequence::new();
        let mut projects = MockProjectRepository::new();
        projects
            .expect_delete_project()
            .times(1)
            .in_sequence(&mut seq)
            .withf(move |p| *p == id)
            .returning(|_| Ok(()));
        let mut files = MockFileStore::new();
        files
            .expect_delete()
            .times(1)
            .in_sequence(&mut seq)
            .withf(move |n| n == name)
            .returning(|_| Err("already gone".into()));
        service(projects, files).delete(access).await.unwrap();
    }

    #[tokio::test]
    async fn icon_refuses_names_patchbay_would_not_generate_without_touching_files() {
        let mut files = MockFileStore::new();
        files.expect_get().never();
        let svc = service(MockProjectRepository::new(), files);
        let hex = Uuid::new_v4().simple().to_string();
        for bad in [
            String::new(),
            "../../etc/passwd".to_owned(),
            "icon.png".to_owned(),
            hex.clone(),
            format!("{hex}.svg"),
            format!("{hex}.PNG"),
            format!("{hex}.png.png"),
            format!("{hex}.png/../x"),
            format!("{}.png", hex.to_ascii_uppercase()),
            format!("{}.png", &hex[..31]),
            format!("{hex}0.png"),
            format!("{}g.png", &hex[..31]),
            format!("../{}.png", &hex[..29]),
        ] {
            let err = svc.icon(&bad).await.unwrap_err();
            assert_eq!(err.kind, AppErrorKind::NotFound, "{bad}");
            assert_eq!(err.message, "No such icon");
        }
    }

    #[tokio::test]
    async fn icon_serves_generated_names_with_their_format() {
        let hex = Uuid::new_v4().simple().to_string();
        let present = format!("{hex}.gif");
        let missing = format!("{hex}.png");
        let mut files = MockFileStore::new();
        let p = present.clone();
        files
            .expect_get()
            .withf(move |n| n == p)
            .returning(|_| Ok(Some(b"GIF89a".to_vec())));
        files.expect_get().returning(|_| Ok(None));
        let svc = service(MockProjectRepository::new(), files);
        let (bytes, format) = svc.icon(&present).await.unwrap();
        assert_eq!(bytes, b"GIF89a");
        assert_eq!(format, ImageFormat::Gif);
        let err = svc.icon(&missing).await.unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
    }
}
