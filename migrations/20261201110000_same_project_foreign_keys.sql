-- Same-project integrity in the schema: a row that belongs to a project can only
-- point at rows of that same project. Each parent gets a unique (project_id, id)
-- key; each child's reference is widened to (project_id, <thing>_id), so an id
-- from another project is refused by PostgreSQL whatever the code does.
alter table transcripts add constraint transcripts_project_id_id_key unique (project_id, id);
alter table participants add constraint participants_project_id_id_key unique (project_id, id);
alter table codes add constraint codes_project_id_id_key unique (project_id, id);
alter table agreed_codes add constraint agreed_codes_project_id_id_key unique (project_id, id);
alter table decisions add constraint decisions_project_id_id_key unique (project_id, id);
alter table consensus_codings add constraint consensus_codings_project_id_id_key unique (project_id, id);

alter table transcripts
    add constraint transcripts_participant_same_project
        foreign key (project_id, participant_id) references participants (project_id, id);
alter table assignments
    add constraint assignments_transcript_same_project
        foreign key (project_id, transcript_id) references transcripts (project_id, id);
alter table codes
    add constraint codes_parent_same_project
        foreign key (project_id, parent_id) references codes (project_id, id),
    add constraint codes_merged_into_same_project
        foreign key (project_id, merged_into) references codes (project_id, id);
alter table codings
    add constraint codings_transcript_same_project
        foreign key (project_id, transcript_id) references transcripts (project_id, id),
    add constraint codings_code_same_project
        foreign key (project_id, code_id) references codes (project_id, id);
alter table agreed_codes
    add constraint agreed_codes_merged_into_same_project
        foreign key (project_id, merged_into) references agreed_codes (project_id, id),
    add constraint agreed_codes_example_same_project
        foreign key (project_id, example_coding_id) references consensus_codings (project_id, id);
alter table code_alignments
    add constraint code_alignments_code_same_project
        foreign key (project_id, code_id) references codes (project_id, id),
    add constraint code_alignments_agreed_code_same_project
        foreign key (project_id, agreed_code_id) references agreed_codes (project_id, id);
alter table decisions
    add constraint decisions_transcript_same_project
        foreign key (project_id, transcript_id) references transcripts (project_id, id),
    add constraint decisions_agreed_code_same_project
        foreign key (project_id, agreed_code_id) references agreed_codes (project_id, id),
    add constraint decisions_supersedes_same_project
        foreign key (project_id, supersedes) references decisions (project_id, id);
alter table consensus_codings
    add constraint consensus_codings_transcript_same_project
        foreign key (project_id, transcript_id) references transcripts (project_id, id),
    add constraint consensus_codings_agreed_code_same_project
        foreign key (project_id, agreed_code_id) references agreed_codes (project_id, id),
    add constraint consensus_codings_decision_same_project
        foreign key (project_id, decision_id) references decisions (project_id, id);
alter table discrepancy_comments
    add constraint discrepancy_comments_transcript_same_project
        foreign key (project_id, transcript_id) references transcripts (project_id, id);
