//! HTML handlers: the project's debriefing sessions, one session, and their forms.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::service::{self, NewDebriefing, date_label};
use super::store::Debriefing;
use crate::codebook::model::AgreedCode;
use crate::error::AppError;
use crate::projects::member::Member;
use crate::projects::model::MemberRow;
use crate::state::AppState;
use crate::themes::model::Node;
use crate::themes::service::{Editor, Reader};
use crate::web::Layout;
use crate::web::extract::{Form, Path, field};

fn ids<T: std::str::FromStr>(
    fields: &[(String, String)],
    name: &str,
    message: &str,
) -> Result<Vec<T>, AppError> {
    fields
        .iter()
        .filter(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.parse().map_err(|_| AppError::field(name, message)))
        .collect()
}

fn input(fields: &[(String, String)]) -> Result<NewDebriefing, AppError> {
    Ok(NewDebriefing {
        held_on: field(fields, "held_on").to_owned(),
        title: field(fields, "title").to_owned(),
        notes: field(fields, "notes").to_owned(),
        decisions: field(fields, "decisions").to_owned(),
        attendees: ids(fields, "attendees", "Not a member.")?,
        guests: field(fields, "guests").lines().map(str::to_owned).collect(),
        nodes: ids(fields, "nodes", "No such theme.")?,
        codes: ids(fields, "codes", "No such agreed code.")?,
        version: field(fields, "version").parse().ok(),
    })
}

/// What the form offers: members, live nodes and agreed codes.
pub struct Choices {
    pub members: Vec<MemberRow>,
    pub nodes: Vec<Node>,
    pub codes: Vec<AgreedCode>,
}

async fn choices(conn: &mut sqlx::PgConnection, reader: Reader) -> Result<Choices, AppError> {
    Ok(Choices {
        members: crate::projects::store::list_members(conn, reader.project_id).await?,
        nodes: crate::themes::store::list_nodes(conn, reader.project_id, reader.proof).await?,
        codes: crate::codebook::store::list_agreed(conn, reader.project_id).await?,
    })
}

#[derive(Template)]
#[template(path = "debriefings/list.html")]
pub struct DebriefingListPage {
    layout: Layout,
    member: Member,
    sessions: Vec<Debriefing>,
    choices: Option<Choices>,
    today: String,
}

impl DebriefingListPage {
    fn date(&self, d: &str) -> String {
        date_label(d)
    }

    fn attended(&self, _: &crate::db::ids::UserId) -> bool {
        false
    }

    fn linked_node(&self, _: &crate::db::ids::ThemeNodeId) -> bool {
        false
    }

    fn linked_code(&self, _: &crate::db::ids::AgreedCodeId) -> bool {
        false
    }
}

pub async fn list(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
) -> Result<Html<String>, AppError> {
    let mut conn = state.db.acquire().await?;
    let reader = service::team_reader(&mut conn, &member.actor()).await?;
    let sessions = service::list(&mut conn, reader).await?;
    let choices = match Editor::of(&mut conn, &member.actor()).await {
        Ok(_) => Some(choices(&mut conn, reader).await?),
        Err(_) => None,
    };
    let today = time::OffsetDateTime::now_utc().date().to_string();
    Ok(Html(
        DebriefingListPage {
            layout,
            member,
            sessions,
            choices,
            today,
        }
        .render()?,
    ))
}

pub async fn create(
    State(state): State<AppState>,
    member: Member,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let input = input(&fields)?;
    let mut tx = state.begin().await?;
    let editor = Editor::of(&mut tx, &member.actor()).await?;
    let made = service::create(&mut tx, editor, input).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/projects/{}/debriefings/{}",
        member.project_id, made.id
    ))
    .into_response())
}

#[derive(Template)]
#[template(path = "debriefings/show.html")]
pub struct DebriefingShowPage {
    layout: Layout,
    member: Member,
    session: Debriefing,
    choices: Option<Choices>,
}

impl DebriefingShowPage {
    fn date(&self, d: &str) -> String {
        date_label(d)
    }

    fn attended(&self, id: &crate::db::ids::UserId) -> bool {
        self.session.attendees.iter().any(|a| a.id == id.0)
    }

    fn linked_node(&self, id: &crate::db::ids::ThemeNodeId) -> bool {
        self.session.nodes.iter().any(|n| n.id == id.0)
    }

    fn linked_code(&self, id: &crate::db::ids::AgreedCodeId) -> bool {
        self.session.codes.iter().any(|c| c.id == id.0)
    }
}

pub async fn show(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Path((_, id)): Path<(String, uuid::Uuid)>,
) -> Result<Html<String>, AppError> {
    let mut conn = state.db.acquire().await?;
    let reader = service::team_reader(&mut conn, &member.actor()).await?;
    let session = service::get(&mut conn, reader.project_id, id).await?;
    let choices = match Editor::of(&mut conn, &member.actor()).await {
        Ok(_) => Some(choices(&mut conn, reader).await?),
        Err(_) => None,
    };
    Ok(Html(
        DebriefingShowPage {
            layout,
            member,
            session,
            choices,
        }
        .render()?,
    ))
}

pub async fn update(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, uuid::Uuid)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let input = input(&fields)?;
    let mut tx = state.begin().await?;
    let editor = Editor::of(&mut tx, &member.actor()).await?;
    service::update(&mut tx, editor, id, input).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/projects/{}/debriefings/{id}", member.project_id)).into_response())
}
