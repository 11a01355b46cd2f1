//! REFI-QDA exchange: reading `.qdpx` projects, `.qde` project documents and
//! `.qdc` codebooks safely into a [`Project`], agreement straight from such a
//! file, and Concord's own codebook and project exports.
//!
//! Reading is pure, like `crate::import`: it takes bytes and gives a checked
//! [`Project`] or a [`RefiError`] naming what is wrong; storing is the
//! caller's business. The schemas and the producers' known habits are in
//! `shared/refi-qda/` (its README), summarised in Concord's README.

pub mod agreement;
mod api;
mod archive;
pub mod codebook_import;
pub mod export;
pub mod import;
mod import_store;
pub mod import_web;
pub mod model;
pub mod offsets;
mod reader;
#[cfg(test)]
mod reader_tests;
mod store;
pub mod write;
mod xml;

pub use archive::ArchiveLimits;
pub use model::{
    Case, Code, Coding, FileKind, Note, OffsetReading, Project, Selection, Set, Source, User,
    Variable, VariableType, VariableValue,
};
pub use offsets::{Convention, SourceText};
pub use reader::{ReadOptions, read};

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::web::routes::Routes;

pub fn routes(max_upload_bytes: usize) -> Routes {
    let uploads = Routes::new()
        .route(
            "/imports/qdpx",
            get(import_web::show_upload).post(import_web::submit_upload),
        )
        .route("/api/v1/imports/qdpx", post(import_web::api_upload))
        .route(
            "/projects/{project_id}/codebook/import",
            get(import_web::show_qdc).post(import_web::submit_qdc),
        )
        .route(
            "/api/v1/projects/{project_id}/codebook/import",
            post(import_web::api_qdc),
        )
        .layer(DefaultBodyLimit::max(max_upload_bytes + 64 * 1024));
    Routes::new()
        .merge(uploads)
        .route(
            "/imports/qdpx/{draft_id}",
            get(import_web::show_preview).post(import_web::confirm),
        )
        .route(
            "/api/v1/imports/qdpx/{draft_id}",
            get(import_web::api_preview),
        )
        .route(
            "/api/v1/imports/qdpx/{draft_id}/confirm",
            post(import_web::api_confirm),
        )
        .route(
            "/projects/{project_id}/exports/codebook.qdc",
            get(api::export_codebook),
        )
        .route(
            "/api/v1/projects/{project_id}/exports/codebook.qdc",
            get(api::export_codebook),
        )
        .route(
            "/projects/{project_id}/exports/project.qdpx",
            get(api::export_project),
        )
        .route(
            "/api/v1/projects/{project_id}/exports/project.qdpx",
            get(api::export_project),
        )
}

/// Everything that stops a file from being read, worded for the researcher.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefiError {
    #[error(
        "The file name must end in .qdpx, .qde or .qdc (REFI-QDA project, project document or codebook); {name} does not."
    )]
    UnknownExtension { name: String },
    #[error("This is not a zip archive, so it is not a .qdpx project ({detail}).")]
    NotZip { detail: String },
    #[error(
        "The archive has {entries} entries, more than the {limit} Concord accepts; it may be damaged or a zip bomb."
    )]
    TooManyEntries { entries: usize, limit: usize },
    #[error("The archive unpacks to more than {limit_mb} MB, more than Concord accepts.")]
    TooLarge { limit_mb: u64 },
    #[error(
        "The archive entry {name} unpacks to more than {limit} times its packed size: it looks like a zip bomb, so it is not read."
    )]
    CompressionRatio { name: String, limit: u64 },
    #[error("The archive entry name {name:?} is refused: {reason}.")]
    UnsafeEntryName { name: String, reason: &'static str },
    #[error("The archive entry {name} is encrypted.")]
    Encrypted { name: String },
    #[error("The archive has no project.qde (nor any other .qde file at its top level).")]
    MissingProjectDocument,
    #[error(
        "The archive has several .qde files at its top level ({names}) and no project.qde, so Concord can't tell which is the project."
    )]
    SeveralProjectDocuments { names: String },
    #[error("{file} is not UTF-8 or UTF-16 text.")]
    NotUtf8 { file: String },
    #[error(
        "{file}, line {line}: a document type declaration (<!DOCTYPE …>) is refused; REFI-QDA files have none, and its entities could read other files or expand without end."
    )]
    Doctype { file: String, line: usize },
    #[error(
        "{file}, line {line}: the entity &{name}; is not defined (Concord reads no DTD, so only &amp; &lt; &gt; &quot; &apos; and character references are allowed)."
    )]
    Entity {
        file: String,
        line: usize,
        name: String,
    },
    #[error("{file} is not well-formed XML, near line {line}: {detail}.")]
    InvalidXml {
        file: String,
        line: usize,
        detail: String,
    },
    #[error("{file}: the root element is <{found}>, but a {expected} starts with <{wanted}>.")]
    WrongRoot {
        file: String,
        found: String,
        expected: &'static str,
        wanted: &'static str,
    },
    #[error("Line {line}: <{element}> has no {attribute} attribute, which REFI-QDA requires.")]
    MissingAttribute {
        element: String,
        line: usize,
        attribute: &'static str,
    },
    #[error("Line {line}: <{element}> has {attribute}=\"{value}\", which is not {expected}.")]
    BadAttribute {
        element: String,
        line: usize,
        attribute: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("The GUID {guid} is used twice: by {first} and by {second}.")]
    DuplicateGuid {
        guid: String,
        first: String,
        second: String,
    },
    #[error("The source {source_name} refers to {path}, which is not in the archive.")]
    MissingSource { source_name: String, path: String },
    #[error(
        "Selection {selection} of the source {source_name} starts at {start}, after its end {end}."
    )]
    SelectionReversed {
        source_name: String,
        selection: String,
        start: i64,
        end: i64,
    },
    #[error(
        "Selection {selection} of the source {source_name} is [{start}, {end}), outside the text, which has {length} characters ({convention})."
    )]
    SelectionOutside {
        source_name: String,
        selection: String,
        start: i64,
        end: i64,
        length: usize,
        convention: &'static str,
    },
    #[error(
        "Selection {selection} of the source {source_name} has an offset that falls inside a character ({convention})."
    )]
    SelectionSplitsCharacter {
        source_name: String,
        selection: String,
        convention: &'static str,
    },
    #[error(
        "Coding {coding} (in the source {source_name}) applies the code {code}, which is not in the codebook."
    )]
    UnknownCode {
        coding: String,
        code: String,
        source_name: String,
    },
    #[error(
        "Line {line}: a value refers to the variable {variable}, which is not defined under <Variables>."
    )]
    UnknownVariable { line: usize, variable: String },
}
