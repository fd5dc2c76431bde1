//! Resource use cases (the unified resources API and subdomains): create,
//! list, get, update, soft delete (taking the resource's connections with
//! it), restore. Names, positions and config documents are validated by the
//! domain; uniqueness among live resources is the store's unique index.

use std::sync::Arc;

use patchbay_domain::{
    Action, ConnId, Hostname, Page, Position, Resource, ResourceType, check_json_document,
    parse_resource_name,
};

use crate::Constraint;
use crate::access::EnvironmentAccess;
use crate::error::{AppError, StoreError};
use crate::ports::{CREDENTIAL_CONNECTION, Clock, Listed, NewResource, ResourceRepository};

/// The status a new resource starts in.
pub const INITIAL_RESOURCE_STATUS: &str = "active";

/// `POST …/resources` (and `…/subdomains`) input, unvalidated.
#[derive(Debug, Clone, Default)]
pub struct CreateResourceInput {
    pub resource_type: String,
    pub name: String,
    pub config: Option<serde_json::Value>,
    pub credential_conn_id: Option<String>,
    pub position_x: Option<f64>,
    pub position_y: Option<f64>,
    pub parent_domain: Option<String>,
}

/// `PATCH …/resources/:id` input: `None` unchanged; `Some(None)` cleared
/// (for the nullable fields).
#[derive(Debug, Clone, Default)]
pub struct UpdateResourceInput {
    pub name: Option<String>,
    pub config: Option<serde_json::Value>,
    pub credential_conn_id: Option<Option<String>>,
    pub position_x: Option<f64>,
    pub position_y: Option<f64>,
    pub parent_domain: Option<Option<String>>,
}

/// Resource use cases.
#[derive(Clone)]
pub struct ResourceService {
    resources: Arc<dyn ResourceRepository>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ResourceService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceService").finish_non_exhaustive()
    }
}

/// 404 for a resource id that names nothing live here.
#[must_use]
pub fn resource_not_found() -> AppError {
    AppError::not_found("Resource not found")
}

fn parse_type(field: &str, v: &str) -> Result<ResourceType, AppError> {
    ResourceType::parse(v).map_err(|e| AppError::invalid_field(field, e))
}

fn parse_parent(
    resource_type: ResourceType,
    v: Option<String>,
) -> Result<Option<String>, AppError> {
    match v {
        None => Ok(None),
        Some(_) if resource_type != ResourceType::Subdomain => Err(AppError::invalid_field(
            "parentDomain",
            "only subdomains have a parent domain",
        )),
        Some(d) => Hostname::parse(&d)
            .map(|h| Some(h.as_str().to_owned()))
            .map_err(|e| AppError::invalid_field("parentDomain", e)),
    }
}

fn parse_conn_id(v: Option<String>) -> Result<Option<String>, AppError> {
    v.map(|c| {
        ConnId::parse(&c)
            .map(|c| c.as_str().to_owned())
            .map_err(|e| AppError::invalid_field("credentialConnId", e))
    })
    .transpose()
}

fn parse_config(v: Option<serde_json::Value>) -> Result<serde_json::Value, AppError> {
    let config = v.unwrap_or_else(|| serde_json::json!({}));
    check_json_document("config", &config).map_err(|e| AppError::invalid_field("config", e))?;
    Ok(config)
}

/// Duplicate names: subdomains answer 400 (seed 002 says so), every other
/// type 409.
fn name_conflict(resource_type: ResourceType, name: &str, err: StoreError) -> AppError {
    match err {
        StoreError::MissingReference(c) if c == CREDENTIAL_CONNECTION => AppError::not_found(
            "credentialConnId: no credential connection with this conn_id in this environment",
        ),
        StoreError::Conflict(Constraint::ResourceName) => {
            if resource_type == ResourceType::Subdomain {
                AppError::bad_request(format!(
                    "A subdomain named '{name}' with this parent domain already exists in this environment"
                ))
            } else {
                AppError::conflict(format!(
                    "A {resource_type} named '{name}' already exists in this environment"
                ))
            }
        }
        StoreError::NotFound => resource_not_found(),
        other => other.into(),
    }
}

impl ResourceService {
    #[must_use]
    pub fn new(resources: Arc<dyn ResourceRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { resources, clock }
    }

    /// Creates a resource of any type (subdomain names follow the subdomain
    /// rules).
    ///
    /// # Errors
    /// 400 naming the invalid field (or a duplicate subdomain); 403; 409 a
    /// live resource of that type has the name.
    pub async fn create(
        &self,
        access: &EnvironmentAccess,
        input: CreateResourceInput,
    ) -> Result<Resource, AppError> {
        access.role.require(Action::WriteResources)?;
        let resource_type = parse_type("type", &input.resource_type)?;
        let name = parse_resource_name(resource_type, &input.name)
            .map_err(|e| AppError::invalid_field("name", e))?;
        let parent_domain = parse_parent(resource_type, input.parent_domain)?;
        let position = Position::parse(
            input.position_x.unwrap_or(0.0),
            input.position_y.unwrap_or(0.0),
        )
        .map_err(|e| AppError::invalid_field("position", e))?;
        let config = parse_config(input.config)?;
        let credential_conn_id = parse_conn_id(input.credential_conn_id)?;
        let new = NewResource {
            project_id: access.project.id,
            environment_id: access.environment.id,
            resource_type,
            name: name.clone(),
            parent_domain,
            status: INITIAL_RESOURCE_STATUS.to_owned(),
            position,
            config,
            credential_conn_id,
            now: self.clock.now(),
        };
        self.resources
            .create_resource(new)
            .await
            .map_err(|e| name_conflict(resource_type, &name, e))
    }

    /// Live resources, optionally of one type.
    ///
    /// # Errors
    /// 400 unknown type; 403.
    pub async fn list(
        &self,
        access: &EnvironmentAccess,
        resource_type: Option<&str>,
        page: Page,
    ) -> Result<Listed<Resource>, AppError> {
        access.role.require(Action::ViewResources)?;
        let resource_type = resource_type.map(|t| parse_type("type", t)).transpose()?;
        Ok(self
            .resources
            .list_resources(access.environment.id, resource_type, page)
            .await?)
    }

    /// A live resource.
    ///
    /// # Errors
    /// 403; 404.
    pub async fn get(&self, access: &EnvironmentAccess, id: i64) -> Result<Resource, AppError> {
        access.role.require(Action::ViewResources)?;
        self.resources
            .find_resource(access.environment.id, id, false)
            .await?
            .ok_or_else(resource_not_found)
    }

    /// Changes name, config (replaced whole), position, credential
    /// connection and (subdomains) parent domain.
    ///
    /// # Errors
    /// 400; 403; 404; 409 (400 for subdomains) on a name clash.
    pub async fn update(
        &self,
        access: &EnvironmentAccess,
        id: i64,
        input: UpdateResourceInput,
    ) -> Result<Resource, AppError> {
        access.role.require(Action::WriteResources)?;
        let mut resource = self.get(access, id).await?;
        let t = resource.resource_type;
        if let Some(name) = input.name {
            resource.name =
                parse_resource_name(t, &name).map_err(|e| AppError::invalid_field("name", e))?;
        }
        if let Some(config) = input.config {
            resource.config = parse_config(Some(config))?;
        }
        if let Some(conn) = input.credential_conn_id {
            resource.credential_conn_id = parse_conn_id(conn)?;
        }
        if let Some(parent) = input.parent_domain {
            if t != ResourceType::Subdomain {
                return Err(AppError::invalid_field(
                    "parentDomain",
                    "only subdomains have a parent domain",
                ));
            }
            resource.parent_domain = parse_parent(t, parent)?;
        }
        let x = input.position_x.unwrap_or(resource.position.x);
        let y = input.position_y.unwrap_or(resource.position.y);
        resource.position =
            Position::parse(x, y).map_err(|e| AppError::invalid_field("position", e))?;
        resource.updated_at = self.clock.now();
        let name = resource.name.clone();
        self.resources
            .update_resource(resource)
            .await
            .map_err(|e| name_conflict(t, &name, e))
    }

    /// Soft-deletes a resource and every connection touching it; returns the
    /// resource as it was and how many connections went with it.
    ///
    /// # Errors
    /// 403; 404.
    pub async fn delete(
        &self,
        access: &EnvironmentAccess,
        id: i64,
    ) -> Result<(Resource, u64), AppError> {
        access.role.require(Action::WriteResources)?;
        let resource = self.get(access, id).await?;
        let connections = self
            .resources
            .soft_delete_resource(access.environment.id, id, self.clock.now())
            .await
            .map_err(|e| match e {
                StoreError::NotFound => resource_not_found(),
                other => other.into(),
            })?;
        Ok((resource, connections))
    }

    /// Restores a soft-deleted resource.
    ///
    /// # Errors
    /// 403; 404 when there is no deleted resource with that id; 409 when a
    /// live resource took its name.
    pub async fn restore(&self, access: &EnvironmentAccess, id: i64) -> Result<Resource, AppError> {
        access.role.require(Action::WriteResources)?;
        let existing = self
            .resources
            .find_resource(access.environment.id, id, true)
            .await?
            .ok_or_else(resource_not_found)?;
        if existing.deleted_at.is_none() {
            return Err(AppError::conflict("The resource is not deleted"));
        }
        self.resources
            .restore_resource(access.environment.id, id, self.clock.now())
            .await
            .map_err(|e| match e {
                StoreError::Conflict(Constraint::ResourceName) => AppError::conflict(format!(
                    "A live {} named '{}' exists; rename it before restoring this one",
                    existing.resource_type, existing.name
                )),
                StoreError::NotFound => resource_not_found(),
                other => other.into(),
            })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::AppErrorKind;
    use crate::ports::MockResourceRepository;
    use crate::test_support::{clock, env_access as access, now, then};
    use patchbay_domain::{MAX_CONFIG_BYTES, Role};
    use serde_json::json;

    fn service(resources: MockResourceRepository) -> ResourceService {
        ResourceService::new(Arc::new(resources), Arc::new(clock()))
    }

    fn stored(access: &EnvironmentAccess, id: i64, t: ResourceType, name: &str) -> Resource {
        Resource {
            id,
            project_id: access.project.id,
            environment_id: access.environment.id,
            resource_type: t,
            name: name.into(),
            status: INITIAL_RESOURCE_STATUS.into(),
            position: Position::new(10.0, 20.0),
            config: json!({"size": "t3.micro"}),
            credential_conn_id: Some("aws-main".into()),
            parent_domain: None,
            created_at: then(),
            updated_at: then(),
            deleted_at: None,
        }
    }

    fn from_new(new: NewResource) -> Resource {
        Resource {
            id: 1,
            project_id: new.project_id,
            environment_id: new.environment_id,
            resource_type: new.resource_type,
            name: new.name,
            status: new.status,
            position: new.position,
            config: new.config,
            credential_conn_id: new.credential_conn_id,
            parent_domain: new.parent_domain,
            created_at: new.now,
            updated_at: new.now,
            deleted_at: None,
        }
    }

    fn input(t: &str, name: &str) -> CreateResourceInput {
        CreateResourceInput {
            resource_type: t.into(),
            name: name.into(),
            ..CreateResourceInput::default()
        }
    }

    /// A store that finds `resource` (live or not) and must not write.
    fn finding(resource: Resource) -> MockResourceRepository {
        let mut resources = MockResourceRepository::new();
        resources
            .expect_find_resource()
            .returning(move |env, id, _| {
                Ok((env == resource.environment_id && id == resource.id).then(|| resource.clone()))
            });
        resources.expect_update_resource().never();
        resources.expect_restore_resource().never();
        resources.expect_soft_delete_resource().never();
        resources
    }

    #[tokio::test]
    async fn create_lowercases_subdomains_and_their_parent_domain() {
        let access = access(Role::Member);
        let (project_id, env_id) = (access.project.id, access.environment.id);
        let mut resources = MockResourceRepository::new();
        resources
            .expect_create_resource()
            .times(1)
            .withf(move |new| {
                new.project_id == project_id
                    && new.environment_id == env_id
                    && new.resource_type == ResourceType::Subdomain
                    && new.name == "blog"
                    && new.parent_domain.as_deref() == Some("example.com")
                    && new.status == INITIAL_RESOURCE_STATUS
                    && new.position == Position::new(0.0, 0.0)
                    && new.config == json!({})
                    && new.credential_conn_id.is_none()
                    && new.now == now()
            })
            .returning(|new| Ok(from_new(new)));
        let created = service(resources)
            .create(
                &access,
                CreateResourceInput {
                    parent_domain: Some("Example.COM.".into()),
                    ..input("subdomain", "Blog")
                },
            )
            .await
            .unwrap();
        assert_eq!(created.name, "blog");
    }

    #[tokio::test]
    async fn create_keeps_other_names_as_typed_and_passes_every_field() {
        let mut resources = MockResourceRepository::new();
        resources
            .expect_create_resource()
            .times(1)
            .withf(|new| {
                new.resource_type == ResourceType::Instance
                    && new.name == "Web Server 1"
                    && new.position == Position::new(-5.5, 300.0)
                    && new.config == json!({"size": "t3.micro"})
                    && new.credential_conn_id.as_deref() == Some("aws_main-1")
                    && new.parent_domain.is_none()
            })
            .returning(|new| Ok(from_new(new)));
        service(resources)
            .create(
                &access(Role::Admin),
                CreateResourceInput {
                    config: Some(json!({"size": "t3.micro"})),
                    credential_conn_id: Some("aws_main-1".into()),
                    position_x: Some(-5.5),
                    position_y: Some(300.0),
                    ..input("instance", "  Web Server 1 ")
                },
            )
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn duplicate_subdomains_are_400_but_other_duplicates_409() {
        for (t, kind) in [
            ("subdomain", AppErrorKind::BadRequest),
            ("instance", AppErrorKind::Conflict),
            ("database", AppErrorKind::Conflict),
        ] {
            let mut resources = MockResourceRepository::new();
            resources
                .expect_create_resource()
                .times(1)
                .returning(|_| Err(StoreError::Conflict(Constraint::ResourceName)));
            let err = service(resources)
                .create(&access(Role::Member), input(t, "blog"))
                .await
                .unwrap_err();
            assert_eq!(err.kind, kind, "{t}");
            assert!(err.message.contains("'blog'"), "{err}");
        }
    }

    #[tokio::test]
    async fn create_refuses_bad_fields_before_the_store() {
        let mut resources = MockResourceRepository::new();
        resources.expect_create_resource().never();
        let svc = service(resources);
        let big = json!({ "blob": "x".repeat(MAX_CONFIG_BYTES) });
        let cases = [
            (input("server", "web"), "type"),
            (input("subdomain", "-blog"), "name"),
            (input("subdomain", "my blog"), "name"),
            (input("instance", "   "), "name"),
            (
                CreateResourceInput {
                    parent_domain: Some("example.com".into()),
                    ..input("instance", "web")
                },
                "parentDomain",
            ),
            (
                CreateResourceInput {
                    parent_domain: Some("localhost".into()),
                    ..input("subdomain", "blog")
                },
                "parentDomain",
            ),
            (
                CreateResourceInput {
                    config: Some(json!([1, 2])),
                    ..input("instance", "web")
                },
                "config",
            ),
            (
                CreateResourceInput {
                    config: Some(json!("text")),
                    ..input("instance", "web")
                },
                "config",
            ),
            (
                CreateResourceInput {
                    config: Some(json!({"nested": ["ok", "nul \u{0}"]})),
                    ..input("instance", "web")
                },
                "config",
            ),
            (
                CreateResourceInput {
                    config: Some(big),
                    ..input("instance", "web")
                },
                "config",
            ),
            (
                CreateResourceInput {
                    position_x: Some(f64::NAN),
                    ..input("instance", "web")
                },
                "position",
            ),
            (
                CreateResourceInput {
                    credential_conn_id: Some("AWS".into()),
                    ..input("instance", "web")
                },
                "credentialConnId",
            ),
        ];
        for (bad, field) in cases {
            let shown = format!("{bad:?}");
            let err = svc.create(&access(Role::Member), bad).await.unwrap_err();
            assert_eq!(err.kind, AppErrorKind::BadRequest, "{shown}");
            assert!(
                err.message.starts_with(&format!("{field}: ")),
                "{shown}: {}",
                err.message
            );
        }
    }

    #[tokio::test]
    async fn config_may_be_up_to_16_kib() {
        // {"b":"…"} is 8 bytes of JSON around the string.
        let fits = json!({ "b": "x".repeat(MAX_CONFIG_BYTES - 8) });
        assert_eq!(serde_json::to_vec(&fits).unwrap().len(), MAX_CONFIG_BYTES);
        let mut resources = MockResourceRepository::new();
        resources
            .expect_create_resource()
            .times(1)
            .returning(|new| Ok(from_new(new)));
        service(resources)
            .create(
                &access(Role::Member),
                CreateResourceInput {
                    config: Some(fits),
                    ..input("instance", "web")
                },
            )
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn update_changes_only_the_fields_sent() {
        let access = access(Role::Member);
        let before = stored(&access, 7, ResourceType::Instance, "web");
        let expected = before.clone();
        let mut resources = MockResourceRepository::new();
        let found = before.clone();
        resources
            .expect_find_resource()
            .withf(move |env, id, deleted| *env == found.environment_id && *id == 7 && !*deleted)
            .returning(move |env, id, _| {
                Ok((env == found.environment_id && id == found.id).then(|| found.clone()))
            });
        resources
            .expect_update_resource()
            .times(1)
            .withf(move |r| {
                r.id == expected.id
                    && r.name == expected.name
                    && r.config == expected.config
                    && r.credential_conn_id == expected.credential_conn_id
                    && r.position == Position::new(99.0, expected.position.y)
                    && r.status == expected.status
                    && r.created_at == expected.created_at
                    && r.updated_at == now()
            })
            .returning(Ok);
        service(resources)
            .update(
                &access,
                7,
                UpdateResourceInput {
                    position_x: Some(99.0),
                    ..UpdateResourceInput::default()
                },
            )
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn update_replaces_config_and_clears_with_null() {
        let access = access(Role::Member);
        let mut resources = MockResourceRepository::new();
        let found = stored(&access, 7, ResourceType::Instance, "web");
        resources
            .expect_find_resource()
            .returning(move |env, id, _| {
                Ok((env == found.environment_id && id == found.id).then(|| found.clone()))
            });
        resources
            .expect_update_resource()
            .times(1)
            .withf(|r| {
                r.name == "api"
                    && r.config == json!({"replicas": 2})
                    && r.credential_conn_id.is_none()
                    && r.position == Position::new(10.0, 20.0)
            })
            .returning(Ok);
        service(resources)
            .update(
                &access,
                7,
                UpdateResourceInput {
                    name: Some("api".into()),
                    config: Some(json!({"replicas": 2})),
                    credential_conn_id: Some(None),
                    ..UpdateResourceInput::default()
                },
            )
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn update_of_a_subdomain_lowercases_and_sets_or_clears_the_parent() {
        let access = access(Role::Member);
        let mut sub = stored(&access, 3, ResourceType::Subdomain, "blog");
        sub.parent_domain = Some("example.com".into());
        let mut resources = MockResourceRepository::new();
        resources
            .expect_find_resource()
            .returning(move |env, id, _| {
                Ok((env == sub.environment_id && id == sub.id).then(|| sub.clone()))
            });
        let mut seq = mockall::Sequence::new();
        resources
            .expect_update_resource()
            .times(1)
            .in_sequence(&mut seq)
            .withf(|r| r.name == "shop" && r.parent_domain.as_deref() == Some("example.org"))
            .returning(Ok);
        resources
            .expect_update_resource()
            .times(1)
            .in_sequence(&mut seq)
            .withf(|r| r.name == "blog" && r.parent_domain.is_none())
            .returning(|_| Err(StoreError::Conflict(Constraint::ResourceName)));
        let svc = service(resources);
        svc.update(
            &access,
            3,
            UpdateResourceInput {
                name: Some("SHOP".into()),
                parent_domain: Some(Some("Example.ORG".into())),
                ..UpdateResourceInput::default()
            },
        )
        .await
        .unwrap();
        let err = svc
            .update(
                &access,
                3,
                UpdateResourceInput {
                    parent_domain: Some(None),
                    ..UpdateResourceInput::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::BadRequest, "subdomain clash is 400");
    }

    #[tokio::test]
    async fn update_refuses_a_parent_domain_on_other_types_and_bad_fields() {
        let access = access(Role::Member);
        let svc = service(finding(stored(&access, 7, ResourceType::Instance, "web")));
        for (bad, field) in [
            (
                UpdateResourceInput {
                    parent_domain: Some(None),
                    ..UpdateResourceInput::default()
                },
                "parentDomain",
            ),
            (
                UpdateResourceInput {
                    parent_domain: Some(Some("example.com".into())),
                    ..UpdateResourceInput::default()
                },
                "parentDomain",
            ),
            (
                UpdateResourceInput {
                    config: Some(json!(null)),
                    ..UpdateResourceInput::default()
                },
                "config",
            ),
            (
                UpdateResourceInput {
                    position_y: Some(1.0e8),
                    ..UpdateResourceInput::default()
                },
                "position",
            ),
            (
                UpdateResourceInput {
                    name: Some(String::new()),
                    ..UpdateResourceInput::default()
                },
                "name",
            ),
        ] {
            let err = svc.update(&access, 7, bad).await.unwrap_err();
            assert_eq!(err.kind, AppErrorKind::BadRequest);
            assert!(err.message.starts_with(&format!("{field}: ")), "{err}");
        }
    }

    #[tokio::test]
    async fn update_and_delete_of_a_missing_resource_are_404() {
        let mut resources = MockResourceRepository::new();
        resources
            .expect_find_resource()
            .returning(|_, _, _| Ok(None));
        resources.expect_update_resource().never();
        resources.expect_soft_delete_resource().never();
        let svc = service(resources);
        let err = svc
            .update(&access(Role::Member), 9, UpdateResourceInput::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
        assert_eq!(err.message, "Resource not found");
        let err = svc.delete(&access(Role::Member), 9).await.unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
    }

    #[tokio::test]
    async fn delete_reports_the_resource_and_its_connections() {
        let access = access(Role::Member);
        let env_id = access.environment.id;
        let mut resources = MockResourceRepository::new();
        let found = stored(&access, 4, ResourceType::Database, "db");
        resources
            .expect_find_resource()
            .returning(move |env, id, _| {
                Ok((env == found.environment_id && id == found.id).then(|| found.clone()))
            });
        resources
            .expect_soft_delete_resource()
            .times(1)
            .withf(move |env, id, at| *env == env_id && *id == 4 && *at == now())
            .returning(|_, _, _| Ok(2));
        let (resource, connections) = service(resources).delete(&access, 4).await.unwrap();
        assert_eq!((resource.id, connections), (4, 2));
    }

    #[tokio::test]
    async fn restore_of_a_live_resource_is_409() {
        let access = access(Role::Member);
        let err = service(finding(stored(&access, 5, ResourceType::Instance, "web")))
            .restore(&access, 5)
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Conflict);
        assert_eq!(err.message, "The resource is not deleted");
    }

    #[tokio::test]
    async fn restore_brings_back_a_deleted_resource_or_says_what_took_its_name() {
        let access = access(Role::Member);
        let env_id = access.environment.id;
        let mut gone = stored(&access, 5, ResourceType::Instance, "web");
        gone.deleted_at = Some(then());
        let mut resources = MockResourceRepository::new();
        let found = gone.clone();
        resources
            .expect_find_resource()
            .withf(|_, id, include_deleted| *id == 5 && *include_deleted)
            .returning(move |env, id, _| {
                Ok((env == found.environment_id && id == found.id).then(|| found.clone()))
            });
        let mut seq = mockall::Sequence::new();
        resources
            .expect_restore_resource()
            .times(1)
            .in_sequence(&mut seq)
            .withf(move |env, id, at| *env == env_id && *id == 5 && *at == now())
            .returning(move |_, _, _| {
                Ok(Resource {
                    deleted_at: None,
                    ..gone.clone()
                })
            });
        resources
            .expect_restore_resource()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _| Err(StoreError::Conflict(Constraint::ResourceName)));
        let svc = service(resources);
        assert!(svc.restore(&access, 5).await.unwrap().is_live());
        let err = svc.restore(&access, 5).await.unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Conflict);
        assert_eq!(
            err.message,
            "A live instance named 'web' exists; rename it before restoring this one"
        );
    }

    #[tokio::test]
    async fn viewers_cannot_write_resources() {
        let access = access(Role::Viewer);
        let mut resources = MockResourceRepository::new();
        resources.expect_find_resource().never();
        resources.expect_create_resource().never();
        resources.expect_update_resource().never();
        resources.expect_soft_delete_resource().never();
        resources.expect_restore_resource().never();
        let svc = service(resources);
        let errors = [
            svc.create(&access, input("instance", "web")).await,
            svc.update(&access, 1, UpdateResourceInput::default()).await,
            svc.restore(&access, 1).await,
        ];
        for err in errors {
            assert_eq!(err.unwrap_err().kind, AppErrorKind::Forbidden);
        }
        assert_eq!(
            svc.delete(&access, 1).await.unwrap_err().kind,
            AppErrorKind::Forbidden
        );
    }

    #[tokio::test]
    async fn viewers_may_list_by_a_valid_type() {
        let access = access(Role::Viewer);
        let env_id = access.environment.id;
        let mut resources = MockResourceRepository::new();
        resources
            .expect_list_resources()
            .times(1)
            .withf(move |env, t, _| *env == env_id && *t == Some(ResourceType::StorageBucket))
            .returning(|_, _, _| {
                Ok(Listed {
                    items: Vec::new(),
                    total: Some(0),
                    next: None,
                })
            });
        let svc = service(resources);
        let page = Page::new(1, 20).unwrap();
        let listed = svc
            .list(&access, Some("storage_bucket"), page)
            .await
            .unwrap();
        assert!(listed.items.is_empty());
        assert_eq!(listed.total, Some(0));
        let err = svc.list(&access, Some("bucket"), page).await.unwrap_err();
        assert_eq!(err.kind, AppErrorKind::BadRequest);
        assert!(err.message.starts_with("type: "), "{err}");
    }
}
