-- A coding's same-project references, (project_id, transcript_id) into
-- transcripts and (project_id, code_id) into codes, already make sure the
-- transcript, the code and (through them) the project exist: the plain
-- references to each were a second check of the same row, run for every
-- coding written (a third of the time of an import of 100,000 codings).
-- The reference to the coder's account stays.
alter table codings
    drop constraint codings_project_id_fkey,
    drop constraint codings_transcript_id_fkey,
    drop constraint codings_code_id_fkey;
