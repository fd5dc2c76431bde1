//! Invitation use cases. A token is 256 random bits, shown once at
//! creation; only its SHA-256 is stored. Accepting needs a signed-in user
//! whose email is the invited one; a token works once and expires.

use std::sync::Arc;

use base64::Engine as _;
use chrono::TimeDelta;
use patchbay_domain::{Action, Email, Invite, Member, Role, User, can_invite};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::Constraint;
use crate::access::ProjectAccess;
use crate::error::{AppError, StoreError};
use crate::ports::{Clock, IdGenerator, InviteRepository, InviteWithProject, ProjectWithRole};

/// A created invite and its token (the only time the token is available).
#[derive(Debug, Clone)]
pub struct CreatedInvite {
    pub invite: Invite,
    pub token: String,
}

/// Invitation use cases.
#[derive(Clone)]
pub struct InviteService {
    invites: Arc<dyn InviteRepository>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    ttl: TimeDelta,
}

impl std::fmt::Debug for InviteService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InviteService")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// The SHA-256 of a token, hex: what the store keeps and looks up by.
#[must_use]
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn invite_not_found() -> AppError {
    AppError::not_found("Invite not found")
}

impl InviteService {
    #[must_use]
    pub fn new(
        invites: Arc<dyn InviteRepository>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        ttl: TimeDelta,
    ) -> Self {
        Self {
            invites,
            clock,
            ids,
            ttl,
        }
    }

    /// Invites `email` with `role` (never above the inviter's own role).
    ///
    /// # Errors
    /// 400 bad email or role; 403; 409 a pending invite for the email exists,
    /// or the email belongs to a user who is already a member.
    pub async fn create(
        &self,
        access: &ProjectAccess,
        email: &str,
        role: &str,
    ) -> Result<CreatedInvite, AppError> {
        let email = Email::parse(email).map_err(|e| AppError::invalid_field("email", e))?;
        let role = Role::parse_assignable(role).map_err(|e| AppError::invalid_field("role", e))?;
        can_invite(access.role, role)?;
        let mut raw = [0u8; 32];
        rand::fill(&mut raw);
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        let now = self.clock.now();
        let invite = Invite {
            id: self.ids.new_id(),
            project_id: access.project.id,
            email,
            role,
            invited_by: access.user.id,
            expires_at: now + self.ttl,
            accepted_at: None,
            created_at: now,
        };
        let invite = self
            .invites
            .create_invite(invite, hash_token(&token), now)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(Constraint::InvitePendingEmail) => {
                    AppError::conflict("A pending invite for this email already exists")
                }
                StoreError::Conflict(Constraint::ProjectMember) => {
                    AppError::conflict("The user is already a member of this project")
                }
                other => other.into(),
            })?;
        Ok(CreatedInvite { invite, token })
    }

    /// # Errors
    /// 403; store failures.
    pub async fn list(&self, access: &ProjectAccess) -> Result<Vec<Invite>, AppError> {
        access.role.require(Action::ViewInvites)?;
        Ok(self
            .invites
            .list_pending_invites(access.project.id, self.clock.now())
            .await?)
    }

    /// # Errors
    /// 403; 404 unknown invite.
    pub async fn cancel(&self, access: &ProjectAccess, invite_id: Uuid) -> Result<(), AppError> {
        access.role.require(Action::ManageInvites)?;
        self.invites
            .delete_invite(access.project.id, invite_id)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => invite_not_found(),
                other => other.into(),
            })
    }

    /// What a token invites to.
    ///
    /// # Errors
    /// 404 unknown token; 410 used or expired.
    pub async fn show(&self, token: &str) -> Result<InviteWithProject, AppError> {
        let found = self.lookup(token).await?;
        let now = self.clock.now();
        if found.invite.accepted_at.is_some() {
            return Err(AppError::gone("This invite has already been accepted"));
        }
        if found.invite.is_expired(now) {
            return Err(AppError::gone("This invite has expired"));
        }
        Ok(found)
    }

    /// Joins the project the token invites to.
    ///
    /// # Errors
    /// 404 unknown token; 410 used or expired; 403 another email; 409
    /// already a member.
    pub async fn accept(&self, user: &User, token: &str) -> Result<ProjectWithRole, AppError> {
        let found = self.lookup(token).await?;
        let now = self.clock.now();
        found.invite.check_acceptable(now, &user.email)?;
        let member = Member {
            id: self.ids.new_id(),
            project_id: found.project.id,
            user_id: user.id,
            role: found.invite.role,
            created_at: now,
        };
        self.invites
            .accept_invite(found.invite.id, member, now)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(Constraint::InviteAlreadyAccepted) => {
                    AppError::gone("This invite has already been accepted")
                }
                StoreError::Conflict(Constraint::ProjectMember) => {
                    AppError::conflict("You are already a member of this project")
                }
                other => other.into(),
            })?;
        Ok(ProjectWithRole {
            project: found.project,
            role: found.invite.role,
        })
    }

    /// Pending invites addressed to the caller.
    ///
    /// # Errors
    /// Store failures.
    pub async fn mine(&self, user: &User) -> Result<Vec<InviteWithProject>, AppError> {
        Ok(self
            .invites
            .list_invites_for_email(&user.email, self.clock.now())
            .await?)
    }

    async fn lookup(&self, token: &str) -> Result<InviteWithProject, AppError> {
        if token.is_empty() || token.len() > 128 {
            return Err(invite_not_found());
        }
        self.invites
            .find_invite_by_token_hash(&hash_token(token))
            .await?
            .ok_or_else(invite_not_found)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::AppErrorKind;
    use crate::ports::{MockInviteRepository, UuidV7Generator};
    use crate::test_support::{address, clock_at, email, now, project, project_access, user};
    use chrono::{DateTime, Utc};

    #[test]
    fn token_hashes_are_stable_hex_sha256() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    const TTL: TimeDelta = TimeDelta::days(7);

    fn service_at(invites: MockInviteRepository, at: DateTime<Utc>) -> InviteService {
        InviteService::new(
            Arc::new(invites),
            Arc::new(clock_at(at)),
            Arc::new(UuidV7Generator),
            TTL,
        )
    }

    fn service(invites: MockInviteRepository) -> InviteService {
        service_at(invites, now())
    }

    fn access(role: Role) -> ProjectAccess {
        ProjectAccess {
            user: user("inviter"),
            ..project_access(role)
        }
    }

    /// A pending invite for `local` with `role`, created a day before `now()`.
    fn found(local: &str, role: Role) -> InviteWithProject {
        let project = project(Uuid::now_v7());
        InviteWithProject {
            invite: Invite {
                id: Uuid::now_v7(),
                project_id: project.id,
                email: email(local),
                role,
                invited_by: Uuid::now_v7(),
                expires_at: now() - TimeDelta::days(1) + TTL,
                accepted_at: None,
                created_at: now() - TimeDelta::days(1),
            },
            project,
        }
    }

    /// An invite store that finds `invite` by the hash of `token` only.
    fn finding(token: &str, invite: Option<InviteWithProject>) -> MockInviteRepository {
        let hash = hash_token(token);
        let mut invites = MockInviteRepository::new();
        invites
            .expect_find_invite_by_token_hash()
            .withf(move |h| h == hash)
            .returning(move |_| Ok(invite.clone()));
        invites
    }

    #[tokio::test]
    async fn create_refuses_roles_the_inviter_may_not_grant_and_bad_fields() {
        let mut invites = MockInviteRepository::new();
        invites.expect_create_invite().never();
        let svc = service(invites);
        let friend = address("friend");
        for (actor, role, kind) in [
            (Role::Admin, "owner", AppErrorKind::BadRequest),
            (Role::Owner, "owner", AppErrorKind::BadRequest),
            (Role::Member, "viewer", AppErrorKind::Forbidden),
            (Role::Viewer, "viewer", AppErrorKind::Forbidden),
        ] {
            let err = svc.create(&access(actor), &friend, role).await.unwrap_err();
            assert_eq!(err.kind, kind, "{actor} inviting {role}: {err}");
        }
        let err = svc
            .create(&access(Role::Admin), "not an address", "member")
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::BadRequest);
        assert!(err.message.starts_with("email: "), "{err}");
        let err = svc
            .create(&access(Role::Admin), &friend, "boss")
            .await
            .unwrap_err();
        assert!(err.message.starts_with("role: "), "{err}");
    }

    #[tokio::test]
    async fn create_stores_only_the_hash_of_the_token_it_returns() {
        let access = access(Role::Admin);
        let project_id = access.project.id;
        let inviter = access.user.id;
        let stored = Arc::new(Mutex::new(String::new()));
        let keep = Arc::clone(&stored);
        let mut invites = MockInviteRepository::new();
        invites
            .expect_create_invite()
            .times(1)
            .withf(move |invite, hash, at| {
                invite.project_id == project_id
                    && invite.email == email("friend")
                    && invite.role == Role::Member
                    && invite.invited_by == inviter
                    && invite.accepted_at.is_none()
                    && invite.created_at == now()
                    && invite.expires_at == now() + TTL
                    && *at == now()
                    && hash.len() == 64
                    && hash
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            })
            .returning(move |invite, hash, _| {
                *keep.lock().unwrap() = hash;
                Ok(invite)
            });
        let created = service(invites)
            .create(&access, &address("  Friend"), "member")
            .await
            .unwrap();
        let stored = stored.lock().unwrap().clone();
        assert_eq!(hash_token(&created.token), stored);
        assert_ne!(created.token, stored);
        assert!(!stored.contains(&created.token));
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&created.token)
            .unwrap();
        assert_eq!(raw.len(), 32, "256 random bits");
        assert_eq!(created.invite.role, Role::Member);
    }

    #[tokio::test]
    async fn tokens_differ_between_invites() {
        let hashes = Arc::new(Mutex::new(Vec::<String>::new()));
        let keep = Arc::clone(&hashes);
        let mut invites = MockInviteRepository::new();
        invites
            .expect_create_invite()
            .times(2)
            .returning(move |invite, hash, _| {
                keep.lock().unwrap().push(hash);
                Ok(invite)
            });
        let svc = service(invites);
        let a = svc
            .create(&access(Role::Owner), &address("a"), "viewer")
            .await
            .unwrap();
        let b = svc
            .create(&access(Role::Owner), &address("b"), "viewer")
            .await
            .unwrap();
        assert_ne!(a.token, b.token);
        let hashes = hashes.lock().unwrap();
        assert_ne!(hashes[0], hashes[1]);
    }

    #[tokio::test]
    async fn create_maps_a_pending_invite_to_409() {
        let mut invites = MockInviteRepository::new();
        invites
            .expect_create_invite()
            .returning(|_, _, _| Err(StoreError::Conflict(Constraint::InvitePendingEmail)));
        let err = service(invites)
            .create(&access(Role::Admin), &address("friend"), "viewer")
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Conflict);
        assert_eq!(
            err.message,
            "A pending invite for this email already exists"
        );
    }

    #[tokio::test]
    async fn show_unknown_tokens_are_404() {
        let err = service(finding("nope", None))
            .show("nope")
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
        assert_eq!(err.message, "Invite not found");

        let mut invites = MockInviteRepository::new();
        invites.expect_find_invite_by_token_hash().never();
        let svc = service(invites);
        for silly in [String::new(), "x".repeat(129)] {
            let err = svc.show(&silly).await.unwrap_err();
            assert_eq!(err.kind, AppErrorKind::NotFound);
        }
    }

    #[tokio::test]
    async fn show_pending_invites_and_410_for_used_or_expired_ones() {
        let pending = found("friend", Role::Member);
        let shown = service(finding("t", Some(pending.clone())))
            .show("t")
            .await
            .unwrap();
        assert_eq!(shown, pending);

        let mut used = pending.clone();
        used.invite.accepted_at = Some(now() - TimeDelta::hours(1));
        let err = service(finding("t", Some(used)))
            .show("t")
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Gone);
        assert_eq!(err.message, "This invite has already been accepted");

        let mut expired = pending.clone();
        expired.invite.expires_at = now() - TimeDelta::seconds(1);
        let err = service(finding("t", Some(expired)))
            .show("t")
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Gone);
        assert_eq!(err.message, "This invite has expired");

        // Expiry is read from the clock: the same invite, a week later.
        let err = service_at(
            finding("t", Some(pending.clone())),
            pending.invite.expires_at,
        )
        .show("t")
        .await
        .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Gone);
    }

    #[tokio::test]
    async fn accept_by_another_email_is_403_and_never_accepts() {
        let mut invites = finding("t", Some(found("friend", Role::Member)));
        invites.expect_accept_invite().never();
        let err = service(invites)
            .accept(&user("stranger"), "t")
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Forbidden);
        assert_eq!(
            err.message,
            "This invite was sent to a different email address"
        );
    }

    #[tokio::test]
    async fn accept_refuses_used_and_expired_invites_before_the_store() {
        let mut used = found("friend", Role::Member);
        used.invite.accepted_at = Some(now());
        let mut invites = finding("t", Some(used));
        invites.expect_accept_invite().never();
        let err = service(invites)
            .accept(&user("friend"), "t")
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Gone);

        let pending = found("friend", Role::Member);
        let at = pending.invite.expires_at;
        let mut invites = finding("t", Some(pending));
        invites.expect_accept_invite().never();
        let err = service_at(invites, at)
            .accept(&user("friend"), "t")
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Gone);
        assert_eq!(err.message, "This invite has expired");
    }

    #[tokio::test]
    async fn accept_joins_with_the_invited_role() {
        let invite = found("friend", Role::Viewer);
        let (invite_id, project_id) = (invite.invite.id, invite.project.id);
        let joiner = user("friend");
        let joiner_id = joiner.id;
        let mut invites = finding("t", Some(invite));
        invites
            .expect_accept_invite()
            .times(1)
            .withf(move |id, m, at| {
                *id == invite_id
                    && m.project_id == project_id
                    && m.user_id == joiner_id
                    && m.role == Role::Viewer
                    && *at == now()
            })
            .returning(|_, _, _| Ok(()));
        let joined = service(invites).accept(&joiner, "t").await.unwrap();
        assert_eq!(joined.role, Role::Viewer);
        assert_eq!(joined.project.id, project_id);
    }

    #[tokio::test]
    async fn accept_maps_races_in_the_store() {
        for (constraint, kind) in [
            (Constraint::InviteAlreadyAccepted, AppErrorKind::Gone),
            (Constraint::ProjectMember, AppErrorKind::Conflict),
        ] {
            let mut invites = finding("t", Some(found("friend", Role::Member)));
            invites
                .expect_accept_invite()
                .times(1)
                .returning(move |_, _, _| Err(StoreError::Conflict(constraint)));
            let err = service(invites)
                .accept(&user("friend"), "t")
                .await
                .unwrap_err();
            assert_eq!(err.kind, kind, "{constraint}");
        }
    }

    #[tokio::test]
    async fn list_and_cancel_need_their_roles() {
        let mut invites = MockInviteRepository::new();
        invites.expect_delete_invite().never();
        invites
            .expect_list_pending_invites()
            .times(1)
            .withf(|_, at| *at == now())
            .returning(|_, _| Ok(Vec::new()));
        let svc = service(invites);
        assert!(svc.list(&access(Role::Viewer)).await.unwrap().is_empty());
        let err = svc
            .cancel(&access(Role::Member), Uuid::now_v7())
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Forbidden);

        let mut invites = MockInviteRepository::new();
        invites
            .expect_delete_invite()
            .times(1)
            .returning(|_, _| Err(StoreError::NotFound));
        let err = service(invites)
            .cancel(&access(Role::Admin), Uuid::now_v7())
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
        assert_eq!(err.message, "Invite not found");
    }
}
