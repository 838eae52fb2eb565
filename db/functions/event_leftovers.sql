-- db/functions/event_leftovers.sql - the live definition: `hookd migrate` re-applies
-- this file whenever it changes (README: Development). Keep it re-runnable:
-- CREATE OR REPLACE only; when a signature or return type changes, drop the
-- old one first with DROP FUNCTION IF EXISTS.
--
-- hookd.event_leftovers: since 0020_slow_endpoints_left_alone.sql; by the
-- GiST index of the rows' time ranges since 0021_leftovers_by_time.sql.

-- The deliveries of event p_event_id (of tenant p_tenant_id, occurred at
-- p_occurred) that claims left to be queued and hookd.queue_rest has not
-- queued yet: the hookd.pending_rest rows that list it, with their
-- endpoint. Found among the rows whose range of occurrence times holds
-- p_occurred (pending_rest_by_time; rows from before 0020 have no bounds:
-- their range is unbounded), then by tenant and ids: no index of the ids,
-- which cost every claim an entry per event. The event views count these
-- as pending (parked at a disabled endpoint).
CREATE OR REPLACE FUNCTION hookd.event_leftovers(
    p_tenant_id bigint, p_event_id text, p_occurred timestamptz)
RETURNS TABLE (rest_id bigint, endpoint_id bigint)
LANGUAGE sql STABLE AS $$
    SELECT r.id, r.endpoint_id FROM hookd.pending_rest r
     WHERE tstzrange(r.first_occurred, r.last_occurred, '[]') @> p_occurred
       AND r.tenant_id = p_tenant_id
       AND r.event_ids @> ARRAY[p_event_id]
$$;
