//! What the saturation and tables pages read, loaded once through the theme
//! hierarchy's queries, and the saturation figures computed from it.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::Serialize;
use sqlx::PgConnection;

use crate::codebook::model::AgreedCode;
use crate::db::ids::{AgreedCodeId, ParticipantId, ThemeNodeId, TranscriptId};
use crate::error::{AppError, FieldErrors};
use crate::participants::model::{Participant, Variable, VariableKind};
use crate::saturation::{self, Guest, OrderFree, ParamError, Params, Threshold};
use crate::themes::model::{self, CodeUse, Node, Placement};
use crate::themes::service::Reader;
use crate::themes::store;

/// A transcript in the consensus layer, in interview order.
#[derive(Debug, Clone, Serialize)]
pub struct Included {
    pub id: TranscriptId,
    pub title: String,
    pub participant_id: Option<ParticipantId>,
    pub participant: Option<String>,
}

/// A transcript left out, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Excluded {
    pub id: TranscriptId,
    pub title: String,
    pub reason: &'static str,
}

/// The project's consensus data, as the hierarchy's queries give it.
pub struct Data {
    pub codes: Vec<AgreedCode>,
    pub nodes: Vec<Node>,
    pub placements: Vec<Placement>,
    /// Uses in included transcripts only.
    pub uses: Vec<CodeUse>,
    /// In import order.
    pub included: Vec<Included>,
    pub excluded: Vec<Excluded>,
    pub variables: Vec<Variable>,
    pub participants: HashMap<ParticipantId, Participant>,
    /// The interview order the lead set.
    pub order: super::order::InterviewOrder,
}

impl Data {
    /// Participants with a transcript in the consensus layer: the N of "n of N".
    pub fn participants_in_consensus(&self) -> BTreeSet<ParticipantId> {
        self.included
            .iter()
            .filter_map(|t| t.participant_id)
            .collect()
    }

    pub fn variable(&self, name: &str) -> Option<&Variable> {
        let name = name.trim().to_lowercase();
        self.variables
            .iter()
            .find(|v| v.name.to_lowercase() == name)
    }

    /// A participant's value of a variable, if they have one.
    pub fn value_of(
        &self,
        participant: Option<ParticipantId>,
        variable: &Variable,
    ) -> Option<&str> {
        let p = self.participants.get(&participant?)?;
        p.values
            .get(&variable.id)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// The live node `id`, or a 422 on `field`.
    pub fn node(&self, id: &str, field: &str) -> Result<&Node, AppError> {
        let id: ThemeNodeId = id
            .trim()
            .parse()
            .map_err(|_| AppError::field(field, "Not an id."))?;
        self.nodes
            .iter()
            .find(|n| n.id == id)
            .ok_or_else(|| AppError::field(field, crate::messages::NO_SUCH_THEME))
    }

    /// The codes placed under `node` or any node below it.
    pub fn codes_under(&self, node: ThemeNodeId) -> HashSet<AgreedCodeId> {
        let under: HashSet<ThemeNodeId> = model::subtree(&self.nodes, node).into_iter().collect();
        self.placements
            .iter()
            .filter(|p| under.contains(&p.node_id))
            .map(|p| p.agreed_code_id)
            .collect()
    }
}

pub async fn load(conn: &mut PgConnection, reader: Reader) -> Result<Data, AppError> {
    let project = reader.project_id;
    let mut codes = crate::codebook::store::list_agreed(conn, project).await?;
    codes.sort_by_key(|c| c.name.to_lowercase());
    let nodes = store::list_nodes(conn, project, reader.proof).await?;
    let placements = store::list_placements(conn, project, reader.proof).await?;
    let uses = store::code_uses(conn, project, reader.proof).await?;
    let mut transcripts = crate::transcripts::store::list_transcripts(conn, project, false).await?;
    transcripts.sort_by_key(|t| (t.created_at, t.id));
    let complete: HashSet<TranscriptId> =
        crate::compare::store::complete_transcripts(conn, project)
            .await?
            .into_iter()
            .collect();
    let agreed: HashSet<TranscriptId> = uses.iter().map(|u| u.transcript_id).collect();
    let mut included = Vec::new();
    let mut excluded = Vec::new();
    for t in transcripts {
        if !complete.contains(&t.id) {
            excluded.push(Excluded {
                id: t.id,
                title: t.title,
                reason: "not every coder has submitted it",
            });
        } else if !agreed.contains(&t.id) {
            excluded.push(Excluded {
                id: t.id,
                title: t.title,
                reason: "nothing agreed on it yet",
            });
        } else {
            included.push(Included {
                id: t.id,
                title: t.title,
                participant_id: t.participant_id,
                participant: t.participant_label,
            });
        }
    }
    let kept: HashSet<TranscriptId> = included.iter().map(|t| t.id).collect();
    let live: HashSet<AgreedCodeId> = codes.iter().map(|c| c.id).collect();
    let uses = uses
        .into_iter()
        .filter(|u| kept.contains(&u.transcript_id) && live.contains(&u.agreed_code_id))
        .collect();
    let variables = crate::participants::store::list_variables(conn, project).await?;
    let participants = crate::participants::store::list_participants(conn, project)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let order = super::order::get(conn, project).await?;
    Ok(Data {
        codes,
        nodes,
        placements,
        uses,
        included,
        excluded,
        variables,
        participants,
        order,
    })
}

// ---------------------------------------------------------------- saturation

/// The saturation page's inputs, as given in the query string.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct SaturationParams {
    pub base: Option<String>,
    pub run: Option<String>,
    pub threshold: Option<String>,
    pub permutations: Option<String>,
    pub seed: Option<String>,
    pub node: Option<String>,
    pub order: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Checked inputs.
pub struct SaturationQuery {
    pub params: Params,
    pub permutations: usize,
    pub seed: u64,
    pub node: Option<String>,
    pub order: Option<String>,
}

impl SaturationParams {
    pub fn check(&self) -> Result<SaturationQuery, AppError> {
        let mut errors = FieldErrors::new();
        let mut number =
            |value: &Option<String>, default: usize, error: ParamError| match given(value) {
                None => Some(default),
                Some(v) => match v.parse::<usize>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        errors.add(error.field(), error.to_string());
                        None
                    }
                },
            };
        let base = number(&self.base, 4, ParamError::Base);
        let run = number(&self.run, 2, ParamError::Run);
        let permutations = number(
            &self.permutations,
            saturation::permutations::DEFAULT_PERMUTATIONS,
            ParamError::Permutations,
        );
        let threshold = match given(&self.threshold) {
            None => Some(Params::default().threshold),
            Some(t) => Threshold::parse(t)
                .map_err(|e| errors.add(e.field(), e.to_string()))
                .ok(),
        };
        let seed = match given(&self.seed) {
            None => Some(saturation::permutations::DEFAULT_SEED),
            Some(s) => s
                .parse::<u64>()
                .map_err(|_| errors.add("seed", ParamError::Seed.to_string()))
                .ok(),
        };
        let params = match (base, run, threshold) {
            (Some(b), Some(r), Some(t)) => Params::new(b, r, t)
                .map_err(|e| errors.add(e.field(), e.to_string()))
                .ok(),
            _ => None,
        };
        if let Some(p) = permutations
            && !(1..=saturation::permutations::MAX_PERMUTATIONS).contains(&p)
        {
            errors.add("permutations", ParamError::Permutations.to_string());
        }
        errors.into_result()?;
        match (params, permutations, seed) {
            (Some(params), Some(permutations), Some(seed)) => Ok(SaturationQuery {
                params,
                permutations,
                seed,
                node: given(&self.node).map(str::to_owned),
                order: given(&self.order).map(str::to_owned),
            }),
            _ => Err(AppError::field("base", "Check the parameters.")),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TranscriptStep {
    pub position: usize,
    pub id: TranscriptId,
    pub title: String,
    pub participant: Option<String>,
    /// The value of the order variable, when ordering by one.
    pub order_value: Option<String>,
    pub new: usize,
    pub cumulative: usize,
    pub new_codes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeRef {
    pub id: ThemeNodeId,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Saturation {
    pub params: Params,
    pub permutations: usize,
    pub seed: u64,
    pub node: Option<NodeRef>,
    /// The variable ordering the transcripts; none: import order.
    pub order: Option<String>,
    /// Transcripts whose participant has no value of it: last, in import order.
    pub order_missing: usize,
    pub transcripts: Vec<TranscriptStep>,
    pub excluded: Vec<Excluded>,
    /// Agreed codes in scope (the whole codebook, or those under the node).
    pub codes_in_scope: usize,
    pub total_codes: usize,
    /// The last this many transcripts added no new agreed code.
    pub quiet_tail: usize,
    pub guest: Guest,
    pub sentence: String,
    pub order_free: OrderFree,
    /// Variables the transcripts can be ordered by (numbers and dates).
    pub order_variables: Vec<String>,
    /// The order used: import, manual, or the variable's name.
    pub order_key: String,
    /// The order the lead set ("by hand", "by Date of interview", "in import order").
    pub order_set: String,
}

/// A date as ISO 8601 writes it (YYYY-MM-DD, anything after it ignored), which
/// sorts as text.
fn is_date(value: &str) -> bool {
    let b = value.trim().as_bytes();
    b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// Whether the transcripts can be ordered by `variable`: a number variable, or
/// one whose every value is a date.
pub(crate) fn orders_by(data: &Data, variable: &Variable) -> bool {
    if variable.kind == VariableKind::Number {
        return true;
    }
    let values: Vec<&str> = data
        .included
        .iter()
        .filter_map(|t| data.value_of(t.participant_id, variable))
        .collect();
    !values.is_empty() && values.iter().all(|v| is_date(v))
}

#[derive(PartialEq, PartialOrd)]
enum Key<'a> {
    Number(f64),
    Text(&'a str),
}

fn sort_key(kind: VariableKind, value: Option<&str>) -> Option<Key<'_>> {
    let v = value?;
    Some(match kind {
        VariableKind::Number => Key::Number(crate::import::parse_number(v)?),
        _ => Key::Text(v.trim()),
    })
}

pub fn saturation(data: &Data, query: &SaturationQuery) -> Result<Saturation, AppError> {
    let node = match &query.node {
        Some(id) => {
            let n = data.node(id, "node")?;
            Some(NodeRef {
                id: n.id,
                name: n.name.clone(),
            })
        }
        None => None,
    };
    let scope: Option<HashSet<AgreedCodeId>> = node.as_ref().map(|n| data.codes_under(n.id));
    let order_variables: Vec<String> = data
        .variables
        .iter()
        .filter(|v| orders_by(data, v))
        .map(|v| v.name.clone())
        .collect();

    // Interview order: import order, or by the variable (stable, so ties and
    // transcripts without a value keep import order; those go last).
    let mut order: Vec<(&Included, Option<&str>)> =
        data.included.iter().map(|t| (t, None)).collect();
    let mut order_name = None;
    let mut order_missing = 0;
    // No order asked for: the one the lead set.
    let order_key = query.order.clone().unwrap_or_else(|| {
        let stored = data.order.key();
        // A variable whose values no longer order the transcripts falls back.
        match data.variable(&stored) {
            Some(v) if !orders_by(data, v) => "import".into(),
            _ => stored,
        }
    });
    if order_key.eq_ignore_ascii_case("manual") {
        let rank = |id: &TranscriptId| {
            data.order
                .transcript_ids
                .iter()
                .position(|t| t == id)
                .unwrap_or(usize::MAX)
        };
        order.sort_by_key(|(t, _)| rank(&t.id));
    } else if !order_key.eq_ignore_ascii_case("import") {
        let name = &order_key;
        let variable = data
            .variable(name)
            .ok_or_else(|| AppError::field("order", crate::messages::NO_SUCH_VARIABLE))?;
        if !orders_by(data, variable) {
            return Err(AppError::field(
                "order",
                crate::messages::cannot_order_by(&variable.name),
            ));
        }
        for entry in &mut order {
            entry.1 = data.value_of(entry.0.participant_id, variable);
        }
        let kind = variable.kind;
        let key = |v| sort_key(kind, v);
        order.sort_by(|a, b| match (key(a.1), key(b.1)) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        order_missing = order.iter().filter(|e| key(e.1).is_none()).count();
        order_name = Some(variable.name.clone());
    }

    let index: HashMap<AgreedCodeId, u32> = data
        .codes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i as u32))
        .collect();
    let mut by_transcript: HashMap<TranscriptId, Vec<u32>> = HashMap::new();
    for u in &data.uses {
        if scope
            .as_ref()
            .is_some_and(|s| !s.contains(&u.agreed_code_id))
        {
            continue;
        }
        if let Some(i) = index.get(&u.agreed_code_id) {
            by_transcript.entry(u.transcript_id).or_default().push(*i);
        }
    }
    let sets: Vec<Vec<u32>> = order
        .iter()
        .map(|(t, _)| by_transcript.remove(&t.id).unwrap_or_default())
        .collect();
    let curve = saturation::curve(&sets);
    let guest = saturation::guest(&curve.new, &query.params);
    let order_free = saturation::order_free(&sets, &query.params, query.permutations, query.seed)
        .map_err(|e| AppError::field(e.field(), e.to_string()))?;
    let transcripts = order
        .iter()
        .enumerate()
        .map(|(i, (t, value))| TranscriptStep {
            position: i + 1,
            id: t.id,
            title: t.title.clone(),
            participant: t.participant.clone(),
            order_value: value.map(str::to_owned),
            new: curve.new[i],
            cumulative: curve.cumulative[i],
            new_codes: curve.new_codes[i]
                .iter()
                .map(|c| data.codes[*c as usize].name.clone())
                .collect(),
        })
        .collect();
    let used_key = match &order_name {
        Some(name) => name.clone(),
        None if order_key.eq_ignore_ascii_case("manual") => "manual".into(),
        None => "import".into(),
    };
    Ok(Saturation {
        params: query.params,
        permutations: query.permutations,
        seed: query.seed,
        codes_in_scope: scope.as_ref().map_or(data.codes.len(), HashSet::len),
        node,
        order: order_name,
        order_missing,
        transcripts,
        excluded: data.excluded.clone(),
        total_codes: curve.total(),
        quiet_tail: curve.quiet_tail(),
        sentence: guest.sentence(),
        guest,
        order_free,
        order_variables,
        order_key: used_key,
        order_set: data.order.describe(),
    })
}

// ---------------------------------------------------------------- tables

use super::tables::{self, AttributeTable, CodeByTranscript, Cooccurrence, Span};

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TablesParams {
    /// The participant variable to split by.
    pub by: Option<String>,
    /// The co-occurrence filter: cells of at least this many pairs.
    pub min: Option<String>,
    /// Downloads: which table and which format.
    pub table: Option<String>,
    pub format: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tables {
    pub participants: AttributeTable,
    pub cooccurrence: Cooccurrence,
    pub transcripts: CodeByTranscript,
    pub excluded: Vec<Excluded>,
    /// Variables to split by.
    pub variables: Vec<String>,
}

impl TablesParams {
    pub fn min(&self) -> Result<usize, AppError> {
        match given(&self.min) {
            None => Ok(1),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
                .ok_or_else(|| {
                    AppError::field("min", "The filter is a whole number of pairs, at least 1.")
                }),
        }
    }

    pub fn by(&self) -> Option<&str> {
        given(&self.by)
    }
}

/// One of the tables page's tables, as its downloads name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Participants,
    Cooccurrence,
    Transcripts,
}

impl Table {
    pub fn parse(name: &str) -> Result<Table, AppError> {
        match name.trim() {
            "participants" => Ok(Table::Participants),
            "cooccurrence" => Ok(Table::Cooccurrence),
            "transcripts" => Ok(Table::Transcripts),
            _ => Err(AppError::field(
                "table",
                "Choose participants, cooccurrence or transcripts.",
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Table::Participants => "participants",
            Table::Cooccurrence => "cooccurrence",
            Table::Transcripts => "transcripts",
        }
    }
}

/// Every consensus coding's span in the included transcripts, by code index.
async fn spans(
    conn: &mut PgConnection,
    reader: Reader,
    data: &Data,
) -> Result<Vec<Span>, AppError> {
    let index: HashMap<AgreedCodeId, usize> = data
        .codes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i))
        .collect();
    let kept: HashSet<TranscriptId> = data.included.iter().map(|t| t.id).collect();
    Ok(
        store::consensus_spans(conn, reader.project_id, reader.proof)
            .await?
            .into_iter()
            .filter(|q| kept.contains(&q.transcript_id))
            .filter_map(|q| {
                Some(Span {
                    transcript: q.transcript_id,
                    code: *index.get(&q.agreed_code_id)?,
                    start: q.start_offset,
                    end: q.end_offset,
                })
            })
            .collect(),
    )
}

pub async fn tables(
    conn: &mut PgConnection,
    reader: Reader,
    params: &TablesParams,
) -> Result<Tables, AppError> {
    let min = params.min()?;
    let data = load(conn, reader).await?;
    let hierarchy = crate::themes::service::hierarchy(conn, reader).await?;
    let spans = spans(conn, reader, &data).await?;
    Ok(Tables {
        participants: tables::attributes(&data, &hierarchy, params.by())?,
        cooccurrence: tables::cooccurrence(&data, &spans, min),
        transcripts: tables::by_transcript(&data),
        excluded: data.excluded.clone(),
        variables: data.variables.iter().map(|v| v.name.clone()).collect(),
    })
}

/// One table as its download writes it, computing only that table (the same
/// numbers as the page's).
pub async fn sheet(
    conn: &mut PgConnection,
    reader: Reader,
    params: &TablesParams,
    table: Table,
) -> Result<super::export::Sheet, AppError> {
    let min = params.min()?;
    let data = load(conn, reader).await?;
    Ok(match table {
        Table::Participants => {
            let hierarchy = crate::themes::service::hierarchy(conn, reader).await?;
            tables::attributes(&data, &hierarchy, params.by())?.sheet()
        }
        Table::Cooccurrence => {
            let spans = spans(conn, reader, &data).await?;
            tables::cooccurrence(&data, &spans, min).sheet()
        }
        Table::Transcripts => tables::by_transcript(&data).sheet(),
    })
}
