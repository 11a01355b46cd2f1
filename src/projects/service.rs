//! Project changes shared by pages and API: each one transaction with its audit row.

use super::member::Actor;
use super::model::{self, MemberRow, Project, Role};
use super::store;
use crate::auth::model::AuthUser;
use crate::db::audit::{self, Action, Change};
use crate::db::ids::{ProjectId, UserId};
use crate::error::{AppError, FieldErrors};
use sqlx::PgConnection;

pub async fn create_project(
    conn: &mut PgConnection,
    user: &AuthUser,
    name: &str,
    description: &str,
) -> Result<Project, AppError> {
    let mut errors = FieldErrors::new();
    let name = model::parse_project_name(&mut errors, name);
    let description = model::parse_description(&mut errors, description);
    errors.into_result()?;
    let project = store::insert_project(&mut *conn, &name, &description, user.id).await?;
    store::insert_member(&mut *conn, project.id, user.id, Role::Owner).await?;
    audit::record(
        &mut *conn,
        Change::new(Some(user.id), Action::ProjectCreated)
            .project(project.id)
            .entity(project.id.0)
            .after(&project),
    )
    .await?;
    Ok(project)
}

pub async fn update_project(
    conn: &mut PgConnection,
    actor: &Actor,
    name: &str,
    description: &str,
    version: i32,
) -> Result<Project, AppError> {
    actor.require(&[Role::Owner])?;
    actor.require_active()?;
    let mut errors = FieldErrors::new();
    let name = model::parse_project_name(&mut errors, name);
    let description = model::parse_description(&mut errors, description);
    errors.into_result()?;
    let before = store::get_project(&mut *conn, actor.project_id).await?;
    let after = store::update_project(&mut *conn, actor.project_id, &name, &description, version)
        .await?
        .ok_or_else(|| AppError::stale(&before))?;
    // Open pages show the name: the audit row comes with a live event.
    audit::record(
        &mut *conn,
        Change::new(Some(actor.user_id), Action::ProjectUpdated)
            .project(actor.project_id)
            .entity(actor.project_id.0)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(after)
}

pub async fn set_archived(
    conn: &mut PgConnection,
    actor: &Actor,
    archived: bool,
) -> Result<Project, AppError> {
    actor.require(&[Role::Owner])?;
    let before = store::get_project(&mut *conn, actor.project_id).await?;
    if before.archived_at.is_some() == archived {
        return Ok(before);
    }
    let after = store::set_archived(&mut *conn, actor.project_id, archived).await?;
    let action = if archived {
        Action::ProjectArchived
    } else {
        Action::ProjectUnarchived
    };
    audit::record(
        &mut *conn,
        Change::new(Some(actor.user_id), action)
            .project(actor.project_id)
            .entity(actor.project_id.0)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(after)
}

pub async fn add_member(
    conn: &mut PgConnection,
    actor: &Actor,
    email: &str,
    role: &str,
) -> Result<MemberRow, AppError> {
    actor.require(&[Role::Owner])?;
    actor.require_active()?;
    let mut errors = FieldErrors::new();
    let role = model::parse_role(&mut errors, role);
    errors.into_result()?;
    let user_id = store::find_active_user_id_by_email(&mut *conn, email)
        .await?
        .ok_or_else(|| {
            AppError::field(
                "email",
                "No active account has this email address; an admin can invite them.",
            )
        })?;
    if !store::insert_member(&mut *conn, actor.project_id, user_id, role).await? {
        return Err(AppError::field("email", "This person is a member already."));
    }
    let added = store::get_member(&mut *conn, actor.project_id, user_id).await?;
    audit::record(
        &mut *conn,
        Change::new(Some(actor.user_id), Action::MemberAdded)
            .project(actor.project_id)
            .entity(user_id.0)
            .subject(user_id)
            .after(&added),
    )
    .await?;
    Ok(added)
}

/// Makes the person who just accepted an invitation a member of the project
/// it named, in the caller's transaction (the one that makes their account).
/// The invitation was the owner's choice; the new member is the actor.
pub async fn add_invited_member(
    conn: &mut PgConnection,
    project_id: ProjectId,
    user_id: UserId,
    role: Role,
) -> Result<(), AppError> {
    if !store::insert_member(conn, project_id, user_id, role).await? {
        return Ok(());
    }
    let added = store::get_member(conn, project_id, user_id).await?;
    audit::record(
        conn,
        Change::new(Some(user_id), Action::MemberAdded)
            .project(project_id)
            .entity(user_id.0)
            .subject(user_id)
            .after(&added),
    )
    .await
}

fn last_owner() -> AppError {
    AppError::State("A project needs at least one owner: make someone else owner first.".into())
}

pub async fn change_member_role(
    conn: &mut PgConnection,
    actor: &Actor,
    user_id: UserId,
    role: &str,
    version: i32,
) -> Result<MemberRow, AppError> {
    actor.require(&[Role::Owner])?;
    actor.require_active()?;
    let mut errors = FieldErrors::new();
    let role = model::parse_role(&mut errors, role);
    errors.into_result()?;
    let owners = store::count_owners_for_update(&mut *conn, actor.project_id).await?;
    let before = store::get_member(&mut *conn, actor.project_id, user_id).await?;
    if before.role == Role::Owner && role != Role::Owner && owners <= 1 {
        return Err(last_owner());
    }
    if !store::update_member_role(&mut *conn, actor.project_id, user_id, role, version).await? {
        return Err(AppError::stale(&before));
    }
    let after = store::get_member(&mut *conn, actor.project_id, user_id).await?;
    audit::record(
        &mut *conn,
        Change::new(Some(actor.user_id), Action::MemberRoleChanged)
            .project(actor.project_id)
            .entity(user_id.0)
            .subject(user_id)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(after)
}

pub async fn remove_member(
    conn: &mut PgConnection,
    actor: &Actor,
    user_id: UserId,
) -> Result<(), AppError> {
    actor.require(&[Role::Owner])?;
    actor.require_active()?;
    let owners = store::count_owners_for_update(&mut *conn, actor.project_id).await?;
    let before = store::get_member(&mut *conn, actor.project_id, user_id).await?;
    if before.role == Role::Owner && owners <= 1 {
        return Err(last_owner());
    }
    store::delete_member(&mut *conn, actor.project_id, user_id).await?;
    audit::record(
        &mut *conn,
        Change::new(Some(actor.user_id), Action::MemberRemoved)
            .project(actor.project_id)
            .entity(user_id.0)
            .subject(user_id)
            .before(&before),
    )
    .await?;
    Ok(())
}
