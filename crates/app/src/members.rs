//! Membership use cases: list, add, change role, remove or leave, transfer
//! ownership. Who may do what is the domain's rule set
//! (`can_assign_role`, `can_remove_member`, `transfer_ownership`).

use std::sync::Arc;

use patchbay_domain::{
    Action, Member, Project, Role, can_assign_role, can_remove_member, transfer_ownership,
};
use uuid::Uuid;

use crate::access::ProjectAccess;
use crate::error::{AppError, StoreError};
use crate::ports::{Clock, IdGenerator, MemberRepository, MemberView, UserRepository, constraint};

/// Membership use cases.
#[derive(Clone)]
pub struct MemberService {
    members: Arc<dyn MemberRepository>,
    users: Arc<dyn UserRepository>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

impl std::fmt::Debug for MemberService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberService").finish_non_exhaustive()
    }
}

fn member_not_found() -> AppError {
    AppError::not_found("Member not found")
}

impl MemberService {
    #[must_use]
    pub fn new(
        members: Arc<dyn MemberRepository>,
        users: Arc<dyn UserRepository>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self {
            members,
            users,
            clock,
            ids,
        }
    }

    /// # Errors
    /// 403 below the needed role; store failures.
    pub async fn list(&self, access: &ProjectAccess) -> Result<Vec<MemberView>, AppError> {
        access.role.require(Action::ListMembers)?;
        Ok(self.members.list_members(access.project.id).await?)
    }

    /// Adds an existing user with a role (never owner, never above the
    /// caller's own).
    ///
    /// # Errors
    /// 400 for a bad role; 403; 404 unknown user; 409 already a member.
    pub async fn add(
        &self,
        access: &ProjectAccess,
        user_id: Uuid,
        role: &str,
    ) -> Result<MemberView, AppError> {
        let role = Role::parse(role).map_err(|e| AppError::invalid_field("role", e))?;
        can_assign_role(access.role, None, role)?;
        if self.users.find_user_by_id(user_id).await?.is_none() {
            return Err(AppError::not_found("User not found"));
        }
        let member = Member {
            id: self.ids.new_id(),
            project_id: access.project.id,
            user_id,
            role,
            created_at: self.clock.now(),
        };
        self.members.add_member(member).await.map_err(|e| match e {
            StoreError::Conflict(c) if c == constraint::MEMBER_UNIQUE => {
                AppError::conflict("The user is already a member of this project")
            }
            StoreError::MissingReference(_) => AppError::not_found("User not found"),
            other => other.into(),
        })
    }

    /// Changes a member's role.
    ///
    /// # Errors
    /// 400 bad role; 403 by the domain's rules; 404 unknown member.
    pub async fn update_role(
        &self,
        access: &ProjectAccess,
        member_id: Uuid,
        role: &str,
    ) -> Result<MemberView, AppError> {
        let role = Role::parse(role).map_err(|e| AppError::invalid_field("role", e))?;
        let target = self.find(access, member_id).await?;
        can_assign_role(access.role, Some(target.role), role)?;
        self.members
            .update_member_role(access.project.id, target.id, role)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => member_not_found(),
                other => other.into(),
            })
    }

    /// Removes a member, or lets a member leave (when it names itself).
    ///
    /// # Errors
    /// 403/409 by the domain's rules; 404 unknown member.
    pub async fn remove(&self, access: &ProjectAccess, member_id: Uuid) -> Result<(), AppError> {
        let target = self.find(access, member_id).await?;
        can_remove_member(access.role, target.user_id == access.user.id, target.role)?;
        self.members
            .remove_member(access.project.id, target.id)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => member_not_found(),
                other => other.into(),
            })
    }

    /// Hands the project to another member; the old owner becomes admin.
    ///
    /// # Errors
    /// 403 unless the caller is the owner; 400 when the target is not a
    /// member or already the owner.
    pub async fn transfer(
        &self,
        access: &ProjectAccess,
        new_owner_id: Uuid,
    ) -> Result<Project, AppError> {
        access.role.require(Action::TransferOwnership)?;
        let target = self
            .members
            .find_member(access.project.id, new_owner_id)
            .await?;
        transfer_ownership(access.role, target.map(|m| m.role))?;
        Ok(self
            .members
            .transfer_ownership(
                access.project.id,
                access.user.id,
                new_owner_id,
                self.clock.now(),
            )
            .await?)
    }

    async fn find(&self, access: &ProjectAccess, id: Uuid) -> Result<Member, AppError> {
        self.members
            .find_member_by_id_or_user(access.project.id, id)
            .await?
            .ok_or_else(member_not_found)
    }
}
