//! The OpenAPI description of `/api/v1`, served at `GET /api/v1/openapi.json`.
//!
//! Every operation the router serves under `/api/v1` has one entry in
//! [`OPERATIONS`] (tests/it/openapi.rs fails when a route is served but not
//! described, or described but not served). Path parameters come from the
//! path itself; request bodies are described by their fields; every error is
//! an RFC 9457 problem document.

use axum::Json;
use serde_json::{Map, Value, json};

/// One operation: method, path (as routed), summary, who may call it, the
/// JSON body's fields (empty: no body) and the status of success.
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub who: &'static str,
    pub body: &'static str,
    pub status: u16,
}

const fn op(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    who: &'static str,
    body: &'static str,
    status: u16,
) -> Operation {
    Operation {
        method,
        path,
        summary,
        who,
        body,
        status,
    }
}

pub const OPERATIONS: &[Operation] = &[
    op(
        "GET",
        "/api/v1/session",
        "Who is signed in, and the CSRF token for writes",
        "anyone",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/session",
        "Sign in",
        "anyone",
        "email, password",
        200,
    ),
    op(
        "DELETE",
        "/api/v1/session",
        "Sign out",
        "signed in",
        "",
        204,
    ),
    op(
        "POST",
        "/api/v1/setup",
        "Create the first admin of a new install",
        "anyone, once",
        "email, display_name, password",
        201,
    ),
    op("GET", "/api/v1/me", "Your account", "signed in", "", 200),
    op(
        "POST",
        "/api/v1/me/password",
        "Change your password",
        "signed in",
        "current_password, new_password",
        204,
    ),
    op(
        "GET",
        "/api/v1/tokens",
        "Your API tokens",
        "signed in",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/tokens",
        "Create an API token (its secret is shown once)",
        "signed in",
        "name",
        201,
    ),
    op(
        "DELETE",
        "/api/v1/tokens/{token_id}",
        "Revoke an API token",
        "signed in",
        "",
        204,
    ),
    op(
        "GET",
        "/api/v1/users",
        "Every account",
        "site admins",
        "",
        200,
    ),
    op(
        "PATCH",
        "/api/v1/users/{user_id}",
        "Disable or enable an account",
        "site admins",
        "disabled",
        200,
    ),
    op(
        "POST",
        "/api/v1/users/{user_id}/reset",
        "A password-reset link for an account",
        "site admins",
        "",
        201,
    ),
    op(
        "GET",
        "/api/v1/invites",
        "Pending invitations",
        "site admins",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/invites",
        "Invite someone (optionally to a project with a role); the answer has the link's id, token and url",
        "site admins",
        "email, admin, project_id, role",
        201,
    ),
    op(
        "DELETE",
        "/api/v1/invites/{invite}",
        "Withdraw a pending invitation",
        "site admins",
        "",
        204,
    ),
    op(
        "POST",
        "/api/v1/invites/{invite}/accept",
        "Accept an invitation: create the account and sign in",
        "anyone with the token",
        "display_name, password",
        201,
    ),
    op(
        "POST",
        "/api/v1/resets/{token}",
        "Set a new password with a reset link",
        "anyone with the token",
        "password",
        204,
    ),
    op(
        "GET",
        "/api/v1/openapi.json",
        "This description",
        "anyone",
        "",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects",
        "Your projects",
        "signed in",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects",
        "Create a project (you become its owner)",
        "signed in",
        "name, description",
        201,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}",
        "A project",
        "members",
        "",
        200,
    ),
    op(
        "PATCH",
        "/api/v1/projects/{project_id}",
        "Rename or describe a project",
        "owners",
        "version, name, description",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/archive",
        "Archive a project (read-only from then on)",
        "owners",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/unarchive",
        "Bring an archived project back",
        "owners",
        "",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/members",
        "Members and their roles",
        "members",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/members",
        "Add a member with a role",
        "owners",
        "email, role (owner, lead, coder, reviewer)",
        201,
    ),
    op(
        "PATCH",
        "/api/v1/projects/{project_id}/members/{user_id}",
        "Change a member's role",
        "owners",
        "role",
        200,
    ),
    op(
        "DELETE",
        "/api/v1/projects/{project_id}/members/{user_id}",
        "Remove a member",
        "owners",
        "",
        204,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/audit",
        "The audit log, newest first, 50 a page; ?page, person, kind, transcript, from, to",
        "owners and leads",
        "",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/events",
        "Live events as server-sent events; send Last-Event-ID to resume",
        "members",
        "",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/transcripts",
        "The project's transcripts",
        "members",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/transcripts",
        "Import transcripts (multipart: files, participant_id, encoding, not_speaker); 207 when some failed",
        "owners and leads",
        "multipart/form-data: files, participant_id, encoding, not_speaker",
        201,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/transcripts/preview",
        "What an import would store: first lines, encoding, speakers, warnings; stores nothing",
        "owners and leads",
        "multipart/form-data, as the import",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}",
        "A transcript: text, lines, turns (code-point offsets) and metadata",
        "members not blind to it",
        "",
        200,
    ),
    op(
        "PATCH",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}",
        "Edit a transcript's title, participant or (before any coding) text",
        "owners and leads",
        "version, title, participant_id, text",
        200,
    ),
    op(
        "DELETE",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}",
        "Soft-delete a transcript",
        "owners and leads",
        "",
        204,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}/restore",
        "Restore a deleted transcript",
        "owners and leads",
        "",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/assignments",
        "Assignments with each coder's progress (hidden from whoever is blind to it)",
        "members",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/assignments",
        "Assign transcripts to coders",
        "owners and leads",
        "transcript_ids, user_ids",
        201,
    ),
    op(
        "DELETE",
        "/api/v1/projects/{project_id}/assignments/{assignment_id}",
        "Withdraw an assignment nothing is coded in yet",
        "owners and leads",
        "",
        204,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/assignments/{assignment_id}/reopen",
        "Reopen a submitted layer",
        "owners and leads",
        "",
        200,
    ),
    op(
        "PUT",
        "/api/v1/projects/{project_id}/codebook-mode",
        "Independent or shared codebooks (before the first code)",
        "owners",
        "codebook_mode (independent, shared)",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}/coding",
        "The coding page's data: text, lines, turns, your assignment, codes and codings",
        "the transcript's coders",
        "",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/codes",
        "Your codebook (or the shared one)",
        "coders",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/codes",
        "Create a code with your own UUID (a retry is a no-op)",
        "coders",
        "id, name, definition, color, parent_id",
        201,
    ),
    op(
        "PATCH",
        "/api/v1/projects/{project_id}/codes/{code_id}",
        "Rename, define, recolour or nest a code",
        "the code's owner",
        "version, name, definition, color, parent_id",
        200,
    ),
    op(
        "DELETE",
        "/api/v1/projects/{project_id}/codes/{code_id}",
        "Soft-delete a code",
        "the code's owner",
        "",
        204,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/codes/{code_id}/restore",
        "Restore a deleted code",
        "the code's owner",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/codes/{code_id}/merge",
        "Merge one of your codes into another (its codings follow)",
        "the code's owner",
        "into",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}/codings",
        "Your codings of a transcript",
        "the transcript's coders",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}/codings",
        "Create a coding (code points; a retry with the same body is a no-op)",
        "the transcript's coders",
        "id, code_id, start, end, memo",
        201,
    ),
    op(
        "PATCH",
        "/api/v1/projects/{project_id}/codings/{coding_id}",
        "Change a coding's code, boundaries or memo (409 when version is stale)",
        "the coding's coder",
        "version, code_id, start, end, memo",
        200,
    ),
    op(
        "DELETE",
        "/api/v1/projects/{project_id}/codings/{coding_id}",
        "Soft-delete a coding",
        "the coding's coder",
        "",
        204,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/codings/{coding_id}/restore",
        "Undo a coding's deletion",
        "the coding's coder",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}/submit",
        "Submit your layer of a transcript",
        "the transcript's coders",
        "",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/alignment",
        "Every coder's codes, the agreed codes and ranked suggestions",
        "owners and leads",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/agreed-codes",
        "A new agreed code with coder codes aligned onto it",
        "owners and leads",
        "name, definition, code_ids",
        201,
    ),
    op(
        "PUT",
        "/api/v1/projects/{project_id}/alignment/{code_id}",
        "Align a coder code onto an agreed code",
        "owners and leads",
        "agreed_code_id",
        204,
    ),
    op(
        "DELETE",
        "/api/v1/projects/{project_id}/alignment/{code_id}",
        "Undo a coder code's alignment",
        "owners and leads",
        "",
        204,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/agreement",
        "The agreement report: ?level (line, sentence, paragraph, turn, character), transcript_id",
        "owners, leads, and coders of submitted transcripts",
        "",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/reconciliation",
        "Reconciliation progress of every transcript",
        "owners and leads",
        "",
        200,
    ),
    op(
        "PUT",
        "/api/v1/projects/{project_id}/reconciliation/settings",
        "Accept agreements automatically; require a reason for relabel and reject",
        "owners and leads",
        "auto_accept_agreements, require_rationale",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}/reconciliation",
        "Discrepancies with their decisions (in force or outdated), history and comments, and the consensus layer",
        "owners, leads, and the transcript's coders once all submitted",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}/decisions",
        "Decide a discrepancy (409 when supersedes is not the decision in force)",
        "owners and leads",
        "key, kind (accept_a, accept_b, both, union, intersection, relabel, reject, undo), code_id or new_code_name, rationale, supersedes",
        201,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}/comments",
        "Comment on a discrepancy",
        "owners, leads, and the transcript's coders once all submitted",
        "key, body",
        201,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/consensus/transcripts/{transcript_id}/coding",
        "The consensus layer as coding-page data",
        "owners, leads, reviewers, and the transcript's coders once all submitted",
        "",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/consensus/transcripts/{transcript_id}/codings",
        "The consensus codings of a transcript",
        "owners, leads, reviewers, and the transcript's coders once all submitted",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/consensus/transcripts/{transcript_id}/codings",
        "Add a consensus coding by hand",
        "owners and leads",
        "id, code_id, start, end, memo",
        201,
    ),
    op(
        "PATCH",
        "/api/v1/projects/{project_id}/consensus/codings/{coding_id}",
        "Change a consensus coding",
        "owners and leads",
        "version, code_id, start, end, memo",
        200,
    ),
    op(
        "DELETE",
        "/api/v1/projects/{project_id}/consensus/codings/{coding_id}",
        "Soft-delete a consensus coding",
        "owners and leads",
        "",
        204,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/consensus/codings/{coding_id}/restore",
        "Undo a consensus coding's deletion",
        "owners and leads",
        "",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/consensus/codebook",
        "Agreed codes with counts, aligned coder codes and quotes",
        "members who code nothing any more",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/consensus/codes",
        "Create an agreed code",
        "owners and leads",
        "id, name, definition, inclusion, exclusion, color",
        201,
    ),
    op(
        "PATCH",
        "/api/v1/projects/{project_id}/consensus/codes/{code_id}",
        "Edit an agreed code (name, definition, criteria, typical example)",
        "owners and leads",
        "version, name, definition, inclusion, exclusion, example, color, example_coding_id",
        200,
    ),
    op(
        "DELETE",
        "/api/v1/projects/{project_id}/consensus/codes/{code_id}",
        "Delete an agreed code nothing uses",
        "owners and leads",
        "",
        204,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/consensus/codes/{code_id}/restore",
        "Restore a deleted agreed code",
        "owners and leads",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/consensus/codes/{code_id}/merge",
        "Merge an agreed code into another (codings and alignments follow)",
        "owners and leads",
        "into",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/consensus/codes/{code_id}/unmerge",
        "Undo the merge of an agreed code",
        "owners and leads",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/consensus/codes/{code_id}/split",
        "Split the chosen consensus codings off into a new agreed code",
        "owners and leads",
        "name, definition, codings, coder_codes",
        201,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/themes",
        "The theme hierarchy with counts, codes and unplaced codes",
        "members who code nothing any more",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/themes/nodes",
        "Create a theme node",
        "owners and leads",
        "name, parent_id, definition, memo, color, position, codes",
        201,
    ),
    op(
        "PATCH",
        "/api/v1/projects/{project_id}/themes/nodes/{node_id}",
        "Edit a theme node",
        "owners and leads",
        "version, name, definition, memo, color, example_coding_id",
        200,
    ),
    op(
        "DELETE",
        "/api/v1/projects/{project_id}/themes/nodes/{node_id}",
        "Delete a theme node (?version); its codes are unplaced and children lifted",
        "owners and leads",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/themes/nodes/{node_id}/move",
        "Move a theme node",
        "owners and leads",
        "version, parent_id, position",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/themes/nodes/{node_id}/merge",
        "Merge a theme node into another",
        "owners and leads",
        "version, into",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/themes/nodes/{node_id}/split",
        "Split codes off a theme node into a new sibling",
        "owners and leads",
        "version, name, codes",
        201,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/themes/nodes/{node_id}/restore",
        "Restore a deleted theme node",
        "owners and leads",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/themes/placements",
        "Place codes under a node (node_id null unplaces them)",
        "owners and leads",
        "codes [{id, version}], node_id, position",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/themes/quotes",
        "Quotes of a node or code: ?node or code, transcript, q, where, sort",
        "members who code nothing any more",
        "",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/themes/trace/consensus/{coding_id}",
        "A consensus quote traced down to the decisions and coder codings behind it",
        "owners and leads",
        "",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/themes/trace/codings/{coding_id}",
        "A coder's coding traced up to the consensus and the themes",
        "owners and leads",
        "",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/review-rounds",
        "Review rounds (reviewers: their own)",
        "owners, leads and reviewers",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/review-rounds",
        "Publish a review round: a frozen snapshot of the hierarchy to chosen reviewers",
        "owners and leads",
        "message, due_on (YYYY-MM-DD), reviewers (user ids)",
        201,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/review-rounds/{round_id}",
        "A review round: snapshot, comments, sign-offs and changes since",
        "owners, leads and its reviewers",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/review-rounds/{round_id}/close",
        "Close a review round",
        "owners and leads",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/review-rounds/{round_id}/comments",
        "Comment on a node, code or quote of the snapshot",
        "its reviewers, owners and leads",
        "target_kind, target_id, body",
        201,
    ),
    op(
        "PATCH",
        "/api/v1/projects/{project_id}/review-rounds/{round_id}/comments/{comment_id}",
        "Set a comment's status (open, addressed, dismissed) with a reply",
        "owners and leads",
        "version, status (open, addressed, dismissed), reply",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/review-rounds/{round_id}/signoff",
        "Sign the round off, with or without reservations",
        "its reviewers",
        "verdict (confirmed, reservations), note",
        201,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/saturation",
        "Saturation: new codes per transcript, Guest, Namey & Chen's method, and the order-free view",
        "members who code nothing any more",
        "",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/tables",
        "Write-up tables: n of N by attribute, co-occurrence, code × transcript (?by, min)",
        "members who code nothing any more",
        "",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/participants",
        "Participants with their values",
        "members",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/participants",
        "Create a participant",
        "owners and leads",
        "label, values",
        201,
    ),
    op(
        "PATCH",
        "/api/v1/projects/{project_id}/participants/{participant_id}",
        "Edit a participant's label or values",
        "owners and leads",
        "version, label, values",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/variables",
        "Participant variables",
        "members",
        "",
        200,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/variables",
        "Create a variable (text, number or category with allowed values)",
        "owners and leads",
        "name, kind, allowed_values",
        201,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/participant-imports",
        "Upload a participants table for a preview (multipart file)",
        "owners and leads",
        "multipart/form-data: file",
        201,
    ),
    op(
        "POST",
        "/api/v1/projects/{project_id}/participant-imports/{draft_id}",
        "Check or commit a participants table's mapping",
        "owners and leads",
        "choices {label_column, columns}, commit",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/exports",
        "Recent exports with who made them",
        "owners, leads and reviewers (what they may read)",
        "",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/exports/codebook.qdc",
        "The agreed codebook as REFI-QDA .qdc",
        "owners, leads and site admins",
        "",
        200,
    ),
    op(
        "GET",
        "/api/v1/projects/{project_id}/exports/project.qdpx",
        "The project as REFI-QDA .qdpx",
        "owners, leads and site admins",
        "",
        200,
    ),
];

/// The first path segment after `/api/v1/projects/{project_id}/` (or after
/// `/api/v1/`), as the operation's tag.
fn tag(path: &str) -> String {
    let rest = path.trim_start_matches("/api/v1/");
    let rest = rest.strip_prefix("projects/{project_id}/").unwrap_or(rest);
    rest.split('/').next().unwrap_or("").to_owned()
}

fn parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let schema = if name == "token" || name == "invite" {
                json!({ "type": "string" })
            } else {
                json!({ "type": "string", "format": "uuid" })
            };
            json!({ "name": name, "in": "path", "required": true, "schema": schema })
        })
        .collect()
}

/// The whole description, as JSON.
pub fn document(version: &str) -> Value {
    let mut paths = Map::new();
    for o in OPERATIONS {
        let entry = paths
            .entry(o.path.to_owned())
            .or_insert_with(|| json!({ "parameters": parameters(o.path) }));
        let mut operation = json!({
            "summary": o.summary,
            "description": format!("Who may call it: {}.", o.who),
            "tags": [tag(o.path)],
            "operationId": format!("{} {}", o.method, o.path),
            "responses": {
                o.status.to_string(): { "description": "Success." },
                "default": {
                    "description": "An error: 401 not signed in, 403 not allowed, 404 not found (or not yours to see), 409 stale version or wrong state, 413 too large, 422 invalid input (field errors), 503 database unavailable.",
                    "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
                }
            }
        });
        if !o.body.is_empty() {
            operation["requestBody"] = json!({
                "required": true,
                "description": o.body,
                "content": { "application/json": { "schema": { "type": "object", "description": o.body } } }
            });
        }
        if o.method != "GET" {
            operation["parameters"] = json!([{
                "name": "X-CSRF-Token", "in": "header", "required": true,
                "description": "The token of GET /api/v1/session (not needed with a bearer token).",
                "schema": { "type": "string" }
            }]);
        }
        entry[o.method.to_lowercase()] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Concord API",
            "version": version,
            "description": "Collaborative qualitative coding: projects, transcripts, blind coding, agreement, reconciliation, themes, review and exports. Sign in with a session cookie (POST /api/v1/session) or an API token (Authorization: Bearer). Writes carry the CSRF token of GET /api/v1/session when signed in with a cookie."
        },
        "servers": [{ "url": "/" }],
        "security": [{ "session": [] }, { "bearer": [] }],
        "components": {
            "securitySchemes": {
                "session": { "type": "apiKey", "in": "cookie", "name": "concord_session" },
                "bearer": { "type": "http", "scheme": "bearer" }
            },
            "schemas": {
                "Problem": {
                    "type": "object",
                    "properties": {
                        "type": { "type": "string" },
                        "title": { "type": "string" },
                        "status": { "type": "integer" },
                        "detail": { "type": "string" },
                        "errors": { "type": "object", "description": "Field errors: field name → message." }
                    }
                }
            }
        },
        "paths": paths
    })
}

pub async fn serve(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
) -> Json<Value> {
    Json(document(&state.build_id))
}
