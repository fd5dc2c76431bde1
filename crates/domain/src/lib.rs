//! patchbay's rules, pure: entities, value objects and policies. No I/O, no
//! async, no database or HTTP types; adapters own their rows and DTOs.

mod string_enum;

pub mod credential;
pub mod error;
pub mod hostname;
pub mod page;
pub mod resource;
pub mod resource_connection;
pub mod role;
pub mod slug;
pub mod user;

pub use credential::{
    ConnId, CredentialConnection, CredentialError, CredentialField, CredentialType, ExtraUpdate,
    PASSWORD_MASK, PasswordUpdate, Port, check_credential_delete, check_extra, check_fields,
    mask_for_get, mask_for_list,
};
pub use error::{DomainError, ErrorKind, ValueError};
pub use hostname::{Hostname, SubdomainName};
pub use page::{Page, PageError};
pub use resource::{Position, Resource, ResourceType};
pub use resource_connection::{
    AllowedConnections, ConnectionEnds, ConnectionNotAllowed, ConnectionStatus,
    DEFAULT_ALLOWED_CONNECTIONS, InvalidStatusTransition, ResourceConnection,
    ResourceConnectionError, Side, StatusUpdate, Transition, next_error_message, update_status,
    validate_new_connection,
};
pub use role::{
    Action, MembershipError, OwnershipTransfer, PermissionDenied, Role, can_assign_role,
    can_invite, can_remove_member, transfer_ownership,
};
pub use slug::{ProjectName, RESERVED_PROJECT_NAMES, Slug, is_reserved_project_name};
pub use user::{DisplayName, Email, Password, User};
