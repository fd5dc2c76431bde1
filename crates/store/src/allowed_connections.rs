//! The allowed-connection repository: the instance-wide (source type,
//! target type) rules a new resource connection must match.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use patchbay_app::StoreError;
use patchbay_app::ports::{AllowedConnectionRepository, AllowedConnectionRule, QueryFamily};
use patchbay_domain::ResourceType;

use crate::Database;
use crate::db::with_conn;
use crate::errors::DbResult;
use crate::resources::parse_resource_type;
use crate::schema::allowed_connections;
use crate::types::DbTime;

/// The query family this module's operations are timed under.
const FAMILY: QueryFamily = QueryFamily::AllowedConnections;

/// An `allowed_connections` row as read.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = allowed_connections)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct AllowedRow {
    id: i64,
    source_type: String,
    target_type: String,
    created_at: DbTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = allowed_connections)]
struct NewAllowedRow {
    source_type: &'static str,
    target_type: &'static str,
    created_at: DbTime,
}

impl AllowedRow {
    fn into_domain(self) -> DbResult<AllowedConnectionRule> {
        Ok(AllowedConnectionRule {
            id: self.id,
            source_type: parse_resource_type(&self.source_type)?,
            target_type: parse_resource_type(&self.target_type)?,
            created_at: self.created_at.0,
        })
    }
}

#[async_trait]
impl AllowedConnectionRepository for Database {
    async fn list_allowed(&self) -> Result<Vec<AllowedConnectionRule>, StoreError> {
        let result: DbResult<Vec<AllowedConnectionRule>> = async {
            let rows: Vec<AllowedRow> = with_conn!(self, |conn| {
                allowed_connections::table
                    .order(allowed_connections::id)
                    .select(AllowedRow::as_select())
                    .load(conn)
                    .await?
            });
            rows.into_iter().map(AllowedRow::into_domain).collect()
        }
        .await;
        Ok(result?)
    }

    async fn add_allowed(
        &self,
        source_type: ResourceType,
        target_type: ResourceType,
        now: DateTime<Utc>,
    ) -> Result<AllowedConnectionRule, StoreError> {
        let row = NewAllowedRow {
            source_type: source_type.as_str(),
            target_type: target_type.as_str(),
            created_at: DbTime(now),
        };
        let result: DbResult<AllowedConnectionRule> = async {
            // An existing pair violates `allowed_connections_pair_key`.
            let inserted: AllowedRow = with_conn!(self, |conn| {
                diesel::insert_into(allowed_connections::table)
                    .values(&row)
                    .returning(AllowedRow::as_returning())
                    .get_result(conn)
                    .await?
            });
            inserted.into_domain()
        }
        .await;
        Ok(result?)
    }

    async fn delete_allowed(&self, id: i64) -> Result<(), StoreError> {
        let result: DbResult<()> = async {
            let deleted = with_conn!(self, |conn| {
                diesel::delete(allowed_connections::table.find(id))
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
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use patchbay_domain::DEFAULT_ALLOWED_CONNECTIONS;

    use super::*;
    use crate::projects::testing::*;

    use ResourceType as T;
    use patchbay_app::Constraint;

    async fn the_migration_seeds_the_spec_rules_in_order(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let rules = db.list_allowed().await.unwrap();
        assert_eq!(rules.len(), 7);
        let pairs: Vec<_> = rules
            .iter()
            .map(|r| (r.source_type, r.target_type))
            .collect();
        assert_eq!(pairs, DEFAULT_ALLOWED_CONNECTIONS);
        assert!(rules.windows(2).all(|w| w[0].id < w[1].id));
        // Seeded at migration time, in the store's timestamp form.
        let age = Utc::now() - rules[0].created_at;
        assert!(age >= chrono::Duration::zero() && age < chrono::Duration::minutes(10));
    }

    async fn rules_are_added_and_deleted(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let t = now();
        let rule = db
            .add_allowed(T::Instance, T::Application, t)
            .await
            .unwrap();
        assert_eq!(
            (rule.source_type, rule.target_type, rule.created_at),
            (T::Instance, T::Application, t)
        );
        assert_eq!(
            db.add_allowed(T::Instance, T::Application, now()).await,
            Err(StoreError::Conflict(Constraint::AllowedConnectionPair))
        );
        assert_eq!(
            db.add_allowed(T::Application, T::Instance, now()).await,
            Err(StoreError::Conflict(Constraint::AllowedConnectionPair))
        );
        let rules = db.list_allowed().await.unwrap();
        assert_eq!(rules.len(), 8);
        assert_eq!(rules.last(), Some(&rule));

        db.delete_allowed(rule.id).await.unwrap();
        assert_eq!(db.delete_allowed(rule.id).await, Err(StoreError::NotFound));
        let first = rules[0].id;
        db.delete_allowed(first).await.unwrap();
        let rules = db.list_allowed().await.unwrap();
        assert_eq!(rules.len(), 6);
        assert!(rules.iter().all(|r| r.id != first && r.id != rule.id));
        // The pair can be added again, with a new id.
        let again = db
            .add_allowed(T::Instance, T::Application, now())
            .await
            .unwrap();
        assert!(again.id > rule.id);
    }

    on_both_backends!(
        the_migration_seeds_the_spec_rules_in_order,
        rules_are_added_and_deleted,
    );
}
