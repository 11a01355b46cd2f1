//! Projects, members and roles (DESIGN.md "Words").

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::db::ids::{ProjectId, UserId};
use crate::error::FieldErrors;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Lead,
    Coder,
    Reviewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Lead, Role::Coder, Role::Reviewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Lead => "lead",
            Self::Coder => "coder",
            Self::Reviewer => "reviewer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Owner => "Owner",
            Self::Lead => "Lead researcher",
            Self::Coder => "Coder",
            Self::Reviewer => "Reviewer",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub description: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub archived_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub version: i32,
    pub codebook_mode: CodebookMode,
}

/// Whether each coder invents their own codes (inductive) or all share one
/// codebook (deductive or second-round coding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum CodebookMode {
    Independent,
    Shared,
}

impl CodebookMode {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "independent" => Some(Self::Independent),
            "shared" => Some(Self::Shared),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Independent => "independent",
            Self::Shared => "shared",
        }
    }

    pub fn is_shared(self) -> bool {
        self == Self::Shared
    }
}

/// A project as listed for one user, with their role in it.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectSummary {
    #[serde(flatten)]
    pub project: Project,
    pub role: Role,
    pub member_count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemberRow {
    pub user_id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub version: i32,
}

pub fn parse_project_name(errors: &mut FieldErrors, input: &str) -> String {
    let name = input.trim();
    if name.is_empty() {
        errors.add("name", "Name the project.");
    } else if name.chars().count() > 200 {
        errors.add("name", crate::messages::at_most(200));
    }
    name.to_owned()
}

pub fn parse_description(errors: &mut FieldErrors, input: &str) -> String {
    let text = input.trim();
    if text.chars().count() > 5000 {
        errors.add("description", "Use at most 5,000 characters.");
    }
    text.to_owned()
}

pub fn parse_role(errors: &mut FieldErrors, input: &str) -> Role {
    Role::parse(input.trim()).unwrap_or_else(|| {
        errors.add("role", "Choose owner, lead, coder or reviewer.");
        Role::Reviewer
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_unknown_roles_are_errors() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        let mut errors = FieldErrors::new();
        parse_role(&mut errors, "admin");
        assert!(errors.get("role").is_some());
    }
}
