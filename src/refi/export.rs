//! Concord's REFI-QDA exports: the agreed codebook as a `.qdc`.

use std::collections::HashMap;

use sqlx::PgConnection;
use uuid::Uuid;

use super::model::Code;
use super::store::{self, AgreedCodeRow, PlacementRow, ThemeNodeRow};
use super::write;
use crate::coding::blinding::AgreedCodebook;
use crate::db::ids::{AgreedCodeId, ProjectId};
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
        by_id: &HashMap<AgreedCodeId, &AgreedCodeRow>,
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
    // The codes no theme places, nested as their shared codes are (an agreed
    // code under its shared parent's, when that one is unplaced too).
    let unplaced: HashMap<_, &AgreedCodeRow> = codes
        .iter()
        .filter(|c| !placed_codes.contains(&c.id))
        .map(|c| (c.id, c))
        .collect();
    // An agreed code whose shared codes' parents lead back to itself stands
    // at the top, so that every code is reached from a root.
    let parent_of = |c: &AgreedCodeRow| {
        let parent = c.shared_parent.filter(|p| unplaced.contains_key(p))?;
        let mut up = Some(parent);
        for _ in 0..=unplaced.len() {
            match up.and_then(|p| unplaced.get(&p)) {
                Some(u) if u.id == c.id => return None,
                Some(u) => up = u.shared_parent,
                None => return Some(parent),
            }
        }
        Some(parent)
    };
    let mut nested: HashMap<Option<AgreedCodeId>, Vec<&AgreedCodeRow>> = HashMap::new();
    for c in codes.iter().filter(|c| unplaced.contains_key(&c.id)) {
        nested.entry(parent_of(c)).or_default().push(c);
    }
    fn tree(
        c: &AgreedCodeRow,
        nested: &HashMap<Option<AgreedCodeId>, Vec<&AgreedCodeRow>>,
        agreed: &dyn Fn(&AgreedCodeRow) -> Code,
    ) -> Code {
        let mut code = agreed(c);
        code.children = nested
            .get(&Some(c.id))
            .into_iter()
            .flatten()
            .map(|k| tree(k, nested, agreed))
            .collect();
        code
    }
    out.extend(
        nested
            .get(&None)
            .into_iter()
            .flatten()
            .map(|c| tree(c, &nested, &agreed)),
    );
    out
}

/// Selection GUIDs are the coding's UUID with these bits flipped, and a
/// memo's note GUID likewise: REFI-QDA gives a selection and its coding a
/// GUID each, Concord has one coding id, and an export must give the same
/// GUIDs every time.
const SELECTION_MASK: u128 = 0x5e1e_c710_0000_0000_0000_0000_0000_0000;
const NOTE_MASK: u128 = 0x0070_e000_0000_0000_0000_0000_0000_0000;

const DECISION_MASK: u128 = 0x0de0_c100_0000_0000_0000_0000_0000_0000;
const SET_MASK: u128 = 0x05e7_0000_0000_0000_0000_0000_0000_0000;
const OWN_CODES_MASK: u128 = 0x00c0_de50_0000_0000_0000_0000_0000_0000;

/// What a `.qdpx` export holds beside the consensus layer.
#[derive(Debug, Clone, Copy, Default)]
pub struct QdpxOptions {
    /// Every coder's submitted layer, as codings by that coder.
    pub coder_layers: bool,
}

/// The note GUID of a decision's rationale (one note, however many codings it made).
pub fn decision_note_guid(decision: Uuid) -> Uuid {
    Uuid::from_u128(decision.as_u128() ^ DECISION_MASK)
}

/// The set GUID of a theme's codes (the theme's own GUID is its parent code's).
pub fn set_guid(node: Uuid) -> Uuid {
    Uuid::from_u128(node.as_u128() ^ SET_MASK)
}

/// The GUID of the parent code that holds one coder's own codes.
pub fn own_codes_guid(coder: Uuid) -> Uuid {
    Uuid::from_u128(coder.as_u128() ^ OWN_CODES_MASK)
}

fn decision_label(kind: &str) -> &str {
    match kind {
        "accept_a" => "accept coder A's coding",
        "accept_b" => "accept coder B's coding",
        "both" => "keep both codings",
        "union" => "the union of the spans",
        "intersection" => "the intersection of the spans",
        "relabel" => "relabel",
        "reject" => "reject",
        other => other,
    }
}

/// The codes of the coders' own codebooks that an export with their layers
/// must hold: shared codes not aligned onto an agreed code (with their
/// nesting, at the top level), and each coder's codes their codings use and
/// no agreed code stands for, under a parent code per coder; ancestors come
/// along so the nesting holds.
fn coder_codebook(
    codes: &[store::CoderCodeRow],
    unaligned_in_use: &[Uuid],
    names: &HashMap<Uuid, String>,
) -> Vec<Code> {
    let by_id: HashMap<Uuid, &store::CoderCodeRow> = codes.iter().map(|c| (c.id, c)).collect();
    let mut keep: std::collections::HashSet<Uuid> = codes
        .iter()
        .filter(|c| c.owner_id.is_none() && !c.aligned)
        .map(|c| c.id)
        .collect();
    keep.extend(unaligned_in_use.iter().copied());
    let mut stack: Vec<Uuid> = keep.iter().copied().collect();
    while let Some(id) = stack.pop() {
        if let Some(parent) = by_id.get(&id).and_then(|c| c.parent_id)
            && by_id.contains_key(&parent)
            && keep.insert(parent)
        {
            stack.push(parent);
        }
    }
    let mut children: HashMap<Option<Uuid>, Vec<&store::CoderCodeRow>> = HashMap::new();
    for c in codes.iter().filter(|c| keep.contains(&c.id)) {
        let parent = c.parent_id.filter(|p| keep.contains(p));
        children.entry(parent).or_default().push(c);
    }
    fn build(
        c: &store::CoderCodeRow,
        children: &HashMap<Option<Uuid>, Vec<&store::CoderCodeRow>>,
        depth: usize,
    ) -> Code {
        Code {
            guid: c.id,
            name: c.name.clone(),
            is_codable: true,
            color: write::color(&c.color).map(str::to_owned),
            description: write::code_description(
                &c.definition,
                &c.inclusion,
                &c.exclusion,
                &c.example,
            ),
            children: if depth < 64 {
                children
                    .get(&Some(c.id))
                    .into_iter()
                    .flatten()
                    .map(|k| build(k, children, depth + 1))
                    .collect()
            } else {
                Vec::new()
            },
        }
    }
    let mut out = Vec::new();
    let mut owners: Vec<Uuid> = Vec::new();
    for top in children.get(&None).into_iter().flatten() {
        match top.owner_id {
            None => out.push(build(top, &children, 0)),
            Some(owner) if !owners.contains(&owner) => owners.push(owner),
            Some(_) => {}
        }
    }
    for owner in owners {
        let name = names
            .get(&owner)
            .cloned()
            .unwrap_or_else(|| format!("Coder {owner}"));
        out.push(Code {
            guid: own_codes_guid(owner),
            name: format!("{name}'s own codes"),
            is_codable: false,
            color: None,
            description: Some(format!(
                "The codes of {name}'s own codebook that no agreed code stands for."
            )),
            children: children
                .get(&None)
                .into_iter()
                .flatten()
                .filter(|c| c.owner_id == Some(owner))
                .map(|c| build(c, &children, 0))
                .collect(),
        });
    }
    out
}

pub fn selection_guid(coding: Uuid) -> Uuid {
    Uuid::from_u128(coding.as_u128() ^ SELECTION_MASK)
}

pub fn note_guid(coding: Uuid) -> Uuid {
    Uuid::from_u128(coding.as_u128() ^ NOTE_MASK)
}

/// Writes the project as a `.qdpx` into `out`: every transcript as
/// `sources/<id>.txt` (its canonical text, UTF-8 without a byte-order mark,
/// read and written one at a time), then `project.qde` with the members as
/// users, the agreed codebook with its themes, participants as cases with
/// their variables, and the consensus layer as `lead`'s codings, each memo a
/// note and each decision's rationale a note on the selections it made;
/// each theme's codes as a set; with [`QdpxOptions::coder_layers`], every
/// coder's submitted layer as codings by that coder.
pub async fn write_qdpx<W: std::io::Write + std::io::Seek>(
    conn: &mut PgConnection,
    project: &crate::projects::model::Project,
    lead: crate::db::ids::UserId,
    proof: AgreedCodebook,
    options: QdpxOptions,
    out: W,
) -> Result<W, AppError> {
    use std::fmt::Write as _;
    use std::io::Write as _;

    let zip_error =
        |e: zip::result::ZipError| AppError::Internal(anyhow::anyhow!("writing the archive: {e}"));
    let io_error =
        |e: std::io::Error| AppError::Internal(anyhow::anyhow!("writing the archive: {e}"));
    let project_id = project.id;
    let codes = agreed_codebook(conn, project_id, proof).await?;
    let members = crate::projects::store::list_members(conn, project_id).await?;
    let variables = store::list_variables(conn, project_id).await?;
    let participants = store::list_participants(conn, project_id).await?;
    let values = store::list_values(conn, project_id).await?;
    let transcripts = store::list_transcripts(conn, project_id).await?;

    let nodes = store::list_theme_nodes(conn, project_id, proof).await?;
    let placements = store::list_placements(conn, project_id, proof).await?;
    let coder_layers = options.coder_layers;
    let (unaligned_in_use, coder_codes) = if coder_layers {
        (
            store::unaligned_codes_in_layers(conn, project_id, proof).await?,
            store::list_coder_codes(conn, project_id, proof).await?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let names: HashMap<Uuid, String> = members
        .iter()
        .map(|m| (m.user_id.0, m.display_name.clone()))
        .collect();
    let mut codes = codes;
    codes.extend(coder_codebook(&coder_codes, &unaligned_in_use, &names));

    let mut zip = zip::ZipWriter::new(out);
    // Level 2: deflating the 40 MB project.qde of a full study at the default
    // level 6 is most of an export's time; level 2 takes a third of that for
    // an archive about 15% larger (BENCHMARKS.md).
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(2));
    for t in &transcripts {
        let text = store::transcript_text(conn, project_id, t.id).await?;
        zip.start_file(format!("sources/{}.txt", t.id), options)
            .map_err(zip_error)?;
        zip.write_all(text.as_bytes()).map_err(io_error)?;
    }

    // project.qde is written as it is built, a transcript's selections at a
    // time, so memory does not grow with the number of codings.
    zip.start_file("project.qde", options).map_err(zip_error)?;
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let _ = writeln!(
        xml,
        "<Project xmlns=\"urn:QDA-XML:project:1.0\" name=\"{}\" origin=\"{}\" creatingUserGUID=\"{}\">",
        write::attr(&project.name),
        write::attr(&origin()),
        lead.0
    );
    xml.push_str("  <Users>\n");
    for m in &members {
        let _ = writeln!(
            xml,
            "    <User guid=\"{}\" name=\"{}\"/>",
            m.user_id.0,
            write::attr(&m.display_name)
        );
    }
    xml.push_str("  </Users>\n");
    // Analytic memos become notes: on the project unlinked, on an agreed code
    // or a theme linked from its code (when the code is in the export).
    let memos = store::list_memos(conn, project_id, proof).await?;
    let exported: std::collections::HashSet<Uuid> = codes
        .iter()
        .flat_map(|c| c.walk())
        .map(|(_, c)| c.guid)
        .collect();
    let mut code_notes: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut memo_notes = String::new();
    for m in &memos {
        let on = match (m.kind.as_str(), &m.target_name) {
            ("code", Some(name)) => format!("Memo on the code {name}"),
            ("node", Some(name)) => format!("Memo on the theme {name}"),
            _ => "Memo on the project".to_owned(),
        };
        let name = if m.title.trim().is_empty() {
            on
        } else {
            format!("{on}: {}", m.title.trim())
        };
        if let Some(target) = m.target_id.filter(|t| exported.contains(t)) {
            code_notes.entry(target).or_default().push(m.id);
        }
        let _ = writeln!(
            memo_notes,
            "    <Note guid=\"{}\" name=\"{}\" creatingUser=\"{}\" creationDateTime=\"{}T00:00:00Z\"><PlainTextContent>{}</PlainTextContent></Note>",
            m.id,
            write::attr(&name),
            m.author_id,
            m.written_on,
            write::text(&m.body)
        );
    }
    if !codes.is_empty() {
        xml.push_str("  <CodeBook>\n    <Codes>\n");
        for c in &codes {
            write::code_with_notes(&mut xml, c, 3, &code_notes);
        }
        xml.push_str("    </Codes>\n  </CodeBook>\n");
    }
    // A number variable is a Float only when every value is a decimal
    // (xsd:decimal: no exponent); otherwise its values go as text.
    let kinds: HashMap<Uuid, super::VariableType> = variables
        .iter()
        .map(|v| {
            let all_decimal = values
                .iter()
                .filter(|x| x.variable_id == v.id)
                .all(|x| is_decimal(&x.value));
            let kind = if v.kind == "number" && all_decimal {
                super::VariableType::Float
            } else {
                super::VariableType::Text
            };
            (v.id, kind)
        })
        .collect();
    if !variables.is_empty() {
        xml.push_str("  <Variables>\n");
        for v in &variables {
            let _ = writeln!(
                xml,
                "    <Variable guid=\"{}\" name=\"{}\" typeOfVariable=\"{}\"/>",
                v.id,
                write::attr(&v.name),
                kinds[&v.id].as_str()
            );
        }
        xml.push_str("  </Variables>\n");
    }
    if !participants.is_empty() {
        xml.push_str("  <Cases>\n");
        for p in &participants {
            let _ = writeln!(
                xml,
                "    <Case guid=\"{}\" name=\"{}\">",
                p.id,
                write::attr(&p.label)
            );
            for v in values.iter().filter(|v| v.participant_id == p.id) {
                let element = kinds[&v.variable_id].value_element();
                let _ = writeln!(
                    xml,
                    "      <VariableValue><VariableRef targetGUID=\"{}\"/><{element}>{}</{element}></VariableValue>",
                    v.variable_id,
                    write::text(v.value.trim())
                );
            }
            for t in transcripts
                .iter()
                .filter(|t| t.participant_id == Some(p.id))
            {
                let _ = writeln!(xml, "      <SourceRef targetGUID=\"{}\"/>", t.id);
            }
            xml.push_str("    </Case>\n");
        }
        xml.push_str("  </Cases>\n");
    }
    let mut notes = memo_notes;
    let mut written_decisions = std::collections::HashSet::new();
    if !transcripts.is_empty() {
        xml.push_str("  <Sources>\n");
        for t in &transcripts {
            let _ = write!(
                xml,
                "    <TextSource guid=\"{}\" name=\"{}\" plainTextPath=\"internal://{}.txt\"",
                t.id,
                write::attr(&t.title),
                t.id
            );
            // One transcript's codings in memory at a time.
            let layer = store::list_consensus(conn, project_id, t.id, proof).await?;
            let coded = if coder_layers {
                store::list_coder_codings(conn, project_id, t.id, proof).await?
            } else {
                Vec::new()
            };
            if layer.is_empty() && coded.is_empty() {
                xml.push_str("/>\n");
                continue;
            }
            xml.push_str(">\n");
            for c in layer {
                let _ = writeln!(
                    xml,
                    "      <PlainTextSelection guid=\"{}\" startPosition=\"{}\" endPosition=\"{}\" creatingUser=\"{}\">",
                    selection_guid(c.id),
                    c.start_offset,
                    c.end_offset,
                    lead.0
                );
                let _ = write!(
                    xml,
                    "        <Coding guid=\"{}\" creatingUser=\"{}\"><CodeRef targetGUID=\"{}\"/>",
                    c.id, lead.0, c.agreed_code_id
                );
                if !c.memo.trim().is_empty() {
                    let note = note_guid(c.id);
                    let _ = write!(xml, "<NoteRef targetGUID=\"{note}\"/>");
                    let _ = writeln!(
                        notes,
                        "    <Note guid=\"{note}\" name=\"Memo\" creatingUser=\"{}\"><PlainTextContent>{}</PlainTextContent></Note>",
                        lead.0,
                        write::text(&c.memo)
                    );
                }
                xml.push_str("</Coding>\n");
                if let (Some(decision), Some(kind)) = (c.decision_id, c.decision_kind.as_deref()) {
                    let note = decision_note_guid(decision);
                    let _ = writeln!(xml, "        <NoteRef targetGUID=\"{note}\"/>");
                    if written_decisions.insert(decision) {
                        let rationale = c.rationale.as_deref().unwrap_or_default().trim();
                        let text = if rationale.is_empty() {
                            format!("Decision: {}.", decision_label(kind))
                        } else {
                            format!("Decision: {}. Rationale: {rationale}", decision_label(kind))
                        };
                        let _ = writeln!(
                            notes,
                            "    <Note guid=\"{note}\" name=\"Decision\" creatingUser=\"{}\"><PlainTextContent>{}</PlainTextContent></Note>",
                            lead.0,
                            write::text(&text)
                        );
                    }
                }
                xml.push_str("      </PlainTextSelection>\n");
            }
            for c in coded {
                let code = c.agreed_code_id.unwrap_or(c.code_id);
                let _ = writeln!(
                    xml,
                    "      <PlainTextSelection guid=\"{}\" startPosition=\"{}\" endPosition=\"{}\" creatingUser=\"{}\">",
                    selection_guid(c.id),
                    c.start_offset,
                    c.end_offset,
                    c.coder_id
                );
                let _ = write!(
                    xml,
                    "        <Coding guid=\"{}\" creatingUser=\"{}\"><CodeRef targetGUID=\"{code}\"/>",
                    c.id, c.coder_id
                );
                if !c.memo.trim().is_empty() {
                    let note = note_guid(c.id);
                    let _ = write!(xml, "<NoteRef targetGUID=\"{note}\"/>");
                    let _ = writeln!(
                        notes,
                        "    <Note guid=\"{note}\" name=\"Memo\" creatingUser=\"{}\"><PlainTextContent>{}</PlainTextContent></Note>",
                        c.coder_id,
                        write::text(&c.memo)
                    );
                }
                xml.push_str("</Coding>\n      </PlainTextSelection>\n");
            }
            xml.push_str("    </TextSource>\n");
            zip.write_all(xml.as_bytes()).map_err(io_error)?;
            xml.clear();
        }
        xml.push_str("  </Sources>\n");
    }
    if !notes.is_empty() {
        xml.push_str("  <Notes>\n");
        xml.push_str(&notes);
        xml.push_str("  </Notes>\n");
    }
    // Each theme's codes as a set (REFI-QDA's grouping of codes).
    let mut sets = String::new();
    for node in &nodes {
        let members: Vec<&PlacementRow> =
            placements.iter().filter(|p| p.node_id == node.id).collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(
            sets,
            "    <Set guid=\"{}\" name=\"{}\">",
            set_guid(node.id),
            write::attr(&node.name)
        );
        for p in members {
            let _ = writeln!(
                sets,
                "      <MemberCode targetGUID=\"{}\"/>",
                p.agreed_code_id.0
            );
        }
        sets.push_str("    </Set>\n");
    }
    if !sets.is_empty() {
        xml.push_str("  <Sets>\n");
        xml.push_str(&sets);
        xml.push_str("  </Sets>\n");
    }
    xml.push_str("</Project>\n");
    zip.write_all(xml.as_bytes()).map_err(io_error)?;
    zip.finish().map_err(zip_error)
}

fn is_decimal(value: &str) -> bool {
    let v = value.trim();
    let v = v.strip_prefix(['-', '+']).unwrap_or(v);
    let (whole, fraction) = v.split_once('.').unwrap_or((v, ""));
    !(whole.is_empty() && fraction.is_empty())
        && whole.chars().all(|c| c.is_ascii_digit())
        && fraction.chars().all(|c| c.is_ascii_digit())
}

/// `concord export --format qdpx|qdc`: writes the project's export to `out`
/// with the rights of the project's first owner, so blinding holds as in the
/// page (an owner still coding a transcript can't export). The file appears
/// only once complete.
pub async fn run_cli(
    pool: &sqlx::PgPool,
    project_id: ProjectId,
    format: &str,
    coder_layers: bool,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    use anyhow::Context;
    if !matches!(format, "qdpx" | "qdc") {
        anyhow::bail!("--format {format}: this command writes qdpx or qdc");
    }
    let mut conn = pool.acquire().await?;
    let app = |e: AppError| anyhow::anyhow!("{}", cli_message(&e));
    let project = crate::projects::store::get_project(&mut conn, project_id)
        .await
        .map_err(|_| anyhow::anyhow!("no project has the id {project_id}"))?;
    let owner = crate::projects::store::list_members(&mut conn, project_id)
        .await
        .map_err(app)?
        .into_iter()
        .find(|m| m.role == crate::projects::model::Role::Owner)
        .context("the project has no owner")?;
    let actor = crate::projects::member::Actor {
        user_id: owner.user_id,
        project_id,
        project: project.clone(),
        role: owner.role,
    };
    let viewer = crate::coding::blinding::Viewer::of(&mut conn, &actor)
        .await
        .map_err(app)?;
    let proof = viewer.agreed_codebook().map_err(|e| {
        anyhow::anyhow!(
            "{} is still coding a transcript of this project, so the export (which holds the agreed codebook) is not written: {}",
            owner.display_name,
            cli_message(&e)
        )
    })?;
    let partial = out.with_extension(format!("{format}.partial"));
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let result = async {
        let file = std::fs::File::create(&partial)
            .with_context(|| format!("creating {}", partial.display()))?;
        let mut file = Counted::new(file, bar.clone(), format);
        if format == "qdc" {
            let codes = agreed_codebook(&mut conn, project_id, proof).await.map_err(app)?;
            if codes.is_empty() {
                anyhow::bail!("the agreed codebook has no codes yet, and a REFI-QDA codebook needs at least one");
            }
            std::io::Write::write_all(&mut file, write::codebook(&codes, &origin()).as_bytes())?;
        } else {
            file = write_qdpx(&mut conn, &project, owner.user_id, proof, QdpxOptions { coder_layers }, file).await.map_err(app)?;
        }
        std::io::Write::flush(&mut file)?;
        let size = file.size;
        drop(file);
        std::fs::rename(&partial, out).with_context(|| format!("writing {}", out.display()))?;
        anyhow::Ok(size)
    }
    .await;
    bar.finish_and_clear();
    match result {
        Ok(size) => {
            eprintln!("Wrote {} ({format}: {size} bytes)", out.display());
            Ok(())
        }
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            Err(error)
        }
    }
}

/// The file an export is written into, telling the progress line how far
/// the archive has grown (the zip writer seeks back to patch headers, so the
/// size is the furthest byte written).
struct Counted<W> {
    inner: W,
    bar: indicatif::ProgressBar,
    format: &'static str,
    at: u64,
    size: u64,
}

impl<W> Counted<W> {
    fn new(inner: W, bar: indicatif::ProgressBar, format: &str) -> Self {
        Self {
            inner,
            bar,
            format: if format == "qdc" { "qdc" } else { "qdpx" },
            at: 0,
            size: 0,
        }
    }
}

impl<W: std::io::Write> std::io::Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.at += n as u64;
        if self.at > self.size {
            let before = self.size >> 20;
            self.size = self.at;
            if self.size >> 20 != before || self.size < 1 << 20 {
                self.bar
                    .set_message(format!("{}: {} bytes written", self.format, self.size));
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<W: std::io::Seek> std::io::Seek for Counted<W> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.at = self.inner.seek(pos)?;
        Ok(self.at)
    }
}

fn cli_message(error: &AppError) -> String {
    match error {
        AppError::State(detail) => detail.clone(),
        AppError::Internal(error) => format!("{error:#}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(n: u128, parent: Option<u128>) -> AgreedCodeRow {
        AgreedCodeRow {
            id: AgreedCodeId(Uuid::from_u128(n)),
            name: format!("code {n}"),
            definition: String::new(),
            inclusion: String::new(),
            exclusion: String::new(),
            example: String::new(),
            color: "#aabbcc".to_owned(),
            shared_parent: parent.map(|p| AgreedCodeId(Uuid::from_u128(p))),
        }
    }

    fn shape(codes: &[Code]) -> Vec<(u128, Vec<(u128, usize)>)> {
        codes
            .iter()
            .map(|c| {
                let kids = c
                    .children
                    .iter()
                    .map(|k| (k.guid.as_u128(), k.children.len()))
                    .collect();
                (c.guid.as_u128(), kids)
            })
            .collect()
    }

    #[test]
    fn unplaced_codes_nest_as_their_shared_codes_and_a_cycle_stands_at_the_top() {
        // 2 under 1, 3 under 2; 4's parent is not an agreed code; 5 and 6
        // are each other's parent, 7 is under 6.
        let codes = [
            code(1, None),
            code(2, Some(1)),
            code(3, Some(2)),
            code(4, Some(99)),
            code(5, Some(6)),
            code(6, Some(5)),
            code(7, Some(6)),
        ];
        let out = hierarchy(&codes, &[], &[]);
        assert_eq!(
            shape(&out),
            [
                (1, vec![(2, 1)]),
                (4, vec![]),
                (5, vec![]),
                (6, vec![(7, 0)]),
            ]
        );
        let mut all = Vec::new();
        fn walk(c: &Code, all: &mut Vec<u128>) {
            all.push(c.guid.as_u128());
            c.children.iter().for_each(|k| walk(k, all));
        }
        out.iter().for_each(|c| walk(c, &mut all));
        all.sort();
        assert_eq!(all, [1, 2, 3, 4, 5, 6, 7]);
    }
}
