-- db/functions/event_states.sql - the live definition: `hookd migrate` re-applies
-- this file whenever it changes (README: Development). Keep it re-runnable:
-- CREATE OR REPLACE only; when a signature or return type changes, drop the
-- old one first with DROP FUNCTION IF EXISTS.
--
-- hookd.event_states: since 0020_slow_endpoints_left_alone.sql. (The
-- file's name sorts after event_leftovers.sql, whose function it calls: a
-- SQL function's body is checked when the function is created.)

-- An event's deliveries by state, as the event list shows them (GET
-- /events, a page or one event): 'delivering' is still pending for a
-- reader, and so are the deliveries claims left to be queued
-- (hookd.event_leftovers), or parked ('disabled') at a disabled endpoint.
-- One row; a SQL function with one statement, inlined where it is called.
CREATE OR REPLACE FUNCTION hookd.event_states(
    p_tenant_id bigint, p_event_id text, p_occurred timestamptz)
RETURNS TABLE (pending bigint, delivered bigint, failed bigint, disabled bigint)
LANGUAGE sql STABLE AS $$
    SELECT q.pending + r.pending, q.delivered, q.failed, q.disabled + r.disabled FROM
      (SELECT count(*) FILTER (WHERE d.state IN ('pending', 'delivering')) AS pending,
              count(*) FILTER (WHERE d.state = 'delivered') AS delivered,
              count(*) FILTER (WHERE d.state = 'failed') AS failed,
              count(*) FILTER (WHERE d.state = 'disabled') AS disabled
         FROM hookd.deliveries d WHERE d.tenant_id = p_tenant_id AND d.event_id = p_event_id) q,
      (SELECT count(*) FILTER (WHERE e.state = 'active') AS pending,
              count(*) FILTER (WHERE e.state <> 'active') AS disabled
         FROM hookd.event_leftovers(p_tenant_id, p_event_id, p_occurred) r
         JOIN hookd.endpoints e ON e.tenant_id = p_tenant_id AND e.id = r.endpoint_id) r
$$;
