//! Credential connections (seed 003, SPEC §8, issue 9), black box, on both
//! backends: the seed walked top to bottom under
//! `/api/{project}/{env}/connections`, every bad input of issue 9, resources
//! referencing credentials, roles and masking, clone and environment delete,
//! isolation by id, races, and the per-user test rate limit.
//!
//! Every connectivity test here dials 127.0.0.1 only: a listener this file
//! opens (TCP, or a tiny HTTP peer that records the basic-auth header it is
//! sent), or a loopback port nothing listens on. Connections with other
//! hosts (the seed's `db.example.com`) are never tested.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use awc::http::Method;
use base64::Engine as _;
use patchbay_tests::{Backend, Options, Response, TestApp, on_both_backends, run_with};
use serde_json::{Value, json};

use crate::support::{add_member, canvas, create_project, email, register, resource};

const MASK: &str = "********";
const TEST_FAILED: &str = "connection test failed -- check server logs for details";
const UNSCOPED: &str = "Credential connections live in an environment: use /api/{projectSlug}/{environmentSlug}/connections (GET /api/connection-types lists the types)";
const VIEWER_CANNOT_WRITE: &str = "Your role (viewer) is not allowed to create, change or delete credential connections; it requires the member role or higher";
const VIEWER_CANNOT_TEST: &str = "Your role (viewer) is not allowed to test credential connections; it requires the member role or higher";
const NO_SUCH_CREDENTIAL: &str =
    "credentialConnId: no credential connection with this conn_id in this environment";

fn missing(conn_id: &str) -> String {
    format!("Credential connection '{conn_id}' not found in this environment")
}

fn duplicate(conn_id: &str) -> String {
    format!("A credential connection with conn_id '{conn_id}' already exists in this environment")
}

// ------------------------------------------------------------- helpers --

/// Seed 003's create example, verbatim.
fn seed_create() -> Value {
    json!({
        "conn_id": "prod-postgres",
        "type": "postgres",
        "host": "db.example.com",
        "port": 5432,
        "schema": "analytics",
        "login": "etl_user",
        "password": "secret123",
        "extra": "{\"sslmode\": \"require\"}"
    })
}

/// Seed 003's update example, verbatim.
fn seed_update() -> Value {
    json!({
        "type": "postgres",
        "host": "new-db.example.com",
        "port": 5432,
        "schema": "analytics",
        "login": "etl_user",
        "password": "new-secret"
    })
}

/// `fields` completed with the server-owned fields of `got` (`id`,
/// `created_at`, `updated_at`; the client checks their formats), so a whole
/// answer can be compared at once.
fn with_owned(got: &Value, mut fields: Value) -> Value {
    for key in ["id", "created_at", "updated_at"] {
        fields[key] = got[key].clone();
    }
    fields
}

/// A `last_test` as recorded, with `got`'s timestamp.
fn last_test(got: &Value, success: bool, reason: Option<&str>, driver: &str) -> Value {
    let at = &got["last_test"]["at"];
    assert!(at.is_string(), "last_test.at: {got}");
    json!({"at": at, "success": success, "reason": reason, "driver": driver})
}

fn connected(driver: &str) -> Value {
    json!({"success": true, "message": format!("Connected successfully ({driver})"), "driver": driver})
}

fn failed(reason: &str) -> Value {
    json!({"success": false, "error": TEST_FAILED, "reason": reason})
}

async fn create_conn(app: &TestApp, token: &str, base: &str, body: &Value) -> Value {
    let res = app
        .client
        .post(&format!("{base}/connections"), Some(token), body)
        .await;
    assert_eq!(res.status, 201, "{body} → {}", res.text());
    res.json()
}

async fn get_conn(app: &TestApp, token: &str, base: &str, conn_id: &str) -> Value {
    let res = app
        .client
        .get(&format!("{base}/connections/{conn_id}"), Some(token))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()
}

async fn put_conn(app: &TestApp, token: &str, base: &str, conn_id: &str, body: &Value) -> Value {
    let res = app
        .client
        .put(&format!("{base}/connections/{conn_id}"), Some(token), body)
        .await;
    assert_eq!(res.status, 200, "{body} → {}", res.text());
    res.json()
}

/// `POST …/connections/:conn_id/test` (no body).
async fn test_conn(app: &TestApp, token: &str, base: &str, conn_id: &str) -> Response {
    app.client
        .request(
            Method::POST,
            &format!("{base}/connections/{conn_id}/test"),
            Some(token),
            None,
        )
        .await
}

/// The environment's conn_ids, in list order.
async fn conn_ids(app: &TestApp, token: &str, base: &str) -> Vec<String> {
    let res = app
        .client
        .get(&format!("{base}/connections?per_page=100"), Some(token))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["conn_id"].as_str().unwrap().to_owned())
        .collect()
}

/// Creates a resource naming `conn` as its credential.
async fn resource_using(
    app: &TestApp,
    token: &str,
    base: &str,
    kind: &str,
    name: &str,
    conn: &str,
) -> Response {
    app.client
        .post(
            &format!("{base}/resources"),
            Some(token),
            &json!({"type": kind, "name": name, "credentialConnId": conn}),
        )
        .await
}

async fn used_by(app: &TestApp, token: &str, base: &str, conn_id: &str) -> Value {
    let res = app
        .client
        .get(
            &format!("{base}/connections/{conn_id}/used-by"),
            Some(token),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()
}

/// The project's id and the id of its environment `name`.
async fn environment_id(app: &TestApp, token: &str, project: &str, name: &str) -> (String, String) {
    let projects = app.client.get("/api/v1/projects", Some(token)).await.json();
    let pid = projects
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == project)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let envs = app
        .client
        .get(&format!("/api/v1/projects/{pid}/environments"), Some(token))
        .await
        .json();
    let eid = envs
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (pid, eid)
}

async fn create_environment(app: &TestApp, token: &str, pid: &str, name: &str) -> String {
    let res = app
        .client
        .post(
            &format!("/api/v1/projects/{pid}/environments"),
            Some(token),
            &json!({"name": name}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()["id"].as_str().unwrap().to_owned()
}

/// A loopback TCP listener (connections complete in its backlog; nothing
/// is ever read) and its port.
fn tcp_listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    tcp_listener().1
}

/// A tiny HTTP peer on 127.0.0.1: answers every request `200 OK` and records
/// the `Authorization` header it was sent (what the http driver sent).
struct HttpPeer {
    port: u16,
    seen: Arc<Mutex<Vec<Option<String>>>>,
}

impl HttpPeer {
    fn start() -> Self {
        let (listener, port) = tcp_listener();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut head = Vec::new();
                let mut chunk = [0_u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let auth = head.lines().find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.trim()
                        .eq_ignore_ascii_case("authorization")
                        .then(|| value.trim().to_owned())
                });
                log.lock().unwrap().push(auth);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        Self { port, seen }
    }

    /// The `Authorization` header of the last request.
    fn last_auth(&self) -> Option<String> {
        self.seen.lock().unwrap().last().cloned().flatten()
    }
}

fn basic(login: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{login}:{password}"))
    )
}

// ----------------------------------------------------------- 1. seed 003 --

/// Seed 003 from top to bottom: list, paging, get, create, update (keeping
/// the password with `********`, omission and `""`; clearing it with null;
/// `extra` kept, replaced, cleared), delete.
async fn seed_003_crud(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "shop").await;
    let t = Some(token.as_str());
    let list_url = format!("{base}/connections");

    // An empty environment: a bare empty array.
    let res = app.client.get(&list_url, t).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json(), json!([]));
    assert_eq!(res.header("x-total-count"), Some("0"));
    assert_eq!(res.header("link"), None);

    // Create: seed 003's exact example.
    let created = create_conn(app, &token, &base, &seed_create()).await;
    let expected = with_owned(
        &created,
        json!({"conn_id": "prod-postgres", "type": "postgres", "host": "db.example.com",
               "port": 5432, "schema": "analytics", "login": "etl_user", "password": MASK,
               "extra": "{\"sslmode\": \"require\"}", "description": null,
               "has_password": true, "last_test": null}),
    );
    assert_eq!(created, expected);
    assert_eq!(created["created_at"], created["updated_at"]);

    // List: password "", no extra key at all, X-Total-Count.
    let listed = with_owned(
        &created,
        json!({"conn_id": "prod-postgres", "type": "postgres", "host": "db.example.com",
               "port": 5432, "schema": "analytics", "login": "etl_user", "password": "",
               "description": null, "has_password": true, "last_test": null}),
    );
    for url in [list_url.clone(), format!("{list_url}?page=1&per_page=20")] {
        let res = app.client.get(&url, t).await;
        assert_eq!(res.status, 200, "{url}: {}", res.text());
        assert_eq!(res.json(), json!([listed]), "{url}");
        assert!(res.json()[0].get("extra").is_none(), "no extra in lists");
        assert_eq!(res.header("x-total-count"), Some("1"), "{url}");
        assert_eq!(res.header("link"), None, "{url}");
    }

    // Get: password masked, extra decrypted.
    assert_eq!(
        get_conn(app, &token, &base, "prod-postgres").await,
        expected
    );

    // Update with the seed's body: a new password.
    let updated = put_conn(app, &token, &base, "prod-postgres", &seed_update()).await;
    let after_update = |got: &Value, extra: Value, password: &str, has: bool| {
        let mut fields = json!({"conn_id": "prod-postgres", "type": "postgres",
               "host": "new-db.example.com", "port": 5432, "schema": "analytics",
               "login": "etl_user", "password": password, "extra": extra,
               "description": null, "has_password": has, "last_test": null});
        fields["id"] = created["id"].clone();
        fields["created_at"] = created["created_at"].clone();
        fields["updated_at"] = got["updated_at"].clone();
        assert!(
            got["updated_at"].as_str().unwrap() >= created["updated_at"].as_str().unwrap(),
            "{got}"
        );
        fields
    };
    let sslmode = json!("{\"sslmode\": \"require\"}");
    assert_eq!(
        updated,
        after_update(&updated, sslmode.clone(), MASK, true),
        "extra omitted keeps it"
    );
    assert_eq!(get_conn(app, &token, &base, "prod-postgres").await, updated);

    // The password is kept with "********", with omission and with "".
    let mut keep_mask = seed_update();
    keep_mask["password"] = json!(MASK);
    let mut keep_omitted = seed_update();
    keep_omitted.as_object_mut().unwrap().remove("password");
    let mut keep_empty = seed_update();
    keep_empty["password"] = json!("");
    for body in [keep_mask, keep_omitted, keep_empty] {
        let got = put_conn(app, &token, &base, "prod-postgres", &body).await;
        assert_eq!(
            got,
            after_update(&got, sslmode.clone(), MASK, true),
            "{body}"
        );
        let again = get_conn(app, &token, &base, "prod-postgres").await;
        assert_eq!(again, got, "{body}");
    }

    // null clears it.
    let mut clear = seed_update();
    clear["password"] = Value::Null;
    let got = put_conn(app, &token, &base, "prod-postgres", &clear).await;
    assert_eq!(got, after_update(&got, sslmode.clone(), "", false));
    let again = get_conn(app, &token, &base, "prod-postgres").await;
    assert_eq!(again["password"], "");
    assert_eq!(again["has_password"], false);
    assert_eq!(again, got);

    // extra: a new one replaces it, null clears it, omission keeps null.
    let mut with_extra = seed_update();
    with_extra["extra"] = json!("{\"sslmode\": \"verify-full\"}");
    let got = put_conn(app, &token, &base, "prod-postgres", &with_extra).await;
    assert_eq!(
        got,
        after_update(&got, json!("{\"sslmode\": \"verify-full\"}"), MASK, true)
    );
    assert_eq!(get_conn(app, &token, &base, "prod-postgres").await, got);
    let mut no_extra = seed_update();
    no_extra["extra"] = Value::Null;
    let got = put_conn(app, &token, &base, "prod-postgres", &no_extra).await;
    assert_eq!(got, after_update(&got, Value::Null, MASK, true));
    assert_eq!(get_conn(app, &token, &base, "prod-postgres").await, got);
    let got = put_conn(app, &token, &base, "prod-postgres", &seed_update()).await;
    assert_eq!(got, after_update(&got, Value::Null, MASK, true));

    // PUT replaces the record: what is not sent is gone, and a type that
    // has no password drops the stored one.
    let got = put_conn(
        app,
        &token,
        &base,
        "prod-postgres",
        &json!({"type": "sqlite", "host": "/data/app.db", "description": "moved"}),
    )
    .await;
    let mut expected = after_update(&got, Value::Null, "", false);
    for (key, value) in [
        ("type", json!("sqlite")),
        ("host", json!("/data/app.db")),
        ("port", Value::Null),
        ("schema", Value::Null),
        ("login", Value::Null),
        ("description", json!("moved")),
    ] {
        expected[key] = value;
    }
    assert_eq!(got, expected);
    assert_eq!(get_conn(app, &token, &base, "prod-postgres").await, got);
    let got = put_conn(app, &token, &base, "prod-postgres", &seed_update()).await;
    assert_eq!(got, after_update(&got, Value::Null, MASK, true));

    // Delete: 204 with no body, then 404 everywhere.
    let res = app
        .client
        .delete(&format!("{base}/connections/prod-postgres"), t)
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    assert!(res.body.is_empty());
    app.client
        .get(&format!("{base}/connections/prod-postgres"), t)
        .await
        .assert_error(404, "Not Found", &missing("prod-postgres"));
    app.client
        .delete(&format!("{base}/connections/prod-postgres"), t)
        .await
        .assert_error(404, "Not Found", &missing("prod-postgres"));
    let res = app.client.get(&list_url, t).await;
    assert_eq!(res.json(), json!([]));
    assert_eq!(res.header("x-total-count"), Some("0"));

    // The conn_id is free again.
    let again = create_conn(app, &token, &base, &seed_create()).await;
    assert_ne!(again["id"], created["id"]);
}

/// Paging: ordered by conn_id; `Link` rel="next"/rel="prev" with the
/// request's path.
async fn seed_003_paging_and_links(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "shop").await;
    let t = Some(token.as_str());
    for conn_id in ["charlie", "alpha", "bravo"] {
        create_conn(
            app,
            &token,
            &base,
            &json!({"conn_id": conn_id, "type": "generic"}),
        )
        .await;
    }
    let url = format!("{base}/connections");
    let link = |page: i64, per_page: i64, rel: &str| {
        format!("<{url}?page={page}&per_page={per_page}>; rel=\"{rel}\"")
    };
    let cases: Vec<(String, Vec<&str>, Option<String>)> = vec![
        (url.clone(), vec!["alpha", "bravo", "charlie"], None),
        (
            format!("{url}?page=1&per_page=20"),
            vec!["alpha", "bravo", "charlie"],
            None,
        ),
        (
            format!("{url}?page=1&per_page=1"),
            vec!["alpha"],
            Some(link(2, 1, "next")),
        ),
        (
            format!("{url}?page=2&per_page=1"),
            vec!["bravo"],
            Some(format!("{}, {}", link(3, 1, "next"), link(1, 1, "prev"))),
        ),
        (
            format!("{url}?page=3&per_page=1"),
            vec!["charlie"],
            Some(link(2, 1, "prev")),
        ),
        (
            format!("{url}?per_page=2"),
            vec!["alpha", "bravo"],
            Some(link(2, 2, "next")),
        ),
        (
            format!("{url}?page=2&per_page=2"),
            vec!["charlie"],
            Some(link(1, 2, "prev")),
        ),
        (
            format!("{url}?page=5&per_page=2"),
            vec![],
            Some(link(4, 2, "prev")),
        ),
    ];
    for (request, ids, expected_link) in cases {
        let res = app.client.get(&request, t).await;
        assert_eq!(res.status, 200, "{request}: {}", res.text());
        let got: Vec<String> = res
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["conn_id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(got, ids, "{request}");
        assert_eq!(res.header("x-total-count"), Some("3"), "{request}");
        assert_eq!(
            res.header("link").map(str::to_owned),
            expected_link,
            "{request}"
        );
    }
}

/// `POST …/test` on stored connections (success and refusal, recorded as
/// `last_test`), and `POST …/connections/test` before saving (nothing
/// stored).
async fn seed_003_test_stored_and_unsaved(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "shop").await;
    let t = Some(token.as_str());
    let (_listener, up) = tcp_listener();
    let down = closed_port();

    let created = create_conn(
        app,
        &token,
        &base,
        &json!({"conn_id": "tcp-up", "type": "generic", "host": "127.0.0.1", "port": up,
                "login": "svc", "password": "pw"}),
    )
    .await;
    assert_eq!(created["last_test"], Value::Null);
    let res = test_conn(app, &token, &base, "tcp-up").await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json(), connected("tcp"));
    let got = get_conn(app, &token, &base, "tcp-up").await;
    assert_eq!(got["last_test"], last_test(&got, true, None, "tcp"));
    let mut unchanged = got.clone();
    unchanged["last_test"] = Value::Null;
    assert_eq!(unchanged, created, "a test changes nothing but last_test");
    // Lists carry last_test too.
    let res = app.client.get(&format!("{base}/connections"), t).await;
    assert_eq!(res.json()[0]["last_test"], got["last_test"]);

    create_conn(
        app,
        &token,
        &base,
        &json!({"conn_id": "tcp-down", "type": "generic", "host": "127.0.0.1", "port": down}),
    )
    .await;
    let res = test_conn(app, &token, &base, "tcp-down").await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json(), failed("refused"));
    let got = get_conn(app, &token, &base, "tcp-down").await;
    assert_eq!(
        got["last_test"],
        last_test(&got, false, Some("refused"), "tcp")
    );

    // Testing before saving stores nothing.
    let unsaved = format!("{base}/connections/test");
    let res = app
        .client
        .post(
            &unsaved,
            t,
            &json!({"conn_id": "probe-only", "type": "generic", "host": "127.0.0.1", "port": up,
                    "password": "pw", "extra": "{\"note\": \"x\"}"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json(), connected("tcp"));
    let res = app
        .client
        .post(
            &unsaved,
            t,
            &json!({"conn_id": "probe-only", "type": "generic", "host": "127.0.0.1", "port": down}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json(), failed("refused"));
    // A conn_id that exists already may be tested before saving too.
    let res = app
        .client
        .post(
            &unsaved,
            t,
            &json!({"conn_id": "tcp-up", "type": "generic", "host": "127.0.0.1", "port": down}),
        )
        .await;
    assert_eq!(res.json(), failed("refused"));
    assert_eq!(
        get_conn(app, &token, &base, "tcp-up").await["last_test"]["success"],
        true,
        "an unsaved test records nothing"
    );
    assert_eq!(conn_ids(app, &token, &base).await, ["tcp-down", "tcp-up"]);
    app.client
        .get(&format!("{base}/connections/probe-only"), t)
        .await
        .assert_error(404, "Not Found", &missing("probe-only"));
    // A bad body is refused before any test.
    app.client
        .post(
            &unsaved,
            t,
            &json!({"conn_id": "probe-only", "type": "generic", "host": "127.0.0.1", "port": 0}),
        )
        .await
        .assert_error(
            400,
            "Bad Request",
            "port: 0 is not a valid port: it must be between 1 and 65535",
        );
    // A missing connection is not tested.
    test_conn(app, &token, &base, "nope")
        .await
        .assert_error(404, "Not Found", &missing("nope"));
}

/// A `PUT` that keeps the password (`********`, omitted, `""`) keeps the
/// very secret the tester sends: a loopback HTTP peer sees it in basic auth.
async fn put_keeps_the_password_the_peer_receives(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "shop").await;
    let peer = HttpPeer::start();
    // `None`: no password key at all.
    let body = |password: Option<Value>| {
        let mut b = json!({"type": "http", "host": "127.0.0.1", "port": peer.port,
                           "login": "etl", "extra": "{\"path\": \"/health\"}"});
        if let Some(password) = password {
            b["password"] = password;
        }
        b
    };
    let mut create = body(Some(json!("first-secret")));
    create["conn_id"] = json!("api");
    create_conn(app, &token, &base, &create).await;
    let tested = async |expected: &str| {
        let res = test_conn(app, &token, &base, "api").await;
        assert_eq!(res.status, 200, "{}", res.text());
        assert_eq!(res.json(), connected("reqwest"));
        assert_eq!(peer.last_auth(), Some(basic("etl", expected)));
    };
    tested("first-secret").await;
    for keep in [Some(json!(MASK)), None, Some(json!(""))] {
        let got = put_conn(app, &token, &base, "api", &body(keep.clone())).await;
        assert_eq!(got["has_password"], true, "{keep:?}");
        assert_eq!(got["password"], MASK, "{keep:?}");
        tested("first-secret").await;
    }
    put_conn(
        app,
        &token,
        &base,
        "api",
        &body(Some(json!("second-secret"))),
    )
    .await;
    tested("second-secret").await;
    let got = put_conn(app, &token, &base, "api", &body(Some(Value::Null))).await;
    assert_eq!(got["has_password"], false);
    tested("").await;
}

/// `GET /api/connection-types`: exactly the seed's seven entries, in order.
async fn seed_003_connection_types(app: &TestApp) {
    let (_, token) = register(app, &email("owner")).await;
    let res = app.client.get("/api/connection-types", Some(&token)).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json(),
        json!([
            {"type": "postgres", "label": "PostgreSQL", "fields": ["host", "port", "schema", "login", "password"]},
            {"type": "mysql", "label": "MySQL", "fields": ["host", "port", "schema", "login", "password"]},
            {"type": "sqlite", "label": "SQLite", "fields": ["host"]},
            {"type": "http", "label": "HTTP / REST API", "fields": ["host", "port", "login", "password", "extra"]},
            {"type": "sftp", "label": "SFTP / SSH", "fields": ["host", "port", "login", "password", "extra"]},
            {"type": "s3", "label": "Amazon S3", "fields": ["extra"]},
            {"type": "generic", "label": "Generic", "fields": ["host", "port", "login", "password", "extra"]}
        ])
    );
    app.client
        .get("/api/connection-types", None)
        .await
        .assert_error(401, "Unauthorized", "Missing Authorization header");
}

/// `GET …/used-by`: `{id, type, name}` of the live resources whose
/// `credentialConnId` names the connection, by id.
async fn seed_003_used_by(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "shop").await;
    let t = Some(token.as_str());
    create_conn(app, &token, &base, &seed_create()).await;
    create_conn(
        app,
        &token,
        &base,
        &json!({"conn_id": "ssh", "type": "sftp", "host": "127.0.0.1", "port": 22}),
    )
    .await;
    create_conn(
        app,
        &token,
        &base,
        &json!({"conn_id": "unused", "type": "generic"}),
    )
    .await;
    assert_eq!(
        used_by(app, &token, &base, "prod-postgres").await,
        json!([])
    );
    let mut ids = Vec::new();
    for (kind, name, conn) in [
        ("database", "orders", "prod-postgres"),
        ("application", "api", "prod-postgres"),
        ("instance", "web", "ssh"),
        ("database", "gone", "prod-postgres"),
    ] {
        let res = resource_using(app, &token, &base, kind, name, conn).await;
        assert_eq!(res.status, 201, "{}", res.text());
        assert_eq!(res.json()["data"]["credentialConnId"], conn);
        ids.push(res.json()["data"]["id"].as_i64().unwrap());
    }
    resource(app, &token, &base, "instance", "plain").await;
    // A soft-deleted resource is not a user.
    let res = app
        .client
        .delete(&format!("{base}/resources/{}", ids[3]), t)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        used_by(app, &token, &base, "prod-postgres").await,
        json!([
            {"id": ids[0], "type": "database", "name": "orders"},
            {"id": ids[1], "type": "application", "name": "api"}
        ])
    );
    assert_eq!(
        used_by(app, &token, &base, "ssh").await,
        json!([{"id": ids[2], "type": "instance", "name": "web"}])
    );
    assert_eq!(used_by(app, &token, &base, "unused").await, json!([]));
    app.client
        .get(&format!("{base}/connections/nope/used-by"), t)
        .await
        .assert_error(404, "Not Found", &missing("nope"));
}

// ---------------------------------------------------------- 2. bad input --

/// Every bad input of issue 9: a 400 in the error shape, nothing changed.
async fn bad_input_is_400_and_changes_nothing(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "shop").await;
    let t = Some(token.as_str());
    let url = format!("{base}/connections");
    let original = create_conn(app, &token, &base, &seed_create()).await;
    // The longest conn_id is fine.
    let longest = "a".repeat(64);
    create_conn(
        app,
        &token,
        &base,
        &json!({"conn_id": longest, "type": "generic"}),
    )
    .await;
    // The largest extra is fine: 16384 bytes exactly.
    let largest = serde_json::to_string(&json!({"blob": "x".repeat(16 * 1024 - 11)})).unwrap();
    assert_eq!(largest.len(), 16 * 1024);
    let made = create_conn(
        app,
        &token,
        &base,
        &json!({"conn_id": "largest", "type": "s3", "extra": largest}),
    )
    .await;
    assert_eq!(made["extra"], largest);
    let too_long = "a".repeat(65);
    let big_extra = serde_json::to_string(&json!({"blob": "x".repeat(16 * 1024)})).unwrap();
    let with = |key: &str, value: Value| {
        let mut b =
            json!({"conn_id": "fresh", "type": "postgres", "host": "db.example.com", "port": 5432});
        b[key] = value;
        b
    };
    let not_format =
        |value: &str, reason: &str| format!("conn_id: '{value}' is not a valid conn_id: {reason}");
    let charset = "only lowercase letters, digits, '-' and '_' are allowed";
    let port_range =
        |n: &str| format!("port: {n} is not a valid port: it must be between 1 and 65535");
    let extra_not_object = "field 'extra' must be a string holding a JSON object";
    // (body, message, the message is a prefix)
    let cases: Vec<(Value, String, bool)> = vec![
        (
            with("conn_id", json!("Prod-Postgres")),
            not_format("Prod-Postgres", "it must be lowercase"),
            false,
        ),
        (
            with("conn_id", json!("prod postgres")),
            not_format("prod postgres", charset),
            false,
        ),
        (with("conn_id", json!("..")), not_format("..", charset), false),
        (
            with("conn_id", json!("prod/postgres")),
            not_format("prod/postgres", charset),
            false,
        ),
        (
            with("conn_id", json!(too_long)),
            format!(
                "conn_id: '{}…' is not a valid conn_id: it must be at most 64 characters long",
                "a".repeat(64)
            ),
            false,
        ),
        (
            with("conn_id", json!("")),
            not_format("", "it must not be empty"),
            false,
        ),
        (
            with("conn_id", json!("-lead")),
            not_format("-lead", "it must start with a letter or a digit"),
            false,
        ),
        (with("port", json!(0)), port_range("0"), false),
        (with("port", json!(-1)), port_range("-1"), false),
        (with("port", json!(65536)), port_range("65536"), false),
        (
            with("port", json!("5432")),
            "port: invalid type: string \"5432\", expected i64".into(),
            false,
        ),
        (
            with("port", json!(5432.5)),
            "port: invalid type: floating point `5432.5`, expected i64".into(),
            false,
        ),
        (
            with("extra", json!("sslmode=require")),
            extra_not_object.into(),
            false,
        ),
        (
            with("extra", json!("[\"sslmode\", \"require\"]")),
            extra_not_object.into(),
            false,
        ),
        (
            with("extra", json!({"sslmode": "require"})),
            "extra: invalid type: map, expected a string".into(),
            false,
        ),
        (
            with("extra", json!(big_extra)),
            format!(
                "field 'extra' must be at most 16384 bytes, not {}",
                big_extra.len()
            ),
            false,
        ),
        (
            with("id", json!(original["id"])),
            "id: unknown field `id`, expected one of".into(),
            true,
        ),
        (
            with("created_at", json!("2024-01-10T12:00:00Z")),
            "created_at: unknown field `created_at`, expected one of".into(),
            true,
        ),
        (
            with("password_sealed", json!("AAAA")),
            "password_sealed: unknown field `password_sealed`, expected one of".into(),
            true,
        ),
        (
            with("has_password", json!(true)),
            "has_password: unknown field `has_password`, expected one of".into(),
            true,
        ),
        (
            json!({"conn_id": "fresh", "type": "http", "host": "127.0.0.1", "schema": "analytics"}),
            "field 'schema' is not used by connection type 'http'".into(),
            false,
        ),
        (
            json!({"conn_id": "fresh", "type": "s3", "host": "s3.example.com"}),
            "field 'host' is not used by connection type 's3'".into(),
            false,
        ),
        (
            json!({"conn_id": "fresh", "type": "sqlite", "host": "/data/app.db", "password": "pw"}),
            "field 'password' is not used by connection type 'sqlite'".into(),
            false,
        ),
        (
            json!({"conn_id": "fresh", "type": "sqlite", "host": "/data/app.db", "port": 1}),
            "field 'port' is not used by connection type 'sqlite'".into(),
            false,
        ),
        (
            json!({"conn_id": "fresh", "type": "oracle"}),
            "type: 'oracle' is not a valid connection type; expected one of: postgres, mysql, sqlite, http, sftp, s3, generic".into(),
            false,
        ),
        (
            json!({"conn_id": "fresh", "type": "Postgres"}),
            "type: 'Postgres' is not a valid connection type; expected one of: postgres, mysql, sqlite, http, sftp, s3, generic".into(),
            false,
        ),
        (
            json!({"type": "generic"}),
            "Invalid JSON body: missing field `conn_id`".into(),
            false,
        ),
        (
            json!({"conn_id": "fresh"}),
            "Invalid JSON body: missing field `type`".into(),
            false,
        ),
    ];
    for (body, message, prefix) in &cases {
        for target in [url.clone(), format!("{url}/test")] {
            let res = app.client.post(&target, t, body).await;
            if *prefix {
                res.assert_error_starting(400, "Bad Request", message);
            } else {
                res.assert_error(400, "Bad Request", message);
            }
        }
    }

    // PUT: the same rules, plus type changes the body does not satisfy and
    // a different conn_id.
    let put_url = format!("{url}/prod-postgres");
    let put_cases: Vec<(Value, String, bool)> = vec![
        (
            json!({"type": "s3", "host": "db.example.com", "port": 5432, "schema": "analytics", "login": "etl_user"}),
            "field 'host' is not used by connection type 's3'".into(),
            false,
        ),
        (
            json!({"type": "sqlite", "host": "/data/app.db", "port": 5432}),
            "field 'port' is not used by connection type 'sqlite'".into(),
            false,
        ),
        (
            json!({"type": "sqlite", "host": "/data/app.db", "password": "new"}),
            "field 'password' is not used by connection type 'sqlite'".into(),
            false,
        ),
        (
            json!({"type": "http", "host": "127.0.0.1", "schema": "analytics"}),
            "field 'schema' is not used by connection type 'http'".into(),
            false,
        ),
        (
            json!({"type": "oracle", "host": "db.example.com"}),
            "type: 'oracle' is not a valid connection type; expected one of: postgres, mysql, sqlite, http, sftp, s3, generic".into(),
            false,
        ),
        (
            json!({"conn_id": "renamed", "type": "postgres", "host": "db.example.com"}),
            "conn_id: it cannot be changed (create a new connection and move the references instead)".into(),
            false,
        ),
        (
            json!({"type": "postgres", "port": 0}),
            port_range("0"),
            false,
        ),
        (
            json!({"type": "postgres", "port": 65536}),
            port_range("65536"),
            false,
        ),
        (
            json!({"type": "postgres", "port": "5432"}),
            "port: invalid type: string \"5432\", expected i64".into(),
            false,
        ),
        (
            json!({"type": "postgres", "extra": "not json"}),
            extra_not_object.into(),
            false,
        ),
        (
            json!({"type": "postgres", "extra": "[1, 2]"}),
            extra_not_object.into(),
            false,
        ),
        (
            json!({"type": "postgres", "extra": big_extra}),
            format!(
                "field 'extra' must be at most 16384 bytes, not {}",
                big_extra.len()
            ),
            false,
        ),
        (
            json!({"type": "postgres", "id": original["id"]}),
            "id: unknown field `id`, expected one of".into(),
            true,
        ),
        (
            json!({"type": "postgres", "updated_at": "2024-01-10T12:00:00Z"}),
            "updated_at: unknown field `updated_at`, expected one of".into(),
            true,
        ),
        (
            json!({"type": "postgres", "extra_sealed": "AAAA"}),
            "extra_sealed: unknown field `extra_sealed`, expected one of".into(),
            true,
        ),
        (
            json!({"host": "db.example.com"}),
            "Invalid JSON body: missing field `type`".into(),
            false,
        ),
    ];
    for (body, message, prefix) in &put_cases {
        let res = app.client.put(&put_url, t, body).await;
        if *prefix {
            res.assert_error_starting(400, "Bad Request", message);
        } else {
            res.assert_error(400, "Bad Request", message);
        }
    }

    // Paging out of range.
    for (query, message) in [
        ("per_page=0", "per_page must be between 1 and 100 (got 0)"),
        (
            "per_page=1000",
            "per_page must be between 1 and 100 (got 1000)",
        ),
        (
            "per_page=101",
            "per_page must be between 1 and 100 (got 101)",
        ),
        ("page=0", "page must be at least 1 (got 0)"),
        ("page=-1", "page must be at least 1 (got -1)"),
    ] {
        app.client
            .get(&format!("{url}?{query}"), t)
            .await
            .assert_error(400, "Bad Request", message);
    }

    // Nothing changed.
    assert_eq!(
        conn_ids(app, &token, &base).await,
        [
            longest.clone(),
            "largest".to_owned(),
            "prod-postgres".to_owned()
        ]
    );
    assert_eq!(
        get_conn(app, &token, &base, "prod-postgres").await,
        original
    );

    // Duplicate conn_id → 409; a missing connection → 404 on every route.
    app.client.post(&url, t, &seed_create()).await.assert_error(
        409,
        "Conflict",
        &duplicate("prod-postgres"),
    );
    let path = format!("{url}/nope");
    for res in [
        app.client.get(&path, t).await,
        app.client.put(&path, t, &seed_update()).await,
        app.client.delete(&path, t).await,
        test_conn(app, &token, &base, "nope").await,
        app.client.get(&format!("{path}/used-by"), t).await,
    ] {
        res.assert_error(404, "Not Found", &missing("nope"));
    }
    // A conn_id a path cannot hold names nothing.
    app.client
        .get(&format!("{url}/Prod-Postgres"), t)
        .await
        .assert_error(404, "Not Found", &missing("Prod-Postgres"));
    assert_eq!(
        conn_ids(app, &token, &base).await,
        [longest, "largest".to_owned(), "prod-postgres".to_owned()]
    );
    assert_eq!(
        get_conn(app, &token, &base, "prod-postgres").await,
        original
    );

    // The seed's unscoped paths say where credential connections live.
    for (method, path) in [
        (Method::GET, "/api/connections"),
        (Method::POST, "/api/connections"),
        (Method::GET, "/api/connections?page=1&per_page=20"),
        (Method::GET, "/api/connections/x"),
        (Method::PUT, "/api/connections/x"),
        (Method::DELETE, "/api/connections/x"),
        (Method::POST, "/api/connections/x/test"),
        (Method::GET, "/api/connections/x/used-by"),
    ] {
        let body = (method == Method::POST || method == Method::PUT).then(seed_create);
        app.client
            .request(method, path, t, body.as_ref())
            .await
            .assert_error(404, "Not Found", UNSCOPED);
    }
}

// ------------------------------------- 3. resources referencing credentials --

async fn resources_reference_credentials_of_their_environment(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "shop").await;
    let t = Some(token.as_str());
    let (pid, _) = environment_id(app, &token, "shop", "production").await;
    create_environment(app, &token, &pid, "staging").await;
    let staging = "/api/shop/staging";
    create_conn(
        app,
        &token,
        staging,
        &json!({"conn_id": "staging-db", "type": "postgres", "host": "db.example.com"}),
    )
    .await;
    let prod_db = create_conn(
        app,
        &token,
        &base,
        &json!({"conn_id": "prod-db", "type": "postgres", "host": "db.example.com", "password": "pw"}),
    )
    .await;
    // A namesake in staging, referenced there: never confused with prod's.
    create_conn(
        app,
        &token,
        staging,
        &json!({"conn_id": "prod-db", "type": "generic"}),
    )
    .await;
    let res = resource_using(app, &token, staging, "database", "orders", "prod-db").await;
    assert_eq!(res.status, 201, "{}", res.text());
    let staging_orders = res.json()["data"]["id"].as_i64().unwrap();

    // Create: the connection must exist in this environment.
    for conn in ["nope", "staging-db"] {
        resource_using(app, &token, &base, "database", "orders", conn)
            .await
            .assert_error(404, "Not Found", NO_SUCH_CREDENTIAL);
    }
    let list = app.client.get(&format!("{base}/resources"), t).await.json();
    assert_eq!(list["count"], 0, "nothing created: {list}");

    let res = resource_using(app, &token, &base, "database", "orders", "prod-db").await;
    assert_eq!(res.status, 201, "{}", res.text());
    let orders = res.json()["data"].clone();
    assert_eq!(orders["credentialConnId"], "prod-db");
    let orders_id = orders["id"].as_i64().unwrap();
    let res = resource_using(app, &token, &base, "application", "reports", "prod-db").await;
    assert_eq!(res.status, 201, "{}", res.text());
    let reports_id = res.json()["data"]["id"].as_i64().unwrap();

    // PATCH: the same rule.
    let orders_url = format!("{base}/resources/{orders_id}");
    for conn in ["nope", "staging-db"] {
        app.client
            .patch(&orders_url, t, &json!({"credentialConnId": conn}))
            .await
            .assert_error(404, "Not Found", NO_SUCH_CREDENTIAL);
    }
    let got = app.client.get(&orders_url, t).await.json()["data"].clone();
    assert_eq!(got, orders, "unchanged");
    let res = app
        .client
        .patch(&orders_url, t, &json!({"credentialConnId": null}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["data"]["credentialConnId"], Value::Null);
    let res = app
        .client
        .patch(&orders_url, t, &json!({"credentialConnId": "prod-db"}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["data"]["credentialConnId"], "prod-db");

    // Delete of a referenced connection: 409 listing them, nothing deleted.
    let conn_url = format!("{base}/connections/prod-db");
    app.client.delete(&conn_url, t).await.assert_error(
        409,
        "Conflict",
        &format!(
            "Connection is used by 2 resource(s) (ids: {orders_id}, {reports_id}); remove the references or pass ?force=true to delete it anyway"
        ),
    );
    app.client
        .delete(&format!("{conn_url}?force=false"), t)
        .await
        .assert_error(
            409,
            "Conflict",
            &format!(
                "Connection is used by 2 resource(s) (ids: {orders_id}, {reports_id}); remove the references or pass ?force=true to delete it anyway"
            ),
        );
    assert_eq!(get_conn(app, &token, &base, "prod-db").await, prod_db);
    assert_eq!(
        used_by(app, &token, &base, "prod-db").await,
        json!([
            {"id": orders_id, "type": "database", "name": "orders"},
            {"id": reports_id, "type": "application", "name": "reports"}
        ])
    );
    let res = app
        .client
        .delete(&format!("{conn_url}?force=maybe"), t)
        .await;
    res.assert_error(
        400,
        "Bad Request",
        "Invalid query parameter: provided string was not `true` or `false`",
    );
    assert_eq!(get_conn(app, &token, &base, "prod-db").await, prod_db);

    // force: 204, and the references are cleared.
    let res = app
        .client
        .delete(&format!("{conn_url}?force=true"), t)
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.client
        .get(&conn_url, t)
        .await
        .assert_error(404, "Not Found", &missing("prod-db"));
    for id in [orders_id, reports_id] {
        let got = app
            .client
            .get(&format!("{base}/resources/{id}"), t)
            .await
            .json();
        assert_eq!(got["data"]["credentialConnId"], Value::Null, "{got}");
    }
    // The other environment's connections and references are untouched.
    assert_eq!(
        conn_ids(app, &token, staging).await,
        ["prod-db", "staging-db"]
    );
    assert_eq!(
        used_by(app, &token, staging, "prod-db").await,
        json!([{"id": staging_orders, "type": "database", "name": "orders"}])
    );
    let got = app
        .client
        .get(&format!("{staging}/resources/{staging_orders}"), t)
        .await
        .json();
    assert_eq!(got["data"]["credentialConnId"], "prod-db", "{got}");
}

// -------------------------------------------------------------- 4. roles --

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Min {
    Viewer,
    Member,
}

/// What each role may do, written out here independently of the domain's
/// matrix (SPEC §3: viewers read, members and above write and test).
fn allowed(role: &str, min: Min) -> bool {
    match role {
        "owner" | "admin" | "member" => true,
        "viewer" => min == Min::Viewer,
        other => panic!("unknown role {other}"),
    }
}

/// (what, method, path tail, body, minimum role, success status, denial
/// message for viewers). `{r}` is the caller's role.
type Action = (
    &'static str,
    Method,
    &'static str,
    Option<Value>,
    Min,
    u16,
    &'static str,
);

fn actions(port: u16) -> Vec<Action> {
    let probe =
        json!({"conn_id": "probe-{r}", "type": "generic", "host": "127.0.0.1", "port": port});
    vec![
        (
            "list",
            Method::GET,
            "/connections",
            None,
            Min::Viewer,
            200,
            "",
        ),
        (
            "get",
            Method::GET,
            "/connections/fixture",
            None,
            Min::Viewer,
            200,
            "",
        ),
        (
            "used-by",
            Method::GET,
            "/connections/fixture/used-by",
            None,
            Min::Viewer,
            200,
            "",
        ),
        (
            "create",
            Method::POST,
            "/connections",
            Some(json!({"conn_id": "made-{r}", "type": "generic"})),
            Min::Member,
            201,
            VIEWER_CANNOT_WRITE,
        ),
        (
            "put",
            Method::PUT,
            "/connections/fixture",
            Some(json!({"type": "generic", "host": "127.0.0.1", "port": port, "login": "{r}"})),
            Min::Member,
            200,
            VIEWER_CANNOT_WRITE,
        ),
        (
            "delete",
            Method::DELETE,
            "/connections/del-{r}",
            None,
            Min::Member,
            204,
            VIEWER_CANNOT_WRITE,
        ),
        (
            "test",
            Method::POST,
            "/connections/fixture/test",
            None,
            Min::Member,
            200,
            VIEWER_CANNOT_TEST,
        ),
        (
            "test unsaved",
            Method::POST,
            "/connections/test",
            Some(probe),
            Min::Member,
            200,
            VIEWER_CANNOT_TEST,
        ),
    ]
}

fn fill(template: &str, role: &str) -> String {
    template.replace("{r}", role)
}

fn fill_body(body: Option<&Value>, role: &str) -> Option<Value> {
    body.map(|b| serde_json::from_str(&fill(&b.to_string(), role)).unwrap())
}

/// Every role against every credential route; a non-member gets 403
/// "Project access denied", a missing project 404 "Project not found".
async fn roles_on_credential_routes(app: &TestApp) {
    let (_, owner) = register(app, &email("owner")).await;
    let project = create_project(app, &owner, "shop").await;
    let pid = project["id"].as_str().unwrap();
    let base = "/api/shop/production";
    let (_listener, port) = tcp_listener();
    let mut tokens = vec![("owner", owner.clone())];
    for role in ["admin", "member", "viewer"] {
        let (user, token) = register(app, &email(role)).await;
        add_member(app, &owner, pid, user["id"].as_str().unwrap(), role).await;
        tokens.push((role, token));
    }
    let (_, outsider) = register(app, &email("outsider")).await;
    create_conn(
        app,
        &owner,
        base,
        &json!({"conn_id": "fixture", "type": "generic", "host": "127.0.0.1", "port": port}),
    )
    .await;
    for (role, _) in &tokens {
        create_conn(
            app,
            &owner,
            base,
            &json!({"conn_id": format!("del-{role}"), "type": "generic"}),
        )
        .await;
    }

    for (what, method, tail, body, min, ok, denial) in actions(port) {
        for (role, token) in &tokens {
            let res = app
                .client
                .request(
                    method.clone(),
                    &format!("{base}{}", fill(tail, role)),
                    Some(token),
                    fill_body(body.as_ref(), role).as_ref(),
                )
                .await;
            if allowed(role, min) {
                assert_eq!(res.status, ok, "{role} {what}: {}", res.text());
            } else {
                res.assert_error(403, "Forbidden", denial);
            }
        }
        let res = app
            .client
            .request(
                method.clone(),
                &format!("{base}{}", fill(tail, "outsider")),
                Some(&outsider),
                fill_body(body.as_ref(), "outsider").as_ref(),
            )
            .await;
        res.assert_error(403, "Forbidden", "Project access denied");
        let res = app
            .client
            .request(
                method.clone(),
                &format!("/api/nowhere/production{}", fill(tail, "outsider")),
                Some(&outsider),
                fill_body(body.as_ref(), "outsider").as_ref(),
            )
            .await;
        res.assert_error(404, "Not Found", "Project not found");
        let res = app
            .client
            .request(
                method.clone(),
                &format!("{base}{}", fill(tail, "owner")).replace("/production/", "/nowhere/"),
                Some(&owner),
                fill_body(body.as_ref(), "owner").as_ref(),
            )
            .await;
        res.assert_error(404, "Not Found", "Environment not found");
        let res = app
            .client
            .request(
                method.clone(),
                &format!("{base}{}", fill(tail, "owner")),
                None,
                fill_body(body.as_ref(), "owner").as_ref(),
            )
            .await;
        assert_eq!(res.status, 401, "anonymous {what}: {}", res.text());
    }

    // What the viewer was refused did not happen; the others' did.
    let ids = conn_ids(app, &owner, base).await;
    assert_eq!(
        ids,
        [
            "del-viewer",
            "fixture",
            "made-admin",
            "made-member",
            "made-owner"
        ]
    );
    let fixture = get_conn(app, &owner, base, "fixture").await;
    assert_eq!(fixture["login"], "member", "the last allowed PUT");
    assert_eq!(fixture["last_test"], last_test(&fixture, true, None, "tcp"));
}

/// Viewers see the values of sensitive-looking `extra` keys masked, at any
/// depth; members see `extra` in full; a `PUT` sending the mask for such a
/// key keeps the stored value.
async fn viewers_see_sensitive_extra_masked(app: &TestApp) {
    let (_, owner) = register(app, &email("owner")).await;
    let project = create_project(app, &owner, "shop").await;
    let pid = project["id"].as_str().unwrap();
    let base = "/api/shop/production";
    let (member_user, member) = register(app, &email("member")).await;
    add_member(
        app,
        &owner,
        pid,
        member_user["id"].as_str().unwrap(),
        "member",
    )
    .await;
    let (viewer_user, viewer) = register(app, &email("viewer")).await;
    add_member(
        app,
        &owner,
        pid,
        viewer_user["id"].as_str().unwrap(),
        "viewer",
    )
    .await;

    let extra = r#"{"password": "canary-p1", "secret_access_key": "canary-s1", "apiToken": "canary-t1", "private_key": "canary-k1", "credential": "canary-c1", "region": "eu-west-1", "PASSWORD_2": "canary-p2", "nested": {"db_password": "canary-p3", "user": "u", "list": [{"token": "canary-t2", "name": "n"}, 7]}, "retries": 3, "tls": true}"#;
    let created = create_conn(
        app,
        &member,
        base,
        &json!({"conn_id": "vault", "type": "http", "host": "127.0.0.1", "port": 8443,
                "login": "svc", "password": "pw", "extra": extra}),
    )
    .await;
    assert_eq!(created["extra"], extra);

    // Members (and the owner) see it in full, as stored.
    for token in [&member, &owner] {
        let got = get_conn(app, token, base, "vault").await;
        assert_eq!(got, created);
    }

    // The viewer sees every sensitive-looking value masked, others intact.
    let got = get_conn(app, &viewer, base, "vault").await;
    let masked: Value = serde_json::from_str(got["extra"].as_str().unwrap()).unwrap();
    assert_eq!(
        masked,
        json!({"password": MASK, "secret_access_key": MASK, "apiToken": MASK,
               "private_key": MASK, "credential": MASK, "region": "eu-west-1",
               "PASSWORD_2": MASK,
               "nested": {"db_password": MASK, "user": "u", "list": [{"token": MASK, "name": "n"}, 7]},
               "retries": 3, "tls": true})
    );
    let mut rest = got.clone();
    rest["extra"] = created["extra"].clone();
    assert_eq!(rest, created, "only extra differs for the viewer");
    for secret in [
        "canary-p1",
        "canary-s1",
        "canary-t1",
        "canary-k1",
        "canary-c1",
        "canary-p2",
        "canary-p3",
        "canary-t2",
    ] {
        assert!(
            !String::from_utf8_lossy(
                &app.client
                    .get(&format!("{base}/connections/vault"), Some(&viewer))
                    .await
                    .body
            )
            .contains(secret),
            "{secret} reached the viewer"
        );
    }
    // Lists show no extra to anyone.
    let list = app
        .client
        .get(&format!("{base}/connections"), Some(&viewer))
        .await
        .json();
    assert!(list[0].get("extra").is_none(), "{list}");
    assert_eq!(list[0]["password"], "");

    // A PUT sending the mask for a sensitive key keeps the stored value.
    let masked_back = r#"{"password": "********", "secret_access_key": "********", "apiToken": "t-new", "region": "us-east-1"}"#;
    let got = put_conn(
        app,
        &member,
        base,
        "vault",
        &json!({"type": "http", "host": "127.0.0.1", "port": 8443, "login": "svc",
                "extra": masked_back}),
    )
    .await;
    let expected = json!({"password": "canary-p1", "secret_access_key": "canary-s1", "apiToken": "t-new",
                          "region": "us-east-1"});
    let answered: Value = serde_json::from_str(got["extra"].as_str().unwrap()).unwrap();
    assert_eq!(answered, expected);
    let stored = get_conn(app, &member, base, "vault").await;
    let stored_extra: Value = serde_json::from_str(stored["extra"].as_str().unwrap()).unwrap();
    assert_eq!(stored_extra, expected);
    assert_eq!(stored["has_password"], true, "password omitted: kept");
    let seen = get_conn(app, &viewer, base, "vault").await;
    let seen_extra: Value = serde_json::from_str(seen["extra"].as_str().unwrap()).unwrap();
    assert_eq!(
        seen_extra,
        json!({"password": MASK, "secret_access_key": MASK, "apiToken": MASK, "region": "us-east-1"})
    );
}

// -------------------------------------------- 5. clone and environment delete --

async fn clone_copies_credentials_and_remaps_references(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "shop").await;
    let t = Some(token.as_str());
    let (pid, prod) = environment_id(app, &token, "shop", "production").await;
    let (_listener, port) = tcp_listener();
    let extra = "{\"note\": \"kept\", \"api_token\": \"t0k\"}";
    let original = create_conn(
        app,
        &token,
        &base,
        &json!({"conn_id": "svc", "type": "generic", "host": "127.0.0.1", "port": port,
                "login": "svc", "password": "pw-1", "extra": extra, "description": "the service"}),
    )
    .await;
    create_conn(
        app,
        &token,
        &base,
        &json!({"conn_id": "bare", "type": "s3"}),
    )
    .await;
    let res = resource_using(app, &token, &base, "instance", "web", "svc").await;
    assert_eq!(res.status, 201, "{}", res.text());
    let web = res.json()["data"]["id"].as_i64().unwrap();
    resource(app, &token, &base, "database", "db").await;

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
        json!({"resources": 2, "resource_connections": 0, "credential_connections": 2})
    );
    let copy = "/api/shop/copy";

    // The copy: a new id, the same fields, extra decrypting to the same text.
    let copied = get_conn(app, &token, copy, "svc").await;
    assert_ne!(copied["id"], original["id"]);
    let mut same = copied.clone();
    same["id"] = original["id"].clone();
    same["created_at"] = original["created_at"].clone();
    same["updated_at"] = original["updated_at"].clone();
    assert_eq!(same, original);
    assert_eq!(copied["extra"], extra);
    assert_eq!(conn_ids(app, &token, copy).await, ["bare", "svc"]);
    // Its password opens under the copy's row: the test runs.
    let res = test_conn(app, &token, copy, "svc").await;
    assert_eq!(res.json(), connected("tcp"));

    // The cloned resources name the copies.
    let resources = app.client.get(&format!("{copy}/resources"), t).await.json();
    let copied_web = resources["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "web")
        .unwrap()
        .clone();
    let copied_web_id = copied_web["id"].as_i64().unwrap();
    assert_ne!(copied_web_id, web);
    assert_eq!(copied_web["credentialConnId"], "svc");
    assert_eq!(
        used_by(app, &token, copy, "svc").await,
        json!([{"id": copied_web_id, "type": "instance", "name": "web"}])
    );
    assert_eq!(
        used_by(app, &token, &base, "svc").await,
        json!([{"id": web, "type": "instance", "name": "web"}])
    );

    // Deleting the original leaves the copy alone.
    let res = app
        .client
        .delete(&format!("{base}/connections/svc?force=true"), t)
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    let after = get_conn(app, &token, copy, "svc").await;
    let mut expected = copied.clone();
    expected["last_test"] = after["last_test"].clone();
    assert_eq!(after, expected);
    assert_eq!(
        used_by(app, &token, copy, "svc").await,
        json!([{"id": copied_web_id, "type": "instance", "name": "web"}])
    );
    assert_eq!(
        app.client
            .get(&format!("{copy}/resources/{copied_web_id}"), t)
            .await
            .json()["data"]["credentialConnId"],
        "svc"
    );
    // And a change to the copy leaves nothing else changed.
    put_conn(
        app,
        &token,
        copy,
        "svc",
        &json!({"type": "generic", "host": "127.0.0.1", "port": port, "password": "pw-2"}),
    )
    .await;
    assert_eq!(conn_ids(app, &token, &base).await, ["bare"]);
}

/// An environment holding only a credential connection is not empty.
async fn environment_with_credentials_is_not_empty(app: &TestApp) {
    let (token, _) = canvas(app, "owner", "shop").await;
    let t = Some(token.as_str());
    let (pid, _) = environment_id(app, &token, "shop", "production").await;
    let lonely = create_environment(app, &token, &pid, "lonely").await;
    let env_url = format!("/api/v1/projects/{pid}/environments/{lonely}");
    create_conn(
        app,
        &token,
        "/api/shop/lonely",
        &json!({"conn_id": "only", "type": "generic"}),
    )
    .await;
    let res = app.client.delete(&env_url, t).await;
    res.assert_error(
        409,
        "Conflict",
        "The environment is not empty; pass ?force=true to delete it with everything in it",
    );
    assert_eq!(app.client.get(&env_url, t).await.status, 200);
    assert_eq!(conn_ids(app, &token, "/api/shop/lonely").await, ["only"]);
    let res = app.client.delete(&format!("{env_url}?force=true"), t).await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.client
        .get("/api/shop/lonely/connections", t)
        .await
        .assert_error(404, "Not Found", "Environment not found");
    // An environment made empty again can be deleted without force.
    let again = create_environment(app, &token, &pid, "again").await;
    create_conn(
        app,
        &token,
        "/api/shop/again",
        &json!({"conn_id": "only", "type": "generic"}),
    )
    .await;
    let res = app
        .client
        .delete("/api/shop/again/connections/only", t)
        .await;
    assert_eq!(res.status, 204);
    let res = app
        .client
        .delete(&format!("/api/v1/projects/{pid}/environments/{again}"), t)
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
}

// ---------------------------------------------------------- 6. isolation --

/// Project B's member, on B's own paths with A's conn_id: 404, and A's
/// connection is unchanged.
async fn conn_ids_are_isolated_between_projects(app: &TestApp) {
    let (alice_token, alpha) = canvas(app, "alice", "alpha").await;
    let (bob_token, bravo) = canvas(app, "bob", "bravo").await;
    let b = Some(bob_token.as_str());
    let mut body = seed_create();
    body["conn_id"] = json!("alpha-db");
    let original = create_conn(app, &alice_token, &alpha, &body).await;

    let path = format!("{bravo}/connections/alpha-db");
    for res in [
        app.client.get(&path, b).await,
        app.client.put(&path, b, &seed_update()).await,
        app.client.delete(&path, b).await,
        app.client.delete(&format!("{path}?force=true"), b).await,
        test_conn(app, &bob_token, &bravo, "alpha-db").await,
        app.client.get(&format!("{path}/used-by"), b).await,
    ] {
        res.assert_error(404, "Not Found", &missing("alpha-db"));
    }
    resource_using(app, &bob_token, &bravo, "database", "d", "alpha-db")
        .await
        .assert_error(404, "Not Found", NO_SUCH_CREDENTIAL);
    assert!(conn_ids(app, &bob_token, &bravo).await.is_empty());
    // Bob's paths on alice's project: 403.
    app.client
        .get(&format!("{alpha}/connections/alpha-db"), b)
        .await
        .assert_error(403, "Forbidden", "Project access denied");
    assert_eq!(
        get_conn(app, &alice_token, &alpha, "alpha-db").await,
        original
    );

    // conn_ids are unique per environment only: bob may use the same one.
    let bobs = create_conn(app, &bob_token, &bravo, &body).await;
    assert_ne!(bobs["id"], original["id"]);
    let res = app.client.delete(&path, b).await;
    assert_eq!(res.status, 204);
    assert_eq!(
        get_conn(app, &alice_token, &alpha, "alpha-db").await,
        original
    );
}

// -------------------------------------------------------------- 7. races --

/// 20 concurrent creates of one conn_id: exactly one 201, the rest 409.
async fn concurrent_creates_make_exactly_one(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "race").await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let client = app.client.clone();
        let token = token.clone();
        let url = format!("{base}/connections");
        tasks.push(actix_web::rt::spawn(async move {
            client
                .post(
                    &url,
                    Some(&token),
                    &json!({"conn_id": "dup", "type": "generic", "login": format!("l{i}"), "password": "pw"}),
                )
                .await
        }));
    }
    let (mut created, mut conflicts) = (0, 0);
    for task in tasks {
        let res = task.await.unwrap();
        match res.status {
            201 => created += 1,
            409 => {
                res.assert_error(409, "Conflict", &duplicate("dup"));
                conflicts += 1;
            }
            other => panic!("unexpected {other}: {}", res.text()),
        }
    }
    assert_eq!((created, conflicts), (1, 19));
    assert_eq!(conn_ids(app, &token, &base).await, ["dup"]);
}

/// A DELETE of a connection (forced or not) racing a resource create or
/// PATCH that references it: never a dangling reference, never a 5xx.
async fn delete_racing_a_reference_leaves_none_dangling(app: &TestApp) {
    let (token, base) = canvas(app, "owner", "race").await;
    let t = Some(token.as_str());
    for round in 0..16 {
        let conn_id = format!("race-{round}");
        let force = round % 2 == 1;
        let patch = round % 4 >= 2;
        let delete_first = round % 8 < 4;
        create_conn(
            app,
            &token,
            &base,
            &json!({"conn_id": conn_id, "type": "generic"}),
        )
        .await;
        let name = format!("r-{round}");
        let patched = if patch {
            Some(resource(app, &token, &base, "instance", &name).await)
        } else {
            None
        };
        let spawn_delete = || {
            let client = app.client.clone();
            let token = token.clone();
            let url = format!(
                "{base}/connections/{conn_id}{}",
                if force { "?force=true" } else { "" }
            );
            actix_web::rt::spawn(async move { client.delete(&url, Some(&token)).await })
        };
        let spawn_reference = || {
            let client = app.client.clone();
            let token = token.clone();
            let conn_id = conn_id.clone();
            let name = name.clone();
            let base = base.clone();
            actix_web::rt::spawn(async move {
                match patched {
                    Some(id) => {
                        client
                            .patch(
                                &format!("{base}/resources/{id}"),
                                Some(&token),
                                &json!({"credentialConnId": conn_id}),
                            )
                            .await
                    }
                    None => client
                        .post(
                            &format!("{base}/resources"),
                            Some(&token),
                            &json!({"type": "instance", "name": name, "credentialConnId": conn_id}),
                        )
                        .await,
                }
            })
        };
        let (delete, reference) = if delete_first {
            let d = spawn_delete();
            (d, spawn_reference())
        } else {
            let r = spawn_reference();
            (spawn_delete(), r)
        };
        let deleted = delete.await.unwrap();
        let referenced = reference.await.unwrap();
        for res in [&deleted, &referenced] {
            assert!(res.status < 500, "{} {}", res.status, res.text());
        }
        let exists = match app
            .client
            .get(&format!("{base}/connections/{conn_id}"), t)
            .await
            .status
        {
            200 => true,
            404 => false,
            other => panic!("GET → {other}"),
        };
        let ok = if patch { 200 } else { 201 };
        match (referenced.status, deleted.status) {
            // The reference first: an unforced delete is refused, a forced
            // one clears the reference.
            (s, 409) if s == ok && !force => {
                deleted.assert_error_starting(
                    409,
                    "Conflict",
                    "Connection is used by 1 resource(s)",
                );
                assert!(exists);
            }
            (s, 204) if s == ok && force => assert!(!exists),
            // The delete first: the reference is refused.
            (404, 204) => {
                referenced.assert_error(404, "Not Found", NO_SUCH_CREDENTIAL);
                assert!(!exists);
            }
            other => panic!("round {round} (force {force}, patch {patch}): {other:?}"),
        }
        // The invariant: a live resource names only a live connection.
        let resources = app
            .client
            .get(&format!("{base}/resources?per_page=100"), t)
            .await
            .json();
        let naming: Vec<&Value> = resources["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["credentialConnId"] == conn_id.as_str())
            .collect();
        if exists {
            assert_eq!(naming.len(), 1, "round {round}: {resources}");
        } else {
            assert!(naming.is_empty(), "round {round}: dangling {naming:?}");
        }
    }
}

// --------------------------------------------------------- 8. rate limit --

/// Two tests a minute per user: the third (stored or unsaved) is a 429 with
/// `Retry-After`, and runs nothing; another user has their own budget.
async fn probe_tests_are_rate_limited(backend: Backend) {
    let options = Options {
        probe_rate_per_minute: Some(2),
        ..Options::default()
    };
    run_with(backend, options, async |app: &TestApp| {
        let (token, base) = canvas(app, "owner", "shop").await;
        let t = Some(token.as_str());
        let (_listener, port) = tcp_listener();
        create_conn(
            app,
            &token,
            &base,
            &json!({"conn_id": "svc", "type": "generic", "host": "127.0.0.1", "port": port}),
        )
        .await;
        let unsaved =
            json!({"conn_id": "svc", "type": "generic", "host": "127.0.0.1", "port": port});
        let res = test_conn(app, &token, &base, "svc").await;
        assert_eq!(res.json(), connected("tcp"));
        let res = app
            .client
            .post(&format!("{base}/connections/test"), t, &unsaved)
            .await;
        assert_eq!(res.json(), connected("tcp"));
        let before = get_conn(app, &token, &base, "svc").await;

        let res = test_conn(app, &token, &base, "svc").await;
        res.assert_error(
            429,
            "Too Many Requests",
            "Too many connection tests; try again later",
        );
        assert_eq!(res.header("retry-after"), Some("60"));
        let res = app
            .client
            .post(&format!("{base}/connections/test"), t, &unsaved)
            .await;
        res.assert_error(
            429,
            "Too Many Requests",
            "Too many connection tests; try again later",
        );
        assert_eq!(res.header("retry-after"), Some("60"));
        assert_eq!(
            get_conn(app, &token, &base, "svc").await,
            before,
            "a refused test records nothing"
        );

        // Another user (a member of the same project) has their own budget.
        let project = app.client.get("/api/v1/projects", t).await.json()[0].clone();
        let (member_user, member) = register(app, &email("member")).await;
        add_member(
            app,
            &token,
            project["id"].as_str().unwrap(),
            member_user["id"].as_str().unwrap(),
            "member",
        )
        .await;
        let res = test_conn(app, &member, &base, "svc").await;
        assert_eq!(res.json(), connected("tcp"));
    })
    .await;
}

mod probe_rate_limit {
    #[actix_web::test]
    async fn sqlite() {
        super::probe_tests_are_rate_limited(super::Backend::Sqlite).await;
    }
    #[actix_web::test]
    async fn postgres() {
        super::probe_tests_are_rate_limited(super::Backend::Postgres).await;
    }
}

on_both_backends!(
    seed_003_crud,
    seed_003_paging_and_links,
    seed_003_test_stored_and_unsaved,
    put_keeps_the_password_the_peer_receives,
    seed_003_connection_types,
    seed_003_used_by,
    bad_input_is_400_and_changes_nothing,
    resources_reference_credentials_of_their_environment,
    roles_on_credential_routes,
    viewers_see_sensitive_extra_masked,
    clone_copies_credentials_and_remaps_references,
    environment_with_credentials_is_not_empty,
    conn_ids_are_isolated_between_projects,
    concurrent_creates_make_exactly_one,
    delete_racing_a_reference_leaves_none_dangling,
);
