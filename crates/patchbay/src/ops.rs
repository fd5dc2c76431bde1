//! Operator commands that act on a whole instance rather than on one
//! request: `patchbay config check` (validate a configuration without
//! changing anything) and `patchbay backup` (a consistent copy of the
//! database and the uploads). Neither starts the HTTP server.

use std::net::ToSocketAddrs as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use patchbay_app::ports::HealthCheck as _;
use patchbay_app::secrets::SecretsService;
use patchbay_crypto::{KeyRing, XChaChaCipher};
use patchbay_store::{Database, DatabaseOptions};

use crate::config::{Mode, Settings, parse_key_ring};

/// The outcome of `patchbay config check`.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// One line per problem, each naming the setting; a non-empty list
    /// means `serve` would fail (or misbehave) with this configuration.
    pub problems: Vec<String>,
    /// What is fine but worth knowing (e.g. a secret serve would generate).
    pub notes: Vec<String>,
}

/// Where the database lives, as far as the operator commands care.
enum Location {
    Sqlite(PathBuf),
    Postgres,
}

fn location(url: &str) -> Result<Location, String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Location::Postgres);
    }
    match url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        Some(path) if !path.is_empty() && !path.contains(":memory:") => {
            Ok(Location::Sqlite(PathBuf::from(path)))
        }
        Some(_) => Err("PATCHBAY_DATABASE_URL: a SQLite URL needs a file path".into()),
        None => Err(
            "PATCHBAY_DATABASE_URL must start with sqlite://, postgres:// or postgresql://".into(),
        ),
    }
}

/// Validates `settings` the way `serve` would use them, without writing
/// anything: no migration is applied, no dev secret is generated, no SQLite
/// file is created.
pub async fn check_config(settings: &Settings) -> CheckReport {
    let mut report = CheckReport::default();
    check_listen(settings, &mut report);
    check_jwt_secret(settings, &mut report);
    let ring = check_key_ring(settings, &mut report);
    check_data_dir(settings, &mut report);
    check_limits(settings, &mut report);
    check_probe_roots(settings, &mut report);
    if let Err(e) = settings.trusted_proxies() {
        report.problems.push(e);
    }
    if let Err(e) = settings.cors_origins() {
        report.problems.push(e);
    }
    check_database(settings, ring, &mut report).await;
    report
}

fn check_listen(settings: &Settings, report: &mut CheckReport) {
    match settings.listen.to_socket_addrs() {
        Ok(addrs) if !addrs.as_slice().is_empty() => {}
        Ok(_) => report.problems.push(format!(
            "PATCHBAY_LISTEN: '{}' resolves to no address",
            settings.listen
        )),
        Err(e) => report.problems.push(format!(
            "PATCHBAY_LISTEN: '{}' is not an address to listen on (host:port): {e}",
            settings.listen
        )),
    }
}

/// A dev secret file in the data directory, if one was generated before.
fn dev_secret(settings: &Settings, name: &str) -> Option<String> {
    std::fs::read_to_string(settings.data_dir.join(name))
        .ok()
        .map(|s| s.trim().to_owned())
}

fn check_jwt_secret(settings: &Settings, report: &mut CheckReport) {
    let secret = match (&settings.jwt_secret, settings.mode) {
        (Some(secret), _) => secret.clone(),
        (None, Mode::Production) => {
            report.problems.push(
                "PATCHBAY_JWT_SECRET: must be set in production mode (at least 32 bytes)".into(),
            );
            return;
        }
        (None, Mode::Dev) => match dev_secret(settings, "jwt_secret") {
            Some(secret) => secret,
            None => {
                report.notes.push(
                    "PATCHBAY_JWT_SECRET: not set; dev mode will generate one into the data directory"
                        .into(),
                );
                return;
            }
        },
    };
    if secret.len() < 32 {
        report.problems.push(format!(
            "PATCHBAY_JWT_SECRET: must be at least 32 bytes long (it has {})",
            secret.len()
        ));
    }
}

fn check_key_ring(settings: &Settings, report: &mut CheckReport) -> Option<KeyRing> {
    let raw = match (&settings.secret_keys, settings.mode) {
        (Some(raw), _) => raw.clone(),
        (None, Mode::Production) => {
            report.problems.push(
                "PATCHBAY_SECRET_KEYS: must be set in production mode (`patchbay secrets generate-key` prints an entry)"
                    .into(),
            );
            return None;
        }
        (None, Mode::Dev) => match dev_secret(settings, "secret_keys") {
            Some(raw) => raw,
            None => {
                report.notes.push(
                    "PATCHBAY_SECRET_KEYS: not set; dev mode will generate a key into the data directory"
                        .into(),
                );
                return None;
            }
        },
    };
    // The messages of both parsers name the entry, never the key material.
    match parse_key_ring(&raw)
        .and_then(|keys| KeyRing::new(keys).map_err(|e| format!("PATCHBAY_SECRET_KEYS: {e}")))
    {
        Ok(ring) => Some(ring),
        Err(e) if e.starts_with("PATCHBAY_SECRET_KEYS") => {
            report.problems.push(e);
            None
        }
        Err(e) => {
            report.problems.push(format!("PATCHBAY_SECRET_KEYS: {e}"));
            None
        }
    }
}

/// Whether a file can be created in `dir` (created and removed at once).
fn writable(dir: &Path) -> Result<(), String> {
    let probe = dir.join(format!(".patchbay-check-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// The nearest existing ancestor of `path` (itself included).
fn existing_ancestor(path: &Path) -> Option<&Path> {
    let mut current = Some(path);
    while let Some(p) = current {
        if p.as_os_str().is_empty() {
            return Some(Path::new("."));
        }
        if p.exists() {
            return Some(p);
        }
        current = p.parent();
    }
    None
}

fn check_data_dir(settings: &Settings, report: &mut CheckReport) {
    let dir = &settings.data_dir;
    if dir.exists() {
        if !dir.is_dir() {
            report.problems.push(format!(
                "PATCHBAY_DATA_DIR: {} exists and is not a directory",
                dir.display()
            ));
        } else if let Err(e) = writable(dir) {
            report.problems.push(format!(
                "PATCHBAY_DATA_DIR: {} is not writable: {e}",
                dir.display()
            ));
        }
        return;
    }
    match existing_ancestor(dir) {
        Some(parent) if parent.is_dir() && writable(parent).is_ok() => report.notes.push(format!(
            "PATCHBAY_DATA_DIR: {} does not exist yet; serve will create it",
            dir.display()
        )),
        _ => report.problems.push(format!(
            "PATCHBAY_DATA_DIR: {} does not exist and cannot be created",
            dir.display()
        )),
    }
}

fn check_limits(settings: &Settings, report: &mut CheckReport) {
    if settings.login_rate_per_minute == 0 {
        report
            .problems
            .push("PATCHBAY_LOGIN_RATE_PER_MINUTE: must be at least 1".into());
    }
    if settings.probe_rate_per_minute == 0 {
        report
            .problems
            .push("PATCHBAY_PROBE_RATE_PER_MINUTE: must be at least 1".into());
    }
    if settings.jwt_ttl_seconds <= 0 {
        report
            .problems
            .push("PATCHBAY_JWT_TTL_SECONDS: must be positive".into());
    }
}

fn check_probe_roots(settings: &Settings, report: &mut CheckReport) {
    let Some(raw) = settings.probe_sqlite_roots.as_deref() else {
        return;
    };
    for root in patchbay_probe::ProbeSettings::parse_roots(raw) {
        if !root.is_dir() {
            report.problems.push(format!(
                "PATCHBAY_PROBE_SQLITE_ROOTS: {} is not an existing directory",
                root.display()
            ));
        }
    }
}

async fn check_database(settings: &Settings, ring: Option<KeyRing>, report: &mut CheckReport) {
    let url = crate::config::redact_url(&settings.database_url);
    match location(&settings.database_url) {
        Err(e) => {
            report.problems.push(e);
            return;
        }
        Ok(Location::Sqlite(path)) if !path.exists() => {
            let parent = path.parent().unwrap_or(Path::new("."));
            match existing_ancestor(parent) {
                Some(dir) if dir.is_dir() && writable(dir).is_ok() => report.notes.push(format!(
                    "PATCHBAY_DATABASE_URL: {} does not exist yet; serve (or `patchbay migrate`) will create and migrate it",
                    path.display()
                )),
                _ => report.problems.push(format!(
                    "PATCHBAY_DATABASE_URL: {} does not exist and its directory cannot be created",
                    path.display()
                )),
            }
            return;
        }
        Ok(_) => {}
    }
    let mut options = DatabaseOptions::new(settings.database_url.clone());
    options.max_connections = 1;
    options.acquire_timeout = std::time::Duration::from_secs(5);
    // `open` never touches the schema (`connect` would migrate).
    let db = match Database::open(&options) {
        Ok(db) => db,
        Err(e) => {
            report
                .problems
                .push(format!("PATCHBAY_DATABASE_URL: {url}: {e}"));
            return;
        }
    };
    if let Err(e) = db.ping().await {
        report
            .problems
            .push(format!("PATCHBAY_DATABASE_URL: cannot reach {url}: {}", e));
        return;
    }
    let Some(ring) = ring else { return };
    let cipher = Arc::new(XChaChaCipher::new(ring));
    let db = db.with_cipher(cipher.clone());
    let service = SecretsService::new(Arc::new(db), cipher);
    match service.status().await {
        Err(e) => {
            let detail = e.detail.unwrap_or(e.message);
            if detail.contains("no such table") || detail.contains("does not exist") {
                report.notes.push(format!(
                    "PATCHBAY_DATABASE_URL: {url} has no schema yet; serve (or `patchbay migrate`) will create it"
                ));
            } else {
                report.problems.push(format!(
                    "PATCHBAY_DATABASE_URL: cannot read {url}: {detail}"
                ));
            }
        }
        Ok(lines) => {
            let missing: Vec<String> = lines
                .iter()
                .filter(|l| !l.in_ring)
                .map(|l| format!("'{}' ({} value(s))", l.key_id, l.values))
                .collect();
            if !missing.is_empty() {
                report.problems.push(format!(
                    "PATCHBAY_SECRET_KEYS: the database holds secrets sealed under key id(s) missing from the ring: {}",
                    missing.join(", ")
                ));
            }
        }
    }
}

/// What `patchbay backup` wrote.
#[derive(Debug)]
pub struct BackupReport {
    /// The database copy (SQLite file, or `pg_dump` custom-format archive).
    pub database: PathBuf,
    /// The copy of `<data_dir>/uploads`, when there were uploads.
    pub uploads: Option<PathBuf>,
    /// Files copied into `uploads`.
    pub upload_files: usize,
}

/// Where the uploads of a backup at `to` go: `<to>.uploads/`, next to it.
#[must_use]
pub fn uploads_destination(to: &Path) -> PathBuf {
    let mut name = to.as_os_str().to_owned();
    name.push(".uploads");
    PathBuf::from(name)
}

/// Copies the database to `to` while servers keep serving, verifies the
/// copy, and copies the data directory's uploads next to it.
///
/// SQLite: `VACUUM INTO` (one read transaction, so the copy is the
/// database as of one instant; under WAL writers are not blocked) followed by
/// `PRAGMA integrity_check` on the copy. PostgreSQL: `pg_dump
/// --format=custom`, found on `PATH`.
///
/// # Errors
/// `to` already exists; the database cannot be read; the copy fails its
/// integrity check; `pg_dump` is missing or fails; uploads cannot be copied.
pub fn backup(settings: &Settings, to: &Path) -> Result<BackupReport, String> {
    if to.exists() {
        return Err(format!(
            "{} already exists; choose a new file (a backup never overwrites)",
            to.display()
        ));
    }
    let uploads_to = uploads_destination(to);
    if uploads_to.exists() {
        return Err(format!("{} already exists", uploads_to.display()));
    }
    if let Some(parent) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    match location(&settings.database_url)? {
        Location::Sqlite(path) => sqlite_backup(&path, to)?,
        Location::Postgres => pg_dump(&settings.database_url, to)?,
    }
    let source = settings.data_dir.join("uploads");
    let (uploads, upload_files) = if source.is_dir() {
        let files = copy_tree(&source, &uploads_to)?;
        (Some(uploads_to), files)
    } else {
        (None, 0)
    };
    Ok(BackupReport {
        database: to.to_owned(),
        uploads,
        upload_files,
    })
}

#[derive(diesel::QueryableByName)]
struct IntegrityRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

fn sqlite_backup(path: &Path, to: &Path) -> Result<(), String> {
    use diesel::connection::{Connection as _, SimpleConnection as _};
    use diesel::{RunQueryDsl as _, SqliteConnection};
    if !path.is_file() {
        return Err(format!("no SQLite database at {}", path.display()));
    }
    let mut source = SqliteConnection::establish(&path.to_string_lossy())
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    // Waits out a writer holding the lock rather than failing at once.
    source
        .batch_execute("PRAGMA busy_timeout = 30000;")
        .map_err(|e| format!("cannot configure SQLite: {e}"))?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<diesel::sql_types::Text, _>(to.to_string_lossy())
        .execute(&mut source)
        .map_err(|e| format!("VACUUM INTO {} failed: {e}", to.display()))?;
    drop(source);
    let mut copy = SqliteConnection::establish(&to.to_string_lossy())
        .map_err(|e| format!("cannot open the copy {}: {e}", to.display()))?;
    let rows: Vec<IntegrityRow> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut copy)
        .map_err(|e| format!("integrity check of {} failed to run: {e}", to.display()))?;
    let verdict: Vec<String> = rows.into_iter().map(|r| r.integrity_check).collect();
    if verdict != ["ok"] {
        return Err(format!(
            "the copy {} failed PRAGMA integrity_check: {}",
            to.display(),
            verdict.join("; ")
        ));
    }
    Ok(())
}

/// `pg_dump` on `PATH` (the operator's choice of client version; no
/// guessing in version-specific directories, which would also make the
/// "not installed" answer untestable).
fn find_pg_dump() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("pg_dump"))
            .find(|candidate| candidate.is_file())
    })
}

/// Splits the password out of a `postgres://user:password@host/db` URL, so
/// it travels in `PGPASSWORD` rather than on a command line anyone may read.
fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return (url.to_owned(), None);
    };
    match userinfo.split_once(':') {
        Some((user, password)) => (
            format!("{scheme}://{user}@{host}"),
            Some(percent_decode(password)),
        ),
        None => (url.to_owned(), None),
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn pg_dump(url: &str, to: &Path) -> Result<(), String> {
    let Some(bin) = find_pg_dump() else {
        return Err(format!(
            "PostgreSQL: pg_dump was not found on PATH; install the PostgreSQL client \
             tools (Debian: postgresql-client) or add the directory holding pg_dump to \
             PATH, or run `pg_dump --format=custom --file={} <database URL>` yourself",
            to.display()
        ));
    };
    let (url, password) = split_password(url);
    let mut cmd = std::process::Command::new(&bin);
    cmd.arg("--format=custom")
        .arg(format!("--file={}", to.display()))
        .arg(format!("--dbname={url}"))
        .stdin(std::process::Stdio::null());
    if let Some(password) = password {
        cmd.env("PGPASSWORD", password);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if !out.status.success() {
        let _ = std::fs::remove_file(to);
        return Err(format!(
            "{} failed: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// Copies the directory tree `from` to `to` (created); returns the number
/// of files copied. Symbolic links are not followed.
fn copy_tree(from: &Path, to: &Path) -> Result<usize, String> {
    std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let mut files = 0;
    let entries =
        std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        let kind = entry
            .file_type()
            .map_err(|e| format!("cannot read {}: {e}", entry.path().display()))?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            files += copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)
                .map_err(|e| format!("cannot copy {}: {e}", entry.path().display()))?;
            files += 1;
        }
    }
    Ok(files)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn passwords_leave_the_pg_dump_command_line() {
        assert_eq!(
            split_password("postgres://u:p%40ss@h:5432/db"),
            ("postgres://u@h:5432/db".to_owned(), Some("p@ss".to_owned()))
        );
        assert_eq!(
            split_password("postgres://u@h/db"),
            ("postgres://u@h/db".to_owned(), None)
        );
    }

    #[test]
    fn uploads_go_next_to_the_backup() {
        assert_eq!(
            uploads_destination(Path::new("/b/x.db")),
            PathBuf::from("/b/x.db.uploads")
        );
    }
}
