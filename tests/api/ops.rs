//! Operational endpoints and the API description.

use patchbay_tests::{TestApp, on_both_backends};
use serde_json::json;

async fn health_readiness_and_metrics(app: &TestApp) {
    let res = app.client.get("/healthz", None).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["status"], "ok");
    let res = app.client.get("/readyz", None).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["status"], "ready");
    let res = app.client.get("/metrics", None).await;
    assert_eq!(res.status, 200);
    let text = res.text();
    assert!(text.contains("patchbay_http_requests_total"), "{text}");
    assert!(text.contains(r#"route="/readyz""#), "{text}");
    assert!(
        text.contains("patchbay_http_request_duration_seconds_bucket"),
        "{text}"
    );
}

async fn openapi_lists_the_endpoints_and_docs_are_self_hosted(app: &TestApp) {
    let res = app.client.get("/openapi.json", None).await;
    assert_eq!(res.status, 200);
    let doc = res.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/auth/register",
        "/api/auth/login",
        "/api/v1/me",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    let res = app.client.get("/docs", None).await;
    assert!(matches!(res.status, 301 | 308), "{}", res.status);
    let res = app.client.get("/docs/", None).await;
    assert_eq!(res.status, 200);
    let html = res.text();
    assert!(html.contains("swagger"), "{html}");
    // Every asset the page loads is served by patchbay itself.
    let assets: Vec<&str> = html
        .lines()
        .filter(|l| l.contains("src=") || l.contains("href="))
        .collect();
    assert!(assets.len() >= 2, "the page loads no assets? {html}");
    for line in assets {
        assert!(
            !line.contains("http://") && !line.contains("https://"),
            "external asset: {line}"
        );
    }
    let init = app.client.get("/docs/swagger-initializer.js", None).await;
    assert_eq!(init.status, 200);
    assert!(init.text().contains("/openapi.json"));
    assert!(!init.text().contains("https://"), "{}", init.text());
    let css = app.client.get("/docs/swagger-ui.css", None).await;
    assert_eq!(css.status, 200);
    let js = app.client.get("/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(js.status, 200);
}

/// Every endpoint of SPEC §3–7 and seeds 000–004, with its method.
const ENDPOINTS: &[(&str, &str)] = &[
    ("post", "/api/auth/register"),
    ("post", "/api/auth/login"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/projects"),
    ("post", "/api/v1/projects"),
    ("get", "/api/v1/projects/{id}"),
    ("put", "/api/v1/projects/{id}"),
    ("delete", "/api/v1/projects/{id}"),
    ("post", "/api/v1/projects/{id}/icon"),
    ("delete", "/api/v1/projects/{id}/icon"),
    ("get", "/api/v1/projects/{id}/members"),
    ("post", "/api/v1/projects/{id}/members"),
    ("put", "/api/v1/projects/{id}/members/{memberId}"),
    ("delete", "/api/v1/projects/{id}/members/{memberId}"),
    ("post", "/api/v1/projects/{id}/transfer"),
    ("get", "/api/v1/projects/{id}/invites"),
    ("post", "/api/v1/projects/{id}/invites"),
    ("delete", "/api/v1/projects/{id}/invites/{inviteId}"),
    ("get", "/api/v1/invites/{token}"),
    ("post", "/api/v1/invites/{token}/accept"),
    ("get", "/api/v1/me/invites"),
    ("get", "/api/v1/projects/{projectId}/environments"),
    ("post", "/api/v1/projects/{projectId}/environments"),
    ("get", "/api/v1/projects/{projectId}/environments/{envId}"),
    ("put", "/api/v1/projects/{projectId}/environments/{envId}"),
    (
        "delete",
        "/api/v1/projects/{projectId}/environments/{envId}",
    ),
    (
        "post",
        "/api/v1/projects/{projectId}/environments/{envId}/set-default",
    ),
    (
        "post",
        "/api/v1/projects/{projectId}/environments/{envId}/clone",
    ),
    ("get", "/api/{projectSlug}/{environmentSlug}/resources"),
    ("post", "/api/{projectSlug}/{environmentSlug}/resources"),
    ("get", "/api/{projectSlug}/{environmentSlug}/resources/{id}"),
    (
        "patch",
        "/api/{projectSlug}/{environmentSlug}/resources/{id}",
    ),
    (
        "delete",
        "/api/{projectSlug}/{environmentSlug}/resources/{id}",
    ),
    (
        "post",
        "/api/{projectSlug}/{environmentSlug}/resources/{id}/restore",
    ),
    (
        "get",
        "/api/{projectSlug}/{environmentSlug}/resources/{resourceType}/{resourceId}/connections",
    ),
    ("get", "/api/{projectSlug}/{environmentSlug}/graph"),
    ("post", "/api/{projectSlug}/{environmentSlug}/subdomains"),
    ("get", "/api/{projectSlug}/{environmentSlug}/subdomains"),
    (
        "get",
        "/api/{projectSlug}/{environmentSlug}/subdomains/{id}",
    ),
    (
        "patch",
        "/api/{projectSlug}/{environmentSlug}/subdomains/{id}",
    ),
    (
        "post",
        "/api/{projectSlug}/{environmentSlug}/resource-connections",
    ),
    (
        "get",
        "/api/{projectSlug}/{environmentSlug}/resource-connections",
    ),
    (
        "get",
        "/api/{projectSlug}/{environmentSlug}/resource-connections/{connectionId}",
    ),
    (
        "patch",
        "/api/{projectSlug}/{environmentSlug}/resource-connections/{connectionId}",
    ),
    (
        "delete",
        "/api/{projectSlug}/{environmentSlug}/resource-connections/{connectionId}",
    ),
    ("get", "/api/v1/allowed-connections"),
    ("post", "/api/v1/allowed-connections"),
    ("delete", "/api/v1/allowed-connections/{id}"),
    ("get", "/api/connection-types"),
    ("get", "/api/{projectSlug}/{environmentSlug}/connections"),
    ("post", "/api/{projectSlug}/{environmentSlug}/connections"),
    (
        "post",
        "/api/{projectSlug}/{environmentSlug}/connections/test",
    ),
    (
        "get",
        "/api/{projectSlug}/{environmentSlug}/connections/{conn_id}",
    ),
    (
        "put",
        "/api/{projectSlug}/{environmentSlug}/connections/{conn_id}",
    ),
    (
        "delete",
        "/api/{projectSlug}/{environmentSlug}/connections/{conn_id}",
    ),
    (
        "post",
        "/api/{projectSlug}/{environmentSlug}/connections/{conn_id}/test",
    ),
    (
        "get",
        "/api/{projectSlug}/{environmentSlug}/connections/{conn_id}/used-by",
    ),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
];

async fn every_endpoint_is_in_the_openapi_document(app: &TestApp) {
    let doc = app.client.get("/openapi.json", None).await.json();
    for (method, path) in ENDPOINTS {
        let op = &doc["paths"][*path][*method];
        assert!(
            op.is_object(),
            "{method} {path} is missing from /openapi.json"
        );
        assert!(
            op["responses"].is_object(),
            "{method} {path} documents no responses"
        );
    }
    // And every documented operation answers: a request with its method
    // and path (parameters filled in) reaches a route, never the route-less
    // 404 of the default service, and never a 5xx.
    let mut asked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let method = awc::http::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let concrete = fill_parameters(path);
            let res = app
                .client
                .request(method.clone(), &concrete, None, Some(&json!({})))
                .await;
            assert!(
                res.status < 500,
                "{method} {concrete} (documented as {path}): {} {}",
                res.status,
                res.text()
            );
            // (A documented method the path has no route for would be
            // 405, the path being known.)
            let routeless = (res.status == 404
                && res.json()["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("No route for")))
                || res.status == 405;
            assert!(
                !routeless,
                "{method} {path} is documented but no route answers it: {}",
                res.text()
            );
            asked += 1;
        }
    }
    assert!(
        asked >= ENDPOINTS.len(),
        "{asked} documented operations asked, fewer than the {} listed here",
        ENDPOINTS.len()
    );
}

/// A documented path with each `{parameter}` replaced by a well-formed
/// value of its kind, so the request reaches the route.
fn fill_parameters(path: &str) -> String {
    let canvas = !path.starts_with("/api/v1") && !path.starts_with("/api/auth");
    let mut out = String::new();
    let mut rest = path;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = rest[i..].find('}').unwrap() + i;
        let name = &rest[i + 1..j];
        out.push_str(match name {
            "projectSlug" => "nowhere",
            "environmentSlug" => "production",
            "resourceType" => "instance",
            "token" => "not-a-token",
            "conn_id" => "some-conn",
            _ if canvas => "1",
            "id" if path.starts_with("/api/v1/allowed-connections") => "1",
            _ => "0190f5d2-7c4e-7cc0-8a7e-1b2c3d4e5f60",
        });
        rest = &rest[j + 1..];
    }
    out.push_str(rest);
    out
}

/// A failure nobody planned for (here: a table renamed under the running
/// server) is a 500 whose body says nothing of it: the generic message, no
/// SQL, no table name. (That the detail reaches the log with the request id
/// is checked against the real binary in `process.rs`.)
async fn an_unexpected_failure_is_a_generic_500(app: &TestApp) {
    let (_, token) = crate::support::register(app, &crate::support::email("ada")).await;
    let t = Some(token.as_str());
    crate::support::create_project(app, &token, "doomed").await;
    app.exec_sql("ALTER TABLE projects RENAME TO projects_gone")
        .await;
    for _ in 0..2 {
        let res = app.client.get("/api/v1/projects", t).await;
        res.assert_error(
            500,
            "Internal Server Error",
            "An unexpected error occurred; see the server log for this request id",
        );
        for secret in [
            "projects_gone",
            "relation",
            "no such table",
            "SELECT",
            "diesel",
        ] {
            assert!(!res.text().contains(secret), "{}", res.text());
        }
    }
    app.exec_sql("ALTER TABLE projects_gone RENAME TO projects")
        .await;
    let res = app.client.get("/api/v1/projects", t).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()[0]["name"], "doomed");
}

on_both_backends!(
    an_unexpected_failure_is_a_generic_500,
    every_endpoint_is_in_the_openapi_document,
    health_readiness_and_metrics,
    openapi_lists_the_endpoints_and_docs_are_self_hosted,
);

/// PostgreSQL going away (here: its database dropped, which terminates every
/// connection) is a 503 in the error shape on the health check and on API
/// routes — never a 500 — and the process keeps serving.
#[actix_web::test]
async fn database_outage_is_503_not_500_postgres() {
    let Some(app) = patchbay_tests::TestApp::spawn(
        patchbay_tests::Backend::Postgres,
        patchbay_tests::Options::default(),
    )
    .await
    else {
        return;
    };
    let (_, token) = crate::support::register(&app, &crate::support::email("ada")).await;
    assert_eq!(app.client.get("/readyz", None).await.status, 200);
    app.drop_database().await;
    for _ in 0..3 {
        // The driver's words (database names, SQL) stay in the log.
        let res = app.client.get("/readyz", None).await;
        res.assert_error(
            503,
            "Service Unavailable",
            "A dependency is unavailable; try again shortly",
        );
        let res = app.client.get("/api/v1/projects", Some(&token)).await;
        res.assert_error(
            503,
            "Service Unavailable",
            "A dependency is unavailable; try again shortly",
        );
    }
    assert_eq!(app.client.get("/healthz", None).await.status, 200);
    app.finish().await;
}
