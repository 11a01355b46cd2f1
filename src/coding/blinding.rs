//! Blinding (DESIGN.md invariant 3), decided in one place: what one member may
//! see of other coders' layers and codebooks, in pages, API, events and exports.

use std::collections::HashSet;

use sqlx::PgConnection;

use crate::db::ids::{ProjectId, TranscriptId, UserId};
use crate::error::AppError;
use crate::live::LiveEvent;
use crate::projects::member::Member;
use crate::projects::model::Role;

#[derive(Debug, Clone)]
pub struct Viewer {
    pub user_id: UserId,
    pub role: Role,
    /// Transcripts this member must code and has not submitted yet.
    blinded_on: HashSet<TranscriptId>,
    submitted: HashSet<TranscriptId>,
}

impl Viewer {
    pub async fn load(conn: &mut PgConnection, member: &Member) -> Result<Self, AppError> {
        let rows = sqlx::query!(
            r#"select transcript_id as "transcript_id: TranscriptId", state
                 from assignments
                where project_id = $1 and user_id = $2"#,
            member.project_id as ProjectId,
            member.user.id as UserId
        )
        .fetch_all(conn)
        .await?;
        let mut blinded_on = HashSet::new();
        let mut submitted = HashSet::new();
        for row in rows {
            if row.state == "submitted" {
                submitted.insert(row.transcript_id);
            } else {
                blinded_on.insert(row.transcript_id);
            }
        }
        Ok(Self {
            user_id: member.user.id,
            role: member.role,
            blinded_on,
            submitted,
        })
    }

    /// Still coding some transcript of the project, so blind to other codebooks.
    pub fn is_blind_anywhere(&self) -> bool {
        !self.blinded_on.is_empty()
    }

    /// Has submitted their own layer of `transcript`.
    pub fn has_submitted(&self, transcript: TranscriptId) -> bool {
        self.submitted.contains(&transcript)
    }

    /// Coder `coder`'s layer of `transcript`.
    pub fn can_see_layer(&self, transcript: TranscriptId, coder: UserId) -> bool {
        if coder == self.user_id {
            return true;
        }
        if self.blinded_on.contains(&transcript) {
            return false;
        }
        match self.role {
            Role::Owner | Role::Lead => true,
            Role::Coder => self.submitted.contains(&transcript),
            Role::Reviewer => false,
        }
    }

    /// The codebook of `owner` (None: the shared codebook). A coder's own codes
    /// reveal their reading of every transcript, so only someone blind to none
    /// may see them.
    pub fn can_see_codebook_of(&self, owner: Option<UserId>) -> bool {
        match owner {
            None => true,
            Some(owner) if owner == self.user_id => true,
            Some(_) => matches!(self.role, Role::Owner | Role::Lead) && self.blinded_on.is_empty(),
        }
    }

    /// The reconciliation of a transcript (decisions, comments): leads not still
    /// coding it, and its coders once they have submitted. Reviewers read the
    /// consensus layer too.
    pub fn can_see_reconciliation(&self, transcript: TranscriptId, consensus: bool) -> bool {
        match self.role {
            Role::Owner | Role::Lead => !self.blinded_on.contains(&transcript),
            Role::Coder => self.has_submitted(transcript),
            Role::Reviewer => consensus,
        }
    }

    pub fn can_see(&self, event: &LiveEvent) -> bool {
        let kind = event.kind.as_str();
        if kind.starts_with("coding.") {
            match (event.transcript_id, event.coder_id) {
                (Some(transcript), Some(coder)) => self.can_see_layer(transcript, coder),
                _ => false,
            }
        } else if kind.starts_with("code.") {
            self.can_see_codebook_of(event.coder_id)
        } else if kind.starts_with("decision.") || kind.starts_with("consensus.") {
            match event.transcript_id {
                Some(transcript) => {
                    self.can_see_reconciliation(transcript, kind.starts_with("consensus."))
                }
                None => matches!(self.role, Role::Owner | Role::Lead),
            }
        } else if kind.starts_with("assignment.") {
            event.coder_id == Some(self.user_id) || matches!(self.role, Role::Owner | Role::Lead)
        } else {
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(role: Role, blinded: &[TranscriptId], submitted: &[TranscriptId]) -> Viewer {
        Viewer {
            user_id: UserId::new(),
            role,
            blinded_on: blinded.iter().copied().collect(),
            submitted: submitted.iter().copied().collect(),
        }
    }

    #[test]
    fn layers_stay_hidden_until_the_viewer_has_submitted() {
        let t = TranscriptId::new();
        let other = UserId::new();
        assert!(!viewer(Role::Coder, &[t], &[]).can_see_layer(t, other));
        assert!(viewer(Role::Coder, &[], &[t]).can_see_layer(t, other));
        assert!(
            !viewer(Role::Coder, &[], &[]).can_see_layer(t, other),
            "a coder not on it sees nothing"
        );
        assert!(
            !viewer(Role::Lead, &[t], &[]).can_see_layer(t, other),
            "a lead assigned to code is blind too"
        );
        assert!(viewer(Role::Lead, &[], &[]).can_see_layer(t, other));
        assert!(!viewer(Role::Reviewer, &[], &[]).can_see_layer(t, other));
        let me = viewer(Role::Coder, &[t], &[]);
        assert!(me.can_see_layer(t, me.user_id));
    }

    #[test]
    fn codebooks_of_others_are_hidden_from_anyone_still_coding() {
        let t = TranscriptId::new();
        let other = Some(UserId::new());
        assert!(viewer(Role::Coder, &[], &[]).can_see_codebook_of(None));
        assert!(!viewer(Role::Coder, &[], &[t]).can_see_codebook_of(other));
        assert!(viewer(Role::Lead, &[], &[]).can_see_codebook_of(other));
        assert!(!viewer(Role::Owner, &[t], &[]).can_see_codebook_of(other));
    }

    #[test]
    fn reconciliation_is_seen_by_leads_and_the_coders_who_submitted() {
        let t = TranscriptId::new();
        assert!(viewer(Role::Lead, &[], &[]).can_see_reconciliation(t, false));
        assert!(!viewer(Role::Lead, &[t], &[]).can_see_reconciliation(t, false));
        assert!(viewer(Role::Coder, &[], &[t]).can_see_reconciliation(t, false));
        assert!(!viewer(Role::Coder, &[t], &[]).can_see_reconciliation(t, false));
        assert!(!viewer(Role::Coder, &[], &[]).can_see_reconciliation(t, false));
        assert!(!viewer(Role::Reviewer, &[], &[]).can_see_reconciliation(t, false));
        assert!(viewer(Role::Reviewer, &[], &[]).can_see_reconciliation(t, true));
    }
}
