//! Driver errors mapped once into the app's [`StoreError`].

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use patchbay_app::StoreError;

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
                .or_else(|| sqlite_unique_index(info.message()))
                .map_or_else(|| info.message().to_owned(), str::to_owned);
            match kind {
                DatabaseErrorKind::UniqueViolation => StoreError::Conflict(what),
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

/// SQLite's unique-violation messages name columns, not the index:
/// `UNIQUE constraint failed: projects.name`. This maps each column list to
/// the index that PostgreSQL names in `constraint_name()`, so both backends
/// report the same [`StoreError::Conflict`]. Keep it in step with the unique
/// indexes of `migrations/sqlite`. (Two partial indexes on the same columns
/// of one table could not be told apart; none exist.)
const SQLITE_UNIQUE_INDEXES: &[(&str, &str)] = &[
    ("users.email", "users_email_key"),
    ("projects.name", "projects_name_key"),
    (
        "project_members.project_id, project_members.user_id",
        "project_members_project_user_key",
    ),
    ("project_members.project_id", "project_members_one_owner"),
    ("invites.token_hash", "invites_token_hash_key"),
    (
        "invites.project_id, invites.email",
        "invites_pending_email_key",
    ),
    (
        "environments.project_id, environments.name",
        "environments_project_name_key",
    ),
    ("environments.project_id", "environments_one_default"),
    (
        "resources.environment_id, resources.type, resources.name, resources.parent_domain",
        "resources_live_name_key",
    ),
    (
        "resource_connections.environment_id, resource_connections.source_id, \
         resource_connections.target_id",
        "resource_connections_live_pair_key",
    ),
    (
        "allowed_connections.source_type, allowed_connections.target_type",
        "allowed_connections_pair_key",
    ),
    (
        "credential_connections.environment_id, credential_connections.conn_id",
        "credential_connections_env_conn_id_key",
    ),
];

/// The index a SQLite unique-violation message stands for, if known.
/// Expression indexes are reported by name (`index 'name'`) and pass through.
fn sqlite_unique_index(message: &str) -> Option<&str> {
    let columns = message.strip_prefix("UNIQUE constraint failed: ")?.trim();
    if let Some(name) = columns
        .strip_prefix("index '")
        .and_then(|rest| rest.strip_suffix('\''))
    {
        return Some(name);
    }
    SQLITE_UNIQUE_INDEXES
        .iter()
        .find(|(cols, _)| *cols == columns)
        .map(|(_, index)| *index)
}

/// A pool checkout failure: the database is unreachable or saturated.
pub(crate) fn pool_error<E: std::fmt::Display>(err: E) -> DbError {
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
    use patchbay_app::ports::{canvas_constraint, constraint};

    #[test]
    fn sqlite_messages_name_the_postgres_index() {
        let cases = [
            ("UNIQUE constraint failed: users.email", "users_email_key"),
            (
                "UNIQUE constraint failed: projects.name",
                constraint::PROJECT_NAME,
            ),
            (
                "UNIQUE constraint failed: project_members.project_id, project_members.user_id",
                constraint::MEMBER_UNIQUE,
            ),
            (
                "UNIQUE constraint failed: project_members.project_id",
                "project_members_one_owner",
            ),
            (
                "UNIQUE constraint failed: invites.project_id, invites.email",
                constraint::INVITE_PENDING,
            ),
            (
                "UNIQUE constraint failed: invites.token_hash",
                "invites_token_hash_key",
            ),
            (
                "UNIQUE constraint failed: environments.project_id, environments.name",
                constraint::ENVIRONMENT_NAME,
            ),
            (
                "UNIQUE constraint failed: environments.project_id",
                "environments_one_default",
            ),
            (
                "UNIQUE constraint failed: resources.environment_id, resources.type, \
                 resources.name, resources.parent_domain",
                canvas_constraint::RESOURCE_NAME,
            ),
            (
                "UNIQUE constraint failed: resource_connections.environment_id, \
                 resource_connections.source_id, resource_connections.target_id",
                canvas_constraint::CONNECTION_UNIQUE,
            ),
            (
                "UNIQUE constraint failed: allowed_connections.source_type, \
                 allowed_connections.target_type",
                canvas_constraint::ALLOWED_PAIR,
            ),
            ("UNIQUE constraint failed: index 'by_expr'", "by_expr"),
        ];
        for (message, index) in cases {
            assert_eq!(sqlite_unique_index(message), Some(index), "{message}");
        }
        assert_eq!(
            sqlite_unique_index("UNIQUE constraint failed: projects.id"),
            None
        );
        assert_eq!(sqlite_unique_index("duplicate key value"), None);
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
            StoreError::Conflict(constraint::PROJECT_NAME.into())
        );
        // backend: sqlite — translated from the column list.
        assert_eq!(
            unique(Info("UNIQUE constraint failed: projects.name", None)),
            StoreError::Conflict(constraint::PROJECT_NAME.into())
        );
        // Unknown column lists fall back to the raw message.
        assert_eq!(
            unique(Info("UNIQUE constraint failed: projects.id", None)),
            StoreError::Conflict("UNIQUE constraint failed: projects.id".into())
        );
    }
}
