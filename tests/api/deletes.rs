//! What deletes remove: a project delete takes its environments,
//! memberships, invites, resources, resource connections and credential
//! connections with it — checked through the API and by counting rows in
//! the database — and nothing of another project. A forced environment
//! delete takes that environment's content and nothing else.

use patchbay_tests::{TestApp, on_both_backends};
use serde_json::{Value, json};

use crate::support::{add_member, connection_id, create_project, email, register, resource};

/// A project `name` of `owner` with two environments, a member, two
/// invites, and in each environment resources (one deleted), a resource
/// connection, a subdomain and a credential connection. Returns the project
/// id and its environment ids.
async fn furnished(app: &TestApp, owner: &str, name: &str, invitee: &str) -> (String, Vec<String>) {
    let t = Some(owner);
    let p = create_project(app, owner, name).await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let (member, _) = register(app, &email(&format!("member-of-{name}"))).await;
    add_member(app, owner, &pid, member["id"].as_str().unwrap(), "viewer").await;
    for who in [invitee.to_owned(), email(&format!("other-invitee-{name}"))] {
        let res = app
            .client
            .post(
                &format!("/api/v1/projects/{pid}/invites"),
                t,
                &json!({"email": who, "role": "viewer"}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/environments"),
            t,
            &json!({"name": "staging"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    for env in ["production", "staging"] {
        furnish_environment(app, owner, &format!("/api/{name}/{env}")).await;
    }
    let envs = app
        .client
        .get(&format!("/api/v1/projects/{pid}/environments"), t)
        .await
        .json();
    let env_ids = envs
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    (pid, env_ids)
}

async fn furnish_environment(app: &TestApp, owner: &str, base: &str) {
    let t = Some(owner);
    let server = resource(app, owner, base, "instance", "server").await;
    let api = resource(app, owner, base, "application", "api").await;
    connection_id(app, owner, base, ("application", api), ("instance", server)).await;
    let gone = resource(app, owner, base, "firewall", "gone").await;
    app.client
        .delete(&format!("{base}/resources/{gone}"), t)
        .await
        .assert_success();
    app.client
        .post(&format!("{base}/subdomains"), t, &json!({"name": "www"}))
        .await
        .assert_success();
    app.client
        .post(
            &format!("{base}/connections"),
            t,
            &json!({"conn_id": "db", "type": "generic", "host": "127.0.0.1", "port": 9}),
        )
        .await
        .assert_success();
}

/// Rows per table that belong to a project (`pid`, environments `envs`).
async fn rows_of(app: &TestApp, pid: &str, envs: &[String]) -> Value {
    let in_envs = format!(
        "environment_id IN ({})",
        envs.iter()
            .map(|e| format!("'{e}'"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let of_project = format!("project_id = '{pid}'");
    json!({
        "projects": app.count_rows("projects", &format!("id = '{pid}'")).await,
        "project_members": app.count_rows("project_members", &of_project).await,
        "invites": app.count_rows("invites", &of_project).await,
        "environments": app.count_rows("environments", &of_project).await,
        "resources": app.count_rows("resources", &in_envs).await,
        "resource_connections": app.count_rows("resource_connections", &in_envs).await,
        "credential_connections": app.count_rows("credential_connections", &in_envs).await,
    })
}

async fn project_delete_removes_everything_in_it(app: &TestApp) {
    let (_, alice) = register(app, &email("alice")).await;
    let (_, dave) = register(app, &email("dave")).await;
    let t = Some(alice.as_str());
    let (doomed, doomed_envs) = furnished(app, &alice, "doomed", &email("dave")).await;
    let (kept, kept_envs) = furnished(app, &alice, "kept", &email("dave")).await;
    let full = json!({
        "projects": 1, "project_members": 2, "invites": 2, "environments": 2,
        "resources": 8, "resource_connections": 2, "credential_connections": 2,
    });
    assert_eq!(rows_of(app, &doomed, &doomed_envs).await, full);
    assert_eq!(rows_of(app, &kept, &kept_envs).await, full);
    let dave_invites = app
        .client
        .get("/api/v1/me/invites", Some(&dave))
        .await
        .json();
    assert_eq!(dave_invites.as_array().unwrap().len(), 2);

    let res = app
        .client
        .delete(&format!("/api/v1/projects/{doomed}"), t)
        .await;
    assert_eq!(res.status, 204, "{}", res.text());

    // Through the API: nothing of it answers any more.
    for path in [
        format!("/api/v1/projects/{doomed}"),
        format!("/api/v1/projects/{doomed}/members"),
        format!("/api/v1/projects/{doomed}/invites"),
        format!("/api/v1/projects/{doomed}/environments"),
        format!("/api/v1/projects/{doomed}/environments/{}", doomed_envs[0]),
        "/api/doomed/production/resources".to_owned(),
        "/api/doomed/staging/resource-connections".to_owned(),
        "/api/doomed/staging/connections".to_owned(),
        "/api/doomed/production/graph".to_owned(),
    ] {
        app.client
            .get(&path, t)
            .await
            .assert_error(404, "Not Found", "Project not found");
    }
    let projects = app.client.get("/api/v1/projects", t).await.json();
    assert_eq!(projects.as_array().unwrap().len(), 1);
    assert_eq!(projects[0]["name"], "kept");
    let dave_invites = app
        .client
        .get("/api/v1/me/invites", Some(&dave))
        .await
        .json();
    assert_eq!(dave_invites.as_array().unwrap().len(), 1);
    assert_eq!(dave_invites[0]["project"]["name"], "kept");

    // In the database: no row of it is left, every row of the other stays.
    let none = json!({
        "projects": 0, "project_members": 0, "invites": 0, "environments": 0,
        "resources": 0, "resource_connections": 0, "credential_connections": 0,
    });
    assert_eq!(rows_of(app, &doomed, &doomed_envs).await, none);
    assert_eq!(rows_of(app, &kept, &kept_envs).await, full);
    // The name is free again, and the new project starts empty.
    create_project(app, &alice, "doomed").await;
    let list = app
        .client
        .get("/api/doomed/production/resources", t)
        .await
        .json();
    assert_eq!(list["total"], 0);
}

async fn forced_environment_delete_removes_its_content_only(app: &TestApp) {
    let (_, alice) = register(app, &email("alice")).await;
    let t = Some(alice.as_str());
    let (pid, envs) = furnished(app, &alice, "envs", &email("dave")).await;
    let staging = app
        .client
        .get(&format!("/api/v1/projects/{pid}/environments"), t)
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "staging")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let production: Vec<String> = envs.iter().filter(|e| **e != staging).cloned().collect();
    let in_env = |e: &str| format!("environment_id = '{e}'");
    let res = app
        .client
        .delete(
            &format!("/api/v1/projects/{pid}/environments/{staging}?force=true"),
            t,
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.client
        .get("/api/envs/staging/resources", t)
        .await
        .assert_error(404, "Not Found", "Environment not found");
    for table in [
        "resources",
        "resource_connections",
        "credential_connections",
    ] {
        assert_eq!(app.count_rows(table, &in_env(&staging)).await, 0, "{table}");
    }
    assert_eq!(
        app.count_rows("environments", &format!("id = '{staging}'"))
            .await,
        0
    );
    // Production, the project and its people are untouched.
    assert_eq!(
        app.count_rows("resources", &in_env(&production[0])).await,
        4
    );
    assert_eq!(
        app.count_rows("resource_connections", &in_env(&production[0]))
            .await,
        1
    );
    assert_eq!(
        app.count_rows("credential_connections", &in_env(&production[0]))
            .await,
        1
    );
    assert_eq!(
        app.count_rows("project_members", &format!("project_id = '{pid}'"))
            .await,
        2
    );
    assert_eq!(
        app.count_rows("invites", &format!("project_id = '{pid}'"))
            .await,
        2
    );
    let list = app
        .client
        .get("/api/envs/production/resources", t)
        .await
        .json();
    assert_eq!(list["total"], 3, "three live resources (one is deleted)");
}

on_both_backends!(
    project_delete_removes_everything_in_it,
    forced_environment_delete_removes_its_content_only,
);
