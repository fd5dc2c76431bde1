//! The security proofs of credential connections (issue 9, SPEC §8),
//! black-box:
//!
//! - **Canaries**: a canary password and a canary `extra` value written
//!   through the API (create and `PUT`) never come back in a response body
//!   or header of the whole walk, never reach the log of the real binary at
//!   `RUST_LOG=debug`, and are not in the SQLite database files or a
//!   `pg_dump` of the PostgreSQL database. One exception is the contract
//!   itself: a member's single-connection answers (create, get, put) carry
//!   `extra` decrypted, so the `extra` canary (under a sensitive key) may
//!   appear there and only there; viewers get it masked.
//! - **Moved and tampered ciphertexts**: a sealed value copied to another
//!   row, to the other field of its row, flipped by one character or
//!   relabelled with another key id fails to open: `GET` and `POST …/test`
//!   answer 500 in the error shape with a message that leaks nothing, and
//!   the test never runs (its peer sees no connection, `last_test` stays
//!   null).
//! - **Rotation under load**: values sealed under `k1` are re-sealed under
//!   `k2` by `secrets_service(..).rotate` while concurrent `PUT`s run against
//!   a server on the same database; none is lost or overwritten with older
//!   data, a second rotation has nothing to do, a ring without `k1` is
//!   refused before and accepted after, and every secret still opens — the
//!   stored passwords and `extra` documents are proven exact by an HTTP peer
//!   that checks the basic-auth password and the path `extra` names.
//! - **CLI**: `patchbay secrets status|rotate` (and the refusal of
//!   `patchbay serve`) as processes against a SQLite database.

use std::collections::HashMap;
use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use patchbay_tests::{Backend, Options, Response, TestApp, TestClient, process};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{create_project, email, register};

// ---------------------------------------------------------------------------
// Key rings, canaries, peers
// ---------------------------------------------------------------------------

/// A key-ring entry `id:<64 hex>` with fresh key material.
fn key_entry(id: &str) -> String {
    format!(
        "{id}:{}{}",
        Uuid::new_v4().simple(),
        Uuid::new_v4().simple()
    )
}

/// The key material (hex) of a ring, entry by entry.
fn key_material(ring: &str) -> Vec<String> {
    ring.split(',')
        .filter_map(|e| e.split_once(':').map(|(_, hex)| hex.to_owned()))
        .collect()
}

/// A string that occurs nowhere unless this test put it there.
fn canary(label: &str) -> String {
    format!("canary{label}{}", Uuid::new_v4().simple())
}

/// A loopback listener that never accepts: a connection completes in its
/// backlog, so [`SilentPeer::connections`] tells whether anyone dialled it.
#[derive(Debug)]
struct SilentPeer {
    listener: TcpListener,
}

impl SilentPeer {
    fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        Self { listener }
    }

    fn port(&self) -> u16 {
        self.listener.local_addr().expect("addr").port()
    }

    /// Connections made since the last call.
    fn connections(&self) -> usize {
        let mut n = 0;
        loop {
            match self.listener.accept() {
                Ok(_) => n += 1,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return n,
                Err(e) => panic!("accept: {e}"),
            }
        }
    }
}

/// A loopback HTTP server that answers 200 only to a request whose basic
/// auth and path are the ones expected for its login, 401 otherwise: a
/// connectivity test of an `http` connection succeeds only when the stored
/// password and `extra` (its `path`) are exactly what the test last wrote.
#[derive(Debug)]
struct AuthPeer {
    port: u16,
    /// login → (password, path).
    expected: Arc<Mutex<HashMap<String, (String, String)>>>,
    /// (login, accepted) per request, in order.
    seen: Arc<Mutex<Vec<(String, bool)>>>,
    stop: Arc<AtomicBool>,
}

impl AuthPeer {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let expected = Arc::new(Mutex::new(HashMap::new()));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (e, s, st) = (expected.clone(), seen.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let (e, s) = (e.clone(), s.clone());
                std::thread::spawn(move || answer(stream, &e, &s));
            }
        });
        Self {
            port,
            expected,
            seen,
            stop,
        }
    }

    fn expect(&self, login: &str, password: &str, path: &str) {
        self.expected
            .lock()
            .expect("lock")
            .insert(login.to_owned(), (password.to_owned(), path.to_owned()));
    }

    fn seen(&self) -> Vec<(String, bool)> {
        self.seen.lock().expect("lock").clone()
    }
}

impl Drop for AuthPeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads one request and answers 200 or 401 (see [`AuthPeer`]).
fn answer(
    mut stream: TcpStream,
    expected: &Mutex<HashMap<String, (String, String)>>,
    seen: &Mutex<Vec<(String, bool)>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_default()
        .to_owned();
    let credentials = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("authorization"))
        .and_then(|(_, value)| value.trim().strip_prefix("Basic ").map(str::to_owned))
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|s| s.split_once(':').map(|(l, p)| (l.to_owned(), p.to_owned())));
    let (login, ok) = match credentials {
        Some((login, password)) => {
            let ok = expected
                .lock()
                .expect("lock")
                .get(&login)
                .is_some_and(|(p, want_path)| *p == password && *want_path == path);
            (login, ok)
        }
        None => (String::new(), false),
    };
    seen.lock().expect("lock").push((login, ok));
    let status = if ok { "200 OK" } else { "401 Unauthorized" };
    let _ = stream.write_all(
        format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").as_bytes(),
    );
}

// ---------------------------------------------------------------------------
// Reading and changing sealed values directly in the database
// ---------------------------------------------------------------------------

/// A `credential_connections` row's sealed columns, as stored.
#[derive(Debug, Clone, diesel::QueryableByName)]
struct SealedRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    conn_id: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    password_key_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    password_sealed: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    extra_key_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    extra_sealed: Option<String>,
}

impl SealedRow {
    fn ciphertexts(&self) -> Vec<String> {
        [&self.password_sealed, &self.extra_sealed]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    }
}

const SEALED_SQL: &str = "SELECT CAST(id AS TEXT) AS id, conn_id, password_key_id, \
     password_sealed, extra_key_id, extra_sealed FROM credential_connections ORDER BY conn_id, id";

/// Every credential row of `app`'s database.
async fn sealed_rows(app: &TestApp) -> Vec<SealedRow> {
    match app.backend {
        Backend::Sqlite => {
            use diesel::RunQueryDsl as _;
            use diesel::connection::Connection as _;
            let path = app.settings.database_url.trim_start_matches("sqlite://");
            let mut conn = diesel::SqliteConnection::establish(path).expect("open sqlite");
            diesel::sql_query("PRAGMA busy_timeout = 10000")
                .execute(&mut conn)
                .expect("pragma");
            diesel::sql_query(SEALED_SQL)
                .load(&mut conn)
                .expect("select")
        }
        Backend::Postgres => {
            use diesel_async::{AsyncConnection as _, RunQueryDsl as _};
            let mut conn = diesel_async::AsyncPgConnection::establish(&app.settings.database_url)
                .await
                .expect("connect");
            diesel::sql_query(SEALED_SQL)
                .load(&mut conn)
                .await
                .expect("select")
        }
    }
}

/// The row of `conn_id` (the first, when clones share the name).
async fn sealed_row(app: &TestApp, conn_id: &str) -> SealedRow {
    sealed_rows(app)
        .await
        .into_iter()
        .find(|r| r.conn_id == conn_id)
        .unwrap_or_else(|| panic!("no row for {conn_id}"))
}

/// `text` with the character in its middle replaced by another base64
/// character (the middle is never padding, so the decoded bytes change).
fn flip_one_char(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let mid = chars.len() / 2;
    chars[mid] = if chars[mid] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

// ---------------------------------------------------------------------------
// The real binary, as a process
// ---------------------------------------------------------------------------

/// Collects a child's stdout and stderr while it runs, up to `limit`.
fn wait_output(mut child: Child, limit: Duration, what: &str) -> Output {
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let err = stderr.map(|h| h.join().unwrap_or_default());
            panic!(
                "{what} did not finish within {limit:?}:\n{}",
                String::from_utf8_lossy(&err.unwrap_or_default())
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: stdout
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default(),
        stderr: stderr
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default(),
    }
}

fn drain(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = pipe.read_to_end(&mut all);
        all
    })
}

/// A `patchbay` command on `database_url` with the key ring `ring`, its
/// output piped (see [`process::command`] for the clean environment).
fn patchbay_command(dir: &Path, database_url: &str, ring: &str) -> Command {
    let mut cmd = process::command(dir, database_url);
    cmd.env("PATCHBAY_SECRET_KEYS", ring)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs `patchbay <args>` to completion; returns (success, stdout, stderr).
fn run_cli(database_url: &str, ring: &str, args: &[&str]) -> (bool, String, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = patchbay_command(dir.path(), database_url, ring);
    cmd.args(args);
    let out = wait_output(
        cmd.spawn().expect("spawn patchbay"),
        Duration::from_secs(120),
        &format!("patchbay {}", args.join(" ")),
    );
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        strip_ansi(&String::from_utf8_lossy(&out.stderr)),
    )
}

/// `text` without ANSI escape sequences.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `patchbay serve` as a child process at `RUST_LOG=debug`, stdout and
/// stderr captured.
#[derive(Debug)]
struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<Vec<u8>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl ServerProcess {
    fn start(database_url: &str, ring: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut cmd = patchbay_command(dir.path(), database_url, ring);
        cmd.arg("serve")
            .env("PATCHBAY_WORKERS", "2")
            .env("RUST_LOG", "debug");
        let mut child = cmd.spawn().expect("spawn patchbay serve");
        let log = Arc::new(Mutex::new(Vec::new()));
        let readers = [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        .map(|mut pipe| {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                loop {
                    match pipe.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => log.lock().expect("lock").extend_from_slice(&buf[..n]),
                    }
                }
            })
        })
        .collect();
        let deadline = Instant::now() + Duration::from_secs(120);
        let addr = loop {
            let text = strip_ansi(&String::from_utf8_lossy(&log.lock().expect("lock")));
            let listening = text
                .lines()
                .filter(|l| l.contains("listening"))
                .find_map(|l| l.split("addr=").nth(1))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|a| a.parse::<SocketAddr>().ok());
            if let Some(addr) = listening {
                break addr;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("patchbay serve exited ({status}) before listening:\n{text}");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("patchbay serve did not listen within 120 s:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Self {
            child,
            addr,
            log,
            readers,
            _dir: dir,
        }
    }

    fn client(&self) -> TestClient {
        TestClient::new(self.addr)
    }

    /// Stops the server (SIGTERM, then SIGKILL after 15 s) and returns
    /// everything it wrote.
    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        strip_ansi(&String::from_utf8_lossy(&self.log.lock().expect("lock")))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `pg_dump` of the database at `url` (plain SQL text): the newest server
/// version's binary under /usr/lib/postgresql, else the one on `PATH`.
fn pg_dump(url: &str) -> String {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin").join("pg_dump"))
        .filter(|p| p.is_file())
        .collect();
    candidates.sort_by_key(|p| {
        p.components()
            .nth(4)
            .and_then(|c| c.as_os_str().to_str()?.parse::<u32>().ok())
            .unwrap_or(0)
    });
    let bin = candidates.pop().unwrap_or_else(|| PathBuf::from("pg_dump"));
    let out = Command::new(&bin)
        .args(["--no-owner", "--no-privileges", "--dbname", url])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    assert!(
        out.status.success(),
        "{} failed: {}",
        bin.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// ---------------------------------------------------------------------------
// API helpers on any client
// ---------------------------------------------------------------------------

async fn register_on(client: &TestClient, local: &str) -> (String, String) {
    let res = client
        .post(
            "/api/auth/register",
            None,
            &json!({"email": email(local), "password": "correct horse battery", "name": "Canary Tester"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let body = res.json();
    (
        body["user"]["id"].as_str().expect("user id").to_owned(),
        body["token"].as_str().expect("token").to_owned(),
    )
}

/// The id of environment `name` of project `project_id`.
async fn environment_id(client: &TestClient, token: &str, project_id: &str, name: &str) -> String {
    let res = client
        .get(
            &format!("/api/v1/projects/{project_id}/environments"),
            Some(token),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()
        .as_array()
        .expect("environments")
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["id"].as_str())
        .expect("environment")
        .to_owned()
}

/// Asserts the 500 a sealed value that fails to open must produce: the
/// error shape with the generic message, and nothing of the row's secrets,
/// key ids, SQL or ciphertexts in it.
#[track_caller]
fn assert_opaque_500(res: &Response, leaks: &[&str]) {
    res.assert_error(
        500,
        "Internal Server Error",
        "An unexpected error occurred; see the server log for this request id",
    );
    let text = res.text().to_lowercase();
    for word in [
        "select",
        "update",
        "credential_connections",
        "sealed",
        "key id",
    ] {
        assert!(!text.contains(word), "{}: {word} in {text}", res.request);
    }
    for leak in leaks {
        assert!(
            !text.contains(&leak.to_lowercase()),
            "{}: leaked {leak}",
            res.request
        );
        // No 16-character window of a ciphertext either.
        let chars: Vec<char> = leak.chars().collect();
        for window in chars.windows(16) {
            let w: String = window.iter().collect();
            assert!(
                !res.text().contains(&w),
                "{}: leaked part of {leak}",
                res.request
            );
        }
    }
}

// ---------------------------------------------------------------------------
// 1. Canaries
// ---------------------------------------------------------------------------

/// Every response of the walk, and whether it may carry the `extra` canary
/// (a member's single-connection answer, by contract).
#[derive(Debug, Default)]
struct Walk {
    seen: Vec<(Response, bool)>,
}

impl Walk {
    fn record(&mut self, res: Response, may_show_extra: bool) -> Response {
        self.seen.push((res.clone(), may_show_extra));
        res
    }

    fn assert_clean(&self, passwords: &[&str], extras: &[&str]) {
        for (res, may_show_extra) in &self.seen {
            let mut exposed = res.text();
            for (name, value) in &res.headers {
                exposed.push_str(&format!("\n{name}: {value}"));
            }
            for canary in passwords {
                assert!(
                    !exposed.contains(canary),
                    "{}: the password canary is in the response:\n{exposed}",
                    res.request
                );
            }
            if !may_show_extra {
                for canary in extras {
                    assert!(
                        !exposed.contains(canary),
                        "{}: the extra canary is in the response:\n{exposed}",
                        res.request
                    );
                }
            }
        }
    }
}

async fn canaries(backend: Backend) {
    let ring = key_entry("kcanary7");
    let options = Options {
        secret_keys: Some(ring.clone()),
        ..Options::default()
    };
    // The harness provides (and later drops) the database; the walk runs
    // against the real binary on it, whose log is captured.
    let Some(app) = TestApp::spawn(backend, options).await else {
        return;
    };
    let server = ServerProcess::start(&app.settings.database_url, &ring);
    let c = server.client();
    let peer = AuthPeer::start();
    let (pw1, pw2) = (canary("pwone"), canary("pwtwo"));
    let (ex1, ex2) = (canary("exone"), canary("extwo"));
    let extra = |token: &str| json!({"path": "/health", "api_token": token}).to_string();
    let mut walk = Walk::default();
    // Every ciphertext the walk produced (each PUT replaces some).
    let mut sealed: Vec<String> = Vec::new();

    let (_, owner) = register_on(&c, "canary-owner").await;
    let (viewer_id, viewer) = register_on(&c, "canary-viewer").await;
    let o = Some(owner.as_str());
    let v = Some(viewer.as_str());
    let res = c
        .post("/api/v1/projects", o, &json!({"name": "canary"}))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let project_id = res.json()["id"].as_str().expect("id").to_owned();
    let res = c
        .post(
            &format!("/api/v1/projects/{project_id}/members"),
            o,
            &json!({"user_id": viewer_id, "role": "viewer"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let base = "/api/canary/production/connections";
    let body = |password: &str, extra: &str| {
        json!({"conn_id": "vault", "type": "http", "host": "127.0.0.1", "port": peer.port,
               "login": "svc", "password": password, "extra": extra, "description": "canary"})
    };

    // Test before saving, then create.
    peer.expect("svc", &pw1, "/health");
    let res = walk.record(
        c.post(&format!("{base}/test"), o, &body(&pw1, &extra(&ex1)))
            .await,
        false,
    );
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["success"], true, "{}", res.text());
    let res = walk.record(c.post(base, o, &body(&pw1, &extra(&ex1))).await, true);
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["password"], "********");
    let row_id = res.json()["id"].as_str().expect("id").to_owned();
    sealed.extend(sealed_row(&app, "vault").await.ciphertexts());

    // Lists (never decrypted) and gets, as owner and viewer.
    for token in [o, v] {
        let res = walk.record(c.get(base, token).await, false);
        assert_eq!(res.status, 200, "{}", res.text());
        assert_eq!(res.json()[0]["password"], "");
        assert!(res.json()[0].get("extra").is_none(), "{}", res.text());
    }
    let res = walk.record(c.get(&format!("{base}/vault"), o).await, true);
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["extra"], extra(&ex1), "a member reads extra");
    let res = walk.record(c.get(&format!("{base}/vault"), v).await, false);
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(
        res.json()["extra"]
            .as_str()
            .is_some_and(|e| e.contains("********")),
        "{}",
        res.text()
    );

    // PUT: a new extra keeping the password by mask, then a new password
    // keeping the extra by omission; a viewer's PUT is refused.
    let mut put = body("********", &extra(&ex2));
    put.as_object_mut().expect("object").remove("conn_id");
    let res = walk.record(c.put(&format!("{base}/vault"), o, &put).await, true);
    assert_eq!(res.status, 200, "{}", res.text());
    sealed.extend(sealed_row(&app, "vault").await.ciphertexts());
    let mut put = body(&pw2, "");
    put.as_object_mut().expect("object").remove("extra");
    let res = walk.record(c.put(&format!("{base}/vault"), o, &put).await, true);
    assert_eq!(res.status, 200, "{}", res.text());
    sealed.extend(sealed_row(&app, "vault").await.ciphertexts());
    assert_eq!(res.json()["extra"], extra(&ex2));
    let res = walk.record(
        c.put(&format!("{base}/vault"), v, &body(&pw1, &extra(&ex1)))
            .await,
        false,
    );
    assert_eq!(res.status, 403, "{}", res.text());

    // The stored test runs with the new password and extra (the peer checks).
    peer.expect("svc", &pw2, "/health");
    let res = walk.record(
        c.post(&format!("{base}/vault/test"), o, &json!({})).await,
        false,
    );
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["success"], true, "{}", res.text());

    // used-by, through a resource that references the connection.
    let res = walk.record(
        c.post(
            "/api/canary/production/resources",
            o,
            &json!({"type": "database", "name": "db-1", "credentialConnId": "vault"}),
        )
        .await,
        false,
    );
    assert_eq!(res.status, 201, "{}", res.text());
    let res = walk.record(c.get(&format!("{base}/vault/used-by"), o).await, false);
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()[0]["name"], "db-1", "{}", res.text());

    // Refused writes carrying the canaries echo none of them.
    let mut bad = body(&pw1, &extra(&ex1));
    bad["conn_id"] = json!("bad-one");
    bad["password_sealed"] = json!("x");
    let res = walk.record(c.post(base, o, &bad).await, false);
    assert_eq!(res.status, 400, "{}", res.text());
    for bad_extra in [
        json!([ex1]).to_string(),
        format!("{ex1} {{"),
        json!(ex1).to_string(),
    ] {
        let mut bad = body(&pw1, &bad_extra);
        bad["conn_id"] = json!("bad-two");
        let res = walk.record(c.post(base, o, &bad).await, false);
        assert_eq!(res.status, 400, "{}", res.text());
    }
    let mut bad = body(&pw2, &extra(&ex2));
    bad.as_object_mut().expect("object").remove("conn_id");
    bad["port"] = json!(0);
    let res = walk.record(c.put(&format!("{base}/vault"), o, &bad).await, false);
    assert_eq!(res.status, 400, "{}", res.text());

    // Clone the environment: the copy decrypts, and tests with the password.
    let env_id = environment_id(&c, &owner, &project_id, "production").await;
    let res = walk.record(
        c.post(
            &format!("/api/v1/projects/{project_id}/environments/{env_id}/clone"),
            o,
            &json!({"name": "copy"}),
        )
        .await,
        false,
    );
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["copied"]["credential_connections"], 1);
    let copy = "/api/canary/copy/connections";
    let res = walk.record(c.get(copy, o).await, false);
    assert_eq!(res.status, 200, "{}", res.text());
    let res = walk.record(c.get(&format!("{copy}/vault"), o).await, true);
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["extra"], extra(&ex2), "the clone decrypts");
    let res = walk.record(
        c.post(&format!("{copy}/vault/test"), o, &json!({})).await,
        false,
    );
    assert_eq!(res.json()["success"], true, "{}", res.text());
    assert!(
        peer.seen().iter().all(|(login, ok)| login == "svc" && *ok),
        "every test reached the peer with the expected password: {:?}",
        peer.seen()
    );
    assert_eq!(peer.seen().len(), 3, "{:?}", peer.seen());

    // A tampered value: the answer is opaque, the log names row and key id.
    let rows = sealed_rows(&app).await;
    assert_eq!(rows.len(), 2, "the connection and its copy");
    let original = rows
        .iter()
        .find(|r| r.id == row_id)
        .expect("the original row")
        .clone();
    let stored_password = original.password_sealed.clone().expect("sealed password");
    let tampered = flip_one_char(&stored_password);
    app.exec_sql(&format!(
        "UPDATE credential_connections SET password_sealed = '{tampered}' WHERE id = '{row_id}'"
    ))
    .await;
    let res = walk.record(c.get(&format!("{base}/vault"), o).await, false);
    assert_opaque_500(&res, &["kcanary7", &row_id, &tampered, &stored_password]);

    // The walk's responses.
    walk.assert_clean(&[&pw1, &pw2], &[&ex1, &ex2]);

    // The log at RUST_LOG=debug.
    let log = server.stop();
    assert!(log.contains("DEBUG"), "RUST_LOG=debug took effect:\n{log}");
    for line in [
        "credential connection created",
        "credential connection updated",
        "credential connection tested",
    ] {
        assert!(log.contains(line), "the audit line {line:?} is logged");
    }
    let open_failure = log
        .lines()
        .find(|l| l.contains("cannot open"))
        .unwrap_or_else(|| panic!("the open failure is logged:\n{log}"));
    assert!(
        open_failure.contains(&row_id) && open_failure.contains("kcanary7"),
        "the log names the row and the key id: {open_failure}"
    );
    let mut secrets: Vec<(&str, String)> = vec![
        ("password canary", pw1.clone()),
        ("password canary", pw2.clone()),
        ("extra canary", ex1.clone()),
        ("extra canary", ex2.clone()),
        ("tampered ciphertext", tampered.clone()),
    ];
    for ciphertext in rows.iter().flat_map(SealedRow::ciphertexts).chain(sealed) {
        secrets.push(("ciphertext", ciphertext));
    }
    for hex in key_material(&ring) {
        secrets.push(("key material", hex));
    }
    for (what, secret) in &secrets {
        // As text, and as the decimal byte list a driver's `Debug` of a
        // bound parameter prints (`[99, 97, 110, …]`).
        let bytes: Vec<String> = secret.bytes().take(16).map(|b| b.to_string()).collect();
        for form in [secret.clone(), bytes.join(", ")] {
            if let Some(line) = log.lines().find(|l| l.contains(&form)) {
                panic!("a {what} is in the server log: {line}");
            }
        }
    }

    // The database at rest.
    match backend {
        Backend::Sqlite => {
            let db = PathBuf::from(app.settings.database_url.trim_start_matches("sqlite://"));
            let mut bytes = Vec::new();
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut name = db.clone().into_os_string();
                name.push(suffix);
                if let Ok(b) = std::fs::read(&name) {
                    bytes.extend_from_slice(&b);
                }
            }
            let holds = |s: &str| bytes.windows(s.len()).any(|w| w == s.as_bytes());
            assert!(
                holds(&original.extra_sealed.clone().expect("sealed extra")),
                "sanity: the files read hold the sealed values"
            );
            for canary in [&pw1, &pw2, &ex1, &ex2] {
                assert!(!holds(canary), "a canary is in the SQLite files");
            }
        }
        Backend::Postgres => {
            let dump = pg_dump(&app.settings.database_url);
            assert!(
                dump.contains(&original.extra_sealed.clone().expect("sealed extra")),
                "sanity: the dump holds the sealed values"
            );
            for canary in [&pw1, &pw2, &ex1, &ex2] {
                assert!(!dump.contains(canary.as_str()), "a canary is in pg_dump");
            }
        }
    }
    app.finish().await;
}

// ---------------------------------------------------------------------------
// 2. Moved and tampered ciphertexts
// ---------------------------------------------------------------------------

async fn moved_and_tampered_ciphertexts(backend: Backend) {
    let options = Options {
        secret_keys: Some(key_entry("ktamper3")),
        ..Options::default()
    };
    let Some(app) = TestApp::spawn(backend, options).await else {
        return;
    };
    let (_, token) = register(&app, &email("tamper")).await;
    let t = Some(token.as_str());
    create_project(&app, &token, "tamper").await;
    let base = "/api/tamper/production/connections";
    let names = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
    ];
    let peers: HashMap<&str, SilentPeer> = names.iter().map(|n| (*n, SilentPeer::new())).collect();
    for name in names {
        let res = app
            .client
            .post(
                base,
                t,
                &json!({"conn_id": name, "type": "generic", "host": "127.0.0.1",
                        "port": peers[name].port(), "login": "svc",
                        "password": format!("password-of-{name}"),
                        "extra": json!({"api_token": format!("token-of-{name}")}).to_string()}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }

    // The set-up can tell: alpha's test dials its peer and succeeds.
    let res = app
        .client
        .post(&format!("{base}/alpha/test"), t, &json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["success"], true, "{}", res.text());
    assert_eq!(peers["alpha"].connections(), 1);

    let alpha = sealed_row(&app, "alpha").await;
    let (a_pk, a_ps) = (
        alpha.password_key_id.clone().expect("key id"),
        alpha.password_sealed.clone().expect("sealed"),
    );
    let (a_ek, a_es) = (
        alpha.extra_key_id.clone().expect("key id"),
        alpha.extra_sealed.clone().expect("sealed"),
    );
    let row = |name: &str| {
        let name = name.to_owned();
        let app = &app;
        async move { sealed_row(app, &name).await }
    };
    let update = |id: String, set: String| {
        let app = &app;
        async move {
            let n = app
                .exec_sql(&format!(
                    "UPDATE credential_connections SET {set} WHERE id = '{id}'"
                ))
                .await;
            assert_eq!(n, 1);
        }
    };

    // bravo gets alpha's sealed password (another row).
    let bravo = row("bravo").await;
    update(
        bravo.id.clone(),
        format!("password_key_id = '{a_pk}', password_sealed = '{a_ps}'"),
    )
    .await;
    // charlie's sealed password loses one character to another.
    let charlie = row("charlie").await;
    let flipped = flip_one_char(charlie.password_sealed.as_deref().expect("sealed"));
    update(charlie.id.clone(), format!("password_sealed = '{flipped}'")).await;
    // delta's sealed extra moves into its own password (another field).
    let delta = row("delta").await;
    update(
        delta.id.clone(),
        format!(
            "password_key_id = '{}', password_sealed = '{}'",
            delta.extra_key_id.as_deref().expect("key id"),
            delta.extra_sealed.as_deref().expect("sealed")
        ),
    )
    .await;
    // echo's sealed extra loses one character.
    let echo = row("echo").await;
    let flipped_extra = flip_one_char(echo.extra_sealed.as_deref().expect("sealed"));
    update(echo.id.clone(), format!("extra_sealed = '{flipped_extra}'")).await;
    // foxtrot gets alpha's sealed extra.
    let foxtrot = row("foxtrot").await;
    update(
        foxtrot.id.clone(),
        format!("extra_key_id = '{a_ek}', extra_sealed = '{a_es}'"),
    )
    .await;
    // golf's password claims a key id the ring does not hold.
    let golf = row("golf").await;
    update(golf.id.clone(), "password_key_id = 'kmissing9'".to_owned()).await;

    let all = sealed_rows(&app).await;
    let mut leaks: Vec<String> = vec!["ktamper3".into(), "kmissing9".into()];
    for r in &all {
        leaks.push(r.id.clone());
        leaks.extend(r.ciphertexts());
    }
    let leaks: Vec<&str> = leaks.iter().map(String::as_str).collect();
    for name in ["bravo", "charlie", "delta", "echo", "foxtrot", "golf"] {
        let res = app
            .client
            .post(&format!("{base}/{name}/test"), t, &json!({}))
            .await;
        assert_opaque_500(&res, &leaks);
        let res = app.client.get(&format!("{base}/{name}"), t).await;
        assert_opaque_500(&res, &leaks);
        assert_eq!(
            peers[name].connections(),
            0,
            "{name}: no test ran with a value that failed to open"
        );
    }

    // Nothing was recorded; alpha still opens and tests.
    let list = app.client.get(base, t).await;
    assert_eq!(list.status, 200, "{}", list.text());
    for item in list.json().as_array().expect("list") {
        let name = item["conn_id"].as_str().expect("conn_id");
        if name == "alpha" {
            assert_eq!(item["last_test"]["success"], true);
        } else {
            assert_eq!(item["last_test"], Value::Null, "{name}");
        }
    }
    let res = app.client.get(&format!("{base}/alpha"), t).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json()["extra"],
        json!({"api_token": "token-of-alpha"}).to_string()
    );
    let res = app
        .client
        .post(&format!("{base}/alpha/test"), t, &json!({}))
        .await;
    assert_eq!(res.json()["success"], true, "{}", res.text());
    assert_eq!(peers["alpha"].connections(), 1);
    app.finish().await;
}

// ---------------------------------------------------------------------------
// 3. Rotation under load
// ---------------------------------------------------------------------------

const CONNECTIONS: usize = 40;
const WORKERS: usize = 8;

fn login(i: usize) -> String {
    format!("c{i:02}")
}

fn password(i: usize, round: u32) -> String {
    format!("pw-{i:02}-{round}")
}

/// `extra` of connection `i` after `round`: the path the peer expects.
fn extra_doc(i: usize, round: u32) -> (String, String) {
    let path = format!("/c{i:02}/r{round}");
    (
        json!({"path": path, "scheme": "http", "round": round}).to_string(),
        path,
    )
}

/// One line of `secrets status`: key id, values, in ring, active.
type StatusLine = (String, u64, bool, bool);

/// (values, in ring, active) of `key_id` in a status.
fn line_of(lines: &[StatusLine], key_id: &str) -> (u64, bool, bool) {
    lines
        .iter()
        .find(|l| l.0 == key_id)
        .map_or((0, false, false), |l| (l.1, l.2, l.3))
}

/// `secrets status`, in process, with `settings`' ring.
async fn status_of(settings: &patchbay::Settings) -> Vec<StatusLine> {
    patchbay::secrets_service(settings)
        .await
        .expect("secrets service")
        .status()
        .await
        .expect("status")
        .into_iter()
        .map(|l| (l.key_id, l.values, l.in_ring, l.active))
        .collect()
}

async fn rotation_under_load(backend: Backend) {
    let (k1, k2) = (key_entry("krotold1"), key_entry("krotnew2"));
    let Some(server1) = TestApp::spawn(
        backend,
        Options {
            secret_keys: Some(k1.clone()),
            ..Options::default()
        },
    )
    .await
    else {
        return;
    };
    let url = server1.settings.database_url.clone();
    let (_, token) = register(&server1, &email("rotation")).await;
    create_project(&server1, &token, "rotation").await;
    let base = "/api/rotation/production/connections";
    let peer = AuthPeer::start();
    let body = |i: usize, round: u32, pw: &str| {
        let (extra, _) = extra_doc(i, round);
        json!({"type": "http", "host": "127.0.0.1", "port": peer.port,
               "login": login(i), "extra": extra, "password": pw})
    };

    // Server 1 (ring k1) writes every value under k1.
    for i in 0..CONNECTIONS {
        let mut b = body(i, 0, &password(i, 0));
        b["conn_id"] = json!(login(i));
        let res = server1.client.post(base, Some(&token), &b).await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let values = u64::try_from(2 * CONNECTIONS).expect("count");
    assert_eq!(
        line_of(&status_of(&server1.settings).await, "krotold1"),
        (values, true, true)
    );
    server1.stop().await;

    // Before rotation, a ring without k1 is refused, naming it and the count.
    let mut only_k2 = server1.settings.clone();
    only_k2.secret_keys = Some(k2.clone());
    let refused = patchbay::Application::build(&only_k2)
        .await
        .expect_err("a ring without k1 must be refused");
    assert!(
        refused.contains(&format!("'krotold1' ({values} value(s))")),
        "{refused}"
    );
    assert!(!refused.contains("krotnew2"), "{refused}");
    for hex in key_material(&format!("{k1},{k2}")) {
        assert!(!refused.contains(&hex), "key material in {refused}");
    }
    assert_eq!(
        line_of(&status_of(&only_k2).await, "krotold1"),
        (values, false, false)
    );

    // Server 2 (ring k2,k1) on the same database.
    let both = format!("{k2},{k1}");
    let server2 = TestApp::spawn(
        backend,
        Options {
            secret_keys: Some(both.clone()),
            database_url: Some(url.clone()),
            ..Options::default()
        },
    )
    .await
    .expect("server 2");
    let before = status_of(&server2.settings).await;
    assert_eq!(line_of(&before, "krotold1"), (values, true, false));
    assert_eq!(line_of(&before, "krotnew2"), (0, true, true));

    // The load: each worker owns every WORKERS-th connection and PUTs a new
    // extra to each in turn, round after round, from before the rotation
    // starts until it ends.
    let done = std::rc::Rc::new(std::cell::Cell::new(false));
    let puts = std::rc::Rc::new(std::cell::Cell::new(0usize));
    // When each PUT was sent and answered.
    let spans = std::rc::Rc::new(std::cell::RefCell::new(Vec::<(Instant, Instant)>::new()));
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let (client, token, done, puts, spans) = (
            server2.client.clone(),
            token.clone(),
            done.clone(),
            puts.clone(),
            spans.clone(),
        );
        let port = peer.port;
        workers.push(actix_web::rt::spawn(async move {
            let mut last: HashMap<usize, (String, String)> = (w..CONNECTIONS)
                .step_by(WORKERS)
                .map(|i| (i, (password(i, 0), extra_doc(i, 0).0)))
                .collect();
            // It stops as soon as the rotation has ended: the last value
            // written to a connection is then often one written while the
            // rotation ran, the one a rotation without compare-and-swap
            // would overwrite with the older value it had read.
            let mut round = 0u32;
            loop {
                round += 1;
                for i in (w..CONNECTIONS).step_by(WORKERS) {
                    if done.get() {
                        return last;
                    }
                    let (extra, _) = extra_doc(i, round);
                    let mut b = json!({"type": "http", "host": "127.0.0.1", "port": port,
                                       "login": login(i), "extra": extra});
                    let new_password = password(i, round);
                    // Kept by mask, kept by omission, or set anew, in turn.
                    let mode = (i + round as usize) % 3;
                    match mode {
                        0 => b["password"] = json!("********"),
                        1 => {}
                        _ => b["password"] = json!(new_password),
                    }
                    let sent = Instant::now();
                    let res = client
                        .put(&format!("{base}/{}", login(i)), Some(&token), &b)
                        .await;
                    spans.borrow_mut().push((sent, Instant::now()));
                    assert_eq!(res.status, 200, "{}", res.text());
                    let entry = last.get_mut(&i).expect("owned");
                    entry.1 = extra;
                    if mode == 2 {
                        entry.0 = new_password;
                    }
                    puts.set(puts.get() + 1);
                }
            }
        }));
    }
    while puts.get() < WORKERS {
        actix_web::rt::time::sleep(Duration::from_millis(2)).await;
    }

    // The rotation, on its own runtime, while the load runs.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let rotate_settings = server2.settings.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let report = runtime.block_on(async {
            let service = patchbay::secrets_service(&rotate_settings).await?;
            let started = Instant::now();
            let report = service.rotate(7).await.map_err(|e| format!("{e:?}"))?;
            Ok::<_, String>((report, started, Instant::now()))
        });
        let _ = tx.send(report);
    });
    let (report, started, ended) = rx.await.expect("rotation thread").expect("rotation");
    done.set(true);
    let mut expected: HashMap<usize, (String, String)> = HashMap::new();
    for worker in workers {
        expected.extend(worker.await.expect("a load worker failed"));
    }
    assert_eq!(expected.len(), CONNECTIONS);
    assert!(report.resealed > 0, "{report:?}");
    let spans = spans.take();
    let overlapping = spans
        .iter()
        .filter(|(sent, answered)| *sent < ended && *answered > started)
        .count();
    let answered_during = spans
        .iter()
        .filter(|(_, answered)| (started..ended).contains(answered))
        .count();
    assert!(
        overlapping > 0,
        "PUTs were in flight while the rotation ran ({report:?})"
    );
    eprintln!(
        "rotation: {report:?} in {:?}; {overlapping} PUTs in flight during it, \
         {answered_during} answered during it, {} in all",
        ended - started,
        puts.get()
    );

    // Every value is under k2 now, and a second run has nothing to do.
    let after = status_of(&server2.settings).await;
    assert_eq!(line_of(&after, "krotold1"), (0, true, false), "{after:?}");
    assert_eq!(
        line_of(&after, "krotnew2"),
        (values, true, true),
        "{after:?}"
    );
    assert_eq!(after.iter().map(|l| l.1).sum::<u64>(), values, "{after:?}");
    let again = patchbay::secrets_service(&server2.settings)
        .await
        .expect("secrets service")
        .rotate(7)
        .await
        .expect("second rotation");
    assert_eq!((again.resealed, again.skipped), (0, 0), "{again:?}");
    server2.stop().await;

    // Server 3 holds only k2 and reads every secret: each extra as last
    // written, and each test authenticates with the password last written
    // to the path the extra names.
    let server3 = TestApp::spawn(
        backend,
        Options {
            secret_keys: Some(k2.clone()),
            database_url: Some(url.clone()),
            ..Options::default()
        },
    )
    .await
    .expect("server 3 starts with k2 only");
    let status = status_of(&server3.settings).await;
    assert!(status.iter().all(|l| l.2), "{status:?}");
    assert_eq!(line_of(&status, "krotnew2"), (values, true, true));
    for (i, (pw, extra)) in &expected {
        let path = serde_json::from_str::<Value>(extra).expect("extra")["path"]
            .as_str()
            .expect("path")
            .to_owned();
        peer.expect(&login(*i), pw, &path);
    }
    for (i, (_, extra)) in &expected {
        let res = server3
            .client
            .get(&format!("{base}/{}", login(*i)), Some(&token))
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        assert_eq!(res.json()["extra"], extra.as_str(), "{}: extra", login(*i));
        assert_eq!(res.json()["has_password"], true);
        let res = server3
            .client
            .post(
                &format!("{base}/{}/test", login(*i)),
                Some(&token),
                &json!({}),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        assert_eq!(
            res.json()["success"],
            true,
            "{}: the stored password is the last written: {}",
            login(*i),
            res.text()
        );
    }
    let seen = peer.seen();
    assert_eq!(seen.len(), CONNECTIONS, "{seen:?}");
    assert!(seen.iter().all(|(_, ok)| *ok), "{seen:?}");
    server3.finish().await;
    server2.finish().await;
    server1.finish().await;
}

// ---------------------------------------------------------------------------
// 4. The CLI
// ---------------------------------------------------------------------------

/// (values, state) per key id of `secrets status` output.
fn status_table(stdout: &str) -> HashMap<String, (u64, String)> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("key id"))
        .skip(1)
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let key_id = words.next()?.to_owned();
            let values = words.next()?.parse().ok()?;
            Some((key_id, (values, words.collect::<Vec<_>>().join(" "))))
        })
        .collect()
}

async fn cli_status_and_rotate() {
    let (k1, k2) = (key_entry("kcliold1"), key_entry("kclinew2"));
    let Some(app) = TestApp::spawn(
        Backend::Sqlite,
        Options {
            secret_keys: Some(k1.clone()),
            ..Options::default()
        },
    )
    .await
    else {
        return;
    };
    let (_, token) = register(&app, &email("cli")).await;
    create_project(&app, &token, "cli").await;
    let base = "/api/cli/production/connections";
    for i in 0..5 {
        let res = app
            .client
            .post(
                base,
                Some(&token),
                &json!({"conn_id": format!("c{i}"), "type": "generic", "host": "127.0.0.1",
                        "port": 9, "password": format!("pw-{i}"),
                        "extra": json!({"n": i}).to_string()}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let res = app
        .client
        .post(
            base,
            Some(&token),
            &json!({"conn_id": "only-password", "type": "postgres", "host": "127.0.0.1",
                    "port": 5432, "password": "pw"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    app.stop().await;
    let url = app.settings.database_url.clone();
    let both = format!("{k2},{k1}");
    let material = key_material(&both);
    let status = |ring: &str| {
        let (ok, out, err) = run_cli(&url, ring, &["secrets", "status"]);
        assert!(ok, "secrets status failed:\n{out}\n{err}");
        for hex in &material {
            assert!(
                !out.contains(hex) && !err.contains(hex),
                "key material printed"
            );
        }
        status_table(&out)
    };
    let entry = |v: u64, s: &str| (v, s.to_owned());

    let table = status(&k1);
    assert_eq!(table.len(), 1, "{table:?}");
    assert_eq!(table["kcliold1"], entry(11, "active"));
    let table = status(&both);
    assert_eq!(table["kcliold1"], entry(11, "in ring"));
    assert_eq!(table["kclinew2"], entry(0, "active"));
    let table = status(&k2);
    assert_eq!(
        table["kcliold1"],
        entry(11, "MISSING from PATCHBAY_SECRET_KEYS")
    );

    // The server refuses a ring that lacks k1, naming it and the count.
    let (ok, _, err) = run_cli(&url, &k2, &["serve"]);
    assert!(!ok, "serve must refuse a ring without kcliold1");
    assert!(err.contains("'kcliold1' (11 value(s))"), "{err}");

    // Rotation in small batches, then nothing to do.
    let (ok, out, err) = run_cli(&url, &both, &["secrets", "rotate", "--batch", "3"]);
    assert!(ok, "rotate failed:\n{out}\n{err}");
    assert!(
        out.starts_with("re-sealed 11 value(s) under the active key in "),
        "{out}"
    );
    assert!(out.contains("0 changed concurrently"), "{out}");
    assert!(!out.contains("nothing to do"), "{out}");
    let table = status_table(&out);
    assert_eq!(table["kclinew2"], entry(11, "active"), "{out}");
    assert_eq!(table["kcliold1"], entry(0, "in ring"), "{out}");
    let (ok, out, err) = run_cli(&url, &both, &["secrets", "rotate"]);
    assert!(ok, "second rotate failed:\n{out}\n{err}");
    assert!(out.starts_with("re-sealed 0 value(s)"), "{out}");
    assert!(out.contains("(nothing to do)"), "{out}");

    // Without the old key every value is still covered.
    let table = status(&k2);
    assert_eq!(table.len(), 1, "{table:?}");
    assert_eq!(table["kclinew2"], entry(11, "active"));
    app.finish().await;
}

// ---------------------------------------------------------------------------

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

on_both!(
    canaries,
    moved_and_tampered_ciphertexts,
    rotation_under_load
);

#[actix_web::test]
async fn cli_secrets_status_and_rotate_sqlite() {
    cli_status_and_rotate().await;
}
