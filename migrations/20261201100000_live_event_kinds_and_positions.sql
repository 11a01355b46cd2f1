-- Live events get a typed kind and a commit-safe position.
--
-- The kind is an enum, so a row can only name a kind the code knows and decides
-- visibility for (src/live/kind.rs matches it without a default arm).
--
-- The position is (xid, id): the writing transaction's id, then the row id.
-- Readers only take rows whose xid is below the oldest transaction still running
-- (`pg_snapshot_xmin(pg_current_snapshot())`): every transaction below it has
-- ended, so that prefix of the order never grows again and every listener sees
-- the same events in the same order, whatever the commit order was.
create type live_event_kind as enum (
    'project.updated',
    'member.changed',
    'assignment.updated',
    'code.created',
    'code.updated',
    'code.merged',
    'code.deleted',
    'code.restored',
    'coding.created',
    'coding.updated',
    'coding.deleted',
    'coding.restored',
    'decision.made',
    'decision.comment',
    'consensus.coding',
    'consensus.code.created',
    'consensus.code.updated',
    'consensus.code.merged',
    'consensus.code.split',
    'consensus.code.deleted',
    'consensus.code.restored'
);

alter table project_events
    alter column kind type live_event_kind using kind::live_event_kind,
    add column xid xid8 not null default pg_current_xact_id();

drop index project_events_project_idx;
create index project_events_position_idx on project_events (xid, id);
create index project_events_project_position_idx on project_events (project_id, xid, id);
create index project_events_created_idx on project_events (created_at);
