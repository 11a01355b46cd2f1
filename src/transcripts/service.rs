//! Importing, editing and deleting transcripts; shared by pages, API and CLI.

use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use super::store::{self, NewTranscript, TextChange, Transcript};
use crate::db::audit::{self, Action, Change};
use crate::db::ids::{ParticipantId, ProjectId, TranscriptId, UserId};
use crate::error::{AppError, FieldErrors};
use crate::import::{
    self, Encoding, ImportError, ImportOptions, ParsedTranscript, SourceKind, Turn,
};
use crate::projects::member::Actor;
use crate::projects::model::Role;

/// Which participant a file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParticipantChoice {
    /// Found from a label in the file name, if any.
    FromFileName,
    None,
    Given(ParticipantId),
}

impl ParticipantChoice {
    /// `""`/`auto`: from the file name; `none`; or a participant id.
    pub fn parse(input: Option<&str>) -> Result<Self, AppError> {
        match input.map(str::trim).unwrap_or("") {
            "" | "auto" => Ok(Self::FromFileName),
            "none" => Ok(Self::None),
            id => id.parse().map(Self::Given).map_err(|_| {
                AppError::field("participant_id", crate::messages::NO_SUCH_PARTICIPANT)
            }),
        }
    }
}

/// `auto` (or nothing) detects the encoding; anything else must name one
/// Concord reads (`utf-8`, `windows-1255`, `gb2312`, `utf-32le`...).
pub fn parse_encoding(input: Option<&str>) -> Result<Option<Encoding>, AppError> {
    match input.map(str::trim) {
        None | Some("") => Ok(None),
        Some(auto) if auto.eq_ignore_ascii_case("auto") => Ok(None),
        Some(label) => Encoding::for_label(label).map(Some).ok_or_else(|| {
            AppError::field(
                "encoding",
                format!("Concord doesn't know the encoding '{label}'. Choose one from the list."),
            )
        }),
    }
}

/// The names the importer said are not speakers: every `not_speaker` field.
pub fn not_speakers(upload: &crate::web::upload::Upload) -> Vec<String> {
    upload
        .fields
        .iter()
        .filter(|(name, value)| name == "not_speaker" && !value.trim().is_empty())
        .map(|(_, value)| value.trim().to_owned())
        .collect()
}

/// The outcome for one file of a batch.
#[derive(Debug, Clone, Serialize)]
pub struct FileOutcome {
    pub file_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript_id: Option<TranscriptId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub word_count: Option<i32>,
    pub warnings: Vec<String>,
    /// What went wrong; nothing of the file was stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The file is not UTF-8: import it again choosing an encoding.
    pub needs_encoding: bool,
    /// The likeliest encoding, when `needs_encoding`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested_encoding: Option<Encoding>,
}

impl FileOutcome {
    fn failed(file_name: &str, error: impl Into<String>) -> Self {
        Self {
            file_name: file_name.to_owned(),
            transcript_id: None,
            participant_label: None,
            word_count: None,
            warnings: Vec::new(),
            error: Some(error.into()),
            needs_encoding: false,
            suggested_encoding: None,
        }
    }

    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }
}

pub struct FileImport<'a> {
    pub file_name: &'a str,
    /// None when the upload was over the size limit.
    pub bytes: Option<&'a [u8]>,
    pub participant: ParticipantChoice,
    pub encoding: Option<Encoding>,
    /// Names found as speakers that the importer dropped.
    pub not_speakers: &'a [String],
}

/// Words, leaving out speaker labels.
pub fn count_words(text: &str, turns: &[Turn]) -> i32 {
    let total = text.split_whitespace().count();
    let chars: Vec<char> = if turns.iter().any(|t| t.label_end.is_some()) {
        text.chars().collect()
    } else {
        Vec::new()
    };
    let in_labels: usize = turns
        .iter()
        .filter_map(|t| {
            let end = t.label_end?.min(chars.len());
            let label: String = chars.get(t.start..end)?.iter().collect();
            Some(label.split_whitespace().count())
        })
        .sum();
    i32::try_from(total.saturating_sub(in_labels)).unwrap_or(i32::MAX)
}

fn title_of(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let stem = base
        .rsplit_once('.')
        .map(|(s, _)| s)
        .filter(|s| !s.is_empty())
        .unwrap_or(base);
    let title = stem.trim();
    if title.is_empty() {
        "Untitled transcript".into()
    } else {
        title.chars().take(200).collect()
    }
}

fn kind_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Txt => "txt",
        SourceKind::Markdown => "markdown",
        SourceKind::Docx => "docx",
        SourceKind::Vtt => "vtt",
        SourceKind::Srt => "srt",
    }
}

/// Imports one file: parsed, canonicalised, checked against duplicates, then
/// stored with its audit row in one transaction. Any problem is reported for
/// this file and stores nothing.
#[tracing::instrument(skip_all, fields(%project_id, file_name = file.file_name))]
pub async fn import_file(
    db: &PgPool,
    project_id: ProjectId,
    actor: Option<UserId>,
    file: FileImport<'_>,
    max_bytes: usize,
) -> FileOutcome {
    match import_file_inner(db, project_id, actor, &file, max_bytes).await {
        Ok(outcome) => outcome,
        Err(Failure::Import(error)) => {
            let suggested_encoding = match error {
                ImportError::EncodingChoiceNeeded { suggestion, .. } => Some(suggestion),
                _ => None,
            };
            FileOutcome {
                needs_encoding: suggested_encoding.is_some(),
                suggested_encoding,
                ..FileOutcome::failed(file.file_name, error.to_string())
            }
        }
        Err(Failure::Message(message)) => FileOutcome::failed(file.file_name, message),
        Err(Failure::App(error)) => {
            tracing::error!(error = %error, "importing a transcript");
            FileOutcome::failed(
                file.file_name,
                "Something went wrong on our side; the file was not imported.",
            )
        }
    }
}

pub(super) enum Failure {
    Import(ImportError),
    Message(String),
    App(AppError),
}

impl From<AppError> for Failure {
    fn from(error: AppError) -> Self {
        Self::App(error)
    }
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Self {
        Self::App(error.into())
    }
}

async fn import_file_inner(
    db: &PgPool,
    project_id: ProjectId,
    actor: Option<UserId>,
    file: &FileImport<'_>,
    max_bytes: usize,
) -> Result<FileOutcome, Failure> {
    let (kind, parsed) = parse_file(file, max_bytes).await?;

    let mut tx = db.begin().await?;
    if let Some(title) = store::find_duplicate(&mut tx, project_id, &parsed.sha256).await? {
        return Err(Failure::Message(format!(
            "The project has this text already, as '{title}'. Nothing was imported."
        )));
    }
    let labels = store::participant_labels(&mut tx, project_id).await?;
    let participant = match file.participant {
        ParticipantChoice::None => None,
        ParticipantChoice::Given(id) => Some(
            labels
                .iter()
                .find(|(pid, _)| *pid == id)
                .cloned()
                .ok_or_else(|| {
                    Failure::Message("The chosen participant is not in this project.".into())
                })?,
        ),
        ParticipantChoice::FromFileName => {
            let names: Vec<&str> = labels.iter().map(|(_, l)| l.as_str()).collect();
            import::guess_participant_label(file.file_name, &names)
                .and_then(|label| labels.iter().find(|(_, l)| *l == label).cloned())
        }
    };
    let word_count = count_words(&parsed.text, &parsed.turns);
    let encoding = parsed.encoding.map(|e| e.to_string());
    let title = title_of(file.file_name);
    let char_count = i32::try_from(parsed.char_count)
        .map_err(|_| Failure::Message(crate::messages::TEXT_TOO_LONG.into()))?;
    let id = store::insert_transcript(
        &mut tx,
        project_id,
        NewTranscript {
            participant_id: participant.as_ref().map(|(id, _)| *id),
            title: &title,
            file_name: file.file_name,
            source_kind: kind_name(kind),
            encoding: encoding.as_deref(),
            text: &parsed.text,
            sha256: &parsed.sha256,
            char_count,
            word_count,
            turns: &parsed.turns,
            warnings: &parsed.warnings,
            metadata: &parsed.metadata,
            created_by: actor,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        Change::new(actor, Action::TranscriptImported)
            .project(project_id)
            .entity(id.0)
            .after(&serde_json::json!({
                "title": title,
                "file_name": file.file_name,
                "sha256": parsed.sha256,
                "char_count": char_count,
                "participant": participant.as_ref().map(|(_, l)| l),
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(FileOutcome {
        file_name: file.file_name.to_owned(),
        transcript_id: Some(id),
        participant_label: participant.map(|(_, l)| l),
        word_count: Some(word_count),
        warnings: parsed.warnings,
        error: None,
        needs_encoding: false,
        suggested_encoding: None,
    })
}

/// Reads and parses one upload off the async runtime.
pub(super) async fn parse_file(
    file: &FileImport<'_>,
    max_bytes: usize,
) -> Result<(SourceKind, ParsedTranscript), Failure> {
    let bytes = file.bytes.ok_or_else(|| {
        Failure::Message(format!(
            "The file is larger than {} MB.",
            max_bytes / (1024 * 1024)
        ))
    })?;
    let kind = import::detect_kind(file.file_name).map_err(Failure::Import)?;
    let options = ImportOptions {
        encoding: file.encoding,
        not_speakers: file.not_speakers.to_vec(),
        ..ImportOptions::default()
    };
    let owned = bytes.to_vec();
    let parsed: ParsedTranscript =
        tokio::task::spawn_blocking(move || import::parse_transcript(&owned, kind, &options))
            .await
            .map_err(|e| Failure::App(AppError::Internal(e.into())))?
            .map_err(Failure::Import)?;
    Ok((kind, parsed))
}

/// Imports every file of an upload, one after the other, each in its own
/// transaction: each gets its own outcome, and a refused file takes nothing
/// of the others with it.
pub async fn import_upload(
    db: &PgPool,
    actor: &Actor,
    max_bytes: usize,
    upload: &crate::web::upload::Upload,
    participant: ParticipantChoice,
    encoding: Option<Encoding>,
) -> Vec<FileOutcome> {
    let mut outcomes = Vec::new();
    let not_speakers = not_speakers(upload);
    for file in &upload.files {
        let import = FileImport {
            file_name: &file.file_name,
            bytes: file.bytes.as_deref(),
            participant,
            encoding,
            not_speakers: &not_speakers,
        };
        outcomes
            .push(import_file(db, actor.project_id, Some(actor.user_id), import, max_bytes).await);
    }
    outcomes
}

pub fn require_manager(actor: &Actor) -> Result<(), AppError> {
    actor.require(&[Role::Lead])?;
    actor.require_active()
}

pub struct TranscriptEdit<'a> {
    pub title: &'a str,
    pub participant_id: Option<ParticipantId>,
    /// New text, or None to keep it.
    pub text: Option<&'a str>,
    pub version: i32,
}

/// Changes title, participant and (while nothing is coded in it) the text.
pub async fn update_transcript(
    conn: &mut PgConnection,
    actor: &Actor,
    id: TranscriptId,
    edit: TranscriptEdit<'_>,
) -> Result<Transcript, AppError> {
    require_manager(actor)?;
    let mut errors = FieldErrors::new();
    let title = edit.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        errors.add(
            "title",
            "Give the transcript a title of at most 200 characters.",
        );
    }
    let parsed = match edit.text {
        Some(text) => match import::parse_text(text.as_bytes(), Some(Encoding::UTF_8)) {
            Ok(parsed) => Some(parsed),
            Err(error) => {
                errors.add("text", error.to_string());
                None
            }
        },
        None => None,
    };
    errors.into_result()?;
    let before = store::get_transcript(&mut *conn, actor.project_id, id).await?;
    if before.deleted_at.is_some() {
        return Err(AppError::NotFound);
    }
    if let Some(pid) = edit.participant_id {
        let labels = store::participant_labels(&mut *conn, actor.project_id).await?;
        if !labels.iter().any(|(p, _)| *p == pid) {
            return Err(AppError::field(
                "participant_id",
                crate::messages::NO_SUCH_PARTICIPANT,
            ));
        }
    }
    let parsed = parsed.filter(|p| p.sha256 != before.sha256);
    // An edited text keeps its headers and footers; comments keep their
    // words but no longer point into it.
    let mut metadata = before.metadata.0.clone();
    for comment in &mut metadata.comments {
        comment.span = None;
    }
    let change = match &parsed {
        Some(p) => Some(TextChange {
            text: &p.text,
            sha256: &p.sha256,
            char_count: i32::try_from(p.char_count)
                .map_err(|_| AppError::field("text", crate::messages::TEXT_TOO_LONG))?,
            word_count: count_words(&p.text, &p.turns),
            turns: &p.turns,
            metadata: &metadata,
        }),
        None => None,
    };
    if !store::update_transcript(
        &mut *conn,
        actor.project_id,
        id,
        title,
        edit.participant_id,
        change,
        edit.version,
    )
    .await?
    {
        return Err(AppError::stale(&summary_json(&before)));
    }
    let after = store::get_transcript(&mut *conn, actor.project_id, id).await?;
    audit::record(
        &mut *conn,
        Change::new(Some(actor.user_id), Action::TranscriptUpdated)
            .project(actor.project_id)
            .entity(id.0)
            .before(&summary_json(&before))
            .after(&summary_json(&after)),
    )
    .await?;
    Ok(after)
}

/// What the audit log keeps of a transcript: not the text, its hash.
fn summary_json(t: &Transcript) -> serde_json::Value {
    serde_json::json!({
        "title": t.title,
        "participant_id": t.participant_id,
        "sha256": t.sha256,
        "char_count": t.char_count,
        "version": t.version,
    })
}

pub async fn set_deleted(
    conn: &mut PgConnection,
    actor: &Actor,
    id: TranscriptId,
    deleted: bool,
) -> Result<(), AppError> {
    if deleted {
        require_manager(actor)?;
    } else {
        // Undoing a delete is the owner's.
        actor.require(&[Role::Owner])?;
        actor.require_active()?;
    }
    let before = store::get_transcript(&mut *conn, actor.project_id, id).await?;
    // Restoring a text that was imported again meanwhile would make a duplicate.
    if !deleted
        && before.deleted_at.is_some()
        && let Some(title) =
            store::find_duplicate(&mut *conn, actor.project_id, &before.sha256).await?
    {
        return Err(AppError::State(format!(
            "The project has this text already, as '{title}'."
        )));
    }
    if store::set_deleted(&mut *conn, actor.project_id, id, deleted).await? {
        let action = if deleted {
            Action::TranscriptDeleted
        } else {
            Action::TranscriptRestored
        };
        audit::record(
            &mut *conn,
            Change::new(Some(actor.user_id), action)
                .project(actor.project_id)
                .entity(id.0)
                .before(&summary_json(&before)),
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_counts_leave_out_speaker_labels() {
        let text = "Interviewer: How long?\nP01: Five years now.";
        let turns = vec![
            Turn {
                speaker: Some("Interviewer".into()),
                start: 0,
                end: 22,
                label_end: Some(13),
                ..Turn::default()
            },
            Turn {
                speaker: Some("P01".into()),
                start: 23,
                end: 43,
                label_end: Some(28),
                ..Turn::default()
            },
        ];
        assert_eq!(count_words(text, &turns), 5);
        assert_eq!(count_words("one two  three", &[]), 3);
    }

    #[test]
    fn titles_come_from_file_names() {
        assert_eq!(title_of("P07 interview.docx"), "P07 interview");
        assert_eq!(title_of("dir/x.txt"), "x");
        assert_eq!(title_of(".txt"), ".txt");
    }

    #[test]
    fn participant_choices_parse() {
        assert_eq!(
            ParticipantChoice::parse(None).unwrap(),
            ParticipantChoice::FromFileName
        );
        assert_eq!(
            ParticipantChoice::parse(Some("none")).unwrap(),
            ParticipantChoice::None
        );
        assert!(ParticipantChoice::parse(Some("P01")).is_err());
    }
}
