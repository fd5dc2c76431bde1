//! Cross-cutting API conventions: the error shape, body limits, content
//! types, unknown routes and request ids.

use awc::http::Method;
use patchbay_tests::{TestApp, on_both_backends};
use serde_json::json;

async fn unknown_routes_are_404_in_the_error_shape(app: &TestApp) {
    let res = app.client.get("/api/v1/nothing-here", None).await;
    assert_eq!(res.status, 404);
    assert_eq!(res.json()["error"], "Not Found");
    assert!(
        res.json()["message"]
            .as_str()
            .unwrap()
            .contains("/api/v1/nothing-here")
    );
}

async fn bodies_over_256_kib_are_413(app: &TestApp) {
    let big = format!(
        r#"{{"email":"a@example.com","password":"long enough","name":"{}"}}"#,
        "x".repeat(300 * 1024)
    );
    let res = app
        .client
        .raw(
            Method::POST,
            "/api/auth/register",
            None,
            Some((big.into_bytes(), "application/json")),
            &[],
        )
        .await;
    assert_eq!(res.status, 413, "{}", res.text());
    assert_eq!(res.json()["error"], "Payload Too Large");
}

async fn malformed_json_and_wrong_content_type_are_4xx(app: &TestApp) {
    let res = app
        .client
        .raw(
            Method::POST,
            "/api/auth/register",
            None,
            Some((b"{\"email\": ".to_vec(), "application/json")),
            &[],
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text());
    let msg = res.json()["message"].as_str().unwrap().to_owned();
    assert!(msg.contains("Invalid JSON"), "{msg}");

    let res = app
        .client
        .raw(
            Method::POST,
            "/api/auth/register",
            None,
            Some((b"email=a".to_vec(), "application/x-www-form-urlencoded")),
            &[],
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text());
    assert_eq!(res.json()["error"], "Unsupported Media Type");

    let res = app
        .client
        .raw(
            Method::POST,
            "/api/auth/register",
            None,
            None,
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text());

    let res = app
        .client
        .post("/api/auth/register", None, &json!([1, 2]))
        .await;
    assert_eq!(res.status, 400, "{}", res.text());
}

async fn every_response_carries_a_request_id(app: &TestApp) {
    let res = app.client.get("/healthz", None).await;
    let id = res.header("x-request-id").expect("x-request-id").to_owned();
    assert!(!id.is_empty());
    let again = app.client.get("/healthz", None).await;
    assert_ne!(again.header("x-request-id"), Some(id.as_str()));
    // A well-formed incoming id is echoed; a hostile one is replaced.
    let res = app
        .client
        .raw(
            Method::GET,
            "/api/v1/me",
            None,
            None,
            &[("x-request-id", "abc-123")],
        )
        .await;
    assert_eq!(res.status, 401);
    assert_eq!(res.header("x-request-id"), Some("abc-123"));
    let res = app
        .client
        .raw(
            Method::GET,
            "/healthz",
            None,
            None,
            &[("x-request-id", "bad id\twith tabs")],
        )
        .await;
    assert_ne!(res.header("x-request-id"), Some("bad id\twith tabs"));
}

/// Regression: actix polls a handler's extractors together and drops the
/// rest when one fails. The authentication lookup must not be cancelled
/// mid-query (on SQLite that used to panic the worker and drop the
/// connection): bad bodies and bad paths on authenticated routes are plain
/// 400s, and the server keeps answering.
async fn failing_extractors_do_not_cancel_the_auth_lookup(app: &TestApp) {
    let (_, token) = crate::support::register(app, &crate::support::email("ada")).await;
    let t = Some(token.as_str());
    for i in 0..20 {
        let res = app
            .client
            .raw(
                Method::POST,
                "/api/v1/projects",
                t,
                Some((b"{not json".to_vec(), "application/json")),
                &[],
            )
            .await;
        assert_eq!(res.status, 400, "round {i}: {}", res.text());
        let res = app.client.get("/api/v1/projects/not-a-uuid", t).await;
        assert_eq!(res.status, 400, "round {i}: {}", res.text());
    }
    let res = app.client.get("/api/v1/me", t).await;
    assert_eq!(res.status, 200, "{}", res.text());
}

/// Every list takes `page` (≥ 1) and `per_page` (1–100); out of range is
/// 400 everywhere, and the bare-array lists report their total.
async fn every_list_validates_paging(app: &TestApp) {
    let (_, token) = crate::support::register(app, &crate::support::email("ada")).await;
    let t = Some(token.as_str());
    let p = crate::support::create_project(app, &token, "paged").await;
    let pid = p["id"].as_str().unwrap();
    let bare = [
        "/api/v1/projects".to_owned(),
        format!("/api/v1/projects/{pid}/members"),
        format!("/api/v1/projects/{pid}/invites"),
        format!("/api/v1/projects/{pid}/environments"),
        "/api/v1/me/invites".to_owned(),
        "/api/v1/allowed-connections".to_owned(),
    ];
    let enveloped = [
        "/api/paged/production/resources",
        "/api/paged/production/subdomains",
        "/api/paged/production/resource-connections",
    ];
    for list in bare.iter().map(String::as_str).chain(enveloped) {
        for q in [
            "page=0",
            "per_page=0",
            "per_page=101",
            "page=abc",
            "bogus=1",
        ] {
            let res = app.client.get(&format!("{list}?{q}"), t).await;
            assert_eq!(res.status, 400, "{list}?{q} → {}", res.text());
        }
        let res = app
            .client
            .get(&format!("{list}?page=1&per_page=100"), t)
            .await;
        assert_eq!(res.status, 200, "{list}: {}", res.text());
    }
    for list in &bare {
        let res = app.client.get(&format!("{list}?per_page=1"), t).await;
        assert!(res.header("x-total-count").is_some(), "{list}");
        assert!(res.json().as_array().unwrap().len() <= 1, "{list}");
    }
    let rules = app
        .client
        .get("/api/v1/allowed-connections?per_page=2&page=2", t)
        .await;
    assert_eq!(rules.header("x-total-count"), Some("7"));
    assert_eq!(rules.json().as_array().unwrap().len(), 2);
}

on_both_backends!(
    every_list_validates_paging,
    failing_extractors_do_not_cancel_the_auth_lookup,
    unknown_routes_are_404_in_the_error_shape,
    bodies_over_256_kib_are_413,
    malformed_json_and_wrong_content_type_are_4xx,
    every_response_carries_a_request_id,
);
