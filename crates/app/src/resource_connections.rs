//! Resource-connection use cases (seeds 000/001): create under the
//! allowed-connection rules, list with filters, get, update through the
//! status state machine with a JSON merge patch of the details, soft
//! delete, the connections of one resource, and the canvas graph.

use std::sync::Arc;

use patchbay_domain::{
    Action, ConnectionEnds, ConnectionStatus, Page, Resource, ResourceConnection, ResourceType,
    check_json_document, merge_patch_option, update_status,
};

use crate::Constraint;
use crate::access::EnvironmentAccess;
use crate::error::{AppError, StoreError};
use crate::ports::{
    Clock, ConnectionFilter, ConnectionRefusal, Listed, NewConnection,
    ResourceConnectionRepository, ResourceRepository,
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
                StoreError::Conflict(Constraint::ResourceConnectionPair) => AppError::conflict(
                    "A connection from this source to this target already exists",
                ),
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
    ) -> Result<Listed<ResourceConnection>, AppError> {
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
                StoreError::Conflict(Constraint::ResourceConnectionChanged) => AppError::conflict(
                    "The connection was changed by another request; read it again and retry",
                ),
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::AppErrorKind;
    use crate::ports::{MockResourceConnectionRepository, MockResourceRepository};
    use crate::test_support::{clock, env_access as access, now, then};
    use patchbay_domain::{ConnectionNotAllowed, Position, ResourceConnectionError, Role, Side};
    use serde_json::json;

    fn service_with(
        connections: MockResourceConnectionRepository,
        resources: MockResourceRepository,
    ) -> ResourceConnectionService {
        ResourceConnectionService::new(
            Arc::new(connections),
            Arc::new(resources),
            Arc::new(clock()),
        )
    }

    fn service(connections: MockResourceConnectionRepository) -> ResourceConnectionService {
        service_with(connections, MockResourceRepository::new())
    }

    fn connection(access: &EnvironmentAccess, status: ConnectionStatus) -> ResourceConnection {
        ResourceConnection {
            id: 11,
            user_id: access.user.id,
            project_id: access.project.id,
            environment_id: access.environment.id,
            source_type: ResourceType::Application,
            source_id: 1,
            target_type: ResourceType::Instance,
            target_id: 2,
            status,
            connection_details: Some(json!({"port": 8080, "path": "/", "tls": {"on": true}})),
            error_message: None,
            created_at: then(),
            updated_at: then(),
        }
    }

    fn input(source: (&str, i64), target: (&str, i64)) -> CreateConnectionInput {
        CreateConnectionInput {
            source_type: source.0.into(),
            source_id: source.1,
            target_type: target.0.into(),
            target_id: target.1,
            connection_details: None,
        }
    }

    fn created(new: &NewConnection) -> ResourceConnection {
        ResourceConnection {
            id: 1,
            user_id: new.user_id,
            project_id: new.project_id,
            environment_id: new.environment_id,
            source_type: new.ends.source_type,
            source_id: new.ends.source_id,
            target_type: new.ends.target_type,
            target_id: new.ends.target_id,
            status: ConnectionStatus::Pending,
            connection_details: new.connection_details.clone(),
            error_message: None,
            created_at: new.now,
            updated_at: new.now,
        }
    }

    /// A store holding `current` that must not be written to.
    fn holding(current: ResourceConnection) -> MockResourceConnectionRepository {
        let mut connections = MockResourceConnectionRepository::new();
        connections
            .expect_find_connection()
            .returning(move |env, id| {
                Ok((env == current.environment_id && id == current.id).then(|| current.clone()))
            });
        connections.expect_update_connection().never();
        connections
    }

    #[tokio::test]
    async fn create_passes_who_where_and_the_declared_ends() {
        let access = access(Role::Member);
        let (user_id, project_id, env_id) =
            (access.user.id, access.project.id, access.environment.id);
        let mut connections = MockResourceConnectionRepository::new();
        connections
            .expect_create_connection()
            .times(1)
            .withf(move |new| {
                new.user_id == user_id
                    && new.project_id == project_id
                    && new.environment_id == env_id
                    && new.ends
                        == ConnectionEnds {
                            source_type: ResourceType::Application,
                            source_id: 1,
                            target_type: ResourceType::Instance,
                            target_id: 2,
                        }
                    && new.connection_details.is_none()
                    && new.now == now()
            })
            .returning(|new| Ok(Ok(created(&new))));
        let conn = service(connections)
            .create(
                &access,
                CreateConnectionInput {
                    connection_details: Some(serde_json::Value::Null),
                    ..input(("application", 1), ("instance", 2))
                },
            )
            .await
            .unwrap();
        assert_eq!(conn.status, ConnectionStatus::Pending);
    }

    #[tokio::test]
    async fn create_refusals_name_the_missing_end_or_the_rule() {
        let cases = [
            (
                ConnectionRefusal::SourceNotFound,
                AppErrorKind::NotFound,
                "Not Found",
                "Source resource not found: no live application with id 1 in this environment",
            ),
            (
                ConnectionRefusal::TargetNotFound,
                AppErrorKind::NotFound,
                "Not Found",
                "Target resource not found: no live database with id 2 in this environment",
            ),
            (
                ConnectionRefusal::Rule(ResourceConnectionError::NotAllowed(
                    ConnectionNotAllowed {
                        source_type: ResourceType::Application,
                        target_type: ResourceType::Database,
                    },
                )),
                AppErrorKind::BadRequest,
                "Connection not allowed",
                "Connection from application to database is not allowed. Please configure this connection in allowed_connections table.",
            ),
            (
                ConnectionRefusal::Rule(ResourceConnectionError::TypeMismatch {
                    side: Side::Target,
                    resource_id: 2,
                    declared: ResourceType::Database,
                    actual: ResourceType::Instance,
                }),
                AppErrorKind::BadRequest,
                "Bad Request",
                "The declared target resource type 'database' does not match resource 2, which is of type 'instance'",
            ),
        ];
        for (refusal, kind, title, message) in cases {
            let mut connections = MockResourceConnectionRepository::new();
            connections
                .expect_create_connection()
                .times(1)
                .returning(move |_| Ok(Err(refusal.clone())));
            let err = service(connections)
                .create(
                    &access(Role::Member),
                    input(("application", 1), ("database", 2)),
                )
                .await
                .unwrap_err();
            assert_eq!(err.kind, kind, "{message}");
            assert_eq!(err.title, title);
            assert_eq!(err.message, message);
        }
    }

    #[tokio::test]
    async fn create_duplicate_is_409() {
        let mut connections = MockResourceConnectionRepository::new();
        connections
            .expect_create_connection()
            .returning(|_| Err(StoreError::Conflict(Constraint::ResourceConnectionPair)));
        let err = service(connections)
            .create(
                &access(Role::Member),
                input(("application", 1), ("instance", 2)),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Conflict);
        assert_eq!(
            err.message,
            "A connection from this source to this target already exists"
        );
    }

    #[tokio::test]
    async fn create_refuses_bad_input_without_calling_the_store() {
        let mut connections = MockResourceConnectionRepository::new();
        connections.expect_create_connection().never();
        let svc = service(connections);
        let cases = [
            (
                input(("application", 0), ("instance", 2)),
                "sourceResourceId",
            ),
            (
                input(("application", -4), ("instance", 2)),
                "sourceResourceId",
            ),
            (
                input(("application", 1), ("instance", 0)),
                "targetResourceId",
            ),
            (
                input(("application", 1), ("instance", i64::MIN)),
                "targetResourceId",
            ),
            (input(("app", 1), ("instance", 2)), "sourceResourceType"),
            (
                input(("application", 1), ("Instance", 2)),
                "targetResourceType",
            ),
            (
                CreateConnectionInput {
                    connection_details: Some(json!({"nul\u{0}key": 1})),
                    ..input(("application", 1), ("instance", 2))
                },
                "connectionDetails",
            ),
            (
                CreateConnectionInput {
                    connection_details: Some(json!(["not", "an", "object"])),
                    ..input(("application", 1), ("instance", 2))
                },
                "connectionDetails",
            ),
            (
                CreateConnectionInput {
                    connection_details: Some(json!({"x": "y".repeat(20_000)})),
                    ..input(("application", 1), ("instance", 2))
                },
                "connectionDetails",
            ),
        ];
        for (bad, field) in cases {
            let err = svc.create(&access(Role::Member), bad).await.unwrap_err();
            assert_eq!(err.kind, AppErrorKind::BadRequest, "{field}");
            assert!(err.message.starts_with(&format!("{field}: ")), "{err}");
        }
    }

    #[tokio::test]
    async fn viewers_cannot_write_connections() {
        let mut connections = MockResourceConnectionRepository::new();
        connections.expect_create_connection().never();
        connections.expect_find_connection().never();
        connections.expect_update_connection().never();
        connections.expect_soft_delete_connection().never();
        let svc = service(connections);
        let access = access(Role::Viewer);
        let err = svc
            .create(&access, input(("application", 1), ("instance", 2)))
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Forbidden);
        let err = svc
            .update(&access, 1, UpdateConnectionInput::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Forbidden);
        let err = svc.delete(&access, 1).await.unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Forbidden);
    }

    #[tokio::test]
    async fn list_parses_filters_and_refuses_invalid_values() {
        let access = access(Role::Viewer);
        let env_id = access.environment.id;
        let mut connections = MockResourceConnectionRepository::new();
        connections
            .expect_list_connections()
            .times(1)
            .withf(move |env, filter, _| {
                *env == env_id
                    && *filter
                        == ConnectionFilter {
                            source_type: Some(ResourceType::BucketExplorer),
                            source_id: Some(3),
                            target_type: None,
                            target_id: Some(42),
                            status: Some(ConnectionStatus::Failed),
                        }
            })
            .returning(|_, _, _| {
                Ok(Listed {
                    items: Vec::new(),
                    total: Some(0),
                    next: None,
                })
            });
        let svc = service(connections);
        let page = Page::new(1, 20).unwrap();
        svc.list(
            &access,
            ConnectionFilterInput {
                source_type: Some("bucket_explorer".into()),
                source_id: Some("3".into()),
                target_id: Some("42".into()),
                status: Some("failed".into()),
                ..ConnectionFilterInput::default()
            },
            page,
        )
        .await
        .unwrap();

        let bad = [
            (
                ConnectionFilterInput {
                    source_id: Some("abc".into()),
                    ..ConnectionFilterInput::default()
                },
                "sourceResourceId",
            ),
            (
                ConnectionFilterInput {
                    target_id: Some("0".into()),
                    ..ConnectionFilterInput::default()
                },
                "targetResourceId",
            ),
            (
                ConnectionFilterInput {
                    source_id: Some("-1".into()),
                    ..ConnectionFilterInput::default()
                },
                "sourceResourceId",
            ),
            (
                ConnectionFilterInput {
                    target_id: Some("99999999999999999999".into()),
                    ..ConnectionFilterInput::default()
                },
                "targetResourceId",
            ),
            (
                ConnectionFilterInput {
                    status: Some("done".into()),
                    ..ConnectionFilterInput::default()
                },
                "status",
            ),
            (
                ConnectionFilterInput {
                    source_type: Some("server".into()),
                    ..ConnectionFilterInput::default()
                },
                "sourceResourceType",
            ),
            (
                ConnectionFilterInput {
                    target_type: Some(String::new()),
                    ..ConnectionFilterInput::default()
                },
                "targetResourceType",
            ),
        ];
        for (filter, field) in bad {
            let err = svc.list(&access, filter, page).await.unwrap_err();
            assert_eq!(err.kind, AppErrorKind::BadRequest, "{field}");
            assert!(err.message.starts_with(&format!("{field}: ")), "{err}");
        }
    }

    #[tokio::test]
    async fn update_refuses_an_invalid_transition_without_writing() {
        let access = access(Role::Member);
        let err = service(holding(connection(&access, ConnectionStatus::Connected)))
            .update(
                &access,
                11,
                UpdateConnectionInput {
                    status: Some("pending".into()),
                    ..UpdateConnectionInput::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::BadRequest);
        assert_eq!(err.title, "Invalid status transition");
        assert_eq!(
            err.message,
            "Cannot change status from connected to pending"
        );
    }

    #[tokio::test]
    async fn update_refuses_bad_fields_without_writing() {
        let access = access(Role::Member);
        let svc = service(holding(connection(&access, ConnectionStatus::Pending)));
        let cases = [
            (
                UpdateConnectionInput {
                    status: Some("online".into()),
                    ..UpdateConnectionInput::default()
                },
                "status: ",
            ),
            (
                UpdateConnectionInput {
                    status: Some("failed".into()),
                    error_message: Some(Some("e".repeat(MAX_ERROR_MESSAGE_CHARS + 1))),
                    ..UpdateConnectionInput::default()
                },
                "errorMessage: ",
            ),
            (
                UpdateConnectionInput {
                    status: Some("failed".into()),
                    error_message: Some(Some("nul \u{0} byte".into())),
                    ..UpdateConnectionInput::default()
                },
                "errorMessage: ",
            ),
            (
                UpdateConnectionInput {
                    connection_details: Some(json!({"k": "nul \u{0}"})),
                    ..UpdateConnectionInput::default()
                },
                "connectionDetails: ",
            ),
            (
                UpdateConnectionInput {
                    status: Some("connecting".into()),
                    error_message: Some(Some("boom".into())),
                    ..UpdateConnectionInput::default()
                },
                "An error message can only be set when the status is 'failed'",
            ),
            (
                UpdateConnectionInput {
                    connection_details: Some(json!([1])),
                    ..UpdateConnectionInput::default()
                },
                "connectionDetails: ",
            ),
            (
                UpdateConnectionInput {
                    connection_details: Some(json!({"big": "z".repeat(20_000)})),
                    ..UpdateConnectionInput::default()
                },
                "connectionDetails: ",
            ),
        ];
        for (bad, start) in cases {
            let err = svc.update(&access, 11, bad).await.unwrap_err();
            assert_eq!(err.kind, AppErrorKind::BadRequest, "{start}");
            assert!(err.message.starts_with(start), "{err}");
        }
    }

    #[tokio::test]
    async fn update_merge_patches_details_and_checks_what_it_read() {
        let access = access(Role::Member);
        let current = connection(&access, ConnectionStatus::Pending);
        let env_id = access.environment.id;
        let mut connections = MockResourceConnectionRepository::new();
        let found = current.clone();
        connections
            .expect_find_connection()
            .withf(move |env, id| *env == env_id && *id == 11)
            .returning(move |env, id| {
                Ok((env == found.environment_id && id == found.id).then(|| found.clone()))
            });
        connections
            .expect_update_connection()
            .times(1)
            .withf(|c, expected_status, expected_updated_at| {
                c.id == 11
                    && c.status == ConnectionStatus::Connecting
                    && c.connection_details
                        == Some(json!({"port": 8080, "tls": {"on": true, "ca": "x"}, "host": "db"}))
                    && c.error_message.is_none()
                    && c.updated_at == now()
                    && c.created_at == then()
                    && *expected_status == ConnectionStatus::Pending
                    && *expected_updated_at == then()
            })
            .returning(|c, _, _| Ok(c));
        let updated = service(connections)
            .update(
                &access,
                11,
                UpdateConnectionInput {
                    status: Some("connecting".into()),
                    connection_details: Some(
                        json!({"path": null, "tls": {"ca": "x"}, "host": "db"}),
                    ),
                    error_message: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(updated.status, ConnectionStatus::Connecting);
    }

    #[tokio::test]
    async fn update_with_null_details_clears_them_and_failed_keeps_a_message() {
        let access = access(Role::Member);
        let mut connections = MockResourceConnectionRepository::new();
        let found = connection(&access, ConnectionStatus::Connected);
        connections
            .expect_find_connection()
            .returning(move |env, id| {
                Ok((env == found.environment_id && id == found.id).then(|| found.clone()))
            });
        connections
            .expect_update_connection()
            .times(1)
            .withf(|c, expected_status, _| {
                c.connection_details.is_none()
                    && c.status == ConnectionStatus::Failed
                    && c.error_message.as_deref() == Some("refused")
                    && *expected_status == ConnectionStatus::Connected
            })
            .returning(|c, _, _| Ok(c));
        service(connections)
            .update(
                &access,
                11,
                UpdateConnectionInput {
                    status: Some("failed".into()),
                    connection_details: Some(serde_json::Value::Null),
                    error_message: Some(Some("refused".into())),
                },
            )
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn update_of_a_connection_changed_meanwhile_is_409() {
        let access = access(Role::Member);
        let mut connections = MockResourceConnectionRepository::new();
        let found = connection(&access, ConnectionStatus::Pending);
        connections
            .expect_find_connection()
            .returning(move |env, id| {
                Ok((env == found.environment_id && id == found.id).then(|| found.clone()))
            });
        let mut seq = mockall::Sequence::new();
        connections
            .expect_update_connection()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _| Err(StoreError::Conflict(Constraint::ResourceConnectionChanged)));
        connections
            .expect_update_connection()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _| Err(StoreError::NotFound));
        let svc = service(connections);
        let patch = || UpdateConnectionInput {
            status: Some("connected".into()),
            ..UpdateConnectionInput::default()
        };
        let err = svc.update(&access, 11, patch()).await.unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Conflict);
        assert!(err.message.contains("changed by another request"), "{err}");
        let err = svc.update(&access, 11, patch()).await.unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
        assert_eq!(err.message, "Resource connection not found");
    }

    #[tokio::test]
    async fn update_and_get_of_a_missing_connection_are_404() {
        let mut connections = MockResourceConnectionRepository::new();
        connections
            .expect_find_connection()
            .returning(|_, _| Ok(None));
        connections.expect_update_connection().never();
        let svc = service(connections);
        let access = access(Role::Member);
        let err = svc
            .update(&access, 5, UpdateConnectionInput::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
        let err = svc.get(&access, 5).await.unwrap_err();
        assert_eq!(err.message, "Resource connection not found");
    }

    #[tokio::test]
    async fn delete_maps_not_found() {
        let access = access(Role::Member);
        let env_id = access.environment.id;
        let mut connections = MockResourceConnectionRepository::new();
        connections
            .expect_soft_delete_connection()
            .times(1)
            .withf(move |env, id, at| *env == env_id && *id == 8 && *at == now())
            .returning(|_, _, _| Err(StoreError::NotFound));
        let err = service(connections).delete(&access, 8).await.unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
    }

    #[tokio::test]
    async fn of_resource_needs_a_live_resource_of_that_type() {
        let access = access(Role::Viewer);
        let env_id = access.environment.id;
        let resource = Resource {
            id: 2,
            project_id: access.project.id,
            environment_id: env_id,
            resource_type: ResourceType::Instance,
            name: "web".into(),
            status: "active".into(),
            position: Position::default(),
            config: json!({}),
            credential_conn_id: None,
            parent_domain: None,
            created_at: then(),
            updated_at: then(),
            deleted_at: None,
        };
        let mut resources = MockResourceRepository::new();
        resources
            .expect_find_resource()
            .withf(move |env, id, include_deleted| *env == env_id && *id == 2 && !*include_deleted)
            .returning(move |_, _, _| Ok(Some(resource.clone())));
        let mut connections = MockResourceConnectionRepository::new();
        connections
            .expect_connections_of_resource()
            .times(1)
            .withf(move |env, t, id| *env == env_id && *t == ResourceType::Instance && *id == 2)
            .returning(|_, _, _| Ok(Vec::new()));
        let svc = service_with(connections, resources);
        let (t, id, list) = svc.of_resource(&access, "instance", "2").await.unwrap();
        assert_eq!((t, id, list.len()), (ResourceType::Instance, 2, 0));

        // Same id, another type: 404 without listing.
        let err = svc.of_resource(&access, "database", "2").await.unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
        assert_eq!(err.message, "Resource not found");
        let err = svc.of_resource(&access, "instance", "x").await.unwrap_err();
        assert_eq!(err.kind, AppErrorKind::BadRequest);
        assert!(err.message.starts_with("resourceId: "), "{err}");
    }
}
