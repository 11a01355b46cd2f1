//! What a REFI-QDA file holds, as Concord reads it: GUIDs as UUIDs, texts in
//! canonical form and every offset a code point of that text (invariant 2).

use serde::Serialize;
use uuid::Uuid;

use super::offsets::{Convention, SourceText};

/// A `.qdpx` project, a bare `.qde` or a `.qdc` codebook, read and checked.
#[derive(Debug, Clone)]
pub struct Project {
    pub kind: FileKind,
    pub name: Option<String>,
    pub origin: Option<String>,
    pub users: Vec<User>,
    /// Top-level codes, each with its children.
    pub codes: Vec<Code>,
    pub variables: Vec<Variable>,
    pub cases: Vec<Case>,
    pub sources: Vec<Source>,
    pub notes: Vec<Note>,
    pub sets: Vec<Set>,
    /// How the offsets were read, when the file has any selection with text.
    pub offsets: Option<OffsetReading>,
    /// What was read but not kept, or could not be checked, for the researcher.
    pub notices: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// A `.qdpx` archive with its sources.
    Qdpx,
    /// A project document on its own: its sources' texts are not with it.
    Qde,
    /// A codebook.
    Qdc,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub guid: Uuid,
    pub name: Option<String>,
    pub id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Code {
    pub guid: Uuid,
    pub name: String,
    pub is_codable: bool,
    /// `#rrggbb` or `#rgb`, as the file has it.
    pub color: Option<String>,
    pub description: Option<String>,
    pub children: Vec<Code>,
}

impl Code {
    /// This code and every code under it, depth first, each with its depth (0 at the top).
    pub fn walk(&self) -> Vec<(usize, &Code)> {
        let mut out = Vec::new();
        let mut stack = vec![(0usize, self)];
        while let Some((depth, code)) = stack.pop() {
            out.push((depth, code));
            for child in code.children.iter().rev() {
                stack.push((depth + 1, child));
            }
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum VariableType {
    Text,
    Boolean,
    Integer,
    Float,
    Date,
    DateTime,
}

impl VariableType {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text.trim() {
            "Text" => Self::Text,
            "Boolean" => Self::Boolean,
            "Integer" => Self::Integer,
            "Float" => Self::Float,
            "Date" => Self::Date,
            "DateTime" => Self::DateTime,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "Text",
            Self::Boolean => "Boolean",
            Self::Integer => "Integer",
            Self::Float => "Float",
            Self::Date => "Date",
            Self::DateTime => "DateTime",
        }
    }

    /// The value element REFI-QDA uses for this type.
    pub fn value_element(self) -> &'static str {
        match self {
            Self::Text => "TextValue",
            Self::Boolean => "BooleanValue",
            Self::Integer => "IntegerValue",
            Self::Float => "FloatValue",
            Self::Date => "DateValue",
            Self::DateTime => "DateTimeValue",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Variable {
    pub guid: Uuid,
    pub name: String,
    pub kind: VariableType,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VariableValue {
    pub variable: Uuid,
    /// The value as written (its element says its type).
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Case {
    pub guid: Uuid,
    pub name: Option<String>,
    pub description: Option<String>,
    pub values: Vec<VariableValue>,
    pub sources: Vec<Uuid>,
}

#[derive(Debug, Clone)]
pub struct Source {
    pub guid: Uuid,
    pub name: Option<String>,
    pub description: Option<String>,
    /// `None` when the file does not carry the text (a bare `.qde`).
    pub text: Option<SourceText>,
    pub selections: Vec<Selection>,
    pub notes: Vec<Uuid>,
}

impl Source {
    pub fn title(&self) -> String {
        self.name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| self.guid.to_string())
    }
}

/// A span of a source's text and the codes applied to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Selection {
    pub guid: Uuid,
    pub name: Option<String>,
    /// Code points of the canonical text; the file's own numbers when the
    /// text is not in the file.
    pub start: u32,
    pub end: u32,
    pub description: Option<String>,
    pub creating_user: Option<Uuid>,
    pub codings: Vec<Coding>,
    pub notes: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coding {
    pub guid: Uuid,
    pub code: Uuid,
    /// The coding's creating user, or else its selection's.
    pub user: Option<Uuid>,
    pub notes: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub guid: Uuid,
    pub name: Option<String>,
    pub text: String,
    pub creating_user: Option<Uuid>,
    /// The day of its `creationDateTime` (`YYYY-MM-DD`), when it has a valid one.
    pub created_on: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Set {
    pub guid: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub codes: Vec<Uuid>,
    pub sources: Vec<Uuid>,
}

/// The convention the selections were read in, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OffsetReading {
    pub convention: Convention,
    pub reason: String,
}

impl Project {
    /// Every code, depth first, with its depth.
    pub fn all_codes(&self) -> Vec<(usize, &Code)> {
        self.codes.iter().flat_map(Code::walk).collect()
    }

    pub fn code(&self, guid: Uuid) -> Option<&Code> {
        self.all_codes()
            .into_iter()
            .map(|(_, c)| c)
            .find(|c| c.guid == guid)
    }

    pub fn user_name(&self, guid: Uuid) -> String {
        self.users
            .iter()
            .find(|u| u.guid == guid)
            .and_then(|u| u.name.clone())
            .unwrap_or_else(|| guid.to_string())
    }

    /// Every coding with its source and selection.
    pub fn codings(&self) -> impl Iterator<Item = (&Source, &Selection, &Coding)> {
        self.sources.iter().flat_map(|s| {
            s.selections
                .iter()
                .flat_map(move |sel| sel.codings.iter().map(move |c| (s, sel, c)))
        })
    }
}
