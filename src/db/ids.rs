//! Typed ids, so a `ProjectId` can't be passed where a `UserId` belongs.

macro_rules! decl_id {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize, sqlx::Type)]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }
    )*};
}

decl_id!(
    UserId,
    ProjectId,
    ApiTokenId,
    AccountTokenId,
    ParticipantId,
    VariableId,
    TranscriptId,
    ImportDraftId,
    AssignmentId,
    CodeId,
    CodingId,
    AgreedCodeId,
    DecisionId,
    ConsensusCodingId,
    CommentId,
    ThemeNodeId,
    QuoteSelectionId,
);
