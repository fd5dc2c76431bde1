//! The resource-connection repository: directed links between two live
//! resources of one environment, created under the allowed-connection rules
//! (read from the database in the creating transaction) and updated with
//! optimistic concurrency.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use patchbay_app::StoreError;
use patchbay_app::ports::{
    ConnectionFilter, ConnectionRefusal, Listed, NewConnection, QueryFamily,
    ResourceConnectionRepository,
};
use patchbay_domain::{
    AllowedConnections, ConnectionStatus, Page, Resource, ResourceConnection, ResourceType,
    validate_connection_ends,
};
use uuid::Uuid;

use crate::Database;
use crate::db::{BackendHooks, read_transaction, transaction, with_conn};
use crate::errors::{DbError, DbResult, corrupt};
use crate::resources::{ResourceRow, parse_resource_type};
use crate::schema::{allowed_connections, resource_connections, resources};
use crate::types::{DbJson, DbTime, DbUuid};
use patchbay_app::Constraint;

/// The query family this module's operations are timed under.
const FAMILY: QueryFamily = QueryFamily::ResourceConnections;

/// A `resource_connections` row as read (live rows only are ever read, so
/// `deleted_at` is left out).
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = resource_connections)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct ConnectionRow {
    pub(crate) id: i64,
    pub(crate) user_id: DbUuid,
    pub(crate) project_id: DbUuid,
    pub(crate) environment_id: DbUuid,
    pub(crate) source_type: String,
    pub(crate) source_id: i64,
    pub(crate) target_type: String,
    pub(crate) target_id: i64,
    pub(crate) status: String,
    pub(crate) connection_details: Option<DbJson>,
    pub(crate) error_message: Option<String>,
    pub(crate) created_at: DbTime,
    pub(crate) updated_at: DbTime,
}

/// A `resource_connections` row to insert: the id is the database's, and a
/// new row is live.
#[derive(Debug, Insertable)]
#[diesel(table_name = resource_connections)]
pub(crate) struct NewConnectionRow {
    pub(crate) user_id: DbUuid,
    pub(crate) project_id: DbUuid,
    pub(crate) environment_id: DbUuid,
    pub(crate) source_type: String,
    pub(crate) source_id: i64,
    pub(crate) target_type: String,
    pub(crate) target_id: i64,
    pub(crate) status: String,
    pub(crate) connection_details: Option<DbJson>,
    pub(crate) error_message: Option<String>,
    pub(crate) created_at: DbTime,
    pub(crate) updated_at: DbTime,
}

/// The columns `update_connection` writes. `None` clears a column.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = resource_connections)]
#[diesel(treat_none_as_null = true)]
struct ConnectionChanges {
    status: String,
    connection_details: Option<DbJson>,
    error_message: Option<String>,
    updated_at: DbTime,
}

impl ConnectionRow {
    pub(crate) fn into_domain(self) -> DbResult<ResourceConnection> {
        Ok(ResourceConnection {
            id: self.id,
            user_id: self.user_id.0,
            project_id: self.project_id.0,
            environment_id: self.environment_id.0,
            source_type: parse_resource_type(&self.source_type)?,
            source_id: self.source_id,
            target_type: parse_resource_type(&self.target_type)?,
            target_id: self.target_id,
            status: ConnectionStatus::parse(&self.status)
                .map_err(|e| corrupt("connection status", e))?,
            connection_details: self.connection_details.map(|d| d.0),
            error_message: self.error_message,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
        })
    }
}

fn connections(rows: Vec<ConnectionRow>) -> DbResult<Vec<ResourceConnection>> {
    rows.into_iter().map(ConnectionRow::into_domain).collect()
}

/// The live connections of an environment matching a [`ConnectionFilter`],
/// as a boxed query (for whichever backend the caller's connection is). A
/// macro rather than a function: the backend is inferred where it is run.
macro_rules! filtered_connections {
    ($environment_id:expr, $filter:expr) => {{
        let filter: ConnectionFilter = $filter;
        let mut query = resource_connections::table
            .filter(resource_connections::environment_id.eq(DbUuid($environment_id)))
            .filter(resource_connections::deleted_at.is_null())
            .into_boxed();
        if let Some(t) = filter.source_type {
            query = query.filter(resource_connections::source_type.eq(t.as_str()));
        }
        if let Some(id) = filter.source_id {
            query = query.filter(resource_connections::source_id.eq(id));
        }
        if let Some(t) = filter.target_type {
            query = query.filter(resource_connections::target_type.eq(t.as_str()));
        }
        if let Some(id) = filter.target_id {
            query = query.filter(resource_connections::target_id.eq(id));
        }
        if let Some(status) = filter.status {
            query = query.filter(resource_connections::status.eq(status.as_str()));
        }
        query
    }};
}

#[async_trait]
impl ResourceConnectionRepository for Database {
    async fn create_connection(
        &self,
        new: NewConnection,
    ) -> Result<Result<ResourceConnection, ConnectionRefusal>, StoreError> {
        let env = DbUuid(new.environment_id);
        let ends = new.ends;
        let row = NewConnectionRow {
            user_id: DbUuid(new.user_id),
            project_id: DbUuid(new.project_id),
            environment_id: env,
            source_type: ends.source_type.as_str().to_owned(),
            source_id: ends.source_id,
            target_type: ends.target_type.as_str().to_owned(),
            target_id: ends.target_id,
            status: ConnectionStatus::Pending.as_str().to_owned(),
            connection_details: new.connection_details.map(DbJson),
            error_message: None,
            created_at: DbTime(new.now),
            updated_at: DbTime(new.now),
        };
        // A refusal is the transaction's Ok value: nothing was written, and
        // committing a transaction that only read is harmless.
        let result: DbResult<Result<ResourceConnection, ConnectionRefusal>> =
            transaction!(self, |conn| {
                // Both ends stay live (and keep their type) until this commits.
                conn.share_live_resources(
                    new.environment_id,
                    Some(&[ends.source_id, ends.target_id][..]),
                )
                .await?;
                let live_type = |id: i64| {
                    resources::table
                        .filter(resources::id.eq(id))
                        .filter(resources::environment_id.eq(env))
                        .filter(resources::deleted_at.is_null())
                        .select(resources::resource_type)
                };
                let Some(source_type) = live_type(ends.source_id)
                    .first::<String>(conn)
                    .await
                    .optional()?
                else {
                    return Ok(Err(ConnectionRefusal::SourceNotFound));
                };
                let Some(target_type) = live_type(ends.target_id)
                    .first::<String>(conn)
                    .await
                    .optional()?
                else {
                    return Ok(Err(ConnectionRefusal::TargetNotFound));
                };
                let source_type = parse_resource_type(&source_type)?;
                let target_type = parse_resource_type(&target_type)?;
                // SPEC §7's order: declared types, self-connection, duplicate,
                // allowed rules.
                if let Err(refused) = validate_connection_ends(&ends, source_type, target_type) {
                    return Ok(Err(ConnectionRefusal::Rule(refused)));
                }
                let duplicate: Option<i64> = resource_connections::table
                    .filter(resource_connections::environment_id.eq(env))
                    .filter(resource_connections::source_id.eq(ends.source_id))
                    .filter(resource_connections::target_id.eq(ends.target_id))
                    .filter(resource_connections::deleted_at.is_null())
                    .select(resource_connections::id)
                    .first(conn)
                    .await
                    .optional()?;
                if duplicate.is_some() {
                    return Err(DbError(StoreError::Conflict(
                        Constraint::ResourceConnectionPair,
                    )));
                }
                // Read on every create, never cached: a rule change applies at
                // once on every server.
                let rules: Vec<(String, String)> = allowed_connections::table
                    .select((
                        allowed_connections::source_type,
                        allowed_connections::target_type,
                    ))
                    .load(conn)
                    .await?;
                let rules = rules
                    .iter()
                    .map(|(s, t)| Ok((parse_resource_type(s)?, parse_resource_type(t)?)))
                    .collect::<DbResult<AllowedConnections>>()?;
                if let Err(refused) = rules.check(source_type, target_type) {
                    return Ok(Err(ConnectionRefusal::Rule(refused.into())));
                }
                // A live duplicate violates `resource_connections_live_pair_key`.
                let inserted: ConnectionRow = diesel::insert_into(resource_connections::table)
                    .values(&row)
                    .returning(ConnectionRow::as_returning())
                    .get_result(conn)
                    .await?;
                Ok(Ok(inserted.into_domain()?))
            });
        Ok(result?)
    }

    async fn list_connections(
        &self,
        environment_id: Uuid,
        filter: ConnectionFilter,
        page: Page,
    ) -> Result<Listed<ResourceConnection>, StoreError> {
        let result: DbResult<Listed<ResourceConnection>> = async {
            let (rows, total): (Vec<ConnectionRow>, Option<i64>) = with_conn!(self, |conn| {
                let mut rows = filtered_connections!(environment_id, filter);
                if let Some(after) = page.cursor() {
                    rows = rows.filter(resource_connections::id.gt(after));
                }
                // One row past the page tells whether another follows.
                let rows = rows
                    .order(resource_connections::id)
                    .offset(page.offset())
                    .limit(page.limit().saturating_add(1))
                    .select(ConnectionRow::as_select())
                    .load(conn)
                    .await?;
                let total = if page.counts_total() {
                    Some(
                        filtered_connections!(environment_id, filter)
                            .count()
                            .get_result::<i64>(conn)
                            .await?,
                    )
                } else {
                    None
                };
                (rows, total)
            });
            Ok(Listed::from_rows(
                connections(rows)?,
                page.limit(),
                total,
                |c| c.id,
            ))
        }
        .await;
        Ok(result?)
    }

    async fn find_connection(
        &self,
        environment_id: Uuid,
        id: i64,
    ) -> Result<Option<ResourceConnection>, StoreError> {
        let result: DbResult<Option<ResourceConnection>> = async {
            let row: Option<ConnectionRow> = with_conn!(self, |conn| {
                resource_connections::table
                    .filter(resource_connections::id.eq(id))
                    .filter(resource_connections::environment_id.eq(DbUuid(environment_id)))
                    .filter(resource_connections::deleted_at.is_null())
                    .select(ConnectionRow::as_select())
                    .first(conn)
                    .await
                    .optional()?
            });
            row.map(ConnectionRow::into_domain).transpose()
        }
        .await;
        Ok(result?)
    }

    async fn update_connection(
        &self,
        connection: ResourceConnection,
        expected_status: ConnectionStatus,
        expected_updated_at: DateTime<Utc>,
    ) -> Result<ResourceConnection, StoreError> {
        let changes = ConnectionChanges {
            status: connection.status.as_str().to_owned(),
            connection_details: connection.connection_details.clone().map(DbJson),
            error_message: connection.error_message.clone(),
            updated_at: DbTime(connection.updated_at),
        };
        let env = DbUuid(connection.environment_id);
        let result: DbResult<ResourceConnection> = async {
            let (row, still_live): (Option<ConnectionRow>, bool) = with_conn!(self, |conn| {
                let live = || {
                    resource_connections::table
                        .filter(resource_connections::id.eq(connection.id))
                        .filter(resource_connections::environment_id.eq(env))
                        .filter(resource_connections::deleted_at.is_null())
                };
                // The compare-and-set: of two updates read from the same
                // state, only the first finds it unchanged.
                let row = diesel::update(
                    live()
                        .filter(resource_connections::status.eq(expected_status.as_str()))
                        .filter(resource_connections::updated_at.eq(DbTime(expected_updated_at))),
                )
                .set(&changes)
                .returning(ConnectionRow::as_returning())
                .get_result(conn)
                .await
                .optional()?;
                let still_live = match row {
                    Some(_) => true,
                    None => {
                        diesel::select(diesel::dsl::exists(live()))
                            .get_result::<bool>(conn)
                            .await?
                    }
                };
                (row, still_live)
            });
            match row {
                Some(row) => row.into_domain(),
                None if still_live => {
                    Err(StoreError::Conflict(Constraint::ResourceConnectionChanged).into())
                }
                None => Err(StoreError::NotFound.into()),
            }
        }
        .await;
        Ok(result?)
    }

    async fn soft_delete_connection(
        &self,
        environment_id: Uuid,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let result: DbResult<()> = async {
            let deleted = with_conn!(self, |conn| {
                diesel::update(
                    resource_connections::table
                        .filter(resource_connections::id.eq(id))
                        .filter(resource_connections::environment_id.eq(DbUuid(environment_id)))
                        .filter(resource_connections::deleted_at.is_null()),
                )
                .set((
                    resource_connections::deleted_at.eq(Some(DbTime(now))),
                    resource_connections::updated_at.eq(DbTime(now)),
                ))
                .execute(conn)
                .await?
            });
            if deleted == 0 {
                return Err(StoreError::NotFound.into());
            }
            Ok(())
        }
        .await;
        Ok(result?)
    }

    async fn connections_of_resource(
        &self,
        environment_id: Uuid,
        resource_type: ResourceType,
        resource_id: i64,
    ) -> Result<Vec<ResourceConnection>, StoreError> {
        let result: DbResult<Vec<ResourceConnection>> = async {
            let rows: Vec<ConnectionRow> = with_conn!(self, |conn| {
                resource_connections::table
                    .filter(resource_connections::environment_id.eq(DbUuid(environment_id)))
                    .filter(resource_connections::deleted_at.is_null())
                    .filter(
                        resource_connections::source_type
                            .eq(resource_type.as_str())
                            .and(resource_connections::source_id.eq(resource_id))
                            .or(resource_connections::target_type
                                .eq(resource_type.as_str())
                                .and(resource_connections::target_id.eq(resource_id))),
                    )
                    .order(resource_connections::id)
                    .select(ConnectionRow::as_select())
                    .load(conn)
                    .await?
            });
            connections(rows)
        }
        .await;
        Ok(result?)
    }

    async fn graph(
        &self,
        environment_id: Uuid,
    ) -> Result<(Vec<Resource>, Vec<ResourceConnection>), StoreError> {
        let env = DbUuid(environment_id);
        let result: DbResult<(Vec<Resource>, Vec<ResourceConnection>)> =
            read_transaction!(self, |conn| {
                // Both reads see the same snapshot.
                conn.snapshot_reads().await?;
                let resource_rows: Vec<ResourceRow> = resources::table
                    .filter(resources::environment_id.eq(env))
                    .filter(resources::deleted_at.is_null())
                    .order(resources::id)
                    .select(ResourceRow::as_select())
                    .load(conn)
                    .await?;
                let connection_rows: Vec<ConnectionRow> = resource_connections::table
                    .filter(resource_connections::environment_id.eq(env))
                    .filter(resource_connections::deleted_at.is_null())
                    .order(resource_connections::id)
                    .select(ConnectionRow::as_select())
                    .load(conn)
                    .await?;
                let resources = resource_rows
                    .into_iter()
                    .map(ResourceRow::into_domain)
                    .collect::<DbResult<Vec<_>>>()?;
                Ok((resources, connections(connection_rows)?))
            });
        Ok(result?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use patchbay_app::ports::{
        AllowedConnectionRepository, EnvironmentRepository, ResourceRepository,
    };
    use patchbay_domain::{
        ConnectionEnds, ConnectionNotAllowed, Environment, ResourceConnectionError, Side,
    };

    use super::*;
    use crate::projects::testing::*;
    use crate::resources::testing::*;

    use ResourceType as T;

    fn ends(s: &Resource, t: &Resource) -> ConnectionEnds {
        ConnectionEnds {
            source_type: s.resource_type,
            source_id: s.id,
            target_type: t.resource_type,
            target_id: t.id,
        }
    }

    fn new_connection(user: Uuid, env: &Environment, ends: ConnectionEnds) -> NewConnection {
        NewConnection {
            user_id: user,
            project_id: env.project_id,
            environment_id: env.id,
            ends,
            connection_details: Some(serde_json::json!({ "port": 5432 })),
            now: now(),
        }
    }

    async fn create_checks_ends_rules_and_duplicates(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let (p, prod) = project(&db, "team", alice.id).await;
        let staging = environment(p.id, "staging", false);
        db.create_environment(staging.clone()).await.unwrap();
        let server = resource(&db, &prod, T::Instance, "server").await;
        let app = resource(&db, &prod, T::Application, "app").await;
        let pg = resource(&db, &prod, T::Database, "pg").await;
        let elsewhere = resource(&db, &staging, T::Application, "app").await;
        let deleted = resource(&db, &prod, T::Application, "old").await;
        db.soft_delete_resource(prod.id, deleted.id, now())
            .await
            .unwrap();

        // Happy path: pending, as given.
        let new = new_connection(alice.id, &prod, ends(&app, &server));
        let created = db.create_connection(new.clone()).await.unwrap().unwrap();
        assert!(created.id > 0);
        assert_eq!(
            created,
            ResourceConnection {
                id: created.id,
                user_id: alice.id,
                project_id: p.id,
                environment_id: prod.id,
                source_type: T::Application,
                source_id: app.id,
                target_type: T::Instance,
                target_id: server.id,
                status: ConnectionStatus::Pending,
                connection_details: new.connection_details.clone(),
                error_message: None,
                created_at: new.now,
                updated_at: new.now,
            }
        );
        assert_eq!(
            db.find_connection(prod.id, created.id).await.unwrap(),
            Some(created.clone())
        );
        assert_eq!(
            db.find_connection(staging.id, created.id).await.unwrap(),
            None
        );

        // A live duplicate.
        assert_eq!(
            db.create_connection(new.clone()).await,
            Err(StoreError::Conflict(Constraint::ResourceConnectionPair))
        );

        let refused = |e: ConnectionEnds| {
            let db = db.clone();
            let new = new_connection(alice.id, &prod, e);
            async move { db.create_connection(new).await.unwrap().unwrap_err() }
        };
        let missing = ConnectionEnds {
            source_id: 999_999,
            ..ends(&app, &server)
        };
        assert_eq!(refused(missing).await, ConnectionRefusal::SourceNotFound);
        // The source is checked first.
        let both_missing = ConnectionEnds {
            target_id: 999_998,
            ..missing
        };
        assert_eq!(
            refused(both_missing).await,
            ConnectionRefusal::SourceNotFound
        );
        assert_eq!(
            refused(ConnectionEnds {
                target_id: 999_999,
                ..ends(&app, &server)
            })
            .await,
            ConnectionRefusal::TargetNotFound
        );
        // Another environment's resource, or a deleted one, is not found.
        assert_eq!(
            refused(ends(&elsewhere, &server)).await,
            ConnectionRefusal::SourceNotFound
        );
        assert_eq!(
            refused(ends(&app, &deleted)).await,
            ConnectionRefusal::TargetNotFound
        );
        assert_eq!(
            refused(ends(&deleted, &server)).await,
            ConnectionRefusal::SourceNotFound
        );
        // Domain rules: self-connection, declared type, allowed pair.
        assert_eq!(
            refused(ends(&server, &server)).await,
            ConnectionRefusal::Rule(ResourceConnectionError::SelfConnection)
        );
        assert_eq!(
            refused(ConnectionEnds {
                target_type: T::Database,
                ..ends(&app, &server)
            })
            .await,
            ConnectionRefusal::Rule(ResourceConnectionError::TypeMismatch {
                side: Side::Target,
                resource_id: server.id,
                declared: T::Database,
                actual: T::Instance,
            })
        );
        let not_allowed =
            ConnectionRefusal::Rule(ResourceConnectionError::NotAllowed(ConnectionNotAllowed {
                source_type: T::Application,
                target_type: T::Database,
            }));
        assert_eq!(refused(ends(&app, &pg)).await, not_allowed);
        // Rules are read on every create: adding one allows the pair at once,
        // removing it refuses it again.
        let rule = db
            .add_allowed(T::Application, T::Database, now())
            .await
            .unwrap();
        db.create_connection(new_connection(alice.id, &prod, ends(&app, &pg)))
            .await
            .unwrap()
            .unwrap();
        db.delete_allowed(rule.id).await.unwrap();
        let other_app = resource(&db, &prod, T::Application, "app-2").await;
        assert_eq!(
            refused(ends(&other_app, &pg)).await,
            ConnectionRefusal::Rule(ResourceConnectionError::NotAllowed(ConnectionNotAllowed {
                source_type: T::Application,
                target_type: T::Database,
            }))
        );

        // Refusals wrote nothing; a deleted connection frees its pair.
        let all = db
            .list_connections(prod.id, ConnectionFilter::default(), Page::default())
            .await
            .unwrap();
        assert_eq!((all.items.len(), all.total, all.next), (2, Some(2), None));
        db.soft_delete_connection(prod.id, created.id, now())
            .await
            .unwrap();
        assert_eq!(
            db.soft_delete_connection(prod.id, created.id, now()).await,
            Err(StoreError::NotFound)
        );
        assert_eq!(db.find_connection(prod.id, created.id).await.unwrap(), None);
        let again = db.create_connection(new).await.unwrap().unwrap();
        assert_ne!(again.id, created.id);
    }

    async fn lists_filter_and_page_live_connections(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let (p, prod) = project(&db, "team", alice.id).await;
        let staging = environment(p.id, "staging", false);
        db.create_environment(staging.clone()).await.unwrap();
        let s1 = resource(&db, &prod, T::Instance, "s1").await;
        let s2 = resource(&db, &prod, T::Instance, "s2").await;
        let app = resource(&db, &prod, T::Application, "app").await;
        let term = resource(&db, &prod, T::Terminal, "term").await;
        let fw = resource(&db, &prod, T::Firewall, "fw").await;
        let other = resource(&db, &staging, T::Application, "app").await;
        let other_s = resource(&db, &staging, T::Instance, "s1").await;

        let mut ids = Vec::new();
        for (s, t) in [
            (&app, &s1),
            (&app, &s2),
            (&term, &s1),
            (&s1, &fw),
            (&s2, &fw),
        ] {
            let c = db
                .create_connection(new_connection(alice.id, &prod, ends(s, t)))
                .await
                .unwrap()
                .unwrap();
            ids.push(c.id);
        }
        db.create_connection(new_connection(alice.id, &staging, ends(&other, &other_s)))
            .await
            .unwrap()
            .unwrap();
        // One more, deleted: never listed.
        let dead = db
            .create_connection(new_connection(alice.id, &prod, ends(&term, &s2)))
            .await
            .unwrap()
            .unwrap();
        db.soft_delete_connection(prod.id, dead.id, now())
            .await
            .unwrap();
        // One connected.
        let c = db.find_connection(prod.id, ids[3]).await.unwrap().unwrap();
        let mut connected = c.clone();
        connected.status = ConnectionStatus::Connected;
        connected.updated_at = now();
        db.update_connection(connected, c.status, c.updated_at)
            .await
            .unwrap();

        let list = |filter: ConnectionFilter, page: Page| {
            let db = db.clone();
            async move {
                let listed = db.list_connections(prod.id, filter, page).await.unwrap();
                let ids = listed.items.iter().map(|c| c.id).collect::<Vec<_>>();
                // `total` is always counted in page mode.
                (ids, listed.total.unwrap_or(-1))
            }
        };
        let all = Page::default();
        assert_eq!(
            list(ConnectionFilter::default(), all).await,
            (ids.clone(), 5)
        );
        assert_eq!(
            list(ConnectionFilter::default(), Page::new(2, 2).unwrap()).await,
            (ids[2..4].to_vec(), 5)
        );
        assert_eq!(
            list(ConnectionFilter::default(), Page::new(4, 2).unwrap()).await,
            (vec![], 5)
        );
        let f = ConnectionFilter {
            source_type: Some(T::Application),
            ..ConnectionFilter::default()
        };
        assert_eq!(list(f, all).await, (ids[..2].to_vec(), 2));
        let f = ConnectionFilter {
            source_id: Some(s1.id),
            ..ConnectionFilter::default()
        };
        assert_eq!(list(f, all).await, (vec![ids[3]], 1));
        let f = ConnectionFilter {
            target_type: Some(T::Instance),
            target_id: Some(s1.id),
            ..ConnectionFilter::default()
        };
        assert_eq!(list(f, all).await, (vec![ids[0], ids[2]], 2));
        let f = ConnectionFilter {
            target_type: Some(T::Firewall),
            ..ConnectionFilter::default()
        };
        assert_eq!(list(f, all).await, (vec![ids[3], ids[4]], 2));
        let f = ConnectionFilter {
            status: Some(ConnectionStatus::Connected),
            ..ConnectionFilter::default()
        };
        assert_eq!(list(f, all).await, (vec![ids[3]], 1));
        let f = ConnectionFilter {
            status: Some(ConnectionStatus::Pending),
            source_type: Some(T::Instance),
            ..ConnectionFilter::default()
        };
        assert_eq!(list(f, all).await, (vec![ids[4]], 1));
        // A type that does not match the id matches nothing.
        let f = ConnectionFilter {
            source_type: Some(T::Terminal),
            source_id: Some(app.id),
            ..ConnectionFilter::default()
        };
        assert_eq!(list(f, all).await, (vec![], 0));

        // Keyset pages walk the same rows, filtered, without counting.
        let mut walked = Vec::new();
        let mut cursor = Some(0);
        while let Some(after) = cursor {
            let page = db
                .list_connections(
                    prod.id,
                    ConnectionFilter::default(),
                    Page::after(after, 2).unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(page.total, None);
            assert!(page.items.len() <= 2);
            walked.extend(page.items.iter().map(|c| c.id));
            cursor = page.next;
        }
        assert_eq!(walked, ids, "5 rows in pages of 2, 2, 1; then no cursor");
        let f = ConnectionFilter {
            status: Some(ConnectionStatus::Pending),
            ..ConnectionFilter::default()
        };
        let page = db
            .list_connections(
                prod.id,
                f,
                Page::from_list_query(None, Some(3), Some(ids[0]), Some("total")).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(
            (
                page.items.iter().map(|c| c.id).collect::<Vec<_>>(),
                page.total,
                page.next
            ),
            (vec![ids[1], ids[2], ids[4]], Some(4), None)
        );

        // Either end, with the right type.
        let of = |t: ResourceType, id: i64| {
            let db = db.clone();
            async move {
                db.connections_of_resource(prod.id, t, id)
                    .await
                    .unwrap()
                    .iter()
                    .map(|c| c.id)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(of(T::Instance, s1.id).await, vec![ids[0], ids[2], ids[3]]);
        assert_eq!(of(T::Instance, s2.id).await, vec![ids[1], ids[4]]);
        assert_eq!(of(T::Application, s1.id).await, Vec::<i64>::new());
        assert_eq!(of(T::Terminal, term.id).await, vec![ids[2]]);
        assert!(
            db.connections_of_resource(staging.id, T::Instance, s1.id)
                .await
                .unwrap()
                .is_empty()
        );

        // The graph: live resources and live connections, by id.
        let (resources, connections) = db.graph(prod.id).await.unwrap();
        assert_eq!(
            resources.iter().map(|r| r.id).collect::<Vec<_>>(),
            [s1.id, s2.id, app.id, term.id, fw.id]
        );
        assert_eq!(connections.iter().map(|c| c.id).collect::<Vec<_>>(), ids);
        assert_eq!(connections[3].status, ConnectionStatus::Connected);
        let (resources, connections) = db.graph(staging.id).await.unwrap();
        assert_eq!((resources.len(), connections.len()), (2, 1));
        let (resources, connections) = db.graph(Uuid::now_v7()).await.unwrap();
        assert!(resources.is_empty() && connections.is_empty());
    }

    async fn updates_apply_only_to_the_state_they_were_read_from(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let (_, prod) = project(&db, "team", alice.id).await;
        let app = resource(&db, &prod, T::Application, "app").await;
        let server = resource(&db, &prod, T::Instance, "server").await;
        let read = db
            .create_connection(new_connection(alice.id, &prod, ends(&app, &server)))
            .await
            .unwrap()
            .unwrap();

        let mut failed = read.clone();
        failed.status = ConnectionStatus::Failed;
        failed.error_message = Some("refused".into());
        failed.connection_details = None;
        failed.updated_at = now();
        // Not written: ends, owner, creation time.
        let mut request = failed.clone();
        request.user_id = Uuid::now_v7();
        request.target_id = app.id;
        request.created_at = now() + chrono::Duration::hours(1);
        let updated = db
            .update_connection(request, read.status, read.updated_at)
            .await
            .unwrap();
        assert_eq!(updated, failed);
        assert_eq!(
            db.find_connection(prod.id, read.id).await.unwrap(),
            Some(failed.clone())
        );

        // A second update from the same read loses.
        let mut racing = read.clone();
        racing.status = ConnectionStatus::Connected;
        racing.updated_at = now();
        let changed = Err(StoreError::Conflict(Constraint::ResourceConnectionChanged));
        assert_eq!(
            db.update_connection(racing.clone(), read.status, read.updated_at)
                .await,
            changed
        );
        // Same status, other timestamp; same timestamp, other status.
        assert_eq!(
            db.update_connection(racing.clone(), failed.status, read.updated_at)
                .await,
            changed
        );
        assert_eq!(
            db.update_connection(racing.clone(), read.status, failed.updated_at)
                .await,
            changed
        );
        // From the current state it applies.
        let mut connecting = failed.clone();
        connecting.status = ConnectionStatus::Connecting;
        connecting.error_message = None;
        connecting.connection_details = Some(serde_json::json!({ "a": { "b": null } }));
        connecting.updated_at = now() + chrono::Duration::microseconds(1);
        assert_eq!(
            db.update_connection(connecting.clone(), failed.status, failed.updated_at)
                .await
                .unwrap(),
            connecting
        );

        // Gone: not found, whatever the expectation.
        db.soft_delete_connection(prod.id, read.id, now())
            .await
            .unwrap();
        assert_eq!(
            db.update_connection(racing.clone(), connecting.status, connecting.updated_at)
                .await,
            Err(StoreError::NotFound)
        );
        let mut elsewhere = connecting.clone();
        elsewhere.environment_id = Uuid::now_v7();
        assert_eq!(
            db.update_connection(elsewhere, connecting.status, connecting.updated_at)
                .await,
            Err(StoreError::NotFound)
        );
    }

    async fn concurrent_creates_of_one_pair_make_one_connection(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let (_, prod) = project(&db, "team", alice.id).await;
        let app = resource(&db, &prod, T::Application, "app").await;
        let server = resource(&db, &prod, T::Instance, "server").await;
        let calls: Vec<_> = (0..6)
            .map(|_| {
                let db = db.clone();
                let new = new_connection(alice.id, &prod, ends(&app, &server));
                tokio::spawn(async move { db.create_connection(new).await })
            })
            .collect();
        let mut created = 0;
        for call in calls {
            match call.await.unwrap() {
                Ok(Ok(_)) => created += 1,
                other => assert_eq!(
                    other,
                    Err(StoreError::Conflict(Constraint::ResourceConnectionPair))
                ),
            }
        }
        assert_eq!(created, 1);
    }

    async fn a_create_racing_a_delete_of_its_end_leaves_no_live_orphan(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let (_, prod) = project(&db, "team", alice.id).await;
        for round in 0..10 {
            let app = resource(&db, &prod, T::Application, &format!("app-{round}")).await;
            let server = resource(&db, &prod, T::Instance, &format!("server-{round}")).await;
            let create = {
                let db = db.clone();
                let new = new_connection(alice.id, &prod, ends(&app, &server));
                tokio::spawn(async move { db.create_connection(new).await })
            };
            let delete = {
                let db = db.clone();
                let env = prod.id;
                tokio::spawn(async move { db.soft_delete_resource(env, server.id, now()).await })
            };
            let created = create.await.unwrap().unwrap();
            let swept = delete.await.unwrap().unwrap();
            match created {
                // Created first: the delete took it along.
                Ok(_) => assert_eq!(swept, 1),
                // Deleted first: refused.
                Err(refusal) => {
                    assert_eq!(refusal, ConnectionRefusal::TargetNotFound);
                    assert_eq!(swept, 0);
                }
            }
            assert!(
                db.connections_of_resource(prod.id, T::Instance, server.id)
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
    }

    on_both_backends!(
        create_checks_ends_rules_and_duplicates,
        lists_filter_and_page_live_connections,
        updates_apply_only_to_the_state_they_were_read_from,
        concurrent_creates_of_one_pair_make_one_connection,
        a_create_racing_a_delete_of_its_end_leaves_no_live_orphan,
    );
}
