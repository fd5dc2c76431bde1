//! Projects (seed 004): `/api/v1/projects[/:id]`, `/icon`, and the icon
//! files under `/uploads/projects/`.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use patchbay_app::AppError;
use patchbay_app::ports::ProjectWithRole;
use patchbay_app::projects::{NewProjectInput, ProjectPatchInput};
use patchbay_domain::{Action, MAX_ICON_BYTES};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::auth::{AuthUser, Caller};
use crate::dto::{PageQuery, non_null, nullable, paged_array, rfc3339};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get_one)
        .service(update)
        .service(delete_one)
        .service(upload_icon)
        .service(delete_icon)
        .service(serve_icon);
}

/// A project, as seed 004 shows it, plus its owner and the caller's role.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectDto {
    pub id: Uuid,
    #[schema(example = "my-saas")]
    pub name: String,
    #[schema(example = "My SaaS App")]
    pub display_name: Option<String>,
    #[schema(example = "Production SaaS application")]
    pub description: Option<String>,
    #[schema(example = "#3B82F6")]
    pub color: Option<String>,
    #[schema(example = "/uploads/projects/0f1e2d3c4b5a69788796a5b4c3d2e1f0.png")]
    pub icon_path: Option<String>,
    pub single_server_mode: bool,
    pub default_server_id: Option<Uuid>,
    pub auto_error_tracking_enabled: bool,
    pub owner_id: Uuid,
    /// The caller's role in the project.
    #[schema(example = "owner")]
    pub role: String,
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, example = "2024-01-15T10:30:00.000Z")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, example = "2024-01-15T10:30:00.000Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<ProjectWithRole> for ProjectDto {
    fn from(p: ProjectWithRole) -> Self {
        let ProjectWithRole { project, role } = p;
        Self {
            id: project.id,
            name: project.name.as_str().to_owned(),
            display_name: project.display_name,
            description: project.description,
            color: project.color.map(|c| c.as_str().to_owned()),
            icon_path: project.icon_path,
            single_server_mode: project.single_server_mode,
            default_server_id: project.default_server_id,
            auto_error_tracking_enabled: project.auto_error_tracking_enabled,
            owner_id: project.owner_id,
            role: role.as_str().to_owned(),
            created_at: project.created_at,
            updated_at: project.updated_at,
        }
    }
}

/// `POST /api/v1/projects` body. All fields except `name` are optional.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProjectRequest {
    /// Slug used in `/api/:projectSlug/...` paths: lowercase letters,
    /// digits and hyphens, 1–63 characters.
    #[schema(pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", example = "my-saas")]
    pub name: String,
    #[schema(example = "My SaaS App")]
    pub display_name: Option<String>,
    #[schema(example = "Production SaaS application")]
    pub description: Option<String>,
    #[schema(example = "#3B82F6")]
    pub color: Option<String>,
    pub single_server_mode: Option<bool>,
    pub default_server_id: Option<Uuid>,
    pub auto_error_tracking_enabled: Option<bool>,
}

/// `PUT /api/v1/projects/:id` body: only the fields sent change; `null`
/// clears a nullable field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProjectRequest {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(
        nullable = false,
        pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
        example = "my-saas-v2"
    )]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, example = "Updated description")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub color: Option<Option<String>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    pub single_server_mode: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub default_server_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false, example = true)]
    pub auto_error_tracking_enabled: Option<bool>,
}

/// The caller's projects, newest first.
#[utoipa::path(get, operation_id = "listProjects", path = "/api/v1/projects", tag = "projects", security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "The projects the caller is a member of; total in X-Total-Count", body = [ProjectDto]),
        (status = 400, description = "Bad paging parameters", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
    ))]
#[get("/api/v1/projects")]
pub(crate) async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = query.page()?;
    let (items, total) = state.projects.list(&user.0, page).await?;
    let items: Vec<ProjectDto> = items.into_iter().map(Into::into).collect();
    Ok(paged_array(&items, total))
}

/// Creates a project; the caller becomes its owner and a default
/// `production` environment is created with it.
#[utoipa::path(post, operation_id = "createProject", path = "/api/v1/projects", tag = "projects", security(("bearer" = [])),
    request_body = CreateProjectRequest,
    responses(
        (status = 201, description = "Created", body = ProjectDto),
        (status = 400, description = "Invalid or reserved name, invalid field, unknown field", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 409, description = "A project with this name exists", body = ErrorBody),
    ))]
#[post("/api/v1/projects")]
pub(crate) async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ApiJson<CreateProjectRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.0;
    let created = state
        .projects
        .create(
            &user.0,
            NewProjectInput {
                name: b.name,
                display_name: b.display_name,
                description: b.description,
                color: b.color,
                single_server_mode: b.single_server_mode,
                default_server_id: b.default_server_id,
                auto_error_tracking_enabled: b.auto_error_tracking_enabled,
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(ProjectDto::from(created)))
}

/// A project.
#[utoipa::path(get, operation_id = "getProject", path = "/api/v1/projects/{id}", tag = "projects", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Project id")),
    responses(
        (status = 200, description = "The project", body = ProjectDto),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied", body = ErrorBody),
        (status = 404, description = "Project not found", body = ErrorBody),
    ))]
#[get("/api/v1/projects/{id}")]
pub(crate) async fn get_one(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let access = state
        .access
        .project(user.user_id, *id, Action::ViewProject)
        .await?;
    Ok(HttpResponse::Ok().json(ProjectDto::from(ProjectWithRole {
        project: access.project,
        role: access.role,
    })))
}

/// Updates only the fields sent (admin or owner).
#[utoipa::path(put, operation_id = "updateProject", path = "/api/v1/projects/{id}", tag = "projects", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Project id")),
    request_body = UpdateProjectRequest,
    responses(
        (status = 200, description = "Updated", body = ProjectDto),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied, or role too low", body = ErrorBody),
        (status = 404, description = "Project not found", body = ErrorBody),
        (status = 409, description = "Name taken", body = ErrorBody),
    ))]
#[put("/api/v1/projects/{id}")]
pub(crate) async fn update(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<UpdateProjectRequest>,
) -> ApiResult<HttpResponse> {
    let access = state
        .access
        .project(user.user_id, *id, Action::UpdateProject)
        .await?;
    let b = body.0;
    let updated = state
        .projects
        .update(
            access,
            ProjectPatchInput {
                name: b.name,
                display_name: b.display_name,
                description: b.description,
                color: b.color,
                single_server_mode: b.single_server_mode,
                default_server_id: b.default_server_id,
                auto_error_tracking_enabled: b.auto_error_tracking_enabled,
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(ProjectDto::from(updated)))
}

/// Deletes the project and everything in it (owner only).
#[utoipa::path(delete, operation_id = "deleteProject", path = "/api/v1/projects/{id}", tag = "projects", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Project id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied, or not the owner", body = ErrorBody),
        (status = 404, description = "Project not found", body = ErrorBody),
    ))]
#[delete("/api/v1/projects/{id}")]
pub(crate) async fn delete_one(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let access = state
        .access
        .project(user.user_id, *id, Action::DeleteProject)
        .await?;
    state.projects.delete(access).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The multipart upload of an icon: one file part (any field name).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct IconUpload {
    /// PNG, JPEG, GIF or WebP, at most 1 MiB; recognised by content.
    #[schema(value_type = String, format = Binary)]
    pub icon: Vec<u8>,
}

/// Uploads the project's icon (admin or owner). The image type is
/// recognised from the bytes; SVG and anything else is refused.
#[utoipa::path(post, operation_id = "uploadProjectIcon", path = "/api/v1/projects/{id}/icon", tag = "projects", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Project id")),
    request_body(content = IconUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Stored; the project with its new icon_path", body = ProjectDto),
        (status = 400, description = "Not a PNG/JPEG/GIF/WebP image, or no file part", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied, or role too low", body = ErrorBody),
        (status = 404, description = "Project not found", body = ErrorBody),
        (status = 413, description = "Larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "Not multipart/form-data", body = ErrorBody),
    ))]
#[post("/api/v1/projects/{id}/icon")]
pub(crate) async fn upload_icon(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<Uuid>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let access = state
        .access
        .project(user.user_id, *id, Action::UploadIcon)
        .await?;
    let too_large = || {
        AppError::new(
            patchbay_app::AppErrorKind::PayloadTooLarge,
            format!("An icon may be at most {MAX_ICON_BYTES} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_ICON_BYTES + 64 * 1024) {
        return Err(too_large().into());
    }
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    if !is_multipart {
        return Err(AppError::new(
            patchbay_app::AppErrorKind::UnsupportedMediaType,
            "Content-Type must be multipart/form-data",
        )
        .into());
    }
    let mut multipart = Multipart::new(req.headers(), payload);
    let mut bytes: Option<Vec<u8>> = None;
    while let Some(field) = multipart.next().await {
        let mut field =
            field.map_err(|e| AppError::bad_request(format!("Invalid multipart body: {e}")))?;
        let is_file = field
            .content_disposition()
            .is_some_and(|cd| cd.get_filename().is_some())
            || field.name().is_some_and(|n| n == "icon" || n == "file");
        if !is_file || bytes.is_some() {
            // Drain parts we do not use.
            while let Some(chunk) = field.next().await {
                chunk.map_err(|e| AppError::bad_request(format!("Invalid multipart body: {e}")))?;
            }
            continue;
        }
        let mut buf = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk =
                chunk.map_err(|e| AppError::bad_request(format!("Invalid multipart body: {e}")))?;
            if buf.len() + chunk.len() > MAX_ICON_BYTES {
                return Err(too_large().into());
            }
            buf.extend_from_slice(&chunk);
        }
        bytes = Some(buf);
    }
    let bytes = bytes.ok_or_else(|| {
        AppError::bad_request(
            "The multipart body must contain the icon as a file part named 'icon'",
        )
    })?;
    let updated = state.projects.set_icon(access, bytes).await?;
    Ok(HttpResponse::Ok().json(ProjectDto::from(updated)))
}

/// Removes the project's icon (admin or owner).
#[utoipa::path(delete, operation_id = "deleteProjectIcon", path = "/api/v1/projects/{id}/icon", tag = "projects", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Project id")),
    responses(
        (status = 200, description = "Removed; the project without icon_path", body = ProjectDto),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied, or role too low", body = ErrorBody),
        (status = 404, description = "Project not found, or it has no icon", body = ErrorBody),
    ))]
#[delete("/api/v1/projects/{id}/icon")]
pub(crate) async fn delete_icon(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let access = state
        .access
        .project(user.user_id, *id, Action::DeleteIcon)
        .await?;
    let updated = state.projects.delete_icon(access).await?;
    Ok(HttpResponse::Ok().json(ProjectDto::from(updated)))
}

/// An icon file. Names are 128-bit random, so the URL itself is the
/// capability (an `<img>` tag cannot send a bearer token).
#[utoipa::path(get, operation_id = "getProjectIconFile", path = "/uploads/projects/{file}", tag = "projects",
    params(("file" = String, Path, description = "The file name from a project's icon_path")),
    responses(
        (status = 200, description = "The image", content_type = "image/*"),
        (status = 404, description = "No such icon", body = ErrorBody),
    ))]
#[get("/uploads/projects/{file}")]
pub(crate) async fn serve_icon(
    state: web::Data<AppState>,
    file: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (bytes, format) = state.projects.icon(&file).await?;
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header(("content-security-policy", "default-src 'none'"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400, immutable"))
        .body(bytes))
}
