//! DTOs of the GatewaysApp families (resources, subdomains, resource
//! connections): camelCase, `{"message", "data", "count"}` envelopes,
//! positions as `{x, y}` with whole numbers written as integers.

use chrono::{DateTime, Utc};
use patchbay_domain::{Position, Resource, ResourceConnection};
use serde::{Serialize, Serializer};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dto::rfc3339;

/// Writes 100.0 as `100` (as the seeds show) and 100.5 as `100.5`.
fn coordinate<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "only whole numbers well inside i64 are cast"
    )]
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

/// A canvas position.
#[derive(Debug, Serialize, ToSchema)]
pub struct PositionDto {
    #[serde(serialize_with = "coordinate")]
    #[schema(example = 100)]
    pub x: f64,
    #[serde(serialize_with = "coordinate")]
    #[schema(example = 200)]
    pub y: f64,
}

impl From<Position> for PositionDto {
    fn from(p: Position) -> Self {
        Self { x: p.x, y: p.y }
    }
}

/// A resource as the unified resources API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDto {
    #[schema(example = 1)]
    pub id: i64,
    #[serde(rename = "type")]
    #[schema(example = "instance")]
    pub resource_type: String,
    #[schema(example = "web-1")]
    pub name: String,
    #[schema(example = "active")]
    pub status: String,
    pub position: PositionDto,
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    pub credential_conn_id: Option<String>,
    /// Subdomains only, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_domain: Option<String>,
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, example = "2024-01-15T10:30:00.000Z")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, example = "2024-01-15T10:30:00.000Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<Resource> for ResourceDto {
    fn from(r: Resource) -> Self {
        Self {
            id: r.id,
            resource_type: r.resource_type.as_str().to_owned(),
            name: r.name,
            status: r.status,
            position: r.position.into(),
            config: r.config,
            credential_conn_id: r.credential_conn_id,
            parent_domain: r.parent_domain,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A resource connection, with exactly seed 000's fields.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionDto {
    #[schema(example = 1)]
    pub id: i64,
    /// The user who created it.
    pub user_id: Uuid,
    pub project_id: Uuid,
    pub environment_id: Uuid,
    #[schema(example = "application")]
    pub source_resource_type: String,
    #[schema(example = 2)]
    pub source_resource_id: i64,
    #[schema(example = "instance")]
    pub target_resource_type: String,
    #[schema(example = 1)]
    pub target_resource_id: i64,
    #[schema(example = "pending")]
    pub status: String,
    #[schema(value_type = Option<Object>)]
    pub connection_details: Option<serde_json::Value>,
    pub error_message: Option<String>,
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, example = "2024-01-15T10:30:00.000Z")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, example = "2024-01-15T10:30:00.000Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<ResourceConnection> for ConnectionDto {
    fn from(c: ResourceConnection) -> Self {
        Self {
            id: c.id,
            user_id: c.user_id,
            project_id: c.project_id,
            environment_id: c.environment_id,
            source_resource_type: c.source_type.as_str().to_owned(),
            source_resource_id: c.source_id,
            target_resource_type: c.target_type.as_str().to_owned(),
            target_resource_id: c.target_id,
            status: c.status.as_str().to_owned(),
            connection_details: c.connection_details,
            error_message: c.error_message,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A single-item answer: `{"message": …, "data": …}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope<T> {
    #[schema(example = "Resource retrieved successfully")]
    pub message: &'static str,
    pub data: T,
}

/// A list answer: `{"message", "count", "data"}` plus paging.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListEnvelope<T> {
    #[schema(example = "Resources retrieved successfully")]
    pub message: &'static str,
    /// Items in `data`.
    pub count: usize,
    /// Items matching, over all pages. Always with `page`; with `after` only
    /// when `include=total` is asked (counting grows with the matches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    /// The page number; absent for a keyset (`after`) page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<i64>,
    pub per_page: i64,
    /// The `after` cursor of the next page (the last item's id), or `null`
    /// on the last page.
    pub next: Option<i64>,
    pub data: Vec<T>,
}

impl<T> ListEnvelope<T> {
    /// The envelope of one page of `listed`, mapped to DTOs.
    pub(crate) fn new<U>(
        message: &'static str,
        listed: patchbay_app::ports::Listed<U>,
        page: patchbay_domain::Page,
    ) -> Self
    where
        T: From<U>,
    {
        let data: Vec<T> = listed.items.into_iter().map(T::from).collect();
        Self {
            message,
            count: data.len(),
            total: listed.total,
            page: page.number(),
            per_page: page.per_page(),
            next: listed.next,
            data,
        }
    }
}

/// Just a message (deletes).
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageOnly {
    #[schema(example = "Resource deleted successfully")]
    pub message: &'static str,
}
