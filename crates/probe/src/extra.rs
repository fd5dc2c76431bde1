//! Reading a connection's `extra` JSON object. The text is secret (it may
//! hold keys), so nothing here ever echoes a value: errors name the key and
//! the expected type only, and the parsed document is zeroized on drop.

use patchbay_app::ports::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use zeroize::Zeroize;

use crate::failure::Failure;

/// The parsed `extra` object; every string in it is zeroized on drop.
#[derive(Default)]
pub(crate) struct Extra {
    map: Map<String, Value>,
}

impl std::fmt::Debug for Extra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extra")
            .field("keys", &self.map.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Drop for Extra {
    fn drop(&mut self) {
        fn wipe(value: &mut Value) {
            match value {
                Value::String(s) => s.zeroize(),
                Value::Array(items) => items.iter_mut().for_each(wipe),
                Value::Object(map) => map.values_mut().for_each(wipe),
                Value::Null | Value::Bool(_) | Value::Number(_) => {}
            }
        }
        self.map.values_mut().for_each(wipe);
    }
}

impl Extra {
    /// Parses `extra`; absent or blank means an empty object.
    ///
    /// # Errors
    /// A [`Failure::config`] when the text is not a JSON object (the error
    /// names the position, never the text).
    pub(crate) fn parse(extra: Option<&SecretString>) -> Result<Self, Failure> {
        let Some(text) = extra.map(ExposeSecret::expose_secret) else {
            return Ok(Self::default());
        };
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(Self { map }),
            Ok(mut other) => {
                if let Value::String(s) = &mut other {
                    s.zeroize();
                }
                Err(Failure::config("extra is not a JSON object"))
            }
            Err(e) => Err(Failure::config(format!(
                "extra is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ))),
        }
    }

    /// A string value, if the key is present and not null.
    ///
    /// # Errors
    /// When the value is not a string.
    pub(crate) fn str(&self, key: &str) -> Result<Option<&str>, Failure> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(Failure::config(format!("extra.{key} must be a string"))),
        }
    }

    /// A required string value.
    ///
    /// # Errors
    /// When the key is missing, empty, or not a string.
    pub(crate) fn required_str(&self, key: &str) -> Result<&str, Failure> {
        match self.str(key)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(Failure::config(format!("extra.{key} is required"))),
        }
    }

    /// A boolean value (`true`/`false`, or the strings `"true"`/`"false"`).
    ///
    /// # Errors
    /// When the value is something else.
    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, Failure> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(Failure::config(format!("extra.{key} must be a boolean"))),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Extra, Failure> {
        Extra::parse(Some(&SecretString::from(text.to_owned())))
    }

    #[test]
    fn reads_typed_values_and_never_echoes_them() {
        let extra = parse(r#"{"path": "/health", "tls": true, "n": 3, "s": "false"}"#).unwrap();
        assert_eq!(extra.str("path").unwrap(), Some("/health"));
        assert_eq!(extra.str("missing").unwrap(), None);
        assert_eq!(extra.bool("tls").unwrap(), Some(true));
        assert_eq!(extra.bool("s").unwrap(), Some(false));
        let err = extra.str("n").unwrap_err();
        assert_eq!(err.detail, "extra.n must be a string");
        let err = extra.bool("path").unwrap_err();
        assert!(!err.detail.contains("/health"));
        assert!(extra.required_str("missing").is_err());
        assert!(format!("{extra:?}").contains("path"));
        assert!(!format!("{extra:?}").contains("/health"));
    }

    #[test]
    fn rejects_non_objects_without_quoting_them() {
        let err = parse(r#""hunter2""#).unwrap_err();
        assert!(!err.detail.contains("hunter2"));
        let err = parse(r#"{"secret": "hunter2""#).unwrap_err();
        assert!(!err.detail.contains("hunter2"), "{}", err.detail);
        assert!(parse("   ").unwrap().str("x").unwrap().is_none());
        assert!(Extra::parse(None).unwrap().str("x").unwrap().is_none());
    }
}
