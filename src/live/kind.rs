//! The kinds of live event, stored as the `live_event_kind` enum. Who may see
//! each kind is decided by one exhaustive match in
//! [`crate::coding::blinding::Viewer::can_see`], so a new kind does not compile
//! until someone has decided it.

use serde::{Deserialize, Serialize};

macro_rules! event_kinds {
    ($($variant:ident => $name:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
        #[sqlx(type_name = "live_event_kind")]
        pub enum EventKind {
            $(
                #[serde(rename = $name)]
                #[sqlx(rename = $name)]
                $variant,
            )*
        }

        impl EventKind {
            pub const ALL: &[EventKind] = &[$(EventKind::$variant,)*];

            /// The name on the wire and in the database (`coding.created`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventKind::$variant => $name,)*
                }
            }
        }
    };
}

event_kinds! {
    ProjectUpdated => "project.updated",
    MemberChanged => "member.changed",
    AssignmentUpdated => "assignment.updated",
    CodeCreated => "code.created",
    CodeUpdated => "code.updated",
    CodeMerged => "code.merged",
    CodeDeleted => "code.deleted",
    CodeRestored => "code.restored",
    CodingCreated => "coding.created",
    CodingUpdated => "coding.updated",
    CodingDeleted => "coding.deleted",
    CodingRestored => "coding.restored",
    DecisionMade => "decision.made",
    DecisionComment => "decision.comment",
    ConsensusCoding => "consensus.coding",
    ConsensusCodeCreated => "consensus.code.created",
    ConsensusCodeUpdated => "consensus.code.updated",
    ConsensusCodeMerged => "consensus.code.merged",
    ConsensusCodeSplit => "consensus.code.split",
    ConsensusCodeDeleted => "consensus.code.deleted",
    ConsensusCodeRestored => "consensus.code.restored",
    ThemeChanged => "theme.changed",
    ReviewChanged => "review.changed",
    QuoteBankChanged => "quote_bank.changed",
    MemoChanged => "memo.changed",
    DebriefingChanged => "debriefing.changed",
    AlignmentChanged => "alignment.changed",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_a_value_of_the_database_enum() {
        let migration = [
            include_str!("../../migrations/20261201100000_live_event_kinds_and_positions.sql"),
            include_str!("../../migrations/20261203100000_create_theme_hierarchy.sql"),
            include_str!("../../migrations/20261203110000_create_review_rounds.sql"),
            include_str!("../../migrations/20261203120000_create_quote_bank.sql"),
            include_str!(
                "../../migrations/20261205090000_live_events_for_memos_and_debriefings.sql"
            ),
            include_str!("../../migrations/20261208090000_live_events_for_alignments.sql"),
        ]
        .concat();
        for kind in EventKind::ALL {
            assert!(
                migration.contains(&format!("'{}'", kind.as_str())),
                "{} is missing from live_event_kind",
                kind.as_str()
            );
        }
    }

    #[test]
    fn kinds_serialise_by_their_dotted_name() {
        assert_eq!(
            serde_json::to_string(&EventKind::ConsensusCodeMerged).unwrap(),
            "\"consensus.code.merged\""
        );
    }
}
