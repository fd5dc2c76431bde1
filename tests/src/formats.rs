//! The formats SPEC §4 promises of every response body, checked on every
//! response the test client sees:
//!
//! - timestamps (`*_at`, `*At`, `at`) are RFC 3339 UTC with milliseconds,
//!   `2024-01-15T10:30:00.000Z`, or `null`;
//! - ids have their documented types: resources and resource connections
//!   (and allowed-connection rules) have positive integer ids, everything
//!   else (users, projects, environments, members, invites, credential
//!   connections) UUIDs.
//!
//! User-supplied JSON (`config`, `connectionDetails`, `extra`, `details`) is
//! data, not format, and is not walked.

use serde_json::{Map, Value};

use crate::Response;

/// The resource types of SPEC §6: an object of one of these types is a
/// resource, whose `id` is an integer.
const RESOURCE_TYPES: &[&str] = &[
    "instance",
    "application",
    "database",
    "terminal",
    "firewall",
    "storage_bucket",
    "bucket_explorer",
    "static_website",
    "subdomain",
];

/// Fields holding documents the client wrote: never walked.
const OPAQUE: &[&str] = &["config", "connectionDetails", "extra", "details"];

/// Id fields that are integers (the canvas families' references).
const INTEGER_IDS: &[&str] = &["resourceId", "sourceResourceId", "targetResourceId"];

/// `*Id` / `*_id` fields that are not ids of a UUID-keyed entity.
const NOT_UUIDS: &[&str] = &["credentialConnId", "conn_id"];

/// Paths whose JSON is not an API object (the OpenAPI document describes
/// fields rather than holding them).
const UNCHECKED_PREFIXES: &[&str] = &["/openapi.json", "/docs", "/metrics", "/uploads"];

/// Checks `res` (the answer to `path`) and panics naming the first field
/// that breaks a rule.
///
/// # Panics
/// When a timestamp or id field has the wrong format.
#[allow(clippy::panic)]
pub fn check_response(path: &str, res: &Response) {
    if UNCHECKED_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return;
    }
    let is_json = res
        .header("content-type")
        .is_some_and(|ct| ct.starts_with("application/json"));
    if !is_json {
        return;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&res.body) else {
        return;
    };
    let mut problems = Vec::new();
    walk(&body, "$", &mut problems);
    if let Some(first) = problems.first() {
        panic!(
            "{}: {first} (SPEC §4 formats; {} problem(s) in all)\nbody: {}",
            res.request,
            problems.len(),
            res.text()
        );
    }
}

fn walk(value: &Value, at: &str, problems: &mut Vec<String>) {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{at}[{i}]"), problems);
            }
        }
        Value::Object(fields) => check_object(fields, at, problems),
        _ => {}
    }
}

fn check_object(fields: &Map<String, Value>, at: &str, problems: &mut Vec<String>) {
    for (key, value) in fields {
        let here = format!("{at}.{key}");
        if OPAQUE.contains(&key.as_str()) {
            continue;
        }
        if is_timestamp_key(key) {
            if !(value.is_null() || value.as_str().is_some_and(is_rfc3339_millis_utc)) {
                problems.push(format!(
                    "{here} = {value} is not RFC 3339 UTC with milliseconds"
                ));
            }
        } else if key == "id" {
            if has_integer_id(fields) {
                if !is_positive_integer(value) {
                    problems.push(format!("{here} = {value} should be a positive integer"));
                }
            } else if !is_uuid(value) {
                problems.push(format!("{here} = {value} should be a UUID"));
            }
        } else if INTEGER_IDS.contains(&key.as_str()) {
            if !is_positive_integer(value) {
                problems.push(format!("{here} = {value} should be a positive integer"));
            }
        } else if is_uuid_reference(key) && !(value.is_null() || is_uuid(value)) {
            problems.push(format!("{here} = {value} should be a UUID"));
        }
        walk(value, &here, problems);
    }
}

fn is_timestamp_key(key: &str) -> bool {
    key == "at" || key.ends_with("_at") || key.ends_with("At")
}

fn is_uuid_reference(key: &str) -> bool {
    !NOT_UUIDS.contains(&key)
        && (key.ends_with("_id") || key.ends_with("Id") || key == "invited_by")
}

/// Resources (by their type), resource connections and allowed-connection
/// rules (by their endpoint fields) have integer ids.
fn has_integer_id(fields: &Map<String, Value>) -> bool {
    fields.contains_key("sourceResourceType")
        || fields.contains_key("source_type")
        || fields.contains_key("position")
        || fields
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| RESOURCE_TYPES.contains(&t))
}

fn is_positive_integer(value: &Value) -> bool {
    value.as_i64().is_some_and(|n| n > 0)
}

fn is_uuid(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| s.len() == 36 && uuid::Uuid::parse_str(s).is_ok())
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, as SPEC §4 shows (`2024-01-15T10:30:00.000Z`).
#[must_use]
pub fn is_rfc3339_millis_utc(s: &str) -> bool {
    let b = s.as_bytes();
    let shape = b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    shape && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(v: &Value) -> Vec<String> {
        let mut p = Vec::new();
        walk(v, "$", &mut p);
        p
    }

    #[test]
    fn timestamps_must_be_utc_with_milliseconds() {
        assert!(is_rfc3339_millis_utc("2024-01-15T10:30:00.000Z"));
        for bad in [
            "2024-01-15T10:30:00Z",
            "2024-01-15T10:30:00.000000Z",
            "2024-01-15T10:30:00.000+00:00",
            "2024-13-15T10:30:00.000Z",
            "2024-01-15 10:30:00.000Z",
        ] {
            assert!(!is_rfc3339_millis_utc(bad), "{bad}");
        }
        assert_eq!(
            problems(&json!({"created_at": "2024-01-15T10:30:00.123456Z"})).len(),
            1
        );
        assert!(problems(&json!({"updatedAt": null, "config": {"x_at": 1}})).is_empty());
    }

    #[test]
    fn ids_have_their_documented_types() {
        let uuid = "0190f5d2-7c4e-7cc0-8a7e-1b2c3d4e5f60";
        assert!(problems(&json!({"id": uuid, "project_id": uuid})).is_empty());
        assert_eq!(problems(&json!({"id": 3, "name": "p"})).len(), 1);
        assert!(
            problems(&json!({"id": 3, "type": "instance", "credentialConnId": "x"})).is_empty()
        );
        assert_eq!(problems(&json!({"id": uuid, "type": "database"})).len(), 1);
        assert!(
            problems(
                &json!({"data": [{"id": 1, "sourceResourceType": "a", "sourceResourceId": 2,
                                        "targetResourceId": 3, "userId": uuid}]})
            )
            .is_empty()
        );
        assert_eq!(problems(&json!({"sourceResourceId": "2"})).len(), 1);
        assert!(problems(&json!({"id": 7, "source_type": "a"})).is_empty());
    }
}
