//! Ports of the tenancy spine: projects, members, invites, environments.
//! Every write that must be atomic is one method, so the store can wrap it in
//! one transaction. Uniqueness (project names, environment names within a
//! project, one owner, one default environment, one membership per user) is
//! enforced by the store's unique indexes and reported as
//! [`StoreError::Conflict`] with the index name.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use patchbay_domain::{Email, Environment, EnvironmentError, Invite, Member, Page, Project, Role};
use uuid::Uuid;

use crate::error::StoreError;

/// A project with the caller's role in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectWithRole {
    pub project: Project,
    pub role: Role,
}

/// A member with the user's public details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    pub member: Member,
    pub email: Email,
    pub name: String,
}

/// An invite with the project it invites to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteWithProject {
    pub invite: Invite,
    pub project: Project,
}

/// What cloning an environment copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloneReport {
    pub environment: Environment,
    pub resources: u64,
    pub resource_connections: u64,
    pub credential_connections: u64,
}

/// Projects.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ProjectRepository: Send + Sync {
    /// Inserts the project, the owner's membership and the default
    /// environment in one transaction.
    ///
    /// # Errors
    /// `Conflict(Constraint::ProjectName)` when the name is taken.
    async fn create_project(
        &self,
        project: Project,
        owner: Member,
        default_environment: Environment,
    ) -> Result<Project, StoreError>;

    /// # Errors
    /// Backend failures only.
    async fn find_project(&self, id: Uuid) -> Result<Option<Project>, StoreError>;

    /// # Errors
    /// Backend failures only.
    async fn find_project_by_name(&self, name: &str) -> Result<Option<Project>, StoreError>;

    /// The projects `user_id` is a member of, newest first, with the total.
    ///
    /// # Errors
    /// Backend failures only.
    async fn list_projects_for_user(
        &self,
        user_id: Uuid,
        page: Page,
    ) -> Result<(Vec<ProjectWithRole>, i64), StoreError>;

    /// Writes every mutable column of `project` (by id).
    ///
    /// # Errors
    /// `NotFound`; `Conflict(Constraint::ProjectName)` when renamed onto a taken name.
    async fn update_project(&self, project: Project) -> Result<Project, StoreError>;

    /// Deletes the project and everything in it, in one transaction.
    ///
    /// # Errors
    /// `NotFound`.
    async fn delete_project(&self, id: Uuid) -> Result<(), StoreError>;
}

/// Project membership.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait MemberRepository: Send + Sync {
    /// The membership of `user_id` in `project_id`.
    ///
    /// # Errors
    /// Backend failures only.
    async fn find_member(
        &self,
        project_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<Member>, StoreError>;

    /// A membership by its own id, or by the member's user id.
    ///
    /// # Errors
    /// Backend failures only.
    async fn find_member_by_id_or_user(
        &self,
        project_id: Uuid,
        id: Uuid,
    ) -> Result<Option<Member>, StoreError>;

    /// Members with their users' email and name, owner first then by join
    /// time.
    ///
    /// # Errors
    /// Backend failures only.
    async fn list_members(&self, project_id: Uuid) -> Result<Vec<MemberView>, StoreError>;

    /// # Errors
    /// `Conflict(Constraint::ProjectMember)` when already a member; `MissingReference`
    /// when the user does not exist.
    async fn add_member(&self, member: Member) -> Result<MemberView, StoreError>;

    /// # Errors
    /// `NotFound`.
    async fn update_member_role(
        &self,
        project_id: Uuid,
        member_id: Uuid,
        role: Role,
    ) -> Result<MemberView, StoreError>;

    /// # Errors
    /// `NotFound`.
    async fn remove_member(&self, project_id: Uuid, member_id: Uuid) -> Result<(), StoreError>;

    /// In one transaction: the current owner becomes admin, `to_user`
    /// becomes owner, and the project's `owner_id` follows.
    ///
    /// # Errors
    /// `NotFound` when either membership is missing.
    async fn transfer_ownership(
        &self,
        project_id: Uuid,
        from_user: Uuid,
        to_user: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Project, StoreError>;
}

/// Invitations. Tokens are never stored, only their SHA-256.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait InviteRepository: Send + Sync {
    /// Inserts an invite; expired, unaccepted invites for the same project
    /// and email are deleted first in the same transaction.
    ///
    /// # Errors
    /// `Conflict(Constraint::InvitePendingEmail)` when a pending invite for the email exists;
    /// `Conflict(Constraint::ProjectMember)` when a user with that email is
    /// already a member of the project (checked in the same transaction).
    async fn create_invite(
        &self,
        invite: Invite,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> Result<Invite, StoreError>;

    /// Unaccepted, unexpired invites of a project, newest first.
    ///
    /// # Errors
    /// Backend failures only.
    async fn list_pending_invites(
        &self,
        project_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<Invite>, StoreError>;

    /// # Errors
    /// `NotFound` when no invite of that project has that id.
    async fn delete_invite(&self, project_id: Uuid, invite_id: Uuid) -> Result<(), StoreError>;

    /// # Errors
    /// Backend failures only.
    async fn find_invite_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<InviteWithProject>, StoreError>;

    /// In one transaction: marks the invite accepted (only if it still is
    /// not) and inserts the membership.
    ///
    /// # Errors
    /// `Conflict(Constraint::InviteAlreadyAccepted)` when it was accepted meanwhile;
    /// `Conflict(Constraint::ProjectMember)` when the user is already a member.
    async fn accept_invite(
        &self,
        invite_id: Uuid,
        member: Member,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Pending invites addressed to `email`, newest first.
    ///
    /// # Errors
    /// Backend failures only.
    async fn list_invites_for_email(
        &self,
        email: &Email,
        now: DateTime<Utc>,
    ) -> Result<Vec<InviteWithProject>, StoreError>;
}

/// Environments and what they hold.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait EnvironmentRepository: Send + Sync {
    /// A project's environments, default first, then by name.
    ///
    /// # Errors
    /// Backend failures only.
    async fn list_environments(&self, project_id: Uuid) -> Result<Vec<Environment>, StoreError>;

    /// # Errors
    /// Backend failures only.
    async fn find_environment(
        &self,
        project_id: Uuid,
        env_id: Uuid,
    ) -> Result<Option<Environment>, StoreError>;

    /// # Errors
    /// Backend failures only.
    async fn find_environment_by_name(
        &self,
        project_id: Uuid,
        name: &str,
    ) -> Result<Option<Environment>, StoreError>;

    /// # Errors
    /// `Conflict(Constraint::EnvironmentName)` when the name is taken in the project.
    async fn create_environment(&self, env: Environment) -> Result<Environment, StoreError>;

    /// Writes every mutable column (by id) except `is_default`.
    ///
    /// # Errors
    /// `NotFound`; `Conflict(Constraint::EnvironmentName)`.
    async fn update_environment(&self, env: Environment) -> Result<Environment, StoreError>;

    /// Deletes the environment and everything in it, in one transaction, if
    /// `patchbay_domain::check_environment_delete` (evaluated inside that
    /// transaction) allows it.
    ///
    /// # Errors
    /// Outer: `NotFound`, backend failures. Inner: the domain's refusal.
    async fn delete_environment(
        &self,
        project_id: Uuid,
        env_id: Uuid,
        force: bool,
    ) -> Result<Result<(), EnvironmentError>, StoreError>;

    /// Makes `env_id` the project's only default, in one transaction.
    ///
    /// # Errors
    /// `NotFound`.
    async fn set_default_environment(
        &self,
        project_id: Uuid,
        env_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Environment, StoreError>;

    /// Creates `target` and copies into it, in one transaction, everything
    /// the source environment holds (live resources, the live resource
    /// connections among them with status reset to pending, credential
    /// connections re-sealed for the new rows). This is the one place that
    /// learns about each new kind of environment content.
    ///
    /// # Errors
    /// `NotFound` for the source; `Conflict(Constraint::EnvironmentName)`.
    async fn clone_environment(
        &self,
        source_env_id: Uuid,
        target: Environment,
        actor: Uuid,
    ) -> Result<CloneReport, StoreError>;
}
