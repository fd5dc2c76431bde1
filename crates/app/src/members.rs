//! Membership use cases: list, add, change role, remove or leave, transfer
//! ownership. Who may do what is the domain's rule set
//! (`can_assign_role`, `can_remove_member`, `transfer_ownership`).

use std::sync::Arc;

use patchbay_domain::{
    Action, Member, Project, Role, can_assign_role, can_remove_member, transfer_ownership,
};
use uuid::Uuid;

use crate::Constraint;
use crate::access::ProjectAccess;
use crate::error::{AppError, StoreError};
use crate::ports::{Clock, IdGenerator, MemberRepository, MemberView, UserRepository};

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
        let role = Role::parse_assignable(role).map_err(|e| AppError::invalid_field("role", e))?;
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
            StoreError::Conflict(Constraint::ProjectMember) => {
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
        let role = Role::parse_assignable(role).map_err(|e| AppError::invalid_field("role", e))?;
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::AppErrorKind;
    use crate::ports::{MockMemberRepository, MockUserRepository, SystemClock, UuidV7Generator};
    use crate::test_support::{email, project_access as access, user};
    use chrono::Utc;

    fn member(project_id: Uuid, user_id: Uuid, role: Role) -> Member {
        Member {
            id: Uuid::now_v7(),
            project_id,
            user_id,
            role,
            created_at: Utc::now(),
        }
    }

    fn view(member: Member) -> MemberView {
        MemberView {
            member,
            email: email("grace"),
            name: "Grace".into(),
        }
    }

    fn service(members: MockMemberRepository, users: MockUserRepository) -> MemberService {
        MemberService::new(
            Arc::new(members),
            Arc::new(users),
            Arc::new(SystemClock),
            Arc::new(UuidV7Generator),
        )
    }

    /// A member store that holds `target` and must not write: it finds it
    /// by its membership or user id, in its own project only.
    fn finding(target: Member) -> MockMemberRepository {
        let mut members = MockMemberRepository::new();
        members
            .expect_find_member_by_id_or_user()
            .returning(move |project, id| {
                Ok(
                    (project == target.project_id && (id == target.id || id == target.user_id))
                        .then_some(target),
                )
            });
        members.expect_update_member_role().never();
        members.expect_remove_member().never();
        members
    }

    fn untouched_users() -> MockUserRepository {
        let mut users = MockUserRepository::new();
        users.expect_find_user_by_id().never();
        users
    }

    #[tokio::test]
    async fn add_refuses_the_owner_role_and_low_actors_without_touching_the_store() {
        let mut members = MockMemberRepository::new();
        members.expect_add_member().never();
        let svc = service(members, untouched_users());
        let cases = [
            (Role::Admin, "owner", AppErrorKind::BadRequest),
            (Role::Owner, "owner", AppErrorKind::BadRequest),
            (Role::Member, "viewer", AppErrorKind::Forbidden),
            (Role::Member, "admin", AppErrorKind::Forbidden),
            (Role::Viewer, "viewer", AppErrorKind::Forbidden),
            (Role::Admin, "superuser", AppErrorKind::BadRequest),
        ];
        for (actor, role, kind) in cases {
            let err = svc
                .add(&access(actor), Uuid::now_v7(), role)
                .await
                .unwrap_err();
            assert_eq!(err.kind, kind, "{actor} adding {role}: {err}");
        }
        let err = svc
            .add(&access(Role::Admin), Uuid::now_v7(), "owner")
            .await
            .unwrap_err();
        assert_eq!(
            err.message,
            "The owner role cannot be granted; transfer ownership instead"
        );
        let err = svc
            .add(&access(Role::Admin), Uuid::now_v7(), "superuser")
            .await
            .unwrap_err();
        assert!(err.message.starts_with("role: "), "{err}");
    }

    #[tokio::test]
    async fn add_an_unknown_user_is_404() {
        let mut users = MockUserRepository::new();
        users
            .expect_find_user_by_id()
            .times(1)
            .returning(|_| Ok(None));
        let mut members = MockMemberRepository::new();
        members.expect_add_member().never();
        let err = service(members, users)
            .add(&access(Role::Admin), Uuid::now_v7(), "member")
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
        assert_eq!(err.message, "User not found");
    }

    #[tokio::test]
    async fn add_inserts_the_membership_and_maps_store_refusals() {
        let access = access(Role::Admin);
        let project_id = access.project.id;
        let newcomer = user("ada");
        let newcomer_id = newcomer.id;
        let mut users = MockUserRepository::new();
        users
            .expect_find_user_by_id()
            .withf(move |id| *id == newcomer_id)
            .returning(move |_| Ok(Some(newcomer.clone())));
        let mut members = MockMemberRepository::new();
        let mut seq = mockall::Sequence::new();
        members
            .expect_add_member()
            .times(1)
            .in_sequence(&mut seq)
            .withf(move |m| {
                m.project_id == project_id && m.user_id == newcomer_id && m.role == Role::Admin
            })
            .returning(|m| Ok(view(m)));
        members
            .expect_add_member()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Err(StoreError::Conflict(Constraint::ProjectMember)));
        members
            .expect_add_member()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Err(StoreError::MissingReference("users".into())));
        let svc = service(members, users);

        let added = svc.add(&access, newcomer_id, "admin").await.unwrap();
        assert_eq!(added.member.role, Role::Admin);

        let err = svc.add(&access, newcomer_id, "member").await.unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Conflict);
        assert_eq!(err.message, "The user is already a member of this project");

        let err = svc.add(&access, newcomer_id, "member").await.unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
        assert_eq!(err.message, "User not found");
    }

    #[tokio::test]
    async fn update_role_never_changes_the_owner() {
        let access = access(Role::Admin);
        let owner = member(access.project.id, Uuid::now_v7(), Role::Owner);
        let err = service(finding(owner), untouched_users())
            .update_role(&access, owner.id, "viewer")
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Forbidden);
        assert_eq!(
            err.message,
            "The project owner's role cannot be changed; transfer ownership instead"
        );
    }

    #[tokio::test]
    async fn update_role_refuses_low_actors_and_unknown_members() {
        let access_member = access(Role::Member);
        let target = member(access_member.project.id, Uuid::now_v7(), Role::Viewer);
        let err = service(finding(target), untouched_users())
            .update_role(&access_member, target.id, "member")
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Forbidden);

        let mut members = MockMemberRepository::new();
        members
            .expect_find_member_by_id_or_user()
            .returning(|_, _| Ok(None));
        members.expect_update_member_role().never();
        let err = service(members, untouched_users())
            .update_role(&access(Role::Owner), Uuid::now_v7(), "member")
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
        assert_eq!(err.message, "Member not found");
    }

    #[tokio::test]
    async fn update_role_writes_the_new_role_of_the_found_member() {
        let access = access(Role::Admin);
        let project_id = access.project.id;
        let target = member(project_id, Uuid::now_v7(), Role::Member);
        let mut members = MockMemberRepository::new();
        members
            .expect_find_member_by_id_or_user()
            .withf(move |p, id| *p == project_id && *id == target.user_id)
            .returning(move |_, _| Ok(Some(target)));
        members
            .expect_update_member_role()
            .times(1)
            .withf(move |p, id, role| *p == project_id && *id == target.id && *role == Role::Viewer)
            .returning(move |_, _, role| Ok(view(Member { role, ..target })));
        let updated = service(members, untouched_users())
            .update_role(&access, target.user_id, "viewer")
            .await
            .unwrap();
        assert_eq!(updated.member.role, Role::Viewer);
    }

    #[tokio::test]
    async fn a_member_of_another_project_is_not_found_through_this_one() {
        let access = access(Role::Owner);
        let elsewhere = member(Uuid::now_v7(), Uuid::now_v7(), Role::Viewer);
        let svc = service(finding(elsewhere), untouched_users());
        for id in [elsewhere.id, elsewhere.user_id] {
            let err = svc.update_role(&access, id, "member").await.unwrap_err();
            assert_eq!(err.kind, AppErrorKind::NotFound);
            assert_eq!(err.message, "Member not found");
            let err = svc.remove(&access, id).await.unwrap_err();
            assert_eq!(err.message, "Member not found");
        }
    }

    #[tokio::test]
    async fn the_owner_cannot_leave() {
        let access = access(Role::Owner);
        let me = member(access.project.id, access.user.id, Role::Owner);
        let err = service(finding(me), untouched_users())
            .remove(&access, me.id)
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::Conflict);
        assert_eq!(
            err.message,
            "The project owner cannot leave the project; transfer ownership first"
        );
    }

    #[tokio::test]
    async fn a_member_may_leave_by_naming_itself() {
        for role in [Role::Viewer, Role::Member, Role::Admin] {
            let access = access(role);
            let project_id = access.project.id;
            let me = member(project_id, access.user.id, role);
            let mut members = MockMemberRepository::new();
            members
                .expect_find_member_by_id_or_user()
                .withf(move |p, id| *p == project_id && *id == me.user_id)
                .returning(move |_, _| Ok(Some(me)));
            members
                .expect_remove_member()
                .times(1)
                .withf(move |p, id| *p == project_id && *id == me.id)
                .returning(|_, _| Ok(()));
            service(members, untouched_users())
                .remove(&access, access.user.id)
                .await
                .unwrap();
        }
    }

    #[tokio::test]
    async fn removing_someone_else_needs_admin_and_never_the_owner() {
        for (actor, target_role, kind) in [
            (Role::Viewer, Role::Viewer, AppErrorKind::Forbidden),
            (Role::Member, Role::Viewer, AppErrorKind::Forbidden),
            (Role::Admin, Role::Owner, AppErrorKind::Forbidden),
        ] {
            let access = access(actor);
            let other = member(access.project.id, Uuid::now_v7(), target_role);
            let err = service(finding(other), untouched_users())
                .remove(&access, other.id)
                .await
                .unwrap_err();
            assert_eq!(err.kind, kind, "{actor} removing {target_role}");
        }

        let access = access(Role::Admin);
        let other = member(access.project.id, Uuid::now_v7(), Role::Admin);
        let project_id = access.project.id;
        let mut members = MockMemberRepository::new();
        members
            .expect_find_member_by_id_or_user()
            .withf(move |p, id| *p == project_id && *id == other.id)
            .returning(move |_, _| Ok(Some(other)));
        members
            .expect_remove_member()
            .times(1)
            .withf(move |_, id| *id == other.id)
            .returning(|_, _| Err(StoreError::NotFound));
        let err = service(members, untouched_users())
            .remove(&access, other.id)
            .await
            .unwrap_err();
        assert_eq!(err.kind, AppErrorKind::NotFound);
        assert_eq!(err.message, "Member not found");
    }

    #[tokio::test]
    async fn transfer_needs_the_owner() {
        let mut members = MockMemberRepository::new();
        members.expect_find_member().never();
        members.expect_transfer_ownership().never();
        let svc = service(members, untouched_users());
        for role in [Role::Admin, Role::Member, Role::Viewer] {
            let err = svc
                .transfer(&access(role), Uuid::now_v7())
                .await
                .unwrap_err();
            assert_eq!(err.kind, AppErrorKind::Forbidden, "{role}");
        }
    }

    #[tokio::test]
    async fn transfer_target_must_be_another_member() {
        let access = access(Role::Owner);
        let project_id = access.project.id;
        let me = member(project_id, access.user.id, Role::Owner);
        let mut members = MockMemberRepository::new();
        let my_id = access.user.id;
        members
            .expect_find_member()
            .withf(move |p, u| *p == project_id && *u == my_id)
            .returning(move |_, _| Ok(Some(me)));
        members.expect_find_member().returning(|_, _| Ok(None));
        members.expect_transfer_ownership().never();
        let svc = service(members, untouched_users());

        let err = svc.transfer(&access, Uuid::now_v7()).await.unwrap_err();
        assert_eq!(err.kind, AppErrorKind::BadRequest);
        assert_eq!(err.message, "The new owner must be a member of the project");

        let err = svc.transfer(&access, my_id).await.unwrap_err();
        assert_eq!(err.kind, AppErrorKind::BadRequest);
    }

    #[tokio::test]
    async fn transfer_hands_the_project_from_the_actor_to_the_target() {
        let access = access(Role::Owner);
        let project_id = access.project.id;
        let actor_id = access.user.id;
        let target = member(project_id, Uuid::now_v7(), Role::Viewer);
        let target_user = target.user_id;
        let mut members = MockMemberRepository::new();
        members
            .expect_find_member()
            .withf(move |p, u| *p == project_id && *u == target_user)
            .returning(move |_, _| Ok(Some(target)));
        let mut project = access.project.clone();
        project.owner_id = target_user;
        members
            .expect_transfer_ownership()
            .times(1)
            .withf(move |p, from, to, _| {
                *p == project_id && *from == actor_id && *to == target_user
            })
            .returning(move |_, _, _, _| Ok(project.clone()));
        let moved = service(members, untouched_users())
            .transfer(&access, target_user)
            .await
            .unwrap();
        assert_eq!(moved.owner_id, target_user);
    }
}
