-- db/functions/queue_rest.sql - the live definition: `hookd migrate` re-applies
-- this file whenever it changes (README: Development). Keep it re-runnable:
-- CREATE OR REPLACE only; when a signature or return type changes, drop the
-- old one first with DROP FUNCTION IF EXISTS.
--
-- hookd.queue_rest: from 0015_outbox_rest.sql; rows per endpoint, queued
-- on demand, since 0019_rest_per_endpoint.sql (p_depth added: the DROP).

-- Queues the deliveries that claims left (hookd.pending_rest: one row per
-- claim and endpoint), up to p_limit rows, oldest first, of the endpoints
-- that want them: a disabled endpoint at once (they are parked,
-- 'disabled', as its queued deliveries were), one that is gone at once
-- (its rows are dropped), an active one while fewer
-- than its depth of deliveries are queued for it (pending or claimed): the
-- larger of p_depth, four times its own cap and one second of its rate
-- limit. An endpoint that cannot keep up (a slow receiver, an open circuit,
-- a backlog) keeps the rest here, one row per claim, instead of one queued
-- row per event written long before it can be sent. A delivery that exists
-- already, or whose event was deleted meanwhile, is skipped; rows another
-- transaction holds are skipped. Returns how many rows it took; the
-- workers hear of what it queued (hookd_pending), as of new events. The worker
-- runs it beside its attempt records, and on its own when a claim says rows
-- wait (rest_waiting); any worker takes any worker's. Every table is
-- reached by key (LATERAL probes with LIMIT), so the cached generic plan
-- is right at any size.
DROP FUNCTION IF EXISTS hookd.queue_rest(integer);
CREATE OR REPLACE FUNCTION hookd.queue_rest(p_limit integer, p_depth integer DEFAULT 128)
RETURNS integer
LANGUAGE plpgsql SET enable_seqscan = off SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_ids    bigint[];
    v_queued bigint;
BEGIN
    -- The endpoints with rows (a loose index scan: one probe per endpoint),
    -- those that want them, and their oldest rows.
    WITH RECURSIVE ep(tenant_id, endpoint_id) AS (
        (SELECT r.tenant_id, r.endpoint_id FROM hookd.pending_rest r
          ORDER BY r.tenant_id, r.endpoint_id LIMIT 1)
        UNION ALL
        SELECT n.tenant_id, n.endpoint_id FROM ep, LATERAL (
            SELECT r.tenant_id, r.endpoint_id FROM hookd.pending_rest r
             WHERE (r.tenant_id, r.endpoint_id) > (ep.tenant_id, ep.endpoint_id)
             ORDER BY r.tenant_id, r.endpoint_id LIMIT 1) n),
    wanting AS (
        SELECT ep.tenant_id, ep.endpoint_id
          FROM ep LEFT JOIN LATERAL (
            SELECT e.state, greatest(p_depth, 4 * coalesce(e.max_in_flight, 0),
                                     ceil(coalesce(e.rate_limit, 0))::integer) AS depth
              FROM hookd.endpoints e
             WHERE e.tenant_id = ep.tenant_id AND e.id = ep.endpoint_id LIMIT 1) e ON true
         WHERE e.state IS DISTINCT FROM 'active' OR (
            SELECT count(*) FROM (
                SELECT 1 FROM hookd.deliveries d
                 WHERE d.tenant_id = ep.tenant_id AND d.endpoint_id = ep.endpoint_id
                   AND d.state IN ('pending', 'delivering')
                 LIMIT e.depth) q) < e.depth)
    SELECT array_agg(r.id ORDER BY r.id) INTO v_ids
      FROM (SELECT r.id FROM wanting w CROSS JOIN LATERAL (
                SELECT r.id FROM hookd.pending_rest r
                 WHERE r.tenant_id = w.tenant_id AND r.endpoint_id = w.endpoint_id
                 ORDER BY r.id LIMIT p_limit FOR UPDATE SKIP LOCKED) r
             ORDER BY r.id LIMIT p_limit) r;
    IF v_ids IS NULL THEN
        RETURN 0;
    END IF;
    INSERT INTO hookd.deliveries (tenant_id, event_id, endpoint_id, state)
    SELECT r.tenant_id, t.event_id, r.endpoint_id,
           CASE WHEN e.state = 'active' THEN 'pending' ELSE 'disabled' END
      FROM unnest(v_ids) AS k(id)
     CROSS JOIN LATERAL (
        SELECT r.tenant_id, r.endpoint_id, r.event_ids FROM hookd.pending_rest r
         WHERE r.id = k.id LIMIT 1) r
     CROSS JOIN LATERAL (
        SELECT e.state FROM hookd.endpoints e
         WHERE e.tenant_id = r.tenant_id AND e.id = r.endpoint_id LIMIT 1) e
     CROSS JOIN LATERAL unnest(r.event_ids) AS t(event_id)
     CROSS JOIN LATERAL (
        SELECT 1 FROM hookd.events ev
         WHERE ev.tenant_id = r.tenant_id AND ev.id = t.event_id LIMIT 1) ev
    ON CONFLICT (tenant_id, event_id, endpoint_id) DO NOTHING;
    GET DIAGNOSTICS v_queued = ROW_COUNT;
    IF v_queued > 0 THEN
        PERFORM pg_notify('hookd_pending', ''); -- workers claim them at once
    END IF;
    DELETE FROM hookd.pending_rest r WHERE r.id = ANY (v_ids);
    RETURN cardinality(v_ids);
END $$;
