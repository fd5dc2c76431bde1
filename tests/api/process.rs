//! Operational promises only the real binary shows (SPEC §4, §9): SIGTERM
//! lets a request in flight finish and refuses new connections; a 500's
//! detail reaches the log with the request id while the client sees none of
//! it; the CLI (`migrate`, `user create`, `secrets generate-key`) works as a
//! process on both backends.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use patchbay_tests::process::{ServerProcess, run_cli};
use patchbay_tests::{Backend, exec_sql};
use serde_json::json;

/// A fresh, empty database for `backend` (its URL) and what removes it.
async fn database(backend: Backend) -> Option<(String, Cleanup)> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("patchbay.db").display());
            Some((url, Cleanup::Sqlite(dir)))
        }
        Backend::Postgres => {
            let test = patchbay_test_postgres::current_test();
            match patchbay_test_postgres::fresh_database(&test).await {
                patchbay_test_postgres::Fresh::Database { url, name, .. } => {
                    Some((url, Cleanup::Postgres(name)))
                }
                patchbay_test_postgres::Fresh::Skipped => None,
            }
        }
    }
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(String),
}

impl Cleanup {
    async fn run(self) {
        if let Self::Postgres(name) = self {
            patchbay_test_postgres::drop_database(&name).await;
        }
    }
}

/// Declares `<name>::sqlite` and `<name>::postgres` for `async fn(Backend)`.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[actix_web::test]
            async fn sqlite() {
                super::$name(patchbay_tests::Backend::Sqlite).await;
            }
            #[actix_web::test]
            async fn postgres() {
                super::$name(patchbay_tests::Backend::Postgres).await;
            }
        }
    )*};
}

fn read_all(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a new connection is served: `false` when it is refused, reset
/// or closed without an answer.
fn served(addr: std::net::SocketAddr) -> bool {
    let Ok(mut c) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
    if c.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    read_all(&mut c).starts_with("HTTP/1.1 200")
}

async fn sigterm_finishes_the_request_in_flight_and_refuses_new_ones(backend: Backend) {
    let Some((url, cleanup)) = database(backend).await else {
        return;
    };
    let mut server = ServerProcess::start(&url, &[]);
    assert!(served(server.addr));
    // A request in flight: headers and half of the body sent.
    let body =
        json!({"email": "slow@example.com", "password": "long enough", "name": "Slow"}).to_string();
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        slow,
        "POST /api/auth/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    slow.write_all(first).unwrap();
    slow.flush().unwrap();
    // Let the server take the request in (headers parsed, handler waiting
    // for the body) before the signal, even on a loaded machine.
    std::thread::sleep(Duration::from_millis(1500));

    server.signal("TERM");
    // New connections are refused (give the signal a moment to land).
    let deadline = Instant::now() + Duration::from_secs(5);
    while served(server.addr) {
        assert!(
            Instant::now() < deadline,
            "still serving new connections 5 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The request in flight completes normally.
    slow.write_all(rest).unwrap();
    let answer = read_all(&mut slow);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(answer.contains("slow@example.com"), "{answer}");
    // Then the process exits cleanly.
    let status = server.wait(Duration::from_secs(20));
    assert!(
        status.is_some_and(|s| s.success()),
        "exit {status:?}; log:\n{}",
        server.log()
    );
    assert!(server.log().contains("stopped"), "{}", server.log());
    cleanup.run().await;
}

async fn a_500_is_generic_for_the_client_and_detailed_in_the_log(backend: Backend) {
    let Some((url, cleanup)) = database(backend).await else {
        return;
    };
    let server = ServerProcess::start(&url, &[]);
    let res = server
        .client
        .post(
            "/api/auth/register",
            None,
            &json!({"email": "ada@example.com", "password": "long enough", "name": "Ada"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let token = res.json()["token"].as_str().unwrap().to_owned();
    exec_sql(&url, "ALTER TABLE projects RENAME TO projects_gone").await;
    let res = server.client.get("/api/v1/projects", Some(&token)).await;
    res.assert_error(
        500,
        "Internal Server Error",
        "An unexpected error occurred; see the server log for this request id",
    );
    let request_id = res.header("x-request-id").unwrap().to_owned();
    // The driver's words, which the client must not see and the log must.
    let detail = match backend {
        Backend::Sqlite => "no such table: projects",
        Backend::Postgres => "relation \"projects\" does not exist",
    };
    assert!(!res.text().contains("projects"), "{}", res.text());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = server.log();
        let line = log
            .lines()
            .find(|l| l.contains(&request_id) && l.contains(detail));
        if let Some(line) = line {
            assert!(line.contains("ERROR"), "{line}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no log line with request id {request_id} and {detail:?}:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(server);
    cleanup.run().await;
}

async fn the_cli_migrates_creates_users_and_generates_keys(backend: Backend) {
    let Some((url, cleanup)) = database(backend).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let migrations = std::fs::read_dir(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../migrations")
            .join(match backend {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgres",
            }),
    )
    .unwrap()
    .filter(|e| e.as_ref().unwrap().path().is_dir())
    .count();

    let ran = run_cli(dir, &url, &["migrate"], None);
    assert!(ran.status.success(), "{ran:?}");
    assert!(
        ran.stdout
            .starts_with(&format!("applied {migrations} migration(s) on ")),
        "{ran:?}"
    );
    let ran = run_cli(dir, &url, &["migrate"], None);
    assert!(ran.status.success(), "{ran:?}");
    assert!(
        ran.stdout.starts_with("applied 0 migration(s) on "),
        "{ran:?}"
    );

    let create = |email: &str, password: &str, admin: bool| {
        let mut args = vec!["user", "create", "--email", email, "--name", "Ops"];
        if admin {
            args.push("--admin");
        }
        run_cli(dir, &url, &args, Some(&format!("{password}\n")))
    };
    let ran = create("Admin@Example.com", "correct horse battery", true);
    assert!(ran.status.success(), "{ran:?}");
    let line = ran.stdout.trim();
    let id = line
        .strip_prefix("created user ")
        .and_then(|rest| rest.split_once(' '))
        .map(|(id, _)| id)
        .unwrap_or_default();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{line}");
    assert!(
        line.ends_with("<admin@example.com> (instance admin)"),
        "{line}"
    );
    let ran = create("admin@example.com", "another password", false);
    assert!(!ran.status.success(), "{ran:?}");
    assert!(
        ran.stderr
            .contains("patchbay: A user with this email already exists"),
        "{ran:?}"
    );
    let ran = create("short@example.com", "short", false);
    assert!(!ran.status.success(), "{ran:?}");
    assert!(
        ran.stderr
            .contains("patchbay: password: a password must be at least 8 characters long"),
        "{ran:?}"
    );
    assert!(
        !ran.stderr.contains("short\n"),
        "the password is not echoed"
    );

    let key = |_: ()| {
        let ran = run_cli(dir, &url, &["secrets", "generate-key"], None);
        assert!(ran.status.success(), "{ran:?}");
        ran.stdout.trim().to_owned()
    };
    let (k1, k2) = (key(()), key(()));
    assert_ne!(k1, k2, "each key is new");
    for k in [&k1, &k2] {
        let (id, hex) = k.split_once(':').unwrap();
        assert!(id.starts_with('k') && id.len() == 13, "{k}");
        assert!(
            hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            "{k}"
        );
    }

    // A server with the generated key ring serves the account the CLI made.
    let server = ServerProcess::start(&url, &[("PATCHBAY_SECRET_KEYS", &k1)]);
    let res = server
        .client
        .post(
            "/api/auth/login",
            None,
            &json!({"email": "admin@example.com", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["user"]["id"], id);
    assert_eq!(res.json()["user"]["is_admin"], true);
    drop(server);
    cleanup.run().await;
}

/// Three servers started at the same moment against one fresh database all
/// come up (their migrations run one after another under PostgreSQL's
/// advisory lock; SQLite serialises writers itself) and serve the same data.
async fn servers_started_together_migrate_once(backend: Backend) {
    let Some((url, cleanup)) = database(backend).await else {
        return;
    };
    let servers: Vec<ServerProcess> = std::thread::scope(|scope| {
        let starts: Vec<_> = (0..3)
            .map(|_| scope.spawn(|| ServerProcess::start(&url, &[])))
            .collect();
        starts.into_iter().map(|s| s.join().unwrap()).collect()
    });
    for server in &servers {
        assert!(served(server.addr), "a server did not come up");
    }
    let res = servers[0]
        .client
        .post(
            "/api/auth/register",
            None,
            &json!({"email": "together@example.com", "password": "correct horse battery", "name": "T"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let res = servers[2]
        .client
        .post(
            "/api/auth/login",
            None,
            &json!({"email": "together@example.com", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    drop(servers);
    cleanup.run().await;
}

on_both!(
    servers_started_together_migrate_once,
    sigterm_finishes_the_request_in_flight_and_refuses_new_ones,
    a_500_is_generic_for_the_client_and_detailed_in_the_log,
    the_cli_migrates_creates_users_and_generates_keys,
);
