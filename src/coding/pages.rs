//! The coding page. Its behaviour is in `static/js/coding/` (`main.js` wires
//! the parts); the server renders the text and hands the page its data as
//! JSON (no inline script).

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Redirect};

use super::api::{PackedCodings, coding_data};
use crate::assignments::service as assignments;
use crate::db::ids::TranscriptId;
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;
use crate::transcripts::view::{self, LineView};
use crate::web::Layout;
use crate::web::extract::Path;

#[derive(Template)]
#[template(path = "coding/page.html")]
pub struct CodingPage {
    pub layout: Layout,
    pub member: Member,
    pub page: PageInfo,
    /// The data block, as JSON safe inside `<script type="application/json">`.
    pub data_json: String,
    pub lines: Vec<LineView>,
}

/// What the coding page's frame says about the layer it opens: a coder's own,
/// or the consensus layer.
pub struct PageInfo {
    pub heading: &'static str,
    pub title: String,
    pub layer_label: &'static str,
    pub state: String,
    pub can_edit: bool,
    pub transcript_id: TranscriptId,
    pub codes_title: &'static str,
    pub consensus: bool,
}

/// `<` and `>` and `&` escaped, so no text in the JSON can close the script element.
pub fn script_safe_json(value: &impl serde::Serialize) -> Result<String, AppError> {
    let json = serde_json::to_string(value).map_err(|e| AppError::Internal(e.into()))?;
    Ok(json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026"))
}

#[tracing::instrument(skip_all, fields(%transcript_id))]
pub async fn show_coding_page(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Path((_, transcript_id)): Path<(String, TranscriptId)>,
) -> Result<Html<String>, AppError> {
    let mut data = coding_data(&state, &member, transcript_id).await?;
    data.packed_codings = Some(PackedCodings::pack(std::mem::take(&mut data.codings)));
    let data_json = script_safe_json(&data)?;
    let lines = view::lines(&data.transcript.text, &data.transcript.turns);
    let page = PageInfo {
        heading: "Coding",
        title: data.transcript.title.clone(),
        layer_label: "Your coding",
        state: data.assignment.state.as_str().to_owned(),
        can_edit: data.assignment.can_edit,
        transcript_id,
        codes_title: if data.codebook_mode == "shared" {
            "Shared codes"
        } else {
            "Your codes"
        },
        consensus: false,
    };
    Ok(Html(
        CodingPage {
            layout,
            member,
            page,
            data_json,
            lines,
        }
        .render()?,
    ))
}

/// The form fallback of the page's submit button.
pub async fn submit_layer(
    State(state): State<AppState>,
    member: Member,
    Path((_, transcript_id)): Path<(String, TranscriptId)>,
) -> Result<Redirect, AppError> {
    let mut tx = state.begin().await?;
    assignments::submit(&mut tx, &member.actor(), transcript_id).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/projects/{}/transcripts/{transcript_id}/code",
        member.project_id
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_in_a_script_element_cannot_close_it() {
        let json = script_safe_json(
            &serde_json::json!({ "text": "</script><script>alert(1)</script> & more" }),
        )
        .unwrap();
        assert!(!json.contains("</script"));
        assert!(!json.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["text"], "</script><script>alert(1)</script> & more");
    }
}
