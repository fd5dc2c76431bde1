//! Black-box API tests: every scenario runs against a real server on SQLite
//! and on PostgreSQL (see `patchbay_tests::on_both_backends!`). One test
//! binary for the whole crate, as the workspace convention asks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth;
mod authz;
mod canvas_roles;
mod clone;
mod connection_tests;
mod conventions;
mod credential_connections;
mod credential_security;
mod deletes;
mod environments;
mod http_semantics;
mod isolation;
mod members;
mod messages;
mod operations;
mod ops;
mod probe_drivers;
mod process;
mod projects;
mod resource_connections;
mod resources;
mod store;
mod subdomains;
mod support;
