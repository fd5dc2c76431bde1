//! patchbay's storage adapter: diesel + diesel-async repositories serving
//! PostgreSQL and SQLite from one query code path. Backend-specific SQL lives
//! only here, in branches labelled `// backend: postgres` / `// backend: sqlite`.
//! This crate must not know about HTTP.

mod access;
mod allowed_connections;
mod credential_connections;
mod db;
mod environments;
mod errors;
mod files;
mod invites;
mod members;
mod migrate;
mod projects;
mod resource_connections;
mod resources;
pub mod schema;
pub mod types;
mod users;

pub use db::{Backend, Database, DatabaseOptions};
pub use files::DiskFileStore;
pub use migrate::{MigrationReport, revert_all_migrations, run_migrations};
