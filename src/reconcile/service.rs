//! Reconciliation: the discrepancies of a transcript (computed, invariant 8),
//! the lead's decisions on them (append-only, invariant 5), comments, and the
//! consensus layer the decisions make.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use super::model::{self, DecisionKind, Side, Snapshot};
use super::store::{self, Comment, ConsensusCoding, Decision, NewConsensus, NewDecision, Settings};
use crate::agreement::{DiscrepancyKind, Ratio, Segment, UnitLevel};
use crate::coding::blinding::Viewer;
use crate::compare::report::{self, ProjectReport, Scope};
use crate::db::audit::{self, Action, Change};
use crate::db::ids::{
    AgreedCodeId, ConsensusCodingId, DecisionId, ProjectId, TranscriptId, UserId,
};
use crate::error::{AppError, FieldErrors};
use crate::projects::member::Actor;
use crate::projects::model::Role;

const MAX_RATIONALE_CHARS: usize = 5_000;
const MAX_COMMENT_CHARS: usize = 5_000;

#[derive(Debug, Clone, Serialize)]
pub struct CoderJson {
    pub id: crate::db::ids::UserId,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CodeJson {
    pub id: AgreedCodeId,
    pub name: String,
    pub color: String,
}

/// One discrepancy (or agreement) with its decisions and discussion.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub key: String,
    pub discrepancy: Snapshot,
    /// 1-based line where it starts.
    pub line: usize,
    /// Overlap of the two spans (intersection over union), exact as in the agreement
    /// report: `"21/25"`.
    pub overlap: Option<Ratio>,
    pub offered: Vec<DecisionKind>,
    /// Every decision on it, oldest first.
    pub history: Vec<Decision>,
    /// The decision in force (none when undecided, undone or outdated).
    pub current: Option<Decision>,
    /// The last decision, when it was taken on the discrepancy as it was before
    /// the layers or the alignment changed it (other codes, spans or codings):
    /// the discrepancy is open again. Its consensus spans stay until the lead
    /// decides again, which replaces them.
    pub outdated: Option<Decision>,
    pub comments: Vec<Comment>,
    /// Decided, or an agreement accepted automatically.
    pub resolved: bool,
    /// Counted in "n of m": not an agreement that is accepted automatically.
    pub counted: bool,
    /// Still in the current discrepancy list (false: the codings that formed it changed since).
    pub present: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reconciliation {
    pub project_id: crate::db::ids::ProjectId,
    pub transcript_id: TranscriptId,
    pub title: String,
    pub text: String,
    pub lines: Vec<crate::import::Span>,
    pub turns: Vec<crate::import::Turn>,
    pub coders: Vec<CoderJson>,
    /// Discrepancies first, in text order; agreements after them.
    pub items: Vec<Item>,
    /// Decisions in force on discrepancies that are no longer in the list.
    pub orphans: Vec<Item>,
    /// Coder codes on this transcript not aligned onto the agreed codebook yet:
    /// their codings are in no discrepancy, so the transcript is not reconciled
    /// until they are aligned.
    pub unaligned: Vec<UnalignedCode>,
    pub consensus: Vec<ConsensusCoding>,
    pub codes: Vec<CodeJson>,
    pub resolved: usize,
    pub total: usize,
    pub reconciled: bool,
    pub settings: Settings,
    pub can_decide: bool,
    pub can_comment: bool,
    pub api: String,
    pub events_url: String,
}

/// A coder's code with codings on the transcript that no agreed code stands for yet.
#[derive(Debug, Clone, Serialize)]
pub struct UnalignedCode {
    pub code_id: crate::db::ids::CodeId,
    pub name: String,
    pub coder: crate::db::ids::UserId,
    pub codings: usize,
}

/// Agreed codes merged into others, so that a decision on a code merged away
/// stays in force on the code it went into.
struct Merges(HashMap<uuid::Uuid, uuid::Uuid>);

impl Merges {
    async fn load(
        conn: &mut PgConnection,
        project: crate::db::ids::ProjectId,
    ) -> Result<Self, AppError> {
        let rows = sqlx::query!(
            r#"select id, merged_into as "merged_into!" from agreed_codes
                where project_id = $1 and merged_into is not null"#,
            project.0
        )
        .fetch_all(conn)
        .await?;
        Ok(Self(
            rows.into_iter().map(|r| (r.id, r.merged_into)).collect(),
        ))
    }

    fn follow(&self, mut code: uuid::Uuid) -> uuid::Uuid {
        for _ in 0..64 {
            match self.0.get(&code) {
                Some(next) => code = *next,
                None => break,
            }
        }
        code
    }
}

/// Where a discrepancy stands, given its decisions. The one rule behind both
/// the reconciliation page and every progress count.
struct Standing<'a> {
    current: Option<&'a Decision>,
    outdated: Option<&'a Decision>,
    resolved: bool,
    counted: bool,
}

fn standing<'a>(
    now: &Snapshot,
    history: &[&'a Decision],
    auto_accept: bool,
    merges: &Merges,
) -> Standing<'a> {
    let auto = now.kind == "agreement" && auto_accept;
    match chain_end(history).filter(|d| d.kind != "undo") {
        Some(d) if model::still_decides(&d.discrepancy.0, now, |c| merges.follow(c)) => Standing {
            current: Some(d),
            outdated: None,
            resolved: true,
            counted: !auto,
        },
        Some(d) => {
            // An automatic acceptance of what is still an agreement (under other
            // codes now) is filed again automatically; a lead's decision is not.
            let refiled = auto && d.auto;
            Standing {
                current: None,
                outdated: Some(d),
                resolved: refiled,
                counted: !refiled,
            }
        }
        None => Standing {
            current: None,
            outdated: None,
            resolved: auto && history.is_empty(),
            counted: !auto,
        },
    }
}

/// Each discrepancy key's decisions, oldest first.
fn histories(decisions: &[Decision]) -> HashMap<(TranscriptId, &str), Vec<&Decision>> {
    let mut by_key: HashMap<(TranscriptId, &str), Vec<&Decision>> = HashMap::new();
    for d in decisions {
        by_key
            .entry((d.transcript_id, d.key.as_str()))
            .or_default()
            .push(d);
    }
    by_key
}

fn kind_name(kind: DiscrepancyKind) -> &'static str {
    match kind {
        DiscrepancyKind::Agreement => "agreement",
        DiscrepancyKind::Boundary => "boundary",
        DiscrepancyKind::DifferentCode => "different_code",
        DiscrepancyKind::PartialOverlap => "partial_overlap",
        DiscrepancyKind::OnlyA => "only_a",
        DiscrepancyKind::OnlyB => "only_b",
    }
}

/// The report of one transcript, or why the actor may not reconcile it.
async fn transcript_report(
    conn: &mut PgConnection,
    actor: &Actor,
    transcript: TranscriptId,
) -> Result<ProjectReport, AppError> {
    if actor.role == Role::Reviewer {
        return Err(AppError::Forbidden);
    }
    let viewer = Viewer::of(&mut *conn, actor).await?;
    let report = report::build_scoped_in(
        conn,
        report::Of::actor(actor),
        &viewer,
        UnitLevel::Line,
        Some(transcript),
        Scope::Discrepancies,
    )
    .await?;
    if let Some(excluded) = report.excluded.first() {
        return Err(match excluded.reason {
            "you did not code this transcript" => AppError::Forbidden,
            reason => AppError::State(format!(
                "This transcript cannot be reconciled yet: {reason}."
            )),
        });
    }
    Ok(report)
}

/// The current discrepancies of the one transcript of `report`, as snapshots.
fn snapshots(
    report: &ProjectReport,
    codes: &HashMap<uuid::Uuid, AgreedCodeId>,
) -> Vec<(String, Snapshot, usize, Option<Ratio>)> {
    snapshots_of(report, 0, codes)
}

/// The current discrepancies of the `index`-th transcript of `report`, as
/// snapshots with their keys, lines and overlaps.
fn snapshots_of(
    report: &ProjectReport,
    index: usize,
    codes: &HashMap<uuid::Uuid, AgreedCodeId>,
) -> Vec<(String, Snapshot, usize, Option<Ratio>)> {
    let Some(per_transcript) = report.report.discrepancies.per_transcript.get(index) else {
        return Vec::new();
    };
    let side = |s: &Option<Segment>| {
        s.as_ref().map(|s| {
            let info = &report.codes[s.code.0 as usize];
            Side {
                code_id: codes.get(&info.id).map(|a| a.0).unwrap_or(info.id),
                code_name: info.name.clone(),
                start: s.start,
                end: s.end,
                codings: s
                    .codings
                    .iter()
                    .map(|k| report.codings[*k as usize])
                    .collect(),
            }
        })
    };
    let mut out = Vec::new();
    for pair in &per_transcript.pairs {
        for d in &pair.discrepancies {
            let snapshot = Snapshot {
                kind: kind_name(d.kind).to_owned(),
                coder_a: report.coders[pair.coder_a.0 as usize].user_id,
                coder_b: report.coders[pair.coder_b.0 as usize].user_id,
                a: side(&d.a),
                b: side(&d.b),
            };
            let empty = Vec::new();
            let key = model::discrepancy_key(
                snapshot.a.as_ref().map(|s| &s.codings).unwrap_or(&empty),
                snapshot.b.as_ref().map(|s| &s.codings).unwrap_or(&empty),
            );
            let start = d.a.as_ref().or(d.b.as_ref()).map(|s| s.start).unwrap_or(0);
            let line = report.line_of(index, start);
            out.push((key, snapshot, line, d.overlap));
        }
    }
    out
}

/// Filings of one project take turns, until the end of the transaction:
/// each reads what the one before it committed. Two writes that together make
/// an agreement (two codes aligned onto one agreed code at the same moment)
/// would otherwise each see only their own half, and neither would file it;
/// two mirrors of one new shared code would make it twice.
async fn lock_filing(conn: &mut PgConnection, project: ProjectId) -> Result<(), AppError> {
    sqlx::query!(
        "select id from projects where id = $1 for no key update",
        project.0
    )
    .fetch_optional(conn)
    .await?;
    Ok(())
}

/// [`file_automatic`] for a change `actor` makes to their project, filed as theirs.
pub async fn file_automatic_for(
    conn: &mut PgConnection,
    actor: &Actor,
    which: Refile,
) -> Result<(), AppError> {
    file_automatic(conn, report::Of::actor(actor), actor.user_id, which).await
}

/// The transcripts [`file_automatic`] looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refile {
    One(TranscriptId),
    /// Every transcript of the project (only complete ones have agreements).
    All,
}

/// Files, in the caller's transaction, what the project accepts on its own.
/// With a shared codebook every shared code first gets its agreed code (so
/// decisions and the consensus layer speak of agreed codes only). Then, when
/// the project accepts agreements automatically, every agreement of a
/// transcript all of whose coders have submitted that nobody has decided on
/// is accepted, and an automatic acceptance a change of codes has outdated is
/// filed again. Every write that can change a complete transcript's
/// agreements calls it (the last coder's submit, a withdrawn assignment,
/// alignments, merges, splits, deletions and restores of codes, the setting
/// turned on, a decision); a page never does. The rows are the
/// actor's, marked automatic.
pub async fn file_automatic(
    conn: &mut PgConnection,
    of: report::Of,
    actor: UserId,
    which: Refile,
) -> Result<(), AppError> {
    lock_filing(&mut *conn, of.project).await?;
    if of.shared {
        crate::codebook::service::mirror_shared(&mut *conn, of.project, actor).await?;
    }
    if !store::settings(&mut *conn, of.project)
        .await?
        .auto_accept_agreements
    {
        return Ok(());
    }
    let viewer = Viewer::automatic(&mut *conn, of.project).await?;
    let only = match which {
        Refile::One(transcript) => Some(transcript),
        Refile::All => None,
    };
    let report = match report::build_scoped_in(
        &mut *conn,
        of,
        &viewer,
        UnitLevel::Line,
        only,
        Scope::Discrepancies,
    )
    .await
    {
        Ok(report) if !report.included.is_empty() => report,
        Ok(_) | Err(AppError::NotFound) => return Ok(()),
        Err(e) => return Err(e),
    };
    let codes = crate::codebook::service::agreed_ids(&mut *conn, of).await?;
    let merges = Merges::load(&mut *conn, of.project).await?;
    let decisions = store::list_decisions(&mut *conn, of.project, only).await?;
    for (index, transcript) in report.included.iter().enumerate() {
        let found = snapshots_of(&report, index, &codes);
        refile(
            &mut *conn,
            of,
            actor,
            transcript.id,
            &found,
            &decisions,
            &merges,
        )
        .await?;
    }
    Ok(())
}

/// Of `found` (the discrepancies of `transcript`), files an automatic
/// acceptance of each agreement nobody has decided on, and again of each
/// automatic acceptance a change of codes has outdated.
async fn refile(
    conn: &mut PgConnection,
    of: report::Of,
    actor: UserId,
    transcript: TranscriptId,
    found: &[(String, Snapshot, usize, Option<Ratio>)],
    decisions: &[Decision],
    merges: &Merges,
) -> Result<(), AppError> {
    let by_key = histories(decisions);
    let refile: Vec<(String, Snapshot, Option<DecisionId>)> = found
        .iter()
        .filter(|(_, s, ..)| s.kind == "agreement")
        .filter_map(
            |(key, s, ..)| match by_key.get(&(transcript, key.as_str())) {
                None => Some((key.clone(), s.clone(), None)),
                Some(history) => standing(s, history, true, merges)
                    .outdated
                    .filter(|d| d.auto)
                    .map(|d| (key.clone(), s.clone(), Some(d.id))),
            },
        )
        .collect();
    if refile.is_empty() {
        return Ok(());
    }
    auto_accept(conn, of.project, actor, transcript, &refile).await
}

fn can_decide(actor: &Actor) -> bool {
    actor.require(&[Role::Lead]).is_ok() && actor.project.archived_at.is_none()
}

/// The reconciliation of one transcript as `member` may see it. It writes
/// nothing: what the project accepts on its own was filed by the writes that
/// made it ([`file_automatic`]).
pub async fn load(
    conn: &mut PgConnection,
    actor: &Actor,
    transcript: TranscriptId,
) -> Result<Reconciliation, AppError> {
    let report = transcript_report(&mut *conn, actor, transcript).await?;
    let settings = store::settings(&mut *conn, actor.project_id).await?;
    let codes = crate::codebook::service::agreed_ids(&mut *conn, report::Of::actor(actor)).await?;
    let found = snapshots(&report, &codes);
    let merges = Merges::load(&mut *conn, actor.project_id).await?;
    let decisions = store::list_decisions(&mut *conn, actor.project_id, Some(transcript)).await?;
    let comments = store::list_comments(&mut *conn, transcript).await?;
    let consensus = store::list_consensus(&mut *conn, actor.project_id, Some(transcript)).await?;
    let agreed = crate::codebook::store::list_agreed(&mut *conn, actor.project_id).await?;
    let t =
        crate::transcripts::store::get_transcript(&mut *conn, actor.project_id, transcript).await?;
    let unaligned = unaligned_codes(&mut *conn, &report, transcript).await?;

    let by_key = histories(&decisions);
    let make_item = |key: &str, snapshot: Snapshot, line: usize, overlap, present: bool| {
        let history: Vec<&Decision> = by_key.get(&(transcript, key)).cloned().unwrap_or_default();
        let st = standing(
            &snapshot,
            &history,
            settings.auto_accept_agreements,
            &merges,
        );
        Item {
            key: key.to_owned(),
            offered: model::offered(&snapshot),
            line,
            overlap,
            resolved: st.resolved,
            counted: st.counted,
            present,
            comments: comments.iter().filter(|c| c.key == key).cloned().collect(),
            current: st.current.cloned(),
            outdated: st.outdated.cloned(),
            discrepancy: snapshot,
            history: history.into_iter().cloned().collect(),
        }
    };
    let mut items: Vec<Item> = found
        .iter()
        .map(|(key, s, line, overlap)| make_item(key, s.clone(), *line, *overlap, true))
        .collect();
    // Discrepancies first, in text order; then the agreements.
    items.sort_by_key(|i| {
        (
            i.discrepancy.kind == "agreement",
            i.line,
            start_of(&i.discrepancy),
        )
    });
    let mut orphans = Vec::new();
    for ((_, key), history) in &by_key {
        if found.iter().any(|(k, ..)| k == key) {
            continue;
        }
        let Some(end) = chain_end(history).cloned() else {
            continue;
        };
        if end.kind == "undo" {
            continue;
        }
        let start = start_of(&end.discrepancy.0);
        let line = t
            .text
            .chars()
            .take(start as usize)
            .filter(|c| *c == '\n')
            .count()
            + 1;
        orphans.push(make_item(key, end.discrepancy.0.clone(), line, None, false));
    }
    let total = items.iter().filter(|i| i.counted).count();
    let resolved = items.iter().filter(|i| i.counted && i.resolved).count();
    let api = format!("/api/v1/projects/{}", actor.project_id);
    Ok(Reconciliation {
        project_id: actor.project_id,
        transcript_id: transcript,
        title: t.title,
        lines: crate::coding::line_spans(&t.text),
        turns: t.turns.0,
        text: t.text,
        coders: report
            .coders
            .iter()
            .map(|c| CoderJson {
                id: c.user_id,
                name: c.name.clone(),
            })
            .collect(),
        reconciled: resolved == total && unaligned.is_empty(),
        items,
        orphans,
        unaligned,
        consensus,
        codes: agreed
            .into_iter()
            .map(|a| CodeJson {
                id: a.id,
                name: a.name,
                color: a.color,
            })
            .collect(),
        resolved,
        total,
        settings,
        can_decide: can_decide(actor),
        can_comment: actor.project.archived_at.is_none(),
        events_url: format!("{api}/events"),
        api,
    })
}

fn start_of(s: &Snapshot) -> u32 {
    s.a.iter()
        .chain(s.b.iter())
        .map(|s| s.start)
        .min()
        .unwrap_or(0)
}

/// The decision nothing supersedes, of one discrepancy's history.
fn chain_end<'a>(history: &[&'a Decision]) -> Option<&'a Decision> {
    history
        .iter()
        .find(|d| !history.iter().any(|n| n.supersedes == Some(d.id)))
        .copied()
}

/// The coder codes of `transcript` that no agreed code stands for, with how
/// many codings each has there.
async fn unaligned_codes(
    conn: &mut PgConnection,
    report: &ProjectReport,
    transcript: TranscriptId,
) -> Result<Vec<UnalignedCode>, AppError> {
    let Some(rows) = report.unaligned_codings.get(&transcript) else {
        return Ok(Vec::new());
    };
    let mut counts: std::collections::BTreeMap<
        (crate::db::ids::UserId, crate::db::ids::CodeId),
        usize,
    > = Default::default();
    for key in rows {
        *counts.entry(*key).or_default() += 1;
    }
    let ids: Vec<uuid::Uuid> = counts.keys().map(|(_, c)| c.0).collect();
    let names: HashMap<uuid::Uuid, String> =
        sqlx::query!("select id, name from codes where id = any($1)", &ids)
            .fetch_all(conn)
            .await?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect();
    Ok(counts
        .into_iter()
        .map(|((coder, code), codings)| UnalignedCode {
            code_id: code,
            name: names.get(&code.0).cloned().unwrap_or_default(),
            coder,
            codings,
        })
        .collect())
}

/// Files an automatic `accept_a` for every agreement nobody has decided on,
/// and again (superseding it) for an automatic acceptance a change of codes
/// has outdated.
async fn auto_accept(
    tx: &mut PgConnection,
    project: ProjectId,
    actor: UserId,
    transcript: TranscriptId,
    found: &[(String, Snapshot, Option<DecisionId>)],
) -> Result<(), AppError> {
    let mut filed = Vec::new();
    for (key, snapshot, supersedes) in found.iter().filter(|(_, s, _)| s.kind == "agreement") {
        let Some(a) = &snapshot.a else { continue };
        let id = DecisionId::new();
        let inserted = store::insert_decision(
            tx,
            &NewDecision {
                id,
                project,
                transcript,
                key,
                kind: DecisionKind::AcceptA.as_str(),
                auto: true,
                agreed_code: None,
                rationale: "",
                discrepancy: snapshot,
                supersedes: *supersedes,
                decided_by: actor,
            },
        )
        .await?;
        if !inserted {
            continue;
        }
        let retired = match supersedes {
            Some(previous) => store::retire_decision_codings(tx, *previous).await?,
            None => Vec::new(),
        };
        store::insert_consensus(
            tx,
            &NewConsensus {
                id: ConsensusCodingId::new(),
                project,
                transcript,
                code: AgreedCodeId(a.code_id),
                start: a.start as i32,
                end: a.end as i32,
                memo: String::new(),
                decision: Some(id),
                created_by: actor,
            },
        )
        .await?;
        filed.push(serde_json::json!({
            "decision": id, "key": key, "superseded": supersedes, "retired_codings": retired,
        }));
    }
    if filed.is_empty() {
        return Ok(());
    }
    audit::record(
        tx,
        Change::new(Some(actor), Action::DecisionsAutoAccepted)
            .project(project)
            .entity(transcript.0)
            .after(&filed)
            .transcript(Some(transcript)),
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct DecideRequest {
    pub key: String,
    pub kind: String,
    /// The agreed code of a relabel, or of a union / intersection of two codes.
    #[serde(default)]
    pub code_id: Option<AgreedCodeId>,
    /// Relabel to a new agreed code of this name.
    #[serde(default)]
    pub new_code_name: Option<String>,
    #[serde(default)]
    pub rationale: String,
    /// The decision the client saw in force (null: none). A different one
    /// answers 409 with the current state.
    #[serde(default, with = "double_option")]
    pub supersedes: Option<Option<DecisionId>>,
}

pub mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// Records the lead's decision on one discrepancy and remakes its part of the
/// consensus layer: what the superseded decision made is retired, the new
/// spans are added, in one transaction with the audit row and live event.
pub async fn decide(
    conn: &mut PgConnection,
    actor: &Actor,
    transcript: TranscriptId,
    request: DecideRequest,
) -> Result<Decision, AppError> {
    actor.require(&[Role::Lead])?;
    actor.require_active()?;
    let kind = DecisionKind::parse(&request.kind).ok_or_else(|| {
        AppError::field(
            "kind",
            "Choose accept_a, accept_b, both, union, intersection, relabel, reject or undo.",
        )
    })?;
    let rationale = request.rationale.trim().to_owned();
    let mut errors = FieldErrors::new();
    if rationale.chars().count() > MAX_RATIONALE_CHARS {
        errors.add(
            "rationale",
            format!("Use at most {MAX_RATIONALE_CHARS} characters."),
        );
    }
    let new_name = request
        .new_code_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if new_name.is_some_and(|n| n.chars().count() > 200) {
        errors.add("new_code_name", crate::messages::at_most(200));
    }
    let report = transcript_report(&mut *conn, actor, transcript).await?;
    let settings = { store::settings(&mut *conn, actor.project_id).await? };
    if settings.require_rationale && kind.may_require_rationale() && rationale.is_empty() {
        errors.add(
            "rationale",
            "This project asks for a reason for every relabel and reject.",
        );
    }
    errors.into_result()?;

    // A decision files too (the mirror, and the agreements below), so it takes
    // its turn before it writes anything.
    lock_filing(&mut *conn, actor.project_id).await?;
    if actor.project.codebook_mode.is_shared() {
        crate::codebook::service::mirror_shared(&mut *conn, actor.project_id, actor.user_id)
            .await?;
    }
    let codes = crate::codebook::service::agreed_ids(&mut *conn, report::Of::actor(actor)).await?;
    let found = snapshots(&report, &codes);
    let current = store::current_decision(&mut *conn, transcript, &request.key).await?;
    let snapshot = match found.iter().find(|(k, ..)| *k == request.key) {
        Some((_, s, ..)) => s.clone(),
        // A decision in force on a discrepancy that has gone can still be undone.
        None if kind == DecisionKind::Undo && current.is_some() => {
            let current = current.as_ref().map(|c| c.0).ok_or(AppError::NotFound)?;
            store::find_decision(&mut *conn, actor.project_id, current)
                .await?
                .map(|d| d.discrepancy.0)
                .ok_or(AppError::NotFound)?
        }
        None => {
            return Err(AppError::State(
                "This discrepancy is not in the list any more: the layers or the alignment have changed. Reload the page.".into(),
            ));
        }
    };
    if let Some(expected) = request.supersedes
        && expected != current.as_ref().map(|c| c.0)
    {
        {
            return Err(AppError::stale(&serde_json::json!({
                "detail": crate::messages::DECIDED_MEANWHILE,
                "current": current.as_ref().map(|c| c.0),
            })));
        }
    }
    if kind == DecisionKind::Undo && current.as_ref().is_none_or(|c| c.1 == "undo") {
        return Err(AppError::State("There is no decision to undo here.".into()));
    }
    if kind != DecisionKind::Undo && !model::offered(&snapshot).contains(&kind) {
        let refusal = model::produce(&snapshot, kind, None).err();
        return Err(AppError::field(
            "kind",
            refusal
                .map(|r| r.message())
                .unwrap_or("This decision does not apply to this discrepancy."),
        ));
    }

    // The chosen code: an agreed code of this project, or a new one.
    let mut chosen = None;
    if let Some(name) = new_name {
        let code = crate::codebook::service::create_named(&mut *conn, actor, name, "", None)
            .await
            .map_err(|e| match e {
                AppError::Invalid(_) => AppError::field(
                    "new_code_name",
                    "The agreed codebook has a code of this name already: relabel to it instead.",
                ),
                other => other,
            })?;
        chosen = Some(code.id);
    } else if let Some(id) = request.code_id {
        // A shared code stands for its agreed code (a page opened before the
        // mirror was made names the shared code).
        let id = codes.get(&id.0).copied().unwrap_or(id);
        let exists = crate::codebook::store::is_live(&mut *conn, actor.project_id, id).await?;
        if !exists {
            return Err(AppError::field(
                "code_id",
                crate::messages::CHOOSE_AGREED_CODE,
            ));
        }
        chosen = Some(id);
    }
    let produced = model::produce(&snapshot, kind, chosen.map(|c| c.0)).map_err(|r| {
        AppError::field(
            if r == model::Refusal::CodeNeeded {
                "code_id"
            } else {
                "kind"
            },
            r.message(),
        )
    })?;

    let id = DecisionId::new();
    let inserted = store::insert_decision(
        &mut *conn,
        &NewDecision {
            id,
            project: actor.project_id,
            transcript,
            key: &request.key,
            kind: kind.as_str(),
            auto: false,
            agreed_code: chosen,
            rationale: &rationale,
            discrepancy: &snapshot,
            supersedes: current.as_ref().map(|c| c.0),
            decided_by: actor.user_id,
        },
    )
    .await?;
    if !inserted {
        return Err(AppError::stale(&serde_json::json!({
            "detail": crate::messages::DECIDED_MEANWHILE,
        })));
    }
    let retired = match &current {
        Some((previous, _)) => store::retire_decision_codings(&mut *conn, *previous).await?,
        None => Vec::new(),
    };
    let mut made = Vec::new();
    for p in &produced {
        let coding = store::insert_consensus(
            &mut *conn,
            &NewConsensus {
                id: ConsensusCodingId::new(),
                project: actor.project_id,
                transcript,
                code: AgreedCodeId(p.code_id),
                start: p.start as i32,
                end: p.end as i32,
                memo: String::new(),
                decision: Some(id),
                created_by: actor.user_id,
            },
        )
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("consensus coding id taken")))?;
        made.push(coding);
    }
    let decision = store::find_decision(&mut *conn, actor.project_id, id)
        .await?
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("decision {id} not found after insert"))
        })?;
    audit::record(
        &mut *conn,
        Change::new(Some(actor.user_id), Action::DecisionMade)
            .project(actor.project_id)
            .entity(id.0)
            .before(&serde_json::json!({ "superseded": current.as_ref().map(|c| c.0), "retired_codings": retired }))
            .after(&serde_json::json!({ "decision": &decision, "consensus_codings": made }))
            .transcript(Some(transcript)),
    )
    .await?;
    // Agreements of this transcript nobody has decided on and no write has
    // filed yet (an imported project's, or one completed before they were
    // filed on write). Outdated automatic acceptances are refiled by the
    // writes that outdate them, so only undecided keys are looked up here.
    if settings.auto_accept_agreements {
        let agreements: Vec<String> = found
            .iter()
            .filter(|(_, s, ..)| s.kind == "agreement")
            .map(|(key, ..)| key.clone())
            .collect();
        let decided = store::decided_keys(&mut *conn, transcript, &agreements).await?;
        let waiting: Vec<(String, Snapshot, Option<DecisionId>)> = found
            .iter()
            .filter(|(key, s, ..)| s.kind == "agreement" && !decided.contains(key))
            .map(|(key, s, ..)| (key.clone(), s.clone(), None))
            .collect();
        if !waiting.is_empty() {
            auto_accept(
                &mut *conn,
                actor.project_id,
                actor.user_id,
                transcript,
                &waiting,
            )
            .await?;
        }
    }
    Ok(decision)
}

#[derive(Debug, Deserialize)]
pub struct CommentRequest {
    pub key: String,
    pub body: String,
}

/// A comment on a discrepancy by the lead or one of the transcript's coders.
pub async fn comment(
    conn: &mut PgConnection,
    actor: &Actor,
    transcript: TranscriptId,
    request: CommentRequest,
) -> Result<Comment, AppError> {
    actor.require_active()?;
    let body = request.body.trim();
    if body.is_empty() {
        return Err(AppError::field("body", "Write the comment."));
    }
    if body.chars().count() > MAX_COMMENT_CHARS {
        return Err(AppError::field(
            "body",
            format!("Use at most {MAX_COMMENT_CHARS} characters."),
        ));
    }
    let view = load(&mut *conn, actor, transcript).await?;
    let known = view
        .items
        .iter()
        .chain(&view.orphans)
        .any(|i| i.key == request.key);
    if !known {
        return Err(AppError::field(
            "key",
            "No such discrepancy on this transcript.",
        ));
    }
    let comment = store::insert_comment(
        &mut *conn,
        actor.project_id,
        transcript,
        &request.key,
        actor.user_id,
        body,
    )
    .await?;
    audit::record(
        &mut *conn,
        Change::new(Some(actor.user_id), Action::DiscrepancyCommented)
            .project(actor.project_id)
            .entity(comment.id.0)
            .after(&comment)
            .transcript(Some(transcript)),
    )
    .await?;
    Ok(comment)
}

/// "n of m discrepancies resolved" of one transcript.
#[derive(Debug, Clone, Serialize)]
pub struct TranscriptProgress {
    pub transcript_id: TranscriptId,
    pub title: String,
    pub resolved: usize,
    pub total: usize,
    /// Codings under coder codes not aligned yet (they are in no discrepancy).
    pub unaligned: usize,
    pub reconciled: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub transcripts: Vec<TranscriptProgress>,
    pub resolved: usize,
    pub total: usize,
    pub reconciled: usize,
    /// Transcripts not ready for reconciliation, with why.
    pub waiting: Vec<(TranscriptId, String, String)>,
}

/// Progress of every transcript the member may reconcile. Computed like the
/// reconciliation page (agreements count as resolved when accepted automatically).
pub async fn progress(conn: &mut PgConnection, actor: &Actor) -> Result<Progress, AppError> {
    let viewer = Viewer::of(&mut *conn, actor).await?;
    let report = report::build_scoped_in(
        &mut *conn,
        report::Of::actor(actor),
        &viewer,
        UnitLevel::Line,
        None,
        Scope::Discrepancies,
    )
    .await?;
    let settings = store::settings(&mut *conn, actor.project_id).await?;
    let decisions = store::list_decisions(&mut *conn, actor.project_id, None).await?;
    let merges = Merges::load(&mut *conn, actor.project_id).await?;
    let codes = crate::codebook::service::agreed_ids(&mut *conn, report::Of::actor(actor)).await?;
    let by_key = histories(&decisions);
    let mut out = Progress {
        transcripts: Vec::new(),
        resolved: 0,
        total: 0,
        reconciled: 0,
        waiting: report
            .excluded
            .iter()
            .map(|e| (e.id, e.title.clone(), e.reason.to_owned()))
            .collect(),
    };
    for (index, info) in report.included.iter().enumerate() {
        let (mut resolved, mut total) = (0, 0);
        for (key, snapshot, ..) in snapshots_of(&report, index, &codes) {
            let history = by_key
                .get(&(info.id, key.as_str()))
                .map(Vec::as_slice)
                .unwrap_or_default();
            let st = standing(&snapshot, history, settings.auto_accept_agreements, &merges);
            if st.counted {
                total += 1;
                resolved += usize::from(st.resolved);
            }
        }
        let unaligned = report.unaligned_codings.get(&info.id).map_or(0, Vec::len);
        let reconciled = resolved == total && unaligned == 0;
        out.resolved += resolved;
        out.total += total;
        if reconciled {
            out.reconciled += 1;
        }
        out.transcripts.push(TranscriptProgress {
            transcript_id: info.id,
            title: info.title.clone(),
            resolved,
            total,
            unaligned,
            reconciled,
        });
    }
    Ok(out)
}

/// Owners and leads choose whether agreements are accepted automatically and
/// whether relabel and reject need a reason.
pub async fn update_settings(
    conn: &mut PgConnection,
    actor: &Actor,
    settings: Settings,
) -> Result<Settings, AppError> {
    actor.require(&[Role::Lead])?;
    actor.require_active()?;
    let before = store::settings(&mut *conn, actor.project_id).await?;
    store::update_settings(&mut *conn, actor.project_id, settings).await?;
    crate::db::audit::record(
        &mut *conn,
        Change::new(Some(actor.user_id), Action::ReconciliationSettingsChanged)
            .project(actor.project_id)
            .entity(actor.project_id.0)
            .before(&before)
            .after(&settings),
    )
    .await?;
    // Turned on: the agreements waiting are accepted now. (Turned off, the
    // automatic acceptances filed so far stay, as decisions on the record.)
    if settings.auto_accept_agreements && !before.auto_accept_agreements {
        file_automatic_for(&mut *conn, actor, Refile::All).await?;
    }
    Ok(settings)
}
