-- The same-project composite foreign keys (20261201110000_same_project_foreign_keys) already
-- check what these single-column keys check: (project_id, transcript_id) →
-- transcripts(project_id, id) implies transcript_id → transcripts(id), and, as
-- every transcript belongs to a project, project_id → projects(id). Each key is
-- one more row lookup and row lock at every insert on the hottest write paths
-- (a coding, a consensus coding, a decision), so the implied ones go.
-- (A composite key with a null column is not checked, exactly as the
-- single-column key on that column was not.)
alter table codings
    drop constraint codings_code_id_fkey,
    drop constraint codings_transcript_id_fkey,
    drop constraint codings_project_id_fkey;

alter table consensus_codings
    drop constraint consensus_codings_agreed_code_id_fkey,
    drop constraint consensus_codings_decision_id_fkey,
    drop constraint consensus_codings_transcript_id_fkey,
    drop constraint consensus_codings_project_id_fkey;

alter table decisions
    drop constraint decisions_agreed_code_id_fkey,
    drop constraint decisions_supersedes_fkey,
    drop constraint decisions_transcript_id_fkey,
    drop constraint decisions_project_id_fkey;
