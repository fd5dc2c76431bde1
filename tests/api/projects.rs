//! Projects (seed 004): create with the seed's body, get, list, partial
//! update, delete, icons, and every bad input.

use awc::http::Method;
use patchbay_tests::{TestApp, on_both_backends};
use serde_json::json;

use crate::support::{PNG_1X1, create_project, email, multipart, register};

async fn seed_004_project_lifecycle(app: &TestApp) {
    let (owner, token) = register(app, &email("owner")).await;
    let t = Some(token.as_str());
    let server_id = "550e8400-e29b-41d4-a716-446655440000";
    let res = app
        .client
        .post(
            "/api/v1/projects",
            t,
            &json!({
                "name": "my-saas",
                "display_name": "My SaaS App",
                "description": "Production SaaS application",
                "color": "#3b82f6",
                "single_server_mode": false,
                "default_server_id": server_id
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let p = res.json();
    assert_eq!(p["name"], "my-saas");
    assert_eq!(p["display_name"], "My SaaS App");
    assert_eq!(p["description"], "Production SaaS application");
    assert_eq!(p["color"], "#3B82F6");
    assert_eq!(p["icon_path"], serde_json::Value::Null);
    assert_eq!(p["single_server_mode"], false);
    assert_eq!(p["default_server_id"], server_id);
    assert_eq!(p["auto_error_tracking_enabled"], false);
    assert_eq!(p["owner_id"], owner["id"]);
    assert_eq!(p["role"], "owner");
    let created = p["created_at"].as_str().unwrap();
    assert!(
        created.ends_with('Z') && created.len() == 24,
        "RFC 3339 with millis: {created}"
    );
    let id = p["id"].as_str().unwrap().to_owned();

    // The default environment came with it.
    let envs = app
        .client
        .get(&format!("/api/v1/projects/{id}/environments"), t)
        .await;
    assert_eq!(envs.status, 200);
    let envs = envs.json();
    assert_eq!(envs.as_array().unwrap().len(), 1);
    assert_eq!(envs[0]["name"], "production");
    assert_eq!(envs[0]["type"], "production");
    assert_eq!(envs[0]["is_default"], true);

    let got = app.client.get(&format!("/api/v1/projects/{id}"), t).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), p);

    // PUT changes only what is sent; null clears.
    let res = app
        .client
        .put(
            &format!("/api/v1/projects/{id}"),
            t,
            &json!({"name": "my-saas-v2", "description": null, "auto_error_tracking_enabled": true}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let u = res.json();
    assert_eq!(u["name"], "my-saas-v2");
    assert_eq!(u["description"], serde_json::Value::Null);
    assert_eq!(u["auto_error_tracking_enabled"], true);
    assert_eq!(
        u["display_name"], "My SaaS App",
        "unsent fields are unchanged"
    );
    assert_eq!(u["color"], "#3B82F6");
    assert_eq!(u["default_server_id"], server_id);

    // Listing shows the caller's projects with their role and a total.
    create_project(app, &token, "second").await;
    let list = app.client.get("/api/v1/projects", t).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.header("x-total-count"), Some("2"));
    let names: Vec<_> = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["second", "my-saas-v2"], "newest first");
    let page2 = app
        .client
        .get("/api/v1/projects?page=2&per_page=1", t)
        .await;
    assert_eq!(page2.json().as_array().unwrap().len(), 1);
    assert_eq!(page2.json()[0]["name"], "my-saas-v2");

    // Another user sees none of them.
    let (_, other) = register(app, &email("other")).await;
    let list = app.client.get("/api/v1/projects", Some(&other)).await;
    assert_eq!(list.json(), json!([]));

    // Delete removes the project and everything in it.
    let res = app
        .client
        .delete(&format!("/api/v1/projects/{id}"), t)
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    let res = app.client.get(&format!("/api/v1/projects/{id}"), t).await;
    res.assert_error(404, "Not Found", "Project not found");
    let res = app
        .client
        .get(&format!("/api/v1/projects/{id}/environments"), t)
        .await;
    res.assert_error(404, "Not Found", "Project not found");
    // The name is free again.
    create_project(app, &token, "my-saas-v2").await;
}

async fn bad_project_input_is_4xx_and_changes_nothing(app: &TestApp) {
    let (_, token) = register(app, &email("owner")).await;
    let t = Some(token.as_str());
    let p = create_project(app, &token, "taken").await;
    let id = p["id"].as_str().unwrap();
    const BAD: &str = "Bad Request";
    let pn = |v: &str, why: &str| format!("name: '{v}' is not a valid project name: {why}");
    let reserved =
        |v: &str| format!("name: '{v}' is a reserved name and cannot be used as a project name");
    let unknown = |f: &str| format!("{f}: unknown field `{f}`, expected one of");
    let cases: Vec<(serde_json::Value, u16, &str, String)> = vec![
        (json!({"name": "Upper"}), 400, BAD, pn("Upper", "it must be lowercase")),
        (json!({"name": "-dash"}), 400, BAD, pn("-dash", "it must not start with a hyphen")),
        (json!({"name": ""}), 400, BAD, pn("", "it must not be empty")),
        (
            json!({"name": "a".repeat(64)}),
            400,
            BAD,
            pn(&"a".repeat(64), "it must be at most 63 characters long"),
        ),
        (json!({"name": "docs"}), 400, BAD, reserved("docs")),
        (json!({"name": "v1"}), 400, BAD, reserved("v1")),
        (json!({"name": "auth"}), 400, BAD, reserved("auth")),
        (json!({"name": "healthz"}), 400, BAD, reserved("healthz")),
        (
            json!({"name": "ok", "color": "blue"}),
            400,
            BAD,
            "color: 'blue' is not a valid color: it must be '#' followed by six hexadecimal digits, like #3B82F6".into(),
        ),
        (json!({"name": "ok", "id": "x"}), 400, BAD, unknown("id")),
        (json!({"name": "ok", "owner_id": "x"}), 400, BAD, unknown("owner_id")),
        (json!({"name": "ok", "created_at": "x"}), 400, BAD, unknown("created_at")),
        (
            json!({"name": "ok", "single_server_mode": "yes"}),
            400,
            BAD,
            "single_server_mode: invalid type: string \"yes\", expected a boolean".into(),
        ),
        (
            json!({"name": "ok", "default_server_id": "not-a-uuid"}),
            400,
            BAD,
            "default_server_id: UUID parsing failed".into(),
        ),
        (
            json!({"name": "robert'); DROP TABLE projects;--"}),
            400,
            BAD,
            pn("robert'); DROP TABLE projects;--", "it must be lowercase"),
        ),
        (
            json!({"display_name": "no name"}),
            400,
            BAD,
            "Invalid JSON body: missing field `name`".into(),
        ),
        (
            json!({"name": "taken"}),
            409,
            "Conflict",
            "A project with this name already exists".into(),
        ),
    ];
    for (body, status, error, message) in cases {
        let res = app.client.post("/api/v1/projects", t, &body).await;
        res.assert_error_starting(status, error, &message);
    }
    let updates = [
        (json!({"name": null}), "name: must not be null"),
        (
            json!({"single_server_mode": null}),
            "single_server_mode: must not be null",
        ),
        (
            json!({"color": "#12345"}),
            "color: '#12345' is not a valid color: it must be '#' followed by six hexadecimal digits, like #3B82F6",
        ),
        (
            json!({"owner_id": "x"}),
            "owner_id: unknown field `owner_id`",
        ),
        (json!({"role": "viewer"}), "role: unknown field `role`"),
    ];
    for (body, message) in updates {
        let res = app
            .client
            .put(&format!("/api/v1/projects/{id}"), t, &body)
            .await;
        res.assert_error_starting(400, "Bad Request", message);
    }
    let other = create_project(app, &token, "other").await;
    let res = app
        .client
        .put(
            &format!("/api/v1/projects/{}", other["id"].as_str().unwrap()),
            t,
            &json!({"name": "taken"}),
        )
        .await;
    res.assert_error(409, "Conflict", "A project with this name already exists");
    // Malformed ids and paging.
    for bad in ["not-a-uuid", "12"] {
        app.client
            .get(&format!("/api/v1/projects/{bad}"), t)
            .await
            .assert_error_starting(400, "Bad Request", "Invalid path parameter: ");
    }
    for (q, message) in [
        ("page=0", "page must be at least 1 (got 0)"),
        ("per_page=0", "per_page must be between 1 and 100 (got 0)"),
        (
            "per_page=101",
            "per_page must be between 1 and 100 (got 101)",
        ),
        ("page=-1", "page must be at least 1 (got -1)"),
        ("page=x", "Invalid query parameter: "),
        ("sort=name", "Invalid query parameter: unknown field `sort`"),
    ] {
        let res = app.client.get(&format!("/api/v1/projects?{q}"), t).await;
        res.assert_error_starting(400, "Bad Request", message);
    }
    let missing = uuid::Uuid::now_v7();
    let res = app
        .client
        .get(&format!("/api/v1/projects/{missing}"), t)
        .await;
    res.assert_error(404, "Not Found", "Project not found");
    // Nothing changed.
    let list = app.client.get("/api/v1/projects", t).await;
    assert_eq!(list.header("x-total-count"), Some("2"));
    let got = app
        .client
        .get(&format!("/api/v1/projects/{id}"), t)
        .await
        .json();
    assert_eq!(got["name"], "taken");
    assert_eq!(got["color"], serde_json::Value::Null);
    // No auth at all.
    app.client.get("/api/v1/projects", None).await.assert_error(
        401,
        "Unauthorized",
        "Missing Authorization header",
    );
    app.client
        .post("/api/v1/projects", None, &json!({"name": "x"}))
        .await
        .assert_error(401, "Unauthorized", "Missing Authorization header");
}

async fn icons_are_sniffed_stored_served_and_removed(app: &TestApp) {
    let (_, token) = register(app, &email("owner")).await;
    let t = Some(token.as_str());
    let p = create_project(app, &token, "iconic").await;
    let id = p["id"].as_str().unwrap();
    let path = format!("/api/v1/projects/{id}/icon");

    // A PNG named like an SVG is still a PNG: the content decides.
    let (body, ct) = multipart("icon", "../../etc/passwd.svg", "image/svg+xml", PNG_1X1);
    let res = app
        .client
        .raw(Method::POST, &path, t, Some((body, &ct)), &[])
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let icon_path = res.json()["icon_path"].as_str().unwrap().to_owned();
    assert!(
        icon_path.starts_with("/uploads/projects/") && icon_path.ends_with(".png"),
        "{icon_path}"
    );
    assert!(!icon_path.contains("passwd"));
    let img = app.client.get(&icon_path, None).await;
    assert_eq!(img.status, 200);
    assert_eq!(img.header("content-type"), Some("image/png"));
    assert_eq!(img.body, PNG_1X1);

    // SVG (even named .png), text and empty bodies are refused; nothing changes.
    for (bytes, name) in [
        (
            &b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"[..],
            "x.png",
        ),
        (&b"hello"[..], "x.gif"),
        (&b""[..], "x.png"),
    ] {
        let (body, ct) = multipart("icon", name, "image/png", bytes);
        let res = app
            .client
            .raw(Method::POST, &path, t, Some((body, &ct)), &[])
            .await;
        res.assert_error(
            400,
            "Bad Request",
            "icon: must be a PNG, JPEG, GIF or WebP image",
        );
    }
    // A multipart body without a file part.
    let boundary = "b-7d1f";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n--{boundary}--\r\n"
    );
    let res = app
        .client
        .raw(
            Method::POST,
            &path,
            t,
            Some((
                body.into_bytes(),
                &format!("multipart/form-data; boundary={boundary}"),
            )),
            &[],
        )
        .await;
    res.assert_error(
        400,
        "Bad Request",
        "The multipart body must contain the icon as a file part named 'icon'",
    );
    // Over 1 MiB → 413.
    let mut big = PNG_1X1.to_vec();
    big.resize(1024 * 1024 + 1, 0);
    let (body, ct) = multipart("icon", "big.png", "image/png", &big);
    let res = app
        .client
        .raw(Method::POST, &path, t, Some((body, &ct)), &[])
        .await;
    res.assert_error(
        413,
        "Payload Too Large",
        "An icon may be at most 1048576 bytes",
    );
    // Exactly 1 MiB is still an icon.
    let mut max = PNG_1X1.to_vec();
    max.resize(1024 * 1024, 0);
    let (body, ct) = multipart("icon", "max.png", "image/png", &max);
    let res = app
        .client
        .raw(Method::POST, &path, t, Some((body, &ct)), &[])
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let icon_path = res.json()["icon_path"].as_str().unwrap().to_owned();
    // Not multipart at all: RFC 9110 §15.5.16's 415.
    let res = app.client.post(&path, t, &json!({"icon": "x"})).await;
    res.assert_error(
        415,
        "Unsupported Media Type",
        "Content-Type must be multipart/form-data",
    );
    // Multipart that does not parse.
    let res = app
        .client
        .raw(
            Method::POST,
            &path,
            t,
            Some((b"garbage".to_vec(), "multipart/form-data; boundary=zzz")),
            &[],
        )
        .await;
    res.assert_error_starting(400, "Bad Request", "Invalid multipart body: ");
    let got = app
        .client
        .get(&format!("/api/v1/projects/{id}"), t)
        .await
        .json();
    assert_eq!(
        got["icon_path"],
        icon_path.as_str(),
        "failed uploads change nothing"
    );

    // Replacing removes the old file.
    let mut gif = b"GIF89a".to_vec();
    gif.extend_from_slice(&[1, 0, 1, 0, 0, 0, 0, 59]);
    let (body, ct) = multipart("icon", "g.gif", "image/gif", &gif);
    let res = app
        .client
        .raw(Method::POST, &path, t, Some((body, &ct)), &[])
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let gif_path = res.json()["icon_path"].as_str().unwrap().to_owned();
    assert!(gif_path.ends_with(".gif"));
    app.client
        .get(&icon_path, None)
        .await
        .assert_error(404, "Not Found", "No such icon");

    // Delete removes file and path.
    let res = app.client.delete(&path, t).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["icon_path"], serde_json::Value::Null);
    app.client
        .get(&gif_path, None)
        .await
        .assert_error(404, "Not Found", "No such icon");
    app.client
        .delete(&path, t)
        .await
        .assert_error(404, "Not Found", "The project has no icon");
    // Names patchbay did not generate are never looked up.
    for bad in [
        "/uploads/projects/..%2f..%2fetc%2fpasswd",
        "/uploads/projects/x.svg",
        "/uploads/projects/.png",
    ] {
        app.client
            .get(bad, None)
            .await
            .assert_error(404, "Not Found", "No such icon");
    }
}

on_both_backends!(
    seed_004_project_lifecycle,
    bad_project_input_is_4xx_and_changes_nothing,
    icons_are_sniffed_stored_served_and_removed,
);
