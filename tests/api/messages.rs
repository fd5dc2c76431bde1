//! Every error message the server can send is asserted by some black-box
//! test. The messages are read from the source: the `AppError`
//! constructors in `crates/app` and `crates/http`, and the `#[error(...)]`
//! texts of `crates/domain` (those reach clients through `From<DomainError>`).
//! A message passes when its longest literal part (the text between
//! `{placeholders}`) appears in a test file of this binary; the few that no
//! request can provoke are listed below with the reason.
//!
//! Adding an error message therefore means adding a test that provokes it
//! and checks it with `Response::assert_error`.

use std::path::{Path, PathBuf};

/// Messages no black-box test provokes, each with the reason. A message
/// listed here must still exist in the code (the list cannot go stale).
const NOT_PROVOKED: &[(&str, &str)] = &[
    (
        "A record with the same unique value exists (",
        "fallback for a unique index that no use case maps to its own message; every index of the schema has one",
    ),
    (
        "A referenced record does not exist (",
        "fallback for a foreign key that no use case maps; the ones a request can break have their own message",
    ),
    (
        "Not found",
        "fallback for a store NotFound that no use case maps; each family maps it to its own 'X not found'",
    ),
    (
        "Invalid query string",
        "actix's QueryPayloadError has no variant but Deserialize today; the branch is there for its future variants",
    ),
    (
        "Could not read the request body",
        "the body stream broke (the client went away mid-body): no client is left to read the answer",
    ),
    (
        "The connection was changed by another request; read it again and retry",
        "a lost race between two PATCHes of one connection; the store test updates_apply_only_to_the_state_they_were_read_from provokes it deterministically",
    ),
    (
        " role, which is above your own",
        "only admins and the owner may grant roles, and owner is refused before this rule; the domain's role tests cover it",
    ),
    (
        "Too many connection tests are running; try again shortly",
        "OWED by the credential-connections tests: the in-flight cap (PATCHBAY_PROBE_MAX_CONCURRENT) needs a test that holds tests open",
    ),
];

/// Messages built from other messages, with no literal text of their own.
const COMPOSED: &[&str] = &["{path}: {what}", "{what} {reason}"];

/// The two messages that `AppError::internal`/`unavailable` always send
/// (their arguments are log details, never sent).
const FIXED: &[&str] = &[
    "An unexpected error occurred; see the server log for this request id",
    "A dependency is unavailable; try again shortly",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The production part of a source file (test modules sit at the end).
fn production_code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    match text.find("#[cfg(test)]") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// The string literal at the start of `s` (after whitespace and an
/// optional `format!(`), as written in the source.
fn literal_at(s: &str) -> Option<&str> {
    let s = s.trim_start();
    let s = s.strip_prefix("format!(").map_or(s, str::trim_start);
    let body = s.strip_prefix('"')?;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(&body[..i]),
            _ => escaped = false,
        }
    }
    None
}

/// Every client-facing message written in `code`.
fn messages_in(code: &str, domain: bool) -> Vec<String> {
    let mut found = Vec::new();
    let each = |marker: &str, f: &mut dyn FnMut(&str)| {
        let mut rest = code;
        while let Some(i) = rest.find(marker) {
            rest = &rest[i + marker.len()..];
            f(rest);
        }
    };
    if domain {
        each("#[error(", &mut |r| {
            if let Some(m) = literal_at(r) {
                found.push(m.to_owned());
            }
        });
        return found;
    }
    for ctor in [
        "bad_request",
        "unauthorized",
        "forbidden",
        "not_found",
        "conflict",
        "gone",
        "rate_limited",
    ] {
        each(&format!("AppError::{ctor}("), &mut |r| {
            if let Some(m) = literal_at(r) {
                found.push(m.to_owned());
            }
        });
    }
    each("AppError::new(", &mut |r| {
        if let Some(m) = r.split_once(',').and_then(|(_, r)| literal_at(r)) {
            found.push(m.to_owned());
        }
    });
    each("AppError::invalid_field(", &mut |r| {
        let Some(field) = literal_at(r) else { return };
        let after = r.split_once(',').map_or("", |(_, r)| r);
        if let Some(problem) = literal_at(after) {
            found.push(format!("{field}: {problem}"));
        }
    });
    found
}

/// The longest literal part of a message: what a test must contain.
fn fragment(message: &str) -> &str {
    let mut best = "";
    let mut rest = message;
    loop {
        let (part, tail) = match rest.find('{') {
            Some(i) => (&rest[..i], rest[i..].find('}').map(|j| &rest[i + j + 1..])),
            None => (rest, None),
        };
        if part.len() > best.len() {
            best = part;
        }
        match tail {
            Some(t) => rest = t,
            None => return best,
        }
    }
}

#[test]
fn every_error_message_is_asserted_by_a_black_box_test() {
    let root = workspace();
    let mut messages: Vec<(String, String)> = Vec::new();
    for (dir, domain) in [
        ("crates/app/src", false),
        ("crates/http/src", false),
        ("crates/domain/src", true),
    ] {
        let mut files = Vec::new();
        rust_files(&root.join(dir), &mut files);
        files.sort();
        for file in files {
            let code = production_code(&file);
            let shown = file.strip_prefix(&root).unwrap().display().to_string();
            for m in messages_in(&code, domain) {
                messages.push((shown.clone(), m));
            }
        }
    }
    for m in FIXED {
        messages.push(("crates/app/src/error.rs".into(), (*m).to_owned()));
    }
    assert!(
        messages.len() > 60,
        "the scan found only {} messages: has the code moved?",
        messages.len()
    );

    let mut tests = String::new();
    let mut files = Vec::new();
    rust_files(&root.join("tests/api"), &mut files);
    for file in files {
        if !file.ends_with("messages.rs") {
            tests.push_str(&std::fs::read_to_string(file).unwrap());
        }
    }

    let mut missing = Vec::new();
    for (file, message) in &messages {
        if COMPOSED.contains(&message.as_str()) {
            continue;
        }
        let needle = fragment(message);
        assert!(
            needle.len() >= 6,
            "{file}: {message:?} has no literal part to look for; add it to COMPOSED"
        );
        let excused = NOT_PROVOKED
            .iter()
            .any(|(m, _)| needle.contains(m) || m.contains(needle));
        if !excused && !tests.contains(needle) {
            missing.push(format!("  {file}: {message:?}"));
        }
    }
    assert!(
        missing.is_empty(),
        "{} error message(s) no black-box test asserts (use Response::assert_error):\n{}",
        missing.len(),
        missing.join("\n")
    );
    for (m, why) in NOT_PROVOKED {
        assert!(
            messages.iter().any(|(_, msg)| msg.contains(m)),
            "NOT_PROVOKED lists {m:?} ({why}), which is no longer in the code"
        );
    }
}

#[test]
fn fragments_are_the_longest_literal_part() {
    assert_eq!(
        fragment("A {x} named '{y}' already exists"),
        "' already exists"
    );
    assert_eq!(fragment("Plain"), "Plain");
    assert_eq!(fragment("{a}: {b}"), ": ");
    assert_eq!(
        literal_at(r#" format!("a \"b\" {c}", c)"#),
        Some(r#"a \"b\" {c}"#)
    );
}
