-- One attribute value of one participant. Numbers are stored in their canonical
-- text form; the variable's kind says how to read them.
create table participant_values (
    participant_id uuid not null references participants (id),
    variable_id uuid not null references variables (id),
    value text not null,
    constraint participant_values_pkey primary key (participant_id, variable_id)
);

create index participant_values_variable_idx on participant_values (variable_id);
