-- 0006_event_list_index.sql - the index of GET /events.

-- The event list, newest first, optionally of one type: GET /events walks
-- this backwards per type and merges the types (the catalog is small), so
-- one index serves the filtered and the unfiltered list. One more btree
-- entry per published event.
CREATE INDEX events_by_type_time ON hookd.events (tenant_id, type, occurred, id);
