//! The key ring: named 32-byte sealing keys, the first one active. Owns the
//! key bytes (wiped on drop) and the parsing of `PATCHBAY_SECRET_KEYS`; must
//! never show a key byte in `Debug`, `Display` or an error.

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

/// Length of a sealing key in bytes (XChaCha20-Poly1305 takes a 256-bit key).
pub const KEY_LEN: usize = 32;

/// The longest key id accepted, in bytes.
pub const MAX_KEY_ID_LEN: usize = 32;

/// Why a key ring could not be built. Carries positions and ids, never key
/// material: an entry that failed to parse may be a pasted key, so it is
/// named by its position only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyRingError {
    /// No key at all (an empty list, or text with only commas and spaces).
    #[error("the key ring holds no key")]
    Empty,
    /// An entry of [`KeyRing::parse`]'s text is not `<id>:<64 hex characters>`
    /// (no colon, a bad id, wrong length or a non-hex character). `position`
    /// counts non-empty entries from 1.
    #[error("key ring entry {position} must look like <id>:<64 hex characters>")]
    MalformedEntry {
        /// 1-based position among the non-empty entries.
        position: usize,
    },
    /// An id given to [`KeyRing::new`] is empty, longer than
    /// [`MAX_KEY_ID_LEN`] bytes, or holds a character other than ASCII
    /// letters, digits, `-` and `_`. `position` counts from 1.
    #[error(
        "key ring entry {position} has an invalid key id (1 to 32 ASCII letters, digits, '-' or '_')"
    )]
    InvalidKeyId {
        /// 1-based position in the list.
        position: usize,
    },
    /// Two entries share an id, so a stored key id would be ambiguous.
    #[error("the key ring has the key id '{key_id}' twice")]
    DuplicateKeyId {
        /// The repeated id (ids are not secret).
        key_id: String,
    },
}

/// One named key; the bytes are wiped when it is dropped.
struct Entry {
    id: String,
    key: Zeroizing<[u8; KEY_LEN]>,
}

/// An ordered, non-empty set of sealing keys with unique ids; the first is
/// the active key that new values are sealed under, the others only open
/// values sealed before a rotation (SPEC §8 "Key ring").
///
/// Ids are 1 to [`MAX_KEY_ID_LEN`] ASCII letters, digits, `-` or `_`, the
/// rule the binary's configuration has always applied. Key bytes live in
/// [`Zeroizing`] buffers and are overwritten with zeros when the ring is
/// dropped. `Debug` lists the ids only.
pub struct KeyRing {
    /// The key new values are sealed under; a field of its own so that a
    /// ring without one cannot be built.
    active: Entry,
    /// Keys kept to open values sealed before a rotation, in ring order.
    older: Vec<Entry>,
}

impl KeyRing {
    /// Builds a ring from `(id, key)` pairs, the first one active.
    ///
    /// The key bytes in `keys` are copied into wiped-on-drop storage and
    /// overwritten with zeros in `keys` before it is freed, on success and on
    /// error alike.
    ///
    /// # Errors
    /// [`KeyRingError::Empty`] for an empty list,
    /// [`KeyRingError::InvalidKeyId`] for an id outside the rule above,
    /// [`KeyRingError::DuplicateKeyId`] when an id repeats.
    pub fn new(mut keys: Vec<(String, [u8; KEY_LEN])>) -> Result<Self, KeyRingError> {
        let entries: Vec<Entry> = keys
            .iter_mut()
            .map(|(id, key)| {
                let entry = Entry {
                    id: std::mem::take(id),
                    key: Zeroizing::new(*key),
                };
                key.zeroize();
                entry
            })
            .collect();
        drop(keys);
        for (i, entry) in entries.iter().enumerate() {
            if !is_valid_key_id(&entry.id) {
                return Err(KeyRingError::InvalidKeyId { position: i + 1 });
            }
        }
        Self::from_entries(entries)
    }

    /// Parses the `PATCHBAY_SECRET_KEYS` format: `id:hex64[,id:hex64…]`,
    /// first entry active (SPEC §9). Entries are trimmed of surrounding
    /// white space and empty entries are skipped; hex digits may be upper or
    /// lower case. Accepts and refuses exactly what the binary's
    /// `config::parse_key_ring` does.
    ///
    /// # Errors
    /// [`KeyRingError::MalformedEntry`] naming the entry's position (never
    /// its text), [`KeyRingError::DuplicateKeyId`],
    /// [`KeyRingError::Empty`] when no entry is left.
    pub fn parse(raw: &str) -> Result<Self, KeyRingError> {
        let mut entries = Vec::new();
        for (i, text) in raw
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .enumerate()
        {
            let malformed = KeyRingError::MalformedEntry { position: i + 1 };
            let Some((id, hex_key)) = text.split_once(':') else {
                return Err(malformed);
            };
            if !is_valid_key_id(id) {
                return Err(malformed);
            }
            let mut key = Zeroizing::new([0u8; KEY_LEN]);
            if hex::decode_to_slice(hex_key, key.as_mut_slice()).is_err() {
                return Err(malformed);
            }
            entries.push(Entry {
                id: id.to_owned(),
                key,
            });
        }
        Self::from_entries(entries)
    }

    fn from_entries(entries: Vec<Entry>) -> Result<Self, KeyRingError> {
        for (i, entry) in entries.iter().enumerate() {
            if entries[..i].iter().any(|earlier| earlier.id == entry.id) {
                return Err(KeyRingError::DuplicateKeyId {
                    key_id: entry.id.clone(),
                });
            }
        }
        let mut entries = entries.into_iter();
        let active = entries.next().ok_or(KeyRingError::Empty)?;
        Ok(Self {
            active,
            older: entries.collect(),
        })
    }

    fn entries(&self) -> impl Iterator<Item = &Entry> {
        std::iter::once(&self.active).chain(&self.older)
    }

    /// The id of the active key (the first), which new values are sealed
    /// under.
    #[must_use]
    pub fn active_key_id(&self) -> &str {
        &self.active.id
    }

    /// The ids in ring order, active first.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.entries().map(|e| e.id.as_str())
    }

    /// Whether the ring holds a key with this id (exact, case-sensitive).
    #[must_use]
    pub fn contains(&self, key_id: &str) -> bool {
        self.key(key_id).is_some()
    }

    /// The active key's id and bytes.
    pub(crate) fn active(&self) -> (&str, &[u8; KEY_LEN]) {
        (&self.active.id, &self.active.key)
    }

    /// The bytes of the key with this id.
    pub(crate) fn key(&self, key_id: &str) -> Option<&[u8; KEY_LEN]> {
        self.entries().find(|e| e.id == key_id).map(|e| &*e.key)
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("key_ids", &self.key_ids().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn is_valid_key_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_KEY_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const HEX_A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const HEX_B: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

    /// A frozen copy of `crates/patchbay/src/config.rs::parse_key_ring` as it
    /// stood when this crate was written: the oracle [`KeyRing::parse`] must
    /// agree with, so switching the binary over changes no accepted input.
    fn reference_parse_key_ring(raw: &str) -> Result<Vec<(String, [u8; 32])>, String> {
        let mut ring = Vec::new();
        for (i, entry) in raw
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .enumerate()
        {
            let bad = || {
                format!(
                    "PATCHBAY_SECRET_KEYS entry {} must look like <id>:<64 hex characters>",
                    i + 1
                )
            };
            let (id, hex_key) = entry.split_once(':').ok_or_else(bad)?;
            if id.is_empty()
                || id.len() > 32
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(bad());
            }
            let bytes = hex::decode(hex_key).map_err(|_| bad())?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
            if ring.iter().any(|(existing, _)| existing == id) {
                return Err(format!("PATCHBAY_SECRET_KEYS has the key id '{id}' twice"));
            }
            ring.push((id.to_owned(), key));
        }
        if ring.is_empty() {
            return Err("PATCHBAY_SECRET_KEYS holds no key".into());
        }
        Ok(ring)
    }

    /// Asserts that both parsers agree on `raw`: same ids and bytes when
    /// accepted; both refuse otherwise, and on the same entry.
    fn assert_agrees(raw: &str) {
        let mine = KeyRing::parse(raw);
        let reference = reference_parse_key_ring(raw);
        assert_eq!(
            mine.is_ok(),
            reference.is_ok(),
            "{raw:?}: {mine:?} vs {reference:?}"
        );
        match (mine, reference) {
            (Ok(ring), Ok(reference)) => {
                let ids: Vec<&str> = ring.key_ids().collect();
                let ref_ids: Vec<&str> = reference.iter().map(|(id, _)| id.as_str()).collect();
                assert_eq!(ids, ref_ids, "{raw:?}");
                for (id, key) in &reference {
                    assert_eq!(ring.key(id), Some(key), "{raw:?}");
                }
            }
            (Err(err), Err(reference)) => {
                let same_reason = match &err {
                    KeyRingError::MalformedEntry { position } => {
                        reference.contains(&format!("entry {position} "))
                    }
                    KeyRingError::DuplicateKeyId { key_id } => {
                        reference.contains(&format!("'{key_id}' twice"))
                    }
                    KeyRingError::Empty => reference.contains("no key"),
                    // `parse` reports a bad id as a malformed entry.
                    KeyRingError::InvalidKeyId { .. } => false,
                };
                assert!(same_reason, "{raw:?}: {err} vs {reference}");
            }
            _ => {}
        }
    }

    #[test]
    fn parse_reads_ids_and_keys_in_order_first_active() {
        let ring = KeyRing::parse(&format!("k2026:{HEX_B}, old-1:{HEX_A}")).unwrap();
        assert_eq!(ring.active_key_id(), "k2026");
        assert_eq!(ring.key_ids().collect::<Vec<_>>(), ["k2026", "old-1"]);
        assert_eq!(ring.key("k2026"), Some(&[0x5a; 32]));
        let expected: [u8; 32] = std::array::from_fn(|i| u8::try_from(i).unwrap());
        assert_eq!(ring.key("old-1"), Some(&expected));
        assert!(ring.contains("old-1"));
        assert!(!ring.contains("OLD-1"), "ids are case-sensitive");
    }

    #[test]
    fn parse_agrees_with_the_config_parser_on_its_cases_and_the_edges() {
        let upper = HEX_A.to_uppercase();
        let long_id = "a".repeat(32);
        let too_long_id = "a".repeat(33);
        let cases = [
            // config.rs's own tests
            format!("kabc:{HEX_A}"),
            String::new(),
            "k1:abcd".to_owned(),
            format!("k1:{HEX_A},k1:{HEX_A}"),
            // separators and white space
            format!("  k1:{HEX_A} ,, k2:{HEX_B},"),
            ",,, ".to_owned(),
            format!("k1:{HEX_A}\n"),
            format!("k1 :{HEX_A}"),
            format!("k1: {HEX_A}"),
            // ids
            format!("{long_id}:{HEX_A}"),
            format!("{too_long_id}:{HEX_A}"),
            format!(":{HEX_A}"),
            format!("k.1:{HEX_A}"),
            format!("k/1:{HEX_A}"),
            format!("kö:{HEX_A}"),
            format!("A-z_09:{HEX_A}"),
            format!("K1:{HEX_A},k1:{HEX_B}"),
            // keys
            format!("k1:{upper}"),
            format!("k1:{}", &HEX_A[..63]),
            format!("k1:{HEX_A}0"),
            format!("k1:{HEX_A}00"),
            format!("k1:{}g", &HEX_A[..63]),
            format!("k1:{HEX_A}:x"),
            HEX_A.to_owned(),
            format!("k1:{HEX_A};k2:{HEX_B}"),
            // the error names the right entry
            format!("k1:{HEX_A},k2:nothex"),
            format!("k1:{HEX_A},k2:{HEX_B},k1:{HEX_B}"),
        ];
        for raw in &cases {
            assert_agrees(raw);
        }
        assert!(KeyRing::parse(&cases[0]).is_ok());
        assert_eq!(KeyRing::parse("").unwrap_err(), KeyRingError::Empty);
        assert_eq!(
            KeyRing::parse("k1:abcd").unwrap_err(),
            KeyRingError::MalformedEntry { position: 1 }
        );
        assert_eq!(
            KeyRing::parse(&cases[3]).unwrap_err(),
            KeyRingError::DuplicateKeyId {
                key_id: "k1".into()
            }
        );
    }

    #[test]
    fn errors_never_show_key_material() {
        for raw in [
            HEX_B.to_owned(),
            format!("k1:{HEX_B}0"),
            format!("bad id:{HEX_B}"),
        ] {
            let err = KeyRing::parse(&raw).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("5a5a"), "{shown}");
        }
    }

    #[test]
    fn new_checks_emptiness_ids_and_duplicates() {
        let key = [7u8; 32];
        let ring = KeyRing::new(vec![("b".into(), key), ("a".into(), [8; 32])]).unwrap();
        assert_eq!(ring.active_key_id(), "b");
        assert_eq!(ring.key("a"), Some(&[8; 32]));
        assert_eq!(KeyRing::new(vec![]).unwrap_err(), KeyRingError::Empty);
        for bad in ["", "has space", "dot.ted", &"x".repeat(33), "ключ"] {
            assert_eq!(
                KeyRing::new(vec![("ok".into(), key), (bad.into(), key)]).unwrap_err(),
                KeyRingError::InvalidKeyId { position: 2 },
                "{bad:?}"
            );
        }
        assert_eq!(
            KeyRing::new(vec![("a".into(), key), ("a".into(), key)]).unwrap_err(),
            KeyRingError::DuplicateKeyId { key_id: "a".into() }
        );
    }

    #[test]
    fn debug_lists_ids_only() {
        let ring = KeyRing::parse(&format!("k1:{HEX_B}")).unwrap();
        let shown = format!("{ring:?} {ring:#?}");
        assert!(shown.contains("k1"), "{shown}");
        assert!(!shown.contains("5a"), "{shown}");
        assert!(!shown.contains("90"), "{shown}");
    }

    /// Entries drawn from a small alphabet that hits every rule: separators,
    /// white space, id characters, hex of the right and wrong lengths.
    fn entry_text() -> impl Strategy<Value = String> {
        let id = prop_oneof![
            "[A-Za-z0-9_-]{1,3}",
            "[A-Za-z0-9_-]{31,34}",
            Just(String::new()),
            "[a-z .:/é]{1,4}",
        ];
        let key = prop_oneof![
            "[0-9a-fA-F]{64}",
            "[0-9a-f]{62,66}",
            "[0-9a-gx :]{64}",
            Just(String::new()),
        ];
        (
            id,
            prop_oneof![Just(":"), Just(""), Just("::")],
            key,
            "[ ]{0,2}",
        )
            .prop_map(|(id, colon, key, pad)| format!("{pad}{id}{colon}{key}{pad}"))
    }

    proptest! {
        #[test]
        fn parse_agrees_with_the_config_parser_on_generated_text(
            entries in proptest::collection::vec(entry_text(), 0..4),
            separator in prop_oneof![Just(","), Just(",,"), Just(" , ")],
        ) {
            assert_agrees(&entries.join(separator));
        }
    }
}
