//! Running patchbay in production (issue 13), tested on the real binary as an
//! operator runs it: JSON logs, `config check`, `backup`, client addresses
//! behind a trusted proxy, and the operational metrics.

use std::io::{BufRead as _, BufReader, Read as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use patchbay_tests::{Backend, Options, TEST_JWT_SECRET, TestApp, TestClient, on_both_backends};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// The binary, as a process
// ---------------------------------------------------------------------------

/// The `patchbay` binary: `PATCHBAY_TEST_BIN`, else built (or found up to
/// date) once per test process by `cargo build -p patchbay --bin patchbay`,
/// which says where it put it (so `CARGO_TARGET_DIR` is honoured).
fn patchbay_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("PATCHBAY_TEST_BIN") {
            return PathBuf::from(bin);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(&cargo)
            .current_dir(&root)
            .args([
                "build",
                "-p",
                "patchbay",
                "--bin",
                "patchbay",
                "--message-format=json-render-diagnostics",
            ])
            .stdin(Stdio::null())
            .output()
            .expect("run cargo build -p patchbay (or set PATCHBAY_TEST_BIN)");
        assert!(
            out.status.success(),
            "`cargo build -p patchbay` failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "patchbay")
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("cargo reported no patchbay executable")
    })
}

/// A `patchbay` command with a clean environment: no inherited `PATCHBAY_*`
/// or `RUST_LOG`, no configuration file, `dir` as working directory.
fn patchbay(dir: &Path) -> Command {
    let mut cmd = Command::new(patchbay_bin());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PATCHBAY_") || name == "RUST_LOG" {
            cmd.env_remove(name);
        }
    }
    cmd.current_dir(dir)
        .env("PATCHBAY_CONFIG", dir.join("absent.toml"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// A sealing key ring of one key.
const RING: &str = "k1:0000000000000000000000000000000000000000000000000000000000000001";

/// The settings of a sound SQLite instance in `dir`, as environment.
fn sound_env(dir: &Path) -> Vec<(String, String)> {
    vec![
        ("PATCHBAY_DATA_DIR".into(), dir.display().to_string()),
        (
            "PATCHBAY_DATABASE_URL".into(),
            format!("sqlite://{}", dir.join("patchbay.db").display()),
        ),
        ("PATCHBAY_JWT_SECRET".into(), TEST_JWT_SECRET.into()),
        ("PATCHBAY_SECRET_KEYS".into(), RING.into()),
        ("PATCHBAY_LISTEN".into(), "127.0.0.1:0".into()),
    ]
}

/// A finished command: exit code, stdout, stderr.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_cli(dir: &Path, env: &[(String, String)], args: &[&str]) -> Ran {
    let out = patchbay(dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .args(args)
        .output()
        .expect("run patchbay");
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `patchbay serve` running as a child process, its standard error
/// collected line by line.
struct Served {
    child: Child,
    addr: SocketAddr,
    lines: Arc<Mutex<Vec<String>>>,
    reader: std::thread::JoinHandle<()>,
}

impl Served {
    /// Starts the server with JSON logs and waits for its `listening` line.
    fn start(dir: &Path, env: &[(String, String)]) -> Self {
        let mut child = patchbay(dir)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("PATCHBAY_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .arg("serve")
            .spawn()
            .expect("spawn patchbay serve");
        let stderr = child.stderr.take().expect("stderr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let collected = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && v["message"] == "listening"
                    && let Some(addr) = v["addr"].as_str()
                {
                    let _ = tx.send(addr.to_owned());
                }
                collected.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr.parse().expect("listening address"),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "patchbay serve did not start:\n{}",
                    lines.lock().unwrap().join("\n")
                );
            }
        };
        Self {
            child,
            addr,
            lines,
            reader,
        }
    }

    fn client(&self) -> TestClient {
        TestClient::new(self.addr)
    }

    /// Stops the server with SIGTERM (a graceful stop) and returns every
    /// line it wrote to standard error.
    fn stop(mut self) -> Vec<String> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().expect("wait").is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.wait();
        if let Some(mut out) = self.child.stdout.take() {
            let _ = out.read_to_end(&mut Vec::new());
        }
        let _ = self.reader.join();
        self.lines.lock().unwrap().clone()
    }
}

fn email(local: &str) -> String {
    format!("{local}\u{40}example.com")
}

// ---------------------------------------------------------------------------
// JSON logs
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn json_logs_are_one_object_per_line_with_request_fields() {
    let dir = tempfile::tempdir().unwrap();
    let mut env = sound_env(dir.path());
    env.push(("PATCHBAY_TRUSTED_PROXIES".into(), "127.0.0.1/32".into()));
    let served = Served::start(dir.path(), &env);
    let client = served.client();

    let password = "correct horse battery";
    let res = client
        .post(
            "/api/auth/register",
            None,
            &json!({"email": email("ada"), "password": password, "name": "Ada"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let user_id = res.json()["user"]["id"].as_str().unwrap().to_owned();
    let res = client
        .post(
            "/api/auth/login",
            None,
            &json!({"email": email("ada"), "password": password}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let token = res.json()["token"].as_str().unwrap().to_owned();
    let res = client
        .post("/api/v1/projects", Some(&token), &json!({"name": "shop"}))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let project_request = res.header("x-request-id").unwrap().to_owned();
    let res = client
        .post(
            "/api/shop/production/resources",
            Some(&token),
            &json!({"type": "instance", "name": "web"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let res = client.get("/api/v1/invites/s3cr3t-token", None).await;
    assert!(res.status >= 400);
    let res = client
        .raw(
            awc::http::Method::GET,
            "/healthz",
            None,
            None,
            &[("x-forwarded-for", "198.51.100.7")],
        )
        .await;
    assert_eq!(res.status, 200);

    let lines = served.stop();
    assert!(lines.len() >= 6, "{lines:#?}");
    let mut access = Vec::new();
    for line in &lines {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON object ({e}): {line}"));
        for key in ["timestamp", "level", "target", "message"] {
            assert!(v[key].is_string(), "no {key}: {line}");
        }
        chrono::DateTime::parse_from_rfc3339(v["timestamp"].as_str().unwrap())
            .unwrap_or_else(|e| panic!("timestamp is not RFC 3339 ({e}): {line}"));
        assert!(
            ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&v["level"].as_str().unwrap()),
            "{line}"
        );
        // No secret reaches the log.
        assert!(!line.contains(TEST_JWT_SECRET), "{line}");
        assert!(!line.contains(&RING[3..]), "{line}");
        assert!(!line.contains(password), "{line}");
        assert!(!line.contains(&token), "{line}");
        assert!(!line.contains("s3cr3t-token"), "{line}");
        if v["message"] == "request completed" {
            access.push(v);
        }
    }
    assert!(access.len() >= 5, "{lines:#?}");
    for v in &access {
        assert!(v["request_id"].is_string(), "{v}");
        assert!(v["method"].is_string(), "{v}");
        assert!(v["path"].as_str().unwrap().starts_with('/'), "{v}");
        assert!(v["status"].is_u64(), "{v}");
        assert!(v["latency_ms"].as_f64().unwrap() >= 0.0, "{v}");
    }
    let by_path = |method: &str, path: &str| {
        access
            .iter()
            .find(|v| v["method"] == method && v["path"] == path)
            .unwrap_or_else(|| panic!("no access line for {method} {path}: {lines:#?}"))
    };
    let register = by_path("POST", "/api/auth/register");
    assert_eq!(register["status"], 201);
    let login = by_path("POST", "/api/auth/login");
    assert_eq!(login["user_id"], user_id.as_str());
    let project = by_path("POST", "/api/v1/projects");
    assert_eq!(project["request_id"], project_request.as_str());
    assert_eq!(project["user_id"], user_id.as_str());
    assert_eq!(project["status"], 201);
    let resource = by_path("POST", "/api/shop/production/resources");
    assert_eq!(resource["user_id"], user_id.as_str());
    let invite = by_path("GET", "/api/v1/invites/[redacted]");
    assert!(invite.get("user_id").is_none(), "{invite}");
    assert_eq!(invite["client_ip"], "127.0.0.1", "{invite}");
    let proxied = by_path("GET", "/healthz");
    assert_eq!(proxied["client_ip"], "198.51.100.7", "{proxied}");
}

// ---------------------------------------------------------------------------
// patchbay config check
// ---------------------------------------------------------------------------

/// `env` with `key` set to `value` (or removed when `None`).
fn with(env: &[(String, String)], key: &str, value: Option<&str>) -> Vec<(String, String)> {
    let mut env: Vec<_> = env.iter().filter(|(k, _)| k != key).cloned().collect();
    if let Some(value) = value {
        env.push((key.into(), value.into()));
    }
    env
}

/// No secret of `env` (nor `extra`) appears in `ran`'s output.
fn assert_no_secret(ran: &Ran, extra: &[&str]) {
    let all = format!("{}{}", ran.stdout, ran.stderr);
    for secret in [TEST_JWT_SECRET, &RING[3..]].iter().chain(extra) {
        assert!(!all.contains(secret), "a secret was printed:\n{all}");
    }
}

#[test]
fn config_check_passes_a_sound_configuration_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let env = sound_env(dir.path());
    // A fresh instance: nothing exists yet, nothing is created.
    let ran = run_cli(dir.path(), &env, &["config", "check"]);
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("effective configuration"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("[redacted]"), "{}", ran.stdout);
    assert!(ran.stdout.contains("configuration OK"), "{}", ran.stdout);
    assert!(
        !dir.path().join("patchbay.db").exists(),
        "check created the database"
    );
    assert_no_secret(&ran, &[]);
    // Migrated: the schema and the key ring's coverage are checked too.
    let migrated = run_cli(dir.path(), &env, &["migrate"]);
    assert_eq!(migrated.code, 0, "{}", migrated.stderr);
    let ran = run_cli(dir.path(), &env, &["config", "check"]);
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    assert!(!ran.stdout.contains("problem:"), "{}", ran.stdout);
    assert_no_secret(&ran, &[]);
}

#[test]
fn config_check_names_each_kind_of_problem_and_never_prints_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let sound = sound_env(dir.path());
    let a_file = dir.path().join("a-file");
    std::fs::write(&a_file, "not a directory").unwrap();
    let pg_password = "hunter2-do-not-print";
    let unreachable = format!("postgres://patchbay:{pg_password}@127.0.0.1:1/patchbay");
    let short = "too-short-secret";
    let bad_ring = "k1:00ff";
    type Case<'a> = (&'a str, Vec<(String, String)>, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        (
            "listen address",
            with(&sound, "PATCHBAY_LISTEN", Some("not-an-address")),
            vec!["problem: PATCHBAY_LISTEN"],
        ),
        (
            "short JWT secret",
            with(&sound, "PATCHBAY_JWT_SECRET", Some(short)),
            vec!["problem: PATCHBAY_JWT_SECRET", "at least 32 bytes"],
        ),
        (
            "malformed key ring",
            with(&sound, "PATCHBAY_SECRET_KEYS", Some(bad_ring)),
            vec!["problem: PATCHBAY_SECRET_KEYS"],
        ),
        (
            "production without secrets",
            with(
                &with(
                    &with(&sound, "PATCHBAY_JWT_SECRET", None),
                    "PATCHBAY_SECRET_KEYS",
                    None,
                ),
                "PATCHBAY_MODE",
                Some("production"),
            ),
            vec![
                "problem: PATCHBAY_JWT_SECRET: must be set in production",
                "problem: PATCHBAY_SECRET_KEYS: must be set in production",
            ],
        ),
        (
            "data dir that is a file",
            with(
                &sound,
                "PATCHBAY_DATA_DIR",
                Some(&a_file.display().to_string()),
            ),
            vec!["problem: PATCHBAY_DATA_DIR", "not a directory"],
        ),
        (
            "unreachable database",
            with(&sound, "PATCHBAY_DATABASE_URL", Some(&unreachable)),
            vec![
                "problem: PATCHBAY_DATABASE_URL",
                "postgres://patchbay:***@127.0.0.1:1",
            ],
        ),
        (
            "unknown database scheme",
            with(&sound, "PATCHBAY_DATABASE_URL", Some("mysql://x/y")),
            vec!["problem: PATCHBAY_DATABASE_URL"],
        ),
        (
            "missing probe root",
            with(
                &sound,
                "PATCHBAY_PROBE_SQLITE_ROOTS",
                Some("/nonexistent/patchbay-roots"),
            ),
            vec![
                "problem: PATCHBAY_PROBE_SQLITE_ROOTS",
                "/nonexistent/patchbay-roots",
            ],
        ),
        (
            "bad trusted proxy block",
            with(&sound, "PATCHBAY_TRUSTED_PROXIES", Some("10.0.0.0/33")),
            vec!["problem: PATCHBAY_TRUSTED_PROXIES", "10.0.0.0/33"],
        ),
        (
            "zero login rate",
            with(&sound, "PATCHBAY_LOGIN_RATE_PER_MINUTE", Some("0")),
            vec!["problem: PATCHBAY_LOGIN_RATE_PER_MINUTE"],
        ),
    ];
    for (kind, env, expected) in cases {
        let ran = run_cli(dir.path(), &env, &["config", "check"]);
        assert_eq!(ran.code, 1, "{kind}: {}\n{}", ran.stdout, ran.stderr);
        for line in expected {
            assert!(
                ran.stdout.lines().any(|l| l.contains(line)),
                "{kind}: no line with {line:?}:\n{}",
                ran.stdout
            );
        }
        let problems = ran
            .stdout
            .lines()
            .filter(|l| l.starts_with("problem:"))
            .count();
        assert!(problems >= 1, "{kind}: {}", ran.stdout);
        assert_no_secret(&ran, &[pg_password, short, "00ff"]);
    }
    // A value the configuration cannot even parse: one line, exit 1.
    let ran = run_cli(
        dir.path(),
        &with(&sound, "PATCHBAY_MODE", Some("bogus")),
        &["config", "check"],
    );
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("invalid configuration"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("MODE"), "{}", ran.stderr);
    assert_no_secret(&ran, &[]);
}

#[actix_web::test]
async fn config_check_finds_key_ids_in_use_missing_from_the_ring() {
    let app = TestApp::spawn(
        Backend::Sqlite,
        Options {
            secret_keys: Some(RING.into()),
            ..Options::default()
        },
    )
    .await
    .unwrap();
    let res = app
        .client
        .post(
            "/api/auth/register",
            None,
            &json!({"email": email("keys"), "password": "correct horse battery", "name": "K"}),
        )
        .await;
    let token = res.json()["token"].as_str().unwrap().to_owned();
    let res = app
        .client
        .post("/api/v1/projects", Some(&token), &json!({"name": "keys"}))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let res = app
        .client
        .post(
            "/api/keys/production/connections",
            Some(&token),
            &json!({"conn_id": "db", "type": "postgres", "host": "127.0.0.1",
                    "port": 5432, "password": "pw"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    app.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let other = "k2:0000000000000000000000000000000000000000000000000000000000000002";
    let env = with(
        &with(
            &sound_env(dir.path()),
            "PATCHBAY_DATABASE_URL",
            Some(&app.settings.database_url),
        ),
        "PATCHBAY_SECRET_KEYS",
        Some(other),
    );
    let ran = run_cli(dir.path(), &env, &["config", "check"]);
    assert_eq!(ran.code, 1, "{}\n{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout
            .lines()
            .any(|l| l.starts_with("problem: PATCHBAY_SECRET_KEYS") && l.contains("'k1'")),
        "{}",
        ran.stdout
    );
    assert_no_secret(&ran, &[&other[3..]]);
    // With both keys it passes.
    let both = format!("{other},{RING}");
    let ran = run_cli(
        dir.path(),
        &with(&env, "PATCHBAY_SECRET_KEYS", Some(&both)),
        &["config", "check"],
    );
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    app.finish().await;
}

// ---------------------------------------------------------------------------
// patchbay backup
// ---------------------------------------------------------------------------

#[derive(diesel::QueryableByName)]
struct Named {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

#[derive(diesel::QueryableByName)]
struct Integrity {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

#[actix_web::test]
async fn sqlite_backup_under_write_load_holds_every_acknowledged_write() {
    use diesel::connection::Connection as _;
    use diesel::{RunQueryDsl as _, SqliteConnection};
    use std::sync::atomic::{AtomicBool, Ordering};

    let app = TestApp::spawn(Backend::Sqlite, Options::default())
        .await
        .unwrap();
    let res = app
        .client
        .post(
            "/api/auth/register",
            None,
            &json!({"email": email("backup"), "password": "correct horse battery", "name": "B"}),
        )
        .await;
    let token = res.json()["token"].as_str().unwrap().to_owned();
    let res = app
        .client
        .post("/api/v1/projects", Some(&token), &json!({"name": "load"}))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    // An upload, so there is something to copy beside the database.
    let uploads = app
        .settings
        .data_dir
        .join("uploads")
        .join("projects")
        .join("x");
    std::fs::create_dir_all(&uploads).unwrap();
    std::fs::write(uploads.join("icon.png"), b"\x89PNG fake").unwrap();

    // The write load: resources created one after another, each name kept
    // once its 201 arrived.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let client = TestClient::new(app.addr);
        let (acked, stop, token) = (acked.clone(), stop.clone(), token.clone());
        actix_web::rt::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let name = format!("r{i}");
                let res = client
                    .post(
                        "/api/load/production/resources",
                        Some(&token),
                        &json!({"type": "instance", "name": name}),
                    )
                    .await;
                assert_eq!(res.status, 201, "{}", res.text());
                acked.lock().unwrap().push(name);
                i += 1;
            }
        })
    };
    while acked.lock().unwrap().len() < 20 {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let before: Vec<String> = acked.lock().unwrap().clone();

    let out_dir = tempfile::tempdir().unwrap();
    let to = out_dir.path().join("nested").join("patchbay-backup.db");
    let env = with(
        &sound_env(out_dir.path()),
        "PATCHBAY_DATABASE_URL",
        Some(&app.settings.database_url),
    );
    let env = with(
        &env,
        "PATCHBAY_DATA_DIR",
        Some(&app.settings.data_dir.display().to_string()),
    );
    let (dir, args_to) = (out_dir.path().to_owned(), to.display().to_string());
    let ran = actix_web::rt::task::spawn_blocking(move || {
        run_cli(&dir, &env, &["backup", "--to", &args_to])
    })
    .await
    .unwrap();
    let during = acked.lock().unwrap().len();
    stop.store(true, Ordering::SeqCst);
    load.await.unwrap();
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains(&to.display().to_string()),
        "{}",
        ran.stdout
    );
    let uploads_copy = out_dir
        .path()
        .join("nested")
        .join("patchbay-backup.db.uploads");
    assert!(
        ran.stdout.contains(&uploads_copy.display().to_string()),
        "{}",
        ran.stdout
    );
    assert_eq!(
        std::fs::read(uploads_copy.join("projects").join("x").join("icon.png")).unwrap(),
        b"\x89PNG fake"
    );
    assert!(
        during > before.len(),
        "the load kept writing while the backup ran ({} then {during})",
        before.len()
    );

    let mut copy = SqliteConnection::establish(&to.display().to_string()).unwrap();
    let verdict: Vec<Integrity> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut copy)
        .unwrap();
    assert_eq!(verdict.len(), 1);
    assert_eq!(verdict[0].integrity_check, "ok");
    let names: std::collections::HashSet<String> = diesel::sql_query("SELECT name FROM resources")
        .load::<Named>(&mut copy)
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    for name in &before {
        assert!(
            names.contains(name),
            "acknowledged write {name} is missing from the copy"
        );
    }

    // A backup never overwrites.
    let again = run_cli(
        out_dir.path(),
        &with(
            &sound_env(out_dir.path()),
            "PATCHBAY_DATABASE_URL",
            Some(&app.settings.database_url),
        ),
        &["backup", "--to", &to.display().to_string()],
    );
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    app.finish().await;
}

// ---------------------------------------------------------------------------
// Client addresses behind a proxy
// ---------------------------------------------------------------------------

/// One failed login from `headers`; returns the status (401, or 429 once
/// the address's budget is spent).
async fn login_attempt(app: &TestApp, headers: &[(&str, &str)]) -> u16 {
    let body = json!({"email": email("nobody"), "password": "wrong password!"});
    app.client
        .raw(
            awc::http::Method::POST,
            "/api/auth/login",
            None,
            Some((body.to_string().into_bytes(), "application/json")),
            headers,
        )
        .await
        .status
}

async fn behind_a_trusted_proxy_each_client_has_its_own_login_budget(backend: Backend) {
    let Some(app) = TestApp::spawn(
        backend,
        Options {
            login_rate_per_minute: Some(2),
            trusted_proxies: Some("127.0.0.1/32".into()),
            ..Options::default()
        },
    )
    .await
    else {
        return;
    };
    let first = [("x-forwarded-for", "198.51.100.1")];
    assert_eq!(login_attempt(&app, &first).await, 401);
    assert_eq!(login_attempt(&app, &first).await, 401);
    assert_eq!(login_attempt(&app, &first).await, 429);
    // A spoofed leftmost entry does not help: the rightmost untrusted hop
    // (what the trusted proxy saw) is the client.
    let spoofed = [("x-forwarded-for", "203.0.113.77, 198.51.100.1")];
    assert_eq!(login_attempt(&app, &spoofed).await, 429);
    // Another client behind the same proxy has its own budget…
    let second = [("x-forwarded-for", "198.51.100.2")];
    assert_eq!(login_attempt(&app, &second).await, 401);
    // …also when the proxy speaks RFC 7239.
    let third = [("forwarded", "for=\"198.51.100.3:5555\";proto=https")];
    assert_eq!(login_attempt(&app, &third).await, 401);
    assert_eq!(login_attempt(&app, &third).await, 401);
    assert_eq!(login_attempt(&app, &third).await, 429);
    let v6 = [("forwarded", "for=\"[2001:db8::1]\"")];
    assert_eq!(login_attempt(&app, &v6).await, 401);
    app.finish().await;
}

async fn forwarded_headers_from_an_untrusted_peer_change_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(
        backend,
        Options {
            login_rate_per_minute: Some(2),
            ..Options::default()
        },
    )
    .await
    else {
        return;
    };
    assert_eq!(
        login_attempt(&app, &[("x-forwarded-for", "198.51.100.1")]).await,
        401
    );
    assert_eq!(
        login_attempt(&app, &[("forwarded", "for=198.51.100.2")]).await,
        401
    );
    // The peer (127.0.0.1) spent its budget whatever the headers claim.
    for headers in [
        &[("x-forwarded-for", "198.51.100.3")][..],
        &[("forwarded", "for=198.51.100.4")][..],
        &[][..],
    ] {
        assert_eq!(login_attempt(&app, headers).await, 429, "{headers:?}");
    }
    app.finish().await;
}

mod trusted_proxy {
    use super::*;

    #[actix_web::test]
    async fn sqlite() {
        behind_a_trusted_proxy_each_client_has_its_own_login_budget(Backend::Sqlite).await;
    }
    #[actix_web::test]
    async fn postgres() {
        behind_a_trusted_proxy_each_client_has_its_own_login_budget(Backend::Postgres).await;
    }
}

mod untrusted_peer {
    use super::*;

    #[actix_web::test]
    async fn sqlite() {
        forwarded_headers_from_an_untrusted_peer_change_nothing(Backend::Sqlite).await;
    }
    #[actix_web::test]
    async fn postgres() {
        forwarded_headers_from_an_untrusted_peer_change_nothing(Backend::Postgres).await;
    }
}

// ---------------------------------------------------------------------------
// --version and completions
// ---------------------------------------------------------------------------

#[test]
fn version_names_the_git_commit_and_completions_cover_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let ran = run_cli(dir.path(), &[], &["--version"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let version = ran.stdout.trim();
    let commit = version
        .strip_prefix(concat!("patchbay ", env!("CARGO_PKG_VERSION"), " ("))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("unexpected --version: {version}"));
    assert!(
        commit == "unknown" || (commit.len() >= 7 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
        "{version}"
    );
    for shell in ["bash", "zsh", "fish"] {
        let ran = run_cli(dir.path(), &[], &["completions", shell]);
        assert_eq!(ran.code, 0, "{shell}: {}", ran.stderr);
        for word in [
            "serve",
            "migrate",
            "secrets",
            "config",
            "backup",
            "completions",
        ] {
            assert!(ran.stdout.contains(word), "{shell} completions lack {word}");
        }
    }
    let ran = run_cli(dir.path(), &[], &["completions", "tcsh"]);
    assert_ne!(ran.code, 0);
}

// ---------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------

/// The value of the sample `series` (`name` or `name{labels}`) in a
/// Prometheus text exposition.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            line.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

async fn metrics_count_auth_failures_rate_limits_and_the_process(backend: Backend) {
    let Some(app) = TestApp::spawn(
        backend,
        Options {
            login_rate_per_minute: Some(1),
            ..Options::default()
        },
    )
    .await
    else {
        return;
    };
    let text = app.client.get("/metrics", None).await.text();
    for cause in [
        "missing_token",
        "malformed_header",
        "invalid_token",
        "bad_credentials",
    ] {
        let series = format!("patchbay_auth_failures_total{{cause=\"{cause}\"}}");
        assert_eq!(sample(&text, &series), 0.0, "{series}");
    }
    assert_eq!(
        sample(
            &text,
            "patchbay_rate_limit_rejections_total{limiter=\"login\"}"
        ),
        0.0
    );

    assert_eq!(app.client.get("/api/v1/me", None).await.status, 401);
    let basic = app
        .client
        .raw(
            awc::http::Method::GET,
            "/api/v1/me",
            None,
            None,
            &[("authorization", "Basic YWRhOnB3")],
        )
        .await;
    assert_eq!(basic.status, 401);
    assert_eq!(
        app.client.get("/api/v1/me", Some("not-a-jwt")).await.status,
        401
    );
    assert_eq!(login_attempt(&app, &[]).await, 401);
    assert_eq!(login_attempt(&app, &[]).await, 429);

    let text = app.client.get("/metrics", None).await.text();
    for cause in [
        "missing_token",
        "malformed_header",
        "invalid_token",
        "bad_credentials",
    ] {
        let series = format!("patchbay_auth_failures_total{{cause=\"{cause}\"}}");
        assert_eq!(sample(&text, &series), 1.0, "{series}");
    }
    assert_eq!(
        sample(
            &text,
            "patchbay_rate_limit_rejections_total{limiter=\"login\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            "patchbay_rate_limit_rejections_total{limiter=\"connection_tests\"}"
        ),
        0.0
    );
    assert!(sample(&text, "patchbay_process_resident_memory_bytes") > 1_000_000.0);
    assert!(sample(&text, "patchbay_process_open_fds") >= 3.0);
    assert!(sample(&text, "patchbay_process_cpu_seconds_total") > 0.0);
    assert!(text.contains("# TYPE patchbay_process_cpu_seconds_total counter"));
    assert!(text.contains("patchbay_http_requests_total{"));
    assert!(text.contains("patchbay_http_request_duration_seconds_bucket{"));
    app.finish().await;
}

mod metrics {
    use super::*;

    #[actix_web::test]
    async fn sqlite() {
        metrics_count_auth_failures_rate_limits_and_the_process(Backend::Sqlite).await;
    }
    #[actix_web::test]
    async fn postgres() {
        metrics_count_auth_failures_rate_limits_and_the_process(Backend::Postgres).await;
    }
}

#[actix_web::test]
async fn postgres_backup_is_a_pg_dump_archive_holding_the_data() {
    let Some(app) = TestApp::spawn(Backend::Postgres, Options::default()).await else {
        return;
    };
    let res = app
        .client
        .post(
            "/api/auth/register",
            None,
            &json!({"email": email("pgdump"), "password": "correct horse battery", "name": "P"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let out_dir = tempfile::tempdir().unwrap();
    let to = out_dir.path().join("pg.dump");
    let env = with(
        &sound_env(out_dir.path()),
        "PATCHBAY_DATABASE_URL",
        Some(&app.settings.database_url),
    );
    // `backup` runs the pg_dump on PATH: the newest server version's client
    // first (as old as the server or newer), then whatever PATH holds.
    let mut path: Vec<PathBuf> = newest_pg_bin().into_iter().collect();
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(path).unwrap();
    let env = with(&env, "PATH", Some(&path.to_string_lossy()));
    let (dir, args_to) = (out_dir.path().to_owned(), to.display().to_string());
    let ran = actix_web::rt::task::spawn_blocking(move || {
        run_cli(&dir, &env, &["backup", "--to", &args_to])
    })
    .await
    .unwrap();
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("database copied to"), "{}", ran.stdout);
    assert!(ran.stdout.contains("no uploads to copy"), "{}", ran.stdout);
    // pg_dump's custom format starts with its magic.
    let dump = std::fs::read(&to).unwrap();
    assert!(dump.starts_with(b"PGDMP"), "not a pg_dump archive");
    // The account is in it (custom format compresses table data, so ask
    // pg_restore for the plain SQL).
    let restore = newest_pg_bin().map(|bin| bin.join("pg_restore"));
    if let Some(restore) = restore.filter(|p| p.is_file()) {
        let sql = Command::new(&restore)
            .args(["--data-only", "--table=users", "--file=-"])
            .arg(&to)
            .output()
            .unwrap();
        assert!(
            sql.status.success(),
            "{}",
            String::from_utf8_lossy(&sql.stderr)
        );
        assert!(String::from_utf8_lossy(&sql.stdout).contains(&email("pgdump")));
    }
    app.finish().await;
}

/// The newest `/usr/lib/postgresql/<major>/bin` holding `pg_dump`, if any.
fn newest_pg_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let major = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("pg_dump").is_file().then_some((major, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

#[actix_web::test]
async fn postgres_backup_without_pg_dump_on_path_says_how_to_take_one() {
    let Some(app) = TestApp::spawn(Backend::Postgres, Options::default()).await else {
        return;
    };
    let out_dir = tempfile::tempdir().unwrap();
    // A PATH that exists and holds no pg_dump (the binary itself is run by
    // its full path).
    let empty = tempfile::tempdir().unwrap();
    let to = out_dir.path().join("pg.dump");
    let env = with(
        &with(
            &sound_env(out_dir.path()),
            "PATCHBAY_DATABASE_URL",
            Some(&app.settings.database_url),
        ),
        "PATH",
        Some(&empty.path().display().to_string()),
    );
    let (dir, args_to, run_env) = (
        out_dir.path().to_owned(),
        to.display().to_string(),
        env.clone(),
    );
    let ran = actix_web::rt::task::spawn_blocking(move || {
        run_cli(&dir, &run_env, &["backup", "--to", &args_to])
    })
    .await
    .unwrap();
    assert_eq!(ran.code, 1, "{}\n{}", ran.stdout, ran.stderr);
    for needle in [
        "pg_dump was not found on PATH",
        "postgresql-client",
        &format!(
            "`pg_dump --format=custom --file={} <database URL>`",
            to.display()
        ),
    ] {
        assert!(
            ran.stderr.contains(needle),
            "{needle} not in:\n{}",
            ran.stderr
        );
    }
    assert!(!ran.stdout.contains("database copied"), "{}", ran.stdout);
    assert!(!to.exists(), "a failed backup left {}", to.display());
    assert!(!out_dir.path().join("pg.dump.uploads").exists());
    // The database URL (and any password in it) is not echoed.
    assert!(
        !ran.stderr.contains(&app.settings.database_url),
        "{}",
        ran.stderr
    );
    assert_no_secret(&ran, &[]);
    app.finish().await;
}

/// Every sample in `text` whose line starts with `prefix`, as (series,
/// value).
fn series_values(text: &str, prefix: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|line| line.starts_with(prefix))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// Traffic that touches several query families and runs two connectivity
/// tests, then the database and connection-test series on `/metrics`.
async fn metrics_count_queries_the_pool_and_connection_tests(app: &TestApp) {
    let text = app.client.get("/metrics", None).await.text();
    // Every series is there before any traffic of its kind.
    for family in [
        "access",
        "users",
        "projects",
        "members",
        "invites",
        "environments",
        "resources",
        "resource_connections",
        "allowed_connections",
        "credential_connections",
        "health",
    ] {
        sample(
            &text,
            &format!("patchbay_db_query_duration_seconds_count{{family=\"{family}\"}}"),
        );
    }
    for conn_type in [
        "postgres", "mysql", "sqlite", "http", "sftp", "s3", "generic",
    ] {
        for outcome in [
            "connected",
            "timeout",
            "refused",
            "dns",
            "auth",
            "tls",
            "protocol",
            "blocked",
        ] {
            let series = format!(
                "patchbay_connection_tests_total{{outcome=\"{outcome}\",type=\"{conn_type}\"}}"
            );
            assert_eq!(sample(&text, &series), 0.0, "{series}");
        }
    }
    assert_eq!(
        series_values(&text, "patchbay_connection_tests_total{").len(),
        7 * 8,
        "connection-test labels are the closed set"
    );
    for cause in ["timeout", "error"] {
        let series = format!("patchbay_db_pool_acquire_failures_total{{cause=\"{cause}\"}}");
        assert_eq!(sample(&text, &series), 0.0, "{series}");
    }
    let projects_before = sample(
        &text,
        "patchbay_db_query_duration_seconds_count{family=\"projects\"}",
    );

    let (token, base) = crate::support::canvas(app, "metrics", "metered").await;
    let t = Some(token.as_str());
    let res = app.client.get("/api/v1/projects", t).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let body = json!({"conn_id": "tcp-peer", "type": "generic", "host": "127.0.0.1",
                      "port": patchbay_tests::peers::silent_port()});
    let res = app
        .client
        .post(&format!("{base}/connections"), t, &body)
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let res = app
        .client
        .request(
            awc::http::Method::POST,
            &format!("{base}/connections/tcp-peer/test"),
            t,
            None,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["success"], true, "{}", res.text());
    // Unsaved, and refused before any packet (no SQLite roots configured).
    let res = app
        .client
        .post(
            &format!("{base}/connections/test"),
            t,
            &json!({"conn_id": "file", "type": "sqlite", "host": "/tmp/anything.db"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["reason"], "blocked", "{}", res.text());
    assert_eq!(app.client.get("/readyz", None).await.status, 200);

    let text = app.client.get("/metrics", None).await.text();
    let tests = |outcome: &str, conn_type: &str| {
        sample(
            &text,
            &format!(
                "patchbay_connection_tests_total{{outcome=\"{outcome}\",type=\"{conn_type}\"}}"
            ),
        )
    };
    assert_eq!(tests("connected", "generic"), 1.0);
    assert_eq!(tests("blocked", "sqlite"), 1.0);
    assert_eq!(tests("connected", "postgres"), 0.0);
    assert_eq!(tests("refused", "generic"), 0.0);
    assert_eq!(
        series_values(&text, "patchbay_connection_tests_total{")
            .iter()
            .map(|(_, v)| v)
            .sum::<f64>(),
        2.0
    );

    let count = |family: &str| {
        sample(
            &text,
            &format!("patchbay_db_query_duration_seconds_count{{family=\"{family}\"}}"),
        )
    };
    for family in [
        "access",
        "users",
        "projects",
        "credential_connections",
        "health",
    ] {
        assert!(count(family) > 0.0, "no {family} query counted");
    }
    assert!(count("projects") > projects_before);
    // The sum is in seconds: positive, and far below a second per query
    // for this light traffic.
    let sum = sample(
        &text,
        "patchbay_db_query_duration_seconds_sum{family=\"projects\"}",
    );
    assert!(sum > 0.0 && sum < count("projects"), "sum {sum}");
    assert_eq!(
        sample(
            &text,
            "patchbay_db_query_duration_seconds_bucket{family=\"projects\",le=\"+Inf\"}"
        ),
        count("projects")
    );
    assert!(text.contains("# TYPE patchbay_db_query_duration_seconds histogram"));

    let max = sample(&text, "patchbay_db_pool_max_connections");
    let size = sample(&text, "patchbay_db_pool_connections");
    let in_use = sample(&text, "patchbay_db_pool_connections_in_use");
    assert!(max >= 1.0, "max {max}");
    assert!(size >= 1.0 && size <= max, "size {size} of {max}");
    // Nothing else runs: no connection is out, nobody waits.
    assert_eq!(in_use, 0.0);
    assert_eq!(sample(&text, "patchbay_db_pool_waiting_requests"), 0.0);
    for cause in ["timeout", "error"] {
        let series = format!("patchbay_db_pool_acquire_failures_total{{cause=\"{cause}\"}}");
        assert_eq!(sample(&text, &series), 0.0, "{series}");
    }
    assert!(text.contains("# TYPE patchbay_db_pool_connections gauge"));
    // No secret or connection detail leaks into a label.
    assert!(!text.contains("tcp-peer") && !text.contains("anything.db"));
}

on_both_backends!(metrics_count_queries_the_pool_and_connection_tests);

/// A database that goes away: checkouts that cannot open a connection are
/// counted as `error` (each answered 503), and `/metrics` itself still
/// answers, since it takes no connection.
#[actix_web::test]
async fn failed_checkouts_are_counted_when_the_database_goes_away() {
    let Some(app) = TestApp::spawn(Backend::Postgres, Options::default()).await else {
        return;
    };
    assert_eq!(app.client.get("/readyz", None).await.status, 200);
    let series = "patchbay_db_pool_acquire_failures_total{cause=\"error\"}";
    let text = app.client.get("/metrics", None).await.text();
    assert_eq!(sample(&text, series), 0.0);
    app.drop_database().await;
    for _ in 0..3 {
        assert_eq!(app.client.get("/readyz", None).await.status, 503);
    }
    let res = app.client.get("/metrics", None).await;
    assert_eq!(res.status, 200);
    let text = res.text();
    // The first ping may fail on the pooled connection the drop killed (a
    // query error, not a checkout); the later ones cannot open one.
    assert!(sample(&text, series) >= 2.0, "{text}");
    assert_eq!(
        sample(
            &text,
            "patchbay_db_pool_acquire_failures_total{cause=\"timeout\"}"
        ),
        0.0
    );
    assert!(!text.contains(&app.settings.database_url));
    app.finish().await;
}
