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

on_both_backends!(
    health_readiness_and_metrics,
    openapi_lists_the_endpoints_and_docs_are_self_hosted,
);
