//! The connectivity tester (`patchbay_probe::Prober`) against real peers on
//! 127.0.0.1 (`patchbay_tests::peers`): for every type, success, wrong
//! password (`auth`, the password in neither the outcome nor the log),
//! refused port, unresolvable name (`dns`, without a query: `.invalid`),
//! `0.0.0.0` / `[::]` (`blocked`, without a packet), and — in one test that
//! runs them side by side — a silent peer (`timeout` within 5.5 s while
//! another test completes). Nothing here points at a non-loopback address.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use patchbay_app::ports::{
    ConnectivityTester, ProbeFailure, ProbeOutcome, ProbeRequest, SecretString,
};
use patchbay_domain::CredentialType;
use patchbay_probe::{ProbeSettings, Prober};
use patchbay_tests::peers;

fn prober() -> Prober {
    Prober::new(ProbeSettings {
        timeout: Duration::from_secs(5),
        allow_loopback: true,
        allow_private: false,
        sqlite_roots: Vec::new(),
    })
}

fn secret(text: &str) -> Option<SecretString> {
    Some(SecretString::from(text.to_owned()))
}

fn request(
    conn_type: CredentialType,
    host: &str,
    port: u16,
    login: &str,
    password: &str,
) -> ProbeRequest {
    ProbeRequest {
        conn_type,
        host: Some(host.into()),
        port: Some(port),
        schema: None,
        login: (!login.is_empty()).then(|| login.to_owned()),
        password: (!password.is_empty()).then(|| SecretString::from(password.to_owned())),
        extra: None,
    }
}

fn connected(driver: &'static str) -> ProbeOutcome {
    ProbeOutcome::Connected { driver }
}

fn failed(reason: ProbeFailure, driver: &'static str) -> ProbeOutcome {
    ProbeOutcome::Failed { reason, driver }
}

/// The tracing output of this test's thread, for checking what reaches the
/// server log (and what must not).
struct Logs {
    buf: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut buf) = self.0.lock() {
            buf.extend_from_slice(data);
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn capture() -> Self {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Sink(writer.clone()))
            .finish();
        Self {
            buf,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().unwrap()).into_owned()
    }
}

/// Runs `request` expecting `reason`, and checks `password` reaches
/// neither the outcome nor the log, while the failure itself is logged.
async fn refused_credentials(
    t: &Prober,
    request: ProbeRequest,
    driver: &'static str,
    password: &str,
) {
    let logs = Logs::capture();
    let outcome = t.test(request).await;
    assert_eq!(outcome, failed(ProbeFailure::Auth, driver));
    assert!(!format!("{outcome:?}").contains(password));
    let text = logs.text();
    assert!(text.contains("connection test failed"), "{text}");
    assert!(
        text.contains("reason=\"auth\"") || text.contains("reason=auth"),
        "{text}"
    );
    assert!(
        !text.contains(password),
        "the wrong password reached the log: {text}"
    );
}

/// The cases every network type shares: refused port, `.invalid` name,
/// unspecified addresses.
async fn unreachable(t: &Prober, make: impl Fn(&str, u16) -> ProbeRequest, driver: &'static str) {
    assert_eq!(
        t.test(make("127.0.0.1", peers::closed_port())).await,
        failed(ProbeFailure::Refused, driver),
        "refused"
    );
    assert_eq!(
        t.test(make("nonexistent.invalid", 4000)).await,
        failed(ProbeFailure::Dns, driver),
        "dns"
    );
    for host in ["0.0.0.0", "[::]"] {
        assert_eq!(
            t.test(make(host, 4000)).await,
            failed(ProbeFailure::Blocked, driver),
            "{host}"
        );
    }
}

#[tokio::test]
async fn postgres_scram_tls_and_failures() {
    let Some(pg) = peers::postgres() else { return };
    let t = prober();
    let d = "tokio-postgres";
    let pg_req = |host: &str, port: u16, user: &str, password: &str| {
        request(CredentialType::Postgres, host, port, user, password)
    };

    // SCRAM-SHA-256 over the default sslmode (prefer: TLS, since offered).
    let ok = pg_req("127.0.0.1", pg.port, &pg.user, &pg.password);
    assert_eq!(t.test(ok).await, connected(d));
    let mut ok = pg_req("localhost", pg.port, &pg.user, &pg.password);
    ok.schema = Some(pg.database.clone());
    ok.extra = secret(r#"{"sslmode": "disable"}"#);
    assert_eq!(t.test(ok).await, connected(d));

    let wrong = "wrong-pg-password-7c1d";
    refused_credentials(&t, pg_req("127.0.0.1", pg.port, &pg.user, wrong), d, wrong).await;
    let nobody = pg_req("127.0.0.1", pg.port, "nobody", wrong);
    refused_credentials(&t, nobody, d, wrong).await;
    // The server asks for a password and none is stored.
    let none = pg_req("127.0.0.1", pg.port, &pg.user, "");
    assert_eq!(t.test(none).await, failed(ProbeFailure::Auth, d));
    let mut missing_db = pg_req("127.0.0.1", pg.port, &pg.user, &pg.password);
    missing_db.schema = Some("no_such_db".into());
    assert_eq!(t.test(missing_db).await, failed(ProbeFailure::Protocol, d));

    if let Some(tls_user) = &pg.tls_user {
        // pg_hba.conf refuses this role without TLS: `require` succeeding
        // proves the session was encrypted.
        let mut over_tls = pg_req("127.0.0.1", pg.port, tls_user, &pg.password);
        over_tls.extra = secret(r#"{"sslmode": "require"}"#);
        assert_eq!(t.test(over_tls).await, connected(d));
        let mut plain = pg_req("127.0.0.1", pg.port, tls_user, &pg.password);
        plain.extra = secret(r#"{"sslmode": "disable"}"#);
        assert_eq!(t.test(plain).await, failed(ProbeFailure::Auth, d));
        // The certificate is self-signed: verification fails as `tls`.
        for mode in ["verify-full", "verify-ca"] {
            let mut verified = pg_req("localhost", pg.port, tls_user, &pg.password);
            verified.extra = secret(&format!(r#"{{"sslmode": "{mode}"}}"#));
            assert_eq!(
                t.test(verified).await,
                failed(ProbeFailure::Tls, d),
                "{mode}"
            );
        }
    } else {
        eprintln!(
            "!!!!! postgres TLS cases skipped: openssl was unavailable to make a certificate"
        );
    }

    unreachable(&t, |h, p| pg_req(h, p, &pg.user, &pg.password), d).await;
}

#[tokio::test]
async fn mysql_handshake_ping_and_failures() {
    let Some(my) = peers::mariadb() else { return };
    let t = prober();
    let d = "mysql_async";
    let my_req = |host: &str, port: u16, user: &str, password: &str| {
        request(CredentialType::Mysql, host, port, user, password)
    };
    let mut ok = my_req("127.0.0.1", my.port, &my.user, &my.password);
    ok.schema = Some(my.database.clone());
    assert_eq!(t.test(ok).await, connected(d));
    let ok = my_req("localhost", my.port, &my.user, &my.password);
    assert_eq!(t.test(ok).await, connected(d));

    let wrong = "wrong-my-password-41ae";
    refused_credentials(&t, my_req("127.0.0.1", my.port, &my.user, wrong), d, wrong).await;
    refused_credentials(&t, my_req("127.0.0.1", my.port, "nobody", wrong), d, wrong).await;
    // The peer has no TLS: asking for it fails as `tls`, not silently plain.
    let mut tls = my_req("127.0.0.1", my.port, &my.user, &my.password);
    tls.extra = secret(r#"{"sslmode": "require"}"#);
    assert_eq!(t.test(tls).await, failed(ProbeFailure::Tls, d));

    unreachable(&t, |h, p| my_req(h, p, &my.user, &my.password), d).await;
}

#[tokio::test]
async fn sqlite_opens_files_under_the_roots_only() {
    let root = tempfile::tempdir().unwrap();
    let db = root.path().join("app.db");
    {
        use diesel::connection::{Connection as _, SimpleConnection as _};
        let mut conn = diesel::SqliteConnection::establish(&db.to_string_lossy()).unwrap();
        conn.batch_execute("CREATE TABLE t (x INTEGER)").unwrap();
    }
    let sqlite = |path: &PathBuf| ProbeRequest {
        conn_type: CredentialType::Sqlite,
        host: Some(path.to_string_lossy().into_owned()),
        port: None,
        schema: None,
        login: None,
        password: None,
        extra: None,
    };
    let d = "sqlite";
    let confined = Prober::new(ProbeSettings {
        sqlite_roots: vec![root.path().to_owned()],
        ..ProbeSettings::default()
    });
    assert_eq!(confined.test(sqlite(&db)).await, connected(d));
    assert_eq!(
        confined.test(sqlite(&root.path().join("missing.db"))).await,
        failed(ProbeFailure::Refused, d)
    );
    let escape = root.path().join("..").join("etc").join("passwd");
    assert_eq!(
        confined.test(sqlite(&escape)).await,
        failed(ProbeFailure::Blocked, d)
    );
    // The default: no roots, every sqlite test is blocked.
    assert_eq!(
        prober().test(sqlite(&db)).await,
        failed(ProbeFailure::Blocked, d)
    );
}

#[tokio::test]
async fn http_statuses_auth_redirects_and_failures() {
    let http = peers::http();
    let t = prober();
    let d = "reqwest";
    let at = |path: &str, login: &str, password: &str| {
        let mut req = request(
            CredentialType::Http,
            "localhost",
            http.port,
            login,
            password,
        );
        req.extra = secret(&format!(r#"{{"path": "{path}"}}"#));
        req
    };
    assert_eq!(t.test(at("/ok", "", "")).await, connected(d));
    assert_eq!(
        t.test(at("/missing", "", "")).await,
        connected(d),
        "404 is up"
    );
    assert_eq!(
        t.test(at("/auth", &http.user, &http.password)).await,
        connected(d)
    );
    let wrong = "wrong-http-password-93f0";
    refused_credentials(&t, at("/auth", &http.user, wrong), d, wrong).await;
    assert_eq!(
        t.test(at("/auth", "", "")).await,
        failed(ProbeFailure::Auth, d)
    );
    assert_eq!(
        t.test(at("/boom", "", "")).await,
        failed(ProbeFailure::Protocol, d)
    );

    // A redirect is an answer; it is not followed.
    let token = uuid::Uuid::new_v4().simple().to_string();
    assert_eq!(
        t.test(at(&format!("/redirect/{token}"), "", "")).await,
        connected(d)
    );
    // HEAD refused with 405: one GET follows.
    assert_eq!(t.test(at("/no-head", "", "")).await, connected(d));
    let seen = http.requests();
    assert!(
        seen.contains(&format!("HEAD /redirect/{token}")),
        "{seen:?}"
    );
    assert!(
        !seen.iter().any(|r| r.contains(&format!("/landed/{token}"))),
        "the redirect was followed: {seen:?}"
    );
    assert!(seen.contains(&"HEAD /no-head".to_owned()), "{seen:?}");
    assert!(seen.contains(&"GET /no-head".to_owned()), "{seen:?}");

    unreachable(&t, |h, p| request(CredentialType::Http, h, p, "", ""), d).await;
}

#[tokio::test]
async fn sftp_password_keys_host_key_pin_and_failures() {
    let Some(ssh) = peers::sshd() else { return };
    let t = prober();
    let d = "russh";
    let ssh_req = |password: &str, extra: Option<String>| {
        let mut req = request(
            CredentialType::Sftp,
            "127.0.0.1",
            ssh.port,
            &ssh.user,
            password,
        );
        req.extra = extra.and_then(|e| secret(&e));
        req
    };
    let key_extra = |key: &str, pin: Option<&str>| {
        let mut doc = serde_json::json!({ "private_key": key });
        if let Some(pin) = pin {
            doc["host_key_sha256"] = serde_json::json!(pin);
        }
        Some(doc.to_string())
    };

    assert_eq!(t.test(ssh_req(&ssh.password, None)).await, connected(d));
    assert_eq!(
        t.test(ssh_req("", key_extra(&ssh.ed25519_key, None))).await,
        connected(d)
    );
    assert_eq!(
        t.test(ssh_req("", key_extra(&ssh.rsa_key, None))).await,
        connected(d)
    );
    // The right pin passes; any other host key fails before credentials go.
    assert_eq!(
        t.test(ssh_req(
            "",
            key_extra(&ssh.ed25519_key, Some(&ssh.host_key_sha256))
        ))
        .await,
        connected(d)
    );
    let other_pin = format!("SHA256:{}", "A".repeat(43));
    assert_eq!(
        t.test(ssh_req(
            &ssh.password,
            key_extra(&ssh.ed25519_key, Some(&other_pin))
        ))
        .await,
        failed(ProbeFailure::Tls, d)
    );

    let wrong = "wrong-ssh-password-5b2e";
    refused_credentials(&t, ssh_req(wrong, None), d, wrong).await;
    assert_eq!(
        t.test(ssh_req("", key_extra(&ssh.stranger_key, None)))
            .await,
        failed(ProbeFailure::Auth, d)
    );
    let mut nobody = ssh_req(wrong, None);
    nobody.login = Some("nobody-here".into());
    refused_credentials(&t, nobody, d, wrong).await;

    unreachable(
        &t,
        |h, p| request(CredentialType::Sftp, h, p, &ssh.user, &ssh.password),
        d,
    )
    .await;
}

fn s3_request(endpoint: &str, bucket: &str, access_key: &str, secret_key: &str) -> ProbeRequest {
    let extra = serde_json::json!({
        "bucket": bucket,
        "region": "us-east-1",
        "endpoint_url": endpoint,
        "access_key_id": access_key,
        "secret_access_key": secret_key,
    });
    ProbeRequest {
        conn_type: CredentialType::S3,
        host: None,
        port: None,
        schema: None,
        login: None,
        password: None,
        extra: secret(&extra.to_string()),
    }
}

#[tokio::test]
async fn s3_sigv4_is_verified_by_the_peer() {
    let Some(s3) = peers::s3() else { return };
    let t = prober();
    let d = "s3-sigv4";
    let endpoint = format!("http://127.0.0.1:{}", s3.port);
    assert_eq!(
        t.test(s3_request(
            &endpoint,
            &s3.bucket,
            &s3.access_key,
            &s3.secret_key
        ))
        .await,
        connected(d)
    );
    let by_name = format!("http://localhost:{}", s3.port);
    assert_eq!(
        t.test(s3_request(
            &by_name,
            &s3.bucket,
            &s3.access_key,
            &s3.secret_key
        ))
        .await,
        connected(d)
    );
    // The peer checks the signature: a wrong secret is refused.
    let wrong = "wrong-s3-secret-0d5c";
    refused_credentials(
        &t,
        s3_request(&endpoint, &s3.bucket, &s3.access_key, wrong),
        d,
        wrong,
    )
    .await;
    assert_eq!(
        t.test(s3_request(
            &endpoint,
            &s3.bucket,
            "AKUNKNOWN",
            &s3.secret_key
        ))
        .await,
        failed(ProbeFailure::Auth, d)
    );
    assert_eq!(
        t.test(s3_request(
            &endpoint,
            "no-such-bucket",
            &s3.access_key,
            &s3.secret_key
        ))
        .await,
        failed(ProbeFailure::Protocol, d)
    );

    unreachable(
        &t,
        |h, p| {
            let host = if h.contains(':') && !h.starts_with('[') {
                format!("[{h}]")
            } else {
                h.to_owned()
            };
            s3_request(
                &format!("http://{host}:{p}"),
                &s3.bucket,
                &s3.access_key,
                &s3.secret_key,
            )
        },
        d,
    )
    .await;
}

#[tokio::test]
async fn generic_tcp_connects_and_fails() {
    let t = prober();
    let d = "tcp";
    let ok = request(
        CredentialType::Generic,
        "127.0.0.1",
        peers::silent_port(),
        "",
        "",
    );
    assert_eq!(t.test(ok).await, connected(d));
    let ok = request(
        CredentialType::Generic,
        "localhost",
        peers::http().port,
        "",
        "",
    );
    assert_eq!(t.test(ok).await, connected(d));
    unreachable(&t, |h, p| request(CredentialType::Generic, h, p, "", ""), d).await;
}

/// Every type against a peer that accepts and never answers (a black hole
/// for `generic`, which only connects): `timeout` after the 5 s budget and
/// within 5.5 s — all at once, while a quick test beside them finishes in
/// well under a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_peers_time_out_within_the_budget_while_others_proceed() {
    let t = prober();
    let silent = peers::silent_port();
    let hole = peers::black_hole_port();
    let http = peers::http();
    let timed = |req: ProbeRequest| {
        let t = t.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let outcome = t.test(req).await;
            (outcome, started.elapsed())
        })
    };
    let mut silent_http = request(CredentialType::Http, "127.0.0.1", http.port, "", "");
    silent_http.extra = secret(r#"{"path": "/silent"}"#);
    let cases = vec![
        (
            "tokio-postgres",
            timed(request(
                CredentialType::Postgres,
                "127.0.0.1",
                silent,
                "u",
                "p",
            )),
        ),
        (
            "mysql_async",
            timed(request(
                CredentialType::Mysql,
                "127.0.0.1",
                silent,
                "u",
                "p",
            )),
        ),
        ("reqwest", timed(silent_http)),
        (
            "russh",
            timed(request(CredentialType::Sftp, "127.0.0.1", silent, "u", "p")),
        ),
        (
            "s3-sigv4",
            timed(s3_request(
                &format!("http://127.0.0.1:{silent}"),
                "b",
                "AK",
                "SK",
            )),
        ),
        (
            "tcp",
            timed(request(CredentialType::Generic, "127.0.0.1", hole, "", "")),
        ),
    ];
    // Meanwhile, an ordinary test completes at once.
    let quick_started = Instant::now();
    let mut quick = request(CredentialType::Http, "127.0.0.1", http.port, "", "");
    quick.extra = secret(r#"{"path": "/ok"}"#);
    assert_eq!(t.test(quick).await, connected("reqwest"));
    assert!(
        quick_started.elapsed() < Duration::from_secs(1),
        "a quick test waited for the silent ones: {:?}",
        quick_started.elapsed()
    );
    for (driver, handle) in cases {
        let (outcome, elapsed) = handle.await.unwrap();
        assert_eq!(outcome, failed(ProbeFailure::Timeout, driver));
        assert!(
            elapsed >= Duration::from_millis(4_900) && elapsed <= Duration::from_millis(5_500),
            "{driver} took {elapsed:?}"
        );
    }
}
