//! The project repository: projects, created together with their owner's
//! membership and default environment.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use patchbay_app::StoreError;
use patchbay_app::ports::{ProjectRepository, ProjectWithRole, QueryFamily};
use patchbay_domain::{Environment, HexColor, Member, Page, Project, ProjectName, Role};
use uuid::Uuid;

use crate::Database;
use crate::db::{transaction, with_conn};
use crate::environments::EnvironmentRow;
use crate::errors::{DbResult, corrupt};
use crate::members::MemberRow;
use crate::schema::{project_members, projects};
use crate::types::{DbTime, DbUuid};

/// The query family this module's operations are timed under.
const FAMILY: QueryFamily = QueryFamily::Projects;

/// A `projects` row, read and inserted as a whole.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = projects)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct ProjectRow {
    id: DbUuid,
    name: String,
    display_name: Option<String>,
    description: Option<String>,
    color: Option<String>,
    icon_path: Option<String>,
    single_server_mode: bool,
    default_server_id: Option<DbUuid>,
    auto_error_tracking_enabled: bool,
    owner_id: DbUuid,
    created_at: DbTime,
    updated_at: DbTime,
}

/// The columns `update_project` writes: everything but the id, the owner
/// (which only `transfer_ownership` moves) and the creation time. `None`
/// clears a column.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = projects)]
#[diesel(treat_none_as_null = true)]
struct ProjectChanges {
    name: String,
    display_name: Option<String>,
    description: Option<String>,
    color: Option<String>,
    icon_path: Option<String>,
    single_server_mode: bool,
    default_server_id: Option<DbUuid>,
    auto_error_tracking_enabled: bool,
    updated_at: DbTime,
}

impl ProjectRow {
    pub(crate) fn from_domain(p: &Project) -> Self {
        Self {
            id: DbUuid(p.id),
            name: p.name.as_str().to_owned(),
            display_name: p.display_name.clone(),
            description: p.description.clone(),
            color: p.color.as_ref().map(|c| c.as_str().to_owned()),
            icon_path: p.icon_path.clone(),
            single_server_mode: p.single_server_mode,
            default_server_id: p.default_server_id.map(DbUuid),
            auto_error_tracking_enabled: p.auto_error_tracking_enabled,
            owner_id: DbUuid(p.owner_id),
            created_at: DbTime(p.created_at),
            updated_at: DbTime(p.updated_at),
        }
    }

    pub(crate) fn into_domain(self) -> DbResult<Project> {
        Ok(Project {
            id: self.id.0,
            name: ProjectName::parse(&self.name).map_err(|e| corrupt("project name", e))?,
            display_name: self.display_name,
            description: self.description,
            color: self
                .color
                .as_deref()
                .map(HexColor::parse)
                .transpose()
                .map_err(|e| corrupt("project color", e))?,
            icon_path: self.icon_path,
            single_server_mode: self.single_server_mode,
            default_server_id: self.default_server_id.map(|id| id.0),
            auto_error_tracking_enabled: self.auto_error_tracking_enabled,
            owner_id: self.owner_id.0,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
        })
    }
}

impl ProjectChanges {
    fn from_domain(p: &Project) -> Self {
        Self {
            name: p.name.as_str().to_owned(),
            display_name: p.display_name.clone(),
            description: p.description.clone(),
            color: p.color.as_ref().map(|c| c.as_str().to_owned()),
            icon_path: p.icon_path.clone(),
            single_server_mode: p.single_server_mode,
            default_server_id: p.default_server_id.map(DbUuid),
            auto_error_tracking_enabled: p.auto_error_tracking_enabled,
            updated_at: DbTime(p.updated_at),
        }
    }
}

#[async_trait]
impl ProjectRepository for Database {
    async fn create_project(
        &self,
        project: Project,
        owner: Member,
        default_environment: Environment,
    ) -> Result<Project, StoreError> {
        let project_row = ProjectRow::from_domain(&project);
        let member_row = MemberRow::from_domain(&owner);
        let env_row = EnvironmentRow::from_domain(&default_environment);
        let result: DbResult<Project> = transaction!(self, |conn| {
            let row: ProjectRow = diesel::insert_into(projects::table)
                .values(&project_row)
                .returning(ProjectRow::as_returning())
                .get_result(conn)
                .await?;
            diesel::insert_into(project_members::table)
                .values(&member_row)
                .execute(conn)
                .await?;
            diesel::insert_into(crate::schema::environments::table)
                .values(&env_row)
                .execute(conn)
                .await?;
            row.into_domain()
        });
        Ok(result?)
    }

    async fn find_project(&self, id: Uuid) -> Result<Option<Project>, StoreError> {
        let result: DbResult<Option<Project>> = async {
            let row: Option<ProjectRow> = with_conn!(self, |conn| {
                projects::table
                    .find(DbUuid(id))
                    .select(ProjectRow::as_select())
                    .first(conn)
                    .await
                    .optional()?
            });
            row.map(ProjectRow::into_domain).transpose()
        }
        .await;
        Ok(result?)
    }

    async fn find_project_by_name(&self, name: &str) -> Result<Option<Project>, StoreError> {
        let result: DbResult<Option<Project>> = async {
            let row: Option<ProjectRow> = with_conn!(self, |conn| {
                projects::table
                    .filter(projects::name.eq(name))
                    .select(ProjectRow::as_select())
                    .first(conn)
                    .await
                    .optional()?
            });
            row.map(ProjectRow::into_domain).transpose()
        }
        .await;
        Ok(result?)
    }

    async fn list_projects_for_user(
        &self,
        user_id: Uuid,
        page: Page,
    ) -> Result<(Vec<ProjectWithRole>, i64), StoreError> {
        let result: DbResult<(Vec<ProjectWithRole>, i64)> = async {
            let (rows, total): (Vec<(ProjectRow, String)>, i64) = with_conn!(self, |conn| {
                let rows = projects::table
                    .inner_join(project_members::table)
                    .filter(project_members::user_id.eq(DbUuid(user_id)))
                    .order((projects::created_at.desc(), projects::id.desc()))
                    .offset(page.offset())
                    .limit(page.limit())
                    .select((ProjectRow::as_select(), project_members::role))
                    .load(conn)
                    .await?;
                let total: i64 = project_members::table
                    .filter(project_members::user_id.eq(DbUuid(user_id)))
                    .count()
                    .get_result(conn)
                    .await?;
                (rows, total)
            });
            let projects = rows
                .into_iter()
                .map(|(row, role)| {
                    Ok(ProjectWithRole {
                        project: row.into_domain()?,
                        role: Role::parse(&role).map_err(|e| corrupt("member role", e))?,
                    })
                })
                .collect::<DbResult<Vec<_>>>()?;
            Ok((projects, total))
        }
        .await;
        Ok(result?)
    }

    async fn update_project(&self, project: Project) -> Result<Project, StoreError> {
        let changes = ProjectChanges::from_domain(&project);
        let result: DbResult<Project> = async {
            let row: Option<ProjectRow> = with_conn!(self, |conn| {
                diesel::update(projects::table.find(DbUuid(project.id)))
                    .set(&changes)
                    .returning(ProjectRow::as_returning())
                    .get_result(conn)
                    .await
                    .optional()?
            });
            row.ok_or(StoreError::NotFound)?.into_domain()
        }
        .await;
        Ok(result?)
    }

    async fn delete_project(&self, id: Uuid) -> Result<(), StoreError> {
        // One statement: the foreign keys cascade to members, invites and
        // environments (and, through environments, to what they hold).
        let result: DbResult<()> = transaction!(self, |conn| {
            let deleted = diesel::delete(projects::table.find(DbUuid(id)))
                .execute(conn)
                .await?;
            if deleted == 0 {
                return Err(StoreError::NotFound.into());
            }
            Ok(())
        });
        Ok(result?)
    }
}

/// Fixtures shared by the tenancy repositories' tests: a fresh, migrated
/// SQLite file per test, users, and a project with owner and default
/// environment.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod testing {
    use chrono::{DateTime, SubsecRound, Utc};
    use patchbay_app::ports::{AdminGrant, NewUser, ProjectRepository, UserRepository};
    use patchbay_domain::{
        DEFAULT_ENVIRONMENT_NAME, Email, Environment, EnvironmentType, HexColor, Member, Project,
        ProjectName, Role, Slug, User,
    };
    use uuid::Uuid;

    use crate::{Database, DatabaseOptions};

    /// Now, truncated to what both backends store.
    pub(crate) fn now() -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }

    /// Where a test's database lives; dropping it removes the database.
    #[derive(Debug)]
    pub(crate) enum TestDbGuard {
        Sqlite(tempfile::TempDir),
        Postgres { admin_url: String, name: String },
    }

    impl Drop for TestDbGuard {
        fn drop(&mut self) {
            if let Self::Postgres { admin_url, name } = self {
                use diesel::connection::SimpleConnection;
                let (url, sql) = (
                    admin_url.clone(),
                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                );
                // A sync connection on a plain thread: we may be inside a runtime.
                let _ = std::thread::spawn(move || {
                    use diesel::Connection;
                    use diesel_async::AsyncPgConnection;
                    use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
                    if let Ok(mut c) = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
                    {
                        let _ = c.batch_execute(&sql);
                    }
                })
                .join();
            }
        }
    }

    /// The backend a store test runs on.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Backend {
        Sqlite,
        Postgres,
    }

    /// A migrated database for one test: a SQLite file in a temporary
    /// directory, or a fresh database in the test PostgreSQL (the same
    /// server, and the same policy when it is missing, as the black-box
    /// tests: see `patchbay-test-postgres`).
    pub(crate) async fn fresh_db(backend: Backend) -> (TestDbGuard, Database) {
        if backend == Backend::Postgres {
            let test = patchbay_test_postgres::current_test();
            let patchbay_test_postgres::Fresh::Database {
                url,
                name,
                admin_url,
            } = patchbay_test_postgres::fresh_database(&test).await
            else {
                panic!("{test}: PostgreSQL was skipped; on_both_backends! checks first");
            };
            let guard = TestDbGuard::Postgres { admin_url, name };
            let db = Database::connect(&DatabaseOptions::new(url))
                .await
                .unwrap()
                .with_cipher(test_cipher());
            return (guard, db);
        }
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("patchbay.db").display());
        let db = Database::connect(&DatabaseOptions::new(url))
            .await
            .unwrap()
            .with_cipher(test_cipher());
        (TestDbGuard::Sqlite(dir), db)
    }

    /// A cipher with one fixed test key.
    pub(crate) fn test_cipher() -> std::sync::Arc<dyn patchbay_app::ports::SecretCipher> {
        let ring = patchbay_crypto::KeyRing::new(vec![("ktest".to_owned(), [7_u8; 32])]).unwrap();
        std::sync::Arc::new(patchbay_crypto::XChaChaCipher::new(ring))
    }

    /// Declares each `async fn name(backend: Backend)` store test twice,
    /// `name::sqlite` and `name::postgres`: one body, both backends. The
    /// PostgreSQL half fails when PostgreSQL is missing, unless the run opts
    /// out with `PATCHBAY_TEST_SKIP_POSTGRES=1` (then it is skipped and
    /// counted; never under `CI=true`).
    macro_rules! on_both_backends {
        ($($name:ident),* $(,)?) => {$(
            mod $name {
                #[tokio::test(flavor = "multi_thread")]
                async fn sqlite() {
                    super::$name($crate::projects::testing::Backend::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread")]
                async fn postgres() {
                    if patchbay_test_postgres::available(&patchbay_test_postgres::current_test()) {
                        super::$name($crate::projects::testing::Backend::Postgres).await;
                    }
                }
            }
        )*};
    }
    pub(crate) use on_both_backends;

    pub(crate) async fn user(db: &Database, local: &str) -> User {
        db.create_user(
            NewUser {
                id: Uuid::now_v7(),
                email: Email::parse(&format!("{local}\u{40}example.com")).unwrap(),
                name: local.to_owned(),
                password_hash: "$argon2id$test".to_owned(),
                now: now(),
            },
            AdminGrant::FirstUserOnly,
        )
        .await
        .unwrap()
    }

    pub(crate) fn member(project_id: Uuid, user_id: Uuid, role: Role) -> Member {
        Member {
            id: Uuid::now_v7(),
            project_id,
            user_id,
            role,
            created_at: now(),
        }
    }

    pub(crate) fn environment(project_id: Uuid, name: &str, is_default: bool) -> Environment {
        Environment {
            id: Uuid::now_v7(),
            project_id,
            name: Slug::parse(name).unwrap(),
            display_name: Some(name.to_uppercase()),
            env_type: if is_default {
                EnvironmentType::Production
            } else {
                EnvironmentType::Staging
            },
            description: None,
            color: Some(HexColor::parse("#f59e0b").unwrap()),
            git_branch: None,
            is_default,
            created_at: now(),
            updated_at: now(),
        }
    }

    /// The three rows `create_project` inserts.
    pub(crate) fn new_project(name: &str, owner: Uuid) -> (Project, Member, Environment) {
        let id = Uuid::now_v7();
        let project = Project {
            id,
            name: ProjectName::parse(name).unwrap(),
            display_name: Some(format!("Project {name}")),
            description: None,
            color: Some(HexColor::parse("#3b82f6").unwrap()),
            icon_path: None,
            single_server_mode: false,
            default_server_id: None,
            auto_error_tracking_enabled: true,
            owner_id: owner,
            created_at: now(),
            updated_at: now(),
        };
        (
            project,
            member(id, owner, Role::Owner),
            environment(id, DEFAULT_ENVIRONMENT_NAME, true),
        )
    }

    /// Creates a project owned by `owner`; returns it with its default
    /// environment.
    pub(crate) async fn project(db: &Database, name: &str, owner: Uuid) -> (Project, Environment) {
        let (project, owner, env) = new_project(name, owner);
        let created = db
            .create_project(project.clone(), owner, env.clone())
            .await
            .unwrap();
        assert_eq!(created, project);
        (created, env)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use patchbay_app::ports::{EnvironmentRepository, MemberRepository, ProjectRepository};
    use patchbay_domain::{HexColor, Page, ProjectName, Role};

    use super::testing::*;
    use super::*;
    use patchbay_app::Constraint;

    async fn create_project_inserts_owner_and_default_environment(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let (project, owner, env) = new_project("my-saas", alice.id);
        let created = db
            .create_project(project.clone(), owner, env.clone())
            .await
            .unwrap();
        assert_eq!(created, project);
        assert_eq!(
            db.find_project(project.id).await.unwrap(),
            Some(project.clone())
        );
        assert_eq!(
            db.find_project_by_name("my-saas").await.unwrap(),
            Some(project.clone())
        );
        assert_eq!(db.find_project_by_name("other").await.unwrap(), None);
        assert_eq!(db.find_project(Uuid::now_v7()).await.unwrap(), None);

        assert_eq!(
            db.find_member(project.id, alice.id).await.unwrap(),
            Some(owner)
        );
        assert_eq!(db.list_environments(project.id).await.unwrap(), vec![env]);

        let (list, total) = db
            .list_projects_for_user(alice.id, Page::default())
            .await
            .unwrap();
        assert_eq!(total, 1);
        assert_eq!(
            list,
            vec![ProjectWithRole {
                project,
                role: Role::Owner
            }]
        );
    }

    async fn a_taken_name_is_a_conflict_and_inserts_nothing(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        project(&db, "my-saas", alice.id).await;
        let (dup, owner, env) = new_project("my-saas", alice.id);
        assert_eq!(
            db.create_project(dup.clone(), owner, env.clone()).await,
            Err(StoreError::Conflict(Constraint::ProjectName))
        );
        assert_eq!(db.find_project(dup.id).await.unwrap(), None);
        assert_eq!(db.find_environment(dup.id, env.id).await.unwrap(), None);
        let (_, total) = db
            .list_projects_for_user(alice.id, Page::default())
            .await
            .unwrap();
        assert_eq!(total, 1);
    }

    async fn projects_are_listed_newest_first_by_page(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let bob = user(&db, "bob").await;
        let mut names = Vec::new();
        for i in 0..5 {
            let name = format!("p{i}");
            project(&db, &name, alice.id).await;
            names.push(name);
        }
        project(&db, "bobs", bob.id).await;
        names.reverse();
        let (first, total) = db
            .list_projects_for_user(alice.id, Page::new(1, 2).unwrap())
            .await
            .unwrap();
        let (third, _) = db
            .list_projects_for_user(alice.id, Page::new(3, 2).unwrap())
            .await
            .unwrap();
        let (past_end, _) = db
            .list_projects_for_user(alice.id, Page::new(9, 2).unwrap())
            .await
            .unwrap();
        assert_eq!(total, 5);
        let names_of = |l: &[ProjectWithRole]| {
            l.iter()
                .map(|p| p.project.name.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names_of(&first), names[..2]);
        assert_eq!(names_of(&third), names[4..]);
        assert!(past_end.is_empty());
    }

    async fn update_writes_every_mutable_column(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let (mut p, _) = project(&db, "one", alice.id).await;
        project(&db, "two", alice.id).await;
        p.name = ProjectName::parse("renamed").unwrap();
        p.display_name = None;
        p.color = None;
        p.description = Some("described".into());
        p.icon_path = Some("/uploads/projects/x.png".into());
        p.single_server_mode = true;
        p.default_server_id = Some(Uuid::now_v7());
        p.auto_error_tracking_enabled = false;
        p.updated_at = now();
        assert_eq!(db.update_project(p.clone()).await.unwrap(), p);
        assert_eq!(db.find_project(p.id).await.unwrap(), Some(p.clone()));

        let mut clash = p.clone();
        clash.name = ProjectName::parse("two").unwrap();
        assert_eq!(
            db.update_project(clash).await,
            Err(StoreError::Conflict(Constraint::ProjectName))
        );
        let mut missing = p.clone();
        missing.id = Uuid::now_v7();
        missing.name = ProjectName::parse("ghost").unwrap();
        missing.color = Some(HexColor::parse("#000000").unwrap());
        assert_eq!(db.update_project(missing).await, Err(StoreError::NotFound));
    }

    async fn delete_cascades_and_then_is_not_found(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let bob = user(&db, "bob").await;
        let (p, env) = project(&db, "doomed", alice.id).await;
        db.add_member(member(p.id, bob.id, Role::Viewer))
            .await
            .unwrap();
        db.delete_project(p.id).await.unwrap();
        assert_eq!(db.find_project(p.id).await.unwrap(), None);
        assert_eq!(db.find_member(p.id, bob.id).await.unwrap(), None);
        assert_eq!(db.find_environment(p.id, env.id).await.unwrap(), None);
        assert_eq!(db.delete_project(p.id).await, Err(StoreError::NotFound));
        // The name is free again.
        project(&db, "doomed", bob.id).await;
    }

    /// Up → down → up (then down again, leaving the database empty).
    async fn migrations_revert_and_reapply(backend: Backend) {
        let (guard, db) = fresh_db(backend).await;
        let url = match &guard {
            TestDbGuard::Sqlite(dir) => {
                format!("sqlite://{}", dir.path().join("patchbay.db").display())
            }
            TestDbGuard::Postgres { admin_url, name } => {
                format!("{}/{name}", &admin_url[..admin_url.rfind('/').unwrap()])
            }
        };
        drop(db);
        // Sync migrations run on a plain thread, never on a runtime worker.
        let report = std::thread::spawn(move || {
            let down = crate::revert_all_migrations(&url).unwrap();
            let up = crate::run_migrations(&url).unwrap();
            let down_again = crate::revert_all_migrations(&url).unwrap();
            (down, up, down_again)
        })
        .join()
        .unwrap();
        let (down, up, down_again) = report;
        assert!(up.versions.len() >= 2);
        assert_eq!(down.versions.len(), up.versions.len());
        assert_eq!(down_again, down);
    }

    on_both_backends!(
        create_project_inserts_owner_and_default_environment,
        a_taken_name_is_a_conflict_and_inserts_nothing,
        projects_are_listed_newest_first_by_page,
        update_writes_every_mutable_column,
        delete_cascades_and_then_is_not_found,
        migrations_revert_and_reapply,
    );
}
