//! Concord's REFI-QDA exports: the agreed codebook as a `.qdc`.

use std::collections::HashMap;

use sqlx::PgConnection;
use uuid::Uuid;

use super::model::Code;
use super::store::{self, AgreedCodeRow, PlacementRow, ThemeNodeRow};
use super::write;
use crate::coding::blinding::AgreedCodebook;
use crate::db::ids::ProjectId;
use crate::error::AppError;

/// What Concord writes as `origin`.
pub fn origin() -> String {
    format!("Concord {}", env!("CARGO_PKG_VERSION"))
}

/// The agreed codebook as REFI-QDA codes: each theme node a parent code (not
/// codable) holding its subcategories and then the codes placed under it, in
/// their order; codes not placed under any theme follow at the top level.
pub async fn agreed_codebook(
    conn: &mut PgConnection,
    project: ProjectId,
    proof: AgreedCodebook,
) -> Result<Vec<Code>, AppError> {
    let codes = store::list_agreed_codes(conn, project, proof).await?;
    let nodes = store::list_theme_nodes(conn, project, proof).await?;
    let placements = store::list_placements(conn, project, proof).await?;
    Ok(hierarchy(&codes, &nodes, &placements))
}

/// [`agreed_codebook`] from its rows (no I/O).
pub(crate) fn hierarchy(
    codes: &[AgreedCodeRow],
    nodes: &[ThemeNodeRow],
    placements: &[PlacementRow],
) -> Vec<Code> {
    let live: std::collections::HashSet<Uuid> = nodes.iter().map(|n| n.id).collect();
    let mut children: HashMap<Option<Uuid>, Vec<&ThemeNodeRow>> = HashMap::new();
    for node in nodes {
        // A node whose parent is gone stands at the top (the service moves
        // such children up; this keeps them if one is ever missed).
        let parent = node.parent_id.filter(|p| live.contains(p));
        children.entry(parent).or_default().push(node);
    }
    let by_id: HashMap<_, &AgreedCodeRow> = codes.iter().map(|c| (c.id, c)).collect();
    let mut placed: HashMap<Uuid, Vec<&PlacementRow>> = HashMap::new();
    for p in placements
        .iter()
        .filter(|p| by_id.contains_key(&p.agreed_code_id))
    {
        placed.entry(p.node_id).or_default().push(p);
    }
    let agreed = |c: &AgreedCodeRow| Code {
        guid: c.id.0,
        name: c.name.clone(),
        is_codable: true,
        color: write::color(&c.color).map(str::to_owned),
        description: write::code_description(&c.definition, &c.inclusion, &c.exclusion, &c.example),
        children: Vec::new(),
    };
    fn node_code(
        node: &ThemeNodeRow,
        children: &HashMap<Option<Uuid>, Vec<&ThemeNodeRow>>,
        placed: &HashMap<Uuid, Vec<&PlacementRow>>,
        by_id: &HashMap<crate::db::ids::AgreedCodeId, &AgreedCodeRow>,
        agreed: &dyn Fn(&AgreedCodeRow) -> Code,
        depth: usize,
    ) -> Code {
        let mut kids = Vec::new();
        // The schema keeps the tree acyclic; the depth bound is a second guard.
        if depth < 64 {
            for child in children.get(&Some(node.id)).into_iter().flatten() {
                kids.push(node_code(child, children, placed, by_id, agreed, depth + 1));
            }
        }
        for p in placed.get(&node.id).into_iter().flatten() {
            if let Some(code) = by_id.get(&p.agreed_code_id) {
                kids.push(agreed(code));
            }
        }
        let mut description = Vec::new();
        if !node.definition.trim().is_empty() {
            description.push(node.definition.trim().to_owned());
        }
        if !node.memo.trim().is_empty() {
            description.push(format!("Memo: {}", node.memo.trim()));
        }
        Code {
            guid: node.id,
            name: node.name.clone(),
            is_codable: false,
            color: write::color(&node.color).map(str::to_owned),
            description: (!description.is_empty()).then(|| description.join("\n\n")),
            children: kids,
        }
    }
    let mut out: Vec<Code> = children
        .get(&None)
        .into_iter()
        .flatten()
        .map(|n| node_code(n, &children, &placed, &by_id, &agreed, 0))
        .collect();
    let placed_codes: std::collections::HashSet<_> = placements
        .iter()
        .filter(|p| live.contains(&p.node_id))
        .map(|p| p.agreed_code_id)
        .collect();
    out.extend(
        codes
            .iter()
            .filter(|c| !placed_codes.contains(&c.id))
            .map(agreed),
    );
    out
}
