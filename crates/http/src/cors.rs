//! Cross-origin resource sharing (Fetch standard, "CORS protocol") for the
//! origins named in `PATCHBAY_CORS_ORIGINS`: a request from one of them gets
//! `Access-Control-Allow-Origin` and the exposed headers, a preflight (an
//! `OPTIONS` the router answered 204 with `Allow`) gets the allowed methods
//! and headers too. Any other origin gets no CORS header at all, and is
//! served exactly as without CORS: the browser, not the server, refuses it.
//! Without configured origins the middleware adds nothing. Tokens travel in
//! `Authorization`, never in cookies, so credentials are never allowed.

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use crate::AppState;

/// Response headers a browser script may read (`x-request-id` to report a
/// failure, `ETag`, and the paging headers `Link` and `X-Total-Count`).
const EXPOSED: &str = "x-request-id, etag, link, x-total-count";

/// Request headers the API reads, allowed in cross-origin requests.
const ALLOWED_HEADERS: &str = "authorization, content-type, x-request-id, if-match, if-none-match";

/// How long (seconds) a browser may cache a preflight's answer.
const PREFLIGHT_MAX_AGE: &str = "600";

/// The origins allowed to call the API from a browser; empty: CORS is off.
#[derive(Debug, Clone, Default)]
pub struct CorsOrigins(Arc<[String]>);

impl CorsOrigins {
    /// Parses a comma-separated list of origins such as
    /// `https://app.example.com,http://localhost:3000` (blank entries are
    /// skipped; the empty string is "none").
    ///
    /// # Errors
    /// A message naming `PATCHBAY_CORS_ORIGINS` and the entry that is not an
    /// origin: scheme `http` or `https`, a host, an optional port, nothing
    /// after it (no path, not even `/`), no `*`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut origins = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let origin = entry.to_ascii_lowercase();
            let bad =
                |why: &str| format!("PATCHBAY_CORS_ORIGINS: '{entry}' is not an origin: {why}");
            let Some(authority) = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"))
            else {
                return Err(bad("it must start with http:// or https://"));
            };
            let (host, port) = match authority.strip_prefix('[') {
                // An IPv6 literal: `[::1]` or `[::1]:8080`.
                Some(v6) => match v6.split_once(']') {
                    Some((addr, rest))
                        if addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') =>
                    {
                        match rest.strip_prefix(':') {
                            Some(port) => ("v6", Some(port)),
                            None if rest.is_empty() => ("v6", None),
                            None => ("", None),
                        }
                    }
                    _ => ("", None),
                },
                None => match authority.split_once(':') {
                    Some((host, port)) => (host, Some(port)),
                    None => (authority, None),
                },
            };
            let host_ok = !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'));
            if !host_ok {
                return Err(bad(
                    "write scheme://host[:port], without path, wildcard or user",
                ));
            }
            if port.is_some_and(|p| p.parse::<u16>().is_err()) {
                return Err(bad("the port must be a number up to 65535"));
            }
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Ok(Self(origins.into()))
    }

    /// Whether any origin is configured.
    #[must_use]
    pub fn is_enabled(&self) -> bool {
        !self.0.is_empty()
    }

    /// Whether a request's `Origin` value is one of the configured origins
    /// (compared without regard to ASCII case).
    fn allows(&self, origin: &HeaderValue) -> bool {
        origin
            .to_str()
            .is_ok_and(|o| self.0.iter().any(|allowed| allowed.eq_ignore_ascii_case(o)))
    }
}

/// The middleware; install with `App::wrap(from_fn(cors))`, outside the
/// router (it reads the [`AppState`]'s origins).
///
/// # Errors
/// Passes through errors of the inner service.
pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let origins = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.cors.clone())
        .unwrap_or_default();
    if !origins.is_enabled() {
        return next.call(req).await;
    }
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .filter(|o| origins.allows(o))
        .cloned();
    let preflight = req.method() == actix_web::http::Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut res = next.call(req).await?;
    let status = res.status();
    let headers = res.headers_mut();
    // The answer depends on Origin wherever CORS is on: caches must know.
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    let Some(origin) = origin else {
        return Ok(res);
    };
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    if preflight && status == StatusCode::NO_CONTENT {
        if let Some(allow) = headers.get(header::ALLOW).cloned() {
            headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, allow);
        }
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOWED_HEADERS),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(PREFLIGHT_MAX_AGE),
        );
    } else {
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED),
        );
    }
    Ok(res)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_and_match_without_case() {
        let o = CorsOrigins::parse(" https://App.example.com , http://localhost:3000,,").unwrap();
        assert!(o.is_enabled());
        assert!(o.allows(&HeaderValue::from_static("https://app.example.com")));
        assert!(o.allows(&HeaderValue::from_static("http://localhost:3000")));
        assert!(!o.allows(&HeaderValue::from_static("http://localhost:3001")));
        assert!(!o.allows(&HeaderValue::from_static("http://app.example.com")));
        assert!(!o.allows(&HeaderValue::from_static("null")));
        assert!(CorsOrigins::parse("http://[::1]:8080").is_ok());
    }

    #[test]
    fn none_configured_is_off() {
        assert!(!CorsOrigins::parse("").unwrap().is_enabled());
        assert!(!CorsOrigins::parse(" , ").unwrap().is_enabled());
        assert!(!CorsOrigins::default().is_enabled());
    }

    #[test]
    fn what_is_not_an_origin_is_refused_by_name() {
        for bad in [
            "app.example.com",
            "ftp://app.example.com",
            "https://app.example.com/",
            "https://app.example.com/ui",
            "https://*.example.com",
            "*",
            "https://user@app.example.com",
            "https://app.example.com:99999",
            "https://app.example.com:http",
            "https://",
        ] {
            let err = CorsOrigins::parse(bad).unwrap_err();
            assert!(err.starts_with("PATCHBAY_CORS_ORIGINS: '"), "{bad}: {err}");
        }
    }
}
