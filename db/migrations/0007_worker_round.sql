-- 0007_worker_round.sql - a delivery worker's loop in two round trips.
--
-- A worker used to spend about eight round trips per loop: BEGIN, SET LOCAL,
-- the record, COMMIT; the fan-out; BEGIN, lock endpoints, claim, COMMIT.
-- Each step is now one function, and a loop makes two calls: record what
-- finished and fan out part of the outbox (one transaction, committed
-- durably); then claim what fits (its own transaction, committed without
-- waiting for the WAL flush, so that the endpoints it locks are held for
-- microseconds, not for an fsync).
--
-- Plans. These functions touch a few rows each, by key or through the
-- queue's indexes. The queue tables grow from empty to a large backlog
-- within seconds, faster than ANALYZE follows, and plans made while
-- hookd.deliveries was small (plpgsql caches them; so did the prepared
-- statements before) were seen to join a batch of keys to a scan of the
-- whole table (1,885 scans reading 92M tuples to drain 50,000 deliveries),
-- and, with sequential scans or hash joins ruled out, to a scan of the whole
-- primary key instead. Planning every call afresh avoids that but costs
-- about 1 ms per round trip. So the statements are written so that no plan
-- can scan much: a batch of deliveries is updated one key at a time (a
-- full primary-key match, which the planner always takes through the
-- index), lookups go through LATERAL subqueries with LIMIT, and sequential
-- scans are off inside the functions (they would otherwise be chosen for
-- tables that look tiny when the plan is made).

-- Moves up to p_limit outbox events into deliveries (one per matching
-- endpoint; an endpoint subscribed to the type and to '*' gets one) and
-- deletes their outbox rows. Returns the number of events handled.
CREATE FUNCTION hookd.fan_out(p_limit integer) RETURNS integer
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
    -- Event by event (LATERAL): its type, the subscriptions to it, their
    -- endpoints.
    INSERT INTO hookd.deliveries (tenant_id, event_id, endpoint_id, state)
    SELECT DISTINCT p.tenant_id, p.event_id, x.id, x.state
      FROM unnest(v_tenants, v_events) AS p(tenant_id, event_id)
     CROSS JOIN LATERAL (
        SELECT e.id, CASE WHEN e.state = 'active' THEN 'pending' ELSE 'disabled' END AS state
          FROM hookd.events ev
          JOIN hookd.subscriptions s ON s.tenant_id = ev.tenant_id
                                    AND s.event_type IN (ev.type, '*')
          JOIN hookd.endpoints e ON e.tenant_id = s.tenant_id AND e.id = s.endpoint_id
         WHERE ev.tenant_id = p.tenant_id AND ev.id = p.event_id) x
    ON CONFLICT (tenant_id, event_id, endpoint_id) DO NOTHING;
    DELETE FROM hookd.pending_events WHERE seq = ANY (v_seqs);
    RETURN cardinality(v_seqs);
END $$;

-- Writes finished attempts (a JSON array of objects: tenant_id, id,
-- endpoint_id, number, started_ms, duration_ms, status, response_body,
-- error, state, retry_in_ms) for the deliveries still claimed by
-- p_claim_id, and the endpoints' health: a success closes the circuit;
-- failures extend the streak, open the circuit at p_breaker_threshold (until
-- the failed delivery's retry) and disable the endpoint after
-- p_disable_after_s of continuous failure; a 410 ('disabled') disables it at
-- once. A disabled endpoint's queued deliveries are parked. Returns how many
-- attempts were written (records whose lease was lost are skipped).
--
-- The transaction's commit waits for the WAL flush whatever the session's
-- synchronous_commit (attempts are on record once answered), and so flushes
-- everything before it too.
CREATE FUNCTION hookd.record_attempts(
    p_records           json,
    p_claim_id          uuid,
    p_breaker_threshold integer,
    p_disable_after_s   bigint)
RETURNS integer
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
    o         record;  -- one outcome
    v_next    timestamptz;
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

    FOR o IN SELECT * FROM json_to_recordset(p_records) AS x(tenant_id bigint, id bigint,
                 endpoint_id bigint, number int, started_ms bigint, duration_ms int, status int,
                 response_body text, error text, state text, retry_in_ms bigint)
    LOOP
        UPDATE hookd.deliveries d
           SET state = o.state, attempt_count = o.number,
               next_attempt_at = now() + coalesce(o.retry_in_ms, 0) * interval '1 millisecond',
               claim_id = NULL, lease_until = NULL, last_status = o.status,
               last_error = o.error, updated = now()
         WHERE d.tenant_id = o.tenant_id AND d.id = o.id AND d.claim_id = p_claim_id
        RETURNING d.next_attempt_at INTO v_next;
        CONTINUE WHEN NOT FOUND; -- the lease was lost: another worker owns it now
        INSERT INTO hookd.attempts (tenant_id, delivery_id, number, started, duration_ms,
                                    status, response_body, error, next_attempt_at)
        VALUES (o.tenant_id, o.id, o.number, to_timestamp(o.started_ms / 1000.0), o.duration_ms,
                o.status, o.response_body, o.error,
                CASE WHEN o.state = 'pending' THEN v_next END);
        v_written := v_written || o.id;
    END LOOP;

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

-- Claims up to p_limit due deliveries for p_claim_id with a lease of
-- p_lease_s, endpoint by endpoint in order of their earliest due delivery,
-- within each endpoint's limits: its in-flight cap (max_in_flight, else
-- p_max_in_flight; 1 while its failure streak is at p_breaker_threshold),
-- counted across all workers; its rate limit (rate_limit, else p_rate_limit;
-- 0 = none), a token bucket paid one token per claimed delivery; its circuit
-- (open: nothing). The endpoints are locked for the claim (SKIP LOCKED: two
-- claims never take one endpoint's room at once, and never wait).
--
-- One row per claimed delivery (with what signing and sending it needs),
-- then one closing row whose delivery columns are NULL: endpoints_locked
-- counts the endpoints with due work this claim held (those that got no
-- delivery were held back by a limit), and busy says that due work exists
-- but other claims held all its endpoints (worth looking again at once).
CREATE FUNCTION hookd.claim_deliveries(
    p_claim_id          uuid,
    p_limit             integer,
    p_lease_s           integer,
    p_max_in_flight     integer,
    p_rate_limit        double precision,
    p_breaker_threshold integer)
RETURNS TABLE (tenant_id bigint, delivery_id bigint, endpoint_id bigint, event_id text,
               attempt integer, url text, body text, secret_hex text,
               previous_secret_hex text, signing_key_hex text,
               endpoints_locked integer, busy boolean)
LANGUAGE plpgsql SET enable_seqscan = off AS $$
#variable_conflict use_column
DECLARE
    v_tenants      bigint[];
    v_ids          bigint[];
    v_caps         integer[];
    v_rooms        integer[];
    v_busy         boolean := false;
    v_pick_tenants bigint[];
    v_pick_ids     bigint[];
    v_taken        bigint[] := '{}'; -- endpoint ids, one per claimed delivery
    v_taken_tenants bigint[] := '{}';
    v_claimed      record;
BEGIN
    IF p_limit > 0 THEN
        -- Step 1: the endpoints with due work, earliest first, locked. The
        -- recursive part walks deliveries_queue once per endpoint that has
        -- queued deliveries (a loose index scan); the first entry of each
        -- endpoint is its earliest, so it tells whether anything there is
        -- due. FOR NO KEY UPDATE: conflicts with other claims and with
        -- records' updates of the endpoint, not with the key-share locks of
        -- fan-outs' and publishes' foreign-key checks.
        WITH RECURSIVE q(tenant_id, endpoint_id, due) AS (
            (SELECT d.tenant_id, d.endpoint_id, d.next_attempt_at FROM hookd.deliveries d
              WHERE d.state IN ('pending', 'delivering')
              ORDER BY d.tenant_id, d.endpoint_id, d.next_attempt_at LIMIT 1)
            UNION ALL
            SELECT n.tenant_id, n.endpoint_id, n.next_attempt_at FROM q, LATERAL (
                SELECT d.tenant_id, d.endpoint_id, d.next_attempt_at FROM hookd.deliveries d
                 WHERE d.state IN ('pending', 'delivering')
                   AND (d.tenant_id, d.endpoint_id) > (q.tenant_id, q.endpoint_id)
                 ORDER BY d.tenant_id, d.endpoint_id, d.next_attempt_at LIMIT 1) n),
        due AS (SELECT * FROM q WHERE q.due <= now() ORDER BY q.due LIMIT p_limit),
        locked AS (
            SELECT e.tenant_id, e.id, due.due,
                   CASE WHEN e.failure_streak >= p_breaker_threshold THEN 1
                        ELSE coalesce(e.max_in_flight, p_max_in_flight) END AS cap,
                   CASE WHEN coalesce(e.rate_limit, p_rate_limit) > 0 THEN floor(least(
                          greatest(coalesce(e.rate_limit, p_rate_limit), 1),
                          coalesce(e.rate_tokens,
                                   greatest(coalesce(e.rate_limit, p_rate_limit), 1))
                          + extract(epoch FROM now() - coalesce(e.rate_updated, now()))
                            * coalesce(e.rate_limit, p_rate_limit)))::int
                        ELSE 2147483647 END AS rate_room
              FROM due CROSS JOIN LATERAL (
                SELECT * FROM hookd.endpoints e
                 WHERE e.tenant_id = due.tenant_id AND e.id = due.endpoint_id
                   AND e.state = 'active'
                   AND (e.circuit_open_until IS NULL OR e.circuit_open_until <= now())
                   FOR NO KEY UPDATE SKIP LOCKED) e)
        SELECT array_agg(l.tenant_id ORDER BY l.due), array_agg(l.id ORDER BY l.due),
               array_agg(l.cap ORDER BY l.due), array_agg(l.rate_room ORDER BY l.due)
          INTO v_tenants, v_ids, v_caps, v_rooms
          FROM locked l;

        IF v_ids IS NULL THEN
            -- Nothing locked: is anything due at all (then other workers hold
            -- its endpoints for a moment)?
            SELECT EXISTS (
                SELECT 1 FROM hookd.deliveries d
                  JOIN hookd.endpoints e ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id
                 WHERE d.state IN ('pending', 'delivering') AND d.next_attempt_at <= now()
                   AND e.state = 'active'
                   AND (e.circuit_open_until IS NULL OR e.circuit_open_until <= now()))
              INTO v_busy;
        ELSE
            -- Step 2: with the endpoints locked (this statement's snapshot is
            -- taken after the locks), each endpoint's room is its cap less
            -- what it has in flight, and no more than its rate allows; its
            -- earliest due deliveries fill that room.
            SELECT array_agg(x.tenant_id), array_agg(x.id) INTO v_pick_tenants, v_pick_ids
              FROM (
                SELECT x.tenant_id, x.id
                  FROM unnest(v_tenants, v_ids, v_caps, v_rooms)
                       AS ep(tenant_id, id, cap, rate_room)
                 CROSS JOIN LATERAL (
                    SELECT greatest(least(ep.cap - (
                               SELECT count(*) FROM hookd.deliveries f
                                WHERE f.tenant_id = ep.tenant_id AND f.endpoint_id = ep.id
                                  AND f.state = 'delivering' AND f.next_attempt_at > now()),
                               ep.rate_room), 0) AS n) room
                 CROSS JOIN LATERAL (
                    SELECT d.tenant_id, d.id, d.next_attempt_at FROM hookd.deliveries d
                     WHERE d.tenant_id = ep.tenant_id AND d.endpoint_id = ep.id
                       AND d.state IN ('pending', 'delivering') AND d.next_attempt_at <= now()
                     ORDER BY d.next_attempt_at LIMIT room.n) x
                 ORDER BY x.next_attempt_at LIMIT p_limit) x;

            -- Step 3: the claim, one delivery at a time, by its full key: the
            -- delivery is locked and read with what sending it needs, checked
            -- (still due), then updated. (Conditions on state and due time in
            -- the UPDATE itself let the planner pick deliveries_queue and scan
            -- a whole tenant's queue for each row.)
            FOR i IN 1 .. coalesce(cardinality(v_pick_ids), 0) LOOP
                SELECT d.tenant_id, d.id, d.endpoint_id, d.event_id, d.attempt_count + 1 AS attempt,
                       d.state, d.next_attempt_at, en.url, ev.body,
                       encode(en.secret_sealed, 'hex') AS secret_hex,
                       CASE WHEN en.previous_secret_expires > now()
                            THEN encode(en.previous_secret_sealed, 'hex') END AS previous_secret_hex,
                       encode(t.signing_key_sealed, 'hex') AS signing_key_hex
                  INTO v_claimed
                  FROM hookd.deliveries d
                  JOIN hookd.events ev ON ev.tenant_id = d.tenant_id AND ev.id = d.event_id
                  JOIN hookd.endpoints en ON en.tenant_id = d.tenant_id AND en.id = d.endpoint_id
                  JOIN hookd.tenants t ON t.id = d.tenant_id
                 WHERE d.tenant_id = v_pick_tenants[i] AND d.id = v_pick_ids[i]
                   FOR UPDATE OF d;
                CONTINUE WHEN NOT FOUND OR v_claimed.state NOT IN ('pending', 'delivering')
                              OR v_claimed.next_attempt_at > now();
                UPDATE hookd.deliveries d
                   SET state = 'delivering', claim_id = p_claim_id,
                       lease_until = now() + p_lease_s * interval '1 second',
                       next_attempt_at = now() + p_lease_s * interval '1 second',
                       updated = now()
                 WHERE d.tenant_id = v_claimed.tenant_id AND d.id = v_claimed.id;
                tenant_id := v_claimed.tenant_id;
                delivery_id := v_claimed.id;
                endpoint_id := v_claimed.endpoint_id;
                event_id := v_claimed.event_id;
                attempt := v_claimed.attempt;
                url := v_claimed.url;
                body := v_claimed.body;
                secret_hex := v_claimed.secret_hex;
                previous_secret_hex := v_claimed.previous_secret_hex;
                signing_key_hex := v_claimed.signing_key_hex;
                endpoints_locked := NULL;
                busy := NULL;
                RETURN NEXT;
                v_taken_tenants := v_taken_tenants || v_claimed.tenant_id;
                v_taken := v_taken || v_claimed.endpoint_id;
            END LOOP;

            -- Rate-limited endpoints pay one token per claimed delivery.
            UPDATE hookd.endpoints e
               SET rate_tokens = least(greatest(coalesce(e.rate_limit, p_rate_limit), 1),
                     coalesce(e.rate_tokens, greatest(coalesce(e.rate_limit, p_rate_limit), 1))
                     + extract(epoch FROM now() - coalesce(e.rate_updated, now()))
                       * coalesce(e.rate_limit, p_rate_limit)) - k.n,
                   rate_updated = now()
              FROM (SELECT k.t, k.e, count(*) AS n FROM unnest(v_taken_tenants, v_taken) AS k(t, e)
                     GROUP BY 1, 2) k
             WHERE e.tenant_id = k.t AND e.id = k.e AND coalesce(e.rate_limit, p_rate_limit) > 0;
        END IF;
    END IF;

    tenant_id := NULL; delivery_id := NULL; endpoint_id := NULL; event_id := NULL;
    attempt := NULL; url := NULL; body := NULL; secret_hex := NULL;
    previous_secret_hex := NULL; signing_key_hex := NULL;
    endpoints_locked := coalesce(cardinality(v_ids), 0);
    busy := v_busy;
    RETURN NEXT;
END $$;
