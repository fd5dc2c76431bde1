//! Edges the tests beside the code did not pin, found by `cargo mutants`
//! (docs/testing.md): each test here fails for a mutant that survived.

#![allow(clippy::unwrap_used)]

use patchbay_domain::{
    ExtraUpdate, ImageFormat, MAX_CONFIG_BYTES, MAX_ICON_BYTES, Page, check_json_document,
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
