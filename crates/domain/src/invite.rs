//! Invites to a project: the [`Invite`] entity and the rule for accepting
//! one (unused, unexpired, addressed to the accepting user). Generating and
//! hashing the token is an adapter's job; the entity never holds it.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{DomainError, ErrorKind};
use crate::role::Role;
use crate::user::Email;

/// How long an invite stays valid unless configured otherwise.
pub const DEFAULT_INVITE_TTL: TimeDelta = TimeDelta::days(7);

/// An invitation to join a project with a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    /// The invite's id (UUID v7).
    pub id: Uuid,
    /// The project it grants access to.
    pub project_id: Uuid,
    /// Who may accept it (the accepting account's email must match).
    pub email: Email,
    /// The role it grants (never `owner`, never above the inviter's).
    pub role: Role,
    /// The user who created it.
    pub invited_by: Uuid,
    /// When it stops working (410 Gone after; seed 004: 7 days by default).
    pub expires_at: DateTime<Utc>,
    /// When it was accepted; `None` while pending.
    pub accepted_at: Option<DateTime<Utc>>,
    /// Creation time (UTC).
    pub created_at: DateTime<Utc>,
}

/// Why an invite cannot be accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InviteError {
    /// The token was already used.
    #[error("This invite has already been accepted")]
    AlreadyAccepted,
    /// The invite is past its expiry.
    #[error("This invite has expired")]
    Expired,
    /// The accepting user's email is not the invited one.
    #[error("This invite was sent to a different email address")]
    EmailMismatch,
}

impl InviteError {
    /// [`ErrorKind::Gone`] for a used or expired invite, [`ErrorKind::Forbidden`]
    /// for the wrong user.
    #[must_use]
    pub const fn kind(&self) -> ErrorKind {
        match self {
            Self::AlreadyAccepted | Self::Expired => ErrorKind::Gone,
            Self::EmailMismatch => ErrorKind::Forbidden,
        }
    }
}

impl DomainError for InviteError {
    fn kind(&self) -> ErrorKind {
        Self::kind(self)
    }
}

impl Invite {
    /// When an invite created at `now` expires by default.
    #[must_use]
    pub fn default_expiry(now: DateTime<Utc>) -> DateTime<Utc> {
        now + DEFAULT_INVITE_TTL
    }

    /// Whether the invite is past its expiry at `now` (expiry instant included).
    #[must_use]
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }

    /// Whether the invite can still be accepted by someone at `now`.
    #[must_use]
    pub fn is_pending(&self, now: DateTime<Utc>) -> bool {
        self.accepted_at.is_none() && !self.is_expired(now)
    }

    /// May the user with `email` accept this invite at `now`?
    ///
    /// # Errors
    /// [`InviteError::AlreadyAccepted`], then [`InviteError::Expired`], then
    /// [`InviteError::EmailMismatch`].
    pub fn check_acceptable(&self, now: DateTime<Utc>, email: &Email) -> Result<(), InviteError> {
        if self.accepted_at.is_some() {
            return Err(InviteError::AlreadyAccepted);
        }
        if self.is_expired(now) {
            return Err(InviteError::Expired);
        }
        if &self.email != email {
            return Err(InviteError::EmailMismatch);
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn email(local: &str) -> Email {
        Email::parse(&format!("{local}\u{40}example.com")).unwrap()
    }

    fn invite(now: DateTime<Utc>) -> Invite {
        Invite {
            id: Uuid::nil(),
            project_id: Uuid::nil(),
            email: email("friend"),
            role: Role::Member,
            invited_by: Uuid::nil(),
            expires_at: Invite::default_expiry(now),
            accepted_at: None,
            created_at: now,
        }
    }

    #[test]
    fn accepting() {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let inv = invite(now);
        assert_eq!(inv.expires_at - now, TimeDelta::days(7));
        assert!(inv.is_pending(now));
        assert_eq!(inv.check_acceptable(now, &email("friend")), Ok(()));
        // Emails compare case-insensitively because they are normalized.
        assert_eq!(inv.check_acceptable(now, &email("FRIEND")), Ok(()));
        assert_eq!(
            inv.check_acceptable(now, &email("stranger")),
            Err(InviteError::EmailMismatch)
        );
        let later = now + TimeDelta::days(7);
        assert!(!inv.is_pending(later));
        assert_eq!(
            inv.check_acceptable(later, &email("friend")),
            Err(InviteError::Expired)
        );
        let used = Invite {
            accepted_at: Some(now),
            ..inv
        };
        assert!(!used.is_pending(now));
        assert_eq!(
            used.check_acceptable(later, &email("friend")),
            Err(InviteError::AlreadyAccepted)
        );
        assert_eq!(InviteError::Expired.kind(), ErrorKind::Gone);
        assert_eq!(InviteError::AlreadyAccepted.kind(), ErrorKind::Gone);
        assert_eq!(InviteError::EmailMismatch.kind(), ErrorKind::Forbidden);
    }
}
