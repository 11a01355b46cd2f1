//! The import pages and their `/api/v1` twins: a `.qdpx` (or `.qde`) upload
//! becomes a preview, and its confirmation a new project; a `.qdc` adds its
//! codes to a project's shared codebook.
//!
//! Between preview and confirmation the uploaded file waits in Postgres
//! (`refi_import_drafts`, for a day, readable only by whoever uploaded it),
//! since any app instance may serve the confirmation. Confirming reads it
//! back, plans it again (the same bytes give the same plan) and stores the
//! project in one transaction.

use askama::Template;
use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Serialize;

use super::import::{self, Imported, Plan};
use super::import_store as store;
use super::{FileKind, ReadOptions, RefiError};
use crate::auth::session::CurrentUser;
use crate::db::ids::{ImportDraftId, UserId};
use crate::error::{AppError, FieldErrors};
use crate::projects::member::Member;
use crate::projects::model::Role;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::upload::{Upload, read_upload};

/// The message for a refused file: what is wrong, named by the reader.
fn refused(error: RefiError) -> AppError {
    AppError::field("file", error.to_string())
}

fn too_large(file_name: &str, max: usize) -> AppError {
    AppError::field(
        "file",
        format!(
            "{file_name} is larger than the {} MB Concord accepts (--max-upload-bytes).",
            max / (1024 * 1024)
        ),
    )
}

/// Reads a project file for import: a `.qdpx` or a bare `.qde`.
pub fn read_project(file_name: &str, bytes: &[u8]) -> Result<Plan, AppError> {
    let lower = file_name.to_lowercase();
    if lower.ends_with(".qdc") {
        return Err(AppError::field(
            "file",
            format!(
                "{file_name} is a codebook (.qdc), not a project: import it into a project's codebook from that project's Codes page."
            ),
        ));
    }
    let project = super::read(file_name, bytes, &ReadOptions::default()).map_err(refused)?;
    if project.kind == FileKind::Qdc {
        return Err(AppError::field(
            "file",
            format!("{file_name} is a codebook, not a project."),
        ));
    }
    Ok(import::plan(&project, file_name))
}

/// The one uploaded file of a form, within the size limit.
fn one_file(upload: Upload, max: usize) -> Result<(String, Vec<u8>), AppError> {
    let Some(file) = upload.files.into_iter().next() else {
        return Err(AppError::field("file", "Choose a .qdpx or .qde file."));
    };
    let name = if file.file_name.trim().is_empty() {
        "upload.qdpx".to_owned()
    } else {
        file.file_name
    };
    match file.bytes {
        Some(bytes) => Ok((name, bytes)),
        None => Err(too_large(&name, max)),
    }
}

/// Reads and keeps an upload for its preview.
pub async fn upload_draft(
    state: &AppState,
    user: UserId,
    file_name: &str,
    bytes: &[u8],
) -> Result<(ImportDraftId, Plan), AppError> {
    if bytes.len() > state.config.max_upload_bytes {
        return Err(too_large(file_name, state.config.max_upload_bytes));
    }
    let plan = read_project(file_name, bytes)?;
    let mut conn = state.db.acquire().await?;
    let id = store::insert_draft(&mut conn, user, file_name, bytes).await?;
    Ok((id, plan))
}

async fn draft_plan(state: &AppState, user: UserId, id: ImportDraftId) -> Result<Plan, AppError> {
    let mut conn = state.db.acquire().await?;
    let (file_name, bytes) = store::find_draft(&mut conn, user, id)
        .await?
        .ok_or(AppError::NotFound)?;
    read_project(&file_name, &bytes)
}

/// An existing account a file's user may be taken as.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub id: UserId,
    pub name: String,
    pub email: String,
    /// Why it is offered: "the same GUID", "the same name" or "you".
    pub reason: &'static str,
}

/// Who a file's user becomes: a new placeholder account, or one of the
/// accounts offered.
#[derive(Debug, Clone, Serialize)]
pub struct UserChoice {
    pub guid: uuid::Uuid,
    pub name: String,
    pub candidates: Vec<Candidate>,
    /// Taken unless told otherwise: the account with the user's own GUID (the
    /// file is an export of this site), else none (a new account).
    pub default: Option<UserId>,
}

impl UserChoice {
    /// Whether `id` is chosen unless told otherwise.
    pub fn chooses(&self, id: &UserId) -> bool {
        self.default.as_ref() == Some(id)
    }
}

/// The accounts each of the plan's users may be taken as. Whoever imports
/// may take a user as themself; a site admin also as any active account
/// with the user's GUID or name. Codings are attributed to the account
/// chosen, so nobody else may put them under another person's name.
pub async fn choices(
    conn: &mut sqlx::PgConnection,
    importer: UserId,
    is_admin: bool,
    plan: &Plan,
) -> Result<Vec<UserChoice>, AppError> {
    let ids: Vec<uuid::Uuid> = plan.users.iter().map(|u| u.guid).collect();
    let names: Vec<String> = plan
        .users
        .iter()
        .map(|u| u.name.trim().to_lowercase())
        .collect();
    let found = if is_admin {
        store::accounts_like(conn, &ids, &names).await?
    } else {
        Vec::new()
    };
    let me = store::active_account(conn, importer).await?;
    Ok(plan
        .users
        .iter()
        .map(|u| {
            let mut candidates: Vec<Candidate> = found
                .iter()
                .filter_map(|a| {
                    let reason = if a.id.0 == u.guid {
                        "the same GUID"
                    } else if a.display_name.trim().to_lowercase() == u.name.trim().to_lowercase() {
                        "the same name"
                    } else {
                        return None;
                    };
                    Some(Candidate {
                        id: a.id,
                        name: a.display_name.clone(),
                        email: a.email.clone(),
                        reason,
                    })
                })
                .collect();
            if let Some(me) = &me {
                match candidates.iter_mut().find(|c| c.id == me.id) {
                    Some(c) if c.reason != "the same GUID" => c.reason = "you",
                    Some(_) => {}
                    None => candidates.push(Candidate {
                        id: me.id,
                        name: me.display_name.clone(),
                        email: me.email.clone(),
                        reason: if me.id.0 == u.guid {
                            "the same GUID"
                        } else {
                            "you"
                        },
                    }),
                }
            }
            let default = candidates
                .iter()
                .find(|c| c.reason == "the same GUID")
                .map(|c| c.id);
            UserChoice {
                guid: u.guid,
                name: u.name.clone(),
                candidates,
                default,
            }
        })
        .collect())
}

/// The accounts chosen: `given` maps a user's GUID to `"new"` or an offered
/// account's id; a user not named keeps their default. Each account is taken
/// for one user at most.
pub fn resolve(
    choices: &[UserChoice],
    given: &std::collections::HashMap<String, String>,
) -> Result<import::Accounts, AppError> {
    let mut errors = FieldErrors::new();
    for key in given.keys() {
        if !choices.iter().any(|c| c.guid.to_string() == key.trim()) {
            errors.add(&format!("user.{key}"), "No user of the file has this GUID.");
        }
    }
    let mut accounts = import::Accounts::new();
    let mut taken: std::collections::HashMap<UserId, &str> = std::collections::HashMap::new();
    for choice in choices {
        let value = given
            .iter()
            .find(|(k, _)| k.trim() == choice.guid.to_string())
            .map(|(_, v)| v.trim());
        let account = match value {
            None => choice.default,
            Some("new") | Some("") => None,
            Some(v) => match v
                .parse::<UserId>()
                .ok()
                .filter(|id| choice.candidates.iter().any(|c| c.id == *id))
            {
                Some(id) => Some(id),
                None => {
                    errors.add(
                        &format!("user.{}", choice.guid),
                        format!(
                            "Choose a new account or one of the accounts offered for {}.",
                            choice.name
                        ),
                    );
                    None
                }
            },
        };
        if let Some(id) = account {
            if let Some(other) = taken.insert(id, &choice.name) {
                errors.add(
                    &format!("user.{}", choice.guid),
                    format!(
                        "{} and {other} can't both be the same account: each account codes one layer.",
                        choice.name
                    ),
                );
            }
            accounts.insert(choice.guid, id);
        }
    }
    errors.into_result()?;
    Ok(accounts)
}

/// Stores the draft as a new project, owned by `user`, in one transaction
/// that also removes the draft; the file's users are taken as `given` says
/// (see [`resolve`]).
pub async fn confirm_draft(
    state: &AppState,
    user: &crate::auth::model::AuthUser,
    id: ImportDraftId,
    given: &std::collections::HashMap<String, String>,
) -> Result<Imported, AppError> {
    let mut tx = state.begin().await?;
    let (file_name, bytes) = store::find_draft(&mut tx, user.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let plan = read_project(&file_name, &bytes)?;
    let choices = choices(&mut tx, user.id, user.is_admin, &plan).await?;
    let accounts = resolve(&choices, given)?;
    let imported = import::store_plan_as(&mut tx, user.id, &plan, &accounts).await?;
    store::delete_draft(&mut tx, id).await?;
    tx.commit().await?;
    Ok(imported)
}

#[derive(Template)]
#[template(path = "imports/qdpx.html")]
struct QdpxUploadPage {
    layout: Layout,
    max_mb: usize,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "imports/preview.html")]
struct QdpxPreviewPage {
    layout: Layout,
    draft_id: ImportDraftId,
    plan: Plan,
    choices: Vec<UserChoice>,
    errors: FieldErrors,
}

impl QdpxPreviewPage {
    fn choice(&self, guid: &uuid::Uuid) -> Option<&UserChoice> {
        self.choices.iter().find(|c| c.guid == *guid)
    }

    fn error_of(&self, guid: &uuid::Uuid) -> String {
        self.errors
            .0
            .get(&format!("user.{guid}"))
            .map(|e| e.join(" "))
            .unwrap_or_default()
    }
}

pub(super) async fn show_upload(
    State(state): State<AppState>,
    _user: CurrentUser,
    layout: Layout,
) -> Result<Html<String>, AppError> {
    Ok(Html(
        QdpxUploadPage {
            layout,
            max_mb: state.config.max_upload_bytes / (1024 * 1024),
            errors: FieldErrors::new(),
        }
        .render()?,
    ))
}

pub(super) async fn submit_upload(
    State(state): State<AppState>,
    user: CurrentUser,
    layout: Layout,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let max = state.config.max_upload_bytes;
    let result = async {
        let upload = read_upload(multipart, max).await?;
        let (file_name, bytes) = one_file(upload, max)?;
        upload_draft(&state, user.id, &file_name, &bytes).await
    }
    .await;
    match result {
        Ok((id, _)) => Ok(Redirect::to(&format!("/imports/qdpx/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let page = QdpxUploadPage {
                layout,
                max_mb: max / (1024 * 1024),
                errors,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        Err(other) => Err(other),
    }
}

pub(super) async fn show_preview(
    State(state): State<AppState>,
    user: CurrentUser,
    layout: Layout,
    Path(draft_id): Path<ImportDraftId>,
) -> Result<Html<String>, AppError> {
    let plan = draft_plan(&state, user.id, draft_id).await?;
    let mut conn = state.db.acquire().await?;
    let choices = choices(&mut conn, user.id, user.is_admin, &plan).await?;
    Ok(Html(
        QdpxPreviewPage {
            layout,
            draft_id,
            plan,
            choices,
            errors: FieldErrors::new(),
        }
        .render()?,
    ))
}

/// The form's `user.<guid>` fields, by GUID.
fn given_users(fields: &[(String, String)]) -> std::collections::HashMap<String, String> {
    fields
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("user.")?.to_owned(), v.clone())))
        .collect()
}

pub(super) async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    layout: Layout,
    Path(draft_id): Path<ImportDraftId>,
    axum::extract::Form(fields): axum::extract::Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    match confirm_draft(&state, &user, draft_id, &given_users(&fields)).await {
        Ok(imported) => {
            Ok(Redirect::to(&format!("/projects/{}", imported.project_id)).into_response())
        }
        Err(AppError::Invalid(errors)) => {
            let plan = draft_plan(&state, user.id, draft_id).await?;
            let mut conn = state.db.acquire().await?;
            let choices = choices(&mut conn, user.id, user.is_admin, &plan).await?;
            let page = QdpxPreviewPage {
                layout,
                draft_id,
                plan,
                choices,
                errors,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        Err(other) => Err(other),
    }
}

#[derive(Serialize)]
pub struct PreviewJson {
    pub draft_id: ImportDraftId,
    pub confirm: String,
    pub preview: Plan,
    /// Who each user of the file may become; send `{"users": {"<guid>":
    /// "new" | "<account id>"}}` to the confirmation to choose.
    pub users: Vec<UserChoice>,
}

pub(super) async fn api_upload(
    State(state): State<AppState>,
    user: CurrentUser,
    multipart: Multipart,
) -> Result<(StatusCode, Json<PreviewJson>), AppError> {
    let max = state.config.max_upload_bytes;
    let upload = read_upload(multipart, max).await?;
    let (file_name, bytes) = one_file(upload, max)?;
    let (draft_id, preview) = upload_draft(&state, user.id, &file_name, &bytes).await?;
    let mut conn = state.db.acquire().await?;
    let users = choices(&mut conn, user.id, user.is_admin, &preview).await?;
    Ok((
        StatusCode::CREATED,
        Json(PreviewJson {
            draft_id,
            confirm: format!("/api/v1/imports/qdpx/{draft_id}/confirm"),
            preview,
            users,
        }),
    ))
}

pub(super) async fn api_preview(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(draft_id): Path<ImportDraftId>,
) -> Result<Json<PreviewJson>, AppError> {
    let preview = draft_plan(&state, user.id, draft_id).await?;
    let mut conn = state.db.acquire().await?;
    let users = choices(&mut conn, user.id, user.is_admin, &preview).await?;
    Ok(Json(PreviewJson {
        draft_id,
        confirm: format!("/api/v1/imports/qdpx/{draft_id}/confirm"),
        preview,
        users,
    }))
}

/// The confirmation's body (optional): who each user becomes.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    #[serde(default)]
    pub users: std::collections::HashMap<String, String>,
}

pub(super) async fn api_confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(draft_id): Path<ImportDraftId>,
    body: Option<Json<ConfirmBody>>,
) -> Result<(StatusCode, Json<Imported>), AppError> {
    let body = body.map(|Json(b)| b).unwrap_or_default();
    Ok((
        StatusCode::CREATED,
        Json(confirm_draft(&state, &user, draft_id, &body.users).await?),
    ))
}

// The codebook import into an existing project.

#[derive(Template)]
#[template(path = "imports/qdc.html")]
struct QdcImportPage {
    layout: Layout,
    member: Member,
    errors: FieldErrors,
    outcome: Option<super::codebook_import::CodebookImported>,
}

pub(super) async fn show_qdc(member: Member, layout: Layout) -> Result<Html<String>, AppError> {
    member.require(&[Role::Lead])?;
    Ok(Html(
        QdcImportPage {
            layout,
            member,
            errors: FieldErrors::new(),
            outcome: None,
        }
        .render()?,
    ))
}

async fn qdc_upload(
    state: &AppState,
    member: &Member,
    multipart: Multipart,
) -> Result<super::codebook_import::CodebookImported, AppError> {
    member.require(&[Role::Lead])?;
    member.require_active()?;
    let max = state.config.max_upload_bytes;
    let upload = read_upload(multipart, max).await?;
    let Some(file) = upload.files.into_iter().next() else {
        return Err(AppError::field("file", "Choose a .qdc file."));
    };
    let Some(bytes) = file.bytes else {
        return Err(too_large(&file.file_name, max));
    };
    super::codebook_import::import(state, member, &file.file_name, &bytes).await
}

pub(super) async fn submit_qdc(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    multipart: Multipart,
) -> Result<Response, AppError> {
    match qdc_upload(&state, &member, multipart).await {
        Ok(outcome) => Ok(Html(
            QdcImportPage {
                layout,
                member,
                errors: FieldErrors::new(),
                outcome: Some(outcome),
            }
            .render()?,
        )
        .into_response()),
        Err(AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Html(
                QdcImportPage {
                    layout,
                    member,
                    errors,
                    outcome: None,
                }
                .render()?,
            ),
        )
            .into_response()),
        Err(other) => Err(other),
    }
}

pub(super) async fn api_qdc(
    State(state): State<AppState>,
    member: Member,
    multipart: Multipart,
) -> Result<Json<super::codebook_import::CodebookImported>, AppError> {
    Ok(Json(qdc_upload(&state, &member, multipart).await?))
}

/// `concord import-qdpx FILE [--owner EMAIL]`: prints the preview, then
/// imports, as the owner named (by default the site's first admin).
pub async fn run_cli(
    pool: &sqlx::PgPool,
    max_upload_bytes: usize,
    file: &std::path::Path,
    owner: Option<&str>,
) -> anyhow::Result<Imported> {
    use anyhow::Context;
    let size = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    let file_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "upload.qdpx".into());
    let message = |e: AppError| match e {
        AppError::Invalid(errors) => anyhow::anyhow!(
            "{}",
            errors
                .0
                .values()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        ),
        AppError::State(detail) => anyhow::anyhow!("{detail}"),
        other => anyhow::anyhow!("{other:#}"),
    };
    if size > max_upload_bytes as u64 {
        return Err(message(too_large(&file_name, max_upload_bytes)));
    }
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let plan = read_project(&file_name, &bytes).map_err(message)?;
    print!("{}", preview_text(&plan));
    let mut tx = pool.begin().await?;
    let owner_id = store::find_owner(&mut tx, owner)
        .await?
        .with_context(|| match owner {
            Some(email) => format!("no active account has the address {email}"),
            None => "the site has no admin yet: name the owner with --owner EMAIL".into(),
        })?;
    // The command line has the site's rights: a user whose GUID is an
    // account of this site (an export of it) is taken as that account.
    let choices = choices(&mut tx, owner_id, true, &plan)
        .await
        .map_err(message)?;
    for c in &choices {
        if let Some(account) = c.candidates.iter().find(|a| Some(a.id) == c.default) {
            println!(
                "{} is taken as the account {} ({}): the same GUID.",
                c.name, account.name, account.email
            );
        }
    }
    let accounts = resolve(&choices, &Default::default()).map_err(message)?;
    let imported = import::store_plan_as(&mut tx, owner_id, &plan, &accounts)
        .await
        .map_err(message)?;
    tx.commit().await?;
    println!(
        "Imported as project {} ({} transcripts, {} participants, {} codes, {} coders, {} codings).",
        imported.project_id,
        imported.transcripts,
        imported.participants,
        imported.codes,
        imported.coders,
        imported.codings
    );
    Ok(imported)
}

/// The preview as plain text, for the command line.
pub fn preview_text(plan: &Plan) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}{}) → new project {:?}",
        plan.file_name,
        match plan.kind {
            FileKind::Qdpx => ".qdpx",
            FileKind::Qde => ".qde",
            FileKind::Qdc => ".qdc",
        },
        plan.origin
            .as_deref()
            .map(|o| format!(", from {o}"))
            .unwrap_or_default(),
        plan.project_name
    );
    match &plan.convention {
        Some(c) => {
            let _ = writeln!(
                out,
                "{}",
                crate::messages::offsets_read_as(c.description, &c.reason)
            );
        }
        None => {
            let _ = writeln!(out, "Offsets: no selection with its text to read.");
        }
    }
    let _ = writeln!(out, "Sources ({}):", plan.sources.len());
    for s in &plan.sources {
        let _ = writeln!(
            out,
            "  {} · {} characters, {} coded selection(s){}{}",
            s.title,
            s.characters,
            s.selections,
            s.participant
                .as_deref()
                .map(|p| format!(", participant {p}"))
                .unwrap_or_default(),
            s.note
                .as_deref()
                .map(|n| format!(" · {n}"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(out, "Coders ({}):", plan.users.len());
    for u in &plan.users {
        let _ = writeln!(
            out,
            "  {} · {} coding(s) in {} transcript(s)",
            u.name, u.codings, u.transcripts
        );
    }
    let _ = writeln!(
        out,
        "Codes: {} · participants: {} · variables: {} · codings: {} · memos on the project: {}",
        plan.codes.len(),
        plan.participants.len(),
        plan.variables.len(),
        plan.coding_count,
        plan.memos.len()
    );
    if !plan.not_mapped.is_empty() {
        let _ = writeln!(out, "Not mapped:");
        for n in &plan.not_mapped {
            let _ = writeln!(out, "  - {n}");
        }
    }
    out
}
