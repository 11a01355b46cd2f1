//! HTML handlers: the review rounds of a project and one round's page.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::service::{self, Answer, NewComment, NewRound, RoundView, SignOff};
use super::store::Round;
use crate::db::ids::UserId;
use crate::error::AppError;
use crate::projects::member::Member;
use crate::projects::model::{MemberRow, Role};
use crate::state::AppState;
use crate::themes::service::Editor;
use crate::web::Layout;
use crate::web::extract::{Form, Path, field};

#[derive(Template)]
#[template(path = "review/list.html")]
pub struct ListPage {
    layout: Layout,
    member: Member,
    rounds: Vec<Round>,
    reviewers: Vec<MemberRow>,
    can_edit: bool,
}

pub async fn list(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
) -> Result<Html<String>, AppError> {
    let mut conn = state.db.acquire().await?;
    let rounds = service::rounds(&mut conn, &member.actor()).await?;
    let can_edit = Editor::of(&mut conn, &member.actor()).await.is_ok();
    let reviewers = crate::projects::store::list_members(&mut conn, member.project_id)
        .await?
        .into_iter()
        .filter(|m| m.role == Role::Reviewer)
        .collect();
    Ok(Html(
        ListPage {
            layout,
            member,
            rounds,
            reviewers,
            can_edit,
        }
        .render()?,
    ))
}

pub async fn publish(
    State(state): State<AppState>,
    member: Member,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let mut reviewers = Vec::new();
    for (k, v) in &fields {
        if k == "reviewers" {
            reviewers.push(
                v.parse::<UserId>()
                    .map_err(|_| AppError::field("reviewers", "Not a member."))?,
            );
        }
    }
    let input = NewRound {
        message: field(&fields, "message").to_owned(),
        due_on: Some(field(&fields, "due_on").to_owned()),
        reviewers,
    };
    let mut tx = state.begin().await?;
    let editor = Editor::of(&mut tx, &member.actor()).await?;
    let round = service::publish(&mut tx, editor, input).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/projects/{}/review/{}",
        member.project_id, round.id
    ))
    .into_response())
}

#[derive(Template)]
#[template(path = "review/round.html")]
pub struct RoundPage {
    layout: Layout,
    member: Member,
    view: RoundView,
    can_edit: bool,
    is_reviewer: bool,
}

impl RoundPage {
    fn comments_on(&self, kind: &str, id: &uuid::Uuid) -> Vec<&super::store::Comment> {
        self.view
            .comments
            .iter()
            .filter(|c| c.target_kind == kind && c.target_id.as_ref() == Some(id))
            .collect()
    }

    fn round_comments(&self) -> Vec<&super::store::Comment> {
        self.view
            .comments
            .iter()
            .filter(|c| c.target_kind == "round")
            .collect()
    }

    fn codes_of(&self, node: &uuid::Uuid) -> Vec<&service::SnapCode> {
        self.view
            .snapshot
            .codes
            .iter()
            .filter(|c| c.node_id.as_ref() == Some(node))
            .collect()
    }

    fn signoff_of(&self, user: &UserId) -> Option<&super::store::Signoff> {
        self.view.signoffs.iter().find(|s| s.user_id == *user)
    }

    fn indent(&self, depth: &usize) -> String {
        format!("depth-{}", (*depth).min(4))
    }
}

pub async fn show(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Path((_, round)): Path<(String, uuid::Uuid)>,
) -> Result<Html<String>, AppError> {
    let mut conn = state.db.acquire().await?;
    let view = service::view(&mut conn, &member.actor(), round).await?;
    let can_edit = Editor::of(&mut conn, &member.actor()).await.is_ok();
    let is_reviewer = view.round.reviewers.contains(&member.user.id);
    Ok(Html(
        RoundPage {
            layout,
            member,
            view,
            can_edit,
            is_reviewer,
        }
        .render()?,
    ))
}

fn back(member: &Member, round: uuid::Uuid, anchor: &str) -> Response {
    Redirect::to(&format!(
        "/projects/{}/review/{round}#{anchor}",
        member.project_id
    ))
    .into_response()
}

pub async fn comment(
    State(state): State<AppState>,
    member: Member,
    Path((_, round)): Path<(String, uuid::Uuid)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let target = field(&fields, "target_id");
    let input = NewComment {
        target_kind: field(&fields, "target_kind").to_owned(),
        target_id: if target.is_empty() {
            None
        } else {
            Some(
                target
                    .parse()
                    .map_err(|_| AppError::field("target_id", "Not an id."))?,
            )
        },
        body: field(&fields, "body").to_owned(),
    };
    let mut tx = state.begin().await?;
    let made = service::comment(&mut tx, &member.actor(), round, input).await?;
    tx.commit().await?;
    Ok(back(&member, round, &format!("comment-{}", made.id)))
}

pub async fn answer(
    State(state): State<AppState>,
    member: Member,
    Path((_, round, comment)): Path<(String, uuid::Uuid, uuid::Uuid)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let input = Answer {
        status: field(&fields, "status").to_owned(),
        reply: field(&fields, "reply").to_owned(),
        version: field(&fields, "version")
            .parse()
            .map_err(|_| AppError::field("version", "Reload the page."))?,
    };
    let mut tx = state.begin().await?;
    let editor = Editor::of(&mut tx, &member.actor()).await?;
    service::answer(&mut tx, editor, round, comment, input).await?;
    tx.commit().await?;
    Ok(back(&member, round, &format!("comment-{comment}")))
}

pub async fn sign_off(
    State(state): State<AppState>,
    member: Member,
    Path((_, round)): Path<(String, uuid::Uuid)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let input = SignOff {
        verdict: field(&fields, "verdict").to_owned(),
        note: field(&fields, "note").to_owned(),
    };
    let mut tx = state.begin().await?;
    service::sign_off(&mut tx, &member.actor(), round, input).await?;
    tx.commit().await?;
    Ok(back(&member, round, "signoffs"))
}

pub async fn close(
    State(state): State<AppState>,
    member: Member,
    Path((_, round)): Path<(String, uuid::Uuid)>,
) -> Result<Response, AppError> {
    let mut tx = state.begin().await?;
    let editor = Editor::of(&mut tx, &member.actor()).await?;
    service::close(&mut tx, editor, round).await?;
    tx.commit().await?;
    Ok(back(&member, round, "signoffs"))
}
