//! The project's audit log, for owners: newest first, paged, filtered by
//! person, kind of change, transcript and dates, readable (names, not ids;
//! the fields that changed) and downloadable as CSV.

pub mod store;
pub mod view;

use std::collections::HashSet;

use askama::Template;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime};

use crate::coding::blinding::Viewer;
use crate::db::audit::Action;
use crate::db::ids::{ProjectId, TranscriptId, UserId};
use crate::error::{AppError, FieldErrors};
use crate::projects::member::{Actor, Member};
use crate::projects::model::Role;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::extract::{Json, Query};
use crate::web::routes::Routes;
use store::{AuditEntry, Filter, Window};
use view::FieldChange;

const PAGE_SIZE: i64 = 50;
/// Rows read per query while the CSV is streamed.
const CSV_CHUNK: i64 = 500;

pub fn routes() -> Routes {
    Routes::new()
        .route("/projects/{project_id}/audit", get(show_audit_log))
        .route("/projects/{project_id}/audit.csv", get(download_audit_csv))
        .route(
            "/api/v1/projects/{project_id}/audit",
            get(list_audit_events),
        )
}

/// The page number and the filters, as the form sends them (empty: any).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default = "first_page")]
    page: i64,
    #[serde(default)]
    person: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    transcript: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

fn first_page() -> i64 {
    1
}

impl AuditQuery {
    /// The filters as a query string (no page), for the pager and the CSV link.
    fn filters(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("person", &self.person),
            ("kind", &self.kind),
            ("transcript", &self.transcript),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !value.trim().is_empty() {
                out.append_pair(name, value.trim());
            }
        }
        out.finish()
    }
}

/// `YYYY-MM-DD`, as date inputs send it.
fn parse_date(errors: &mut FieldErrors, field: &str, input: &str) -> Option<Date> {
    let input = input.trim();
    if input.is_empty() {
        return None;
    }
    let parts: Vec<&str> = input.split('-').collect();
    let date = match parts[..] {
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            match (y.parse::<i32>(), m.parse::<u8>(), d.parse::<u8>()) {
                (Ok(y), Ok(m), Ok(d)) => Month::try_from(m)
                    .ok()
                    .and_then(|m| Date::from_calendar_date(y, m, d).ok()),
                _ => None,
            }
        }
        _ => None,
    };
    if date.is_none() {
        errors.add(field, "Write a date that exists, as YYYY-MM-DD.");
    }
    date
}

/// Checks every filter against the project; all problems at once, by field.
async fn parse_filter(
    conn: &mut sqlx::PgConnection,
    project_id: ProjectId,
    query: &AuditQuery,
) -> Result<Filter, AppError> {
    let mut errors = FieldErrors::new();
    let mut filter = Filter::default();
    let person = query.person.trim();
    if !person.is_empty() {
        match person.parse::<UserId>() {
            Ok(id) if store::user_exists(conn, id).await? => filter.actor = Some(id),
            _ => errors.add("person", "Choose a person from the list."),
        }
    }
    let kind = query.kind.trim();
    if !kind.is_empty() {
        if view::is_kind(kind) {
            filter.kind = Some(kind.to_owned());
        } else {
            errors.add("kind", "Choose a kind of change from the list.");
        }
    }
    let transcript = query.transcript.trim();
    if !transcript.is_empty() {
        let known = store::list_transcripts(conn, project_id).await?;
        match transcript.parse::<TranscriptId>() {
            Ok(id) if known.iter().any(|(t, _)| *t == id) => filter.transcript = Some(id),
            _ => errors.add("transcript", "Choose a transcript of this project."),
        }
    }
    let from = parse_date(&mut errors, "from", &query.from);
    let to = parse_date(&mut errors, "to", &query.to);
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        errors.add("to", "The last day comes after the first.");
    }
    errors.into_result()?;
    // Whole days in UTC, both ends included.
    filter.from = from.map(|d| d.midnight().assume_utc());
    filter.until = to
        .and_then(|d| d.next_day())
        .map(|d| d.midnight().assume_utc());
    Ok(filter)
}

/// An event with what people read: names instead of ids, the fields that changed.
#[derive(Debug, Clone, Serialize)]
pub struct ReadableEntry {
    #[serde(flatten)]
    pub entry: AuditEntry,
    pub action_label: String,
    /// The kind of thing changed, in words ("agreed code").
    pub entity_kind: String,
    pub entity_name: Option<String>,
    /// With both sides recorded, the fields that differ; with one, its fields.
    pub changes: Vec<FieldChange>,
    /// Whether both before and after were recorded (and hold something to show).
    pub compared: bool,
}

impl ReadableEntry {
    pub fn who(&self) -> &str {
        self.entry.actor_name.as_deref().unwrap_or("system")
    }

    pub fn sentences(&self) -> Vec<String> {
        self.changes
            .iter()
            .map(|c| c.sentence(self.compared))
            .collect()
    }

    fn when(&self) -> String {
        let t = self.entry.created_at;
        format!(
            "{} {:02}:{:02}:{:02}",
            t.date(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

/// Names every id the entries mention (one query) and reads each entry.
async fn readable(
    conn: &mut sqlx::PgConnection,
    project_id: ProjectId,
    entries: Vec<AuditEntry>,
) -> Result<Vec<ReadableEntry>, AppError> {
    let mut ids = HashSet::new();
    for e in &entries {
        ids.extend(e.entity_id);
        for side in [&e.before, &e.after].into_iter().flatten() {
            view::ids_in(side, &mut ids);
        }
    }
    let ids: Vec<uuid::Uuid> = ids.into_iter().collect();
    let names: view::Names = store::names(conn, project_id, &ids)
        .await?
        .into_iter()
        .collect();
    Ok(entries
        .into_iter()
        .map(|entry| {
            let (before, after) = (entry.before.as_ref(), entry.after.as_ref());
            let (changes, compared) = view::changes(before, after, &names);
            ReadableEntry {
                action_label: view::action_label(&entry.action),
                entity_kind: view::kind_label(&entry.entity_type),
                entity_name: view::entity_name(
                    &entry.entity_type,
                    entry.entity_id,
                    before,
                    after,
                    &names,
                ),
                changes,
                compared,
                entry,
            }
        })
        .collect())
}

/// Owners read the log, but not while they are still coding a transcript of
/// the project: it names every coder's codes and codings (invariant 3).
async fn require_reader(conn: &mut sqlx::PgConnection, actor: &Actor) -> Result<(), AppError> {
    actor.require(&[Role::Owner])?;
    if Viewer::of(conn, actor).await?.is_blind_anywhere() {
        return Err(AppError::State(crate::messages::AUDIT_LOG_BLIND.into()));
    }
    Ok(())
}

#[derive(Serialize)]
pub struct AuditPage {
    page: i64,
    has_next: bool,
    events: Vec<ReadableEntry>,
}

async fn load(
    conn: &mut sqlx::PgConnection,
    actor: &Actor,
    query: &AuditQuery,
) -> Result<AuditPage, AppError> {
    require_reader(conn, actor).await?;
    let page = query.page;
    if !(1..=1_000_000).contains(&page) {
        return Err(AppError::field("page", "Pages are numbered from 1."));
    }
    let filter = parse_filter(conn, actor.project_id, query).await?;
    let window = Window {
        before_id: None,
        offset: (page - 1) * PAGE_SIZE,
        limit: PAGE_SIZE,
    };
    let mut events = store::list_project_events(conn, actor.project_id, &filter, window).await?;
    let has_next = events.len() as i64 > PAGE_SIZE;
    events.truncate(PAGE_SIZE as usize);
    Ok(AuditPage {
        page,
        has_next,
        events: readable(conn, actor.project_id, events).await?,
    })
}

#[derive(Template)]
#[template(path = "projects/audit.html")]
pub struct AuditLogPage {
    layout: Layout,
    member: Member,
    log: AuditPage,
    query: AuditQuery,
    /// The filters as a query string, for the pager and the CSV link.
    filters: String,
    people: Vec<(UserId, String)>,
    transcripts: Vec<(TranscriptId, String)>,
    kinds: Vec<(&'static str, String, Vec<Action>)>,
}

impl AuditLogPage {
    fn label(action: &Action) -> &'static str {
        view::label(*action)
    }

    fn page_link(&self, page: i64) -> String {
        if self.filters.is_empty() {
            format!("?page={page}")
        } else {
            format!("?{}&page={page}", self.filters)
        }
    }

    fn csv_link(&self) -> String {
        let base = format!("/projects/{}/audit.csv", self.member.project_id);
        if self.filters.is_empty() {
            base
        } else {
            format!("{base}?{}", self.filters)
        }
    }
}

pub async fn show_audit_log(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Query(query): Query<AuditQuery>,
) -> Result<Html<String>, AppError> {
    let mut conn = state.db.acquire().await?;
    let log = load(&mut conn, &member.actor(), &query).await?;
    let people = store::list_actors(&mut conn, member.project_id).await?;
    let transcripts = store::list_transcripts(&mut conn, member.project_id).await?;
    drop(conn);
    Ok(Html(
        AuditLogPage {
            layout,
            filters: query.filters(),
            member,
            log,
            query,
            people,
            transcripts,
            kinds: view::kinds(),
        }
        .render()?,
    ))
}

pub async fn list_audit_events(
    State(state): State<AppState>,
    member: Member,
    Query(query): Query<AuditQuery>,
) -> Result<Json<AuditPage>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(load(&mut conn, &member.actor(), &query).await?))
}

const CSV_HEADER: [&str; 11] = [
    "when_utc",
    "who",
    "action",
    "what",
    "thing",
    "name",
    "transcript",
    "changes",
    "who_id",
    "entity_id",
    "transcript_id",
];

/// A cell a spreadsheet would run as a formula gets a leading quote.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// Walks the filtered log from the newest event, one chunk per query.
struct CsvChunks {
    state: AppState,
    project_id: ProjectId,
    filter: Filter,
    before_id: Option<i64>,
    started: bool,
    done: bool,
}

impl CsvChunks {
    async fn next(&mut self) -> Result<Option<Vec<u8>>, AppError> {
        if self.done {
            return Ok(None);
        }
        let mut conn = self.state.db.acquire().await?;
        let window = Window {
            before_id: self.before_id,
            offset: 0,
            limit: CSV_CHUNK,
        };
        let mut rows =
            store::list_project_events(&mut conn, self.project_id, &self.filter, window).await?;
        self.done = rows.len() as i64 <= CSV_CHUNK;
        rows.truncate(CSV_CHUNK as usize);
        self.before_id = rows.last().map(|r| r.id);
        let rows = readable(&mut conn, self.project_id, rows).await?;
        drop(conn);
        let mut writer = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        let csv_error = |e: csv::Error| {
            AppError::Internal(anyhow::Error::new(e).context("writing the audit CSV"))
        };
        if !self.started {
            writer.write_record(CSV_HEADER).map_err(csv_error)?;
            self.started = true;
        }
        for e in &rows {
            let created = e
                .entry
                .created_at
                .format(&time::format_description::well_known::Rfc3339)
                .map_err(|e| AppError::Internal(e.into()))?;
            let id = |v: Option<String>| v.unwrap_or_default();
            writer
                .write_record([
                    created,
                    cell(e.who()),
                    e.entry.action.clone(),
                    cell(&e.action_label),
                    e.entity_kind.clone(),
                    cell(e.entity_name.as_deref().unwrap_or_default()),
                    cell(e.entry.transcript_title.as_deref().unwrap_or_default()),
                    cell(&e.sentences().join("; ")),
                    id(e.entry.actor_id.map(|i| i.to_string())),
                    id(e.entry.entity_id.map(|i| i.to_string())),
                    id(e.entry.transcript_id.map(|i| i.to_string())),
                ])
                .map_err(csv_error)?;
        }
        let bytes = writer
            .into_inner()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("writing the audit CSV: {e}")))?;
        Ok(Some(bytes))
    }
}

/// The filtered log (the page's query, every page of it) as CSV, streamed in chunks.
pub async fn download_audit_csv(
    State(state): State<AppState>,
    member: Member,
    Query(query): Query<AuditQuery>,
) -> Result<Response, AppError> {
    let stream = csv_stream(state, &member.actor(), &query).await?;
    let today = OffsetDateTime::now_utc().date();
    let disposition = format!(
        "attachment; filename=\"audit-{}-{today}.csv\"",
        member.project_id
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// The CSV's chunks, once the member may read the log and the filters are
/// good (the Exports page and `concord export` stream it too).
pub async fn csv_stream(
    state: AppState,
    actor: &Actor,
    query: &AuditQuery,
) -> Result<
    impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static,
    AppError,
> {
    let mut conn = state.db.acquire().await?;
    require_reader(&mut conn, actor).await?;
    let filter = parse_filter(&mut conn, actor.project_id, query).await?;
    drop(conn);
    let chunks = CsvChunks {
        state,
        project_id: actor.project_id,
        filter,
        before_id: None,
        started: false,
        done: false,
    };
    Ok(futures_util::stream::try_unfold(
        chunks,
        |mut chunks| async move {
            match chunks.next().await {
                Ok(Some(bytes)) => Ok(Some((bytes, chunks))),
                Ok(None) => Ok(None),
                Err(error) => {
                    // The status is sent already: the download ends short, and says so here.
                    tracing::error!(%error, "audit CSV cut short");
                    Err(std::io::Error::other(
                        "the audit CSV could not be read to the end",
                    ))
                }
            }
        },
    ))
}
