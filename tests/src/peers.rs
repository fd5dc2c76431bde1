//! Real peers for the connectivity tester's tests (issue 10), all on
//! 127.0.0.1 — no test of the tester sends a packet beyond this machine
//! (SPEC §8):
//!
//! - PostgreSQL: a cluster of its own (not the harness's), SCRAM-SHA-256
//!   host auth, a password user, TLS with a self-signed certificate and a
//!   role (`probe_tls`) that may only log in over TLS;
//! - MariaDB (Debian `mariadb-server`) with a temp datadir and a password
//!   user;
//! - OpenSSH (`sshd -D -f <own config>`, root only) with a generated host
//!   key, a test Unix user with a password and authorised ed25519 and RSA
//!   keys, and `internal-sftp`;
//! - `s3s-fs` (crates.io), an S3 server that verifies SigV4 signatures;
//! - an HTTP server of our own (200, 401 with basic auth, 302 elsewhere,
//!   405 to `HEAD`, 500, never answering);
//! - a silent TCP peer (accepts, never writes) and a black hole (a full
//!   accept queue, so a TCP connect never completes).
//!
//! The external servers start once per test process, each under a tiny
//! `sh` guard whose standard input is a pipe held by this process: when the
//! process exits, for whatever reason, the pipe closes and the guard stops
//! the server and deletes its directory (the harness's PostgreSQL does the
//! same). A peer that cannot start fails the test, unless the person running
//! the tests opts out with `PATCHBAY_TEST_SKIP_PEERS=1` (not honoured under
//! `CI=true`, like `PATCHBAY_TEST_SKIP_POSTGRES`): then the test is skipped
//! with a loud message.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a peer may take to come up.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The PostgreSQL peer.
#[derive(Debug)]
pub struct Postgres {
    pub port: u16,
    /// A superuser with a SCRAM-SHA-256 password.
    pub user: String,
    pub password: String,
    /// A database that exists besides `postgres`.
    pub database: String,
    /// A role `pg_hba.conf` lets in over TLS only (`None` when `openssl`
    /// was not available to make a certificate).
    pub tls_user: Option<String>,
    _guard: Guard,
}

/// The MariaDB peer.
#[derive(Debug)]
pub struct Mariadb {
    pub port: u16,
    pub user: String,
    pub password: String,
    pub database: String,
    _guard: Guard,
}

/// The OpenSSH peer.
#[derive(Debug)]
pub struct Sshd {
    pub port: u16,
    pub user: String,
    pub password: String,
    /// An authorised ed25519 key (OpenSSH format).
    pub ed25519_key: String,
    /// An authorised RSA key (OpenSSH format).
    pub rsa_key: String,
    /// A key that is not authorised.
    pub stranger_key: String,
    /// `SHA256:<base64>` of the host key.
    pub host_key_sha256: String,
    _guard: Guard,
}

/// The S3 peer (`s3s-fs`).
#[derive(Debug)]
pub struct S3 {
    pub port: u16,
    pub access_key: String,
    pub secret_key: String,
    /// A bucket that exists.
    pub bucket: String,
    pub region: String,
    _guard: Guard,
}

/// The HTTP peer (this process's own threads).
#[derive(Debug)]
pub struct Http {
    pub port: u16,
    /// Basic-auth credentials `/auth` accepts.
    pub user: String,
    pub password: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Http {
    /// Every request line received so far (`"HEAD /ok"`), across tests.
    #[must_use]
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// A random token for passwords and names.
fn token() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_owned()
}

/// Whether a missing peer must fail the test: always, unless the run opted
/// out with `PATCHBAY_TEST_SKIP_PEERS=1` outside CI.
fn strict() -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let opted_out = std::env::var("PATCHBAY_TEST_SKIP_PEERS").is_ok_and(|v| v == "1");
    ci || !opted_out
}

/// Unwraps a peer or, when it could not start, fails or (opted out) says
/// loudly that the test is skipped.
///
/// # Panics
/// When the peer is unavailable and the run did not opt out (or runs under
/// CI).
#[expect(clippy::panic, reason = "a missing peer fails the test that needs it")]
fn available<T>(what: &str, peer: &'static Result<T, String>) -> Option<&'static T> {
    match peer {
        Ok(peer) => Some(peer),
        Err(why) if strict() => {
            panic!(
                "the {what} peer is unavailable: {why}\nRun .ci/run (or install what it installs), or opt out with PATCHBAY_TEST_SKIP_PEERS=1"
            )
        }
        Err(why) => {
            eprintln!(
                "\n!!!!! SKIPPING a connectivity test: the {what} peer is unavailable: {why}\n!!!!! Run .ci/run (or install what it installs) to run it.\n"
            );
            None
        }
    }
}

/// Starts a peer once per process, on a plain thread so no async runtime
/// is stalled inside the lock.
fn once<T: Send + 'static>(
    cell: &'static OnceLock<Result<T, String>>,
    start: fn() -> Result<T, String>,
) -> &'static Result<T, String> {
    cell.get_or_init(|| {
        std::thread::spawn(start)
            .join()
            .unwrap_or_else(|_| Err("peer start-up panicked".into()))
    })
}

/// The PostgreSQL peer, or `None` (skipped) when it cannot start and the run
/// opted out.
pub fn postgres() -> Option<&'static Postgres> {
    static CELL: OnceLock<Result<Postgres, String>> = OnceLock::new();
    available("PostgreSQL", once(&CELL, start_postgres))
}

/// The MariaDB peer, or `None` (skipped) when it cannot start and the run
/// opted out.
pub fn mariadb() -> Option<&'static Mariadb> {
    static CELL: OnceLock<Result<Mariadb, String>> = OnceLock::new();
    available("MariaDB", once(&CELL, start_mariadb))
}

/// The OpenSSH peer, or `None` (skipped) when it cannot start and the run
/// opted out.
pub fn sshd() -> Option<&'static Sshd> {
    static CELL: OnceLock<Result<Sshd, String>> = OnceLock::new();
    available("OpenSSH", once(&CELL, start_sshd))
}

/// The S3 peer, or `None` (skipped) when it cannot start and the run opted
/// out.
pub fn s3() -> Option<&'static S3> {
    static CELL: OnceLock<Result<S3, String>> = OnceLock::new();
    available("S3 (s3s-fs)", once(&CELL, start_s3))
}

/// The HTTP peer.
///
/// # Panics
/// When no loopback port can be bound.
#[allow(clippy::expect_used)]
pub fn http() -> &'static Http {
    static CELL: OnceLock<Http> = OnceLock::new();
    CELL.get_or_init(|| start_http().expect("the HTTP peer starts"))
}

/// A loopback port that accepts connections and never sends a byte.
///
/// # Panics
/// When no loopback port can be bound.
#[allow(clippy::expect_used)]
pub fn silent_port() -> u16 {
    static CELL: OnceLock<u16> = OnceLock::new();
    *CELL.get_or_init(|| start_silent().expect("the silent peer starts"))
}

/// A loopback port whose accept queue is full: a TCP connect to it never
/// completes (the SYN is dropped), so even a bare TCP probe times out.
///
/// # Panics
/// When the black hole cannot be set up.
#[allow(clippy::expect_used)]
pub fn black_hole_port() -> u16 {
    static CELL: OnceLock<u16> = OnceLock::new();
    *CELL.get_or_init(|| start_black_hole().expect("the black-hole peer starts"))
}

/// A loopback port nothing listens on (bound, then released).
///
/// # Panics
/// When no loopback port can be bound.
#[allow(clippy::expect_used)]
#[must_use]
pub fn closed_port() -> u16 {
    free_port().expect("a free port")
}

// ---------------------------------------------------------------- guard --

/// Keeps a server's guard alive for the life of the process.
#[derive(Debug)]
struct Guard {
    _child: Mutex<Child>,
}

/// Runs `program args…` under the guard (as `user` when given), its output
/// going to `log`; `dir` is deleted when the guard stops it.
fn guarded(
    user: Option<&str>,
    dir: &Path,
    log: &Path,
    program: &Path,
    args: &[String],
) -> Result<Guard, String> {
    let script = r#"
        dir=$1; log=$2; shift 2
        "$@" >"$log" 2>&1 &
        pid=$!
        cat >/dev/null
        kill -TERM "$pid" 2>/dev/null
        wait "$pid"
        rm -rf "$dir"
    "#;
    let mut cmd = as_user(user, Path::new("sh"));
    cmd.arg("-c")
        .arg(script)
        .arg("sh")
        .arg(dir)
        .arg(log)
        .arg(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    Ok(Guard {
        _child: Mutex::new(child),
    })
}

fn as_user(user: Option<&str>, program: &Path) -> Command {
    match user {
        Some(user) => {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", user, "--"]).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn run_with_stdin(cmd: &mut Command, input: &str) -> Result<String, String> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .map_err(|e| format!("{cmd:?}: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
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
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

fn temp_root(prefix: &str) -> Result<PathBuf, String> {
    Ok(tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(|e| e.to_string())?
        .keep())
}

/// Waits until `log` contains `needle` (and the port accepts).
fn wait_ready(port: u16, log: &Path, needle: Option<&str>) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let logged =
            needle.is_none_or(|n| std::fs::read_to_string(log).is_ok_and(|text| text.contains(n)));
        if logged && TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let tail: String = text
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            return Err(format!("did not come up on port {port}; log tail:\n{tail}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn find_program(candidates: &[&str]) -> Option<PathBuf> {
    for candidate in candidates {
        let path = Path::new(candidate);
        if path.is_absolute() {
            if path.exists() {
                return Some(path.to_owned());
            }
            continue;
        }
        let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        if let Some(home) = std::env::var_os("CARGO_HOME") {
            dirs.push(PathBuf::from(home).join("bin"));
        }
        if let Some(home) = std::env::var_os("HOME") {
            dirs.push(PathBuf::from(home).join(".cargo").join("bin"));
        }
        if let Some(found) = dirs.into_iter().map(|d| d.join(path)).find(|p| p.exists()) {
            return Some(found);
        }
    }
    None
}

// ----------------------------------------------------------- PostgreSQL --

fn pg_bin_dir() -> Option<PathBuf> {
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

/// A self-signed certificate for `localhost`/127.0.0.1 (ECDSA P-256).
fn self_signed(dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    let (key, cert) = (dir.join("server.key"), dir.join("server.crt"));
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert))?;
    Ok((key, cert))
}

fn start_postgres() -> Result<Postgres, String> {
    let bin = pg_bin_dir().ok_or(
        "no PostgreSQL server binaries (looked in /usr/lib/postgresql/*/bin; install postgresql)",
    )?;
    let root = temp_root("patchbay-peer-pg-")?;
    let data = root.join("data");
    let user = "probe".to_owned();
    let password = format!("pg-{}", token());
    let tls_password = password.clone();
    std::fs::write(root.join("pw"), &password).map_err(|e| e.to_string())?;
    let tls = self_signed(&root).ok();
    let owner = is_root().then_some("postgres");
    if owner.is_some() {
        run(Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&root))?;
    }
    let mut initdb = as_user(owner, &bin.join("initdb"));
    initdb
        .arg("-D")
        .arg(&data)
        .args(["-U", &user, "-E", "UTF8", "--no-sync", "--no-instructions"])
        .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
        .arg(format!("--pwfile={}", root.join("pw").display()));
    run(&mut initdb)?;
    let hba = "local all all trust\n\
               hostnossl all probe_tls all reject\n\
               host all all 127.0.0.1/32 scram-sha-256\n\
               host all all ::1/128 scram-sha-256\n";
    std::fs::write(data.join("pg_hba.conf"), hba).map_err(|e| e.to_string())?;
    // Roles and a database, in single-user mode before the server starts.
    let sql = format!(
        "CREATE ROLE probe_tls LOGIN PASSWORD '{tls_password}';\nCREATE DATABASE probe_db;\n"
    );
    let mut single = as_user(owner, &bin.join("postgres"));
    single.args(["--single", "-D"]).arg(&data).arg("postgres");
    run_with_stdin(&mut single, &sql)?;

    let port = free_port()?;
    let mut args = vec![
        "-D".to_owned(),
        data.display().to_string(),
        "-p".into(),
        port.to_string(),
        "-k".into(),
        root.display().to_string(),
        "-c".into(),
        "listen_addresses=127.0.0.1".into(),
        "-c".into(),
        "fsync=off".into(),
        "-c".into(),
        "max_connections=60".into(),
    ];
    if let Some((key, cert)) = &tls {
        if owner.is_some() {
            run(Command::new("chown")
                .arg("postgres:postgres")
                .arg(key)
                .arg(cert))?;
        }
        args.extend([
            "-c".into(),
            "ssl=on".into(),
            "-c".into(),
            format!("ssl_cert_file={}", cert.display()),
            "-c".into(),
            format!("ssl_key_file={}", key.display()),
        ]);
    }
    let log = root.join("postgres.log");
    let guard = guarded(owner, &root, &log, &bin.join("postgres"), &args)?;
    wait_ready(port, &log, Some("ready to accept connections"))?;
    Ok(Postgres {
        port,
        user,
        password,
        database: "probe_db".into(),
        tls_user: tls.map(|_| "probe_tls".to_owned()),
        _guard: guard,
    })
}

// -------------------------------------------------------------- MariaDB --

fn start_mariadb() -> Result<Mariadb, String> {
    let server = find_program(&["/usr/sbin/mariadbd", "mariadbd", "/usr/sbin/mysqld"])
        .ok_or("no mariadbd (install mariadb-server)")?;
    let install = find_program(&["mariadb-install-db", "mysql_install_db"])
        .ok_or("no mariadb-install-db (install mariadb-server)")?;
    let root = temp_root("patchbay-peer-mariadb-")?;
    let data = root.join("data");
    let root_user = is_root();
    let mut cmd = Command::new(&install);
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .args(["--auth-root-authentication-method=socket", "--skip-test-db"]);
    if root_user {
        cmd.arg("--user=root");
    }
    run(&mut cmd)?;
    let user = "probe".to_owned();
    let password = format!("my-{}", token());
    let database = "probe_db".to_owned();
    let init = root.join("init.sql");
    std::fs::write(
        &init,
        format!(
            "CREATE DATABASE IF NOT EXISTS {database};\n\
             CREATE USER IF NOT EXISTS '{user}'@'127.0.0.1' IDENTIFIED BY '{password}';\n\
             CREATE USER IF NOT EXISTS '{user}'@'::1' IDENTIFIED BY '{password}';\n\
             GRANT ALL ON {database}.* TO '{user}'@'127.0.0.1';\n\
             GRANT ALL ON {database}.* TO '{user}'@'::1';\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    let port = free_port()?;
    let mut args = vec![
        "--no-defaults".to_owned(),
        format!("--datadir={}", data.display()),
        "--skip-networking=0".into(),
        "--bind-address=127.0.0.1".into(),
        format!("--port={port}"),
        format!("--socket={}", root.join("mysqld.sock").display()),
        format!("--pid-file={}", root.join("mysqld.pid").display()),
        format!("--init-file={}", init.display()),
        "--skip-name-resolve".into(),
        "--skip-log-bin".into(),
        "--innodb-buffer-pool-size=16M".into(),
        "--max-connect-errors=100000".into(),
    ];
    if root_user {
        args.push("--user=root".into());
    }
    let log = root.join("mariadb.log");
    let guard = guarded(None, &root, &log, &server, &args)?;
    wait_ready(port, &log, Some("ready for connections"))?;
    Ok(Mariadb {
        port,
        user,
        password,
        database,
        _guard: guard,
    })
}

// -------------------------------------------------------------- OpenSSH --

/// The Unix user the sshd peer lets in.
const SSH_USER: &str = "patchbay-probe";

fn keygen(path: &Path, kind: &[&str]) -> Result<String, String> {
    run(Command::new("ssh-keygen")
        .args(["-q", "-N", "", "-C", "patchbay-peer"])
        .args(kind)
        .arg("-f")
        .arg(path))?;
    std::fs::read_to_string(path).map_err(|e| e.to_string())
}

fn start_sshd() -> Result<Sshd, String> {
    if !is_root() {
        return Err("the sshd peer needs root (to run sshd and create its test user)".into());
    }
    let sshd =
        find_program(&["/usr/sbin/sshd"]).ok_or("no /usr/sbin/sshd (install openssh-server)")?;
    find_program(&["ssh-keygen"]).ok_or("no ssh-keygen (install openssh-client)")?;
    if run(Command::new("id").arg("-u").arg(SSH_USER)).is_err() {
        run(Command::new("useradd").args(["-m", "-s", "/bin/sh", SSH_USER]))?;
    }
    let password = format!("ssh-{}", token());
    run_with_stdin(
        &mut Command::new("chpasswd"),
        &format!("{SSH_USER}:{password}\n"),
    )?;
    let root = temp_root("patchbay-peer-sshd-")?;
    // sshd reads authorized_keys as the user: the directory must be
    // traversable (StrictModes is off because the temp dir's parent is
    // world-writable).
    run(Command::new("chmod").arg("755").arg(&root))?;
    let host_key = root.join("host_ed25519");
    keygen(&host_key, &["-t", "ed25519"])?;
    let ed25519_key = keygen(&root.join("client_ed25519"), &["-t", "ed25519"])?;
    let rsa_key = keygen(&root.join("client_rsa"), &["-t", "rsa", "-b", "2048"])?;
    let stranger_key = keygen(&root.join("stranger_ed25519"), &["-t", "ed25519"])?;
    let mut authorized = String::new();
    for name in ["client_ed25519.pub", "client_rsa.pub"] {
        authorized.push_str(&std::fs::read_to_string(root.join(name)).map_err(|e| e.to_string())?);
    }
    let authorized_path = root.join("authorized_keys");
    std::fs::write(&authorized_path, authorized).map_err(|e| e.to_string())?;
    run(Command::new("chmod").arg("644").arg(&authorized_path))?;
    let fingerprint = run(Command::new("ssh-keygen")
        .args(["-l", "-E", "sha256", "-f"])
        .arg(root.join("host_ed25519.pub")))?;
    let host_key_sha256 = fingerprint
        .split_whitespace()
        .find(|w| w.starts_with("SHA256:"))
        .ok_or_else(|| format!("cannot read the host key fingerprint from {fingerprint:?}"))?
        .to_owned();
    std::fs::create_dir_all("/run/sshd").map_err(|e| format!("/run/sshd: {e}"))?;

    let port = free_port()?;
    let config = root.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\n\
             ListenAddress 127.0.0.1\n\
             HostKey {host}\n\
             PidFile {pid}\n\
             AuthorizedKeysFile {authorized}\n\
             PasswordAuthentication yes\n\
             PubkeyAuthentication yes\n\
             KbdInteractiveAuthentication no\n\
             PermitRootLogin no\n\
             UsePAM no\n\
             StrictModes no\n\
             AllowUsers {SSH_USER}\n\
             MaxStartups 200\n\
             MaxAuthTries 10\n\
             LoginGraceTime 30\n\
             Subsystem sftp internal-sftp\n\
             LogLevel VERBOSE\n",
            host = host_key.display(),
            pid = root.join("sshd.pid").display(),
            authorized = authorized_path.display(),
        ),
    )
    .map_err(|e| e.to_string())?;
    let log = root.join("sshd.log");
    let args = vec![
        "-D".to_owned(),
        "-e".into(),
        "-f".into(),
        config.display().to_string(),
    ];
    let guard = guarded(None, &root, &log, &sshd, &args)?;
    wait_ready(port, &log, Some("Server listening"))?;
    Ok(Sshd {
        port,
        user: SSH_USER.into(),
        password,
        ed25519_key,
        rsa_key,
        stranger_key,
        host_key_sha256,
        _guard: guard,
    })
}

// ------------------------------------------------------------------- S3 --

fn start_s3() -> Result<S3, String> {
    let server = find_program(&["s3s-fs"]).ok_or(
        "no s3s-fs on PATH or in ~/.cargo/bin (cargo install s3s-fs@0.14.1 --features binary --locked)",
    )?;
    let root = temp_root("patchbay-peer-s3-")?;
    let bucket = "probe-bucket".to_owned();
    std::fs::create_dir_all(root.join("data").join(&bucket)).map_err(|e| e.to_string())?;
    let access_key = format!("AK{}", token().to_uppercase());
    let secret_key = format!("sk-{}", token());
    let port = free_port()?;
    let args = vec![
        "--host".to_owned(),
        "127.0.0.1".into(),
        "--port".into(),
        port.to_string(),
        "--access-key".into(),
        access_key.clone(),
        "--secret-key".into(),
        secret_key.clone(),
        root.join("data").display().to_string(),
    ];
    let log = root.join("s3s-fs.log");
    let guard = guarded(None, &root, &log, &server, &args)?;
    wait_ready(port, &log, None)?;
    Ok(S3 {
        port,
        access_key,
        secret_key,
        bucket,
        region: "us-east-1".into(),
        _guard: guard,
    })
}

// ----------------------------------------------------------------- HTTP --

fn start_http() -> Result<Http, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let user = "probe".to_owned();
    let password = format!("http-{}", token());
    let expected = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{user}:{password}")
        )
    );
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let expected = expected.clone();
            let log = log.clone();
            std::thread::spawn(move || serve_http(stream, &expected, &log));
        }
    });
    Ok(Http {
        port,
        user,
        password,
        requests,
    })
}

/// Answers one connection's requests by path:
/// `/ok` 200; `/auth` 200 with the right basic auth, else 401;
/// `/redirect/<t>` 302 to `/landed/<t>`; `/landed/<t>` 200; `/no-head`
/// 405 to `HEAD`, 200 to `GET`; `/boom` 500; `/silent` never answers;
/// anything else 404.
fn serve_http(stream: TcpStream, expected_auth: &str, log: &Mutex<Vec<String>>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).map_or(true, |n| n == 0) {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_owned();
        let path = parts.next().unwrap_or("").to_owned();
        let mut authorization = String::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).map_or(true, |n| n == 0) {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("authorization")
            {
                value.trim().clone_into(&mut authorization);
            }
        }
        if let Ok(mut log) = log.lock() {
            log.push(format!("{method} {path}"));
        }
        let (status, extra) = if path == "/ok" {
            ("200 OK", String::new())
        } else if path == "/auth" {
            if authorization == expected_auth {
                ("200 OK", String::new())
            } else {
                (
                    "401 Unauthorized",
                    "www-authenticate: Basic realm=\"peer\"\r\n".to_owned(),
                )
            }
        } else if let Some(t) = path.strip_prefix("/redirect/") {
            ("302 Found", format!("location: /landed/{t}\r\n"))
        } else if path.starts_with("/landed/") {
            ("200 OK", String::new())
        } else if path == "/no-head" {
            if method == "HEAD" {
                ("405 Method Not Allowed", "allow: GET\r\n".to_owned())
            } else {
                ("200 OK", String::new())
            }
        } else if path == "/boom" {
            ("500 Internal Server Error", String::new())
        } else if path == "/silent" {
            // Hold the connection open, say nothing, until the client goes.
            let mut sink = [0u8; 256];
            while reader.read(&mut sink).is_ok_and(|n| n > 0) {}
            return;
        } else {
            ("404 Not Found", String::new())
        };
        let reply = format!("HTTP/1.1 {status}\r\n{extra}content-length: 0\r\n\r\n");
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

// ------------------------------------------------- silent and black hole --

fn start_silent() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    std::thread::spawn(move || {
        // Accepted and kept, never written to (a handful per test run).
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    Ok(port)
}

fn start_black_hole() -> Result<u16, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let setup = || -> Result<(tokio::runtime::Runtime, tokio::net::TcpListener, Vec<TcpStream>, u16), String> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
                .map_err(|e| e.to_string())?;
            let listener = rt.block_on(async {
                let socket = tokio::net::TcpSocket::new_v4().map_err(|e| e.to_string())?;
                socket
                    .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
                    .map_err(|e| e.to_string())?;
                // Backlog 0: Linux queues one connection, then drops SYNs.
                socket.listen(0).map_err(|e| e.to_string())
            })?;
            let port = listener.local_addr().map_err(|e| e.to_string())?.port();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let mut fillers = Vec::new();
            for _ in 0..8 {
                match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                    Ok(s) => fillers.push(s),
                    Err(_) => return Ok((rt, listener, fillers, port)),
                }
            }
            Err("the accept queue never filled up".into())
        };
        match setup() {
            Ok((rt, listener, fillers, port)) => {
                let _ = tx.send(Ok(port));
                // Never accept; keep everything alive for the process.
                loop {
                    std::thread::park();
                    let _ = (&rt, &listener, &fillers);
                }
            }
            Err(e) => {
                let _ = tx.send(Err(e));
            }
        }
    });
    rx.recv().map_err(|e| e.to_string())?
}
