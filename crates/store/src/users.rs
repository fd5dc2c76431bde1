//! The user repository: accounts and their password hashes.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use patchbay_app::StoreError;
use patchbay_app::ports::{
    AdminGrant, HealthCheck, NewUser, QueryFamily, UserRepository, UserWithHash,
};
use patchbay_domain::{Email, User};
use uuid::Uuid;

use crate::Database;
use crate::db::{BackendHooks, transaction, with_conn};
use crate::errors::{DbResult, corrupt};
use crate::schema::users;
use crate::types::{DbTime, DbUuid};

/// The query family this module's operations are timed under.
const FAMILY: QueryFamily = QueryFamily::Users;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct UserRow {
    id: DbUuid,
    email: String,
    name: String,
    password_hash: String,
    is_admin: bool,
    created_at: DbTime,
    updated_at: DbTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
struct NewUserRow<'a> {
    id: DbUuid,
    email: &'a str,
    name: &'a str,
    password_hash: &'a str,
    is_admin: bool,
    created_at: DbTime,
    updated_at: DbTime,
}

impl UserRow {
    pub(crate) fn into_parts(self) -> DbResult<UserWithHash> {
        Ok(UserWithHash {
            user: User {
                id: self.id.0,
                email: Email::parse(&self.email).map_err(|e| corrupt("email", e))?,
                name: self.name,
                is_admin: self.is_admin,
                created_at: self.created_at.0,
                updated_at: self.updated_at.0,
            },
            password_hash: self.password_hash,
        })
    }
}

#[async_trait]
impl UserRepository for Database {
    async fn create_user(&self, new: NewUser, admin: AdminGrant) -> Result<User, StoreError> {
        let result: DbResult<User> = transaction!(self, |conn| {
            let is_admin = match admin {
                AdminGrant::Always => true,
                AdminGrant::FirstUserOnly => {
                    conn.lock_users_for_first_admin().await?;
                    let existing: Option<DbUuid> = users::table
                        .select(users::id)
                        .first(conn)
                        .await
                        .optional()?;
                    existing.is_none()
                }
            };
            let row: UserRow = diesel::insert_into(users::table)
                .values(NewUserRow {
                    id: DbUuid(new.id),
                    email: new.email.as_str(),
                    name: &new.name,
                    password_hash: &new.password_hash,
                    is_admin,
                    created_at: DbTime(new.now),
                    updated_at: DbTime(new.now),
                })
                .returning(UserRow::as_returning())
                .get_result(conn)
                .await?;
            Ok(row.into_parts()?.user)
        });
        Ok(result?)
    }

    async fn find_user_by_email(&self, email: &Email) -> Result<Option<UserWithHash>, StoreError> {
        let result: DbResult<Option<UserWithHash>> = async {
            let row: Option<UserRow> = with_conn!(self, |conn| {
                users::table
                    .filter(users::email.eq(email.as_str()))
                    .select(UserRow::as_select())
                    .first(conn)
                    .await
                    .optional()?
            });
            row.map(UserRow::into_parts).transpose()
        }
        .await;
        Ok(result?)
    }

    async fn find_user_by_id(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        let result: DbResult<Option<User>> = async {
            let row: Option<UserRow> = with_conn!(self, |conn| {
                users::table
                    .find(DbUuid(id))
                    .select(UserRow::as_select())
                    .first(conn)
                    .await
                    .optional()?
            });
            Ok(row.map(UserRow::into_parts).transpose()?.map(|u| u.user))
        }
        .await;
        Ok(result?)
    }
}

#[async_trait]
impl HealthCheck for Database {
    async fn ping(&self) -> Result<(), StoreError> {
        /// `/readyz`'s ping is not a users query.
        const FAMILY: QueryFamily = QueryFamily::Health;
        let result: DbResult<()> = async {
            with_conn!(self, |conn| {
                diesel::sql_query("SELECT 1").execute(conn).await?;
            });
            Ok(())
        }
        .await;
        Ok(result?)
    }
}
