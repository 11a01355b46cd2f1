-- Search across a project's transcripts and memos: substring matches in any
-- language (ILIKE), served by trigram indexes (pg_trgm is a trusted contrib
-- extension, so the database owner may create it).
create extension if not exists pg_trgm;

create index transcripts_text_trgm_idx on transcripts using gin (text gin_trgm_ops);
create index memos_body_trgm_idx on memos using gin (body gin_trgm_ops);
