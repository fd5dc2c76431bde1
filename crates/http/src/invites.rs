//! Invites (seed 004): `/api/v1/projects/:id/invites[/:inviteId]`,
//! `/api/v1/invites/:token[/accept]`, `/api/v1/me/invites`.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use patchbay_app::ports::InviteWithProject;
use patchbay_domain::{Action, Invite, Project};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::auth::{AuthUser, Caller};
use crate::dto::{PageQuery, paged_slice, rfc3339};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::projects::ProjectDto;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(cancel)
        .service(mine)
        .service(show)
        .service(accept);
}

/// An invite (the token is never shown again after creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteDto {
    pub id: Uuid,
    pub project_id: Uuid,
    #[schema(example = "grace@example.com")]
    pub email: String,
    #[schema(example = "member")]
    pub role: String,
    pub invited_by: Uuid,
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, example = "2024-01-22T10:30:00.000Z")]
    pub expires_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, example = "2024-01-15T10:30:00.000Z")]
    pub created_at: DateTime<Utc>,
}

impl From<Invite> for InviteDto {
    fn from(i: Invite) -> Self {
        Self {
            id: i.id,
            project_id: i.project_id,
            email: i.email.as_str().to_owned(),
            role: i.role.as_str().to_owned(),
            invited_by: i.invited_by,
            expires_at: i.expires_at,
            created_at: i.created_at,
        }
    }
}

/// A new invite: the invite plus its token, shown only this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedInviteDto {
    #[serde(flatten)]
    pub invite: InviteDto,
    /// Send this to the invitee; patchbay stores only its hash.
    pub token: String,
}

/// The project an invite leads to.
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteProjectDto {
    pub id: Uuid,
    #[schema(example = "my-saas")]
    pub name: String,
    #[schema(example = "My SaaS App")]
    pub display_name: Option<String>,
}

impl From<&Project> for InviteProjectDto {
    fn from(p: &Project) -> Self {
        Self {
            id: p.id,
            name: p.name.as_str().to_owned(),
            display_name: p.display_name.clone(),
        }
    }
}

/// An invite seen by its token or by its invitee.
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteDetailsDto {
    pub id: Uuid,
    pub project: InviteProjectDto,
    #[schema(example = "member")]
    pub role: String,
    #[schema(example = "grace@example.com")]
    pub email: String,
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, example = "2024-01-22T10:30:00.000Z")]
    pub expires_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, example = "2024-01-15T10:30:00.000Z")]
    pub created_at: DateTime<Utc>,
}

impl From<InviteWithProject> for InviteDetailsDto {
    fn from(v: InviteWithProject) -> Self {
        Self {
            id: v.invite.id,
            project: (&v.project).into(),
            role: v.invite.role.as_str().to_owned(),
            email: v.invite.email.as_str().to_owned(),
            expires_at: v.invite.expires_at,
            created_at: v.invite.created_at,
        }
    }
}

/// `POST …/invites` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInviteRequest {
    #[schema(example = "grace@example.com")]
    pub email: String,
    /// `admin`, `member` or `viewer`, never above the inviter's role.
    #[schema(pattern = "^(admin|member|viewer)$", example = "member")]
    pub role: String,
}

/// Pending invites of the project.
#[utoipa::path(get, operation_id = "listInvites", path = "/api/v1/projects/{id}/invites", tag = "invites", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Project id"), PageQuery),
    responses(
        (status = 200, description = "Pending (unaccepted, unexpired) invites", body = [InviteDto]),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied", body = ErrorBody),
        (status = 404, description = "Project not found", body = ErrorBody),
    ))]
#[get("/api/v1/projects/{id}/invites")]
pub(crate) async fn list(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = query.page()?;
    let access = state
        .access
        .project(user.user_id, *id, Action::ViewInvites)
        .await?;
    let invites = state.invites.list(&access).await?;
    Ok(paged_slice(
        invites.into_iter().map(InviteDto::from).collect(),
        page,
    ))
}

/// Invites an email address (admin or owner). The token is in this answer
/// only; it expires after 7 days.
#[utoipa::path(post, operation_id = "createInvite", path = "/api/v1/projects/{id}/invites", tag = "invites", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Project id")),
    request_body = CreateInviteRequest,
    responses(
        (status = 201, description = "Created", body = CreatedInviteDto),
        (status = 400, description = "Bad email or role, or role owner", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied, role too low, or role above the inviter's", body = ErrorBody),
        (status = 404, description = "Project not found", body = ErrorBody),
        (status = 409, description = "A pending invite for this email exists, or its user is already a member", body = ErrorBody),
    ))]
#[post("/api/v1/projects/{id}/invites")]
pub(crate) async fn create(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<CreateInviteRequest>,
) -> ApiResult<HttpResponse> {
    let access = state
        .access
        .project(user.user_id, *id, Action::ManageInvites)
        .await?;
    let created = state
        .invites
        .create(&access, &body.0.email, &body.0.role)
        .await?;
    Ok(HttpResponse::Created().json(CreatedInviteDto {
        invite: created.invite.into(),
        token: created.token,
    }))
}

/// Cancels a pending invite (admin or owner).
#[utoipa::path(delete, operation_id = "cancelInvite", path = "/api/v1/projects/{id}/invites/{inviteId}", tag = "invites", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Project id"), ("inviteId" = Uuid, Path, description = "Invite id")),
    responses(
        (status = 204, description = "Cancelled"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied, or role too low", body = ErrorBody),
        (status = 404, description = "Project or invite not found", body = ErrorBody),
    ))]
#[delete("/api/v1/projects/{id}/invites/{inviteId}")]
pub(crate) async fn cancel(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (id, invite_id) = path.into_inner();
    let access = state
        .access
        .project(user.user_id, id, Action::ManageInvites)
        .await?;
    state.invites.cancel(&access, invite_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Pending invites addressed to the caller's email.
#[utoipa::path(get, operation_id = "listMyInvites", path = "/api/v1/me/invites", tag = "invites", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "Pending invites for the caller", body = [InviteDetailsDto]),
        (status = 401, description = "Not authenticated", body = ErrorBody),
    ))]
#[get("/api/v1/me/invites")]
pub(crate) async fn mine(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = query.page()?;
    let invites = state.invites.mine(&user.0).await?;
    Ok(paged_slice(
        invites.into_iter().map(InviteDetailsDto::from).collect(),
        page,
    ))
}

/// What an invite token invites to. Needs no account: the token is the
/// credential.
#[utoipa::path(get, operation_id = "getInvite", path = "/api/v1/invites/{token}", tag = "invites",
    params(("token" = String, Path, description = "The invite token")),
    responses(
        (status = 200, description = "The invite", body = InviteDetailsDto),
        (status = 404, description = "Unknown token", body = ErrorBody),
        (status = 410, description = "Expired or already used", body = ErrorBody),
    ))]
#[get("/api/v1/invites/{token}")]
pub(crate) async fn show(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let found = state.invites.show(&token).await?;
    Ok(HttpResponse::Ok().json(InviteDetailsDto::from(found)))
}

/// Joins the project with the invited role. The caller's email must be the
/// invited one; a token works once.
#[utoipa::path(post, operation_id = "acceptInvite", path = "/api/v1/invites/{token}/accept", tag = "invites", security(("bearer" = [])),
    params(("token" = String, Path, description = "The invite token")),
    responses(
        (status = 200, description = "Joined; the project with the caller's role", body = ProjectDto),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "The invite is for another email", body = ErrorBody),
        (status = 404, description = "Unknown token", body = ErrorBody),
        (status = 409, description = "Already a member", body = ErrorBody),
        (status = 410, description = "Expired or already used", body = ErrorBody),
    ))]
#[post("/api/v1/invites/{token}/accept")]
pub(crate) async fn accept(
    state: web::Data<AppState>,
    user: AuthUser,
    token: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let joined = state.invites.accept(&user.0, &token).await?;
    Ok(HttpResponse::Ok().json(ProjectDto::from(joined)))
}
