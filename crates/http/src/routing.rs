//! RFC 9110 method semantics on top of actix's router, which only knows
//! "a route matched" or "none did": the table of which methods each known
//! path answers (taken from the OpenAPI document, so a documented route is a
//! known route, plus the documentation pages), `HEAD` served by the `GET`
//! route (§9.3.2), and for a known path without a route for the method
//! `OPTIONS` → 204 and anything else → 405, both with `Allow` (§15.5.6).
//! It decides no business rule and reads no body.

use std::sync::LazyLock;

use actix_web::body::MessageBody;
use actix_web::dev::{ResourceDef, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use utoipa::OpenApi as _;

/// Routes that answer but are not API operations, so not in the document.
const UNDOCUMENTED: &[(&str, Method)] = &[
    ("/openapi.json", Method::GET),
    ("/docs", Method::GET),
    ("/docs/{tail}*", Method::GET),
];

/// The order methods are listed in `Allow`.
const ORDER: &[Method] = &[
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
];

/// Every known path pattern with the methods a route answers on it.
#[derive(Debug)]
pub(crate) struct RouteTable {
    routes: Vec<(ResourceDef, Vec<Method>)>,
}

static TABLE: LazyLock<RouteTable> = LazyLock::new(RouteTable::from_document);

impl RouteTable {
    /// The table of this build, computed once.
    pub(crate) fn get() -> &'static Self {
        &TABLE
    }

    fn from_document() -> Self {
        let doc = crate::ApiDoc::openapi();
        let mut routes: Vec<(ResourceDef, Vec<Method>)> = Vec::new();
        let mut add = |path: &str, method: Method| {
            if let Some((_, methods)) = routes
                .iter_mut()
                .find(|(def, _)| def.pattern() == Some(path))
            {
                methods.push(method);
            } else {
                routes.push((ResourceDef::new(path), vec![method]));
            }
        };
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ] {
                if op.is_some() {
                    add(path, method);
                }
            }
        }
        for (path, method) in UNDOCUMENTED {
            add(path, method.clone());
        }
        Self { routes }
    }

    /// The methods `path` answers, in `Allow` order — with `HEAD` wherever
    /// `GET` is, and `OPTIONS` — or `None` for a path no route knows. Where
    /// patterns overlap (`/api/v1/projects/connections` is also a project
    /// slug `v1`'s environment `projects`), the router tries them all, so
    /// the answer is the union.
    pub(crate) fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        let mut found: Vec<&Method> = Vec::new();
        for (def, methods) in &self.routes {
            if def.is_match(path) {
                found.extend(methods);
            }
        }
        if found.is_empty() {
            return None;
        }
        let has = |m: &Method| match *m {
            Method::HEAD => found.contains(&&Method::GET),
            Method::OPTIONS => true,
            _ => found.contains(&m),
        };
        Some(ORDER.iter().filter(|m| has(m)).cloned().collect())
    }

    /// Whether a route answers `GET` on `path` (so `HEAD` is served by it).
    pub(crate) fn has_get(&self, path: &str) -> bool {
        self.routes
            .iter()
            .any(|(def, methods)| methods.contains(&Method::GET) && def.is_match(path))
    }
}

/// The value of an `Allow` header: `GET, HEAD, OPTIONS`.
pub(crate) fn allow_value(methods: &[Method]) -> String {
    methods
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The middleware serving `HEAD` with the `GET` route of the same path, so
/// status and headers are the GET's (RFC 9110 §9.3.2). The handler sees a
/// `GET`; the HTTP/1 codec, which remembers the request was `HEAD`, sends
/// the headers (`Content-Length` included) and no body. Install with
/// `App::wrap(from_fn(head_as_get))`, outside the router; a `HEAD` on a
/// path without `GET` is left alone and gets 405.
///
/// # Errors
/// Passes through errors of the inner service.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD && RouteTable::get().has_get(req.path()) {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(path: &str) -> Option<String> {
        RouteTable::get().allowed(path).map(|m| allow_value(&m))
    }

    #[test]
    fn known_paths_list_their_methods_with_head_and_options() {
        assert_eq!(allow("/healthz").as_deref(), Some("GET, HEAD, OPTIONS"));
        assert_eq!(
            allow("/api/v1/projects").as_deref(),
            Some("GET, HEAD, POST, OPTIONS")
        );
        assert_eq!(allow("/api/auth/login").as_deref(), Some("POST, OPTIONS"));
        assert_eq!(
            allow("/api/v1/projects/0190f5d2-7c4e-7cc0-8a7e-1b2c3d4e5f60").as_deref(),
            Some("GET, HEAD, PUT, DELETE, OPTIONS")
        );
        assert_eq!(
            allow("/api/shop/production/resources/7").as_deref(),
            Some("GET, HEAD, PATCH, DELETE, OPTIONS")
        );
        assert_eq!(allow("/docs/").as_deref(), Some("GET, HEAD, OPTIONS"));
        assert_eq!(
            allow("/docs/index.css").as_deref(),
            Some("GET, HEAD, OPTIONS")
        );
    }

    #[test]
    fn unknown_paths_are_unknown() {
        assert_eq!(allow("/nowhere"), None);
        assert_eq!(allow("/api/v1/nothing-here"), None);
        assert_eq!(allow("/healthz/"), None);
        assert_eq!(allow("/api/v1/projects/a/b/c/d/e"), None);
    }

    #[test]
    fn head_follows_get() {
        let table = RouteTable::get();
        assert!(table.has_get("/healthz"));
        assert!(table.has_get("/api/v1/me"));
        assert!(!table.has_get("/api/auth/login"));
        assert!(!table.has_get("/nowhere"));
    }
}
