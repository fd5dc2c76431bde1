//! Accounts: the [`User`] entity and the values a person types at the
//! boundary — [`Email`], [`Password`] (plain text, never stored or shown) and
//! [`DisplayName`]. Hashing a password is an adapter's job, not this module's.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ValueError;
use crate::hostname::Hostname;
use crate::string_enum::string_value;

/// Longest local part (before the `@`), in bytes (RFC 5321).
pub const MAX_EMAIL_LOCAL_LEN: usize = 64;
/// Longest email address, in bytes.
pub const MAX_EMAIL_LEN: usize = 254;

/// An email address: trimmed, lowercased, exactly one `@`, a non-empty local
/// part of at most 64 bytes, a domain that is a valid [`Hostname`], at most
/// 254 bytes in all, no whitespace or control characters. Two addresses that
/// differ only in case are the same address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    /// Validates and normalizes an email address.
    ///
    /// # Errors
    /// [`ValueError::Format`] saying which rule the address breaks.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let err = |reason: String| ValueError::format("email address", s, reason);
        let trimmed = s.trim();
        if trimmed.is_empty() {
            return Err(err("it must not be empty".to_owned()));
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err(
                "it must not contain spaces or control characters".to_owned()
            ));
        }
        let lowered = trimmed.to_lowercase();
        let mut parts = lowered.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(err("it must contain exactly one '@'".to_owned()));
        };
        if local.is_empty() {
            return Err(err("the part before the '@' must not be empty".to_owned()));
        }
        if local.len() > MAX_EMAIL_LOCAL_LEN {
            return Err(err(
                "the part before the '@' must be at most 64 characters long".to_owned(),
            ));
        }
        let domain = Hostname::parse(domain).map_err(|e| match e {
            ValueError::Format { reason, .. } => {
                err(format!("the domain is not a valid host name: {reason}"))
            }
            other => other,
        })?;
        let address = format!("{local}@{domain}");
        if address.len() > MAX_EMAIL_LEN {
            return Err(err("it must be at most 254 characters long".to_owned()));
        }
        Ok(Self(address))
    }

    /// The part before the `@`.
    #[must_use]
    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or("", |(local, _)| local)
    }

    /// The part after the `@`.
    #[must_use]
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, domain)| domain)
    }
}

string_value!(Email);

/// Fewest characters in a password.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Most characters in a password.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A plain-text password as received at the boundary: 8–128 characters
/// (Unicode scalar values, not bytes), kept as typed (not trimmed).
///
/// It never shows itself: `Debug` prints `Password("[redacted]")`, and there
/// is deliberately no `Display`, `Serialize` or `PartialEq`. Read it with
/// [`Password::expose`] only to hash or verify it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Validates a password's length.
    ///
    /// # Errors
    /// [`ValueError::Secret`]; the message never repeats the password.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        Self::new(s.to_owned())
    }

    /// As [`Password::parse`], taking ownership (no copy).
    ///
    /// # Errors
    /// [`ValueError::Secret`]; the message never repeats the password.
    pub fn new(s: String) -> Result<Self, ValueError> {
        let n = s.chars().count();
        if n < MIN_PASSWORD_CHARS {
            return Err(ValueError::Secret {
                what: "a password",
                reason: format!("must be at least {MIN_PASSWORD_CHARS} characters long"),
            });
        }
        if n > MAX_PASSWORD_CHARS {
            return Err(ValueError::Secret {
                what: "a password",
                reason: format!("must be at most {MAX_PASSWORD_CHARS} characters long"),
            });
        }
        Ok(Self(s))
    }

    /// The plain text, for hashing or verifying. Never log it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Password").field(&"[redacted]").finish()
    }
}

impl TryFrom<String> for Password {
    type Error = ValueError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl<'de> Deserialize<'de> for Password {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::new(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// Most characters in a display name.
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

/// A name shown to people (a user's name, a project's or environment's
/// display name): trimmed, 1–100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DisplayName(String);

impl DisplayName {
    /// Trims and validates a display name.
    ///
    /// # Errors
    /// [`ValueError::Format`] saying which rule the name breaks.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let err = |reason: &str| ValueError::format("name", s, reason);
        let trimmed = s.trim();
        if trimmed.is_empty() {
            return Err(err("it must not be empty"));
        }
        if trimmed.chars().count() > MAX_DISPLAY_NAME_CHARS {
            return Err(err("it must be at most 100 characters long"));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(err("it must not contain control characters"));
        }
        Ok(Self(trimmed.to_owned()))
    }
}

string_value!(DisplayName);

/// A registered account. The password hash is not part of the entity: only
/// the store and the hasher ever see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user's id (UUID v7).
    pub id: Uuid,
    /// The normalised email (unique, case-insensitively).
    pub email: Email,
    /// The display name.
    pub name: String,
    /// Instance administrator (the first registered user, or made by the CLI).
    pub is_admin: bool,
    /// Creation time (UTC).
    pub created_at: DateTime<Utc>,
    /// Last change (UTC).
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Builds an address from its parts.
    fn at(local: &str, domain: &str) -> String {
        format!("{local}\u{40}{domain}")
    }

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        let e = Email::parse("  Alice.Smith+tag@Example.COM ").unwrap();
        assert_eq!(e.as_str(), at("alice.smith+tag", "example.com"));
        assert_eq!(e.local_part(), "alice.smith+tag");
        assert_eq!(e.domain(), "example.com");
        assert_eq!(
            Email::parse(&at("a", "example.com.")).unwrap(),
            at("a", "example.com").as_str()
        );
        assert_eq!(
            Email::parse(&at("Bob", "EXAMPLE.com")).unwrap(),
            Email::parse(&at("bob", "example.com")).unwrap()
        );
    }

    #[test]
    fn bad_emails_say_why() {
        let cases = [
            ("", "empty"),
            ("   ", "empty"),
            ("alice", "exactly one '@'"),
            ("a@b@example.com", "exactly one '@'"),
            ("@example.com", "before the '@' must not be empty"),
            (&*at("al ice", "example.com"), "spaces"),
            (&*at("al\u{7}ice", "example.com"), "control"),
            ("alice@localhost", "domain is not a valid host name"),
            ("alice@", "domain is not a valid host name"),
            ("alice@exa_mple.com", "domain is not a valid host name"),
            ("alice@[127.0.0.1]", "domain is not a valid host name"),
        ];
        for (input, expected) in cases {
            let err = Email::parse(input).unwrap_err().to_string();
            assert!(err.contains(expected), "{input:?}: {err}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(
            Email::parse(&long_local)
                .unwrap_err()
                .to_string()
                .contains("64")
        );
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(64))).is_ok());
        // A 253-character domain is a valid host name, but "a@" + 253 > 254.
        let domain = format!("{}.{}", vec!["b".repeat(63); 3].join("."), "c".repeat(61));
        assert_eq!(domain.len(), 253);
        assert!(Hostname::parse(&domain).is_ok());
        assert!(Email::parse(&format!("a@{domain}")).is_err());
        let domain = format!("{}.{}", vec!["b".repeat(63); 3].join("."), "c".repeat(59));
        assert_eq!(
            Email::parse(&format!("ab@{domain}"))
                .unwrap()
                .as_str()
                .len(),
            254
        );
    }

    #[test]
    fn email_serde_goes_through_parse() {
        let e: Email = serde_json::from_str(&format!("\"{}\"", at("Ann", "Example.com"))).unwrap();
        assert_eq!(e, at("ann", "example.com").as_str());
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            format!("\"{}\"", at("ann", "example.com"))
        );
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse("ééééééé").is_err());
        assert!(Password::parse("éééééééé").is_ok());
        assert!(Password::parse(&"x".repeat(128)).is_ok());
        assert!(Password::parse(&"é".repeat(128)).is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert_eq!(
            Password::parse("  spaced  ").unwrap().expose(),
            "  spaced  "
        );
    }

    #[test]
    fn passwords_never_show_themselves() {
        let p = Password::parse("hunter2hunter2").unwrap();
        assert_eq!(format!("{p:?}"), "Password(\"[redacted]\")");
        assert!(!format!("{p:#?}").contains("hunter2"));
        let err = Password::parse("hunter2").unwrap_err().to_string();
        assert_eq!(err, "a password must be at least 8 characters long");
        let p: Password = serde_json::from_str("\"correct horse\"").unwrap();
        assert_eq!(p.expose(), "correct horse");
        let err = serde_json::from_str::<Password>("\"short\"")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("short\""), "{err}");
    }

    #[test]
    fn display_names_are_trimmed() {
        assert_eq!(
            DisplayName::parse("  Ada Lovelace ").unwrap(),
            "Ada Lovelace"
        );
        assert_eq!(DisplayName::parse("Zoë").unwrap().as_str(), "Zoë");
        assert!(DisplayName::parse(&"é".repeat(100)).is_ok());
        assert!(DisplayName::parse(&"é".repeat(101)).is_err());
        assert!(DisplayName::parse("").is_err());
        assert!(DisplayName::parse(" \t ").is_err());
        assert!(DisplayName::parse("a\u{0}b").is_err());
        assert!(DisplayName::parse("a\nb").is_err());
        let d: DisplayName = serde_json::from_str("\" My SaaS \"").unwrap();
        assert_eq!(d, "My SaaS");
    }

    #[test]
    fn users_serialize_with_plain_email() {
        let u = User {
            id: Uuid::nil(),
            email: Email::parse(&at("a", "example.com")).unwrap(),
            name: "A".into(),
            is_admin: true,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        };
        let v = serde_json::to_value(&u).unwrap();
        assert_eq!(v["email"], at("a", "example.com"));
        let back: User = serde_json::from_value(v).unwrap();
        assert_eq!(back, u);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn accepted_emails_are_normal(s in "[ a-zA-Z0-9.@+_-]{0,30}|[a-z]{1,10}@[a-zA-Z]{1,10}\\.[a-z]{2,4}") {
            if let Ok(e) = Email::parse(&s) {
                let text = e.to_string();
                prop_assert_eq!(text.clone(), text.to_lowercase());
                prop_assert_eq!(text.matches('@').count(), 1);
                prop_assert!(!text.contains(' '));
                prop_assert_eq!(Email::parse(&text).unwrap(), e);
            }
        }

        #[test]
        fn accepted_display_names_are_trimmed(s in "\\PC{0,120}") {
            if let Ok(d) = DisplayName::parse(&s) {
                prop_assert_eq!(d.as_str(), d.as_str().trim());
                prop_assert!((1..=100).contains(&d.as_str().chars().count()));
                prop_assert_eq!(DisplayName::parse(d.as_str()).unwrap(), d);
            }
        }
    }
}
