//! Running patchbay in production (issue 13), tested on the real binary as an
//! operator runs it: JSON logs, `config check`, `backup`, client addresses
//! behind a trusted proxy, and the operational metrics.

use std::io::{BufRead as _, BufReader, Read as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use patchbay_tests::{TEST_JWT_SECRET, TestClient};
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
    let served = Served::start(dir.path(), &sound_env(dir.path()));
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
}
