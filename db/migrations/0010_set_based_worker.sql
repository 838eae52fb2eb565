-- 0010_set_based_worker.sql - the worker's claim and record as set-based
-- statements, and new events' deliveries inserted already claimed.
--
-- Measured with BENCH_PG_STATS=1 (scripts/bench.sh) draining 30,000
-- deliveries to one endpoint: hookd.claim_deliveries took 2.5 ms per call
-- (about 90 us of database time per claimed delivery) and
-- hookd.record_attempts 1.45 ms (about 52 us); the worker's database
-- backend was 74 % busy while hookd used 27 % of a core. Most of it was
-- per-row work: a delivery was written three times (inserted pending by the
-- fan-out, updated by the claim, updated by the record) and the claim and
-- the record ran two statements per delivery in a plpgsql loop.
--
-- Now:
-- * hookd.claim_deliveries takes new events from the outbox itself and
--   inserts their deliveries already claimed ('delivering', with the
--   claim's id and lease) where the endpoint has room, so a delivery of a
--   new event is written twice: inserted claimed, then recorded. The
--   queue's due deliveries (retries, deliveries that had to wait) still go
--   first. See the function's comment for when an event waits in the
--   outbox and when its deliveries are queued instead.
-- * hookd.record_attempts and the claim of queued deliveries are one
--   statement per batch instead of two per delivery.
--
-- Plans. 0007_worker_round.sql explains why the worker's statements must
-- not be able to choose a plan that scans a queue table: a plan cached
-- while hookd.deliveries was nearly empty stays in use as it grows. A batch
-- statement matched to deliveries by key is exactly such a plan (a first
-- version of this migration spent 5 ms per record of 32 deliveries walking
-- the whole primary key). So each statement here either reaches every
-- table row through a LATERAL probe by full key with LIMIT (which no plan
-- can turn into a scan), or, where a batch UPDATE must match rows by key
-- (the record, the claim of queued deliveries), runs through EXECUTE,
-- which plans it afresh on every call (about 0.1 ms, once per batch) with
-- the table's current size: the planner reads a relation's actual number
-- of pages, so its estimate follows a growing queue without waiting for
-- ANALYZE.

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

CREATE OR REPLACE FUNCTION hookd.record_attempts(
    p_records           json,
    p_claim_id          uuid,
    p_breaker_threshold integer,
    p_disable_after_s   bigint)
RETURNS integer
LANGUAGE plpgsql SET enable_seqscan = off AS $$
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

-- Claims up to p_limit deliveries for p_claim_id with a lease of p_lease_s:
-- first the queue's due deliveries, then new events from the outbox, whose
-- deliveries are inserted already claimed ("born claimed") when their
-- endpoint has room, so that a delivery of a new event is written twice
-- (inserted claimed, then recorded) instead of three times (inserted
-- pending, claimed, recorded).
--
-- The limits are as before, per endpoint and across all workers: the
-- in-flight cap (max_in_flight, else p_max_in_flight; 1 while the failure
-- streak is at p_breaker_threshold), counting the requests of other claims
-- until they are recorded and this claim's own until they finish
-- (p_finished); the rate limit (rate_limit, else p_rate_limit; 0 = none), a
-- token bucket paid one token per claimed delivery; the circuit (open:
-- nothing). The endpoints are locked for the claim (SKIP LOCKED: two claims
-- never take one endpoint's room at once, and never wait).
--
-- The outbox is taken in order (p_fan_out_limit events at most). An event's
-- deliveries are inserted claimed where their endpoint has room left after
-- its queued due deliveries; otherwise they are queued ('pending', or
-- 'disabled' at a disabled endpoint, 'pending' behind an open circuit), so
-- a slow or throttled endpoint never holds back the others' events. The
-- events are taken up to, not including, the first one that has a target
-- which would merely have to wait a moment: an endpoint whose room this
-- claim has used up, whose requests in flight are all younger than a
-- second, or that another claim holds right now. Such an event stays in
-- the outbox for the next claim, so that a busy endpoint's new deliveries
-- keep being born claimed instead of piling up as 'pending'. An endpoint
-- whose oldest request in flight is older than a second (a slow receiver),
-- or whose rate limit has no token, takes its new deliveries into the
-- queue at once.
--
-- One row per claimed delivery (with what signing and sending it needs),
-- then one closing row whose delivery columns are NULL: endpoints_locked
-- counts the endpoints with work this claim held (those that got no
-- delivery were held back by a limit), busy says that work exists but other
-- claims held its endpoints (worth looking again at once), and fanned_out
-- counts the outbox events handled.
CREATE OR REPLACE FUNCTION hookd.claim_deliveries(
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
    -- the outbox events considered, in order
    v_seqs       bigint[];
    v_ev_tenants bigint[];
    v_ev_ids     text[];
    -- their deliveries-to-be: event (by seq), endpoint, and its kind:
    -- 'open' (active, circuit closed), 'held' (circuit open), 'disabled'
    v_t_seqs      bigint[];
    v_t_tenants   bigint[];
    v_t_events    text[];
    v_t_endpoints bigint[];
    v_t_kinds     text[];
    -- the endpoints this claim locked, with their room (after step 3: the
    -- room left for new events) and whether new deliveries that do not fit
    -- go to the queue at once (spill)
    v_tenants    bigint[];
    v_ids        bigint[];
    v_dues       timestamptz[];
    v_rooms      integer[];
    v_spills     boolean[];
    v_pick_tenants bigint[];
    v_pick_ids     bigint[];
    v_pick_endpoints bigint[];
    v_pick_events  text[];
    v_pick_attempts integer[];
    v_stop       bigint;     -- outbox events from this seq on stay
    v_blocked    boolean := false; -- an event waits for an endpoint another claim holds
    v_busy       boolean := false;
    v_fanned_out integer := 0;
    v_born_tenants bigint[] := '{}';
    v_born_ids     bigint[] := '{}';
    v_born_endpoints bigint[] := '{}';
    v_born_events  text[] := '{}';
BEGIN
    IF p_limit <= 0 THEN
        RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::bigint, NULL::text, NULL::integer,
                            NULL::text, NULL::text, NULL::text, NULL::text, NULL::text,
                            0, false, 0;
        RETURN;
    END IF;

    -- Step 1: the outbox's first events and their deliveries-to-be.
    IF p_fan_out_limit > 0 THEN
        SELECT array_agg(p.seq ORDER BY p.seq), array_agg(p.tenant_id ORDER BY p.seq),
               array_agg(p.event_id ORDER BY p.seq)
          INTO v_seqs, v_ev_tenants, v_ev_ids
          FROM (SELECT o.seq, o.tenant_id, o.event_id FROM hookd.pending_events o
                 ORDER BY o.seq LIMIT p_fan_out_limit FOR UPDATE SKIP LOCKED) p;
    END IF;
    IF v_seqs IS NOT NULL THEN
        -- Each event by its full key (a LATERAL probe with LIMIT cannot be
        -- turned into a join that scans hookd.events, whatever the cached
        -- plan thinks of its size), then its type's and '*' subscriptions.
        SELECT array_agg(t.seq ORDER BY t.seq, t.endpoint_id),
               array_agg(t.tenant_id ORDER BY t.seq, t.endpoint_id),
               array_agg(t.event_id ORDER BY t.seq, t.endpoint_id),
               array_agg(t.endpoint_id ORDER BY t.seq, t.endpoint_id),
               array_agg(t.kind ORDER BY t.seq, t.endpoint_id)
          INTO v_t_seqs, v_t_tenants, v_t_events, v_t_endpoints, v_t_kinds
          FROM (SELECT DISTINCT p.seq, p.tenant_id, p.event_id, e.id AS endpoint_id,
                       CASE WHEN e.state <> 'active' THEN 'disabled'
                            WHEN e.circuit_open_until > now() THEN 'held'
                            ELSE 'open' END AS kind
                  FROM unnest(v_seqs, v_ev_tenants, v_ev_ids) AS p(seq, tenant_id, event_id)
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
                    SELECT e.id, e.state, e.circuit_open_until FROM hookd.endpoints e
                     WHERE e.tenant_id = p.tenant_id AND e.id = s.endpoint_id LIMIT 1) e) t;
    END IF;

    -- Step 2: the endpoints with due queued work (a loose index scan of
    -- deliveries_queue: one probe per endpoint with queued deliveries, whose
    -- first entry is its earliest), earliest first, and the open endpoints
    -- of the new events; locked (FOR NO KEY UPDATE: conflicts with other
    -- claims and with records' updates of the endpoint, not with the
    -- key-share locks of foreign-key checks), with their cap and rate room.
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
    wanted AS (
        SELECT w.tenant_id, w.endpoint_id, min(w.due) AS due
          FROM (SELECT due.tenant_id, due.endpoint_id, due.due FROM due
                UNION ALL
                SELECT f.tenant_id, f.endpoint_id, NULL::timestamptz
                  FROM unnest(v_t_tenants, v_t_endpoints, v_t_kinds) AS f(tenant_id, endpoint_id, kind)
                 WHERE f.kind = 'open') w
         GROUP BY w.tenant_id, w.endpoint_id),
    locked AS (
        SELECT e.tenant_id, e.id, w.due,
               CASE WHEN e.failure_streak >= p_breaker_threshold THEN 1
                    ELSE coalesce(e.max_in_flight, p_max_in_flight) END AS cap,
               CASE WHEN coalesce(e.rate_limit, p_rate_limit) > 0 THEN floor(least(
                      greatest(coalesce(e.rate_limit, p_rate_limit), 1),
                      coalesce(e.rate_tokens, greatest(coalesce(e.rate_limit, p_rate_limit), 1))
                      + extract(epoch FROM now() - coalesce(e.rate_updated, now()))
                        * coalesce(e.rate_limit, p_rate_limit)))::int
                    ELSE 2147483647 END AS rate_room
          FROM wanted w CROSS JOIN LATERAL (
            SELECT * FROM hookd.endpoints e
             WHERE e.tenant_id = w.tenant_id AND e.id = w.endpoint_id
               AND e.state = 'active'
               AND (e.circuit_open_until IS NULL OR e.circuit_open_until <= now())
               FOR NO KEY UPDATE SKIP LOCKED) e),
    -- With the endpoints locked, each one's room is its cap less what it
    -- has in flight, and no more than its rate allows.
    roomy AS (
        SELECT l.tenant_id, l.id, l.due,
               greatest(least(l.cap - f.n, l.rate_room), 0) AS room,
               l.rate_room < 1 OR (l.cap - f.n <= 0 AND f.oldest < now() - interval '1 second')
                 AS slow
          FROM locked l CROSS JOIN LATERAL (
            SELECT count(*) AS n, min(f.updated) AS oldest FROM hookd.deliveries f
             WHERE f.tenant_id = l.tenant_id AND f.endpoint_id = l.id
               AND f.state = 'delivering' AND f.next_attempt_at > now()
               AND NOT (f.claim_id = p_claim_id AND f.id = ANY (coalesce(p_finished, '{}')))) f)
    SELECT array_agg(r.tenant_id ORDER BY r.due NULLS LAST, r.tenant_id, r.id),
           array_agg(r.id ORDER BY r.due NULLS LAST, r.tenant_id, r.id),
           array_agg(r.due ORDER BY r.due NULLS LAST, r.tenant_id, r.id),
           array_agg(r.room ORDER BY r.due NULLS LAST, r.tenant_id, r.id),
           array_agg(r.slow ORDER BY r.due NULLS LAST, r.tenant_id, r.id)
      INTO v_tenants, v_ids, v_dues, v_rooms, v_spills
      FROM roomy r;

    -- Step 3: the queue's due deliveries fill each endpoint's room first,
    -- earliest first; what is left of the room is for new events.
    IF v_ids IS NOT NULL THEN
        SELECT array_agg(x.tenant_id), array_agg(x.id), array_agg(x.endpoint_id)
          INTO v_pick_tenants, v_pick_ids, v_pick_endpoints
          FROM (
            SELECT x.tenant_id, x.id, x.endpoint_id
              FROM unnest(v_tenants, v_ids, v_dues, v_rooms) AS ep(tenant_id, id, due, room)
             CROSS JOIN LATERAL (
                SELECT d.tenant_id, d.id, d.endpoint_id, d.next_attempt_at FROM hookd.deliveries d
                 WHERE d.tenant_id = ep.tenant_id AND d.endpoint_id = ep.id
                   AND d.state IN ('pending', 'delivering') AND d.next_attempt_at <= now()
                 ORDER BY d.next_attempt_at LIMIT ep.room) x
             WHERE ep.due IS NOT NULL
             ORDER BY x.next_attempt_at LIMIT p_limit) x;
        -- The room left for new events; an endpoint spills them into the
        -- queue when it is slow or out of tokens (above), or when its queue
        -- took all its room (they belong behind that queue).
        SELECT array_agg(e.room - k.n ORDER BY e.ord),
               array_agg(e.slow OR (e.due IS NOT NULL AND e.room - k.n <= 0) ORDER BY e.ord)
          INTO v_rooms, v_spills
          FROM unnest(v_tenants, v_ids, v_dues, v_rooms, v_spills)
               WITH ORDINALITY AS e(tenant_id, id, due, room, slow, ord)
         CROSS JOIN LATERAL (
            SELECT count(*)::integer AS n
              FROM unnest(v_pick_tenants, v_pick_endpoints) AS k(tenant_id, endpoint_id)
             WHERE k.tenant_id = e.tenant_id AND k.endpoint_id = e.id) k;
    END IF;

    -- Step 4: which new events are taken: the outbox's first ones, up to
    -- (not including) event v_stop (all when NULL). Per endpoint, the first
    -- of its new deliveries up to its room left are born claimed, and no
    -- more than p_limit in all; an event stops the outbox when one of its
    -- deliveries could be neither born claimed nor queued at once.
    IF v_t_seqs IS NOT NULL THEN
        WITH t AS (
            SELECT t.seq, t.kind, ep.id IS NOT NULL AS locked, coalesce(ep.spill, false) AS spill,
                   row_number() OVER (PARTITION BY t.tenant_id, t.endpoint_id ORDER BY t.seq)
                     <= coalesce(ep.room_left, 0) AS fits
              FROM unnest(v_t_seqs, v_t_tenants, v_t_endpoints, v_t_kinds)
                   AS t(seq, tenant_id, endpoint_id, kind)
              LEFT JOIN unnest(v_tenants, v_ids, v_rooms, v_spills)
                   AS ep(tenant_id, id, room_left, spill)
                ON ep.tenant_id = t.tenant_id AND ep.id = t.endpoint_id),
        ev AS (
            SELECT t.seq,
                   bool_and(t.kind <> 'open' OR t.fits OR t.spill) AS ok,
                   bool_or(t.kind = 'open' AND NOT t.locked) AS blocked,
                   count(*) FILTER (WHERE t.kind = 'open' AND t.fits) AS born
              FROM t GROUP BY t.seq),
        run AS (
            SELECT ev.seq, ev.ok, ev.blocked,
                   sum(ev.born) OVER (ORDER BY ev.seq) AS born_so_far
              FROM ev)
        SELECT r.seq, r.blocked INTO v_stop, v_blocked
          FROM run r
         WHERE NOT r.ok OR r.born_so_far > p_limit - coalesce(cardinality(v_pick_ids), 0)
         ORDER BY r.seq LIMIT 1;
        v_blocked := coalesce(v_blocked, false);
    END IF;

    -- Step 5: the taken events' deliveries are inserted (born claimed where
    -- they fit, else queued) and their outbox rows deleted.
    IF v_seqs IS NOT NULL THEN
        IF v_t_seqs IS NOT NULL THEN
            WITH ep AS (
                SELECT * FROM unnest(v_tenants, v_ids, v_rooms) AS e(tenant_id, id, room_left)),
            t AS (
                SELECT t.tenant_id, t.event_id, t.endpoint_id, t.kind,
                       t.kind = 'open' AND ep.id IS NOT NULL
                       AND row_number() OVER (PARTITION BY t.tenant_id, t.endpoint_id ORDER BY t.seq)
                           <= ep.room_left AS born
                  FROM unnest(v_t_seqs, v_t_tenants, v_t_events, v_t_endpoints, v_t_kinds)
                       AS t(seq, tenant_id, event_id, endpoint_id, kind)
                  LEFT JOIN ep ON ep.tenant_id = t.tenant_id AND ep.id = t.endpoint_id
                 WHERE v_stop IS NULL OR t.seq < v_stop),
            ins AS (
                INSERT INTO hookd.deliveries AS d (tenant_id, event_id, endpoint_id, state,
                                                  claim_id, lease_until, next_attempt_at)
                SELECT t.tenant_id, t.event_id, t.endpoint_id,
                       CASE WHEN t.born THEN 'delivering'
                            WHEN t.kind = 'disabled' THEN 'disabled' ELSE 'pending' END,
                       CASE WHEN t.born THEN p_claim_id END,
                       CASE WHEN t.born THEN now() + p_lease_s * interval '1 second' END,
                       CASE WHEN t.born THEN now() + p_lease_s * interval '1 second'
                            ELSE now() END
                  FROM t
                ON CONFLICT (tenant_id, event_id, endpoint_id) DO NOTHING
                RETURNING d.tenant_id, d.id, d.endpoint_id, d.event_id, d.state)
            SELECT coalesce(array_agg(ins.tenant_id) FILTER (WHERE ins.state = 'delivering'), '{}'),
                   coalesce(array_agg(ins.id) FILTER (WHERE ins.state = 'delivering'), '{}'),
                   coalesce(array_agg(ins.endpoint_id) FILTER (WHERE ins.state = 'delivering'), '{}'),
                   coalesce(array_agg(ins.event_id) FILTER (WHERE ins.state = 'delivering'), '{}')
              INTO v_born_tenants, v_born_ids, v_born_endpoints, v_born_events
              FROM ins;
        END IF;
        DELETE FROM hookd.pending_events o
         WHERE o.seq = ANY (v_seqs) AND (v_stop IS NULL OR o.seq < v_stop);
        GET DIAGNOSTICS v_fanned_out = ROW_COUNT;
    END IF;

    IF v_ids IS NULL AND NOT v_blocked THEN
        -- Nothing locked: is anything due at all (then other workers hold
        -- its endpoints for a moment)?
        SELECT EXISTS (
            SELECT 1 FROM hookd.deliveries d
              JOIN hookd.endpoints e ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id
             WHERE d.state IN ('pending', 'delivering') AND d.next_attempt_at <= now()
               AND e.state = 'active'
               AND (e.circuit_open_until IS NULL OR e.circuit_open_until <= now()))
          INTO v_busy;
    END IF;
    v_busy := v_busy OR v_blocked;

    -- Step 6: the queue's picked deliveries are claimed, as one statement
    -- planned afresh (see the top of this file), matched by full primary
    -- key, still queued and due (IS TRUE: no index can serve that check, so
    -- the planner cannot trade the key for a walk of the tenant's queue).
    IF v_pick_ids IS NOT NULL THEN
        EXECUTE $sql$
            WITH claimed AS (
                UPDATE hookd.deliveries d
                   SET state = 'delivering', claim_id = $3,
                       lease_until = now() + $4 * interval '1 second',
                       next_attempt_at = now() + $4 * interval '1 second',
                       updated = now()
                  FROM unnest($1::bigint[], $2::bigint[]) AS k(tenant_id, id)
                 WHERE d.tenant_id = k.tenant_id AND d.id = k.id
                   AND (d.state IN ('pending', 'delivering') AND d.next_attempt_at <= now()) IS TRUE
                RETURNING d.tenant_id, d.id, d.endpoint_id, d.event_id, d.attempt_count + 1 AS attempt)
            SELECT array_agg(c.tenant_id), array_agg(c.id), array_agg(c.endpoint_id),
                   array_agg(c.event_id), array_agg(c.attempt)
              FROM claimed c
        $sql$ INTO v_pick_tenants, v_pick_ids, v_pick_endpoints, v_pick_events, v_pick_attempts
        USING v_pick_tenants, v_pick_ids, p_claim_id, p_lease_s;
    END IF;

    -- Step 7: rate-limited endpoints pay one token per claimed delivery;
    -- every claimed delivery is returned with what sending it needs (each
    -- row by its full key: LATERAL probes with LIMIT).
    IF v_pick_ids IS NOT NULL OR cardinality(v_born_ids) > 0 THEN
        WITH c AS (
            SELECT * FROM unnest(coalesce(v_pick_tenants, '{}'), coalesce(v_pick_endpoints, '{}'))
                          AS k(tenant_id, endpoint_id)
            UNION ALL
            SELECT * FROM unnest(v_born_tenants, v_born_endpoints) AS k(tenant_id, endpoint_id))
        UPDATE hookd.endpoints e
           SET rate_tokens = least(greatest(coalesce(e.rate_limit, p_rate_limit), 1),
                 coalesce(e.rate_tokens, greatest(coalesce(e.rate_limit, p_rate_limit), 1))
                 + extract(epoch FROM now() - coalesce(e.rate_updated, now()))
                   * coalesce(e.rate_limit, p_rate_limit)) - k.n,
               rate_updated = now()
          FROM (SELECT c.tenant_id, c.endpoint_id, count(*) AS n FROM c GROUP BY 1, 2) k
         WHERE e.tenant_id = k.tenant_id AND e.id = k.endpoint_id
           AND coalesce(e.rate_limit, p_rate_limit) > 0;

        RETURN QUERY
        SELECT c.tenant_id, c.id, c.endpoint_id, c.event_id, c.attempt, en.url, ev.body,
               encode(en.secret_sealed, 'hex'),
               CASE WHEN en.previous_secret_expires > now()
                    THEN encode(en.previous_secret_sealed, 'hex') END,
               encode(t.signing_key_sealed, 'hex'),
               NULL::integer, NULL::boolean, NULL::integer
          FROM (SELECT * FROM unnest(coalesce(v_pick_tenants, '{}'), coalesce(v_pick_ids, '{}'),
                                     coalesce(v_pick_endpoints, '{}'), coalesce(v_pick_events, '{}'),
                                     coalesce(v_pick_attempts, '{}'))
                              AS k(tenant_id, id, endpoint_id, event_id, attempt)
                UNION ALL
                SELECT k.*, 1 FROM unnest(v_born_tenants, v_born_ids, v_born_endpoints, v_born_events)
                              AS k(tenant_id, id, endpoint_id, event_id)) c
         CROSS JOIN LATERAL (
            SELECT ev.body FROM hookd.events ev
             WHERE ev.tenant_id = c.tenant_id AND ev.id = c.event_id LIMIT 1) ev
         CROSS JOIN LATERAL (
            SELECT en.url, en.secret_sealed, en.previous_secret_sealed, en.previous_secret_expires
              FROM hookd.endpoints en
             WHERE en.tenant_id = c.tenant_id AND en.id = c.endpoint_id LIMIT 1) en
         CROSS JOIN LATERAL (
            SELECT t.signing_key_sealed FROM hookd.tenants t WHERE t.id = c.tenant_id LIMIT 1) t;
    END IF;

    tenant_id := NULL; delivery_id := NULL; endpoint_id := NULL; event_id := NULL;
    attempt := NULL; url := NULL; body := NULL; secret_hex := NULL;
    previous_secret_hex := NULL; signing_key_hex := NULL;
    endpoints_locked := coalesce(cardinality(v_ids), 0);
    busy := v_busy;
    fanned_out := v_fanned_out;
    RETURN NEXT;
END $$;
