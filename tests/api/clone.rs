//! Environment clone remaps every id exactly: each live resource gets a new
//! id in the copy (same type, name, position, config, parent domain,
//! credential reference), and each live resource connection among them is
//! copied onto the images of its own two ends — a swapped, collapsed or
//! dropped edge fails. Deleted resources and deleted connections stay
//! behind; the source is untouched.

use std::collections::{BTreeMap, BTreeSet};

use patchbay_tests::{TestApp, on_both_backends};
use serde_json::{Value, json};

use crate::support::{connection_id, create_project, email, register};

/// (type, name) → the resource object, for an environment's live resources.
async fn resources_by_name(
    app: &TestApp,
    t: &str,
    base: &str,
) -> BTreeMap<(String, String), Value> {
    let list = app
        .client
        .get(&format!("{base}/resources?per_page=100"), Some(t))
        .await
        .json();
    let mut out = BTreeMap::new();
    for r in list["data"].as_array().unwrap() {
        let key = (
            r["type"].as_str().unwrap().to_owned(),
            r["name"].as_str().unwrap().to_owned(),
        );
        assert!(out.insert(key, r.clone()).is_none(), "duplicate {r}");
    }
    assert_eq!(out.len() as i64, list["total"].as_i64().unwrap());
    out
}

/// The live connections of an environment as (source, target, details).
async fn edges(app: &TestApp, t: &str, base: &str) -> BTreeSet<(i64, i64, String, String)> {
    let list = app
        .client
        .get(
            &format!("{base}/resource-connections?per_page=100"),
            Some(t),
        )
        .await
        .json();
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["sourceResourceId"].as_i64().unwrap(),
                c["targetResourceId"].as_i64().unwrap(),
                c["status"].as_str().unwrap().to_owned(),
                c["connectionDetails"].to_string(),
            )
        })
        .collect()
}

async fn clone_remaps_every_resource_and_connection_exactly(app: &TestApp) {
    let (_, token) = register(app, &email("owner")).await;
    let t = Some(token.as_str());
    let p = create_project(app, &token, "cloning").await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let base = "/api/cloning/production";
    app.client
        .post(
            &format!("{base}/connections"),
            t,
            &json!({"conn_id": "main-db", "type": "generic", "host": "127.0.0.1", "port": 9}),
        )
        .await
        .assert_success();
    // Resources of several types; config and positions differ per resource.
    let mut ids: BTreeMap<&str, i64> = BTreeMap::new();
    for (i, (kind, name)) in [
        ("instance", "server-1"),
        ("instance", "server-2"),
        ("application", "app-1"),
        ("application", "app-2"),
        ("terminal", "tty"),
        ("database", "db"),
        ("firewall", "fw"),
        ("storage_bucket", "bucket"),
        ("bucket_explorer", "explorer"),
        ("static_website", "site"),
        ("firewall", "doomed-fw"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = json!({"type": kind, "name": name, "config": {"n": i},
                              "positionX": i * 10, "positionY": 100 - i});
        if name == "server-1" {
            body["credentialConnId"] = json!("main-db");
        }
        let res = app
            .client
            .post(&format!("{base}/resources"), t, &body)
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        ids.insert(name, res.json()["data"]["id"].as_i64().unwrap());
    }
    let res = app
        .client
        .post(
            &format!("{base}/subdomains"),
            t,
            &json!({"name": "www", "parentDomain": "example.com", "positionX": 7}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    ids.insert("www", res.json()["data"]["id"].as_i64().unwrap());

    let kinds: BTreeMap<&str, &str> = [
        ("server-1", "instance"),
        ("server-2", "instance"),
        ("app-1", "application"),
        ("app-2", "application"),
        ("tty", "terminal"),
        ("db", "database"),
        ("fw", "firewall"),
        ("bucket", "storage_bucket"),
        ("explorer", "bucket_explorer"),
        ("site", "static_website"),
        ("doomed-fw", "firewall"),
        ("www", "subdomain"),
    ]
    .into_iter()
    .collect();
    // Edges that share ends in both roles, so a remap that swaps or
    // collapses ends cannot pass.
    let mut made = Vec::new();
    for (s, tg) in [
        ("app-1", "server-1"),
        ("app-2", "server-1"),
        ("app-1", "server-2"),
        ("tty", "server-2"),
        ("server-1", "db"),
        ("server-2", "db"),
        ("server-1", "fw"),
        ("explorer", "bucket"),
        ("explorer", "site"),
        ("www", "site"),
        ("server-2", "doomed-fw"),
        ("tty", "server-1"),
    ] {
        let id = connection_id(app, &token, base, (kinds[s], ids[s]), (kinds[tg], ids[tg])).await;
        made.push(((s, tg), id));
    }
    // Details and a non-pending status, to see what the copy keeps.
    let first = made[0].1;
    app.client
        .patch(
            &format!("{base}/resource-connections/{first}"),
            t,
            &json!({"status": "connected", "connectionDetails": {"port": 8080}}),
        )
        .await
        .assert_success();
    // Left behind: a deleted resource (with its connection) and a deleted
    // connection between live resources.
    app.client
        .delete(&format!("{base}/resources/{}", ids["doomed-fw"]), t)
        .await
        .assert_success();
    let tty_server_1 = made.last().unwrap().1;
    app.client
        .delete(&format!("{base}/resource-connections/{tty_server_1}"), t)
        .await
        .assert_success();

    let source_before = resources_by_name(app, &token, base).await;
    let source_edges = edges(app, &token, base).await;
    assert_eq!(source_before.len(), 11);
    assert_eq!(source_edges.len(), 10);

    let envs = app
        .client
        .get(&format!("/api/v1/projects/{pid}/environments"), t)
        .await
        .json();
    let prod = envs[0]["id"].as_str().unwrap();
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/environments/{prod}/clone"),
            t,
            &json!({"name": "copy"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(
        res.json()["copied"],
        json!({"resources": 11, "resource_connections": 10, "credential_connections": 1})
    );

    let copy = "/api/cloning/copy";
    let copied = resources_by_name(app, &token, copy).await;
    // The same resources by (type, name), each with a new id and the rest kept.
    assert_eq!(
        copied.keys().collect::<Vec<_>>(),
        source_before.keys().collect::<Vec<_>>()
    );
    let mut old_to_new: BTreeMap<i64, i64> = BTreeMap::new();
    let old_ids: BTreeSet<i64> = source_before
        .values()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    for (key, old) in &source_before {
        let new = &copied[key];
        let (o, n) = (old["id"].as_i64().unwrap(), new["id"].as_i64().unwrap());
        assert!(
            !old_ids.contains(&n),
            "{key:?}: the copy reuses a source id"
        );
        for field in [
            "type",
            "name",
            "status",
            "position",
            "config",
            "parentDomain",
            "credentialConnId",
        ] {
            assert_eq!(new[field], old[field], "{key:?}: {field}");
        }
        assert!(old_to_new.insert(o, n).is_none());
    }
    let new_ids: BTreeSet<i64> = old_to_new.values().copied().collect();
    assert_eq!(
        new_ids.len(),
        old_to_new.len(),
        "two resources share a new id"
    );

    // Exactly the source's live edges, each on the images of its own ends,
    // all pending again, details kept.
    let expected: BTreeSet<(i64, i64, String, String)> = source_edges
        .iter()
        .map(|(s, tg, _, details)| {
            (
                old_to_new[s],
                old_to_new[tg],
                "pending".to_owned(),
                details.clone(),
            )
        })
        .collect();
    assert_eq!(edges(app, &token, copy).await, expected);
    // The per-resource view agrees, for every copied resource.
    for (key, new) in &copied {
        let n = new["id"].as_i64().unwrap();
        let res = app
            .client
            .get(&format!("{copy}/resources/{}/{n}/connections", key.0), t)
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        let got: BTreeSet<(i64, i64)> = res.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["sourceResourceId"].as_i64().unwrap(),
                    c["targetResourceId"].as_i64().unwrap(),
                )
            })
            .collect();
        let want: BTreeSet<(i64, i64)> = expected
            .iter()
            .filter(|(s, tg, _, _)| *s == n || *tg == n)
            .map(|(s, tg, _, _)| (*s, *tg))
            .collect();
        assert_eq!(got, want, "{key:?}");
    }
    // The credential the copied server refers to exists in the copy.
    let cred = app
        .client
        .get(&format!("{copy}/connections/main-db"), t)
        .await;
    assert_eq!(cred.status, 200, "{}", cred.text());

    // The source is untouched.
    assert_eq!(resources_by_name(app, &token, base).await, source_before);
    assert_eq!(edges(app, &token, base).await, source_edges);
}

on_both_backends!(clone_remaps_every_resource_and_connection_exactly);
