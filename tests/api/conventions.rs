//! Cross-cutting API conventions: the error shape, body limits, content
//! types, unknown routes and request ids.

use awc::http::Method;
use patchbay_tests::{TestApp, on_both_backends};
use serde_json::json;

async fn unknown_routes_are_404_in_the_error_shape(app: &TestApp) {
    let res = app.client.get("/api/v1/nothing-here", None).await;
    res.assert_error(404, "Not Found", "No route for GET /api/v1/nothing-here");
    let res = app.client.delete("/nowhere", None).await;
    res.assert_error(404, "Not Found", "No route for DELETE /nowhere");
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
    res.assert_error(
        413,
        "Payload Too Large",
        "The request body exceeds 262144 bytes",
    );
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
    res.assert_error_starting(400, "Bad Request", "Invalid JSON body: EOF while parsing");

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
    // RFC 9110 §15.5.16: a media type the route does not read is 415.
    res.assert_error(
        415,
        "Unsupported Media Type",
        "Content-Type must be application/json",
    );
    let res = app
        .client
        .raw(
            Method::POST,
            "/api/auth/register",
            None,
            Some((
                br#"{"email": "a@example.com", "password": "long enough", "name": "A"}"#.to_vec(),
                "text/plain",
            )),
            &[],
        )
        .await;
    res.assert_error(
        415,
        "Unsupported Media Type",
        "Content-Type must be application/json",
    );
    // A JSON media type with parameters or a +json suffix is JSON.
    let res = app
        .client
        .raw(
            Method::POST,
            "/api/auth/login",
            None,
            Some((
                br#"{"email": "a@example.com", "password": "long enough"}"#.to_vec(),
                "application/problem+json; charset=utf-8",
            )),
            &[],
        )
        .await;
    res.assert_error(401, "Unauthorized", "Invalid email or password");

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
    res.assert_error(400, "Bad Request", "A JSON body is required");

    let res = app
        .client
        .post("/api/auth/register", None, &json!([1, 2]))
        .await;
    // serde reads a struct from an array too; the message names the element.
    res.assert_error(
        400,
        "Bad Request",
        "[0]: invalid type: integer `1`, expected a string",
    );
    // Nothing of the above created an account.
    let (user, _) = crate::support::register(app, "a@example.com").await;
    assert_eq!(user["is_admin"], true, "still the first user");
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
    res.assert_error(401, "Unauthorized", "Missing Authorization header");
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
    let replaced = res.header("x-request-id").unwrap();
    assert_ne!(replaced, "bad id\twith tabs");
    assert!(uuid::Uuid::parse_str(replaced).is_ok(), "{replaced}");
    let long = "a".repeat(65);
    let res = app
        .client
        .raw(
            Method::GET,
            "/healthz",
            None,
            None,
            &[("x-request-id", &long)],
        )
        .await;
    assert_ne!(res.header("x-request-id"), Some(long.as_str()));
    // Every response the test client sees is checked for an x-request-id
    // (see patchbay_tests::TestClient), errors and redirects included.
    let res = app.client.get("/docs", None).await;
    assert!(res.header("x-request-id").is_some());
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
        assert_eq!(res.status, 400, "round {i}");
        res.assert_error_starting(
            400,
            "Bad Request",
            "Invalid JSON body: key must be a string",
        );
        let res = app.client.get("/api/v1/projects/not-a-uuid", t).await;
        res.assert_error_starting(400, "Bad Request", "Invalid path parameter: ");
    }
    let res = app.client.get("/api/v1/me", t).await;
    assert_eq!(res.status, 200, "{}", res.text());
}

/// Every list takes `page` (≥ 1) and `per_page` (1–100); out of range is
/// 400 everywhere. Each list holds at least three rows here, so a page of
/// one row, the page after it and the totals can all be told apart.
async fn every_list_validates_paging(app: &TestApp) {
    use crate::support::{add_member, create_project, email, register, resource};
    let (_, token) = register(app, &email("ada")).await;
    let t = Some(token.as_str());
    let (_, other) = register(app, &email("other")).await;
    let p = create_project(app, &token, "paged").await;
    create_project(app, &token, "paged-two").await;
    create_project(app, &token, "paged-three").await;
    let pid = p["id"].as_str().unwrap();
    for who in ["m1", "m2"] {
        let (u, _) = register(app, &email(who)).await;
        add_member(app, &token, pid, u["id"].as_str().unwrap(), "viewer").await;
    }
    for who in ["i1", "i2", "i3"] {
        let res = app
            .client
            .post(
                &format!("/api/v1/projects/{pid}/invites"),
                t,
                &json!({"email": email(who), "role": "viewer"}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    for env in ["staging", "preview"] {
        let res = app
            .client
            .post(
                &format!("/api/v1/projects/{pid}/environments"),
                t,
                &json!({"name": env}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    // Three invites for ada, from three projects of someone else.
    for name in ["inviting-1", "inviting-2", "inviting-3"] {
        let q = create_project(app, &other, name).await;
        let res = app
            .client
            .post(
                &format!("/api/v1/projects/{}/invites", q["id"].as_str().unwrap()),
                Some(&other),
                &json!({"email": email("ada"), "role": "viewer"}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let base = "/api/paged/production";
    let server = resource(app, &token, base, "instance", "s").await;
    for (kind, name) in [
        ("application", "a1"),
        ("application", "a2"),
        ("terminal", "t"),
    ] {
        let id = resource(app, &token, base, kind, name).await;
        crate::support::connection_id(app, &token, base, (kind, id), ("instance", server)).await;
    }
    for name in ["www", "api", "blog"] {
        let res = app
            .client
            .post(&format!("{base}/subdomains"), t, &json!({"name": name}))
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    // (list, total rows it holds)
    let bare = [
        ("/api/v1/projects".to_owned(), 3),
        (format!("/api/v1/projects/{pid}/members"), 3),
        (format!("/api/v1/projects/{pid}/invites"), 3),
        (format!("/api/v1/projects/{pid}/environments"), 3),
        ("/api/v1/me/invites".to_owned(), 3),
        ("/api/v1/allowed-connections".to_owned(), 7),
    ];
    let enveloped = [
        (format!("{base}/resources"), 7),
        (format!("{base}/subdomains"), 3),
        (format!("{base}/resource-connections"), 3),
    ];
    let all = bare.iter().chain(enveloped.iter());
    for (list, _) in all.clone() {
        for (q, message) in [
            ("page=0", "page must be at least 1 (got 0)"),
            ("per_page=0", "per_page must be between 1 and 100 (got 0)"),
            (
                "per_page=101",
                "per_page must be between 1 and 100 (got 101)",
            ),
        ] {
            let res = app.client.get(&format!("{list}?{q}"), t).await;
            res.assert_error(400, "Bad Request", message);
        }
        for q in ["page=abc", "bogus=1"] {
            let res = app.client.get(&format!("{list}?{q}"), t).await;
            res.assert_error_starting(400, "Bad Request", "Invalid query parameter: ");
        }
        let res = app
            .client
            .get(&format!("{list}?page=1&per_page=100"), t)
            .await;
        assert_eq!(res.status, 200, "{list}: {}", res.text());
    }
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].to_string())
            .collect()
    };
    for (list, total) in &bare {
        let all = app.client.get(&format!("{list}?per_page=100"), t).await;
        assert_eq!(
            all.header("x-total-count"),
            Some(total.to_string().as_str()),
            "{list}"
        );
        let all = ids(&all.json());
        assert_eq!(all.len(), *total, "{list}");
        for page in 1..=*total {
            let res = app
                .client
                .get(&format!("{list}?per_page=1&page={page}"), t)
                .await;
            assert_eq!(
                res.header("x-total-count"),
                Some(total.to_string().as_str()),
                "{list}"
            );
            assert_eq!(
                ids(&res.json()),
                [all[page - 1].clone()],
                "{list} page {page}"
            );
        }
        let past = app
            .client
            .get(&format!("{list}?per_page=1&page={}", total + 1), t)
            .await;
        assert_eq!(past.json(), json!([]), "{list} past the end");
        let two = app
            .client
            .get(&format!("{list}?per_page=2&page=2"), t)
            .await;
        assert_eq!(
            ids(&two.json()),
            all[2..(*total).min(4)].to_vec(),
            "{list} page 2 of 2"
        );
    }
    for (list, total) in &enveloped {
        let all = app
            .client
            .get(&format!("{list}?per_page=100"), t)
            .await
            .json();
        assert_eq!(all["total"], *total, "{list}");
        let all = ids(&all["data"]);
        assert_eq!(all.len(), *total, "{list}");
        for page in 1..=*total {
            let res = app
                .client
                .get(&format!("{list}?per_page=1&page={page}"), t)
                .await
                .json();
            assert_eq!(res["count"], 1, "{list}");
            assert_eq!(res["total"], *total, "{list}");
            assert_eq!(res["page"], page, "{list}");
            assert_eq!(res["perPage"], 1, "{list}");
            assert_eq!(
                ids(&res["data"]),
                [all[page - 1].clone()],
                "{list} page {page}"
            );
        }
        let past = app
            .client
            .get(&format!("{list}?per_page=1&page={}", total + 1), t)
            .await
            .json();
        assert_eq!(past["count"], 0, "{list} past the end");
        assert_eq!(past["data"], json!([]), "{list} past the end");
    }

    // Keyset pages (`after`, SPEC §12) on the two lists that grow with the
    // environment: the same rows as the pages above, one request per page,
    // `next` until the last, no `page` and no count unless asked.
    for (list, total) in &enveloped[..1]
        .iter()
        .chain(&enveloped[2..])
        .collect::<Vec<_>>()
    {
        let all = ids(&app
            .client
            .get(&format!("{list}?per_page=100"), t)
            .await
            .json()["data"]);
        let mut walked = Vec::new();
        let mut after = json!(0);
        let mut requests = 0;
        while !after.is_null() {
            let res = app
                .client
                .get(&format!("{list}?per_page=2&after={after}"), t)
                .await;
            assert_eq!(res.status, 200, "{list}: {}", res.text());
            let body = res.json();
            assert!(body.get("total").is_none(), "{list}: {body}");
            assert!(body.get("page").is_none(), "{list}: {body}");
            assert_eq!(body["perPage"], 2, "{list}");
            walked.extend(ids(&body["data"]));
            after = body["next"].clone();
            if !after.is_null() {
                assert_eq!(after.to_string(), *walked.last().unwrap(), "{list}");
            }
            requests += 1;
        }
        assert_eq!(walked, all, "{list}");
        assert_eq!(requests, total.div_ceil(2), "{list}");
        let counted = app
            .client
            .get(&format!("{list}?after=0&per_page=1&include=total"), t)
            .await
            .json();
        assert_eq!(counted["total"], *total, "{list}");
        assert_eq!(counted["next"].to_string(), all[0], "{list}");
        // A page-mode response says there is more the same way.
        let first = app
            .client
            .get(&format!("{list}?per_page=1"), t)
            .await
            .json();
        assert_eq!(first["next"].to_string(), all[0], "{list}");
        for (q, message) in [
            (
                "page=2&after=0",
                "page and after cannot be combined; use after to continue a list",
            ),
            ("after=-1", "after must be a non-negative id (got -1)"),
            ("after=0&include=everything", "include must be 'total'"),
            (
                "after=0&per_page=0",
                "per_page must be between 1 and 100 (got 0)",
            ),
        ] {
            app.client
                .get(&format!("{list}?{q}"), t)
                .await
                .assert_error(400, "Bad Request", message);
        }
        app.client
            .get(&format!("{list}?after=x"), t)
            .await
            .assert_error_starting(400, "Bad Request", "Invalid query parameter: ");
    }
}

on_both_backends!(
    every_list_validates_paging,
    failing_extractors_do_not_cancel_the_auth_lookup,
    unknown_routes_are_404_in_the_error_shape,
    bodies_over_256_kib_are_413,
    malformed_json_and_wrong_content_type_are_4xx,
    every_response_carries_a_request_id,
);
