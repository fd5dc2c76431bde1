//! Helpers the scenarios share: accounts, projects, members, multipart.

use patchbay_tests::TestApp;
use serde_json::{Value, json};

/// Registers `email` and returns (user, token).
pub async fn register(app: &TestApp, email: &str) -> (Value, String) {
    let res = app
        .client
        .post(
            "/api/auth/register",
            None,
            &json!({"email": email, "password": "correct horse battery", "name": "Ada Lovelace"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let body = res.json();
    (
        body["user"].clone(),
        body["token"].as_str().unwrap().to_owned(),
    )
}

/// An address at example.com for `local` (kept out of literals so no
/// tool rewrites it).
pub fn email(local: &str) -> String {
    format!("{local}\u{40}example.com")
}

/// Creates a project named `name` as `token`'s user; returns it.
pub async fn create_project(app: &TestApp, token: &str, name: &str) -> Value {
    let res = app
        .client
        .post("/api/v1/projects", Some(token), &json!({"name": name}))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

/// Adds `user_id` to `project_id` with `role`, as `owner_token`.
pub async fn add_member(
    app: &TestApp,
    owner_token: &str,
    project_id: &str,
    user_id: &str,
    role: &str,
) -> Value {
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{project_id}/members"),
            Some(owner_token),
            &json!({"user_id": user_id, "role": role}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

/// A multipart/form-data body with one file part.
pub fn multipart(
    field: &str,
    filename: &str,
    content_type: &str,
    bytes: &[u8],
) -> (Vec<u8>, String) {
    let boundary = "patchbay-test-boundary-7d1f";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

/// The smallest valid PNG (1×1, transparent).
pub const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// A registered owner with a project `name` (default environment
/// `production`): returns (token, base path `/api/<name>/production`).
pub async fn canvas(app: &TestApp, owner: &str, name: &str) -> (String, String) {
    let (_, token) = register(app, &email(owner)).await;
    create_project(app, &token, name).await;
    (token, format!("/api/{name}/production"))
}

/// Creates a resource and returns its id.
pub async fn resource(app: &TestApp, token: &str, base: &str, kind: &str, name: &str) -> i64 {
    let res = app
        .client
        .post(
            &format!("{base}/resources"),
            Some(token),
            &json!({"type": kind, "name": name}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()["data"]["id"].as_i64().unwrap()
}

/// Creates a connection and returns the response.
pub async fn connect(
    app: &TestApp,
    token: &str,
    base: &str,
    s: (&str, i64),
    t: (&str, i64),
) -> patchbay_tests::Response {
    app.client
        .post(
            &format!("{base}/resource-connections"),
            Some(token),
            &json!({"sourceResourceType": s.0, "sourceResourceId": s.1, "targetResourceType": t.0, "targetResourceId": t.1}),
        )
        .await
}

/// Creates a connection that must succeed and returns its id.
pub async fn connection_id(
    app: &TestApp,
    token: &str,
    base: &str,
    s: (&str, i64),
    t: (&str, i64),
) -> i64 {
    let res = connect(app, token, base, s, t).await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()["data"]["id"].as_i64().unwrap()
}
