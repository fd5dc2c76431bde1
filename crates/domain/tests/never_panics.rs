//! Every parser of the crate, fed arbitrary input, answers `Ok` or `Err`:
//! none panics, and whatever one accepts it accepts again in its own output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use patchbay_domain::{
    Action, AllowedConnections, ConnId, ConnectionStatus, CredentialField, CredentialType,
    DisplayName, Email, EnvironmentType, ExtraUpdate, HexColor, Hostname, Page, Password,
    PasswordUpdate, Port, ProjectName, ResourceType, Role, Slug, SubdomainName, check_extra,
    merge_patch, next_error_message, update_status,
};
use proptest::prelude::*;

/// Arbitrary text, biased towards the characters the parsers care about.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,300}",
        "[a-zA-Z0-9@._#+ -]{0,80}",
        "[a-zA-Z0-9-]{0,70}(\\.[a-zA-Z0-9-]{0,70}){0,5}\\.?",
    ]
}

/// Parses with `parse`, and when it succeeds checks that the output parses
/// to the same value (idempotent normalization).
macro_rules! round_trips {
    ($ty:ty, $s:expr) => {
        if let Ok(v) = <$ty>::parse($s) {
            let again = <$ty>::parse(v.as_str()).expect("own output parses");
            prop_assert_eq!(again, v);
        }
    };
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn string_parsers_never_panic(s in text()) {
        round_trips!(SubdomainName, &s);
        round_trips!(Hostname, &s);
        round_trips!(Slug, &s);
        round_trips!(ProjectName, &s);
        round_trips!(ConnId, &s);
        round_trips!(HexColor, &s);
        round_trips!(Email, &s);
        round_trips!(DisplayName, &s);
        let _ = Password::parse(&s);
        let _ = s.parse::<Port>();
        let _ = Role::parse(&s);
        let _ = Action::parse(&s);
        let _ = ResourceType::parse(&s);
        let _ = ConnectionStatus::parse(&s);
        let _ = EnvironmentType::parse(&s);
        let _ = CredentialType::parse(&s);
        let _ = CredentialField::parse(&s);
        let _ = check_extra(&s);
        let _ = ExtraUpdate::from_json(Some(Some(s.clone())));
        let _ = PasswordUpdate::from_json(Some(Some(s.clone())));
        // Serde goes through the same parsers.
        let json = serde_json::Value::String(s.clone());
        prop_assert_eq!(
            serde_json::from_value::<SubdomainName>(json.clone()).ok(),
            SubdomainName::parse(&s).ok()
        );
        prop_assert_eq!(
            serde_json::from_value::<Email>(json).ok(),
            Email::parse(&s).ok()
        );
    }

    #[test]
    fn error_messages_stay_short(s in text()) {
        for msg in [
            SubdomainName::parse(&s).err().map(|e| e.to_string()),
            Email::parse(&s).err().map(|e| e.to_string()),
            Hostname::parse(&s).err().map(|e| e.to_string()),
            Role::parse(&s).err().map(|e| e.to_string()),
        ]
        .into_iter()
        .flatten()
        {
            prop_assert!(msg.chars().count() < 400, "{}", msg);
            prop_assert!(!msg.chars().any(char::is_control), "{:?}", msg);
        }
    }

    #[test]
    fn number_parsers_never_panic(a in any::<i64>(), b in any::<i64>(), n in any::<u32>()) {
        let _ = Port::new(a);
        let _ = Port::try_from(n);
        if let Ok(page) = Page::new(a, b) {
            prop_assert!(page.offset() >= 0);
            prop_assert!((1..=100).contains(&page.limit()));
        }
    }

    #[test]
    fn rules_never_panic(
        s in 0..ResourceType::ALL.len(),
        t in 0..ResourceType::ALL.len(),
        from in 0..ConnectionStatus::ALL.len(),
        to in 0..ConnectionStatus::ALL.len(),
        msg in proptest::option::of(proptest::option::of(".{0,20}")),
    ) {
        let (s, t) = (ResourceType::ALL[s], ResourceType::ALL[t]);
        let (from, to) = (ConnectionStatus::ALL[from], ConnectionStatus::ALL[to]);
        let _ = AllowedConnections::defaults().check(s, t);
        let _ = next_error_message(from, to, Some("x".into()), msg.clone());
        if let Ok(up) = update_status(from, None, Some(to), msg) {
            prop_assert_eq!(up.status, to);
            prop_assert!(up.error_message.is_none() || to == ConnectionStatus::Failed);
        }
    }

    #[test]
    fn merge_patch_never_panics(a in json(), b in json()) {
        let mut doc = a;
        merge_patch(&mut doc, &b);
        // Applying the same patch twice changes nothing more (idempotence).
        let once = doc.clone();
        merge_patch(&mut doc, &b);
        prop_assert_eq!(doc, once);
    }
}

fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i32>().prop_map(serde_json::Value::from),
        "[a-c]{0,3}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map("[a-c]", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}
