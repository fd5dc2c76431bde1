//! Accounts: register, login, `GET /api/v1/me`, and the [`AuthUser`]
//! extractor every protected route takes.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use patchbay_app::auth::RegisterInput;
use patchbay_app::{AppError, AppErrorKind};
use patchbay_domain::User;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(register).service(login).service(me);
}

/// A user as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    pub id: Uuid,
    #[schema(example = "ada@example.com")]
    pub email: String,
    #[schema(example = "Ada Lovelace")]
    pub name: String,
    /// Instance administrator (the first registered user).
    pub is_admin: bool,
    #[serde(serialize_with = "crate::dto::rfc3339")]
    #[schema(value_type = String, example = "2024-01-15T10:30:00.000Z")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::dto::rfc3339")]
    #[schema(value_type = String, example = "2024-01-15T10:30:00.000Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserDto {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            email: u.email.as_str().to_owned(),
            name: u.name,
            is_admin: u.is_admin,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// `POST /api/auth/register` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// 8–128 characters.
    #[schema(example = "correct horse battery staple")]
    pub password: String,
    #[schema(example = "Ada Lovelace")]
    pub name: String,
}

/// `POST /api/auth/register` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterResponse {
    pub user: UserDto,
    pub token: String,
}

/// `POST /api/auth/login` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "ada@example.com")]
    pub email: String,
    #[schema(example = "correct horse battery staple")]
    pub password: String,
}

/// `POST /api/auth/login` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    #[schema(example = 86400)]
    pub expires_in: i64,
    pub user: UserDto,
}

/// Creates an account and returns it with a token. The first account of an
/// instance is its administrator.
#[utoipa::path(post, operation_id = "register", path = "/api/auth/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered", body = RegisterResponse),
        (status = 400, description = "Invalid email, name or password, or malformed JSON", body = ErrorBody),
        (status = 403, description = "Sign-up is disabled", body = ErrorBody),
        (status = 409, description = "Email already registered", body = ErrorBody),
    ))]
#[post("/api/auth/register")]
pub(crate) async fn register(
    state: web::Data<AppState>,
    body: ApiJson<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    let ApiJson(body) = body;
    let (user, token) = state
        .auth
        .register(RegisterInput {
            email: body.email,
            password: body.password,
            name: body.name,
        })
        .await?;
    Ok(HttpResponse::Created().json(RegisterResponse {
        user: user.into(),
        token: token.token,
    }))
}

/// Exchanges email and password for a bearer token. Rate limited per client
/// address.
#[utoipa::path(post, operation_id = "login", path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Invalid email or password", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address", body = ErrorBody),
    ))]
#[post("/api/auth/login")]
pub(crate) async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: ApiJson<LoginRequest>,
) -> ApiResult<HttpResponse> {
    // The client address: the TCP peer, or what a trusted proxy says.
    if let Some(client) = crate::client_ip::client_ip(&req)
        && !state.login_limiter.check(client)
    {
        return Err(AppError::rate_limited("Too many login attempts; try again later").into());
    }
    let ApiJson(body) = body;
    let (user, token) = match state.auth.login(&body.email, &body.password).await {
        Ok(logged_in) => logged_in,
        Err(e) => {
            if e.kind == AppErrorKind::Unauthorized {
                state.metrics.auth_failure("bad_credentials");
            }
            return Err(e.into());
        }
    };
    tracing::Span::current().record("user_id", tracing::field::display(user.id));
    Ok(HttpResponse::Ok().json(LoginResponse {
        token: token.token,
        token_type: "Bearer",
        expires_in: token.expires_in,
        user: user.into(),
    }))
}

/// The authenticated caller.
#[utoipa::path(get, operation_id = "getMe", path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserDto),
        (status = 401, description = "Missing, malformed, expired or foreign token", body = ErrorBody),
    ))]
#[get("/api/v1/me")]
pub(crate) async fn me(user: AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(UserDto::from(user.0))
}

/// The caller, authenticated by `Authorization: Bearer <jwt>`. Any problem
/// with the header or the token is a 401.
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

fn bearer(req: &HttpRequest) -> Result<String, AppError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| AppError::unauthorized("Missing Authorization header"))?
        .to_str()
        .map_err(|_| AppError::unauthorized("Malformed Authorization header"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| AppError::unauthorized("Expected 'Authorization: Bearer <token>'"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AppError::unauthorized(
            "Expected 'Authorization: Bearer <token>'",
        ));
    }
    Ok(token.trim().to_owned())
}

/// The caller of a project- or environment-scoped route: the user id of a
/// verified bearer token (signature, algorithm, claims; no store lookup).
/// The user itself is read together with the request's scope, in the same
/// query ([`patchbay_app::access::AccessService`]), which answers 401
/// `Invalid token` when the user no longer exists. Header problems are 401
/// here, as for [`AuthUser`].
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    /// The token's subject.
    pub user_id: uuid::Uuid,
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(caller(req).map_err(ApiError))
    }
}

/// Counts a missing or malformed `Authorization` header under its cause.
fn count_header_failure(req: &HttpRequest, state: &AppState) {
    state
        .metrics
        .auth_failure(if req.headers().contains_key(header::AUTHORIZATION) {
            "malformed_header"
        } else {
            "missing_token"
        });
}

fn caller(req: &HttpRequest) -> Result<Caller, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::internal("application state is not configured"))?;
    let token = bearer(req).inspect_err(|_| count_header_failure(req, state))?;
    let user_id = state
        .auth
        .verify_token(&token)
        .inspect_err(|_| state.metrics.auth_failure("invalid_token"))?;
    // The access log line of this request names the caller.
    tracing::Span::current().record("user_id", tracing::field::display(user_id));
    Ok(Caller { user_id })
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        if let (Err(_), Some(state)) = (&token, &state) {
            count_header_failure(req, state);
        }
        Box::pin(async move {
            let token = token?;
            let state =
                state.ok_or_else(|| AppError::internal("application state is not configured"))?;
            // Its own task: actix polls a handler's extractors together and
            // drops the rest when one fails (bad JSON, bad path); the lookup
            // must finish rather than be cancelled mid-query.
            let metrics = state.metrics.clone();
            let lookup = actix_web::rt::spawn(async move { state.auth.authenticate(&token).await });
            let user = lookup
                .await
                .map_err(|e| AppError::internal(format!("authentication task failed: {e}")))?
                .inspect_err(|e| {
                    if e.kind == AppErrorKind::Unauthorized {
                        metrics.auth_failure("invalid_token");
                    }
                })?;
            // The access log line of this request names the caller.
            tracing::Span::current().record("user_id", tracing::field::display(user.id));
            Ok(Self(user))
        })
    }
}
