//! The audit log (DESIGN.md invariant 5): every change writes one row in the
//! transaction that makes the change, so the row exists exactly when the change does.

use serde::Serialize;
use sqlx::PgConnection;

use crate::db::ids::{ProjectId, TranscriptId, UserId};
use crate::error::AppError;
use crate::live::EventKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SetupCompleted,
    SignedIn,
    SignedOut,
    PasswordChanged,
    InviteCreated,
    InviteWithdrawn,
    InviteAccepted,
    PasswordResetCreated,
    PasswordReset,
    UserDisabled,
    UserEnabled,
    ApiTokenCreated,
    ApiTokenRevoked,
    ProjectCreated,
    ProjectUpdated,
    ProjectArchived,
    ProjectUnarchived,
    MemberAdded,
    MemberRoleChanged,
    MemberRemoved,
    VariableCreated,
    ParticipantCreated,
    ParticipantUpdated,
    ParticipantsImported,
    TranscriptImported,
    TranscriptUpdated,
    TranscriptDeleted,
    TranscriptRestored,
    CodebookModeChanged,
    AssignmentCreated,
    AssignmentStarted,
    AssignmentSubmitted,
    AssignmentReopened,
    AssignmentRemoved,
    CodeCreated,
    CodeUpdated,
    CodeMerged,
    CodeDeleted,
    CodeRestored,
    CodingCreated,
    CodingUpdated,
    CodingDeleted,
    CodingRestored,
    AgreedCodeCreated,
    CodeAligned,
    CodeUnaligned,
    DecisionMade,
    DecisionsAutoAccepted,
    DiscrepancyCommented,
    ConsensusCodingCreated,
    ConsensusCodingUpdated,
    ConsensusCodingDeleted,
    ConsensusCodingRestored,
    AgreedCodeUpdated,
    AgreedCodeMerged,
    AgreedCodeMergeUndone,
    AgreedCodeSplit,
    AgreedCodeDeleted,
    AgreedCodeRestored,
    ReconciliationSettingsChanged,
    ThemeNodeCreated,
    ThemeNodeUpdated,
    ThemeNodeMoved,
    ThemeNodeMerged,
    ThemeNodeSplit,
    ThemeNodeDeleted,
    ThemeNodeRestored,
    CodesPlaced,
    CodesUnplaced,
    ReviewRoundPublished,
    ReviewRoundClosed,
    ReviewCommented,
    ReviewCommentAnswered,
    ReviewSignedOff,
    DebriefingRecorded,
    DebriefingUpdated,
    MemoWritten,
    MemoUpdated,
    MemoDeleted,
    InterviewOrderSet,
    QuoteSelected,
    QuoteEdited,
    QuoteUnselected,
    QuoteRefiled,
    QuotesReordered,
    QuoteAttributeChosen,
    ExportMade,
    DemoCreated,
    ProjectImported,
    CodebookImported,
}

impl Action {
    /// Every action, in declaration order: to read stored action names back
    /// and to offer them as filters.
    pub const ALL: [Action; 90] = [
        Self::SetupCompleted,
        Self::SignedIn,
        Self::SignedOut,
        Self::PasswordChanged,
        Self::InviteCreated,
        Self::InviteWithdrawn,
        Self::InviteAccepted,
        Self::PasswordResetCreated,
        Self::PasswordReset,
        Self::UserDisabled,
        Self::UserEnabled,
        Self::ApiTokenCreated,
        Self::ApiTokenRevoked,
        Self::ProjectCreated,
        Self::ProjectUpdated,
        Self::ProjectArchived,
        Self::ProjectUnarchived,
        Self::MemberAdded,
        Self::MemberRoleChanged,
        Self::MemberRemoved,
        Self::VariableCreated,
        Self::ParticipantCreated,
        Self::ParticipantUpdated,
        Self::ParticipantsImported,
        Self::TranscriptImported,
        Self::TranscriptUpdated,
        Self::TranscriptDeleted,
        Self::TranscriptRestored,
        Self::CodebookModeChanged,
        Self::AssignmentCreated,
        Self::AssignmentStarted,
        Self::AssignmentSubmitted,
        Self::AssignmentReopened,
        Self::AssignmentRemoved,
        Self::CodeCreated,
        Self::CodeUpdated,
        Self::CodeMerged,
        Self::CodeDeleted,
        Self::CodeRestored,
        Self::CodingCreated,
        Self::CodingUpdated,
        Self::CodingDeleted,
        Self::CodingRestored,
        Self::AgreedCodeCreated,
        Self::CodeAligned,
        Self::CodeUnaligned,
        Self::DecisionMade,
        Self::DecisionsAutoAccepted,
        Self::DiscrepancyCommented,
        Self::ConsensusCodingCreated,
        Self::ConsensusCodingUpdated,
        Self::ConsensusCodingDeleted,
        Self::ConsensusCodingRestored,
        Self::AgreedCodeUpdated,
        Self::AgreedCodeMerged,
        Self::AgreedCodeMergeUndone,
        Self::AgreedCodeSplit,
        Self::AgreedCodeDeleted,
        Self::AgreedCodeRestored,
        Self::ReconciliationSettingsChanged,
        Self::ThemeNodeCreated,
        Self::ThemeNodeUpdated,
        Self::ThemeNodeMoved,
        Self::ThemeNodeMerged,
        Self::ThemeNodeSplit,
        Self::ThemeNodeDeleted,
        Self::ThemeNodeRestored,
        Self::CodesPlaced,
        Self::CodesUnplaced,
        Self::ReviewRoundPublished,
        Self::ReviewRoundClosed,
        Self::ReviewCommented,
        Self::ReviewCommentAnswered,
        Self::ReviewSignedOff,
        Self::DebriefingRecorded,
        Self::DebriefingUpdated,
        Self::MemoWritten,
        Self::MemoUpdated,
        Self::MemoDeleted,
        Self::InterviewOrderSet,
        Self::QuoteSelected,
        Self::QuoteEdited,
        Self::QuoteUnselected,
        Self::QuoteRefiled,
        Self::QuotesReordered,
        Self::QuoteAttributeChosen,
        Self::ExportMade,
        Self::DemoCreated,
        Self::ProjectImported,
        Self::CodebookImported,
    ];

    /// The action a stored name stands for.
    pub fn parse(name: &str) -> Option<Action> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SetupCompleted => "setup.completed",
            Self::SignedIn => "session.signed_in",
            Self::SignedOut => "session.signed_out",
            Self::PasswordChanged => "user.password_changed",
            Self::InviteCreated => "invite.created",
            Self::InviteWithdrawn => "invite.withdrawn",
            Self::InviteAccepted => "invite.accepted",
            Self::PasswordResetCreated => "password_reset.created",
            Self::PasswordReset => "password_reset.used",
            Self::UserDisabled => "user.disabled",
            Self::UserEnabled => "user.enabled",
            Self::ApiTokenCreated => "api_token.created",
            Self::ApiTokenRevoked => "api_token.revoked",
            Self::ProjectCreated => "project.created",
            Self::ProjectUpdated => "project.updated",
            Self::ProjectArchived => "project.archived",
            Self::ProjectUnarchived => "project.unarchived",
            Self::MemberAdded => "member.added",
            Self::MemberRoleChanged => "member.role_changed",
            Self::MemberRemoved => "member.removed",
            Self::VariableCreated => "variable.created",
            Self::ParticipantCreated => "participant.created",
            Self::ParticipantUpdated => "participant.updated",
            Self::ParticipantsImported => "participants.imported",
            Self::TranscriptImported => "transcript.imported",
            Self::TranscriptUpdated => "transcript.updated",
            Self::TranscriptDeleted => "transcript.deleted",
            Self::TranscriptRestored => "transcript.restored",
            Self::CodebookModeChanged => "project.codebook_mode_changed",
            Self::AssignmentCreated => "assignment.created",
            Self::AssignmentStarted => "assignment.started",
            Self::AssignmentSubmitted => "assignment.submitted",
            Self::AssignmentReopened => "assignment.reopened",
            Self::AssignmentRemoved => "assignment.removed",
            Self::CodeCreated => "code.created",
            Self::CodeUpdated => "code.updated",
            Self::CodeMerged => "code.merged",
            Self::CodeDeleted => "code.deleted",
            Self::CodeRestored => "code.restored",
            Self::CodingCreated => "coding.created",
            Self::CodingUpdated => "coding.updated",
            Self::CodingDeleted => "coding.deleted",
            Self::CodingRestored => "coding.restored",
            Self::AgreedCodeCreated => "agreed_code.created",
            Self::CodeAligned => "code.aligned",
            Self::CodeUnaligned => "code.unaligned",
            Self::DecisionMade => "decision.made",
            Self::DecisionsAutoAccepted => "decision.auto_accepted",
            Self::DiscrepancyCommented => "discrepancy.commented",
            Self::ConsensusCodingCreated => "consensus_coding.created",
            Self::ConsensusCodingUpdated => "consensus_coding.updated",
            Self::ConsensusCodingDeleted => "consensus_coding.deleted",
            Self::ConsensusCodingRestored => "consensus_coding.restored",
            Self::AgreedCodeUpdated => "agreed_code.updated",
            Self::AgreedCodeMerged => "agreed_code.merged",
            Self::AgreedCodeMergeUndone => "agreed_code.merge_undone",
            Self::AgreedCodeSplit => "agreed_code.split",
            Self::AgreedCodeDeleted => "agreed_code.deleted",
            Self::AgreedCodeRestored => "agreed_code.restored",
            Self::ReconciliationSettingsChanged => "project.reconciliation_settings_changed",
            Self::ThemeNodeCreated => "theme_node.created",
            Self::ThemeNodeUpdated => "theme_node.updated",
            Self::ThemeNodeMoved => "theme_node.moved",
            Self::ThemeNodeMerged => "theme_node.merged",
            Self::ThemeNodeSplit => "theme_node.split",
            Self::ThemeNodeDeleted => "theme_node.deleted",
            Self::ThemeNodeRestored => "theme_node.restored",
            Self::CodesPlaced => "theme.codes_placed",
            Self::CodesUnplaced => "theme.codes_unplaced",
            Self::ReviewRoundPublished => "review_round.published",
            Self::ReviewRoundClosed => "review_round.closed",
            Self::ReviewCommented => "review.commented",
            Self::ReviewCommentAnswered => "review.comment_answered",
            Self::ReviewSignedOff => "review.signed_off",
            Self::DebriefingRecorded => "debriefing.recorded",
            Self::DebriefingUpdated => "debriefing.updated",
            Self::MemoWritten => "memo.written",
            Self::MemoUpdated => "memo.updated",
            Self::MemoDeleted => "memo.deleted",
            Self::InterviewOrderSet => "interview_order.set",
            Self::QuoteSelected => "quote.selected",
            Self::QuoteEdited => "quote.edited",
            Self::QuoteUnselected => "quote.unselected",
            Self::QuoteRefiled => "quote.refiled",
            Self::QuotesReordered => "quotes.reordered",
            Self::QuoteAttributeChosen => "quote_bank.attribute_chosen",
            Self::ExportMade => "export.made",
            Self::DemoCreated => "demo.created",
            Self::ProjectImported => "project.imported",
            Self::CodebookImported => "codebook.imported",
        }
    }

    /// The kind of thing the change is made to, as the audit row names it.
    pub fn entity_type(self) -> &'static str {
        match self {
            Self::SetupCompleted => "user",
            Self::SignedIn => "user",
            Self::SignedOut => "user",
            Self::PasswordChanged => "user",
            Self::InviteCreated => "invite",
            Self::InviteWithdrawn => "invite",
            Self::InviteAccepted => "user",
            Self::PasswordResetCreated => "user",
            Self::PasswordReset => "user",
            Self::UserDisabled => "user",
            Self::UserEnabled => "user",
            Self::ApiTokenCreated => "api_token",
            Self::ApiTokenRevoked => "api_token",
            Self::ProjectCreated => "project",
            Self::ProjectUpdated => "project",
            Self::ProjectArchived => "project",
            Self::ProjectUnarchived => "project",
            Self::MemberAdded => "member",
            Self::MemberRoleChanged => "member",
            Self::MemberRemoved => "member",
            Self::VariableCreated => "variable",
            Self::ParticipantCreated => "participant",
            Self::ParticipantUpdated => "participant",
            Self::ParticipantsImported => "project",
            Self::TranscriptImported => "transcript",
            Self::TranscriptUpdated => "transcript",
            Self::TranscriptDeleted => "transcript",
            Self::TranscriptRestored => "transcript",
            Self::CodebookModeChanged => "project",
            Self::AssignmentCreated => "assignment",
            Self::AssignmentStarted => "assignment",
            Self::AssignmentSubmitted => "assignment",
            Self::AssignmentReopened => "assignment",
            Self::AssignmentRemoved => "assignment",
            Self::CodeCreated => "code",
            Self::CodeUpdated => "code",
            Self::CodeMerged => "code",
            Self::CodeDeleted => "code",
            Self::CodeRestored => "code",
            Self::CodingCreated => "coding",
            Self::CodingUpdated => "coding",
            Self::CodingDeleted => "coding",
            Self::CodingRestored => "coding",
            Self::AgreedCodeCreated => "agreed_code",
            Self::CodeAligned => "code",
            Self::CodeUnaligned => "code",
            Self::DecisionMade => "decision",
            Self::DecisionsAutoAccepted => "transcript",
            Self::DiscrepancyCommented => "discrepancy_comment",
            Self::ConsensusCodingCreated => "consensus_coding",
            Self::ConsensusCodingUpdated => "consensus_coding",
            Self::ConsensusCodingDeleted => "consensus_coding",
            Self::ConsensusCodingRestored => "consensus_coding",
            Self::AgreedCodeUpdated => "agreed_code",
            Self::AgreedCodeMerged => "agreed_code",
            Self::AgreedCodeMergeUndone => "agreed_code",
            Self::AgreedCodeSplit => "agreed_code",
            Self::AgreedCodeDeleted => "agreed_code",
            Self::AgreedCodeRestored => "agreed_code",
            Self::ReconciliationSettingsChanged => "project",
            Self::ThemeNodeCreated => "theme_node",
            Self::ThemeNodeUpdated => "theme_node",
            Self::ThemeNodeMoved => "theme_node",
            Self::ThemeNodeMerged => "theme_node",
            Self::ThemeNodeSplit => "theme_node",
            Self::ThemeNodeDeleted => "theme_node",
            Self::ThemeNodeRestored => "theme_node",
            Self::CodesPlaced => "agreed_code",
            Self::CodesUnplaced => "agreed_code",
            Self::ReviewRoundPublished => "review_round",
            Self::ReviewRoundClosed => "review_round",
            Self::ReviewCommented => "review_comment",
            Self::ReviewCommentAnswered => "review_comment",
            Self::ReviewSignedOff => "review_round",
            Self::DebriefingRecorded => "debriefing",
            Self::DebriefingUpdated => "debriefing",
            Self::MemoWritten => "memo",
            Self::MemoUpdated => "memo",
            Self::MemoDeleted => "memo",
            Self::InterviewOrderSet => "project",
            Self::QuoteSelected => "quote_selection",
            Self::QuoteEdited => "quote_selection",
            Self::QuoteUnselected => "quote_selection",
            Self::QuoteRefiled => "quote_selection",
            Self::QuotesReordered => "agreed_code",
            Self::QuoteAttributeChosen => "project",
            Self::ExportMade => "export",
            Self::DemoCreated => "project",
            Self::ProjectImported => "project",
            Self::CodebookImported => "project",
        }
    }

    /// The live event a change announces to open pages, if any. Exhaustive, so
    /// a new action does not compile until someone decides whether it is live
    /// (and [`EventKind`]'s own match decides who may see it).
    pub fn live_kind(self) -> Option<EventKind> {
        match self {
            Self::ProjectUpdated => Some(EventKind::ProjectUpdated),
            Self::ProjectArchived => Some(EventKind::ProjectUpdated),
            Self::ProjectUnarchived => Some(EventKind::ProjectUpdated),
            Self::MemberAdded => Some(EventKind::MemberChanged),
            Self::MemberRoleChanged => Some(EventKind::MemberChanged),
            Self::MemberRemoved => Some(EventKind::MemberChanged),
            Self::AssignmentCreated => Some(EventKind::AssignmentUpdated),
            Self::AssignmentStarted => Some(EventKind::AssignmentUpdated),
            Self::AssignmentSubmitted => Some(EventKind::AssignmentUpdated),
            Self::AssignmentReopened => Some(EventKind::AssignmentUpdated),
            Self::AssignmentRemoved => Some(EventKind::AssignmentUpdated),
            Self::CodeCreated => Some(EventKind::CodeCreated),
            Self::CodeUpdated => Some(EventKind::CodeUpdated),
            Self::CodeMerged => Some(EventKind::CodeMerged),
            Self::CodeDeleted => Some(EventKind::CodeDeleted),
            Self::CodeRestored => Some(EventKind::CodeRestored),
            Self::CodeAligned | Self::CodeUnaligned => Some(EventKind::AlignmentChanged),
            Self::CodingCreated => Some(EventKind::CodingCreated),
            Self::CodingUpdated => Some(EventKind::CodingUpdated),
            Self::CodingDeleted => Some(EventKind::CodingDeleted),
            Self::CodingRestored => Some(EventKind::CodingRestored),
            Self::AgreedCodeCreated => Some(EventKind::ConsensusCodeCreated),
            Self::DecisionMade => Some(EventKind::DecisionMade),
            Self::DecisionsAutoAccepted => Some(EventKind::DecisionMade),
            Self::DiscrepancyCommented => Some(EventKind::DecisionComment),
            Self::ConsensusCodingCreated => Some(EventKind::ConsensusCoding),
            Self::ConsensusCodingUpdated => Some(EventKind::ConsensusCoding),
            Self::ConsensusCodingDeleted => Some(EventKind::ConsensusCoding),
            Self::ConsensusCodingRestored => Some(EventKind::ConsensusCoding),
            Self::AgreedCodeUpdated => Some(EventKind::ConsensusCodeUpdated),
            Self::AgreedCodeMerged => Some(EventKind::ConsensusCodeMerged),
            Self::AgreedCodeMergeUndone => Some(EventKind::ConsensusCodeRestored),
            Self::AgreedCodeSplit => Some(EventKind::ConsensusCodeSplit),
            Self::AgreedCodeDeleted => Some(EventKind::ConsensusCodeDeleted),
            Self::AgreedCodeRestored => Some(EventKind::ConsensusCodeRestored),
            Self::ThemeNodeCreated => Some(EventKind::ThemeChanged),
            Self::ThemeNodeUpdated => Some(EventKind::ThemeChanged),
            Self::ThemeNodeMoved => Some(EventKind::ThemeChanged),
            Self::ThemeNodeMerged => Some(EventKind::ThemeChanged),
            Self::ThemeNodeSplit => Some(EventKind::ThemeChanged),
            Self::ThemeNodeDeleted => Some(EventKind::ThemeChanged),
            Self::ThemeNodeRestored => Some(EventKind::ThemeChanged),
            Self::CodesPlaced => Some(EventKind::ThemeChanged),
            Self::CodesUnplaced => Some(EventKind::ThemeChanged),
            Self::ReviewRoundPublished => Some(EventKind::ReviewChanged),
            Self::ReviewRoundClosed => Some(EventKind::ReviewChanged),
            Self::ReviewCommented => Some(EventKind::ReviewChanged),
            Self::ReviewCommentAnswered => Some(EventKind::ReviewChanged),
            Self::ReviewSignedOff => Some(EventKind::ReviewChanged),
            Self::QuoteSelected => Some(EventKind::QuoteBankChanged),
            Self::QuoteEdited => Some(EventKind::QuoteBankChanged),
            Self::QuoteUnselected => Some(EventKind::QuoteBankChanged),
            Self::QuoteRefiled => Some(EventKind::QuoteBankChanged),
            Self::QuotesReordered => Some(EventKind::QuoteBankChanged),
            Self::QuoteAttributeChosen => Some(EventKind::QuoteBankChanged),
            Self::DebriefingRecorded => Some(EventKind::DebriefingChanged),
            Self::DebriefingUpdated => Some(EventKind::DebriefingChanged),
            Self::MemoWritten => Some(EventKind::MemoChanged),
            Self::MemoUpdated => Some(EventKind::MemoChanged),
            Self::MemoDeleted => Some(EventKind::MemoChanged),
            Self::SetupCompleted
            | Self::UserDisabled
            | Self::SignedIn
            | Self::SignedOut
            | Self::PasswordChanged
            | Self::InviteCreated
            | Self::InviteWithdrawn
            | Self::InviteAccepted
            | Self::PasswordResetCreated
            | Self::PasswordReset
            | Self::UserEnabled
            | Self::ApiTokenCreated
            | Self::ApiTokenRevoked
            | Self::ProjectCreated
            | Self::VariableCreated
            | Self::ParticipantCreated
            | Self::ParticipantUpdated
            | Self::ParticipantsImported
            | Self::TranscriptImported
            | Self::TranscriptUpdated
            | Self::TranscriptDeleted
            | Self::TranscriptRestored
            | Self::CodebookModeChanged
            | Self::ReconciliationSettingsChanged
            | Self::ExportMade
            | Self::InterviewOrderSet
            | Self::DemoCreated
            | Self::ProjectImported
            | Self::CodebookImported => None,
        }
    }
}

/// One change, named once: its [`Action`] gives the audit row's action and
/// entity type and, where the change is live, the event's kind. Written by
/// [`record`] in one statement inside the caller's transaction.
#[derive(Debug, Clone)]
pub struct Change {
    pub action: Action,
    pub actor_id: Option<UserId>,
    pub project_id: Option<ProjectId>,
    pub entity_id: Option<uuid::Uuid>,
    /// The transcript the change belongs to, for live events' visibility.
    pub transcript_id: Option<TranscriptId>,
    /// Whose layer, codebook, assignment or membership changed, if anyone's.
    pub subject_id: Option<UserId>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl Change {
    pub fn new(actor_id: Option<UserId>, action: Action) -> Self {
        Self {
            action,
            actor_id,
            project_id: None,
            entity_id: None,
            transcript_id: None,
            subject_id: None,
            before: None,
            after: None,
        }
    }

    pub fn project(mut self, project_id: ProjectId) -> Self {
        self.project_id = Some(project_id);
        self
    }

    pub fn entity(mut self, id: uuid::Uuid) -> Self {
        self.entity_id = Some(id);
        self
    }

    pub fn transcript(mut self, id: impl Into<Option<TranscriptId>>) -> Self {
        self.transcript_id = id.into();
        self
    }

    pub fn subject(mut self, id: impl Into<Option<UserId>>) -> Self {
        self.subject_id = id.into();
        self
    }

    pub fn before(mut self, value: &impl Serialize) -> Self {
        self.before = serde_json::to_value(value).ok();
        self
    }

    pub fn after(mut self, value: &impl Serialize) -> Self {
        self.after = serde_json::to_value(value).ok();
        self
    }

    pub fn before_value(mut self, value: Option<serde_json::Value>) -> Self {
        self.before = value;
        self
    }

    pub fn after_value(mut self, value: Option<serde_json::Value>) -> Self {
        self.after = value;
        self
    }
}

/// Writes the change's audit row and, when its action is live and it belongs
/// to a project, its live event, in one statement in the caller's transaction.
/// No NOTIFY is sent here (it would take PostgreSQL's database-wide notify lock
/// at commit): the commit rings the doorbell ([`crate::db::WriteTx::commit`]).
#[tracing::instrument(skip_all, fields(action = change.action.as_str()))]
pub async fn record(conn: &mut PgConnection, change: Change) -> Result<(), AppError> {
    let kind = change.project_id.and(change.action.live_kind());
    // A change to a transcript itself belongs to it, for the audit log's filter.
    let transcript = change.transcript_id.or_else(|| {
        (change.action.entity_type() == "transcript")
            .then_some(change.entity_id.map(TranscriptId))
            .flatten()
    });
    sqlx::query!(
        r#"with audit as (
               insert into audit_events (project_id, actor_id, action, entity_type, entity_id, before, after, transcript_id)
               values ($1, $2, $3, $4, $5, $6, $7, $11)
           )
           insert into project_events (project_id, kind, transcript_id, coder_id, entity_id)
           select $1, $8, $9, $10, $5
            where $8::live_event_kind is not null"#,
        change.project_id as Option<ProjectId>,
        change.actor_id as Option<UserId>,
        change.action.as_str(),
        change.action.entity_type(),
        change.entity_id,
        change.before,
        change.after,
        kind as Option<EventKind>,
        change.transcript_id as Option<TranscriptId>,
        change.subject_id as Option<UserId>,
        transcript as Option<TranscriptId>,
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_listed_once_and_reads_back_from_its_name() {
        let mut names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(action));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
        assert_eq!(Action::parse("forged"), None);
    }
}
