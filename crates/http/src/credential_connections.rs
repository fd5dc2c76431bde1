//! Credential connections (seed 003, SPEC §8), scoped to an environment:
//! `/api/:projectSlug/:environmentSlug/connections[/:conn_id[/test|/used-by]]`,
//! `POST …/connections/test` (test before saving), and the global
//! `GET /api/connection-types`. snake_case, bare JSON as the seed shows;
//! lists are bare arrays with `X-Total-Count` and RFC 8288 `Link` headers.
//! Responses never carry a secret: lists show `password: ""` and no `extra`,
//! a single connection `password: "********"` when one is stored.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use patchbay_app::AppError;
use patchbay_app::access::EnvironmentAccess;
use patchbay_app::credential_connections::{
    CreateCredentialInput, CredentialConnectionService, ReplaceCredentialInput,
    TEST_FAILED_MESSAGE, TestOutcome,
};
use patchbay_app::ports::{ResourceRef, SecretString};
use patchbay_domain::{
    Action, ConnectionTestResult, CredentialConnection, PASSWORD_MASK, mask_for_list,
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::auth::{AuthUser, Caller};
use crate::dto::{PageQuery, nullable, rfc3339};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::resources::{EnvPath, EnvScoped};

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(types)
        .service(list)
        .service(create)
        .service(test_unsaved)
        .service(get_one)
        .service(replace)
        .service(delete_one)
        .service(test)
        .service(used_by);
}

/// Path of `…/connections/:conn_id[/…]`.
#[derive(Debug, Deserialize)]
pub(crate) struct CredentialPath {
    pub project_slug: String,
    pub environment_slug: String,
    pub conn_id: String,
}

impl EnvScoped for CredentialPath {
    fn slugs(&self) -> (&str, &str) {
        (&self.project_slug, &self.environment_slug)
    }
}

/// The message of a 404 for the seed's unscoped paths: credential
/// connections live in an environment (SPEC §8, a deliberate deviation).
pub(crate) const UNSCOPED_MESSAGE: &str = "Credential connections live in an environment: use /api/{projectSlug}/{environmentSlug}/connections (GET /api/connection-types lists the types)";

/// The last connectivity test of a connection.
#[derive(Debug, Serialize, ToSchema)]
pub struct LastTestDto {
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, example = "2024-01-15T10:30:00.000Z")]
    pub at: DateTime<Utc>,
    pub success: bool,
    /// `timeout`, `refused`, `dns`, `auth`, `tls`, `protocol` or `blocked`;
    /// null on success.
    #[schema(example = "refused")]
    pub reason: Option<String>,
    #[schema(example = "tokio-postgres")]
    pub driver: String,
}

impl From<ConnectionTestResult> for LastTestDto {
    fn from(t: ConnectionTestResult) -> Self {
        Self {
            at: t.at,
            success: t.success,
            reason: t.reason,
            driver: t.driver,
        }
    }
}

/// A credential connection as answered (seed 003's fields plus
/// `description`, `has_password`, `last_test`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialConnectionDto {
    pub id: Uuid,
    #[schema(example = "prod-postgres")]
    pub conn_id: String,
    /// One of the seven connection types.
    #[serde(rename = "type")]
    #[schema(example = "postgres")]
    pub conn_type: String,
    #[schema(example = "db.example.com")]
    pub host: Option<String>,
    #[schema(example = 5432, minimum = 1, maximum = 65535)]
    pub port: Option<u16>,
    #[schema(example = "analytics")]
    pub schema: Option<String>,
    #[schema(example = "etl_user")]
    pub login: Option<String>,
    /// Never the password: `""` in lists and when none is stored,
    /// `"********"` on a single connection that has one.
    #[schema(example = "********")]
    pub password: &'static str,
    /// A single connection only (omitted from lists): the `extra` JSON
    /// object as a string (sensitive values masked for viewers), or null.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "{\"sslmode\": \"require\"}")]
    pub extra: Option<Option<String>>,
    pub description: Option<String>,
    pub has_password: bool,
    pub last_test: Option<LastTestDto>,
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, example = "2024-01-10T12:00:00.000Z")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, example = "2024-01-15T08:30:00.000Z")]
    pub updated_at: DateTime<Utc>,
}

impl CredentialConnectionDto {
    /// The list form: `password: ""`, no `extra`.
    fn listed(c: CredentialConnection) -> Self {
        Self::build(c, mask_for_list(), None)
    }

    /// The single form: the mask when a password is stored, and `extra`.
    fn single(c: CredentialConnection, extra: Option<String>) -> Self {
        let password = if c.has_password { PASSWORD_MASK } else { "" };
        Self::build(c, password, Some(extra))
    }

    fn build(
        c: CredentialConnection,
        password: &'static str,
        extra: Option<Option<String>>,
    ) -> Self {
        Self {
            id: c.id,
            conn_id: c.conn_id.as_str().to_owned(),
            conn_type: c.conn_type.as_str().to_owned(),
            host: c.host,
            port: c.port.map(patchbay_domain::Port::get),
            schema: c.schema,
            login: c.login,
            password,
            extra,
            description: c.description,
            has_password: c.has_password,
            last_test: c.last_test.map(Into::into),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A string field read straight into a zeroizing [`SecretString`].
fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(SecretString::from))
}

/// A tri-state secret (`None` omitted, `Some(None)` null).
fn nullable_secret<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<SecretString>>, D::Error> {
    nullable::<String, D>(d).map(|v| v.map(|inner| inner.map(SecretString::from)))
}

/// `POST …/connections` body (and `POST …/connections/test`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCredentialRequest {
    /// 1–64 lowercase letters, digits, `-`, `_`; unique in the environment.
    #[schema(example = "prod-postgres")]
    pub conn_id: String,
    /// postgres, mysql, sqlite, http, sftp, s3 or generic.
    #[serde(rename = "type")]
    #[schema(example = "postgres")]
    pub conn_type: String,
    #[schema(example = "db.example.com")]
    pub host: Option<String>,
    /// 1–65535.
    #[schema(example = 5432)]
    pub port: Option<i64>,
    #[schema(example = "analytics")]
    pub schema: Option<String>,
    #[schema(example = "etl_user")]
    pub login: Option<String>,
    /// Sealed at rest; never returned.
    #[serde(default, deserialize_with = "secret")]
    #[schema(value_type = Option<String>, example = "secret123")]
    pub password: Option<SecretString>,
    /// A string holding a JSON object, at most 16 KiB. Sealed at rest.
    #[serde(default, deserialize_with = "secret")]
    #[schema(value_type = Option<String>, example = "{\"sslmode\": \"require\"}")]
    pub extra: Option<SecretString>,
    pub description: Option<String>,
}

impl From<CreateCredentialRequest> for CreateCredentialInput {
    fn from(b: CreateCredentialRequest) -> Self {
        Self {
            conn_id: b.conn_id,
            conn_type: b.conn_type,
            host: b.host,
            port: b.port,
            schema: b.schema,
            login: b.login,
            password: b.password,
            extra: b.extra,
            description: b.description,
        }
    }
}

/// `PUT …/connections/:conn_id` body: the whole record. `password` omitted,
/// `"********"` or `""` keeps the stored one, `null` clears it; `extra`
/// omitted keeps it, `null` clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceCredentialRequest {
    /// Optional; must equal the path's (a connection cannot be renamed).
    pub conn_id: Option<String>,
    #[serde(rename = "type")]
    #[schema(example = "postgres")]
    pub conn_type: String,
    #[schema(example = "new-db.example.com")]
    pub host: Option<String>,
    #[schema(example = 5432)]
    pub port: Option<i64>,
    pub schema: Option<String>,
    pub login: Option<String>,
    #[serde(default, deserialize_with = "nullable_secret")]
    #[schema(value_type = Option<String>, example = "new-secret")]
    pub password: Option<Option<SecretString>>,
    #[serde(default, deserialize_with = "nullable_secret")]
    #[schema(value_type = Option<String>)]
    pub extra: Option<Option<SecretString>>,
    pub description: Option<String>,
}

/// One connection type of the catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionTypeDto {
    #[serde(rename = "type")]
    #[schema(example = "postgres")]
    pub conn_type: &'static str,
    #[schema(example = "PostgreSQL")]
    pub label: &'static str,
    /// The fields this type uses, in the seed's order.
    #[schema(example = json!(["host", "port", "schema", "login", "password"]))]
    pub fields: Vec<&'static str>,
}

/// A live resource that references a connection.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsedByDto {
    pub id: i64,
    #[serde(rename = "type")]
    #[schema(example = "database")]
    pub resource_type: String,
    pub name: String,
}

impl From<ResourceRef> for UsedByDto {
    fn from(r: ResourceRef) -> Self {
        Self {
            id: r.id,
            resource_type: r.resource_type.as_str().to_owned(),
            name: r.name,
        }
    }
}

/// The answer of a connectivity test: on success `success`, `message`,
/// `driver`; on failure `success`, `error`, `reason` (seed 003).
#[derive(Debug, Serialize, ToSchema)]
pub struct TestResultDto {
    pub success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "Connected successfully (tokio-postgres)")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "tokio-postgres")]
    pub driver: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "connection test failed -- check server logs for details")]
    pub error: Option<&'static str>,
    /// timeout, refused, dns, auth, tls, protocol or blocked.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "refused")]
    pub reason: Option<&'static str>,
}

impl From<TestOutcome> for TestResultDto {
    fn from(o: TestOutcome) -> Self {
        match o {
            TestOutcome::Connected { driver } => Self {
                success: true,
                message: Some(format!("Connected successfully ({driver})")),
                driver: Some(driver),
                error: None,
                reason: None,
            },
            TestOutcome::Failed { reason } => Self {
                success: false,
                message: None,
                driver: None,
                error: Some(TEST_FAILED_MESSAGE),
                reason: Some(reason.as_str()),
            },
        }
    }
}

/// `DELETE …/connections/:conn_id` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Delete even when live resources reference the connection (their
    /// `credentialConnId` is cleared).
    pub force: Option<bool>,
}

/// RFC 8288 `Link` header value for a page of `total` items.
fn link_header(req: &HttpRequest, page: patchbay_domain::Page, total: i64) -> Option<String> {
    let (p, per) = (page.page(), page.per_page());
    let path = req.path();
    let mut links = Vec::new();
    if p * per < total {
        links.push(format!(
            "<{path}?page={}&per_page={per}>; rel=\"next\"",
            p + 1
        ));
    }
    if p > 1 {
        links.push(format!(
            "<{path}?page={}&per_page={per}>; rel=\"prev\"",
            p - 1
        ));
    }
    (!links.is_empty()).then(|| links.join(", "))
}

async fn scope(
    state: &AppState,
    user: &Caller,
    path: &impl EnvScoped,
    action: Action,
) -> Result<EnvironmentAccess, AppError> {
    path.authorize(state, user, action).await
}

fn service(state: &AppState) -> &CredentialConnectionService {
    &state.credentials
}

/// The seven connection types, their labels and fields, in seed 003's order.
#[utoipa::path(get, operation_id = "listConnectionTypes", path = "/api/connection-types", tag = "credential-connections", security(("bearer" = [])),
    responses(
        (status = 200, description = "The connection types", body = [ConnectionTypeDto]),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
    ))]
#[get("/api/connection-types")]
pub(crate) async fn types(_user: AuthUser) -> HttpResponse {
    let body: Vec<ConnectionTypeDto> = CredentialConnectionService::types()
        .iter()
        .map(|t| ConnectionTypeDto {
            conn_type: t.as_str(),
            label: t.label(),
            fields: t.fields().iter().map(|f| f.as_str()).collect(),
        })
        .collect();
    HttpResponse::Ok().json(body)
}

/// The environment's credential connections by `conn_id`: a bare array,
/// `password` always `""`, no `extra`; total in `X-Total-Count`, next/prev
/// pages in `Link`.
#[utoipa::path(get, operation_id = "listCredentialConnections", path = "/api/{projectSlug}/{environmentSlug}/connections", tag = "credential-connections", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path), PageQuery),
    responses(
        (status = 200, description = "The connections (X-Total-Count, Link)", body = [CredentialConnectionDto]),
        (status = 400, description = "Bad paging", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Project access denied", body = ErrorBody),
        (status = 404, description = "Project or environment not found", body = ErrorBody),
    ))]
#[get("/api/{project_slug}/{environment_slug}/connections")]
pub(crate) async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<EnvPath>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let access = scope(&state, &user, &*path, Action::ViewCredentials).await?;
    let page = query.page()?;
    let (items, total) = service(&state).list(&access, page).await?;
    let body: Vec<CredentialConnectionDto> = items
        .into_iter()
        .map(CredentialConnectionDto::listed)
        .collect();
    let mut resp = HttpResponse::Ok();
    resp.insert_header(("x-total-count", total.to_string()));
    if let Some(link) = link_header(&req, page, total) {
        resp.insert_header((actix_web::http::header::LINK, link));
    }
    Ok(resp.json(body))
}

/// Creates a credential connection; `password` and `extra` are sealed at
/// rest. Answers the connection with the password masked.
#[utoipa::path(post, operation_id = "createCredentialConnection", path = "/api/{projectSlug}/{environmentSlug}/connections", tag = "credential-connections", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path)),
    request_body = CreateCredentialRequest,
    responses(
        (status = 201, description = "Created", body = CredentialConnectionDto),
        (status = 400, description = "Invalid field, a field the type does not use, unknown field", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Project access denied, or role too low", body = ErrorBody),
        (status = 404, description = "Project or environment not found", body = ErrorBody),
        (status = 409, description = "The environment has a connection with this conn_id", body = ErrorBody),
    ))]
#[post("/api/{project_slug}/{environment_slug}/connections")]
pub(crate) async fn create(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<EnvPath>,
    body: ApiJson<CreateCredentialRequest>,
) -> ApiResult<HttpResponse> {
    let access = scope(&state, &user, &*path, Action::WriteCredentials).await?;
    let view = service(&state).create(&access, body.0.into()).await?;
    Ok(HttpResponse::Created().json(CredentialConnectionDto::single(view.connection, view.extra)))
}

/// Tests a connection described by a create body without saving it.
#[utoipa::path(post, operation_id = "testUnsavedCredentialConnection", path = "/api/{projectSlug}/{environmentSlug}/connections/test", tag = "credential-connections", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path)),
    request_body = CreateCredentialRequest,
    responses(
        (status = 200, description = "The test ran (see success)", body = TestResultDto),
        (status = 400, description = "Invalid field", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Project access denied, or role too low", body = ErrorBody),
        (status = 404, description = "Project or environment not found", body = ErrorBody),
        (status = 429, description = "Too many tests (per user per minute, or in flight)", body = ErrorBody),
    ))]
#[post("/api/{project_slug}/{environment_slug}/connections/test")]
pub(crate) async fn test_unsaved(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<EnvPath>,
    body: ApiJson<CreateCredentialRequest>,
) -> ApiResult<HttpResponse> {
    let access = scope(&state, &user, &*path, Action::TestCredentials).await?;
    let _permit = state.probe_limiter.acquire(access.user.id)?;
    let outcome = service(&state).test_unsaved(&access, body.0.into()).await?;
    Ok(HttpResponse::Ok().json(TestResultDto::from(outcome)))
}

/// One connection: `password` `"********"` when one is stored, `extra`
/// opened (sensitive values masked for viewers).
#[utoipa::path(get, operation_id = "getCredentialConnection", path = "/api/{projectSlug}/{environmentSlug}/connections/{conn_id}", tag = "credential-connections", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path), ("conn_id" = String, Path)),
    responses(
        (status = 200, description = "The connection", body = CredentialConnectionDto),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Project access denied", body = ErrorBody),
        (status = 404, description = "No such connection, project or environment", body = ErrorBody),
    ))]
#[get("/api/{project_slug}/{environment_slug}/connections/{conn_id}")]
pub(crate) async fn get_one(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<CredentialPath>,
) -> ApiResult<HttpResponse> {
    let access = scope(&state, &user, &*path, Action::ViewCredentials).await?;
    let view = service(&state).get(&access, &path.conn_id).await?;
    Ok(HttpResponse::Ok().json(CredentialConnectionDto::single(view.connection, view.extra)))
}

/// Replaces a connection (seed 003 `PUT`).
#[utoipa::path(put, operation_id = "replaceCredentialConnection", path = "/api/{projectSlug}/{environmentSlug}/connections/{conn_id}", tag = "credential-connections", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path), ("conn_id" = String, Path)),
    request_body = ReplaceCredentialRequest,
    responses(
        (status = 200, description = "Updated", body = CredentialConnectionDto),
        (status = 400, description = "Invalid field, a field the type does not use, a changed conn_id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Project access denied, or role too low", body = ErrorBody),
        (status = 404, description = "No such connection, project or environment", body = ErrorBody),
    ))]
#[put("/api/{project_slug}/{environment_slug}/connections/{conn_id}")]
pub(crate) async fn replace(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<CredentialPath>,
    body: ApiJson<ReplaceCredentialRequest>,
) -> ApiResult<HttpResponse> {
    let access = scope(&state, &user, &*path, Action::WriteCredentials).await?;
    let b = body.0;
    let view = service(&state)
        .replace(
            &access,
            &path.conn_id,
            ReplaceCredentialInput {
                conn_id: b.conn_id,
                conn_type: b.conn_type,
                host: b.host,
                port: b.port,
                schema: b.schema,
                login: b.login,
                password: b.password,
                extra: b.extra,
                description: b.description,
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(CredentialConnectionDto::single(view.connection, view.extra)))
}

/// Deletes a connection: 204, or 409 listing the live resources that
/// reference it unless `?force=true`.
#[utoipa::path(delete, operation_id = "deleteCredentialConnection", path = "/api/{projectSlug}/{environmentSlug}/connections/{conn_id}", tag = "credential-connections", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path), ("conn_id" = String, Path), DeleteQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Project access denied, or role too low", body = ErrorBody),
        (status = 404, description = "No such connection, project or environment", body = ErrorBody),
        (status = 409, description = "Live resources reference it (ids listed)", body = ErrorBody),
    ))]
#[delete("/api/{project_slug}/{environment_slug}/connections/{conn_id}")]
pub(crate) async fn delete_one(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<CredentialPath>,
    query: web::Query<DeleteQuery>,
) -> ApiResult<HttpResponse> {
    let access = scope(&state, &user, &*path, Action::WriteCredentials).await?;
    service(&state)
        .delete(&access, &path.conn_id, query.force.unwrap_or(false))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Tests a stored connection (5 s budget) and records the outcome as its
/// `last_test`.
#[utoipa::path(post, operation_id = "testCredentialConnection", path = "/api/{projectSlug}/{environmentSlug}/connections/{conn_id}/test", tag = "credential-connections", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path), ("conn_id" = String, Path)),
    responses(
        (status = 200, description = "The test ran (see success)", body = TestResultDto),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Project access denied, or role too low", body = ErrorBody),
        (status = 404, description = "No such connection, project or environment", body = ErrorBody),
        (status = 429, description = "Too many tests (per user per minute, or in flight)", body = ErrorBody),
    ))]
#[post("/api/{project_slug}/{environment_slug}/connections/{conn_id}/test")]
pub(crate) async fn test(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<CredentialPath>,
) -> ApiResult<HttpResponse> {
    let access = scope(&state, &user, &*path, Action::TestCredentials).await?;
    let _permit = state.probe_limiter.acquire(access.user.id)?;
    let outcome = service(&state).test(&access, &path.conn_id).await?;
    Ok(HttpResponse::Ok().json(TestResultDto::from(outcome)))
}

/// The live resources whose `credentialConnId` names the connection.
#[utoipa::path(get, operation_id = "listCredentialConnectionUsers", path = "/api/{projectSlug}/{environmentSlug}/connections/{conn_id}/used-by", tag = "credential-connections", security(("bearer" = [])),
    params(("projectSlug" = String, Path), ("environmentSlug" = String, Path), ("conn_id" = String, Path)),
    responses(
        (status = 200, description = "The referencing resources", body = [UsedByDto]),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Project access denied", body = ErrorBody),
        (status = 404, description = "No such connection, project or environment", body = ErrorBody),
    ))]
#[get("/api/{project_slug}/{environment_slug}/connections/{conn_id}/used-by")]
pub(crate) async fn used_by(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<CredentialPath>,
) -> ApiResult<HttpResponse> {
    let access = scope(&state, &user, &*path, Action::ViewCredentials).await?;
    let users = service(&state).used_by(&access, &path.conn_id).await?;
    let body: Vec<UsedByDto> = users.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(body))
}
