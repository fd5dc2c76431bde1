//! The member repository: who belongs to a project with which role, and the
//! ownership transfer that keeps exactly one owner.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use patchbay_app::StoreError;
use patchbay_app::ports::{MemberRepository, MemberView, QueryFamily};
use patchbay_domain::{Email, Member, Project, Role};
use uuid::Uuid;

use crate::Database;
use crate::db::{transaction, with_conn};
use crate::errors::{DbResult, corrupt};
use crate::projects::ProjectRow;
use crate::schema::{project_members, projects, users};
use crate::types::{DbTime, DbUuid};

/// The query family this module's operations are timed under.
const FAMILY: QueryFamily = QueryFamily::Members;

/// A `project_members` row, read and inserted as a whole.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = project_members)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct MemberRow {
    id: DbUuid,
    project_id: DbUuid,
    user_id: DbUuid,
    role: String,
    created_at: DbTime,
}

impl MemberRow {
    pub(crate) fn from_domain(m: &Member) -> Self {
        Self {
            id: DbUuid(m.id),
            project_id: DbUuid(m.project_id),
            user_id: DbUuid(m.user_id),
            role: m.role.as_str().to_owned(),
            created_at: DbTime(m.created_at),
        }
    }

    pub(crate) fn into_domain(self) -> DbResult<Member> {
        Ok(Member {
            id: self.id.0,
            project_id: self.project_id.0,
            user_id: self.user_id.0,
            role: Role::parse(&self.role).map_err(|e| corrupt("member role", e))?,
            created_at: self.created_at.0,
        })
    }
}

/// A membership joined with its user's email and name.
type MemberViewRow = (MemberRow, String, String);

fn into_view((row, email, name): MemberViewRow) -> DbResult<MemberView> {
    Ok(MemberView {
        member: row.into_domain()?,
        email: Email::parse(&email).map_err(|e| corrupt("email", e))?,
        name,
    })
}

/// The selection of a [`MemberViewRow`] from `project_members ⋈ users`.
macro_rules! member_view_columns {
    () => {
        (MemberRow::as_select(), users::email, users::name)
    };
}

#[async_trait]
impl MemberRepository for Database {
    async fn find_member(
        &self,
        project_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<Member>, StoreError> {
        let result: DbResult<Option<Member>> = async {
            let row: Option<MemberRow> = with_conn!(self, |conn| {
                project_members::table
                    .filter(project_members::project_id.eq(DbUuid(project_id)))
                    .filter(project_members::user_id.eq(DbUuid(user_id)))
                    .select(MemberRow::as_select())
                    .first(conn)
                    .await
                    .optional()?
            });
            row.map(MemberRow::into_domain).transpose()
        }
        .await;
        Ok(result?)
    }

    async fn find_member_by_id_or_user(
        &self,
        project_id: Uuid,
        id: Uuid,
    ) -> Result<Option<Member>, StoreError> {
        let result: DbResult<Option<Member>> = async {
            // Membership ids and user ids are both v7 UUIDs and never
            // collide, so at most one row matches; prefer the membership id
            // all the same.
            let rows: Vec<MemberRow> = with_conn!(self, |conn| {
                project_members::table
                    .filter(project_members::project_id.eq(DbUuid(project_id)))
                    .filter(
                        project_members::id
                            .eq(DbUuid(id))
                            .or(project_members::user_id.eq(DbUuid(id))),
                    )
                    .select(MemberRow::as_select())
                    .load(conn)
                    .await?
            });
            let mut members = rows
                .into_iter()
                .map(MemberRow::into_domain)
                .collect::<DbResult<Vec<_>>>()?;
            members.sort_by_key(|m| m.id != id);
            Ok(members.into_iter().next())
        }
        .await;
        Ok(result?)
    }

    async fn list_members(&self, project_id: Uuid) -> Result<Vec<MemberView>, StoreError> {
        let result: DbResult<Vec<MemberView>> = async {
            let rows: Vec<MemberViewRow> = with_conn!(self, |conn| {
                project_members::table
                    .inner_join(users::table)
                    .filter(project_members::project_id.eq(DbUuid(project_id)))
                    .order((project_members::created_at.asc(), project_members::id.asc()))
                    .select(member_view_columns!())
                    .load(conn)
                    .await?
            });
            let mut members = rows
                .into_iter()
                .map(into_view)
                .collect::<DbResult<Vec<_>>>()?;
            // Owner first; the sort is stable, so the rest keep join order.
            members.sort_by_key(|m| !m.member.is_owner());
            Ok(members)
        }
        .await;
        Ok(result?)
    }

    async fn add_member(&self, member: Member) -> Result<MemberView, StoreError> {
        let row = MemberRow::from_domain(&member);
        let result: DbResult<MemberView> = transaction!(self, |conn| {
            diesel::insert_into(project_members::table)
                .values(&row)
                .execute(conn)
                .await?;
            let view: MemberViewRow = project_members::table
                .inner_join(users::table)
                .filter(project_members::id.eq(DbUuid(member.id)))
                .select(member_view_columns!())
                .first(conn)
                .await?;
            into_view(view)
        });
        Ok(result?)
    }

    async fn update_member_role(
        &self,
        project_id: Uuid,
        member_id: Uuid,
        role: Role,
    ) -> Result<MemberView, StoreError> {
        let result: DbResult<MemberView> = transaction!(self, |conn| {
            let updated = diesel::update(
                project_members::table
                    .filter(project_members::id.eq(DbUuid(member_id)))
                    .filter(project_members::project_id.eq(DbUuid(project_id))),
            )
            .set(project_members::role.eq(role.as_str()))
            .execute(conn)
            .await?;
            if updated == 0 {
                return Err(StoreError::NotFound.into());
            }
            let view: MemberViewRow = project_members::table
                .inner_join(users::table)
                .filter(project_members::id.eq(DbUuid(member_id)))
                .select(member_view_columns!())
                .first(conn)
                .await?;
            into_view(view)
        });
        Ok(result?)
    }

    async fn remove_member(&self, project_id: Uuid, member_id: Uuid) -> Result<(), StoreError> {
        let result: DbResult<()> = async {
            let deleted = with_conn!(self, |conn| {
                diesel::delete(
                    project_members::table
                        .filter(project_members::id.eq(DbUuid(member_id)))
                        .filter(project_members::project_id.eq(DbUuid(project_id))),
                )
                .execute(conn)
                .await?
            });
            if deleted == 0 {
                return Err(StoreError::NotFound.into());
            }
            Ok(())
        }
        .await;
        Ok(result?)
    }

    async fn transfer_ownership(
        &self,
        project_id: Uuid,
        from_user: Uuid,
        to_user: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Project, StoreError> {
        let result: DbResult<Project> = transaction!(self, |conn| {
            // Demote first: the partial unique index `project_members_one_owner`
            // admits one owner at a time, even within a transaction. Only
            // `from_user` *as owner* is demoted, so a transfer racing another
            // one finds nothing to demote and changes nothing.
            let demoted = diesel::update(
                project_members::table
                    .filter(project_members::project_id.eq(DbUuid(project_id)))
                    .filter(project_members::user_id.eq(DbUuid(from_user)))
                    .filter(project_members::role.eq(Role::Owner.as_str())),
            )
            .set(project_members::role.eq(Role::Admin.as_str()))
            .execute(conn)
            .await?;
            if demoted == 0 {
                return Err(StoreError::NotFound.into());
            }
            let promoted = diesel::update(
                project_members::table
                    .filter(project_members::project_id.eq(DbUuid(project_id)))
                    .filter(project_members::user_id.eq(DbUuid(to_user))),
            )
            .set(project_members::role.eq(Role::Owner.as_str()))
            .execute(conn)
            .await?;
            if promoted == 0 {
                return Err(StoreError::NotFound.into());
            }
            let row: ProjectRow = diesel::update(projects::table.find(DbUuid(project_id)))
                .set((
                    projects::owner_id.eq(DbUuid(to_user)),
                    projects::updated_at.eq(DbTime(now)),
                ))
                .returning(ProjectRow::as_returning())
                .get_result(conn)
                .await?;
            row.into_domain()
        });
        Ok(result?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use patchbay_app::ports::ProjectRepository;

    use super::*;
    use crate::projects::testing::*;
    use patchbay_app::Constraint;

    async fn owners(db: &Database, project_id: Uuid) -> Vec<Uuid> {
        db.list_members(project_id)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.member.is_owner())
            .map(|m| m.member.user_id)
            .collect()
    }

    async fn members_are_added_listed_changed_and_removed(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let bob = user(&db, "bob").await;
        let carol = user(&db, "carol").await;
        let (p, _) = project(&db, "team", alice.id).await;

        let bob_m = member(p.id, bob.id, Role::Member);
        let view = db.add_member(bob_m).await.unwrap();
        assert_eq!(
            view,
            MemberView {
                member: bob_m,
                email: bob.email.clone(),
                name: "bob".into()
            }
        );
        assert_eq!(
            db.add_member(member(p.id, bob.id, Role::Viewer)).await,
            Err(StoreError::Conflict(Constraint::ProjectMember))
        );
        assert!(matches!(
            db.add_member(member(p.id, Uuid::now_v7(), Role::Viewer))
                .await,
            Err(StoreError::MissingReference(_))
        ));
        // A second owner is refused by the partial unique index.
        assert_eq!(
            db.add_member(member(p.id, carol.id, Role::Owner)).await,
            Err(StoreError::Conflict(Constraint::ProjectOwner))
        );
        let carol_m = member(p.id, carol.id, Role::Viewer);
        db.add_member(carol_m).await.unwrap();

        // Owner first (although alice joined first anyway), then join order.
        let listed: Vec<_> = db
            .list_members(p.id)
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.member.user_id, m.member.role))
            .collect();
        assert_eq!(
            listed,
            [
                (alice.id, Role::Owner),
                (bob.id, Role::Member),
                (carol.id, Role::Viewer)
            ]
        );

        assert_eq!(
            db.find_member_by_id_or_user(p.id, bob_m.id).await.unwrap(),
            Some(bob_m)
        );
        assert_eq!(
            db.find_member_by_id_or_user(p.id, bob.id).await.unwrap(),
            Some(bob_m)
        );
        assert_eq!(
            db.find_member_by_id_or_user(p.id, Uuid::now_v7())
                .await
                .unwrap(),
            None
        );

        let changed = db
            .update_member_role(p.id, bob_m.id, Role::Admin)
            .await
            .unwrap();
        assert_eq!(changed.member.role, Role::Admin);
        assert_eq!(changed.email, bob.email);
        assert_eq!(
            db.update_member_role(Uuid::now_v7(), bob_m.id, Role::Viewer)
                .await,
            Err(StoreError::NotFound)
        );

        db.remove_member(p.id, carol_m.id).await.unwrap();
        assert_eq!(db.find_member(p.id, carol.id).await.unwrap(), None);
        assert_eq!(
            db.remove_member(p.id, carol_m.id).await,
            Err(StoreError::NotFound)
        );
    }

    async fn transfer_keeps_exactly_one_owner(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let bob = user(&db, "bob").await;
        let carol = user(&db, "carol").await;
        let (p, _) = project(&db, "team", alice.id).await;
        db.add_member(member(p.id, bob.id, Role::Viewer))
            .await
            .unwrap();

        let later = now();
        let moved = db
            .transfer_ownership(p.id, alice.id, bob.id, later)
            .await
            .unwrap();
        assert_eq!(moved.owner_id, bob.id);
        assert_eq!(moved.updated_at, later);
        assert_eq!(db.find_project(p.id).await.unwrap(), Some(moved));
        assert_eq!(owners(&db, p.id).await, [bob.id]);
        assert_eq!(
            db.find_member(p.id, alice.id).await.unwrap().unwrap().role,
            Role::Admin
        );

        // A target that is not a member: nothing changes.
        assert_eq!(
            db.transfer_ownership(p.id, bob.id, carol.id, now()).await,
            Err(StoreError::NotFound)
        );
        assert_eq!(owners(&db, p.id).await, [bob.id]);
        assert_eq!(
            db.find_project(p.id).await.unwrap().unwrap().owner_id,
            bob.id
        );

        // `from_user` no longer owns the project: nothing changes.
        assert_eq!(
            db.transfer_ownership(p.id, alice.id, alice.id, now()).await,
            Err(StoreError::NotFound)
        );
        assert_eq!(owners(&db, p.id).await, [bob.id]);
    }

    on_both_backends!(
        members_are_added_listed_changed_and_removed,
        transfer_keeps_exactly_one_owner,
    );
}
