-- db/functions/queue_rest.sql - the live definition: `hookd migrate` re-applies
-- this file whenever it changes (README: Development). Keep it re-runnable:
-- CREATE OR REPLACE only; when a signature or return type changes, drop the
-- old one first with DROP FUNCTION IF EXISTS.
--
-- hookd.queue_rest: from 0015_outbox_rest.sql.

-- Queues the deliveries that up to p_limit claims left (hookd.pending_rest,
-- oldest first; rows another transaction holds are skipped): 'pending', or
-- 'disabled' at an endpoint disabled meanwhile; a delivery that exists
-- already, or whose event or endpoint was deleted meanwhile, is skipped.
-- Returns how many rows it took. The worker runs it beside each attempt
-- record, and on its own when a claim says rows wait (rest_waiting); any
-- worker takes any worker's. Every table is reached by key (LATERAL probes
-- with LIMIT), so the cached generic plan is right at any size.
CREATE OR REPLACE FUNCTION hookd.queue_rest(p_limit integer) RETURNS integer
LANGUAGE plpgsql SET enable_seqscan = off SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_ids bigint[];
BEGIN
    SELECT array_agg(r.id) INTO v_ids
      FROM (SELECT r.id FROM hookd.pending_rest r
             ORDER BY r.id LIMIT p_limit FOR UPDATE SKIP LOCKED) r;
    IF v_ids IS NULL THEN
        RETURN 0;
    END IF;
    INSERT INTO hookd.deliveries (tenant_id, event_id, endpoint_id, state)
    SELECT t.tenant_id, t.event_id, e.id,
           CASE WHEN e.state = 'active' THEN 'pending' ELSE 'disabled' END
      FROM unnest(v_ids) AS k(id)
     CROSS JOIN LATERAL (
        SELECT r.tenant_ids, r.event_ids, r.endpoint_ids FROM hookd.pending_rest r
         WHERE r.id = k.id LIMIT 1) r
     CROSS JOIN LATERAL unnest(r.tenant_ids, r.event_ids, r.endpoint_ids)
                        AS t(tenant_id, event_id, endpoint_id)
     CROSS JOIN LATERAL (
        SELECT 1 FROM hookd.events ev
         WHERE ev.tenant_id = t.tenant_id AND ev.id = t.event_id LIMIT 1) ev
     CROSS JOIN LATERAL (
        SELECT e.id, e.state FROM hookd.endpoints e
         WHERE e.tenant_id = t.tenant_id AND e.id = t.endpoint_id LIMIT 1) e
    ON CONFLICT (tenant_id, event_id, endpoint_id) DO NOTHING;
    DELETE FROM hookd.pending_rest r WHERE r.id = ANY (v_ids);
    RETURN cardinality(v_ids);
END $$;
