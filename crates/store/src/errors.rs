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
