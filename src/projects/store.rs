//! Every SQL query of projects and members.

use anyhow::anyhow;
use sqlx::PgConnection;

use super::model::{CodebookMode, MemberRow, Project, ProjectSummary, Role};
use crate::db::ids::{ProjectId, TranscriptId, UserId};
use crate::error::AppError;

fn role(text: &str) -> Result<Role, AppError> {
    Role::parse(text)
        .ok_or_else(|| AppError::Internal(anyhow!("unknown role {text:?} in the database")))
}

/// True when the account is disabled (or gone).
pub async fn user_is_disabled(conn: &mut PgConnection, user_id: UserId) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select coalesce((select disabled_at is not null from users where id = $1), true) as "disabled!""#,
        user_id as UserId
    )
    .fetch_one(conn)
    .await?)
}

pub async fn find_membership(
    conn: &mut PgConnection,
    project_id: ProjectId,
    user_id: UserId,
) -> Result<Option<(Project, Role)>, AppError> {
    let row = sqlx::query!(
        r#"select p.id as "id: ProjectId", p.name, p.description, p.archived_at, p.created_at, p.version, p.codebook_mode as "codebook_mode: CodebookMode", m.role
             from projects p
             join project_members m on m.project_id = p.id
            where p.id = $1 and m.user_id = $2"#,
        project_id as ProjectId,
        user_id as UserId
    )
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok((
            Project {
                id: r.id,
                name: r.name,
                description: r.description,
                archived_at: r.archived_at,
                created_at: r.created_at,
                version: r.version,
                codebook_mode: r.codebook_mode,
            },
            role(&r.role)?,
        ))
    })
    .transpose()
}

pub async fn list_projects_for_user(
    conn: &mut PgConnection,
    user_id: UserId,
) -> Result<Vec<ProjectSummary>, AppError> {
    let rows = sqlx::query!(
        r#"select p.id as "id: ProjectId", p.name, p.description, p.archived_at, p.created_at, p.version, p.codebook_mode as "codebook_mode: CodebookMode", m.role,
                  (select count(*) from project_members c where c.project_id = p.id) as "member_count!"
             from projects p
             join project_members m on m.project_id = p.id
            where m.user_id = $1
            order by p.archived_at is not null, lower(p.name)"#,
        user_id as UserId
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(ProjectSummary {
                role: role(&r.role)?,
                member_count: r.member_count,
                project: Project {
                    id: r.id,
                    name: r.name,
                    description: r.description,
                    archived_at: r.archived_at,
                    created_at: r.created_at,
                    version: r.version,
                    codebook_mode: r.codebook_mode,
                },
            })
        })
        .collect()
}

pub async fn get_project(conn: &mut PgConnection, id: ProjectId) -> Result<Project, AppError> {
    sqlx::query_as!(
        Project,
        r#"select id as "id: ProjectId", name, description, archived_at, created_at, version, codebook_mode as "codebook_mode: CodebookMode"
             from projects
            where id = $1"#,
        id as ProjectId
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

pub async fn insert_project(
    conn: &mut PgConnection,
    name: &str,
    description: &str,
    created_by: UserId,
) -> Result<Project, AppError> {
    let id = ProjectId::new();
    Ok(sqlx::query_as!(
        Project,
        r#"insert into projects (id, name, description, created_by)
           values ($1, $2, $3, $4)
           returning id as "id: ProjectId", name, description, archived_at, created_at, version, codebook_mode as "codebook_mode: CodebookMode""#,
        id as ProjectId,
        name,
        description,
        created_by as UserId
    )
    .fetch_one(conn)
    .await?)
}

/// None when `version` is stale.
pub async fn update_project(
    conn: &mut PgConnection,
    id: ProjectId,
    name: &str,
    description: &str,
    version: i32,
) -> Result<Option<Project>, AppError> {
    Ok(sqlx::query_as!(
        Project,
        r#"update projects
              set name = $2, description = $3, updated_at = now(), version = version + 1
            where id = $1 and version = $4
        returning id as "id: ProjectId", name, description, archived_at, created_at, version, codebook_mode as "codebook_mode: CodebookMode""#,
        id as ProjectId,
        name,
        description,
        version
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn set_archived(
    conn: &mut PgConnection,
    id: ProjectId,
    archived: bool,
) -> Result<Project, AppError> {
    sqlx::query_as!(
        Project,
        r#"update projects
              set archived_at = case when $2 then coalesce(archived_at, now()) else null end,
                  updated_at = now(),
                  version = version + 1
            where id = $1
        returning id as "id: ProjectId", name, description, archived_at, created_at, version, codebook_mode as "codebook_mode: CodebookMode""#,
        id as ProjectId,
        archived
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

pub async fn list_members(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<Vec<MemberRow>, AppError> {
    let rows = sqlx::query!(
        r#"select u.id as "user_id: UserId", u.email, u.display_name, m.role, m.version
             from project_members m
             join users u on u.id = m.user_id
            where m.project_id = $1
            order by case m.role when 'owner' then 0 when 'lead' then 1 when 'coder' then 2 else 3 end,
                     lower(u.display_name)"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(MemberRow {
                user_id: r.user_id,
                email: r.email,
                display_name: r.display_name,
                role: role(&r.role)?,
                version: r.version,
            })
        })
        .collect()
}

pub async fn get_member(
    conn: &mut PgConnection,
    project_id: ProjectId,
    user_id: UserId,
) -> Result<MemberRow, AppError> {
    let r = sqlx::query!(
        r#"select u.id as "user_id: UserId", u.email, u.display_name, m.role, m.version
             from project_members m
             join users u on u.id = m.user_id
            where m.project_id = $1 and m.user_id = $2"#,
        project_id as ProjectId,
        user_id as UserId
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(MemberRow {
        user_id: r.user_id,
        email: r.email,
        display_name: r.display_name,
        role: role(&r.role)?,
        version: r.version,
    })
}

/// The enabled account with that email, if any.
pub async fn find_active_user_id_by_email(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Option<UserId>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select id as "id: UserId" from users where lower(email) = lower($1) and disabled_at is null"#,
        email.trim()
    )
    .fetch_optional(conn)
    .await?)
}

/// False when the user is a member already.
pub async fn insert_member(
    conn: &mut PgConnection,
    project_id: ProjectId,
    user_id: UserId,
    role: Role,
) -> Result<bool, AppError> {
    let done = sqlx::query!(
        "insert into project_members (project_id, user_id, role) values ($1, $2, $3) on conflict do nothing",
        project_id as ProjectId,
        user_id as UserId,
        role.as_str()
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// False when `version` is stale.
pub async fn update_member_role(
    conn: &mut PgConnection,
    project_id: ProjectId,
    user_id: UserId,
    role: Role,
    version: i32,
) -> Result<bool, AppError> {
    let done = sqlx::query!(
        "update project_members set role = $3, version = version + 1
          where project_id = $1 and user_id = $2 and version = $4",
        project_id as ProjectId,
        user_id as UserId,
        role.as_str(),
        version
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_member(
    conn: &mut PgConnection,
    project_id: ProjectId,
    user_id: UserId,
) -> Result<(), AppError> {
    sqlx::query!(
        "delete from project_members where project_id = $1 and user_id = $2",
        project_id as ProjectId,
        user_id as UserId
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Owners left, counted under a lock so two demotions can't both pass.
pub async fn count_owners_for_update(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<i64, AppError> {
    let owners = sqlx::query_scalar!(
        r#"select user_id as "user_id: UserId" from project_members
            where project_id = $1 and role = 'owner'
              for update"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?;
    Ok(owners.len() as i64)
}

/// Switches between independent and shared codebooks; only before any code exists.
pub async fn set_codebook_mode(
    conn: &mut PgConnection,
    id: ProjectId,
    mode: CodebookMode,
) -> Result<Project, AppError> {
    sqlx::query_as!(
        Project,
        r#"update projects
              set codebook_mode = $2, updated_at = now(), version = version + 1
            where id = $1
        returning id as "id: ProjectId", name, description, archived_at, created_at, version, codebook_mode as "codebook_mode: CodebookMode""#,
        id as ProjectId,
        mode as CodebookMode
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

/// A transcript whose consensus layer holds codings: what a reviewer reads.
pub struct ConsensusLayer {
    pub transcript_id: TranscriptId,
    pub title: String,
    pub participant: Option<String>,
    pub codings: i64,
}

/// Every transcript with a consensus coding, by title.
pub async fn list_consensus_layers(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<Vec<ConsensusLayer>, AppError> {
    Ok(sqlx::query_as!(
        ConsensusLayer,
        r#"select t.id as "transcript_id: TranscriptId", t.title, p.label as "participant?",
                  count(*) as "codings!"
             from consensus_codings c
             join transcripts t on t.id = c.transcript_id
             left join participants p on p.id = t.participant_id
            where c.project_id = $1 and c.deleted_at is null and t.deleted_at is null
            group by t.id, t.title, p.label
            order by lower(t.title), t.id"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

/// How many agreed codes the project's consensus codebook holds.
pub async fn count_agreed_codes(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select count(*) as "n!" from agreed_codes
            where project_id = $1 and deleted_at is null and merged_into is null"#,
        project_id as ProjectId
    )
    .fetch_one(conn)
    .await?)
}
