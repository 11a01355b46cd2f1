//! The project's audit log, for owners: newest first, paged.

pub mod store;

use crate::web::routes::Routes;
use askama::Template;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::projects::member::Member;
use crate::projects::model::Role;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::extract::{Json, Query};
use store::AuditEntry;

const PAGE_SIZE: i64 = 50;

pub fn routes() -> Routes {
    Routes::new()
        .route("/projects/{project_id}/audit", get(show_audit_log))
        .route(
            "/api/v1/projects/{project_id}/audit",
            get(list_audit_events),
        )
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default = "first_page")]
    page: i64,
}

fn first_page() -> i64 {
    1
}

#[derive(Serialize)]
pub struct AuditPage {
    page: i64,
    has_next: bool,
    events: Vec<AuditEntry>,
}

async fn load(state: &AppState, member: &Member, page: i64) -> Result<AuditPage, AppError> {
    member.require(&[Role::Owner])?;
    if !(1..=1_000_000).contains(&page) {
        return Err(AppError::field("page", "Pages are numbered from 1."));
    }
    let mut conn = state.db.acquire().await?;
    let mut events = store::list_project_events(
        &mut conn,
        member.project_id,
        (page - 1) * PAGE_SIZE,
        PAGE_SIZE,
    )
    .await?;
    let has_next = events.len() as i64 > PAGE_SIZE;
    events.truncate(PAGE_SIZE as usize);
    Ok(AuditPage {
        page,
        has_next,
        events,
    })
}

#[derive(Template)]
#[template(path = "projects/audit.html")]
pub struct AuditLogPage {
    layout: Layout,
    member: Member,
    log: AuditPage,
}

impl AuditLogPage {
    fn compact(value: &Option<serde_json::Value>) -> String {
        value.as_ref().map(|v| v.to_string()).unwrap_or_default()
    }
}

pub async fn show_audit_log(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Query(query): Query<PageQuery>,
) -> Result<Html<String>, AppError> {
    let log = load(&state, &member, query.page).await?;
    Ok(Html(
        AuditLogPage {
            layout,
            member,
            log,
        }
        .render()?,
    ))
}

pub async fn list_audit_events(
    State(state): State<AppState>,
    member: Member,
    Query(query): Query<PageQuery>,
) -> Result<Json<AuditPage>, AppError> {
    Ok(Json(load(&state, &member, query.page).await?))
}
