//! Credential-connection use cases (seed 003, SPEC §8): the type catalogue,
//! list, get (secrets masked by role), create, replace, delete (guarded by
//! the resources that reference the connection), used-by, and the
//! connectivity test of a stored or an unsaved connection. Field rules are
//! the domain's; sealing is the store's; probing is the tester port's.
//! Secrets travel as [`SecretString`] and are never logged.

use std::sync::Arc;

use patchbay_domain::{
    Action, ConnId, ConnectionTestResult, CredentialConnection, CredentialError, CredentialField,
    CredentialType, Page, Port, Role, check_credential_delete, check_extra, check_fields,
    keeps_password, mask_extra, parse_credential_text, unmask_extra,
};

use crate::Constraint;
use crate::access::EnvironmentAccess;
use crate::error::{AppError, StoreError};
use crate::ports::{
    Clock, ConnectivityTester, CredentialConnectionChanges, CredentialConnectionRepository,
    CredentialDeletion, ExposeSecret, IdGenerator, NewCredentialConnection, NoTelemetry,
    OpenedSecrets, ProbeFailure, ProbeOutcome, ProbeRequest, ResourceRef, SecretString,
    SecretUpdate, Telemetry,
};
use crate::projects::parse_description;

/// The answer `POST …/test` gives when a test fails (seed 003); the detail
/// goes to the server log only.
pub const TEST_FAILED_MESSAGE: &str = "connection test failed -- check server logs for details";

/// `POST …/connections` input, unvalidated. `port` is taken as any integer
/// so that 0, negatives and 65536 get the port rule's message.
#[derive(Debug, Default)]
pub struct CreateCredentialInput {
    pub conn_id: String,
    pub conn_type: String,
    pub host: Option<String>,
    pub port: Option<i64>,
    pub schema: Option<String>,
    pub login: Option<String>,
    pub password: Option<SecretString>,
    /// A string holding a JSON object.
    pub extra: Option<SecretString>,
    pub description: Option<String>,
}

/// `PUT …/connections/:conn_id` input: the whole record. `password` and
/// `extra` are tri-state (`None` omitted, `Some(None)` null).
#[derive(Debug, Default)]
pub struct ReplaceCredentialInput {
    /// Optional; when given it must equal the path's.
    pub conn_id: Option<String>,
    pub conn_type: String,
    pub host: Option<String>,
    pub port: Option<i64>,
    pub schema: Option<String>,
    pub login: Option<String>,
    pub password: Option<Option<SecretString>>,
    pub extra: Option<Option<SecretString>>,
    pub description: Option<String>,
}

/// A connection as `GET …/connections/:conn_id` shows it: `extra` opened,
/// masked for viewers.
#[derive(Debug)]
pub struct CredentialView {
    pub connection: CredentialConnection,
    /// The `extra` text: in full for members and above, with the values of
    /// sensitive-looking keys masked for viewers; `None` when none is stored.
    pub extra: Option<String>,
}

/// The outcome of `POST …/test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestOutcome {
    /// Connected, through `driver`.
    Connected { driver: &'static str },
    /// Failed, with a coarse reason.
    Failed { reason: ProbeFailure },
}

/// Credential-connection use cases.
#[derive(Clone)]
pub struct CredentialConnectionService {
    connections: Arc<dyn CredentialConnectionRepository>,
    tester: Arc<dyn ConnectivityTester>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    telemetry: Arc<dyn Telemetry>,
}

impl std::fmt::Debug for CredentialConnectionService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialConnectionService")
            .finish_non_exhaustive()
    }
}

fn not_found(conn_id: &str) -> AppError {
    AppError::not_found(format!(
        "Credential connection '{conn_id}' not found in this environment"
    ))
}

/// Parses a `conn_id` from a path: a malformed one names nothing (404), as
/// an unknown slug does elsewhere, without asking the store.
fn path_conn_id(raw: &str) -> Result<ConnId, AppError> {
    ConnId::parse(raw).map_err(|_| not_found(raw))
}

fn invalid(e: CredentialError) -> AppError {
    match e {
        CredentialError::Value(v) => AppError::from(v),
        other => AppError::from(other),
    }
}

/// The validated plain fields of a create or replace body.
struct PlainFields {
    conn_type: CredentialType,
    host: Option<String>,
    port: Option<Port>,
    schema: Option<String>,
    login: Option<String>,
    description: Option<String>,
}

fn parse_plain(
    conn_type: &str,
    host: Option<String>,
    port: Option<i64>,
    schema: Option<String>,
    login: Option<String>,
    description: Option<String>,
) -> Result<PlainFields, AppError> {
    let conn_type =
        CredentialType::parse(conn_type).map_err(|e| AppError::invalid_field("type", e))?;
    let text = |field: CredentialField, v: Option<String>| {
        parse_credential_text(field, v.as_deref())
            .map_err(|e| AppError::invalid_field(field.as_str(), e))
    };
    Ok(PlainFields {
        conn_type,
        host: text(CredentialField::Host, host)?,
        port: port
            .map(Port::new)
            .transpose()
            .map_err(|e| AppError::invalid_field("port", e))?,
        schema: text(CredentialField::Schema, schema)?,
        login: text(CredentialField::Login, login)?,
        description: parse_description("description", description)?,
    })
}

/// Checks that the type uses every field given (in the catalogue's order,
/// so the first unused field is named).
fn check_present(
    plain: &PlainFields,
    password_given: bool,
    extra_given: bool,
) -> Result<(), AppError> {
    let present = [
        (CredentialField::Host, plain.host.is_some()),
        (CredentialField::Port, plain.port.is_some()),
        (CredentialField::Schema, plain.schema.is_some()),
        (CredentialField::Login, plain.login.is_some()),
        (CredentialField::Password, password_given),
        (CredentialField::Extra, extra_given),
    ];
    check_fields(
        plain.conn_type,
        present
            .into_iter()
            .filter(|(_, given)| *given)
            .map(|(f, _)| f),
    )
    .map_err(invalid)
}

fn check_extra_secret(extra: &SecretString) -> Result<(), AppError> {
    check_extra(extra.expose_secret()).map_err(invalid)
}

fn conflict(conn_id: &ConnId, err: StoreError) -> AppError {
    match err {
        StoreError::Conflict(Constraint::CredentialConnId) => AppError::conflict(format!(
            "A credential connection with conn_id '{conn_id}' already exists in this environment"
        )),
        StoreError::NotFound => not_found(conn_id.as_str()),
        other => other.into(),
    }
}

impl CredentialConnectionService {
    #[must_use]
    pub fn new(
        connections: Arc<dyn CredentialConnectionRepository>,
        tester: Arc<dyn ConnectivityTester>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self {
            connections,
            tester,
            clock,
            ids,
            telemetry: Arc::new(NoTelemetry),
        }
    }

    /// This service reporting every test it runs (type and outcome) to
    /// `telemetry`; without it, tests are not counted.
    #[must_use]
    pub fn with_telemetry(mut self, telemetry: Arc<dyn Telemetry>) -> Self {
        self.telemetry = telemetry;
        self
    }

    /// Runs the tester and counts the outcome by type.
    async fn run_test(&self, request: ProbeRequest) -> ProbeOutcome {
        let conn_type = request.conn_type;
        let outcome = self.tester.test(request).await;
        self.telemetry.connection_tested(conn_type, outcome);
        outcome
    }

    /// The seven connection types with their labels and fields, in seed
    /// 003's order (`GET /api/connection-types`).
    #[must_use]
    pub fn types() -> &'static [CredentialType] {
        CredentialType::ALL
    }

    /// The environment's connections (no secret is opened).
    ///
    /// # Errors
    /// 403 (role); 503/500 on store failures.
    pub async fn list(
        &self,
        access: &EnvironmentAccess,
        page: Page,
    ) -> Result<(Vec<CredentialConnection>, i64), AppError> {
        access.role.require(Action::ViewCredentials)?;
        Ok(self
            .connections
            .list_credential_connections(access.environment.id, page)
            .await?)
    }

    /// One connection with `extra` opened (masked for viewers).
    ///
    /// # Errors
    /// 403; 404; 500 when a sealed value fails to open (logged with the row
    /// and key id).
    pub async fn get(
        &self,
        access: &EnvironmentAccess,
        conn_id: &str,
    ) -> Result<CredentialView, AppError> {
        access.role.require(Action::ViewCredentials)?;
        let id = path_conn_id(conn_id)?;
        let (connection, secrets) = self
            .connections
            .open_credential_connection(access.environment.id, &id)
            .await?
            .ok_or_else(|| not_found(conn_id))?;
        let extra = secrets.extra.map(|e| {
            if access.role == Role::Viewer {
                mask_extra(e.expose_secret())
            } else {
                e.expose_secret().to_owned()
            }
        });
        Ok(CredentialView { connection, extra })
    }

    /// Creates a connection; its secrets are sealed by the store.
    ///
    /// # Errors
    /// 400 naming the invalid or unused field; 403; 409 duplicate conn_id.
    pub async fn create(
        &self,
        access: &EnvironmentAccess,
        input: CreateCredentialInput,
    ) -> Result<CredentialView, AppError> {
        access.role.require(Action::WriteCredentials)?;
        let new = self.validate_new(access, input)?;
        let conn_id = new.conn_id.clone();
        let extra = new.extra.as_ref().map(|e| e.expose_secret().to_owned());
        let created = self
            .connections
            .create_credential_connection(new)
            .await
            .map_err(|e| conflict(&conn_id, e))?;
        tracing::info!(
            actor = %access.user.id,
            project = %access.project.id,
            environment = %access.environment.id,
            conn_id = %created.conn_id,
            conn_type = %created.conn_type,
            "credential connection created"
        );
        Ok(CredentialView {
            connection: created,
            extra,
        })
    }

    fn validate_new(
        &self,
        access: &EnvironmentAccess,
        input: CreateCredentialInput,
    ) -> Result<NewCredentialConnection, AppError> {
        let conn_id =
            ConnId::parse(&input.conn_id).map_err(|e| AppError::invalid_field("conn_id", e))?;
        let plain = parse_plain(
            &input.conn_type,
            input.host,
            input.port,
            input.schema,
            input.login,
            input.description,
        )?;
        let password = input
            .password
            .filter(|p| !keeps_password(p.expose_secret()));
        if let Some(extra) = &input.extra {
            check_extra_secret(extra)?;
        }
        check_present(&plain, password.is_some(), input.extra.is_some())?;
        Ok(NewCredentialConnection {
            id: self.ids.new_id(),
            environment_id: access.environment.id,
            conn_id,
            conn_type: plain.conn_type,
            host: plain.host,
            port: plain.port,
            schema: plain.schema,
            login: plain.login,
            description: plain.description,
            password,
            extra: input.extra,
            now: self.clock.now(),
        })
    }

    /// Replaces a connection (seed 003 `PUT`): plain fields as sent;
    /// `password` omitted, `"********"` or `""` keeps the stored one, `null`
    /// clears it; `extra` omitted keeps it, `null` clears it, and a
    /// sensitive key sent as `"********"` keeps its stored value. Secrets the
    /// (new) type does not use are dropped.
    ///
    /// # Errors
    /// 400 invalid or unused field, a changed `conn_id`; 403; 404.
    pub async fn replace(
        &self,
        access: &EnvironmentAccess,
        conn_id: &str,
        input: ReplaceCredentialInput,
    ) -> Result<CredentialView, AppError> {
        access.role.require(Action::WriteCredentials)?;
        let id = path_conn_id(conn_id)?;
        if let Some(body_id) = &input.conn_id
            && body_id != id.as_str()
        {
            return Err(AppError::invalid_field(
                "conn_id",
                "it cannot be changed (create a new connection and move the references instead)",
            ));
        }
        let plain = parse_plain(
            &input.conn_type,
            input.host,
            input.port,
            input.schema,
            input.login,
            input.description,
        )?;
        let mut password = match input.password {
            None => SecretUpdate::Keep,
            Some(None) => SecretUpdate::Clear,
            Some(Some(p)) if keeps_password(p.expose_secret()) => SecretUpdate::Keep,
            Some(Some(p)) => SecretUpdate::Set(p),
        };
        let mut extra = match input.extra {
            None => SecretUpdate::Keep,
            Some(None) => SecretUpdate::Clear,
            Some(Some(e)) => {
                check_extra_secret(&e)?;
                SecretUpdate::Set(e)
            }
        };
        check_present(
            &plain,
            matches!(password, SecretUpdate::Set(_)),
            matches!(extra, SecretUpdate::Set(_)),
        )?;
        if !plain.conn_type.accepts(CredentialField::Password) {
            password = SecretUpdate::Clear;
        }
        // A sensitive key sent back masked keeps its stored value.
        if let SecretUpdate::Set(new) = &extra
            && new.expose_secret().contains(patchbay_domain::PASSWORD_MASK)
        {
            let stored = self
                .connections
                .open_credential_connection(access.environment.id, &id)
                .await?
                .ok_or_else(|| not_found(conn_id))?
                .1
                .extra;
            if let Some(stored) = stored {
                extra = SecretUpdate::Set(SecretString::from(unmask_extra(
                    new.expose_secret(),
                    stored.expose_secret(),
                )));
            }
        }
        let keep_extra = matches!(extra, SecretUpdate::Keep);
        let sent_extra = match &extra {
            SecretUpdate::Set(e) => Some(e.expose_secret().to_owned()),
            _ => None,
        };
        let changes = CredentialConnectionChanges {
            conn_type: plain.conn_type,
            host: plain.host,
            port: plain.port,
            schema: plain.schema,
            login: plain.login,
            description: plain.description,
            password,
            extra,
            now: self.clock.now(),
        };
        let updated = self
            .connections
            .update_credential_connection(access.environment.id, &id, changes)
            .await
            .map_err(|e| conflict(&id, e))?;
        tracing::info!(
            actor = %access.user.id,
            project = %access.project.id,
            environment = %access.environment.id,
            conn_id = %updated.conn_id,
            "credential connection updated"
        );
        if keep_extra {
            // The stored extra, as a member sees it.
            return self.get(access, conn_id).await;
        }
        Ok(CredentialView {
            connection: updated,
            extra: sent_extra,
        })
    }

    /// Deletes a connection. Live resources that reference it make it a 409
    /// listing their ids, unless `force` (which clears their
    /// `credentialConnId`).
    ///
    /// # Errors
    /// 403; 404; 409 in use.
    pub async fn delete(
        &self,
        access: &EnvironmentAccess,
        conn_id: &str,
        force: bool,
    ) -> Result<(), AppError> {
        access.role.require(Action::WriteCredentials)?;
        let id = path_conn_id(conn_id)?;
        match self
            .connections
            .delete_credential_connection(access.environment.id, &id, force)
            .await
            .map_err(|e| conflict(&id, e))?
        {
            CredentialDeletion::InUse(ids) => {
                check_credential_delete(&ids, force).map_err(AppError::from)?;
                // The store refuses only without force; with force this is a
                // store bug.
                Err(AppError::internal(
                    "the store refused a forced credential delete",
                ))
            }
            CredentialDeletion::Deleted { cleared } => {
                tracing::info!(
                    actor = %access.user.id,
                    project = %access.project.id,
                    environment = %access.environment.id,
                    conn_id = %id,
                    cleared_references = cleared,
                    "credential connection deleted"
                );
                Ok(())
            }
        }
    }

    /// The live resources that reference the connection.
    ///
    /// # Errors
    /// 403; 404 when the connection does not exist.
    pub async fn used_by(
        &self,
        access: &EnvironmentAccess,
        conn_id: &str,
    ) -> Result<Vec<ResourceRef>, AppError> {
        access.role.require(Action::ViewCredentials)?;
        let id = path_conn_id(conn_id)?;
        self.connections
            .find_credential_connection(access.environment.id, &id)
            .await?
            .ok_or_else(|| not_found(conn_id))?;
        Ok(self
            .connections
            .credential_connection_users(access.environment.id, &id)
            .await?)
    }

    /// Tests a stored connection and records the outcome on it.
    ///
    /// # Errors
    /// 403; 404; 500 when a sealed value fails to open (no test runs).
    pub async fn test(
        &self,
        access: &EnvironmentAccess,
        conn_id: &str,
    ) -> Result<TestOutcome, AppError> {
        access.role.require(Action::TestCredentials)?;
        let id = path_conn_id(conn_id)?;
        let (connection, secrets) = self
            .connections
            .open_credential_connection(access.environment.id, &id)
            .await?
            .ok_or_else(|| not_found(conn_id))?;
        let request = probe_request(&connection, secrets);
        let outcome = self.run_test(request).await;
        let (result, answer) = match outcome {
            ProbeOutcome::Connected { driver } => (
                ConnectionTestResult {
                    at: self.clock.now(),
                    success: true,
                    reason: None,
                    driver: driver.to_owned(),
                },
                TestOutcome::Connected { driver },
            ),
            ProbeOutcome::Failed { reason, driver } => (
                ConnectionTestResult {
                    at: self.clock.now(),
                    success: false,
                    reason: Some(reason.as_str().to_owned()),
                    driver: driver.to_owned(),
                },
                TestOutcome::Failed { reason },
            ),
        };
        tracing::info!(
            actor = %access.user.id,
            project = %access.project.id,
            environment = %access.environment.id,
            conn_id = %connection.conn_id,
            success = result.success,
            reason = result.reason.as_deref().unwrap_or(""),
            driver = %result.driver,
            "credential connection tested"
        );
        self.connections
            .record_credential_test(connection.id, result)
            .await?;
        Ok(answer)
    }

    /// Tests a connection described by a create body, without storing
    /// anything (`POST …/connections/test`).
    ///
    /// # Errors
    /// 400 as for create; 403.
    pub async fn test_unsaved(
        &self,
        access: &EnvironmentAccess,
        input: CreateCredentialInput,
    ) -> Result<TestOutcome, AppError> {
        access.role.require(Action::TestCredentials)?;
        let new = self.validate_new(access, input)?;
        let request = ProbeRequest {
            conn_type: new.conn_type,
            host: new.host,
            port: new.port.map(Port::get),
            schema: new.schema,
            login: new.login,
            password: new.password,
            extra: new.extra,
        };
        let outcome = self.run_test(request).await;
        tracing::info!(
            actor = %access.user.id,
            project = %access.project.id,
            environment = %access.environment.id,
            conn_id = %new.conn_id,
            outcome = ?outcome,
            "unsaved credential connection tested"
        );
        Ok(match outcome {
            ProbeOutcome::Connected { driver } => TestOutcome::Connected { driver },
            ProbeOutcome::Failed { reason, .. } => TestOutcome::Failed { reason },
        })
    }
}

fn probe_request(connection: &CredentialConnection, secrets: OpenedSecrets) -> ProbeRequest {
    ProbeRequest {
        conn_type: connection.conn_type,
        host: connection.host.clone(),
        port: connection.port.map(Port::get),
        schema: connection.schema.clone(),
        login: connection.login.clone(),
        password: secrets.password,
        extra: secrets.extra,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::AppErrorKind;
    use crate::ports::{
        MockConnectivityTester, MockCredentialConnectionRepository, MockIdGenerator, MockTelemetry,
    };
    use crate::test_support::{clock, env_access, now, then};
    use uuid::Uuid;

    fn service(
        repo: MockCredentialConnectionRepository,
        tester: MockConnectivityTester,
    ) -> CredentialConnectionService {
        let mut ids = MockIdGenerator::new();
        ids.expect_new_id().returning(Uuid::now_v7);
        CredentialConnectionService::new(
            Arc::new(repo),
            Arc::new(tester),
            Arc::new(clock()),
            Arc::new(ids),
        )
    }

    fn stored(env: Uuid, conn_type: CredentialType) -> CredentialConnection {
        CredentialConnection {
            id: Uuid::now_v7(),
            environment_id: env,
            conn_id: ConnId::parse("prod-postgres").unwrap(),
            conn_type,
            host: Some("db.example.com".into()),
            port: Some(Port::new(5432).unwrap()),
            schema: None,
            login: Some("etl".into()),
            description: None,
            has_password: true,
            has_extra: true,
            last_test: None,
            created_at: then(),
            updated_at: then(),
        }
    }

    fn secrets(password: &str, extra: &str) -> OpenedSecrets {
        OpenedSecrets {
            password: Some(SecretString::from(password.to_owned())),
            extra: Some(SecretString::from(extra.to_owned())),
        }
    }

    fn seed_create() -> CreateCredentialInput {
        CreateCredentialInput {
            conn_id: "prod-postgres".into(),
            conn_type: "postgres".into(),
            host: Some("db.example.com".into()),
            port: Some(5432),
            schema: Some("analytics".into()),
            login: Some("etl_user".into()),
            password: Some(SecretString::from("secret123".to_owned())),
            extra: Some(SecretString::from(r#"{"sslmode": "require"}"#.to_owned())),
            description: None,
        }
    }

    #[tokio::test]
    async fn create_passes_validated_fields_and_secrets_to_the_store() {
        let access = env_access(Role::Member);
        let env = access.environment.id;
        let mut repo = MockCredentialConnectionRepository::new();
        repo.expect_create_credential_connection()
            .times(1)
            .withf(move |n| {
                n.environment_id == env
                    && n.conn_id.as_str() == "prod-postgres"
                    && n.conn_type == CredentialType::Postgres
                    && n.port == Some(Port::new(5432).unwrap())
                    && n.schema.as_deref() == Some("analytics")
                    && n.password.as_ref().map(|p| p.expose_secret()) == Some("secret123")
                    && n.extra.as_ref().map(|e| e.expose_secret())
                        == Some(r#"{"sslmode": "require"}"#)
                    && n.now == now()
            })
            .returning(move |n| {
                Ok(CredentialConnection {
                    id: n.id,
                    ..stored(n.environment_id, n.conn_type)
                })
            });
        let view = service(repo, MockConnectivityTester::new())
            .create(&access, seed_create())
            .await
            .unwrap();
        assert_eq!(view.extra.as_deref(), Some(r#"{"sslmode": "require"}"#));
    }

    #[tokio::test]
    async fn create_refuses_bad_fields_without_touching_the_store() {
        let access = env_access(Role::Member);
        let cases: Vec<(CreateCredentialInput, &str)> = vec![
            (
                CreateCredentialInput {
                    conn_id: "Prod".into(),
                    ..seed_create()
                },
                "conn_id",
            ),
            (
                CreateCredentialInput {
                    port: Some(0),
                    ..seed_create()
                },
                "port",
            ),
            (
                CreateCredentialInput {
                    port: Some(65_536),
                    ..seed_create()
                },
                "port",
            ),
            (
                CreateCredentialInput {
                    conn_type: "oracle".into(),
                    ..seed_create()
                },
                "type",
            ),
            (
                CreateCredentialInput {
                    conn_type: "s3".into(),
                    ..seed_create()
                },
                "'host' is not used by connection type 's3'",
            ),
            (
                CreateCredentialInput {
                    extra: Some(SecretString::from("[1]".to_owned())),
                    ..seed_create()
                },
                "extra",
            ),
            (
                CreateCredentialInput {
                    extra: Some(SecretString::from(format!(
                        "{{\"k\": \"{}\"}}",
                        "x".repeat(16 * 1024)
                    ))),
                    ..seed_create()
                },
                "at most 16384 bytes",
            ),
        ];
        for (input, needle) in cases {
            let mut repo = MockCredentialConnectionRepository::new();
            repo.expect_create_credential_connection().never();
            let err = service(repo, MockConnectivityTester::new())
                .create(&access, input)
                .await
                .unwrap_err();
            assert_eq!(err.kind, AppErrorKind::BadRequest);
            assert!(err.message.contains(needle), "{needle}: {}", err.message);
            assert!(!err.message.contains("secret123"), "{}", err.message);
        }
    }

    #[tokio::test]
    async fn a_duplicate_conn_id_is_a_conflict() {
        let mut repo = MockCredentialConnectionRepository::new();
        repo.expect_create_credential_connection()
            .returning(|_| Err(StoreError::Conflict(Constraint::CredentialConnId)));
        let err = service(repo, MockConnectivityTester::new())
            .create(&env_access(Role::Admin), seed_create())
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Conflict);
        assert_eq!(
            err.message,
            "A credential connection with conn_id 'prod-postgres' already exists in this environment"
        );
    }

    #[tokio::test]
    async fn viewers_read_masked_extra_and_cannot_write_or_test() {
        let access = env_access(Role::Viewer);
        let env = access.environment.id;
        let mut repo = MockCredentialConnectionRepository::new();
        repo.expect_open_credential_connection()
            .returning(move |_, _| {
                Ok(Some((
                    stored(env, CredentialType::Http),
                    secrets("pw", r#"{"path":"/health","api_token":"t0ken"}"#),
                )))
            });
        repo.expect_create_credential_connection().never();
        repo.expect_delete_credential_connection().never();
        let mut tester = MockConnectivityTester::new();
        tester.expect_test().never();
        let svc = service(repo, tester);
        let view = svc.get(&access, "prod-postgres").await.unwrap();
        let extra: serde_json::Value =
            serde_json::from_str(view.extra.as_deref().unwrap()).unwrap();
        assert_eq!(
            extra,
            serde_json::json!({"path": "/health", "api_token": "********"})
        );
        for err in [
            svc.create(&access, seed_create()).await.unwrap_err(),
            svc.delete(&access, "prod-postgres", true)
                .await
                .unwrap_err(),
            svc.test(&access, "prod-postgres").await.unwrap_err(),
        ] {
            assert_eq!(err.kind, AppErrorKind::Forbidden);
        }
    }

    #[tokio::test]
    async fn members_read_extra_in_full() {
        let access = env_access(Role::Member);
        let env = access.environment.id;
        let mut repo = MockCredentialConnectionRepository::new();
        repo.expect_open_credential_connection()
            .returning(move |_, _| {
                Ok(Some((
                    stored(env, CredentialType::Http),
                    secrets("pw", r#"{"api_token":"t0ken"}"#),
                )))
            });
        let view = service(repo, MockConnectivityTester::new())
            .get(&access, "prod-postgres")
            .await
            .unwrap();
        assert_eq!(view.extra.as_deref(), Some(r#"{"api_token":"t0ken"}"#));
    }

    #[tokio::test]
    async fn replace_keeps_the_password_for_the_mask_omission_and_empty_and_clears_for_null() {
        let cases: [(Option<Option<&str>>, &str); 5] = [
            (None, "keep"),
            (Some(Some("********")), "keep"),
            (Some(Some("")), "keep"),
            (Some(None), "clear"),
            (Some(Some("new-secret")), "set"),
        ];
        for (password, expected) in cases {
            let access = env_access(Role::Member);
            let env = access.environment.id;
            let mut repo = MockCredentialConnectionRepository::new();
            repo.expect_update_credential_connection()
                .times(1)
                .withf(move |_, _, c| match (&c.password, expected) {
                    (SecretUpdate::Keep, "keep") | (SecretUpdate::Clear, "clear") => true,
                    (SecretUpdate::Set(p), "set") => p.expose_secret() == "new-secret",
                    _ => false,
                })
                .returning(move |_, _, _| Ok(stored(env, CredentialType::Postgres)));
            repo.expect_open_credential_connection()
                .returning(move |_, _| {
                    Ok(Some((
                        stored(env, CredentialType::Postgres),
                        OpenedSecrets::default(),
                    )))
                });
            service(repo, MockConnectivityTester::new())
                .replace(
                    &access,
                    "prod-postgres",
                    ReplaceCredentialInput {
                        conn_type: "postgres".into(),
                        host: Some("new-db.example.com".into()),
                        port: Some(5432),
                        password: password.map(|p| p.map(|s| SecretString::from(s.to_owned()))),
                        ..ReplaceCredentialInput::default()
                    },
                )
                .await
                .unwrap_or_else(|e| panic!("{expected}: {e:?}"));
        }
    }

    #[tokio::test]
    async fn replace_refuses_a_rename_and_unused_fields_of_the_new_type() {
        let access = env_access(Role::Member);
        let mut repo = MockCredentialConnectionRepository::new();
        repo.expect_update_credential_connection().never();
        let svc = service(repo, MockConnectivityTester::new());
        let err = svc
            .replace(
                &access,
                "prod-postgres",
                ReplaceCredentialInput {
                    conn_id: Some("other".into()),
                    conn_type: "postgres".into(),
                    ..ReplaceCredentialInput::default()
                },
            )
            .await
            .unwrap_err();
        assert!(
            err.message.starts_with("conn_id: it cannot be changed"),
            "{}",
            err.message
        );
        let err = svc
            .replace(
                &access,
                "prod-postgres",
                ReplaceCredentialInput {
                    conn_type: "sqlite".into(),
                    host: Some("/data/app.db".into()),
                    port: Some(5432),
                    ..ReplaceCredentialInput::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.message,
            "field 'port' is not used by connection type 'sqlite'"
        );
    }

    #[tokio::test]
    async fn a_masked_sensitive_extra_key_keeps_its_stored_value() {
        let access = env_access(Role::Member);
        let env = access.environment.id;
        let mut repo = MockCredentialConnectionRepository::new();
        repo.expect_open_credential_connection()
            .returning(move |_, _| {
                Ok(Some((
                    stored(env, CredentialType::Http),
                    secrets("pw", r#"{"api_token":"t0ken","path":"/a"}"#),
                )))
            });
        repo.expect_update_credential_connection()
            .times(1)
            .withf(|_, _, c| match &c.extra {
                SecretUpdate::Set(e) => {
                    serde_json::from_str::<serde_json::Value>(e.expose_secret()).unwrap()
                        == serde_json::json!({"api_token": "t0ken", "path": "/b"})
                }
                _ => false,
            })
            .returning(move |_, _, _| Ok(stored(env, CredentialType::Http)));
        service(repo, MockConnectivityTester::new())
            .replace(
                &access,
                "prod-postgres",
                ReplaceCredentialInput {
                    conn_type: "http".into(),
                    extra: Some(Some(SecretString::from(
                        r#"{"api_token":"********","path":"/b"}"#.to_owned(),
                    ))),
                    ..ReplaceCredentialInput::default()
                },
            )
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn delete_in_use_is_a_conflict_naming_the_resources() {
        let mut repo = MockCredentialConnectionRepository::new();
        repo.expect_delete_credential_connection()
            .withf(|_, id, force| id.as_str() == "prod-postgres" && !*force)
            .returning(|_, _, _| Ok(CredentialDeletion::InUse(vec![3, 7])));
        let err = service(repo, MockConnectivityTester::new())
            .delete(&env_access(Role::Member), "prod-postgres", false)
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Conflict);
        assert!(err.message.contains("ids: 3, 7"), "{}", err.message);
    }

    #[tokio::test]
    async fn a_test_runs_with_the_opened_secrets_and_records_its_outcome() {
        let access = env_access(Role::Member);
        let env = access.environment.id;
        let row = stored(env, CredentialType::Generic);
        let row_id = row.id;
        let mut repo = MockCredentialConnectionRepository::new();
        repo.expect_open_credential_connection()
            .returning(move |_, _| Ok(Some((row.clone(), secrets("pw", "{}")))));
        repo.expect_record_credential_test()
            .times(1)
            .withf(move |id, r| {
                *id == row_id
                    && !r.success
                    && r.reason.as_deref() == Some("refused")
                    && r.driver == "tcp"
                    && r.at == now()
            })
            .returning(|_, _| Ok(()));
        let mut tester = MockConnectivityTester::new();
        tester
            .expect_test()
            .times(1)
            .withf(|r| {
                r.host.as_deref() == Some("db.example.com")
                    && r.port == Some(5432)
                    && r.password.as_ref().map(|p| p.expose_secret()) == Some("pw")
            })
            .returning(|_| ProbeOutcome::Failed {
                reason: ProbeFailure::Refused,
                driver: "tcp",
            });
        let mut telemetry = MockTelemetry::new();
        telemetry
            .expect_connection_tested()
            .times(1)
            .withf(|t, o| {
                *t == CredentialType::Generic
                    && *o
                        == ProbeOutcome::Failed {
                            reason: ProbeFailure::Refused,
                            driver: "tcp",
                        }
            })
            .return_const(());
        let outcome = service(repo, tester)
            .with_telemetry(Arc::new(telemetry))
            .test(&access, "prod-postgres")
            .await
            .unwrap();
        assert_eq!(
            outcome,
            TestOutcome::Failed {
                reason: ProbeFailure::Refused
            }
        );
    }

    #[tokio::test]
    async fn a_malformed_path_conn_id_names_nothing() {
        let mut repo = MockCredentialConnectionRepository::new();
        repo.expect_open_credential_connection().never();
        let err = service(repo, MockConnectivityTester::new())
            .get(&env_access(Role::Member), "Not A Slug")
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
    }
}
