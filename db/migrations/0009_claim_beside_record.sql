-- 0009_claim_beside_record.sql - a worker claims before it records, so the
-- records' WAL flush overlaps the requests it has just started.
--
-- The worker's loop was: record what finished (a durable commit: an fsync),
-- fan out, then claim into the slots the record freed, then send. Every
-- slot stood idle through the fsync. Now the loop is: fan out and claim
-- (one call, committed without waiting for the WAL flush), send, then
-- record while those requests run. For the claim to refill the slots of the
-- requests that have finished but are not recorded yet, the worker names
-- them (p_finished): deliveries still claimed by p_claim_id among them are
-- not counted as in flight. They are not: their requests have been
-- answered. Every other claim keeps counting them until the record, so the
-- per-endpoint cap on concurrent requests holds across workers as before.
--
-- hookd.claim_deliveries also fans out first (p_fan_out_limit outbox
-- events), so that a new event's deliveries are claimed in the same call;
-- its closing row says how many events that handled (fanned_out).
--
-- Otherwise as in 0007_worker_round.sql, whose notes on plans apply.

DROP FUNCTION hookd.claim_deliveries(uuid, integer, integer, integer, double precision, integer);

-- Fans out up to p_fan_out_limit outbox events (hookd.fan_out), then
-- claims up to p_limit due deliveries for p_claim_id with a lease of
-- p_lease_s, endpoint by endpoint in order of their earliest due delivery,
-- within each endpoint's limits: its in-flight cap (max_in_flight, else
-- p_max_in_flight; 1 while its failure streak is at p_breaker_threshold),
-- counted across all workers (less p_finished, see above); its rate limit
-- (rate_limit, else p_rate_limit; 0 = none), a token bucket paid one token
-- per claimed delivery; its circuit (open: nothing). The endpoints are
-- locked for the claim (SKIP LOCKED: two claims never take one endpoint's
-- room at once, and never wait).
--
-- One row per claimed delivery (with what signing and sending it needs),
-- then one closing row whose delivery columns are NULL: endpoints_locked
-- counts the endpoints with due work this claim held (those that got no
-- delivery were held back by a limit), busy says that due work exists but
-- other claims held all its endpoints (worth looking again at once), and
-- fanned_out counts the outbox events handled.
CREATE FUNCTION hookd.claim_deliveries(
    p_claim_id          uuid,
    p_finished          bigint[],
    p_fan_out_limit     integer,
    p_limit             integer,
    p_lease_s           integer,
    p_max_in_flight     integer,
    p_rate_limit        double precision,
    p_breaker_threshold integer)
RETURNS TABLE (tenant_id bigint, delivery_id bigint, endpoint_id bigint, event_id text,
               attempt integer, url text, body text, secret_hex text,
               previous_secret_hex text, signing_key_hex text,
               endpoints_locked integer, busy boolean, fanned_out integer)
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
    v_fanned_out   integer := 0;
BEGIN
    IF p_fan_out_limit > 0 THEN
        v_fanned_out := hookd.fan_out(p_fan_out_limit);
    END IF;
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
                                  AND f.state = 'delivering' AND f.next_attempt_at > now()
                                  AND NOT (f.claim_id = p_claim_id
                                           AND f.id = ANY (coalesce(p_finished, '{}')))),
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
                fanned_out := NULL;
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
    fanned_out := v_fanned_out;
    RETURN NEXT;
END $$;
