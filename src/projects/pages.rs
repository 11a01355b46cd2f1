//! HTML handlers: the home page, project dashboard, settings and members.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::member::Member;
use super::model::{MemberRow, ProjectSummary, Role};
use super::service;
use super::store;
use crate::assignments::service::{AssignmentProgress, HomeAssignment};
use crate::auth::SetupPage;
use crate::auth::session::CurrentUser;
use crate::error::{AppError, FieldErrors};
use crate::state::AppState;
use crate::transcripts::store::{self as transcripts, TranscriptSummary};
use crate::web::Layout;
use crate::web::extract::{Form, Path};
use crate::web::paths;

#[derive(Template)]
#[template(path = "projects/list.html")]
pub struct ProjectListPage {
    layout: Layout,
    projects: Vec<ProjectSummary>,
    assignments: Vec<HomeAssignment>,
    errors: FieldErrors,
    name: String,
    description: String,
}

/// `/`: the setup page on a new install, else the user's projects.
pub async fn home(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    layout: Layout,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let Some(user) = user else {
        if crate::auth::store::count_users(&mut conn).await? == 0 {
            return Ok(Html(SetupPage::new(layout).render()?).into_response());
        }
        return Ok(Redirect::to("/login").into_response());
    };
    let projects = store::list_projects_for_user(&mut conn, user.id).await?;
    let assignments = crate::assignments::service::my_assignments(&mut conn, user.id).await?;
    let page = ProjectListPage {
        layout,
        projects,
        assignments,
        errors: FieldErrors::new(),
        name: String::new(),
        description: String::new(),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct CreateProjectForm {
    name: String,
    #[serde(default)]
    description: String,
}

pub async fn create_project(
    State(state): State<AppState>,
    user: CurrentUser,
    layout: Layout,
    Form(form): Form<CreateProjectForm>,
) -> Result<Response, AppError> {
    let mut tx = state.begin().await?;
    let made = service::create_project(&mut tx, &user, &form.name, &form.description).await;
    match tx.commit_if_ok(made).await {
        Ok(project) => Ok(Redirect::to(&paths::project(project.id)).into_response()),
        Err(AppError::Invalid(errors)) => {
            let mut conn = state.db.acquire().await?;
            let projects = store::list_projects_for_user(&mut conn, user.id).await?;
            let assignments =
                crate::assignments::service::my_assignments(&mut conn, user.id).await?;
            let page = ProjectListPage {
                layout,
                projects,
                assignments,
                errors,
                name: form.name,
                description: form.description,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        Err(other) => Err(other),
    }
}

#[derive(Template)]
#[template(path = "projects/show.html")]
pub struct ProjectShowPage {
    layout: Layout,
    member: Member,
    members: Vec<MemberRow>,
    roles: [Role; 4],
    errors: FieldErrors,
    email: String,
    transcripts: Vec<TranscriptSummary>,
    deleted: Vec<TranscriptSummary>,
    can_manage: bool,
    assignments: Vec<AssignmentProgress>,
    /// Discrepancies resolved, for leads.
    reconciliation: Option<crate::reconcile::service::Progress>,
    /// What a reviewer reads: the consensus layers and the agreed codes' count.
    review: Option<Review>,
}

pub struct Review {
    layers: Vec<store::ConsensusLayer>,
    agreed_codes: i64,
}

impl ProjectShowPage {
    /// Members who may be asked to code (everyone but reviewers).
    fn coders(&self) -> Vec<&MemberRow> {
        self.members
            .iter()
            .filter(|m| m.role != Role::Reviewer)
            .collect()
    }
}

impl ProjectShowPage {
    fn is_owner(&self) -> bool {
        self.member.role == Role::Owner
    }

    /// How far the reconciliation of a transcript is, for the reopen prompt.
    fn reconciliation_of(
        &self,
        transcript: &crate::db::ids::TranscriptId,
    ) -> Option<&crate::reconcile::service::TranscriptProgress> {
        self.reconciliation
            .as_ref()?
            .transcripts
            .iter()
            .find(|t| t.transcript_id == *transcript)
    }

    /// Reviewers are never assigned, so their page leads with what they read;
    /// one who was a coder before still sees their assignments.
    fn shows_assignments(&self) -> bool {
        self.member.role != Role::Reviewer || !self.assignments.is_empty()
    }
}

async fn show_page(
    state: &AppState,
    member: Member,
    layout: Layout,
) -> Result<ProjectShowPage, AppError> {
    let mut conn = state.db.acquire().await?;
    let members = store::list_members(&mut conn, member.project_id).await?;
    let transcripts = transcripts::list_transcripts(&mut conn, member.project_id, false).await?;
    let can_manage = member.require(&[Role::Lead]).is_ok();
    let deleted = if can_manage {
        transcripts::list_transcripts(&mut conn, member.project_id, true).await?
    } else {
        Vec::new()
    };
    let can_manage = can_manage && member.project.archived_at.is_none();
    let review = if member.role == Role::Reviewer {
        Some(Review {
            layers: store::list_consensus_layers(&mut conn, member.project_id).await?,
            agreed_codes: store::count_agreed_codes(&mut conn, member.project_id).await?,
        })
    } else {
        None
    };
    let assignments =
        crate::assignments::service::list_with_progress(&mut conn, &member.actor()).await?;
    drop(conn);
    let reconciliation = if member.require(&[Role::Lead]).is_ok() {
        let mut conn = state.db.acquire().await?;
        Some(crate::reconcile::service::progress(&mut conn, &member.actor()).await?)
    } else {
        None
    };
    Ok(ProjectShowPage {
        reconciliation,
        review,
        layout,
        member,
        members,
        roles: Role::ALL,
        errors: FieldErrors::new(),
        email: String::new(),
        transcripts,
        deleted,
        can_manage,
        assignments,
    })
}

pub async fn show_project(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
) -> Result<Html<String>, AppError> {
    Ok(Html(show_page(&state, member, layout).await?.render()?))
}

#[derive(Template)]
#[template(path = "projects/settings.html")]
pub struct ProjectSettingsPage {
    layout: Layout,
    member: Member,
    name: String,
    description: String,
    version: i32,
    errors: FieldErrors,
    conflict: bool,
}

pub async fn show_settings(member: Member, layout: Layout) -> Result<Html<String>, AppError> {
    member.require(&[Role::Owner])?;
    let page = ProjectSettingsPage {
        layout,
        name: member.project.name.clone(),
        description: member.project.description.clone(),
        version: member.project.version,
        member,
        errors: FieldErrors::new(),
        conflict: false,
    };
    Ok(Html(page.render()?))
}

#[derive(Deserialize)]
pub struct UpdateProjectForm {
    name: String,
    #[serde(default)]
    description: String,
    version: i32,
}

pub async fn update_project(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Form(form): Form<UpdateProjectForm>,
) -> Result<Response, AppError> {
    let mut tx = state.begin().await?;
    let updated = service::update_project(
        &mut tx,
        &member.actor(),
        &form.name,
        &form.description,
        form.version,
    )
    .await;
    match tx.commit_if_ok(updated).await {
        Ok(project) => Ok(Redirect::to(&paths::project(project.id)).into_response()),
        Err(AppError::Invalid(errors)) => {
            let page = ProjectSettingsPage {
                layout,
                version: member.project.version,
                member,
                name: form.name,
                description: form.description,
                errors,
                conflict: false,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        Err(AppError::Conflict(_)) => {
            // Show what is stored now, with the user's text kept in the form.
            let page = ProjectSettingsPage {
                layout,
                version: member.project.version,
                member,
                name: form.name,
                description: form.description,
                errors: FieldErrors::new(),
                conflict: true,
            };
            Ok((StatusCode::CONFLICT, Html(page.render()?)).into_response())
        }
        Err(other) => Err(other),
    }
}

pub async fn archive_project(
    State(state): State<AppState>,
    member: Member,
) -> Result<Redirect, AppError> {
    let mut tx = state.begin().await?;
    service::set_archived(&mut tx, &member.actor(), true).await?;
    tx.commit().await?;
    Ok(Redirect::to(&paths::project(member.project_id)))
}

pub async fn unarchive_project(
    State(state): State<AppState>,
    member: Member,
) -> Result<Redirect, AppError> {
    let mut tx = state.begin().await?;
    service::set_archived(&mut tx, &member.actor(), false).await?;
    tx.commit().await?;
    Ok(Redirect::to(&paths::project(member.project_id)))
}

#[derive(Deserialize)]
pub struct AddMemberForm {
    email: String,
    role: String,
}

pub async fn add_member(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Form(form): Form<AddMemberForm>,
) -> Result<Response, AppError> {
    let mut tx = state.begin().await?;
    let result = service::add_member(&mut tx, &member.actor(), &form.email, &form.role).await;
    match tx.commit_if_ok(result).await {
        Ok(_) => Ok(Redirect::to(&paths::project(member.project_id)).into_response()),
        Err(AppError::Invalid(errors)) => {
            let mut page = show_page(&state, member, layout).await?;
            page.errors = errors;
            page.email = form.email;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        Err(other) => Err(other),
    }
}

#[derive(Deserialize)]
pub struct ChangeRoleForm {
    role: String,
    version: i32,
}

pub async fn change_member_role(
    State(state): State<AppState>,
    member: Member,
    Path((_, user_id)): Path<(String, crate::db::ids::UserId)>,
    Form(form): Form<ChangeRoleForm>,
) -> Result<Redirect, AppError> {
    let mut tx = state.begin().await?;
    service::change_member_role(&mut tx, &member.actor(), user_id, &form.role, form.version)
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&paths::project(member.project_id)))
}

pub async fn remove_member(
    State(state): State<AppState>,
    member: Member,
    Path((_, user_id)): Path<(String, crate::db::ids::UserId)>,
) -> Result<Redirect, AppError> {
    let mut tx = state.begin().await?;
    service::remove_member(&mut tx, &member.actor(), user_id).await?;
    tx.commit().await?;
    if user_id == member.user.id {
        return Ok(Redirect::to("/"));
    }
    Ok(Redirect::to(&paths::project(member.project_id)))
}
