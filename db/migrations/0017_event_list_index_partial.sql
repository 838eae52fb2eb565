-- 0017_event_list_index_partial.sql - the event list's index serves only
-- statements that name a type.
--
-- A foreign-key check of hookd.events (each new outbox row, each new
-- delivery) looks an event up by (tenant_id, id), on a plan its connection
-- keeps until the next ANALYZE. events_by_type_time (tenant_id, type,
-- occurred, id) matches that lookup on tenant_id alone, and while the
-- table is estimated to hold a row or less (a fresh install, a VACUUM
-- (ANALYZE) of nearly empty tables) it costs exactly what the primary key
-- costs, and the planner took it: every check then walked all of the
-- tenant's index entries until the next ANALYZE (test_plan_stability.py,
-- publishes one at a time after statistics of one event). n_distinct
-- (0016) cannot help a table estimated at one row.
--
-- The same index, partial on "type IS NOT NULL" (every event has a type):
-- GET /events names the type of each index walk (e.type = t.name implies
-- it), so it reads the same entries as before, while a lookup that names
-- no type cannot use it and the primary key is the only index left for the
-- check. Rebuilding the index blocks writes to hookd.events while it runs.
CREATE INDEX events_by_type_time_named ON hookd.events (tenant_id, type, occurred, id)
    WHERE type IS NOT NULL;
DROP INDEX hookd.events_by_type_time;
ALTER INDEX hookd.events_by_type_time_named RENAME TO events_by_type_time;
