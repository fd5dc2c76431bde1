//! Connection pools for both backends behind one [`Database`] handle, and the
//! macros that expand one query body per backend.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::SqliteConnection;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures_util::FutureExt;
use patchbay_app::ports::{
    NoTelemetry, PoolStatus, PoolStatusSource, QueryFamily, SecretCipher, Telemetry,
};

/// The SQLite connection type: diesel's sync connection run on tokio's
/// blocking pool.
pub(crate) type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

/// Pragmas applied to every SQLite connection, `busy_timeout` first so that
/// even switching to WAL waits instead of failing with "database is locked".
pub(crate) const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; \
     PRAGMA journal_mode = WAL; \
     PRAGMA foreign_keys = ON; \
     PRAGMA synchronous = NORMAL;";

/// Session settings of every PostgreSQL connection. Queries are prepared
/// statements; by default PostgreSQL plans their first five executions with
/// the actual parameters, and for a large environment whose rows have the
/// newest ids (a fresh clone) that custom plan walks the primary key over the
/// whole table (~100 ms at 300k rows) instead of using the environment's
/// partial index. The generic plan uses the index from the first execution
/// (docs/performance.md).
pub(crate) const PG_SESSION_SETTINGS: &str = "SET plan_cache_mode = force_generic_plan";

/// Which backend a [`Database`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DbUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DbUrl {
    /// `postgres://…`/`postgresql://…` select PostgreSQL; `sqlite://PATH`
    /// (relative, or absolute as `sqlite:///abs/path`) selects SQLite.
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| {
                "PATCHBAY_DATABASE_URL must start with sqlite://, postgres:// or postgresql://"
                    .to_owned()
            })?;
        if path.is_empty() || path.contains(":memory:") {
            return Err(
                "a SQLite database URL needs a file path, e.g. sqlite://./data/patchbay.db".into(),
            );
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }
}

/// Pool sizing and timeouts.
#[derive(Debug, Clone)]
pub struct DatabaseOptions {
    pub url: String,
    /// Connections per pool (PostgreSQL). SQLite uses at most 4: one writer
    /// at a time anyway, readers in parallel under WAL.
    pub max_connections: usize,
    /// How long a request waits for a free connection before 503.
    pub acquire_timeout: Duration,
}

impl DatabaseOptions {
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Clone)]
pub(crate) enum DbPool {
    Pg(Pool<AsyncPgConnection>),
    Sqlite(Pool<SqliteConn>),
}

/// The storage handle every repository port is implemented on. Cheap to
/// clone; holds no state besides the pool (and where it reports).
#[derive(Clone)]
pub struct Database {
    pub(crate) pool: DbPool,
    /// Seals and opens credential secrets (set by [`Database::with_cipher`];
    /// without it, credential writes and reads of secrets fail with
    /// `StoreError::Backend`).
    pub(crate) cipher: Option<Arc<dyn SecretCipher>>,
    /// Where query latencies and checkout failures go (set by
    /// [`Database::with_telemetry`]; none by default).
    pub(crate) telemetry: Arc<dyn Telemetry>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Applies pending migrations (on a plain thread with a sync connection),
    /// then opens the pool.
    ///
    /// # Errors
    /// A message fit for the log when the URL is invalid, the database cannot
    /// be reached or a migration fails.
    pub async fn connect(options: &DatabaseOptions) -> Result<Self, String> {
        let url = options.url.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let _ = tx.send(crate::migrate::run_migrations(&url));
        });
        rx.await
            .map_err(|_| "the migration thread died".to_owned())??;
        Self::open(options)
    }

    /// Opens the pool without touching the schema.
    ///
    /// # Errors
    /// When the URL is invalid or the pool cannot be built.
    pub fn open(options: &DatabaseOptions) -> Result<Self, String> {
        let pool = match DbUrl::parse(&options.url)? {
            // backend: postgres
            DbUrl::Postgres(url) => {
                let mut config = ManagerConfig::<AsyncPgConnection>::default();
                // `Fast`: no `SELECT 1` round trip on every checkout; a
                // connection that died is reported by its first query
                // (mapped to 503) and dropped by the pool.
                config.recycling_method = RecyclingMethod::Fast;
                config.custom_setup = Box::new(|url| {
                    let url = url.to_owned();
                    async move {
                        let mut conn = AsyncPgConnection::establish(&url).await?;
                        conn.batch_execute(PG_SESSION_SETTINGS)
                            .await
                            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                        Ok(conn)
                    }
                    .boxed()
                });
                let manager =
                    AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
                DbPool::Pg(
                    Pool::builder(manager)
                        .max_size(options.max_connections.max(1))
                        .wait_timeout(Some(options.acquire_timeout))
                        .create_timeout(Some(options.acquire_timeout))
                        .runtime(deadpool::Runtime::Tokio1)
                        .build()
                        .map_err(|e| format!("cannot build the PostgreSQL pool: {e}"))?,
                )
            }
            // backend: sqlite
            DbUrl::Sqlite(path) => {
                ensure_parent_dir(&path)?;
                let mut config = ManagerConfig::<SqliteConn>::default();
                config.recycling_method = RecyclingMethod::Fast;
                config.custom_setup = Box::new(|url| {
                    let url = url.to_owned();
                    async move {
                        let mut conn = SqliteConn::establish(&url).await?;
                        conn.batch_execute(SQLITE_PRAGMAS)
                            .await
                            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                        Ok(conn)
                    }
                    .boxed()
                });
                let manager = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(
                    path.to_string_lossy(),
                    config,
                );
                DbPool::Sqlite(
                    Pool::builder(manager)
                        .max_size(options.max_connections.clamp(1, 4))
                        .wait_timeout(Some(options.acquire_timeout))
                        .create_timeout(Some(options.acquire_timeout))
                        .runtime(deadpool::Runtime::Tokio1)
                        .build()
                        .map_err(|e| format!("cannot build the SQLite pool: {e}"))?,
                )
            }
        };
        Ok(Self {
            pool,
            cipher: None,
            telemetry: Arc::new(NoTelemetry),
        })
    }

    /// This handle with the cipher that seals and opens credential secrets
    /// (the store seals inside its own transactions: create, replace,
    /// environment clone, key rotation).
    #[must_use]
    pub fn with_cipher(mut self, cipher: Arc<dyn SecretCipher>) -> Self {
        self.cipher = Some(cipher);
        self
    }

    /// This handle reporting every store operation's latency by family and
    /// every failed connection checkout to `telemetry`.
    #[must_use]
    pub fn with_telemetry(mut self, telemetry: Arc<dyn Telemetry>) -> Self {
        self.telemetry = telemetry;
        self
    }

    /// The pool now, in connections (deadpool's `status()`): the most it
    /// opens, how many are open, checked out, and how many checkouts wait.
    /// Takes no connection and never blocks.
    #[must_use]
    pub fn pool_status(&self) -> PoolStatus {
        let status = match &self.pool {
            DbPool::Pg(pool) => pool.status(),
            DbPool::Sqlite(pool) => pool.status(),
        };
        PoolStatus {
            max_size: status.max_size,
            size: status.size,
            in_use: status.size.saturating_sub(status.available),
            waiting: status.waiting,
        }
    }

    /// Starts timing one operation of `family`; reported when dropped.
    pub(crate) fn time(&self, family: QueryFamily) -> QueryTimer<'_> {
        QueryTimer {
            telemetry: &*self.telemetry,
            family,
            started: Instant::now(),
        }
    }

    /// The backend this handle talks to.
    #[must_use]
    pub fn backend(&self) -> Backend {
        match self.pool {
            DbPool::Pg(_) => Backend::Postgres,
            DbPool::Sqlite(_) => Backend::Sqlite,
        }
    }
}

impl PoolStatusSource for Database {
    fn pool_status(&self) -> PoolStatus {
        Database::pool_status(self)
    }
}

/// Times one store operation from connection checkout until it is dropped
/// (so an early return through `?` is timed too), then reports it.
pub(crate) struct QueryTimer<'a> {
    telemetry: &'a dyn Telemetry,
    family: QueryFamily,
    started: Instant,
}

impl Drop for QueryTimer<'_> {
    fn drop(&mut self) {
        self.telemetry
            .query_finished(self.family, self.started.elapsed());
    }
}

pub(crate) fn ensure_parent_dir(path: &Path) -> Result<(), String> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir).map_err(|e| {
            format!(
                "cannot create the database directory {}: {e}",
                dir.display()
            )
        }),
        _ => Ok(()),
    }
}

/// Runs `$body` with `$conn` bound to a pooled connection of whichever
/// backend the database uses. The body is written once and type-checked
/// once per backend.
///
/// The three checkout macros are the store's one choke point for metrics:
/// a failed checkout is counted by cause (`errors::pool_error`), and the
/// body is timed under the calling module's `FAMILY` constant (a
/// [`QueryFamily`]; every module that queries declares one, or this does
/// not compile).
macro_rules! with_conn {
    ($db:expr, |$conn:ident| $body:expr) => {{
        let db: &$crate::db::Database = &$db;
        match &db.pool {
            $crate::db::DbPool::Pg(pool) => {
                let mut obj = pool
                    .get()
                    .await
                    .map_err(|e| $crate::errors::pool_error(&*db.telemetry, e))?;
                let _timer = db.time(FAMILY);
                let $conn: &mut diesel_async::AsyncPgConnection = &mut obj;
                $body
            }
            $crate::db::DbPool::Sqlite(pool) => {
                let mut obj = pool
                    .get()
                    .await
                    .map_err(|e| $crate::errors::pool_error(&*db.telemetry, e))?;
                let _timer = db.time(FAMILY);
                let $conn: &mut $crate::db::SqliteConn = &mut obj;
                $body
            }
        }
    }};
}

/// Like [`with_conn!`], inside a transaction: PostgreSQL's default
/// transaction, SQLite's `BEGIN IMMEDIATE` so concurrent writers queue on
/// `busy_timeout` instead of failing on lock upgrade.
macro_rules! transaction {
    ($db:expr, |$conn:ident| $body:expr) => {{
        let db: &$crate::db::Database = &$db;
        match &db.pool {
            $crate::db::DbPool::Pg(pool) => {
                let mut obj = pool
                    .get()
                    .await
                    .map_err(|e| $crate::errors::pool_error(&*db.telemetry, e))?;
                let _timer = db.time(FAMILY);
                let c: &mut diesel_async::AsyncPgConnection = &mut obj;
                diesel_async::AsyncConnection::transaction(c, async |$conn| $body).await
            }
            $crate::db::DbPool::Sqlite(pool) => {
                let mut obj = pool
                    .get()
                    .await
                    .map_err(|e| $crate::errors::pool_error(&*db.telemetry, e))?;
                let _timer = db.time(FAMILY);
                let c: &mut $crate::db::SqliteConn = &mut obj;
                c.immediate_transaction(async |$conn| $body).await
            }
        }
    }};
}

/// A read-only transaction: one consistent snapshot for several reads.
/// PostgreSQL's default transaction (the body's first statement should be
/// `snapshot_reads`); SQLite's deferred `BEGIN`, which under WAL reads one
/// snapshot without taking the write lock, so readers never queue behind
/// writers.
macro_rules! read_transaction {
    ($db:expr, |$conn:ident| $body:expr) => {{
        let db: &$crate::db::Database = &$db;
        match &db.pool {
            $crate::db::DbPool::Pg(pool) => {
                let mut obj = pool
                    .get()
                    .await
                    .map_err(|e| $crate::errors::pool_error(&*db.telemetry, e))?;
                let _timer = db.time(FAMILY);
                let c: &mut diesel_async::AsyncPgConnection = &mut obj;
                diesel_async::AsyncConnection::transaction(c, async |$conn| $body).await
            }
            $crate::db::DbPool::Sqlite(pool) => {
                let mut obj = pool
                    .get()
                    .await
                    .map_err(|e| $crate::errors::pool_error(&*db.telemetry, e))?;
                let _timer = db.time(FAMILY);
                let c: &mut $crate::db::SqliteConn = &mut obj;
                diesel_async::AsyncConnection::transaction(c, async |$conn| $body).await
            }
        }
    }};
}

pub(crate) use {read_transaction, transaction, with_conn};

/// Backend-specific statements the shared query bodies call by name.
pub(crate) trait BackendHooks {
    /// Serialises "is this the first user?" decisions among concurrent
    /// inserts. PostgreSQL: a table lock for the transaction. SQLite: nothing,
    /// `BEGIN IMMEDIATE` already serialises writers.
    async fn lock_users_for_first_admin(&mut self) -> crate::errors::DbResult<()>;

    /// Serialises changes to which environment of a project is the default
    /// (and deleting one) among concurrent transactions. PostgreSQL: `FOR
    /// UPDATE` on the project's environment rows, so a later statement of
    /// the transaction sees what a concurrent one committed. SQLite:
    /// nothing, `BEGIN IMMEDIATE` already serialises writers.
    async fn lock_project_environments(
        &mut self,
        project_id: uuid::Uuid,
    ) -> crate::errors::DbResult<()>;

    /// Keeps live resources of an environment from being changed or
    /// soft-deleted until the transaction ends, so what the transaction
    /// read about them (that they are live, their type) stays true while it
    /// writes rows that depend on it. `ids: None` covers every live resource
    /// of the environment. PostgreSQL: `FOR SHARE` on those rows, in id
    /// order (concurrent sharers do not block each other). SQLite: nothing,
    /// `BEGIN IMMEDIATE` already serialises writers.
    async fn share_live_resources(
        &mut self,
        environment_id: uuid::Uuid,
        ids: Option<&[i64]>,
    ) -> crate::errors::DbResult<()>;

    /// Makes every later statement of a read-only transaction see one
    /// snapshot. Must be the transaction's first statement. PostgreSQL:
    /// `REPEATABLE READ, READ ONLY` (the default, READ COMMITTED, takes a
    /// fresh snapshot per statement). SQLite: nothing, a transaction reads
    /// one snapshot already.
    async fn snapshot_reads(&mut self) -> crate::errors::DbResult<()>;

    /// The id of the environment's credential connection `conn_id`, if any,
    /// kept from being deleted until the transaction ends: `exclusive` (a
    /// delete) blocks every other locker, otherwise (a resource that starts
    /// referencing it) only deleters. PostgreSQL: `FOR UPDATE` / `FOR
    /// SHARE`. SQLite: a plain read, `BEGIN IMMEDIATE` already serialises
    /// writers.
    async fn lock_credential_connection(
        &mut self,
        environment_id: uuid::Uuid,
        conn_id: &str,
        exclusive: bool,
    ) -> crate::errors::DbResult<Option<uuid::Uuid>>;
}

impl BackendHooks for AsyncPgConnection {
    // backend: postgres
    async fn lock_users_for_first_admin(&mut self) -> crate::errors::DbResult<()> {
        self.batch_execute("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
            .await?;
        Ok(())
    }

    // backend: postgres
    async fn lock_project_environments(
        &mut self,
        project_id: uuid::Uuid,
    ) -> crate::errors::DbResult<()> {
        use crate::schema::environments;
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        environments::table
            .filter(environments::project_id.eq(crate::types::DbUuid(project_id)))
            .select(environments::id)
            // One lock order for every caller, or two callers locking the
            // same rows in different orders deadlock.
            .order(environments::id)
            .for_update()
            .load::<crate::types::DbUuid>(self)
            .await?;
        Ok(())
    }

    // backend: postgres
    async fn share_live_resources(
        &mut self,
        environment_id: uuid::Uuid,
        ids: Option<&[i64]>,
    ) -> crate::errors::DbResult<()> {
        use crate::schema::resources;
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        let live = resources::table
            .filter(resources::environment_id.eq(crate::types::DbUuid(environment_id)))
            .filter(resources::deleted_at.is_null())
            .select(resources::id)
            .order(resources::id);
        match ids {
            Some(ids) => {
                live.filter(resources::id.eq_any(ids))
                    .for_share()
                    .load::<i64>(self)
                    .await?
            }
            None => live.for_share().load::<i64>(self).await?,
        };
        Ok(())
    }

    // backend: postgres
    async fn snapshot_reads(&mut self) -> crate::errors::DbResult<()> {
        self.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await?;
        Ok(())
    }

    // backend: postgres
    async fn lock_credential_connection(
        &mut self,
        environment_id: uuid::Uuid,
        conn_id: &str,
        exclusive: bool,
    ) -> crate::errors::DbResult<Option<uuid::Uuid>> {
        use crate::schema::credential_connections as cc;
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        let query = cc::table
            .filter(cc::environment_id.eq(crate::types::DbUuid(environment_id)))
            .filter(cc::conn_id.eq(conn_id))
            .select(cc::id);
        let id = if exclusive {
            query
                .for_update()
                .first::<crate::types::DbUuid>(self)
                .await
                .optional()?
        } else {
            query
                .for_share()
                .first::<crate::types::DbUuid>(self)
                .await
                .optional()?
        };
        Ok(id.map(|i| i.0))
    }
}

impl BackendHooks for SqliteConn {
    // backend: sqlite
    async fn lock_users_for_first_admin(&mut self) -> crate::errors::DbResult<()> {
        Ok(())
    }

    // backend: sqlite
    async fn lock_project_environments(
        &mut self,
        _project_id: uuid::Uuid,
    ) -> crate::errors::DbResult<()> {
        Ok(())
    }

    // backend: sqlite
    async fn share_live_resources(
        &mut self,
        _environment_id: uuid::Uuid,
        _ids: Option<&[i64]>,
    ) -> crate::errors::DbResult<()> {
        Ok(())
    }

    // backend: sqlite
    async fn snapshot_reads(&mut self) -> crate::errors::DbResult<()> {
        Ok(())
    }

    // backend: sqlite
    async fn lock_credential_connection(
        &mut self,
        environment_id: uuid::Uuid,
        conn_id: &str,
        _exclusive: bool,
    ) -> crate::errors::DbResult<Option<uuid::Uuid>> {
        use crate::schema::credential_connections as cc;
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        let id = cc::table
            .filter(cc::environment_id.eq(crate::types::DbUuid(environment_id)))
            .filter(cc::conn_id.eq(conn_id))
            .select(cc::id)
            .first::<crate::types::DbUuid>(self)
            .await
            .optional()?;
        Ok(id.map(|i| i.0))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::projects::testing::{Backend as TestBackend, fresh_db, on_both_backends, user};
    use patchbay_app::StoreError;
    use patchbay_app::ports::{AcquireFailure, HealthCheck, ProbeOutcome};
    use patchbay_domain::CredentialType;
    use std::sync::Mutex;

    /// Telemetry that remembers what it was told.
    #[derive(Debug, Default)]
    struct Recorded {
        queries: Mutex<Vec<(QueryFamily, Duration)>>,
        failures: Mutex<Vec<AcquireFailure>>,
    }

    impl Telemetry for Recorded {
        fn query_finished(&self, family: QueryFamily, elapsed: Duration) {
            self.queries.lock().unwrap().push((family, elapsed));
        }
        fn pool_acquire_failed(&self, failure: AcquireFailure) {
            self.failures.lock().unwrap().push(failure);
        }
        fn connection_tested(&self, _: CredentialType, _: ProbeOutcome) {}
    }

    impl Recorded {
        fn families(&self) -> Vec<QueryFamily> {
            self.queries.lock().unwrap().iter().map(|q| q.0).collect()
        }
    }

    async fn every_operation_is_timed_under_its_family(backend: TestBackend) {
        let (_guard, db) = fresh_db(backend).await;
        let recorded = Arc::new(Recorded::default());
        let db = db.with_telemetry(recorded.clone());
        user(&db, "timed").await;
        db.ping().await.unwrap();
        assert_eq!(
            recorded.families(),
            [QueryFamily::Users, QueryFamily::Health]
        );
        assert!(recorded.failures.lock().unwrap().is_empty());
        let status = db.pool_status();
        assert!(status.max_size >= 1 && status.size >= 1, "{status:?}");
        assert_eq!((status.in_use, status.waiting), (0, 0), "{status:?}");
    }

    on_both_backends!(every_operation_is_timed_under_its_family);

    #[tokio::test]
    async fn a_checkout_that_waits_too_long_is_a_counted_timeout_and_503() {
        let dir = tempfile::tempdir().unwrap();
        let mut options =
            DatabaseOptions::new(format!("sqlite://{}", dir.path().join("t.db").display()));
        options.max_connections = 1;
        options.acquire_timeout = Duration::from_millis(100);
        let recorded = Arc::new(Recorded::default());
        let db = Database::open(&options)
            .unwrap()
            .with_telemetry(recorded.clone());
        let DbPool::Sqlite(pool) = &db.pool else {
            panic!("not SQLite")
        };
        let held = pool.get().await.unwrap();
        assert_eq!(
            db.pool_status(),
            PoolStatus {
                max_size: 1,
                size: 1,
                in_use: 1,
                waiting: 0
            }
        );
        let err = db.ping().await.unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        assert_eq!(
            *recorded.failures.lock().unwrap(),
            [AcquireFailure::Timeout]
        );
        // Nothing ran, so nothing was timed.
        assert!(recorded.families().is_empty());
        drop(held);
        db.ping().await.unwrap();
        assert_eq!(recorded.families(), [QueryFamily::Health]);
    }

    #[tokio::test]
    async fn a_database_that_refuses_is_a_counted_checkout_error() {
        // Port 1 on loopback: nothing listens, the connect is refused.
        let mut options = DatabaseOptions::new("postgres://patchbay@127.0.0.1:1/patchbay");
        options.acquire_timeout = Duration::from_secs(5);
        let recorded = Arc::new(Recorded::default());
        let db = Database::open(&options)
            .unwrap()
            .with_telemetry(recorded.clone());
        let err = db.ping().await.unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        assert_eq!(*recorded.failures.lock().unwrap(), [AcquireFailure::Error]);
        assert_eq!(db.pool_status().size, 0);
    }

    #[test]
    fn urls_select_the_backend() {
        assert_eq!(
            DbUrl::parse("sqlite://./data/patchbay.db"),
            Ok(DbUrl::Sqlite(PathBuf::from("./data/patchbay.db")))
        );
        assert_eq!(
            DbUrl::parse("sqlite:///var/lib/patchbay/patchbay.db"),
            Ok(DbUrl::Sqlite(PathBuf::from(
                "/var/lib/patchbay/patchbay.db"
            )))
        );
        assert!(matches!(
            DbUrl::parse("postgresql://u@127.0.0.1/db"),
            Ok(DbUrl::Postgres(_))
        ));
        assert!(DbUrl::parse("mysql://x").is_err());
        assert!(DbUrl::parse("sqlite://").is_err());
        assert!(DbUrl::parse("sqlite::memory:").is_err());
    }
}
