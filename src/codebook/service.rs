//! Every change of the agreed codebook: agreed codes made (by the lead, by an
//! alignment, by a decision, as the mirror of a shared code), renamed,
//! redefined, merged and unmerged, split, deleted and restored, and the
//! alignments of coder codes onto them. Each change writes its audit row and
//! live event in the caller's transaction; the changes that make or unmake
//! agreements file what the project accepts on its own with them.
//!
//! Services take a connection (or the caller's transaction) and an [`Actor`].

use std::collections::{HashMap, HashSet};

use sqlx::PgConnection;

use super::model::{
    self, AgreedCode, CodeChange, CoderCode, Entry, MergeInForce, MergePreview, NewCode, Quote,
    SplitRequest, SplitResult, Unmerged,
};
use super::store;
use crate::coding::blinding::Viewer;
use crate::coding::model as coding_model;
use crate::compare::report::Of;
use crate::db::audit::{self, Action, Change};
use crate::db::ids::{AgreedCodeId, CodeId, ProjectId, UserId};
use crate::error::{AppError, FieldErrors};
use crate::projects::member::Actor;
use crate::projects::model::Role;
use crate::reconcile::service::{Refile, file_automatic_for};

/// The messages only the codebook says (the shared ones are `crate::messages`).
pub mod say {
    pub const ID_TAKEN: &str = "This id is taken.";
    pub const IN_USE: &str = "This agreed code is in use (consensus codings or aligned coder codes): merge it into another instead.";
    pub const NOT_MERGED: &str = "This code is not merged into another: there is no merge to undo.";
    pub const STILL_CODING: &str = "You are still coding a transcript of this project: submit it before opening the consensus codebook.";
    pub const CHOOSE_SPLIT: &str = "Choose the consensus codings that go to the new code.";
    pub const CHOOSE_EXAMPLE: &str = "Choose a consensus coding of this code.";
}

/// Leads edit the agreed codebook, while the project is not archived.
pub fn require_editor(actor: &Actor) -> Result<(), AppError> {
    actor.require(&[Role::Lead])?;
    actor.require_active()
}

/// Whether `actor` may edit the agreed codebook (for pages to offer it).
pub fn can_edit(actor: &Actor) -> bool {
    require_editor(actor).is_ok()
}

fn record(actor: UserId, project: ProjectId, action: Action, entity: uuid::Uuid) -> Change {
    Change::new(Some(actor), action)
        .project(project)
        .entity(entity)
}

/// A live agreed code of the actor's project, or a field error naming `field`.
pub async fn live_code(
    conn: &mut PgConnection,
    project: ProjectId,
    id: AgreedCodeId,
    field: &str,
) -> Result<AgreedCode, AppError> {
    match store::get_agreed(conn, project, id).await {
        Ok(code) if !code.deleted => Ok(code),
        Ok(_) | Err(AppError::NotFound) => {
            Err(AppError::field(field, crate::messages::CHOOSE_AGREED_CODE))
        }
        Err(e) => Err(e),
    }
}

/// Inserts `code` with its audit row; `None` when its id is taken. A taken
/// name is refused by the schema (`agreed_codes_project_name_key`).
pub async fn insert(
    conn: &mut PgConnection,
    actor: &Actor,
    code: &AgreedCode,
) -> Result<Option<AgreedCode>, AppError> {
    let Some(created) = store::insert_agreed(conn, actor.project_id, code, actor.user_id).await?
    else {
        return Ok(None);
    };
    audit::record(
        conn,
        record(
            actor.user_id,
            actor.project_id,
            Action::AgreedCodeCreated,
            created.id.0,
        )
        .after(&created),
    )
    .await?;
    Ok(Some(created))
}

/// A new agreed code named by an alignment or a decision, coloured `color`
/// (or the first colour no live agreed code has).
pub async fn create_named(
    conn: &mut PgConnection,
    actor: &Actor,
    name: &str,
    definition: &str,
    color: Option<&str>,
) -> Result<AgreedCode, AppError> {
    let agreed = store::list_agreed(&mut *conn, actor.project_id).await?;
    let taken = |c: &str| agreed.iter().any(|a| a.color.eq_ignore_ascii_case(c));
    let color = color
        .filter(|c| !taken(c))
        .unwrap_or_else(|| model::agreed_color(&agreed))
        .to_owned();
    let code = AgreedCode::new(
        AgreedCodeId::new(),
        name.to_owned(),
        definition.trim().to_owned(),
        color,
    );
    insert(conn, actor, &code)
        .await?
        .ok_or_else(|| AppError::stale(&serde_json::json!({ "detail": say::ID_TAKEN })))
}

/// A new agreed code, with the client's id (a retry returns the same code).
pub async fn create(
    conn: &mut PgConnection,
    actor: &Actor,
    body: NewCode,
) -> Result<(AgreedCode, bool), AppError> {
    require_editor(actor)?;
    let mut errors = FieldErrors::new();
    let name = coding_model::parse_code_name(&mut errors, &body.name);
    coding_model::check_long_text(&mut errors, "definition", &body.definition);
    let color = match &body.color {
        Some(c) => coding_model::parse_color(&mut errors, c),
        None => {
            model::agreed_color(&store::list_agreed(&mut *conn, actor.project_id).await?).to_owned()
        }
    };
    errors.into_result()?;
    let code = AgreedCode::new(body.id, name, body.definition.trim().to_owned(), color);
    if let Some(created) = insert(&mut *conn, actor, &code).await? {
        return Ok((created, true));
    }
    let existing = store::get_agreed(conn, actor.project_id, body.id)
        .await
        .map_err(|_| AppError::stale(&serde_json::json!({ "detail": say::ID_TAKEN })))?;
    if existing.name == code.name && !existing.deleted {
        Ok((existing, false))
    } else {
        Err(AppError::stale(&existing))
    }
}

/// Aligns coder code `code` (aligned onto `before` until now) onto `agreed`.
/// The caller files the agreements this makes, once for all its alignments.
pub async fn align(
    conn: &mut PgConnection,
    actor: &Actor,
    code: CodeId,
    before: Option<AgreedCodeId>,
    agreed: &AgreedCode,
) -> Result<(), AppError> {
    store::upsert_alignment(conn, actor.project_id, code, agreed.id, actor.user_id).await?;
    audit::record(
        conn,
        record(actor.user_id, actor.project_id, Action::CodeAligned, code.0)
            .before(&serde_json::json!({ "agreed_code_id": before }))
            .after(&serde_json::json!({ "agreed_code_id": agreed.id, "agreed_code": agreed.name })),
    )
    .await
}

/// Takes coder code `code`'s alignment (onto `before`) away; false when it had
/// none. The caller files the agreements this unmakes.
pub async fn unalign(
    conn: &mut PgConnection,
    actor: &Actor,
    code: CodeId,
    before: Option<AgreedCodeId>,
) -> Result<bool, AppError> {
    if !store::delete_alignment(conn, actor.project_id, code).await? {
        return Ok(false);
    }
    audit::record(
        conn,
        record(
            actor.user_id,
            actor.project_id,
            Action::CodeUnaligned,
            code.0,
        )
        .before(&serde_json::json!({ "agreed_code_id": before })),
    )
    .await?;
    Ok(true)
}

/// With a shared codebook, gives every shared code an agreed code of the same
/// name (made once, or the live agreed code of that name), so the consensus
/// layer speaks of agreed codes only. Each agreed code made and each
/// alignment is on the record. The caller holds the project's filing lock
/// (`reconcile::service::file_automatic` does), so two mirrors of one new
/// shared code do not make it twice.
pub async fn mirror_shared(
    conn: &mut PgConnection,
    project: ProjectId,
    actor: UserId,
) -> Result<(), AppError> {
    for code in store::list_unmirrored(&mut *conn, project).await? {
        // The agreed code takes its shared code's id (unless an agreed code
        // has it already), so that an export speaks of the codes the coders
        // coded with and an import of it gives them back by their GUIDs.
        let id = if store::agreed_id_taken(&mut *conn, code.id.0).await? {
            AgreedCodeId::new()
        } else {
            AgreedCodeId(code.id.0)
        };
        let mut mirror = AgreedCode::new(id, code.name.clone(), code.definition, code.color);
        mirror.inclusion = code.inclusion;
        mirror.exclusion = code.exclusion;
        let (agreed, made) =
            store::find_or_insert_by_name(&mut *conn, project, &mirror, actor).await?;
        if made {
            audit::record(
                &mut *conn,
                record(actor, project, Action::AgreedCodeCreated, agreed.0).after(
                    &serde_json::json!({ "name": code.name, "mirrored_from_shared_code": code.id }),
                ),
            )
            .await?;
        }
        if !store::insert_alignment(&mut *conn, project, code.id, agreed, actor).await? {
            continue;
        }
        audit::record(
            &mut *conn,
            record(actor, project, Action::CodeAligned, code.id.0).after(&serde_json::json!({
                "agreed_code_id": agreed,
                "agreed_code": code.name,
                "mirrored_from_shared_codebook": true,
            })),
        )
        .await?;
    }
    Ok(())
}

/// The agreed code each report code stands for: itself with independent
/// codebooks (an empty map: a code not in it stands for itself), its mirror
/// in the agreed codebook with a shared one.
pub async fn agreed_ids(
    conn: &mut PgConnection,
    of: Of,
) -> Result<HashMap<uuid::Uuid, AgreedCodeId>, AppError> {
    if !of.shared {
        return Ok(HashMap::new());
    }
    Ok(store::shared_mirrors(conn, of.project)
        .await?
        .into_iter()
        .map(|(code, agreed)| (code.0, agreed))
        .collect())
}

/// Renames or redefines an agreed code (versioned: a stale write gets 409).
pub async fn update(
    conn: &mut PgConnection,
    actor: &Actor,
    id: AgreedCodeId,
    change: CodeChange,
) -> Result<AgreedCode, AppError> {
    require_editor(actor)?;
    let before = store::get_agreed(&mut *conn, actor.project_id, id).await?;
    if before.deleted {
        return Err(AppError::NotFound);
    }
    if before.version != change.version {
        return Err(AppError::stale(&before));
    }
    let mut after = before.clone();
    let mut errors = FieldErrors::new();
    if let Some(name) = &change.name {
        after.name = coding_model::parse_code_name(&mut errors, name);
    }
    for (field, value, slot) in [
        ("definition", &change.definition, &mut after.definition),
        ("inclusion", &change.inclusion, &mut after.inclusion),
        ("exclusion", &change.exclusion, &mut after.exclusion),
        ("example", &change.example, &mut after.example),
    ] {
        if let Some(value) = value {
            coding_model::check_long_text(&mut errors, field, value);
            *slot = value.trim().to_owned();
        }
    }
    if let Some(color) = &change.color {
        after.color = coding_model::parse_color(&mut errors, color);
    }
    errors.into_result()?;
    if let Some(example) = change.example_coding_id {
        if let Some(coding) = example {
            let c = crate::reconcile::store::get_consensus(&mut *conn, actor.project_id, coding)
                .await
                .map_err(|_| AppError::field("example_coding_id", say::CHOOSE_EXAMPLE))?;
            if c.deleted || c.agreed_code_id != id {
                return Err(AppError::field("example_coding_id", say::CHOOSE_EXAMPLE));
            }
            after.example = store::quote_of(&mut *conn, c.transcript_id, c.start, c.end).await?;
        }
        after.example_coding_id = example;
    }
    let after = store::update_agreed(&mut *conn, &after, change.version)
        .await?
        .ok_or_else(|| AppError::stale(&before))?;
    audit::record(
        conn,
        record(
            actor.user_id,
            actor.project_id,
            Action::AgreedCodeUpdated,
            id.0,
        )
        .before(&before)
        .after(&after),
    )
    .await?;
    Ok(after)
}

/// Soft-deletes an agreed code nothing uses any more (no consensus coding, no
/// coder code aligned to it); restores one.
pub async fn set_deleted(
    conn: &mut PgConnection,
    actor: &Actor,
    id: AgreedCodeId,
    deleted: bool,
) -> Result<AgreedCode, AppError> {
    require_editor(actor)?;
    let before = store::get_agreed(&mut *conn, actor.project_id, id).await?;
    if before.deleted == deleted {
        return Ok(before);
    }
    if deleted {
        let used = store::usage(&mut *conn, id).await?;
        if used.codings + used.coder_codes > 0 {
            return Err(AppError::State(say::IN_USE.into()));
        }
    }
    let mut after = before.clone();
    after.deleted = deleted;
    if !deleted {
        after.merged_into = None;
    }
    let after = store::update_agreed(&mut *conn, &after, before.version)
        .await?
        .ok_or_else(|| AppError::stale(&before))?;
    let action = if deleted {
        Action::AgreedCodeDeleted
    } else {
        Action::AgreedCodeRestored
    };
    audit::record(
        &mut *conn,
        record(actor.user_id, actor.project_id, action, id.0)
            .before(&before)
            .after(&after),
    )
    .await?;
    // Merging, splitting, deleting and restoring make and unmake agreements.
    file_automatic_for(conn, actor, Refile::All).await?;
    Ok(after)
}

/// Merges agreed code `id` into `into`: its consensus codings and the coder
/// codes aligned to it follow, and so does its place in the theme hierarchy;
/// it is kept, deleted, pointing at `into`, until the merge is undone.
pub async fn merge(
    conn: &mut PgConnection,
    actor: &Actor,
    id: AgreedCodeId,
    into: AgreedCodeId,
) -> Result<(AgreedCode, u64), AppError> {
    require_editor(actor)?;
    if id == into {
        return Err(AppError::field("into", crate::messages::CHOOSE_OTHER_CODE));
    }
    let before = store::get_agreed(&mut *conn, actor.project_id, id).await?;
    if before.deleted {
        return Err(AppError::NotFound);
    }
    let target = live_code(&mut *conn, actor.project_id, into, "into").await?;
    let moved_ids = crate::reconcile::store::move_consensus(&mut *conn, id, into, None).await?;
    let realigned_ids = store::move_alignments(&mut *conn, id, into, None).await?;
    let theme =
        crate::themes::store::follow_code(&mut *conn, actor.project_id, id, into, actor.user_id)
            .await?;
    let merge_id = uuid::Uuid::now_v7();
    store::insert_merge(
        &mut *conn,
        &store::NewMerge {
            id: merge_id,
            project: actor.project_id,
            code: id,
            into,
            consensus_codings: &moved_ids,
            coder_codes: &realigned_ids,
            placed_target: theme.is_some(),
            by: actor.user_id,
        },
    )
    .await?;
    let (moved, realigned) = (moved_ids.len() as u64, realigned_ids.len() as u64);
    let mut after = before.clone();
    after.deleted = true;
    after.merged_into = Some(into);
    after.example_coding_id = None;
    let after = store::update_agreed(&mut *conn, &after, before.version)
        .await?
        .ok_or_else(|| AppError::stale(&before))?;
    audit::record(
        &mut *conn,
        record(
            actor.user_id,
            actor.project_id,
            Action::AgreedCodeMerged,
            id.0,
        )
        .before(&before)
        .after(&serde_json::json!({
            "code": after, "into": target, "merge": merge_id,
            "consensus_codings_moved": moved, "coder_codes_realigned": realigned,
            "placed_under_theme": theme,
        })),
    )
    .await?;
    // Merging, splitting, deleting and restoring make and unmake agreements.
    file_automatic_for(conn, actor, Refile::All).await?;
    Ok((after, moved))
}

/// What a merge would do, for the lead to confirm.
pub async fn merge_preview(
    conn: &mut PgConnection,
    actor: &Actor,
    id: AgreedCodeId,
    into: AgreedCodeId,
) -> Result<MergePreview, AppError> {
    require_editor(actor)?;
    if id == into {
        return Err(AppError::field("into", crate::messages::CHOOSE_OTHER_CODE));
    }
    let code = live_code(&mut *conn, actor.project_id, id, "code_id")
        .await
        .map_err(|_| AppError::NotFound)?;
    let into = live_code(&mut *conn, actor.project_id, into, "into").await?;
    let used = store::usage(conn, id).await?;
    Ok(MergePreview {
        code,
        into,
        consensus_codings: used.codings,
        coder_codes: used.coder_codes,
    })
}

/// The merges that can be undone, newest first.
pub async fn merges_in_force(
    conn: &mut PgConnection,
    actor: &Actor,
) -> Result<Vec<MergeInForce>, AppError> {
    require_editor(actor)?;
    store::list_merges_in_force(conn, actor.project_id).await
}

/// Undoes the merge of agreed code `id` that is in force: the code comes back
/// with the consensus codings and coder codes the merge moved (as far as they
/// are still under the code it went into), and the other code loses the theme
/// placement the merge gave it, if it still has it.
pub async fn undo_merge(
    conn: &mut PgConnection,
    actor: &Actor,
    id: AgreedCodeId,
) -> Result<Unmerged, AppError> {
    require_editor(actor)?;
    let before = store::get_agreed(&mut *conn, actor.project_id, id).await?;
    let merge = store::find_merge_in_force(&mut *conn, actor.project_id, id).await?;
    let Some(merge) = merge.filter(|_| before.deleted && before.merged_into.is_some()) else {
        return Err(AppError::State(say::NOT_MERGED.into()));
    };
    let into = merge.into;
    let moved_back = crate::reconcile::store::move_consensus(
        &mut *conn,
        into,
        id,
        Some(&merge.consensus_codings),
    )
    .await?
    .len() as u64;
    let realigned = store::move_alignments(&mut *conn, into, id, Some(&merge.coder_codes))
        .await?
        .len() as u64;
    let unplaced = if merge.placed_target {
        crate::themes::store::unplace_merge_target(&mut *conn, actor.project_id, into, id).await?
    } else {
        None
    };
    store::mark_merge_undone(&mut *conn, merge.id, actor.user_id).await?;
    let mut after = before.clone();
    after.deleted = false;
    after.merged_into = None;
    let after = store::update_agreed(&mut *conn, &after, before.version)
        .await?
        .ok_or_else(|| AppError::stale(&before))?;
    let result = Unmerged {
        code: after,
        into,
        consensus_codings_moved_back: moved_back,
        coder_codes_realigned: realigned,
        left_in_place: merge.consensus_codings.len() as u64 - moved_back,
    };
    audit::record(
        &mut *conn,
        record(
            actor.user_id,
            actor.project_id,
            Action::AgreedCodeMergeUndone,
            id.0,
        )
        .before(&before)
        .after(&serde_json::json!({
            "result": &result, "merge": merge.id, "target_unplaced_from": unplaced,
        })),
    )
    .await?;
    // Merging, splitting, deleting and restoring make and unmake agreements.
    file_automatic_for(conn, actor, Refile::All).await?;
    Ok(result)
}

/// Splits agreed code `id`: a new code takes the chosen consensus codings
/// (and coder codes) and a place beside it in the theme hierarchy; the rest stay.
pub async fn split(
    conn: &mut PgConnection,
    actor: &Actor,
    id: AgreedCodeId,
    request: SplitRequest,
) -> Result<SplitResult, AppError> {
    require_editor(actor)?;
    let mut errors = FieldErrors::new();
    let name = coding_model::parse_code_name(&mut errors, &request.name);
    coding_model::check_long_text(&mut errors, "definition", &request.definition);
    if request.codings.is_empty() && request.coder_codes.is_empty() {
        errors.add("codings", say::CHOOSE_SPLIT);
    }
    errors.into_result()?;
    let before = store::get_agreed(&mut *conn, actor.project_id, id).await?;
    if before.deleted {
        return Err(AppError::NotFound);
    }
    let live: HashSet<_> =
        crate::reconcile::store::list_consensus(&mut *conn, actor.project_id, None)
            .await?
            .into_iter()
            .filter(|c| c.agreed_code_id == id)
            .map(|c| c.id)
            .collect();
    if let Some(stray) = request.codings.iter().find(|c| !live.contains(c)) {
        return Err(AppError::field(
            "codings",
            format!("Consensus coding {stray} is not a coding of this code."),
        ));
    }
    let aligned = store::aligned_to(&mut *conn, id).await?;
    if let Some(stray) = request.coder_codes.iter().find(|c| !aligned.contains(c)) {
        return Err(AppError::field(
            "coder_codes",
            format!("Coder code {stray} is not aligned to this code."),
        ));
    }
    let color = model::agreed_color(&store::list_agreed(&mut *conn, actor.project_id).await?);
    let new_code = AgreedCode::new(
        request.id.unwrap_or_default(),
        name,
        request.definition.trim().to_owned(),
        color.to_owned(),
    );
    let new_code = insert(&mut *conn, actor, &new_code)
        .await?
        .ok_or_else(|| AppError::stale(&serde_json::json!({ "detail": say::ID_TAKEN })))?;
    let ids: Vec<uuid::Uuid> = request.codings.iter().map(|c| c.0).collect();
    let moved = crate::reconcile::store::move_consensus(&mut *conn, id, new_code.id, Some(&ids))
        .await?
        .len() as u64;
    let coder_ids: Vec<uuid::Uuid> = request.coder_codes.iter().map(|c| c.0).collect();
    if !coder_ids.is_empty() {
        store::move_alignments(&mut *conn, id, new_code.id, Some(&coder_ids)).await?;
    }
    let theme = crate::themes::store::follow_code(
        &mut *conn,
        actor.project_id,
        id,
        new_code.id,
        actor.user_id,
    )
    .await?;
    let mut code = before.clone();
    if code
        .example_coding_id
        .is_some_and(|e| request.codings.contains(&e))
    {
        code.example_coding_id = None;
    }
    let code = store::update_agreed(&mut *conn, &code, before.version)
        .await?
        .ok_or_else(|| AppError::stale(&before))?;
    audit::record(
        &mut *conn,
        record(
            actor.user_id,
            actor.project_id,
            Action::AgreedCodeSplit,
            id.0,
        )
        .before(&before)
        .after(&serde_json::json!({
            "code": code, "new_code": new_code,
            "consensus_codings_moved": request.codings, "coder_codes_moved": request.coder_codes,
            "placed_under_theme": theme,
        })),
    )
    .await?;
    // Merging, splitting, deleting and restoring make and unmake agreements.
    file_automatic_for(conn, actor, Refile::All).await?;
    Ok(SplitResult {
        code,
        new_code,
        moved,
    })
}

/// The consensus codebook: every agreed code with its counts, the coder codes
/// mapped onto it, and its quotes. Leads and reviewers, and coders who are not
/// coding anything any more.
pub async fn codebook(conn: &mut PgConnection, actor: &Actor) -> Result<Vec<Entry>, AppError> {
    let proof = Viewer::of(&mut *conn, actor)
        .await?
        .agreed_codebook()
        .map_err(|_| AppError::State(say::STILL_CODING.into()))?;
    let codes = store::list_agreed(&mut *conn, actor.project_id).await?;
    let counts: HashMap<AgreedCodeId, model::CodeCounts> =
        store::consensus_counts(&mut *conn, actor.project_id)
            .await?
            .into_iter()
            .map(|c| (c.agreed_code_id, c))
            .collect();
    // Each code's coder codes and quotes, in the order read, grouped once.
    let mut aligned: HashMap<AgreedCodeId, Vec<CoderCode>> = HashMap::new();
    for a in store::list_aligned(&mut *conn, actor.project_id, proof).await? {
        aligned.entry(a.agreed).or_default().push(CoderCode {
            id: a.id,
            coder: a.coder,
            name: a.name,
        });
    }
    let mut quotes: HashMap<AgreedCodeId, Vec<Quote>> = HashMap::new();
    for q in store::list_quotes(&mut *conn, actor.project_id, proof).await? {
        quotes.entry(q.agreed).or_default().push(Quote {
            coding_id: q.id,
            transcript_id: q.transcript_id,
            transcript: q.title,
            participant: q.participant,
            text: q.text,
        });
    }
    Ok(codes
        .into_iter()
        .map(|code| {
            let n = counts.get(&code.id);
            let quotes = quotes.remove(&code.id).unwrap_or_default();
            Entry {
                codings: n.map(|n| n.codings).unwrap_or(0),
                transcripts: n.map(|n| n.transcripts).unwrap_or(0),
                participants: n.map(|n| n.participants).unwrap_or(0),
                coder_codes: aligned.remove(&code.id).unwrap_or_default(),
                suggested_example: model::suggest_example(&quotes),
                quotes,
                code,
            }
        })
        .collect())
}
