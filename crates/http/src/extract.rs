//! Request extraction with errors in patchbay's shape: JSON bodies (256 KiB,
//! `application/json`, errors naming the offending field), path and query
//! parameters.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, HttpRequest};
use patchbay_app::{AppError, AppErrorKind};
use serde::de::DeserializeOwned;

use crate::JSON_BODY_LIMIT;
use crate::error::ApiError;

pub(crate) fn payload_config() -> web::PayloadConfig {
    web::PayloadConfig::new(JSON_BODY_LIMIT)
}

pub(crate) fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(JSON_BODY_LIMIT)
        .error_handler(|err, _req| {
            let app = match err {
                JsonPayloadError::Overflow { .. }
                | JsonPayloadError::OverflowKnownLength { .. } => too_large(),
                JsonPayloadError::ContentType => unsupported_media_type(),
                other => AppError::bad_request(format!("Invalid JSON body: {other}")),
            };
            ApiError(app).into()
        })
}

pub(crate) fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| {
        let PathError::Deserialize(e) = err else {
            return ApiError(AppError::bad_request("Invalid path parameter")).into();
        };
        ApiError(AppError::bad_request(format!(
            "Invalid path parameter: {e}"
        )))
        .into()
    })
}

pub(crate) fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let QueryPayloadError::Deserialize(e) = err else {
            return ApiError(AppError::bad_request("Invalid query string")).into();
        };
        ApiError(AppError::bad_request(format!(
            "Invalid query parameter: {e}"
        )))
        .into()
    })
}

fn too_large() -> AppError {
    AppError::new(
        AppErrorKind::PayloadTooLarge,
        format!("The request body exceeds {JSON_BODY_LIMIT} bytes"),
    )
}

fn unsupported_media_type() -> AppError {
    AppError::new(
        AppErrorKind::UnsupportedMediaType,
        "Content-Type must be application/json",
    )
}

/// A JSON body whose deserialisation errors name the field at fault, e.g.
/// ``email: invalid type: integer `1`, expected a string``.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            });
        let too_long = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .is_some_and(|len| len > JSON_BODY_LIMIT);
        let body = Bytes::from_request(req, payload);
        Box::pin(async move {
            if too_long {
                return Err(ApiError(too_large()).into());
            }
            let bytes = body.await.map_err(|e| {
                let app = match e.as_error::<actix_web::error::PayloadError>() {
                    Some(actix_web::error::PayloadError::Overflow) => too_large(),
                    _ if e.to_string().contains("overflow") => too_large(),
                    _ => AppError::bad_request("Could not read the request body"),
                };
                actix_web::Error::from(ApiError(app))
            })?;
            if !is_json {
                return Err(ApiError(unsupported_media_type()).into());
            }
            parse_json(&bytes)
                .map(ApiJson)
                .map_err(|e| ApiError(e).into())
        })
    }
}

/// Deserialises JSON, reporting the path of the failing field.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    if bytes.is_empty() {
        return Err(AppError::bad_request("A JSON body is required"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let what = strip_position(&inner.to_string());
        if inner.is_syntax() || inner.is_eof() || path.is_empty() || path == "." {
            AppError::bad_request(format!("Invalid JSON body: {what}"))
        } else {
            AppError::bad_request(format!("{path}: {what}"))
        }
    })
}

/// serde_json appends " at line L column C"; clients need the field, not the
/// column, and the message reads better without it.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        n: Option<u32>,
    }

    #[test]
    fn json_errors_name_the_field() {
        let err = parse_json::<Body>(br#"{"email": 1}"#).unwrap_err();
        assert!(
            err.message.starts_with("email: invalid type"),
            "{}",
            err.message
        );
        let err = parse_json::<Body>(br#"{"email": "a", "id": 3}"#).unwrap_err();
        assert!(
            err.message.contains("unknown field `id`"),
            "{}",
            err.message
        );
        let err = parse_json::<Body>(br#"{"email": "a", "n": -1}"#).unwrap_err();
        assert!(err.message.starts_with("n: "), "{}", err.message);
        let err = parse_json::<Body>(b"{nope").unwrap_err();
        assert!(
            err.message.starts_with("Invalid JSON body"),
            "{}",
            err.message
        );
        let err = parse_json::<Body>(b"").unwrap_err();
        assert_eq!(err.message, "A JSON body is required");
    }
}
