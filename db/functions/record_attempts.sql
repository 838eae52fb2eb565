-- db/functions/record_attempts.sql - the live definition: `hookd migrate` re-applies
-- this file whenever it changes (README: Development). Keep it re-runnable:
-- CREATE OR REPLACE only; when a signature or return type changes, drop the
-- old one first with DROP FUNCTION IF EXISTS.
--
-- hookd.record_attempts: from 0010_set_based_worker.sql, with the
-- plan_cache_mode that 0012_claim_snapshot.sql set by ALTER FUNCTION. The
-- notes on plans at the top of both migrations apply.

CREATE OR REPLACE FUNCTION hookd.record_attempts(
    p_records           json,
    p_claim_id          uuid,
    p_breaker_threshold integer,
    p_disable_after_s   bigint)
RETURNS integer
LANGUAGE plpgsql SET enable_seqscan = off SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_written bigint[] := '{}';
BEGIN
    IF p_records IS NULL OR json_array_length(p_records) = 0 THEN
        RETURN 0;
    END IF;
    PERFORM set_config('synchronous_commit', 'on', true);

    -- The endpoints whose health changes are locked first, in key order, so
    -- that concurrent records cannot deadlock on them. A healthy endpoint
    -- answered with a success is left alone (no lock, no new row version):
    -- workers sharing it do not queue behind each other's commits.
    PERFORM 1 FROM (
        SELECT x.tenant_id, x.endpoint_id, bool_or(x.state = 'delivered') AS ok,
               bool_or(x.state = 'disabled') AS gone
          FROM json_to_recordset(p_records) AS x(tenant_id bigint, endpoint_id bigint, state text)
         GROUP BY 1, 2 ORDER BY 1, 2) h
     CROSS JOIN LATERAL (
        SELECT 1 FROM hookd.endpoints e
         WHERE e.tenant_id = h.tenant_id AND e.id = h.endpoint_id
           AND NOT (h.ok AND NOT h.gone AND e.failure_streak = 0
                    AND e.first_failure_at IS NULL AND e.circuit_open_until IS NULL)
           FOR NO KEY UPDATE) l;

    -- The deliveries still claimed by p_claim_id take their outcome, and
    -- their attempts are inserted, in one statement, planned afresh (see
    -- the top of this file).
    EXECUTE $sql$
    WITH o AS (
        SELECT * FROM json_to_recordset($1) AS x(tenant_id bigint, id bigint,
               endpoint_id bigint, number int, started_ms bigint, duration_ms int, status int,
               response_body text, error text, state text, retry_in_ms bigint)),
    u AS (
        UPDATE hookd.deliveries d
           SET state = o.state, attempt_count = o.number,
               next_attempt_at = now() + coalesce(o.retry_in_ms, 0) * interval '1 millisecond',
               claim_id = NULL, lease_until = NULL, last_status = o.status,
               last_error = o.error, updated = now()
          FROM o
         WHERE d.tenant_id = o.tenant_id AND d.id = o.id AND d.claim_id = $2
        RETURNING d.tenant_id, d.id, d.next_attempt_at),
    a AS (
        INSERT INTO hookd.attempts (tenant_id, delivery_id, number, started, duration_ms,
                                    status, response_body, error, next_attempt_at)
        SELECT o.tenant_id, o.id, o.number, to_timestamp(o.started_ms / 1000.0), o.duration_ms,
               o.status, o.response_body, o.error,
               CASE WHEN o.state = 'pending' THEN u.next_attempt_at END
          FROM o JOIN u ON u.tenant_id = o.tenant_id AND u.id = o.id
        RETURNING delivery_id)
    SELECT coalesce(array_agg(a.delivery_id), '{}') FROM a
    $sql$ INTO v_written USING p_records, p_claim_id;

    WITH h AS (
        SELECT r.tenant_id, r.endpoint_id,
               bool_or(r.state = 'delivered') AS ok,
               bool_or(r.state = 'disabled') AS gone,
               count(*) FILTER (WHERE r.state IN ('pending', 'failed')) AS fails,
               min(to_timestamp(r.started_ms / 1000.0))
                 FILTER (WHERE r.state IN ('pending', 'failed')) AS first_fail,
               max(r.retry_in_ms) FILTER (WHERE r.state = 'pending') AS backoff_ms
          FROM json_to_recordset(p_records) AS r(tenant_id bigint, id bigint,
               endpoint_id bigint, started_ms bigint, state text, retry_in_ms bigint)
         WHERE r.id = ANY (v_written)
         GROUP BY r.tenant_id, r.endpoint_id),
    -- SET expressions read e's latest version (concurrent recorders add up).
    ep AS (
        UPDATE hookd.endpoints e
           SET failure_streak = CASE WHEN h.ok THEN 0 ELSE e.failure_streak + h.fails END,
               first_failure_at = CASE WHEN h.ok THEN NULL
                                       ELSE coalesce(e.first_failure_at, h.first_fail) END,
               circuit_open_until = CASE
                   WHEN h.ok THEN NULL
                   WHEN h.fails > 0 AND e.failure_streak + h.fails >= p_breaker_threshold
                     THEN now() + coalesce(h.backoff_ms, 0) * interval '1 millisecond'
                   ELSE e.circuit_open_until END,
               state = CASE WHEN h.gone THEN 'disabled' ELSE e.state END,
               disabled_at = CASE WHEN h.gone AND e.state = 'active' THEN now()
                                  ELSE e.disabled_at END,
               disabled_reason = CASE WHEN h.gone AND e.state = 'active'
                                      THEN 'The receiver answered 410 Gone.'
                                      ELSE e.disabled_reason END
          FROM h
         WHERE e.tenant_id = h.tenant_id AND e.id = h.endpoint_id
           AND NOT (h.ok AND NOT h.gone AND e.failure_streak = 0
                    AND e.first_failure_at IS NULL AND e.circuit_open_until IS NULL)
        RETURNING e.tenant_id, e.id, e.state)
    UPDATE hookd.deliveries d SET state = 'disabled', updated = now()
      FROM ep WHERE ep.state = 'disabled' AND d.tenant_id = ep.tenant_id
       AND d.endpoint_id = ep.id AND d.state = 'pending';

    -- Endpoints of this batch that have now failed continuously for too
    -- long are disabled, and their queued deliveries parked.
    WITH ep AS (
        UPDATE hookd.endpoints e
           SET state = 'disabled', disabled_at = now(),
               disabled_reason = 'Failing continuously since '
                 || hookd.rfc3339(e.first_failure_at)
                 || ' (' || e.failure_streak || ' failed attempts in a row).'
          FROM (SELECT DISTINCT r.tenant_id, r.endpoint_id
                  FROM json_to_recordset(p_records) AS r(tenant_id bigint, id bigint,
                                                         endpoint_id bigint, state text)
                 WHERE r.state IN ('pending', 'failed') AND r.id = ANY (v_written)) k
         WHERE e.tenant_id = k.tenant_id AND e.id = k.endpoint_id AND e.state = 'active'
           AND e.first_failure_at <= now() - p_disable_after_s * interval '1 second'
        RETURNING e.tenant_id, e.id)
    UPDATE hookd.deliveries d SET state = 'disabled', updated = now()
      FROM ep WHERE d.tenant_id = ep.tenant_id AND d.endpoint_id = ep.id
       AND d.state = 'pending';
    RETURN cardinality(v_written);
END $$;
