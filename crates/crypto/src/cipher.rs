//! The XChaCha20-Poly1305 implementation of the app's `SecretCipher` port:
//! nonce generation, associated data, and the stored format
//! `base64(nonce ‖ ciphertext ‖ tag)`. Owns every plaintext buffer it makes
//! and wipes it; must not log or show plaintext, key bytes or ciphertext.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Key, Tag, XChaCha20Poly1305, XNonce};
use patchbay_app::ports::{
    CipherError, ExposeSecret, SealContext, SealedSecret, SecretCipher, SecretString,
};
use rand::TryRngCore as _;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use crate::key_ring::{KEY_LEN, KeyRing};

/// Length of the XChaCha20 nonce in bytes, stored first in a sealed value.
pub const NONCE_LEN: usize = 24;

/// Length of the Poly1305 tag in bytes, stored last in a sealed value.
pub const TAG_LEN: usize = 16;

/// Versioned prefix of the associated data; a new format gets a new prefix.
const AD_PREFIX: &str = "patchbay/v1";

/// The production [`SecretCipher`]: XChaCha20-Poly1305 (RFC 8439's
/// ChaCha20-Poly1305 AEAD with the extended 192-bit nonce of
/// draft-irtf-cfrg-xchacha) under a [`KeyRing`], as SPEC §8 asks.
///
/// - **Seal**: a fresh 24-byte nonce from the operating system's random
///   source for every value (a random nonce this long never repeats in
///   practice, so no counter state is kept); the active key; the key's id
///   stored beside the ciphertext in [`SealedSecret::key_id`].
/// - **Associated data**: `patchbay/v1|<table>|<row id>|<field>` — the row
///   id as a lowercase hyphenated UUID, the field as
///   [`SecretField::as_str`](patchbay_app::ports::SecretField::as_str), e.g.
///   `patchbay/v1|credential_connections|0192f0c1-…|password`. A ciphertext
///   copied to another table, row or field fails to open. Only the table
///   name is free text and it comes from code; the id and field after it
///   have fixed shapes, so the string is unambiguous.
/// - **Stored form**: [`SealedSecret::ciphertext`] is base64 (standard
///   alphabet, padded) of nonce (24) ‖ ciphertext (as long as the UTF-8
///   plaintext) ‖ tag (16).
/// - **Wiping**: every buffer that holds plaintext is [`Zeroizing`]; the
///   AEAD instance made for each call wipes its key copy on drop; the opened
///   value is handed out as a [`SecretString`].
///
/// Pure CPU work, no I/O beyond reading OS randomness; cheap to share
/// behind an `Arc`. `Debug` shows key ids only.
pub struct XChaChaCipher {
    ring: KeyRing,
}

impl XChaChaCipher {
    /// A cipher over `ring`; new values are sealed under its first key.
    #[must_use]
    pub fn new(ring: KeyRing) -> Self {
        Self { ring }
    }

    /// The ring this cipher seals and opens with.
    #[must_use]
    pub fn key_ring(&self) -> &KeyRing {
        &self.ring
    }
}

impl fmt::Debug for XChaChaCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XChaChaCipher")
            .field("algorithm", &"XChaCha20-Poly1305")
            .field("key_ring", &self.ring)
            .finish()
    }
}

/// The associated data binding a ciphertext to where it is stored.
fn associated_data(context: &SealContext) -> String {
    format!(
        "{AD_PREFIX}|{}|{}|{}",
        context.table,
        context.row_id.hyphenated(),
        context.field.as_str()
    )
}

/// The AEAD for one call. The key is borrowed in place (no stack copy of it
/// is made here); the instance wipes its own copy when dropped.
#[expect(
    deprecated,
    reason = "generic-array 0.14's borrowing `from_slice` is what chacha20poly1305 0.10 takes; \
              it is deprecated only in favour of generic-array 1.x, and the alternatives \
              copy the key or add an impossible error path"
)]
fn aead(key: &[u8; KEY_LEN]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(Key::from_slice(key))
}

impl SecretCipher for XChaChaCipher {
    /// Seals under the active key with a fresh random nonce.
    ///
    /// # Errors
    /// [`CipherError::Internal`] when the value cannot be sealed: the OS
    /// random source failed, or the plaintext is beyond the AEAD's length
    /// limit (about 256 GiB). Neither happens in practice.
    fn seal(
        &self,
        plaintext: &SecretString,
        context: &SealContext,
    ) -> Result<SealedSecret, CipherError> {
        let (key_id, key) = self.ring.active();
        let plaintext = plaintext.expose_secret().as_bytes();

        let mut nonce = [0u8; NONCE_LEN];
        OsRng
            .try_fill_bytes(&mut nonce)
            .map_err(|e| CipherError::Internal(format!("OS random source: {e}")))?;

        // Room for the tag up front, so the buffer never reallocates and
        // leaves an unwiped copy of the plaintext behind.
        let mut sealed = Zeroizing::new(Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN));
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(plaintext);
        let tag = aead(key)
            .encrypt_in_place_detached(
                &XNonce::from(nonce),
                associated_data(context).as_bytes(),
                &mut sealed[NONCE_LEN..],
            )
            .map_err(|_| CipherError::Internal("the AEAD refused the plaintext".into()))?;
        sealed.extend_from_slice(&tag);

        Ok(SealedSecret {
            key_id: key_id.to_owned(),
            ciphertext: STANDARD.encode(&*sealed),
        })
    }

    /// Opens a value sealed for `context` under any key of the ring.
    ///
    /// # Errors
    /// [`CipherError::UnknownKey`] when `sealed.key_id` is not in the ring
    /// (checked first); [`CipherError::Malformed`] when the ciphertext is not
    /// standard padded base64 or decodes to fewer than 24 + 16 bytes;
    /// [`CipherError::Tampered`] when authentication fails (any altered
    /// byte, another table's/row's/field's value, a different key under the
    /// same id); [`CipherError::NotUtf8`] when the authentic plaintext is not
    /// UTF-8 (not something this cipher seals).
    fn open(
        &self,
        sealed: &SealedSecret,
        context: &SealContext,
    ) -> Result<SecretString, CipherError> {
        let key = self
            .ring
            .key(&sealed.key_id)
            .ok_or_else(|| CipherError::UnknownKey {
                key_id: sealed.key_id.clone(),
            })?;
        let bytes = STANDARD
            .decode(&sealed.ciphertext)
            .map_err(|_| CipherError::Malformed)?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(CipherError::Malformed);
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
        let nonce = <[u8; NONCE_LEN]>::try_from(nonce).map_err(|_| CipherError::Malformed)?;
        let tag = <[u8; TAG_LEN]>::try_from(tag).map_err(|_| CipherError::Malformed)?;

        // Decrypted in a copy whose capacity equals its length, so turning it
        // into the `SecretString` below never reallocates an unwiped copy.
        let mut plaintext = Zeroizing::new(body.to_vec());
        aead(key)
            .decrypt_in_place_detached(
                &XNonce::from(nonce),
                associated_data(context).as_bytes(),
                &mut plaintext,
                &Tag::from(tag),
            )
            .map_err(|_| CipherError::Tampered)?;
        let text = std::str::from_utf8(&plaintext).map_err(|_| CipherError::NotUtf8)?;
        Ok(SecretString::from(text))
    }

    fn active_key_id(&self) -> String {
        self.ring.active_key_id().to_owned()
    }

    fn has_key(&self, key_id: &str) -> bool {
        self.ring.contains(key_id)
    }

    fn key_ids(&self) -> Vec<String> {
        self.ring.key_ids().map(str::to_owned).collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use patchbay_app::ports::SecretField;
    use proptest::prelude::*;
    use uuid::Uuid;

    use super::*;

    const KEY_A: [u8; 32] = [0x5a; 32];
    const KEY_B: [u8; 32] = [0xc3; 32];

    fn ring(keys: &[(&str, [u8; 32])]) -> KeyRing {
        KeyRing::new(keys.iter().map(|(id, k)| ((*id).to_owned(), *k)).collect()).unwrap()
    }

    fn cipher_a() -> XChaChaCipher {
        XChaChaCipher::new(ring(&[("ka", KEY_A)]))
    }

    fn row() -> Uuid {
        Uuid::parse_str("0192f0c1-7a2b-7c3d-8e4f-a0b1c2d3e4f5").unwrap()
    }

    fn password_of(row_id: Uuid) -> SealContext {
        SealContext::credential_connection(row_id, SecretField::Password)
    }

    fn secret(text: &str) -> SecretString {
        SecretString::from(text)
    }

    fn raw(sealed: &SealedSecret) -> Vec<u8> {
        STANDARD.decode(&sealed.ciphertext).unwrap()
    }

    fn with_raw(sealed: &SealedSecret, bytes: &[u8]) -> SealedSecret {
        SealedSecret {
            key_id: sealed.key_id.clone(),
            ciphertext: STANDARD.encode(bytes),
        }
    }

    #[test]
    fn associated_data_is_the_documented_string() {
        assert_eq!(
            associated_data(&password_of(row())),
            "patchbay/v1|credential_connections|0192f0c1-7a2b-7c3d-8e4f-a0b1c2d3e4f5|password"
        );
        let extra = SealContext::credential_connection(row(), SecretField::Extra);
        assert!(associated_data(&extra).ends_with("|extra"));
    }

    #[test]
    fn round_trip_with_the_documented_layout() {
        let cipher = cipher_a();
        for text in ["hunter2", "", "pässwörd 🔑", &"x".repeat(16 * 1024)] {
            let sealed = cipher.seal(&secret(text), &password_of(row())).unwrap();
            assert_eq!(sealed.key_id, "ka");
            assert_eq!(raw(&sealed).len(), NONCE_LEN + text.len() + TAG_LEN);
            let opened = cipher.open(&sealed, &password_of(row())).unwrap();
            assert_eq!(opened.expose_secret(), text);
        }
    }

    #[test]
    fn two_seals_of_one_value_differ() {
        let cipher = cipher_a();
        let first = cipher.seal(&secret("same"), &password_of(row())).unwrap();
        let second = cipher.seal(&secret("same"), &password_of(row())).unwrap();
        assert_ne!(first.ciphertext, second.ciphertext);
        assert_ne!(raw(&first)[..NONCE_LEN], raw(&second)[..NONCE_LEN]);
    }

    #[test]
    fn a_value_moved_to_another_row_field_or_table_is_tampered() {
        let cipher = cipher_a();
        let sealed = cipher.seal(&secret("pw"), &password_of(row())).unwrap();
        let other_row = password_of(Uuid::from_u128(row().as_u128() ^ 1));
        let other_field = SealContext::credential_connection(row(), SecretField::Extra);
        let other_table = SealContext {
            table: "resources",
            ..password_of(row())
        };
        for context in [other_row, other_field, other_table] {
            assert_eq!(
                cipher.open(&sealed, &context).unwrap_err(),
                CipherError::Tampered,
                "{context:?}"
            );
        }
    }

    #[test]
    fn any_flipped_bit_is_tampered() {
        let cipher = cipher_a();
        let sealed = cipher.seal(&secret("pw"), &password_of(row())).unwrap();
        let bytes = raw(&sealed);
        assert_eq!(bytes.len(), NONCE_LEN + 2 + TAG_LEN);
        for position in 0..bytes.len() {
            for bit in 0..8 {
                let mut altered = bytes.clone();
                altered[position] ^= 1 << bit;
                assert_eq!(
                    cipher
                        .open(&with_raw(&sealed, &altered), &password_of(row()))
                        .unwrap_err(),
                    CipherError::Tampered,
                    "byte {position} bit {bit}"
                );
            }
        }
    }

    #[test]
    fn truncated_or_not_base64_is_malformed() {
        let cipher = cipher_a();
        let sealed = cipher.seal(&secret(""), &password_of(row())).unwrap();
        let bytes = raw(&sealed);
        assert_eq!(bytes.len(), NONCE_LEN + TAG_LEN);
        for len in 0..bytes.len() {
            assert_eq!(
                cipher
                    .open(&with_raw(&sealed, &bytes[..len]), &password_of(row()))
                    .unwrap_err(),
                CipherError::Malformed,
                "{len} bytes"
            );
        }
        for text in ["not base64!", "QUJD", "QUJDRA", " QUJD", "QUJD\n"] {
            let broken = SealedSecret {
                key_id: "ka".into(),
                ciphertext: text.into(),
            };
            assert_eq!(
                cipher.open(&broken, &password_of(row())).unwrap_err(),
                CipherError::Malformed,
                "{text:?}"
            );
        }
        // Long enough but cut at the end: the tag no longer matches.
        let longer = cipher.seal(&secret("pw"), &password_of(row())).unwrap();
        let cut = &raw(&longer)[..NONCE_LEN + TAG_LEN + 1];
        assert_eq!(
            cipher
                .open(&with_raw(&longer, cut), &password_of(row()))
                .unwrap_err(),
            CipherError::Tampered
        );
    }

    #[test]
    fn an_unknown_key_id_is_named() {
        let cipher = cipher_a();
        let mut sealed = cipher.seal(&secret("pw"), &password_of(row())).unwrap();
        sealed.key_id = "gone".into();
        assert_eq!(
            cipher.open(&sealed, &password_of(row())).unwrap_err(),
            CipherError::UnknownKey {
                key_id: "gone".into()
            }
        );
    }

    #[test]
    fn a_different_key_under_the_same_id_is_tampered() {
        let sealed = cipher_a().seal(&secret("pw"), &password_of(row())).unwrap();
        let impostor = XChaChaCipher::new(ring(&[("ka", KEY_B)]));
        assert_eq!(
            impostor.open(&sealed, &password_of(row())).unwrap_err(),
            CipherError::Tampered
        );
    }

    #[test]
    fn authentic_non_utf8_plaintext_is_not_utf8() {
        // Seal raw bytes the way `seal` does, bypassing its `&str` input.
        let nonce = [9u8; NONCE_LEN];
        let mut body = vec![0xff, 0xfe];
        let tag = aead(&KEY_A)
            .encrypt_in_place_detached(
                &XNonce::from(nonce),
                associated_data(&password_of(row())).as_bytes(),
                &mut body,
            )
            .unwrap();
        let bytes = [&nonce[..], &body, &tag].concat();
        let sealed = SealedSecret {
            key_id: "ka".into(),
            ciphertext: STANDARD.encode(bytes),
        };
        assert_eq!(
            cipher_a().open(&sealed, &password_of(row())).unwrap_err(),
            CipherError::NotUtf8
        );
    }

    #[test]
    fn rotation_opens_old_values_and_seals_under_the_new_key() {
        let old = cipher_a();
        let sealed_under_a = old.seal(&secret("old"), &password_of(row())).unwrap();

        let rotated = XChaChaCipher::new(ring(&[("kb", KEY_B), ("ka", KEY_A)]));
        assert_eq!(rotated.active_key_id(), "kb");
        assert!(rotated.has_key("ka") && rotated.has_key("kb"));
        assert!(!rotated.has_key("kc"));
        let opened = rotated.open(&sealed_under_a, &password_of(row())).unwrap();
        assert_eq!(opened.expose_secret(), "old");

        let resealed = rotated.seal(&opened, &password_of(row())).unwrap();
        assert_eq!(resealed.key_id, "kb");
        assert_eq!(
            rotated
                .open(&resealed, &password_of(row()))
                .unwrap()
                .expose_secret(),
            "old"
        );
        assert_eq!(
            old.open(&resealed, &password_of(row())).unwrap_err(),
            CipherError::UnknownKey {
                key_id: "kb".into()
            }
        );
    }

    #[test]
    fn debug_shows_no_key_plaintext_or_ciphertext() {
        let cipher = XChaChaCipher::new(ring(&[("kb", KEY_B), ("ka", KEY_A)]));
        let plaintext = "correct-horse-battery-staple";
        let sealed = cipher
            .seal(&secret(plaintext), &password_of(row()))
            .unwrap();
        let opened = cipher.open(&sealed, &password_of(row())).unwrap();
        let shown = format!(
            "{cipher:?} {cipher:#?} {:?} {sealed:?} {opened:?}",
            cipher.key_ring()
        );
        assert!(shown.contains("ka") && shown.contains("kb"), "{shown}");
        for forbidden in [
            "5a5a",
            "c3c3",
            "90, 90",
            "195, 195",
            plaintext,
            &sealed.ciphertext[..8],
        ] {
            assert!(!shown.contains(forbidden), "{forbidden:?} in {shown}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_text_round_trips_and_stays_bound_to_its_row(
            text in any::<String>(),
            row_id in any::<u128>(),
            extra in any::<bool>(),
        ) {
            let cipher = cipher_a();
            let field = if extra { SecretField::Extra } else { SecretField::Password };
            let context = SealContext::credential_connection(Uuid::from_u128(row_id), field);
            let sealed = cipher.seal(&secret(&text), &context).unwrap();
            let opened = cipher.open(&sealed, &context).unwrap();
            prop_assert_eq!(opened.expose_secret(), text.as_str());
            let elsewhere = SealContext::credential_connection(
                Uuid::from_u128(row_id.wrapping_add(1)),
                field,
            );
            prop_assert_eq!(cipher.open(&sealed, &elsewhere).unwrap_err(), CipherError::Tampered);
        }
    }
}
