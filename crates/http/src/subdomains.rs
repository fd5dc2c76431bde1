//! Subdomains (seed 002): `/api/:projectSlug/:environmentSlug/subdomains[/:id]`.
//! Subdomains are resources of type `subdomain`; deleting one goes through
//! `DELETE …/resources/:id`, listing is also `GET …/resources?type=subdomain`.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use patchbay_app::AppError;
use patchbay_app::access::EnvironmentAccess;
use patchbay_app::resource_connections::parse_id;
use patchbay_app::resources::CreateResourceInput;
use patchbay_domain::{Action, Page, Resource, ResourceType};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use crate::canvas_dto::{Envelope, PositionDto};
use crate::dto::{non_null, nullable, rfc3339};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::resources::{
    EnvPath, EnvScoped, PositionInput, ResourcePath, UpdateResourceRequest, update_input,
};

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get_one)
        .service(update);
}

/// A subdomain as seed 002 shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubdomainDto {
    #[schema(example = 1)]
    pub id: i64,
    #[schema(example = "blog")]
    pub name: String,
    #[schema(example = "blog")]
    pub subdomain_name: String,
    #[schema(example = "active")]
    pub status: String,
    pub position: PositionDto,
    /// When set.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "example.com")]
    pub parent_domain: Option<String>,
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, example = "2024-01-15T10:30:00.000Z")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, example = "2024-01-15T10:30:00.000Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<Resource> for SubdomainDto {
    fn from(r: Resource) -> Self {
        Self {
            id: r.id,
            subdomain_name: r.name.clone(),
            name: r.name,
            status: r.status,
            position: r.position.into(),
            parent_domain: r.parent_domain,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// `{id, slug, name}` of the project or environment, in a create answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScopeDto {
    pub id: Uuid,
    #[schema(example = "my-project")]
    pub slug: String,
    #[schema(example = "My Project")]
    pub name: String,
}

/// The create answer: the subdomain with its project and environment.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedSubdomainDto {
    pub id: i64,
    pub name: String,
    pub subdomain_name: String,
    pub status: String,
    pub position: PositionDto,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_domain: Option<String>,
    pub project: ScopeDto,
    pub environment: ScopeDto,
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, example = "2024-01-15T10:30:00.000Z")]
    pub created_at: DateTime<Utc>,
}

/// `POST …/subdomains` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateSubdomainRequest {
    /// Letters, digits and hyphens, 1–63, no leading/trailing hyphen;
    /// stored lowercase.
    #[schema(example = "blog")]
    pub name: String,
    #[schema(example = 100)]
    pub position_x: Option<f64>,
    #[schema(example = 200)]
    pub position_y: Option<f64>,
    /// A hostname; name + parentDomain is unique among live subdomains of
    /// the environment.
    #[schema(example = "example.com")]
    pub parent_domain: Option<String>,
}

/// `PATCH …/subdomains/:id` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateSubdomainRequest {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    pub position_x: Option<f64>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    pub position_y: Option<f64>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    pub position: Option<PositionInput>,
    /// `null` clears.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub parent_domain: Option<Option<String>>,
}

/// `GET …/subdomains` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubdomainListQuery {
    /// Page number, from 1.
    #[param(minimum = 1, default = 1)]
    pub page: Option<i64>,
    /// Items per page, 1–100.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub per_page: Option<i64>,
}

/// The seed's list answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubdomainList {
    #[schema(example = "Subdomains retrieved successfully")]
    pub message: &'static str,
    pub count: usize,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub data: Vec<SubdomainDto>,
}

fn subdomain_id(raw: &str) -> Result<i64, AppError> {
    parse_id("id", raw).map_err(|_| AppError::bad_request("Invalid subdomain ID"))
}

async fn find_subdomain(
    state: &AppState,
    access: &EnvironmentAccess,
    id: i64,
) -> Result<Resource, AppError> {
    match state.resources.get(access, id).await {
        Ok(r) if r.resource_type == ResourceType::Subdomain => Ok(r),
        Ok(_) => Err(AppError::not_found("Subdomain not found")),
        Err(e) if e.kind == patchbay_app::AppErrorKind::NotFound => {
            Err(AppError::not_found("Subdomain not found"))
        }
        Err(e) => Err(e),
    }
}

/// Creates a subdomain.
#[utoipa::path(post, operation_id = "createSubdomain", path = "/api/{projectSlug}/{environmentSlug}/subdomains", tag = "subdomains", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path)),
    request_body = CreateSubdomainRequest,
    responses(
        (status = 201, description = "Subdomain created successfully", body = Envelope<CreatedSubdomainDto>),
        (status = 400, description = "Missing required fields, invalid subdomain name format, or duplicate subdomain", body = ErrorBody),
        (status = 401, description = "Missing or invalid authentication token", body = ErrorBody),
        (status = 403, description = "Project access denied", body = ErrorBody),
        (status = 404, description = "Project or environment not found", body = ErrorBody),
    ))]
#[post("/api/{project_slug}/{environment_slug}/subdomains")]
pub(crate) async fn create(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<EnvPath>,
    body: ApiJson<CreateSubdomainRequest>,
) -> ApiResult<HttpResponse> {
    let access = path
        .authorize(&state, &user, Action::WriteResources)
        .await?;
    let b = body.0;
    let r = state
        .resources
        .create(
            &access,
            CreateResourceInput {
                resource_type: ResourceType::Subdomain.as_str().to_owned(),
                name: b.name,
                config: None,
                credential_conn_id: None,
                position_x: b.position_x,
                position_y: b.position_y,
                parent_domain: b.parent_domain,
            },
        )
        .await?;
    let project = &access.project;
    let env = &access.environment;
    Ok(HttpResponse::Created().json(Envelope {
        message: "Subdomain created successfully",
        data: CreatedSubdomainDto {
            id: r.id,
            subdomain_name: r.name.clone(),
            name: r.name,
            status: r.status,
            position: r.position.into(),
            parent_domain: r.parent_domain,
            project: ScopeDto {
                id: project.id,
                slug: project.name.as_str().to_owned(),
                name: project
                    .display_name
                    .clone()
                    .unwrap_or_else(|| project.name.as_str().to_owned()),
            },
            environment: ScopeDto {
                id: env.id,
                slug: env.name.as_str().to_owned(),
                name: env
                    .display_name
                    .clone()
                    .unwrap_or_else(|| env.name.as_str().to_owned()),
            },
            created_at: r.created_at,
        },
    }))
}

/// Lists the environment's live subdomains.
#[utoipa::path(get, operation_id = "listSubdomains", path = "/api/{projectSlug}/{environmentSlug}/subdomains", tag = "subdomains", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path), SubdomainListQuery),
    responses(
        (status = 200, description = "Subdomains retrieved successfully", body = SubdomainList),
        (status = 401, description = "Missing or invalid authentication token", body = ErrorBody),
        (status = 403, description = "Project access denied", body = ErrorBody),
        (status = 404, description = "Project or environment not found", body = ErrorBody),
    ))]
#[get("/api/{project_slug}/{environment_slug}/subdomains")]
pub(crate) async fn list(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<EnvPath>,
    query: web::Query<SubdomainListQuery>,
) -> ApiResult<HttpResponse> {
    let access = path.authorize(&state, &user, Action::ViewResources).await?;
    let page = Page::from_query(query.page, query.per_page).map_err(AppError::from)?;
    let listed = state
        .resources
        .list(&access, Some(ResourceType::Subdomain.as_str()), page)
        .await?;
    let data: Vec<SubdomainDto> = listed.items.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(SubdomainList {
        message: "Subdomains retrieved successfully",
        count: data.len(),
        // A page-mode request: the store always counts.
        total: listed.total.unwrap_or_default(),
        page: page.page(),
        per_page: page.per_page(),
        data,
    }))
}

/// A subdomain.
#[utoipa::path(get, operation_id = "getSubdomain", path = "/api/{projectSlug}/{environmentSlug}/subdomains/{id}", tag = "subdomains", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path), ("id" = i64, Path, minimum = 1, description = "The subdomain ID")),
    responses(
        (status = 200, description = "Subdomain retrieved successfully", body = Envelope<SubdomainDto>),
        (status = 400, description = "Invalid subdomain ID", body = ErrorBody),
        (status = 401, description = "Missing or invalid authentication token", body = ErrorBody),
        (status = 403, description = "Access denied to this subdomain", body = ErrorBody),
        (status = 404, description = "Subdomain not found", body = ErrorBody),
    ))]
#[get("/api/{project_slug}/{environment_slug}/subdomains/{id}")]
pub(crate) async fn get_one(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<ResourcePath>,
) -> ApiResult<HttpResponse> {
    let id = subdomain_id(&path.id)?;
    let access = path.authorize(&state, &user, Action::ViewResources).await?;
    let r = find_subdomain(&state, &access, id).await?;
    Ok(HttpResponse::Ok().json(Envelope {
        message: "Subdomain retrieved successfully",
        data: SubdomainDto::from(r),
    }))
}

/// Moves a subdomain on the canvas or changes its parent domain.
#[utoipa::path(patch, operation_id = "updateSubdomain", path = "/api/{projectSlug}/{environmentSlug}/subdomains/{id}", tag = "subdomains", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path), ("id" = i64, Path, minimum = 1, description = "The subdomain ID")),
    request_body = UpdateSubdomainRequest,
    responses(
        (status = 200, description = "Subdomain updated successfully", body = Envelope<SubdomainDto>),
        (status = 400, description = "Invalid subdomain ID or field, or duplicate subdomain", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Access denied", body = ErrorBody),
        (status = 404, description = "Subdomain not found", body = ErrorBody),
    ))]
#[patch("/api/{project_slug}/{environment_slug}/subdomains/{id}")]
pub(crate) async fn update(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<ResourcePath>,
    body: ApiJson<UpdateSubdomainRequest>,
) -> ApiResult<HttpResponse> {
    let id = subdomain_id(&path.id)?;
    let access = path
        .authorize(&state, &user, Action::WriteResources)
        .await?;
    find_subdomain(&state, &access, id).await?;
    let b = body.0;
    // The same position rules as a resource PATCH; name, config and the
    // credential connection are not subdomain fields.
    let input = update_input(UpdateResourceRequest {
        name: None,
        config: None,
        credential_conn_id: None,
        position_x: b.position_x,
        position_y: b.position_y,
        position: b.position,
        parent_domain: b.parent_domain,
    })?;
    let r = state.resources.update(&access, id, input).await?;
    Ok(HttpResponse::Ok().json(Envelope {
        message: "Subdomain updated successfully",
        data: SubdomainDto::from(r),
    }))
}
