-- What a source holds beside its text (a Word document's headers, footers
-- and comments with their spans), kept with the transcript.
alter table transcripts add column metadata jsonb not null default '{}';
