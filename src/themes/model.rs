//! The theme hierarchy's records and the counts computed over it.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::db::ids::{AgreedCodeId, ConsensusCodingId, ParticipantId, ThemeNodeId, TranscriptId};

/// A node of the hierarchy: a theme (no parent), a subcategory, or deeper.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Node {
    pub id: ThemeNodeId,
    pub parent_id: Option<ThemeNodeId>,
    pub name: String,
    pub definition: String,
    pub memo: String,
    pub color: String,
    pub position: i32,
    pub example_coding_id: Option<ConsensusCodingId>,
    pub version: i32,
    #[serde(skip)]
    pub deleted: bool,
}

/// Where an agreed code sits. A code with no placement is unplaced.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Placement {
    pub agreed_code_id: AgreedCodeId,
    pub node_id: ThemeNodeId,
    pub position: i32,
    pub version: i32,
}

/// The consensus codings of one agreed code in one transcript.
#[derive(Debug, Clone, Copy)]
pub struct CodeUse {
    pub agreed_code_id: AgreedCodeId,
    pub transcript_id: TranscriptId,
    pub participant_id: Option<ParticipantId>,
    pub codings: i64,
}

/// Codings, transcripts and participants under a code or a node.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Counts {
    pub codes: usize,
    pub codings: i64,
    pub transcripts: usize,
    pub participants: usize,
}

/// Sets behind [`Counts`], so a subtree's counts are unions, not sums: a
/// participant quoted under two subcategories counts once for their theme.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    codes: usize,
    codings: i64,
    transcripts: BTreeSet<TranscriptId>,
    participants: BTreeSet<ParticipantId>,
}

impl Tally {
    pub fn add_use(&mut self, u: &CodeUse) {
        self.codings += u.codings;
        self.transcripts.insert(u.transcript_id);
        if let Some(p) = u.participant_id {
            self.participants.insert(p);
        }
    }

    pub fn add(&mut self, other: &Tally) {
        self.codes += other.codes;
        self.codings += other.codings;
        self.transcripts.extend(other.transcripts.iter().copied());
        self.participants.extend(other.participants.iter().copied());
    }

    pub fn counts(&self) -> Counts {
        Counts {
            codes: self.codes,
            codings: self.codings,
            transcripts: self.transcripts.len(),
            participants: self.participants.len(),
        }
    }
}

/// Each code's own tally (one code, its codings).
pub fn code_tallies(uses: &[CodeUse]) -> HashMap<AgreedCodeId, Tally> {
    let mut tallies: HashMap<AgreedCodeId, Tally> = HashMap::new();
    for u in uses {
        let tally = tallies.entry(u.agreed_code_id).or_default();
        tally.codes = 1;
        tally.add_use(u);
    }
    tallies
}

/// Each node's tally over its whole subtree: its own codes and every
/// descendant's. `nodes` are the live nodes; codes under a node not among them
/// are left out.
pub fn node_tallies(
    nodes: &[Node],
    placements: &[Placement],
    codes: &HashMap<AgreedCodeId, Tally>,
) -> HashMap<ThemeNodeId, Tally> {
    let mut own: HashMap<ThemeNodeId, Tally> =
        nodes.iter().map(|n| (n.id, Tally::default())).collect();
    for p in placements {
        if let Some(tally) = own.get_mut(&p.node_id) {
            match codes.get(&p.agreed_code_id) {
                Some(code) => tally.add(code),
                None => tally.codes += 1,
            }
        }
    }
    let children = children_of(nodes);
    let mut done: HashMap<ThemeNodeId, Tally> = HashMap::new();
    for root in nodes.iter().filter(|n| n.parent_id.is_none()) {
        roll_up(root.id, &children, &own, &mut done);
    }
    done
}

fn roll_up(
    id: ThemeNodeId,
    children: &HashMap<ThemeNodeId, Vec<ThemeNodeId>>,
    own: &HashMap<ThemeNodeId, Tally>,
    done: &mut HashMap<ThemeNodeId, Tally>,
) {
    let mut tally = own.get(&id).cloned().unwrap_or_default();
    for child in children.get(&id).into_iter().flatten() {
        roll_up(*child, children, own, done);
        if let Some(c) = done.get(child) {
            tally.add(c);
        }
    }
    done.insert(id, tally);
}

/// Child ids of each node, in sibling order.
pub fn children_of(nodes: &[Node]) -> HashMap<ThemeNodeId, Vec<ThemeNodeId>> {
    let mut sorted: Vec<&Node> = nodes.iter().collect();
    sorted.sort_by_key(|n| (n.position, n.name.to_lowercase()));
    let mut children: HashMap<ThemeNodeId, Vec<ThemeNodeId>> = HashMap::new();
    for n in sorted {
        if let Some(parent) = n.parent_id {
            children.entry(parent).or_default().push(n.id);
        }
    }
    children
}

/// `id` and every node under it.
pub fn subtree(nodes: &[Node], id: ThemeNodeId) -> Vec<ThemeNodeId> {
    let children = children_of(nodes);
    let mut out = vec![id];
    let mut i = 0;
    while let Some(next) = out.get(i).copied() {
        out.extend(children.get(&next).into_iter().flatten().copied());
        i += 1;
    }
    out
}

/// The nodes from the top theme down to `id`.
pub fn ancestry<'a>(nodes: &HashMap<ThemeNodeId, &'a Node>, id: ThemeNodeId) -> Vec<&'a Node> {
    let mut path = Vec::new();
    let mut at = Some(id);
    while let Some(node) = at.and_then(|i| nodes.get(&i)) {
        path.push(*node);
        at = node.parent_id;
        if path.len() > nodes.len() {
            break;
        }
    }
    path.reverse();
    path
}

/// The names from the top theme down to `id`.
pub fn path_of(nodes: &HashMap<ThemeNodeId, &Node>, id: ThemeNodeId) -> Vec<String> {
    ancestry(nodes, id)
        .into_iter()
        .map(|n| n.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(parent: Option<ThemeNodeId>, name: &str, position: i32) -> Node {
        Node {
            id: ThemeNodeId::new(),
            parent_id: parent,
            name: name.into(),
            definition: String::new(),
            memo: String::new(),
            color: "#000000".into(),
            position,
            example_coding_id: None,
            version: 1,
            deleted: false,
        }
    }

    #[test]
    fn a_theme_counts_each_participant_once_however_many_subcategories_quote_them() {
        let theme = node(None, "Barriers", 0);
        let a = node(Some(theme.id), "Cost", 0);
        let b = node(Some(theme.id), "Risk", 1);
        let (c1, c2, c3) = (
            AgreedCodeId::new(),
            AgreedCodeId::new(),
            AgreedCodeId::new(),
        );
        let (t1, t2) = (TranscriptId::new(), TranscriptId::new());
        let (p1, p2) = (ParticipantId::new(), ParticipantId::new());
        let uses = [
            CodeUse {
                agreed_code_id: c1,
                transcript_id: t1,
                participant_id: Some(p1),
                codings: 3,
            },
            CodeUse {
                agreed_code_id: c2,
                transcript_id: t1,
                participant_id: Some(p1),
                codings: 1,
            },
            CodeUse {
                agreed_code_id: c2,
                transcript_id: t2,
                participant_id: Some(p2),
                codings: 2,
            },
        ];
        let placements = [
            Placement {
                agreed_code_id: c1,
                node_id: a.id,
                position: 0,
                version: 1,
            },
            Placement {
                agreed_code_id: c2,
                node_id: b.id,
                position: 0,
                version: 1,
            },
            Placement {
                agreed_code_id: c3,
                node_id: b.id,
                position: 1,
                version: 1,
            },
        ];
        let nodes = vec![theme.clone(), a.clone(), b.clone()];
        let tallies = node_tallies(&nodes, &placements, &code_tallies(&uses));
        assert_eq!(
            tallies[&a.id].counts(),
            Counts {
                codes: 1,
                codings: 3,
                transcripts: 1,
                participants: 1
            }
        );
        assert_eq!(
            tallies[&b.id].counts(),
            Counts {
                codes: 2,
                codings: 3,
                transcripts: 2,
                participants: 2
            }
        );
        assert_eq!(
            tallies[&theme.id].counts(),
            Counts {
                codes: 3,
                codings: 6,
                transcripts: 2,
                participants: 2
            }
        );
    }

    #[test]
    fn subtrees_and_paths_follow_the_parents() {
        let theme = node(None, "Education", 0);
        let sub = node(Some(theme.id), "Awareness", 0);
        let leaf = node(Some(sub.id), "Guidelines", 0);
        let other = node(None, "Cost", 1);
        let nodes = vec![theme.clone(), sub.clone(), leaf.clone(), other];
        assert_eq!(subtree(&nodes, theme.id), vec![theme.id, sub.id, leaf.id]);
        let by_id = nodes.iter().map(|n| (n.id, n)).collect();
        assert_eq!(
            path_of(&by_id, leaf.id),
            ["Education", "Awareness", "Guidelines"]
        );
    }
}
