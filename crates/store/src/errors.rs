//! Driver errors mapped once into the app's [`StoreError`].

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use patchbay_app::ports::{AcquireFailure, Telemetry};
use patchbay_app::{Constraint, StoreError};

/// The error type store code uses internally: `?` converts diesel errors
/// into it, and it converts into [`StoreError`] at the port boundary.
#[derive(Debug)]
pub(crate) struct DbError(pub(crate) StoreError);

pub(crate) type DbResult<T> = Result<T, DbError>;

impl From<DieselError> for DbError {
    fn from(err: DieselError) -> Self {
        Self(map_diesel(err))
    }
}

impl From<StoreError> for DbError {
    fn from(err: StoreError) -> Self {
        Self(err)
    }
}

impl From<DbError> for StoreError {
    fn from(err: DbError) -> Self {
        err.0
    }
}

fn map_diesel(err: DieselError) -> StoreError {
    match err {
        DieselError::NotFound => StoreError::NotFound,
        DieselError::DatabaseError(kind, info) => {
            let what = info
                .constraint_name()
                .map_or_else(|| info.message().to_owned(), str::to_owned);
            match kind {
                DatabaseErrorKind::UniqueViolation => {
                    unique_violation(info.constraint_name(), info.message())
                }
                DatabaseErrorKind::ForeignKeyViolation => StoreError::MissingReference(what),
                DatabaseErrorKind::ClosedConnection => StoreError::Unavailable(what),
                DatabaseErrorKind::SerializationFailure => {
                    StoreError::Unavailable(format!("serialization failure: {what}"))
                }
                _ => StoreError::Backend(format!("{kind:?}: {}", info.message())),
            }
        }
        other => StoreError::Backend(other.to_string()),
    }
}

/// A unique violation as the typed [`Constraint`] it breaks: PostgreSQL
/// names the index; SQLite names the columns (`UNIQUE constraint failed:
/// projects.name`), or the index for expression indexes (`index 'name'`).
/// A violation of an index no variant knows is a bug: `Backend` (500).
fn unique_violation(index: Option<&str>, message: &str) -> StoreError {
    let found = match index {
        // backend: postgres
        Some(name) => Constraint::from_index_name(name),
        // backend: sqlite
        None => message
            .strip_prefix("UNIQUE constraint failed: ")
            .map(str::trim)
            .and_then(|columns| {
                columns
                    .strip_prefix("index '")
                    .and_then(|rest| rest.strip_suffix('\''))
                    .map_or_else(
                        || {
                            Constraint::ALL
                                .iter()
                                .copied()
                                .find(|c| sqlite_columns(*c) == Some(columns))
                        },
                        Constraint::from_index_name,
                    )
            }),
    };
    found.map_or_else(
        || StoreError::Backend(format!("unique violation of an unknown index: {message}")),
        StoreError::Conflict,
    )
}

/// The column list SQLite's unique-violation message names for each
/// index (`table.col, table.col`, in index order). Exhaustive on purpose:
/// a new [`Constraint`] variant does not compile until it has its columns
/// here. (Two partial indexes on the same columns of one table could not
/// be told apart; none exist.)
const fn sqlite_columns(constraint: Constraint) -> Option<&'static str> {
    Some(match constraint {
        Constraint::UserEmail => "users.email",
        Constraint::ProjectName => "projects.name",
        Constraint::ProjectMember => "project_members.project_id, project_members.user_id",
        Constraint::ProjectOwner => "project_members.project_id",
        Constraint::InviteToken => "invites.token_hash",
        Constraint::InvitePendingEmail => "invites.project_id, invites.email",
        Constraint::EnvironmentName => "environments.project_id, environments.name",
        Constraint::DefaultEnvironment => "environments.project_id",
        Constraint::ResourceName => {
            "resources.environment_id, resources.type, resources.name, resources.parent_domain"
        }
        Constraint::ResourceConnectionPair => {
            "resource_connections.environment_id, resource_connections.source_id, resource_connections.target_id"
        }
        Constraint::AllowedConnectionPair => {
            "allowed_connections.source_type, allowed_connections.target_type"
        }
        Constraint::CredentialConnId => {
            "credential_connections.environment_id, credential_connections.conn_id"
        }
        Constraint::ResourceConnectionChanged | Constraint::InviteAlreadyAccepted => return None,
    })
}

/// A pool checkout failure: the database is unreachable or saturated
/// (503). Counted on `telemetry` by cause: a wait or create timeout, or any
/// other failure (the backend refused or could not be reached).
pub(crate) fn pool_error<E: std::fmt::Display>(
    telemetry: &dyn Telemetry,
    err: deadpool::managed::PoolError<E>,
) -> DbError {
    let failure = match err {
        deadpool::managed::PoolError::Timeout(_) => AcquireFailure::Timeout,
        _ => AcquireFailure::Error,
    };
    telemetry.pool_acquire_failed(failure);
    DbError(StoreError::Unavailable(err.to_string()))
}

/// A stored value that fails the domain's parser: corrupt data, a bug.
pub(crate) fn corrupt(what: &str, err: impl std::fmt::Display) -> DbError {
    DbError(StoreError::Backend(format!(
        "stored {what} is invalid: {err}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_messages_map_to_the_same_constraint_as_postgres_index_names() {
        for c in Constraint::ALL {
            let (Some(index), Some(columns)) = (c.index_name(), sqlite_columns(*c)) else {
                assert!(
                    c.index_name().is_none() && sqlite_columns(*c).is_none(),
                    "{c:?}"
                );
                continue;
            };
            assert_eq!(
                unique_violation(Some(index), "duplicate key"),
                StoreError::Conflict(*c)
            );
            assert_eq!(
                unique_violation(None, &format!("UNIQUE constraint failed: {columns}")),
                StoreError::Conflict(*c),
                "{columns}"
            );
            assert_eq!(
                unique_violation(None, &format!("UNIQUE constraint failed: index '{index}'")),
                StoreError::Conflict(*c)
            );
        }
        assert!(matches!(
            unique_violation(None, "UNIQUE constraint failed: projects.id"),
            StoreError::Backend(_)
        ));
        assert!(matches!(
            unique_violation(Some("some_other_key"), "duplicate key"),
            StoreError::Backend(_)
        ));
    }

    #[derive(Debug)]
    struct Info(&'static str, Option<&'static str>);

    impl diesel::result::DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            self.1
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn unique(info: Info) -> StoreError {
        map_diesel(DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new(info),
        ))
    }

    #[test]
    fn unique_violations_carry_the_index_name_on_both_backends() {
        // backend: postgres — the driver names the index.
        assert_eq!(
            unique(Info(
                "duplicate key value violates unique constraint \"projects_name_key\"",
                Some("projects_name_key"),
            )),
            StoreError::Conflict(Constraint::ProjectName)
        );
        // backend: sqlite — translated from the column list.
        assert_eq!(
            unique(Info("UNIQUE constraint failed: projects.name", None)),
            StoreError::Conflict(Constraint::ProjectName)
        );
        // Unknown column lists are a bug, never a client-facing conflict.
        assert!(matches!(
            unique(Info("UNIQUE constraint failed: projects.id", None)),
            StoreError::Backend(_)
        ));
    }
}
