//! The interview order's page and its API twin.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::order::{self, InterviewOrder, SetOrder};
use crate::db::ids::TranscriptId;
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;
use crate::themes::service::{Editor, Reader};
use crate::web::Layout;
use crate::web::extract::{Form, Json};

#[derive(Template)]
#[template(path = "saturation/order.html")]
pub struct InterviewOrderPage {
    layout: Layout,
    member: Member,
    order: InterviewOrder,
    variables: Vec<String>,
    transcripts: Vec<(TranscriptId, String, Option<String>)>,
    can_edit: bool,
}

pub async fn show(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
) -> Result<Html<String>, AppError> {
    let mut conn = state.db.acquire().await?;
    let reader = Reader::of(&mut conn, &member.actor()).await?;
    let data = super::service::load(&mut conn, reader).await?;
    let variables = data
        .variables
        .iter()
        .filter(|v| super::service::orders_by(&data, v))
        .map(|v| v.name.clone())
        .collect();
    let transcripts = order::manual_list(&mut conn, reader, &data.order).await?;
    let can_edit = Editor::of(&mut conn, &member.actor()).await.is_ok();
    Ok(Html(
        InterviewOrderPage {
            layout,
            member,
            order: data.order,
            variables,
            transcripts,
            can_edit,
        }
        .render()?,
    ))
}

/// The form: the mode, the variable, the transcripts in their listed order,
/// and, from an up or down button, one transcript to move by one place.
pub async fn set(
    State(state): State<AppState>,
    member: Member,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let mut ids: Vec<TranscriptId> = fields
        .iter()
        .filter(|(k, _)| k == "transcript_ids")
        .map(|(_, v)| v.parse())
        .collect::<Result<_, _>>()
        .map_err(|_| AppError::field("transcript_ids", "Not a transcript."))?;
    let mut mode = get("mode").to_owned();
    for (button, step) in [("up", -1isize), ("down", 1)] {
        if let Ok(id) = get(button).parse::<TranscriptId>()
            && let Some(at) = ids.iter().position(|t| *t == id)
        {
            let to = at as isize + step;
            if (0..ids.len() as isize).contains(&to) {
                ids.swap(at, to as usize);
            }
            mode = "manual".into();
        }
    }
    let input = SetOrder {
        mode,
        variable: Some(get("variable").to_owned()),
        transcript_ids: ids,
        version: get("version")
            .parse()
            .map_err(|_| AppError::field("version", "Reload the page."))?,
    };
    let mut tx = state.begin().await?;
    let editor = Editor::of(&mut tx, &member.actor()).await?;
    order::set(&mut tx, editor, input).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/projects/{}/saturation/order", member.project_id)).into_response())
}

pub async fn get_json(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<InterviewOrder>, AppError> {
    let mut conn = state.db.acquire().await?;
    let reader = Reader::of(&mut conn, &member.actor()).await?;
    Ok(Json(order::get(&mut conn, reader.project_id).await?))
}

pub async fn put_json(
    State(state): State<AppState>,
    member: Member,
    Json(body): Json<SetOrder>,
) -> Result<Json<InterviewOrder>, AppError> {
    let mut tx = state.begin().await?;
    let editor = Editor::of(&mut tx, &member.actor()).await?;
    let set = order::set(&mut tx, editor, body).await?;
    tx.commit().await?;
    Ok(Json(set))
}
