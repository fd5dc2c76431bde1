//! The allowed-connection rules: anyone signed in may read them; only
//! instance administrators change them. Changes apply to the next create on
//! every server, since creates read the rules from the database.

use std::sync::Arc;

use patchbay_domain::{ResourceType, User};

use crate::error::{AppError, StoreError};
use crate::ports::{AllowedConnectionRepository, AllowedConnectionRule, Clock, canvas_constraint};

/// Rule use cases.
#[derive(Clone)]
pub struct AllowedConnectionService {
    rules: Arc<dyn AllowedConnectionRepository>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for AllowedConnectionService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AllowedConnectionService")
            .finish_non_exhaustive()
    }
}

fn require_admin(user: &User) -> Result<(), AppError> {
    if user.is_admin {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "Only instance administrators can change allowed connections",
        ))
    }
}

impl AllowedConnectionService {
    #[must_use]
    pub fn new(rules: Arc<dyn AllowedConnectionRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { rules, clock }
    }

    /// # Errors
    /// Store failures.
    pub async fn list(&self) -> Result<Vec<AllowedConnectionRule>, AppError> {
        Ok(self.rules.list_allowed().await?)
    }

    /// # Errors
    /// 400 bad type; 403 not an instance admin; 409 the rule exists.
    pub async fn add(
        &self,
        user: &User,
        source_type: &str,
        target_type: &str,
    ) -> Result<AllowedConnectionRule, AppError> {
        require_admin(user)?;
        let source = ResourceType::parse(source_type)
            .map_err(|e| AppError::invalid_field("source_type", e))?;
        let target = ResourceType::parse(target_type)
            .map_err(|e| AppError::invalid_field("target_type", e))?;
        self.rules
            .add_allowed(source, target, self.clock.now())
            .await
            .map_err(|e| match e {
                StoreError::Conflict(c) if c == canvas_constraint::ALLOWED_PAIR => {
                    AppError::conflict(format!(
                        "Connections from {source} to {target} are already allowed"
                    ))
                }
                other => other.into(),
            })
    }

    /// # Errors
    /// 403 not an instance admin; 404 unknown rule.
    pub async fn delete(&self, user: &User, id: i64) -> Result<(), AppError> {
        require_admin(user)?;
        self.rules.delete_allowed(id).await.map_err(|e| match e {
            StoreError::NotFound => AppError::not_found("Allowed connection not found"),
            other => other.into(),
        })
    }
}
