//! Secret sealing for patchbay (SPEC §8): the XChaCha20-Poly1305 adapter
//! behind the app's [`SecretCipher`](patchbay_app::ports::SecretCipher) port,
//! and the [`KeyRing`] of sealing keys it uses.
//!
//! This crate owns the key material, the nonce, the associated-data format
//! and the stored format of a sealed value. It must not do I/O, log, or let
//! key bytes or plaintext reach a `Debug`/`Display` output or an error; it
//! knows nothing of the database, HTTP or configuration files (the binary
//! reads `PATCHBAY_SECRET_KEYS` and hands the text to [`KeyRing::parse`]).
//!
//! It is a crate of its own, not a module of the store, so the only code that
//! can see key bytes and plaintext is this small one, and so its dependency
//! set (RustCrypto AEAD, OS randomness) stays out of the store's build.
//!
//! ```
//! use patchbay_app::ports::{ExposeSecret, SealContext, SecretCipher, SecretField, SecretString};
//! use patchbay_crypto::{KeyRing, XChaChaCipher};
//!
//! let ring = KeyRing::parse(
//!     "k2026:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
//! )?;
//! let cipher = XChaChaCipher::new(ring);
//! let context = SealContext::credential_connection(uuid::Uuid::nil(), SecretField::Password);
//! let sealed = cipher.seal(&SecretString::from("hunter2"), &context)?;
//! assert_eq!(sealed.key_id, "k2026");
//! assert_eq!(cipher.open(&sealed, &context)?.expose_secret(), "hunter2");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod cipher;
mod key_ring;

pub use cipher::{NONCE_LEN, TAG_LEN, XChaChaCipher};
pub use key_ring::{KEY_LEN, KeyRing, KeyRingError, MAX_KEY_ID_LEN};
