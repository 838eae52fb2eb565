-- db/functions/tenant_events.sql - the live definition: `hookd migrate` re-applies
-- this file whenever it changes (README: Development). Keep it re-runnable:
-- CREATE OR REPLACE only; when a signature or return type changes, drop the
-- old one first with DROP FUNCTION IF EXISTS.
--
-- hookd.tenant_events: a page of GET /events, newest first, optionally of
-- one type, from before a position (see server/db_event_list.c for how it
-- reads events_by_type_time). (The file's name sorts after rfc3339.sql and
-- event_states.sql, whose functions it calls: a SQL function's body is
-- checked when the function is created.)
--
-- Plans. As a prepared statement on one of the API's long-lived
-- connections, this statement kept the plan of its first calls until the
-- next ANALYZE; made on statistics of nearly empty tables, that plan read
-- each type's events by a sequential scan and a sort instead of walking the
-- index back from the position, so a page cost a scan of all the tenant's
-- events (test_plan_stability.py). Here it is planned afresh on every call
-- (a SQL function's statement is), with no sequential scan to choose from.
CREATE OR REPLACE FUNCTION hookd.tenant_events(
    p_tenant_id bigint, p_type text, p_before_us bigint, p_before_id text, p_limit bigint)
RETURNS TABLE (
    o_id text,
    o_type text,
    o_version text,
    o_occurred text,
    o_occurred_us bigint,
    o_pending bigint,
    o_delivered bigint,
    o_failed bigint,
    o_disabled bigint)
LANGUAGE sql STABLE SET enable_seqscan = off AS $$
    WITH p AS (
      SELECT x.* FROM hookd.event_types t CROSS JOIN LATERAL (
        SELECT e.tenant_id, e.id, e.type, e.version, e.occurred FROM hookd.events e
         WHERE e.tenant_id = p_tenant_id AND e.type = t.name
           AND (e.occurred, e.id) < (coalesce('epoch'::timestamptz + p_before_us * interval '1 microsecond',
                                             'infinity'), coalesce(p_before_id, ''))
         ORDER BY e.occurred DESC, e.id DESC LIMIT p_limit) x
       WHERE p_type IS NULL OR t.name = p_type
       ORDER BY x.occurred DESC, x.id DESC LIMIT p_limit)
    SELECT p.id, p.type, p.version, hookd.rfc3339(p.occurred),
           (extract(epoch FROM p.occurred) * 1000000)::bigint, c.*
      FROM p CROSS JOIN LATERAL hookd.event_states(p.tenant_id, p.id, p.occurred) c
     ORDER BY p.occurred DESC, p.id DESC
$$;
