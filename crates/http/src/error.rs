//! The one place application errors become HTTP responses: status from the
//! error kind, body `{"error": <title>, "message": <detail>}`. Unexpected
//! errors are logged (inside the request's span, so with its request id) and
//! answered with a generic body.

use actix_web::http::StatusCode;
use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use patchbay_app::{AppError, AppErrorKind};
use serde::Serialize;
use utoipa::ToSchema;

/// The error body every endpoint uses.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Short title, e.g. "Connection not allowed".
    #[schema(example = "Bad Request")]
    pub error: String,
    /// What went wrong, for a human.
    #[schema(example = "email: must contain exactly one '@'")]
    pub message: String,
}

/// An [`AppError`] on its way out as a response.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        Self(err)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

pub(crate) const fn status_of(kind: AppErrorKind) -> StatusCode {
    match kind {
        AppErrorKind::BadRequest => StatusCode::BAD_REQUEST,
        AppErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        AppErrorKind::Forbidden => StatusCode::FORBIDDEN,
        AppErrorKind::NotFound => StatusCode::NOT_FOUND,
        AppErrorKind::Conflict => StatusCode::CONFLICT,
        AppErrorKind::Gone => StatusCode::GONE,
        AppErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        AppErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        AppErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        AppErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        AppErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_of(self.0.kind)
    }

    fn error_response(&self) -> HttpResponse {
        let err = &self.0;
        if let Some(detail) = &err.detail {
            tracing::error!(kind = ?err.kind, detail = %detail, "request failed");
        }
        let mut builder = HttpResponse::build(self.status_code());
        match err.kind {
            AppErrorKind::Unauthorized => {
                builder.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            AppErrorKind::RateLimited => {
                builder.insert_header((header::RETRY_AFTER, "60"));
            }
            _ => {}
        }
        builder.json(ErrorBody {
            error: err.title.to_string(),
            message: err.message.clone(),
        })
    }
}

/// The default service: no route matched the method and path. A path some
/// route knows answers `OPTIONS` with 204 and any other method with 405,
/// both with `Allow` (RFC 9110 §9.3.7, §15.5.6); an unknown path is 404.
pub(crate) async fn not_found(req: HttpRequest) -> HttpResponse {
    let path = req.path();
    if path == "/api/connections" || path.starts_with("/api/connections/") {
        return ApiError(AppError::not_found(
            crate::credential_connections::UNSCOPED_MESSAGE,
        ))
        .error_response();
    }
    if let Some(methods) = crate::routing::RouteTable::get().allowed(path) {
        let allow = crate::routing::allow_value(&methods);
        if req.method() == Method::OPTIONS {
            return HttpResponse::NoContent()
                .insert_header((header::ALLOW, allow))
                .finish();
        }
        return HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, allow.clone()))
            .json(ErrorBody {
                error: "Method Not Allowed".into(),
                message: format!(
                    "{} is not allowed on {path}; allowed: {allow}",
                    req.method()
                ),
            });
    }
    ApiError(AppError::not_found(format!(
        "No route for {} {}",
        req.method(),
        req.path()
    )))
    .error_response()
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;
