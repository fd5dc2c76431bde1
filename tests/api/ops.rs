//! Operational endpoints and the API description.

use patchbay_tests::{TestApp, on_both_backends};

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
    for line in html
        .lines()
        .filter(|l| l.contains("src=") || l.contains("href="))
    {
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
    ("post", "/api/{projectSlug}/{environmentSlug}/connections/test"),
    ("get", "/api/{projectSlug}/{environmentSlug}/connections/{conn_id}"),
    ("put", "/api/{projectSlug}/{environmentSlug}/connections/{conn_id}"),
    ("delete", "/api/{projectSlug}/{environmentSlug}/connections/{conn_id}"),
    ("post", "/api/{projectSlug}/{environmentSlug}/connections/{conn_id}/test"),
    ("get", "/api/{projectSlug}/{environmentSlug}/connections/{conn_id}/used-by"),
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
    // And every documented operation answers (never a route-less 404).
    let ops: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert!(ops >= ENDPOINTS.len(), "{ops} operations documented");
}

on_both_backends!(
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
        let res = app.client.get("/readyz", None).await;
        assert_eq!(res.status, 503, "{}", res.text());
        assert_eq!(res.json()["error"], "Service Unavailable");
        let res = app.client.get("/api/v1/projects", Some(&token)).await;
        assert_eq!(res.status, 503, "{}", res.text());
        // The driver's words (database names, SQL) stay in the log.
        assert_eq!(
            res.json()["message"],
            "A dependency is unavailable; try again shortly"
        );
    }
    assert_eq!(app.client.get("/healthz", None).await.status, 200);
    app.finish().await;
}
