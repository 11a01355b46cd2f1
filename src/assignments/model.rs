//! Assignment states.

use serde::{Deserialize, Serialize};

/// Where a coder's work on one transcript stands:
/// `assigned → in_progress → submitted`, and back to `in_progress` when a lead
/// reopens the layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum AssignmentState {
    Assigned,
    InProgress,
    Submitted,
}

impl AssignmentState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assigned => "assigned",
            Self::InProgress => "in_progress",
            Self::Submitted => "submitted",
        }
    }

    /// As people read it: "in progress".
    pub fn label(self) -> &'static str {
        match self {
            Self::Assigned => "assigned",
            Self::InProgress => "in progress",
            Self::Submitted => "submitted",
        }
    }

    pub fn is_submitted(self) -> bool {
        self == Self::Submitted
    }

    pub fn is_assigned(self) -> bool {
        self == Self::Assigned
    }
}

impl std::fmt::Display for AssignmentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
