//! The unified resources API: create/list/get/patch/delete/restore, bad
//! input, and the canvas graph.

use awc::http::Method;
use patchbay_tests::{TestApp, on_both_backends};
use serde_json::json;

use crate::support::{canvas, connect, connection_id, resource};

async fn resource_lifecycle(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "canvas").await;
    let t = Some(token.as_str());
    let res = app
        .client
        .post(
            &format!("{base}/resources"),
            t,
            &json!({"type": "instance", "name": "web-1", "config": {"size": "t3.micro"},
                    "positionX": 10, "positionY": 20.25}),
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
    assert_eq!(r["credentialConnId"], serde_json::Value::Null);
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
    res.assert_error(
        409,
        "Conflict",
        "A instance named 'web-1' already exists in this environment",
    );

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
    let res = app
        .client
        .delete(&format!("{base}/resources/{id}"), t)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["message"], "Resource deleted successfully");
    assert_eq!(
        res.json()["data"],
        json!({"id": id, "type": "instance", "deletedConnections": 0})
    );
    for res in [
        app.client.get(&format!("{base}/resources/{id}"), t).await,
        app.client
            .delete(&format!("{base}/resources/{id}"), t)
            .await,
        app.client
            .patch(&format!("{base}/resources/{id}"), t, &json!({"name": "x"}))
            .await,
    ] {
        res.assert_error(404, "Not Found", "Resource not found");
    }
    assert_eq!(
        app.client.get(&format!("{base}/resources"), t).await.json()["total"],
        7,
        "the deleted one is not listed"
    );
    let res = app
        .client
        .post(&format!("{base}/resources/{id}/restore"), t, &json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["message"], "Resource restored successfully");
    assert_eq!(res.json()["data"]["name"], "web-01");
    // The restore is real: the resource reads and lists again, as it was.
    let got = app.client.get(&format!("{base}/resources/{id}"), t).await;
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(got.json()["data"]["name"], "web-01");
    assert_eq!(got.json()["data"]["position"], json!({"x": 1, "y": 2}));
    assert_eq!(got.json()["data"]["config"], json!({"size": "large"}));
    assert_eq!(
        app.client.get(&format!("{base}/resources"), t).await.json()["total"],
        8
    );
    let res = app
        .client
        .post(&format!("{base}/resources/{id}/restore"), t, &json!({}))
        .await;
    res.assert_error(409, "Conflict", "The resource is not deleted");
    let res = app
        .client
        .delete(&format!("{base}/resources/{id}"), t)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    resource(app, &token, &base, "instance", "web-01").await;
    let res = app
        .client
        .post(&format!("{base}/resources/{id}/restore"), t, &json!({}))
        .await;
    res.assert_error(
        409,
        "Conflict",
        "A live instance named 'web-01' exists; rename it before restoring this one",
    );
    app.client
        .get(&format!("{base}/resources/{id}"), t)
        .await
        .assert_error(404, "Not Found", "Resource not found");
    app.client
        .post(&format!("{base}/resources/999999/restore"), t, &json!({}))
        .await
        .assert_error(404, "Not Found", "Resource not found");
    // A credentialConnId must name a credential connection of this environment.
    let res = app
        .client
        .post(
            &format!("{base}/resources"),
            t,
            &json!({"type": "instance", "name": "web-9", "credentialConnId": "prod-ssh"}),
        )
        .await;
    res.assert_error(
        404,
        "Not Found",
        "credentialConnId: no credential connection with this conn_id in this environment",
    );
}

async fn bad_resource_input_is_4xx_and_changes_nothing(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "canvas").await;
    let t = Some(token.as_str());
    let id = resource(app, &token, &base, "instance", "web-1").await;
    let big = "x".repeat(17 * 1024);
    let unknown = |f: &str| format!("{f}: unknown field `{f}`");
    let cases = [
        (
            json!({"type": "mainframe", "name": "x"}),
            400,
            "type: 'mainframe' is not a valid resource type; expected one of: instance, application, database, terminal, firewall, storage_bucket, bucket_explorer, static_website, subdomain".to_owned(),
        ),
        (json!({"type": "instance"}), 400, "Invalid JSON body: missing field `name`".to_owned()),
        (json!({"name": "x"}), 400, "Invalid JSON body: missing field `type`".to_owned()),
        (
            json!({"type": "instance", "name": ""}),
            400,
            "name: '' is not a valid resource name: it must not be empty".to_owned(),
        ),
        (
            json!({"type": "instance", "name": "x".repeat(101)}),
            400,
            format!(
                "name: '{}…' is not a valid resource name: it must be at most 100 characters long",
                "x".repeat(64)
            ),
        ),
        (json!({"type": "instance", "name": "x", "id": 5}), 400, unknown("id")),
        (json!({"type": "instance", "name": "x", "userId": 1}), 400, unknown("userId")),
        (json!({"type": "instance", "name": "x", "status": "active"}), 400, unknown("status")),
        (
            json!({"type": "instance", "name": "x", "createdAt": "2024-01-01T00:00:00Z"}),
            400,
            unknown("createdAt"),
        ),
        (
            json!({"type": "instance", "name": "x", "config": [1, 2]}),
            400,
            "config: '(not an object)' is not a valid config: it must be a JSON object".to_owned(),
        ),
        (
            json!({"type": "instance", "name": "x", "config": "text"}),
            400,
            "config: '(not an object)' is not a valid config: it must be a JSON object".to_owned(),
        ),
        (
            json!({"type": "instance", "name": "x", "config": {"blob": big}}),
            400,
            "config: '(document)' is not a valid config: it must be at most 16384 bytes of JSON, not ".to_owned(),
        ),
        (
            json!({"type": "instance", "name": "x", "positionX": "1"}),
            400,
            "positionX: invalid type: string \"1\", expected f64".to_owned(),
        ),
        (
            json!({"type": "instance", "name": "x", "positionX": 1e12}),
            400,
            "position: 'positionX=1000000000000' is not a valid canvas coordinate: it must be a finite number between -10000000 and 10000000".to_owned(),
        ),
        (
            json!({"type": "instance", "name": "x", "credentialConnId": "Not Valid!"}),
            400,
            "credentialConnId: 'Not Valid!' is not a valid conn_id: ".to_owned(),
        ),
        (
            json!({"type": "instance", "name": "x", "parentDomain": "example.com"}),
            400,
            "parentDomain: only subdomains have a parent domain".to_owned(),
        ),
        (
            json!({"type": "subdomain", "name": "not valid"}),
            400,
            "name: 'not valid' is not a valid subdomain name: only ASCII letters, digits and hyphens are allowed".to_owned(),
        ),
    ];
    for (body, status, message) in cases {
        let res = app
            .client
            .post(&format!("{base}/resources"), t, &body)
            .await;
        res.assert_error_starting(status, "Bad Request", &message);
    }
    // A document of exactly the limit is accepted: 16384 bytes of JSON.
    let pad = 16 * 1024 - r#"{"blob":""}"#.len();
    let res = app
        .client
        .post(
            &format!("{base}/resources"),
            t,
            &json!({"type": "instance", "name": "at-the-limit", "config": {"blob": "y".repeat(pad)}}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let at_limit = res.json()["data"]["id"].as_i64().unwrap();
    app.client
        .delete(&format!("{base}/resources/{at_limit}"), t)
        .await
        .assert_success();
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
        for res in [
            app.client.get(&format!("{base}/resources/{bad}"), t).await,
            app.client
                .delete(&format!("{base}/resources/{bad}"), t)
                .await,
            app.client
                .patch(&format!("{base}/resources/{bad}"), t, &json!({"name": "x"}))
                .await,
            app.client
                .post(&format!("{base}/resources/{bad}/restore"), t, &json!({}))
                .await,
        ] {
            res.assert_error(400, "Bad Request", "Invalid resource ID");
        }
    }
    for (q, message) in [
        ("per_page=0", "per_page must be between 1 and 100 (got 0)"),
        (
            "per_page=101",
            "per_page must be between 1 and 100 (got 101)",
        ),
        ("page=0", "page must be at least 1 (got 0)"),
        (
            "type=nope",
            "type: 'nope' is not a valid resource type; expected one of: ",
        ),
        (
            "kind=instance",
            "Invalid query parameter: unknown field `kind`",
        ),
    ] {
        let res = app.client.get(&format!("{base}/resources?{q}"), t).await;
        res.assert_error_starting(400, "Bad Request", message);
    }
    for (body, message) in [
        (json!({"name": null}), "name: must not be null"),
        (json!({"status": "gone"}), "status: unknown field `status`"),
        (json!({"id": 3}), "id: unknown field `id`"),
        (
            json!({"positionX": 1, "position": {"x": 1, "y": 1}}),
            "Send either position or positionX/positionY, not both",
        ),
        (json!({"config": null}), "config: must not be null"),
    ] {
        let res = app
            .client
            .patch(&format!("{base}/resources/{id}"), t, &body)
            .await;
        res.assert_error_starting(400, "Bad Request", message);
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
    res.assert_error_starting(400, "Bad Request", "Invalid JSON body: EOF while parsing");
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
    res.assert_error(
        413,
        "Payload Too Large",
        "The request body exceeds 262144 bytes",
    );
    assert_eq!(
        app.client.get(&format!("{base}/resources"), t).await.json()["total"],
        2,
        "still only the two valid creates"
    );
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
        .await
        .assert_success();
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
    res.assert_error(400, "Bad Request", "config: '(document)' is not a valid config: its keys and strings must not contain NUL (\\u0000) characters");
    let res = app
        .client
        .post(
            &format!("{base}/resources"),
            t,
            &json!({"type": "instance", "name": "x", "config": {nul: 1}}),
        )
        .await;
    res.assert_error(400, "Bad Request", "config: '(document)' is not a valid config: its keys and strings must not contain NUL (\\u0000) characters");
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
    res.assert_error(400, "Bad Request", "connectionDetails: '(document)' is not a valid connectionDetails: its keys and strings must not contain NUL (\\u0000) characters");
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
    res.assert_error(
        400,
        "Bad Request",
        "errorMessage: must not contain control characters other than newlines and tabs",
    );
    let res = app
        .client
        .patch(&url, t, &json!({"connectionDetails": {"k": nul}}))
        .await;
    res.assert_error(400, "Bad Request", "connectionDetails: '(document)' is not a valid connectionDetails: its keys and strings must not contain NUL (\\u0000) characters");
    let res = app
        .client
        .patch(
            &format!("{base}/resources/{server}"),
            t,
            &json!({"config": {"k": nul}}),
        )
        .await;
    res.assert_error(400, "Bad Request", "config: '(document)' is not a valid config: its keys and strings must not contain NUL (\\u0000) characters");
    // Names, descriptions and other text fields refuse control characters.
    let pid = app.client.get("/api/v1/projects", t).await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (body, message) in [
        (
            json!({"description": nul}),
            "description: must not contain control characters",
        ),
        (
            json!({"display_name": nul}),
            "display_name: 'a\\u{0}b' is not a valid name: it must not contain control characters",
        ),
    ] {
        let res = app
            .client
            .put(&format!("/api/v1/projects/{pid}"), t, &body)
            .await;
        res.assert_error(400, "Bad Request", message);
    }
    let res = app
        .client
        .post(
            "/api/auth/register",
            None,
            &json!({"email": "n@example.com", "password": "long enough\u{0}", "name": "N"}),
        )
        .await;
    // A password is hashed, never stored as text: any character may be in it,
    // and it must be given exactly to log in.
    assert_eq!(res.status, 201, "{}", res.text());
    let login = |password: &'static str| {
        let client = app.client.clone();
        async move {
            client
                .post(
                    "/api/auth/login",
                    None,
                    &json!({"email": "n@example.com", "password": password}),
                )
                .await
        }
    };
    assert_eq!(login("long enough\u{0}").await.status, 200);
    login("long enough")
        .await
        .assert_error(401, "Unauthorized", "Invalid email or password");
}

/// Path segments are data too: odd bytes in a slug find nothing.
async fn odd_slugs_are_404(app: &TestApp) {
    let (token, _) = canvas(app, "owner", "slugs").await;
    let t = Some(token.as_str());
    for (path, message) in [
        ("/api/%00/production/resources", "Project not found"),
        ("/api/slugs/%00/resources", "Environment not found"),
        ("/api/SLUGS/production/resources", "Project not found"),
        (
            "/api/slugs/prod%20uction/resources",
            "Environment not found",
        ),
        ("/api/%E2%80%AE/production/graph", "Project not found"),
    ] {
        let res = app.client.get(path, t).await;
        res.assert_error(404, "Not Found", message);
    }
}

on_both_backends!(nul_characters_are_refused_everywhere, odd_slugs_are_404);
