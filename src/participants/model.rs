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
        errors.add(field, crate::messages::at_most(100));
    }
    label.to_owned()
}

pub fn parse_variable_name(errors: &mut FieldErrors, field: &str, input: &str) -> String {
    let name = input.trim();
    if name.is_empty() {
        errors.add(field, "Name the variable.");
    } else if name.chars().count() > 100 {
        errors.add(field, crate::messages::at_most(100));
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

/// Words that join the words of a name and say nothing by themselves.
const FILLER: &[&str] = &[
    "a", "an", "and", "at", "for", "in", "of", "on", "per", "the", "to", "with",
];

/// The words of a name, for comparing names: lower case, split at anything
/// that is not a letter or digit, without filler words or a plural `s`
/// ("Experience (years)" and "Years of experience" are both `experience year`).
pub fn name_words(name: &str) -> Vec<String> {
    let mut words: Vec<String> = name
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !FILLER.contains(w))
        .map(|w| match w.strip_suffix('s') {
            Some(stem) if w.chars().count() > 3 && !stem.ends_with('s') => stem.to_owned(),
            _ => w.to_owned(),
        })
        .collect();
    words.sort();
    words.dedup();
    words
}

/// Two words are the same when equal, or, for longer words, one typo apart.
fn same_word(a: &str, b: &str) -> bool {
    a == b || (a.chars().count() >= 5 && b.chars().count() >= 5 && one_edit_apart(a, b))
}

fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    match long.len() - short.len() {
        0 => short.iter().zip(long).filter(|(x, y)| x != y).count() <= 1,
        1 => {
            let start = short.iter().zip(long).take_while(|(x, y)| x == y).count();
            short[start..] == long[start + 1..]
        }
        _ => false,
    }
}

/// How alike two names are by their words: shared words over all words, 0 to 1.
pub fn name_similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (name_words(a), name_words(b));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let shared = a
        .iter()
        .filter(|w| b.iter().any(|v| same_word(w, v)))
        .count();
    shared as f64 / (a.len() + b.len() - shared) as f64
}

/// Names sharing at least this share of their words are taken for the same variable.
const SAME_VARIABLE: f64 = 0.5;

/// The existing variable each column heading stands for, if any, and whether
/// its name is the heading itself (ignoring case). Headings that name a
/// variable exactly take it first; every other heading takes the variable
/// whose name shares most of its words (at least half), unless two variables
/// are as alike (then it is left for the researcher to choose). Each variable
/// goes to one column at most.
pub fn match_variables(headings: &[&str], names: &[&str]) -> Vec<Option<(usize, bool)>> {
    let mut taken = vec![false; names.len()];
    let mut out: Vec<Option<(usize, bool)>> = headings
        .iter()
        .map(|h| {
            let found = names
                .iter()
                .position(|n| n.trim().to_lowercase() == h.trim().to_lowercase())
                .filter(|i| !taken[*i]);
            if let Some(i) = found {
                taken[i] = true;
            }
            found.map(|i| (i, true))
        })
        .collect();
    for (heading, slot) in headings.iter().zip(out.iter_mut()) {
        if slot.is_some() {
            continue;
        }
        let scores: Vec<(usize, f64)> = names
            .iter()
            .enumerate()
            .filter(|(i, _)| !taken[*i])
            .map(|(i, n)| (i, name_similarity(heading, n)))
            .filter(|(_, s)| *s >= SAME_VARIABLE)
            .collect();
        let best = scores.iter().map(|(_, s)| *s).fold(0.0, f64::max);
        let mut at_best = scores.iter().filter(|(_, s)| *s == best);
        if let (Some((i, _)), None) = (at_best.next(), at_best.next()) {
            taken[*i] = true;
            *slot = Some((*i, false));
        }
    }
    out
}

/// A column is numeric when at least two of its cells are numbers and they
/// are at least two thirds of the filled cells: the rest are then typing
/// mistakes to flag ("abc" among years of experience), not a reason to read
/// every number as text.
pub fn mostly_numbers<S: AsRef<str>>(values: &[S]) -> bool {
    let filled: Vec<&str> = values
        .iter()
        .map(|v| v.as_ref().trim())
        .filter(|v| !v.is_empty())
        .collect();
    let numbers = filled.iter().filter(|v| parse_number(v).is_some()).count();
    numbers >= 2 && numbers * 3 >= filled.len() * 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_in_other_words_find_the_variable_they_mean() {
        let names = [
            "Years of experience",
            "Role",
            "Patients in treatment for refractory pain",
        ];
        let headings = [
            "Role",
            "Experience (years)",
            "Patients in treatment",
            "Age (years)",
        ];
        assert_eq!(
            match_variables(&headings, &names),
            [Some((1, true)), Some((0, false)), Some((2, false)), None]
        );
        assert_eq!(name_words("Experience (years)"), ["experience", "year"]);
        assert_eq!(
            name_similarity("Years of experiance", "Experience, years"),
            1.0
        );
        assert_eq!(name_similarity("Status", "status"), 1.0);
        assert_eq!(name_similarity("Sex", "Site"), 0.0);
    }

    #[test]
    fn a_variable_goes_to_one_column_and_a_tie_is_left_open() {
        let names = ["Years of experience", "Years in post"];
        assert_eq!(
            match_variables(&["Years"], &names),
            [None],
            "two are as alike"
        );
        assert_eq!(
            match_variables(&["Years of experience", "Experience years"], &names),
            [Some((0, true)), None]
        );
    }

    #[test]
    fn a_column_of_numbers_with_a_typo_is_still_numeric() {
        assert!(mostly_numbers(&["5", "abc", "12", "7"]));
        assert!(mostly_numbers(&["5", "", "abc", "7"]));
        assert!(!mostly_numbers(&["5", "abc", "def"]));
        assert!(!mostly_numbers(&["5", "", ""]));
        assert!(!mostly_numbers(&["Nurse", "Doctor"]));
    }

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
