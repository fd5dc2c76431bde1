//! DNS names: [`SubdomainName`] (one label, as a subdomain resource's name)
//! and [`Hostname`] (a full domain, as a subdomain's optional parent domain or
//! an email's domain). Both are normalized to lowercase. No DNS lookups here.

use crate::error::ValueError;
use crate::string_enum::string_value;

/// Longest DNS label.
pub const MAX_LABEL_LEN: usize = 63;
/// Longest hostname (without a trailing dot).
pub const MAX_HOSTNAME_LEN: usize = 253;

/// Checks one DNS label (letters, digits, hyphens; 1–63; no hyphen at either
/// end), case-insensitively. Returns the rule it breaks.
fn label_problem(label: &str) -> Option<&'static str> {
    let len = label.chars().count();
    if len == 0 {
        return Some("it must not be empty");
    }
    if len > MAX_LABEL_LEN {
        return Some("it must be at most 63 characters long");
    }
    if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Some("only ASCII letters, digits and hyphens are allowed");
    }
    if label.starts_with('-') {
        return Some("it must not start with a hyphen");
    }
    if label.ends_with('-') {
        return Some("it must not end with a hyphen");
    }
    None
}

/// A subdomain resource's name: one DNS label of 1–63 ASCII letters, digits
/// and hyphens, no hyphen at either end, stored lowercase ("Blog" → "blog").
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubdomainName(String);

impl SubdomainName {
    /// Validates and lowercases a subdomain name. Surrounding whitespace is
    /// not trimmed: it is a forbidden character.
    ///
    /// # Errors
    /// [`ValueError::Format`] saying which rule the name breaks.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        match label_problem(s) {
            Some(reason) => Err(ValueError::format("subdomain name", s, reason)),
            None => Ok(Self(s.to_ascii_lowercase())),
        }
    }
}

string_value!(SubdomainName);

/// A fully qualified host name such as `example.com`: at least two labels,
/// each a valid DNS label, at most 253 characters, stored lowercase, a single
/// trailing dot dropped. The last label may not be all digits, so an IPv4
/// address is never mistaken for a host name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hostname(String);

impl Hostname {
    /// Validates and normalizes a host name.
    ///
    /// # Errors
    /// [`ValueError::Format`] saying which rule the name breaks.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let err = |reason: String| ValueError::format("host name", s, reason);
        let name = s.strip_suffix('.').unwrap_or(s);
        if name.is_empty() {
            return Err(err("it must not be empty".to_owned()));
        }
        if name.chars().count() > MAX_HOSTNAME_LEN {
            return Err(err("it must be at most 253 characters long".to_owned()));
        }
        let labels: Vec<&str> = name.split('.').collect();
        for label in &labels {
            if label.is_empty() {
                return Err(err("it must not contain an empty label".to_owned()));
            }
            if let Some(reason) = label_problem(label) {
                return Err(err(format!(
                    "label '{}': {reason}",
                    crate::error::shown(label)
                )));
            }
        }
        if labels.len() < 2 {
            return Err(err(
                "it must have at least two labels, like example.com".to_owned()
            ));
        }
        if labels
            .last()
            .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(err("the last label must not be all digits".to_owned()));
        }
        Ok(Self(name.to_ascii_lowercase()))
    }

    /// The labels, left to right.
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.0.split('.')
    }
}

string_value!(Hostname);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn subdomain_names_are_lowercased() {
        assert_eq!(SubdomainName::parse("Blog").unwrap().as_str(), "blog");
        assert_eq!(SubdomainName::parse("a").unwrap().to_string(), "a");
        assert_eq!(SubdomainName::parse("my-Site-2").unwrap(), "my-site-2");
        assert_eq!(SubdomainName::parse("0").unwrap(), "0");
        assert!(SubdomainName::parse(&"a".repeat(63)).is_ok());
    }

    #[test]
    fn subdomain_names_break_named_rules() {
        let cases = [
            ("", "empty"),
            (&*"a".repeat(64), "at most 63"),
            ("-blog", "start with a hyphen"),
            ("blog-", "end with a hyphen"),
            ("-", "start with a hyphen"),
            ("bl og", "letters, digits and hyphens"),
            (" blog", "letters, digits and hyphens"),
            ("blog.example", "letters, digits and hyphens"),
            ("bl_og", "letters, digits and hyphens"),
            ("blög", "letters, digits and hyphens"),
        ];
        for (input, expected) in cases {
            let err = SubdomainName::parse(input).unwrap_err().to_string();
            assert!(err.contains(expected), "{input:?}: {err}");
            assert!(err.contains("subdomain name"), "{err}");
        }
    }

    #[test]
    fn subdomain_serde_goes_through_parse() {
        let name: SubdomainName = serde_json::from_str("\"Docs\"").unwrap();
        assert_eq!(name, "docs");
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"docs\"");
        assert!(serde_json::from_str::<SubdomainName>("\"-docs\"").is_err());
        assert!(serde_json::from_str::<SubdomainName>("42").is_err());
    }

    #[test]
    fn hostnames_are_normalized() {
        assert_eq!(Hostname::parse("Example.COM").unwrap(), "example.com");
        assert_eq!(Hostname::parse("example.com.").unwrap(), "example.com");
        assert_eq!(
            Hostname::parse("a-b.c-d.example.co.uk")
                .unwrap()
                .labels()
                .count(),
            5
        );
        assert!(Hostname::parse("xn--bcher-kva.example").is_ok());
        assert!(Hostname::parse("1password.com").is_ok());
        let long = format!("{}.com", vec!["a".repeat(63); 3].join("."));
        assert!(long.len() <= 253 && Hostname::parse(&long).is_ok());
    }

    #[test]
    fn bad_hostnames_are_refused() {
        for input in [
            "",
            ".",
            "com",
            "localhost",
            "example..com",
            ".example.com",
            "example.com..",
            "-a.example.com",
            "a-.example.com",
            "exa mple.com",
            "exa_mple.com",
            "1.2.3.4",
            "example.123",
            "ex\u{e4}mple.com",
        ] {
            assert!(Hostname::parse(input).is_err(), "{input:?} accepted");
        }
        let too_long = format!("{}.com", vec!["a".repeat(63); 4].join("."));
        assert!(Hostname::parse(&too_long).is_err());
        let label_too_long = format!("{}.com", "a".repeat(64));
        assert!(Hostname::parse(&label_too_long).is_err());
    }

    #[test]
    fn hostname_errors_name_the_bad_label() {
        let err = Hostname::parse("ok.-bad.com").unwrap_err().to_string();
        assert!(err.contains("label '-bad'"), "{err}");
    }

    fn breaks_a_rule(s: &str) -> bool {
        let n = s.chars().count();
        let forbidden = s.chars().any(|c| !(c.is_ascii_alphanumeric() || c == '-'));
        let edge_hyphen = s.starts_with('-') || s.ends_with('-');
        n == 0 || n > 63 || forbidden || edge_hyphen
    }

    fn follows_the_rule(s: &str) -> bool {
        let bytes = s.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= 63
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
            && bytes.first() != Some(&b'-')
            && bytes.last() != Some(&b'-')
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn subdomain_accepts_exactly_the_rule(s in "[a-zA-Z0-9-]{0,66}|[a-zA-Z0-9 ._\\-é]{0,10}|\\PC{0,70}") {
            match SubdomainName::parse(&s) {
                Ok(name) => {
                    let shown = name.to_string();
                    prop_assert_eq!(&shown, &s.to_ascii_lowercase());
                    prop_assert_eq!(SubdomainName::parse(&shown).ok(), Some(name.clone()));
                    prop_assert!(follows_the_rule(&shown));
                    prop_assert!(!breaks_a_rule(&s));
                }
                Err(_) => prop_assert!(breaks_a_rule(&s), "{:?} refused", s),
            }
        }

        #[test]
        fn valid_labels_always_parse(s in "[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?") {
            let name = SubdomainName::parse(&s);
            prop_assert!(name.is_ok());
        }

        #[test]
        fn hostnames_round_trip(labels in proptest::collection::vec("[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?", 1..5), tld in "[a-zA-Z]{2,6}") {
            let raw = format!("{}.{tld}", labels.join("."));
            let host = Hostname::parse(&raw).unwrap();
            prop_assert_eq!(host.as_str(), raw.to_ascii_lowercase());
            prop_assert_eq!(Hostname::parse(host.as_str()).unwrap(), host.clone());
            prop_assert_eq!(Hostname::parse(&format!("{raw}.")).unwrap(), host);
        }
    }
}
