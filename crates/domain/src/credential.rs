//! Credential connections' rules: the [`ConnId`] and [`Port`] values, the
//! seven [`CredentialType`]s and the [`CredentialField`]s each one uses, the
//! `extra` JSON rule, masking of secrets in answers, and the tri-state
//! [`PasswordUpdate`]/[`ExtraUpdate`] of a `PUT`. Sealing secrets and probing
//! connectivity are adapters' jobs: no secret ever lives in an entity here.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{DomainError, ErrorKind, ValueError};
use crate::string_enum::{string_enum, string_value};

/// Longest `conn_id`.
pub const MAX_CONN_ID_LEN: usize = 64;

/// A credential connection's name, unique in its environment: 1–64
/// lowercase letters, digits, `-` and `_`, starting with a letter or digit.
/// Not normalized: uppercase is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(String);

impl ConnId {
    /// Validates a `conn_id`.
    ///
    /// # Errors
    /// [`ValueError::Format`] saying which rule it breaks.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let err = |reason: &str| ValueError::format("conn_id", s, reason);
        let len = s.chars().count();
        if len == 0 {
            return Err(err("it must not be empty"));
        }
        if len > MAX_CONN_ID_LEN {
            return Err(err("it must be at most 64 characters long"));
        }
        if s.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(err("it must be lowercase"));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return Err(err(
                "only lowercase letters, digits, '-' and '_' are allowed",
            ));
        }
        if !s
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            return Err(err("it must start with a letter or a digit"));
        }
        Ok(Self(s.to_owned()))
    }
}

string_value!(ConnId);

/// A TCP port, 1–65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Port(u16);

impl Port {
    /// Validates a port number given as any integer.
    ///
    /// # Errors
    /// [`ValueError::OutOfRange`] outside 1–65535.
    pub fn new(n: i64) -> Result<Self, ValueError> {
        match u16::try_from(n) {
            Ok(p) if p != 0 => Ok(Self(p)),
            _ => Err(ValueError::OutOfRange {
                what: "port",
                value: n,
                min: 1,
                max: i64::from(u16::MAX),
            }),
        }
    }

    /// The port number.
    #[must_use]
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<i64> for Port {
    type Error = ValueError;

    fn try_from(n: i64) -> Result<Self, Self::Error> {
        Self::new(n)
    }
}

impl TryFrom<u32> for Port {
    type Error = ValueError;

    fn try_from(n: u32) -> Result<Self, Self::Error> {
        Self::new(i64::from(n))
    }
}

impl TryFrom<i32> for Port {
    type Error = ValueError;

    fn try_from(n: i32) -> Result<Self, Self::Error> {
        Self::new(i64::from(n))
    }
}

impl TryFrom<u16> for Port {
    type Error = ValueError;

    fn try_from(n: u16) -> Result<Self, Self::Error> {
        Self::new(i64::from(n))
    }
}

impl From<Port> for u16 {
    fn from(port: Port) -> Self {
        port.0
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for Port {
    type Err = ValueError;

    /// Parses a decimal port ("5432").
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.parse::<i64>() {
            Ok(n) => Self::new(n),
            Err(_) => Err(ValueError::format(
                "port",
                s,
                "it must be a whole number between 1 and 65535",
            )),
        }
    }
}

impl Serialize for Port {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u16(self.0)
    }
}

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::new(i64::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

string_enum! {
    /// A field of a credential connection that a type may use.
    #[derive(PartialOrd, Ord)]
    pub enum CredentialField as "connection field" {
        /// Host name, address, or (sqlite) file path.
        Host = "host",
        /// TCP port, 1–65535.
        Port = "port",
        /// Database or schema name.
        Schema = "schema",
        /// User name.
        Login = "login",
        /// Password (sealed at rest).
        Password = "password",
        /// A JSON object of driver options, as a string (sealed at rest).
        Extra = "extra",
    }
}

string_enum! {
    /// The kind of system a credential connection reaches.
    #[derive(PartialOrd, Ord)]
    pub enum CredentialType as "connection type" {
        /// PostgreSQL.
        Postgres = "postgres",
        /// MySQL or MariaDB.
        Mysql = "mysql",
        /// An SQLite file.
        Sqlite = "sqlite",
        /// An HTTP / REST API.
        Http = "http",
        /// SFTP over SSH.
        Sftp = "sftp",
        /// An S3-compatible bucket.
        S3 = "s3",
        /// Any TCP service.
        Generic = "generic",
    }
}

impl CredentialType {
    /// The human label, as `GET /api/connection-types` shows it.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::Postgres => "PostgreSQL",
            Self::Mysql => "MySQL",
            Self::Sqlite => "SQLite",
            Self::Http => "HTTP / REST API",
            Self::Sftp => "SFTP / SSH",
            Self::S3 => "Amazon S3",
            Self::Generic => "Generic",
        }
    }

    /// The fields this type uses, in the order the connection-types list shows.
    #[must_use]
    pub const fn fields(self) -> &'static [CredentialField] {
        use CredentialField as F;
        match self {
            Self::Postgres | Self::Mysql => &[F::Host, F::Port, F::Schema, F::Login, F::Password],
            Self::Sqlite => &[F::Host],
            Self::Http | Self::Sftp | Self::Generic => {
                &[F::Host, F::Port, F::Login, F::Password, F::Extra]
            }
            Self::S3 => &[F::Extra],
        }
    }

    /// Whether this type uses `field`.
    #[must_use]
    pub fn accepts(self, field: CredentialField) -> bool {
        self.fields().contains(&field)
    }
}

/// The longest `host`, `schema` or `login`, in characters (a sqlite `host`
/// is a file path).
pub const MAX_CREDENTIAL_TEXT_CHARS: usize = 1024;

/// A plain text field of a credential connection (`host`, `schema`,
/// `login`): the empty string means "not given"; otherwise at most
/// [`MAX_CREDENTIAL_TEXT_CHARS`] characters and no control characters.
///
/// # Errors
/// [`ValueError::Format`] naming the field and the rule.
pub fn parse_credential_text(
    field: CredentialField,
    value: Option<&str>,
) -> Result<Option<String>, ValueError> {
    let Some(v) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let name = field.as_str();
    if v.chars().count() > MAX_CREDENTIAL_TEXT_CHARS {
        return Err(ValueError::format(
            name,
            v,
            "it must be at most 1024 characters long",
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(ValueError::format(
            name,
            v,
            "it must not contain control characters",
        ));
    }
    Ok(Some(v.to_owned()))
}

/// Why a credential connection is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// A field was given that the type does not use.
    #[error("field '{field}' is not used by connection type '{conn_type}'")]
    FieldNotUsed {
        /// The field given.
        field: CredentialField,
        /// The connection's type.
        conn_type: CredentialType,
    },
    /// `extra` is not a string holding a JSON object.
    #[error("field 'extra' must be a string holding a JSON object")]
    ExtraNotJsonObject,
    /// `extra` is longer than [`MAX_EXTRA_BYTES`].
    #[error("field 'extra' must be at most 16384 bytes, not {size}")]
    ExtraTooLarge {
        /// Its size in bytes.
        size: usize,
    },
    /// A value (conn_id, port, type) is malformed.
    #[error(transparent)]
    Value(#[from] ValueError),
    /// Resources still reference the connection and `force` was not given.
    #[error(
        "Connection is used by {} resource(s) (ids: {}); remove the references or pass ?force=true to delete it anyway",
        .resource_ids.len(),
        join_ids(.resource_ids)
    )]
    InUse {
        /// The referencing resources' ids.
        resource_ids: Vec<i64>,
    },
}

fn join_ids(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl CredentialError {
    /// How an adapter should treat the refusal.
    #[must_use]
    pub const fn kind(&self) -> ErrorKind {
        match self {
            Self::FieldNotUsed { .. }
            | Self::ExtraNotJsonObject
            | Self::ExtraTooLarge { .. }
            | Self::Value(_) => ErrorKind::Invalid,
            Self::InUse { .. } => ErrorKind::Conflict,
        }
    }
}

impl DomainError for CredentialError {
    fn kind(&self) -> ErrorKind {
        Self::kind(self)
    }
}

/// Checks that `conn_type` uses every field in `present`.
///
/// `extra` is accepted by every type: it is the bag of driver options
/// (`sslmode`, a pinned host key, a request path), and seed 003's own create
/// example sends `"extra": "{\"sslmode\": \"require\"}"` with a `postgres`
/// connection, whose catalogue entry does not list it. The catalogue
/// ([`CredentialType::fields`]) keeps the seed's lists, which name the form
/// fields a client shows.
///
/// Pass the fields in [`CredentialField::ALL`] order for a stable answer.
///
/// # Errors
/// [`CredentialError::FieldNotUsed`] naming the first field it does not use.
pub fn check_fields(
    conn_type: CredentialType,
    present: impl IntoIterator<Item = CredentialField>,
) -> Result<(), CredentialError> {
    match present
        .into_iter()
        .find(|field| *field != CredentialField::Extra && !conn_type.accepts(*field))
    {
        Some(field) => Err(CredentialError::FieldNotUsed { field, conn_type }),
        None => Ok(()),
    }
}

/// The largest `extra` accepted, in bytes of its JSON text (SPEC §8).
pub const MAX_EXTRA_BYTES: usize = 16 * 1024;

/// Checks that `extra` is a string holding a JSON object
/// (`{"sslmode": "require"}`) of at most [`MAX_EXTRA_BYTES`] bytes, with no
/// NUL character (which PostgreSQL's `text` refuses).
///
/// # Errors
/// [`CredentialError::ExtraNotJsonObject`] or [`CredentialError::ExtraTooLarge`];
/// the message never repeats the value, which may hold secrets.
pub fn check_extra(extra: &str) -> Result<(), CredentialError> {
    if extra.len() > MAX_EXTRA_BYTES {
        return Err(CredentialError::ExtraTooLarge { size: extra.len() });
    }
    match serde_json::from_str::<serde_json::Value>(extra) {
        Ok(serde_json::Value::Object(_)) if !extra.contains('\0') && !extra.contains("\\u0000") => {
            Ok(())
        }
        _ => Err(CredentialError::ExtraNotJsonObject),
    }
}

/// Key-name fragments that mark a value of `extra` as sensitive
/// (case-insensitive substrings): viewers see such values masked.
pub const SENSITIVE_KEY_FRAGMENTS: &[&str] = &[
    "password",
    "secret",
    "token",
    "key",
    "credential",
    "private",
];

/// Whether an `extra` key looks like it holds a secret (`password`,
/// `secret_access_key`, `apiToken`, `private_key`…): any of
/// [`SENSITIVE_KEY_FRAGMENTS`] as a case-insensitive substring.
#[must_use]
pub fn is_sensitive_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SENSITIVE_KEY_FRAGMENTS.iter().any(|f| key.contains(f))
}

/// `extra` as a viewer sees it: the value of every sensitive-looking key
/// ([`is_sensitive_key`]), at any depth, replaced by [`PASSWORD_MASK`].
/// Text that is not a JSON object (never stored) comes back as `{}`.
#[must_use]
pub fn mask_extra(extra: &str) -> String {
    fn mask(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if is_sensitive_key(k) {
                        *v = serde_json::Value::String(PASSWORD_MASK.to_owned());
                    } else {
                        mask(v);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(mask),
            _ => {}
        }
    }
    match serde_json::from_str::<serde_json::Value>(extra) {
        Ok(mut value @ serde_json::Value::Object(_)) => {
            mask(&mut value);
            value.to_string()
        }
        _ => "{}".to_owned(),
    }
}

/// A new `extra` in which every sensitive-looking key ([`is_sensitive_key`])
/// sent as [`PASSWORD_MASK`], at any depth of nested objects, keeps the value
/// stored at the same path (so a form filled from a viewer's masked answer
/// does not overwrite secrets with the mask). A masked key with no stored
/// value at that path is dropped. Both must be JSON objects
/// ([`check_extra`]); anything else returns `new` unchanged.
#[must_use]
pub fn unmask_extra(new: &str, stored: &str) -> String {
    fn unmask(
        new: &mut serde_json::Map<String, serde_json::Value>,
        stored: Option<&serde_json::Map<String, serde_json::Value>>,
    ) {
        let keys: Vec<String> = new.keys().cloned().collect();
        for k in keys {
            let stored_value = stored.and_then(|m| m.get(&k));
            let masked = is_sensitive_key(&k)
                && new.get(&k).and_then(serde_json::Value::as_str) == Some(PASSWORD_MASK);
            if masked {
                match stored_value {
                    Some(v) => {
                        new.insert(k, v.clone());
                    }
                    None => {
                        new.remove(&k);
                    }
                }
            } else if let Some(serde_json::Value::Object(inner)) = new.get_mut(&k) {
                unmask(inner, stored_value.and_then(serde_json::Value::as_object));
            }
        }
    }
    let (Ok(serde_json::Value::Object(mut new_map)), Ok(serde_json::Value::Object(stored_map))) = (
        serde_json::from_str::<serde_json::Value>(new),
        serde_json::from_str::<serde_json::Value>(stored),
    ) else {
        return new.to_owned();
    };
    let before = new_map.clone();
    unmask(&mut new_map, Some(&stored_map));
    if new_map == before {
        return new.to_owned();
    }
    serde_json::Value::Object(new_map).to_string()
}

/// Whether resources still reference a connection that is being deleted.
///
/// # Errors
/// [`CredentialError::InUse`] listing them, unless `force`.
pub fn check_credential_delete(
    referencing_resource_ids: &[i64],
    force: bool,
) -> Result<(), CredentialError> {
    if referencing_resource_ids.is_empty() || force {
        Ok(())
    } else {
        Err(CredentialError::InUse {
            resource_ids: referencing_resource_ids.to_vec(),
        })
    }
}

/// What a single-connection answer shows instead of a stored password.
pub const PASSWORD_MASK: &str = "********";

/// The `password` of a connection in a list: always empty, whatever is stored.
#[must_use]
pub const fn mask_for_list() -> &'static str {
    ""
}

/// The `password` of a single connection: the mask when one is stored,
/// nothing (`null`) otherwise.
#[must_use]
pub const fn mask_for_get(has_password: bool) -> Option<&'static str> {
    if has_password {
        Some(PASSWORD_MASK)
    } else {
        None
    }
}

/// Whether a password sent in a `PUT` means "keep the stored one": the empty
/// string or [`PASSWORD_MASK`] (seed 003: "To keep the existing password,
/// send `********` or omit it").
#[must_use]
pub fn keeps_password(value: &str) -> bool {
    value.is_empty() || value == PASSWORD_MASK
}

/// What a `PUT` does to the stored password.
#[derive(Clone, PartialEq, Eq)]
pub enum PasswordUpdate {
    /// Leave it as it is.
    Keep,
    /// Remove it.
    Clear,
    /// Replace it.
    Set(String),
}

impl PasswordUpdate {
    /// From the JSON tri-state (`None`: field omitted; `Some(None)`: `null`):
    /// omitted, [`PASSWORD_MASK`] or `""` keep the stored password, `null`
    /// clears it, any other string replaces it.
    #[must_use]
    pub fn from_json(field: Option<Option<String>>) -> Self {
        match field {
            None => Self::Keep,
            Some(None) => Self::Clear,
            Some(Some(s)) if keeps_password(&s) => Self::Keep,
            Some(Some(s)) => Self::Set(s),
        }
    }

    /// Whether the update writes a value (the field counts as present for
    /// [`check_fields`]).
    #[must_use]
    pub const fn sets_value(&self) -> bool {
        matches!(self, Self::Set(_))
    }
}

impl fmt::Debug for PasswordUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Keep => f.write_str("Keep"),
            Self::Clear => f.write_str("Clear"),
            Self::Set(_) => f.debug_tuple("Set").field(&"[redacted]").finish(),
        }
    }
}

/// What a `PUT` does to the stored `extra`.
#[derive(Clone, PartialEq, Eq)]
pub enum ExtraUpdate {
    /// Leave it as it is.
    Keep,
    /// Remove it.
    Clear,
    /// Replace it (a string holding a JSON object).
    Set(String),
}

impl ExtraUpdate {
    /// From the JSON tri-state: omitted keeps, `null` clears, a string
    /// replaces (after [`check_extra`]).
    ///
    /// # Errors
    /// [`CredentialError::ExtraNotJsonObject`].
    pub fn from_json(field: Option<Option<String>>) -> Result<Self, CredentialError> {
        match field {
            None => Ok(Self::Keep),
            Some(None) => Ok(Self::Clear),
            Some(Some(s)) => {
                check_extra(&s)?;
                Ok(Self::Set(s))
            }
        }
    }

    /// Whether the update writes a value.
    #[must_use]
    pub const fn sets_value(&self) -> bool {
        matches!(self, Self::Set(_))
    }
}

impl fmt::Debug for ExtraUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Keep => f.write_str("Keep"),
            Self::Clear => f.write_str("Clear"),
            Self::Set(_) => f.debug_tuple("Set").field(&"[redacted]").finish(),
        }
    }
}

/// The outcome of the last connectivity test of a credential connection
/// (seed 003 `POST …/test`), as recorded on the connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionTestResult {
    /// When the test ran.
    pub at: DateTime<Utc>,
    /// Whether it connected.
    pub success: bool,
    /// The coarse failure reason (`timeout`, `refused`, `dns`, `auth`,
    /// `tls`, `protocol`, `blocked`); `None` on success.
    pub reason: Option<String>,
    /// The driver that ran (`tokio-postgres`, `tcp`, …).
    pub driver: String,
}

/// A credential connection as the rules see it. Secrets (password, extra)
/// are not here: they stay sealed in the store until a use case needs them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialConnection {
    /// The row id (UUID v7).
    pub id: Uuid,
    /// The environment the connection lives in.
    pub environment_id: Uuid,
    /// Its name, unique in the environment.
    pub conn_id: ConnId,
    /// What it reaches.
    pub conn_type: CredentialType,
    /// Host name, address or (sqlite) file path.
    pub host: Option<String>,
    /// TCP port.
    pub port: Option<Port>,
    /// Database / schema name.
    pub schema: Option<String>,
    /// User name.
    pub login: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Whether a (sealed) password is stored.
    pub has_password: bool,
    /// Whether a (sealed) `extra` document is stored.
    pub has_extra: bool,
    /// The last connectivity test, if any ran.
    pub last_test: Option<ConnectionTestResult>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change (a test does not count).
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use CredentialField as F;
    use proptest::prelude::*;

    #[test]
    fn conn_ids() {
        for ok in [
            "prod-postgres",
            "a",
            "9",
            "etl_db-2",
            "a_",
            "a-",
            &"a".repeat(64),
        ] {
            assert_eq!(ConnId::parse(ok).unwrap().as_str(), ok);
        }
        let cases = [
            ("", "empty"),
            (&*"a".repeat(65), "at most 64"),
            ("Prod", "lowercase"),
            ("-prod", "start with a letter or a digit"),
            ("_prod", "start with a letter or a digit"),
            ("prod db", "only lowercase letters"),
            ("prod.db", "only lowercase letters"),
        ];
        for (input, expected) in cases {
            let err = ConnId::parse(input).unwrap_err().to_string();
            assert!(err.contains(expected), "{input:?}: {err}");
        }
        assert!(serde_json::from_str::<ConnId>("\"Bad\"").is_err());
    }

    #[test]
    fn ports() {
        assert_eq!(Port::new(1).unwrap().get(), 1);
        assert_eq!(Port::new(65535).unwrap().get(), 65535);
        assert_eq!(Port::try_from(5432_u32).unwrap().to_string(), "5432");
        for bad in [0, -1, 65536, i64::MAX, i64::MIN] {
            assert!(Port::new(bad).is_err(), "{bad}");
        }
        assert!(Port::try_from(70000_u32).is_err());
        assert!(Port::try_from(0_u16).is_err());
        assert_eq!(
            Port::new(70000).unwrap_err().to_string(),
            "70000 is not a valid port: it must be between 1 and 65535"
        );
        assert_eq!("22".parse::<Port>().unwrap().get(), 22);
        assert!("x".parse::<Port>().is_err());
        let p: Port = serde_json::from_str("5432").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "5432");
        assert!(serde_json::from_str::<Port>("0").is_err());
        assert!(serde_json::from_str::<Port>("65536").is_err());
        assert!(serde_json::from_str::<Port>("\"5432\"").is_err());
        assert_eq!(u16::from(p), 5432);
    }

    #[test]
    fn types_match_the_seed_catalog() {
        let expected: &[(&str, &str, &[&str])] = &[
            (
                "postgres",
                "PostgreSQL",
                &["host", "port", "schema", "login", "password"],
            ),
            (
                "mysql",
                "MySQL",
                &["host", "port", "schema", "login", "password"],
            ),
            ("sqlite", "SQLite", &["host"]),
            (
                "http",
                "HTTP / REST API",
                &["host", "port", "login", "password", "extra"],
            ),
            (
                "sftp",
                "SFTP / SSH",
                &["host", "port", "login", "password", "extra"],
            ),
            ("s3", "Amazon S3", &["extra"]),
            (
                "generic",
                "Generic",
                &["host", "port", "login", "password", "extra"],
            ),
        ];
        assert_eq!(CredentialType::ALL.len(), expected.len());
        for (t, (name, label, fields)) in CredentialType::ALL.iter().zip(expected) {
            assert_eq!(t.as_str(), *name);
            assert_eq!(t.label(), *label);
            let got: Vec<&str> = t.fields().iter().map(|f| f.as_str()).collect();
            assert_eq!(got, *fields);
            assert_eq!(serde_json::to_value(t).unwrap(), *name);
        }
    }

    #[test]
    fn every_type_field_cell() {
        for t in CredentialType::ALL {
            for f in CredentialField::ALL {
                assert_eq!(t.accepts(*f), t.fields().contains(f));
                // `extra` is accepted by every type (seed 003's own example).
                let expected = t.accepts(*f) || *f == F::Extra;
                assert_eq!(check_fields(*t, [*f]).is_ok(), expected, "{t} {f}");
            }
        }
    }

    #[test]
    fn unused_fields_are_named() {
        let err = check_fields(CredentialType::Sqlite, [F::Host, F::Schema, F::Port]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "field 'schema' is not used by connection type 'sqlite'"
        );
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert!(
            check_fields(
                CredentialType::Postgres,
                CredentialType::Postgres.fields().iter().copied()
            )
            .is_ok()
        );
        assert!(check_fields(CredentialType::S3, []).is_ok());
        // Seed 003's create example: a postgres connection with extra.
        assert!(check_fields(CredentialType::Postgres, [F::Host, F::Port, F::Extra]).is_ok());
        assert!(check_fields(CredentialType::Sqlite, [F::Host, F::Extra]).is_ok());
        let err = check_fields(CredentialType::S3, [F::Extra, F::Password]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "field 'password' is not used by connection type 's3'"
        );
        let err = "oracle".parse::<CredentialType>().unwrap_err().to_string();
        assert_eq!(
            err,
            "'oracle' is not a valid connection type; expected one of: postgres, mysql, sqlite, http, sftp, s3, generic"
        );
    }

    #[test]
    fn extra_has_a_size_limit_that_never_echoes_the_value() {
        let at_limit = format!("{{\"k\": \"{}\"}}", "x".repeat(MAX_EXTRA_BYTES - 9));
        assert_eq!(at_limit.len(), MAX_EXTRA_BYTES);
        assert!(check_extra(&at_limit).is_ok());
        let over = format!("{{\"k\": \"{}\"}}", "x".repeat(MAX_EXTRA_BYTES - 8));
        let err = check_extra(&over).unwrap_err();
        assert_eq!(
            err,
            CredentialError::ExtraTooLarge {
                size: MAX_EXTRA_BYTES + 1
            }
        );
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert!(!err.to_string().contains("xxx"));
    }

    #[test]
    fn sensitive_keys_are_masked_at_any_depth() {
        for k in [
            "password",
            "DB_PASSWORD",
            "secret_access_key",
            "apiToken",
            "private_key",
            "Credential",
            "ssh_key",
        ] {
            assert!(is_sensitive_key(k), "{k}");
        }
        for k in ["path", "sslmode", "bucket", "region", "host_key_sha256x"] {
            // "host_key_sha256x" contains "key": sensitive by the substring rule.
            assert_eq!(is_sensitive_key(k), k.contains("key"), "{k}");
        }
        let masked = mask_extra(
            r#"{"path":"/a","api_token":"t","nested":{"password":"p","region":"eu"},"list":[{"secret":"s"}]}"#,
        );
        let v: serde_json::Value = serde_json::from_str(&masked).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "path": "/a",
                "api_token": PASSWORD_MASK,
                "nested": {"password": PASSWORD_MASK, "region": "eu"},
                "list": [{"secret": PASSWORD_MASK}]
            })
        );
        assert_eq!(mask_extra("not json"), "{}");
    }

    #[test]
    fn masked_keys_sent_back_keep_their_stored_values() {
        let stored = r#"{"api_token":"t0ken","path":"/a"}"#;
        let merged = unmask_extra(
            r#"{"api_token":"********","path":"/b","password":"********"}"#,
            stored,
        );
        let v: serde_json::Value = serde_json::from_str(&merged).unwrap();
        assert_eq!(v, serde_json::json!({"api_token": "t0ken", "path": "/b"}));
        // A non-sensitive key may hold the mask text literally.
        let merged = unmask_extra(r#"{"path":"********"}"#, stored);
        assert_eq!(merged, r#"{"path":"********"}"#);
        // Nothing masked: unchanged text.
        assert_eq!(unmask_extra(r#"{"a": 1}"#, stored), r#"{"a": 1}"#);
        // Nested keys, as viewers see them masked at any depth.
        let merged = unmask_extra(
            r#"{"db":{"password":"********","host":"h2"},"other":{"token":"********"}}"#,
            r#"{"db":{"password":"pw","host":"h1"}}"#,
        );
        let v: serde_json::Value = serde_json::from_str(&merged).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"db": {"password": "pw", "host": "h2"}, "other": {}})
        );
    }

    #[test]
    fn credential_text_fields() {
        assert_eq!(parse_credential_text(F::Host, None).unwrap(), None);
        assert_eq!(parse_credential_text(F::Host, Some("")).unwrap(), None);
        assert_eq!(
            parse_credential_text(F::Host, Some("db.example.com"))
                .unwrap()
                .as_deref(),
            Some("db.example.com")
        );
        let long = "a".repeat(MAX_CREDENTIAL_TEXT_CHARS + 1);
        assert!(
            parse_credential_text(F::Login, Some(&long))
                .unwrap_err()
                .to_string()
                .contains("at most 1024")
        );
        assert!(
            parse_credential_text(F::Schema, Some(&"a".repeat(MAX_CREDENTIAL_TEXT_CHARS))).is_ok()
        );
        assert!(
            parse_credential_text(F::Login, Some("a\nb"))
                .unwrap_err()
                .to_string()
                .contains("control")
        );
        assert!(keeps_password("") && keeps_password(PASSWORD_MASK) && !keeps_password("*******"));
    }

    #[test]
    fn extra_must_be_a_json_object() {
        assert!(check_extra("{\"sslmode\": \"require\"}").is_ok());
        assert!(check_extra("{}").is_ok());
        for bad in ["", "[]", "1", "\"x\"", "null", "{", "{\"a\":1} x"] {
            assert_eq!(
                check_extra(bad),
                Err(CredentialError::ExtraNotJsonObject),
                "{bad}"
            );
        }
    }

    #[test]
    fn masking() {
        assert_eq!(mask_for_list(), "");
        assert_eq!(mask_for_get(true), Some("********"));
        assert_eq!(mask_for_get(false), None);
    }

    #[test]
    fn password_tri_state() {
        use PasswordUpdate as P;
        assert_eq!(P::from_json(None), P::Keep);
        assert_eq!(P::from_json(Some(Some("********".into()))), P::Keep);
        assert_eq!(P::from_json(Some(Some(String::new()))), P::Keep);
        assert_eq!(P::from_json(Some(None)), P::Clear);
        assert_eq!(
            P::from_json(Some(Some("new-secret".into()))),
            P::Set("new-secret".into())
        );
        assert_eq!(
            P::from_json(Some(Some("*******".into()))),
            P::Set("*******".into())
        );
        assert!(P::Set("x".into()).sets_value() && !P::Keep.sets_value() && !P::Clear.sets_value());
        assert_eq!(
            format!("{:?}", P::Set("new-secret".into())),
            "Set(\"[redacted]\")"
        );
    }

    #[test]
    fn extra_tri_state() {
        use ExtraUpdate as X;
        assert_eq!(X::from_json(None), Ok(X::Keep));
        assert_eq!(X::from_json(Some(None)), Ok(X::Clear));
        assert_eq!(
            X::from_json(Some(Some("{}".into()))),
            Ok(X::Set("{}".into()))
        );
        assert_eq!(
            X::from_json(Some(Some("nope".into()))),
            Err(CredentialError::ExtraNotJsonObject)
        );
        assert_eq!(
            format!("{:?}", X::Set("{\"k\":\"s3cr3t\"}".into())),
            "Set(\"[redacted]\")"
        );
    }

    #[test]
    fn deleting_a_referenced_connection_needs_force() {
        assert_eq!(check_credential_delete(&[], false), Ok(()));
        assert_eq!(check_credential_delete(&[1, 2], true), Ok(()));
        let err = check_credential_delete(&[1, 2], false).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert_eq!(
            err.to_string(),
            "Connection is used by 2 resource(s) (ids: 1, 2); remove the references or pass ?force=true to delete it anyway"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn ports_accept_exactly_1_to_65535(n in prop_oneof![any::<i64>(), -5_i64..70_000]) {
            prop_assert_eq!(Port::new(n).is_ok(), (1..=65535).contains(&n));
        }

        #[test]
        fn conn_ids_round_trip(s in "[a-zA-Z0-9_ .-]{0,66}") {
            if let Ok(id) = ConnId::parse(&s) {
                prop_assert_eq!(id.as_str(), s.as_str());
                prop_assert!(id.as_str().len() <= 64);
                prop_assert!(!id.as_str().starts_with(['-', '_']));
            }
        }
    }
}
