//! Project use cases: list, create (owner membership + default environment
//! in one transaction), update only what was sent, delete, icons.

use std::sync::Arc;

use patchbay_domain::{
    DEFAULT_ENVIRONMENT_NAME, DisplayName, Environment, EnvironmentType, HexColor, ImageFormat,
    MAX_ICON_BYTES, Member, Page, Project, ProjectName, Role, Slug, User,
};
use uuid::Uuid;

use crate::access::ProjectAccess;
use crate::error::{AppError, AppErrorKind, StoreError};
use crate::ports::{Clock, FileStore, IdGenerator, ProjectRepository, ProjectWithRole, constraint};

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
        StoreError::Conflict(c) if c == constraint::PROJECT_NAME => {
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
