//! The [`Member`] entity: a user's role in one project. The rules for
//! changing memberships are in `role`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::role::Role;

/// A user's membership of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The membership's id (UUID v7).
    pub id: Uuid,
    /// The project.
    pub project_id: Uuid,
    /// The member's user id.
    pub user_id: Uuid,
    /// The member's role in the project.
    pub role: Role,
    /// When the user joined (UTC).
    pub created_at: DateTime<Utc>,
}

impl Member {
    /// Whether this member owns the project.
    #[must_use]
    pub fn is_owner(&self) -> bool {
        self.role == Role::Owner
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_members_with_the_owner_role() {
        let mut m = Member {
            id: Uuid::nil(),
            project_id: Uuid::nil(),
            user_id: Uuid::nil(),
            role: Role::Owner,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
        };
        assert!(m.is_owner());
        m.role = Role::Admin;
        assert!(!m.is_owner());
        assert_eq!(serde_json::to_value(m).unwrap()["role"], "admin");
    }
}
