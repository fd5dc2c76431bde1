//! Error vocabulary shared by every domain rule: the coarse [`ErrorKind`], the
//! [`DomainError`] trait and [`ValueError`] for value objects. It knows nothing
//! of HTTP: mapping a kind to a status code is the adapter's job.

use std::fmt;

/// What kind of refusal a domain error is, coarsely: enough for an adapter to
/// choose a status code without matching on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The input breaks a rule whatever the state of the system (HTTP 400).
    Invalid,
    /// The input is fine but the current state forbids it (HTTP 409).
    Conflict,
    /// The caller's role does not allow it (HTTP 403).
    Forbidden,
    /// Something the rule needs does not exist (HTTP 404).
    NotFound,
    /// Something existed but is no longer usable, e.g. an expired invite (HTTP 410).
    Gone,
}

impl ErrorKind {
    /// A short, client-readable title for errors of this kind.
    #[must_use]
    pub const fn default_title(self) -> &'static str {
        match self {
            Self::Invalid => "Bad Request",
            Self::Conflict => "Conflict",
            Self::Forbidden => "Forbidden",
            Self::NotFound => "Not Found",
            Self::Gone => "Gone",
        }
    }
}

/// Implemented by every error enum of this crate, so an adapter can map any of
/// them generically: `kind()` picks the status, `title()` the short title and
/// `Display` the client-readable message.
pub trait DomainError: std::error::Error {
    /// The coarse kind of this error.
    fn kind(&self) -> ErrorKind;

    /// A short title for the client (`{"error": title, "message": ...}`).
    fn title(&self) -> &'static str {
        self.kind().default_title()
    }
}

/// How many characters of a rejected value an error message repeats.
const SHOWN_CHARS: usize = 64;

/// A rejected value made safe to repeat in a message: control characters are
/// escaped and long input is cut, so a message can never carry a megabyte of
/// input or a terminal escape sequence.
pub(crate) fn shown(value: &str) -> String {
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        if i == SHOWN_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Why a value object refused its input. Messages repeat the rejected value
/// (shortened and escaped; never for secrets) and say what the rule is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// The value breaks the format of `what` (e.g. "subdomain name").
    #[error("'{value}' is not a valid {what}: {reason}")]
    Format {
        /// What was being parsed, e.g. "email address".
        what: &'static str,
        /// The rejected value, shortened and escaped.
        value: String,
        /// The rule it breaks.
        reason: String,
    },
    /// A secret (a password) breaks its rule; the value is never repeated.
    #[error("{what} {reason}")]
    Secret {
        /// What was being parsed, e.g. "a password".
        what: &'static str,
        /// The rule it breaks.
        reason: String,
    },
    /// A well-formed project name that would shadow a route.
    #[error("'{0}' is a reserved name and cannot be used as a project name")]
    ReservedProjectName(String),
    /// A name outside a closed set (role, resource type, status, ...).
    #[error("'{value}' is not a valid {what}; expected one of: {allowed}")]
    UnknownVariant {
        /// What was being parsed, e.g. "role".
        what: &'static str,
        /// The rejected value, shortened and escaped.
        value: String,
        /// The allowed names, comma separated.
        allowed: String,
    },
    /// A number outside its range.
    #[error("{value} is not a valid {what}: it must be between {min} and {max}")]
    OutOfRange {
        /// What was being parsed, e.g. "port".
        what: &'static str,
        /// The rejected number.
        value: i64,
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
}

impl ValueError {
    pub(crate) fn format(what: &'static str, value: &str, reason: impl fmt::Display) -> Self {
        Self::Format {
            what,
            value: shown(value),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn unknown_variant<'a>(
        what: &'static str,
        value: &str,
        allowed: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        Self::UnknownVariant {
            what,
            value: shown(value),
            allowed: allowed.into_iter().collect::<Vec<_>>().join(", "),
        }
    }

    /// Always [`ErrorKind::Invalid`]: a value is wrong whatever the state.
    #[must_use]
    pub const fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
}

impl DomainError for ValueError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn shown_escapes_control_characters_and_cuts_long_values() {
        assert_eq!(shown("a\nb\u{1b}"), "a\\nb\\u{1b}");
        let long = "x".repeat(500);
        let s = shown(&long);
        assert_eq!(s.chars().count(), SHOWN_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(shown("short"), "short");
    }

    #[test]
    fn messages_read_like_sentences() {
        let e = ValueError::format("subdomain name", "-a", "it must not start with a hyphen");
        assert_eq!(
            e.to_string(),
            "'-a' is not a valid subdomain name: it must not start with a hyphen"
        );
        let e = ValueError::unknown_variant("role", "god", ["owner", "admin"]);
        assert_eq!(
            e.to_string(),
            "'god' is not a valid role; expected one of: owner, admin"
        );
        let e = ValueError::OutOfRange {
            what: "port",
            value: 0,
            min: 1,
            max: 65535,
        };
        assert_eq!(
            e.to_string(),
            "0 is not a valid port: it must be between 1 and 65535"
        );
        assert_eq!(e.kind(), ErrorKind::Invalid);
        assert_eq!(DomainError::title(&e), "Bad Request");
    }

    #[test]
    fn every_kind_has_a_title() {
        for kind in [
            ErrorKind::Invalid,
            ErrorKind::Conflict,
            ErrorKind::Forbidden,
            ErrorKind::NotFound,
            ErrorKind::Gone,
        ] {
            assert!(!kind.default_title().is_empty());
        }
    }
}
