//! Authorisation through the HTTP layer: every role against every project
//! action (the SPEC §3 matrix, written out here independently of the domain
//! crate), and tenant isolation (a user of project A gets 403 on every route
//! of project B, and 404 on a project that does not exist).

use awc::http::Method;
use patchbay_tests::{TestApp, on_both_backends};
use serde_json::{Value, json};

use crate::support::{PNG_1X1, add_member, create_project, email, multipart, register};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Min {
    Viewer,
    Admin,
    Owner,
}

fn rank(role: &str) -> Min {
    match role {
        "owner" => Min::Owner,
        "admin" => Min::Admin,
        _ => Min::Viewer,
    }
}

fn allowed(role: &str, min: Min) -> bool {
    match role {
        "member" => min == Min::Viewer,
        other => rank(other) >= min,
    }
}

/// (what, method, path, body, minimum role). `{p}` is the project id, `{e}`
/// an extra environment, `{u}` a fresh user id, `{i}` an invite id.
fn project_actions() -> Vec<(&'static str, Method, &'static str, Option<Value>, Min)> {
    vec![
        (
            "get project",
            Method::GET,
            "/api/v1/projects/{p}",
            None,
            Min::Viewer,
        ),
        (
            "update project",
            Method::PUT,
            "/api/v1/projects/{p}",
            Some(json!({"description": "d"})),
            Min::Admin,
        ),
        (
            "list members",
            Method::GET,
            "/api/v1/projects/{p}/members",
            None,
            Min::Viewer,
        ),
        (
            "add member",
            Method::POST,
            "/api/v1/projects/{p}/members",
            Some(json!({"user_id": "{u}", "role": "viewer"})),
            Min::Admin,
        ),
        (
            "update member",
            Method::PUT,
            "/api/v1/projects/{p}/members/{u}",
            Some(json!({"role": "viewer"})),
            Min::Admin,
        ),
        (
            "list invites",
            Method::GET,
            "/api/v1/projects/{p}/invites",
            None,
            Min::Viewer,
        ),
        (
            "create invite",
            Method::POST,
            "/api/v1/projects/{p}/invites",
            Some(json!({"email": "{mail}", "role": "viewer"})),
            Min::Admin,
        ),
        (
            "cancel invite",
            Method::DELETE,
            "/api/v1/projects/{p}/invites/{i}",
            None,
            Min::Admin,
        ),
        (
            "list environments",
            Method::GET,
            "/api/v1/projects/{p}/environments",
            None,
            Min::Viewer,
        ),
        (
            "get environment",
            Method::GET,
            "/api/v1/projects/{p}/environments/{e}",
            None,
            Min::Viewer,
        ),
        (
            "create environment",
            Method::POST,
            "/api/v1/projects/{p}/environments",
            Some(json!({"name": "made"})),
            Min::Admin,
        ),
        (
            "update environment",
            Method::PUT,
            "/api/v1/projects/{p}/environments/{e}",
            Some(json!({"description": "d"})),
            Min::Admin,
        ),
        (
            "clone environment",
            Method::POST,
            "/api/v1/projects/{p}/environments/{e}/clone",
            Some(json!({"name": "cloned"})),
            Min::Admin,
        ),
        (
            "set default",
            Method::POST,
            "/api/v1/projects/{p}/environments/{e}/set-default",
            Some(json!({})),
            Min::Admin,
        ),
        (
            "delete icon",
            Method::DELETE,
            "/api/v1/projects/{p}/icon",
            None,
            Min::Admin,
        ),
        (
            "remove member",
            Method::DELETE,
            "/api/v1/projects/{p}/members/{u}",
            None,
            Min::Admin,
        ),
        (
            "delete environment",
            Method::DELETE,
            "/api/v1/projects/{p}/environments/{x}",
            None,
            Min::Admin,
        ),
        (
            "delete project",
            Method::DELETE,
            "/api/v1/projects/{p}",
            None,
            Min::Owner,
        ),
    ]
}

struct Fixture {
    p: String,
    e: String,
    x: String,
    u: String,
    u2: String,
    i: String,
    mail: String,
}

async fn fixture(app: &TestApp, owner_token: &str, name: &str) -> Fixture {
    let project = create_project(app, owner_token, name).await;
    let p = project["id"].as_str().unwrap().to_owned();
    let o = Some(owner_token);
    let env = |n: &str| json!({"name": n});
    let e = app
        .client
        .post(
            &format!("/api/v1/projects/{p}/environments"),
            o,
            &env("extra"),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let x = app
        .client
        .post(
            &format!("/api/v1/projects/{p}/environments"),
            o,
            &env("doomed"),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (fresh, _) = register(app, &email(&format!("fresh-{name}"))).await;
    let (target, _) = register(app, &email(&format!("target-{name}"))).await;
    let u = fresh["id"].as_str().unwrap().to_owned();
    let u2 = target["id"].as_str().unwrap().to_owned();
    add_member(app, owner_token, &p, &u2, "viewer").await;
    let inv = app
        .client
        .post(
            &format!("/api/v1/projects/{p}/invites"),
            o,
            &json!({"email": email(&format!("inv-{name}")), "role": "viewer"}),
        )
        .await;
    let i = inv.json()["id"].as_str().unwrap().to_owned();
    let (body, ct) = multipart("icon", "i.png", "image/png", PNG_1X1);
    let icon = app
        .client
        .raw(
            Method::POST,
            &format!("/api/v1/projects/{p}/icon"),
            o,
            Some((body, &ct)),
            &[],
        )
        .await;
    assert_eq!(icon.status, 200);
    Fixture {
        p,
        e,
        x,
        u,
        u2,
        i,
        mail: email(&format!("new-{name}")),
    }
}

fn fill(s: &str, f: &Fixture) -> String {
    s.replace("{p}", &f.p)
        .replace("{e}", &f.e)
        .replace("{x}", &f.x)
        .replace("{u2}", &f.u2)
        .replace("{u}", &f.u)
        .replace("{i}", &f.i)
        .replace("{mail}", &f.mail)
}

async fn every_role_against_every_action(app: &TestApp) {
    let (_, owner_token) = register(app, &email("boss")).await;
    for role in ["owner", "admin", "member", "viewer"] {
        let f = fixture(app, &owner_token, &format!("matrix-{role}")).await;
        let actor_token = if role == "owner" {
            owner_token.clone()
        } else {
            let (actor, token) = register(app, &email(&format!("actor-{role}"))).await;
            add_member(app, &owner_token, &f.p, actor["id"].as_str().unwrap(), role).await;
            token
        };
        for (what, method, path, body, min) in project_actions() {
            // Actions on the fresh user need it to be a member first (it
            // stays one from "update member" to "remove member"); roles that
            // may "add member" have already added it.
            if what == "update member" {
                let added_already = allowed(role, Min::Admin);
                let res = app
                    .client
                    .post(
                        &format!("/api/v1/projects/{}/members", f.p),
                        Some(&owner_token),
                        &json!({"user_id": f.u, "role": "viewer"}),
                    )
                    .await;
                if added_already {
                    res.assert_error(
                        409,
                        "Conflict",
                        "The user is already a member of this project",
                    );
                } else {
                    assert_eq!(res.status, 201, "{}", res.text());
                }
            }
            let body =
                body.map(|b| serde_json::from_str::<Value>(&fill(&b.to_string(), &f)).unwrap());
            let res = app
                .client
                .request(
                    method.clone(),
                    &fill(path, &f),
                    Some(&actor_token),
                    body.as_ref(),
                )
                .await;
            if allowed(role, min) {
                assert!(
                    (200..300).contains(&res.status),
                    "{role} should be allowed to {what}: {} {}",
                    res.status,
                    res.text()
                );
            } else {
                res.assert_error_starting(
                    403,
                    "Forbidden",
                    &format!("Your role ({role}) is not allowed to "),
                );
            }
        }
        // Transfer changes who the owner is, so it gets a project of its own.
        let g = fixture(app, &owner_token, &format!("transfer-{role}")).await;
        let actor_token = if role == "owner" {
            owner_token.clone()
        } else {
            let (actor, token) = register(app, &email(&format!("mover-{role}"))).await;
            add_member(app, &owner_token, &g.p, actor["id"].as_str().unwrap(), role).await;
            token
        };
        let res = app
            .client
            .post(
                &format!("/api/v1/projects/{}/transfer", g.p),
                Some(&actor_token),
                &json!({"new_owner_id": g.u2}),
            )
            .await;
        if role == "owner" {
            assert_eq!(res.status, 200, "owner transfers: {}", res.text());
        } else {
            res.assert_error_starting(
                403,
                "Forbidden",
                &format!("Your role ({role}) is not allowed to "),
            );
        }
    }
}

async fn tenants_are_isolated(app: &TestApp) {
    let (_, a_token) = register(app, &email("alice")).await;
    let (_, b_token) = register(app, &email("bob")).await;
    let f = fixture(app, &a_token, "alpha").await;
    create_project(app, &b_token, "bravo").await;
    let missing = Fixture {
        p: uuid::Uuid::now_v7().to_string(),
        e: f.e.clone(),
        x: f.x.clone(),
        u: f.u.clone(),
        u2: f.u2.clone(),
        i: f.i.clone(),
        mail: f.mail.clone(),
    };
    for (_, method, path, body, _) in project_actions() {
        let b = body.map(|b| serde_json::from_str::<Value>(&fill(&b.to_string(), &f)).unwrap());
        let res = app
            .client
            .request(method.clone(), &fill(path, &f), Some(&b_token), b.as_ref())
            .await;
        res.assert_error(403, "Forbidden", "Project access denied");
        let res = app
            .client
            .request(
                method.clone(),
                &fill(path, &missing),
                Some(&b_token),
                b.as_ref(),
            )
            .await;
        res.assert_error(404, "Not Found", "Project not found");
    }
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{}/transfer", f.p),
            Some(&b_token),
            &json!({"new_owner_id": f.u2}),
        )
        .await;
    res.assert_error(403, "Forbidden", "Project access denied");
    let (body, ct) = multipart("icon", "i.png", "image/png", PNG_1X1);
    let res = app
        .client
        .raw(
            Method::POST,
            &format!("/api/v1/projects/{}/icon", f.p),
            Some(&b_token),
            Some((body, &ct)),
            &[],
        )
        .await;
    res.assert_error(403, "Forbidden", "Project access denied");
    // Alice's project is untouched and invisible to bob.
    let list = app
        .client
        .get("/api/v1/projects", Some(&b_token))
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "bravo");
    let got = app
        .client
        .get(&format!("/api/v1/projects/{}", f.p), Some(&a_token))
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["description"], Value::Null);
}

/// The slug-addressed canvas routes of project A, as a non-member (403) and
/// for a project that does not exist (404).
async fn canvas_routes_are_isolated(app: &TestApp) {
    let (_, a_token) = register(app, &email("alice")).await;
    let (_, b_token) = register(app, &email("bob")).await;
    create_project(app, &a_token, "alpha").await;
    let base = "/api/alpha/production";
    let a = Some(a_token.as_str());
    let res = app
        .client
        .post(
            &format!("{base}/resources"),
            a,
            &json!({"type": "instance", "name": "s"}),
        )
        .await;
    let server = res.json()["data"]["id"].as_i64().unwrap();
    let res = app
        .client
        .post(
            &format!("{base}/resources"),
            a,
            &json!({"type": "application", "name": "a"}),
        )
        .await;
    let application = res.json()["data"]["id"].as_i64().unwrap();
    let res = app
        .client
        .post(
            &format!("{base}/resource-connections"),
            a,
            &json!({"sourceResourceType": "application", "sourceResourceId": application,
                    "targetResourceType": "instance", "targetResourceId": server}),
        )
        .await;
    let conn = res.json()["data"]["id"].as_i64().unwrap();
    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/resources".into(), None),
        (
            Method::POST,
            "/resources".into(),
            Some(json!({"type": "instance", "name": "x"})),
        ),
        (Method::GET, format!("/resources/{server}"), None),
        (
            Method::PATCH,
            format!("/resources/{server}"),
            Some(json!({"name": "x"})),
        ),
        (Method::DELETE, format!("/resources/{server}"), None),
        (
            Method::POST,
            format!("/resources/{server}/restore"),
            Some(json!({})),
        ),
        (
            Method::GET,
            format!("/resources/instance/{server}/connections"),
            None,
        ),
        (Method::GET, "/graph".into(), None),
        (Method::GET, "/subdomains".into(), None),
        (
            Method::POST,
            "/subdomains".into(),
            Some(json!({"name": "x"})),
        ),
        (Method::GET, format!("/subdomains/{server}"), None),
        (
            Method::PATCH,
            format!("/subdomains/{server}"),
            Some(json!({"positionX": 1})),
        ),
        (Method::GET, "/resource-connections".into(), None),
        (
            Method::POST,
            "/resource-connections".into(),
            Some(
                json!({"sourceResourceType": "application", "sourceResourceId": application,
                        "targetResourceType": "instance", "targetResourceId": server}),
            ),
        ),
        (Method::GET, format!("/resource-connections/{conn}"), None),
        (
            Method::PATCH,
            format!("/resource-connections/{conn}"),
            Some(json!({"status": "connected"})),
        ),
        (
            Method::DELETE,
            format!("/resource-connections/{conn}"),
            None,
        ),
    ];
    for (method, tail, body) in &routes {
        let res = app
            .client
            .request(
                method.clone(),
                &format!("{base}{tail}"),
                Some(&b_token),
                body.as_ref(),
            )
            .await;
        res.assert_error(403, "Forbidden", "Project access denied");
        let res = app
            .client
            .request(
                method.clone(),
                &format!("/api/nowhere/production{tail}"),
                Some(&b_token),
                body.as_ref(),
            )
            .await;
        res.assert_error(404, "Not Found", "Project not found");
    }
    // Nothing of alice's changed.
    let graph = app.client.get(&format!("{base}/graph"), a).await.json();
    assert_eq!(graph["data"]["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(graph["data"]["edges"][0]["status"], "pending");
}

on_both_backends!(
    every_role_against_every_action,
    tenants_are_isolated,
    canvas_routes_are_isolated,
);
