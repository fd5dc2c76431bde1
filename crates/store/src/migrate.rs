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

/// Applies every pending migration of the backend `url` selects.
///
/// # Errors
/// A message for the log when the database cannot be opened or a migration
/// fails (the failing migration's transaction is rolled back).
pub fn run_migrations(url: &str) -> Result<MigrationReport, String> {
    match DbUrl::parse(url)? {
        DbUrl::Postgres(url) => run(&mut open_pg(&url)?, POSTGRES),
        DbUrl::Sqlite(path) => run(&mut open_sqlite(&path)?, SQLITE),
    }
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
