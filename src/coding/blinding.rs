//! Blinding (DESIGN.md invariant 3), decided in one place: what one member may
//! see of other coders' layers and codebooks, in pages, API, events and exports.

use std::collections::HashSet;

use sqlx::PgConnection;

use crate::db::ids::{ProjectId, TranscriptId, UserId};
use crate::error::AppError;
use crate::live::{EventKind, LiveEvent};
use crate::projects::member::{Actor, Member};
use crate::projects::model::Role;

#[derive(Debug, Clone)]
pub struct Viewer {
    pub user_id: UserId,
    pub role: Role,
    /// Transcripts this member must code and has not submitted yet.
    blinded_on: HashSet<TranscriptId>,
    submitted: HashSet<TranscriptId>,
    /// Transcripts whose every assigned coder has submitted.
    complete: HashSet<TranscriptId>,
}

/// Proof that the viewer may read every coder's codebook of the project: store
/// functions that return them take one, and only [`Viewer`] makes it.
#[derive(Debug, Clone, Copy)]
pub struct AllCodebooks(());

/// Proof that the viewer may read the agreed codebook and what is built on it
/// (the theme hierarchy, its counts and quotes): only [`Viewer::agreed_codebook`]
/// makes one.
#[derive(Debug, Clone, Copy)]
pub struct AgreedCodebook(());

/// Proof that the viewer may read every coder's layer of these transcripts.
#[derive(Debug, Clone)]
pub struct LayersOf(Vec<TranscriptId>);

impl LayersOf {
    pub fn transcripts(&self) -> &[TranscriptId] {
        &self.0
    }
}

impl Viewer {
    pub async fn load(conn: &mut PgConnection, member: &Member) -> Result<Self, AppError> {
        Self::load_as(conn, member.project_id, member.user.id, member.role).await
    }

    /// [`Viewer::load`] for a service's actor.
    pub async fn of(conn: &mut PgConnection, actor: &Actor) -> Result<Self, AppError> {
        Self::load_as(conn, actor.project_id, actor.user_id, actor.role).await
    }

    async fn load_as(
        conn: &mut PgConnection,
        project: ProjectId,
        user: UserId,
        role: Role,
    ) -> Result<Self, AppError> {
        let rows = sqlx::query!(
            r#"select transcript_id as "transcript_id: TranscriptId",
                      bool_or(user_id = $2) as "mine!",
                      bool_or(user_id = $2 and state = 'submitted') as "mine_submitted!",
                      bool_and(state = 'submitted') as "all_submitted!"
                 from assignments
                where project_id = $1
                group by transcript_id"#,
            project as ProjectId,
            user as UserId
        )
        .fetch_all(conn)
        .await?;
        let mut blinded_on = HashSet::new();
        let mut submitted = HashSet::new();
        let mut complete = HashSet::new();
        for row in rows {
            if row.mine_submitted {
                submitted.insert(row.transcript_id);
            } else if row.mine {
                blinded_on.insert(row.transcript_id);
            }
            if row.all_submitted {
                complete.insert(row.transcript_id);
            }
        }
        Ok(Self {
            user_id: user,
            role,
            blinded_on,
            submitted,
            complete,
        })
    }

    /// What the automatic filing of agreements reads, as nobody's view: every
    /// layer of a transcript whose every assigned coder has submitted (nobody
    /// is blind to those any more), and nothing of any other transcript.
    pub async fn automatic(conn: &mut PgConnection, project: ProjectId) -> Result<Self, AppError> {
        let rows = sqlx::query!(
            r#"select transcript_id as "transcript_id: TranscriptId",
                      bool_and(state = 'submitted') as "all_submitted!"
                 from assignments
                where project_id = $1
                group by transcript_id"#,
            project as ProjectId
        )
        .fetch_all(conn)
        .await?;
        let mut blinded_on = HashSet::new();
        let mut complete = HashSet::new();
        for row in rows {
            if row.all_submitted {
                complete.insert(row.transcript_id);
            } else {
                blinded_on.insert(row.transcript_id);
            }
        }
        Ok(Self {
            user_id: UserId(uuid::Uuid::nil()),
            role: Role::Lead,
            blinded_on,
            submitted: HashSet::new(),
            complete,
        })
    }

    /// Every coder's codebook, for a lead or owner blind to nothing.
    pub fn all_codebooks(&self) -> Result<AllCodebooks, AppError> {
        if matches!(self.role, Role::Owner | Role::Lead) && self.blinded_on.is_empty() {
            Ok(AllCodebooks(()))
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Of `transcripts`, those whose every layer the viewer may read: leads
    /// not coding them, and coders who have submitted theirs.
    pub fn layers_of(&self, transcripts: impl IntoIterator<Item = TranscriptId>) -> LayersOf {
        LayersOf(
            transcripts
                .into_iter()
                .filter(|t| match self.role {
                    Role::Owner | Role::Lead => !self.blinded_on.contains(t),
                    Role::Coder => self.submitted.contains(t),
                    Role::Reviewer => false,
                })
                .collect(),
        )
    }

    /// The consensus layer of `transcript`: who reads the reconciliation, and
    /// coders only once every coder of it has submitted (until then it could
    /// carry traces of the others' layers).
    pub fn require_consensus(&self, transcript: TranscriptId) -> Result<(), AppError> {
        if !self.can_see_reconciliation(transcript, true) {
            return Err(AppError::Forbidden);
        }
        if self.role == Role::Coder && !self.complete.contains(&transcript) {
            return Err(AppError::State(
                "The consensus layer opens to coders once every coder of this transcript has submitted.".into(),
            ));
        }
        Ok(())
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

    /// Another member's progress on `transcript` (state and lines touched): a
    /// lead still coding it sees only their own, like any coder.
    pub fn can_see_progress_of(&self, transcript: TranscriptId, coder: UserId) -> bool {
        coder == self.user_id
            || (matches!(self.role, Role::Owner | Role::Lead)
                && !self.blinded_on.contains(&transcript))
    }

    /// The agreed codebook and everything built on it (themes, counts): not for
    /// anyone still coding some transcript, whose inductive reading it would bias.
    pub fn can_see_agreed_codebook(&self) -> bool {
        self.blinded_on.is_empty()
    }

    /// The agreed codebook and the theme hierarchy, or why not: a member still
    /// coding any transcript of the project would have their reading biased.
    pub fn agreed_codebook(&self) -> Result<AgreedCodebook, AppError> {
        if self.can_see_agreed_codebook() {
            Ok(AgreedCodebook(()))
        } else {
            Err(AppError::State(
                "The agreed codebook and the themes open once you have submitted every transcript you are coding.".into(),
            ))
        }
    }

    /// Who sees a live event. One arm per kind and no default arm: a new kind
    /// does not compile until it is decided here.
    pub fn can_see(&self, event: &LiveEvent) -> bool {
        let lead = matches!(self.role, Role::Owner | Role::Lead);
        match event.kind {
            EventKind::ProjectUpdated => true,
            EventKind::MemberChanged => event.coder_id == Some(self.user_id) || lead,
            EventKind::AssignmentUpdated => match (event.transcript_id, event.coder_id) {
                (Some(transcript), Some(coder)) => self.can_see_progress_of(transcript, coder),
                _ => false,
            },
            EventKind::CodeCreated
            | EventKind::CodeUpdated
            | EventKind::CodeMerged
            | EventKind::CodeDeleted
            | EventKind::CodeRestored => self.can_see_codebook_of(event.coder_id),
            EventKind::CodingCreated
            | EventKind::CodingUpdated
            | EventKind::CodingDeleted
            | EventKind::CodingRestored => match (event.transcript_id, event.coder_id) {
                (Some(transcript), Some(coder)) => self.can_see_layer(transcript, coder),
                _ => false,
            },
            EventKind::DecisionMade | EventKind::DecisionComment => match event.transcript_id {
                Some(transcript) => self.can_see_reconciliation(transcript, false),
                None => lead,
            },
            EventKind::ConsensusCoding => match event.transcript_id {
                Some(transcript) => self.can_see_reconciliation(transcript, true),
                None => lead,
            },
            EventKind::ConsensusCodeCreated
            | EventKind::ConsensusCodeUpdated
            | EventKind::ConsensusCodeMerged
            | EventKind::ConsensusCodeSplit
            | EventKind::ConsensusCodeDeleted
            | EventKind::ConsensusCodeRestored
            | EventKind::ThemeChanged
            | EventKind::QuoteBankChanged => self.can_see_agreed_codebook(),
            // An alignment maps every coder's codes onto the agreed codebook:
            // for those who may read every codebook (leads coding nothing).
            EventKind::AlignmentChanged => self.all_codebooks().is_ok(),
            // Review rounds are between the leads and the reviewers.
            EventKind::ReviewChanged => lead || self.role == Role::Reviewer,
            // Debriefing records speak of the agreed codebook, to the team.
            EventKind::DebriefingChanged => {
                self.role != Role::Reviewer && self.can_see_agreed_codebook()
            }
            // A journal entry names its author: theirs, and the leads' once
            // they are not coding; analytic memos go to the team.
            EventKind::MemoChanged => match event.coder_id {
                Some(author) => author == self.user_id || (lead && self.can_see_agreed_codebook()),
                None => self.role != Role::Reviewer && self.can_see_agreed_codebook(),
            },
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
            complete: HashSet::new(),
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

    #[test]
    fn alignments_are_announced_to_those_who_may_read_every_codebook() {
        let t = TranscriptId::new();
        let aligned = event(EventKind::AlignmentChanged, None);
        assert!(viewer(Role::Lead, &[], &[]).can_see(&aligned));
        assert!(viewer(Role::Owner, &[], &[t]).can_see(&aligned));
        assert!(
            !viewer(Role::Lead, &[t], &[]).can_see(&aligned),
            "a lead still coding is blind to the other codebooks"
        );
        assert!(!viewer(Role::Coder, &[], &[t]).can_see(&aligned));
        assert!(!viewer(Role::Reviewer, &[], &[]).can_see(&aligned));
    }

    fn event(kind: EventKind, coder: Option<UserId>) -> LiveEvent {
        LiveEvent {
            id: 1,
            position: Default::default(),
            project_id: ProjectId::new(),
            kind,
            transcript_id: None,
            coder_id: coder,
            entity_id: None,
        }
    }

    #[test]
    fn memo_and_debriefing_events_follow_who_may_read_them() {
        let t = TranscriptId::new();
        let author = viewer(Role::Coder, &[t], &[]);
        let journal = event(EventKind::MemoChanged, Some(author.user_id));
        assert!(
            author.can_see(&journal),
            "a journal's author, even while coding"
        );
        assert!(viewer(Role::Lead, &[], &[]).can_see(&journal));
        assert!(
            !viewer(Role::Lead, &[t], &[]).can_see(&journal),
            "a lead still coding"
        );
        assert!(
            !viewer(Role::Coder, &[], &[]).can_see(&journal),
            "another coder"
        );
        assert!(!viewer(Role::Reviewer, &[], &[]).can_see(&journal));

        let analytic = event(EventKind::MemoChanged, None);
        let debriefing = event(EventKind::DebriefingChanged, None);
        for e in [&analytic, &debriefing] {
            assert!(viewer(Role::Coder, &[], &[t]).can_see(e));
            assert!(viewer(Role::Owner, &[], &[]).can_see(e));
            assert!(
                !viewer(Role::Coder, &[t], &[]).can_see(e),
                "a coder still coding"
            );
            assert!(!viewer(Role::Reviewer, &[], &[]).can_see(e));
        }
    }
}
