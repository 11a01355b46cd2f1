//! Agreement reports: the project's layers, aligned onto agreed codes, handed
//! to the pure statistics module. Computed on request, never stored (invariant 8).

use std::collections::HashMap;

use serde::Serialize;
use sqlx::PgConnection;

use super::store;
use crate::agreement::{
    self, CodeId as Code, CoderId, Coding, Discrepancies, Options, Report, TranscriptLayers,
    TranscriptUnits, UnitLevel,
};
use crate::coding::blinding::Viewer;
use crate::db::ids::{CodeId, CodingId, ProjectId, TranscriptId, UserId};
use crate::error::AppError;
use crate::projects::member::Actor;
use crate::projects::model::Role;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize)]
pub struct CoderInfo {
    pub index: u32,
    pub user_id: UserId,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CodeInfo {
    pub index: u32,
    pub id: uuid::Uuid,
    pub name: String,
    pub color: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TranscriptInfo {
    pub id: TranscriptId,
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExcludedTranscript {
    pub id: TranscriptId,
    pub title: String,
    pub reason: &'static str,
}

#[derive(Debug, Serialize)]
pub struct ProjectReport {
    pub level: UnitLevel,
    pub coders: Vec<CoderInfo>,
    pub codes: Vec<CodeInfo>,
    /// In the order of the report's `per_transcript` entries.
    pub included: Vec<TranscriptInfo>,
    pub excluded: Vec<ExcludedTranscript>,
    /// Coder codes not aligned to any agreed code yet: their codings are left out.
    pub unaligned_codes: usize,
    /// Per compared transcript, the coder and code of each coding left out
    /// because its code is not aligned yet.
    #[serde(skip)]
    pub unaligned_codings: HashMap<TranscriptId, Vec<(UserId, CodeId)>>,
    /// Serialised by `json::AgreementJson`, which names codings by their ids.
    #[serde(skip)]
    pub report: Report,
    /// The coding of each key the report points at.
    #[serde(skip)]
    pub codings: Vec<CodingId>,
    /// Line start offsets of each included transcript, to link discrepancies.
    #[serde(skip)]
    pub line_starts: Vec<Vec<u32>>,
}

impl ProjectReport {
    pub fn code_name(&self, code: Code) -> &str {
        self.codes
            .get(code.0 as usize)
            .map(|c| c.name.as_str())
            .unwrap_or("?")
    }

    pub fn coder_name(&self, coder: CoderId) -> &str {
        self.coders
            .get(coder.0 as usize)
            .map(|c| c.name.as_str())
            .unwrap_or("?")
    }

    /// The same report with another level's unit statistics.
    fn at_level(&self, level: UnitLevel, units: agreement::UnitAgreement) -> Self {
        Self {
            level,
            coders: self.coders.clone(),
            codes: self.codes.clone(),
            included: self.included.clone(),
            excluded: self.excluded.clone(),
            unaligned_codes: self.unaligned_codes,
            unaligned_codings: self.unaligned_codings.clone(),
            report: Report {
                units,
                unitized: self.report.unitized.clone(),
                discrepancies: self.report.discrepancies.clone(),
            },
            codings: self.codings.clone(),
            line_starts: self.line_starts.clone(),
        }
    }

    /// The 1-based line of an offset in the `transcript`-th included transcript.
    pub fn line_of(&self, transcript: usize, offset: u32) -> usize {
        self.line_starts
            .get(transcript)
            .map(|starts| starts.partition_point(|&s| s <= offset).max(1))
            .unwrap_or(1)
    }
}

pub fn parse_level(input: Option<&str>) -> Result<UnitLevel, AppError> {
    match input.unwrap_or("line") {
        "line" => Ok(UnitLevel::Line),
        "sentence" => Ok(UnitLevel::Sentence),
        "paragraph" => Ok(UnitLevel::Paragraph),
        "turn" => Ok(UnitLevel::SpeakerTurn),
        "character" => Ok(UnitLevel::Character),
        _ => Err(AppError::field(
            "level",
            "Choose line, sentence, paragraph, turn or character.",
        )),
    }
}

pub fn level_name(level: UnitLevel) -> &'static str {
    match level {
        UnitLevel::Line => "line",
        UnitLevel::Sentence => "sentence",
        UnitLevel::Paragraph => "paragraph",
        UnitLevel::SpeakerTurn => "turn",
        UnitLevel::Character => "character",
    }
}

/// What a report is for: every statistic, or only the discrepancy lists (the
/// texts are then not scanned for sentences and paragraphs, and the unit
/// statistics come out empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Full,
    Discrepancies,
    /// Every statistic but no discrepancy lists (left empty): for exports.
    Statistics,
}

/// The report over every transcript the viewer may compare: all its assigned
/// coders (two or more) have submitted, and the viewer is not blind to it.
pub async fn build(
    state: &AppState,
    actor: &Actor,
    level: UnitLevel,
    only: Option<TranscriptId>,
) -> Result<ProjectReport, AppError> {
    build_scoped(state, actor, level, only, Scope::Full).await
}

pub async fn build_scoped(
    state: &AppState,
    actor: &Actor,
    level: UnitLevel,
    only: Option<TranscriptId>,
    scope: Scope,
) -> Result<ProjectReport, AppError> {
    build_levels(state, actor, &[level], only, scope)
        .await?
        .pop()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("agreement report: no level")))
}

/// One report per level of `levels`, in that order, from a single load of
/// the layers, one scan of the texts and one preparation of the study: the
/// unitized α and the discrepancy lists do not depend on the level, so they
/// are computed once and shared.
pub async fn build_levels(
    state: &AppState,
    actor: &Actor,
    levels: &[UnitLevel],
    only: Option<TranscriptId>,
    scope: Scope,
) -> Result<Vec<ProjectReport>, AppError> {
    if actor.role == Role::Reviewer {
        return Err(AppError::Forbidden);
    }
    let mut conn = state.db.acquire().await?;
    let viewer = Viewer::of(&mut conn, actor).await?;
    let of = Of::actor(actor);
    let loaded = load(&mut conn, of, &viewer, only).await?;
    drop(conn);
    compute(loaded, levels, scope)
}

/// The project a report is of, and how its codebook is kept.
#[derive(Debug, Clone, Copy)]
pub struct Of {
    pub project: ProjectId,
    pub shared: bool,
}

impl Of {
    pub fn actor(actor: &Actor) -> Self {
        Self {
            project: actor.project_id,
            shared: actor.project.codebook_mode.is_shared(),
        }
    }
}

/// [`build_scoped`] on `conn`, as `viewer` may see the project.
pub async fn build_scoped_in(
    conn: &mut PgConnection,
    of: Of,
    viewer: &Viewer,
    level: UnitLevel,
    only: Option<TranscriptId>,
    scope: Scope,
) -> Result<ProjectReport, AppError> {
    build_levels_in(conn, of, viewer, &[level], only, scope)
        .await?
        .pop()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("agreement report: no level")))
}

/// [`build_levels`] on `conn` (a caller's transaction sees its own writes),
/// as `viewer` may see the project.
pub async fn build_levels_in(
    conn: &mut PgConnection,
    of: Of,
    viewer: &Viewer,
    levels: &[UnitLevel],
    only: Option<TranscriptId>,
    scope: Scope,
) -> Result<Vec<ProjectReport>, AppError> {
    let loaded = load(conn, of, viewer, only).await?;
    compute(loaded, levels, scope)
}

/// What a report is computed from, read in one go.
struct Loaded {
    included: Vec<store::TranscriptForReport>,
    excluded: Vec<ExcludedTranscript>,
    codes: Vec<CodeInfo>,
    code_index: HashMap<CodeId, u32>,
    coders: Vec<CoderInfo>,
    coder_index: HashMap<UserId, u32>,
    rows: Vec<store::LayerCoding>,
}

async fn load(
    conn: &mut PgConnection,
    of: Of,
    viewer: &Viewer,
    only: Option<TranscriptId>,
) -> Result<Loaded, AppError> {
    if viewer.role == Role::Reviewer {
        return Err(AppError::Forbidden);
    }
    let project = of.project;
    let is_lead = matches!(viewer.role, Role::Owner | Role::Lead);
    let transcripts = store::transcript_coders(&mut *conn, project, only).await?;
    let mut included = Vec::new();
    let mut excluded = Vec::new();
    for t in transcripts {
        if only.is_some_and(|o| o != t.id) {
            continue;
        }
        let reason = if t.assigned.len() < 2 {
            Some("fewer than two coders assigned")
        } else if t.submitted.len() < t.assigned.len() {
            Some("not every coder has submitted")
        } else if !(is_lead || viewer.has_submitted(t.id)) {
            Some("you did not code this transcript")
        } else {
            None
        };
        match reason {
            Some(reason) => excluded.push(ExcludedTranscript {
                id: t.id,
                title: t.title.clone(),
                reason,
            }),
            None => included.push(t),
        }
    }
    if only.is_some() && included.is_empty() && excluded.is_empty() {
        return Err(AppError::NotFound);
    }
    let included = store::with_texts(&mut *conn, project, included).await?;

    // Agreed codes: the shared codebook's codes as they are, or the alignment.
    let coder_codes = crate::codebook::store::list_code_mappings(&mut *conn, project).await?;
    let mut codes = Vec::new();
    let mut code_index: HashMap<CodeId, u32> = HashMap::new();
    if of.shared {
        for c in coder_codes.iter().filter(|c| c.shared) {
            code_index.insert(c.id, codes.len() as u32);
            codes.push(CodeInfo {
                index: codes.len() as u32,
                id: c.id.0,
                name: c.name.clone().unwrap_or_default(),
                color: c.color.clone().unwrap_or_default(),
            });
        }
    } else {
        let agreed = crate::codebook::store::list_agreed(&mut *conn, project).await?;
        let agreed_index: HashMap<_, u32> = agreed
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id, i as u32))
            .collect();
        codes = agreed
            .iter()
            .enumerate()
            .map(|(i, a)| CodeInfo {
                index: i as u32,
                id: a.id.0,
                name: a.name.clone(),
                color: a.color.clone(),
            })
            .collect();
        for c in &coder_codes {
            if let Some(index) = c.agreed_code_id.and_then(|a| agreed_index.get(&a)) {
                code_index.insert(c.id, *index);
            }
        }
    }

    let mut coder_ids: Vec<UserId> = included
        .iter()
        .flat_map(|t| t.submitted.iter().copied())
        .collect();
    coder_ids.sort();
    coder_ids.dedup();
    let names: HashMap<UserId, String> = crate::projects::store::list_members(&mut *conn, project)
        .await?
        .into_iter()
        .map(|m| (m.user_id, m.display_name))
        .collect();
    let order = store::coders_in_assignment_order(&mut *conn, project).await?;
    coder_ids.sort_by_key(|u| (order.iter().position(|o| o == u).unwrap_or(usize::MAX), *u));
    let coder_index: HashMap<UserId, u32> = coder_ids
        .iter()
        .enumerate()
        .map(|(i, u)| (*u, i as u32))
        .collect();
    let coders: Vec<CoderInfo> = coder_ids
        .iter()
        .enumerate()
        .map(|(i, u)| CoderInfo {
            index: i as u32,
            user_id: *u,
            name: names.get(u).cloned().unwrap_or_default(),
        })
        .collect();

    let layers = viewer.layers_of(included.iter().map(|t| t.id));
    let rows = store::codings_of(&mut *conn, project, &layers).await?;
    Ok(Loaded {
        included,
        excluded,
        codes,
        code_index,
        coders,
        coder_index,
        rows,
    })
}

fn compute(
    loaded: Loaded,
    levels: &[UnitLevel],
    scope: Scope,
) -> Result<Vec<ProjectReport>, AppError> {
    let Loaded {
        included,
        excluded,
        codes,
        code_index,
        coders,
        coder_index,
        rows,
    } = loaded;
    let mut keys = Vec::new();
    let mut by_transcript: HashMap<TranscriptId, Vec<Coding>> = HashMap::new();
    // Counted from the compared transcripts only: a code used elsewhere may be
    // on a transcript the viewer is still blind to.
    let mut unaligned = std::collections::HashSet::new();
    let mut unaligned_codings: HashMap<TranscriptId, Vec<(UserId, CodeId)>> = HashMap::new();
    for row in rows {
        let Some(&coder) = coder_index.get(&row.coder_id) else {
            continue;
        };
        let Some(&code) = code_index.get(&row.code_id) else {
            unaligned.insert(row.code_id);
            unaligned_codings
                .entry(row.transcript_id)
                .or_default()
                .push((row.coder_id, row.code_id));
            continue;
        };
        let key = keys.len() as u64;
        keys.push(row.id);
        by_transcript
            .entry(row.transcript_id)
            .or_default()
            .push(Coding {
                coder: CoderId(coder),
                code: Code(code),
                start: row.start_offset.max(0) as u32,
                end: row.end_offset.max(0) as u32,
                key,
            });
    }

    let mut units = Vec::new();
    let mut line_starts = Vec::new();
    let mut submitted = Vec::new();
    for t in &included {
        let turns: Vec<agreement::Span> = t
            .turns
            .0
            .iter()
            .map(|turn| agreement::Span {
                start: turn.start as u32,
                end: turn.end as u32,
            })
            .collect();
        let mut starts = vec![0u32];
        let mut offset = 0u32;
        for c in t.text.chars() {
            offset += 1;
            if c == '\n' {
                starts.push(offset);
            }
        }
        let scanned = match scope {
            Scope::Full | Scope::Statistics => TranscriptUnits::new(&t.text, &turns),
            Scope::Discrepancies => {
                TranscriptUnits::from_parts(offset, Vec::new(), Vec::new(), Vec::new(), Vec::new())
            }
        };
        units.push(
            scanned.map_err(|e| AppError::Internal(anyhow::anyhow!("units of {}: {e:?}", t.id)))?,
        );
        line_starts.push(starts);
        submitted.push(
            t.submitted
                .iter()
                .filter_map(|u| coder_index.get(u).map(|i| CoderId(*i)))
                .collect::<Vec<_>>(),
        );
    }
    let empty = Vec::new();
    let layers: Vec<TranscriptLayers> = included
        .iter()
        .enumerate()
        .map(|(i, t)| TranscriptLayers {
            units: &units[i],
            submitted: &submitted[i],
            codings: by_transcript.get(&t.id).unwrap_or(&empty),
        })
        .collect();
    let all_coders: Vec<CoderId> = (0..coders.len() as u32).map(CoderId).collect();
    let all_codes: Vec<Code> = (0..codes.len() as u32).map(Code).collect();
    let failed = |e| AppError::Internal(anyhow::anyhow!("agreement report: {e:?}"));
    let study = agreement::Study::new(&all_coders, &all_codes, &layers).map_err(failed)?;
    let threshold = Options::default().match_threshold;
    let discrepancies = match scope {
        Scope::Statistics => Discrepancies {
            match_threshold: threshold,
            overall: Vec::new(),
            per_transcript: Vec::new(),
        },
        Scope::Full | Scope::Discrepancies => study.discrepancies(threshold).map_err(failed)?,
    };
    // Reconciliation reads only the discrepancy lists.
    let unitized = match scope {
        Scope::Discrepancies => agreement::UnitizedAgreement::empty(),
        Scope::Full | Scope::Statistics => study.unitized_agreement(),
    };
    let (&first, others) = levels
        .split_first()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("agreement report: no level")))?;
    let base = ProjectReport {
        level: first,
        coders,
        codes,
        included: included
            .iter()
            .map(|t| TranscriptInfo {
                id: t.id,
                title: t.title.clone(),
            })
            .collect(),
        excluded,
        unaligned_codes: unaligned.len(),
        unaligned_codings,
        report: Report {
            units: study.unit_agreement(first),
            unitized,
            discrepancies,
        },
        codings: keys,
        line_starts,
    };
    let mut reports = Vec::with_capacity(levels.len());
    for &level in others {
        reports.push(base.at_level(level, study.unit_agreement(level)));
    }
    reports.insert(0, base);
    Ok(reports)
}

/// The table as CSV: the pooled row, then one row per code. `unit_warning` names the
/// reason when the unit-level values rest on too few units (README).
pub fn to_csv(report: &ProjectReport) -> Result<String, AppError> {
    table_csv(&report.report, |code| report.code_name(code).to_owned())
}

/// [`to_csv`] of any report, its codes named by `code_name`: also for reports
/// computed straight from a REFI-QDA file (`concord agreement`).
pub fn table_csv(report: &Report, code_name: impl Fn(Code) -> String) -> Result<String, AppError> {
    let table = &report.units.overall;
    let warning = table.warning.map(|w| w.reason()).unwrap_or_default();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let stat = |s: Option<agreement::Stat>| {
        s.and_then(|s| s.value())
            .map(|v| format!("{v:.6}"))
            .unwrap_or_default()
    };
    writer
        .write_record([
            "code",
            "units",
            "pairable_units",
            "both",
            "only_a",
            "only_b",
            "neither",
            "percent_agreement",
            "cohen_kappa",
            "fleiss_kappa",
            "brennan_prediger",
            "krippendorff_alpha",
            "gwet_ac1",
            "binary_u_alpha",
            "unit_warning",
        ])
        .map_err(|e| AppError::Internal(e.into()))?;
    let mut rows = vec![(
        "(pooled)".to_owned(),
        &table.pooled.counts,
        &table.pooled.coefficients,
        None,
    )];
    for c in &table.per_code {
        let u = report
            .unitized
            .overall
            .iter()
            .find(|u| u.code == c.code)
            .map(|u| u.binary_u_alpha);
        rows.push((code_name(c.code), &c.counts, &c.coefficients, u));
    }
    for (name, counts, co, u_alpha) in rows {
        let t = counts.table;
        writer
            .write_record([
                name,
                counts.units.to_string(),
                counts.pairable_units.to_string(),
                t.map(|t| t.both.to_string()).unwrap_or_default(),
                t.map(|t| t.only_a.to_string()).unwrap_or_default(),
                t.map(|t| t.only_b.to_string()).unwrap_or_default(),
                t.map(|t| t.neither.to_string()).unwrap_or_default(),
                stat(Some(co.percent_agreement)),
                stat(Some(co.cohen_kappa)),
                stat(Some(co.fleiss_kappa)),
                stat(Some(co.brennan_prediger)),
                stat(Some(co.krippendorff_alpha_nominal)),
                stat(Some(co.gwet_ac1)),
                stat(u_alpha),
                warning.to_owned(),
            ])
            .map_err(|e| AppError::Internal(e.into()))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(e.into()))
}
