//! PostgreSQL for patchbay's tests: one server per test process (external,
//! or a throwaway cluster), one fresh database per test. Shared by the
//! black-box harness (`patchbay-tests`) and the store crate's own tests, so
//! both run on the same kind of PostgreSQL under the same policy.
//!
//! The server is `PATCHBAY_TEST_DATABASE_URL` (a server whose user may
//! `CREATE DATABASE`) when set, else a cluster started from the machine's
//! `initdb`/`postgres` (`/usr/lib/postgresql/*/bin`, or `PATCHBAY_PG_BIN`).
//!
//! The throwaway cluster runs under a tiny `sh` guard whose standard input is
//! a pipe held by this process: when the test process exits, for whatever
//! reason, the pipe closes, the guard stops PostgreSQL and deletes the
//! cluster. No stray servers, no leftover directories.
//!
//! A missing PostgreSQL is a test failure. The one way out is explicit:
//! `PATCHBAY_TEST_SKIP_POSTGRES=1` (ignored under `CI=true`) skips the
//! PostgreSQL half of each test, says so on the terminal at the first skip,
//! and prints one summary line with the count when the test process exits.

use std::io::Write as _;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

struct Server {
    /// `postgres://user@host:port` without a database name.
    base_url: String,
    /// Keeps the guard's stdin open for the life of the process.
    _guard: Option<Mutex<Child>>,
}

/// The server of this process. A failed start is kept too (starting a
/// cluster takes seconds; retrying it for each of a hundred tests would only
/// repeat the same failure), but never silently: every test that asks for a
/// database afterwards fails, or is skipped, with the original reason.
static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

/// How many times start-up is tried before it counts as failed (a port
/// taken between choosing it and binding it is worth one more try).
const START_ATTEMPTS: usize = 3;

/// What a test gets when it asks for PostgreSQL.
#[derive(Debug)]
pub enum Fresh {
    /// A new, empty database: its URL, its name, and the URL of the server's
    /// `postgres` database (to drop it from).
    Database {
        url: String,
        name: String,
        admin_url: String,
    },
    /// PostgreSQL is unavailable and the person running the tests opted out
    /// with `PATCHBAY_TEST_SKIP_POSTGRES=1`; the skip has been recorded.
    Skipped,
}

/// Whether the tests run under CI (`CI=true` or `CI=1`, as `.ci/run` sets).
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether the person running the tests opted out of PostgreSQL.
pub fn skip_opted_in() -> bool {
    std::env::var("PATCHBAY_TEST_SKIP_POSTGRES").is_ok_and(|v| v == "1" || v == "true")
}

/// The running test's name (libtest names each test's thread after it).
#[must_use]
pub fn current_test() -> String {
    std::thread::current()
        .name()
        .unwrap_or("an unnamed test")
        .to_owned()
}

/// Whether PostgreSQL is available to the test named `test`: `true` when
/// it is; `false` when it is not and the run opted out (the skip is
/// recorded). Starts the server on first use.
///
/// # Panics
/// When PostgreSQL is unavailable and the run did not opt out (or runs
/// under CI, where opting out is not possible).
#[must_use]
pub fn available(test: &str) -> bool {
    match server() {
        Ok(_) => true,
        Err(why) => {
            refuse(test, &why);
            false
        }
    }
}

/// A fresh database for the test named `test`, or a recorded skip.
///
/// # Panics
/// When PostgreSQL is unavailable and the run did not opt out (or runs
/// under CI, where opting out is not possible).
pub async fn fresh_database(test: &str) -> Fresh {
    match try_fresh_database().await {
        Ok((url, name, admin_url)) => Fresh::Database {
            url,
            name,
            admin_url,
        },
        Err(why) => {
            refuse(test, &why);
            Fresh::Skipped
        }
    }
}

/// Applies the policy to an unavailable PostgreSQL: fail under CI, record a
/// skip when the run opted out, fail otherwise.
#[allow(clippy::panic)]
fn refuse(test: &str, why: &str) {
    if under_ci() {
        panic!("PostgreSQL is required under CI but unavailable for {test}: {why}");
    }
    if !skip_opted_in() {
        panic!(
            "PostgreSQL is unavailable for {test}: {why}\n\
             Install the PostgreSQL server (Debian: `postgresql`; the harness looks in \
             /usr/lib/postgresql/*/bin or PATCHBAY_PG_BIN), or point \
             PATCHBAY_TEST_DATABASE_URL at a server whose user may CREATE DATABASE. \
             To run without PostgreSQL set PATCHBAY_TEST_SKIP_POSTGRES=1: the PostgreSQL \
             half of every test is then skipped and the run proves nothing about that backend."
        );
    }
    record_skip(test, why);
}

/// The server of this process, started on first use.
fn server() -> Result<&'static Server, String> {
    SERVER
        .get_or_init(|| {
            // Blocking set-up on a plain thread so no async runtime is
            // stalled inside the lock for long.
            std::thread::spawn(start_with_retries)
                .join()
                .unwrap_or_else(|_| Err("PostgreSQL start-up panicked".into()))
        })
        .as_ref()
        .map_err(|why| format!("{why} (start-up failed once in this test process; not retried)"))
}

/// Creates a fresh database and returns its URL, name and admin URL.
async fn try_fresh_database() -> Result<(String, String, String), String> {
    let server = server()?;
    let name = format!("patchbay_test_{}", uuid::Uuid::new_v4().simple());
    let admin_url = format!("{}/postgres", server.base_url);
    let mut admin = AsyncPgConnection::establish(&admin_url)
        .await
        .map_err(|e| format!("cannot connect to the test PostgreSQL: {e}"))?;
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .map_err(|e| format!("cannot create a test database: {e}"))?;
    Ok((format!("{}/{name}", server.base_url), name, admin_url))
}

/// Drops a test database (best effort).
pub async fn drop_database(name: &str) {
    let Some(Ok(server)) = SERVER.get() else {
        return;
    };
    if let Ok(mut admin) =
        AsyncPgConnection::establish(&format!("{}/postgres", server.base_url)).await
    {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await;
    }
}

/// The skip reporter: a `sh` that counts one line per skipped test on its
/// standard input and, when this process exits (the pipe closes), prints
/// one summary line to the terminal. libtest captures what tests print, and
/// offers no hook at exit; a child holding the other end of a pipe does.
static SKIPS: OnceLock<Option<Mutex<ChildStdin>>> = OnceLock::new();

fn record_skip(test: &str, why: &str) {
    let reporter = SKIPS.get_or_init(|| {
        // Said once, at once, on the real stderr (not the captured one).
        let _ = writeln!(
            std::io::stderr(),
            "\npatchbay-tests: PATCHBAY_TEST_SKIP_POSTGRES=1 and PostgreSQL is unavailable ({why}): \
             skipping the PostgreSQL half of the tests"
        );
        let script = r#"
            n=0
            while IFS= read -r _line; do n=$((n + 1)); done
            echo "patchbay-tests: SKIPPED the PostgreSQL half of $n test(s) (PATCHBAY_TEST_SKIP_POSTGRES=1): $1. This run proves nothing about the PostgreSQL backend." >&2
        "#;
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("sh")
            .arg(why)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .ok()
            .and_then(|mut child| child.stdin.take())
            .map(Mutex::new)
    });
    match reporter {
        Some(stdin) => {
            if let Ok(mut stdin) = stdin.lock() {
                let _ = writeln!(stdin, "{test}");
            }
        }
        None => {
            let _ = writeln!(
                std::io::stderr(),
                "patchbay-tests: skipped the PostgreSQL half of {test}"
            );
        }
    }
}

fn start_with_retries() -> Result<Server, String> {
    let mut why = String::new();
    for _ in 0..START_ATTEMPTS {
        match start() {
            Ok(server) => return Ok(server),
            // Missing binaries will not appear on a second try.
            Err(e) if e.starts_with("no PostgreSQL server binaries") => return Err(e),
            Err(e) => why = e,
        }
    }
    Err(why)
}

fn start() -> Result<Server, String> {
    if let Ok(url) = std::env::var("PATCHBAY_TEST_DATABASE_URL") {
        // Keep scheme, credentials, host and port; each test adds its own
        // database name.
        let after_scheme = url.find("://").map_or(0, |i| i + 3);
        let base = match url[after_scheme..].find('/') {
            Some(i) => url[..after_scheme + i].to_owned(),
            None => url.clone(),
        };
        return Ok(Server {
            base_url: base,
            _guard: None,
        });
    }
    let bin = find_bin_dir().ok_or(
        "no PostgreSQL server binaries found (looked in /usr/lib/postgresql/*/bin and PATH)",
    )?;
    let root = tempfile::Builder::new()
        .prefix("patchbay-pg-")
        .tempdir()
        .map_err(|e| e.to_string())?
        .keep();
    start_in(&bin, &root).inspect_err(|_| {
        // The guard (if it ran) removes the directory too; either may win.
        let _ = std::fs::remove_dir_all(&root);
    })
}

fn start_in(bin: &Path, root: &Path) -> Result<Server, String> {
    let data = root.join("data");
    let as_root = is_root();
    if as_root {
        run(Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(root))?;
    }
    let mut initdb = wrap(as_root, &bin.join("initdb"));
    initdb.arg("-D").arg(&data).args([
        "-A",
        "trust",
        "-U",
        "postgres",
        "-E",
        "UTF8",
        "--no-sync",
        "--no-instructions",
    ]);
    run(&mut initdb)?;
    let port = free_port()?;
    let script = r#"
        "$1" -D "$2" -p "$3" -k "$4" -c listen_addresses=127.0.0.1 \
            -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
            -c max_connections=400 -c shared_buffers=64MB >"$4/postgres.log" 2>&1 &
        pid=$!
        cat >/dev/null
        kill -INT "$pid" 2>/dev/null
        wait "$pid"
        rm -rf "$4"
    "#;
    let mut guard = wrap(as_root, Path::new("sh"));
    guard
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg(bin.join("postgres"))
        .arg(&data)
        .arg(port.to_string())
        .arg(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = guard
        .spawn()
        .map_err(|e| format!("cannot start postgres: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(root.join("postgres.log")).unwrap_or_default();
            return Err(format!("postgres did not come up: {log}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // A written newline is harmless; checking the pipe is open is cheap.
    if let Some(stdin) = child.stdin.as_mut() {
        let _ = stdin.write_all(b"");
    }
    // The port accepts connections slightly before the server accepts logins.
    std::thread::sleep(Duration::from_millis(300));
    Ok(Server {
        base_url: format!("postgres://postgres@127.0.0.1:{port}"),
        _guard: Some(Mutex::new(child)),
    })
}

fn wrap(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim_end()
        ))
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

fn find_bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("PATCHBAY_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}
