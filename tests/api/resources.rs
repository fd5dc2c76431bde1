//! The unified resources API: create/list/get/patch/delete/restore, bad
//! input, and the canvas graph.

use awc::http::Method;
use patchbay_tests::{TestApp, on_both_backends};
use serde_json::json;

use crate::support::{add_member, canvas, connect, connection_id, email, register, resource};

async fn resource_lifecycle(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "canvas").await;
    let t = Some(token.as_str());
    let res = app
        .client
        .post(
            &format!("{base}/resources"),
            t,
            &json!({"type": "instance", "name": "web-1", "config": {"size": "t3.micro"},
                    "credentialConnId": "prod-ssh", "positionX": 10, "positionY": 20.25}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["message"], "Resource created successfully");
    let r = res.json()["data"].clone();
    assert_eq!(r["type"], "instance");
    assert_eq!(r["name"], "web-1");
    assert_eq!(r["status"], "active");
    assert_eq!(r["position"], json!({"x": 10, "y": 20.25}));
    assert_eq!(r["config"], json!({"size": "t3.micro"}));
    assert_eq!(r["credentialConnId"], "prod-ssh");
    for key in ["id", "createdAt", "updatedAt"] {
        assert!(r.get(key).is_some(), "{key}");
    }
    let id = r["id"].as_i64().unwrap();

    // Every type can be created; the same name under another type is fine.
    for kind in [
        "application",
        "database",
        "terminal",
        "firewall",
        "storage_bucket",
        "bucket_explorer",
        "static_website",
    ] {
        resource(app, &token, &base, kind, "web-1").await;
    }
    let res = app
        .client
        .post(
            &format!("{base}/resources"),
            t,
            &json!({"type": "instance", "name": "web-1"}),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text());

    let list = app.client.get(&format!("{base}/resources"), t).await.json();
    assert_eq!(list["message"], "Resources retrieved successfully");
    assert_eq!(list["count"], 8);
    assert_eq!(list["total"], 8);
    let only = app
        .client
        .get(&format!("{base}/resources?type=database"), t)
        .await
        .json();
    assert_eq!(only["count"], 1);
    let paged = app
        .client
        .get(&format!("{base}/resources?page=2&per_page=3"), t)
        .await
        .json();
    assert_eq!(paged["count"], 3);
    assert_eq!(paged["total"], 8);
    assert_eq!(paged["page"], 2);

    let got = app.client.get(&format!("{base}/resources/{id}"), t).await;
    assert_eq!(got.json()["message"], "Resource retrieved successfully");
    assert_eq!(got.json()["data"], r);

    let res = app
        .client
        .patch(&format!("{base}/resources/{id}"), t, &json!({"name": "web-01", "position": {"x": 1, "y": 2}, "config": {"size": "large"}, "credentialConnId": null}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["message"], "Resource updated successfully");
    let u = &res.json()["data"];
    assert_eq!(u["name"], "web-01");
    assert_eq!(u["position"], json!({"x": 1, "y": 2}));
    assert_eq!(u["config"], json!({"size": "large"}));
    assert_eq!(u["credentialConnId"], serde_json::Value::Null);

    // Soft delete, then restore; a live namesake blocks the restore.
    assert_eq!(
        app.client
            .delete(&format!("{base}/resources/{id}"), t)
            .await
            .status,
        200
    );
    assert_eq!(
        app.client
            .get(&format!("{base}/resources/{id}"), t)
            .await
            .status,
        404
    );
    assert_eq!(
        app.client
            .delete(&format!("{base}/resources/{id}"), t)
            .await
            .status,
        404
    );
    let res = app
        .client
        .post(&format!("{base}/resources/{id}/restore"), t, &json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["message"], "Resource restored successfully");
    assert_eq!(res.json()["data"]["name"], "web-01");
    let res = app
        .client
        .post(&format!("{base}/resources/{id}/restore"), t, &json!({}))
        .await;
    assert_eq!(res.status, 409, "restoring a live resource: {}", res.text());
    app.client
        .delete(&format!("{base}/resources/{id}"), t)
        .await;
    resource(app, &token, &base, "instance", "web-01").await;
    let res = app
        .client
        .post(&format!("{base}/resources/{id}/restore"), t, &json!({}))
        .await;
    assert_eq!(res.status, 409, "{}", res.text());
    assert_eq!(
        app.client
            .post(&format!("{base}/resources/999999/restore"), t, &json!({}))
            .await
            .status,
        404
    );
}

async fn bad_resource_input_is_4xx_and_changes_nothing(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "canvas").await;
    let t = Some(token.as_str());
    let id = resource(app, &token, &base, "instance", "web-1").await;
    let big = "x".repeat(17 * 1024);
    let cases = [
        json!({"type": "mainframe", "name": "x"}),
        json!({"type": "instance"}),
        json!({"name": "x"}),
        json!({"type": "instance", "name": ""}),
        json!({"type": "instance", "name": "x".repeat(101)}),
        json!({"type": "instance", "name": "x", "id": 5}),
        json!({"type": "instance", "name": "x", "userId": 1}),
        json!({"type": "instance", "name": "x", "status": "active"}),
        json!({"type": "instance", "name": "x", "createdAt": "2024-01-01T00:00:00Z"}),
        json!({"type": "instance", "name": "x", "config": [1, 2]}),
        json!({"type": "instance", "name": "x", "config": "text"}),
        json!({"type": "instance", "name": "x", "config": {"blob": big}}),
        json!({"type": "instance", "name": "x", "positionX": "1"}),
        json!({"type": "instance", "name": "x", "positionX": 1e12}),
        json!({"type": "instance", "name": "x", "credentialConnId": "Not Valid!"}),
        json!({"type": "instance", "name": "x", "parentDomain": "example.com"}),
        json!({"type": "subdomain", "name": "not valid"}),
    ];
    for body in cases {
        let res = app
            .client
            .post(&format!("{base}/resources"), t, &body)
            .await;
        assert!(
            matches!(res.status, 400 | 413),
            "{body} → {} {}",
            res.status,
            res.text()
        );
        assert!(res.json()["message"].is_string(), "{}", res.text());
    }
    // A SQL-looking name is data, stored literally.
    let sql = "x'); DROP TABLE resources; --";
    let res = app
        .client
        .post(
            &format!("{base}/resources"),
            t,
            &json!({"type": "database", "name": sql}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["data"]["name"], sql);
    assert_eq!(
        app.client.get(&format!("{base}/resources"), t).await.json()["total"],
        2,
        "only the two valid creates"
    );

    for bad in ["abc", "-3", "0", "1e3", "99999999999999999999"] {
        let res = app.client.get(&format!("{base}/resources/{bad}"), t).await;
        assert_eq!(res.status, 400, "{bad}");
        assert_eq!(res.json()["message"], "Invalid resource ID");
    }
    for q in [
        "per_page=0",
        "per_page=101",
        "page=0",
        "type=nope",
        "kind=instance",
    ] {
        let res = app.client.get(&format!("{base}/resources?{q}"), t).await;
        assert_eq!(res.status, 400, "{q} → {}", res.text());
    }
    for body in [
        json!({"name": null}),
        json!({"status": "gone"}),
        json!({"id": 3}),
        json!({"positionX": 1, "position": {"x": 1, "y": 1}}),
        json!({"config": null}),
    ] {
        let res = app
            .client
            .patch(&format!("{base}/resources/{id}"), t, &body)
            .await;
        assert_eq!(res.status, 400, "{body} → {}", res.text());
    }
    let got = app
        .client
        .get(&format!("{base}/resources/{id}"), t)
        .await
        .json();
    assert_eq!(got["data"]["name"], "web-1", "nothing changed");
    // Malformed JSON and a body over 256 KiB.
    let res = app
        .client
        .raw(
            Method::POST,
            &format!("{base}/resources"),
            t,
            Some((b"{".to_vec(), "application/json")),
            &[],
        )
        .await;
    assert_eq!(res.status, 400);
    let huge = format!(
        r#"{{"type":"instance","name":"x","config":{{"a":"{}"}}}}"#,
        "y".repeat(300 * 1024)
    );
    let res = app
        .client
        .raw(
            Method::POST,
            &format!("{base}/resources"),
            t,
            Some((huge.into_bytes(), "application/json")),
            &[],
        )
        .await;
    assert_eq!(res.status, 413);
}

async fn viewers_read_but_do_not_write(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "canvas").await;
    let pid = app
        .client
        .get("/api/v1/projects", Some(&token))
        .await
        .json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = resource(app, &token, &base, "instance", "web-1").await;
    let (viewer, vt) = register(app, &email("viewer")).await;
    add_member(app, &token, &pid, viewer["id"].as_str().unwrap(), "viewer").await;
    let v = Some(vt.as_str());
    assert_eq!(
        app.client.get(&format!("{base}/resources"), v).await.status,
        200
    );
    assert_eq!(
        app.client
            .get(&format!("{base}/resources/{id}"), v)
            .await
            .status,
        200
    );
    assert_eq!(
        app.client.get(&format!("{base}/graph"), v).await.status,
        200
    );
    assert_eq!(
        app.client
            .post(
                &format!("{base}/resources"),
                v,
                &json!({"type": "instance", "name": "v"})
            )
            .await
            .status,
        403
    );
    assert_eq!(
        app.client
            .patch(&format!("{base}/resources/{id}"), v, &json!({"name": "v"}))
            .await
            .status,
        403
    );
    assert_eq!(
        app.client
            .delete(&format!("{base}/resources/{id}"), v)
            .await
            .status,
        403
    );
    assert_eq!(
        app.client
            .post(&format!("{base}/subdomains"), v, &json!({"name": "v"}))
            .await
            .status,
        403
    );
    let app_id = resource(app, &token, &base, "application", "api").await;
    let res = connect(app, &vt, &base, ("application", app_id), ("instance", id)).await;
    assert_eq!(res.status, 403);
    let (member, mt) = register(app, &email("member")).await;
    add_member(app, &token, &pid, member["id"].as_str().unwrap(), "member").await;
    let res = connect(app, &mt, &base, ("application", app_id), ("instance", id)).await;
    assert_eq!(res.status, 201, "members write connections: {}", res.text());
}

async fn graph_returns_nodes_and_edges(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "canvas").await;
    let t = Some(token.as_str());
    let server = resource(app, &token, &base, "instance", "web-1").await;
    let api = resource(app, &token, &base, "application", "api").await;
    let fw = resource(app, &token, &base, "firewall", "edge").await;
    let gone = resource(app, &token, &base, "terminal", "tty").await;
    assert_eq!(
        connect(
            app,
            &token,
            &base,
            ("application", api),
            ("instance", server)
        )
        .await
        .status,
        201
    );
    assert_eq!(
        connect(app, &token, &base, ("instance", server), ("firewall", fw))
            .await
            .status,
        201
    );
    assert_eq!(
        connect(app, &token, &base, ("terminal", gone), ("instance", server))
            .await
            .status,
        201
    );
    app.client
        .delete(&format!("{base}/resources/{gone}"), t)
        .await;
    let res = app.client.get(&format!("{base}/graph"), t).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let g = &res.json()["data"];
    let nodes: Vec<i64> = g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_i64().unwrap())
        .collect();
    assert_eq!(nodes, [server, api, fw]);
    let edges = g["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 2, "the deleted terminal's connection is gone");
    assert!(edges.iter().all(|e| e["status"] == "pending"));
}

on_both_backends!(
    resource_lifecycle,
    bad_resource_input_is_4xx_and_changes_nothing,
    viewers_read_but_do_not_write,
    graph_returns_nodes_and_edges,
);

/// PostgreSQL refuses NUL in `text` and `\u0000` in `jsonb`; such input
/// must be a 400 on both backends, never a 500 on one of them.
async fn nul_characters_are_refused_everywhere(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "nul").await;
    let t = Some(token.as_str());
    let nul = "a\u{0}b";
    let res = app
        .client
        .post(
            &format!("{base}/resources"),
            t,
            &json!({"type": "instance", "name": "x", "config": {"k": nul}}),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text());
    let res = app
        .client
        .post(
            &format!("{base}/resources"),
            t,
            &json!({"type": "instance", "name": "x", "config": {nul: 1}}),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text());
    let server = resource(app, &token, &base, "instance", "server").await;
    let api = resource(app, &token, &base, "application", "api").await;
    let res = app
        .client
        .post(
            &format!("{base}/resource-connections"),
            t,
            &json!({"sourceResourceType": "application", "sourceResourceId": api, "targetResourceType": "instance",
                    "targetResourceId": server, "connectionDetails": {"k": [nul]}}),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text());
    let id = connection_id(
        app,
        &token,
        &base,
        ("application", api),
        ("instance", server),
    )
    .await;
    let url = format!("{base}/resource-connections/{id}");
    let res = app
        .client
        .patch(&url, t, &json!({"status": "failed", "errorMessage": nul}))
        .await;
    assert_eq!(res.status, 400, "{}", res.text());
    let res = app
        .client
        .patch(&url, t, &json!({"connectionDetails": {"k": nul}}))
        .await;
    assert_eq!(res.status, 400, "{}", res.text());
    let res = app
        .client
        .patch(
            &format!("{base}/resources/{server}"),
            t,
            &json!({"config": {"k": nul}}),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text());
    // Names, descriptions and other text fields refuse control characters.
    let pid = app.client.get("/api/v1/projects", t).await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for body in [json!({"description": nul}), json!({"display_name": nul})] {
        let res = app
            .client
            .put(&format!("/api/v1/projects/{pid}"), t, &body)
            .await;
        assert_eq!(res.status, 400, "{body}: {}", res.text());
    }
    let res = app
        .client
        .post(
            "/api/auth/register",
            None,
            &json!({"email": "n@example.com", "password": "long enough\u{0}", "name": "N"}),
        )
        .await;
    assert!(res.status == 201 || res.status == 400, "{}", res.text());
}

/// Path segments are data too: odd bytes in a slug find nothing.
async fn odd_slugs_are_404(app: &TestApp) {
    let (token, _) = canvas(app, "owner", "slugs").await;
    let t = Some(token.as_str());
    for path in [
        "/api/%00/production/resources",
        "/api/slugs/%00/resources",
        "/api/SLUGS/production/resources",
        "/api/slugs/prod%20uction/resources",
        "/api/%E2%80%AE/production/graph",
    ] {
        let res = app.client.get(path, t).await;
        assert_eq!(res.status, 404, "{path}: {}", res.text());
    }
}

on_both_backends!(nul_characters_are_refused_everywhere, odd_slugs_are_404);
