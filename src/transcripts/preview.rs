//! The import preview: what a file will become, before anything is stored.
//!
//! The browser sends each chosen file here first, shows the result, and
//! sends the file again to import it with what the importer chose (the
//! encoding, the speakers to drop). Nothing is kept between the two
//! requests, so any app instance can answer either.

use serde::Serialize;
use sqlx::PgPool;

use super::service::{self, Failure, FileImport, ParticipantChoice, count_words};
use super::store;
use crate::db::ids::ProjectId;
use crate::import::{self, Encoding, ImportError, ParsedTranscript};

/// Lines of text the preview shows.
const PREVIEW_LINES: usize = 12;

#[derive(Debug, Clone, Serialize)]
pub struct SpeakerJson {
    pub name: String,
    pub turns: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommentJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    pub text: String,
    /// The commented words, when the comment marks some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// What one file would import as.
#[derive(Debug, Clone, Serialize)]
pub struct FilePreview {
    pub file_name: String,
    /// Why it can't be imported; nothing else is set then, except for an
    /// encoding problem, which still shows the text decoded by the guess.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The encoding the text was read in (text formats).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<Encoding>,
    /// True when the file does not say its encoding and `encoding` is only
    /// the likeliest: the import needs it chosen explicitly.
    pub encoding_guessed: bool,
    /// The first lines of the text as it will be stored.
    pub first_lines: Vec<String>,
    pub line_count: usize,
    pub word_count: i32,
    pub speakers: Vec<SpeakerJson>,
    /// The names the importer dropped, as sent.
    pub not_speakers: Vec<String>,
    pub warnings: Vec<String>,
    pub not_kept: Vec<String>,
    pub headers: Vec<String>,
    pub footers: Vec<String>,
    pub comments: Vec<CommentJson>,
    /// The title of a transcript of the project with the same text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_label: Option<String>,
}

impl FilePreview {
    fn failed(file: &FileImport<'_>, error: String) -> Self {
        FilePreview {
            file_name: file.file_name.to_owned(),
            error: Some(error),
            encoding: None,
            encoding_guessed: false,
            first_lines: Vec::new(),
            line_count: 0,
            word_count: 0,
            speakers: Vec::new(),
            not_speakers: file.not_speakers.to_vec(),
            warnings: Vec::new(),
            not_kept: Vec::new(),
            headers: Vec::new(),
            footers: Vec::new(),
            comments: Vec::new(),
            duplicate_of: None,
            participant_label: None,
        }
    }

    fn of(file: &FileImport<'_>, parsed: ParsedTranscript) -> Self {
        let lines: Vec<&str> = parsed.text.split('\n').collect();
        let first_lines = lines
            .iter()
            .take(PREVIEW_LINES)
            .map(|l| (*l).to_owned())
            .collect();
        let line_of = |offset: usize| parsed.lines.iter().position(|l| offset <= l.end);
        let comments = parsed
            .metadata
            .comments
            .iter()
            .map(|c| CommentJson {
                author: c.author.clone(),
                text: c.text.clone(),
                quote: c.span.map(|s| {
                    parsed
                        .text
                        .chars()
                        .skip(s.start)
                        .take(s.end - s.start)
                        .collect()
                }),
                line: c.span.and_then(|s| line_of(s.start)).map(|l| l + 1),
            })
            .collect();
        FilePreview {
            file_name: file.file_name.to_owned(),
            error: None,
            encoding: parsed.encoding,
            encoding_guessed: false,
            first_lines,
            line_count: lines.len(),
            word_count: count_words(&parsed.text, &parsed.turns),
            speakers: parsed
                .speakers()
                .into_iter()
                .map(|(name, turns)| SpeakerJson { name, turns })
                .collect(),
            not_speakers: file.not_speakers.to_vec(),
            warnings: parsed.warnings,
            not_kept: parsed.not_kept,
            headers: parsed.metadata.headers,
            footers: parsed.metadata.footers,
            comments,
            duplicate_of: None,
            participant_label: None,
        }
    }
}

/// Parses one file as the import would, with a guessed encoding when the
/// file does not say, and reports what would be stored; stores nothing.
#[tracing::instrument(skip_all, fields(%project_id, file_name = file.file_name))]
pub async fn preview_file(
    db: &PgPool,
    project_id: ProjectId,
    file: &FileImport<'_>,
    max_bytes: usize,
) -> FilePreview {
    let (parsed, guessed) = match service::parse_file(file, max_bytes).await {
        Ok((_, parsed)) => (parsed, false),
        Err(Failure::Import(ImportError::EncodingChoiceNeeded { suggestion, .. })) => {
            let retry = FileImport {
                encoding: Some(suggestion),
                ..*file
            };
            match service::parse_file(&retry, max_bytes).await {
                Ok((_, parsed)) => (parsed, true),
                Err(failure) => return FilePreview::failed(file, describe(failure)),
            }
        }
        Err(failure) => return FilePreview::failed(file, describe(failure)),
    };
    let sha256 = parsed.sha256.clone();
    let mut preview = FilePreview::of(file, parsed);
    preview.encoding_guessed = guessed;
    if guessed && let Some(encoding) = preview.encoding {
        preview.warnings.insert(
            0,
            format!(
                "The file does not say its encoding and is not UTF-8. It looks like {encoding}: check that the lines below read correctly, or choose another encoding."
            ),
        );
    }
    // Read-only lookups; a failure leaves them out rather than the preview.
    match lookups(db, project_id, file, &sha256).await {
        Ok((duplicate, participant)) => {
            preview.duplicate_of = duplicate;
            preview.participant_label = participant;
        }
        Err(error) => tracing::warn!(%error, "looking up duplicates for a preview"),
    }
    preview
}

async fn lookups(
    db: &PgPool,
    project_id: ProjectId,
    file: &FileImport<'_>,
    sha256: &str,
) -> Result<(Option<String>, Option<String>), crate::error::AppError> {
    let mut conn = db.acquire().await?;
    let duplicate = store::find_duplicate(&mut conn, project_id, sha256).await?;
    let labels = store::participant_labels(&mut conn, project_id).await?;
    let participant = match file.participant {
        ParticipantChoice::None => None,
        ParticipantChoice::Given(id) => labels
            .iter()
            .find(|(pid, _)| *pid == id)
            .map(|(_, l)| l.clone()),
        ParticipantChoice::FromFileName => {
            let names: Vec<&str> = labels.iter().map(|(_, l)| l.as_str()).collect();
            import::guess_participant_label(file.file_name, &names)
        }
    };
    Ok((duplicate, participant))
}

fn describe(failure: Failure) -> String {
    match failure {
        Failure::Import(error) => error.to_string(),
        Failure::Message(message) => message,
        Failure::App(error) => {
            tracing::error!(error = %error, "previewing a transcript");
            "Something went wrong on our side; the file could not be read.".to_owned()
        }
    }
}
