//! Project roles and what they may do: [`Role`], the closed set of
//! [`Action`]s, the permission matrix ([`Role::allows`]) and the rules for
//! changing membership (assigning roles, removing members, inviting,
//! transferring ownership). Looking members up is the caller's job.

use std::cmp::Ordering;

use crate::error::{DomainError, ErrorKind};
use crate::string_enum::string_enum;

string_enum! {
    /// A member's role in a project. Roles are ordered by [`Role::rank`]:
    /// `Owner > Admin > Member > Viewer`; each may do everything the roles
    /// below it may.
    pub enum Role as "role" {
        /// Exactly one per project: may also delete the project and transfer it.
        Owner = "owner",
        /// May also update the project, manage environments, members and invites.
        Admin = "admin",
        /// May also change resources, resource connections and credentials.
        Member = "member",
        /// May read everything in the project (credentials masked).
        Viewer = "viewer",
    }
}

impl Role {
    /// The roles a member can be given directly (adding a member, changing a
    /// role, inviting): all but [`Role::Owner`], which only moves by a
    /// transfer (seed 004).
    pub const ASSIGNABLE: &'static [Self] = &[Self::Admin, Self::Member, Self::Viewer];

    /// Parses a role from a request that grants it. Unknown values are
    /// refused with a message listing exactly [`Role::ASSIGNABLE`]; `owner`
    /// itself parses, so that [`can_assign_role`] and [`can_invite`] refuse
    /// it with the reason ([`MembershipError::CannotGrantOwner`]).
    ///
    /// # Errors
    /// [`ValueError::UnknownVariant`](crate::ValueError::UnknownVariant)
    /// for anything but `owner`, `admin`, `member` or `viewer`.
    pub fn parse_assignable(s: &str) -> Result<Self, crate::error::ValueError> {
        Self::parse(s).map_err(|_| {
            crate::error::ValueError::unknown_variant(
                "role",
                s,
                Self::ASSIGNABLE.iter().map(|r| r.as_str()),
            )
        })
    }

    /// Owner 3, admin 2, member 1, viewer 0.
    #[must_use]
    pub const fn rank(self) -> u8 {
        match self {
            Self::Owner => 3,
            Self::Admin => 2,
            Self::Member => 1,
            Self::Viewer => 0,
        }
    }

    /// Whether this role may perform `action`.
    #[must_use]
    pub const fn allows(self, action: Action) -> bool {
        self.rank() >= action.min_role().rank()
    }

    /// [`Role::allows`] as a `Result`, for `?` in use cases.
    ///
    /// # Errors
    /// [`PermissionDenied`] naming the role, the action and the role it needs.
    pub const fn require(self, action: Action) -> Result<(), PermissionDenied> {
        if self.allows(action) {
            Ok(())
        } else {
            Err(PermissionDenied { role: self, action })
        }
    }
}

impl PartialOrd for Role {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Role {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

string_enum! {
    /// Every operation on a project and what it contains (SPEC §3–8). Route
    /// handlers name the action; [`Role::allows`] decides. Instance-wide
    /// operations (editing allowed-connection rules) are not project actions:
    /// they need the user's instance-admin flag.
    pub enum Action as "action" {
        /// See the project and its settings.
        ViewProject = "view_project",
        /// Change the project's name, display name, description, colour, flags.
        UpdateProject = "update_project",
        /// Delete the project and everything in it.
        DeleteProject = "delete_project",
        /// Upload the project's icon.
        UploadIcon = "upload_icon",
        /// Remove the project's icon.
        DeleteIcon = "delete_icon",
        /// Hand ownership to another member (the old owner becomes admin).
        TransferOwnership = "transfer_ownership",
        /// List the members.
        ListMembers = "list_members",
        /// Add a member (never as owner).
        AddMember = "add_member",
        /// Change a member's role (never the owner's, never to owner).
        UpdateMemberRole = "update_member_role",
        /// Remove another member (never the owner).
        RemoveMember = "remove_member",
        /// Removing oneself. Every role has it; the owner is still refused
        /// by [`can_remove_member`] (it must transfer ownership first).
        LeaveProject = "leave_project",
        /// List pending invites.
        ViewInvites = "view_invites",
        /// Create and cancel invites.
        ManageInvites = "manage_invites",
        /// See environments.
        ViewEnvironment = "view_environment",
        /// Create, update, delete and set-default environments.
        ManageEnvironments = "manage_environments",
        /// Clone an environment with its content.
        CloneEnvironment = "clone_environment",
        /// List and get resources and subdomains.
        ViewResources = "view_resources",
        /// Create, update, delete and restore resources and subdomains.
        WriteResources = "write_resources",
        /// List and get resource connections and the graph.
        ViewResourceConnections = "view_resource_connections",
        /// Create, update and delete resource connections.
        WriteResourceConnections = "write_resource_connections",
        /// List, get (masked) and see the users of credential connections.
        ViewCredentials = "view_credentials",
        /// Create, replace and delete credential connections.
        WriteCredentials = "write_credentials",
        /// Run the connectivity tester on a credential connection.
        TestCredentials = "test_credentials",
    }
}

impl Action {
    /// The lowest role allowed to perform this action: the matrix itself.
    #[must_use]
    pub const fn min_role(self) -> Role {
        match self {
            Self::ViewProject
            | Self::ListMembers
            | Self::LeaveProject
            | Self::ViewInvites
            | Self::ViewEnvironment
            | Self::ViewResources
            | Self::ViewResourceConnections
            | Self::ViewCredentials => Role::Viewer,
            Self::WriteResources
            | Self::WriteResourceConnections
            | Self::WriteCredentials
            | Self::TestCredentials => Role::Member,
            Self::UpdateProject
            | Self::UploadIcon
            | Self::DeleteIcon
            | Self::AddMember
            | Self::UpdateMemberRole
            | Self::RemoveMember
            | Self::ManageInvites
            | Self::ManageEnvironments
            | Self::CloneEnvironment => Role::Admin,
            Self::DeleteProject | Self::TransferOwnership => Role::Owner,
        }
    }

    /// What the action does, as the end of "not allowed to ...".
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Self::ViewProject => "view the project",
            Self::UpdateProject => "update the project",
            Self::DeleteProject => "delete the project",
            Self::UploadIcon => "upload the project icon",
            Self::DeleteIcon => "delete the project icon",
            Self::TransferOwnership => "transfer ownership of the project",
            Self::ListMembers => "list members",
            Self::AddMember => "add members",
            Self::UpdateMemberRole => "change members' roles",
            Self::RemoveMember => "remove members",
            Self::LeaveProject => "leave the project",
            Self::ViewInvites => "view invites",
            Self::ManageInvites => "manage invites",
            Self::ViewEnvironment => "view environments",
            Self::ManageEnvironments => "manage environments",
            Self::CloneEnvironment => "clone environments",
            Self::ViewResources => "view resources",
            Self::WriteResources => "create, change or delete resources",
            Self::ViewResourceConnections => "view resource connections",
            Self::WriteResourceConnections => "create, change or delete resource connections",
            Self::ViewCredentials => "view credential connections",
            Self::WriteCredentials => "create, change or delete credential connections",
            Self::TestCredentials => "test credential connections",
        }
    }
}

/// A role too low for an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "Your role ({role}) is not allowed to {}; it requires {}",
    action.describe(),
    needed(action.min_role())
)]
pub struct PermissionDenied {
    /// The caller's role.
    pub role: Role,
    /// What it tried.
    pub action: Action,
}

fn needed(role: Role) -> String {
    match role {
        Role::Owner => "the owner role".to_owned(),
        other => format!("the {other} role or higher"),
    }
}

impl PermissionDenied {
    /// Always [`ErrorKind::Forbidden`].
    #[must_use]
    pub const fn kind(&self) -> ErrorKind {
        ErrorKind::Forbidden
    }
}

impl DomainError for PermissionDenied {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Forbidden
    }
}

/// Why a membership change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MembershipError {
    /// The actor's role is too low for the change.
    #[error(transparent)]
    Denied(#[from] PermissionDenied),
    /// `owner` is never granted directly: there is exactly one, moved by a transfer.
    #[error("The owner role cannot be granted; transfer ownership instead")]
    CannotGrantOwner,
    /// The owner's membership is changed only by a transfer.
    #[error("The project owner's role cannot be changed; transfer ownership instead")]
    OwnerRoleIsFixed,
    /// Nobody grants a role above their own.
    #[error("Your role ({actor}) cannot grant the {requested} role, which is above your own")]
    AboveOwnRole {
        /// The actor's role.
        actor: Role,
        /// The role asked for.
        requested: Role,
    },
    /// Someone else tried to remove the owner.
    #[error("The project owner cannot be removed")]
    OwnerCannotBeRemoved,
    /// The owner tried to leave.
    #[error("The project owner cannot leave the project; transfer ownership first")]
    OwnerCannotLeave,
    /// The new owner is not a member of the project.
    #[error("The new owner must be a member of the project")]
    TransferTargetNotMember,
    /// The new owner is the current owner.
    #[error("The new owner must be a member other than the current owner")]
    TransferToCurrentOwner,
}

impl MembershipError {
    /// How an adapter should treat the refusal.
    #[must_use]
    pub const fn kind(&self) -> ErrorKind {
        match self {
            Self::Denied(_)
            | Self::OwnerRoleIsFixed
            | Self::AboveOwnRole { .. }
            | Self::OwnerCannotBeRemoved => ErrorKind::Forbidden,
            Self::CannotGrantOwner
            | Self::TransferTargetNotMember
            | Self::TransferToCurrentOwner => ErrorKind::Invalid,
            Self::OwnerCannotLeave => ErrorKind::Conflict,
        }
    }
}

impl DomainError for MembershipError {
    fn kind(&self) -> ErrorKind {
        Self::kind(self)
    }
}

/// May `actor` give `new_role` to a user whose current role is
/// `target_current` (`None`: adding a new member)?
///
/// Needs admin or higher; never grants `owner` (use a transfer); never
/// touches the owner; never grants a role above the actor's own.
///
/// # Errors
/// The first rule broken, in that order.
pub fn can_assign_role(
    actor: Role,
    target_current: Option<Role>,
    new_role: Role,
) -> Result<(), MembershipError> {
    let action = if target_current.is_some() {
        Action::UpdateMemberRole
    } else {
        Action::AddMember
    };
    actor.require(action)?;
    if new_role == Role::Owner {
        return Err(MembershipError::CannotGrantOwner);
    }
    if target_current == Some(Role::Owner) {
        return Err(MembershipError::OwnerRoleIsFixed);
    }
    if new_role > actor {
        return Err(MembershipError::AboveOwnRole {
            actor,
            requested: new_role,
        });
    }
    Ok(())
}

/// May a member with role `actor` remove a member with role `target`?
/// `actor_is_target` means leaving.
///
/// Anyone but the owner may leave; the owner is never removed; removing
/// someone else needs admin or higher.
///
/// # Errors
/// [`MembershipError::OwnerCannotLeave`], [`MembershipError::OwnerCannotBeRemoved`]
/// or [`MembershipError::Denied`].
pub fn can_remove_member(
    actor: Role,
    actor_is_target: bool,
    target: Role,
) -> Result<(), MembershipError> {
    if actor_is_target {
        if target == Role::Owner {
            return Err(MembershipError::OwnerCannotLeave);
        }
        actor.require(Action::LeaveProject)?;
        return Ok(());
    }
    actor.require(Action::RemoveMember)?;
    if target == Role::Owner {
        return Err(MembershipError::OwnerCannotBeRemoved);
    }
    Ok(())
}

/// May `inviter` invite someone as `invited`? Needs admin or higher; the
/// invited role is never `owner` and never above the inviter's.
///
/// # Errors
/// The first rule broken, in that order.
pub fn can_invite(inviter: Role, invited: Role) -> Result<(), MembershipError> {
    inviter.require(Action::ManageInvites)?;
    if invited == Role::Owner {
        return Err(MembershipError::CannotGrantOwner);
    }
    if invited > inviter {
        return Err(MembershipError::AboveOwnRole {
            actor: inviter,
            requested: invited,
        });
    }
    Ok(())
}

/// The roles after an ownership transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnershipTransfer {
    /// What the previous owner becomes: [`Role::Admin`].
    pub previous_owner_role: Role,
    /// What the new owner becomes: [`Role::Owner`].
    pub new_owner_role: Role,
}

/// May `actor` hand the project to a user whose current role is
/// `target_role` (`None`: not a member)? On success, the previous owner
/// becomes admin and the target owner, so there is always exactly one owner.
///
/// # Errors
/// [`MembershipError::Denied`] unless the actor is the owner;
/// [`MembershipError::TransferTargetNotMember`];
/// [`MembershipError::TransferToCurrentOwner`].
pub fn transfer_ownership(
    actor: Role,
    target_role: Option<Role>,
) -> Result<OwnershipTransfer, MembershipError> {
    actor.require(Action::TransferOwnership)?;
    match target_role {
        None => Err(MembershipError::TransferTargetNotMember),
        Some(Role::Owner) => Err(MembershipError::TransferToCurrentOwner),
        Some(_) => Ok(OwnershipTransfer {
            previous_owner_role: Role::Admin,
            new_owner_role: Role::Owner,
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use Role::{Admin, Member, Owner, Viewer};

    #[test]
    fn roles_parse_and_order_by_rank() {
        assert_eq!(Role::parse("admin").unwrap(), Admin);
        assert_eq!("viewer".parse::<Role>().unwrap(), Viewer);
        let err = Role::parse("Admin").unwrap_err().to_string();
        assert_eq!(
            err,
            "'Admin' is not a valid role; expected one of: owner, admin, member, viewer"
        );
        assert_eq!([Owner, Admin, Member, Viewer].map(Role::rank), [3, 2, 1, 0]);
        assert!(Owner > Admin && Admin > Member && Member > Viewer);
        let mut all = Role::ALL.to_vec();
        all.sort();
        assert_eq!(all, [Viewer, Member, Admin, Owner]);
        assert_eq!(serde_json::to_string(&Admin).unwrap(), "\"admin\"");
        assert_eq!(serde_json::from_str::<Role>("\"member\"").unwrap(), Member);
        assert!(serde_json::from_str::<Role>("\"god\"").is_err());
    }

    #[test]
    fn a_granted_role_is_refused_listing_only_grantable_roles() {
        for role in Role::ALL {
            assert_eq!(Role::parse_assignable(role.as_str()).unwrap(), *role);
        }
        assert_eq!(Role::ASSIGNABLE, [Admin, Member, Viewer]);
        assert_eq!(
            Role::parse_assignable("boss").unwrap_err().to_string(),
            "'boss' is not a valid role; expected one of: admin, member, viewer"
        );
        // `owner` parses so that the membership rules name the reason.
        assert_eq!(
            can_invite(Owner, Role::parse_assignable("owner").unwrap()),
            Err(MembershipError::CannotGrantOwner)
        );
    }

    /// The whole matrix, written out: (action, viewer, member, admin, owner).
    const MATRIX: &[(Action, [bool; 4])] = &[
        (Action::ViewProject, [true, true, true, true]),
        (Action::UpdateProject, [false, false, true, true]),
        (Action::DeleteProject, [false, false, false, true]),
        (Action::UploadIcon, [false, false, true, true]),
        (Action::DeleteIcon, [false, false, true, true]),
        (Action::TransferOwnership, [false, false, false, true]),
        (Action::ListMembers, [true, true, true, true]),
        (Action::AddMember, [false, false, true, true]),
        (Action::UpdateMemberRole, [false, false, true, true]),
        (Action::RemoveMember, [false, false, true, true]),
        (Action::LeaveProject, [true, true, true, true]),
        (Action::ViewInvites, [true, true, true, true]),
        (Action::ManageInvites, [false, false, true, true]),
        (Action::ViewEnvironment, [true, true, true, true]),
        (Action::ManageEnvironments, [false, false, true, true]),
        (Action::CloneEnvironment, [false, false, true, true]),
        (Action::ViewResources, [true, true, true, true]),
        (Action::WriteResources, [false, true, true, true]),
        (Action::ViewResourceConnections, [true, true, true, true]),
        (Action::WriteResourceConnections, [false, true, true, true]),
        (Action::ViewCredentials, [true, true, true, true]),
        (Action::WriteCredentials, [false, true, true, true]),
        (Action::TestCredentials, [false, true, true, true]),
    ];

    #[test]
    fn every_cell_of_the_role_matrix() {
        assert_eq!(
            MATRIX.len(),
            Action::ALL.len(),
            "an action is missing from MATRIX"
        );
        for action in Action::ALL {
            let (_, row) = MATRIX
                .iter()
                .find(|(a, _)| a == action)
                .expect("every action has a row");
            for (role, expected) in [Viewer, Member, Admin, Owner].into_iter().zip(row) {
                assert_eq!(role.allows(*action), *expected, "{role} {action}");
                assert_eq!(role.require(*action).is_ok(), *expected, "{role} {action}");
            }
        }
    }

    #[test]
    fn higher_roles_can_do_everything_lower_roles_can() {
        for action in Action::ALL {
            for lower in Role::ALL {
                for higher in Role::ALL.iter().filter(|r| *r >= lower) {
                    assert!(!lower.allows(*action) || higher.allows(*action));
                }
            }
        }
    }

    #[test]
    fn permission_denied_says_what_is_needed() {
        let err = Viewer.require(Action::WriteResources).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Your role (viewer) is not allowed to create, change or delete resources; it requires the member role or higher"
        );
        assert_eq!(err.kind(), ErrorKind::Forbidden);
        let err = Admin.require(Action::DeleteProject).unwrap_err();
        assert!(err.to_string().ends_with("it requires the owner role"));
    }

    #[test]
    fn assigning_roles() {
        use MembershipError as E;
        // Needs admin or higher, whether adding or changing.
        for actor in [Viewer, Member] {
            for current in [None, Some(Viewer), Some(Member)] {
                assert!(matches!(
                    can_assign_role(actor, current, Viewer),
                    Err(E::Denied(_))
                ));
            }
        }
        // Never grants owner.
        for actor in [Admin, Owner] {
            for current in [None, Some(Viewer), Some(Admin)] {
                assert_eq!(
                    can_assign_role(actor, current, Owner),
                    Err(E::CannotGrantOwner)
                );
            }
        }
        // Never touches the owner.
        for new_role in [Admin, Member, Viewer] {
            assert_eq!(
                can_assign_role(Admin, Some(Owner), new_role),
                Err(E::OwnerRoleIsFixed)
            );
            assert_eq!(
                can_assign_role(Owner, Some(Owner), new_role),
                Err(E::OwnerRoleIsFixed)
            );
        }
        // Admins and the owner grant admin, member, viewer to anyone else.
        for actor in [Admin, Owner] {
            for current in [None, Some(Admin), Some(Member), Some(Viewer)] {
                for new_role in [Admin, Member, Viewer] {
                    assert_eq!(can_assign_role(actor, current, new_role), Ok(()));
                }
            }
        }
    }

    #[test]
    fn never_above_own_rank() {
        // Only reachable through the rank rule if a role below admin could
        // manage members; check the rule's message on the invite path too.
        let err = MembershipError::AboveOwnRole {
            actor: Member,
            requested: Admin,
        };
        assert_eq!(
            err.to_string(),
            "Your role (member) cannot grant the admin role, which is above your own"
        );
        assert_eq!(err.kind(), ErrorKind::Forbidden);
    }

    #[test]
    fn removing_and_leaving() {
        use MembershipError as E;
        // Everyone but the owner may leave.
        for role in [Admin, Member, Viewer] {
            assert_eq!(can_remove_member(role, true, role), Ok(()));
        }
        assert_eq!(
            can_remove_member(Owner, true, Owner),
            Err(E::OwnerCannotLeave)
        );
        assert_eq!(E::OwnerCannotLeave.kind(), ErrorKind::Conflict);
        // Nobody removes the owner.
        for actor in [Admin, Member, Viewer] {
            assert!(can_remove_member(actor, false, Owner).is_err());
        }
        assert_eq!(
            can_remove_member(Admin, false, Owner),
            Err(E::OwnerCannotBeRemoved)
        );
        // Admin+ removes anyone below the owner; member and viewer remove nobody else.
        for target in [Admin, Member, Viewer] {
            assert_eq!(can_remove_member(Owner, false, target), Ok(()));
            assert_eq!(can_remove_member(Admin, false, target), Ok(()));
            assert!(matches!(
                can_remove_member(Member, false, target),
                Err(E::Denied(_))
            ));
            assert!(matches!(
                can_remove_member(Viewer, false, target),
                Err(E::Denied(_))
            ));
        }
    }

    #[test]
    fn every_cell_of_the_invite_rule() {
        use MembershipError as E;
        for inviter in Role::ALL {
            for invited in Role::ALL {
                let got = can_invite(*inviter, *invited);
                let expected = if *inviter < Admin {
                    Err(E::Denied(PermissionDenied {
                        role: *inviter,
                        action: Action::ManageInvites,
                    }))
                } else if *invited == Owner {
                    Err(E::CannotGrantOwner)
                } else {
                    Ok(())
                };
                assert_eq!(got, expected, "{inviter} invites {invited}");
            }
        }
        assert_eq!(E::CannotGrantOwner.kind(), ErrorKind::Invalid);
    }

    #[test]
    fn transferring_ownership() {
        use MembershipError as E;
        for actor in [Admin, Member, Viewer] {
            assert!(matches!(
                transfer_ownership(actor, Some(Member)),
                Err(E::Denied(PermissionDenied {
                    action: Action::TransferOwnership,
                    ..
                }))
            ));
        }
        assert_eq!(
            transfer_ownership(Owner, None),
            Err(E::TransferTargetNotMember)
        );
        assert_eq!(
            transfer_ownership(Owner, Some(Owner)),
            Err(E::TransferToCurrentOwner)
        );
        for target in [Admin, Member, Viewer] {
            assert_eq!(
                transfer_ownership(Owner, Some(target)),
                Ok(OwnershipTransfer {
                    previous_owner_role: Admin,
                    new_owner_role: Owner,
                })
            );
        }
        assert_eq!(E::TransferTargetNotMember.kind(), ErrorKind::Invalid);
    }

    #[test]
    fn actions_have_one_spelling() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()).unwrap(), *action);
            assert!(!action.describe().is_empty());
        }
    }
}
