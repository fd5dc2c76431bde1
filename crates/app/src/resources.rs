//! Resource use cases (the unified resources API and subdomains): create,
//! list, get, update, soft delete (taking the resource's connections with
//! it), restore. Names, positions and config documents are validated by the
//! domain; uniqueness among live resources is the store's unique index.

use std::sync::Arc;

use patchbay_domain::{
    Action, ConnId, Hostname, Page, Position, Resource, ResourceType, check_json_document,
    parse_resource_name,
};

use crate::access::EnvironmentAccess;
use crate::error::{AppError, StoreError};
use crate::ports::{Clock, NewResource, ResourceRepository, canvas_constraint};

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
        StoreError::Conflict(c) if c == canvas_constraint::RESOURCE_NAME => {
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
    ) -> Result<(Vec<Resource>, i64), AppError> {
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
                StoreError::Conflict(c) if c == canvas_constraint::RESOURCE_NAME => {
                    AppError::conflict(format!(
                        "A live {} named '{}' exists; rename it before restoring this one",
                        existing.resource_type, existing.name
                    ))
                }
                StoreError::NotFound => resource_not_found(),
                other => other.into(),
            })
    }
}
