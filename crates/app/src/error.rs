//! The application error: what every use case returns. It carries a coarse
//! kind (the HTTP adapter maps it to a status once), a short client-facing
//! title and a message. Internal details never travel in the message: they are
//! logged where the error is turned into a response.

use std::borrow::Cow;
use std::fmt;

/// What went wrong, coarsely: enough for an adapter to choose a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppErrorKind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    Gone,
    PayloadTooLarge,
    /// The request body's media type is not one the route reads (RFC 9110
    /// §15.5.16: 415, not 400).
    UnsupportedMediaType,
    RateLimited,
    Unavailable,
    Internal,
}

impl AppErrorKind {
    /// The default short title of an error of this kind.
    #[must_use]
    pub const fn default_title(self) -> &'static str {
        match self {
            Self::BadRequest => "Bad Request",
            Self::Unauthorized => "Unauthorized",
            Self::Forbidden => "Forbidden",
            Self::NotFound => "Not Found",
            Self::Conflict => "Conflict",
            Self::Gone => "Gone",
            Self::PayloadTooLarge => "Payload Too Large",
            Self::UnsupportedMediaType => "Unsupported Media Type",
            Self::RateLimited => "Too Many Requests",
            Self::Unavailable => "Service Unavailable",
            Self::Internal => "Internal Server Error",
        }
    }
}

/// An error a use case reports to its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    pub kind: AppErrorKind,
    pub title: Cow<'static, str>,
    pub message: String,
    /// For `Internal`/`Unavailable` only: what to log. Never sent to clients.
    pub detail: Option<String>,
}

impl AppError {
    #[must_use]
    pub fn new(kind: AppErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            title: Cow::Borrowed(kind.default_title()),
            message: message.into(),
            detail: None,
        }
    }

    /// Replaces the short title (seeds fix some, e.g. "Connection not allowed").
    #[must_use]
    pub fn with_title(mut self, title: impl Into<Cow<'static, str>>) -> Self {
        self.title = title.into();
        self
    }

    #[must_use]
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(AppErrorKind::BadRequest, message)
    }
    #[must_use]
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(AppErrorKind::Unauthorized, message)
    }
    #[must_use]
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(AppErrorKind::Forbidden, message)
    }
    #[must_use]
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(AppErrorKind::NotFound, message)
    }
    #[must_use]
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(AppErrorKind::Conflict, message)
    }
    #[must_use]
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(AppErrorKind::Gone, message)
    }
    #[must_use]
    pub fn rate_limited(message: impl Into<String>) -> Self {
        Self::new(AppErrorKind::RateLimited, message)
    }

    /// An unexpected failure: the client sees a generic message, the detail is
    /// logged with the request id.
    #[must_use]
    pub fn internal(detail: impl Into<String>) -> Self {
        Self {
            detail: Some(detail.into()),
            ..Self::new(
                AppErrorKind::Internal,
                "An unexpected error occurred; see the server log for this request id",
            )
        }
    }

    /// A dependency (the database) is unreachable.
    #[must_use]
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self {
            detail: Some(detail.into()),
            ..Self::new(
                AppErrorKind::Unavailable,
                "A dependency is unavailable; try again shortly",
            )
        }
    }

    /// A field-level validation failure: the message names the field.
    #[must_use]
    pub fn invalid_field(field: &str, problem: impl fmt::Display) -> Self {
        Self::bad_request(format!("{field}: {problem}"))
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.title, self.message)
    }
}

impl std::error::Error for AppError {}

/// A uniqueness or concurrency rule the store enforces, as it reports a
/// violation in [`StoreError::Conflict`]; use cases match on the variant.
/// Each index variant names its unique index, the same name in both
/// backends' migrations. Adding a unique index means its two migrations and
/// one variant here (the store's exhaustive match for SQLite's column-list
/// messages then asks for its columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Constraint {
    /// `users_email_key`: one account per (normalised) email.
    UserEmail,
    /// `projects_name_key`: project names are unique on the instance.
    ProjectName,
    /// `project_members_project_user_key`: one membership per user and project.
    ProjectMember,
    /// `project_members_one_owner`: exactly one owner per project.
    ProjectOwner,
    /// `invites_token_hash_key`: invite tokens are unique.
    InviteToken,
    /// `invites_pending_email_key`: one pending invite per email and project.
    InvitePendingEmail,
    /// `environments_project_name_key`: environment names are unique in a project.
    EnvironmentName,
    /// `environments_one_default`: one default environment per project.
    DefaultEnvironment,
    /// `resources_live_name_key`: live resources of a type have unique
    /// names (and parent domains) in an environment.
    ResourceName,
    /// `resource_connections_live_pair_key`: one live connection per
    /// (source, target) in an environment.
    ResourceConnectionPair,
    /// `allowed_connections_pair_key`: one rule per (source type, target type).
    AllowedConnectionPair,
    /// `credential_connections_env_conn_id_key`: `conn_id` is unique in an
    /// environment.
    CredentialConnId,
    /// Not an index: an optimistic update found the resource connection
    /// changed since it was read.
    ResourceConnectionChanged,
    /// Not an index: the invite was accepted meanwhile.
    InviteAlreadyAccepted,
}

impl Constraint {
    /// Every variant.
    pub const ALL: &'static [Self] = &[
        Self::UserEmail,
        Self::ProjectName,
        Self::ProjectMember,
        Self::ProjectOwner,
        Self::InviteToken,
        Self::InvitePendingEmail,
        Self::EnvironmentName,
        Self::DefaultEnvironment,
        Self::ResourceName,
        Self::ResourceConnectionPair,
        Self::AllowedConnectionPair,
        Self::CredentialConnId,
        Self::ResourceConnectionChanged,
        Self::InviteAlreadyAccepted,
    ];

    /// The unique index's name in both backends' migrations; `None` for
    /// the rules that are not indexes.
    #[must_use]
    pub const fn index_name(self) -> Option<&'static str> {
        Some(match self {
            Self::UserEmail => "users_email_key",
            Self::ProjectName => "projects_name_key",
            Self::ProjectMember => "project_members_project_user_key",
            Self::ProjectOwner => "project_members_one_owner",
            Self::InviteToken => "invites_token_hash_key",
            Self::InvitePendingEmail => "invites_pending_email_key",
            Self::EnvironmentName => "environments_project_name_key",
            Self::DefaultEnvironment => "environments_one_default",
            Self::ResourceName => "resources_live_name_key",
            Self::ResourceConnectionPair => "resource_connections_live_pair_key",
            Self::AllowedConnectionPair => "allowed_connections_pair_key",
            Self::CredentialConnId => "credential_connections_env_conn_id_key",
            Self::ResourceConnectionChanged | Self::InviteAlreadyAccepted => return None,
        })
    }

    /// The variant whose index is named `name`.
    #[must_use]
    pub fn from_index_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.index_name() == Some(name))
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index_name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{self:?}"),
        }
    }
}

/// What a repository adapter reports. Adapters map driver errors into these
/// once, so use cases never see diesel (or any driver) types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule among live rows (or an optimistic check) refused
    /// the write; nothing changed.
    #[error("unique constraint violated ({0})")]
    Conflict(Constraint),
    /// A foreign key pointed nowhere.
    #[error("referenced row does not exist ({0})")]
    MissingReference(String),
    /// The row the operation needed does not exist.
    #[error("row not found")]
    NotFound,
    /// The backend could not be reached (pool timeout, connection refused).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or corrupt data. Logged, answered with 500.
    #[error("database error: {0}")]
    Backend(String),
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(what) => AppError::conflict(format!(
                "A record with the same unique value exists ({what})"
            )),
            StoreError::MissingReference(what) => {
                AppError::bad_request(format!("A referenced record does not exist ({what})"))
            }
            StoreError::NotFound => AppError::not_found("Not found"),
            StoreError::Unavailable(detail) => AppError::unavailable(detail),
            StoreError::Backend(detail) => AppError::internal(detail),
        }
    }
}

/// Maps any domain refusal to an [`AppError`] by its kind, keeping the
/// domain's title and message (they are written for clients).
impl<E: patchbay_domain::DomainError> From<E> for AppError {
    fn from(err: E) -> Self {
        use patchbay_domain::ErrorKind as K;
        let kind = match err.kind() {
            K::Invalid => AppErrorKind::BadRequest,
            K::Conflict => AppErrorKind::Conflict,
            K::Forbidden => AppErrorKind::Forbidden,
            K::NotFound => AppErrorKind::NotFound,
            K::Gone => AppErrorKind::Gone,
        };
        AppError::new(kind, err.to_string()).with_title(err.title())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_carry_their_detail_in_the_message() {
        let err = AppError::internal("SELECT * FROM users; syntax error at /srv/x.rs:1");
        assert!(!err.message.contains("SELECT"));
        assert_eq!(err.title, "Internal Server Error");
        assert!(err.detail.is_some());
    }

    #[test]
    fn store_conflicts_become_409_and_backend_errors_500() {
        assert_eq!(
            AppError::from(StoreError::Conflict(Constraint::UserEmail)).kind,
            AppErrorKind::Conflict
        );
        assert_eq!(
            AppError::from(StoreError::Backend("x".into())).kind,
            AppErrorKind::Internal
        );
        assert_eq!(
            AppError::from(StoreError::Unavailable("x".into())).kind,
            AppErrorKind::Unavailable
        );
    }
}
