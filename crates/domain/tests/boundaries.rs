//! Edges the tests beside the code did not pin, found by `cargo mutants`
//! (docs/testing.md): each test here fails for a mutant that survived.

#![allow(clippy::unwrap_used)]

use patchbay_domain::{
    AllowedConnections, ConnectionNotAllowed, ConnectionStatus, CredentialError, DomainError,
    ExtraUpdate, ImageFormat, InvalidStatusTransition, MAX_CONFIG_BYTES, MAX_EXTRA_BYTES,
    MAX_ICON_BYTES, Page, ResourceConnectionError, ResourceType, check_extra, check_json_document,
};
use serde_json::json;

/// `ExtraUpdate::sets_value` could return a constant.
#[test]
fn an_extra_update_sets_a_value_only_when_it_replaces_it() {
    let keep = ExtraUpdate::from_json(None).unwrap();
    let clear = ExtraUpdate::from_json(Some(None)).unwrap();
    let set = ExtraUpdate::from_json(Some(Some(r#"{"region":"eu"}"#.into()))).unwrap();
    assert!(keep == ExtraUpdate::Keep && !keep.sets_value());
    assert!(clear == ExtraUpdate::Clear && !clear.sets_value());
    assert!(set.sets_value());
}

/// The size limit's `>` could become `>=`: a document of exactly
/// `MAX_CONFIG_BYTES` is allowed, one byte more is not.
#[test]
fn a_json_document_of_exactly_the_limit_is_accepted() {
    let overhead = json!({"k": ""}).to_string().len();
    let at_limit = json!({"k": "x".repeat(MAX_CONFIG_BYTES - overhead)});
    assert_eq!(at_limit.to_string().len(), MAX_CONFIG_BYTES);
    assert!(check_json_document("config", &at_limit).is_ok());
    let over = json!({"k": "x".repeat(MAX_CONFIG_BYTES - overhead + 1)});
    let err = check_json_document("config", &over).unwrap_err();
    assert!(
        err.to_string()
            .ends_with(&format!("not {}", MAX_CONFIG_BYTES + 1)),
        "{err}"
    );
}

/// `Page::page` could return 1.
#[test]
fn a_page_reports_its_own_number() {
    let page = Page::new(3, 10).unwrap();
    assert_eq!(
        (page.page(), page.per_page(), page.offset(), page.limit()),
        (3, 10, 20, 10)
    );
    let page = Page::from_query(Some(7), None).unwrap();
    assert_eq!((page.page(), page.per_page()), (7, Page::DEFAULT_PER_PAGE));
    assert_eq!(page.offset(), 6 * Page::DEFAULT_PER_PAGE);
}

/// The icon limit's `*` could become `+`: it is one mebibyte.
#[test]
fn the_icon_limit_is_one_mebibyte() {
    assert_eq!(MAX_ICON_BYTES, 1_048_576);
    // And a PNG of that size is still a PNG (the limit is checked by size
    // alone, the format by content).
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.resize(MAX_ICON_BYTES, 0);
    assert_eq!(ImageFormat::sniff(&png), Some(ImageFormat::Png));
}

/// `MAX_CONFIG_BYTES`' `*` could become `+` (both sides of a comparison
/// with the constant move together, so the value itself is pinned).
#[test]
fn the_document_limits_are_sixteen_kibibytes() {
    assert_eq!(MAX_CONFIG_BYTES, 16_384);
    assert_eq!(MAX_EXTRA_BYTES, 16_384);
}

/// `check_extra`'s size limit and its NUL guard (`&&` could become `||`,
/// or the guard `true`): an escaped NUL is refused like a raw one.
#[test]
fn extra_is_refused_when_too_large_or_holding_a_nul() {
    let overhead = r#"{"k":""}"#.len();
    let at_limit = format!(r#"{{"k":"{}"}}"#, "x".repeat(MAX_EXTRA_BYTES - overhead));
    assert_eq!(at_limit.len(), MAX_EXTRA_BYTES);
    assert!(check_extra(&at_limit).is_ok());
    let over = format!(
        r#"{{"k":"{}"}}"#,
        "x".repeat(MAX_EXTRA_BYTES - overhead + 1)
    );
    assert!(matches!(
        check_extra(&over),
        Err(CredentialError::ExtraTooLarge { size }) if size == MAX_EXTRA_BYTES + 1
    ));
    assert!(check_extra(r#"{"k":"a"}"#).is_ok());
    for nul in [
        r#"{"k":"a\u0000b"}"#,
        "{\"k\":\"a\0b\"}",
        r#"{"a\u0000":1}"#,
    ] {
        assert!(
            matches!(check_extra(nul), Err(CredentialError::ExtraNotJsonObject)),
            "{nul:?}"
        );
    }
}

/// `ImageFormat::content_type` could return a constant.
#[test]
fn each_image_format_has_its_media_type() {
    for (format, media_type) in [
        (ImageFormat::Png, "image/png"),
        (ImageFormat::Jpeg, "image/jpeg"),
        (ImageFormat::Gif, "image/gif"),
        (ImageFormat::Webp, "image/webp"),
    ] {
        assert_eq!(format.content_type(), media_type);
    }
}

/// The titles reached through the `DomainError` trait (what the app layer
/// calls) could be constants.
#[test]
fn connection_errors_carry_their_seed_titles_through_the_trait() {
    let not_allowed = ConnectionNotAllowed {
        source_type: ResourceType::Application,
        target_type: ResourceType::Database,
    };
    assert_eq!(DomainError::title(&not_allowed), "Connection not allowed");
    let transition = InvalidStatusTransition {
        from: ConnectionStatus::Connected,
        to: ConnectionStatus::Pending,
    };
    for (err, title) in [
        (
            ResourceConnectionError::NotAllowed(not_allowed),
            "Connection not allowed",
        ),
        (
            ResourceConnectionError::InvalidTransition(transition),
            "Invalid status transition",
        ),
        (ResourceConnectionError::SelfConnection, "Bad Request"),
    ] {
        assert_eq!(DomainError::title(&err), title, "{err}");
    }
}

/// `AllowedConnections::is_empty` could return `true`.
#[test]
fn a_policy_with_rules_is_not_empty() {
    let none = AllowedConnections::new([]);
    assert!(none.is_empty());
    let one = AllowedConnections::new([(ResourceType::Application, ResourceType::Instance)]);
    assert!(!one.is_empty());
    assert_eq!(one.len(), 1);
}
