//! Allowed-connection rules: `GET/POST /api/v1/allowed-connections`,
//! `DELETE /api/v1/allowed-connections/:id` (snake_case, bare JSON).

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use patchbay_app::AppError;
use patchbay_app::ports::AllowedConnectionRule;
use patchbay_app::resource_connections::parse_id;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::{PageQuery, paged_slice, rfc3339};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(create).service(delete_one);
}

/// One rule: connections from `source_type` to `target_type` are allowed.
#[derive(Debug, Serialize, ToSchema)]
pub struct AllowedConnectionDto {
    pub id: i64,
    #[schema(example = "application")]
    pub source_type: String,
    #[schema(example = "instance")]
    pub target_type: String,
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, example = "2024-01-15T10:30:00.000Z")]
    pub created_at: DateTime<Utc>,
}

impl From<AllowedConnectionRule> for AllowedConnectionDto {
    fn from(r: AllowedConnectionRule) -> Self {
        Self {
            id: r.id,
            source_type: r.source_type.as_str().to_owned(),
            target_type: r.target_type.as_str().to_owned(),
            created_at: r.created_at,
        }
    }
}

/// `POST /api/v1/allowed-connections` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAllowedConnectionRequest {
    #[schema(example = "instance")]
    pub source_type: String,
    #[schema(example = "storage_bucket")]
    pub target_type: String,
}

/// Every allowed-connection rule.
#[utoipa::path(get, operation_id = "listAllowedConnections", path = "/api/v1/allowed-connections", tag = "resource-connections", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "The rules", body = [AllowedConnectionDto]),
        (status = 401, description = "Not authenticated", body = ErrorBody),
    ))]
#[get("/api/v1/allowed-connections")]
pub(crate) async fn list(
    state: web::Data<AppState>,
    _user: AuthUser,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = query.page()?;
    let rules = state.allowed.list().await?;
    Ok(paged_slice(
        rules.into_iter().map(AllowedConnectionDto::from).collect(),
        page,
    ))
}

/// Allows a new pair (instance administrators only). Takes effect on the
/// next connection create, on every server.
#[utoipa::path(post, operation_id = "createAllowedConnection", path = "/api/v1/allowed-connections", tag = "resource-connections", security(("bearer" = [])),
    request_body = CreateAllowedConnectionRequest,
    responses(
        (status = 201, description = "Added", body = AllowedConnectionDto),
        (status = 400, description = "Unknown resource type", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not an instance administrator", body = ErrorBody),
        (status = 409, description = "Already allowed", body = ErrorBody),
    ))]
#[post("/api/v1/allowed-connections")]
pub(crate) async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ApiJson<CreateAllowedConnectionRequest>,
) -> ApiResult<HttpResponse> {
    let rule = state
        .allowed
        .add(&user.0, &body.0.source_type, &body.0.target_type)
        .await?;
    Ok(HttpResponse::Created().json(AllowedConnectionDto::from(rule)))
}

/// Removes a rule (instance administrators only). Existing connections stay.
#[utoipa::path(delete, operation_id = "deleteAllowedConnection", path = "/api/v1/allowed-connections/{id}", tag = "resource-connections", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Invalid id", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not an instance administrator", body = ErrorBody),
        (status = 404, description = "No such rule", body = ErrorBody),
    ))]
#[delete("/api/v1/allowed-connections/{id}")]
pub(crate) async fn delete_one(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id =
        parse_id("id", &id).map_err(|_| AppError::bad_request("Invalid allowed-connection ID"))?;
    state.allowed.delete(&user.0, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
