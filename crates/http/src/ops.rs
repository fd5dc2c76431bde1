//! Operational endpoints: liveness, readiness (the database answers) and
//! Prometheus metrics.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult};

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}

/// A health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process is up.
#[utoipa::path(get, operation_id = "getHealth", path = "/healthz", tag = "ops",
    responses((status = 200, description = "The process is up", body = Health)))]
#[get("/healthz")]
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: the database answers a trivial query.
#[utoipa::path(get, operation_id = "getReadiness", path = "/readyz", tag = "ops",
    responses((status = 200, description = "Ready", body = Health),
              (status = 503, description = "The database is unreachable", body = crate::error::ErrorBody)))]
#[get("/readyz")]
pub(crate) async fn readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    state.health.ping().await.map_err(|e| ApiError(e.into()))?;
    Ok(HttpResponse::Ok().json(Health { status: "ready" }))
}

/// Prometheus text exposition of request counts and latencies.
#[utoipa::path(get, operation_id = "getMetrics", path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
#[get("/metrics")]
pub(crate) async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
