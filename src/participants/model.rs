//! Participants (cases) and their variables.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::db::ids::{ParticipantId, VariableId};
use crate::error::FieldErrors;
use crate::import::{VariableType, parse_number};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VariableKind {
    Text,
    Number,
    Category,
}

impl VariableKind {
    pub const ALL: [VariableKind; 3] = [Self::Text, Self::Number, Self::Category];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Number => "number",
            Self::Category => "category",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    pub fn of(variable_type: &VariableType) -> Self {
        match variable_type {
            VariableType::Text => Self::Text,
            VariableType::Number => Self::Number,
            VariableType::Category(_) => Self::Category,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Variable {
    pub id: VariableId,
    pub name: String,
    pub kind: VariableKind,
    pub allowed_values: Vec<String>,
    pub version: i32,
}

impl Variable {
    pub fn variable_type(&self) -> VariableType {
        match self.kind {
            VariableKind::Text => VariableType::Text,
            VariableKind::Number => VariableType::Number,
            VariableKind::Category => VariableType::Category(self.allowed_values.clone()),
        }
    }

    /// The value as stored, or a message saying why it can't be.
    pub fn check_value(&self, raw: &str) -> Result<String, String> {
        let value = raw.trim();
        match self.kind {
            VariableKind::Text => Ok(value.to_owned()),
            VariableKind::Number => parse_number(value)
                .map(format_number)
                .ok_or_else(|| format!("'{value}' is not a number.")),
            VariableKind::Category => self
                .allowed_values
                .iter()
                .find(|allowed| allowed.to_lowercase() == value.to_lowercase())
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "'{value}' is not one of: {}.",
                        self.allowed_values.join(", ")
                    )
                }),
        }
    }
}

/// Integers without a decimal point, other numbers as Rust prints them.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Participant {
    pub id: ParticipantId,
    pub label: String,
    pub version: i32,
    /// Values by variable; a missing key is a missing value.
    pub values: BTreeMap<VariableId, String>,
}

impl Participant {
    pub fn value(&self, variable: &VariableId) -> &str {
        self.values.get(variable).map(String::as_str).unwrap_or("")
    }
}

pub fn parse_label(errors: &mut FieldErrors, field: &str, input: &str) -> String {
    let label = input.trim();
    if label.is_empty() {
        errors.add(field, "Give the participant a pseudonym, such as P01.");
    } else if label.chars().count() > 100 {
        errors.add(field, "Use at most 100 characters.");
    }
    label.to_owned()
}

pub fn parse_variable_name(errors: &mut FieldErrors, field: &str, input: &str) -> String {
    let name = input.trim();
    if name.is_empty() {
        errors.add(field, "Name the variable.");
    } else if name.chars().count() > 100 {
        errors.add(field, "Use at most 100 characters.");
    }
    name.to_owned()
}

/// Allowed values typed one per line or separated by commas.
pub fn parse_allowed_values(input: &str) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    for value in input
        .split(['\n', ','])
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        if !values
            .iter()
            .any(|v| v.to_lowercase() == value.to_lowercase())
        {
            values.push(value.to_owned());
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variable(kind: VariableKind, allowed: &[&str]) -> Variable {
        Variable {
            id: VariableId::new(),
            name: "v".into(),
            kind,
            allowed_values: allowed.iter().map(|s| s.to_string()).collect(),
            version: 1,
        }
    }

    #[test]
    fn values_are_checked_against_the_variable_kind() {
        let number = variable(VariableKind::Number, &[]);
        assert_eq!(number.check_value(" 25 "), Ok("25".into()));
        assert_eq!(number.check_value("2.5"), Ok("2.5".into()));
        assert!(number.check_value("many").is_err());
        let category = variable(VariableKind::Category, &["Oncologist", "Nurse"]);
        assert_eq!(category.check_value("nurse"), Ok("Nurse".into()));
        assert!(category.check_value("Surgeon").is_err());
    }

    #[test]
    fn allowed_values_are_split_and_deduplicated() {
        assert_eq!(parse_allowed_values("A, b\nB,, c"), ["A", "b", "c"]);
    }
}
