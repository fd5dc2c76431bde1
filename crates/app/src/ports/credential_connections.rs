//! Ports of the credential-connections family (seed 003, SPEC §8): the
//! repository of an environment's connections and the maintenance of sealed
//! values (key-ring status, rotation). The store seals and opens secrets
//! itself (it holds the [`super::SecretCipher`]), so plaintext crosses this
//! port only as [`SecretString`] and ciphertext never leaves the store.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use patchbay_domain::{
    ConnId, ConnectionTestResult, CredentialConnection, CredentialType, Page, Port, ResourceType,
};
use uuid::Uuid;

use super::SecretString;
use crate::error::StoreError;

/// Reported as `StoreError::MissingReference(CREDENTIAL_CONNECTION)` when a
/// resource names a `credentialConnId` the environment does not hold.
pub const CREDENTIAL_CONNECTION: &str = "credential_connections";

/// A credential connection to insert (validated), secrets in clear: the
/// store seals them for the new row.
#[derive(Debug)]
pub struct NewCredentialConnection {
    pub id: Uuid,
    pub environment_id: Uuid,
    pub conn_id: ConnId,
    pub conn_type: CredentialType,
    pub host: Option<String>,
    pub port: Option<Port>,
    pub schema: Option<String>,
    pub login: Option<String>,
    pub description: Option<String>,
    pub password: Option<SecretString>,
    /// The `extra` JSON object's text.
    pub extra: Option<SecretString>,
    pub now: DateTime<Utc>,
}

/// What a `PUT` does to one stored secret.
#[derive(Debug)]
pub enum SecretUpdate {
    /// Leave the stored value (sealed bytes untouched).
    Keep,
    /// Remove it.
    Clear,
    /// Seal and store this value.
    Set(SecretString),
}

/// A validated `PUT`: every plain field is replaced; secrets per
/// [`SecretUpdate`].
#[derive(Debug)]
pub struct CredentialConnectionChanges {
    pub conn_type: CredentialType,
    pub host: Option<String>,
    pub port: Option<Port>,
    pub schema: Option<String>,
    pub login: Option<String>,
    pub description: Option<String>,
    pub password: SecretUpdate,
    pub extra: SecretUpdate,
    pub now: DateTime<Utc>,
}

/// A connection's secrets, opened.
#[derive(Debug, Default)]
pub struct OpenedSecrets {
    pub password: Option<SecretString>,
    pub extra: Option<SecretString>,
}

/// A live resource that references a credential connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRef {
    pub id: i64,
    pub resource_type: ResourceType,
    pub name: String,
}

/// What a delete did, or why it did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialDeletion {
    /// Deleted; `cleared` resources (live ones with `force`, plus any
    /// soft-deleted ones) lost their `credentialConnId`.
    Deleted { cleared: u64 },
    /// Live resources reference it and `force` was not given; nothing changed.
    InUse(Vec<i64>),
}

/// Credential connections of an environment.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CredentialConnectionRepository: Send + Sync {
    /// Seals the secrets for the new row and inserts it.
    ///
    /// # Errors
    /// `Conflict(Constraint::CredentialConnId)` when the environment has the conn_id;
    /// `Backend` when sealing fails; backend failures.
    async fn create_credential_connection(
        &self,
        new: NewCredentialConnection,
    ) -> Result<CredentialConnection, StoreError>;

    /// The environment's connections by `conn_id`, with the total. Never
    /// opens a secret.
    ///
    /// # Errors
    /// Backend failures only.
    async fn list_credential_connections(
        &self,
        environment_id: Uuid,
        page: Page,
    ) -> Result<(Vec<CredentialConnection>, i64), StoreError>;

    /// The connection named `conn_id` in the environment.
    ///
    /// # Errors
    /// Backend failures only.
    async fn find_credential_connection(
        &self,
        environment_id: Uuid,
        conn_id: &ConnId,
    ) -> Result<Option<CredentialConnection>, StoreError>;

    /// The connection and its secrets, opened.
    ///
    /// # Errors
    /// `Backend` when a sealed value fails to open (tampered, moved from
    /// another row or field, key missing) — the message names the row, the
    /// field and the key id, never the bytes; backend failures.
    async fn open_credential_connection(
        &self,
        environment_id: Uuid,
        conn_id: &ConnId,
    ) -> Result<Option<(CredentialConnection, OpenedSecrets)>, StoreError>;

    /// Replaces the record (in one transaction: a `SecretUpdate::Keep` keeps
    /// the sealed bytes as stored, a `Set` seals anew).
    ///
    /// # Errors
    /// `NotFound` when the connection is gone; backend failures.
    async fn update_credential_connection(
        &self,
        environment_id: Uuid,
        conn_id: &ConnId,
        changes: CredentialConnectionChanges,
    ) -> Result<CredentialConnection, StoreError>;

    /// In one transaction: lock the connection, list the live resources that
    /// reference it, refuse when there are some and not `force`, else clear
    /// every reference and delete it.
    ///
    /// # Errors
    /// `NotFound` when the connection is gone; backend failures.
    async fn delete_credential_connection(
        &self,
        environment_id: Uuid,
        conn_id: &ConnId,
        force: bool,
    ) -> Result<CredentialDeletion, StoreError>;

    /// Live resources of the environment whose `credentialConnId` is
    /// `conn_id`, by id.
    ///
    /// # Errors
    /// Backend failures only.
    async fn credential_connection_users(
        &self,
        environment_id: Uuid,
        conn_id: &ConnId,
    ) -> Result<Vec<ResourceRef>, StoreError>;

    /// Records the outcome of a connectivity test on the row (does not
    /// change `updated_at`). A row deleted meanwhile is not an error.
    ///
    /// # Errors
    /// Backend failures only.
    async fn record_credential_test(
        &self,
        id: Uuid,
        result: ConnectionTestResult,
    ) -> Result<(), StoreError>;
}

/// How many sealed values one key id seals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedCount {
    /// The key id stored with the values.
    pub key_id: String,
    /// How many sealed values (passwords and `extra` documents) use it.
    pub values: u64,
}

/// What one rotation batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RotationBatch {
    /// Values read that were not under the active key.
    pub examined: u64,
    /// Values re-sealed under the active key (compare-and-swap succeeded).
    pub resealed: u64,
    /// Values changed concurrently (a `PUT` re-sealed or cleared them):
    /// left as the concurrent writer put them.
    pub skipped: u64,
}

/// Maintenance of sealed values across the whole database (the `patchbay
/// secrets` commands and the start-up key check).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SealedValueStore: Send + Sync {
    /// Sealed values per key id, by key id.
    ///
    /// # Errors
    /// Backend failures only.
    async fn sealed_counts(&self) -> Result<Vec<SealedCount>, StoreError>;

    /// Re-seals up to `limit` values not under the cipher's active key, in
    /// one transaction, each written only if the stored ciphertext is still
    /// the one read (compare-and-swap), so a concurrent `PUT` is never
    /// overwritten with older data. Call until `examined == 0`.
    ///
    /// # Errors
    /// `Backend` when a value cannot be opened (its key is missing or it was
    /// tampered with) — nothing of that batch is written; backend failures.
    async fn rotate_sealed_batch(&self, limit: u32) -> Result<RotationBatch, StoreError>;
}
