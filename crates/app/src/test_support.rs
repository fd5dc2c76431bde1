//! Fixture builders shared by the use-case tests: one user, project,
//! environment and access of each kind, and a mock clock stopped at a fixed
//! instant. Tests that need a variant adjust the returned value locally.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, TimeZone, Utc};
use patchbay_domain::{
    Email, Environment, EnvironmentType, Project, ProjectName, Role, Slug, User,
};
use uuid::Uuid;

use crate::access::{EnvironmentAccess, ProjectAccess};
use crate::ports::MockClock;

/// The instant the mock clock reports: what a use case stamps as "now".
pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
}

/// A fixed instant before [`now`], when stored fixtures were created. Whole
/// seconds, so already truncated to microseconds as the clock and stores are.
pub(crate) fn then() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
}

/// A clock that always reports `at`.
pub(crate) fn clock_at(at: DateTime<Utc>) -> MockClock {
    let mut clock = MockClock::new();
    clock.expect_now().return_const(at);
    clock
}

/// A clock that always reports [`now`].
pub(crate) fn clock() -> MockClock {
    clock_at(now())
}

/// `local` at the example domain, as typed.
pub(crate) fn address(local: &str) -> String {
    format!("{local}\u{40}example.com")
}

/// `local` at the example domain, parsed.
pub(crate) fn email(local: &str) -> Email {
    Email::parse(&address(local)).unwrap()
}

/// A non-admin user named and addressed `local`.
pub(crate) fn user(local: &str) -> User {
    User {
        id: Uuid::now_v7(),
        email: email(local),
        name: local.into(),
        is_admin: false,
        created_at: then(),
        updated_at: then(),
    }
}

/// An instance administrator named and addressed `local`.
pub(crate) fn admin(local: &str) -> User {
    User {
        is_admin: true,
        ..user(local)
    }
}

/// A bare project `demo` owned by `owner_id`.
pub(crate) fn project(owner_id: Uuid) -> Project {
    Project {
        id: Uuid::now_v7(),
        name: ProjectName::parse("demo").unwrap(),
        display_name: None,
        description: None,
        color: None,
        icon_path: None,
        single_server_mode: false,
        default_server_id: None,
        auto_error_tracking_enabled: false,
        owner_id,
        created_at: then(),
        updated_at: then(),
    }
}

/// The bare default `production` environment of `project_id`.
pub(crate) fn environment(project_id: Uuid) -> Environment {
    Environment {
        id: Uuid::now_v7(),
        project_id,
        name: Slug::parse("production").unwrap(),
        display_name: None,
        env_type: EnvironmentType::Production,
        description: None,
        color: None,
        git_branch: None,
        is_default: true,
        created_at: then(),
        updated_at: then(),
    }
}

/// `ada` with `role` in a project someone else owns.
pub(crate) fn project_access(role: Role) -> ProjectAccess {
    ProjectAccess {
        user: user("ada"),
        project: project(Uuid::now_v7()),
        role,
    }
}

/// `ada` with `role` in the default environment of a project someone else
/// owns.
pub(crate) fn env_access(role: Role) -> EnvironmentAccess {
    let project = project(Uuid::now_v7());
    EnvironmentAccess {
        user: user("ada"),
        environment: environment(project.id),
        project,
        role,
    }
}
