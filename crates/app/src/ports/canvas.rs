//! Ports of the canvas: resources (subdomains included), resource
//! connections and the allowed-connection rules. Writes that must be atomic
//! are one method each. Rules are read from the database on every create,
//! never cached in a process, so a rule change takes effect at once on
//! every server.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use patchbay_domain::{
    ConnectionEnds, ConnectionStatus, Page, Position, Resource, ResourceConnection,
    ResourceConnectionError, ResourceType,
};
use uuid::Uuid;

use crate::error::StoreError;

/// A resource to insert (already validated).
#[derive(Debug, Clone, PartialEq)]
pub struct NewResource {
    pub project_id: Uuid,
    pub environment_id: Uuid,
    pub resource_type: ResourceType,
    pub name: String,
    pub parent_domain: Option<String>,
    pub status: String,
    pub position: Position,
    pub config: serde_json::Value,
    pub credential_conn_id: Option<String>,
    pub now: DateTime<Utc>,
}

/// Resources of an environment.
/// One page of a list of rows with integer ids, as the store read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    /// At most [`Page::limit`] rows, by id ascending.
    pub items: Vec<T>,
    /// Rows matching over all pages, when [`Page::counts_total`]: a
    /// `COUNT(*)` that grows with the matches, so keyset pages skip it
    /// unless asked.
    pub total: Option<i64>,
    /// The `after` cursor that continues the list (the last item's id), when
    /// more rows follow; `None` on the last page.
    pub next: Option<i64>,
}

impl<T> Listed<T> {
    /// Builds a page from up to `limit + 1` rows read by id ascending: the
    /// extra row only tells that more follow.
    #[must_use]
    pub fn from_rows(
        mut rows: Vec<T>,
        limit: i64,
        total: Option<i64>,
        id: impl Fn(&T) -> i64,
    ) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(id)
        } else {
            None
        };
        Self {
            items: rows,
            total,
            next,
        }
    }
}

#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ResourceRepository: Send + Sync {
    /// # Errors
    /// `Conflict(Constraint::ResourceName)` when a live resource of that type has the
    /// name (and parent domain) in the environment.
    async fn create_resource(&self, new: NewResource) -> Result<Resource, StoreError>;

    /// Live resources, optionally of one type, by id ascending: the page
    /// `page` names (offset, or keyset after [`Page::cursor`]), the total
    /// when [`Page::counts_total`], and the cursor of the next page.
    ///
    /// # Errors
    /// Backend failures only.
    async fn list_resources(
        &self,
        environment_id: Uuid,
        resource_type: Option<ResourceType>,
        page: Page,
    ) -> Result<Listed<Resource>, StoreError>;

    /// A resource of the environment; soft-deleted ones only when
    /// `include_deleted`.
    ///
    /// # Errors
    /// Backend failures only.
    async fn find_resource(
        &self,
        environment_id: Uuid,
        id: i64,
        include_deleted: bool,
    ) -> Result<Option<Resource>, StoreError>;

    /// Writes name, parent domain, position, config, credential connection
    /// and `updated_at` of a live resource (by id and environment).
    ///
    /// # Errors
    /// `NotFound` when not live; `Conflict(Constraint::ResourceName)`.
    async fn update_resource(&self, resource: Resource) -> Result<Resource, StoreError>;

    /// Soft-deletes a live resource and, in the same transaction, every live
    /// connection touching it (either direction). Returns how many
    /// connections went with it.
    ///
    /// # Errors
    /// `NotFound` when there is no live resource with that id.
    async fn soft_delete_resource(
        &self,
        environment_id: Uuid,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Brings a soft-deleted resource back (its connections stay deleted).
    ///
    /// # Errors
    /// `NotFound` when there is no deleted resource with that id;
    /// `Conflict(Constraint::ResourceName)` when a live resource took the name.
    async fn restore_resource(
        &self,
        environment_id: Uuid,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<Resource, StoreError>;
}

/// A connection to create: who, where, which ends, details.
#[derive(Debug, Clone, PartialEq)]
pub struct NewConnection {
    pub user_id: Uuid,
    pub project_id: Uuid,
    pub environment_id: Uuid,
    pub ends: ConnectionEnds,
    pub connection_details: Option<serde_json::Value>,
    pub now: DateTime<Utc>,
}

/// Why the store refused to create a connection (the checks run inside the
/// insert's transaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionRefusal {
    /// No live resource with the source id in the environment.
    SourceNotFound,
    /// No live resource with the target id in the environment.
    TargetNotFound,
    /// A domain rule (`validate_new_connection`) refused it.
    Rule(ResourceConnectionError),
}

/// Filters of `GET …/resource-connections` (all optional, combined with AND).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionFilter {
    pub source_type: Option<ResourceType>,
    pub source_id: Option<i64>,
    pub target_type: Option<ResourceType>,
    pub target_id: Option<i64>,
    pub status: Option<ConnectionStatus>,
}

/// Resource connections of an environment.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ResourceConnectionRepository: Send + Sync {
    /// In one transaction, in SPEC §7's order: load both ends (live, in the
    /// environment); `patchbay_domain::validate_connection_ends` (declared
    /// types, self-connection); no live duplicate; the allowed-connection
    /// rules (read now, never cached); insert with status `pending`.
    ///
    /// # Errors
    /// Outer: `Conflict(Constraint::ResourceConnectionPair)` for a live duplicate, backend
    /// failures. Inner: the refusal.
    async fn create_connection(
        &self,
        new: NewConnection,
    ) -> Result<Result<ResourceConnection, ConnectionRefusal>, StoreError>;

    /// Live connections matching `filter`, by id ascending: the page `page`
    /// names, the total when [`Page::counts_total`], and the cursor of the
    /// next page.
    ///
    /// # Errors
    /// Backend failures only.
    async fn list_connections(
        &self,
        environment_id: Uuid,
        filter: ConnectionFilter,
        page: Page,
    ) -> Result<Listed<ResourceConnection>, StoreError>;

    /// A live connection of the environment.
    ///
    /// # Errors
    /// Backend failures only.
    async fn find_connection(
        &self,
        environment_id: Uuid,
        id: i64,
    ) -> Result<Option<ResourceConnection>, StoreError>;

    /// Writes status, details, error message and `updated_at`, only if the
    /// stored row still has `expected_status` and `expected_updated_at`
    /// (optimistic concurrency: two racing updates cannot both apply a
    /// transition from the same state).
    ///
    /// # Errors
    /// `Conflict(Constraint::ResourceConnectionChanged)` when the row changed meanwhile;
    /// `NotFound` when it is no longer live.
    async fn update_connection(
        &self,
        connection: ResourceConnection,
        expected_status: ConnectionStatus,
        expected_updated_at: DateTime<Utc>,
    ) -> Result<ResourceConnection, StoreError>;

    /// # Errors
    /// `NotFound` when there is no live connection with that id.
    async fn soft_delete_connection(
        &self,
        environment_id: Uuid,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Live connections with the resource at either end, by id.
    ///
    /// # Errors
    /// Backend failures only.
    async fn connections_of_resource(
        &self,
        environment_id: Uuid,
        resource_type: ResourceType,
        resource_id: i64,
    ) -> Result<Vec<ResourceConnection>, StoreError>;

    /// Every live resource and live connection of the environment, read in
    /// one transaction (a consistent picture for a canvas).
    ///
    /// # Errors
    /// Backend failures only.
    async fn graph(
        &self,
        environment_id: Uuid,
    ) -> Result<(Vec<Resource>, Vec<ResourceConnection>), StoreError>;
}

/// One allowed-connection rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedConnectionRule {
    pub id: i64,
    pub source_type: ResourceType,
    pub target_type: ResourceType,
    pub created_at: DateTime<Utc>,
}

/// The allowed-connection rules (instance-wide data).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AllowedConnectionRepository: Send + Sync {
    /// Every rule, by id.
    ///
    /// # Errors
    /// Backend failures only.
    async fn list_allowed(&self) -> Result<Vec<AllowedConnectionRule>, StoreError>;

    /// # Errors
    /// `Conflict(Constraint::AllowedConnectionPair)` when the rule exists.
    async fn add_allowed(
        &self,
        source_type: ResourceType,
        target_type: ResourceType,
        now: DateTime<Utc>,
    ) -> Result<AllowedConnectionRule, StoreError>;

    /// # Errors
    /// `NotFound`.
    async fn delete_allowed(&self, id: i64) -> Result<(), StoreError>;
}
