//! The unified resources API (seeds 000/002):
//! `/api/:projectSlug/:environmentSlug/resources[/:id[/restore]]`,
//! `/resources/:resourceType/:resourceId/connections`, and `/graph`.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use patchbay_app::AppError;
use patchbay_app::access::EnvironmentAccess;
use patchbay_app::resource_connections::parse_id;
use patchbay_app::resources::{CreateResourceInput, UpdateResourceInput};
use patchbay_domain::Action;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::canvas_dto::{ConnectionDto, Envelope, ListEnvelope, ResourceDto};
use crate::dto::{non_null, nullable};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get_one)
        .service(update)
        .service(delete_one)
        .service(restore)
        .service(connections_of)
        .service(graph);
}

/// A path under `/api/:projectSlug/:environmentSlug/`: resolves and
/// authorises the caller there through the one access service.
pub(crate) trait EnvScoped {
    fn slugs(&self) -> (&str, &str);

    async fn authorize(
        &self,
        state: &AppState,
        user: &Caller,
        action: Action,
    ) -> Result<EnvironmentAccess, AppError> {
        let (project, environment) = self.slugs();
        state
            .access
            .environment_by_slug(user.user_id, project, environment, action)
            .await
    }
}

macro_rules! env_scoped {
    ($($t:ty),*) => {$(
        impl EnvScoped for $t {
            fn slugs(&self) -> (&str, &str) {
                (&self.project_slug, &self.environment_slug)
            }
        }
    )*};
}

env_scoped!(EnvPath, ResourcePath, ResourceConnectionsPath);
env_scoped!(crate::resource_connections::ConnectionPath);

/// Path of environment-scoped routes.
#[derive(Debug, Deserialize)]
pub(crate) struct EnvPath {
    pub project_slug: String,
    pub environment_slug: String,
}

/// Path of `…/resources/:id`.
#[derive(Debug, Deserialize)]
pub(crate) struct ResourcePath {
    pub project_slug: String,
    pub environment_slug: String,
    pub id: String,
}

fn resource_id(raw: &str) -> Result<i64, AppError> {
    parse_id("id", raw).map_err(|_| AppError::bad_request("Invalid resource ID"))
}

/// `GET …/resources` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResourceListQuery {
    /// Only resources of this type.
    #[serde(rename = "type")]
    #[param(rename = "type", example = "subdomain")]
    pub resource_type: Option<String>,
    /// Page number, from 1 (page mode, the default; not with `after`).
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Items per page, 1–100.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub per_page: Option<i64>,
    /// Keyset cursor: the resources whose id is greater (the `next` of the
    /// previous page; `0` starts). Not with `page`.
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// `total`: count the matches in keyset mode too.
    pub include: Option<String>,
}

/// `POST …/resources` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateResourceRequest {
    /// One of instance, application, database, terminal, firewall,
    /// storage_bucket, bucket_explorer, static_website, subdomain.
    #[serde(rename = "type")]
    #[schema(example = "instance")]
    pub resource_type: String,
    #[schema(example = "web-1")]
    pub name: String,
    /// A JSON object, at most 16 KiB.
    #[schema(value_type = Option<Object>)]
    pub config: Option<serde_json::Value>,
    #[schema(example = "prod-postgres")]
    pub credential_conn_id: Option<String>,
    #[schema(example = 100)]
    pub position_x: Option<f64>,
    #[schema(example = 200)]
    pub position_y: Option<f64>,
    /// Subdomains only.
    #[schema(example = "example.com")]
    pub parent_domain: Option<String>,
}

/// A position in a `PATCH` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionInput {
    pub x: f64,
    pub y: f64,
}

/// `PATCH …/resources/:id` body: only the fields sent change. `config` is
/// replaced whole. Position as `positionX`/`positionY` or `position: {x, y}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateResourceRequest {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false, value_type = Object)]
    pub config: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub credential_conn_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    pub position_x: Option<f64>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    pub position_y: Option<f64>,
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false)]
    pub position: Option<PositionInput>,
    /// Subdomains only; `null` clears.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub parent_domain: Option<Option<String>>,
}

pub(crate) fn update_input(b: UpdateResourceRequest) -> Result<UpdateResourceInput, AppError> {
    let (mut x, mut y) = (b.position_x, b.position_y);
    if let Some(p) = b.position {
        if x.is_some() || y.is_some() {
            return Err(AppError::bad_request(
                "Send either position or positionX/positionY, not both",
            ));
        }
        x = Some(p.x);
        y = Some(p.y);
    }
    Ok(UpdateResourceInput {
        name: b.name,
        config: b.config,
        credential_conn_id: b.credential_conn_id,
        position_x: x,
        position_y: y,
        parent_domain: b.parent_domain,
    })
}

/// Lists live resources of the environment (`?type=subdomain` lists
/// subdomains).
#[utoipa::path(get, operation_id = "listResources", path = "/api/{projectSlug}/{environmentSlug}/resources", tag = "resources", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path), ResourceListQuery),
    responses(
        (status = 200, description = "Resources retrieved successfully", body = ListEnvelope<ResourceDto>),
        (status = 400, description = "Unknown type or bad paging", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Project access denied", body = ErrorBody),
        (status = 404, description = "Project or environment not found", body = ErrorBody),
    ))]
#[get("/api/{project_slug}/{environment_slug}/resources")]
pub(crate) async fn list(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<EnvPath>,
    query: web::Query<ResourceListQuery>,
) -> ApiResult<HttpResponse> {
    let access = path.authorize(&state, &user, Action::ViewResources).await?;
    let q = query.into_inner();
    let page =
        patchbay_domain::Page::from_list_query(q.page, q.per_page, q.after, q.include.as_deref())
            .map_err(AppError::from)?;
    let listed = state
        .resources
        .list(&access, q.resource_type.as_deref(), page)
        .await?;
    Ok(HttpResponse::Ok().json(ListEnvelope::<ResourceDto>::new(
        "Resources retrieved successfully",
        listed,
        page,
    )))
}

/// Creates a resource of any type.
#[utoipa::path(post, operation_id = "createResource", path = "/api/{projectSlug}/{environmentSlug}/resources", tag = "resources", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path)),
    request_body = CreateResourceRequest,
    responses(
        (status = 201, description = "Resource created successfully", body = Envelope<ResourceDto>),
        (status = 400, description = "Invalid field, unknown type, unknown or server-owned field, duplicate subdomain", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied, or role too low", body = ErrorBody),
        (status = 404, description = "Project or environment not found", body = ErrorBody),
        (status = 409, description = "A live resource of this type has the name", body = ErrorBody),
    ))]
#[post("/api/{project_slug}/{environment_slug}/resources")]
pub(crate) async fn create(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<EnvPath>,
    body: ApiJson<CreateResourceRequest>,
) -> ApiResult<HttpResponse> {
    let access = path
        .authorize(&state, &user, Action::WriteResources)
        .await?;
    let b = body.0;
    let created = state
        .resources
        .create(
            &access,
            CreateResourceInput {
                resource_type: b.resource_type,
                name: b.name,
                config: b.config,
                credential_conn_id: b.credential_conn_id,
                position_x: b.position_x,
                position_y: b.position_y,
                parent_domain: b.parent_domain,
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(Envelope {
        message: "Resource created successfully",
        data: ResourceDto::from(created),
    }))
}

/// A live resource.
#[utoipa::path(get, operation_id = "getResource", path = "/api/{projectSlug}/{environmentSlug}/resources/{id}", tag = "resources", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path), ("id" = i64, Path, minimum = 1, description = "Resource id")),
    responses(
        (status = 200, description = "Resource retrieved successfully", body = Envelope<ResourceDto>),
        (status = 400, description = "Invalid resource ID", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied", body = ErrorBody),
        (status = 404, description = "Resource not found", body = ErrorBody),
    ))]
#[get("/api/{project_slug}/{environment_slug}/resources/{id}")]
pub(crate) async fn get_one(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<ResourcePath>,
) -> ApiResult<HttpResponse> {
    let id = resource_id(&path.id)?;
    let access = path.authorize(&state, &user, Action::ViewResources).await?;
    let r = state.resources.get(&access, id).await?;
    Ok(HttpResponse::Ok().json(Envelope {
        message: "Resource retrieved successfully",
        data: ResourceDto::from(r),
    }))
}

/// Updates name, config, position, credential connection (and a
/// subdomain's parent domain).
#[utoipa::path(patch, operation_id = "updateResource", path = "/api/{projectSlug}/{environmentSlug}/resources/{id}", tag = "resources", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path), ("id" = i64, Path, minimum = 1, description = "Resource id")),
    request_body = UpdateResourceRequest,
    responses(
        (status = 200, description = "Resource updated successfully", body = Envelope<ResourceDto>),
        (status = 400, description = "Invalid resource ID or field", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied, or role too low", body = ErrorBody),
        (status = 404, description = "Resource not found", body = ErrorBody),
        (status = 409, description = "Name taken", body = ErrorBody),
    ))]
#[patch("/api/{project_slug}/{environment_slug}/resources/{id}")]
pub(crate) async fn update(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<ResourcePath>,
    body: ApiJson<UpdateResourceRequest>,
) -> ApiResult<HttpResponse> {
    let id = resource_id(&path.id)?;
    let access = path
        .authorize(&state, &user, Action::WriteResources)
        .await?;
    let r = state
        .resources
        .update(&access, id, update_input(body.0)?)
        .await?;
    Ok(HttpResponse::Ok().json(Envelope {
        message: "Resource updated successfully",
        data: ResourceDto::from(r),
    }))
}

/// What a delete removed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletedResource {
    pub id: i64,
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Live connections soft-deleted with the resource.
    pub deleted_connections: u64,
}

/// Soft-deletes a resource (subdomains too) and every connection touching
/// it, in one transaction.
#[utoipa::path(delete, operation_id = "deleteResource", path = "/api/{projectSlug}/{environmentSlug}/resources/{id}", tag = "resources", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path), ("id" = i64, Path, minimum = 1, description = "Resource id")),
    responses(
        (status = 200, description = "Resource deleted successfully", body = Envelope<DeletedResource>),
        (status = 400, description = "Invalid resource ID", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Access denied", body = ErrorBody),
        (status = 404, description = "Resource not found", body = ErrorBody),
    ))]
#[delete("/api/{project_slug}/{environment_slug}/resources/{id}")]
pub(crate) async fn delete_one(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<ResourcePath>,
) -> ApiResult<HttpResponse> {
    let id = resource_id(&path.id)?;
    let access = path
        .authorize(&state, &user, Action::WriteResources)
        .await?;
    let (r, n) = state.resources.delete(&access, id).await?;
    Ok(HttpResponse::Ok().json(Envelope {
        message: "Resource deleted successfully",
        data: DeletedResource {
            id: r.id,
            resource_type: r.resource_type.as_str().to_owned(),
            deleted_connections: n,
        },
    }))
}

/// Restores a soft-deleted resource (its connections stay deleted).
#[utoipa::path(post, operation_id = "restoreResource", path = "/api/{projectSlug}/{environmentSlug}/resources/{id}/restore", tag = "resources", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path), ("id" = i64, Path, minimum = 1, description = "Resource id")),
    responses(
        (status = 200, description = "Resource restored successfully", body = Envelope<ResourceDto>),
        (status = 400, description = "Invalid resource ID", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied, or role too low", body = ErrorBody),
        (status = 404, description = "No such resource", body = ErrorBody),
        (status = 409, description = "Not deleted, or a live resource took its name", body = ErrorBody),
    ))]
#[post("/api/{project_slug}/{environment_slug}/resources/{id}/restore")]
pub(crate) async fn restore(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<ResourcePath>,
) -> ApiResult<HttpResponse> {
    let id = resource_id(&path.id)?;
    let access = path
        .authorize(&state, &user, Action::WriteResources)
        .await?;
    let r = state.resources.restore(&access, id).await?;
    Ok(HttpResponse::Ok().json(Envelope {
        message: "Resource restored successfully",
        data: ResourceDto::from(r),
    }))
}

/// Path of `…/resources/:resourceType/:resourceId/connections`.
#[derive(Debug, Deserialize)]
pub(crate) struct ResourceConnectionsPath {
    pub project_slug: String,
    pub environment_slug: String,
    pub resource_type: String,
    pub resource_id: String,
}

/// A connection in the per-resource list (seed 000's short form).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionSummary {
    pub id: i64,
    pub source_resource_type: String,
    pub source_resource_id: i64,
    pub target_resource_type: String,
    pub target_resource_id: i64,
    pub status: String,
}

/// The connections of one resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceConnectionsResponse {
    #[schema(example = "Resource connections retrieved successfully")]
    pub message: &'static str,
    #[schema(example = "instance")]
    pub resource_type: String,
    #[schema(example = 1)]
    pub resource_id: i64,
    pub count: usize,
    pub data: Vec<ConnectionSummary>,
}

/// Every live connection with the resource at either end (seed 000).
#[utoipa::path(get, operation_id = "listConnectionsOfResource", path = "/api/{projectSlug}/{environmentSlug}/resources/{resourceType}/{resourceId}/connections", tag = "resource-connections", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path), ("resourceType" = String, Path), ("resourceId" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Resource connections retrieved successfully", body = ResourceConnectionsResponse),
        (status = 400, description = "Unknown type or invalid id", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied", body = ErrorBody),
        (status = 404, description = "No live resource of that type and id", body = ErrorBody),
    ))]
#[get("/api/{project_slug}/{environment_slug}/resources/{resource_type}/{resource_id}/connections")]
pub(crate) async fn connections_of(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<ResourceConnectionsPath>,
) -> ApiResult<HttpResponse> {
    let access = path
        .authorize(&state, &user, Action::ViewResourceConnections)
        .await?;
    let (t, id, found) = state
        .connections
        .of_resource(&access, &path.resource_type, &path.resource_id)
        .await?;
    let data: Vec<ConnectionSummary> = found
        .into_iter()
        .map(|c| ConnectionSummary {
            id: c.id,
            source_resource_type: c.source_type.as_str().to_owned(),
            source_resource_id: c.source_id,
            target_resource_type: c.target_type.as_str().to_owned(),
            target_resource_id: c.target_id,
            status: c.status.as_str().to_owned(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(ResourceConnectionsResponse {
        message: "Resource connections retrieved successfully",
        resource_type: t.as_str().to_owned(),
        resource_id: id,
        count: data.len(),
        data,
    }))
}

/// Nodes and edges of the canvas.
#[derive(Debug, Serialize, ToSchema)]
pub struct GraphDto {
    pub nodes: Vec<ResourceDto>,
    pub edges: Vec<ConnectionDto>,
}

/// Every live resource (nodes) and live connection (edges) of the
/// environment in one consistent read, for a canvas to draw in one request.
#[utoipa::path(get, operation_id = "getGraph", path = "/api/{projectSlug}/{environmentSlug}/graph", tag = "resources", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path)),
    responses(
        (status = 200, description = "Graph retrieved successfully", body = Envelope<GraphDto>),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied", body = ErrorBody),
        (status = 404, description = "Project or environment not found", body = ErrorBody),
    ))]
#[get("/api/{project_slug}/{environment_slug}/graph")]
pub(crate) async fn graph(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<EnvPath>,
) -> ApiResult<HttpResponse> {
    let access = path.authorize(&state, &user, Action::ViewResources).await?;
    let (nodes, edges) = state.connections.graph(&access).await?;
    Ok(HttpResponse::Ok().json(Envelope {
        message: "Graph retrieved successfully",
        data: GraphDto {
            nodes: nodes.into_iter().map(Into::into).collect(),
            edges: edges.into_iter().map(Into::into).collect(),
        },
    }))
}
