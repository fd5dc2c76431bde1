//! Resources on an environment's canvas: the [`ResourceType`]s, a node's
//! [`Position`] and the [`Resource`] entity (subdomains are resources too).
//! Connections between resources live in `resource_connection`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ValueError;
use crate::hostname::SubdomainName;
use crate::string_enum::string_enum;

/// The largest `config` (and `connectionDetails`) accepted, serialised, in
/// bytes.
pub const MAX_CONFIG_BYTES: usize = 16 * 1024;

/// The largest canvas coordinate accepted, in either direction.
pub const MAX_COORDINATE: f64 = 1.0e7;

/// The longest resource name accepted, in characters.
pub const MAX_RESOURCE_NAME_CHARS: usize = 100;

/// A resource's name as stored: subdomains follow the subdomain rules (and
/// are lowercased); every other type takes 1–100 characters, trimmed, with
/// no control characters. Names are data: stored literally, never
/// interpreted.
///
/// # Errors
/// [`ValueError::Format`] naming the rule.
pub fn parse_resource_name(resource_type: ResourceType, name: &str) -> Result<String, ValueError> {
    if resource_type == ResourceType::Subdomain {
        return SubdomainName::parse(name).map(SubdomainName::into_string);
    }
    let trimmed = name.trim();
    let err = |reason: &str| ValueError::format("resource name", name, reason);
    if trimmed.is_empty() {
        return Err(err("it must not be empty"));
    }
    if trimmed.chars().count() > MAX_RESOURCE_NAME_CHARS {
        return Err(err("it must be at most 100 characters long"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(err("it must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// Whether any key or string in `value` holds a NUL character (which
/// PostgreSQL's `jsonb` and `text` refuse).
fn contains_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(contains_nul),
        serde_json::Value::Object(map) => {
            map.iter().any(|(k, v)| k.contains('\0') || contains_nul(v))
        }
        _ => false,
    }
}

/// A JSON document a client attaches to a resource (`config`) or a
/// connection (`connectionDetails`): an object of at most
/// [`MAX_CONFIG_BYTES`] serialised.
///
/// # Errors
/// [`ValueError::Format`] when it is not an object or is too large.
pub fn check_json_document(
    what: &'static str,
    value: &serde_json::Value,
) -> Result<(), ValueError> {
    if !value.is_object() {
        return Err(ValueError::format(
            what,
            "(not an object)",
            "it must be a JSON object",
        ));
    }
    if contains_nul(value) {
        return Err(ValueError::format(
            what,
            "(document)",
            "its keys and strings must not contain NUL (\\u0000) characters",
        ));
    }
    let size = serde_json::to_vec(value).map_or(usize::MAX, |v| v.len());
    if size > MAX_CONFIG_BYTES {
        return Err(ValueError::format(
            what,
            "(document)",
            format!("it must be at most {MAX_CONFIG_BYTES} bytes of JSON, not {size}"),
        ));
    }
    Ok(())
}

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
    /// Horizontal canvas coordinate (finite, |x| ≤ 1e7).
    pub x: f64,
    /// Vertical canvas coordinate (finite, |y| ≤ 1e7).
    pub y: f64,
}

impl Position {
    /// A position.
    #[must_use]
    pub const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }

    /// A position whose coordinates are finite and within
    /// ±[`MAX_COORDINATE`].
    ///
    /// # Errors
    /// [`ValueError::Format`] naming the bad coordinate.
    pub fn parse(x: f64, y: f64) -> Result<Self, ValueError> {
        for (name, v) in [("positionX", x), ("positionY", y)] {
            if !v.is_finite() || v.abs() > MAX_COORDINATE {
                return Err(ValueError::format(
                    "canvas coordinate",
                    &format!("{name}={v}"),
                    "it must be a finite number between -10000000 and 10000000",
                ));
            }
        }
        Ok(Self { x, y })
    }
}

/// A resource of an environment. `deleted_at` marks a soft delete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// The resource's id (an integer, as the seeds show).
    pub id: i64,
    /// The project.
    pub project_id: Uuid,
    /// The environment it lives in.
    pub environment_id: Uuid,
    /// Its type (seed 002's list).
    pub resource_type: ResourceType,
    /// Its name (subdomains: the lowercased label).
    pub name: String,
    /// Its status (`active` on create).
    pub status: String,
    /// Where it sits on the canvas.
    pub position: Position,
    /// Free-form JSON configuration (an object, at most 16 KiB).
    pub config: serde_json::Value,
    /// The `conn_id` of the credential connection the resource uses.
    pub credential_conn_id: Option<String>,
    /// Subdomains only: the parent domain (`blog` + `example.com`).
    pub parent_domain: Option<String>,
    /// Creation time (UTC).
    pub created_at: DateTime<Utc>,
    /// Last change (UTC).
    pub updated_at: DateTime<Utc>,
    /// When it was soft-deleted; `None` while live.
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
            parent_domain: None,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
            deleted_at: None,
        };
        assert!(r.is_live());
        r.deleted_at = Some(DateTime::<Utc>::UNIX_EPOCH);
        assert!(!r.is_live());
        assert_eq!(Position::default(), Position::new(0.0, 0.0));
    }

    #[test]
    fn subdomain_names_follow_the_subdomain_rules() {
        assert_eq!(
            parse_resource_name(ResourceType::Subdomain, "Blog").unwrap(),
            "blog"
        );
        assert!(parse_resource_name(ResourceType::Subdomain, "-blog").is_err());
        assert!(parse_resource_name(ResourceType::Subdomain, "my blog").is_err());
    }

    #[test]
    fn other_names_are_trimmed_text_stored_literally() {
        assert_eq!(
            parse_resource_name(ResourceType::Instance, "  web-1 ").unwrap(),
            "web-1"
        );
        let sql = "x'); DROP TABLE resources; --";
        assert_eq!(
            parse_resource_name(ResourceType::Database, sql).unwrap(),
            sql
        );
        assert!(parse_resource_name(ResourceType::Instance, "").is_err());
        assert!(parse_resource_name(ResourceType::Instance, "   ").is_err());
        assert!(parse_resource_name(ResourceType::Instance, "a\u{7}b").is_err());
        assert!(parse_resource_name(ResourceType::Instance, "a\u{0}b").is_err());
        assert!(parse_resource_name(ResourceType::Instance, &"x".repeat(101)).is_err());
        assert!(parse_resource_name(ResourceType::Instance, &"é".repeat(100)).is_ok());
    }

    #[test]
    fn documents_must_be_small_nul_free_objects() {
        use serde_json::json;
        assert!(check_json_document("config", &json!({"a": 1})).is_ok());
        assert!(check_json_document("config", &json!([1])).is_err());
        assert!(check_json_document("config", &json!("x")).is_err());
        let big = json!({"k": "x".repeat(MAX_CONFIG_BYTES)});
        assert!(check_json_document("config", &big).is_err());
        assert!(check_json_document("config", &json!({"k": ["a\u{0}"]})).is_err());
        assert!(check_json_document("config", &json!({"a\u{0}": 1})).is_err());
        assert!(check_json_document("config", &json!({"k": "line\nbreak"})).is_ok());
    }

    #[test]
    fn positions_are_finite_and_bounded() {
        assert!(Position::parse(100.0, 200.0).is_ok());
        assert!(Position::parse(-1.5, 1e7).is_ok());
        assert!(Position::parse(f64::NAN, 0.0).is_err());
        assert!(Position::parse(f64::INFINITY, 0.0).is_err());
        assert!(Position::parse(0.0, 1e8).is_err());
    }
}
