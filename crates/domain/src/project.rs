//! The [`Project`] entity: a tenant that groups environments and their
//! resources, owned by exactly one user. Who may do what to it is `role`'s.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::color::HexColor;
use crate::slug::ProjectName;

/// A project (`name` is the `:projectSlug` of paths).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// The project's id (UUID v7).
    pub id: Uuid,
    /// Its name, a slug unique on the instance (`:projectSlug` in paths).
    pub name: ProjectName,
    /// A human name, if set.
    pub display_name: Option<String>,
    /// Free text, if set.
    pub description: Option<String>,
    /// A `#rrggbb` colour for the UI, if set.
    pub color: Option<HexColor>,
    /// Where the uploaded icon is served, e.g. `/uploads/projects/<random>.png`.
    pub icon_path: Option<String>,
    /// Seed 004's single-server mode flag.
    pub single_server_mode: bool,
    /// Seed 004's default server, if set.
    pub default_server_id: Option<Uuid>,
    /// Seed 004's error-tracking flag.
    pub auto_error_tracking_enabled: bool,
    /// The one owner's user id.
    pub owner_id: Uuid,
    /// Creation time (UTC).
    pub created_at: DateTime<Utc>,
    /// Last change (UTC).
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn projects_serialize_like_the_seed() {
        let p = Project {
            id: Uuid::nil(),
            name: ProjectName::parse("my-saas").unwrap(),
            display_name: Some("My SaaS App".into()),
            description: None,
            color: Some(HexColor::parse("#3b82f6").unwrap()),
            icon_path: None,
            single_server_mode: false,
            default_server_id: None,
            auto_error_tracking_enabled: true,
            owner_id: Uuid::nil(),
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        };
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["name"], "my-saas");
        assert_eq!(v["color"], "#3B82F6");
        assert_eq!(serde_json::from_value::<Project>(v.clone()).unwrap(), p);
        let mut reserved = v;
        reserved["name"] = "docs".into();
        assert!(serde_json::from_value::<Project>(reserved).is_err());
    }
}
