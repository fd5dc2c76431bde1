//! The resource repository: the typed nodes of an environment's canvas
//! (subdomains included), soft-deleted together with their connections.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use patchbay_app::StoreError;
use patchbay_app::ports::{
    CREDENTIAL_CONNECTION, Listed, NewResource, QueryFamily, ResourceRepository,
};
use patchbay_domain::{Page, Position, Resource, ResourceType};
use uuid::Uuid;

use crate::Database;
use crate::db::{BackendHooks, transaction, with_conn};
use crate::errors::{DbError, DbResult, corrupt};
use crate::schema::{resource_connections, resources};
use crate::types::{DbJson, DbTime, DbUuid};

/// The query family this module's operations are timed under.
const FAMILY: QueryFamily = QueryFamily::Resources;

/// A `resources` row as read.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = resources)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct ResourceRow {
    pub(crate) id: i64,
    pub(crate) project_id: DbUuid,
    pub(crate) environment_id: DbUuid,
    pub(crate) resource_type: String,
    pub(crate) name: String,
    /// `""` for none.
    pub(crate) parent_domain: String,
    pub(crate) status: String,
    pub(crate) position_x: f64,
    pub(crate) position_y: f64,
    pub(crate) config: DbJson,
    pub(crate) credential_conn_id: Option<String>,
    pub(crate) created_at: DbTime,
    pub(crate) updated_at: DbTime,
    pub(crate) deleted_at: Option<DbTime>,
}

/// A `resources` row to insert: the id is the database's, and a new row is
/// live.
#[derive(Debug, Insertable)]
#[diesel(table_name = resources)]
pub(crate) struct NewResourceRow {
    pub(crate) project_id: DbUuid,
    pub(crate) environment_id: DbUuid,
    pub(crate) resource_type: String,
    pub(crate) name: String,
    pub(crate) parent_domain: String,
    pub(crate) status: String,
    pub(crate) position_x: f64,
    pub(crate) position_y: f64,
    pub(crate) config: DbJson,
    pub(crate) credential_conn_id: Option<String>,
    pub(crate) created_at: DbTime,
    pub(crate) updated_at: DbTime,
}

/// The columns `update_resource` writes. `None` clears a column.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = resources)]
#[diesel(treat_none_as_null = true)]
struct ResourceChanges {
    name: String,
    parent_domain: String,
    position_x: f64,
    position_y: f64,
    config: DbJson,
    credential_conn_id: Option<String>,
    updated_at: DbTime,
}

/// The stored form of "no parent domain" is `''` (so the unique index sees
/// one value); the domain's is `None`.
fn stored_parent_domain(parent_domain: Option<&str>) -> String {
    parent_domain.unwrap_or_default().to_owned()
}

impl ResourceRow {
    pub(crate) fn into_domain(self) -> DbResult<Resource> {
        Ok(Resource {
            id: self.id,
            project_id: self.project_id.0,
            environment_id: self.environment_id.0,
            resource_type: parse_resource_type(&self.resource_type)?,
            name: self.name,
            status: self.status,
            position: Position::new(self.position_x, self.position_y),
            config: self.config.0,
            credential_conn_id: self.credential_conn_id,
            parent_domain: (!self.parent_domain.is_empty()).then_some(self.parent_domain),
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
            deleted_at: self.deleted_at.map(|t| t.0),
        })
    }
}

impl NewResourceRow {
    fn from_new(new: &NewResource) -> Self {
        Self {
            project_id: DbUuid(new.project_id),
            environment_id: DbUuid(new.environment_id),
            resource_type: new.resource_type.as_str().to_owned(),
            name: new.name.clone(),
            parent_domain: stored_parent_domain(new.parent_domain.as_deref()),
            status: new.status.clone(),
            position_x: new.position.x,
            position_y: new.position.y,
            config: DbJson(new.config.clone()),
            credential_conn_id: new.credential_conn_id.clone(),
            created_at: DbTime(new.now),
            updated_at: DbTime(new.now),
        }
    }

    /// A copy of `row` for another environment (of the same project or
    /// not), stamped `now`.
    pub(crate) fn copy_of(
        row: &ResourceRow,
        project_id: Uuid,
        environment_id: Uuid,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            project_id: DbUuid(project_id),
            environment_id: DbUuid(environment_id),
            resource_type: row.resource_type.clone(),
            name: row.name.clone(),
            parent_domain: row.parent_domain.clone(),
            status: row.status.clone(),
            position_x: row.position_x,
            position_y: row.position_y,
            config: row.config.clone(),
            credential_conn_id: row.credential_conn_id.clone(),
            created_at: DbTime(now),
            updated_at: DbTime(now),
        }
    }
}

impl ResourceChanges {
    fn from_domain(r: &Resource) -> Self {
        Self {
            name: r.name.clone(),
            parent_domain: stored_parent_domain(r.parent_domain.as_deref()),
            position_x: r.position.x,
            position_y: r.position.y,
            config: DbJson(r.config.clone()),
            credential_conn_id: r.credential_conn_id.clone(),
            updated_at: DbTime(r.updated_at),
        }
    }
}

/// Fails with `MissingReference(CREDENTIAL_CONNECTION)` unless the
/// environment holds the credential connection `conn_id`; shares its row
/// until the transaction ends so it cannot be deleted meanwhile.
async fn require_credential<C: BackendHooks>(
    conn: &mut C,
    environment_id: Uuid,
    conn_id: &str,
) -> DbResult<()> {
    match conn
        .lock_credential_connection(environment_id, conn_id, false)
        .await?
    {
        Some(_) => Ok(()),
        None => Err(StoreError::MissingReference(CREDENTIAL_CONNECTION.to_owned()).into()),
    }
}

/// A stored resource type, parsed by the domain.
pub(crate) fn parse_resource_type(stored: &str) -> DbResult<ResourceType> {
    ResourceType::parse(stored).map_err(|e| corrupt("resource type", e))
}

#[async_trait]
impl ResourceRepository for Database {
    async fn create_resource(&self, new: NewResource) -> Result<Resource, StoreError> {
        let row = NewResourceRow::from_new(&new);
        let result: DbResult<Resource> = async {
            let inserted: ResourceRow = match &new.credential_conn_id {
                None => with_conn!(self, |conn| {
                    diesel::insert_into(resources::table)
                        .values(&row)
                        .returning(ResourceRow::as_returning())
                        .get_result(conn)
                        .await?
                }),
                // The credential connection must exist, and stay until this
                // insert commits (a concurrent delete waits, then sees it).
                Some(conn_id) => transaction!(self, |conn| {
                    require_credential(conn, new.environment_id, conn_id).await?;
                    Ok::<_, DbError>(
                        diesel::insert_into(resources::table)
                            .values(&row)
                            .returning(ResourceRow::as_returning())
                            .get_result(conn)
                            .await?,
                    )
                })?,
            };
            inserted.into_domain()
        }
        .await;
        Ok(result?)
    }

    async fn list_resources(
        &self,
        environment_id: Uuid,
        resource_type: Option<ResourceType>,
        page: Page,
    ) -> Result<Listed<Resource>, StoreError> {
        let result: DbResult<Listed<Resource>> = async {
            let (rows, total): (Vec<ResourceRow>, Option<i64>) = with_conn!(self, |conn| {
                // Served by `resources_env_type_idx` with or without a type.
                let live = || {
                    resources::table
                        .filter(resources::environment_id.eq(DbUuid(environment_id)))
                        .filter(resources::deleted_at.is_null())
                };
                let mut rows = live().into_boxed();
                let mut count = live().into_boxed();
                if let Some(t) = resource_type {
                    rows = rows.filter(resources::resource_type.eq(t.as_str()));
                    count = count.filter(resources::resource_type.eq(t.as_str()));
                }
                if let Some(after) = page.cursor() {
                    rows = rows.filter(resources::id.gt(after));
                }
                // One row past the page tells whether another follows.
                let rows = rows
                    .order(resources::id)
                    .offset(page.offset())
                    .limit(page.limit().saturating_add(1))
                    .select(ResourceRow::as_select())
                    .load(conn)
                    .await?;
                let total = if page.counts_total() {
                    Some(count.count().get_result::<i64>(conn).await?)
                } else {
                    None
                };
                (rows, total)
            });
            let resources = rows
                .into_iter()
                .map(ResourceRow::into_domain)
                .collect::<DbResult<Vec<_>>>()?;
            Ok(Listed::from_rows(resources, page.limit(), total, |r| r.id))
        }
        .await;
        Ok(result?)
    }

    async fn find_resource(
        &self,
        environment_id: Uuid,
        id: i64,
        include_deleted: bool,
    ) -> Result<Option<Resource>, StoreError> {
        let result: DbResult<Option<Resource>> = async {
            let row: Option<ResourceRow> = with_conn!(self, |conn| {
                let query = resources::table
                    .filter(resources::id.eq(id))
                    .filter(resources::environment_id.eq(DbUuid(environment_id)))
                    .select(ResourceRow::as_select());
                if include_deleted {
                    query.first(conn).await.optional()?
                } else {
                    query
                        .filter(resources::deleted_at.is_null())
                        .first(conn)
                        .await
                        .optional()?
                }
            });
            row.map(ResourceRow::into_domain).transpose()
        }
        .await;
        Ok(result?)
    }

    async fn update_resource(&self, resource: Resource) -> Result<Resource, StoreError> {
        let changes = ResourceChanges::from_domain(&resource);
        let result: DbResult<Resource> = async {
            let row: Option<ResourceRow> = transaction!(self, |conn| {
                if let Some(conn_id) = &resource.credential_conn_id {
                    require_credential(conn, resource.environment_id, conn_id).await?;
                }
                Ok::<_, DbError>(
                    diesel::update(
                        resources::table
                            .filter(resources::id.eq(resource.id))
                            .filter(resources::environment_id.eq(DbUuid(resource.environment_id)))
                            .filter(resources::deleted_at.is_null()),
                    )
                    .set(&changes)
                    .returning(ResourceRow::as_returning())
                    .get_result(conn)
                    .await
                    .optional()?,
                )
            })?;
            row.ok_or(StoreError::NotFound)?.into_domain()
        }
        .await;
        Ok(result?)
    }

    async fn soft_delete_resource(
        &self,
        environment_id: Uuid,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let result: DbResult<u64> = transaction!(self, |conn| {
            // The row lock this takes makes a concurrent connection create
            // (which shares the resource rows it reads) wait, or wait for it.
            let deleted = diesel::update(
                resources::table
                    .filter(resources::id.eq(id))
                    .filter(resources::environment_id.eq(DbUuid(environment_id)))
                    .filter(resources::deleted_at.is_null()),
            )
            .set((
                resources::deleted_at.eq(Some(DbTime(now))),
                resources::updated_at.eq(DbTime(now)),
            ))
            .execute(conn)
            .await?;
            if deleted == 0 {
                return Err(StoreError::NotFound.into());
            }
            let connections = diesel::update(
                resource_connections::table
                    .filter(resource_connections::environment_id.eq(DbUuid(environment_id)))
                    .filter(resource_connections::deleted_at.is_null())
                    .filter(
                        resource_connections::source_id
                            .eq(id)
                            .or(resource_connections::target_id.eq(id)),
                    ),
            )
            .set((
                resource_connections::deleted_at.eq(Some(DbTime(now))),
                resource_connections::updated_at.eq(DbTime(now)),
            ))
            .execute(conn)
            .await?;
            Ok(u64::try_from(connections).unwrap_or(u64::MAX))
        });
        Ok(result?)
    }

    async fn restore_resource(
        &self,
        environment_id: Uuid,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<Resource, StoreError> {
        let result: DbResult<Resource> = async {
            // One statement: a unique violation (a live resource took the
            // name) changes nothing.
            let row: Option<ResourceRow> = with_conn!(self, |conn| {
                diesel::update(
                    resources::table
                        .filter(resources::id.eq(id))
                        .filter(resources::environment_id.eq(DbUuid(environment_id)))
                        .filter(resources::deleted_at.is_not_null()),
                )
                .set((
                    resources::deleted_at.eq(None::<DbTime>),
                    resources::updated_at.eq(DbTime(now)),
                ))
                .returning(ResourceRow::as_returning())
                .get_result(conn)
                .await
                .optional()?
            });
            row.ok_or(StoreError::NotFound)?.into_domain()
        }
        .await;
        Ok(result?)
    }
}

/// Fixtures shared by the canvas repositories' tests.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod testing {
    use patchbay_app::ports::{NewResource, ResourceRepository};
    use patchbay_domain::{Environment, Position, Resource, ResourceType};

    use crate::Database;
    use crate::projects::testing::now;

    /// A resource of `env` to insert, at (10, 20) with a small config.
    pub(crate) fn new_resource(env: &Environment, t: ResourceType, name: &str) -> NewResource {
        NewResource {
            project_id: env.project_id,
            environment_id: env.id,
            resource_type: t,
            name: name.to_owned(),
            parent_domain: None,
            status: "active".to_owned(),
            position: Position::new(10.0, 20.5),
            config: serde_json::json!({ "size": "small", "n": 1 }),
            credential_conn_id: None,
            now: now(),
        }
    }

    /// Inserts a credential connection `conn_id` (generic, with a password)
    /// into `env`, so resources may reference it.
    pub(crate) async fn credential(db: &Database, env: &Environment, conn_id: &str) {
        use patchbay_app::ports::{CredentialConnectionRepository, NewCredentialConnection};
        db.create_credential_connection(NewCredentialConnection {
            id: uuid::Uuid::now_v7(),
            environment_id: env.id,
            conn_id: patchbay_domain::ConnId::parse(conn_id).unwrap(),
            conn_type: patchbay_domain::CredentialType::Generic,
            host: Some("db.example.com".into()),
            port: Some(patchbay_domain::Port::new(5432).unwrap()),
            schema: None,
            login: None,
            description: None,
            password: Some(patchbay_app::ports::SecretString::from("pw".to_owned())),
            extra: None,
            now: now(),
        })
        .await
        .unwrap();
    }

    /// Inserts a resource of `env`.
    pub(crate) async fn resource(
        db: &Database,
        env: &Environment,
        t: ResourceType,
        name: &str,
    ) -> Resource {
        db.create_resource(new_resource(env, t, name))
            .await
            .unwrap()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use patchbay_app::ports::{
        ConnectionFilter, EnvironmentRepository, NewConnection, ResourceConnectionRepository,
    };
    use patchbay_domain::ConnectionEnds;

    use super::testing::*;
    use super::*;
    use crate::projects::testing::*;
    use patchbay_app::Constraint;

    async fn resources_are_created_found_and_listed(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let (p, prod) = project(&db, "team", alice.id).await;
        let staging = environment(p.id, "staging", false);
        db.create_environment(staging.clone()).await.unwrap();

        credential(&db, &prod, "aws-main").await;
        let mut new = new_resource(&prod, ResourceType::Instance, "web-1");
        new.credential_conn_id = Some("aws-main".into());
        let web = db.create_resource(new.clone()).await.unwrap();
        assert!(web.id > 0);
        assert_eq!(
            web,
            Resource {
                id: web.id,
                project_id: p.id,
                environment_id: prod.id,
                resource_type: ResourceType::Instance,
                name: "web-1".into(),
                status: "active".into(),
                position: new.position,
                config: new.config.clone(),
                credential_conn_id: Some("aws-main".into()),
                parent_domain: None,
                created_at: new.now,
                updated_at: new.now,
                deleted_at: None,
            }
        );
        assert_eq!(
            db.find_resource(prod.id, web.id, false).await.unwrap(),
            Some(web.clone())
        );
        // Not through another environment.
        assert_eq!(
            db.find_resource(staging.id, web.id, true).await.unwrap(),
            None
        );
        assert_eq!(
            db.find_resource(prod.id, web.id + 1000, true)
                .await
                .unwrap(),
            None
        );

        let mut blog = new_resource(&prod, ResourceType::Subdomain, "blog");
        blog.parent_domain = Some("example.com".into());
        let blog = db.create_resource(blog).await.unwrap();
        assert_eq!(blog.parent_domain.as_deref(), Some("example.com"));
        for i in 2..=4 {
            resource(&db, &prod, ResourceType::Instance, &format!("web-{i}")).await;
        }
        resource(&db, &staging, ResourceType::Instance, "web-1").await;

        let listed = db
            .list_resources(prod.id, None, Page::default())
            .await
            .unwrap();
        assert_eq!((listed.total, listed.next), (Some(5), None));
        let all = listed.items;
        let names: Vec<&str> = all.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["web-1", "blog", "web-2", "web-3", "web-4"]);
        assert!(all.windows(2).all(|w| w[0].id < w[1].id));

        let page2 = db
            .list_resources(
                prod.id,
                Some(ResourceType::Instance),
                Page::new(2, 3).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!((page2.total, page2.next), (Some(4), None));
        assert_eq!(
            page2
                .items
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>(),
            ["web-4"]
        );
        let subdomains = db
            .list_resources(prod.id, Some(ResourceType::Subdomain), Page::default())
            .await
            .unwrap();
        assert_eq!((subdomains.items, subdomains.total), (vec![blog], Some(1)));
        let none = db
            .list_resources(prod.id, Some(ResourceType::Database), Page::default())
            .await
            .unwrap();
        assert!(none.items.is_empty());
        assert_eq!(none.total, Some(0));

        // Keyset pages: after a cursor, no count unless asked, `next` only
        // while more rows follow.
        let ids: Vec<i64> = all.iter().map(|r| r.id).collect();
        let first = db
            .list_resources(prod.id, None, Page::after(0, 2).unwrap())
            .await
            .unwrap();
        assert_eq!(
            (
                first.items.iter().map(|r| r.id).collect::<Vec<_>>(),
                first.total,
                first.next
            ),
            (ids[..2].to_vec(), None, Some(ids[1]))
        );
        let second = db
            .list_resources(prod.id, None, Page::after(ids[1], 2).unwrap())
            .await
            .unwrap();
        assert_eq!(
            (
                second.items.iter().map(|r| r.id).collect::<Vec<_>>(),
                second.next
            ),
            (ids[2..4].to_vec(), Some(ids[3]))
        );
        let last = db
            .list_resources(
                prod.id,
                None,
                Page::from_list_query(None, Some(2), Some(ids[3]), Some("total")).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(
            (
                last.items.iter().map(|r| r.id).collect::<Vec<_>>(),
                last.total,
                last.next
            ),
            (ids[4..].to_vec(), Some(5), None)
        );
        let typed = db
            .list_resources(
                prod.id,
                Some(ResourceType::Instance),
                Page::after(ids[0], 100).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(typed.items.len(), 3, "after web-1: web-2, web-3, web-4");
        assert_eq!(typed.next, None);
    }

    async fn names_are_unique_per_environment_type_and_parent_domain(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let (p, prod) = project(&db, "team", alice.id).await;
        let staging = environment(p.id, "staging", false);
        db.create_environment(staging.clone()).await.unwrap();
        let conflict = Err(StoreError::Conflict(Constraint::ResourceName));

        resource(&db, &prod, ResourceType::Instance, "web").await;
        assert_eq!(
            db.create_resource(new_resource(&prod, ResourceType::Instance, "web"))
                .await,
            conflict
        );
        // Another type, another environment: fine.
        resource(&db, &prod, ResourceType::Database, "web").await;
        resource(&db, &staging, ResourceType::Instance, "web").await;

        // Subdomains: the pair (name, parent domain); "none" is one value.
        let sub = |parent: Option<&str>| {
            let mut new = new_resource(&prod, ResourceType::Subdomain, "blog");
            new.parent_domain = parent.map(str::to_owned);
            new
        };
        db.create_resource(sub(None)).await.unwrap();
        assert_eq!(db.create_resource(sub(None)).await, conflict);
        let a = db.create_resource(sub(Some("a.example"))).await.unwrap();
        db.create_resource(sub(Some("b.example"))).await.unwrap();
        assert_eq!(db.create_resource(sub(Some("a.example"))).await, conflict);

        // Update into a taken pair is a conflict; into a free one works.
        let mut moved = a.clone();
        moved.parent_domain = Some("b.example".into());
        assert_eq!(db.update_resource(moved).await, conflict);
        let mut moved = a.clone();
        moved.parent_domain = Some("c.example".into());
        moved.updated_at = now();
        assert_eq!(db.update_resource(moved.clone()).await.unwrap(), moved);

        // A deleted resource frees its name; restoring it then conflicts
        // and changes nothing.
        db.soft_delete_resource(prod.id, a.id, now()).await.unwrap();
        let taker = db.create_resource(sub(Some("c.example"))).await.unwrap();
        assert_eq!(db.restore_resource(prod.id, a.id, now()).await, conflict);
        let still_deleted = db
            .find_resource(prod.id, a.id, true)
            .await
            .unwrap()
            .unwrap();
        assert!(still_deleted.deleted_at.is_some());
        db.soft_delete_resource(prod.id, taker.id, now())
            .await
            .unwrap();
        let later = now();
        let restored = db.restore_resource(prod.id, a.id, later).await.unwrap();
        assert_eq!(restored.deleted_at, None);
        assert_eq!(restored.updated_at, later);
        assert_eq!(restored.parent_domain.as_deref(), Some("c.example"));
    }

    async fn update_writes_the_mutable_columns_of_live_resources_only(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let (_, prod) = project(&db, "team", alice.id).await;
        let r = resource(&db, &prod, ResourceType::Instance, "web").await;
        credential(&db, &prod, "db-main").await;

        let mut changed = r.clone();
        changed.name = "api".into();
        changed.position = Position::new(-1.25, 3.0e6);
        changed.config = serde_json::json!({ "nested": { "k": [1, 2, 3] } });
        changed.credential_conn_id = Some("db-main".into());
        changed.updated_at = now();
        // Not written by update_resource.
        let mut request = changed.clone();
        request.status = "stopped".into();
        request.resource_type = ResourceType::Database;
        request.created_at = now() + chrono::Duration::hours(1);
        assert_eq!(db.update_resource(request).await.unwrap(), changed);

        // Clearing the credential connection.
        let mut cleared = changed.clone();
        cleared.credential_conn_id = None;
        assert_eq!(db.update_resource(cleared.clone()).await.unwrap(), cleared);

        let mut elsewhere = cleared.clone();
        elsewhere.environment_id = Uuid::now_v7();
        assert_eq!(
            db.update_resource(elsewhere).await,
            Err(StoreError::NotFound)
        );
        db.soft_delete_resource(prod.id, r.id, now()).await.unwrap();
        assert_eq!(db.update_resource(cleared).await, Err(StoreError::NotFound));
    }

    async fn soft_delete_takes_the_connections_both_ways_and_restore_leaves_them(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let (p, prod) = project(&db, "team", alice.id).await;
        let server = resource(&db, &prod, ResourceType::Instance, "server").await;
        let app = resource(&db, &prod, ResourceType::Application, "app").await;
        let term = resource(&db, &prod, ResourceType::Terminal, "term").await;
        let fw = resource(&db, &prod, ResourceType::Firewall, "fw").await;
        let pg = resource(&db, &prod, ResourceType::Database, "pg").await;
        let connect = |s: &Resource, t: &Resource| NewConnection {
            user_id: alice.id,
            project_id: p.id,
            environment_id: prod.id,
            ends: ConnectionEnds {
                source_type: s.resource_type,
                source_id: s.id,
                target_type: t.resource_type,
                target_id: t.id,
            },
            connection_details: None,
            now: now(),
        };
        for (s, t) in [(&app, &server), (&term, &server), (&server, &fw)] {
            db.create_connection(connect(s, t)).await.unwrap().unwrap();
        }
        let unrelated = db
            .create_connection(connect(&server, &pg))
            .await
            .unwrap()
            .unwrap();
        // The unrelated one goes first so it does not touch the server.
        db.soft_delete_connection(prod.id, unrelated.id, now())
            .await
            .unwrap();
        let kept = db
            .create_connection(connect(&term, &server))
            .await
            .unwrap_err();
        assert_eq!(
            kept,
            StoreError::Conflict(Constraint::ResourceConnectionPair)
        );

        let later = now();
        assert_eq!(
            db.soft_delete_resource(prod.id, server.id, later).await,
            Ok(3)
        );
        let gone = db
            .find_resource(prod.id, server.id, true)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((gone.deleted_at, gone.updated_at), (Some(later), later));
        assert_eq!(
            db.find_resource(prod.id, server.id, false).await.unwrap(),
            None
        );
        let left = db
            .list_connections(prod.id, ConnectionFilter::default(), Page::default())
            .await
            .unwrap();
        let total = left.total.unwrap_or(-1);
        assert!(left.items.is_empty());
        assert_eq!(total, 0);
        assert_eq!(
            db.soft_delete_resource(prod.id, server.id, now()).await,
            Err(StoreError::NotFound)
        );
        assert_eq!(
            db.soft_delete_resource(Uuid::now_v7(), app.id, now()).await,
            Err(StoreError::NotFound)
        );

        // Restoring brings the resource back, not its connections.
        let restored = db
            .restore_resource(prod.id, server.id, now())
            .await
            .unwrap();
        assert!(restored.is_live());
        assert!(
            db.connections_of_resource(prod.id, ResourceType::Instance, server.id)
                .await
                .unwrap()
                .is_empty()
        );
        // Restoring a live resource (or a missing one) is not found.
        assert_eq!(
            db.restore_resource(prod.id, server.id, now()).await,
            Err(StoreError::NotFound)
        );
        assert_eq!(
            db.restore_resource(prod.id, server.id + 1000, now()).await,
            Err(StoreError::NotFound)
        );
        // The connections can be made again.
        db.create_connection(connect(&app, &server))
            .await
            .unwrap()
            .unwrap();
    }

    on_both_backends!(
        resources_are_created_found_and_listed,
        names_are_unique_per_environment_type_and_parent_domain,
        update_writes_the_mutable_columns_of_live_resources_only,
        soft_delete_takes_the_connections_both_ways_and_restore_leaves_them,
    );
}
