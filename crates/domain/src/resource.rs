//! Resources on an environment's canvas: the [`ResourceType`]s, a node's
//! [`Position`] and the [`Resource`] entity (subdomains are resources too).
//! Connections between resources live in `resource_connection`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::string_enum::string_enum;

string_enum! {
    /// What a resource is.
    #[derive(PartialOrd, Ord)]
    pub enum ResourceType as "resource type" {
        /// A server (EC2 instance).
        Instance = "instance",
        /// Application files, installed on an instance.
        Application = "application",
        /// A managed database.
        Database = "database",
        /// A terminal (SSH) into an instance.
        Terminal = "terminal",
        /// A firewall / security group.
        Firewall = "firewall",
        /// An object-storage bucket.
        StorageBucket = "storage_bucket",
        /// A browser over buckets.
        BucketExplorer = "bucket_explorer",
        /// A static website.
        StaticWebsite = "static_website",
        /// A subdomain (a logical DNS name, no records are created).
        Subdomain = "subdomain",
    }
}

/// Where a resource sits on the canvas.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

impl Position {
    /// A position.
    #[must_use]
    pub const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }
}

/// A resource of an environment. `deleted_at` marks a soft delete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub id: i64,
    pub project_id: Uuid,
    pub environment_id: Uuid,
    pub resource_type: ResourceType,
    pub name: String,
    pub status: String,
    pub position: Position,
    pub config: serde_json::Value,
    /// The `conn_id` of the credential connection the resource uses.
    pub credential_conn_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl Resource {
    /// Whether the resource is live (not soft-deleted).
    #[must_use]
    pub const fn is_live(&self) -> bool {
        self.deleted_at.is_none()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn resource_types_have_one_spelling() {
        let names: Vec<&str> = ResourceType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(
            names,
            [
                "instance",
                "application",
                "database",
                "terminal",
                "firewall",
                "storage_bucket",
                "bucket_explorer",
                "static_website",
                "subdomain"
            ]
        );
        for t in ResourceType::ALL {
            assert_eq!(t.as_str().parse::<ResourceType>().unwrap(), *t);
            assert_eq!(t.to_string(), t.as_str());
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
            let back: ResourceType = serde_json::from_value(t.as_str().into()).unwrap();
            assert_eq!(back, *t);
        }
        let err = ResourceType::parse("server").unwrap_err().to_string();
        assert!(
            err.starts_with(
                "'server' is not a valid resource type; expected one of: instance, application"
            ),
            "{err}"
        );
        assert!(ResourceType::parse("Instance").is_err());
    }

    #[test]
    fn resources_are_live_until_deleted() {
        let mut r = Resource {
            id: 1,
            project_id: Uuid::nil(),
            environment_id: Uuid::nil(),
            resource_type: ResourceType::Subdomain,
            name: "blog".into(),
            status: "active".into(),
            position: Position::new(100.0, 200.0),
            config: serde_json::json!({}),
            credential_conn_id: None,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
            deleted_at: None,
        };
        assert!(r.is_live());
        r.deleted_at = Some(DateTime::<Utc>::UNIX_EPOCH);
        assert!(!r.is_live());
        assert_eq!(Position::default(), Position::new(0.0, 0.0));
    }
}
