//! The black-box test harness: boots the real patchbay server on port 0
//! against a fresh database — a SQLite file in a temp dir, or a new database
//! in PostgreSQL — and talks to it over HTTP only.
//!
//! PostgreSQL comes from `PATCHBAY_TEST_DATABASE_URL` (a server URL whose
//! user may `CREATE DATABASE`) or, when that is unset, from a throwaway
//! cluster this process starts with the machine's `initdb`/`postgres`
//! binaries. When neither is possible the PostgreSQL half of each test
//! fails, unless the person running the tests opts out with
//! `PATCHBAY_TEST_SKIP_POSTGRES=1` (not honoured under `CI=true`): then it
//! is skipped, and one line at the end of the run says how many were.

mod client;
pub mod formats;
pub mod peers;
pub mod process;

use std::path::PathBuf;
use std::sync::mpsc;

pub use client::{Response, TestClient};
use patchbay::{Mode, Settings};
use patchbay_test_postgres as postgres;

/// The JWT secret every test server uses, so tests can forge tokens.
pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// Which store a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running server plus what it needs cleaned up afterwards.
#[derive(Debug)]
pub struct TestApp {
    pub backend: Backend,
    pub addr: std::net::SocketAddr,
    pub client: TestClient,
    pub settings: Settings,
    handle: actix_web::dev::ServerHandle,
    _data_dir: tempfile::TempDir,
    pg_database: Option<String>,
}

/// Knobs a test may turn before the server starts.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub signup_disabled: bool,
    pub login_rate_per_minute: Option<u32>,
    /// Connectivity tests per user per minute (default 1000 in tests).
    pub probe_rate_per_minute: Option<u32>,
    /// Connectivity tests running at once (`PATCHBAY_PROBE_MAX_CONCURRENT`;
    /// the server's default when `None`).
    pub probe_max_concurrent: Option<usize>,
    /// The key ring (`PATCHBAY_SECRET_KEYS`: `id:<64 hex>[,…]`, the first
    /// seals); by default dev mode generates one into the data directory.
    pub secret_keys: Option<String>,
    /// Serve this existing database (another `TestApp`'s
    /// `settings.database_url`, kept alive by it) instead of a fresh one;
    /// this app neither creates nor drops it.
    pub database_url: Option<String>,
    /// `PATCHBAY_TRUSTED_PROXIES` (the test client connects from 127.0.0.1).
    pub trusted_proxies: Option<String>,
    /// `PATCHBAY_CORS_ORIGINS` (comma-separated origins; none: CORS off).
    pub cors_origins: Option<String>,
}

impl TestApp {
    /// Boots a server for `backend`, or `None` when PostgreSQL is unavailable
    /// and the run opted out of it (`PATCHBAY_TEST_SKIP_POSTGRES=1`; the skip
    /// is counted and reported when the test process exits).
    ///
    /// # Panics
    /// When the server cannot start, or PostgreSQL is unavailable and the run
    /// did not opt out (or runs under CI).
    #[allow(clippy::expect_used, clippy::panic)]
    pub async fn spawn(backend: Backend, options: Options) -> Option<Self> {
        let data_dir = tempfile::Builder::new()
            .prefix("patchbay-test-")
            .tempdir()
            .expect("temp dir");
        let (database_url, pg_database) = match (backend, options.database_url.clone()) {
            (_, Some(url)) => (url, None),
            (Backend::Sqlite, None) => (
                format!("sqlite://{}", data_dir.path().join("patchbay.db").display()),
                None,
            ),
            (Backend::Postgres, None) => {
                match postgres::fresh_database(&postgres::current_test()).await {
                    postgres::Fresh::Database { url, name, .. } => (url, Some(name)),
                    postgres::Fresh::Skipped => return None,
                }
            }
        };
        let settings = Settings {
            database_url,
            listen: "127.0.0.1:0".into(),
            data_dir: PathBuf::from(data_dir.path()),
            jwt_secret: Some(TEST_JWT_SECRET.into()),
            secret_keys: options.secret_keys.clone(),
            mode: Mode::Dev,
            signup_enabled: !options.signup_disabled,
            jwt_ttl_seconds: 3600,
            login_rate_per_minute: options.login_rate_per_minute.unwrap_or(1000),
            db_max_connections: 5,
            workers: Some(2),
            handle_signals: false,
            probe_rate_per_minute: options.probe_rate_per_minute.unwrap_or(1000),
            probe_max_concurrent: options
                .probe_max_concurrent
                .unwrap_or(Settings::default().probe_max_concurrent),
            trusted_proxies: options.trusted_proxies.clone(),
            cors_origins: options.cors_origins.clone(),
            ..Settings::default()
        };
        let (tx, rx) = mpsc::channel();
        let thread_settings = settings.clone();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                match patchbay::Application::build(&thread_settings).await {
                    Ok(app) => {
                        let _ = tx.send(Ok((app.addr(), app.handle())));
                        let _ = app.run().await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            });
        });
        let (addr, handle) = match rx.recv() {
            Ok(Ok(started)) => started,
            Ok(Err(e)) => panic!("the test server did not start: {e}"),
            Err(_) => panic!("the test server thread died"),
        };
        Some(Self {
            backend,
            addr,
            client: TestClient::new(addr),
            settings,
            handle,
            _data_dir: data_dir,
            pg_database,
        })
    }

    /// Runs one raw SQL statement against this test's database (to set up
    /// states the API cannot reach, such as an expired invite). The SQL must
    /// be valid on the backend under test.
    ///
    /// # Panics
    /// When the statement fails.
    #[allow(clippy::expect_used, clippy::panic)]
    pub async fn exec_sql(&self, sql: &str) -> usize {
        exec_sql(&self.settings.database_url, sql).await
    }

    /// Counts the rows of `table` matching the SQL condition `filter`
    /// (`"true"` for all), straight from this test's database: what a
    /// delete removed, whatever the API says.
    ///
    /// # Panics
    /// When the query fails.
    #[allow(clippy::expect_used)]
    pub async fn count_rows(&self, table: &str, filter: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let sql = format!("SELECT count(*) AS n FROM {table} WHERE {filter}");
        match self.backend {
            Backend::Sqlite => {
                let path = self
                    .settings
                    .database_url
                    .trim_start_matches("sqlite://")
                    .to_owned();
                let (tx, rx) = std::sync::mpsc::channel();
                std::thread::spawn(move || {
                    use diesel::RunQueryDsl as _;
                    use diesel::connection::Connection as _;
                    let result = diesel::SqliteConnection::establish(&path)
                        .map_err(|e| e.to_string())
                        .and_then(|mut c| {
                            diesel::sql_query(sql)
                                .get_result::<Count>(&mut c)
                                .map_err(|e| e.to_string())
                        });
                    let _ = tx.send(result);
                });
                rx.recv().expect("sql thread").expect("count").n
            }
            Backend::Postgres => {
                use diesel_async::{AsyncConnection as _, RunQueryDsl as _};
                let mut conn =
                    diesel_async::AsyncPgConnection::establish(&self.settings.database_url)
                        .await
                        .expect("connect");
                diesel::sql_query(sql)
                    .get_result::<Count>(&mut conn)
                    .await
                    .expect("count")
                    .n
            }
        }
    }

    /// Drops this test's PostgreSQL database while the server runs
    /// (terminating its connections), to simulate an outage.
    pub async fn drop_database(&self) {
        if let Some(name) = &self.pg_database {
            postgres::drop_database(name).await;
        }
    }

    /// Stops the server, keeping its database and data directory (another
    /// server may then serve them, see [`Options::database_url`]).
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }

    /// Stops the server and drops its PostgreSQL database.
    pub async fn finish(self) {
        self.handle.stop(false).await;
        if let Some(name) = &self.pg_database {
            postgres::drop_database(name).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Eager: the stop command is sent now even though nobody awaits it.
        drop(self.handle.stop(false));
    }
}

/// Runs one raw SQL statement against the database at `database_url`
/// (`sqlite://…` or `postgres://…`), e.g. the database of a server started
/// as a process. The SQL must be valid on that backend.
///
/// # Panics
/// When the statement fails.
#[allow(clippy::expect_used)]
pub async fn exec_sql(database_url: &str, sql: &str) -> usize {
    if let Some(path) = database_url.strip_prefix("sqlite://") {
        let path = path.to_owned();
        let sql = sql.to_owned();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use diesel::RunQueryDsl as _;
            use diesel::connection::Connection as _;
            let result = diesel::SqliteConnection::establish(&path)
                .map_err(|e| e.to_string())
                .and_then(|mut c| {
                    diesel::sql_query("PRAGMA busy_timeout = 10000")
                        .execute(&mut c)
                        .map_err(|e| e.to_string())?;
                    diesel::sql_query(sql)
                        .execute(&mut c)
                        .map_err(|e| e.to_string())
                });
            let _ = tx.send(result);
        });
        return rx.recv().expect("sql thread").expect("sql");
    }
    postgres_exec(database_url, sql).await
}

#[allow(clippy::expect_used)]
async fn postgres_exec(database_url: &str, sql: &str) -> usize {
    use diesel_async::{AsyncConnection as _, RunQueryDsl as _};
    let mut conn = diesel_async::AsyncPgConnection::establish(database_url)
        .await
        .expect("connect");
    diesel::sql_query(sql)
        .execute(&mut conn)
        .await
        .expect("sql")
}

/// Runs `scenario` against a fresh server on `backend` with default options.
pub async fn run(backend: Backend, scenario: impl AsyncFnOnce(&TestApp)) {
    run_with(backend, Options::default(), scenario).await;
}

/// Runs `scenario` against a fresh server on `backend` with `options`.
pub async fn run_with(backend: Backend, options: Options, scenario: impl AsyncFnOnce(&TestApp)) {
    if let Some(app) = TestApp::spawn(backend, options).await {
        scenario(&app).await;
        app.finish().await;
    }
}

/// Declares each named `async fn(&TestApp)` scenario as two tests,
/// `<name>::sqlite` and `<name>::postgres`: one body, both backends.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[actix_web::test]
            async fn sqlite() {
                $crate::run($crate::Backend::Sqlite, super::$name).await;
            }
            #[actix_web::test]
            async fn postgres() {
                $crate::run($crate::Backend::Postgres, super::$name).await;
            }
        }
    )*};
}
