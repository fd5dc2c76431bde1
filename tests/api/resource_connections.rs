//! Resource connections (seeds 000/001): every example, every check of
//! SPEC §7, the state machine, filters, rules as data, and concurrency.

use patchbay_tests::{TestApp, on_both_backends};
use serde_json::{Value, json};

use crate::support::{canvas, connect, connection_id, email, register, resource};

const NOT_ALLOWED_APP_DB: &str = "Connection from application to database is not allowed. Please configure this connection in allowed_connections table.";

async fn seed_000_examples(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "codepanel").await;
    let t = Some(token.as_str());
    let instance = resource(app, &token, &base, "instance", "server").await;
    let application = resource(app, &token, &base, "application", "app").await;
    let database = resource(app, &token, &base, "database", "db").await;

    // Seed 000's own example (instance → application) contradicts its
    // normative list; patchbay follows the list.
    let res = app
        .client
        .post(
            &format!("{base}/resource-connections"),
            t,
            &json!({"sourceResourceType": "instance", "sourceResourceId": instance,
                    "targetResourceType": "application", "targetResourceId": application,
                    "connectionDetails": {"autoInstall": true, "installPath": "/opt/apps"}}),
        )
        .await;
    res.assert_error(
        400,
        "Connection not allowed",
        "Connection from instance to application is not allowed. Please configure this connection in allowed_connections table.",
    );

    // The seed's error body, byte for byte.
    let res = connect(
        app,
        &token,
        &base,
        ("application", application),
        ("database", database),
    )
    .await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.text(),
        format!(r#"{{"error":"Connection not allowed","message":"{NOT_ALLOWED_APP_DB}"}}"#)
    );

    // application → instance is allowed; the object has exactly seed 000's fields.
    let res = app
        .client
        .post(
            &format!("{base}/resource-connections"),
            t,
            &json!({"sourceResourceType": "application", "sourceResourceId": application,
                    "targetResourceType": "instance", "targetResourceId": instance,
                    "connectionDetails": {"autoInstall": true, "installPath": "/opt/apps"}}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(
        res.json()["message"],
        "Resource connection created successfully"
    );
    let c = res.json()["data"].clone();
    let mut keys: Vec<_> = c.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "connectionDetails",
            "createdAt",
            "environmentId",
            "errorMessage",
            "id",
            "projectId",
            "sourceResourceId",
            "sourceResourceType",
            "status",
            "targetResourceId",
            "targetResourceType",
            "updatedAt",
            "userId"
        ]
    );
    assert_eq!(c["status"], "pending");
    assert_eq!(c["errorMessage"], Value::Null);
    assert_eq!(
        c["connectionDetails"],
        json!({"autoInstall": true, "installPath": "/opt/apps"})
    );
    let me = app.client.get("/api/v1/me", t).await.json();
    assert_eq!(c["userId"], me["id"]);
    let cid = c["id"].as_i64().unwrap();

    // instance → database ("connect a server to a database").
    let res = connect(
        app,
        &token,
        &base,
        ("instance", instance),
        ("database", database),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let db_conn = res.json()["data"]["id"].as_i64().unwrap();

    // Get.
    let res = app
        .client
        .get(&format!("{base}/resource-connections/{cid}"), t)
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["data"], c);

    // PATCH seed example: status and details (a merge patch).
    let res = app
        .client
        .patch(
            &format!("{base}/resource-connections/{db_conn}"),
            t,
            &json!({"status": "connected", "connectionDetails": {"securityGroupId": "sg-12345678", "endpoint": "db.example.com:3306"}}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json()["message"],
        "Resource connection updated successfully"
    );
    assert_eq!(res.json()["data"]["status"], "connected");
    let res = app
        .client
        .patch(
            &format!("{base}/resource-connections/{db_conn}"),
            t,
            &json!({"connectionDetails": {"endpoint": null, "port": 3306}}),
        )
        .await;
    assert_eq!(
        res.json()["data"]["connectionDetails"],
        json!({"securityGroupId": "sg-12345678", "port": 3306})
    );

    // List with the seed's filter.
    let res = app
        .client
        .get(&format!("{base}/resource-connections?status=connected"), t)
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.json()["message"],
        "Resource connections retrieved successfully"
    );
    assert_eq!(res.json()["count"], 1);
    assert_eq!(res.json()["data"][0]["id"], db_conn);
    let res = app
        .client
        .get(&format!("{base}/resource-connections"), t)
        .await;
    assert_eq!(res.json()["count"], 2);
    let q = format!(
        "sourceResourceType=application&sourceResourceId={application}&targetResourceType=instance&targetResourceId={instance}"
    );
    let res = app
        .client
        .get(&format!("{base}/resource-connections?{q}"), t)
        .await;
    assert_eq!(res.json()["count"], 1);
    assert_eq!(res.json()["data"][0]["id"], cid);

    // Connections of one resource, both directions (seed 000's shape).
    let res = app
        .client
        .get(
            &format!("{base}/resources/instance/{instance}/connections"),
            t,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let body = res.json();
    assert_eq!(
        body["message"],
        "Resource connections retrieved successfully"
    );
    assert_eq!(body["resourceType"], "instance");
    assert_eq!(body["resourceId"], instance);
    assert_eq!(body["count"], 2);
    assert_eq!(
        body["data"][0],
        json!({"id": cid, "sourceResourceType": "application", "sourceResourceId": application,
               "targetResourceType": "instance", "targetResourceId": instance, "status": "pending"})
    );
    assert_eq!(body["data"][1]["status"], "connected");
    for path in [
        format!("{base}/resources/database/{instance}/connections"),
        format!("{base}/resources/instance/424242/connections"),
    ] {
        app.client
            .get(&path, t)
            .await
            .assert_error(404, "Not Found", "Resource not found");
    }
    app.client
        .get(
            &format!("{base}/resources/server/{instance}/connections"),
            t,
        )
        .await
        .assert_error_starting(
            400,
            "Bad Request",
            "resourceType: 'server' is not a valid resource type; expected one of: ",
        );
    app.client
        .get(&format!("{base}/resources/instance/x/connections"), t)
        .await
        .assert_error(
            400,
            "Bad Request",
            "resourceId: 'x' is not a positive integer id",
        );

    // Delete (soft).
    let res = app
        .client
        .delete(&format!("{base}/resource-connections/{cid}"), t)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json()["message"],
        "Resource connection deleted successfully"
    );
    for res in [
        app.client
            .get(&format!("{base}/resource-connections/{cid}"), t)
            .await,
        app.client
            .delete(&format!("{base}/resource-connections/{cid}"), t)
            .await,
        app.client
            .patch(
                &format!("{base}/resource-connections/{cid}"),
                t,
                &json!({"status": "connected"}),
            )
            .await,
    ] {
        res.assert_error(404, "Not Found", "Resource connection not found");
    }
    // A deleted connection can be made again.
    assert_eq!(
        connect(
            app,
            &token,
            &base,
            ("application", application),
            ("instance", instance)
        )
        .await
        .status,
        201
    );
}

async fn create_checks_in_order(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "checks").await;
    let t = Some(token.as_str());
    let instance = resource(app, &token, &base, "instance", "server").await;
    let application = resource(app, &token, &base, "application", "app").await;

    // Missing ends → 404 naming which.
    let res = connect(
        app,
        &token,
        &base,
        ("application", 999_999),
        ("instance", instance),
    )
    .await;
    res.assert_error(
        404,
        "Not Found",
        "Source resource not found: no live application with id 999999 in this environment",
    );
    let res = connect(
        app,
        &token,
        &base,
        ("application", application),
        ("instance", 999_999),
    )
    .await;
    res.assert_error(
        404,
        "Not Found",
        "Target resource not found: no live instance with id 999999 in this environment",
    );
    // A resource of another environment is not "in this environment".
    let pid = app.client.get("/api/v1/projects", t).await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.client
        .post(
            &format!("/api/v1/projects/{pid}/environments"),
            t,
            &json!({"name": "staging"}),
        )
        .await
        .assert_success();
    let other = resource(app, &token, "/api/checks/staging", "instance", "far").await;
    connect(
        app,
        &token,
        &base,
        ("application", application),
        ("instance", other),
    )
    .await
    .assert_error(
        404,
        "Not Found",
        &format!("Target resource not found: no live instance with id {other} in this environment"),
    );
    // Declared type differs from the stored one → 400.
    let res = connect(
        app,
        &token,
        &base,
        ("terminal", application),
        ("instance", instance),
    )
    .await;
    res.assert_error(
        400,
        "Bad Request",
        &format!(
            "The declared source resource type 'terminal' does not match resource {application}, which is of type 'application'"
        ),
    );
    // Self-connection → 400.
    let res = connect(
        app,
        &token,
        &base,
        ("instance", instance),
        ("instance", instance),
    )
    .await;
    res.assert_error(
        400,
        "Bad Request",
        "A resource cannot be connected to itself",
    );
    // Duplicate → 409.
    assert_eq!(
        connect(
            app,
            &token,
            &base,
            ("application", application),
            ("instance", instance)
        )
        .await
        .status,
        201
    );
    let res = connect(
        app,
        &token,
        &base,
        ("application", application),
        ("instance", instance),
    )
    .await;
    res.assert_error(
        409,
        "Conflict",
        "A connection from this source to this target already exists",
    );
    // Bad bodies → 400.
    let url = format!("{base}/resource-connections");
    let ends = |extra: serde_json::Value| {
        let mut b = json!({"sourceResourceType": "application", "sourceResourceId": application,
                           "targetResourceType": "instance", "targetResourceId": instance});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let unknown = |f: &str| format!("{f}: unknown field `{f}`");
    for (body, message) in [
        (
            json!({"sourceResourceType": "mainframe", "sourceResourceId": 1, "targetResourceType": "instance", "targetResourceId": 2}),
            "sourceResourceType: 'mainframe' is not a valid resource type; expected one of: ".to_owned(),
        ),
        (
            json!({"sourceResourceType": "application", "sourceResourceId": "1", "targetResourceType": "instance", "targetResourceId": 2}),
            "sourceResourceId: invalid type: string \"1\", expected i64".to_owned(),
        ),
        (
            json!({"sourceResourceType": "application", "sourceResourceId": -1, "targetResourceType": "instance", "targetResourceId": 2}),
            "sourceResourceId: must be a positive integer id".to_owned(),
        ),
        (
            json!({"sourceResourceType": "application", "sourceResourceId": 1.5, "targetResourceType": "instance", "targetResourceId": 2}),
            "sourceResourceId: invalid type: floating point `1.5`, expected i64".to_owned(),
        ),
        (
            json!({"sourceResourceType": "application", "targetResourceType": "instance", "targetResourceId": 2}),
            "Invalid JSON body: missing field `sourceResourceId`".to_owned(),
        ),
        (ends(json!({"status": "connected"})), unknown("status")),
        (ends(json!({"userId": 1})), unknown("userId")),
        (ends(json!({"id": 1})), unknown("id")),
        (
            ends(json!({"connectionDetails": [1]})),
            "connectionDetails: '(not an object)' is not a valid connectionDetails: it must be a JSON object".to_owned(),
        ),
        (
            ends(json!({"connectionDetails": {"x": "y".repeat(17 * 1024)}})),
            "connectionDetails: '(document)' is not a valid connectionDetails: it must be at most 16384 bytes of JSON, not ".to_owned(),
        ),
    ] {
        let res = app.client.post(&url, t, &body).await;
        res.assert_error_starting(400, "Bad Request", &message);
    }
    // Invalid filters and ids → 400.
    for (q, message) in [
        (
            "status=broken",
            "status: 'broken' is not a valid connection status; expected one of: ",
        ),
        (
            "sourceResourceType=mainframe",
            "sourceResourceType: 'mainframe' is not a valid resource type; expected one of: ",
        ),
        ("sourceResourceId=abc", "sourceResourceId: "),
        ("targetResourceId=-2", "targetResourceId: "),
        (
            "per_page=500",
            "per_page must be between 1 and 100 (got 500)",
        ),
        (
            "colour=red",
            "Invalid query parameter: unknown field `colour`",
        ),
    ] {
        let res = app.client.get(&format!("{url}?{q}"), t).await;
        res.assert_error_starting(400, "Bad Request", message);
    }
    for bad in ["abc", "0", "-1"] {
        for res in [
            app.client.get(&format!("{url}/{bad}"), t).await,
            app.client.delete(&format!("{url}/{bad}"), t).await,
            app.client
                .patch(&format!("{url}/{bad}"), t, &json!({"status": "connected"}))
                .await,
        ] {
            res.assert_error(400, "Bad Request", "Invalid connection ID");
        }
    }
    assert_eq!(
        app.client.get(&url, t).await.json()["count"],
        1,
        "nothing else was created"
    );
}

async fn status_state_machine_and_error_message(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "states").await;
    let t = Some(token.as_str());
    let instance = resource(app, &token, &base, "instance", "server").await;
    let application = resource(app, &token, &base, "application", "app").await;
    let id = connection_id(
        app,
        &token,
        &base,
        ("application", application),
        ("instance", instance),
    )
    .await;
    let url = format!("{base}/resource-connections/{id}");
    let patch = |body: Value| {
        let url = url.clone();
        let client = app.client.clone();
        let token = token.clone();
        async move { client.patch(&url, Some(&token), &body).await }
    };
    // pending → failed with a message; the message is kept while failed.
    let res = patch(json!({"status": "failed", "errorMessage": "timeout talking to host"})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json()["data"]["errorMessage"],
        "timeout talking to host"
    );
    let res = patch(json!({"connectionDetails": {"retries": 1}})).await;
    assert_eq!(
        res.json()["data"]["errorMessage"],
        "timeout talking to host"
    );
    // A message is at most 2000 characters; exactly 2000 is fine.
    let res = patch(json!({"errorMessage": "e".repeat(2001)})).await;
    res.assert_error(
        400,
        "Bad Request",
        "errorMessage: must be at most 2000 characters",
    );
    let res = patch(json!({"errorMessage": "é".repeat(2000)})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = patch(json!({"errorMessage": "timeout talking to host"})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    // failed → connecting clears it.
    let res = patch(json!({"status": "connecting"})).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["data"]["errorMessage"], Value::Null);
    // A message on a non-failed connection is refused.
    let res = patch(json!({"errorMessage": "nope"})).await;
    res.assert_error(
        400,
        "Bad Request",
        "An error message can only be set when the status is 'failed' (the status would be 'connecting')",
    );
    // connecting → connected; same → same is a no-op.
    assert_eq!(patch(json!({"status": "connected"})).await.status, 200);
    assert_eq!(patch(json!({"status": "connected"})).await.status, 200);
    // connected → pending is not a transition.
    let res = patch(json!({"status": "pending"})).await;
    res.assert_error(
        400,
        "Invalid status transition",
        "Cannot change status from connected to pending",
    );
    // Unknown statuses and null are 400; nothing changed.
    patch(json!({"status": "exploded"}))
        .await
        .assert_error_starting(
            400,
            "Bad Request",
            "status: 'exploded' is not a valid connection status; expected one of: ",
        );
    patch(json!({"status": null})).await.assert_error(
        400,
        "Bad Request",
        "status: must not be null",
    );
    patch(json!({"connectionDetails": [1, 2]}))
        .await
        .assert_error(
            400,
            "Bad Request",
            "connectionDetails: a merge patch must be a JSON object or null",
        );
    patch(json!({"sourceResourceId": 3}))
        .await
        .assert_error_starting(
            400,
            "Bad Request",
            "sourceResourceId: unknown field `sourceResourceId`",
        );
    let got = app.client.get(&url, t).await.json();
    assert_eq!(got["data"]["status"], "connected");
    assert_eq!(got["data"]["connectionDetails"], json!({"retries": 1}));
    // connected → disconnected → pending is allowed.
    assert_eq!(patch(json!({"status": "disconnected"})).await.status, 200);
    assert_eq!(patch(json!({"status": "pending"})).await.status, 200);
    // Removing the details entirely.
    let res = patch(json!({"connectionDetails": null})).await;
    assert_eq!(res.json()["data"]["connectionDetails"], Value::Null);
}

async fn deleting_a_resource_deletes_its_connections(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "cascade").await;
    let t = Some(token.as_str());
    let server = resource(app, &token, &base, "instance", "server").await;
    let api = resource(app, &token, &base, "application", "api").await;
    let fw = resource(app, &token, &base, "firewall", "fw").await;
    let db = resource(app, &token, &base, "database", "db").await;
    let incoming = connection_id(
        app,
        &token,
        &base,
        ("application", api),
        ("instance", server),
    )
    .await;
    let outgoing = connection_id(app, &token, &base, ("instance", server), ("firewall", fw)).await;
    let unrelated_db = resource(app, &token, &base, "instance", "other").await;
    let keep = connection_id(
        app,
        &token,
        &base,
        ("instance", unrelated_db),
        ("database", db),
    )
    .await;
    let res = app
        .client
        .delete(&format!("{base}/resources/{server}"), t)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json()["data"],
        json!({"id": server, "type": "instance", "deletedConnections": 2})
    );
    for id in [incoming, outgoing] {
        app.client
            .get(&format!("{base}/resource-connections/{id}"), t)
            .await
            .assert_error(404, "Not Found", "Resource connection not found");
    }
    assert_eq!(
        app.client
            .get(&format!("{base}/resource-connections/{keep}"), t)
            .await
            .status,
        200
    );
    // Restoring the resource does not resurrect its connections.
    let res = app
        .client
        .post(&format!("{base}/resources/{server}/restore"), t, &json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        app.client
            .get(&format!("{base}/resources/{server}"), t)
            .await
            .status,
        200,
        "the resource is back"
    );
    let list = app
        .client
        .get(&format!("{base}/resource-connections"), t)
        .await
        .json();
    assert_eq!(list["count"], 1);
    assert_eq!(list["data"][0]["id"], keep);
    let mine = app
        .client
        .get(
            &format!("{base}/resources/instance/{server}/connections"),
            t,
        )
        .await
        .json();
    assert_eq!(mine["count"], 0, "{mine}");
}

async fn allowed_connections_are_data(app: &TestApp) {
    // The first user is the instance admin.
    let (token, base) = canvas(app, "admin", "rules").await;
    let t = Some(token.as_str());
    let res = app.client.get("/api/v1/allowed-connections", t).await;
    assert_eq!(res.status, 200);
    let mut pairs: Vec<(String, String)> = res
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["source_type"].as_str().unwrap().to_owned(),
                r["target_type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    pairs.sort();
    let mut expected: Vec<(String, String)> = [
        ("application", "instance"),
        ("bucket_explorer", "static_website"),
        ("bucket_explorer", "storage_bucket"),
        ("instance", "database"),
        ("instance", "firewall"),
        ("subdomain", "static_website"),
        ("terminal", "instance"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    expected.sort();
    assert_eq!(pairs, expected);

    let app_id = resource(app, &token, &base, "application", "api").await;
    let db = resource(app, &token, &base, "database", "db").await;
    connect(
        app,
        &token,
        &base,
        ("application", app_id),
        ("database", db),
    )
    .await
    .assert_error(400, "Connection not allowed", NOT_ALLOWED_APP_DB);

    // Non-admins may read but not change the rules.
    let (_, user) = register(app, &email("user")).await;
    assert_eq!(
        app.client
            .get("/api/v1/allowed-connections", Some(&user))
            .await
            .status,
        200
    );
    let res = app
        .client
        .post(
            "/api/v1/allowed-connections",
            Some(&user),
            &json!({"source_type": "application", "target_type": "database"}),
        )
        .await;
    res.assert_error(
        403,
        "Forbidden",
        "Only instance administrators can change allowed connections",
    );
    app.client
        .get("/api/v1/allowed-connections", None)
        .await
        .assert_error(401, "Unauthorized", "Missing Authorization header");

    // The admin allows application → database: the next create succeeds.
    let res = app
        .client
        .post(
            "/api/v1/allowed-connections",
            t,
            &json!({"source_type": "application", "target_type": "database"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let rule = res.json()["id"].as_i64().unwrap();
    let dup = app
        .client
        .post(
            "/api/v1/allowed-connections",
            t,
            &json!({"source_type": "application", "target_type": "database"}),
        )
        .await;
    dup.assert_error(
        409,
        "Conflict",
        "Connections from application to database are already allowed",
    );
    for (body, message) in [
        (
            json!({"source_type": "x", "target_type": "database"}),
            "source_type: 'x' is not a valid resource type; expected one of: ",
        ),
        (
            json!({"source_type": "instance"}),
            "Invalid JSON body: missing field `target_type`",
        ),
        (
            json!({"source_type": "instance", "target_type": "database", "id": 1}),
            "id: unknown field `id`",
        ),
    ] {
        app.client
            .post("/api/v1/allowed-connections", t, &body)
            .await
            .assert_error_starting(400, "Bad Request", message);
    }
    let res = connect(
        app,
        &token,
        &base,
        ("application", app_id),
        ("database", db),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());

    // Removing the rule refuses the next create (existing ones stay).
    app.client
        .delete(&format!("/api/v1/allowed-connections/{rule}"), Some(&user))
        .await
        .assert_error(
            403,
            "Forbidden",
            "Only instance administrators can change allowed connections",
        );
    assert_eq!(
        app.client
            .delete(&format!("/api/v1/allowed-connections/{rule}"), t)
            .await
            .status,
        204
    );
    app.client
        .delete(&format!("/api/v1/allowed-connections/{rule}"), t)
        .await
        .assert_error(404, "Not Found", "Allowed connection not found");
    app.client
        .delete("/api/v1/allowed-connections/abc", t)
        .await
        .assert_error(400, "Bad Request", "Invalid allowed-connection ID");
    let other = resource(app, &token, &base, "application", "api-2").await;
    let res = connect(app, &token, &base, ("application", other), ("database", db)).await;
    res.assert_error(400, "Connection not allowed", NOT_ALLOWED_APP_DB);
    // SPEC §7 checks duplicates before the rules: repeating the existing
    // (now disallowed) connection is a 409, not a 400.
    let res = connect(
        app,
        &token,
        &base,
        ("application", app_id),
        ("database", db),
    )
    .await;
    res.assert_error(
        409,
        "Conflict",
        "A connection from this source to this target already exists",
    );
    assert_eq!(
        app.client
            .get(&format!("{base}/resource-connections"), t)
            .await
            .json()["count"],
        1
    );
}

async fn concurrent_duplicate_connections_make_exactly_one(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "race").await;
    let server = resource(app, &token, &base, "instance", "server").await;
    let api = resource(app, &token, &base, "application", "api").await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let client = app.client.clone();
        let token = token.clone();
        let url = format!("{base}/resource-connections");
        tasks.push(actix_web::rt::spawn(async move {
            client
                .post(&url, Some(&token), &json!({"sourceResourceType": "application", "sourceResourceId": api,
                                                  "targetResourceType": "instance", "targetResourceId": server}))
                .await
        }));
    }
    let (mut created, mut conflicts) = (0, 0);
    for task in tasks {
        let res = task.await.unwrap();
        assert!(res.status < 500, "{} {}", res.status, res.text());
        if res.status == 201 {
            created += 1;
        } else {
            res.assert_error(
                409,
                "Conflict",
                "A connection from this source to this target already exists",
            );
            conflicts += 1;
        }
    }
    assert_eq!((created, conflicts), (1, 49));
}

async fn clone_copies_resources_and_connections(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "cloning").await;
    let t = Some(token.as_str());
    let server = resource(app, &token, &base, "instance", "server").await;
    let api = resource(app, &token, &base, "application", "api").await;
    let deleted = resource(app, &token, &base, "firewall", "old-fw").await;
    let c = connection_id(
        app,
        &token,
        &base,
        ("application", api),
        ("instance", server),
    )
    .await;
    app.client
        .patch(
            &format!("{base}/resource-connections/{c}"),
            t,
            &json!({"status": "connected", "connectionDetails": {"k": 1}}),
        )
        .await
        .assert_success();
    app.client
        .delete(&format!("{base}/resources/{deleted}"), t)
        .await
        .assert_success();
    app.client
        .post(
            &format!("{base}/subdomains"),
            t,
            &json!({"name": "www", "parentDomain": "example.com"}),
        )
        .await
        .assert_success();

    let pid = app.client.get("/api/v1/projects", t).await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let envs = app
        .client
        .get(&format!("/api/v1/projects/{pid}/environments"), t)
        .await
        .json();
    let prod = envs[0]["id"].as_str().unwrap().to_owned();
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/environments/{prod}/clone"),
            t,
            &json!({"name": "staging", "type": "staging"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(
        res.json()["copied"],
        json!({"resources": 3, "resource_connections": 1, "credential_connections": 0})
    );

    let copy = "/api/cloning/staging";
    let list = app.client.get(&format!("{copy}/resources"), t).await.json();
    let mut names: Vec<_> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["api", "server", "www"]);
    assert!(
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["id"] != server && r["id"] != api),
        "new ids"
    );
    let edges = app
        .client
        .get(&format!("{copy}/resource-connections"), t)
        .await
        .json();
    assert_eq!(edges["count"], 1);
    let e = &edges["data"][0];
    assert_eq!(e["status"], "pending", "copied connections start over");
    assert_eq!(e["connectionDetails"], json!({"k": 1}));
    let new_ids: Vec<_> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    assert!(new_ids.contains(&e["sourceResourceId"]) && new_ids.contains(&e["targetResourceId"]));
    assert_eq!(
        app.client
            .get(&format!("{copy}/subdomains"), t)
            .await
            .json()["data"][0]["parentDomain"],
        "example.com"
    );
    // The source is untouched.
    assert_eq!(
        app.client
            .get(&format!("{base}/resource-connections/{c}"), t)
            .await
            .json()["data"]["status"],
        "connected"
    );

    // A non-empty, non-default environment needs force to be deleted.
    let staging = res.json()["environment"]["id"].as_str().unwrap().to_owned();
    let res = app
        .client
        .delete(&format!("/api/v1/projects/{pid}/environments/{staging}"), t)
        .await;
    res.assert_error(
        409,
        "Conflict",
        "The environment is not empty; pass ?force=true to delete it with everything in it",
    );
    let res = app
        .client
        .delete(
            &format!("/api/v1/projects/{pid}/environments/{staging}?force=true"),
            t,
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.client
        .get(&format!("{copy}/resources"), t)
        .await
        .assert_error(404, "Not Found", "Environment not found");
    assert_eq!(
        app.client.get(&format!("{base}/resources"), t).await.json()["count"],
        3,
        "production keeps server, api and www"
    );
}

on_both_backends!(
    seed_000_examples,
    create_checks_in_order,
    status_state_machine_and_error_message,
    deleting_a_resource_deletes_its_connections,
    allowed_connections_are_data,
    concurrent_duplicate_connections_make_exactly_one,
    clone_copies_resources_and_connections,
);
