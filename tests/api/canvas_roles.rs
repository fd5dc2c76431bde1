//! Roles on the canvas and on credential connections, table-driven like
//! `authz.rs`: every write × viewer, member, admin, owner, and every read ×
//! the same four. The roles allowed are written out here from SPEC §3
//! ("member: + create/update/delete resources, resource connections,
//! credential connections; run connection tests"), independently of the
//! domain crate's matrix, so a change to the matrix shows up here.

use awc::http::Method;
use patchbay_tests::{TestApp, on_both_backends};
use serde_json::{Value, json};

use crate::support::{add_member, connection_id, create_project, email, register, resource};

const MEMBER_AND_UP: &[&str] = &["member", "admin", "owner"];

/// What a refused write says, by family (the words of SPEC §3's matrix).
const RESOURCES: &str = "create, change or delete resources";
const CONNECTIONS: &str = "create, change or delete resource connections";
const CREDENTIALS: &str = "create, change or delete credential connections";
const TESTS: &str = "test credential connections";

/// The objects one role's run works on; each write gets its own.
struct Canvas {
    base: String,
    update: i64,
    delete: i64,
    gone: i64,
    subdomain: i64,
    server: i64,
    spare_app: i64,
    update_connection: i64,
    delete_connection: i64,
    closed_port: u16,
}

async fn canvas(app: &TestApp, owner: &str, project: &str) -> (String, Canvas) {
    let p = create_project(app, owner, project).await;
    let base = format!("/api/{project}/production");
    let t = Some(owner);
    let update = resource(app, owner, &base, "instance", "to-update").await;
    let delete = resource(app, owner, &base, "instance", "to-delete").await;
    let gone = resource(app, owner, &base, "instance", "to-restore").await;
    app.client
        .delete(&format!("{base}/resources/{gone}"), t)
        .await
        .assert_success();
    let subdomain = app
        .client
        .post(&format!("{base}/subdomains"), t, &json!({"name": "www"}))
        .await;
    assert_eq!(subdomain.status, 201, "{}", subdomain.text());
    let server = resource(app, owner, &base, "instance", "server").await;
    let apps: Vec<i64> = {
        let mut v = Vec::new();
        for name in ["a1", "a2", "a3"] {
            v.push(resource(app, owner, &base, "application", name).await);
        }
        v
    };
    let update_connection = connection_id(
        app,
        owner,
        &base,
        ("application", apps[0]),
        ("instance", server),
    )
    .await;
    let delete_connection = connection_id(
        app,
        owner,
        &base,
        ("application", apps[1]),
        ("instance", server),
    )
    .await;
    // A loopback port nobody listens on: a connectivity test is refused at once.
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for conn_id in ["to-replace", "to-delete", "to-test"] {
        let res = app
            .client
            .post(
                &format!("{base}/connections"),
                t,
                &json!({"conn_id": conn_id, "type": "generic", "host": "127.0.0.1", "port": closed_port}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    (
        p["id"].as_str().unwrap().to_owned(),
        Canvas {
            base,
            update,
            delete,
            gone,
            subdomain: subdomain.json()["data"]["id"].as_i64().unwrap(),
            server,
            spare_app: apps[2],
            update_connection,
            delete_connection,
            closed_port,
        },
    )
}

/// (what, method, path under the base, body, roles allowed, refusal words)
type Write = (
    &'static str,
    Method,
    String,
    Option<Value>,
    &'static [&'static str],
    &'static str,
);

fn writes(c: &Canvas) -> Vec<Write> {
    let generic = json!({"conn_id": "made-here", "type": "generic", "host": "127.0.0.1", "port": c.closed_port});
    vec![
        (
            "create resource",
            Method::POST,
            "/resources".into(),
            Some(json!({"type": "database", "name": "made"})),
            MEMBER_AND_UP,
            RESOURCES,
        ),
        (
            "update resource",
            Method::PATCH,
            format!("/resources/{}", c.update),
            Some(json!({"name": "updated"})),
            MEMBER_AND_UP,
            RESOURCES,
        ),
        (
            "delete resource",
            Method::DELETE,
            format!("/resources/{}", c.delete),
            None,
            MEMBER_AND_UP,
            RESOURCES,
        ),
        (
            "restore resource",
            Method::POST,
            format!("/resources/{}/restore", c.gone),
            Some(json!({})),
            MEMBER_AND_UP,
            RESOURCES,
        ),
        (
            "create subdomain",
            Method::POST,
            "/subdomains".into(),
            Some(json!({"name": "made"})),
            MEMBER_AND_UP,
            RESOURCES,
        ),
        (
            "update subdomain",
            Method::PATCH,
            format!("/subdomains/{}", c.subdomain),
            Some(json!({"positionX": 42})),
            MEMBER_AND_UP,
            RESOURCES,
        ),
        (
            "create resource connection",
            Method::POST,
            "/resource-connections".into(),
            Some(
                json!({"sourceResourceType": "application", "sourceResourceId": c.spare_app,
                        "targetResourceType": "instance", "targetResourceId": c.server}),
            ),
            MEMBER_AND_UP,
            CONNECTIONS,
        ),
        (
            "update resource connection",
            Method::PATCH,
            format!("/resource-connections/{}", c.update_connection),
            Some(json!({"status": "connected"})),
            MEMBER_AND_UP,
            CONNECTIONS,
        ),
        (
            "delete resource connection",
            Method::DELETE,
            format!("/resource-connections/{}", c.delete_connection),
            None,
            MEMBER_AND_UP,
            CONNECTIONS,
        ),
        (
            "create credential connection",
            Method::POST,
            "/connections".into(),
            Some(generic.clone()),
            MEMBER_AND_UP,
            CREDENTIALS,
        ),
        (
            "replace credential connection",
            Method::PUT,
            "/connections/to-replace".into(),
            Some(
                json!({"type": "generic", "host": "127.0.0.1", "port": c.closed_port, "description": "replaced"}),
            ),
            MEMBER_AND_UP,
            CREDENTIALS,
        ),
        (
            "delete credential connection",
            Method::DELETE,
            "/connections/to-delete".into(),
            None,
            MEMBER_AND_UP,
            CREDENTIALS,
        ),
        (
            "test a saved credential connection",
            Method::POST,
            "/connections/to-test/test".into(),
            Some(json!({})),
            MEMBER_AND_UP,
            TESTS,
        ),
        (
            "test before saving",
            Method::POST,
            "/connections/test".into(),
            Some(generic),
            MEMBER_AND_UP,
            TESTS,
        ),
    ]
}

fn reads(c: &Canvas) -> Vec<(&'static str, String)> {
    vec![
        ("list resources", "/resources".into()),
        ("get resource", format!("/resources/{}", c.update)),
        (
            "resource connections of a resource",
            format!("/resources/instance/{}/connections", c.server),
        ),
        ("graph", "/graph".into()),
        ("list subdomains", "/subdomains".into()),
        ("get subdomain", format!("/subdomains/{}", c.subdomain)),
        ("list resource connections", "/resource-connections".into()),
        (
            "get resource connection",
            format!("/resource-connections/{}", c.update_connection),
        ),
        ("list credential connections", "/connections".into()),
        ("get credential connection", "/connections/to-test".into()),
        ("credential used by", "/connections/to-test/used-by".into()),
    ]
}

/// The readable state of a canvas (to show a refused write changed nothing).
async fn state(app: &TestApp, owner: &str, c: &Canvas) -> Value {
    let mut all = json!({});
    for (what, path) in reads(c) {
        all[what] = app
            .client
            .get(&format!("{}{path}", c.base), Some(owner))
            .await
            .json();
    }
    all
}

async fn every_role_against_every_canvas_action(app: &TestApp) {
    let (_, owner) = register(app, &email("boss")).await;
    for role in ["viewer", "member", "admin", "owner"] {
        let (pid, c) = canvas(app, &owner, &format!("roles-{role}")).await;
        let actor = if role == "owner" {
            owner.clone()
        } else {
            let (user, token) = register(app, &email(&format!("actor-{role}"))).await;
            add_member(app, &owner, &pid, user["id"].as_str().unwrap(), role).await;
            token
        };
        for (what, path) in reads(&c) {
            let res = app
                .client
                .get(&format!("{}{path}", c.base), Some(&actor))
                .await;
            // Viewers (and everyone above) read everything.
            assert_eq!(res.status, 200, "{role} reads {what}: {}", res.text());
        }
        for (what, method, path, body, allowed, words) in writes(&c) {
            let before = state(app, &owner, &c).await;
            let res = app
                .client
                .request(
                    method.clone(),
                    &format!("{}{path}", c.base),
                    Some(&actor),
                    body.as_ref(),
                )
                .await;
            if allowed.contains(&role) {
                assert!(
                    (200..300).contains(&res.status),
                    "{role} should be allowed to {what}: {} {}",
                    res.status,
                    res.text()
                );
            } else {
                res.assert_error(
                    403,
                    "Forbidden",
                    &format!(
                        "Your role ({role}) is not allowed to {words}; it requires the member role or higher"
                    ),
                );
                assert_eq!(
                    state(app, &owner, &c).await,
                    before,
                    "a refused {what} changed the canvas"
                );
            }
        }
    }
}

on_both_backends!(every_role_against_every_canvas_action);
