//! Embedded migrations, one set per backend, applied with a *sync*
//! connection on the caller's thread: never call these from inside an async
//! runtime (diesel-async's wrapper blocks on its own runtime).

use diesel::Connection;
use diesel::SqliteConnection;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::db::{DbUrl, SQLITE_PRAGMAS, ensure_parent_dir};

const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// What a migration run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// Versions applied (or reverted) by this run, in order.
    pub versions: Vec<String>,
}

fn run<C>(conn: &mut C, set: EmbeddedMigrations) -> Result<MigrationReport, String>
where
    C: MigrationHarness<C::Backend> + Connection,
{
    let applied = conn
        .run_pending_migrations(set)
        .map_err(|e| format!("migration failed: {e}"))?;
    Ok(MigrationReport {
        versions: applied.iter().map(ToString::to_string).collect(),
    })
}

fn revert<C>(conn: &mut C, set: EmbeddedMigrations) -> Result<MigrationReport, String>
where
    C: MigrationHarness<C::Backend> + Connection,
{
    let reverted = conn
        .revert_all_migrations(set)
        .map_err(|e| format!("migration revert failed: {e}"))?;
    Ok(MigrationReport {
        versions: reverted.iter().map(ToString::to_string).collect(),
    })
}

fn open_sqlite(path: &std::path::Path) -> Result<SqliteConnection, String> {
    use diesel::connection::SimpleConnection;
    ensure_parent_dir(path)?;
    let mut conn = SqliteConnection::establish(&path.to_string_lossy())
        .map_err(|e| format!("cannot open SQLite database {}: {e}", path.display()))?;
    conn.batch_execute(SQLITE_PRAGMAS)
        .map_err(|e| format!("cannot configure SQLite: {e}"))?;
    Ok(conn)
}

fn open_pg(url: &str) -> Result<AsyncConnectionWrapper<AsyncPgConnection>, String> {
    AsyncConnectionWrapper::<AsyncPgConnection>::establish(url)
        .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))
}

/// The key of the PostgreSQL advisory lock held while migrating (any
/// constant works; this one spells "patchbay" in ASCII).
const MIGRATION_LOCK: i64 = 0x7061_7463_6862_6179;

/// Runs `set` on PostgreSQL holding a session-level advisory lock, so
/// servers started together against one database migrate one after another:
/// the first applies the pending migrations, the others wait for the lock
/// and then find nothing to do (issue 15: two servers racing on a fresh
/// database failed with a duplicate `pg_type` entry). The lock also ends
/// with the session if the process dies.
fn run_locked(
    conn: &mut AsyncConnectionWrapper<AsyncPgConnection>,
    set: EmbeddedMigrations,
) -> Result<MigrationReport, String> {
    use diesel::connection::SimpleConnection;
    conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        .map_err(|e| format!("cannot take the migration lock: {e}"))?;
    let report = run(conn, set);
    let unlocked = conn
        .batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
        .map_err(|e| format!("cannot release the migration lock: {e}"));
    let report = report?;
    unlocked?;
    Ok(report)
}

/// Applies every pending migration of the backend `url` selects, holding a
/// lock that serialises concurrent runs (PostgreSQL: an advisory lock;
/// SQLite: one exclusive transaction), so any number of servers may start
/// at once against one database.
///
/// # Errors
/// A message for the log when the database cannot be opened or a migration
/// fails (the failing migration's transaction is rolled back).
pub fn run_migrations(url: &str) -> Result<MigrationReport, String> {
    match DbUrl::parse(url)? {
        DbUrl::Postgres(url) => run_locked(&mut open_pg(&url)?, POSTGRES),
        DbUrl::Sqlite(path) => run_exclusive(&mut open_sqlite(&path)?),
    }
}

/// Runs the SQLite set inside one `BEGIN EXCLUSIVE` transaction (each
/// migration nests as a savepoint): a second process opening the same file
/// waits (the connection's `busy_timeout`) until the first has committed,
/// and then finds nothing pending — without it both saw the same pending
/// migration and the second failed with `table … already exists`.
fn run_exclusive(conn: &mut SqliteConnection) -> Result<MigrationReport, String> {
    conn.exclusive_transaction::<_, Box<dyn std::error::Error + Send + Sync>, _>(|conn| {
        let applied = conn.run_pending_migrations(SQLITE)?;
        Ok(applied.iter().map(ToString::to_string).collect::<Vec<_>>())
    })
    .map(|versions| MigrationReport { versions })
    .map_err(|e| format!("migration failed: {e}"))
}

/// Reverts every applied migration (tests and `patchbay migrate --revert-all`).
///
/// # Errors
/// As [`run_migrations`].
pub fn revert_all_migrations(url: &str) -> Result<MigrationReport, String> {
    match DbUrl::parse(url)? {
        DbUrl::Postgres(url) => revert(&mut open_pg(&url)?, POSTGRES),
        DbUrl::Sqlite(path) => revert(&mut open_sqlite(&path)?, SQLITE),
    }
}
