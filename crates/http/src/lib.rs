//! patchbay's actix-web adapter: routes, extractors, DTOs, the one mapping
//! from application errors to `{"error","message"}` responses, ops endpoints
//! and the OpenAPI document. It holds no business rule: handlers parse,
//! call a use case, and shape the answer.

mod allowed_connections;
mod auth;
mod canvas_dto;
mod client_ip;
mod cors;
mod credential_connections;
mod dto;
mod environments;
mod error;
mod extract;
mod invites;
mod members;
mod metrics;
mod openapi;
mod ops;
mod projects;
mod rate_limit;
mod request_id;
mod resource_connections;
mod resources;
mod routing;
mod subdomains;

use std::sync::Arc;

use actix_web::web;
use patchbay_app::access::AccessService;
use patchbay_app::allowed_connections::AllowedConnectionService;
use patchbay_app::auth::AuthService;
use patchbay_app::credential_connections::CredentialConnectionService;
use patchbay_app::environments::EnvironmentService;
use patchbay_app::invites::InviteService;
use patchbay_app::members::MemberService;
use patchbay_app::ports::HealthCheck;
use patchbay_app::projects::ProjectService;
use patchbay_app::resource_connections::ResourceConnectionService;
use patchbay_app::resources::ResourceService;

pub use client_ip::TrustedProxies;
pub use cors::{CorsOrigins, cors};
pub use error::ApiError;
pub use metrics::Metrics;
pub use openapi::ApiDoc;
pub use rate_limit::{LoginLimiter, ProbeLimiter};

/// The largest JSON body accepted anywhere (SPEC §4).
pub const JSON_BODY_LIMIT: usize = 256 * 1024;

/// Everything handlers need, shared by every worker.
#[derive(Clone)]
pub struct AppState {
    pub auth: AuthService,
    pub access: AccessService,
    pub projects: ProjectService,
    pub members: MemberService,
    pub invites: InviteService,
    pub environments: EnvironmentService,
    pub resources: ResourceService,
    pub connections: ResourceConnectionService,
    pub allowed: AllowedConnectionService,
    pub credentials: CredentialConnectionService,
    pub health: Arc<dyn HealthCheck>,
    pub metrics: Metrics,
    pub login_limiter: LoginLimiter,
    pub probe_limiter: ProbeLimiter,
    /// Whose forwarding headers name the client (`PATCHBAY_TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
    /// The origins browsers may call the API from (`PATCHBAY_CORS_ORIGINS`).
    pub cors: CorsOrigins,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// Registers every route, extractor configuration and middleware-independent
/// piece of the API on an actix `App`/scope. Wrap the app with
/// [`head_as_get`] (HEAD served by GET routes), then [`cors`], then
/// [`request_context`] (request ids, access logs and metrics), outermost
/// last.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(state))
            .app_data(extract::payload_config())
            .app_data(extract::json_config())
            .app_data(extract::path_config())
            .app_data(extract::query_config())
            .configure(ops::routes)
            .configure(openapi::routes)
            .configure(auth::routes)
            .configure(projects::routes)
            .configure(members::routes)
            .configure(invites::routes)
            .configure(environments::routes)
            .configure(allowed_connections::routes)
            .configure(resources::routes)
            .configure(subdomains::routes)
            .configure(resource_connections::routes)
            .configure(credential_connections::routes)
            .default_service(web::to(error::not_found));
    }
}

pub use request_id::request_context;
pub use routing::head_as_get;
