//! HTTP semantics every route shares (RFC 9110): `HEAD` wherever `GET` is
//! (§9.3.2), 405 with `Allow` for a known path and a method it does not
//! answer (§15.5.6) while unknown paths stay 404, `OPTIONS` (§9.3.7), and
//! CORS headers for the configured origins only.

use awc::http::Method;
use patchbay_tests::{Options, Response, TestApp, on_both_backends};
use serde_json::json;

use crate::support::{canvas, create_project};

const APP_ORIGIN: &str = "https://app.example.com";
const DEV_ORIGIN: &str = "http://localhost:3000";

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> Response {
    app.client
        .request_with_headers(method, path, token, headers)
        .await
}

/// The `Access-Control-*` headers of a response.
fn cors_headers(res: &Response) -> Vec<&(String, String)> {
    res.headers
        .iter()
        .filter(|(k, _)| k.to_ascii_lowercase().starts_with("access-control-"))
        .collect()
}

/// Whether `Vary` (all its values) names `Origin`.
fn varies_on_origin(res: &Response) -> bool {
    res.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("vary"))
        .flat_map(|(_, v)| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case("origin"))
}

async fn head_is_answered_wherever_get_is(app: &TestApp) {
    let (token, base) = canvas(app, "ada", "shop").await;
    let t = Some(token.as_str());
    let resources = format!("{base}/resources");
    for (path, token) in [
        ("/healthz", None),
        ("/readyz", None),
        ("/openapi.json", None),
        ("/api/v1/me", t),
        ("/api/v1/projects", t),
        (resources.as_str(), t),
        // An error is the GET's error too, WWW-Authenticate included (the
        // client checks it on every 401).
        ("/api/v1/projects", None),
    ] {
        let get = send(app, Method::GET, path, token, &[]).await;
        let head = send(app, Method::HEAD, path, token, &[]).await;
        assert_eq!(head.status, get.status, "HEAD {path}: {}", head.text());
        assert!(head.body.is_empty(), "HEAD {path} has a body");
        assert!(!get.body.is_empty(), "GET {path} has no body");
        for name in ["content-type", "content-length", "x-total-count", "link"] {
            assert_eq!(
                head.header(name),
                get.header(name),
                "HEAD {path}: {name} differs from the GET's"
            );
        }
    }
    let head = send(app, Method::HEAD, "/api/v1/projects", t, &[]).await;
    assert_eq!(head.header("x-total-count"), Some("1"));

    // No GET, no HEAD: the path answers 405 and says what it allows.
    let head = send(app, Method::HEAD, "/api/auth/login", None, &[]).await;
    assert_eq!(head.status, 405);
    assert_eq!(head.header("allow"), Some("POST, OPTIONS"));
    assert!(head.body.is_empty());
    // An unknown path stays unknown.
    let head = send(app, Method::HEAD, "/nowhere", None, &[]).await;
    assert_eq!(head.status, 404);
}

async fn a_known_path_with_a_wrong_method_is_405_with_allow(app: &TestApp) {
    let (token, base) = canvas(app, "ada", "shop").await;
    let t = Some(token.as_str());
    let project = create_project(app, &token, "other").await;
    let project_path = format!("/api/v1/projects/{}", project["id"].as_str().unwrap());
    let resource_path = format!("{base}/resources/1");
    let resources = format!("{base}/resources");
    let cases: [(Method, &str, Option<&str>, &str); 8] = [
        (
            Method::PATCH,
            "/api/v1/projects",
            t,
            "GET, HEAD, POST, OPTIONS",
        ),
        (
            Method::PATCH,
            "/api/v1/projects",
            None,
            "GET, HEAD, POST, OPTIONS",
        ),
        (Method::TRACE, "/healthz", None, "GET, HEAD, OPTIONS"),
        (Method::DELETE, "/api/auth/login", None, "POST, OPTIONS"),
        (Method::GET, "/api/auth/register", None, "POST, OPTIONS"),
        (
            Method::POST,
            &project_path,
            t,
            "GET, HEAD, PUT, DELETE, OPTIONS",
        ),
        (
            Method::PUT,
            &resource_path,
            t,
            "GET, HEAD, PATCH, DELETE, OPTIONS",
        ),
        (Method::DELETE, &resources, t, "GET, HEAD, POST, OPTIONS"),
    ];
    for (method, path, token, allow) in cases {
        let res = app.client.request(method.clone(), path, token, None).await;
        res.assert_error(
            405,
            "Method Not Allowed",
            &format!("{method} is not allowed on {path}; allowed: {allow}"),
        );
        assert_eq!(res.header("allow"), Some(allow), "{method} {path}");
    }
    // A method actix has no name for is still a method (RFC 9110 §9.1).
    let custom = Method::from_bytes(b"BREW").unwrap();
    let res = app.client.request(custom, "/healthz", None, None).await;
    res.assert_error(
        405,
        "Method Not Allowed",
        "BREW is not allowed on /healthz; allowed: GET, HEAD, OPTIONS",
    );

    // Unknown paths stay 404, whatever the method.
    let res = app
        .client
        .patch("/api/v1/nothing-here", t, &json!({}))
        .await;
    res.assert_error(404, "Not Found", "No route for PATCH /api/v1/nothing-here");
    assert_eq!(res.header("allow"), None);
    let res = app.client.delete("/healthz/extra", None).await;
    res.assert_error(404, "Not Found", "No route for DELETE /healthz/extra");
    // And a right method still reaches its route, of course.
    assert_eq!(app.client.get(&project_path, t).await.status, 200);
}

async fn options_is_204_with_allow(app: &TestApp) {
    let (token, base) = canvas(app, "ada", "shop").await;
    for (path, allow) in [
        ("/healthz", "GET, HEAD, OPTIONS"),
        ("/api/v1/projects", "GET, HEAD, POST, OPTIONS"),
        ("/api/auth/login", "POST, OPTIONS"),
        (
            &format!("{base}/resources/1") as &str,
            "GET, HEAD, PATCH, DELETE, OPTIONS",
        ),
        ("/docs/", "GET, HEAD, OPTIONS"),
    ] {
        // With or without a token: OPTIONS says what the path supports,
        // which the public OpenAPI document says too.
        for token in [None, Some(token.as_str())] {
            let res = send(app, Method::OPTIONS, path, token, &[]).await;
            assert_eq!(res.status, 204, "OPTIONS {path}: {}", res.text());
            assert_eq!(res.header("allow"), Some(allow), "OPTIONS {path}");
        }
    }
    let res = send(app, Method::OPTIONS, "/nowhere", None, &[]).await;
    res.assert_error(404, "Not Found", "No route for OPTIONS /nowhere");

    // Without PATCHBAY_CORS_ORIGINS no response carries CORS headers, not
    // even a preflight from a would-be origin.
    let preflight = [
        ("origin", APP_ORIGIN),
        ("access-control-request-method", "POST"),
    ];
    let res = send(app, Method::OPTIONS, "/api/v1/projects", None, &preflight).await;
    assert_eq!(res.status, 204);
    assert!(cors_headers(&res).is_empty(), "{:?}", res.headers);
    assert!(!varies_on_origin(&res));
    let res = send(
        app,
        Method::GET,
        "/api/v1/projects",
        Some(&token),
        &[("origin", APP_ORIGIN)],
    )
    .await;
    assert_eq!(res.status, 200);
    assert!(cors_headers(&res).is_empty(), "{:?}", res.headers);
}

async fn cors_answers_configured_origins_only(app: &TestApp) {
    let (token, _) = canvas(app, "ada", "shop").await;
    let t = Some(token.as_str());
    // A second server on the same database, with two origins configured.
    let cors = TestApp::spawn(
        app.backend,
        Options {
            database_url: Some(app.settings.database_url.clone()),
            cors_origins: Some(format!("{APP_ORIGIN}, {DEV_ORIGIN}")),
            ..Options::default()
        },
    )
    .await
    .unwrap();

    // A preflight from an allowed origin.
    for origin in [APP_ORIGIN, DEV_ORIGIN] {
        let res = send(
            &cors,
            Method::OPTIONS,
            "/api/v1/projects",
            None,
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "authorization, content-type",
                ),
            ],
        )
        .await;
        assert_eq!(res.status, 204, "{}", res.text());
        assert_eq!(res.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
        assert_eq!(res.header("access-control-allow-origin"), Some(origin));
        assert_eq!(
            res.header("access-control-allow-methods"),
            Some("GET, HEAD, POST, OPTIONS")
        );
        let allowed = res.header("access-control-allow-headers").unwrap();
        for name in ["authorization", "content-type", "x-request-id"] {
            assert!(allowed.contains(name), "{allowed}");
        }
        assert_eq!(res.header("access-control-max-age"), Some("600"));
        // Bearer tokens, no cookies: credentials are never allowed.
        assert_eq!(res.header("access-control-allow-credentials"), None);
        assert!(varies_on_origin(&res));
    }

    // Actual requests from an allowed origin: the answer, success or error,
    // may be read by the page, with the headers it needs.
    let origin = [("origin", APP_ORIGIN)];
    for (path, token, status) in [
        ("/api/v1/projects", t, 200),
        ("/api/v1/projects", None, 401),
        ("/healthz", None, 200),
        ("/nowhere", None, 404),
    ] {
        let res = send(&cors, Method::GET, path, token, &origin).await;
        assert_eq!(res.status, status, "GET {path}: {}", res.text());
        assert_eq!(res.header("access-control-allow-origin"), Some(APP_ORIGIN));
        let exposed: Vec<String> = res
            .header("access-control-expose-headers")
            .unwrap()
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        for name in ["x-request-id", "etag", "link", "x-total-count"] {
            assert!(exposed.iter().any(|h| h == name), "{exposed:?}");
        }
        assert_eq!(res.header("access-control-allow-credentials"), None);
        assert!(varies_on_origin(&res), "GET {path}: {:?}", res.headers);
    }
    let res = send(&cors, Method::PATCH, "/api/v1/projects", t, &origin).await;
    res.assert_error(
        405,
        "Method Not Allowed",
        "PATCH is not allowed on /api/v1/projects; allowed: GET, HEAD, POST, OPTIONS",
    );
    assert_eq!(res.header("access-control-allow-origin"), Some(APP_ORIGIN));

    // Another origin, or a look-alike: served as before, no CORS header, so
    // the browser keeps the answer from the page.
    for other in [
        "https://evil.example.com",
        "http://app.example.com",
        "https://app.example.com:8443",
        "null",
    ] {
        let headers = [("origin", other), ("access-control-request-method", "POST")];
        let res = send(&cors, Method::OPTIONS, "/api/v1/projects", None, &headers).await;
        assert_eq!(res.status, 204);
        assert!(cors_headers(&res).is_empty(), "{other}: {:?}", res.headers);
        let res = send(
            &cors,
            Method::GET,
            "/api/v1/projects",
            t,
            &[("origin", other)],
        )
        .await;
        assert_eq!(res.status, 200);
        assert_eq!(res.json()[0]["name"], "shop");
        assert!(cors_headers(&res).is_empty(), "{other}: {:?}", res.headers);
        assert!(varies_on_origin(&res));
    }
    // No Origin at all (a server-side client): no CORS header either.
    let res = send(&cors, Method::GET, "/api/v1/projects", t, &[]).await;
    assert_eq!(res.status, 200);
    assert!(cors_headers(&res).is_empty(), "{:?}", res.headers);
    cors.stop().await;
}

on_both_backends!(
    head_is_answered_wherever_get_is,
    a_known_path_with_a_wrong_method_is_405_with_allow,
    options_is_204_with_allow,
    cors_answers_configured_origins_only,
);

/// `PATCHBAY_CORS_ORIGINS` takes origins only; anything else stops the
/// start-up with a message naming the setting and the entry.
#[test]
fn cors_origins_must_be_origins() {
    let settings = |value: &str| patchbay::Settings {
        cors_origins: Some(value.into()),
        ..patchbay::Settings::default()
    };
    assert!(
        settings("https://app.example.com,http://localhost:3000")
            .cors_origins()
            .is_ok()
    );
    let err = settings("https://app.example.com/")
        .cors_origins()
        .unwrap_err();
    assert!(
        err.starts_with("PATCHBAY_CORS_ORIGINS: 'https://app.example.com/' is not an origin"),
        "{err}"
    );
    assert!(settings("*").cors_origins().is_err());
}
