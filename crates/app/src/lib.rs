//! patchbay use cases and the ports they need. Owns orchestration (who may do
//! what, in which order, inside which transaction boundary) and the traits
//! adapters implement; owns no SQL, no HTTP and no sockets.

pub mod auth;
pub mod error;
pub mod ports;
pub mod security;

pub use error::{AppError, AppErrorKind, StoreError};
