//! Resource connections (seeds 000/001):
//! `/api/:projectSlug/:environmentSlug/resource-connections[/:connectionId]`.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use patchbay_app::AppError;
use patchbay_app::resource_connections::{
    ConnectionFilterInput, CreateConnectionInput, UpdateConnectionInput, parse_id,
};
use patchbay_domain::{Action, Page};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::canvas_dto::{ConnectionDto, Envelope, ListEnvelope, MessageOnly};
use crate::dto::{non_null, nullable};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::resources::{EnvPath, EnvScoped};

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get_one)
        .service(update)
        .service(delete_one);
}

/// Path of `…/resource-connections/:connectionId`.
#[derive(Debug, Deserialize)]
pub(crate) struct ConnectionPath {
    pub project_slug: String,
    pub environment_slug: String,
    pub connection_id: String,
}

fn connection_id(raw: &str) -> Result<i64, AppError> {
    parse_id("connectionId", raw).map_err(|_| AppError::bad_request("Invalid connection ID"))
}

/// `POST …/resource-connections` body (seed 000).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateConnectionRequest {
    #[schema(example = "application")]
    pub source_resource_type: String,
    #[schema(example = 2)]
    pub source_resource_id: i64,
    #[schema(example = "instance")]
    pub target_resource_type: String,
    #[schema(example = 1)]
    pub target_resource_id: i64,
    /// A JSON object, at most 16 KiB.
    #[schema(value_type = Option<Object>, example = json!({"autoInstall": true, "installPath": "/opt/apps"}))]
    pub connection_details: Option<serde_json::Value>,
}

/// `PATCH …/resource-connections/:id` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateConnectionRequest {
    /// Moves through the status state machine.
    #[serde(default, deserialize_with = "non_null")]
    #[schema(nullable = false, example = "connected")]
    pub status: Option<String>,
    /// A JSON merge patch (RFC 7386) applied to the stored details; `null`
    /// removes them.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Object>, example = json!({"securityGroupId": "sg-12345678"}))]
    pub connection_details: Option<Option<serde_json::Value>>,
    /// Only while (or when becoming) `failed`; `null` clears.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub error_message: Option<Option<String>>,
}

/// `GET …/resource-connections` filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ConnectionListQuery {
    /// Filter by source resource type.
    pub source_resource_type: Option<String>,
    /// Filter by source resource ID.
    pub source_resource_id: Option<String>,
    /// Filter by target resource type.
    pub target_resource_type: Option<String>,
    /// Filter by target resource ID.
    pub target_resource_id: Option<String>,
    /// pending, connecting, connected, failed or disconnected.
    pub status: Option<String>,
    /// Page number, from 1 (page mode, the default; not with `after`).
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Items per page, 1–100.
    #[serde(rename = "per_page")]
    #[param(rename = "per_page", minimum = 1, maximum = 100, default = 20)]
    pub per_page: Option<i64>,
    /// Keyset cursor: the connections whose id is greater (the `next` of
    /// the previous page; `0` starts). Not with `page`.
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// `total`: count the matches in keyset mode too.
    pub include: Option<String>,
}

/// Creates a connection between two resources under the allowed rules.
#[utoipa::path(post, operation_id = "createResourceConnection", path = "/api/{projectSlug}/{environmentSlug}/resource-connections", tag = "resource-connections", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path)),
    request_body = CreateConnectionRequest,
    responses(
        (status = 201, description = "Resource connection created successfully", body = Envelope<ConnectionDto>),
        (status = 400, description = "Connection not allowed; type mismatch; self-connection; invalid field", body = ErrorBody,
            example = json!({"error": "Connection not allowed", "message": "Connection from application to database is not allowed. Please configure this connection in allowed_connections table."})),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied, or role too low", body = ErrorBody),
        (status = 404, description = "Source or target resource not found", body = ErrorBody),
        (status = 409, description = "The same connection exists", body = ErrorBody),
    ))]
#[post("/api/{project_slug}/{environment_slug}/resource-connections")]
pub(crate) async fn create(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<EnvPath>,
    body: ApiJson<CreateConnectionRequest>,
) -> ApiResult<HttpResponse> {
    let access = path
        .authorize(&state, &user, Action::WriteResourceConnections)
        .await?;
    let b = body.0;
    let c = state
        .connections
        .create(
            &access,
            CreateConnectionInput {
                source_type: b.source_resource_type,
                source_id: b.source_resource_id,
                target_type: b.target_resource_type,
                target_id: b.target_resource_id,
                connection_details: b.connection_details,
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(Envelope {
        message: "Resource connection created successfully",
        data: ConnectionDto::from(c),
    }))
}

/// Lists the environment's live connections, optionally filtered.
#[utoipa::path(get, operation_id = "listResourceConnections", path = "/api/{projectSlug}/{environmentSlug}/resource-connections", tag = "resource-connections", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path), ConnectionListQuery),
    responses(
        (status = 200, description = "Resource connections retrieved successfully", body = ListEnvelope<ConnectionDto>),
        (status = 400, description = "Invalid filter value", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied", body = ErrorBody),
        (status = 404, description = "Project or environment not found", body = ErrorBody),
    ))]
#[get("/api/{project_slug}/{environment_slug}/resource-connections")]
pub(crate) async fn list(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<EnvPath>,
    query: web::Query<ConnectionListQuery>,
) -> ApiResult<HttpResponse> {
    let access = path
        .authorize(&state, &user, Action::ViewResourceConnections)
        .await?;
    let q = query.into_inner();
    let page = Page::from_list_query(q.page, q.per_page, q.after, q.include.as_deref())
        .map_err(AppError::from)?;
    let listed = state
        .connections
        .list(
            &access,
            ConnectionFilterInput {
                source_type: q.source_resource_type,
                source_id: q.source_resource_id,
                target_type: q.target_resource_type,
                target_id: q.target_resource_id,
                status: q.status,
            },
            page,
        )
        .await?;
    Ok(HttpResponse::Ok().json(ListEnvelope::<ConnectionDto>::new(
        "Resource connections retrieved successfully",
        listed,
        page,
    )))
}

/// A live connection.
#[utoipa::path(get, operation_id = "getResourceConnection", path = "/api/{projectSlug}/{environmentSlug}/resource-connections/{connectionId}", tag = "resource-connections", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path), ("connectionId" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Resource connection retrieved successfully", body = Envelope<ConnectionDto>),
        (status = 400, description = "Invalid connection ID", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied", body = ErrorBody),
        (status = 404, description = "Resource connection not found", body = ErrorBody),
    ))]
#[get("/api/{project_slug}/{environment_slug}/resource-connections/{connection_id}")]
pub(crate) async fn get_one(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<ConnectionPath>,
) -> ApiResult<HttpResponse> {
    let id = connection_id(&path.connection_id)?;
    let access = path
        .authorize(&state, &user, Action::ViewResourceConnections)
        .await?;
    let c = state.connections.get(&access, id).await?;
    Ok(HttpResponse::Ok().json(Envelope {
        message: "Resource connection retrieved successfully",
        data: ConnectionDto::from(c),
    }))
}

/// Updates status (through the state machine), details (merge patch) and
/// the error message.
#[utoipa::path(patch, operation_id = "updateResourceConnection", path = "/api/{projectSlug}/{environmentSlug}/resource-connections/{connectionId}", tag = "resource-connections", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path), ("connectionId" = i64, Path, minimum = 1)),
    request_body = UpdateConnectionRequest,
    responses(
        (status = 200, description = "Resource connection updated successfully", body = Envelope<ConnectionDto>),
        (status = 400, description = "Invalid status transition, invalid field", body = ErrorBody,
            example = json!({"error": "Invalid status transition", "message": "Cannot change status from connected to pending"})),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied, or role too low", body = ErrorBody),
        (status = 404, description = "Resource connection not found", body = ErrorBody),
        (status = 409, description = "Changed by a concurrent request", body = ErrorBody),
    ))]
#[patch("/api/{project_slug}/{environment_slug}/resource-connections/{connection_id}")]
pub(crate) async fn update(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<ConnectionPath>,
    body: ApiJson<UpdateConnectionRequest>,
) -> ApiResult<HttpResponse> {
    let id = connection_id(&path.connection_id)?;
    let access = path
        .authorize(&state, &user, Action::WriteResourceConnections)
        .await?;
    let b = body.0;
    let c = state
        .connections
        .update(
            &access,
            id,
            UpdateConnectionInput {
                status: b.status,
                connection_details: b
                    .connection_details
                    .map(|d| d.unwrap_or(serde_json::Value::Null)),
                error_message: b.error_message,
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(Envelope {
        message: "Resource connection updated successfully",
        data: ConnectionDto::from(c),
    }))
}

/// Soft-deletes a connection.
#[utoipa::path(delete, operation_id = "deleteResourceConnection", path = "/api/{projectSlug}/{environmentSlug}/resource-connections/{connectionId}", tag = "resource-connections", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path), ("connectionId" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Resource connection deleted successfully", body = MessageOnly),
        (status = 400, description = "Invalid connection ID", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied, or role too low", body = ErrorBody),
        (status = 404, description = "Resource connection not found", body = ErrorBody),
    ))]
#[delete("/api/{project_slug}/{environment_slug}/resource-connections/{connection_id}")]
pub(crate) async fn delete_one(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<ConnectionPath>,
) -> ApiResult<HttpResponse> {
    let id = connection_id(&path.connection_id)?;
    let access = path
        .authorize(&state, &user, Action::WriteResourceConnections)
        .await?;
    state.connections.delete(&access, id).await?;
    Ok(HttpResponse::Ok().json(MessageOnly {
        message: "Resource connection deleted successfully",
    }))
}
