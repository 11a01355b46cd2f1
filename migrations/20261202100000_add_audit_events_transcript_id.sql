-- The transcript a change belongs to, so that the audit log can be read one
-- transcript at a time. Rows written before this column existed get it from
-- what they changed (the only update ever made to audit rows, so the
-- append-only trigger is set aside for it).
alter table audit_events add column transcript_id uuid;

alter table audit_events disable trigger audit_events_no_update;

update audit_events e
   set transcript_id = coalesce(
           case when e.entity_type = 'transcript' then e.entity_id end,
           (select a.transcript_id from assignments a where e.entity_type = 'assignment' and a.id = e.entity_id),
           (select c.transcript_id from codings c where e.entity_type = 'coding' and c.id = e.entity_id),
           (select c.transcript_id from consensus_codings c where e.entity_type = 'consensus_coding' and c.id = e.entity_id),
           (select d.transcript_id from decisions d where e.entity_type = 'decision' and d.id = e.entity_id),
           (select c.transcript_id from discrepancy_comments c where e.entity_type = 'discrepancy_comment' and c.id = e.entity_id)
       )
 where e.project_id is not null
   and e.entity_type in ('transcript', 'assignment', 'coding', 'consensus_coding', 'decision', 'discrepancy_comment');

alter table audit_events enable trigger audit_events_no_update;

create index audit_events_project_transcript_idx
    on audit_events (project_id, transcript_id, id desc)
 where transcript_id is not null;
