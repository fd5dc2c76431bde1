//! Environments (seed 004): create, update, set-default, clone, delete rules.

use patchbay_tests::{TestApp, on_both_backends};
use serde_json::json;

use crate::support::{create_project, email, register};

async fn environment_lifecycle(app: &TestApp) {
    let (_, token) = register(app, &email("owner")).await;
    let t = Some(token.as_str());
    let p = create_project(app, &token, "envs").await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/projects/{pid}/environments");

    // Seed 004's create body.
    let res = app
        .client
        .post(
            &base,
            t,
            &json!({"name": "staging", "display_name": "Staging", "type": "staging",
                    "description": "Pre-production environment", "color": "#F59E0B", "git_branch": "develop"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let staging = res.json();
    assert_eq!(staging["name"], "staging");
    assert_eq!(staging["display_name"], "Staging");
    assert_eq!(staging["type"], "staging");
    assert_eq!(staging["description"], "Pre-production environment");
    assert_eq!(staging["color"], "#F59E0B");
    assert_eq!(staging["git_branch"], "develop");
    assert_eq!(staging["is_default"], false);
    assert_eq!(staging["project_id"], pid.as_str());
    let sid = staging["id"].as_str().unwrap().to_owned();

    // Type defaults to development.
    let res = app.client.post(&base, t, &json!({"name": "dev"})).await;
    assert_eq!(res.status, 201);
    assert_eq!(res.json()["type"], "development");
    let dev_id = res.json()["id"].as_str().unwrap().to_owned();

    let got = app.client.get(&format!("{base}/{sid}"), t).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), staging);

    // Update only what is sent.
    let res = app
        .client
        .put(
            &format!("{base}/{sid}"),
            t,
            &json!({"description": null, "type": "preview", "git_branch": "release/1.2"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["description"], serde_json::Value::Null);
    assert_eq!(res.json()["type"], "preview");
    assert_eq!(res.json()["git_branch"], "release/1.2");
    assert_eq!(res.json()["display_name"], "Staging");

    // Clone: a copy under a new name, never default.
    let res = app
        .client
        .post(
            &format!("{base}/{sid}/clone"),
            t,
            &json!({"name": "staging-v2", "type": "staging", "description": "Cloned from staging"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let clone = res.json();
    assert_eq!(clone["environment"]["name"], "staging-v2");
    assert_eq!(clone["environment"]["type"], "staging");
    assert_eq!(clone["environment"]["description"], "Cloned from staging");
    assert_eq!(clone["environment"]["git_branch"], "release/1.2");
    assert_eq!(clone["environment"]["is_default"], false);
    assert_eq!(
        clone["copied"],
        json!({"resources": 0, "resource_connections": 0, "credential_connections": 0})
    );
    let res = app
        .client
        .post(
            &format!("{base}/{sid}/clone"),
            t,
            &json!({"name": "staging-v2"}),
        )
        .await;
    res.assert_error(
        409,
        "Conflict",
        "An environment with this name already exists in the project",
    );

    // set-default moves the default; exactly one default remains.
    let res = app
        .client
        .post(&format!("{base}/{sid}/set-default"), t, &json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["is_default"], true);
    let list = app.client.get(&base, t).await.json();
    let defaults: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["is_default"] == true)
        .collect();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0]["id"], sid.as_str());
    assert_eq!(list[0]["id"], sid.as_str(), "default first");
    assert_eq!(list.as_array().unwrap().len(), 4);

    // The default cannot be deleted, not even with force; others can.
    const DEFAULT_STAYS: &str =
        "The default environment cannot be deleted; make another environment the default first";
    let res = app.client.delete(&format!("{base}/{sid}"), t).await;
    res.assert_error(409, "Conflict", DEFAULT_STAYS);
    let res = app
        .client
        .delete(&format!("{base}/{sid}?force=true"), t)
        .await;
    res.assert_error(409, "Conflict", DEFAULT_STAYS);
    let res = app.client.delete(&format!("{base}/{dev_id}"), t).await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.client
        .get(&format!("{base}/{dev_id}"), t)
        .await
        .assert_error(404, "Not Found", "Environment not found");
    assert_eq!(
        app.client
            .get(&base, t)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

async fn environment_errors(app: &TestApp) {
    let (_, token) = register(app, &email("owner")).await;
    let t = Some(token.as_str());
    let p = create_project(app, &token, "envs").await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/projects/{pid}/environments");
    const BRANCH: &str = "git_branch: must be a branch name of letters, digits and . _ / - (no '..', no leading '-')";
    let cases = [
        (
            json!({"name": "production"}),
            409,
            "Conflict",
            "An environment with this name already exists in the project",
        ),
        (
            json!({"name": "Bad Name"}),
            400,
            "Bad Request",
            "name: 'Bad Name' is not a valid slug: it must be lowercase",
        ),
        (
            json!({"name": "x", "type": "qa"}),
            400,
            "Bad Request",
            "type: 'qa' is not a valid environment type; expected one of: production, staging, development, preview",
        ),
        (
            json!({"name": "x", "color": "red"}),
            400,
            "Bad Request",
            "color: 'red' is not a valid color: it must be '#' followed by six hexadecimal digits, like #3B82F6",
        ),
        (
            json!({"name": "x", "git_branch": "../etc"}),
            400,
            "Bad Request",
            BRANCH,
        ),
        (
            json!({"name": "x", "git_branch": "-rf"}),
            400,
            "Bad Request",
            BRANCH,
        ),
        (
            json!({"name": "x", "is_default": true}),
            400,
            "Bad Request",
            "is_default: unknown field `is_default`",
        ),
        (
            json!({"name": "x", "project_id": pid}),
            400,
            "Bad Request",
            "project_id: unknown field `project_id`",
        ),
        (
            json!({"type": "staging"}),
            400,
            "Bad Request",
            "Invalid JSON body: missing field `name`",
        ),
    ];
    for (body, status, error, message) in cases {
        let res = app.client.post(&base, t, &body).await;
        res.assert_error_starting(status, error, message);
    }
    let envs = app.client.get(&base, t).await.json();
    assert_eq!(envs.as_array().unwrap().len(), 1, "nothing was created");
    let prod = envs[0]["id"].as_str().unwrap();
    app.client
        .put(&format!("{base}/{prod}"), t, &json!({"name": null}))
        .await
        .assert_error(400, "Bad Request", "name: must not be null");
    app.client
        .put(&format!("{base}/{prod}"), t, &json!({"is_default": false}))
        .await
        .assert_error_starting(400, "Bad Request", "is_default: unknown field `is_default`");
    app.client
        .delete(&format!("{base}/{prod}?force=maybe"), t)
        .await
        .assert_error_starting(400, "Bad Request", "Invalid query parameter: ");
    app.client
        .get(&format!("{base}/not-a-uuid"), t)
        .await
        .assert_error_starting(400, "Bad Request", "Invalid path parameter: ");
    let missing = uuid::Uuid::now_v7();
    let res = app.client.get(&format!("{base}/{missing}"), t).await;
    res.assert_error(404, "Not Found", "Environment not found");
    app.client
        .post(&format!("{base}/{missing}/set-default"), t, &json!({}))
        .await
        .assert_error(404, "Not Found", "Environment not found");
    app.client
        .post(&format!("{base}/{missing}/clone"), t, &json!({"name": "y"}))
        .await
        .assert_error(404, "Not Found", "Environment not found");
    app.client
        .put(
            &format!("{base}/{missing}"),
            t,
            &json!({"description": "d"}),
        )
        .await
        .assert_error(404, "Not Found", "Environment not found");
    app.client
        .delete(&format!("{base}/{missing}"), t)
        .await
        .assert_error(404, "Not Found", "Environment not found");
    // An environment of another project is not found through this project.
    let other = create_project(app, &token, "other").await;
    let other_env = app
        .client
        .get(
            &format!(
                "/api/v1/projects/{}/environments",
                other["id"].as_str().unwrap()
            ),
            t,
        )
        .await
        .json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.client
        .get(&format!("{base}/{other_env}"), t)
        .await
        .assert_error(404, "Not Found", "Environment not found");
    app.client
        .delete(&format!("{base}/{other_env}"), t)
        .await
        .assert_error(404, "Not Found", "Environment not found");
}

on_both_backends!(environment_lifecycle, environment_errors);
