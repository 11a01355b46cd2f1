//! The layers a member may lay over the transcript page: the consensus layer,
//! their own, and other coders' once blinding allows ([`Viewer`] decides).

use std::collections::HashMap;

use sqlx::PgConnection;

use crate::assignments::store as assignments;
use crate::coding::blinding::Viewer;
use crate::coding::store as coding;
use crate::compare::store as compare;
use crate::db::ids::{ProjectId, TranscriptId, UserId};
use crate::error::AppError;
use crate::reconcile::store as reconcile;

/// One choice of the page's layer switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerOption {
    /// The `layer=` value: `none`, `consensus` or a coder's id.
    pub key: String,
    pub label: String,
    pub current: bool,
}

/// A code of the shown layer, with how many of its codings are on the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegendCode {
    pub name: String,
    pub color: String,
    pub count: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Overlay {
    pub options: Vec<LayerOption>,
    /// `[start, end)` in code points and an index into `legend`.
    pub spans: Vec<(usize, usize, usize)>,
    pub legend: Vec<LegendCode>,
    /// What is shown, for the page's heading ("" for the text alone).
    pub shown: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    None,
    Consensus,
    Coder(UserId),
}

impl Layer {
    fn key(self) -> String {
        match self {
            Layer::None => "none".into(),
            Layer::Consensus => "consensus".into(),
            Layer::Coder(id) => id.to_string(),
        }
    }
}

/// The layers `viewer` may see on `transcript`, and the one `requested`
/// (`None`: consensus if it has codings, else the viewer's own, else the first
/// coder's). A layer the viewer may not see is refused, never shown empty.
pub async fn overlay(
    conn: &mut PgConnection,
    viewer: &Viewer,
    project: ProjectId,
    transcript: TranscriptId,
    requested: Option<&str>,
) -> Result<Overlay, AppError> {
    let coders: Vec<(UserId, String)> = assignments::list(conn, project, None)
        .await?
        .into_iter()
        .filter(|a| a.assignment.transcript_id == transcript)
        .map(|a| (a.assignment.user_id, a.user_name))
        .collect();
    let consensus_visible =
        viewer.require_consensus(transcript).is_ok() && viewer.can_see_agreed_codebook();
    let others = viewer.layers_of([transcript]);
    let others_visible = !others.transcripts().is_empty();

    let mut choices = vec![(Layer::None, "Text only".to_owned())];
    if consensus_visible {
        choices.push((Layer::Consensus, "Consensus".to_owned()));
    }
    for (id, name) in &coders {
        if *id == viewer.user_id {
            choices.push((Layer::Coder(*id), format!("{name} (yours)")));
        } else if others_visible {
            choices.push((Layer::Coder(*id), name.clone()));
        }
    }

    let consensus = if consensus_visible {
        reconcile::list_consensus(conn, project, Some(transcript)).await?
    } else {
        Vec::new()
    };
    let chosen = match requested.map(str::trim) {
        None | Some("") => {
            let own = choices
                .iter()
                .find(|c| c.0 == Layer::Coder(viewer.user_id))
                .or_else(|| choices.iter().find(|c| matches!(c.0, Layer::Coder(_))));
            if !consensus.is_empty() {
                Layer::Consensus
            } else {
                own.map(|c| c.0).unwrap_or(Layer::None)
            }
        }
        Some(key) => {
            let layer = match key {
                "none" => Layer::None,
                "consensus" => Layer::Consensus,
                id => match id.parse::<UserId>() {
                    Ok(id) if coders.iter().any(|c| c.0 == id) => Layer::Coder(id),
                    _ => {
                        return Err(AppError::field(
                            "layer",
                            "No such layer: choose none, consensus or a coder of this transcript.",
                        ));
                    }
                },
            };
            if !choices.iter().any(|c| c.0 == layer) {
                return Err(AppError::Forbidden);
            }
            layer
        }
    };

    let mut legend_index: HashMap<String, usize> = HashMap::new();
    let mut legend: Vec<LegendCode> = Vec::new();
    let mut raw: Vec<(usize, usize, String)> = Vec::new();
    let mut names: HashMap<String, (String, String)> = HashMap::new();
    match chosen {
        Layer::None => {}
        Layer::Consensus => {
            for code in crate::codebook::store::list_agreed(conn, project).await? {
                names.insert(code.id.to_string(), (code.name, code.color));
            }
            raw.extend(consensus.iter().map(|c| {
                (
                    c.start as usize,
                    c.end as usize,
                    c.agreed_code_id.to_string(),
                )
            }));
        }
        Layer::Coder(coder) => {
            let codings = if coder == viewer.user_id {
                coding::list_layer(conn, project, transcript, coder)
                    .await?
                    .into_iter()
                    .map(|c| (c.start as usize, c.end as usize, c.code_id.to_string()))
                    .collect::<Vec<_>>()
            } else {
                compare::codings_of(conn, project, &others)
                    .await?
                    .into_iter()
                    .filter(|c| c.transcript_id == transcript && c.coder_id == coder)
                    .map(|c| {
                        (
                            c.start_offset as usize,
                            c.end_offset as usize,
                            c.code_id.to_string(),
                        )
                    })
                    .collect()
            };
            for owner in [Some(coder), None] {
                for code in coding::list_codes(conn, project, owner).await? {
                    names.insert(code.id.to_string(), (code.name, code.color));
                }
            }
            raw.extend(codings);
        }
    }
    // The legend holds only codes used here: the layer reveals no more of a codebook.
    let mut used: Vec<&String> = raw.iter().map(|r| &r.2).collect();
    used.sort_by_cached_key(|id| {
        let name = names.get(*id).map(|n| n.0.to_lowercase());
        (name.unwrap_or_default(), (*id).clone())
    });
    used.dedup();
    for id in used {
        let (name, color) = names
            .get(id)
            .cloned()
            .unwrap_or_else(|| ("(removed code)".to_owned(), "#999999".to_owned()));
        legend_index.insert(id.clone(), legend.len());
        legend.push(LegendCode {
            name,
            color,
            count: 0,
        });
    }
    let spans = raw
        .iter()
        .map(|(start, end, id)| {
            let index = legend_index[id];
            legend[index].count += 1;
            (*start, *end, index)
        })
        .collect();
    let shown = choices
        .iter()
        .find(|c| c.0 == chosen && chosen != Layer::None)
        .map(|c| c.1.clone())
        .unwrap_or_default();
    Ok(Overlay {
        options: choices
            .into_iter()
            .map(|(layer, label)| LayerOption {
                key: layer.key(),
                label,
                current: layer == chosen,
            })
            .collect(),
        spans,
        legend,
        shown,
    })
}
