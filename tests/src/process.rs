//! The real `patchbay` binary as a process, for what only a process shows:
//! signals and graceful shutdown, the log, the CLI.
//!
//! The binary is `PATCHBAY_TEST_BIN` when set, else built once per test
//! process with `cargo build -p patchbay --bin patchbay` (cargo's JSON
//! messages say where it put it, so `CARGO_TARGET_DIR` and profiles are
//! honoured; on a clean clone this builds it). Each command runs with a
//! clean environment: no inherited `PATCHBAY_*` or `RUST_LOG`, no
//! configuration file, a temporary working and data directory.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{TEST_JWT_SECRET, TestClient};

/// The `patchbay` executable.
///
/// # Panics
/// When it cannot be built.
#[allow(clippy::expect_used)]
#[must_use]
pub fn patchbay_bin() -> &'static Path {
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
            .expect("run `cargo build -p patchbay` (or set PATCHBAY_TEST_BIN)");
        assert!(
            out.status.success(),
            "`cargo build -p patchbay` failed; these tests run the real binary:\n{}",
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

/// A `patchbay` command against `database_url`, working in `dir`, with a
/// clean environment (see the module doc) and the test JWT secret.
#[must_use]
pub fn command(dir: &Path, database_url: &str) -> Command {
    let mut cmd = Command::new(patchbay_bin());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PATCHBAY_") || name == "RUST_LOG" {
            cmd.env_remove(name);
        }
    }
    cmd.current_dir(dir)
        .env("PATCHBAY_CONFIG", dir.join("absent.toml"))
        .env("PATCHBAY_DATA_DIR", dir)
        .env("PATCHBAY_DATABASE_URL", database_url)
        .env("PATCHBAY_JWT_SECRET", TEST_JWT_SECRET)
        .env("PATCHBAY_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1");
    cmd
}

/// What a finished command printed.
#[derive(Debug)]
pub struct Ran {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `patchbay <args>` to completion (at most two minutes), feeding
/// `stdin` when given.
///
/// # Panics
/// When it cannot be started or does not finish in time.
#[allow(clippy::expect_used, clippy::panic)]
#[must_use]
pub fn run_cli(dir: &Path, database_url: &str, args: &[&str], stdin: Option<&str>) -> Ran {
    use std::io::Write as _;
    let mut child = command(dir, database_url)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn patchbay");
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    let stdout = drain(child.stdout.take().expect("stdout"));
    let stderr = drain(child.stderr.take().expect("stderr"));
    let status = wait_for(&mut child, Duration::from_secs(120))
        .unwrap_or_else(|| panic!("patchbay {} did not finish", args.join(" ")));
    Ran {
        status,
        stdout: String::from_utf8_lossy(&stdout.join().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned(),
    }
}

fn drain(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = pipe.read_to_end(&mut all);
        all
    })
}

fn wait_for(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `patchbay serve` running as a process, its log collected as it goes.
#[derive(Debug)]
pub struct ServerProcess {
    pub addr: SocketAddr,
    pub client: TestClient,
    child: Child,
    log: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts `patchbay serve` on `database_url` with `extra_env`, and waits
    /// (at most a minute) until it logs its address.
    ///
    /// # Panics
    /// When it does not start.
    #[allow(clippy::expect_used, clippy::panic)]
    #[must_use]
    pub fn start(database_url: &str, extra_env: &[(&str, &str)]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("patchbay-process-")
            .tempdir()
            .expect("temp dir");
        let mut cmd = command(dir.path(), database_url);
        cmd.arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn patchbay serve");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("listening") {
                    let _ = tx.send(address_in(&line));
                }
                if let Ok(mut log) = sink.lock() {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        let Ok(Some(addr)) = rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            let _ = child.wait();
            let log = log.lock().map(|l| l.clone()).unwrap_or_default();
            panic!("patchbay serve did not start:\n{log}");
        };
        Self {
            addr,
            client: TestClient::new(addr),
            child,
            log,
            _dir: dir,
        }
    }

    /// The process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server logged so far.
    #[must_use]
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Sends `signal` (e.g. `TERM`) to the server.
    ///
    /// # Panics
    /// When `kill` fails.
    #[allow(clippy::expect_used)]
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits (up to `limit`) for the process to exit; `None` if it did not.
    pub fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The first `127.0.0.1:<port>` in a log line (text or JSON).
fn address_in(line: &str) -> Option<SocketAddr> {
    let at = line.find("127.0.0.1:")?;
    let rest = &line[at + "127.0.0.1:".len()..];
    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
    format!("127.0.0.1:{port}").parse().ok()
}
