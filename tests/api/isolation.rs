//! Isolation by id: a member of project B who puts project A's object ids
//! into B's own paths (or bodies) finds nothing — 404, the same answer as
//! for an id that never existed — and A's objects are unchanged. (Non-members
//! are refused before any lookup: see `authz.rs`.)
//!
//! The routes come from the route table itself, `/openapi.json`: every
//! documented operation whose path names an object (a member, an invite, an
//! environment, a resource, a subdomain, a resource connection, a credential
//! connection) is sent with B's scope and A's object. A new route with an id
//! parameter this file does not know fails the test until it is taught here.
//! The canvas routes are also sent with A's own other environment in the
//! path: environments of one project are isolated from each other as well.

use awc::http::Method;
use patchbay_tests::{TestApp, on_both_backends};
use serde_json::{Value, json};

use crate::support::{add_member, connection_id, create_project, email, register, resource};

/// Project A's objects, as alice (A's owner) made them.
struct ObjectsOfA {
    project_id: String,
    member_id: String,
    /// A user who is a member of A only.
    member_user_id: String,
    invite_id: String,
    environment_id: String,
    resource_id: i64,
    deleted_resource_id: i64,
    subdomain_id: i64,
    connection_id: i64,
    credential: String,
}

async fn objects_of_a(app: &TestApp, alice: &str) -> ObjectsOfA {
    let a = Some(alice);
    let project = create_project(app, alice, "alpha").await;
    let project_id = project["id"].as_str().unwrap().to_owned();
    let (carol, _) = register(app, &email("carol")).await;
    let member_user_id = carol["id"].as_str().unwrap().to_owned();
    let member = add_member(app, alice, &project_id, &member_user_id, "member").await;
    let invite = app
        .client
        .post(
            &format!("/api/v1/projects/{project_id}/invites"),
            a,
            &json!({"email": email("dave"), "role": "viewer"}),
        )
        .await;
    assert_eq!(invite.status, 201, "{}", invite.text());
    let staging = app
        .client
        .post(
            &format!("/api/v1/projects/{project_id}/environments"),
            a,
            &json!({"name": "staging"}),
        )
        .await;
    assert_eq!(staging.status, 201, "{}", staging.text());
    let base = "/api/alpha/production";
    let credential = app
        .client
        .post(
            &format!("{base}/connections"),
            a,
            &json!({"conn_id": "alpha-only", "type": "generic", "host": "127.0.0.1", "port": 9}),
        )
        .await;
    assert_eq!(credential.status, 201, "{}", credential.text());
    let server = resource(app, alice, base, "instance", "server").await;
    let api = resource(app, alice, base, "application", "api").await;
    let connection =
        connection_id(app, alice, base, ("application", api), ("instance", server)).await;
    let gone = resource(app, alice, base, "firewall", "gone").await;
    app.client
        .delete(&format!("{base}/resources/{gone}"), a)
        .await
        .assert_success();
    let subdomain = app
        .client
        .post(&format!("{base}/subdomains"), a, &json!({"name": "www"}))
        .await;
    assert_eq!(subdomain.status, 201, "{}", subdomain.text());
    ObjectsOfA {
        project_id,
        member_id: member["id"].as_str().unwrap().to_owned(),
        member_user_id,
        invite_id: invite.json()["id"].as_str().unwrap().to_owned(),
        environment_id: staging.json()["id"].as_str().unwrap().to_owned(),
        resource_id: server,
        deleted_resource_id: gone,
        subdomain_id: subdomain.json()["data"]["id"].as_i64().unwrap(),
        connection_id: connection,
        credential: "alpha-only".to_owned(),
    }
}

/// Everything alice can read of A, in one value, to compare before/after.
async fn snapshot(app: &TestApp, alice: &str, a: &ObjectsOfA) -> Value {
    let t = Some(alice);
    let pid = &a.project_id;
    let mut state = json!({});
    for path in [
        format!("/api/v1/projects/{pid}"),
        format!("/api/v1/projects/{pid}/members"),
        format!("/api/v1/projects/{pid}/invites"),
        format!("/api/v1/projects/{pid}/environments"),
    ] {
        let res = app.client.get(&path, t).await;
        assert_eq!(res.status, 200, "{path}: {}", res.text());
        state[path] = res.json();
    }
    for env in ["production", "staging"] {
        for list in [
            "resources",
            "subdomains",
            "resource-connections",
            "connections",
        ] {
            let path = format!("/api/alpha/{env}/{list}?per_page=100");
            let res = app.client.get(&path, t).await;
            assert_eq!(res.status, 200, "{path}: {}", res.text());
            state[path] = res.json();
        }
    }
    let path = format!("/api/alpha/production/connections/{}", a.credential);
    state[&path] = app.client.get(&path, t).await.json();
    state
}

/// The expected 404 message for an object parameter of a path.
fn missing_message(param: &str, path: &str, a: &ObjectsOfA) -> String {
    match param {
        "memberId" => "Member not found".into(),
        "inviteId" => "Invite not found".into(),
        "envId" => "Environment not found".into(),
        "connectionId" => "Resource connection not found".into(),
        "conn_id" => format!(
            "Credential connection '{}' not found in this environment",
            a.credential
        ),
        "id" if path.contains("/subdomains/") => "Subdomain not found".into(),
        "id" | "resourceId" => "Resource not found".into(),
        other => panic!("{path}: no expected answer for the parameter {{{other}}}"),
    }
}

/// A body the route accepts, so the answer comes from the id lookup and not
/// from validation.
fn body_for(method: &Method, path: &str) -> Option<Value> {
    let body = match (method.as_str(), path.rsplit('/').next().unwrap_or("")) {
        ("GET" | "DELETE", _) => return None,
        ("PUT", "{memberId}") => json!({"role": "viewer"}),
        ("PUT", "{envId}") => json!({"description": "taken over"}),
        ("POST", "clone") => json!({"name": "stolen"}),
        ("PATCH", "{id}") if path.contains("/subdomains/") => json!({"positionX": 5}),
        ("PATCH", "{id}") => json!({"name": "renamed"}),
        ("PATCH", "{connectionId}") => json!({"status": "connected"}),
        ("PUT", "{conn_id}") => json!({"type": "generic", "host": "127.0.0.1", "port": 10}),
        _ => json!({}),
    };
    Some(body)
}

/// The documented path filled with a scope and A's objects; `None` when the
/// path names no object (lists, creates) or is global (tokens, rules,
/// uploads, the project itself: see `authz.rs`).
fn fill(path: &str, scope: &Scope, a: &ObjectsOfA) -> Option<(String, String)> {
    let canvas = path.starts_with("/api/{projectSlug}/{environmentSlug}");
    let project = path.starts_with("/api/v1/projects/{");
    if !canvas && !project {
        return None;
    }
    let mut out = String::new();
    let mut rest = path;
    let mut object_param = None;
    let mut first = true;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = rest[i..].find('}').unwrap() + i;
        let param = &rest[i + 1..j];
        let value = match param {
            "projectSlug" => scope.slug.clone(),
            "environmentSlug" => scope.environment.clone(),
            "id" | "projectId" if project && first => scope.project_id.clone(),
            "resourceType" => "instance".into(),
            other => {
                object_param = Some(other.to_owned());
                match other {
                    "memberId" => a.member_id.clone(),
                    "inviteId" => a.invite_id.clone(),
                    "envId" => a.environment_id.clone(),
                    "connectionId" => a.connection_id.to_string(),
                    "conn_id" => a.credential.clone(),
                    "id" if path.contains("/subdomains/") => a.subdomain_id.to_string(),
                    "id" if path.ends_with("/restore") => a.deleted_resource_id.to_string(),
                    "id" | "resourceId" => a.resource_id.to_string(),
                    unknown => panic!(
                        "{path}: the id parameter {{{unknown}}} is new; teach isolation.rs \
                         which object of project A to send in it"
                    ),
                }
            }
        };
        first = false;
        out.push_str(&value);
        rest = &rest[j + 1..];
    }
    out.push_str(rest);
    object_param.map(|p| (out, p))
}

/// Whose paths the requests use.
struct Scope {
    project_id: String,
    slug: String,
    environment: String,
    /// Whether the `/api/v1/projects/{id}` routes are sent too (not for
    /// A's own other environment: those routes have no environment scope).
    project_routes: bool,
}

async fn every_id_route_finds_nothing_of_another_project(app: &TestApp) {
    let (_, alice) = register(app, &email("alice")).await;
    let (_, bob) = register(app, &email("bob")).await;
    let a = objects_of_a(app, &alice).await;
    let b_project = create_project(app, &bob, "bravo").await;
    let before = snapshot(app, &alice, &a).await;

    let doc = app.client.get("/openapi.json", None).await.json();
    let scopes = [
        (
            &bob,
            Scope {
                project_id: b_project["id"].as_str().unwrap().to_owned(),
                slug: "bravo".into(),
                environment: "production".into(),
                project_routes: true,
            },
        ),
        (
            &alice,
            Scope {
                project_id: a.project_id.clone(),
                slug: "alpha".into(),
                environment: "staging".into(),
                project_routes: false,
            },
        ),
    ];
    let mut sent = Vec::new();
    for (token, scope) in &scopes {
        for (path, ops) in doc["paths"].as_object().unwrap() {
            if path.starts_with("/api/v1/projects/") && !scope.project_routes {
                continue;
            }
            let Some((concrete, param)) = fill(path, scope, &a) else {
                continue;
            };
            for method in ops.as_object().unwrap().keys() {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let body = body_for(&method, path);
                let res = app
                    .client
                    .request(method.clone(), &concrete, Some(token), body.as_ref())
                    .await;
                res.assert_error(404, "Not Found", &missing_message(&param, path, &a));
                sent.push(format!("{method} {path}"));
            }
        }
    }
    // Every family with ids was reached, both ways.
    for family in [
        "/members/{memberId}",
        "/invites/{inviteId}",
        "/environments/{envId}",
        "/environments/{envId}/clone",
        "/environments/{envId}/set-default",
        "/resources/{id}",
        "/resources/{id}/restore",
        "/resources/{resourceType}/{resourceId}/connections",
        "/subdomains/{id}",
        "/resource-connections/{connectionId}",
        "/connections/{conn_id}",
        "/connections/{conn_id}/test",
        "/connections/{conn_id}/used-by",
    ] {
        assert!(
            sent.iter().any(|s| s.ends_with(family)),
            "no route ending in {family} was sent: {sent:#?}"
        );
    }
    assert!(sent.len() >= 30, "{} requests: {sent:#?}", sent.len());

    // Ids in bodies: B's creates referencing A's objects.
    let b = Some(bob.as_str());
    let bravo = "/api/bravo/production";
    let res = app
        .client
        .post(
            &format!("{bravo}/resource-connections"),
            b,
            &json!({"sourceResourceType": "instance", "sourceResourceId": a.resource_id,
                    "targetResourceType": "firewall", "targetResourceId": a.deleted_resource_id}),
        )
        .await;
    res.assert_error(
        404,
        "Not Found",
        &format!(
            "Source resource not found: no live instance with id {} in this environment",
            a.resource_id
        ),
    );
    let res = app
        .client
        .post(
            &format!("{bravo}/resources"),
            b,
            &json!({"type": "instance", "name": "x", "credentialConnId": a.credential}),
        )
        .await;
    res.assert_error(
        404,
        "Not Found",
        "credentialConnId: no credential connection with this conn_id in this environment",
    );
    let own = resource(app, &bob, bravo, "instance", "own").await;
    let res = app
        .client
        .patch(
            &format!("{bravo}/resources/{own}"),
            b,
            &json!({"credentialConnId": a.credential}),
        )
        .await;
    res.assert_error(
        404,
        "Not Found",
        "credentialConnId: no credential connection with this conn_id in this environment",
    );
    // Members are addressed by membership id or user id: A's member's user
    // id is no member of B either.
    let b_members = format!(
        "/api/v1/projects/{}/members",
        b_project["id"].as_str().unwrap()
    );
    app.client
        .put(
            &format!("{b_members}/{}", a.member_user_id),
            b,
            &json!({"role": "viewer"}),
        )
        .await
        .assert_error(404, "Not Found", "Member not found");
    app.client
        .delete(&format!("{b_members}/{}", a.member_user_id), b)
        .await
        .assert_error(404, "Not Found", "Member not found");
    let res = app
        .client
        .post(
            &format!(
                "/api/v1/projects/{}/transfer",
                b_project["id"].as_str().unwrap()
            ),
            b,
            &json!({"new_owner_id": a.member_user_id}),
        )
        .await;
    res.assert_error(
        400,
        "Bad Request",
        "The new owner must be a member of the project",
    );

    // A is exactly as it was.
    let after = snapshot(app, &alice, &a).await;
    assert_eq!(after, before, "project A changed");
}

on_both_backends!(every_id_route_finds_nothing_of_another_project);
