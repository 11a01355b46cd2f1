-- Memos, journals and peer debriefing records announce their changes to open
-- pages like the other records of phase 2.
alter type live_event_kind add value if not exists 'memo.changed';
alter type live_event_kind add value if not exists 'debriefing.changed';
