-- db/functions/record_attempts.sql - the live definition: `hookd migrate` re-applies
-- this file whenever it changes (README: Development). Keep it re-runnable:
-- CREATE OR REPLACE only; when a signature or return type changes, drop the
-- old one first with DROP FUNCTION IF EXISTS.
--
-- hookd.record_attempts: from 0010_set_based_worker.sql, with the
-- plan_cache_mode that 0012_claim_snapshot.sql set by ALTER FUNCTION. The
-- notes on plans at the top of both migrations apply.
--
-- Cost. With BENCH_PG_STATS=1 BENCH_SCENARIOS=deliver BENCH_BACKLOG=30000
-- scripts/bench.sh, the previous version took 1.03-1.10 ms per call (36-38 us
-- per delivery): its batch UPDATE ran through EXECUTE, so it was parsed and
-- planned on every call (0.12 ms of planning alone); the JSON was parsed
-- five times (json_in, json_array_length, json_to_recordset in three
-- statements); and the two endpoint-health statements ran for every batch.
-- Their cached generic plans also walked the whole deliveries_queue index
-- to find deliveries to park once the queue had grown after the plan was
-- made: 14-15 ms per batch of successes with 30,000 deliveries queued. Now
-- (0.52-0.66 ms per call, 22-24 us per delivery, in the same runs):
-- * the records are parsed once, into arrays;
-- * every statement keeps its cached generic plan, and every plan reaches
--   deliveries only by key: the claimed rows are locked through a LATERAL
--   probe by full primary key (no plan can turn it into a scan), then
--   updated by ctid (a TID scan, the only way left to the target rows), so
--   the plan is right at any table size, including the empty table a worker
--   may have started on (bitmap scans are ruled out too: on a small table
--   the lock's probe was planned as a bitmap scan of a tenant_id-led index
--   filtered by id, which test_the_record_reaches_deliveries_only_by_key
--   caught when test_worker_sql.py ran alone);
-- * since then the records carry each delivery's event_id, and the probe
--   names both unique keys of hookd.deliveries: the primary key alone could
--   tie with the (tenant_id, event_id, endpoint_id) index on statistics of
--   a one-row table, and the plan kept walked the tenant's deliveries (see
--   the probe below). PostgreSQL's key checks of the attempt rows, which
--   could tie the same way and were planned afresh on a small table for
--   it, went with the foreign key (0023_lighter_delivery_writes.sql);
-- * a batch of successes at healthy endpoints (the common case) skips the
--   health statements: nothing in them would change. A success at an
--   endpoint with a failure streak, an open circuit or a first failure
--   still takes the lock and resets them;
-- * any attempt at an endpoint that claims marked slow (slow_until, set
--   while it was full of requests older than 100 ms) ends the mark: one
--   of its requests ended, so it has room, and claims weigh it again;
-- * queued deliveries are parked only when an endpoint was disabled (rare),
--   by a statement planned afresh for that endpoint.

CREATE OR REPLACE FUNCTION hookd.record_attempts(
    p_records           json,
    p_claim_id          uuid,
    p_breaker_threshold integer,
    p_disable_after_s   bigint)
RETURNS integer
LANGUAGE plpgsql
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off
SET enable_memoize = off SET enable_bitmapscan = off SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_tenants      bigint[];
    v_ids          bigint[];
    v_events       text[];
    v_endpoints    bigint[];
    v_numbers      integer[];
    v_started      bigint[];
    v_durations    integer[];
    v_statuses     integer[];
    v_bodies       text[];
    v_errors       text[];
    v_states       text[];
    v_retries      bigint[];
    v_all_ok       boolean;
    v_health       boolean;
    v_locked_tenants bigint[]; -- the endpoints locked for their health, in key order
    v_locked_ids   bigint[];
    v_rows         tid[];
    v_pos          bigint[];
    v_written      bigint[];
    v_off_tenants  bigint[];
    v_off_ids      bigint[];
    v_more_tenants bigint[];
    v_more_ids     bigint[];
BEGIN
    SELECT array_agg(x.tenant_id), array_agg(x.id), array_agg(x.event_id), array_agg(x.endpoint_id),
           array_agg(x.number), array_agg(x.started_ms), array_agg(x.duration_ms),
           array_agg(x.status), array_agg(x.response_body), array_agg(x.error),
           array_agg(x.state), array_agg(x.retry_in_ms), bool_and(x.state = 'delivered')
      INTO v_tenants, v_ids, v_events, v_endpoints, v_numbers, v_started, v_durations, v_statuses,
           v_bodies, v_errors, v_states, v_retries, v_all_ok
      FROM json_to_recordset(p_records) AS x(tenant_id bigint, id bigint, event_id text,
           endpoint_id bigint, number int, started_ms bigint, duration_ms int, status int,
           response_body text, error text, state text, retry_in_ms bigint);
    IF v_ids IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM set_config('synchronous_commit', 'on', true);

    -- The endpoints whose health changes are locked first, in key order, so
    -- that concurrent records cannot deadlock on them. A healthy endpoint
    -- answered with a success is left alone (no lock, no new row version):
    -- workers sharing it do not queue behind each other's commits. One
    -- marked slow is not left alone: its mark ends (below).
    SELECT array_agg(l.tenant_id), array_agg(l.id) INTO v_locked_tenants, v_locked_ids
      FROM (SELECT x.tenant_id, x.endpoint_id, bool_or(x.state = 'delivered') AS ok,
                   bool_or(x.state = 'disabled') AS gone
              FROM unnest(v_tenants, v_endpoints, v_states) AS x(tenant_id, endpoint_id, state)
             GROUP BY 1, 2 ORDER BY 1, 2) h
     CROSS JOIN LATERAL (
        SELECT e.tenant_id, e.id FROM hookd.endpoints e
         WHERE e.tenant_id = h.tenant_id AND e.id = h.endpoint_id
           AND NOT (h.ok AND NOT h.gone AND e.failure_streak = 0
                    AND e.first_failure_at IS NULL AND e.circuit_open_until IS NULL
                    AND e.slow_until IS NULL)
           FOR NO KEY UPDATE) l;
    -- Nothing locked and nothing but successes: every endpoint of the batch
    -- is healthy and stays so; the health statements would change nothing.
    v_health := v_locked_ids IS NOT NULL OR NOT v_all_ok;

    -- The deliveries still claimed by p_claim_id are locked, each found by
    -- its full key (a LATERAL probe: no plan can turn it into a scan). A row
    -- changed since this statement's snapshot is followed to its latest
    -- version and its claim checked there (a lost lease: the new claim
    -- keeps it). Locked, a row keeps its ctid until the commit...
    --
    -- The probe names both unique keys, (tenant_id, id) and (tenant_id,
    -- event_id, endpoint_id), so that whichever index the plan takes is a
    -- lookup of one entry. With the primary key alone, a plan made while
    -- hookd.deliveries was estimated at one row (analyzed with one row, or
    -- analyzed empty: every index then costs the same) could take the
    -- second index on tenant_id alone, and, kept while the table grew,
    -- walked every delivery of the tenant for each record
    -- (test_the_record_reaches_deliveries_by_key_after_a_one_row_analyze).
    -- A worker older than event_id in the records (a rolling upgrade) sends
    -- none: its records are probed by primary key in a statement planned
    -- afresh, on the table's current size.
    IF array_position(v_events, NULL) IS NULL THEN
        SELECT array_agg(l.row_id), array_agg(o.i) INTO v_rows, v_pos
          FROM unnest(v_tenants, v_ids, v_events, v_endpoints) WITH ORDINALITY
               AS o(tenant_id, id, event_id, endpoint_id, i)
         CROSS JOIN LATERAL (
            SELECT x.ctid AS row_id FROM hookd.deliveries x
             WHERE x.tenant_id = o.tenant_id AND x.id = o.id
               AND x.event_id = o.event_id AND x.endpoint_id = o.endpoint_id
               AND x.claim_id = p_claim_id
               FOR NO KEY UPDATE) l;
    ELSE
        EXECUTE $sql$
        SELECT array_agg(l.row_id), array_agg(o.i)
          FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS o(tenant_id, id, i)
         CROSS JOIN LATERAL (
            SELECT x.ctid AS row_id FROM hookd.deliveries x
             WHERE x.tenant_id = o.tenant_id AND x.id = o.id AND x.claim_id = $3
               FOR NO KEY UPDATE) l
        $sql$ INTO v_rows, v_pos USING v_tenants, v_ids, p_claim_id;
    END IF;
    IF v_rows IS NULL THEN
        RETURN 0;
    END IF;

    -- ...so they take their outcome by ctid (a TID scan: the plan has no
    -- other way to the rows), and their attempts are inserted.
    WITH u AS (
        UPDATE hookd.deliveries d
           SET state = v_states[k.i], attempt_count = v_numbers[k.i],
               next_attempt_at = now() + coalesce(v_retries[k.i], 0) * interval '1 millisecond',
               claim_id = NULL, lease_until = NULL, last_status = v_statuses[k.i],
               last_error = v_errors[k.i], updated = now()
          FROM unnest(v_rows, v_pos) AS k(row_id, i)
         WHERE d.ctid = k.row_id
        RETURNING d.tenant_id, d.id, d.next_attempt_at, k.i),
    a AS (
        INSERT INTO hookd.attempts (tenant_id, delivery_id, number, started, duration_ms,
                                    status, response_body, error, next_attempt_at)
        SELECT u.tenant_id, u.id, v_numbers[u.i], to_timestamp(v_started[u.i] / 1000.0),
               v_durations[u.i], v_statuses[u.i], v_bodies[u.i], v_errors[u.i],
               CASE WHEN v_states[u.i] = 'pending' THEN u.next_attempt_at END
          FROM u
        RETURNING delivery_id)
    SELECT coalesce(array_agg(a.delivery_id), '{}') INTO v_written FROM a;

    IF NOT v_health THEN
        RETURN cardinality(v_written);
    END IF;

    WITH h AS (
        SELECT r.tenant_id, r.endpoint_id,
               bool_or(r.state = 'delivered') AS ok,
               bool_or(r.state = 'disabled') AS gone,
               count(*) FILTER (WHERE r.state IN ('pending', 'failed')) AS fails,
               min(to_timestamp(r.started_ms / 1000.0))
                 FILTER (WHERE r.state IN ('pending', 'failed')) AS first_fail,
               max(r.retry_in_ms) FILTER (WHERE r.state = 'pending') AS backoff_ms
          FROM unnest(v_tenants, v_ids, v_endpoints, v_started, v_states, v_retries)
                 AS r(tenant_id, id, endpoint_id, started_ms, state, retry_in_ms)
         WHERE r.id = ANY (v_written)
         GROUP BY r.tenant_id, r.endpoint_id),
    -- SET expressions read e's latest version (concurrent recorders add up).
    -- Only the endpoints locked above are updated, whatever changed since:
    -- one that a claim has marked slow meanwhile, locked here outside key
    -- order, could deadlock with another record that holds it and waits
    -- for one this record holds (its mark then lasts its half second).
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
               slow_until = NULL,
               disabled_at = CASE WHEN h.gone AND e.state = 'active' THEN now()
                                  ELSE e.disabled_at END,
               disabled_reason = CASE WHEN h.gone AND e.state = 'active'
                                      THEN 'The receiver answered 410 Gone.'
                                      ELSE e.disabled_reason END
          FROM h
         WHERE e.tenant_id = h.tenant_id AND e.id = h.endpoint_id
           AND (h.tenant_id, h.endpoint_id) IN (
               SELECT * FROM unnest(v_locked_tenants, v_locked_ids))
        RETURNING e.tenant_id, e.id, e.state)
    SELECT array_agg(ep.tenant_id), array_agg(ep.id) INTO v_off_tenants, v_off_ids
      FROM ep WHERE ep.state = 'disabled';

    -- Endpoints of this batch that have now failed continuously for too
    -- long are disabled.
    IF NOT v_all_ok THEN
        WITH ep AS (
            UPDATE hookd.endpoints e
               SET state = 'disabled', disabled_at = now(),
                   disabled_reason = 'Failing continuously since '
                     || hookd.rfc3339(e.first_failure_at)
                     || ' (' || e.failure_streak || ' failed attempts in a row).'
              FROM (SELECT DISTINCT r.tenant_id, r.endpoint_id
                      FROM unnest(v_tenants, v_ids, v_endpoints, v_states)
                             AS r(tenant_id, id, endpoint_id, state)
                     WHERE r.state IN ('pending', 'failed') AND r.id = ANY (v_written)) k
             WHERE e.tenant_id = k.tenant_id AND e.id = k.endpoint_id AND e.state = 'active'
               AND e.first_failure_at <= now() - p_disable_after_s * interval '1 second'
            RETURNING e.tenant_id, e.id)
        SELECT array_agg(ep.tenant_id), array_agg(ep.id) INTO v_more_tenants, v_more_ids
          FROM ep;
        v_off_tenants := v_off_tenants || v_more_tenants;
        v_off_ids := v_off_ids || v_more_ids;
    END IF;

    -- The queued deliveries of the endpoints disabled above are parked.
    -- Rare: one statement per endpoint, planned afresh for its key (a plan
    -- of the whole batch, its queue estimated from stale statistics, once
    -- walked every endpoint's queue).
    FOR i IN 1 .. coalesce(cardinality(v_off_ids), 0) LOOP
        EXECUTE $sql$
        UPDATE hookd.deliveries d SET state = 'disabled', updated = now()
         WHERE d.tenant_id = $1 AND d.endpoint_id = $2 AND d.state = 'pending'
        $sql$ USING v_off_tenants[i], v_off_ids[i];
    END LOOP;
    RETURN cardinality(v_written);
END $$;
