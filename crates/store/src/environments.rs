//! The environment repository: a project's environments, the one default
//! among them, and deleting or cloning one together with what it holds.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use patchbay_app::StoreError;
use patchbay_app::ports::{CloneReport, EnvironmentRepository};
use patchbay_domain::{
    Environment, EnvironmentError, EnvironmentType, HexColor, Slug, check_environment_delete,
};
use uuid::Uuid;

use crate::Database;
use crate::db::{BackendHooks, SqliteConn, transaction, with_conn};
use crate::errors::{DbResult, corrupt};
use crate::schema::environments;
use crate::types::{DbTime, DbUuid};

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
    /// resource connections and credential connections were copied.
    async fn copy_environment_contents(
        &mut self,
        source: &Environment,
        target: &Environment,
    ) -> DbResult<(u64, u64, u64)>;
}

macro_rules! impl_environment_contents {
    ($($conn:ty),+ $(,)?) => {$(
        impl EnvironmentContents for $conn {
            async fn environment_content_count(&mut self, _env_id: Uuid) -> DbResult<i64> {
                // Environments hold nothing yet. When the resource and
                // credential-connection tables exist, count their live rows
                // with `environment_id = env_id` here.
                Ok(0)
            }

            async fn copy_environment_contents(
                &mut self,
                _source: &Environment,
                _target: &Environment,
            ) -> DbResult<(u64, u64, u64)> {
                // Nothing to copy yet. When they exist, copy here: the live
                // resources of `source` (remembering old id → new id), the
                // live resource connections among them with status
                // `patchbay_domain::CLONED_CONNECTION_STATUS`, and the
                // credential connections, re-sealed for the new rows.
                Ok((0, 0, 0))
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
        _actor: Uuid,
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
                .copy_environment_contents(&source, &environment)
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
    use patchbay_app::ports::constraint;

    use super::*;
    use crate::projects::testing::*;

    fn names(envs: &[Environment]) -> Vec<(&str, bool)> {
        envs.iter()
            .map(|e| (e.name.as_str(), e.is_default))
            .collect()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn environments_are_created_listed_and_updated() {
        let (_dir, db) = fresh_db().await;
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
            Err(StoreError::Conflict(constraint::ENVIRONMENT_NAME.into()))
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
            Err(StoreError::Conflict(constraint::ENVIRONMENT_NAME.into()))
        );
        let mut elsewhere = updated;
        elsewhere.project_id = q.id;
        assert_eq!(
            db.update_environment(elsewhere).await,
            Err(StoreError::NotFound)
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn delete_follows_the_domain_rule() {
        let (_dir, db) = fresh_db().await;
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

    #[tokio::test(flavor = "multi_thread")]
    async fn set_default_moves_the_only_default() {
        let (_dir, db) = fresh_db().await;
        let alice = user(&db, "alice").await;
        let (p, prod) = project(&db, "team", alice.id).await;
        let staging = environment(p.id, "staging", false);
        db.create_environment(staging.clone()).await.unwrap();
        // A second default is refused by the partial unique index.
        assert_eq!(
            db.create_environment(environment(p.id, "dev", true)).await,
            Err(StoreError::Conflict("environments_one_default".into()))
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

    #[tokio::test(flavor = "multi_thread")]
    async fn concurrent_set_default_calls_all_succeed_and_leave_one_default() {
        let (_dir, db) = fresh_db().await;
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

    #[tokio::test(flavor = "multi_thread")]
    async fn clone_creates_a_non_default_copy() {
        let (_dir, db) = fresh_db().await;
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
            Err(StoreError::Conflict(constraint::ENVIRONMENT_NAME.into()))
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
}
