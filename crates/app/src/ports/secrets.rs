//! Sealing of credential secrets at rest: the [`SecretCipher`] port the
//! crypto adapter (`patchbay-crypto`) implements, and the values it takes and
//! gives. Plaintext only ever travels as [`SecretString`] (zeroized on drop,
//! redacted in `Debug`); what the store keeps is a [`SealedSecret`].

use std::fmt;

pub use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

/// Which secret field of a row a sealed value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretField {
    /// A credential connection's `password`.
    Password,
    /// A credential connection's `extra` JSON document.
    Extra,
}

impl SecretField {
    /// The field's name as it appears in the API and in the associated data.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Extra => "extra",
        }
    }
}

/// Where a sealed value lives: table, row and field. The cipher binds the
/// ciphertext to it as AEAD associated data, so a ciphertext copied to
/// another row or field fails to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SealContext {
    /// The table, e.g. `credential_connections`.
    pub table: &'static str,
    /// The row's id.
    pub row_id: Uuid,
    /// The field.
    pub field: SecretField,
}

impl SealContext {
    /// A credential connection's field.
    #[must_use]
    pub const fn credential_connection(row_id: Uuid, field: SecretField) -> Self {
        Self {
            table: "credential_connections",
            row_id,
            field,
        }
    }
}

/// A sealed value as the store keeps it: the id of the key that sealed it
/// and the ciphertext (nonce ‖ ciphertext ‖ tag, base64 standard encoding).
/// `Debug` shows the key id and the length only.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret {
    /// The key ring id of the sealing key (e.g. `k2026`).
    pub key_id: String,
    /// base64 of nonce (24 bytes) ‖ ciphertext ‖ Poly1305 tag (16 bytes).
    pub ciphertext: String,
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedSecret")
            .field("key_id", &self.key_id)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

/// Why a value could not be sealed or opened. Never carries secret bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    /// The value was sealed under a key id the ring does not hold.
    #[error("sealed under key id '{key_id}', which is not in the key ring")]
    UnknownKey {
        /// The missing key id.
        key_id: String,
    },
    /// Authentication failed: the ciphertext was altered, or belongs to
    /// another row or field (associated data mismatch), or the key is wrong.
    #[error("the sealed value failed authentication (tampered, moved, or wrong key)")]
    Tampered,
    /// The stored text is not a well-formed sealed value (bad base64, too
    /// short for nonce and tag).
    #[error("the sealed value is malformed")]
    Malformed,
    /// The plaintext after opening is not valid UTF-8.
    #[error("the opened value is not UTF-8")]
    NotUtf8,
    /// The cipher itself failed (the OS random source, an absurd length).
    #[error("the cipher failed: {0}")]
    Internal(String),
}

/// Authenticated encryption of secrets with a key ring (SPEC §8):
/// XChaCha20-Poly1305, a fresh random 24-byte nonce per seal, associated
/// data from the [`SealContext`], the key id stored beside the ciphertext.
/// Pure CPU work: implementations must not block on I/O.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait SecretCipher: Send + Sync {
    /// Seals `plaintext` for `context` under the active key.
    ///
    /// # Errors
    /// [`CipherError::Internal`] on a failure of the random source or the
    /// AEAD (not expected in practice).
    fn seal(
        &self,
        plaintext: &SecretString,
        context: &SealContext,
    ) -> Result<SealedSecret, CipherError>;

    /// Opens a sealed value that must belong to `context`.
    ///
    /// # Errors
    /// [`CipherError::UnknownKey`] when the key id is not in the ring;
    /// [`CipherError::Tampered`] when authentication fails (altered bytes,
    /// another row's or field's ciphertext); [`CipherError::Malformed`];
    /// [`CipherError::NotUtf8`].
    fn open(
        &self,
        sealed: &SealedSecret,
        context: &SealContext,
    ) -> Result<SecretString, CipherError>;

    /// The id of the key new values are sealed under (the ring's first).
    fn active_key_id(&self) -> String;

    /// Whether the ring holds a key with this id.
    fn has_key(&self, key_id: &str) -> bool;

    /// Every key id of the ring, the active one first.
    fn key_ids(&self) -> Vec<String>;
}
