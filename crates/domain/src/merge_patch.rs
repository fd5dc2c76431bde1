//! JSON Merge Patch (RFC 7386), as `PATCH connectionDetails` applies it:
//! objects merge key by key, `null` removes a key, anything else replaces.

use serde_json::{Map, Value};

/// Applies `patch` to `target` in place, per RFC 7386 §2.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        patch.clone_into(target);
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(key);
            } else {
                merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// [`merge_patch`] on an optional document (an absent document is `null`),
/// returning the result; a result of `null` is absent.
#[must_use]
pub fn merge_patch_option(target: Option<Value>, patch: &Value) -> Option<Value> {
    let mut doc = target.unwrap_or(Value::Null);
    merge_patch(&mut doc, patch);
    (!doc.is_null()).then_some(doc)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The test vectors of RFC 7386, appendix A: (original, patch, result).
    fn rfc_vectors() -> Vec<(Value, Value, Value)> {
        vec![
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":"b","b":"c"}),
                json!({"a":null}),
                json!({"b":"c"}),
            ),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a":"b"}), json!(["c"]), json!(["c"])),
            (json!({"a":"foo"}), json!(null), json!(null)),
            (json!({"a":"foo"}), json!("bar"), json!("bar")),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
            (
                json!({}),
                json!({"a":{"bb":{"ccc":null}}}),
                json!({"a":{"bb":{}}}),
            ),
        ]
    }

    #[test]
    fn rfc_7386_appendix_a() {
        for (original, patch, expected) in rfc_vectors() {
            let mut doc = original.clone();
            merge_patch(&mut doc, &patch);
            assert_eq!(doc, expected, "{original} + {patch}");
        }
    }

    #[test]
    fn rfc_7386_section_3_example() {
        let mut doc = json!({
            "title": "Goodbye!",
            "author": {"givenName": "John", "familyName": "Doe"},
            "tags": ["example", "sample"],
            "content": "This will be unchanged"
        });
        let patch = json!({
            "title": "Hello!",
            "phoneNumber": "+01-123-456-7890",
            "author": {"familyName": null},
            "tags": ["example"]
        });
        merge_patch(&mut doc, &patch);
        assert_eq!(
            doc,
            json!({
                "title": "Hello!",
                "author": {"givenName": "John"},
                "tags": ["example"],
                "content": "This will be unchanged",
                "phoneNumber": "+01-123-456-7890"
            })
        );
    }

    #[test]
    fn optional_documents() {
        assert_eq!(
            merge_patch_option(None, &json!({"securityGroupId": "sg-1"})),
            Some(json!({"securityGroupId": "sg-1"}))
        );
        assert_eq!(
            merge_patch_option(Some(json!({"a": 1})), &Value::Null),
            None
        );
        assert_eq!(
            merge_patch_option(Some(json!({"a": 1})), &json!({"b": 2})),
            Some(json!({"a": 1, "b": 2}))
        );
    }
}
