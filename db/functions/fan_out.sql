-- db/functions/fan_out.sql - the live definition: `hookd migrate` re-applies
-- this file whenever it changes (README: Development). Keep it re-runnable:
-- CREATE OR REPLACE only; when a signature or return type changes, drop the
-- old one first with DROP FUNCTION IF EXISTS.
--
-- hookd.queue_events and hookd.fan_out: from 0010_set_based_worker.sql,
-- whose notes on plans apply (and 0015_outbox_rest.sql).

-- Queues the deliveries of the given outbox events (locked by the caller)
-- that do not exist yet ('pending', or 'disabled' at a disabled endpoint)
-- and deletes their outbox rows; returns how many rows it deleted. An
-- endpoint subscribed to the type and to '*' gets one delivery; one that
-- has the event's delivery already (born claimed by a claim) is skipped.
-- One statement for the batch, whose cached generic plan reaches every
-- table by key (LATERAL probes with LIMIT, as in claim_deliveries.sql's
-- step 1): it runs beside every attempt record, and planning it afresh
-- each time had cost 0.7 ms per call, a join of the whole batch 8 ms.
CREATE OR REPLACE FUNCTION hookd.queue_events(p_seqs bigint[]) RETURNS integer
LANGUAGE plpgsql SET enable_seqscan = off SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_deleted integer;
BEGIN
    INSERT INTO hookd.deliveries (tenant_id, event_id, endpoint_id, state)
    SELECT p.tenant_id, p.event_id, e.id,
           CASE WHEN e.state = 'active' THEN 'pending' ELSE 'disabled' END
      FROM unnest(p_seqs) AS k(seq)
     CROSS JOIN LATERAL (
        SELECT o.tenant_id, o.event_id FROM hookd.pending_events o WHERE o.seq = k.seq LIMIT 1) p
     CROSS JOIN LATERAL (
        SELECT ev.type FROM hookd.events ev
         WHERE ev.tenant_id = p.tenant_id AND ev.id = p.event_id LIMIT 1) ev
     CROSS JOIN LATERAL (
        SELECT s.endpoint_id FROM hookd.subscriptions s
         WHERE s.tenant_id = p.tenant_id AND s.event_type = ev.type
        UNION
        SELECT s.endpoint_id FROM hookd.subscriptions s
         WHERE s.tenant_id = p.tenant_id AND s.event_type = '*') s
     CROSS JOIN LATERAL (
        SELECT e.id, e.state FROM hookd.endpoints e
         WHERE e.tenant_id = p.tenant_id AND e.id = s.endpoint_id LIMIT 1) e
    ON CONFLICT (tenant_id, event_id, endpoint_id) DO NOTHING;
    DELETE FROM hookd.pending_events o WHERE o.seq = ANY (p_seqs);
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END $$;

-- Moves up to p_limit outbox events, oldest first, into deliveries, all
-- queued (the worker's claims insert new events' deliveries born claimed
-- instead; this is for tests and tools).
CREATE OR REPLACE FUNCTION hookd.fan_out(p_limit integer) RETURNS integer
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
    v_seqs bigint[];
BEGIN
    SELECT array_agg(p.seq) INTO v_seqs
      FROM (SELECT seq FROM hookd.pending_events
             ORDER BY seq LIMIT p_limit FOR UPDATE SKIP LOCKED) p;
    IF v_seqs IS NULL THEN
        RETURN 0;
    END IF;
    RETURN hookd.queue_events(v_seqs);
END $$;
