//! Per-request context: a request id (taken from a well-formed incoming
//! `x-request-id`, else generated) on every response and on every log line of
//! the request (a tracing span), an access log line, and the metrics.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use tracing::Instrument;

use patchbay_app::AppError;

use crate::AppState;
use crate::error::ApiError;

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn incoming_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    ok.then(|| value.to_owned())
}

/// The path as logged: secrets that travel in paths (invite tokens) are
/// replaced, so the log never holds a usable credential.
pub(crate) fn redact_path(path: &str) -> String {
    const INVITES: &str = "/api/v1/invites/";
    match path.strip_prefix(INVITES) {
        Some(rest) => match rest.split_once('/') {
            Some((_, tail)) => format!("{INVITES}[redacted]/{tail}"),
            None => format!("{INVITES}[redacted]"),
        },
        None => path.to_owned(),
    }
}

/// The middleware; install with `App::wrap(from_fn(request_context))`.
///
/// # Errors
/// Passes through errors of the inner service.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = incoming_id(&req).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = req.method().clone();
    let path = redact_path(req.path());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let metrics = state.as_ref().map(|s| s.metrics.clone());
    let client_ip = state
        .as_ref()
        .and_then(|s| crate::client_ip::resolve(&req, &s.trusted_proxies));
    // `user_id` is recorded by the authentication extractor once known.
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        %method,
        %path,
        client_ip = client_ip.map(tracing::field::display),
        user_id = tracing::field::Empty,
    );
    let started = Instant::now();
    // Run the request as its own task: if the client goes away, dropping
    // this future only detaches the task, so a query or transaction always
    // runs to completion instead of being cancelled half-way (diesel-async's
    // SQLite wrapper cannot be cancelled on actix's current-thread workers),
    // and a panicking handler becomes a 500 in the usual shape.
    let task = actix_web::rt::spawn(next.call(req).instrument(span.clone()));
    let result = match task.await {
        Ok(result) => result,
        Err(join) => {
            span.in_scope(|| tracing::error!(error = %join, "request handler panicked"));
            Err(ApiError(AppError::internal("request handler panicked")).into())
        }
    };
    let elapsed = started.elapsed();
    let mut res = result?;
    let status = res.status();
    let pattern = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    if let Some(metrics) = metrics {
        metrics.observe(method.as_str(), &pattern, status.as_u16(), elapsed);
    }
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request completed"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::redact_path;

    #[test]
    fn invite_tokens_never_reach_the_log() {
        assert_eq!(
            redact_path("/api/v1/invites/s3cr3t"),
            "/api/v1/invites/[redacted]"
        );
        assert_eq!(
            redact_path("/api/v1/invites/s3cr3t/accept"),
            "/api/v1/invites/[redacted]/accept"
        );
        assert_eq!(
            redact_path("/api/v1/projects/x/invites"),
            "/api/v1/projects/x/invites"
        );
        assert_eq!(redact_path("/healthz"), "/healthz");
    }
}
