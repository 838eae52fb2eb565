-- db/functions/queue_rest.sql - the live definition: `hookd migrate` re-applies
-- this file whenever it changes (README: Development). Keep it re-runnable:
-- CREATE OR REPLACE only; when a signature or return type changes, drop the
-- old one first with DROP FUNCTION IF EXISTS.
--
-- hookd.queue_rest: from 0015_outbox_rest.sql.

-- Queues the remaining deliveries of up to p_limit outbox events whose
-- born-claimed deliveries a claim has inserted (born_inserted), oldest
-- first, and deletes their outbox rows (hookd.queue_events); returns how
-- many events it took. Rows another transaction holds are skipped. The
-- worker runs it beside each attempt record, and on its own when a claim
-- says such events wait (rest_waiting); any worker takes any worker's.
CREATE OR REPLACE FUNCTION hookd.queue_rest(p_limit integer) RETURNS integer
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
    v_seqs bigint[];
BEGIN
    SELECT array_agg(p.seq) INTO v_seqs
      FROM (SELECT o.seq FROM hookd.pending_events o WHERE o.born_inserted
             ORDER BY o.seq LIMIT p_limit FOR UPDATE SKIP LOCKED) p;
    IF v_seqs IS NULL THEN
        RETURN 0;
    END IF;
    RETURN hookd.queue_events(v_seqs);
END $$;
