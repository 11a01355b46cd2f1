//! The theme hierarchy's reads and changes, with no HTTP in sight: each takes a
//! connection (a change: the caller's write transaction) and an actor made from
//! a member, who carries the blinding proof.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use super::model::{self, Counts, Node, Placement};
use super::store::{self, NewNode};
use crate::coding::blinding::{AgreedCodebook, Viewer};
use crate::db::audit::{self, Action, Change};
use crate::db::ids::{AgreedCodeId, ConsensusCodingId, ProjectId, ThemeNodeId, UserId};
use crate::error::{AppError, FieldErrors};
use crate::projects::member::Actor;
use crate::projects::model::Role;

/// Someone who may read the hierarchy: not still coding any transcript.
#[derive(Debug, Clone, Copy)]
pub struct Reader {
    pub project_id: ProjectId,
    pub proof: AgreedCodebook,
}

impl Reader {
    pub async fn of(conn: &mut PgConnection, actor: &Actor) -> Result<Self, AppError> {
        let viewer = Viewer::of(conn, actor).await?;
        Ok(Self {
            project_id: actor.project_id,
            proof: viewer.agreed_codebook()?,
        })
    }
}

/// Someone who may change the hierarchy: an owner or lead of an active project
/// who may read it.
#[derive(Debug, Clone, Copy)]
pub struct Editor {
    pub reader: Reader,
    pub user_id: UserId,
}

impl Editor {
    pub async fn of(conn: &mut PgConnection, actor: &Actor) -> Result<Self, AppError> {
        actor.require(&[Role::Lead])?;
        actor.require_active()?;
        Ok(Self {
            reader: Reader::of(conn, actor).await?,
            user_id: actor.user_id,
        })
    }

    fn project(&self) -> ProjectId {
        self.reader.project_id
    }

    fn change(&self, action: Action, node: ThemeNodeId) -> Change {
        Change::new(Some(self.user_id), action)
            .project(self.project())
            .entity(node.0)
    }
}

/// Colours for new nodes, distinguishable with the common colour-vision
/// deficiencies (Okabe and Ito's palette).
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];

// ---------------------------------------------------------------- reading

#[derive(Debug, Clone, Serialize)]
pub struct NodeView {
    #[serde(flatten)]
    pub node: Node,
    pub depth: usize,
    /// Codes placed directly under this node.
    pub own_codes: usize,
    /// Counts over the node's whole subtree.
    pub counts: Counts,
    pub example: Option<Example>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Example {
    pub coding_id: ConsensusCodingId,
    pub text: String,
    pub transcript_title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CodeView {
    pub id: AgreedCodeId,
    pub name: String,
    pub definition: String,
    pub color: String,
    pub node_id: Option<ThemeNodeId>,
    pub position: i32,
    /// The placement's version, 0 while unplaced: what a move sends back.
    pub placement_version: i32,
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hierarchy {
    /// The N of "n of N": participants with a transcript in the consensus layer.
    pub participants_total: i64,
    /// Depth-first, in sibling order.
    pub nodes: Vec<NodeView>,
    /// Every live agreed code, placed ones first in tree order.
    pub codes: Vec<CodeView>,
    pub unplaced: usize,
    pub deleted_nodes: Vec<Node>,
}

impl Hierarchy {
    pub fn codes_under(&self, node: ThemeNodeId) -> impl Iterator<Item = &CodeView> {
        self.codes.iter().filter(move |c| c.node_id == Some(node))
    }

    pub fn unplaced_codes(&self) -> impl Iterator<Item = &CodeView> {
        self.codes.iter().filter(|c| c.node_id.is_none())
    }
}

pub async fn hierarchy(conn: &mut PgConnection, reader: Reader) -> Result<Hierarchy, AppError> {
    let project = reader.project_id;
    let nodes = store::list_nodes(conn, project, reader.proof).await?;
    let placements = store::list_placements(conn, project, reader.proof).await?;
    let uses = store::code_uses(conn, project, reader.proof).await?;
    let codes = crate::codebook::store::list_agreed(conn, project).await?;
    let participants_total = store::participants_in_consensus(conn, project).await?;
    let deleted_nodes = store::list_deleted_nodes(conn, project, reader.proof).await?;
    let examples = store::examples(
        conn,
        project,
        &nodes
            .iter()
            .filter_map(|n| n.example_coding_id)
            .collect::<Vec<_>>(),
    )
    .await?;

    let code_tallies = model::code_tallies(&uses);
    let node_tallies = model::node_tallies(&nodes, &placements, &code_tallies);
    let children = model::children_of(&nodes);
    let by_id: HashMap<ThemeNodeId, &Node> = nodes.iter().map(|n| (n.id, n)).collect();
    let placed: HashMap<AgreedCodeId, &Placement> =
        placements.iter().map(|p| (p.agreed_code_id, p)).collect();

    let mut ordered = Vec::with_capacity(nodes.len());
    let mut stack: Vec<(ThemeNodeId, usize)> = nodes
        .iter()
        .filter(|n| n.parent_id.is_none())
        .map(|n| (n.id, 0))
        .collect();
    stack.sort_by_key(|(id, _)| {
        std::cmp::Reverse((by_id[id].position, by_id[id].name.to_lowercase()))
    });
    while let Some((id, depth)) = stack.pop() {
        let node = by_id[&id];
        ordered.push(NodeView {
            node: node.clone(),
            depth,
            own_codes: placements.iter().filter(|p| p.node_id == id).count(),
            counts: node_tallies
                .get(&id)
                .map(|t| t.counts())
                .unwrap_or_default(),
            example: node
                .example_coding_id
                .and_then(|e| examples.get(&e).cloned()),
        });
        for child in children.get(&id).into_iter().flatten().rev() {
            stack.push((*child, depth + 1));
        }
    }
    let node_order: HashMap<ThemeNodeId, usize> = ordered
        .iter()
        .enumerate()
        .map(|(i, n)| (n.node.id, i))
        .collect();

    let mut views: Vec<CodeView> = codes
        .into_iter()
        .map(|c| {
            let placement = placed.get(&c.id);
            CodeView {
                counts: code_tallies
                    .get(&c.id)
                    .map(|t| t.counts())
                    .unwrap_or(Counts {
                        codes: 1,
                        ..Counts::default()
                    }),
                id: c.id,
                name: c.name,
                definition: c.definition,
                color: c.color,
                node_id: placement.map(|p| p.node_id),
                position: placement.map(|p| p.position).unwrap_or(0),
                placement_version: placement.map(|p| p.version).unwrap_or(0),
            }
        })
        .collect();
    views.sort_by_key(|c| {
        (
            c.node_id.map(|n| node_order[&n]).unwrap_or(usize::MAX),
            c.position,
            c.name.to_lowercase(),
        )
    });
    let unplaced = views.iter().filter(|c| c.node_id.is_none()).count();
    Ok(Hierarchy {
        participants_total,
        nodes: ordered,
        codes: views,
        unplaced,
        deleted_nodes,
    })
}

// ---------------------------------------------------------------- changes

fn clean(errors: &mut FieldErrors, field: &str, value: &str, max: usize) -> String {
    let value = value.trim();
    if value.chars().count() > max {
        errors.add(field, format!("At most {max} characters."));
    }
    value.to_owned()
}

fn color(errors: &mut FieldErrors, value: &str) -> String {
    let value = value.trim();
    let ok = value.len() == 7
        && value.starts_with('#')
        && value[1..].chars().all(|c| c.is_ascii_hexdigit());
    if !ok {
        errors.add(
            "color",
            "A colour is # and six hexadecimal digits, like #0072B2.",
        );
    }
    value.to_owned()
}

/// A live node of the project, or 404; a stale version is 409 with the node.
async fn live_node(
    conn: &mut PgConnection,
    project: ProjectId,
    id: ThemeNodeId,
    version: Option<i32>,
) -> Result<Node, AppError> {
    let node = store::node(conn, project, id)
        .await?
        .filter(|n| !n.deleted)
        .ok_or(AppError::NotFound)?;
    if version.is_some_and(|v| v != node.version) {
        return Err(AppError::stale(&node));
    }
    Ok(node)
}

/// A parent named in a request: a live node of the project, or a 422 on `field`.
async fn parent_node(
    conn: &mut PgConnection,
    project: ProjectId,
    id: Option<ThemeNodeId>,
    field: &str,
) -> Result<Option<Node>, AppError> {
    let Some(id) = id else { return Ok(None) };
    match store::node(conn, project, id).await? {
        Some(node) if !node.deleted => Ok(Some(node)),
        _ => Err(AppError::field(field, crate::messages::NO_SUCH_THEME)),
    }
}

/// Puts `id` among `siblings` at `position` (the end if none or too far).
fn insert_at<T: PartialEq + Copy>(siblings: &mut Vec<T>, id: T, position: Option<usize>) {
    siblings.retain(|s| *s != id);
    let at = position.unwrap_or(siblings.len()).min(siblings.len());
    siblings.insert(at, id);
}

/// An agreed code named by a move, with the placement version the client saw
/// (0: it saw the code unplaced).
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
pub struct CodeRef {
    pub id: AgreedCodeId,
    pub version: i32,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewNodeInput {
    pub name: String,
    #[serde(default)]
    pub parent_id: Option<ThemeNodeId>,
    #[serde(default)]
    pub definition: String,
    #[serde(default)]
    pub memo: String,
    #[serde(default)]
    pub color: Option<String>,
    /// Where among its siblings; the end if absent.
    #[serde(default)]
    pub position: Option<usize>,
    /// Codes to group under the new node at once.
    #[serde(default)]
    pub codes: Vec<CodeRef>,
}

pub async fn create_node(
    tx: &mut PgConnection,
    editor: Editor,
    input: NewNodeInput,
) -> Result<Node, AppError> {
    let project = editor.project();
    store::lock(tx, project).await?;
    let mut errors = FieldErrors::new();
    let name = clean(&mut errors, "name", &input.name, 200);
    if name.is_empty() {
        errors.add("name", "Name the theme.");
    }
    let definition = clean(&mut errors, "definition", &input.definition, 10_000);
    let memo = clean(&mut errors, "memo", &input.memo, 50_000);
    let mut siblings = store::child_ids(tx, project, input.parent_id).await?;
    let colour = match &input.color {
        Some(c) => color(&mut errors, c),
        None => PALETTE[siblings.len() % PALETTE.len()].to_owned(),
    };
    errors.into_result()?;
    let parent = parent_node(tx, project, input.parent_id, "parent_id").await?;
    let id = ThemeNodeId::new();
    let node = store::insert_node(
        tx,
        project,
        NewNode {
            id,
            parent_id: parent.map(|p| p.id),
            name: &name,
            definition: &definition,
            memo: &memo,
            color: &colour,
            position: siblings.len() as i32,
            created_by: editor.user_id,
        },
    )
    .await?;
    insert_at(&mut siblings, id, input.position);
    store::renumber_nodes(tx, &siblings).await?;
    audit::record(tx, editor.change(Action::ThemeNodeCreated, id).after(&node)).await?;
    if !input.codes.is_empty() {
        place_codes(tx, editor, &input.codes, Some(id), None).await?;
    }
    live_node(tx, project, id, None).await
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NodeEdit {
    pub version: i32,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub definition: Option<String>,
    #[serde(default)]
    pub memo: Option<String>,
    #[serde(default)]
    pub color: Option<String>,
    /// `null` clears the example; absent leaves it.
    #[serde(default, with = "crate::reconcile::service::double_option")]
    pub example_coding_id: Option<Option<ConsensusCodingId>>,
}

pub async fn update_node(
    tx: &mut PgConnection,
    editor: Editor,
    id: ThemeNodeId,
    edit: NodeEdit,
) -> Result<Node, AppError> {
    let project = editor.project();
    store::lock(tx, project).await?;
    let before = live_node(tx, project, id, Some(edit.version)).await?;
    let mut node = before.clone();
    let mut errors = FieldErrors::new();
    if let Some(name) = &edit.name {
        node.name = clean(&mut errors, "name", name, 200);
        if node.name.is_empty() {
            errors.add("name", "Name the theme.");
        }
    }
    if let Some(definition) = &edit.definition {
        node.definition = clean(&mut errors, "definition", definition, 10_000);
    }
    if let Some(memo) = &edit.memo {
        node.memo = clean(&mut errors, "memo", memo, 50_000);
    }
    if let Some(c) = &edit.color {
        node.color = color(&mut errors, c);
    }
    if let Some(example) = edit.example_coding_id {
        if let Some(coding) = example {
            let nodes = store::list_nodes(tx, project, editor.reader.proof).await?;
            let under: HashSet<ThemeNodeId> = model::subtree(&nodes, id).into_iter().collect();
            let placements = store::list_placements(tx, project, editor.reader.proof).await?;
            let code = store::consensus_coding_code(tx, project, coding).await?;
            let ok = code.is_some_and(|code| {
                placements
                    .iter()
                    .any(|p| p.agreed_code_id == code && under.contains(&p.node_id))
            });
            if !ok {
                errors.add(
                    "example_coding_id",
                    "The example must be a consensus coding of a code under this theme.",
                );
            }
        }
        node.example_coding_id = example;
    }
    errors.into_result()?;
    if node == before {
        return Ok(before);
    }
    let after = store::update_node(tx, &node).await?;
    audit::record(
        tx,
        editor
            .change(Action::ThemeNodeUpdated, id)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(after)
}

#[derive(Debug, Clone, Deserialize)]
pub struct NodeMove {
    pub version: i32,
    /// The new parent; `null` for the top level.
    pub parent_id: Option<ThemeNodeId>,
    /// Where among the new siblings; the end if absent.
    #[serde(default)]
    pub position: Option<usize>,
}

pub async fn move_node(
    tx: &mut PgConnection,
    editor: Editor,
    id: ThemeNodeId,
    to: NodeMove,
) -> Result<Node, AppError> {
    let project = editor.project();
    store::lock(tx, project).await?;
    let before = live_node(tx, project, id, Some(to.version)).await?;
    let parent = parent_node(tx, project, to.parent_id, "parent_id").await?;
    if let Some(parent) = &parent {
        let nodes = store::list_nodes(tx, project, editor.reader.proof).await?;
        if model::subtree(&nodes, id).contains(&parent.id) {
            return Err(AppError::field(
                "parent_id",
                "A theme cannot move under itself or one of its own subcategories.",
            ));
        }
    }
    let new_parent = parent.map(|p| p.id);
    let mut siblings = store::child_ids(tx, project, new_parent).await?;
    insert_at(&mut siblings, id, to.position);
    let mut after = before.clone();
    after.parent_id = new_parent;
    let after = if before.parent_id != new_parent {
        let moved = store::update_node(tx, &after).await?;
        let old = store::child_ids(tx, project, before.parent_id).await?;
        store::renumber_nodes(tx, &old).await?;
        moved
    } else {
        store::update_node(tx, &after).await?
    };
    store::renumber_nodes(tx, &siblings).await?;
    let after = live_node(tx, project, after.id, None).await?;
    audit::record(
        tx,
        editor
            .change(Action::ThemeNodeMoved, id)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(after)
}

/// Places codes under `node` (None: takes them out of the hierarchy) at
/// `position` among its codes. Each code's placement version must be the one
/// the client saw, else nothing changes and the answer is 409 with where
/// those codes are now: a code another lead just moved is not moved back
/// unknowingly.
pub async fn place_codes(
    tx: &mut PgConnection,
    editor: Editor,
    codes: &[CodeRef],
    node: Option<ThemeNodeId>,
    position: Option<usize>,
) -> Result<Vec<Placement>, AppError> {
    let project = editor.project();
    store::lock(tx, project).await?;
    if codes.is_empty() {
        return Err(AppError::field("codes", "Choose at least one code."));
    }
    let ids: Vec<AgreedCodeId> = codes.iter().map(|c| c.id).collect();
    if ids.iter().collect::<HashSet<_>>().len() != ids.len() {
        return Err(AppError::field("codes", "A code is named twice."));
    }
    let live = store::live_codes(tx, project, &ids).await?;
    if live.len() != ids.len() {
        return Err(AppError::field(
            "codes",
            "Some of these are not agreed codes of this project.",
        ));
    }
    let target = match node {
        Some(node) => Some(
            parent_node(tx, project, Some(node), "node_id")
                .await?
                .ok_or_else(|| AppError::field("node_id", crate::messages::NO_SUCH_THEME))?,
        ),
        None => None,
    };
    let current = store::placements_of(tx, project, &ids).await?;
    let version_of: HashMap<AgreedCodeId, i32> = current
        .iter()
        .map(|p| (p.agreed_code_id, p.version))
        .collect();
    if codes
        .iter()
        .any(|c| version_of.get(&c.id).copied().unwrap_or(0) != c.version)
    {
        let now: Vec<CodeRef> = ids
            .iter()
            .map(|id| CodeRef {
                id: *id,
                version: version_of.get(id).copied().unwrap_or(0),
            })
            .collect();
        return Err(AppError::Conflict(serde_json::json!({
            "message": "Someone else moved some of these codes meanwhile; nothing was changed.",
            "placements": current,
            "codes": now,
        })));
    }
    let before = current.clone();
    match target {
        Some(target) => {
            let mut order = store::code_ids_under(tx, target.id).await?;
            order.retain(|c| !ids.contains(c));
            let at = position.unwrap_or(order.len()).min(order.len());
            for (i, id) in ids.iter().enumerate() {
                order.insert(at + i, *id);
            }
            store::place(tx, project, target.id, &order, editor.user_id).await?;
            let after = store::placements_of(tx, project, &ids).await?;
            audit::record(
                tx,
                editor
                    .change(Action::CodesPlaced, target.id)
                    .before(&before)
                    .after(&after),
            )
            .await?;
            Ok(after)
        }
        None => {
            store::unplace(tx, project, &ids).await?;
            let mut change = Change::new(Some(editor.user_id), Action::CodesUnplaced)
                .project(project)
                .before(&before)
                .after(&ids);
            if let [one] = ids.as_slice() {
                change = change.entity(one.0);
            }
            audit::record(tx, change).await?;
            Ok(Vec::new())
        }
    }
}

/// What a delete took out, kept on the node for its restore.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Removed {
    codes: Vec<AgreedCodeId>,
    children: Vec<ThemeNodeId>,
    #[serde(default)]
    merged_into: Option<ThemeNodeId>,
}

/// Deletes a node: its codes become unplaced and its children move up to its
/// parent, in its place. [`restore_node`] puts back what is still where the
/// delete left it.
pub async fn delete_node(
    tx: &mut PgConnection,
    editor: Editor,
    id: ThemeNodeId,
    version: i32,
) -> Result<(), AppError> {
    let project = editor.project();
    store::lock(tx, project).await?;
    let node = live_node(tx, project, id, Some(version)).await?;
    let codes = store::code_ids_under(tx, id).await?;
    let children = store::child_ids(tx, project, Some(id)).await?;
    store::unplace(tx, project, &codes).await?;
    lift_children(tx, project, &node, &children).await?;
    let removed = Removed {
        codes,
        children,
        merged_into: None,
    };
    let value = serde_json::to_value(&removed).map_err(anyhow::Error::from)?;
    store::set_deleted(tx, id, Some(&value)).await?;
    audit::record(
        tx,
        editor
            .change(Action::ThemeNodeDeleted, id)
            .before(&node)
            .after(&removed),
    )
    .await?;
    Ok(())
}

/// Moves `children` of `node` up to its parent, where `node` is.
async fn lift_children(
    tx: &mut PgConnection,
    project: ProjectId,
    node: &Node,
    children: &[ThemeNodeId],
) -> Result<(), AppError> {
    let mut siblings = store::child_ids(tx, project, node.parent_id).await?;
    let at = siblings
        .iter()
        .position(|s| *s == node.id)
        .unwrap_or(siblings.len());
    siblings.retain(|s| *s != node.id);
    for (i, child) in children.iter().enumerate() {
        let mut moved = live_node(tx, project, *child, None).await?;
        moved.parent_id = node.parent_id;
        store::update_node(tx, &moved).await?;
        siblings.insert((at + i).min(siblings.len()), *child);
    }
    store::renumber_nodes(tx, &siblings).await
}

/// Brings a deleted node back where it was (at the top level if its parent is
/// gone), with the codes it held that are still unplaced and the children that
/// still sit where the delete moved them.
pub async fn restore_node(
    tx: &mut PgConnection,
    editor: Editor,
    id: ThemeNodeId,
) -> Result<Node, AppError> {
    let project = editor.project();
    store::lock(tx, project).await?;
    let node = store::node(tx, project, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !node.deleted {
        return Err(AppError::State("This theme is not deleted.".into()));
    }
    let removed: Removed = store::removed_contents(tx, id)
        .await?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let parent = match node.parent_id {
        Some(p) => store::node(tx, project, p)
            .await?
            .filter(|n| !n.deleted)
            .map(|n| n.id),
        None => None,
    };
    store::set_deleted(tx, id, None).await?;
    let mut restored = live_node(tx, project, id, None).await?;
    restored.parent_id = parent;
    store::update_node(tx, &restored).await?;
    let mut siblings = store::child_ids(tx, project, parent).await?;
    insert_at(&mut siblings, id, Some(node.position.max(0) as usize));
    store::renumber_nodes(tx, &siblings).await?;
    // Children that still sit beside it come back under it.
    let mut back = Vec::new();
    for child in &removed.children {
        if let Some(mut c) = store::node(tx, project, *child)
            .await?
            .filter(|c| !c.deleted)
            && c.parent_id == parent
        {
            c.parent_id = Some(id);
            store::update_node(tx, &c).await?;
            back.push(*child);
        }
    }
    if !back.is_empty() {
        store::renumber_nodes(tx, &back).await?;
        let rest = store::child_ids(tx, project, parent).await?;
        store::renumber_nodes(tx, &rest).await?;
    }
    let live = store::live_codes(tx, project, &removed.codes).await?;
    let placed: HashSet<AgreedCodeId> = store::placements_of(tx, project, &live)
        .await?
        .iter()
        .map(|p| p.agreed_code_id)
        .collect();
    let codes: Vec<AgreedCodeId> = removed
        .codes
        .iter()
        .filter(|c| live.contains(c) && !placed.contains(c))
        .copied()
        .collect();
    if !codes.is_empty() {
        store::place(tx, project, id, &codes, editor.user_id).await?;
    }
    let after = live_node(tx, project, id, None).await?;
    audit::record(
        tx,
        editor
            .change(Action::ThemeNodeRestored, id)
            .after(&serde_json::json!({ "node": after, "codes": codes, "children": back })),
    )
    .await?;
    Ok(after)
}

/// Merges node `id` into `into`: its codes and child nodes move under `into`
/// (after what `into` holds), and `id` is deleted.
pub async fn merge_nodes(
    tx: &mut PgConnection,
    editor: Editor,
    id: ThemeNodeId,
    version: i32,
    into: ThemeNodeId,
) -> Result<Node, AppError> {
    let project = editor.project();
    store::lock(tx, project).await?;
    let node = live_node(tx, project, id, Some(version)).await?;
    let target = parent_node(tx, project, Some(into), "into")
        .await?
        .ok_or(AppError::NotFound)?;
    let nodes = store::list_nodes(tx, project, editor.reader.proof).await?;
    if model::subtree(&nodes, id).contains(&target.id) {
        return Err(AppError::field(
            "into",
            "Merge into another theme, not into this one or one of its own subcategories.",
        ));
    }
    let codes = store::code_ids_under(tx, id).await?;
    let mut order = store::code_ids_under(tx, target.id).await?;
    order.extend(codes.iter().copied());
    if !codes.is_empty() {
        store::place(tx, project, target.id, &order, editor.user_id).await?;
    }
    let children = store::child_ids(tx, project, Some(id)).await?;
    let mut under = store::child_ids(tx, project, Some(target.id)).await?;
    for child in &children {
        let mut c = live_node(tx, project, *child, None).await?;
        c.parent_id = Some(target.id);
        store::update_node(tx, &c).await?;
        under.push(*child);
    }
    store::renumber_nodes(tx, &under).await?;
    let removed = Removed {
        codes: Vec::new(),
        children: Vec::new(),
        merged_into: Some(target.id),
    };
    let value = serde_json::to_value(&removed).map_err(anyhow::Error::from)?;
    store::set_deleted(tx, id, Some(&value)).await?;
    let rest = store::child_ids(tx, project, node.parent_id).await?;
    store::renumber_nodes(tx, &rest).await?;
    audit::record(
        tx,
        editor
            .change(Action::ThemeNodeMerged, id)
            .before(&node)
            .after(&serde_json::json!({ "into": target.id, "codes": codes, "children": children })),
    )
    .await?;
    live_node(tx, project, target.id, None).await
}

/// Splits some of a node's codes off into a new sibling just after it.
pub async fn split_node(
    tx: &mut PgConnection,
    editor: Editor,
    id: ThemeNodeId,
    version: i32,
    name: &str,
    codes: &[AgreedCodeId],
) -> Result<Node, AppError> {
    let project = editor.project();
    store::lock(tx, project).await?;
    let node = live_node(tx, project, id, Some(version)).await?;
    let under = store::code_ids_under(tx, id).await?;
    if codes.is_empty() || codes.iter().any(|c| !under.contains(c)) {
        return Err(AppError::field(
            "codes",
            "Choose some of this theme's own codes to split off.",
        ));
    }
    let current = store::placements_of(tx, project, codes).await?;
    let refs: Vec<CodeRef> = current
        .iter()
        .map(|p| CodeRef {
            id: p.agreed_code_id,
            version: p.version,
        })
        .collect();
    let siblings = store::child_ids(tx, project, node.parent_id).await?;
    let at = siblings.iter().position(|s| *s == id).map(|i| i + 1);
    let new = create_node(
        tx,
        editor,
        NewNodeInput {
            name: name.to_owned(),
            parent_id: node.parent_id,
            position: at,
            codes: refs,
            ..NewNodeInput::default()
        },
    )
    .await?;
    audit::record(
        tx,
        editor
            .change(Action::ThemeNodeSplit, id)
            .after(&serde_json::json!({ "new_node": new.id, "codes": codes })),
    )
    .await?;
    Ok(new)
}

// ---------------------------------------------------------------- quotes

/// A filter on a participant attribute: `Role=Nurse`, `Experience>=10`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrFilter {
    pub variable: String,
    pub op: Op,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Ge,
    Le,
    Gt,
    Lt,
}

impl AttrFilter {
    pub fn parse(text: &str) -> Option<Self> {
        for (token, op) in [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("!=", Op::Ne),
            ("=", Op::Eq),
            (">", Op::Gt),
            ("<", Op::Lt),
        ] {
            if let Some((name, value)) = text.split_once(token) {
                let name = name.trim();
                if name.is_empty() {
                    return None;
                }
                return Some(Self {
                    variable: name.to_owned(),
                    op,
                    value: value.trim().to_owned(),
                });
            }
        }
        None
    }

    pub fn matches(&self, value: &str) -> bool {
        let numbers = value
            .trim()
            .parse::<f64>()
            .ok()
            .zip(self.value.parse::<f64>().ok());
        let order = match numbers {
            Some((a, b)) => a.partial_cmp(&b),
            None => Some(value.trim().to_lowercase().cmp(&self.value.to_lowercase())),
        };
        let Some(order) = order else { return false };
        use std::cmp::Ordering::*;
        match self.op {
            Op::Eq => order == Equal,
            Op::Ne => order != Equal,
            Op::Ge => numbers.is_some() && order != Less,
            Op::Le => numbers.is_some() && order != Greater,
            Op::Gt => numbers.is_some() && order == Greater,
            Op::Lt => numbers.is_some() && order == Less,
        }
    }
}

impl std::fmt::Display for AttrFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = match self.op {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Ge => ">=",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Lt => "<",
        };
        write!(f, "{}{op}{}", self.variable, self.value)
    }
}

#[derive(Debug, Clone, Default)]
pub struct QuoteQuery {
    pub node: Option<ThemeNodeId>,
    pub code: Option<AgreedCodeId>,
    pub transcript: Option<crate::db::ids::TranscriptId>,
    pub search: String,
    pub filters: Vec<AttrFilter>,
    /// `None`: transcript order; `Some(variable)`: by that attribute.
    pub sort_by: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Quote {
    pub coding_id: ConsensusCodingId,
    pub transcript_id: crate::db::ids::TranscriptId,
    pub transcript_title: String,
    pub line: usize,
    pub speaker: Option<String>,
    pub participant: Option<String>,
    pub attributes: BTreeMap<String, String>,
    pub code_id: AgreedCodeId,
    pub code_name: String,
    pub start: i32,
    pub end: i32,
    pub text: String,
    pub memo: String,
    /// The consensus coding's version, for recoding it.
    pub version: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuoteList {
    /// Every quote under the node or code, before filters.
    pub total: usize,
    pub quotes: Vec<Quote>,
    pub variables: Vec<String>,
}

pub async fn quotes(
    conn: &mut PgConnection,
    reader: Reader,
    query: &QuoteQuery,
) -> Result<QuoteList, AppError> {
    let project = reader.project_id;
    let names: HashMap<AgreedCodeId, String> = crate::codebook::store::list_agreed(conn, project)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let codes: Vec<AgreedCodeId> = match (query.node, query.code) {
        (_, Some(code)) => {
            if !names.contains_key(&code) {
                return Err(AppError::NotFound);
            }
            vec![code]
        }
        (Some(node), None) => {
            let nodes = store::list_nodes(conn, project, reader.proof).await?;
            if !nodes.iter().any(|n| n.id == node) {
                return Err(AppError::NotFound);
            }
            let under: HashSet<ThemeNodeId> = model::subtree(&nodes, node).into_iter().collect();
            store::list_placements(conn, project, reader.proof)
                .await?
                .into_iter()
                .filter(|p| under.contains(&p.node_id))
                .map(|p| p.agreed_code_id)
                .collect()
        }
        // The whole data set: every agreed code.
        (None, None) => names.keys().copied().collect(),
    };
    let rows = store::quotes_of(conn, project, &codes, reader.proof).await?;
    let mut transcript_ids: Vec<_> = rows.iter().map(|r| r.transcript_id).collect();
    transcript_ids.dedup();
    let transcripts = store::transcript_texts(conn, project, &transcript_ids).await?;
    let variables = crate::participants::store::list_variables(conn, project).await?;
    let participants: HashMap<_, _> = crate::participants::store::list_participants(conn, project)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();

    let mut by_transcript: HashMap<_, Vec<&store::QuoteRow>> = HashMap::new();
    for row in &rows {
        by_transcript
            .entry(row.transcript_id)
            .or_default()
            .push(row);
    }
    let search = query.search.trim().to_lowercase();
    let mut quotes = Vec::new();
    for t in &transcripts {
        let participant = t.participant_id.and_then(|p| participants.get(&p));
        let attributes: BTreeMap<String, String> = variables
            .iter()
            .filter_map(|v| {
                let value = participant?.values.get(&v.id)?;
                Some((v.name.clone(), value.clone()))
            })
            .collect();
        let passes = query.filters.iter().all(|f| {
            attributes
                .iter()
                .find(|(k, _)| k.to_lowercase() == f.variable.to_lowercase())
                .is_some_and(|(_, v)| f.matches(v))
        });
        if !passes || query.transcript.is_some_and(|q| q != t.id) {
            continue;
        }
        let mut rows = by_transcript.remove(&t.id).unwrap_or_default();
        rows.sort_by_key(|r| (r.start_offset, r.end_offset));
        let texts = slice_spans(
            &t.text,
            rows.iter()
                .map(|r| (r.start_offset.max(0) as usize, r.end_offset.max(0) as usize)),
        );
        for (row, (line, text)) in rows.iter().zip(texts) {
            if !search.is_empty()
                && !text.to_lowercase().contains(&search)
                && !row.memo.to_lowercase().contains(&search)
            {
                continue;
            }
            let start = row.start_offset.max(0) as usize;
            let speaker = t
                .turns
                .0
                .iter()
                .find(|turn| turn.start <= start && start < turn.end)
                .and_then(|turn| turn.speaker.clone());
            quotes.push(Quote {
                coding_id: row.id,
                transcript_id: t.id,
                transcript_title: t.title.clone(),
                line,
                speaker,
                participant: participant.map(|p| p.label.clone()),
                attributes: attributes.clone(),
                code_id: row.agreed_code_id,
                code_name: names.get(&row.agreed_code_id).cloned().unwrap_or_default(),
                start: row.start_offset,
                end: row.end_offset,
                text,
                memo: row.memo.clone(),
                version: row.version,
            });
        }
    }
    if let Some(variable) = &query.sort_by {
        let number = |q: &Quote| {
            q.attributes
                .get(variable)
                .and_then(|v| v.trim().parse::<f64>().ok())
        };
        quotes.sort_by(|a, b| match (number(a), number(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => a.attributes.get(variable).cmp(&b.attributes.get(variable)),
        });
    }
    Ok(QuoteList {
        total: rows.len(),
        quotes,
        variables: variables.into_iter().map(|v| v.name).collect(),
    })
}

/// The line number and text of each span (code points, sorted by start), in one
/// pass over the text.
pub fn slice_spans(
    text: &str,
    spans: impl Iterator<Item = (usize, usize)>,
) -> Vec<(usize, String)> {
    // The byte offset and line of each code point, and of the end.
    let mut marks: Vec<(usize, usize)> = Vec::with_capacity(text.len() + 1);
    let mut line = 1;
    for (b, c) in text.char_indices() {
        marks.push((b, line));
        if c == '\n' {
            line += 1;
        }
    }
    marks.push((text.len(), line));
    let at = |i: usize| marks.get(i).copied().unwrap_or((text.len(), line));
    spans
        .map(|(start, end)| {
            let (s, line) = at(start);
            let (e, _) = at(end.max(start));
            (line, text[s..e].to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_cut_in_code_points_with_their_lines() {
        let text = "Ünö\nsecond line\nthird é line";
        let spans = slice_spans(text, [(0, 3), (4, 10), (16, 21)].into_iter());
        assert_eq!(
            spans,
            [
                (1, "Ünö".to_owned()),
                (2, "second".to_owned()),
                (3, "third".to_owned())
            ]
        );
        assert_eq!(
            slice_spans("ab", [(0, 2)].into_iter()),
            [(1, "ab".to_owned())]
        );
    }

    #[test]
    fn attribute_filters_compare_numbers_as_numbers() {
        let f = AttrFilter::parse("Experience >= 10").unwrap();
        assert_eq!(f.op, Op::Ge);
        assert!(f.matches("10") && f.matches("25") && !f.matches("9"));
        let role = AttrFilter::parse("Role=nurse").unwrap();
        assert!(role.matches("Nurse") && !role.matches("Oncologist"));
        assert!(AttrFilter::parse("=x").is_none());
        assert!(AttrFilter::parse("no operator").is_none());
        assert_eq!(role.to_string(), "Role=nurse");
    }
}
