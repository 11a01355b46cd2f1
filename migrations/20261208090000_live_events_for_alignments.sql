-- Aligning a coder's code onto an agreed code (and undoing it) announces
-- itself to open alignment pages, as the agreed codebook's other changes do.
alter type live_event_kind add value if not exists 'alignment.changed';
