//! Resource connections' rules: the data-driven [`AllowedConnections`]
//! policy, the checks on a new connection ([`validate_new_connection`]), the
//! [`ConnectionStatus`] state machine and the `errorMessage` rule
//! ([`next_error_message`]), plus the [`ResourceConnection`] entity. Whether
//! the resources exist, and duplicates, are for the store to answer.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{DomainError, ErrorKind};
use crate::resource::ResourceType;
use crate::string_enum::string_enum;

string_enum! {
    /// Where a connection is in its life.
    pub enum ConnectionStatus as "connection status" {
        /// Created, not yet processed.
        Pending = "pending",
        /// Being established.
        Connecting = "connecting",
        /// Active and configured.
        Connected = "connected",
        /// Failed to establish (an error message may say why).
        Failed = "failed",
        /// Was disconnected.
        Disconnected = "disconnected",
    }
}

impl ConnectionStatus {
    /// The states this one may move to (itself excluded: staying is a no-op).
    #[must_use]
    pub const fn next_states(self) -> &'static [Self] {
        use ConnectionStatus::{Connected, Connecting, Disconnected, Failed, Pending};
        match self {
            Pending => &[Connecting, Connected, Failed, Disconnected],
            Connecting => &[Connected, Failed, Disconnected],
            Connected => &[Disconnected, Failed, Connecting],
            Failed => &[Pending, Connecting, Disconnected],
            Disconnected => &[Pending, Connecting],
        }
    }

    /// Whether moving to `next` is allowed (staying put always is).
    #[must_use]
    pub fn can_transition_to(self, next: Self) -> bool {
        self == next || self.next_states().contains(&next)
    }

    /// Checks a move from `self` to `next`.
    ///
    /// # Errors
    /// [`InvalidStatusTransition`] naming both states.
    pub fn transition_to(self, next: Self) -> Result<Transition, InvalidStatusTransition> {
        if self.can_transition_to(next) {
            Ok(Transition {
                from: self,
                to: next,
            })
        } else {
            Err(InvalidStatusTransition {
                from: self,
                to: next,
            })
        }
    }
}

/// An allowed status move. `from == to` is a no-op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The current status.
    pub from: ConnectionStatus,
    /// The status asked for.
    pub to: ConnectionStatus,
}

impl Transition {
    /// Whether the status stays the same.
    #[must_use]
    pub fn is_noop(self) -> bool {
        self.from == self.to
    }
}

/// A status move the state machine forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Cannot change status from {from} to {to}")]
pub struct InvalidStatusTransition {
    /// The current status.
    pub from: ConnectionStatus,
    /// The status asked for.
    pub to: ConnectionStatus,
}

impl InvalidStatusTransition {
    /// The short title clients see.
    pub const TITLE: &'static str = "Invalid status transition";

    /// Always [`ErrorKind::Invalid`].
    #[must_use]
    pub const fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
}

impl DomainError for InvalidStatusTransition {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
    fn title(&self) -> &'static str {
        Self::TITLE
    }
}

/// A pair of resource types with no allowed-connection rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "Connection from {source_type} to {target_type} is not allowed. Please configure this connection in allowed_connections table."
)]
pub struct ConnectionNotAllowed {
    /// The source's type.
    pub source_type: ResourceType,
    /// The target's type.
    pub target_type: ResourceType,
}

impl ConnectionNotAllowed {
    /// The short title clients see (seed 000).
    pub const TITLE: &'static str = "Connection not allowed";

    /// Always [`ErrorKind::Invalid`].
    #[must_use]
    pub const fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
}

impl DomainError for ConnectionNotAllowed {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
    fn title(&self) -> &'static str {
        Self::TITLE
    }
}

/// The rules seeded by migration (SPEC §7), as (source, target).
pub const DEFAULT_ALLOWED_CONNECTIONS: &[(ResourceType, ResourceType)] = &[
    (ResourceType::Application, ResourceType::Instance),
    (ResourceType::Terminal, ResourceType::Instance),
    (ResourceType::BucketExplorer, ResourceType::StorageBucket),
    (ResourceType::BucketExplorer, ResourceType::StaticWebsite),
    (ResourceType::Instance, ResourceType::Firewall),
    (ResourceType::Instance, ResourceType::Database),
    (ResourceType::Subdomain, ResourceType::StaticWebsite),
];

/// Which (source type, target type) pairs may be connected. Directed:
/// `application → instance` does not allow `instance → application`. The
/// store loads the rules; this value only checks them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AllowedConnections {
    rules: BTreeSet<(ResourceType, ResourceType)>,
}

impl AllowedConnections {
    /// A policy made of exactly these rules (duplicates collapse).
    pub fn new(rules: impl IntoIterator<Item = (ResourceType, ResourceType)>) -> Self {
        Self {
            rules: rules.into_iter().collect(),
        }
    }

    /// The rules of [`DEFAULT_ALLOWED_CONNECTIONS`].
    #[must_use]
    pub fn defaults() -> Self {
        Self::new(DEFAULT_ALLOWED_CONNECTIONS.iter().copied())
    }

    /// Whether `source → target` is allowed.
    #[must_use]
    pub fn is_allowed(&self, source: ResourceType, target: ResourceType) -> bool {
        self.rules.contains(&(source, target))
    }

    /// [`AllowedConnections::is_allowed`] as a `Result`.
    ///
    /// # Errors
    /// [`ConnectionNotAllowed`] with the seed's message.
    pub fn check(
        &self,
        source: ResourceType,
        target: ResourceType,
    ) -> Result<(), ConnectionNotAllowed> {
        if self.is_allowed(source, target) {
            Ok(())
        } else {
            Err(ConnectionNotAllowed {
                source_type: source,
                target_type: target,
            })
        }
    }

    /// The rules, ordered.
    pub fn iter(&self) -> impl Iterator<Item = (ResourceType, ResourceType)> + '_ {
        self.rules.iter().copied()
    }

    /// How many rules there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether no connection at all is allowed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

impl FromIterator<(ResourceType, ResourceType)> for AllowedConnections {
    fn from_iter<I: IntoIterator<Item = (ResourceType, ResourceType)>>(iter: I) -> Self {
        Self::new(iter)
    }
}

/// One end of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The connection's source end.
    Source,
    /// The connection's target end.
    Target,
}

impl Side {
    /// "source" or "target".
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Source => "source",
            Self::Target => "target",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The two ends of a connection as a client declares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionEnds {
    /// The declared type of the source.
    pub source_type: ResourceType,
    /// The source resource's id.
    pub source_id: i64,
    /// The declared type of the target.
    pub target_type: ResourceType,
    /// The target resource's id.
    pub target_id: i64,
}

/// Why a resource connection (new or updated) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceConnectionError {
    /// Source and target are the same resource.
    #[error("A resource cannot be connected to itself")]
    SelfConnection,
    /// A declared type differs from the stored resource's type.
    #[error(
        "The declared {side} resource type '{declared}' does not match resource {resource_id}, which is of type '{actual}'"
    )]
    TypeMismatch {
        /// Which end.
        side: Side,
        /// That end's resource id.
        resource_id: i64,
        /// The type the request declared.
        declared: ResourceType,
        /// The type the resource has.
        actual: ResourceType,
    },
    /// No rule allows the pair.
    #[error(transparent)]
    NotAllowed(#[from] ConnectionNotAllowed),
    /// The state machine forbids the status change.
    #[error(transparent)]
    InvalidTransition(#[from] InvalidStatusTransition),
    /// An error message was given for a connection that would not be failed.
    #[error(
        "An error message can only be set when the status is 'failed' (the status would be '{status}')"
    )]
    ErrorMessageRequiresFailed {
        /// The status the connection would have.
        status: ConnectionStatus,
    },
}

impl ResourceConnectionError {
    /// Always [`ErrorKind::Invalid`]: each of these is a 400.
    #[must_use]
    pub const fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }

    /// The short title clients see: the seed's for a refused pair, "Invalid
    /// status transition" for the state machine, "Bad Request" otherwise.
    #[must_use]
    pub const fn title(&self) -> &'static str {
        match self {
            Self::NotAllowed(_) => ConnectionNotAllowed::TITLE,
            Self::InvalidTransition(_) => InvalidStatusTransition::TITLE,
            _ => ErrorKind::Invalid.default_title(),
        }
    }
}

impl DomainError for ResourceConnectionError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
    fn title(&self) -> &'static str {
        Self::title(self)
    }
}

/// SPEC §7's checks on the two ends of a new connection, in its order: each
/// declared type equals the stored resource's type, then not a
/// self-connection. The caller has already found both resources live in the
/// environment (404 otherwise); after this it checks for a live duplicate
/// (409) and then the allowed rules ([`AllowedConnections::check`]).
///
/// # Errors
/// The first rule broken.
pub fn validate_connection_ends(
    declared: &ConnectionEnds,
    stored_source_type: ResourceType,
    stored_target_type: ResourceType,
) -> Result<(), ResourceConnectionError> {
    for (side, resource_id, declared, actual) in [
        (
            Side::Source,
            declared.source_id,
            declared.source_type,
            stored_source_type,
        ),
        (
            Side::Target,
            declared.target_id,
            declared.target_type,
            stored_target_type,
        ),
    ] {
        if declared != actual {
            return Err(ResourceConnectionError::TypeMismatch {
                side,
                resource_id,
                declared,
                actual,
            });
        }
    }
    if declared.source_id == declared.target_id {
        return Err(ResourceConnectionError::SelfConnection);
    }
    Ok(())
}

/// Every domain check on a new connection: [`validate_connection_ends`],
/// then the pair must be allowed by `rules`. (Stores that also detect
/// duplicates call the two steps separately, with the duplicate check in
/// between, as SPEC §7 orders them.)
///
/// # Errors
/// The first rule broken.
pub fn validate_new_connection(
    declared: &ConnectionEnds,
    stored_source_type: ResourceType,
    stored_target_type: ResourceType,
    rules: &AllowedConnections,
) -> Result<(), ResourceConnectionError> {
    validate_connection_ends(declared, stored_source_type, stored_target_type)?;
    rules.check(stored_source_type, stored_target_type)?;
    Ok(())
}

/// The `errorMessage` after an update, given the status before
/// (`current_status`) and after (`next_status`, equal to the current one
/// when the update does not change it), the stored message and the
/// requested one (`None`: not in the request; `Some(None)`: `null`).
///
/// The message is kept while the connection stays failed, cleared when it
/// leaves `failed` (or is not failed), and may be set only when the
/// resulting status is `failed`; `null` clears it in any status.
///
/// # Errors
/// [`ResourceConnectionError::ErrorMessageRequiresFailed`] when a message
/// is set for a connection that would not be failed.
pub fn next_error_message(
    current_status: ConnectionStatus,
    next_status: ConnectionStatus,
    current_msg: Option<String>,
    requested: Option<Option<String>>,
) -> Result<Option<String>, ResourceConnectionError> {
    let failed = next_status == ConnectionStatus::Failed;
    match requested {
        Some(Some(_)) if !failed => Err(ResourceConnectionError::ErrorMessageRequiresFailed {
            status: next_status,
        }),
        Some(Some(message)) => Ok(Some(message)),
        Some(None) => Ok(None),
        None if failed && current_status == ConnectionStatus::Failed => Ok(current_msg),
        None => Ok(None),
    }
}

/// The status and error message a connection ends up with after a `PATCH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    /// The new status.
    pub status: ConnectionStatus,
    /// The new error message (kept only while `failed`).
    pub error_message: Option<String>,
    /// The status move (a no-op when the status does not change).
    pub transition: Transition,
}

/// Applies a requested status (`None`: unchanged) and error message (as in
/// [`next_error_message`]) to a connection: the state machine first, then
/// the error-message rule.
///
/// # Errors
/// [`ResourceConnectionError::InvalidTransition`] or
/// [`ResourceConnectionError::ErrorMessageRequiresFailed`].
pub fn update_status(
    current_status: ConnectionStatus,
    current_msg: Option<String>,
    requested_status: Option<ConnectionStatus>,
    requested_msg: Option<Option<String>>,
) -> Result<StatusUpdate, ResourceConnectionError> {
    let next = requested_status.unwrap_or(current_status);
    let transition = current_status.transition_to(next)?;
    let error_message = next_error_message(current_status, next, current_msg, requested_msg)?;
    Ok(StatusUpdate {
        status: next,
        error_message,
        transition,
    })
}

/// A connection between two resources of one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceConnection {
    /// The connection's id (an integer, as seed 000 shows).
    pub id: i64,
    /// Who created it.
    pub user_id: Uuid,
    /// The project.
    pub project_id: Uuid,
    /// The environment.
    pub environment_id: Uuid,
    /// The source resource's type.
    pub source_type: ResourceType,
    /// The source resource's id.
    pub source_id: i64,
    /// The target resource's type.
    pub target_type: ResourceType,
    /// The target resource's id.
    pub target_id: i64,
    /// Its status (the state machine of SPEC §7).
    pub status: ConnectionStatus,
    /// Free-form JSON details (RFC 7386 merge-patched on update).
    pub connection_details: Option<serde_json::Value>,
    /// Why it failed; only while `failed`.
    pub error_message: Option<String>,
    /// Creation time (UTC).
    pub created_at: DateTime<Utc>,
    /// Last change (UTC).
    pub updated_at: DateTime<Utc>,
}

impl ResourceConnection {
    /// The connection's two ends.
    #[must_use]
    pub const fn ends(&self) -> ConnectionEnds {
        ConnectionEnds {
            source_type: self.source_type,
            source_id: self.source_id,
            target_type: self.target_type,
            target_id: self.target_id,
        }
    }

    /// Whether the resource `(resource_type, id)` is either end.
    #[must_use]
    pub fn touches(&self, resource_type: ResourceType, id: i64) -> bool {
        (self.source_type == resource_type && self.source_id == id)
            || (self.target_type == resource_type && self.target_id == id)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use ConnectionStatus::{Connected, Connecting, Disconnected, Failed, Pending};
    use ResourceType as T;

    /// The table of SPEC §7, row = from, column = to, in the order
    /// pending, connecting, connected, failed, disconnected.
    const TABLE: [[bool; 5]; 5] = [
        /* pending      */ [true, true, true, true, true],
        /* connecting   */ [false, true, true, true, true],
        /* connected    */ [false, true, true, true, true],
        /* failed       */ [true, true, false, true, true],
        /* disconnected */ [true, true, false, false, true],
    ];
    const ORDER: [ConnectionStatus; 5] = [Pending, Connecting, Connected, Failed, Disconnected];

    #[test]
    fn every_cell_of_the_transition_table() {
        assert_eq!(ConnectionStatus::ALL, ORDER);
        for (i, from) in ORDER.iter().enumerate() {
            for (j, to) in ORDER.iter().enumerate() {
                let got = from.transition_to(*to);
                if TABLE[i][j] {
                    assert!(got.is_ok(), "{from} -> {to}: {got:?}");
                    let t = got.unwrap();
                    assert_eq!((t.from, t.to), (*from, *to));
                    assert_eq!(t.is_noop(), i == j, "{from} -> {to}");
                } else {
                    let e = got.expect_err("forbidden move accepted");
                    assert_eq!(
                        e,
                        InvalidStatusTransition {
                            from: *from,
                            to: *to
                        }
                    );
                    assert_eq!(
                        e.to_string(),
                        format!("Cannot change status from {from} to {to}")
                    );
                }
                assert_eq!(from.can_transition_to(*to), TABLE[i][j]);
            }
        }
    }

    #[test]
    fn invalid_transition_message_and_title() {
        let e = Connected.transition_to(Pending).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Cannot change status from connected to pending"
        );
        assert_eq!(InvalidStatusTransition::TITLE, "Invalid status transition");
        assert_eq!(DomainError::title(&e), "Invalid status transition");
        let wrapped = ResourceConnectionError::from(e);
        assert_eq!(wrapped.title(), "Invalid status transition");
        assert_eq!(
            wrapped.to_string(),
            "Cannot change status from connected to pending"
        );
    }

    #[test]
    fn statuses_parse_with_the_allowed_set() {
        assert_eq!("failed".parse::<ConnectionStatus>().unwrap(), Failed);
        assert_eq!(
            ConnectionStatus::parse("active").unwrap_err().to_string(),
            "'active' is not a valid connection status; expected one of: pending, connecting, connected, failed, disconnected"
        );
        assert_eq!(serde_json::to_value(Disconnected).unwrap(), "disconnected");
    }

    #[test]
    fn default_rules_are_the_spec_list() {
        let rules = AllowedConnections::defaults();
        assert_eq!(rules.len(), 7);
        let allowed: Vec<_> = rules.iter().collect();
        for pair in DEFAULT_ALLOWED_CONNECTIONS {
            assert!(allowed.contains(pair));
        }
        // Every other ordered pair is refused, including the reverses.
        for s in T::ALL {
            for t in T::ALL {
                assert_eq!(
                    rules.is_allowed(*s, *t),
                    DEFAULT_ALLOWED_CONNECTIONS.contains(&(*s, *t)),
                    "{s} -> {t}"
                );
            }
        }
        assert!(!rules.is_allowed(T::Instance, T::Application));
    }

    #[test]
    fn not_allowed_has_the_seed_body() {
        let e = AllowedConnections::defaults()
            .check(T::Application, T::Database)
            .unwrap_err();
        assert_eq!(ConnectionNotAllowed::TITLE, "Connection not allowed");
        assert_eq!(
            e.to_string(),
            "Connection from application to database is not allowed. Please configure this connection in allowed_connections table."
        );
        assert_eq!(e.kind(), ErrorKind::Invalid);
        let e = ResourceConnectionError::from(e);
        assert_eq!(e.title(), "Connection not allowed");
    }

    #[test]
    fn rules_are_data() {
        let empty = AllowedConnections::new([]);
        assert!(empty.is_empty());
        assert!(empty.check(T::Application, T::Instance).is_err());
        let custom: AllowedConnections = [(T::Database, T::Database), (T::Database, T::Database)]
            .into_iter()
            .collect();
        assert_eq!(custom.len(), 1);
        assert!(custom.check(T::Database, T::Database).is_ok());
        assert!(custom.check(T::Application, T::Instance).is_err());
    }

    fn ends(st: T, sid: i64, tt: T, tid: i64) -> ConnectionEnds {
        ConnectionEnds {
            source_type: st,
            source_id: sid,
            target_type: tt,
            target_id: tid,
        }
    }

    #[test]
    fn new_connection_checks_in_order() {
        use ResourceConnectionError as E;
        let rules = AllowedConnections::defaults();
        assert_eq!(
            validate_new_connection(
                &ends(T::Application, 2, T::Instance, 1),
                T::Application,
                T::Instance,
                &rules
            ),
            Ok(())
        );
        assert_eq!(
            validate_new_connection(
                &ends(T::Instance, 1, T::Instance, 1),
                T::Instance,
                T::Instance,
                &rules
            ),
            Err(E::SelfConnection)
        );
        assert_eq!(
            E::SelfConnection.to_string(),
            "A resource cannot be connected to itself"
        );
        let e = validate_new_connection(
            &ends(T::Instance, 1, T::Database, 3),
            T::Application,
            T::Database,
            &rules,
        )
        .unwrap_err();
        assert_eq!(
            e,
            E::TypeMismatch {
                side: Side::Source,
                resource_id: 1,
                declared: T::Instance,
                actual: T::Application
            }
        );
        assert_eq!(
            e.to_string(),
            "The declared source resource type 'instance' does not match resource 1, which is of type 'application'"
        );
        let e = validate_new_connection(
            &ends(T::Application, 2, T::Instance, 3),
            T::Application,
            T::Database,
            &rules,
        )
        .unwrap_err();
        assert!(matches!(
            e,
            E::TypeMismatch {
                side: Side::Target,
                resource_id: 3,
                ..
            }
        ));
        assert!(
            e.to_string()
                .contains("declared target resource type 'instance'")
        );
        // Types match but the pair is not allowed.
        let e = validate_new_connection(
            &ends(T::Application, 2, T::Database, 3),
            T::Application,
            T::Database,
            &rules,
        )
        .unwrap_err();
        assert_eq!(e.title(), "Connection not allowed");
        assert!(
            e.to_string()
                .starts_with("Connection from application to database")
        );
        // Types are checked before self-connection (SPEC §7's order).
        assert!(matches!(
            validate_connection_ends(
                &ends(T::Terminal, 1, T::Terminal, 1),
                T::Instance,
                T::Instance
            ),
            Err(E::TypeMismatch { .. })
        ));
        assert_eq!(
            validate_connection_ends(
                &ends(T::Instance, 1, T::Instance, 1),
                T::Instance,
                T::Instance
            ),
            Err(E::SelfConnection)
        );
        // The ends alone say nothing about the rules.
        assert_eq!(
            validate_connection_ends(
                &ends(T::Application, 2, T::Database, 3),
                T::Application,
                T::Database
            ),
            Ok(())
        );
        // The seed's own example (instance -> application) is refused by the list.
        assert!(
            validate_new_connection(
                &ends(T::Instance, 1, T::Application, 2),
                T::Instance,
                T::Application,
                &rules
            )
            .is_err()
        );
    }

    #[test]
    fn error_message_kept_while_failed_and_cleared_after() {
        let msg = || Some("timeout".to_owned());
        // Staying failed keeps it; leaving failed clears it.
        assert_eq!(next_error_message(Failed, Failed, msg(), None), Ok(msg()));
        for next in [Pending, Connecting, Disconnected] {
            assert_eq!(
                next_error_message(Failed, next, msg(), None),
                Ok(None),
                "{next}"
            );
        }
        // Entering failed may set one.
        assert_eq!(
            next_error_message(Connecting, Failed, None, Some(Some("refused".into()))),
            Ok(Some("refused".into()))
        );
        assert_eq!(next_error_message(Connecting, Failed, None, None), Ok(None));
        // Replacing while failed.
        assert_eq!(
            next_error_message(Failed, Failed, msg(), Some(Some("dns".into()))),
            Ok(Some("dns".into()))
        );
        // null always clears.
        for (from, to) in [(Failed, Failed), (Failed, Pending), (Connected, Connected)] {
            assert_eq!(next_error_message(from, to, msg(), Some(None)), Ok(None));
        }
        // Setting one when not failed is an error.
        let e = next_error_message(Failed, Pending, msg(), Some(Some("x".into()))).unwrap_err();
        assert_eq!(
            e,
            ResourceConnectionError::ErrorMessageRequiresFailed { status: Pending }
        );
        assert_eq!(
            e.to_string(),
            "An error message can only be set when the status is 'failed' (the status would be 'pending')"
        );
    }

    #[test]
    fn error_message_rule_over_every_status_pair() {
        for from in ORDER {
            for to in ORDER {
                let kept = next_error_message(from, to, Some("m".into()), None).unwrap();
                let expect_kept = from == Failed && to == Failed;
                assert_eq!(kept.is_some(), expect_kept, "{from} -> {to}");
                let set = next_error_message(from, to, None, Some(Some("n".into())));
                assert_eq!(set.is_ok(), to == Failed, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn update_status_combines_both_rules() {
        let up =
            update_status(Connecting, None, Some(Failed), Some(Some("refused".into()))).unwrap();
        assert_eq!(up.status, Failed);
        assert_eq!(up.error_message.as_deref(), Some("refused"));
        assert!(!up.transition.is_noop());
        let up = update_status(Failed, Some("refused".into()), None, None).unwrap();
        assert_eq!(
            (up.status, up.error_message.as_deref()),
            (Failed, Some("refused"))
        );
        assert!(up.transition.is_noop());
        let up = update_status(Failed, Some("refused".into()), Some(Connecting), None).unwrap();
        assert_eq!(up.error_message, None);
        assert!(matches!(
            update_status(Connected, None, Some(Pending), None),
            Err(ResourceConnectionError::InvalidTransition(_))
        ));
        assert!(matches!(
            update_status(Connected, None, None, Some(Some("x".into()))),
            Err(ResourceConnectionError::ErrorMessageRequiresFailed { status: Connected })
        ));
    }

    #[test]
    fn connections_know_their_ends() {
        let c = ResourceConnection {
            id: 1,
            user_id: Uuid::nil(),
            project_id: Uuid::nil(),
            environment_id: Uuid::nil(),
            source_type: T::Application,
            source_id: 2,
            target_type: T::Instance,
            target_id: 1,
            status: Pending,
            connection_details: None,
            error_message: None,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        };
        assert_eq!(c.ends(), ends(T::Application, 2, T::Instance, 1));
        assert!(c.touches(T::Instance, 1) && c.touches(T::Application, 2));
        assert!(!c.touches(T::Instance, 2));
    }
}
