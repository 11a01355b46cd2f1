//! The Quote bank page and its downloads.

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

use super::service::{self, QuoteBank};
use crate::db::audit::{self, Action, Change};
use crate::error::AppError;
use crate::projects::member::{Actor, Member};
use crate::state::AppState;
use crate::web::Layout;

#[derive(Template)]
#[template(path = "quote_bank/page.html")]
pub struct QuoteBankPage {
    layout: Layout,
    member: Member,
    bank: QuoteBank,
    can_edit: bool,
}

impl QuoteBankPage {
    fn heading(&self, group: &service::Group) -> String {
        if group.theme_path.is_empty() {
            "Unplaced codes".to_owned()
        } else {
            group.theme_path.join(" › ")
        }
    }

    /// Whether this group starts a new theme (its heading is shown once).
    fn new_theme(&self, index: &usize) -> bool {
        *index == 0 || self.bank.groups[*index - 1].node_id != self.bank.groups[*index].node_id
    }
}

pub async fn show(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
) -> Result<Html<String>, AppError> {
    let mut conn = state.db.acquire().await?;
    let reader = super::reader(&mut conn, &member.actor()).await?;
    let can_edit = super::editor(&mut conn, &member.actor()).await.is_ok();
    let bank = service::bank(&mut conn, reader).await?;
    Ok(Html(
        QuoteBankPage {
            layout,
            member,
            bank,
            can_edit,
        }
        .render()?,
    ))
}

/// The bank for a download, with its audit row (exports are on the record).
pub(super) async fn for_download(
    state: &AppState,
    actor: &Actor,
    export: &str,
    file_name: &str,
) -> Result<QuoteBank, AppError> {
    let mut conn = state.db.acquire().await?;
    let reader = super::reader(&mut conn, actor).await?;
    let bank = service::bank(&mut conn, reader).await?;
    drop(conn);
    let mut tx = state.begin().await?;
    audit::record(
        &mut tx,
        Change::new(Some(actor.user_id), Action::ExportMade)
            .project(actor.project_id)
            .entity(uuid::Uuid::now_v7())
            .after(&serde_json::json!({
                "export": export,
                "name": file_name,
                "quotes": bank.current().count(),
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(bank)
}

pub fn file_name(project: &str, extension: &str) -> String {
    format!(
        "{}-quote-bank-{}.{extension}",
        crate::exports::model::slug(project),
        time::OffsetDateTime::now_utc().date()
    )
}

fn attachment(content_type: &'static str, name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub async fn download_csv(
    State(state): State<AppState>,
    member: Member,
) -> Result<Response, AppError> {
    let name = file_name(&member.project.name, "csv");
    let bank = for_download(&state, &member.actor(), "quotes-csv", &name).await?;
    Ok(attachment(
        "text/csv; charset=utf-8",
        &name,
        super::csv_bytes(&bank)?,
    ))
}

pub async fn download_docx(
    State(state): State<AppState>,
    member: Member,
) -> Result<Response, AppError> {
    let name = file_name(&member.project.name, "docx");
    let bank = for_download(&state, &member.actor(), "quotes-docx", &name).await?;
    Ok(attachment(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &name,
        super::docx_bytes(&bank, &member.project.name)?,
    ))
}

impl QuoteBankPage {
    fn is_attribute(&self, id: &crate::db::ids::VariableId) -> bool {
        self.bank.attribute.variable_id == Some(*id)
    }

    fn source_name(&self, quote: &service::SelectedQuote) -> String {
        serde_json::to_value(quote.source)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}
