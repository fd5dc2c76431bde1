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
    assert_eq!(res.status, 404);
    assert_eq!(res.json()["message"], "Project not found");
    let res = app
        .client
        .get(&format!("/api/v1/projects/{id}/environments"), t)
        .await;
    assert_eq!(res.status, 404);
    // The name is free again.
    create_project(app, &token, "my-saas-v2").await;
}

async fn bad_project_input_is_4xx_and_changes_nothing(app: &TestApp) {
    let (_, token) = register(app, &email("owner")).await;
    let t = Some(token.as_str());
    let p = create_project(app, &token, "taken").await;
    let id = p["id"].as_str().unwrap();
    let cases = [
        (json!({"name": "Upper"}), 400, "name"),
        (json!({"name": "-dash"}), 400, "name"),
        (json!({"name": ""}), 400, "name"),
        (json!({"name": "a".repeat(64)}), 400, "name"),
        (json!({"name": "docs"}), 400, "name"),
        (json!({"name": "v1"}), 400, "name"),
        (json!({"name": "auth"}), 400, "name"),
        (json!({"name": "healthz"}), 400, "name"),
        (json!({"name": "ok", "color": "blue"}), 400, "color"),
        (json!({"name": "ok", "id": "x"}), 400, "id"),
        (json!({"name": "ok", "owner_id": "x"}), 400, "owner_id"),
        (json!({"name": "ok", "created_at": "x"}), 400, "created_at"),
        (
            json!({"name": "ok", "single_server_mode": "yes"}),
            400,
            "single_server_mode",
        ),
        (
            json!({"name": "ok", "default_server_id": "not-a-uuid"}),
            400,
            "default_server_id",
        ),
        (
            json!({"name": "robert'); DROP TABLE projects;--"}),
            400,
            "name",
        ),
        (json!({"display_name": "no name"}), 400, "name"),
        (json!({"name": "taken"}), 409, "exists"),
    ];
    for (body, status, needle) in cases {
        let res = app.client.post("/api/v1/projects", t, &body).await;
        assert_eq!(res.status, status, "{body} → {}", res.text());
        assert!(
            res.json()["message"].as_str().unwrap().contains(needle),
            "{body} → {}",
            res.text()
        );
    }
    let updates = [
        (json!({"name": null}), "name"),
        (json!({"single_server_mode": null}), "single_server_mode"),
        (json!({"color": "#12345"}), "color"),
        (json!({"owner_id": "x"}), "owner_id"),
        (json!({"role": "viewer"}), "role"),
    ];
    for (body, needle) in updates {
        let res = app
            .client
            .put(&format!("/api/v1/projects/{id}"), t, &body)
            .await;
        assert_eq!(res.status, 400, "{body} → {}", res.text());
        assert!(
            res.json()["message"].as_str().unwrap().contains(needle),
            "{body} → {}",
            res.text()
        );
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
    assert_eq!(res.status, 409, "{}", res.text());
    // Malformed ids and paging.
    assert_eq!(
        app.client
            .get("/api/v1/projects/not-a-uuid", t)
            .await
            .status,
        400
    );
    assert_eq!(app.client.get("/api/v1/projects/12", t).await.status, 400);
    for q in [
        "page=0",
        "per_page=0",
        "per_page=101",
        "page=-1",
        "page=x",
        "sort=name",
    ] {
        let res = app.client.get(&format!("/api/v1/projects?{q}"), t).await;
        assert_eq!(res.status, 400, "{q} → {}", res.text());
    }
    let missing = uuid::Uuid::now_v7();
    let res = app
        .client
        .get(&format!("/api/v1/projects/{missing}"), t)
        .await;
    assert_eq!(res.status, 404);
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
    assert_eq!(app.client.get("/api/v1/projects", None).await.status, 401);
    assert_eq!(
        app.client
            .post("/api/v1/projects", None, &json!({"name": "x"}))
            .await
            .status,
        401
    );
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
        assert_eq!(res.status, 400, "{}", res.text());
    }
    // Over 1 MiB → 413.
    let mut big = PNG_1X1.to_vec();
    big.resize(1024 * 1024 + 1, 0);
    let (body, ct) = multipart("icon", "big.png", "image/png", &big);
    let res = app
        .client
        .raw(Method::POST, &path, t, Some((body, &ct)), &[])
        .await;
    assert_eq!(res.status, 413, "{}", res.text());
    // Not multipart at all.
    let res = app.client.post(&path, t, &json!({"icon": "x"})).await;
    assert_eq!(res.status, 400, "{}", res.text());
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
    assert_eq!(app.client.get(&icon_path, None).await.status, 404);

    // Delete removes file and path.
    let res = app.client.delete(&path, t).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["icon_path"], serde_json::Value::Null);
    assert_eq!(app.client.get(&gif_path, None).await.status, 404);
    assert_eq!(app.client.delete(&path, t).await.status, 404);
    // Names patchbay did not generate are never looked up.
    for bad in [
        "/uploads/projects/..%2f..%2fetc%2fpasswd",
        "/uploads/projects/x.svg",
        "/uploads/projects/.png",
    ] {
        assert_eq!(app.client.get(bad, None).await.status, 404, "{bad}");
    }
}

on_both_backends!(
    seed_004_project_lifecycle,
    bad_project_input_is_4xx_and_changes_nothing,
    icons_are_sniffed_stored_served_and_removed,
);
