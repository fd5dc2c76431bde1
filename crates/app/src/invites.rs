//! Invitation use cases. A token is 256 random bits, shown once at
//! creation; only its SHA-256 is stored. Accepting needs a signed-in user
//! whose email is the invited one; a token works once and expires.

use std::sync::Arc;

use base64::Engine as _;
use chrono::TimeDelta;
use patchbay_domain::{Action, Email, Invite, Member, Role, User, can_invite};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::access::ProjectAccess;
use crate::error::{AppError, StoreError};
use crate::ports::{
    Clock, IdGenerator, InviteRepository, InviteWithProject, ProjectWithRole, constraint,
};

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
    /// 400 bad email or role; 403; 409 a pending invite for the email exists.
    pub async fn create(
        &self,
        access: &ProjectAccess,
        email: &str,
        role: &str,
    ) -> Result<CreatedInvite, AppError> {
        let email = Email::parse(email).map_err(|e| AppError::invalid_field("email", e))?;
        let role = Role::parse(role).map_err(|e| AppError::invalid_field("role", e))?;
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
                StoreError::Conflict(c) if c == constraint::INVITE_PENDING => {
                    AppError::conflict("A pending invite for this email already exists")
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
                StoreError::Conflict(c) if c == constraint::INVITE_ALREADY_ACCEPTED => {
                    AppError::gone("This invite has already been accepted")
                }
                StoreError::Conflict(c) if c == constraint::MEMBER_UNIQUE => {
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
mod tests {
    use super::*;

    #[test]
    fn token_hashes_are_stable_hex_sha256() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
