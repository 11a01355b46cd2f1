-- The quote bank: the lead's selection of consensus quotes to publish, filed
-- under the agreed code they were chosen for and ordered among that code's
-- quotes. A selection points at a consensus coding and a span inside it; the
-- coded text itself is never copied or changed (invariant 1). The publication
-- text, when set, is a light edit of that span (omissions marked with an
-- ellipsis, clarifications in square brackets) kept beside it.
create table quote_selections (
    id uuid primary key,
    project_id uuid not null references projects (id),
    consensus_coding_id uuid not null,
    agreed_code_id uuid not null,
    transcript_id uuid not null,
    start_offset integer not null,
    end_offset integer not null,
    publication_text text,
    position integer not null default 0,
    selected_by uuid not null references users (id),
    selected_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    version integer not null default 1,
    deleted_at timestamptz,
    constraint quote_selections_project_id_id_key unique (project_id, id),
    constraint quote_selections_coding_same_project
        foreign key (project_id, consensus_coding_id) references consensus_codings (project_id, id),
    constraint quote_selections_code_same_project
        foreign key (project_id, agreed_code_id) references agreed_codes (project_id, id),
    constraint quote_selections_transcript_same_project
        foreign key (project_id, transcript_id) references transcripts (project_id, id),
    constraint quote_selections_offsets_check check (start_offset >= 0 and start_offset < end_offset),
    constraint quote_selections_publication_not_blank
        check (publication_text is null or length(trim(publication_text)) > 0)
);

create unique index quote_selections_span_key
    on quote_selections (consensus_coding_id, start_offset, end_offset)
    where deleted_at is null;
create index quote_selections_code_idx
    on quote_selections (project_id, agreed_code_id, position)
    where deleted_at is null;

-- Which participant attribute attributes a quote ("— Nurse, P01"). No row: the
-- variable named Role or Profession, if there is one; a row with no variable:
-- the participant's label alone.
alter table variables add constraint variables_project_id_id_key unique (project_id, id);

create table quote_bank_settings (
    project_id uuid primary key references projects (id),
    attribute_id uuid,
    updated_by uuid not null references users (id),
    updated_at timestamptz not null default now(),
    version integer not null default 1,
    constraint quote_bank_settings_attribute_same_project
        foreign key (project_id, attribute_id) references variables (project_id, id)
);

alter type live_event_kind add value if not exists 'quote_bank.changed';
