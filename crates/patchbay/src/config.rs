//! Configuration: built-in defaults < `patchbay.toml` (or the file named by
//! `PATCHBAY_CONFIG`) < `PATCHBAY_*` environment variables. Also resolves the
//! two secrets: in dev mode missing ones are generated into the data
//! directory (mode 0600); production mode refuses to start without them.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use crate::logging::LogFormat;

/// How strict start-up is about secrets and defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Dev,
    Production,
}

/// Every setting, with its default. Field names are the env names without the
/// `PATCHBAY_` prefix, lowercased.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// Address to listen on.
    pub listen: String,
    /// Where the SQLite file, generated secrets and uploads live.
    pub data_dir: PathBuf,
    /// HS256 secret, ≥ 32 bytes.
    pub jwt_secret: Option<String>,
    /// Sealing keys for credential secrets: `id:hex64[,id:hex64…]`, first active.
    pub secret_keys: Option<String>,
    pub mode: Mode,
    /// Whether `POST /api/auth/register` is open.
    pub signup_enabled: bool,
    /// Token lifetime.
    pub jwt_ttl_seconds: i64,
    /// Login attempts per minute per client address.
    pub login_rate_per_minute: u32,
    /// Database pool size (PostgreSQL; SQLite caps at 4).
    pub db_max_connections: usize,
    /// HTTP worker threads; default: one per core.
    pub workers: Option<usize>,
    /// Whether the server installs its own SIGINT/SIGTERM handlers.
    #[serde(default = "yes")]
    pub handle_signals: bool,
    /// Connectivity tests per user per minute (429 past it).
    #[serde(default = "default_probe_rate")]
    pub probe_rate_per_minute: u32,
    /// Connectivity tests running at once in this server (429 past it).
    #[serde(default = "default_probe_max_concurrent")]
    pub probe_max_concurrent: usize,
    /// Whether the tester may dial loopback addresses; default: `true` in
    /// dev mode, `false` in production.
    #[serde(default)]
    pub probe_allow_loopback: Option<bool>,
    /// Whether the tester may dial private ranges (RFC 1918, unique local).
    #[serde(default = "yes")]
    pub probe_allow_private: bool,
    /// Directories (comma- or colon-separated) under which the sqlite driver
    /// may open files; none by default, so sqlite tests answer `blocked`.
    #[serde(default)]
    pub probe_sqlite_roots: Option<String>,
    /// `text` (default) or `json` (one object per line).
    #[serde(default)]
    pub log_format: LogFormat,
    /// Proxies (addresses and CIDR blocks, comma-separated) whose
    /// `Forwarded` / `X-Forwarded-For` name the client; none by default.
    #[serde(default)]
    pub trusted_proxies: Option<String>,
    /// Origins (comma-separated, e.g. `https://app.example.com`) browsers
    /// may call the API from; none by default: no CORS headers at all.
    #[serde(default)]
    pub cors_origins: Option<String>,
}

const fn default_probe_rate() -> u32 {
    30
}

const fn default_probe_max_concurrent() -> usize {
    16
}

/// The settings that environment variables may set; other `PATCHBAY_*`
/// variables (test knobs, `PATCHBAY_CONFIG`) are not configuration.
const KNOWN_KEYS: &[&str] = &[
    "database_url",
    "listen",
    "data_dir",
    "jwt_secret",
    "secret_keys",
    "mode",
    "signup_enabled",
    "jwt_ttl_seconds",
    "login_rate_per_minute",
    "db_max_connections",
    "workers",
    "handle_signals",
    "probe_rate_per_minute",
    "probe_max_concurrent",
    "probe_allow_loopback",
    "probe_allow_private",
    "probe_sqlite_roots",
    "log_format",
    "trusted_proxies",
    "cors_origins",
];

const fn yes() -> bool {
    true
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "secret_keys",
                &self.secret_keys.as_ref().map(|_| "[redacted]"),
            )
            .field("mode", &self.mode)
            .field("signup_enabled", &self.signup_enabled)
            .field("jwt_ttl_seconds", &self.jwt_ttl_seconds)
            .field("login_rate_per_minute", &self.login_rate_per_minute)
            .field("db_max_connections", &self.db_max_connections)
            .field("workers", &self.workers)
            .field("probe_rate_per_minute", &self.probe_rate_per_minute)
            .field("probe_max_concurrent", &self.probe_max_concurrent)
            .field("probe_allow_loopback", &self.probe_allow_loopback())
            .field("probe_allow_private", &self.probe_allow_private)
            .field("probe_sqlite_roots", &self.probe_sqlite_roots)
            .field("log_format", &self.log_format)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("cors_origins", &self.cors_origins)
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: "sqlite://./data/patchbay.db".into(),
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            jwt_secret: None,
            secret_keys: None,
            mode: Mode::Dev,
            signup_enabled: true,
            jwt_ttl_seconds: 86_400,
            login_rate_per_minute: 10,
            db_max_connections: 10,
            workers: None,
            handle_signals: true,
            probe_rate_per_minute: default_probe_rate(),
            probe_max_concurrent: default_probe_max_concurrent(),
            probe_allow_loopback: None,
            probe_allow_private: true,
            probe_sqlite_roots: None,
            log_format: LogFormat::Text,
            trusted_proxies: None,
            cors_origins: None,
        }
    }
}

/// Hides the password of a `scheme://user:password@host/…` URL for logs.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl Settings {
    /// Whether the tester may dial loopback: as configured, else `true` in
    /// dev mode and `false` in production.
    #[must_use]
    pub fn probe_allow_loopback(&self) -> bool {
        self.probe_allow_loopback.unwrap_or(self.mode == Mode::Dev)
    }

    /// The parsed `PATCHBAY_TRUSTED_PROXIES` (empty when unset).
    ///
    /// # Errors
    /// A message naming the setting and the bad entry.
    pub fn trusted_proxies(&self) -> Result<patchbay_http::TrustedProxies, String> {
        patchbay_http::TrustedProxies::parse(self.trusted_proxies.as_deref().unwrap_or(""))
    }

    /// The parsed `PATCHBAY_CORS_ORIGINS` (CORS off when unset).
    ///
    /// # Errors
    /// A message naming the setting and the entry that is not an origin.
    pub fn cors_origins(&self) -> Result<patchbay_http::CorsOrigins, String> {
        patchbay_http::CorsOrigins::parse(self.cors_origins.as_deref().unwrap_or(""))
    }

    /// Loads the layered configuration.
    ///
    /// # Errors
    /// A message naming the bad setting.
    pub fn load() -> Result<Self, String> {
        let file = std::env::var("PATCHBAY_CONFIG").unwrap_or_else(|_| "patchbay.toml".into());
        Self::figment(Path::new(&file))
            .extract()
            .map_err(|e| format!("invalid configuration: {e}"))
    }

    fn figment(file: &Path) -> Figment {
        Figment::from(Serialized::defaults(Self::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("PATCHBAY_").only(KNOWN_KEYS))
    }

    /// The JWT secret: configured, or (dev mode) read from / generated into
    /// `<data_dir>/jwt_secret`.
    ///
    /// # Errors
    /// Production mode without a secret; a secret shorter than 32 bytes; an
    /// unwritable data directory.
    pub fn resolve_jwt_secret(&self) -> Result<Vec<u8>, String> {
        let secret = match &self.jwt_secret {
            Some(s) => s.clone(),
            None if self.mode == Mode::Production => {
                return Err("PATCHBAY_JWT_SECRET must be set in production mode \
                     (at least 32 bytes; generate one with `openssl rand -hex 32`)"
                    .into());
            }
            None => self.dev_secret("jwt_secret", || random_hex(32))?,
        };
        if secret.len() < 32 {
            return Err("PATCHBAY_JWT_SECRET must be at least 32 bytes long".into());
        }
        Ok(secret.into_bytes())
    }

    /// The sealing key ring: configured, or (dev mode) read from / generated
    /// into `<data_dir>/secret_keys`.
    ///
    /// # Errors
    /// As [`Settings::resolve_jwt_secret`], plus a malformed key list.
    pub fn resolve_secret_keys(&self) -> Result<Vec<(String, [u8; 32])>, String> {
        let raw = match &self.secret_keys {
            Some(s) => s.clone(),
            None if self.mode == Mode::Production => {
                return Err("PATCHBAY_SECRET_KEYS must be set in production mode \
                     (generate one with `patchbay secrets generate-key`)"
                    .into());
            }
            None => self.dev_secret("secret_keys", generate_key_entry)?,
        };
        parse_key_ring(&raw)
    }

    fn dev_secret(&self, name: &str, generate: impl FnOnce() -> String) -> Result<String, String> {
        let path = self.data_dir.join(name);
        if let Ok(existing) = std::fs::read_to_string(&path) {
            return Ok(existing.trim().to_owned());
        }
        std::fs::create_dir_all(&self.data_dir)
            .map_err(|e| format!("cannot create {}: {e}", self.data_dir.display()))?;
        let value = generate();
        write_private(&path, &value)?;
        tracing::warn!(
            path = %path.display(),
            "dev mode: no {} configured; generated one into the data directory (set PATCHBAY_{} to choose your own)",
            name,
            name.to_uppercase()
        );
        Ok(value)
    }
}

fn write_private(path: &Path, value: &str) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    file.write_all(value.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(buf.as_mut_slice());
    hex::encode(buf)
}

/// A new key-ring entry, `<id>:<64 hex chars>`.
#[must_use]
pub fn generate_key_entry() -> String {
    let id = uuid::Uuid::now_v7().simple().to_string();
    format!("k{}:{}", &id[..12], random_hex(32))
}

/// Parses `id:hex64[,id:hex64…]`.
///
/// # Errors
/// A message naming the malformed entry (never the key material).
pub fn parse_key_ring(raw: &str) -> Result<Vec<(String, [u8; 32])>, String> {
    let mut ring = Vec::new();
    for (i, entry) in raw
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .enumerate()
    {
        let bad = || {
            format!(
                "PATCHBAY_SECRET_KEYS entry {} must look like <id>:<64 hex characters>",
                i + 1
            )
        };
        let (id, hex_key) = entry.split_once(':').ok_or_else(bad)?;
        if id.is_empty()
            || id.len() > 32
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad());
        }
        let bytes = hex::decode(hex_key).map_err(|_| bad())?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
        if ring.iter().any(|(existing, _)| existing == id) {
            return Err(format!("PATCHBAY_SECRET_KEYS has the key id '{id}' twice"));
        }
        ring.push((id.to_owned(), key));
    }
    if ring.is_empty() {
        return Err("PATCHBAY_SECRET_KEYS holds no key".into());
    }
    Ok(ring)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted_for_logs() {
        assert_eq!(
            redact_url("postgres://u:pw@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("sqlite://./data/x.db"), "sqlite://./data/x.db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[test]
    fn key_rings_parse_and_reject_bad_entries() {
        let entry = generate_key_entry();
        let ring = parse_key_ring(&entry).unwrap();
        assert_eq!(ring.len(), 1);
        assert!(parse_key_ring("").is_err());
        assert!(parse_key_ring("k1:abcd").is_err());
        let twice = format!("{entry},{entry}");
        assert!(parse_key_ring(&twice).unwrap_err().contains("twice"));
    }

    #[test]
    fn production_refuses_missing_secrets_and_dev_generates_them() {
        let dir = std::env::temp_dir().join(format!("patchbay-cfg-{}", uuid::Uuid::now_v7()));
        let prod = Settings {
            mode: Mode::Production,
            data_dir: dir.clone(),
            ..Settings::default()
        };
        assert!(
            prod.resolve_jwt_secret()
                .unwrap_err()
                .contains("PATCHBAY_JWT_SECRET")
        );
        assert!(
            prod.resolve_secret_keys()
                .unwrap_err()
                .contains("PATCHBAY_SECRET_KEYS")
        );
        let dev = Settings {
            data_dir: dir.clone(),
            ..Settings::default()
        };
        let a = dev.resolve_jwt_secret().unwrap();
        let b = dev.resolve_jwt_secret().unwrap();
        assert_eq!(a, b, "the generated secret is reused");
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("jwt_secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(dev.resolve_secret_keys().unwrap().len(), 1);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment::Jail's closure signature is fixed"
    )]
    fn env_overrides_file_overrides_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("p.toml", "listen = \"127.0.0.1:9999\"\nworkers = 3\n")?;
            jail.set_env("PATCHBAY_WORKERS", "5");
            let s: Settings = Settings::figment(Path::new("p.toml")).extract()?;
            assert_eq!(s.listen, "127.0.0.1:9999");
            assert_eq!(s.workers, Some(5));
            assert_eq!(s.database_url, "sqlite://./data/patchbay.db");
            Ok(())
        });
    }
}
