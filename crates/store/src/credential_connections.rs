//! The credential-connection repository (seed 003, SPEC §8) and the
//! maintenance of sealed values (key-ring status, rotation). Secrets are
//! sealed and opened here, with the [`SecretCipher`] the [`Database`] holds,
//! inside the same transaction as the write: a `password` or `extra` is
//! stored as (key id, sealed text) bound to its row and field, and never
//! leaves this module in either form except opened into a [`SecretString`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use patchbay_app::StoreError;
use patchbay_app::ports::{
    CredentialConnectionChanges, CredentialConnectionRepository, CredentialDeletion,
    NewCredentialConnection, OpenedSecrets, QueryFamily, ResourceRef, RotationBatch, SealContext,
    SealedCount, SealedSecret, SealedValueStore, SecretCipher, SecretField, SecretString,
    SecretUpdate,
};
use patchbay_domain::{
    ConnId, ConnectionTestResult, CredentialConnection, CredentialType, Page, Port,
};
use uuid::Uuid;

use crate::Database;
use crate::db::{BackendHooks, transaction, with_conn};
use crate::errors::{DbError, DbResult, corrupt};
use crate::resources::parse_resource_type;
use crate::schema::{credential_connections as cc, resources};
use crate::types::{DbJson, DbTime, DbUuid};

/// The query family this module's operations are timed under.
const FAMILY: QueryFamily = QueryFamily::CredentialConnections;

/// A `credential_connections` row as read (sealed values included).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = cc)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct CredentialRow {
    pub(crate) id: DbUuid,
    pub(crate) environment_id: DbUuid,
    pub(crate) conn_id: String,
    pub(crate) conn_type: String,
    pub(crate) host: Option<String>,
    pub(crate) port: Option<i32>,
    pub(crate) schema_name: Option<String>,
    pub(crate) login: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) password_key_id: Option<String>,
    pub(crate) password_sealed: Option<String>,
    pub(crate) extra_key_id: Option<String>,
    pub(crate) extra_sealed: Option<String>,
    pub(crate) last_test: Option<DbJson>,
    pub(crate) created_at: DbTime,
    pub(crate) updated_at: DbTime,
}

/// The columns a `PUT` writes. `None` clears a column.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = cc)]
#[diesel(treat_none_as_null = true)]
struct CredentialChanges {
    conn_type: String,
    host: Option<String>,
    port: Option<i32>,
    schema_name: Option<String>,
    login: Option<String>,
    description: Option<String>,
    password_key_id: Option<String>,
    password_sealed: Option<String>,
    extra_key_id: Option<String>,
    extra_sealed: Option<String>,
    updated_at: DbTime,
}

fn sealed_pair(key_id: Option<&String>, sealed: Option<&String>) -> Option<SealedSecret> {
    match (key_id, sealed) {
        (Some(key_id), Some(ciphertext)) => Some(SealedSecret {
            key_id: key_id.clone(),
            ciphertext: ciphertext.clone(),
        }),
        _ => None,
    }
}

impl CredentialRow {
    pub(crate) fn into_domain(self) -> DbResult<CredentialConnection> {
        let last_test = self
            .last_test
            .map(|j| serde_json::from_value::<ConnectionTestResult>(j.0))
            .transpose()
            .map_err(|e| corrupt("last test result", e))?;
        Ok(CredentialConnection {
            id: self.id.0,
            environment_id: self.environment_id.0,
            conn_id: ConnId::parse(&self.conn_id).map_err(|e| corrupt("conn_id", e))?,
            conn_type: CredentialType::parse(&self.conn_type)
                .map_err(|e| corrupt("connection type", e))?,
            host: self.host,
            port: self
                .port
                .map(|p| Port::new(i64::from(p)))
                .transpose()
                .map_err(|e| corrupt("port", e))?,
            schema: self.schema_name,
            login: self.login,
            description: self.description,
            has_password: self.password_sealed.is_some(),
            has_extra: self.extra_sealed.is_some(),
            last_test,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
        })
    }

    fn password(&self) -> Option<SealedSecret> {
        sealed_pair(self.password_key_id.as_ref(), self.password_sealed.as_ref())
    }

    fn extra(&self) -> Option<SealedSecret> {
        sealed_pair(self.extra_key_id.as_ref(), self.extra_sealed.as_ref())
    }

    /// Opens both secrets.
    fn open(&self, cipher: &dyn SecretCipher) -> DbResult<OpenedSecrets> {
        let id = self.id.0;
        Ok(OpenedSecrets {
            password: self
                .password()
                .map(|s| open(cipher, id, SecretField::Password, &s))
                .transpose()?,
            extra: self
                .extra()
                .map(|s| open(cipher, id, SecretField::Extra, &s))
                .transpose()?,
        })
    }

    /// This row copied for another environment under a new id: plain
    /// columns as they are, each secret opened and sealed for the new row
    /// (fresh nonce, new associated data), the last test result dropped.
    pub(crate) fn copy_for(
        &self,
        cipher: &dyn SecretCipher,
        id: Uuid,
        environment_id: Uuid,
        now: DateTime<Utc>,
    ) -> DbResult<Self> {
        let opened = self.open(cipher)?;
        let (password_key_id, password_sealed) =
            seal_option(cipher, id, SecretField::Password, opened.password.as_ref())?;
        let (extra_key_id, extra_sealed) =
            seal_option(cipher, id, SecretField::Extra, opened.extra.as_ref())?;
        Ok(Self {
            id: DbUuid(id),
            environment_id: DbUuid(environment_id),
            password_key_id,
            password_sealed,
            extra_key_id,
            extra_sealed,
            last_test: None,
            created_at: DbTime(now),
            updated_at: DbTime(now),
            ..self.clone()
        })
    }
}

/// The [`Database`]'s cipher, or a `Backend` error when none was set.
pub(crate) fn cipher_of(db: &Database) -> DbResult<&dyn SecretCipher> {
    db.cipher.as_deref().ok_or_else(|| {
        DbError(StoreError::Backend(
            "no secret cipher is configured on this Database".into(),
        ))
    })
}

fn seal(
    cipher: &dyn SecretCipher,
    row_id: Uuid,
    field: SecretField,
    plaintext: &SecretString,
) -> DbResult<SealedSecret> {
    cipher
        .seal(
            plaintext,
            &SealContext::credential_connection(row_id, field),
        )
        .map_err(|e| {
            DbError(StoreError::Backend(format!(
                "cannot seal the {} of credential_connections row {row_id}: {e}",
                field.as_str()
            )))
        })
}

fn seal_option(
    cipher: &dyn SecretCipher,
    row_id: Uuid,
    field: SecretField,
    plaintext: Option<&SecretString>,
) -> DbResult<(Option<String>, Option<String>)> {
    Ok(match plaintext {
        Some(p) => {
            let sealed = seal(cipher, row_id, field, p)?;
            (Some(sealed.key_id), Some(sealed.ciphertext))
        }
        None => (None, None),
    })
}

/// Opens a sealed value; the error names the row, field and key id (for
/// the log), never the bytes.
fn open(
    cipher: &dyn SecretCipher,
    row_id: Uuid,
    field: SecretField,
    sealed: &SealedSecret,
) -> DbResult<SecretString> {
    cipher
        .open(sealed, &SealContext::credential_connection(row_id, field))
        .map_err(|e| {
            DbError(StoreError::Backend(format!(
                "cannot open the {} of credential_connections row {row_id} (key id '{}'): {e}",
                field.as_str(),
                sealed.key_id
            )))
        })
}

fn port_column(port: Option<Port>) -> Option<i32> {
    port.map(|p| i32::from(p.get()))
}

/// Live resources of the environment naming `conn_id`, by id.
macro_rules! users_query {
    ($environment_id:expr, $conn_id:expr) => {
        resources::table
            .filter(resources::environment_id.eq(DbUuid($environment_id)))
            .filter(resources::credential_conn_id.eq($conn_id))
            .filter(resources::deleted_at.is_null())
            .order(resources::id)
    };
}

#[async_trait]
impl CredentialConnectionRepository for Database {
    async fn create_credential_connection(
        &self,
        new: NewCredentialConnection,
    ) -> Result<CredentialConnection, StoreError> {
        let result: DbResult<CredentialConnection> = async {
            let cipher = cipher_of(self)?;
            let (password_key_id, password_sealed) =
                seal_option(cipher, new.id, SecretField::Password, new.password.as_ref())?;
            let (extra_key_id, extra_sealed) =
                seal_option(cipher, new.id, SecretField::Extra, new.extra.as_ref())?;
            let row = CredentialRow {
                id: DbUuid(new.id),
                environment_id: DbUuid(new.environment_id),
                conn_id: new.conn_id.as_str().to_owned(),
                conn_type: new.conn_type.as_str().to_owned(),
                host: new.host,
                port: port_column(new.port),
                schema_name: new.schema,
                login: new.login,
                description: new.description,
                password_key_id,
                password_sealed,
                extra_key_id,
                extra_sealed,
                last_test: None,
                created_at: DbTime(new.now),
                updated_at: DbTime(new.now),
            };
            let inserted: CredentialRow = with_conn!(self, |conn| {
                diesel::insert_into(cc::table)
                    .values(&row)
                    .returning(CredentialRow::as_returning())
                    .get_result(conn)
                    .await?
            });
            inserted.into_domain()
        }
        .await;
        Ok(result?)
    }

    async fn list_credential_connections(
        &self,
        environment_id: Uuid,
        page: Page,
    ) -> Result<(Vec<CredentialConnection>, i64), StoreError> {
        let result: DbResult<(Vec<CredentialConnection>, i64)> = async {
            let (rows, total): (Vec<CredentialRow>, i64) = with_conn!(self, |conn| {
                let rows = cc::table
                    .filter(cc::environment_id.eq(DbUuid(environment_id)))
                    .order(cc::conn_id)
                    .offset(page.offset())
                    .limit(page.limit())
                    .select(CredentialRow::as_select())
                    .load(conn)
                    .await?;
                let total: i64 = cc::table
                    .filter(cc::environment_id.eq(DbUuid(environment_id)))
                    .count()
                    .get_result(conn)
                    .await?;
                (rows, total)
            });
            let items = rows
                .into_iter()
                .map(CredentialRow::into_domain)
                .collect::<DbResult<Vec<_>>>()?;
            Ok((items, total))
        }
        .await;
        Ok(result?)
    }

    async fn find_credential_connection(
        &self,
        environment_id: Uuid,
        conn_id: &ConnId,
    ) -> Result<Option<CredentialConnection>, StoreError> {
        let result: DbResult<Option<CredentialConnection>> = async {
            let row = find_row(self, environment_id, conn_id).await?;
            row.map(CredentialRow::into_domain).transpose()
        }
        .await;
        Ok(result?)
    }

    async fn open_credential_connection(
        &self,
        environment_id: Uuid,
        conn_id: &ConnId,
    ) -> Result<Option<(CredentialConnection, OpenedSecrets)>, StoreError> {
        let result: DbResult<Option<(CredentialConnection, OpenedSecrets)>> = async {
            let Some(row) = find_row(self, environment_id, conn_id).await? else {
                return Ok(None);
            };
            let secrets = row.open(cipher_of(self)?)?;
            Ok(Some((row.into_domain()?, secrets)))
        }
        .await;
        Ok(result?)
    }

    async fn update_credential_connection(
        &self,
        environment_id: Uuid,
        conn_id: &ConnId,
        changes: CredentialConnectionChanges,
    ) -> Result<CredentialConnection, StoreError> {
        let cipher = cipher_of(self)?;
        let conn_id_text = conn_id.as_str().to_owned();
        let result: DbResult<CredentialConnection> = transaction!(self, |conn| {
            let Some(id) = conn
                .lock_credential_connection(environment_id, &conn_id_text, true)
                .await?
            else {
                return Err(StoreError::NotFound.into());
            };
            let current: CredentialRow = cc::table
                .filter(cc::id.eq(DbUuid(id)))
                .select(CredentialRow::as_select())
                .first(conn)
                .await?;
            let (password_key_id, password_sealed) = match &changes.password {
                SecretUpdate::Keep => (current.password_key_id, current.password_sealed),
                SecretUpdate::Clear => (None, None),
                SecretUpdate::Set(p) => seal_option(cipher, id, SecretField::Password, Some(p))?,
            };
            let (extra_key_id, extra_sealed) = match &changes.extra {
                SecretUpdate::Keep => (current.extra_key_id, current.extra_sealed),
                SecretUpdate::Clear => (None, None),
                SecretUpdate::Set(e) => seal_option(cipher, id, SecretField::Extra, Some(e))?,
            };
            let set = CredentialChanges {
                conn_type: changes.conn_type.as_str().to_owned(),
                host: changes.host.clone(),
                port: port_column(changes.port),
                schema_name: changes.schema.clone(),
                login: changes.login.clone(),
                description: changes.description.clone(),
                password_key_id,
                password_sealed,
                extra_key_id,
                extra_sealed,
                updated_at: DbTime(changes.now),
            };
            let row: CredentialRow = diesel::update(cc::table.filter(cc::id.eq(DbUuid(id))))
                .set(&set)
                .returning(CredentialRow::as_returning())
                .get_result(conn)
                .await?;
            row.into_domain()
        });
        Ok(result?)
    }

    async fn delete_credential_connection(
        &self,
        environment_id: Uuid,
        conn_id: &ConnId,
        force: bool,
    ) -> Result<CredentialDeletion, StoreError> {
        let conn_id_text = conn_id.as_str().to_owned();
        let result: DbResult<CredentialDeletion> = transaction!(self, |conn| {
            // The exclusive lock makes a concurrent resource create/update
            // naming this connection wait (it shares the row), so no
            // reference can appear between the check and the delete.
            let Some(id) = conn
                .lock_credential_connection(environment_id, &conn_id_text, true)
                .await?
            else {
                return Err(StoreError::NotFound.into());
            };
            let users: Vec<i64> = users_query!(environment_id, &conn_id_text)
                .select(resources::id)
                .load(conn)
                .await?;
            if !users.is_empty() && !force {
                return Ok(CredentialDeletion::InUse(users));
            }
            // Soft-deleted resources lose the reference too, so a restore
            // never brings back a dangling one.
            let cleared = diesel::update(
                resources::table
                    .filter(resources::environment_id.eq(DbUuid(environment_id)))
                    .filter(resources::credential_conn_id.eq(&conn_id_text)),
            )
            .set(resources::credential_conn_id.eq(None::<String>))
            .execute(conn)
            .await?;
            diesel::delete(cc::table.filter(cc::id.eq(DbUuid(id))))
                .execute(conn)
                .await?;
            Ok(CredentialDeletion::Deleted {
                cleared: u64::try_from(cleared).unwrap_or(u64::MAX),
            })
        });
        Ok(result?)
    }

    async fn credential_connection_users(
        &self,
        environment_id: Uuid,
        conn_id: &ConnId,
    ) -> Result<Vec<ResourceRef>, StoreError> {
        let conn_id_text = conn_id.as_str().to_owned();
        let result: DbResult<Vec<ResourceRef>> = async {
            let rows: Vec<(i64, String, String)> = with_conn!(self, |conn| {
                users_query!(environment_id, &conn_id_text)
                    .select((resources::id, resources::resource_type, resources::name))
                    .load(conn)
                    .await?
            });
            rows.into_iter()
                .map(|(id, t, name)| {
                    Ok(ResourceRef {
                        id,
                        resource_type: parse_resource_type(&t)?,
                        name,
                    })
                })
                .collect()
        }
        .await;
        Ok(result?)
    }

    async fn record_credential_test(
        &self,
        id: Uuid,
        result: ConnectionTestResult,
    ) -> Result<(), StoreError> {
        let written: DbResult<()> = async {
            let json = serde_json::to_value(&result)
                .map_err(|e| DbError(StoreError::Backend(e.to_string())))?;
            with_conn!(self, |conn| {
                diesel::update(cc::table.filter(cc::id.eq(DbUuid(id))))
                    .set(cc::last_test.eq(Some(DbJson(json))))
                    .execute(conn)
                    .await?
            });
            Ok(())
        }
        .await;
        Ok(written?)
    }
}

async fn find_row(
    db: &Database,
    environment_id: Uuid,
    conn_id: &ConnId,
) -> DbResult<Option<CredentialRow>> {
    let conn_id = conn_id.as_str().to_owned();
    Ok(with_conn!(db, |conn| {
        cc::table
            .filter(cc::environment_id.eq(DbUuid(environment_id)))
            .filter(cc::conn_id.eq(&conn_id))
            .select(CredentialRow::as_select())
            .first(conn)
            .await
            .optional()?
    }))
}

/// One sealed value picked for rotation.
struct Stale {
    id: Uuid,
    field: SecretField,
    sealed: SealedSecret,
}

#[async_trait]
impl SealedValueStore for Database {
    async fn sealed_counts(&self) -> Result<Vec<SealedCount>, StoreError> {
        let result: DbResult<Vec<SealedCount>> = async {
            let (passwords, extras): (Vec<(Option<String>, i64)>, Vec<(Option<String>, i64)>) =
                with_conn!(self, |conn| {
                    let passwords = cc::table
                        .filter(cc::password_key_id.is_not_null())
                        .group_by(cc::password_key_id)
                        .select((cc::password_key_id, diesel::dsl::count_star()))
                        .load(conn)
                        .await?;
                    let extras = cc::table
                        .filter(cc::extra_key_id.is_not_null())
                        .group_by(cc::extra_key_id)
                        .select((cc::extra_key_id, diesel::dsl::count_star()))
                        .load(conn)
                        .await?;
                    (passwords, extras)
                });
            let mut counts = std::collections::BTreeMap::<String, u64>::new();
            for (key_id, n) in passwords.into_iter().chain(extras) {
                if let Some(key_id) = key_id {
                    *counts.entry(key_id).or_default() += u64::try_from(n).unwrap_or(0);
                }
            }
            Ok(counts
                .into_iter()
                .map(|(key_id, values)| SealedCount { key_id, values })
                .collect())
        }
        .await;
        Ok(result?)
    }

    async fn rotate_sealed_batch(&self, limit: u32) -> Result<RotationBatch, StoreError> {
        let cipher = cipher_of(self)?;
        let active = cipher.active_key_id();
        let limit = i64::from(limit.max(1));
        let result: DbResult<RotationBatch> = transaction!(self, |conn| {
            let password_rows: Vec<(DbUuid, Option<String>, Option<String>)> = cc::table
                .filter(cc::password_key_id.is_not_null())
                .filter(cc::password_key_id.ne(&active))
                .order(cc::id)
                .limit(limit)
                .select((cc::id, cc::password_key_id, cc::password_sealed))
                .load(conn)
                .await?;
            let extra_rows: Vec<(DbUuid, Option<String>, Option<String>)> = cc::table
                .filter(cc::extra_key_id.is_not_null())
                .filter(cc::extra_key_id.ne(&active))
                .order(cc::id)
                .limit(limit)
                .select((cc::id, cc::extra_key_id, cc::extra_sealed))
                .load(conn)
                .await?;
            let stale: Vec<Stale> = password_rows
                .into_iter()
                .map(|r| (r, SecretField::Password))
                .chain(extra_rows.into_iter().map(|r| (r, SecretField::Extra)))
                .filter_map(|((id, key_id, sealed), field)| {
                    sealed_pair(key_id.as_ref(), sealed.as_ref()).map(|sealed| Stale {
                        id: id.0,
                        field,
                        sealed,
                    })
                })
                .collect();
            let mut batch = RotationBatch::default();
            for value in stale {
                batch.examined += 1;
                let opened = open(cipher, value.id, value.field, &value.sealed)?;
                let fresh = seal(cipher, value.id, value.field, &opened)?;
                // Compare-and-swap on the ciphertext read: a concurrent PUT
                // that re-sealed or cleared the value wins.
                let old = value.sealed.ciphertext;
                let swapped = match value.field {
                    SecretField::Password => {
                        diesel::update(
                            cc::table
                                .filter(cc::id.eq(DbUuid(value.id)))
                                .filter(cc::password_sealed.eq(&old)),
                        )
                        .set((
                            cc::password_key_id.eq(Some(fresh.key_id)),
                            cc::password_sealed.eq(Some(fresh.ciphertext)),
                        ))
                        .execute(conn)
                        .await?
                    }
                    SecretField::Extra => {
                        diesel::update(
                            cc::table
                                .filter(cc::id.eq(DbUuid(value.id)))
                                .filter(cc::extra_sealed.eq(&old)),
                        )
                        .set((
                            cc::extra_key_id.eq(Some(fresh.key_id)),
                            cc::extra_sealed.eq(Some(fresh.ciphertext)),
                        ))
                        .execute(conn)
                        .await?
                    }
                };
                if swapped == 1 {
                    batch.resealed += 1;
                } else {
                    batch.skipped += 1;
                }
            }
            Ok(batch)
        });
        Ok(result?)
    }
}
