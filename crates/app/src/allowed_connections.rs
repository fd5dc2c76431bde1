//! The allowed-connection rules: anyone signed in may read them; only
//! instance administrators change them. Changes apply to the next create on
//! every server, since creates read the rules from the database.

use std::sync::Arc;

use patchbay_domain::{ResourceType, User};

use crate::Constraint;
use crate::error::{AppError, StoreError};
use crate::ports::{AllowedConnectionRepository, AllowedConnectionRule, Clock};

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
                StoreError::Conflict(Constraint::AllowedConnectionPair) => AppError::conflict(
                    format!("Connections from {source} to {target} are already allowed"),
                ),
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::AppErrorKind;
    use crate::ports::MockAllowedConnectionRepository;
    use crate::test_support::{admin, clock, now, user};

    fn service(rules: MockAllowedConnectionRepository) -> AllowedConnectionService {
        AllowedConnectionService::new(Arc::new(rules), Arc::new(clock()))
    }

    #[tokio::test]
    async fn non_admins_cannot_change_the_rules() {
        let mut rules = MockAllowedConnectionRepository::new();
        rules.expect_add_allowed().never();
        rules.expect_delete_allowed().never();
        let svc = service(rules);
        let err = svc
            .add(&user("ada"), "application", "database")
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Forbidden);
        assert_eq!(
            err.message,
            "Only instance administrators can change allowed connections"
        );
        // Refused before the input is even looked at.
        let err = svc.add(&user("ada"), "nope", "nope").await.unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Forbidden);
        let err = svc.delete(&user("ada"), 1).await.unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Forbidden);
    }

    #[tokio::test]
    async fn anyone_may_list_the_rules() {
        let mut rules = MockAllowedConnectionRepository::new();
        rules.expect_list_allowed().times(1).returning(|| {
            Ok(vec![AllowedConnectionRule {
                id: 1,
                source_type: ResourceType::Application,
                target_type: ResourceType::Instance,
                created_at: now(),
            }])
        });
        assert_eq!(service(rules).list().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn admins_add_rules_by_parsed_type() {
        let mut rules = MockAllowedConnectionRepository::new();
        rules
            .expect_add_allowed()
            .times(1)
            .withf(|s, t, at| {
                *s == ResourceType::Application && *t == ResourceType::Database && *at == now()
            })
            .returning(|s, t, at| {
                Ok(AllowedConnectionRule {
                    id: 8,
                    source_type: s,
                    target_type: t,
                    created_at: at,
                })
            });
        let rule = service(rules)
            .add(&admin("ada"), "application", "database")
            .await
            .unwrap();
        assert_eq!(rule.id, 8);
    }

    #[tokio::test]
    async fn admins_get_400_for_unknown_types_without_a_store_call() {
        let mut rules = MockAllowedConnectionRepository::new();
        rules.expect_add_allowed().never();
        let svc = service(rules);
        let err = svc
            .add(&admin("ada"), "server", "database")
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::BadRequest);
        assert!(err.message.starts_with("source_type: "), "{err}");
        let err = svc
            .add(&admin("ada"), "application", "Database")
            .await
            .unwrap_err();
        assert!(err.message.starts_with("target_type: "), "{err}");
    }

    #[tokio::test]
    async fn an_existing_rule_is_409() {
        let mut rules = MockAllowedConnectionRepository::new();
        rules
            .expect_add_allowed()
            .returning(|_, _, _| Err(StoreError::Conflict(Constraint::AllowedConnectionPair)));
        let err = service(rules)
            .add(&admin("ada"), "application", "instance")
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Conflict);
        assert_eq!(
            err.message,
            "Connections from application to instance are already allowed"
        );
    }

    #[tokio::test]
    async fn deleting_an_unknown_rule_is_404() {
        let mut rules = MockAllowedConnectionRepository::new();
        rules
            .expect_delete_allowed()
            .times(1)
            .withf(|id| *id == 42)
            .returning(|_| Err(StoreError::NotFound));
        let err = service(rules).delete(&admin("ada"), 42).await.unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
        assert_eq!(err.message, "Allowed connection not found");
    }

    #[tokio::test]
    async fn admins_delete_rules() {
        let mut rules = MockAllowedConnectionRepository::new();
        rules
            .expect_delete_allowed()
            .times(1)
            .withf(|id| *id == 3)
            .returning(|_| Ok(()));
        service(rules).delete(&admin("ada"), 3).await.unwrap();
    }
}
