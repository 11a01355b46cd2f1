//! The audit log (DESIGN.md invariant 5): every change writes one row in the
//! transaction that makes the change, so the row exists exactly when the change does.

use serde::Serialize;
use sqlx::PgConnection;

use crate::db::ids::{ProjectId, UserId};
use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SetupCompleted,
    SignedIn,
    SignedOut,
    PasswordChanged,
    InviteCreated,
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
    AgreedCodeSplit,
    AgreedCodeDeleted,
    AgreedCodeRestored,
    ReconciliationSettingsChanged,
    DemoCreated,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SetupCompleted => "setup.completed",
            Self::SignedIn => "session.signed_in",
            Self::SignedOut => "session.signed_out",
            Self::PasswordChanged => "user.password_changed",
            Self::InviteCreated => "invite.created",
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
            Self::AgreedCodeSplit => "agreed_code.split",
            Self::AgreedCodeDeleted => "agreed_code.deleted",
            Self::AgreedCodeRestored => "agreed_code.restored",
            Self::ReconciliationSettingsChanged => "project.reconciliation_settings_changed",
            Self::DemoCreated => "demo.created",
        }
    }
}

/// One audit row. `before`/`after` are the entity's JSON form (never secrets).
pub struct Event<'a> {
    pub project_id: Option<ProjectId>,
    pub actor_id: Option<UserId>,
    pub action: Action,
    pub entity_type: &'a str,
    pub entity_id: Option<uuid::Uuid>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl<'a> Event<'a> {
    pub fn new(actor_id: Option<UserId>, action: Action, entity_type: &'a str) -> Self {
        Self {
            project_id: None,
            actor_id,
            action,
            entity_type,
            entity_id: None,
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

    pub fn before(mut self, value: &impl Serialize) -> Self {
        self.before = serde_json::to_value(value).ok();
        self
    }

    pub fn after(mut self, value: &impl Serialize) -> Self {
        self.after = serde_json::to_value(value).ok();
        self
    }
}

#[tracing::instrument(skip_all, fields(action = event.action.as_str()))]
pub async fn record(conn: &mut PgConnection, event: Event<'_>) -> Result<(), AppError> {
    sqlx::query!(
        r#"insert into audit_events (project_id, actor_id, action, entity_type, entity_id, before, after)
           values ($1, $2, $3, $4, $5, $6, $7)"#,
        event.project_id as Option<ProjectId>,
        event.actor_id as Option<UserId>,
        event.action.as_str(),
        event.entity_type,
        event.entity_id,
        event.before,
        event.after,
    )
    .execute(conn)
    .await?;
    Ok(())
}
