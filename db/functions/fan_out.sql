-- db/functions/fan_out.sql - the live definition: `hookd migrate` re-applies
-- this file whenever it changes (README: Development). Keep it re-runnable:
-- CREATE OR REPLACE only; when a signature or return type changes, drop the
-- old one first with DROP FUNCTION IF EXISTS.
--
-- hookd.fan_out: from 0010_set_based_worker.sql, whose notes on plans
-- apply.

-- Moves up to p_limit outbox events into deliveries, as hookd.fan_out of
-- 0007_worker_round.sql did event by event: one statement for the batch,
-- planned afresh (see the top of this file). An endpoint subscribed to the
-- type and to '*' gets one delivery.
CREATE OR REPLACE FUNCTION hookd.fan_out(p_limit integer) RETURNS integer
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
    v_seqs    bigint[];
    v_tenants bigint[];
    v_events  text[];
BEGIN
    SELECT array_agg(p.seq), array_agg(p.tenant_id), array_agg(p.event_id)
      INTO v_seqs, v_tenants, v_events
      FROM (SELECT seq, tenant_id, event_id FROM hookd.pending_events
             ORDER BY seq LIMIT p_limit FOR UPDATE SKIP LOCKED) p;
    IF v_seqs IS NULL THEN
        RETURN 0;
    END IF;
    EXECUTE $sql$
    INSERT INTO hookd.deliveries (tenant_id, event_id, endpoint_id, state)
    SELECT DISTINCT ev.tenant_id, ev.id, e.id,
           CASE WHEN e.state = 'active' THEN 'pending' ELSE 'disabled' END
      FROM unnest($1::bigint[], $2::text[]) AS p(tenant_id, event_id)
      JOIN hookd.events ev ON ev.tenant_id = p.tenant_id AND ev.id = p.event_id
      JOIN hookd.subscriptions s ON s.tenant_id = ev.tenant_id AND s.event_type IN (ev.type, '*')
      JOIN hookd.endpoints e ON e.tenant_id = s.tenant_id AND e.id = s.endpoint_id
    ON CONFLICT (tenant_id, event_id, endpoint_id) DO NOTHING
    $sql$ USING v_tenants, v_events;
    DELETE FROM hookd.pending_events WHERE seq = ANY (v_seqs);
    RETURN cardinality(v_seqs);
END $$;
