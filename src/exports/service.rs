//! Starting an export: who may make it, its audit row, and the task that
//! writes it into a channel the response body (or `concord export`) reads.

use std::sync::Arc;

use futures_util::StreamExt;
use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::model::{self, ExportKind, Needs};
use super::sink::{self, Chunk, Progress, Sink};
use super::{agreement, codebook, ledger, own_codebook, segments, store};
use crate::audit::AuditQuery;
use crate::coding::blinding::{AgreedCodebook, Viewer};
use crate::db::audit::{self, Action, Change};
use crate::db::ids::ProjectId;
use crate::error::AppError;
use crate::projects::member::Actor;
use crate::projects::model::Role;
use crate::state::AppState;

/// Chunks waiting for a slow reader; the writer pauses beyond them.
const QUEUED_CHUNKS: usize = 8;

/// What the exporter chose besides the export itself.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Options {
    /// Coded segments: also every coding of each coder layer the exporter may see.
    pub coder_layers: bool,
    /// Audit log: the filters of the audit page.
    #[serde(skip)]
    pub audit: AuditQuery,
}

/// An export under way: its file's name and type, and its bytes as they come.
pub struct Download {
    pub kind: ExportKind,
    pub file_name: String,
    pub content_type: &'static str,
    pub chunks: mpsc::Receiver<Chunk>,
    pub progress: Arc<Progress>,
}

impl Download {
    /// `attachment; filename="…"` (the name is plain ASCII, see [`model::slug`]).
    pub fn disposition(&self) -> String {
        format!("attachment; filename=\"{}\"", self.file_name)
    }
}

/// Whether `member` may make `kind`, or why not; the agreed-codebook proof
/// when the export needs one.
pub fn check(
    actor: &Actor,
    viewer: &Viewer,
    kind: ExportKind,
) -> Result<Option<AgreedCodebook>, AppError> {
    actor.require(kind.roles())?;
    match kind.needs() {
        Needs::AgreedCodebook => Ok(Some(viewer.agreed_codebook()?)),
        Needs::AuditLog => {
            if viewer.is_blind_anywhere() {
                return Err(AppError::State(crate::messages::AUDIT_LOG_BLIND.into()));
            }
            Ok(None)
        }
        // Whether the member has codes of their own is asked when it is made.
        Needs::OwnCodes => Ok(None),
    }
}

/// Checks the member's right to the export, records it on the audit log and
/// starts writing it. Refusals come back as errors before any byte is sent.
#[tracing::instrument(skip_all, fields(project_id = %actor.project_id, export = kind.as_str()))]
pub async fn start(
    state: &AppState,
    actor: &Actor,
    kind: ExportKind,
    options: Options,
) -> Result<Download, AppError> {
    let mut conn = state.db.acquire().await?;
    let viewer = Viewer::of(&mut conn, actor).await?;
    drop(conn);
    let proof = check(actor, &viewer, kind)?;
    let options = Options {
        coder_layers: options.coder_layers && kind.takes_coder_layers(),
        ..options
    };
    // The member's own codes, read (or refused) before anything is recorded.
    let own = match kind.needs() {
        Needs::OwnCodes => Some(own_codebook::load(state, actor).await?),
        _ => None,
    };
    let today = OffsetDateTime::now_utc().date();
    let file_name = match &own {
        Some(book) => model::own_file_name(&actor.project.name, &book.coder, kind, today),
        None => model::file_name(&actor.project.name, kind, today),
    };
    let (tx, chunks) = mpsc::channel(QUEUED_CHUNKS);
    let progress = Arc::new(Progress::default());
    // The audit log's own filters are checked before anything is recorded.
    let audit_stream = match kind {
        ExportKind::AuditCsv => Some(Box::pin(
            crate::audit::csv_stream(state.clone(), actor, &options.audit).await?,
        )),
        _ => None,
    };

    let mut tx_audit = state.begin().await?;
    audit::record(
        &mut tx_audit,
        Change::new(Some(actor.user_id), Action::ExportMade)
            .project(actor.project_id)
            .entity(uuid::Uuid::now_v7())
            .after(&serde_json::json!({
                "export": kind.as_str(),
                "name": file_name,
                "coder_layers": options.coder_layers,
            })),
    )
    .await?;
    tx_audit.commit().await?;

    let download = Download {
        kind,
        file_name,
        content_type: kind.format().content_type(),
        chunks,
        progress: progress.clone(),
    };
    if let Some(mut stream) = audit_stream {
        tokio::spawn(async move {
            while let Some(chunk) = stream.next().await {
                if let Ok(bytes) = &chunk {
                    progress
                        .bytes
                        .fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
                }
                if tx.send(chunk).await.is_err() {
                    break;
                }
            }
        });
        return Ok(download);
    }
    let state = state.clone();
    let member = actor.clone();
    tokio::spawn(async move {
        let written = async {
            if let Some(book) = own {
                return write_own(kind, &book, tx.clone(), progress).await;
            }
            let proof = proof.ok_or(AppError::Forbidden)?;
            let mut sink = match kind.format() {
                model::Format::Csv => Sink::csv(tx.clone(), progress),
                model::Format::Xlsx => Sink::xlsx(tx.clone(), progress),
                model::Format::Docx => {
                    let doc = match kind {
                        ExportKind::CodebookDocx => {
                            codebook::document(&codebook::book(&state, &member, proof).await?)
                        }
                        ExportKind::LedgerDocx => {
                            ledger::document(&state, &member, &viewer, proof).await?
                        }
                        _ => agreement::document(&state, &member).await?,
                    };
                    return sink::send_docx(doc, tx.clone(), progress).await;
                }
            };
            match kind {
                ExportKind::SegmentsCsv | ExportKind::SegmentsXlsx => {
                    segments::write(
                        &state,
                        &member,
                        &viewer,
                        proof,
                        options.coder_layers,
                        &mut sink,
                    )
                    .await?
                }
                ExportKind::CodebookCsv | ExportKind::CodebookXlsx => {
                    codebook::write(&state, &member, proof, &mut sink).await?
                }
                ExportKind::LedgerCsv => {
                    ledger::write(&state, &member, &viewer, proof, &mut sink).await?
                }
                ExportKind::AgreementXlsx => agreement::write(&state, &member, &mut sink).await?,
                ExportKind::CodebookDocx
                | ExportKind::LedgerDocx
                | ExportKind::AgreementDocx
                | ExportKind::AuditCsv
                | ExportKind::OwnCodebookCsv
                | ExportKind::OwnCodebookXlsx
                | ExportKind::OwnCodebookDocx => not_rows()?,
            }
            sink.finish().await
        }
        .await;
        if let Err(error) = written {
            // The status is sent already: the download ends short, and says so here.
            tracing::error!(%error, export = kind.as_str(), "export cut short");
            let _ = tx
                .send(Err(std::io::Error::other(format!(
                    "the {} export could not be finished",
                    kind.as_str()
                ))))
                .await;
        }
    });
    Ok(download)
}

/// A coder's own codebook, loaded already: its rows or its Word document.
async fn write_own(
    kind: ExportKind,
    book: &own_codebook::OwnBook,
    tx: mpsc::Sender<Chunk>,
    progress: Arc<Progress>,
) -> Result<(), AppError> {
    let mut sink = match kind.format() {
        model::Format::Csv => Sink::csv(tx, progress),
        model::Format::Xlsx => Sink::xlsx(tx, progress),
        model::Format::Docx => {
            return sink::send_docx(own_codebook::document(book), tx, progress).await;
        }
    };
    own_codebook::write(book, &mut sink).await?;
    sink.finish().await
}

/// The audit log is streamed by the audit module, the Word documents are
/// written whole and the own codebook by [`write_own`], above: none goes
/// through this match.
fn not_rows() -> Result<(), AppError> {
    Err(AppError::Internal(anyhow::anyhow!(
        "this export is not written row by row"
    )))
}

/// The project's first owner, as `concord export` acts, with their name.
pub async fn owner_actor(
    state: &AppState,
    project: ProjectId,
) -> Result<(Actor, String), AppError> {
    let mut conn = state.db.acquire().await?;
    let owner = store::find_owner(&mut conn, project)
        .await?
        .ok_or(AppError::NotFound)?;
    let (found, role) = crate::projects::store::find_membership(&mut conn, project, owner)
        .await?
        .ok_or(AppError::NotFound)?;
    let name = crate::auth::store::get_user(&mut conn, owner)
        .await?
        .display_name;
    debug_assert_eq!(role, Role::Owner);
    let actor = Actor {
        user_id: owner,
        project_id: project,
        project: found,
        role,
    };
    Ok((actor, name))
}
