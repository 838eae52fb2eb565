-- db/functions/fan_out.sql - the live definition: `hookd migrate` re-applies
-- this file whenever it changes (README: Development). Keep it re-runnable:
-- CREATE OR REPLACE only; when a signature or return type changes, drop the
-- old one first with DROP FUNCTION IF EXISTS.
--
-- hookd.queue_events and hookd.fan_out: from 0010_set_based_worker.sql,
-- whose notes on plans apply.

-- Queues the deliveries of the given outbox events (locked by the caller)
-- that do not exist yet ('pending', or 'disabled' at a disabled endpoint)
-- and deletes their outbox rows; returns how many rows it deleted. One
-- statement for the batch, planned afresh (see the top of this file). An
-- endpoint subscribed to the type and to '*' gets one delivery; one that
-- has the event's delivery already (born claimed by a claim) is skipped.
CREATE OR REPLACE FUNCTION hookd.queue_events(p_seqs bigint[]) RETURNS integer
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
    v_deleted integer;
BEGIN
    EXECUTE $sql$
    INSERT INTO hookd.deliveries (tenant_id, event_id, endpoint_id, state)
    SELECT DISTINCT ev.tenant_id, ev.id, e.id,
           CASE WHEN e.state = 'active' THEN 'pending' ELSE 'disabled' END
      FROM hookd.pending_events p
      JOIN hookd.events ev ON ev.tenant_id = p.tenant_id AND ev.id = p.event_id
      JOIN hookd.subscriptions s ON s.tenant_id = ev.tenant_id AND s.event_type IN (ev.type, '*')
      JOIN hookd.endpoints e ON e.tenant_id = s.tenant_id AND e.id = s.endpoint_id
     WHERE p.seq = ANY ($1)
    ON CONFLICT (tenant_id, event_id, endpoint_id) DO NOTHING
    $sql$ USING p_seqs;
    DELETE FROM hookd.pending_events WHERE seq = ANY (p_seqs);
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
