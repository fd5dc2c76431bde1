//! Members and ownership transfer (seed 004):
//! `/api/v1/projects/:id/members[/:memberId]`, `/transfer`.

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use patchbay_app::ports::{MemberView, ProjectWithRole};
use patchbay_domain::{Action, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use crate::dto::{PageQuery, paged_slice};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::projects::ProjectDto;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(add)
        .service(update_role)
        .service(remove)
        .service(transfer);
}

/// A project member.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDto {
    /// The membership id (`:memberId`).
    pub id: Uuid,
    pub project_id: Uuid,
    pub user_id: Uuid,
    #[schema(example = "grace@example.com")]
    pub email: String,
    #[schema(example = "Grace Hopper")]
    pub name: String,
    #[schema(example = "member")]
    pub role: String,
    #[serde(serialize_with = "crate::dto::rfc3339")]
    #[schema(value_type = String, example = "2024-01-15T10:30:00.000Z")]
    pub joined_at: DateTime<Utc>,
}

impl From<MemberView> for MemberDto {
    fn from(v: MemberView) -> Self {
        Self {
            id: v.member.id,
            project_id: v.member.project_id,
            user_id: v.member.user_id,
            email: v.email.as_str().to_owned(),
            name: v.name,
            role: v.member.role.as_str().to_owned(),
            joined_at: v.member.created_at,
        }
    }
}

/// `POST …/members` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    pub user_id: Uuid,
    /// `admin`, `member` or `viewer` (never above the caller's own role).
    #[schema(pattern = "^(admin|member|viewer)$", example = "member")]
    pub role: String,
}

/// `PUT …/members/:memberId` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMemberRequest {
    /// `admin`, `member` or `viewer`; `owner` only through `/transfer`.
    #[schema(pattern = "^(admin|member|viewer)$", example = "admin")]
    pub role: String,
}

/// `POST …/transfer` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The user id of an existing member.
    pub new_owner_id: Uuid,
}

/// The project's members, owner first.
#[utoipa::path(get, operation_id = "listMembers", path = "/api/v1/projects/{id}/members", tag = "members", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Project id"), PageQuery),
    responses(
        (status = 200, description = "Members", body = [MemberDto]),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied", body = ErrorBody),
        (status = 404, description = "Project not found", body = ErrorBody),
    ))]
#[get("/api/v1/projects/{id}/members")]
pub(crate) async fn list(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = query.page()?;
    let access = state
        .access
        .project(user.user_id, *id, Action::ListMembers)
        .await?;
    let members = state.members.list(&access).await?;
    Ok(paged_slice(
        members.into_iter().map(MemberDto::from).collect(),
        page,
    ))
}

/// Adds an existing user (admin or owner; never `owner`, never above the
/// caller's role).
#[utoipa::path(post, operation_id = "addMember", path = "/api/v1/projects/{id}/members", tag = "members", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Project id")),
    request_body = AddMemberRequest,
    responses(
        (status = 201, description = "Added", body = MemberDto),
        (status = 400, description = "Bad role or body", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Project access denied, role too low, or role above the caller's", body = ErrorBody),
        (status = 404, description = "Project or user not found", body = ErrorBody),
        (status = 409, description = "Already a member", body = ErrorBody),
    ))]
#[post("/api/v1/projects/{id}/members")]
pub(crate) async fn add(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<AddMemberRequest>,
) -> ApiResult<HttpResponse> {
    let access = state
        .access
        .project(user.user_id, *id, Action::ViewProject)
        .await?;
    let member = state
        .members
        .add(&access, body.0.user_id, &body.0.role)
        .await?;
    Ok(HttpResponse::Created().json(MemberDto::from(member)))
}

/// Changes a member's role. `:memberId` is the membership id; the member's
/// user id is accepted too.
#[utoipa::path(put, operation_id = "updateMemberRole", path = "/api/v1/projects/{id}/members/{memberId}", tag = "members", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Project id"), ("memberId" = Uuid, Path, description = "Membership id or user id")),
    request_body = UpdateMemberRequest,
    responses(
        (status = 200, description = "Updated", body = MemberDto),
        (status = 400, description = "Bad role, or granting owner (use /transfer)", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not allowed by the role rules", body = ErrorBody),
        (status = 404, description = "Project or member not found", body = ErrorBody),
    ))]
#[put("/api/v1/projects/{id}/members/{memberId}")]
pub(crate) async fn update_role(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: ApiJson<UpdateMemberRequest>,
) -> ApiResult<HttpResponse> {
    let (id, member_id) = path.into_inner();
    let access = state
        .access
        .project(user.user_id, id, Action::ViewProject)
        .await?;
    let member = state
        .members
        .update_role(&access, member_id, &body.0.role)
        .await?;
    Ok(HttpResponse::Ok().json(MemberDto::from(member)))
}

/// Removes a member (admin or owner), or leaves the project (any member
/// naming itself; the owner must transfer first).
#[utoipa::path(delete, operation_id = "removeMember", path = "/api/v1/projects/{id}/members/{memberId}", tag = "members", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Project id"), ("memberId" = Uuid, Path, description = "Membership id or user id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not allowed by the role rules", body = ErrorBody),
        (status = 404, description = "Project or member not found", body = ErrorBody),
        (status = 409, description = "The owner cannot leave", body = ErrorBody),
    ))]
#[delete("/api/v1/projects/{id}/members/{memberId}")]
pub(crate) async fn remove(
    state: web::Data<AppState>,
    user: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (id, member_id) = path.into_inner();
    let access = state
        .access
        .project(user.user_id, id, Action::ViewProject)
        .await?;
    state.members.remove(&access, member_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Hands the project to another member (owner only); the old owner becomes
/// admin.
#[utoipa::path(post, operation_id = "transferProject", path = "/api/v1/projects/{id}/transfer", tag = "members", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Project id")),
    request_body = TransferRequest,
    responses(
        (status = 200, description = "Transferred; the project as the caller now sees it", body = ProjectDto),
        (status = 400, description = "Target is not a member, or already the owner", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the owner", body = ErrorBody),
        (status = 404, description = "Project not found", body = ErrorBody),
    ))]
#[post("/api/v1/projects/{id}/transfer")]
pub(crate) async fn transfer(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<Uuid>,
    body: ApiJson<TransferRequest>,
) -> ApiResult<HttpResponse> {
    let access = state
        .access
        .project(user.user_id, *id, Action::TransferOwnership)
        .await?;
    let project = state.members.transfer(&access, body.0.new_owner_id).await?;
    Ok(HttpResponse::Ok().json(ProjectDto::from(ProjectWithRole {
        project,
        role: Role::Admin,
    })))
}
