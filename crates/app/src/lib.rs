//! patchbay use cases and the ports they need. Owns orchestration (who may do
//! what, in which order, inside which transaction boundary) and the traits
//! adapters implement; owns no SQL, no HTTP and no sockets.

pub mod access;
pub mod allowed_connections;
pub mod auth;
pub mod credential_connections;
pub mod environments;
pub mod error;
pub mod invites;
pub mod members;
pub mod ports;
pub mod projects;
pub mod resource_connections;
pub mod resources;
pub mod secrets;
pub mod security;
#[cfg(test)]
pub(crate) mod test_support;

pub use error::{AppError, AppErrorKind, Constraint, StoreError};
