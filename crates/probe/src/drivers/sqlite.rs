//! The sqlite driver: opens an existing database file read-only (SQLite
//! URI `mode=ro`, through the diesel SQLite the store already links), reads
//! the schema and runs `SELECT 1`. It never creates a file.
//!
//! Only files under the directories of `PATCHBAY_PROBE_SQLITE_ROOTS` may be
//! opened (none by default, so every test answers `blocked`). The path is
//! canonicalised first — `..` and symlinks are resolved — and the result
//! must lie inside a canonical root. A path that does not exist answers
//! `refused` only when it lies lexically inside a root, so the tester
//! cannot be used to learn which files exist elsewhere.

use std::path::{Component, Path, PathBuf};

use diesel::connection::{Connection as _, SimpleConnection as _};
use patchbay_app::ports::{ProbeFailure, ProbeRequest};

use crate::Context;
use crate::failure::Failure;
use crate::net::Trace;

/// How long SQLite waits on a locked database before giving up, in ms;
/// well inside the test budget.
const BUSY_TIMEOUT_MS: u32 = 2_000;

pub(crate) async fn probe(
    ctx: &Context,
    request: &ProbeRequest,
    trace: &Trace,
) -> Result<(), Failure> {
    let raw = request
        .host
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or_else(|| Failure::config("host (the database file path) is required"))?;
    if ctx.sqlite_roots.is_empty() {
        return Err(Failure::new(
            ProbeFailure::Blocked,
            "no PATCHBAY_PROBE_SQLITE_ROOTS configured: sqlite tests are disabled",
        ));
    }
    let path = PathBuf::from(raw.strip_prefix("sqlite://").unwrap_or(raw));
    let roots = ctx.sqlite_roots.clone();
    trace.stage("open");
    tokio::task::spawn_blocking(move || check(&roots, &path))
        .await
        .map_err(|e| Failure::new(ProbeFailure::Protocol, format!("sqlite task failed: {e}")))?
}

/// The blocking part: confine, open read-only, query.
fn check(roots: &[PathBuf], path: &Path) -> Result<(), Failure> {
    let file = confine(roots, path)?;
    let url = format!("file:{}?mode=ro", uri_escape(&file));
    let mut conn = diesel::SqliteConnection::establish(&url).map_err(|e| {
        Failure::new(
            ProbeFailure::Refused,
            format!("{}: cannot open: {e}", file.display()),
        )
    })?;
    // Reading sqlite_master makes SQLite read the header and schema, so a
    // file that is not a database fails here rather than passing `SELECT 1`.
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; PRAGMA query_only = ON; \
         SELECT count(*) FROM sqlite_master; SELECT 1;"
    ))
    .map_err(|e| {
        let text = e.to_string();
        let reason = if text.contains("locked") || text.contains("busy") {
            ProbeFailure::Timeout
        } else {
            ProbeFailure::Protocol
        };
        Failure::new(reason, format!("{}: {text}", file.display()))
    })
}

/// Resolves `path` and checks it lies inside one of `roots` (canonical).
fn confine(roots: &[PathBuf], path: &Path) -> Result<PathBuf, Failure> {
    let inside = |p: &Path| roots.iter().any(|root| p.starts_with(root));
    match std::fs::canonicalize(path) {
        Ok(real) if inside(&real) => {
            if real.is_file() {
                Ok(real)
            } else {
                Err(Failure::new(
                    ProbeFailure::Protocol,
                    format!("{} is not a regular file", real.display()),
                ))
            }
        }
        Ok(real) => Err(Failure::new(
            ProbeFailure::Blocked,
            format!(
                "{} resolves to {}, outside PATCHBAY_PROBE_SQLITE_ROOTS",
                path.display(),
                real.display()
            ),
        )),
        Err(e) => {
            let lexical = normalise(path);
            if path.is_absolute() && inside(&lexical) {
                Err(Failure::new(
                    ProbeFailure::Refused,
                    format!("{}: {e}", path.display()),
                ))
            } else {
                Err(Failure::new(
                    ProbeFailure::Blocked,
                    format!("{} is outside PATCHBAY_PROBE_SQLITE_ROOTS", path.display()),
                ))
            }
        }
    }
}

/// `path` with `.` and `..` folded away, without touching the file system.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Escapes the characters that end or re-encode the path part of a SQLite
/// `file:` URI (`%`, `?`, `#`).
fn uri_escape(path: &Path) -> String {
    let mut out = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use patchbay_app::ports::{ConnectivityTester, ProbeOutcome};
    use patchbay_domain::CredentialType;

    use super::*;
    use crate::drivers::test_support::request;
    use crate::{ProbeSettings, Prober};

    fn failed(reason: ProbeFailure) -> ProbeOutcome {
        ProbeOutcome::Failed {
            reason,
            driver: "sqlite",
        }
    }

    fn prober(roots: Vec<PathBuf>) -> Prober {
        Prober::new(ProbeSettings {
            timeout: Duration::from_secs(5),
            allow_loopback: false,
            allow_private: false,
            sqlite_roots: roots,
        })
    }

    fn sqlite(path: &Path) -> ProbeRequest {
        let mut req = request(CredentialType::Sqlite, &path.to_string_lossy(), 0);
        req.port = None;
        req
    }

    fn make_db(path: &Path) {
        let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy()).unwrap();
        conn.batch_execute("CREATE TABLE t (x INTEGER)").unwrap();
    }

    #[tokio::test]
    async fn opens_an_existing_database_read_only_inside_a_root() {
        let root = tempfile::tempdir().unwrap();
        let db = root.path().join("app #1?.db");
        make_db(&db);
        let before = std::fs::read_dir(root.path()).unwrap().count();
        let t = prober(vec![root.path().to_owned()]);
        assert_eq!(
            t.test(sqlite(&db)).await,
            ProbeOutcome::Connected { driver: "sqlite" }
        );
        // Read-only: no journal or WAL file appeared beside it.
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), before);
    }

    #[tokio::test]
    async fn no_roots_blocks_everything() {
        let root = tempfile::tempdir().unwrap();
        let db = root.path().join("a.db");
        make_db(&db);
        assert_eq!(
            prober(Vec::new()).test(sqlite(&db)).await,
            failed(ProbeFailure::Blocked)
        );
    }

    #[tokio::test]
    async fn dot_dot_and_symlinks_cannot_leave_a_root() {
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("secret.db");
        make_db(&secret);
        let root = tempfile::tempdir().unwrap();
        let t = prober(vec![root.path().to_owned()]);

        let escape = root
            .path()
            .join("..")
            .join(outside.path().file_name().unwrap())
            .join("secret.db");
        assert_eq!(t.test(sqlite(&escape)).await, failed(ProbeFailure::Blocked));

        let link = root.path().join("link.db");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        assert_eq!(t.test(sqlite(&link)).await, failed(ProbeFailure::Blocked));

        let dir_link = root.path().join("dir");
        std::os::unix::fs::symlink(outside.path(), &dir_link).unwrap();
        assert_eq!(
            t.test(sqlite(&dir_link.join("secret.db"))).await,
            failed(ProbeFailure::Blocked)
        );
        // Whether a file outside exists is not revealed.
        assert_eq!(
            t.test(sqlite(&outside.path().join("missing.db"))).await,
            failed(ProbeFailure::Blocked)
        );
        assert_eq!(
            t.test(sqlite(Path::new("relative.db"))).await,
            failed(ProbeFailure::Blocked)
        );
    }

    #[tokio::test]
    async fn missing_files_directories_and_non_databases() {
        let root = tempfile::tempdir().unwrap();
        let t = prober(vec![root.path().to_owned()]);
        let missing = root.path().join("missing.db");
        assert_eq!(
            t.test(sqlite(&missing)).await,
            failed(ProbeFailure::Refused)
        );
        assert!(!missing.exists(), "the probe must not create the file");

        assert_eq!(
            t.test(sqlite(root.path())).await,
            failed(ProbeFailure::Protocol)
        );

        let text = root.path().join("notes.txt");
        std::fs::write(
            &text,
            "this is not a database, it is a long enough text file ".repeat(20),
        )
        .unwrap();
        assert_eq!(t.test(sqlite(&text)).await, failed(ProbeFailure::Protocol));

        let mut req = sqlite(&text);
        req.host = None;
        assert_eq!(t.test(req).await, failed(ProbeFailure::Protocol));
    }

    #[test]
    fn paths_normalise_and_escape() {
        assert_eq!(
            normalise(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
        assert_eq!(normalise(Path::new("/../x")), PathBuf::from("/x"));
        assert_eq!(uri_escape(Path::new("/a %?#b")), "/a %25%3f%23b");
    }
}
