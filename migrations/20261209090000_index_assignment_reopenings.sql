-- Who last reopened a layer: the reconciliation page asks for each coder of
-- the transcript. Through (project_id, id desc) that walked back over every
-- audit row of the project (one per coding write) when the layer was never
-- reopened. Only reopenings are indexed, so no other write pays for it.
create index audit_events_reopened_idx on audit_events (entity_id, id desc)
    where action = 'assignment.reopened';
