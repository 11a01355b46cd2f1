-- A coding belongs to one coder's layer of one transcript, and a layer is an
-- assignment: the app codes only where it has assigned (coding/service.rs) and
-- withdraws an assignment only while nothing is coded on it
-- (assignments/service.rs). One key on the layer says both, and implies the
-- two it replaces: the assignment's own keys put its transcript in the same
-- project and its user among the accounts. It is one row lookup and row lock
-- per inserted coding where there were two, and the lock falls on the coder's
-- own assignment rather than on a transcript both coders share.
--
-- A layer with codings and no assignment could only have come from outside
-- the app; it gets one, in progress, so that it stays blind as before.
insert into assignments (id, project_id, transcript_id, user_id, state)
select gen_random_uuid(), l.project_id, l.transcript_id, l.coder_id, 'in_progress'
  from (select distinct project_id, transcript_id, coder_id from codings) l
 where not exists (
       select 1 from assignments a
        where a.transcript_id = l.transcript_id and a.user_id = l.coder_id);

alter table assignments
    add constraint assignments_layer_key unique (project_id, transcript_id, user_id);

alter table codings
    add constraint codings_layer_assigned
        foreign key (project_id, transcript_id, coder_id)
        references assignments (project_id, transcript_id, user_id),
    drop constraint codings_transcript_same_project,
    drop constraint codings_coder_id_fkey;

-- (project_id, id) serves every lookup by project_id alone. With both, the
-- planner of a freshly written project (no statistics yet, as in an import)
-- took the project_id index for the key checks of codings on codes and
-- scanned every code of the project for each coding.
drop index codes_project_idx;
drop index assignments_project_idx;
