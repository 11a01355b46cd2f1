//! The Exports page, its JSON twin, and the downloads.

use askama::Template;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::model::{ExportKind, Needs};
use super::service::{self, Download, Options};
use crate::audit::AuditQuery;
use crate::audit::store::{Filter, Window};
use crate::coding::blinding::Viewer;
use crate::error::AppError;
use crate::projects::member::Member;
use crate::projects::model::Role;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::extract::{Json, Query};

/// Recent exports listed on the page.
const RECENT: i64 = 20;

/// One export as the page and the API list it.
#[derive(Debug, Serialize)]
pub struct ExportJson {
    pub export: &'static str,
    pub title: &'static str,
    pub format: &'static str,
    pub description: &'static str,
    pub url: String,
    /// Takes `?coders=1`: every coder coding the exporter may see.
    pub coder_layers_option: bool,
    pub available: bool,
    /// Why not, when it is not available.
    pub reason: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RecentJson {
    #[serde(with = "time::serde::rfc3339")]
    pub when: time::OffsetDateTime,
    pub who: String,
    pub export: String,
    pub title: String,
    pub file_name: String,
}

#[derive(Debug, Serialize)]
pub struct ExportsJson {
    pub exports: Vec<ExportJson>,
    /// For owners and site admins; `null` for others.
    pub recent: Option<Vec<RecentJson>>,
    /// The decision ledger's summary table, for those who may export the ledger.
    pub ledger_summary: Option<super::ledger::Summary>,
}

async fn list(state: &AppState, member: &Member) -> Result<ExportsJson, AppError> {
    let actor = &member.actor();
    let mut conn = state.db.acquire().await?;
    let viewer = Viewer::load(&mut conn, member).await?;
    let own_codes =
        super::store::count_own_codes(&mut conn, member.project_id, member.user.id).await?;
    let exports = ExportKind::ALL
        .into_iter()
        .map(|kind| {
            let refusal = service::check(actor, &viewer, kind).err().or_else(|| {
                (kind.needs() == Needs::OwnCodes && own_codes == 0)
                    .then(super::own_codebook::no_codes)
            });
            ExportJson {
                export: kind.as_str(),
                title: kind.title(),
                format: kind.format().label(),
                description: kind.description(),
                url: format!("/projects/{}/exports/{}", member.project_id, kind.file()),
                coder_layers_option: kind.takes_coder_layers(),
                available: refusal.is_none(),
                reason: refusal.map(|e| match e {
                    AppError::Forbidden => format!(
                        "Not for your role ({}): {}.",
                        member.role.label().to_lowercase(),
                        roles_text(kind)
                    ),
                    other => other.to_string(),
                }),
            }
        })
        .collect();
    let recent = if member.role == Role::Owner || member.user.is_admin {
        let filter = Filter {
            kind: Some(crate::db::audit::Action::ExportMade.as_str().to_owned()),
            ..Filter::default()
        };
        let window = Window {
            before_id: None,
            offset: 0,
            limit: RECENT,
        };
        let mut rows =
            crate::audit::store::list_project_events(&mut conn, member.project_id, &filter, window)
                .await?;
        rows.truncate(RECENT as usize);
        Some(
            rows.into_iter()
                .map(|e| {
                    let field = |name: &str| {
                        e.after
                            .as_ref()
                            .and_then(|a| a.get(name))
                            .and_then(|v| v.as_str())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let export = field("export");
                    RecentJson {
                        when: e.created_at,
                        who: e.actor_name.clone().unwrap_or_else(|| "system".into()),
                        title: ExportKind::parse(&export)
                            .map(|k| k.title().to_owned())
                            .unwrap_or_else(|| export.clone()),
                        file_name: field("name"),
                        export,
                    }
                })
                .collect(),
        )
    } else {
        None
    };
    drop(conn);
    let ledger_summary = match service::check(actor, &viewer, ExportKind::LedgerCsv) {
        Ok(Some(proof)) => Some(super::ledger::summarize(
            &super::ledger::load(state, actor, &viewer, proof).await?,
        )),
        _ => None,
    };
    Ok(ExportsJson {
        exports,
        recent,
        ledger_summary,
    })
}

fn roles_text(kind: ExportKind) -> &'static str {
    match kind.roles() {
        [Role::Owner] => "owners only",
        [Role::Owner, Role::Lead] => "owners and leads",
        _ => "every member",
    }
}

#[derive(Template)]
#[template(path = "exports/index.html")]
pub struct ExportsPage {
    layout: Layout,
    member: Member,
    list: ExportsJson,
}

impl ExportsPage {
    fn when(r: &RecentJson) -> String {
        let t = r.when;
        format!(
            "{} {:02}:{:02}:{:02}",
            t.date(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

pub async fn show_exports(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
) -> Result<Html<String>, AppError> {
    let list = list(&state, &member).await?;
    Ok(Html(
        ExportsPage {
            layout,
            member,
            list,
        }
        .render()?,
    ))
}

pub async fn list_exports(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<ExportsJson>, AppError> {
    Ok(Json(list(&state, &member).await?))
}

/// `?coders=1`: the coded segments also hold every coder layer the exporter may see.
#[derive(Debug, Default, Deserialize)]
pub struct DownloadQuery {
    #[serde(default)]
    coders: String,
}

impl DownloadQuery {
    fn options(&self) -> Result<Options, AppError> {
        let coder_layers = match self.coders.trim() {
            "" | "0" | "false" | "off" => false,
            "1" | "true" | "on" => true,
            _ => {
                return Err(AppError::field(
                    "coders",
                    "Write 1 to add every coder's layer you may see, or leave it out.",
                ));
            }
        };
        Ok(Options {
            coder_layers,
            ..Options::default()
        })
    }
}

fn respond(download: Download) -> Response {
    let disposition = download.disposition();
    let stream = tokio_stream::wrappers::ReceiverStream::new(download.chunks);
    (
        [
            (header::CONTENT_TYPE, download.content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

async fn download(
    state: AppState,
    member: Member,
    kind: ExportKind,
    options: Options,
) -> Result<Response, AppError> {
    Ok(respond(
        service::start(&state, &member.actor(), kind, options).await?,
    ))
}

macro_rules! download_handler {
    ($($name:ident => $kind:ident),* $(,)?) => {$(
        pub async fn $name(
            State(state): State<AppState>,
            member: Member,
            Query(query): Query<DownloadQuery>,
        ) -> Result<Response, AppError> {
            download(state, member, ExportKind::$kind, query.options()?).await
        }
    )*};
}

download_handler!(
    segments_csv => SegmentsCsv,
    segments_xlsx => SegmentsXlsx,
    codebook_csv => CodebookCsv,
    codebook_xlsx => CodebookXlsx,
    codebook_docx => CodebookDocx,
    ledger_csv => LedgerCsv,
    ledger_docx => LedgerDocx,
    agreement_xlsx => AgreementXlsx,
    agreement_docx => AgreementDocx,
    own_codebook_csv => OwnCodebookCsv,
    own_codebook_xlsx => OwnCodebookXlsx,
    own_codebook_docx => OwnCodebookDocx,
);

/// The audit log with the audit page's filters.
pub async fn audit_csv(
    State(state): State<AppState>,
    member: Member,
    Query(query): Query<AuditQuery>,
) -> Result<Response, AppError> {
    let options = Options {
        audit: query,
        ..Options::default()
    };
    download(state, member, ExportKind::AuditCsv, options).await
}

#[derive(Template)]
#[template(path = "exports/codebook.html")]
pub struct CodebookPrintPage {
    layout: Layout,
    member: Member,
    book: codebook::Book,
    unplaced_heading: &'static str,
}

use super::codebook::{self, Item};

impl CodebookPrintPage {
    fn counts(code: &codebook::CodeView, of: &i64) -> String {
        codebook::counts_text(code, *of)
    }
}

/// The codebook as a printable page: whoever may download the codebook.
pub async fn show_codebook_html(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
) -> Result<Html<String>, AppError> {
    let mut conn = state.db.acquire().await?;
    let viewer = Viewer::load(&mut conn, &member).await?;
    drop(conn);
    let actor = member.actor();
    let proof =
        service::check(&actor, &viewer, ExportKind::CodebookCsv)?.ok_or(AppError::Forbidden)?;
    let book = codebook::book(&state, &actor, proof).await?;
    Ok(Html(
        CodebookPrintPage {
            layout,
            member,
            book,
            unplaced_heading: codebook::UNPLACED,
        }
        .render()?,
    ))
}
