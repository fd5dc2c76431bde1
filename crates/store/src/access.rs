//! The access repository: a request's authorisation scope (the token's user,
//! the project, the user's role in it, the environment) in one query of left
//! joins from the user, so a missing part is a `NULL`, not another round
//! trip (issue 11).

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use patchbay_app::StoreError;
use patchbay_app::ports::{AccessRepository, EnvironmentKey, ProjectKey, QueryFamily, Scope};
use patchbay_domain::Role;
use uuid::Uuid;

use crate::Database;
use crate::db::with_conn;
use crate::environments::EnvironmentRow;
use crate::errors::{DbResult, corrupt};
use crate::projects::ProjectRow;
use crate::schema::{environments, project_members, projects, users};
use crate::types::DbUuid;
use crate::users::UserRow;

/// The query family this module's operations are timed under.
const FAMILY: QueryFamily = QueryFamily::Access;

/// One row of the scope query; `None` where the left join found nothing.
type ScopeRow = (
    UserRow,
    Option<ProjectRow>,
    Option<String>,
    Option<EnvironmentRow>,
);

/// The scope query for one way of naming the project (`$project_on`, the
/// `ON` of the projects join) and the environment (`$env_on`, added to the
/// environment's `project_id` match). Stamped out per key so each form is a
/// plain indexed equality the planner resolves with one index lookup.
/// Names are bound as owned strings: a borrowed bind inside a join's `ON`
/// makes diesel-async demand a `'static` query.
macro_rules! scope_query {
    ($conn:ident, $user:expr, $project_on:expr, $env_on:expr) => {
        users::table
            .left_join(projects::table.on($project_on))
            .left_join(
                project_members::table.on(project_members::project_id
                    .eq(projects::id)
                    .and(project_members::user_id.eq(users::id))),
            )
            .left_join(
                environments::table.on(environments::project_id.eq(projects::id).and($env_on)),
            )
            .filter(users::id.eq($user))
            .select((
                UserRow::as_select(),
                Option::<ProjectRow>::as_select(),
                project_members::role.nullable(),
                Option::<EnvironmentRow>::as_select(),
            ))
            .first::<ScopeRow>($conn)
            .await
            .optional()?
    };
    ($conn:ident, $user:expr, $project_on:expr) => {
        users::table
            .left_join(projects::table.on($project_on))
            .left_join(
                project_members::table.on(project_members::project_id
                    .eq(projects::id)
                    .and(project_members::user_id.eq(users::id))),
            )
            .filter(users::id.eq($user))
            .select((
                UserRow::as_select(),
                Option::<ProjectRow>::as_select(),
                project_members::role.nullable(),
            ))
            .first::<(UserRow, Option<ProjectRow>, Option<String>)>($conn)
            .await
            .optional()?
            .map(|(user, project, role)| (user, project, role, None))
    };
}

fn into_scope(row: Option<ScopeRow>) -> DbResult<Scope> {
    let Some((user, project, role, environment)) = row else {
        return Ok(Scope {
            user: None,
            project: None,
            role: None,
            environment: None,
        });
    };
    Ok(Scope {
        user: Some(user.into_parts()?.user),
        project: project.map(ProjectRow::into_domain).transpose()?,
        role: role
            .as_deref()
            .map(Role::parse)
            .transpose()
            .map_err(|e| corrupt("member role", e))?,
        environment: environment.map(EnvironmentRow::into_domain).transpose()?,
    })
}

#[async_trait]
impl AccessRepository for Database {
    async fn find_scope<'a>(
        &self,
        user_id: Uuid,
        project: ProjectKey<'a>,
        environment: Option<EnvironmentKey<'a>>,
    ) -> Result<Scope, StoreError> {
        let user = DbUuid(user_id);
        let result: DbResult<Scope> = async {
            let row: Option<ScopeRow> = with_conn!(self, |conn| {
                match (project, environment) {
                    (ProjectKey::Id(id), None) => {
                        scope_query!(conn, user, projects::id.eq(DbUuid(id)))
                    }
                    (ProjectKey::Name(name), None) => {
                        scope_query!(conn, user, projects::name.eq(name.to_owned()))
                    }
                    (ProjectKey::Id(id), Some(EnvironmentKey::Id(env))) => scope_query!(
                        conn,
                        user,
                        projects::id.eq(DbUuid(id)),
                        environments::id.eq(DbUuid(env))
                    ),
                    (ProjectKey::Id(id), Some(EnvironmentKey::Name(env))) => scope_query!(
                        conn,
                        user,
                        projects::id.eq(DbUuid(id)),
                        environments::name.eq(env.to_owned())
                    ),
                    (ProjectKey::Name(name), Some(EnvironmentKey::Id(env))) => scope_query!(
                        conn,
                        user,
                        projects::name.eq(name.to_owned()),
                        environments::id.eq(DbUuid(env))
                    ),
                    (ProjectKey::Name(name), Some(EnvironmentKey::Name(env))) => scope_query!(
                        conn,
                        user,
                        projects::name.eq(name.to_owned()),
                        environments::name.eq(env.to_owned())
                    ),
                }
            });
            into_scope(row)
        }
        .await;
        Ok(result?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use patchbay_app::ports::{EnvironmentRepository, MemberRepository, UserRepository};

    use super::*;
    use crate::projects::testing::*;

    async fn one_query_finds_each_part_only_inside_the_one_before(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let bob = user(&db, "bob").await;
        let (p, prod) = project(&db, "team", alice.id).await;
        let (q, q_prod) = project(&db, "other", bob.id).await;
        let staging = environment(p.id, "staging", false);
        db.create_environment(staging.clone()).await.unwrap();
        db.add_member(member(p.id, bob.id, Role::Viewer))
            .await
            .unwrap();

        // Every key form finds the same scope.
        let full = Scope {
            user: Some(alice.clone()),
            project: Some(p.clone()),
            role: Some(Role::Owner),
            environment: Some(staging.clone()),
        };
        for (pk, ek) in [
            (ProjectKey::Id(p.id), EnvironmentKey::Id(staging.id)),
            (ProjectKey::Id(p.id), EnvironmentKey::Name("staging")),
            (ProjectKey::Name("team"), EnvironmentKey::Id(staging.id)),
            (ProjectKey::Name("team"), EnvironmentKey::Name("staging")),
        ] {
            assert_eq!(db.find_scope(alice.id, pk, Some(ek)).await.unwrap(), full);
        }
        for pk in [ProjectKey::Id(p.id), ProjectKey::Name("team")] {
            assert_eq!(
                db.find_scope(alice.id, pk, None).await.unwrap(),
                Scope {
                    environment: None,
                    ..full.clone()
                }
            );
        }
        // Bob's own role; another project's environment is not found here.
        assert_eq!(
            db.find_scope(
                bob.id,
                ProjectKey::Name("team"),
                Some(EnvironmentKey::Id(q_prod.id))
            )
            .await
            .unwrap(),
            Scope {
                user: Some(bob.clone()),
                project: Some(p.clone()),
                role: Some(Role::Viewer),
                environment: None,
            }
        );
        // Not a member: the project is found, the role is not.
        assert_eq!(
            db.find_scope(
                alice.id,
                ProjectKey::Id(q.id),
                Some(EnvironmentKey::Name("production"))
            )
            .await
            .unwrap(),
            Scope {
                user: Some(alice.clone()),
                project: Some(q.clone()),
                role: None,
                environment: Some(q_prod),
            }
        );
        // No such project: nothing below it either.
        assert_eq!(
            db.find_scope(
                alice.id,
                ProjectKey::Name("nope"),
                Some(EnvironmentKey::Id(prod.id))
            )
            .await
            .unwrap(),
            Scope {
                user: Some(alice.clone()),
                project: None,
                role: None,
                environment: None,
            }
        );
        // No such user: nothing at all, even where everything else exists.
        let nobody = Uuid::now_v7();
        assert!(db.find_user_by_id(nobody).await.unwrap().is_none());
        assert_eq!(
            db.find_scope(
                nobody,
                ProjectKey::Id(p.id),
                Some(EnvironmentKey::Id(prod.id))
            )
            .await
            .unwrap(),
            Scope {
                user: None,
                project: None,
                role: None,
                environment: None,
            }
        );
    }

    on_both_backends!(one_query_finds_each_part_only_inside_the_one_before);
}
