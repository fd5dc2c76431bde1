//! Accounts and sessions: register, log in, resolve a bearer token to a user.
//! Validation of emails, names and passwords is the domain's; this module
//! decides the order of checks and what a client is told.

use std::sync::Arc;

use patchbay_domain::{DisplayName, Email, Password, User};
use uuid::Uuid;

use crate::error::{AppError, StoreError};
use crate::ports::{AdminGrant, Clock, IdGenerator, NewUser, PasswordHasher, UserRepository};
use crate::security::{IssuedToken, TokenService};

/// A registration request as received (unvalidated).
#[derive(Debug, Clone)]
pub struct RegisterInput {
    pub email: String,
    pub password: String,
    pub name: String,
}

/// The account use cases.
#[derive(Clone)]
pub struct AuthService {
    users: Arc<dyn UserRepository>,
    hasher: Arc<dyn PasswordHasher>,
    tokens: TokenService,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    signup_enabled: bool,
    /// A hash of a random password, verified against when the email is
    /// unknown so that login answers take the same time either way.
    decoy_hash: Arc<tokio::sync::OnceCell<String>>,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService")
            .field("signup_enabled", &self.signup_enabled)
            .finish_non_exhaustive()
    }
}

impl AuthService {
    #[must_use]
    pub fn new(
        users: Arc<dyn UserRepository>,
        hasher: Arc<dyn PasswordHasher>,
        tokens: TokenService,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        signup_enabled: bool,
    ) -> Self {
        Self {
            users,
            hasher,
            tokens,
            clock,
            ids,
            signup_enabled,
            decoy_hash: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    /// Self-service sign-up. The first account of the instance is its admin.
    ///
    /// # Errors
    /// 403 when sign-up is disabled; 400 naming the first invalid field; 409
    /// when the email is already registered.
    pub async fn register(&self, input: RegisterInput) -> Result<(User, IssuedToken), AppError> {
        if !self.signup_enabled {
            return Err(AppError::forbidden("Sign-up is disabled on this instance"));
        }
        let user = self.create(input, AdminGrant::FirstUserOnly).await?;
        let token = self.tokens.issue(user.id, self.clock.now())?;
        Ok((user, token))
    }

    /// Creates an account without issuing a token (the CLI's `user create`).
    ///
    /// # Errors
    /// As [`AuthService::register`], minus the sign-up switch.
    pub async fn create_user(&self, input: RegisterInput, admin: bool) -> Result<User, AppError> {
        let grant = if admin {
            AdminGrant::Always
        } else {
            AdminGrant::FirstUserOnly
        };
        self.create(input, grant).await
    }

    async fn create(&self, input: RegisterInput, grant: AdminGrant) -> Result<User, AppError> {
        let email = Email::parse(&input.email).map_err(|e| AppError::invalid_field("email", e))?;
        let name =
            DisplayName::parse(&input.name).map_err(|e| AppError::invalid_field("name", e))?;
        let password =
            Password::parse(&input.password).map_err(|e| AppError::invalid_field("password", e))?;
        let password_hash = self
            .hasher
            .hash(password.expose().to_owned())
            .await
            .map_err(AppError::internal)?;
        let new = NewUser {
            id: self.ids.new_id(),
            email,
            name: name.as_str().to_owned(),
            password_hash,
            now: self.clock.now(),
        };
        self.users
            .create_user(new, grant)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    AppError::conflict("A user with this email already exists")
                }
                other => other.into(),
            })
    }

    /// Exchanges email + password for a token.
    ///
    /// # Errors
    /// 400 when a field is missing or malformed; 401 `Invalid email or
    /// password` for an unknown email or a wrong password (the same answer,
    /// in about the same time).
    pub async fn login(
        &self,
        email: &str,
        password: &str,
    ) -> Result<(User, IssuedToken), AppError> {
        let invalid = || AppError::unauthorized("Invalid email or password");
        let Ok(email) = Email::parse(email) else {
            return Err(invalid());
        };
        if password.is_empty() || password.chars().count() > 1024 {
            return Err(invalid());
        }
        match self.users.find_user_by_email(&email).await? {
            Some(found) => {
                if self
                    .hasher
                    .verify(password.to_owned(), found.password_hash)
                    .await
                {
                    let token = self.tokens.issue(found.user.id, self.clock.now())?;
                    Ok((found.user, token))
                } else {
                    Err(invalid())
                }
            }
            None => {
                let decoy = self.decoy().await?;
                let _ = self.hasher.verify(password.to_owned(), decoy).await;
                Err(invalid())
            }
        }
    }

    async fn decoy(&self) -> Result<String, AppError> {
        let hasher = Arc::clone(&self.hasher);
        self.decoy_hash
            .get_or_try_init(|| async move {
                hasher
                    .hash(Uuid::new_v4().to_string())
                    .await
                    .map_err(AppError::internal)
            })
            .await
            .cloned()
    }

    /// Checks a bearer token (signature, claims, algorithm) without touching
    /// the store, and returns the user id it names. Project- and
    /// environment-scoped requests look that user up together with their
    /// scope ([`crate::access::AccessService`]), in one round trip.
    ///
    /// # Errors
    /// 401 for any token problem ([`TokenService::verify`]).
    pub fn verify_token(&self, token: &str) -> Result<Uuid, AppError> {
        self.tokens.verify(token)
    }

    /// Resolves a bearer token to its (still existing) user.
    ///
    /// # Errors
    /// 401 for any token problem or when the user no longer exists.
    pub async fn authenticate(&self, token: &str) -> Result<User, AppError> {
        let id = self.tokens.verify(token)?;
        self.users
            .find_user_by_id(id)
            .await?
            .ok_or_else(|| AppError::unauthorized("Invalid token"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::AppErrorKind;
    use crate::Constraint;
    use crate::ports::{MockPasswordHasher, MockUserRepository, SystemClock, UuidV7Generator};
    use crate::security::JwtSettings;
    use crate::test_support::user;
    use chrono::Utc;
    use mockall::predicate::always;

    fn tokens() -> TokenService {
        TokenService::new(JwtSettings {
            secret: vec![7; 32],
            issuer: "patchbay".into(),
            audience: "patchbay-api".into(),
            ttl_seconds: 60,
        })
        .unwrap()
    }

    fn service(users: MockUserRepository, hasher: MockPasswordHasher, signup: bool) -> AuthService {
        AuthService::new(
            Arc::new(users),
            Arc::new(hasher),
            tokens(),
            Arc::new(SystemClock),
            Arc::new(UuidV7Generator),
            signup,
        )
    }

    fn input(email: &str, password: &str) -> RegisterInput {
        RegisterInput {
            email: email.into(),
            password: password.into(),
            name: "Ada".into(),
        }
    }

    #[tokio::test]
    async fn register_hashes_then_stores_with_first_user_policy() {
        let mut hasher = MockPasswordHasher::new();
        hasher
            .expect_hash()
            .withf(|p| p == "long enough")
            .returning(|_| Ok("$argon2id$fake".into()));
        let mut users = MockUserRepository::new();
        users
            .expect_create_user()
            .withf(|new, grant| {
                new.email.as_str() == "ada@example.com"
                    && new.password_hash == "$argon2id$fake"
                    && *grant == AdminGrant::FirstUserOnly
            })
            .returning(|new, _| {
                Ok(User {
                    id: new.id,
                    email: new.email,
                    name: new.name,
                    is_admin: true,
                    created_at: new.now,
                    updated_at: new.now,
                })
            });
        let svc = service(users, hasher, true);
        let (u, token) = svc
            .register(input("  Ada@Example.com ", "long enough"))
            .await
            .unwrap();
        assert_eq!(u.email.as_str(), "ada@example.com");
        assert_eq!(tokens().verify(&token.token).unwrap(), u.id);
    }

    #[tokio::test]
    async fn register_rejects_bad_fields_before_touching_the_store() {
        let svc = service(MockUserRepository::new(), MockPasswordHasher::new(), true);
        let err = svc
            .register(input("nope", "long enough"))
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::BadRequest);
        assert!(err.message.starts_with("email"));
        let err = svc
            .register(input("a@example.com", "short"))
            .await
            .unwrap_err();
        assert!(err.message.starts_with("password"));
    }

    #[tokio::test]
    async fn duplicate_email_is_a_conflict_and_disabled_signup_forbidden() {
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_hash().returning(|_| Ok("h".into()));
        let mut users = MockUserRepository::new();
        users
            .expect_create_user()
            .returning(|_, _| Err(StoreError::Conflict(Constraint::UserEmail)));
        let svc = service(users, hasher, true);
        let err = svc
            .register(input("a@example.com", "long enough"))
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Conflict);

        let closed = service(MockUserRepository::new(), MockPasswordHasher::new(), false);
        let err = closed
            .register(input("a@example.com", "long enough"))
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Forbidden);
    }

    #[tokio::test]
    async fn login_answers_the_same_for_unknown_email_and_wrong_password() {
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_hash().returning(|_| Ok("decoy".into()));
        hasher
            .expect_verify()
            .with(always(), always())
            .returning(|_, _| false);
        let mut users = MockUserRepository::new();
        users
            .expect_find_user_by_email()
            .withf(|e| e.as_str() == "known@example.com")
            .returning(|e| {
                Ok(Some(crate::ports::UserWithHash {
                    user: User {
                        email: e.clone(),
                        ..user("known")
                    },
                    password_hash: "h".into(),
                }))
            });
        users.expect_find_user_by_email().returning(|_| Ok(None));
        let svc = service(users, hasher, true);
        let a = svc.login("known@example.com", "wrong").await.unwrap_err();
        let b = svc.login("unknown@example.com", "wrong").await.unwrap_err();
        assert_eq!(a, b);
        assert_eq!(a.kind, AppErrorKind::Unauthorized);
    }

    #[tokio::test]
    async fn authenticate_refuses_tokens_of_deleted_users() {
        let mut users = MockUserRepository::new();
        users.expect_find_user_by_id().returning(|_| Ok(None));
        let svc = service(users, MockPasswordHasher::new(), true);
        let token = tokens().issue(Uuid::now_v7(), Utc::now()).unwrap();
        let err = svc.authenticate(&token.token).await.unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Unauthorized);
    }
}
