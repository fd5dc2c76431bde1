//! URL-safe names: [`Slug`] (an environment's name, the `:environmentSlug` of
//! a path) and [`ProjectName`] (a slug that does not shadow a route, the
//! `:projectSlug`). Slugs are never normalized: uppercase is refused, so a
//! name in a URL is exactly the stored one.

use crate::error::ValueError;
use crate::string_enum::string_value;

/// Longest slug.
pub const MAX_SLUG_LEN: usize = 63;

/// Names a project may not take because they would shadow a route under
/// `/api/` or an operational endpoint.
pub const RESERVED_PROJECT_NAMES: &[&str] = &[
    "v1",
    "auth",
    "docs",
    "connection-types",
    "openapi.json",
    "healthz",
    "readyz",
    "metrics",
    "uploads",
    "api",
    "admin",
    "me",
    "invites",
    "allowed-connections",
    "static",
    "assets",
    "swagger",
    "swagger-ui",
    "graph",
    "new",
];

fn slug_problem(s: &str) -> Option<&'static str> {
    let len = s.chars().count();
    if len == 0 {
        return Some("it must not be empty");
    }
    if len > MAX_SLUG_LEN {
        return Some("it must be at most 63 characters long");
    }
    if s.chars().any(|c| c.is_ascii_uppercase()) {
        return Some("it must be lowercase");
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Some("only lowercase letters, digits and hyphens are allowed");
    }
    if s.starts_with('-') {
        return Some("it must not start with a hyphen");
    }
    if s.ends_with('-') {
        return Some("it must not end with a hyphen");
    }
    None
}

/// A slug: `^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`, taken as typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

impl Slug {
    /// Validates a slug; uppercase is refused, not lowered.
    ///
    /// # Errors
    /// [`ValueError::Format`] saying which rule the slug breaks.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        Self::parse_as(s, "slug")
    }

    fn parse_as(s: &str, what: &'static str) -> Result<Self, ValueError> {
        match slug_problem(s) {
            Some(reason) => Err(ValueError::format(what, s, reason)),
            None => Ok(Self(s.to_owned())),
        }
    }
}

string_value!(Slug);

/// A project's name: a [`Slug`] that is not in [`RESERVED_PROJECT_NAMES`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProjectName(String);

impl ProjectName {
    /// Validates a project name.
    ///
    /// # Errors
    /// [`ValueError::Format`] for a bad slug, [`ValueError::ReservedProjectName`]
    /// for a reserved one.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let slug = Slug::parse_as(s, "project name")?;
        if is_reserved_project_name(slug.as_str()) {
            return Err(ValueError::ReservedProjectName(slug.into_string()));
        }
        Ok(Self(slug.into_string()))
    }

    /// The name as a slug (every project name is one).
    #[must_use]
    pub fn to_slug(&self) -> Slug {
        Slug(self.0.clone())
    }
}

string_value!(ProjectName);

impl From<ProjectName> for Slug {
    fn from(name: ProjectName) -> Self {
        Self(name.0)
    }
}

/// Whether `name` is reserved (exact match; reserved names are lowercase).
#[must_use]
pub fn is_reserved_project_name(name: &str) -> bool {
    RESERVED_PROJECT_NAMES.contains(&name)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slugs_follow_the_pattern() {
        for ok in ["a", "0", "my-saas", "staging-v2", "a1-b2", &"a".repeat(63)] {
            assert_eq!(Slug::parse(ok).unwrap().as_str(), ok);
        }
        let cases = [
            ("", "empty"),
            (&*"a".repeat(64), "at most 63"),
            ("Staging", "lowercase"),
            ("my_saas", "only lowercase letters"),
            ("my saas", "only lowercase letters"),
            ("mý", "only lowercase letters"),
            ("-a", "start with a hyphen"),
            ("a-", "end with a hyphen"),
            ("-", "start with a hyphen"),
        ];
        for (input, expected) in cases {
            let err = Slug::parse(input).unwrap_err().to_string();
            assert!(err.contains(expected), "{input:?}: {err}");
        }
    }

    #[test]
    fn reserved_project_names_are_refused() {
        for name in RESERVED_PROJECT_NAMES {
            assert!(ProjectName::parse(name).is_err(), "{name}");
        }
        assert_eq!(
            ProjectName::parse("docs").unwrap_err(),
            ValueError::ReservedProjectName("docs".into())
        );
        assert_eq!(
            ProjectName::parse("docs").unwrap_err().to_string(),
            "'docs' is a reserved name and cannot be used as a project name"
        );
        let err = ProjectName::parse("My-Saas").unwrap_err().to_string();
        assert!(err.contains("not a valid project name"), "{err}");
        // Only exact names are reserved.
        assert!(ProjectName::parse("docs-site").is_ok());
        assert!(ProjectName::parse("my-saas").is_ok());
        assert_eq!(Slug::from(ProjectName::parse("x").unwrap()), "x");
        assert_eq!(ProjectName::parse("x").unwrap().to_slug(), "x");
    }

    #[test]
    fn serde_goes_through_parse() {
        assert!(serde_json::from_str::<ProjectName>("\"v1\"").is_err());
        assert!(serde_json::from_str::<Slug>("\"Prod\"").is_err());
        let s: Slug = serde_json::from_str("\"prod\"").unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"prod\"");
    }

    fn matches_pattern(s: &str) -> bool {
        let b = s.as_bytes();
        let inner = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-';
        let edge = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        (1..=63).contains(&b.len()) && b.iter().all(inner) && edge(b.first()) && edge(b.last())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn slug_accepts_exactly_the_pattern(s in "[a-zA-Z0-9_ -]{0,66}|\\PC{0,10}") {
            prop_assert_eq!(Slug::parse(&s).is_ok(), matches_pattern(&s));
            if let Ok(slug) = Slug::parse(&s) {
                prop_assert_eq!(slug.to_string(), s);
            }
        }
    }
}
