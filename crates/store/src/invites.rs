//! The invite repository: invitations by email, stored with the SHA-256 of
//! their token (never the token), and accepting one atomically.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use patchbay_app::StoreError;
use patchbay_app::ports::{InviteRepository, InviteWithProject, QueryFamily};
use patchbay_domain::{Email, Invite, Member, Role};
use uuid::Uuid;

use crate::Database;
use crate::db::{transaction, with_conn};
use crate::errors::{DbResult, corrupt};
use crate::members::MemberRow;
use crate::projects::ProjectRow;
use crate::schema::{invites, project_members, projects, users};
use crate::types::{DbTime, DbUuid};
use patchbay_app::Constraint;

/// The query family this module's operations are timed under.
const FAMILY: QueryFamily = QueryFamily::Invites;

/// An `invites` row as read: everything but the token hash.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = invites)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct InviteRow {
    id: DbUuid,
    project_id: DbUuid,
    email: String,
    role: String,
    invited_by: DbUuid,
    expires_at: DbTime,
    accepted_at: Option<DbTime>,
    created_at: DbTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = invites)]
struct NewInviteRow<'a> {
    id: DbUuid,
    project_id: DbUuid,
    email: &'a str,
    role: &'a str,
    token_hash: &'a str,
    invited_by: DbUuid,
    expires_at: DbTime,
    accepted_at: Option<DbTime>,
    created_at: DbTime,
}

impl InviteRow {
    fn into_domain(self) -> DbResult<Invite> {
        Ok(Invite {
            id: self.id.0,
            project_id: self.project_id.0,
            email: Email::parse(&self.email).map_err(|e| corrupt("invite email", e))?,
            role: Role::parse(&self.role).map_err(|e| corrupt("invite role", e))?,
            invited_by: self.invited_by.0,
            expires_at: self.expires_at.0,
            accepted_at: self.accepted_at.map(|t| t.0),
            created_at: self.created_at.0,
        })
    }
}

fn with_project((invite, project): (InviteRow, ProjectRow)) -> DbResult<InviteWithProject> {
    Ok(InviteWithProject {
        invite: invite.into_domain()?,
        project: project.into_domain()?,
    })
}

#[async_trait]
impl InviteRepository for Database {
    async fn create_invite(
        &self,
        invite: Invite,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> Result<Invite, StoreError> {
        let row = NewInviteRow {
            id: DbUuid(invite.id),
            project_id: DbUuid(invite.project_id),
            email: invite.email.as_str(),
            role: invite.role.as_str(),
            token_hash: &token_hash,
            invited_by: DbUuid(invite.invited_by),
            expires_at: DbTime(invite.expires_at),
            accepted_at: invite.accepted_at.map(DbTime),
            created_at: DbTime(invite.created_at),
        };
        let result: DbResult<Invite> = transaction!(self, |conn| {
            // An expired invite no longer blocks a new one for the same email.
            diesel::delete(
                invites::table
                    .filter(invites::project_id.eq(DbUuid(invite.project_id)))
                    .filter(invites::email.eq(invite.email.as_str()))
                    .filter(invites::accepted_at.is_null())
                    .filter(invites::expires_at.le(DbTime(now))),
            )
            .execute(conn)
            .await?;
            // Someone who is already a member cannot accept (the accept would
            // always answer 409), so the invite is refused now.
            let already_member: i64 = project_members::table
                .inner_join(users::table.on(users::id.eq(project_members::user_id)))
                .filter(project_members::project_id.eq(DbUuid(invite.project_id)))
                .filter(users::email.eq(invite.email.as_str()))
                .count()
                .get_result(conn)
                .await?;
            if already_member > 0 {
                return Err(StoreError::Conflict(Constraint::ProjectMember).into());
            }
            let inserted: InviteRow = diesel::insert_into(invites::table)
                .values(&row)
                .returning(InviteRow::as_returning())
                .get_result(conn)
                .await?;
            inserted.into_domain()
        });
        Ok(result?)
    }

    async fn list_pending_invites(
        &self,
        project_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<Invite>, StoreError> {
        let result: DbResult<Vec<Invite>> = async {
            let rows: Vec<InviteRow> = with_conn!(self, |conn| {
                invites::table
                    .filter(invites::project_id.eq(DbUuid(project_id)))
                    .filter(invites::accepted_at.is_null())
                    .filter(invites::expires_at.gt(DbTime(now)))
                    .order((invites::created_at.desc(), invites::id.desc()))
                    .select(InviteRow::as_select())
                    .load(conn)
                    .await?
            });
            rows.into_iter().map(InviteRow::into_domain).collect()
        }
        .await;
        Ok(result?)
    }

    async fn delete_invite(&self, project_id: Uuid, invite_id: Uuid) -> Result<(), StoreError> {
        let result: DbResult<()> = async {
            let deleted = with_conn!(self, |conn| {
                diesel::delete(
                    invites::table
                        .filter(invites::id.eq(DbUuid(invite_id)))
                        .filter(invites::project_id.eq(DbUuid(project_id))),
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

    async fn find_invite_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<InviteWithProject>, StoreError> {
        let result: DbResult<Option<InviteWithProject>> = async {
            let row: Option<(InviteRow, ProjectRow)> = with_conn!(self, |conn| {
                invites::table
                    .inner_join(projects::table)
                    .filter(invites::token_hash.eq(token_hash))
                    .select((InviteRow::as_select(), ProjectRow::as_select()))
                    .first(conn)
                    .await
                    .optional()?
            });
            row.map(with_project).transpose()
        }
        .await;
        Ok(result?)
    }

    async fn accept_invite(
        &self,
        invite_id: Uuid,
        member: Member,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let member_row = MemberRow::from_domain(&member);
        let result: DbResult<()> = transaction!(self, |conn| {
            // The conditional update is the claim: of two concurrent accepts
            // only one finds the invite still unaccepted.
            let claimed = diesel::update(
                invites::table
                    .filter(invites::id.eq(DbUuid(invite_id)))
                    .filter(invites::accepted_at.is_null()),
            )
            .set(invites::accepted_at.eq(Some(DbTime(now))))
            .execute(conn)
            .await?;
            if claimed == 0 {
                return Err(StoreError::Conflict(Constraint::InviteAlreadyAccepted).into());
            }
            // A unique violation here (already a member) rolls the claim back.
            diesel::insert_into(project_members::table)
                .values(&member_row)
                .execute(conn)
                .await?;
            Ok(())
        });
        Ok(result?)
    }

    async fn list_invites_for_email(
        &self,
        email: &Email,
        now: DateTime<Utc>,
    ) -> Result<Vec<InviteWithProject>, StoreError> {
        let result: DbResult<Vec<InviteWithProject>> = async {
            let rows: Vec<(InviteRow, ProjectRow)> = with_conn!(self, |conn| {
                invites::table
                    .inner_join(projects::table)
                    .filter(invites::email.eq(email.as_str()))
                    .filter(invites::accepted_at.is_null())
                    .filter(invites::expires_at.gt(DbTime(now)))
                    .order((invites::created_at.desc(), invites::id.desc()))
                    .select((InviteRow::as_select(), ProjectRow::as_select()))
                    .load(conn)
                    .await?
            });
            rows.into_iter().map(with_project).collect()
        }
        .await;
        Ok(result?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use chrono::TimeDelta;
    use patchbay_app::ports::MemberRepository;

    use super::*;
    use crate::projects::testing::*;

    fn invite(project_id: Uuid, email: &Email, by: Uuid, at: DateTime<Utc>) -> Invite {
        Invite {
            id: Uuid::now_v7(),
            project_id,
            email: email.clone(),
            role: Role::Member,
            invited_by: by,
            expires_at: Invite::default_expiry(at),
            accepted_at: None,
            created_at: at,
        }
    }

    async fn pending_invites_are_unique_per_email_until_they_expire(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let bob = user(&db, "bob").await;
        let (p, _) = project(&db, "team", alice.id).await;
        let t0 = now();

        let first = invite(p.id, &bob.email, alice.id, t0);
        assert_eq!(
            db.create_invite(first.clone(), "hash-1".into(), t0)
                .await
                .unwrap(),
            first
        );
        assert_eq!(
            db.create_invite(invite(p.id, &bob.email, alice.id, t0), "hash-2".into(), t0)
                .await,
            Err(StoreError::Conflict(Constraint::InvitePendingEmail))
        );
        assert_eq!(
            db.list_pending_invites(p.id, t0).await.unwrap(),
            vec![first.clone()]
        );

        // Once expired it is neither listed nor in the way.
        let expiry = first.expires_at;
        assert!(
            db.list_pending_invites(p.id, expiry)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            db.list_invites_for_email(&bob.email, expiry)
                .await
                .unwrap()
                .is_empty()
        );
        let second = invite(p.id, &bob.email, alice.id, expiry);
        db.create_invite(second.clone(), "hash-2".into(), expiry)
            .await
            .unwrap();
        assert_eq!(db.find_invite_by_token_hash("hash-1").await.unwrap(), None);

        // Newest first, with the project.
        let other = user(&db, "other").await;
        let third = invite(p.id, &other.email, alice.id, expiry + TimeDelta::seconds(1));
        db.create_invite(third.clone(), "hash-3".into(), expiry)
            .await
            .unwrap();
        assert_eq!(
            db.list_pending_invites(p.id, expiry).await.unwrap(),
            vec![third, second.clone()]
        );
        assert_eq!(
            db.list_invites_for_email(&bob.email, expiry).await.unwrap(),
            vec![InviteWithProject {
                invite: second.clone(),
                project: p.clone()
            }]
        );
        assert_eq!(
            db.find_invite_by_token_hash("hash-2").await.unwrap(),
            Some(InviteWithProject {
                invite: second.clone(),
                project: p.clone()
            })
        );

        db.delete_invite(p.id, second.id).await.unwrap();
        assert_eq!(
            db.delete_invite(p.id, second.id).await,
            Err(StoreError::NotFound)
        );
    }

    async fn an_invite_is_accepted_once(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let bob = user(&db, "bob").await;
        let (p, _) = project(&db, "team", alice.id).await;
        let t0 = now();
        let inv = invite(p.id, &bob.email, alice.id, t0);
        db.create_invite(inv.clone(), "hash".into(), t0)
            .await
            .unwrap();

        let bob_m = Member {
            role: inv.role,
            ..member(p.id, bob.id, Role::Member)
        };
        db.accept_invite(inv.id, bob_m, t0).await.unwrap();
        assert_eq!(db.find_member(p.id, bob.id).await.unwrap(), Some(bob_m));
        let stored = db.find_invite_by_token_hash("hash").await.unwrap().unwrap();
        assert_eq!(stored.invite.accepted_at, Some(t0));
        assert!(db.list_pending_invites(p.id, t0).await.unwrap().is_empty());

        assert_eq!(
            db.accept_invite(inv.id, member(p.id, bob.id, Role::Member), t0)
                .await,
            Err(StoreError::Conflict(Constraint::InviteAlreadyAccepted))
        );
    }

    async fn accepting_as_an_existing_member_rolls_back(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let bob = user(&db, "bob").await;
        let (p, _) = project(&db, "team", alice.id).await;
        let t0 = now();
        let inv = invite(p.id, &bob.email, alice.id, t0);
        db.create_invite(inv.clone(), "hash".into(), t0)
            .await
            .unwrap();
        // Bob joined another way after the invite was sent.
        db.add_member(member(p.id, bob.id, Role::Viewer))
            .await
            .unwrap();
        assert_eq!(
            db.accept_invite(inv.id, member(p.id, bob.id, Role::Member), t0)
                .await,
            Err(StoreError::Conflict(Constraint::ProjectMember))
        );
        // Still pending: the claim was rolled back with the insert.
        assert_eq!(db.list_pending_invites(p.id, t0).await.unwrap(), vec![inv]);
        assert_eq!(
            db.find_member(p.id, bob.id).await.unwrap().unwrap().role,
            Role::Viewer
        );
    }

    async fn inviting_an_existing_member_is_a_conflict(backend: Backend) {
        let (_dir, db) = fresh_db(backend).await;
        let alice = user(&db, "alice").await;
        let bob = user(&db, "bob").await;
        let (p, _) = project(&db, "team", alice.id).await;
        let (other, _) = project(&db, "other", alice.id).await;
        db.add_member(member(p.id, bob.id, Role::Viewer))
            .await
            .unwrap();
        let t0 = now();
        for email in [&alice.email, &bob.email] {
            assert_eq!(
                db.create_invite(invite(p.id, email, alice.id, t0), "h".into(), t0)
                    .await,
                Err(StoreError::Conflict(Constraint::ProjectMember))
            );
        }
        assert!(db.list_pending_invites(p.id, t0).await.unwrap().is_empty());
        // Membership elsewhere is no obstacle.
        db.create_invite(invite(other.id, &bob.email, alice.id, t0), "h".into(), t0)
            .await
            .unwrap();
    }

    on_both_backends!(
        inviting_an_existing_member_is_a_conflict,
        pending_invites_are_unique_per_email_until_they_expire,
        an_invite_is_accepted_once,
        accepting_as_an_existing_member_rolls_back,
    );
}
