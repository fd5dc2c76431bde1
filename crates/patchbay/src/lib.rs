//! The patchbay server: configuration, wiring of adapters into use cases, and
//! the HTTP server. The binary (`main.rs`) adds the CLI; tests boot the same
//! [`Application`] on port 0.

pub mod config;
pub mod logging;
pub mod ops;

use std::net::{SocketAddr, TcpListener};
use std::num::NonZeroU32;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer};
use patchbay_app::access::AccessService;
use patchbay_app::allowed_connections::AllowedConnectionService;
use patchbay_app::auth::AuthService;
use patchbay_app::credential_connections::CredentialConnectionService;
use patchbay_app::environments::EnvironmentService;
use patchbay_app::invites::InviteService;
use patchbay_app::members::MemberService;
use patchbay_app::ports::{Clock, IdGenerator, SystemClock, UuidV7Generator};
use patchbay_app::ports::{SecretCipher, Telemetry};
use patchbay_app::projects::ProjectService;
use patchbay_app::resource_connections::ResourceConnectionService;
use patchbay_app::resources::ResourceService;
use patchbay_app::secrets::SecretsService;
use patchbay_app::security::{Argon2Hasher, JwtSettings, TokenService};
use patchbay_crypto::{KeyRing, XChaChaCipher};
use patchbay_http::{AppState, LoginLimiter, Metrics, ProbeLimiter};
use patchbay_probe::{ProbeSettings, Prober};
use patchbay_store::{Database, DatabaseOptions, DiskFileStore};

pub use config::{Mode, Settings};

/// The issuer and audience of patchbay tokens.
pub const JWT_ISSUER: &str = "patchbay";
pub const JWT_AUDIENCE: &str = "patchbay-api";

/// The sealing cipher of `settings`' key ring (`PATCHBAY_SECRET_KEYS`, or
/// the dev key generated into the data directory).
///
/// # Errors
/// A message naming the setting when the ring is missing (production) or
/// malformed.
pub fn cipher(settings: &Settings) -> Result<Arc<dyn SecretCipher>, String> {
    let ring = KeyRing::new(settings.resolve_secret_keys()?)
        .map_err(|e| format!("PATCHBAY_SECRET_KEYS: {e}"))?;
    Ok(Arc::new(XChaChaCipher::new(ring)))
}

/// Key-ring maintenance on `settings`' database (migrated first): what
/// `patchbay secrets status|rotate` run, and tests call in-process.
///
/// # Errors
/// As [`cipher`], or when the database cannot be reached or migrated.
pub async fn secrets_service(settings: &Settings) -> Result<SecretsService, String> {
    let cipher = cipher(settings)?;
    let mut options = DatabaseOptions::new(settings.database_url.clone());
    options.max_connections = 2;
    let db = Database::connect(&options)
        .await?
        .with_cipher(cipher.clone());
    Ok(SecretsService::new(Arc::new(db), cipher))
}

/// A built, bound, not yet awaited server.
pub struct Application {
    addr: SocketAddr,
    server: Server,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Connects (and migrates) the database, wires the use cases and binds
    /// the listener.
    ///
    /// # Errors
    /// A message fit for the log: bad settings, unreachable database, failed
    /// migration, address in use.
    pub async fn build(settings: &Settings) -> Result<Self, String> {
        let jwt_secret = settings.resolve_jwt_secret()?;
        // Validated now so a bad key ring fails at start-up, not at first use.
        let cipher = cipher(settings)?;
        let listener = TcpListener::bind(&settings.listen)
            .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;

        // The store and the use cases report into the same registry
        // `/metrics` renders; that one alone reads the pool, so the store's
        // handle on the registry does not hold the store.
        let metrics = Metrics::new()?;
        let telemetry: Arc<dyn Telemetry> = Arc::new(metrics.clone());
        let mut options = DatabaseOptions::new(settings.database_url.clone());
        options.max_connections = settings.db_max_connections;
        let db = Database::connect(&options)
            .await?
            .with_cipher(cipher.clone())
            .with_telemetry(telemetry.clone());
        let metrics = metrics.with_pool(Arc::new(db.clone()));
        tracing::info!(backend = ?db.backend(), "database ready");
        // A ring that lacks a key id the data uses would make those secrets
        // unreadable: refuse to start, naming the ids (SPEC §8).
        SecretsService::new(Arc::new(db.clone()), cipher.clone())
            .check_coverage()
            .await?;

        let tokens = TokenService::new(JwtSettings {
            secret: jwt_secret,
            issuer: JWT_ISSUER.into(),
            audience: JWT_AUDIENCE.into(),
            ttl_seconds: settings.jwt_ttl_seconds,
        })?;
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let ids: Arc<dyn IdGenerator> = Arc::new(UuidV7Generator);
        let store = Arc::new(db.clone());
        let auth = AuthService::new(
            store.clone(),
            Arc::new(Argon2Hasher::new(cores.max(2))?),
            tokens,
            clock.clone(),
            ids.clone(),
            settings.signup_enabled,
        );
        let files = Arc::new(DiskFileStore::new(
            settings.data_dir.join("uploads").join("projects"),
        ));
        let rate = NonZeroU32::new(settings.login_rate_per_minute)
            .ok_or("PATCHBAY_LOGIN_RATE_PER_MINUTE must be at least 1")?;
        let probe_rate = NonZeroU32::new(settings.probe_rate_per_minute)
            .ok_or("PATCHBAY_PROBE_RATE_PER_MINUTE must be at least 1")?;
        let prober = Arc::new(Prober::new(ProbeSettings {
            timeout: patchbay_probe::DEFAULT_TIMEOUT,
            allow_loopback: settings.probe_allow_loopback(),
            allow_private: settings.probe_allow_private,
            sqlite_roots: settings
                .probe_sqlite_roots
                .as_deref()
                .map(ProbeSettings::parse_roots)
                .unwrap_or_default(),
        }));
        let trusted_proxies = settings.trusted_proxies()?;
        let cors = settings.cors_origins()?;
        let ids_for_credentials = ids.clone();
        let state = AppState {
            auth,
            access: AccessService::new(store.clone()),
            projects: ProjectService::new(store.clone(), files, clock.clone(), ids.clone()),
            members: MemberService::new(store.clone(), store.clone(), clock.clone(), ids.clone()),
            invites: InviteService::new(
                store.clone(),
                clock.clone(),
                ids.clone(),
                patchbay_domain::DEFAULT_INVITE_TTL,
            ),
            environments: EnvironmentService::new(store.clone(), clock.clone(), ids.clone()),
            resources: ResourceService::new(store.clone(), clock.clone()),
            connections: ResourceConnectionService::new(
                store.clone(),
                store.clone(),
                clock.clone(),
            ),
            allowed: AllowedConnectionService::new(store.clone(), clock.clone()),
            credentials: CredentialConnectionService::new(
                store.clone(),
                prober,
                clock,
                ids_for_credentials,
            )
            .with_telemetry(telemetry),
            health: Arc::new(db),
            metrics,
            login_limiter: LoginLimiter::per_minute(rate),
            probe_limiter: ProbeLimiter::new(probe_rate, settings.probe_max_concurrent),
            trusted_proxies,
            cors,
        };

        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(Compress::default())
                .wrap(from_fn(patchbay_http::head_as_get))
                .wrap(from_fn(patchbay_http::cors))
                .wrap(from_fn(patchbay_http::request_context))
                .configure(patchbay_http::configure(state.clone()))
        })
        .shutdown_timeout(10)
        .listen(listener)
        .map_err(|e| format!("cannot serve on {addr}: {e}"))?;
        if let Some(workers) = settings.workers {
            server = server.workers(workers.max(1));
        }
        if !settings.handle_signals {
            server = server.disable_signals();
        }
        Ok(Self {
            addr,
            server: server.run(),
        })
    }

    /// The bound address (useful with port 0).
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle to stop the server.
    #[must_use]
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (SIGINT/SIGTERM trigger a graceful stop).
    ///
    /// # Errors
    /// I/O errors of the server.
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}
