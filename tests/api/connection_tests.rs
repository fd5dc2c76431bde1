//! The connectivity tester through the HTTP API (issue 10):
//! `POST /api/:p/:e/connections/:conn_id/test` against the real peers of
//! `patchbay_tests::peers`, on both storage backends — for every type
//! success and `auth` (the wrong password in no answer), `refused`, `dns`,
//! `blocked` for `0.0.0.0` / `[::]`, the outcome recorded as `last_test`;
//! and, once, a silent peer answered `timeout` within 5.5 s while the
//! server keeps serving. Every address here is loopback or `.invalid`.

use std::time::{Duration, Instant};

use awc::http::Method;
use patchbay_tests::{Backend, Options, TestApp, on_both_backends, peers, run, run_with};
use serde_json::{Value, json};

use crate::support::canvas;

const TEST_FAILED: &str = "connection test failed -- check server logs for details";

fn connected(driver: &str) -> Value {
    json!({"success": true, "message": format!("Connected successfully ({driver})"), "driver": driver})
}

fn failed(reason: &str) -> Value {
    json!({"success": false, "error": TEST_FAILED, "reason": reason})
}

/// One environment to create connections in, and a counter for conn_ids.
struct Env<'a> {
    app: &'a TestApp,
    token: String,
    base: String,
    n: std::cell::Cell<u32>,
}

impl Env<'_> {
    /// Creates a connection from `body` (a fresh conn_id is added), tests
    /// it, checks the answer is `expected` and that it was recorded as
    /// `last_test`; `secret` (if any) must not appear in the test's answer,
    /// nor — when it is the password — in the record.
    async fn check(&self, body: Value, expected: &Value, secret: Option<&str>) {
        let n = self.n.get() + 1;
        self.n.set(n);
        let conn_id = format!("{}-{n}", body["type"].as_str().unwrap());
        let mut body = body;
        body["conn_id"] = json!(conn_id);
        let t = Some(self.token.as_str());
        let res = self
            .app
            .client
            .post(&format!("{}/connections", self.base), t, &body)
            .await;
        assert_eq!(res.status, 201, "{body} → {}", res.text());
        let res = self
            .app
            .client
            .request(
                Method::POST,
                &format!("{}/connections/{conn_id}/test", self.base),
                t,
                None,
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        assert_eq!(&res.json(), expected, "{body}");
        let got = self
            .app
            .client
            .get(&format!("{}/connections/{conn_id}", self.base), t)
            .await;
        assert_eq!(got.status, 200, "{}", got.text());
        let record = &got.json()["last_test"];
        assert_eq!(record["success"], expected["success"], "{record}");
        assert_eq!(
            record["reason"],
            expected.get("reason").cloned().unwrap_or(Value::Null),
            "{record}"
        );
        if let Some(secret) = secret {
            assert!(
                !res.text().contains(secret),
                "the test answer echoed a secret"
            );
            // A password is masked in the record; `extra` (s3's secret key)
            // is shown to members by design (SPEC §8), so only a password is
            // checked there.
            if body["password"] == json!(secret) {
                assert!(
                    !got.text().contains(secret),
                    "the record echoed a secret: {}",
                    got.text()
                );
            }
        }
    }

    /// The answers every network type shares: refused port, `.invalid`
    /// name, unspecified addresses (refused before any packet).
    async fn unreachable(&self, body: &Value) {
        let with = |host: &str, port: u16| {
            let mut b = body.clone();
            b["host"] = json!(host);
            b["port"] = json!(port);
            b
        };
        self.check(
            with("127.0.0.1", peers::closed_port()),
            &failed("refused"),
            None,
        )
        .await;
        self.check(with("nonexistent.invalid", 4000), &failed("dns"), None)
            .await;
        for host in ["0.0.0.0", "[::]"] {
            self.check(with(host, 4000), &failed("blocked"), None).await;
        }
    }
}

async fn env(app: &TestApp) -> Env<'_> {
    let (token, base) = canvas(app, "owner", "probes").await;
    Env {
        app,
        token,
        base,
        n: std::cell::Cell::new(0),
    }
}

/// Every type against its real peer, through the API.
async fn every_type_against_real_peers(app: &TestApp) {
    let e = env(app).await;

    if let Some(pg) = peers::postgres() {
        let body = json!({"type": "postgres", "host": "127.0.0.1", "port": pg.port,
                          "schema": pg.database, "login": pg.user, "password": pg.password});
        e.check(
            body.clone(),
            &connected("tokio-postgres"),
            Some(&pg.password),
        )
        .await;
        let wrong = "api-wrong-pg-1f2e";
        let mut bad = body.clone();
        bad["password"] = json!(wrong);
        e.check(bad, &failed("auth"), Some(wrong)).await;
        if let Some(tls_user) = &pg.tls_user {
            let mut tls = body.clone();
            tls["login"] = json!(tls_user);
            tls["extra"] = json!("{\"sslmode\": \"require\"}");
            e.check(tls.clone(), &connected("tokio-postgres"), None)
                .await;
            tls["extra"] = json!("{\"sslmode\": \"verify-full\"}");
            e.check(tls, &failed("tls"), None).await;
        }
        e.unreachable(&body).await;
    }

    if let Some(my) = peers::mariadb() {
        let body = json!({"type": "mysql", "host": "127.0.0.1", "port": my.port,
                          "schema": my.database, "login": my.user, "password": my.password});
        e.check(body.clone(), &connected("mysql_async"), Some(&my.password))
            .await;
        let wrong = "api-wrong-my-9a8b";
        let mut bad = body.clone();
        bad["password"] = json!(wrong);
        e.check(bad, &failed("auth"), Some(wrong)).await;
        e.unreachable(&body).await;
    }

    let http = peers::http();
    let body = json!({"type": "http", "host": "localhost", "port": http.port,
                      "login": http.user, "password": http.password,
                      "extra": "{\"path\": \"/auth\"}"});
    e.check(body.clone(), &connected("reqwest"), Some(&http.password))
        .await;
    let wrong = "api-wrong-http-77c0";
    let mut bad = body.clone();
    bad["password"] = json!(wrong);
    e.check(bad, &failed("auth"), Some(wrong)).await;
    let mut redirect = body.clone();
    redirect["extra"] = json!("{\"path\": \"/redirect/api\"}");
    e.check(redirect, &connected("reqwest"), None).await;
    let mut boom = body.clone();
    boom["extra"] = json!("{\"path\": \"/boom\"}");
    e.check(boom, &failed("protocol"), None).await;
    e.unreachable(&body).await;

    if let Some(ssh) = peers::sshd() {
        let body = json!({"type": "sftp", "host": "127.0.0.1", "port": ssh.port,
                          "login": ssh.user, "password": ssh.password});
        e.check(body.clone(), &connected("russh"), Some(&ssh.password))
            .await;
        let key = json!({"private_key": ssh.ed25519_key, "host_key_sha256": ssh.host_key_sha256});
        let with_key = json!({"type": "sftp", "host": "127.0.0.1", "port": ssh.port,
                              "login": ssh.user, "extra": key.to_string()});
        e.check(with_key, &connected("russh"), None).await;
        let wrong = "api-wrong-ssh-3d4c";
        let mut bad = body.clone();
        bad["password"] = json!(wrong);
        e.check(bad, &failed("auth"), Some(wrong)).await;
        e.unreachable(&body).await;
    }

    if let Some(s3) = peers::s3() {
        let extra = |endpoint: &str, secret: &str| {
            json!({"bucket": s3.bucket, "region": s3.region, "endpoint_url": endpoint,
                   "access_key_id": s3.access_key, "secret_access_key": secret})
            .to_string()
        };
        let endpoint = format!("http://127.0.0.1:{}", s3.port);
        e.check(
            json!({"type": "s3", "extra": extra(&endpoint, &s3.secret_key)}),
            &connected("s3-sigv4"),
            None,
        )
        .await;
        let wrong = "api-wrong-s3-5e6f";
        e.check(
            json!({"type": "s3", "extra": extra(&endpoint, wrong)}),
            &failed("auth"),
            Some(wrong),
        )
        .await;
        for (endpoint, reason) in [
            (
                format!("http://127.0.0.1:{}", peers::closed_port()),
                "refused",
            ),
            ("http://nonexistent.invalid:9000".to_owned(), "dns"),
            ("http://0.0.0.0:9000".to_owned(), "blocked"),
            ("http://[::]:9000".to_owned(), "blocked"),
        ] {
            e.check(
                json!({"type": "s3", "extra": extra(&endpoint, &s3.secret_key)}),
                &failed(reason),
                None,
            )
            .await;
        }
    }

    let body = json!({"type": "generic", "host": "127.0.0.1", "port": peers::silent_port()});
    e.check(body.clone(), &connected("tcp"), None).await;
    e.unreachable(&body).await;

    // No PATCHBAY_PROBE_SQLITE_ROOTS in the test server: sqlite is blocked
    // (success is proven at the driver level, probe_drivers.rs).
    e.check(
        json!({"type": "sqlite", "host": "/tmp/anything.db"}),
        &failed("blocked"),
        None,
    )
    .await;
}

on_both_backends!(every_type_against_real_peers);

/// A peer that never answers: `timeout` after the 5 s budget (and within
/// 5.5 s), while the server answers other requests at once.
async fn silent_peer_times_out_while_the_server_serves(app: &TestApp) {
    let e = env(app).await;
    let t = Some(e.token.as_str());
    for (conn_id, body) in [
        (
            "silent-pg",
            json!({"type": "postgres", "host": "127.0.0.1", "port": peers::silent_port(),
                   "login": "u", "password": "p"}),
        ),
        (
            "black-hole",
            json!({"type": "generic", "host": "127.0.0.1", "port": peers::black_hole_port()}),
        ),
    ] {
        let mut body = body;
        body["conn_id"] = json!(conn_id);
        let res = app
            .client
            .post(&format!("{}/connections", e.base), t, &body)
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let started = Instant::now();
    let slow = async {
        let pg = app
            .client
            .request(
                Method::POST,
                &format!("{}/connections/silent-pg/test", e.base),
                t,
                None,
            )
            .await;
        let pg_elapsed = started.elapsed();
        (pg, pg_elapsed)
    };
    let hole = async {
        let res = app
            .client
            .request(
                Method::POST,
                &format!("{}/connections/black-hole/test", e.base),
                t,
                None,
            )
            .await;
        (res, started.elapsed())
    };
    let meanwhile = async {
        // Give the tests a head start, then ask for something else.
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        let asked = Instant::now();
        let res = app.client.get(&format!("{}/connections", e.base), t).await;
        (res, asked.elapsed())
    };
    let ((pg, pg_elapsed), (hole, hole_elapsed), (list, list_elapsed)) =
        tokio::join!(slow, hole, meanwhile);
    assert_eq!(list.status, 200, "{}", list.text());
    assert!(
        list_elapsed < Duration::from_secs(1),
        "the server stalled during tests: {list_elapsed:?}"
    );
    for (res, elapsed) in [(pg, pg_elapsed), (hole, hole_elapsed)] {
        assert_eq!(res.status, 200, "{}", res.text());
        assert_eq!(res.json(), failed("timeout"));
        assert!(
            elapsed >= Duration::from_millis(4_900) && elapsed <= Duration::from_millis(5_500),
            "took {elapsed:?}"
        );
    }
}

#[actix_web::test]
async fn silent_peer_times_out_while_the_server_serves_sqlite() {
    run(
        Backend::Sqlite,
        silent_peer_times_out_while_the_server_serves,
    )
    .await;
}

/// With one test allowed in flight (`PATCHBAY_PROBE_MAX_CONCURRENT=1`), a
/// second test while the first waits on a silent peer is 429 with the
/// in-flight message, whoever asks; once the first finishes, the slot is
/// free again.
async fn a_test_past_the_in_flight_cap_is_429(app: &TestApp) {
    let e = env(app).await;
    let t = Some(e.token.as_str());
    for (conn_id, port) in [
        ("silent", peers::black_hole_port()),
        ("closed", peers::closed_port()),
    ] {
        let body =
            json!({"conn_id": conn_id, "type": "generic", "host": "127.0.0.1", "port": port});
        let res = app
            .client
            .post(&format!("{}/connections", e.base), t, &body)
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let test = |conn_id: &'static str| {
        let path = format!("{}/connections/{conn_id}/test", e.base);
        async move { app.client.request(Method::POST, &path, t, None).await }
    };
    let second = async {
        // The first test has taken its slot well before this.
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        let refused = test("closed").await;
        let ad_hoc = app
            .client
            .post(
                &format!("{}/connections/test", e.base),
                t,
                &json!({"conn_id": "probe-only", "type": "generic", "host": "127.0.0.1", "port": peers::closed_port()}),
            )
            .await;
        (refused, ad_hoc)
    };
    let (first, (refused, ad_hoc)) = tokio::join!(test("silent"), second);
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.json(), failed("timeout"));
    for res in [refused, ad_hoc] {
        res.assert_error(
            429,
            "Too Many Requests",
            "Too many connection tests are running; try again shortly",
        );
    }
    // The slot came back with the first test's answer.
    let again = test("closed").await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json(), failed("refused"));
}

#[actix_web::test]
async fn a_test_past_the_in_flight_cap_is_429_sqlite() {
    let options = Options {
        probe_max_concurrent: Some(1),
        ..Options::default()
    };
    run_with(
        Backend::Sqlite,
        options,
        a_test_past_the_in_flight_cap_is_429,
    )
    .await;
}

#[actix_web::test]
async fn a_test_past_the_in_flight_cap_is_429_postgres() {
    let options = Options {
        probe_max_concurrent: Some(1),
        ..Options::default()
    };
    run_with(
        Backend::Postgres,
        options,
        a_test_past_the_in_flight_cap_is_429,
    )
    .await;
}
