//! patchbay's rules, pure: entities, value objects and policies. No I/O, no
//! async, no database or HTTP types; adapters own their rows and DTOs and map
//! errors by [`ErrorKind`], never by message.
//!
//! - Value objects parse, never merely validate: [`SubdomainName`],
//!   [`Hostname`], [`Slug`], [`ProjectName`], [`ConnId`], [`Port`],
//!   [`HexColor`], [`Email`], [`Password`], [`DisplayName`].
//! - Policies are data plus pure functions: [`AllowedConnections`],
//!   [`validate_new_connection`], [`ConnectionStatus::transition_to`],
//!   [`Role::allows`], [`can_assign_role`], [`check_fields`],
//!   [`check_environment_delete`], [`Page`], [`merge_patch()`].
//!
//! The crate's README (a runnable example of embedding it) is compiled as a
//! doctest.

#![warn(missing_docs)]

mod string_enum;

pub mod color;
pub mod credential;
pub mod environment;
pub mod error;
pub mod hostname;
pub mod icon;
pub mod invite;
pub mod member;
pub mod merge_patch;
pub mod page;
pub mod project;
pub mod resource;
pub mod resource_connection;
pub mod role;
pub mod slug;
pub mod user;

pub use color::HexColor;
pub use credential::{
    ConnId, ConnectionTestResult, CredentialConnection, CredentialError, CredentialField,
    CredentialType, ExtraUpdate, MAX_CREDENTIAL_TEXT_CHARS, MAX_EXTRA_BYTES, PASSWORD_MASK,
    PasswordUpdate, Port, SENSITIVE_KEY_FRAGMENTS, check_credential_delete, check_extra,
    check_fields, is_sensitive_key, keeps_password, mask_extra, mask_for_get, mask_for_list,
    parse_credential_text, unmask_extra,
};
pub use environment::{
    CLONED_CONNECTION_STATUS, DEFAULT_ENVIRONMENT_NAME, Environment, EnvironmentError,
    EnvironmentType, check_environment_delete,
};
pub use error::{DomainError, ErrorKind, ValueError};
pub use hostname::{Hostname, SubdomainName};
pub use icon::{ImageFormat, MAX_ICON_BYTES};
pub use invite::{DEFAULT_INVITE_TTL, Invite, InviteError};
pub use member::Member;
pub use merge_patch::{merge_patch, merge_patch_option};
pub use page::{Page, PageError};
pub use project::Project;
pub use resource::{
    MAX_CONFIG_BYTES, Position, Resource, ResourceType, check_json_document, parse_resource_name,
};
pub use resource_connection::{
    AllowedConnections, ConnectionEnds, ConnectionNotAllowed, ConnectionStatus,
    DEFAULT_ALLOWED_CONNECTIONS, InvalidStatusTransition, ResourceConnection,
    ResourceConnectionError, Side, StatusUpdate, Transition, next_error_message, update_status,
    validate_connection_ends, validate_new_connection,
};
pub use role::{
    Action, MembershipError, OwnershipTransfer, PermissionDenied, Role, can_assign_role,
    can_invite, can_remove_member, transfer_ownership,
};
pub use slug::{ProjectName, RESERVED_PROJECT_NAMES, Slug, is_reserved_project_name};
pub use user::{DisplayName, Email, Password, User};

/// The README's example, run by `cargo test --doc`.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
#[derive(Debug)]
pub struct ReadmeDoctests;
