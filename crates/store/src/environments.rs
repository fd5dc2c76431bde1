//! The environment repository: a project's environments, the one default
//! among them, and deleting or cloning one together with what it holds.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use patchbay_app::StoreError;
use patchbay_app::ports::{CloneReport, EnvironmentRepository, QueryFamily, SecretCipher};
use patchbay_domain::{
    CLONED_CONNECTION_STATUS, Environment, EnvironmentError, EnvironmentType, HexColor, Slug,
    check_environment_delete,
};
use uuid::Uuid;

use crate::Database;
use crate::credential_connections::CredentialRow;
use crate::db::{BackendHooks, SqliteConn, transaction, with_conn};
use crate::errors::{DbError, DbResult, corrupt};
use crate::resource_connections::{ConnectionRow, NewConnectionRow};
use crate::resources::{NewResourceRow, ResourceRow};
use crate::schema::{credential_connections, environments, resource_connections, resources};
use crate::types::{DbTime, DbUuid};

/// The query family this module's operations are timed under.
const FAMILY: QueryFamily = QueryFamily::Environments;

/// An `environments` row, read and inserted as a whole.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = environments)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct EnvironmentRow {
    id: DbUuid,
    project_id: DbUuid,
    name: String,
    display_name: Option<String>,
    env_type: String,
    description: Option<String>,
    color: Option<String>,
    git_branch: Option<String>,
    is_default: bool,
    created_at: DbTime,
    updated_at: DbTime,
}

/// The columns `update_environment` writes: everything but the id, the
/// project, `is_default` (only `set_default_environment` moves it) and the
/// creation time. `None` clears a column.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = environments)]
#[diesel(treat_none_as_null = true)]
struct EnvironmentChanges {
    name: String,
    display_name: Option<String>,
    env_type: String,
    description: Option<String>,
    color: Option<String>,
    git_branch: Option<String>,
    updated_at: DbTime,
}

impl EnvironmentRow {
    pub(crate) fn from_domain(e: &Environment) -> Self {
        Self {
            id: DbUuid(e.id),
            project_id: DbUuid(e.project_id),
            name: e.name.as_str().to_owned(),
            display_name: e.display_name.clone(),
            env_type: e.env_type.as_str().to_owned(),
            description: e.description.clone(),
            color: e.color.as_ref().map(|c| c.as_str().to_owned()),
            git_branch: e.git_branch.clone(),
            is_default: e.is_default,
            created_at: DbTime(e.created_at),
            updated_at: DbTime(e.updated_at),
        }
    }

    pub(crate) fn into_domain(self) -> DbResult<Environment> {
        Ok(Environment {
            id: self.id.0,
            project_id: self.project_id.0,
            name: Slug::parse(&self.name).map_err(|e| corrupt("environment name", e))?,
            display_name: self.display_name,
            env_type: EnvironmentType::parse(&self.env_type)
                .map_err(|e| corrupt("environment type", e))?,
            description: self.description,
            color: self
                .color
                .as_deref()
                .map(HexColor::parse)
                .transpose()
                .map_err(|e| corrupt("environment color", e))?,
            git_branch: self.git_branch,
            is_default: self.is_default,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
        })
    }
}

impl EnvironmentChanges {
    fn from_domain(e: &Environment) -> Self {
        Self {
            name: e.name.as_str().to_owned(),
            display_name: e.display_name.clone(),
            env_type: e.env_type.as_str().to_owned(),
            description: e.description.clone(),
            color: e.color.as_ref().map(|c| c.as_str().to_owned()),
            git_branch: e.git_branch.clone(),
            updated_at: DbTime(e.updated_at),
        }
    }
}

/// What an environment holds: the one place that learns about each new kind
/// of environment content. Both methods run inside the caller's transaction.
/// The bodies are written once and stamped out per connection type (like the
/// query bodies of `with_conn!`), so they may use any diesel query.
trait EnvironmentContents {
    /// How many things (resources, resource connections, credential
    /// connections) the environment holds; 0 means it is empty.
    async fn environment_content_count(&mut self, env_id: Uuid) -> DbResult<i64>;

    /// Copies what `source` holds into `target`; returns how many resources,
    /// resource connections and credential connections were copied. Copied
    /// resource connections are recorded as created by `actor`.
    async fn copy_environment_contents(
        &mut self,
        source: &Environment,
        target: &Environment,
        actor: Uuid,
        cipher: Option<&dyn SecretCipher>,
    ) -> DbResult<(u64, u64, u64)>;
}

macro_rules! impl_environment_contents {
    ($($conn:ty),+ $(,)?) => {$(
        impl EnvironmentContents for $conn {
            async fn environment_content_count(&mut self, env_id: Uuid) -> DbResult<i64> {
                // Live rows only: soft-deleted ones do not make an
                // environment non-empty (they go with it all the same).
                let resources: i64 = resources::table
                    .filter(resources::environment_id.eq(DbUuid(env_id)))
                    .filter(resources::deleted_at.is_null())
                    .count()
                    .get_result(&mut *self)
                    .await?;
                let resource_connections: i64 = resource_connections::table
                    .filter(resource_connections::environment_id.eq(DbUuid(env_id)))
                    .filter(resource_connections::deleted_at.is_null())
                    .count()
                    .get_result(&mut *self)
                    .await?;
                let credential_connections: i64 = credential_connections::table
                    .filter(credential_connections::environment_id.eq(DbUuid(env_id)))
                    .count()
                    .get_result(&mut *self)
                    .await?;
                Ok(resources + resource_connections + credential_connections)
            }

            async fn copy_environment_contents(
                &mut self,
                source: &Environment,
                target: &Environment,
                actor: Uuid,
                cipher: Option<&dyn SecretCipher>,
            ) -> DbResult<(u64, u64, u64)> {
                // The source's resources stay as read (live, same type) until
                // the copy commits, so the connections read next match them.
                self.share_live_resources(source.id, None).await?;
                let resource_rows: Vec<ResourceRow> = resources::table
                    .filter(resources::environment_id.eq(DbUuid(source.id)))
                    .filter(resources::deleted_at.is_null())
                    .order(resources::id)
                    .select(ResourceRow::as_select())
                    .load(&mut *self)
                    .await?;
                // Row by row: an environment holds a few hundred rows at
                // most, and each copy needs its new id.
                let mut new_ids = HashMap::with_capacity(resource_rows.len());
                for row in &resource_rows {
                    let copy =
                        NewResourceRow::copy_of(row, target.project_id, target.id, target.created_at);
                    let new_id: i64 = diesel::insert_into(resources::table)
                        .values(&copy)
                        .returning(resources::id)
                        .get_result(&mut *self)
                        .await?;
                    new_ids.insert(row.id, new_id);
                }
                let connection_rows: Vec<ConnectionRow> = resource_connections::table
                    .filter(resource_connections::environment_id.eq(DbUuid(source.id)))
                    .filter(resource_connections::deleted_at.is_null())
                    .order(resource_connections::id)
                    .select(ConnectionRow::as_select())
                    .load(&mut *self)
                    .await?;
                let mut copied_connections = 0_u64;
                for row in connection_rows {
                    // Only connections among the copied resources.
                    let (Some(&source_id), Some(&target_id)) =
                        (new_ids.get(&row.source_id), new_ids.get(&row.target_id))
                    else {
                        continue;
                    };
                    let copy = NewConnectionRow {
                        user_id: DbUuid(actor),
                        project_id: DbUuid(target.project_id),
                        environment_id: DbUuid(target.id),
                        source_type: row.source_type,
                        source_id,
                        target_type: row.target_type,
                        target_id,
                        status: CLONED_CONNECTION_STATUS.as_str().to_owned(),
                        connection_details: row.connection_details,
                        error_message: None,
                        created_at: DbTime(target.created_at),
                        updated_at: DbTime(target.created_at),
                    };
                    diesel::insert_into(resource_connections::table)
                        .values(&copy)
                        .execute(&mut *self)
                        .await?;
                    copied_connections += 1;
                }
                // Credential connections keep their conn_id, so the copied
                // resources' `credentialConnId` names the copies. Each secret
                // is opened and sealed anew for its new row.
                let credential_rows: Vec<CredentialRow> = credential_connections::table
                    .filter(credential_connections::environment_id.eq(DbUuid(source.id)))
                    .order(credential_connections::id)
                    .select(CredentialRow::as_select())
                    .load(&mut *self)
                    .await?;
                let copied_credentials = credential_rows.len() as u64;
                if !credential_rows.is_empty() {
                    let cipher = cipher.ok_or_else(|| {
                        DbError(StoreError::Backend(
                            "no secret cipher is configured on this Database".into(),
                        ))
                    })?;
                    let copies = credential_rows
                        .iter()
                        .map(|row| {
                            row.copy_for(
                                cipher,
                                Uuid::now_v7(),
                                target.id,
                                target.created_at,
                            )
                        })
                        .collect::<DbResult<Vec<_>>>()?;
                    for copy in &copies {
                        diesel::insert_into(credential_connections::table)
                            .values(copy)
                            .execute(&mut *self)
                            .await?;
                    }
                }
                Ok((new_ids.len() as u64, copied_connections, copied_credentials))
            }
        }
    )+};
}

impl_environment_contents!(AsyncPgConnection, SqliteConn);

#[async_trait]
impl EnvironmentRepository for Database {
    async fn list_environments(&self, project_id: Uuid) -> Result<Vec<Environment>, StoreError> {
        let result: DbResult<Vec<Environment>> = async {
            let rows: Vec<EnvironmentRow> = with_conn!(self, |conn| {
                environments::table
                    .filter(environments::project_id.eq(DbUuid(project_id)))
                    .order((environments::is_default.desc(), environments::name.asc()))
                    .select(EnvironmentRow::as_select())
                    .load(conn)
                    .await?
            });
            rows.into_iter().map(EnvironmentRow::into_domain).collect()
        }
        .await;
        Ok(result?)
    }

    async fn find_environment(
        &self,
        project_id: Uuid,
        env_id: Uuid,
    ) -> Result<Option<Environment>, StoreError> {
        let result: DbResult<Option<Environment>> = async {
            let row: Option<EnvironmentRow> = with_conn!(self, |conn| {
                environments::table
                    .filter(environments::id.eq(DbUuid(env_id)))
                    .filter(environments::project_id.eq(DbUuid(project_id)))
                    .select(EnvironmentRow::as_select())
                    .first(conn)
                    .await
                    .optional()?
            });
            row.map(EnvironmentRow::into_domain).transpose()
        }
        .await;
        Ok(result?)
    }

    async fn find_environment_by_name(
        &self,
        project_id: Uuid,
        name: &str,
    ) -> Result<Option<Environment>, StoreError> {
        let result: DbResult<Option<Environment>> = async {
            let row: Option<EnvironmentRow> = with_conn!(self, |conn| {
                environments::table
                    .filter(environments::project_id.eq(DbUuid(project_id)))
                    .filter(environments::name.eq(name))
                    .select(EnvironmentRow::as_select())
                    .first(conn)
                    .await
                    .optional()?
            });
            row.map(EnvironmentRow::into_domain).transpose()
        }
        .await;
        Ok(result?)
    }

    async fn create_environment(&self, env: Environment) -> Result<Environment, StoreError> {
        let row = EnvironmentRow::from_domain(&env);
        let result: DbResult<Environment> = async {
            let inserted: EnvironmentRow = with_conn!(self, |conn| {
                diesel::insert_into(environments::table)
                    .values(&row)
                    .returning(EnvironmentRow::as_returning())
                    .get_result(conn)
                    .await?
            });
            inserted.into_domain()
        }
        .await;
        Ok(result?)
    }

    async fn update_environment(&self, env: Environment) -> Result<Environment, StoreError> {
        let changes = EnvironmentChanges::from_domain(&env);
        let result: DbResult<Environment> = async {
            let row: Option<EnvironmentRow> = with_conn!(self, |conn| {
                diesel::update(
                    environments::table
                        .filter(environments::id.eq(DbUuid(env.id)))
                        .filter(environments::project_id.eq(DbUuid(env.project_id))),
                )
                .set(&changes)
                .returning(EnvironmentRow::as_returning())
                .get_result(conn)
                .await
                .optional()?
            });
            row.ok_or(StoreError::NotFound)?.into_domain()
        }
        .await;
        Ok(result?)
    }

    async fn delete_environment(
        &self,
        project_id: Uuid,
        env_id: Uuid,
        force: bool,
    ) -> Result<Result<(), EnvironmentError>, StoreError> {
        let result: DbResult<Result<(), EnvironmentError>> = transaction!(self, |conn| {
            // Nobody makes it the default (or, once environments hold
            // things, fills it) between the check and the delete.
            conn.lock_project_environments(project_id).await?;
            let env: EnvironmentRow = environments::table
                .filter(environments::id.eq(DbUuid(env_id)))
                .filter(environments::project_id.eq(DbUuid(project_id)))
                .select(EnvironmentRow::as_select())
                .first(conn)
                .await?;
            let is_empty = conn.environment_content_count(env_id).await? == 0;
            if let Err(refused) = check_environment_delete(env.is_default, is_empty, force) {
                return Ok(Err(refused));
            }
            // Whatever the environment holds goes with it (foreign keys
            // cascade from `environments`).
            diesel::delete(environments::table.filter(environments::id.eq(DbUuid(env_id))))
                .execute(conn)
                .await?;
            Ok(Ok(()))
        });
        Ok(result?)
    }

    async fn set_default_environment(
        &self,
        project_id: Uuid,
        env_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Environment, StoreError> {
        let result: DbResult<Environment> = transaction!(self, |conn| {
            // Concurrent calls queue here, so each sees the default the
            // previous one set instead of tripping over the unique index.
            conn.lock_project_environments(project_id).await?;
            // Unset first: `environments_one_default` admits one default per
            // project at a time, even within a transaction.
            diesel::update(
                environments::table
                    .filter(environments::project_id.eq(DbUuid(project_id)))
                    .filter(environments::is_default.eq(true))
                    .filter(environments::id.ne(DbUuid(env_id))),
            )
            .set((
                environments::is_default.eq(false),
                environments::updated_at.eq(DbTime(now)),
            ))
            .execute(conn)
            .await?;
            // No such environment in the project: NotFound rolls the unset back.
            let row: EnvironmentRow = diesel::update(
                environments::table
                    .filter(environments::id.eq(DbUuid(env_id)))
                    .filter(environments::project_id.eq(DbUuid(project_id))),
            )
            .set((
                environments::is_default.eq(true),
                environments::updated_at.eq(DbTime(now)),
            ))
            .returning(EnvironmentRow::as_returning())
            .get_result(conn)
            .await?;
            row.into_domain()
        });
        Ok(result?)
    }

    async fn clone_environment(
        &self,
        source_env_id: Uuid,
        target: Environment,
        actor: Uuid,
    ) -> Result<CloneReport, StoreError> {
        // A clone is never the default; `set_default_environment` makes it one.
        let target = Environment {
            is_default: false,
            ..target
        };
        let target_row = EnvironmentRow::from_domain(&target);
        let result: DbResult<CloneReport> = transaction!(self, |conn| {
            // The source must be in the target's project.
            let source: EnvironmentRow = environments::table
                .filter(environments::id.eq(DbUuid(source_env_id)))
                .filter(environments::project_id.eq(DbUuid(target.project_id)))
                .select(EnvironmentRow::as_select())
                .first(conn)
                .await?;
            let source = source.into_domain()?;
            let inserted: EnvironmentRow = diesel::insert_into(environments::table)
                .values(&target_row)
                .returning(EnvironmentRow::as_returning())
                .get_result(conn)
                .await?;
            let environment = inserted.into_domain()?;
            let (resources, resource_connections, credential_connections) = conn
                .copy_environment_contents(&source, &environment, actor, self.cipher.as_deref())
                .await?;
            Ok(CloneReport {
                environment,
                resources,
                resource_connections,
                credential_connections,
            })
        });
        Ok(result?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {

    use super::*;
    use crate::projects::testing::*;
    use patchbay_app::Constraint;

    fn names(envs: &[Environment]) -> Vec<(&str, bool)> {
        envs.iter()
            .map(|e| (e.name.as_str(), e.is_default))
            .collect()
    }

    async fn environments_are_created_listed_and_updated(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let (p, prod) = project(&db, "team", alice.id).await;
        let (q, _) = project(&db, "other", alice.id).await;

        let staging = environment(p.id, "staging", false);
        assert_eq!(
            db.create_environment(staging.clone()).await.unwrap(),
            staging
        );
        db.create_environment(environment(p.id, "alpha", false))
            .await
            .unwrap();
        assert_eq!(
            db.create_environment(environment(p.id, "staging", false))
                .await,
            Err(StoreError::Conflict(Constraint::EnvironmentName))
        );
        // Names are per project.
        db.create_environment(environment(q.id, "staging", false))
            .await
            .unwrap();

        let listed = db.list_environments(p.id).await.unwrap();
        assert_eq!(
            names(&listed),
            [("production", true), ("alpha", false), ("staging", false)]
        );
        assert_eq!(
            db.find_environment_by_name(p.id, "staging").await.unwrap(),
            Some(staging.clone())
        );
        assert_eq!(db.find_environment(q.id, staging.id).await.unwrap(), None);

        let mut changed = staging.clone();
        changed.name = Slug::parse("stage").unwrap();
        changed.env_type = EnvironmentType::Preview;
        changed.color = None;
        changed.git_branch = Some("develop".into());
        changed.is_default = true; // ignored: not a column update_environment writes
        changed.updated_at = now();
        let updated = db.update_environment(changed.clone()).await.unwrap();
        assert_eq!(
            updated,
            Environment {
                is_default: false,
                ..changed.clone()
            }
        );
        let mut clash = updated.clone();
        clash.name = prod.name.clone();
        assert_eq!(
            db.update_environment(clash).await,
            Err(StoreError::Conflict(Constraint::EnvironmentName))
        );
        let mut elsewhere = updated;
        elsewhere.project_id = q.id;
        assert_eq!(
            db.update_environment(elsewhere).await,
            Err(StoreError::NotFound)
        );
    }

    async fn delete_follows_the_domain_rule(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let (p, prod) = project(&db, "team", alice.id).await;
        let staging = environment(p.id, "staging", false);
        db.create_environment(staging.clone()).await.unwrap();

        for force in [false, true] {
            assert_eq!(
                db.delete_environment(p.id, prod.id, force).await,
                Ok(Err(EnvironmentError::DefaultCannotBeDeleted))
            );
        }
        assert!(db.find_environment(p.id, prod.id).await.unwrap().is_some());

        db.delete_environment(p.id, staging.id, false)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(db.find_environment(p.id, staging.id).await.unwrap(), None);
        assert_eq!(
            db.delete_environment(p.id, staging.id, true).await,
            Err(StoreError::NotFound)
        );
        // Another project's environment is not found through this one.
        let (q, q_prod) = project(&db, "other", alice.id).await;
        let q_dev = environment(q.id, "dev", false);
        db.create_environment(q_dev.clone()).await.unwrap();
        assert_eq!(
            db.delete_environment(p.id, q_dev.id, true).await,
            Err(StoreError::NotFound)
        );
        assert_eq!(db.list_environments(q.id).await.unwrap().len(), 2);
        assert_eq!(q_prod.project_id, q.id);
    }

    async fn set_default_moves_the_only_default(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let (p, prod) = project(&db, "team", alice.id).await;
        let staging = environment(p.id, "staging", false);
        db.create_environment(staging.clone()).await.unwrap();
        // A second default is refused by the partial unique index.
        assert_eq!(
            db.create_environment(environment(p.id, "dev", true)).await,
            Err(StoreError::Conflict(Constraint::DefaultEnvironment))
        );

        let later = now();
        let new_default = db
            .set_default_environment(p.id, staging.id, later)
            .await
            .unwrap();
        assert!(new_default.is_default);
        assert_eq!(new_default.updated_at, later);
        let listed = db.list_environments(p.id).await.unwrap();
        assert_eq!(names(&listed), [("staging", true), ("production", false)]);
        assert_eq!(listed[1].updated_at, later);

        // Setting it again is harmless.
        db.set_default_environment(p.id, staging.id, now())
            .await
            .unwrap();
        // An unknown environment changes nothing.
        assert_eq!(
            db.set_default_environment(p.id, Uuid::now_v7(), now())
                .await,
            Err(StoreError::NotFound)
        );
        assert_eq!(
            names(&db.list_environments(p.id).await.unwrap()),
            [("staging", true), ("production", false)]
        );
        // The old default may now be deleted.
        db.delete_environment(p.id, prod.id, false)
            .await
            .unwrap()
            .unwrap();
    }

    async fn concurrent_set_default_calls_all_succeed_and_leave_one_default(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let (p, _) = project(&db, "team", alice.id).await;
        let mut ids = Vec::new();
        for i in 0..6 {
            let env = environment(p.id, &format!("env-{i}"), false);
            db.create_environment(env.clone()).await.unwrap();
            ids.push(env.id);
        }
        let calls = ids.iter().map(|id| {
            let (db, id) = (db.clone(), *id);
            tokio::spawn(async move { db.set_default_environment(p.id, id, now()).await })
        });
        for call in calls.collect::<Vec<_>>() {
            assert!(call.await.unwrap().unwrap().is_default);
        }
        let defaults = db
            .list_environments(p.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.is_default)
            .count();
        assert_eq!(defaults, 1);
    }

    async fn clone_creates_a_non_default_copy(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let (p, prod) = project(&db, "team", alice.id).await;
        let (q, q_prod) = project(&db, "other", alice.id).await;

        let target = environment(p.id, "prod-copy", true);
        let report = db
            .clone_environment(prod.id, target.clone(), alice.id)
            .await
            .unwrap();
        assert_eq!(
            report,
            CloneReport {
                environment: Environment {
                    is_default: false,
                    ..target
                },
                resources: 0,
                resource_connections: 0,
                credential_connections: 0,
            }
        );
        assert_eq!(
            db.clone_environment(prod.id, environment(p.id, "prod-copy", false), alice.id)
                .await,
            Err(StoreError::Conflict(Constraint::EnvironmentName))
        );
        assert_eq!(
            db.clone_environment(Uuid::now_v7(), environment(p.id, "x", false), alice.id)
                .await,
            Err(StoreError::NotFound)
        );
        // The source must belong to the target's project.
        assert_eq!(
            db.clone_environment(q_prod.id, environment(p.id, "y", false), alice.id)
                .await,
            Err(StoreError::NotFound)
        );
        assert_eq!(db.list_environments(p.id).await.unwrap().len(), 2);
        assert_eq!(db.list_environments(q.id).await.unwrap().len(), 1);
    }

    on_both_backends!(
        environments_are_created_listed_and_updated,
        delete_follows_the_domain_rule,
        set_default_moves_the_only_default,
        concurrent_set_default_calls_all_succeed_and_leave_one_default,
        clone_creates_a_non_default_copy,
    );
}

/// What environments hold: the canvas (resources and resource connections).
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod content_tests {
    use patchbay_app::ports::{NewConnection, ResourceConnectionRepository, ResourceRepository};
    use patchbay_domain::{
        ConnectionEnds, ConnectionStatus, Page, Resource, ResourceConnection, ResourceType as T,
    };

    use super::*;
    use crate::projects::testing::*;
    use crate::resources::testing::*;

    async fn connect(
        db: &Database,
        user: Uuid,
        env: &Environment,
        s: &Resource,
        t: &Resource,
    ) -> ResourceConnection {
        db.create_connection(NewConnection {
            user_id: user,
            project_id: env.project_id,
            environment_id: env.id,
            ends: ConnectionEnds {
                source_type: s.resource_type,
                source_id: s.id,
                target_type: t.resource_type,
                target_id: t.id,
            },
            connection_details: Some(serde_json::json!({ "via": s.name })),
            now: now(),
        })
        .await
        .unwrap()
        .unwrap()
    }

    async fn live_canvas_rows_make_an_environment_non_empty(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let (p, _) = project(&db, "team", alice.id).await;
        let staging = environment(p.id, "staging", false);
        db.create_environment(staging.clone()).await.unwrap();
        let r = resource(&db, &staging, T::Instance, "web").await;
        assert_eq!(
            db.delete_environment(p.id, staging.id, false).await,
            Ok(Err(EnvironmentError::NotEmpty))
        );
        // Deleted resources do not count.
        db.soft_delete_resource(staging.id, r.id, now())
            .await
            .unwrap();
        db.delete_environment(p.id, staging.id, false)
            .await
            .unwrap()
            .unwrap();

        let dev = environment(p.id, "dev", false);
        db.create_environment(dev.clone()).await.unwrap();
        let app = resource(&db, &dev, T::Application, "app").await;
        let server = resource(&db, &dev, T::Instance, "server").await;
        connect(&db, alice.id, &dev, &app, &server).await;
        let count: DbResult<i64> =
            async { with_conn!(db, |conn| conn.environment_content_count(dev.id).await) }.await;
        assert_eq!(count.unwrap(), 3);
        assert_eq!(
            db.delete_environment(p.id, dev.id, false).await,
            Ok(Err(EnvironmentError::NotEmpty))
        );
        // Forced: everything goes with it.
        db.delete_environment(p.id, dev.id, true)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(db.find_resource(dev.id, app.id, true).await.unwrap(), None);
        assert!(db.graph(dev.id).await.unwrap().0.is_empty());
    }

    async fn clone_copies_live_resources_and_the_connections_among_them(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let bob = user(&db, "bob").await;
        let (p, prod) = project(&db, "team", alice.id).await;
        let server = resource(&db, &prod, T::Instance, "server").await;
        let app = resource(&db, &prod, T::Application, "app").await;
        let fw = resource(&db, &prod, T::Firewall, "fw").await;
        let mut blog = new_resource(&prod, T::Subdomain, "blog");
        blog.parent_domain = Some("example.com".into());
        crate::resources::testing::credential(&db, &prod, "dns").await;
        blog.credential_conn_id = Some("dns".into());
        let blog = db.create_resource(blog).await.unwrap();
        let site = resource(&db, &prod, T::StaticWebsite, "site").await;
        let term = resource(&db, &prod, T::Terminal, "term").await;

        let app_server = connect(&db, alice.id, &prod, &app, &server).await;
        let server_fw = connect(&db, alice.id, &prod, &server, &fw).await;
        let blog_site = connect(&db, alice.id, &prod, &blog, &site).await;
        // A failed connection is copied as pending, without its message.
        let mut failed = server_fw.clone();
        failed.status = ConnectionStatus::Failed;
        failed.error_message = Some("refused".into());
        failed.updated_at = now();
        db.update_connection(failed, server_fw.status, server_fw.updated_at)
            .await
            .unwrap();
        // Deleted: neither copied nor counted.
        let term_server = connect(&db, alice.id, &prod, &term, &server).await;
        db.soft_delete_connection(prod.id, term_server.id, now())
            .await
            .unwrap();
        db.soft_delete_resource(prod.id, term.id, now())
            .await
            .unwrap();
        let (source_resources, source_connections) = db.graph(prod.id).await.unwrap();
        assert_eq!((source_resources.len(), source_connections.len()), (5, 3));

        let target = environment(p.id, "prod-copy", false);
        let report = db
            .clone_environment(prod.id, target.clone(), bob.id)
            .await
            .unwrap();
        assert_eq!(
            (
                report.resources,
                report.resource_connections,
                report.credential_connections
            ),
            (5, 3, 1)
        );
        assert_eq!(report.environment, target);

        let (copies, copied_connections) = db.graph(target.id).await.unwrap();
        assert_eq!(copies.len(), 5);
        let mut new_id = std::collections::HashMap::new();
        for (original, copy) in source_resources.iter().zip(&copies) {
            assert!(!source_resources.iter().any(|r| r.id == copy.id));
            new_id.insert(original.id, copy.id);
            assert_eq!(
                copy,
                &Resource {
                    id: copy.id,
                    project_id: p.id,
                    environment_id: target.id,
                    created_at: target.created_at,
                    updated_at: target.created_at,
                    ..original.clone()
                }
            );
        }
        assert_eq!(copies[3].parent_domain.as_deref(), Some("example.com"));
        assert_eq!(copies[3].credential_conn_id.as_deref(), Some("dns"));

        let originals = [app_server, server_fw, blog_site];
        assert_eq!(copied_connections.len(), 3);
        for (original, copy) in originals.iter().zip(&copied_connections) {
            assert_eq!(
                copy,
                &ResourceConnection {
                    id: copy.id,
                    user_id: bob.id,
                    project_id: p.id,
                    environment_id: target.id,
                    source_id: new_id[&original.source_id],
                    target_id: new_id[&original.target_id],
                    status: CLONED_CONNECTION_STATUS,
                    error_message: None,
                    created_at: target.created_at,
                    updated_at: target.created_at,
                    ..original.clone()
                }
            );
        }
        // The source is untouched.
        assert_eq!(
            db.graph(prod.id).await.unwrap(),
            (source_resources, source_connections)
        );
        let total = db
            .list_resources(target.id, None, Page::default())
            .await
            .unwrap()
            .total;
        assert_eq!(total, Some(5));
        // A clone of a clone; and the copy is non-empty.
        assert_eq!(
            db.delete_environment(p.id, target.id, false).await,
            Ok(Err(EnvironmentError::NotEmpty))
        );
        let again = db
            .clone_environment(target.id, environment(p.id, "copy-2", false), alice.id)
            .await
            .unwrap();
        assert_eq!((again.resources, again.resource_connections), (5, 3));
    }

    on_both_backends!(
        live_canvas_rows_make_an_environment_non_empty,
        clone_copies_live_resources_and_the_connections_among_them,
    );
}
