//! Resource-connection use cases (seeds 000/001): create under the
//! allowed-connection rules, list with filters, get, update through the
//! status state machine with a JSON merge patch of the details, soft
//! delete, the connections of one resource, and the canvas graph.

use std::sync::Arc;

use patchbay_domain::{
    Action, ConnectionEnds, ConnectionStatus, Page, Resource, ResourceConnection, ResourceType,
    check_json_document, merge_patch_option, update_status,
};

use crate::access::EnvironmentAccess;
use crate::error::{AppError, StoreError};
use crate::ports::{
    Clock, ConnectionFilter, ConnectionRefusal, NewConnection, ResourceConnectionRepository,
    ResourceRepository, canvas_constraint,
};
use crate::resources::resource_not_found;

/// `POST …/resource-connections` input (types unparsed).
#[derive(Debug, Clone, Default)]
pub struct CreateConnectionInput {
    pub source_type: String,
    pub source_id: i64,
    pub target_type: String,
    pub target_id: i64,
    pub connection_details: Option<serde_json::Value>,
}

/// `GET …/resource-connections` filters, as received.
#[derive(Debug, Clone, Default)]
pub struct ConnectionFilterInput {
    pub source_type: Option<String>,
    pub source_id: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub status: Option<String>,
}

/// `PATCH …/resource-connections/:id` input. `connection_details` is a JSON
/// merge patch (RFC 7386); `error_message`: `None` not sent, `Some(None)`
/// null.
#[derive(Debug, Clone, Default)]
pub struct UpdateConnectionInput {
    pub status: Option<String>,
    pub connection_details: Option<serde_json::Value>,
    pub error_message: Option<Option<String>>,
}

/// The longest error message kept on a connection, in characters.
pub const MAX_ERROR_MESSAGE_CHARS: usize = 2000;

/// Parses a positive resource id from a path or query string.
///
/// # Errors
/// 400 naming `field`.
pub fn parse_id(field: &str, v: &str) -> Result<i64, AppError> {
    match v.parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(AppError::invalid_field(
            field,
            format!(
                "'{}' is not a positive integer id",
                v.chars().take(32).collect::<String>()
            ),
        )),
    }
}

fn check_id(field: &str, id: i64) -> Result<i64, AppError> {
    if id > 0 {
        Ok(id)
    } else {
        Err(AppError::invalid_field(
            field,
            "must be a positive integer id",
        ))
    }
}

fn parse_type(field: &str, v: &str) -> Result<ResourceType, AppError> {
    ResourceType::parse(v).map_err(|e| AppError::invalid_field(field, e))
}

fn parse_status(field: &str, v: &str) -> Result<ConnectionStatus, AppError> {
    ConnectionStatus::parse(v).map_err(|e| AppError::invalid_field(field, e))
}

/// 404 for a connection id that names nothing live here.
fn connection_not_found() -> AppError {
    AppError::not_found("Resource connection not found")
}

/// Resource-connection use cases.
#[derive(Clone)]
pub struct ResourceConnectionService {
    connections: Arc<dyn ResourceConnectionRepository>,
    resources: Arc<dyn ResourceRepository>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ResourceConnectionService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceConnectionService")
            .finish_non_exhaustive()
    }
}

impl ResourceConnectionService {
    #[must_use]
    pub fn new(
        connections: Arc<dyn ResourceConnectionRepository>,
        resources: Arc<dyn ResourceRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            connections,
            resources,
            clock,
        }
    }

    /// Connects two live resources of the environment if a rule allows it.
    ///
    /// # Errors
    /// 400 bad field, type mismatch, self-connection, or "Connection not
    /// allowed" (seed 000's body); 403; 404 naming the missing end; 409 a
    /// live duplicate.
    pub async fn create(
        &self,
        access: &EnvironmentAccess,
        input: CreateConnectionInput,
    ) -> Result<ResourceConnection, AppError> {
        access.role.require(Action::WriteResourceConnections)?;
        let ends = ConnectionEnds {
            source_type: parse_type("sourceResourceType", &input.source_type)?,
            source_id: check_id("sourceResourceId", input.source_id)?,
            target_type: parse_type("targetResourceType", &input.target_type)?,
            target_id: check_id("targetResourceId", input.target_id)?,
        };
        if let Some(details) = &input.connection_details {
            if !details.is_null() {
                check_json_document("connectionDetails", details)
                    .map_err(|e| AppError::invalid_field("connectionDetails", e))?;
            }
        }
        let new = NewConnection {
            user_id: access.user.id,
            project_id: access.project.id,
            environment_id: access.environment.id,
            ends,
            connection_details: input.connection_details.filter(|d| !d.is_null()),
            now: self.clock.now(),
        };
        let created = self
            .connections
            .create_connection(new)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(c) if c == canvas_constraint::CONNECTION_UNIQUE => {
                    AppError::conflict(
                        "A connection from this source to this target already exists",
                    )
                }
                other => other.into(),
            })?;
        created.map_err(|refusal| match refusal {
            ConnectionRefusal::SourceNotFound => AppError::not_found(format!(
                "Source resource not found: no live {} with id {} in this environment",
                ends.source_type, ends.source_id
            )),
            ConnectionRefusal::TargetNotFound => AppError::not_found(format!(
                "Target resource not found: no live {} with id {} in this environment",
                ends.target_type, ends.target_id
            )),
            ConnectionRefusal::Rule(rule) => rule.into(),
        })
    }

    /// Live connections matching the filters.
    ///
    /// # Errors
    /// 400 for an invalid filter value; 403.
    pub async fn list(
        &self,
        access: &EnvironmentAccess,
        filter: ConnectionFilterInput,
        page: Page,
    ) -> Result<(Vec<ResourceConnection>, i64), AppError> {
        access.role.require(Action::ViewResourceConnections)?;
        let filter = ConnectionFilter {
            source_type: filter
                .source_type
                .as_deref()
                .map(|v| parse_type("sourceResourceType", v))
                .transpose()?,
            source_id: filter
                .source_id
                .as_deref()
                .map(|v| parse_id("sourceResourceId", v))
                .transpose()?,
            target_type: filter
                .target_type
                .as_deref()
                .map(|v| parse_type("targetResourceType", v))
                .transpose()?,
            target_id: filter
                .target_id
                .as_deref()
                .map(|v| parse_id("targetResourceId", v))
                .transpose()?,
            status: filter
                .status
                .as_deref()
                .map(|v| parse_status("status", v))
                .transpose()?,
        };
        Ok(self
            .connections
            .list_connections(access.environment.id, filter, page)
            .await?)
    }

    /// A live connection.
    ///
    /// # Errors
    /// 403; 404.
    pub async fn get(
        &self,
        access: &EnvironmentAccess,
        id: i64,
    ) -> Result<ResourceConnection, AppError> {
        access.role.require(Action::ViewResourceConnections)?;
        self.connections
            .find_connection(access.environment.id, id)
            .await?
            .ok_or_else(connection_not_found)
    }

    /// Moves the status through the state machine, merge-patches the
    /// details and applies the error-message rule.
    ///
    /// # Errors
    /// 400 "Invalid status transition" or a bad field; 403; 404; 409 when
    /// the connection changed meanwhile.
    pub async fn update(
        &self,
        access: &EnvironmentAccess,
        id: i64,
        input: UpdateConnectionInput,
    ) -> Result<ResourceConnection, AppError> {
        access.role.require(Action::WriteResourceConnections)?;
        let current = self.get(access, id).await?;
        let requested = input
            .status
            .as_deref()
            .map(|v| parse_status("status", v))
            .transpose()?;
        if let Some(Some(msg)) = &input.error_message {
            if msg
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
            {
                return Err(AppError::invalid_field(
                    "errorMessage",
                    "must not contain control characters other than newlines and tabs",
                ));
            }
            if msg.chars().count() > MAX_ERROR_MESSAGE_CHARS {
                return Err(AppError::invalid_field(
                    "errorMessage",
                    format!("must be at most {MAX_ERROR_MESSAGE_CHARS} characters"),
                ));
            }
        }
        let next = update_status(
            current.status,
            current.error_message.clone(),
            requested,
            input.error_message,
        )?;
        let mut updated = current.clone();
        updated.status = next.status;
        updated.error_message = next.error_message;
        if let Some(patch) = &input.connection_details {
            if !patch.is_null() && !patch.is_object() {
                return Err(AppError::invalid_field(
                    "connectionDetails",
                    "a merge patch must be a JSON object or null",
                ));
            }
            updated.connection_details =
                merge_patch_option(current.connection_details.clone(), patch);
            if let Some(doc) = &updated.connection_details {
                check_json_document("connectionDetails", doc)
                    .map_err(|e| AppError::invalid_field("connectionDetails", e))?;
            }
        }
        updated.updated_at = self.clock.now();
        self.connections
            .update_connection(updated, current.status, current.updated_at)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(c) if c == canvas_constraint::CONNECTION_CHANGED => {
                    AppError::conflict(
                        "The connection was changed by another request; read it again and retry",
                    )
                }
                StoreError::NotFound => connection_not_found(),
                other => other.into(),
            })
    }

    /// Soft-deletes a connection.
    ///
    /// # Errors
    /// 403; 404.
    pub async fn delete(&self, access: &EnvironmentAccess, id: i64) -> Result<(), AppError> {
        access.role.require(Action::WriteResourceConnections)?;
        self.connections
            .soft_delete_connection(access.environment.id, id, self.clock.now())
            .await
            .map_err(|e| match e {
                StoreError::NotFound => connection_not_found(),
                other => other.into(),
            })
    }

    /// The live connections of one live resource, both directions.
    ///
    /// # Errors
    /// 400 bad type or id; 403; 404 when no live resource of that type has
    /// that id here.
    pub async fn of_resource(
        &self,
        access: &EnvironmentAccess,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<(ResourceType, i64, Vec<ResourceConnection>), AppError> {
        access.role.require(Action::ViewResourceConnections)?;
        let t = parse_type("resourceType", resource_type)?;
        let id = parse_id("resourceId", resource_id)?;
        let found = self
            .resources
            .find_resource(access.environment.id, id, false)
            .await?
            .filter(|r| r.resource_type == t)
            .ok_or_else(resource_not_found)?;
        let list = self
            .connections
            .connections_of_resource(access.environment.id, found.resource_type, found.id)
            .await?;
        Ok((t, id, list))
    }

    /// Every live resource and connection of the environment.
    ///
    /// # Errors
    /// 403.
    pub async fn graph(
        &self,
        access: &EnvironmentAccess,
    ) -> Result<(Vec<Resource>, Vec<ResourceConnection>), AppError> {
        access.role.require(Action::ViewResources)?;
        access.role.require(Action::ViewResourceConnections)?;
        Ok(self.connections.graph(access.environment.id).await?)
    }
}
