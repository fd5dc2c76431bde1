//! Environments (seed 004): `/api/v1/projects/:projectId/environments[/:envId]`,
//! `/set-default`, `/clone`.

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use patchbay_app::environments::{CloneInput, EnvironmentPatchInput, NewEnvironmentInput};
use patchbay_app::ports::CloneReport;
use patchbay_domain::{Action, Environment};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use crate::dto::{PageQuery, non_null, nullable, paged_slice, rfc3339};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get_one)
        .service(update)
        .service(delete_one)
        .service(set_default)
        .service(clone_one);
}

/// An environment.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnvironmentDto {
    pub id: Uuid,
    pub project_id: Uuid,
    #[schema(example = "staging")]
    pub name: String,
    #[schema(example = "Staging")]
    pub display_name: Option<String>,
    /// production, staging, development or preview.
    #[serde(rename = "type")]
    #[schema(example = "staging")]
    pub env_type: String,
    #[schema(example = "Pre-production environment")]
    pub description: Option<String>,
    #[schema(example = "#F59E0B")]
    pub color: Option<String>,
    #[schema(example = "develop")]
    pub git_branch: Option<String>,
    pub is_default: bool,
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, example = "2024-01-15T10:30:00.000Z")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, example = "2024-01-15T10:30:00.000Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<Environment> for EnvironmentDto {
    fn from(e: Environment) -> Self {
        Self {
            id: e.id,
            project_id: e.project_id,
            name: e.name.as_str().to_owned(),
            display_name: e.display_name,
            env_type: e.env_type.as_str().to_owned(),
            description: e.description,
            color: e.color.map(|c| c.as_str().to_owned()),
            git_branch: e.git_branch,
            is_default: e.is_default,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// `POST …/environments` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEnvironmentRequest {
    #[schema(pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", example = "staging")]
    pub name: String,
    #[schema(example = "Staging")]
    pub display_name: Option<String>,
    /// Defaults to `development`.
    #[serde(rename = "type")]
    #[schema(
        pattern = "^(production|staging|development|preview)$",
        example = "staging"
    )]
    pub env_type: Option<String>,
    #[schema(example = "Pre-production environment")]
    pub description: Option<String>,
    #[schema(example = "#F59E0B")]
    pub color: Option<String>,
    #[schema(example = "develop")]
    pub git_branch: Option<String>,
}

/// `PUT …/environments/:envId` body: only the fields sent change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEnvironmentRequest {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false, pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
    /// production, staging, development or preview.
    #[serde(rename = "type", default, deserialize_with = "non_null")]
    #[schema(
        nullable = false,
        pattern = "^(production|staging|development|preview)$"
    )]
    pub env_type: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub color: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub git_branch: Option<Option<String>>,
}

/// `POST …/clone` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloneEnvironmentRequest {
    #[schema(
        pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
        example = "staging-v2"
    )]
    pub name: String,
    /// Defaults to the source's type.
    #[serde(rename = "type")]
    #[schema(example = "staging")]
    pub env_type: Option<String>,
    /// Defaults to the source's description.
    #[schema(example = "Cloned from staging")]
    pub description: Option<String>,
    pub display_name: Option<String>,
}

/// What a clone copied.
#[derive(Debug, Serialize, ToSchema)]
pub struct CopiedDto {
    pub resources: u64,
    pub resource_connections: u64,
    pub credential_connections: u64,
}

/// The clone and what was copied into it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CloneResponse {
    pub environment: EnvironmentDto,
    pub copied: CopiedDto,
}

impl From<CloneReport> for CloneResponse {
    fn from(r: CloneReport) -> Self {
        Self {
            environment: r.environment.into(),
            copied: CopiedDto {
                resources: r.resources,
                resource_connections: r.resource_connections,
                credential_connections: r.credential_connections,
            },
        }
    }
}

/// `DELETE …?force=true`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Delete even when the environment holds resources or connections.
    pub force: Option<bool>,
}

/// The project's environments, default first.
#[utoipa::path(get, operation_id = "listEnvironments", path = "/api/v1/projects/{projectId}/environments", tag = "environments", security(("bearer" = [])),
    params(("projectId" = Uuid, Path, description = "Project id"), PageQuery),
    responses(
        (status = 200, description = "Environments", body = [EnvironmentDto]),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied", body = ErrorBody),
        (status = 404, description = "Project not found", body = ErrorBody),
    ))]
#[get("/api/v1/projects/{projectId}/environments")]
pub(crate) async fn list(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = query.page()?;
    let access = state
        .access
        .project(user.user_id, *id, Action::ViewEnvironment)
        .await?;
    let envs = state.environments.list(&access).await?;
    Ok(paged_slice(
        envs.into_iter().map(EnvironmentDto::from).collect(),
        page,
    ))
}

/// Creates an environment (admin or owner).
#[utoipa::path(post, operation_id = "createEnvironment", path = "/api/v1/projects/{projectId}/environments", tag = "environments", security(("bearer" = [])),
    params(("projectId" = Uuid, Path, description = "Project id")),
    request_body = CreateEnvironmentRequest,
    responses(
        (status = 201, description = "Created", body = EnvironmentDto),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied, or role too low", body = ErrorBody),
        (status = 404, description = "Project not found", body = ErrorBody),
        (status = 409, description = "Name taken in this project", body = ErrorBody),
    ))]
#[post("/api/v1/projects/{projectId}/environments")]
pub(crate) async fn create(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<CreateEnvironmentRequest>,
) -> ApiResult<HttpResponse> {
    let access = state
        .access
        .project(user.user_id, *id, Action::ManageEnvironments)
        .await?;
    let b = body.0;
    let env = state
        .environments
        .create(
            &access,
            NewEnvironmentInput {
                name: b.name,
                display_name: b.display_name,
                env_type: b.env_type,
                description: b.description,
                color: b.color,
                git_branch: b.git_branch,
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(EnvironmentDto::from(env)))
}

/// An environment.
#[utoipa::path(get, operation_id = "getEnvironment", path = "/api/v1/projects/{projectId}/environments/{envId}", tag = "environments", security(("bearer" = [])),
    params(("projectId" = Uuid, Path, description = "Project id"), ("envId" = Uuid, Path, description = "Environment id")),
    responses(
        (status = 200, description = "The environment", body = EnvironmentDto),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied", body = ErrorBody),
        (status = 404, description = "Project or environment not found", body = ErrorBody),
    ))]
#[get("/api/v1/projects/{projectId}/environments/{envId}")]
pub(crate) async fn get_one(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (project_id, env_id) = path.into_inner();
    let access = state
        .access
        .environment_by_id(user.user_id, project_id, env_id, Action::ViewEnvironment)
        .await?;
    Ok(HttpResponse::Ok().json(EnvironmentDto::from(access.environment)))
}

/// Updates only the fields sent (admin or owner).
#[utoipa::path(put, operation_id = "updateEnvironment", path = "/api/v1/projects/{projectId}/environments/{envId}", tag = "environments", security(("bearer" = [])),
    params(("projectId" = Uuid, Path, description = "Project id"), ("envId" = Uuid, Path, description = "Environment id")),
    request_body = UpdateEnvironmentRequest,
    responses(
        (status = 200, description = "Updated", body = EnvironmentDto),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied, or role too low", body = ErrorBody),
        (status = 404, description = "Project or environment not found", body = ErrorBody),
        (status = 409, description = "Name taken", body = ErrorBody),
    ))]
#[put("/api/v1/projects/{projectId}/environments/{envId}")]
pub(crate) async fn update(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: ApiJson<UpdateEnvironmentRequest>,
) -> ApiResult<HttpResponse> {
    let (project_id, env_id) = path.into_inner();
    let access = state
        .access
        .environment_by_id(user.user_id, project_id, env_id, Action::ManageEnvironments)
        .await?;
    let b = body.0;
    let env = state
        .environments
        .update(
            access,
            EnvironmentPatchInput {
                name: b.name,
                display_name: b.display_name,
                env_type: b.env_type,
                description: b.description,
                color: b.color,
                git_branch: b.git_branch,
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(EnvironmentDto::from(env)))
}

/// Deletes an environment (admin or owner). The default environment cannot
/// be deleted; one holding resources or connections needs `?force=true`.
#[utoipa::path(delete, operation_id = "deleteEnvironment", path = "/api/v1/projects/{projectId}/environments/{envId}", tag = "environments", security(("bearer" = [])),
    params(("projectId" = Uuid, Path, description = "Project id"), ("envId" = Uuid, Path, description = "Environment id"), DeleteQuery),
    responses(
        (status = 204, description = "Deleted with everything in it"),
        (status = 400, description = "Bad query parameter", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied, or role too low", body = ErrorBody),
        (status = 404, description = "Project or environment not found", body = ErrorBody),
        (status = 409, description = "Default environment, or not empty without force", body = ErrorBody),
    ))]
#[delete("/api/v1/projects/{projectId}/environments/{envId}")]
pub(crate) async fn delete_one(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<(Uuid, Uuid)>,
    query: web::Query<DeleteQuery>,
) -> ApiResult<HttpResponse> {
    let (project_id, env_id) = path.into_inner();
    let access = state
        .access
        .environment_by_id(user.user_id, project_id, env_id, Action::ManageEnvironments)
        .await?;
    state
        .environments
        .delete(&access, query.force.unwrap_or(false))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Makes the environment the project's default (admin or owner).
#[utoipa::path(post, operation_id = "setDefaultEnvironment", path = "/api/v1/projects/{projectId}/environments/{envId}/set-default", tag = "environments", security(("bearer" = [])),
    params(("projectId" = Uuid, Path, description = "Project id"), ("envId" = Uuid, Path, description = "Environment id")),
    responses(
        (status = 200, description = "Now the default", body = EnvironmentDto),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied, or role too low", body = ErrorBody),
        (status = 404, description = "Project or environment not found", body = ErrorBody),
    ))]
#[post("/api/v1/projects/{projectId}/environments/{envId}/set-default")]
pub(crate) async fn set_default(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (project_id, env_id) = path.into_inner();
    let access = state
        .access
        .environment_by_id(user.user_id, project_id, env_id, Action::ManageEnvironments)
        .await?;
    let env = state.environments.set_default(&access).await?;
    Ok(HttpResponse::Ok().json(EnvironmentDto::from(env)))
}

/// Copies the environment, in one transaction, with every live resource,
/// the resource connections among them (status reset to `pending`) and
/// every credential connection (admin or owner).
#[utoipa::path(post, operation_id = "cloneEnvironment", path = "/api/v1/projects/{projectId}/environments/{envId}/clone", tag = "environments", security(("bearer" = [])),
    params(("projectId" = Uuid, Path, description = "Project id"), ("envId" = Uuid, Path, description = "Source environment id")),
    request_body = CloneEnvironmentRequest,
    responses(
        (status = 201, description = "Cloned; what was copied", body = CloneResponse),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied, or role too low", body = ErrorBody),
        (status = 404, description = "Project or environment not found", body = ErrorBody),
        (status = 409, description = "Name taken", body = ErrorBody),
    ))]
#[post("/api/v1/projects/{projectId}/environments/{envId}/clone")]
pub(crate) async fn clone_one(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: ApiJson<CloneEnvironmentRequest>,
) -> ApiResult<HttpResponse> {
    let (project_id, env_id) = path.into_inner();
    let access = state
        .access
        .environment_by_id(user.user_id, project_id, env_id, Action::CloneEnvironment)
        .await?;
    let b = body.0;
    let report = state
        .environments
        .clone_environment(
            &access,
            CloneInput {
                name: b.name,
                env_type: b.env_type,
                description: b.description,
                display_name: b.display_name,
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(CloneResponse::from(report)))
}
