-- db/functions/claim_deliveries.sql - the live definition: `hookd migrate` re-applies
-- this file whenever it changes (README: Development). Keep it re-runnable:
-- CREATE OR REPLACE only; when a signature or return type changes, drop the
-- old one first with DROP FUNCTION IF EXISTS.
--
-- hookd.claim_deliveries: from 0013_claim_isolation.sql. The notes on
-- plans at the top of 0010_set_based_worker.sql and 0012_claim_snapshot.sql
-- apply. Since then: "slow" means at least half of the requests in flight
-- are older than 100 ms, not only the oldest (one straggler made a fast
-- endpoint slow); and a fast endpoint's short queue of due deliveries no
-- longer sends its new deliveries to the queue too. Together they had put
-- 57 % of a 30,000-event drain to one fast endpoint through the queue
-- (47,121 updates of deliveries instead of 30,000). And p_ahead (claiming
-- ahead, below): the signature and the result (send_limit) changed, hence
-- the DROP of the old signature. Then (0015_outbox_rest.sql) the deliveries
-- an event's claim cannot claim are queued by hookd.queue_rest instead of
-- here, and the result has rest_waiting (DROP again); since
-- 0019_rest_per_endpoint.sql they are written one row per endpoint. Since
-- 0020_slow_endpoints_left_alone.sql an endpoint found full and slow is
-- left out of claims for a moment (slow_until), as if behind an open
-- circuit. Since 0022_endpoint_sign_v1a.sql the tenant's signing key is
-- returned only for endpoints that sign v1a (their sign_v1a, else
-- p_sign_v1a): p_sign_v1a is new, hence the DROP of the 9-argument form
-- (a call with 9 arguments, from a worker older than it, gets the default
-- true: v1a as before). Since then a full endpoint this claim locked no
-- longer keeps an event in the outbox while a delivery of that event could
-- be born claimed at another endpoint (step 4): a receiver that had just
-- become slow (requests younger than 100 ms) stopped a fast endpoint's
-- events for 100 ms, 7 % of a bench isolation phase. Since
-- 0023_lighter_delivery_writes.sql step 1 takes each event's type and
-- occurred from its outbox row instead of looking the event up (one index
-- probe per delivery on the claims' serial path), and the deliveries born
-- claimed have no foreign keys to check. Since then an endpoint is marked
-- slow as soon as its new deliveries go to the queue for being slow (half
-- of its requests older than 100 ms, not a second), for half a second or
-- until an attempt at it is recorded (hookd.record_attempts ends the mark).

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
-- Claiming ahead: a claim that finds none of an endpoint's deliveries with
-- another claim may take up to p_ahead more than the cap (no more than
-- twice the cap: three times in all) when the endpoint is healthy (no
-- failure streak) and has no rate limit. The worker sends at most send_limit at once (returned with
-- each row: the cap less the other claims' requests) and starts the next
-- one the moment a request to that endpoint ends, so that the endpoint's
-- slots do not wait a claim's round trip to be refilled. A worker that
-- sees a failure gives back what it holds unsent for that endpoint.
--
-- The outbox is taken in order (p_fan_out_limit events at most). An
-- event's deliveries are inserted claimed where their endpoint has room
-- left after its queued due deliveries; otherwise they are to be queued
-- ('pending', or 'disabled' at a disabled endpoint, 'pending' behind an
-- open circuit), so a slow or throttled endpoint never holds back the
-- others' events. Those are not inserted here but listed in one row per
-- endpoint of hookd.pending_rest, and hookd.queue_rest (queue_rest.sql)
-- queues them in another transaction, as fast as their endpoint can take
-- them, so that a slow endpoint's queue is not written in the claims of a
-- busy one (an endpoint's claims are serial). The
-- events are taken up to, not including, the first one that has a target
-- which would merely have to wait a moment: an endpoint whose room is used
-- up (by this claim's new deliveries, or by a short queue of due ones) and
-- that is not slow, or that another claim holds right now and is not slow.
-- Such an event stays in the outbox for the next claim, so that a fast
-- endpoint's new deliveries keep being born claimed instead of passing
-- through the queue (one write more each); but not when the wait would
-- leave another endpoint's room idle: a full endpoint this claim locked
-- takes its new deliveries into the queue when the event that it stops
-- has a delivery to be born claimed elsewhere. An endpoint takes its new
-- deliveries into the queue at once when it is slow (full, with at least
-- half of its requests in flight older than 100 ms: a slow receiver;
-- locked by this claim or not), when its rate limit has no token, or when
-- more due deliveries are queued for it than its room and a full cap
-- besides (a backlog, say after an outage: the others' new events must not
-- wait for it to drain).
--
-- One row per claimed delivery (with what signing and sending it needs),
-- then one closing row whose delivery columns are NULL: endpoints_locked
-- counts the endpoints with work this claim held (those that got no
-- delivery were held back by a limit), busy says that work exists but other
-- claims held its endpoints (worth looking again at once), fanned_out
-- counts the outbox events handled, and rest_waiting says that deliveries
-- wait in hookd.pending_rest for hookd.queue_rest.
DROP FUNCTION IF EXISTS hookd.claim_deliveries(uuid, bigint[], integer, integer, integer, integer,
                                               double precision, integer);
DROP FUNCTION IF EXISTS hookd.claim_deliveries(uuid, bigint[], integer, integer, integer, integer,
                                               double precision, integer, integer);
CREATE OR REPLACE FUNCTION hookd.claim_deliveries(
    p_claim_id          uuid,
    p_finished          bigint[],
    p_fan_out_limit     integer,
    p_limit             integer,
    p_lease_s           integer,
    p_max_in_flight     integer,
    p_rate_limit        double precision,
    p_breaker_threshold integer,
    p_ahead             integer,
    p_sign_v1a          boolean DEFAULT true)
RETURNS TABLE (tenant_id bigint, delivery_id bigint, endpoint_id bigint, event_id text,
               attempt integer, url text, body text, secret_hex text,
               previous_secret_hex text, signing_key_hex text,
               endpoints_locked integer, busy boolean, fanned_out integer,
               send_limit integer, rest_waiting boolean)
LANGUAGE plpgsql SET enable_seqscan = off SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
    -- the outbox events considered, in order
    v_seqs       bigint[];
    v_ev_tenants bigint[];
    v_ev_ids     text[];
    v_ev_types   text[];
    v_ev_occurred timestamptz[];
    -- their deliveries-to-be: event (by seq) and endpoint, at endpoints
    -- that are open (active, circuit closed, not marked slow)...
    v_t_seqs      bigint[];
    v_t_tenants   bigint[];
    v_t_events    text[];
    v_t_endpoints bigint[];
    v_t_occurred  timestamptz[];
    -- ...and at the others (disabled, behind an open circuit, marked slow):
    -- to be queued (step 5), whatever the claim finds
    v_h_seqs      bigint[];
    v_h_tenants   bigint[];
    v_h_events    text[];
    v_h_endpoints bigint[];
    v_h_occurred  timestamptz[];
    -- the endpoints this claim locked, with their room (after step 3: the
    -- room left for new events) and whether new deliveries that do not fit
    -- go to the queue at once (spill)
    v_tenants    bigint[];
    v_ids        bigint[];
    v_dues       timestamptz[];
    v_caps       integer[];
    v_rate_rooms integer[];
    v_rooms      integer[];
    v_spills     boolean[];
    v_aheads     integer[];  -- what each may claim beyond its cap, when no other claim has any
    v_send_limits integer[]; -- its cap less the requests of other claims
    v_marks_slow boolean[];  -- to be left out of claims for a moment: full and slow
    -- the open endpoints of new events that other claims hold and that are
    -- slow (their new deliveries are queued at once)
    v_slow_tenants bigint[];
    v_slow_ids     bigint[];
    v_pick_tenants bigint[];
    v_pick_ids     bigint[];
    v_pick_endpoints bigint[];
    v_pick_events  text[];
    v_pick_attempts integer[];
    v_stop       bigint;     -- outbox events from this seq on stay
    v_blocked    boolean := false; -- an event waits for an endpoint another claim holds
    v_held_tenants bigint[];  -- the endpoints this claim locked that stop the outbox
    v_held_ids     bigint[];  -- while a delivery of the same event fits elsewhere
    v_busy       boolean := false;
    v_fanned_out integer := 0;
    v_born_tenants bigint[] := '{}';
    v_born_ids     bigint[] := '{}';
    v_born_endpoints bigint[] := '{}';
    v_born_events  text[] := '{}';
    v_counts_afresh boolean; -- plan the in-flight counts afresh (a small table's statistics)
BEGIN
    IF p_limit <= 0 THEN
        RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::bigint, NULL::text, NULL::integer,
                            NULL::text, NULL::text, NULL::text, NULL::text, NULL::text,
                            0, false, 0, NULL::integer, false;
        RETURN;
    END IF;

    -- Step 1: the outbox's first events and their deliveries-to-be.
    IF p_fan_out_limit > 0 THEN
        SELECT array_agg(p.seq ORDER BY p.seq), array_agg(p.tenant_id ORDER BY p.seq),
               array_agg(p.event_id ORDER BY p.seq), array_agg(p.type ORDER BY p.seq),
               array_agg(p.occurred ORDER BY p.seq)
          INTO v_seqs, v_ev_tenants, v_ev_ids, v_ev_types, v_ev_occurred
          FROM (SELECT o.seq, o.tenant_id, o.event_id, o.type, o.occurred FROM hookd.pending_events o
                 ORDER BY o.seq LIMIT p_fan_out_limit FOR UPDATE SKIP LOCKED) p;
    END IF;
    IF v_seqs IS NOT NULL THEN
        -- Each event's type and occurred, carried by its outbox row; a row
        -- without them (from a hookd older than 0023) looks its event up by
        -- its full key (a LATERAL probe with LIMIT cannot be turned into a
        -- join that scans hookd.events, whatever the cached plan thinks of
        -- its size; its condition on the outbox row is a one-time filter:
        -- no probe where the row has both); then the targets of each tenant and
        -- type of the batch, once (its type's and '*' subscriptions, their
        -- endpoints, open or not), joined to its events.
        WITH ev AS MATERIALIZED (
            SELECT p.seq, p.tenant_id, p.event_id, coalesce(p.type, ev.type) AS type,
                   coalesce(p.occurred, ev.occurred) AS occurred
              FROM unnest(v_seqs, v_ev_tenants, v_ev_ids, v_ev_types, v_ev_occurred)
                   AS p(seq, tenant_id, event_id, type, occurred)
              LEFT JOIN LATERAL (
                SELECT ev.type, ev.occurred FROM hookd.events ev
                 WHERE (p.type IS NULL OR p.occurred IS NULL)
                   AND ev.tenant_id = p.tenant_id AND ev.id = p.event_id
                 LIMIT 1) ev ON true),
        target AS MATERIALIZED (
            SELECT ty.tenant_id, ty.type, e.id AS endpoint_id,
                   hookd.endpoint_open(e.state, e.circuit_open_until, e.slow_until) AS open
              FROM (SELECT DISTINCT ev.tenant_id, ev.type FROM ev) ty
             CROSS JOIN LATERAL (
                SELECT s.endpoint_id FROM hookd.subscriptions s
                 WHERE s.tenant_id = ty.tenant_id AND s.event_type = ty.type
                UNION
                SELECT s.endpoint_id FROM hookd.subscriptions s
                 WHERE s.tenant_id = ty.tenant_id AND s.event_type = '*') s
             CROSS JOIN LATERAL (
                SELECT e.id, e.state, e.circuit_open_until, e.slow_until FROM hookd.endpoints e
                 WHERE e.tenant_id = ty.tenant_id AND e.id = s.endpoint_id LIMIT 1) e)
        -- (Aggregates of one query take its rows in one pass: the arrays
        -- of each kind line up. Their order does not matter: steps 4 and 5
        -- order by seq where it does.)
        SELECT array_agg(ev.seq) FILTER (WHERE t.open),
               array_agg(ev.tenant_id) FILTER (WHERE t.open),
               array_agg(ev.event_id) FILTER (WHERE t.open),
               array_agg(t.endpoint_id) FILTER (WHERE t.open),
               array_agg(ev.occurred) FILTER (WHERE t.open),
               array_agg(ev.seq) FILTER (WHERE NOT t.open),
               array_agg(ev.tenant_id) FILTER (WHERE NOT t.open),
               array_agg(ev.event_id) FILTER (WHERE NOT t.open),
               array_agg(t.endpoint_id) FILTER (WHERE NOT t.open),
               array_agg(ev.occurred) FILTER (WHERE NOT t.open)
          INTO v_t_seqs, v_t_tenants, v_t_events, v_t_endpoints, v_t_occurred,
               v_h_seqs, v_h_tenants, v_h_events, v_h_endpoints, v_h_occurred
          FROM ev JOIN target t ON t.tenant_id = ev.tenant_id AND t.type = ev.type;
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
                  FROM unnest(v_t_tenants, v_t_endpoints) AS f(tenant_id, endpoint_id)) w
         GROUP BY w.tenant_id, w.endpoint_id),
    locked AS (
        SELECT e.tenant_id, e.id, w.due,
               CASE WHEN e.failure_streak >= p_breaker_threshold THEN 1
                    ELSE coalesce(e.max_in_flight, p_max_in_flight) END AS cap,
               CASE WHEN coalesce(e.rate_limit, p_rate_limit) > 0 THEN floor(least(
                      greatest(coalesce(e.rate_limit, p_rate_limit), 1),
                      coalesce(e.rate_tokens, greatest(coalesce(e.rate_limit, p_rate_limit), 1))
                      + greatest(extract(epoch FROM now() - coalesce(e.rate_updated, now())), 0)
                        * coalesce(e.rate_limit, p_rate_limit)))::int
                    ELSE 2147483647 END AS rate_room,
               CASE WHEN e.failure_streak = 0 AND coalesce(e.rate_limit, p_rate_limit) <= 0
                    THEN least(2 * coalesce(e.max_in_flight, p_max_in_flight), p_ahead)
                    ELSE 0 END AS ahead
          FROM wanted w CROSS JOIN LATERAL (
            SELECT * FROM hookd.endpoints e
             WHERE e.tenant_id = w.tenant_id AND e.id = w.endpoint_id
               AND hookd.endpoint_open(e.state, e.circuit_open_until, e.slow_until)
               FOR NO KEY UPDATE SKIP LOCKED) e)
    SELECT array_agg(l.tenant_id ORDER BY l.due NULLS LAST, l.tenant_id, l.id),
           array_agg(l.id ORDER BY l.due NULLS LAST, l.tenant_id, l.id),
           array_agg(l.due ORDER BY l.due NULLS LAST, l.tenant_id, l.id),
           array_agg(l.cap ORDER BY l.due NULLS LAST, l.tenant_id, l.id),
           array_agg(l.rate_room ORDER BY l.due NULLS LAST, l.tenant_id, l.id),
           array_agg(l.ahead ORDER BY l.due NULLS LAST, l.tenant_id, l.id)
      INTO v_tenants, v_ids, v_dues, v_caps, v_rate_rooms, v_aheads
      FROM locked l;

    -- With the endpoints locked, each one's room is its cap less what it
    -- has claimed and not finished, and no more than its rate allows. An
    -- endpoint is claimed by one claim at a time while that claim keeps
    -- claiming it: none for another claim that took some of its deliveries
    -- in the last second (a claim that stopped, or runs long requests,
    -- lets the others in after a second). When no other claim has any of
    -- its deliveries, a healthy endpoint without a rate limit may be
    -- claimed ahead, up to p_ahead (no more than twice its cap) beyond it: the
    -- worker sends no more than the cap at once and starts the next one
    -- the moment a request ends, without waiting for a claim. send_limit
    -- tells the worker how many it may send at once: the cap less the other
    -- claims' requests (nothing is claimed ahead while another claim has
    -- some, and the sum of what the claims send stays within the cap). This is a statement of its own: its snapshot is
    -- taken after the locks, so it sees every delivery that a claim which
    -- held an endpoint before has committed.
    --
    -- The count (and the slow endpoints' below) is planned afresh while the
    -- statistics of hookd.deliveries describe fewer than 1,000 rows. A plan
    -- made while the table was estimated at one row (analyzed with one row,
    -- or analyzed empty) costs every index led by tenant_id the same, and
    -- one kept from then that took the primary key or the (tenant_id,
    -- event_id, endpoint_id) index walked every delivery of the tenant, for
    -- each endpoint, once the table had grown (test_plan_stability.py). A
    -- fresh plan sees the table's current size; a kept one made on
    -- statistics of 1,000 rows or more finds deliveries_queue, the only
    -- index that reaches an endpoint's requests without the tenant's other
    -- deliveries, far cheaper. (Planning every claim afresh cost 0.22 ms, as
    -- much again as the whole claim.)
    SELECT c.reltuples BETWEEN 0 AND 999 INTO v_counts_afresh
      FROM pg_class c WHERE c.oid = 'hookd.deliveries'::regclass;
    IF v_counts_afresh THEN
        PERFORM set_config('plan_cache_mode', 'force_custom_plan', true);
    END IF;
    SELECT array_agg(CASE WHEN f.n_others_recent > 0 THEN 0
                          ELSE greatest(least(l.cap + f.ahead - f.n, l.rate_room), 0) END
                     ORDER BY l.ord),
           array_agg(l.rate_room < 1 OR (l.cap + f.ahead - f.n <= 0 AND 2 * f.n_old >= f.n)
                     ORDER BY l.ord),
           array_agg(greatest(l.cap - f.n_others, 0) ORDER BY l.ord),
           array_agg(l.rate_room >= 1 AND l.cap + f.ahead - f.n <= 0
                     AND 2 * f.n_old >= f.n AND f.n > 0 ORDER BY l.ord)
      INTO v_rooms, v_spills, v_send_limits, v_marks_slow
      FROM unnest(v_tenants, v_ids, v_caps, v_rate_rooms, v_aheads) WITH ORDINALITY
           AS l(tenant_id, id, cap, rate_room, ahead, ord)
     CROSS JOIN LATERAL (
        SELECT f.*, CASE WHEN f.n_others = 0 THEN l.ahead ELSE 0 END AS ahead FROM (
        SELECT count(*) AS n,
               count(*) FILTER (WHERE f.claim_id IS DISTINCT FROM p_claim_id) AS n_others,
               count(*) FILTER (WHERE f.claim_id IS DISTINCT FROM p_claim_id
                                  AND f.updated > now() - interval '1 second') AS n_others_recent,
               count(*) FILTER (WHERE f.updated < now() - interval '100 milliseconds') AS n_old
          FROM hookd.deliveries f
         WHERE f.tenant_id = l.tenant_id AND f.endpoint_id = l.id
           AND f.state = 'delivering' AND f.next_attempt_at > now()
           AND NOT (f.claim_id = p_claim_id AND f.id = ANY (coalesce(p_finished, '{}')))) f) f;
    IF v_counts_afresh THEN
        PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
    END IF;

    -- The endpoints found full and slow (as above: at least half of their
    -- requests older than 100 ms) are left out of claims
    -- (0020_slow_endpoints_left_alone.sql) until an attempt at them is
    -- recorded (hookd.record_attempts clears the mark: a request ended, so
    -- there is room), half a second at most. Nothing a claim could do for
    -- them changes before one of their requests ends, and each claim that
    -- locked one and counted its requests meanwhile was spent on the
    -- healthy endpoints' serial path. (The mark used to wait until half of
    -- the requests were a second old, and last a twentieth of the oldest
    -- one's age, because a fast endpoint marked by mistake, its requests
    -- claimed ahead and waiting in a busy worker, went unclaimed for the
    -- mark's length; now its next recorded attempt ends the mark. Beside a
    -- receiver that answers after 10 s, claims locked it for the first
    -- second of each of its stalls: bench isolation 0.86-0.89.)
    IF v_ids IS NOT NULL AND true = ANY (v_marks_slow) THEN
        UPDATE hookd.endpoints e SET slow_until = now() + interval '500 milliseconds'
          FROM unnest(v_tenants, v_ids, v_marks_slow) AS k(tenant_id, id, slow)
         WHERE k.slow AND e.tenant_id = k.tenant_id AND e.id = k.id;
    END IF;

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
        -- took all its room and still holds a full cap of due deliveries
        -- besides (a backlog); behind a shorter one they wait in the outbox.
        -- (The count reads them in deliveries_queue's order, as the pick
        -- above: its plan, made while the table was analyzed empty, once
        -- took the (tenant_id, event_id, endpoint_id) index on tenant_id
        -- and walked all of the tenant's deliveries; no plan that has to
        -- sort wins against the index that gives the order.)
        SELECT array_agg(e.room - k.n ORDER BY e.ord),
               array_agg(e.slow OR (e.due IS NOT NULL AND e.room - k.n <= 0 AND q.deep) ORDER BY e.ord)
          INTO v_rooms, v_spills
          FROM unnest(v_tenants, v_ids, v_dues, v_rooms, v_spills, v_caps)
               WITH ORDINALITY AS e(tenant_id, id, due, room, slow, cap, ord)
         CROSS JOIN LATERAL (
            SELECT count(*)::integer AS n
              FROM unnest(v_pick_tenants, v_pick_endpoints) AS k(tenant_id, endpoint_id)
             WHERE k.tenant_id = e.tenant_id AND k.endpoint_id = e.id) k
         CROSS JOIN LATERAL (
            SELECT count(*) >= e.room + e.cap AS deep FROM (
                SELECT 1 FROM hookd.deliveries d
                 WHERE e.due IS NOT NULL AND e.room - k.n <= 0 AND NOT e.slow
                   AND d.tenant_id = e.tenant_id AND d.endpoint_id = e.id
                   AND d.state IN ('pending', 'delivering') AND d.next_attempt_at <= now()
                 ORDER BY d.next_attempt_at LIMIT e.room + e.cap) d) q;
    END IF;

    -- The open endpoints of new events that other claims hold: slow ones
    -- (full, with at least half of their requests in flight older than
    -- 100 ms) take their new deliveries into the queue at once; for the
    -- others, the event waits in the outbox for a moment.
    IF v_t_seqs IS NOT NULL THEN
        IF v_counts_afresh THEN
            PERFORM set_config('plan_cache_mode', 'force_custom_plan', true);
        END IF;
        SELECT array_agg(u.tenant_id), array_agg(u.id) INTO v_slow_tenants, v_slow_ids
          FROM (SELECT DISTINCT t.tenant_id, t.endpoint_id AS id
                  FROM unnest(v_t_tenants, v_t_endpoints) AS t(tenant_id, endpoint_id)
                EXCEPT
                SELECT * FROM unnest(v_tenants, v_ids)) u
         CROSS JOIN LATERAL (
            SELECT CASE WHEN e.failure_streak >= p_breaker_threshold THEN 1
                        ELSE coalesce(e.max_in_flight, p_max_in_flight) END AS cap
              FROM hookd.endpoints e WHERE e.tenant_id = u.tenant_id AND e.id = u.id LIMIT 1) e
         CROSS JOIN LATERAL (
            SELECT count(*) AS n,
                   count(*) FILTER (WHERE f.updated < now() - interval '100 milliseconds') AS n_old
              FROM hookd.deliveries f
             WHERE f.tenant_id = u.tenant_id AND f.endpoint_id = u.id
               AND f.state = 'delivering' AND f.next_attempt_at > now()) f
         WHERE e.cap - f.n <= 0 AND 2 * f.n_old >= f.n;
        IF v_counts_afresh THEN
            PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
        END IF;
    END IF;

    -- Step 4: which new events are taken: the outbox's first ones, up to
    -- (not including) event v_stop (all when NULL). Per endpoint, the first
    -- of its new deliveries up to its room left are born claimed, and no
    -- more than p_limit in all; an event stops the outbox when one of its
    -- deliveries could be neither born claimed nor queued at once. Except
    -- that waiting must not starve the others: when the event that stops
    -- the outbox has a delivery that would be born claimed, the endpoints
    -- this claim locked that stop it take their new deliveries into the
    -- queue instead (say a receiver that just became slow, whose requests
    -- are not 100 ms old yet, beside a fast one with room), and the events
    -- are looked at again.
    IF v_t_seqs IS NOT NULL THEN
        LOOP
            WITH t AS (
                SELECT t.seq, t.tenant_id, t.endpoint_id, ep.id IS NOT NULL AS locked,
                       coalesce(ep.spill, s.id IS NOT NULL) AS spill,
                       row_number() OVER (PARTITION BY t.tenant_id, t.endpoint_id ORDER BY t.seq)
                         <= coalesce(ep.room_left, 0) AS fits
                  FROM unnest(v_t_seqs, v_t_tenants, v_t_endpoints) AS t(seq, tenant_id, endpoint_id)
                  LEFT JOIN unnest(v_tenants, v_ids, v_rooms, v_spills)
                       AS ep(tenant_id, id, room_left, spill)
                    ON ep.tenant_id = t.tenant_id AND ep.id = t.endpoint_id
                  LEFT JOIN unnest(v_slow_tenants, v_slow_ids) AS s(tenant_id, id)
                    ON s.tenant_id = t.tenant_id AND s.id = t.endpoint_id),
            ev AS (
                SELECT t.seq,
                       bool_and(t.fits OR t.spill) AS ok,
                       bool_or(NOT t.locked AND NOT t.spill) AS blocked,
                       count(*) FILTER (WHERE t.fits) AS born,
                       -- the endpoints this claim locked that stop the event
                       array_agg(t.tenant_id) FILTER (WHERE t.locked AND NOT t.fits AND NOT t.spill)
                         AS held_tenants,
                       array_agg(t.endpoint_id) FILTER (WHERE t.locked AND NOT t.fits AND NOT t.spill)
                         AS held_ids
                  FROM t GROUP BY t.seq),
            run AS (
                SELECT ev.*, sum(ev.born) OVER (ORDER BY ev.seq) AS born_so_far
                  FROM ev)
            SELECT r.seq, r.blocked,
                   CASE WHEN NOT r.ok AND r.born > 0 THEN r.held_tenants END,
                   CASE WHEN NOT r.ok AND r.born > 0 THEN r.held_ids END
              INTO v_stop, v_blocked, v_held_tenants, v_held_ids
              FROM run r
             WHERE NOT r.ok OR r.born_so_far > p_limit - coalesce(cardinality(v_pick_ids), 0)
             ORDER BY r.seq LIMIT 1;
            EXIT WHEN v_held_ids IS NULL;
            SELECT array_agg(e.spill OR (e.tenant_id, e.id) IN (
                       SELECT * FROM unnest(v_held_tenants, v_held_ids)) ORDER BY e.ord)
              INTO v_spills
              FROM unnest(v_tenants, v_ids, v_spills) WITH ORDINALITY AS e(tenant_id, id, spill, ord);
        END LOOP;
        v_blocked := coalesce(v_blocked, false);
    END IF;

    -- Step 5: the taken events' born-claimed deliveries are inserted, the
    -- others (to be queued: at an endpoint without room, slow, throttled,
    -- behind an open circuit or disabled) are written as one row per
    -- endpoint of hookd.pending_rest for hookd.queue_rest, which the worker runs on its
    -- other connection, beside the attempt records, so that a slow
    -- endpoint's queue is not written on the critical path of a busy
    -- endpoint's serial claims; the outbox rows are deleted.
    IF v_seqs IS NOT NULL THEN
        IF v_t_seqs IS NOT NULL OR v_h_seqs IS NOT NULL THEN
            WITH ep AS (
                SELECT * FROM unnest(v_tenants, v_ids, v_rooms) AS e(tenant_id, id, room_left)),
            t AS (
                SELECT t.seq, t.tenant_id, t.event_id, t.endpoint_id, t.occurred,
                       ep.id IS NOT NULL
                       AND row_number() OVER (PARTITION BY t.tenant_id, t.endpoint_id ORDER BY t.seq)
                           <= ep.room_left AS born
                  FROM unnest(v_t_seqs, v_t_tenants, v_t_events, v_t_endpoints, v_t_occurred)
                       AS t(seq, tenant_id, event_id, endpoint_id, occurred)
                  LEFT JOIN ep ON ep.tenant_id = t.tenant_id AND ep.id = t.endpoint_id
                 WHERE v_stop IS NULL OR t.seq < v_stop
                UNION ALL
                SELECT h.seq, h.tenant_id, h.event_id, h.endpoint_id, h.occurred, false
                  FROM unnest(v_h_seqs, v_h_tenants, v_h_events, v_h_endpoints, v_h_occurred)
                       AS h(seq, tenant_id, event_id, endpoint_id, occurred)
                 WHERE v_stop IS NULL OR h.seq < v_stop),
            ins AS (
                INSERT INTO hookd.deliveries AS d (tenant_id, event_id, endpoint_id, state,
                                                  claim_id, lease_until, next_attempt_at)
                SELECT t.tenant_id, t.event_id, t.endpoint_id, 'delivering', p_claim_id,
                       now() + p_lease_s * interval '1 second',
                       now() + p_lease_s * interval '1 second'
                  FROM t WHERE t.born
                ON CONFLICT (tenant_id, event_id, endpoint_id) DO NOTHING
                RETURNING d.tenant_id, d.id, d.endpoint_id, d.event_id),
            rest AS (
                INSERT INTO hookd.pending_rest (tenant_id, endpoint_id, event_ids,
                                                first_occurred, last_occurred)
                SELECT t.tenant_id, t.endpoint_id, array_agg(t.event_id ORDER BY t.seq),
                       min(t.occurred), max(t.occurred)
                  FROM t WHERE NOT t.born
                 GROUP BY t.tenant_id, t.endpoint_id)
            SELECT coalesce(array_agg(ins.tenant_id), '{}'), coalesce(array_agg(ins.id), '{}'),
                   coalesce(array_agg(ins.endpoint_id), '{}'), coalesce(array_agg(ins.event_id), '{}')
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
               AND hookd.endpoint_open(e.state, e.circuit_open_until, e.slow_until))
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

    -- Step 7: rate-limited endpoints pay one token per claimed delivery
    -- (a statement run only when one of the endpoints locked, which are
    -- those of every claimed delivery, has a rate limit: a room below
    -- int's maximum); every claimed delivery is returned with what sending
    -- it needs (each row by its full key: LATERAL probes with LIMIT).
    IF v_pick_ids IS NOT NULL OR cardinality(v_born_ids) > 0 THEN
        IF 2147483647 > ANY (v_rate_rooms) THEN
            WITH c AS (
                SELECT * FROM unnest(coalesce(v_pick_tenants, '{}'), coalesce(v_pick_endpoints, '{}'))
                              AS k(tenant_id, endpoint_id)
                UNION ALL
                SELECT * FROM unnest(v_born_tenants, v_born_endpoints) AS k(tenant_id, endpoint_id))
            UPDATE hookd.endpoints e
               SET rate_tokens = least(greatest(coalesce(e.rate_limit, p_rate_limit), 1),
                     coalesce(e.rate_tokens, greatest(coalesce(e.rate_limit, p_rate_limit), 1))
                     + greatest(extract(epoch FROM now() - coalesce(e.rate_updated, now())), 0)
                       * coalesce(e.rate_limit, p_rate_limit)) - k.n,
                   rate_updated = greatest(now(), coalesce(e.rate_updated, now()))
              FROM (SELECT c.tenant_id, c.endpoint_id, count(*) AS n FROM c GROUP BY 1, 2) k
             WHERE e.tenant_id = k.tenant_id AND e.id = k.endpoint_id
               AND coalesce(e.rate_limit, p_rate_limit) > 0;
        END IF;

        RETURN QUERY
        SELECT c.tenant_id, c.id, c.endpoint_id, c.event_id, c.attempt, en.url, ev.body,
               encode(en.secret_sealed, 'hex'),
               CASE WHEN en.previous_secret_expires > now()
                    THEN encode(en.previous_secret_sealed, 'hex') END,
               -- the tenant's key only where v1a is signed (looked up only then)
               CASE WHEN coalesce(en.sign_v1a, p_sign_v1a)
                    THEN (SELECT encode(t.signing_key_sealed, 'hex') FROM hookd.tenants t
                           WHERE t.id = c.tenant_id) END,
               NULL::integer, NULL::boolean, NULL::integer, sl.send_limit, NULL::boolean
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
            SELECT en.url, en.secret_sealed, en.previous_secret_sealed, en.previous_secret_expires,
                   en.sign_v1a
              FROM hookd.endpoints en
             WHERE en.tenant_id = c.tenant_id AND en.id = c.endpoint_id LIMIT 1) en
         CROSS JOIN LATERAL (
            SELECT s.send_limit FROM unnest(v_tenants, v_ids, v_send_limits)
                                     AS s(tenant_id, id, send_limit)
             WHERE s.tenant_id = c.tenant_id AND s.id = c.endpoint_id LIMIT 1) sl;
    END IF;

    tenant_id := NULL; delivery_id := NULL; endpoint_id := NULL; event_id := NULL;
    attempt := NULL; url := NULL; body := NULL; secret_hex := NULL;
    previous_secret_hex := NULL; signing_key_hex := NULL;
    endpoints_locked := coalesce(cardinality(v_ids), 0);
    busy := v_busy;
    fanned_out := v_fanned_out;
    send_limit := NULL;
    rest_waiting := EXISTS (SELECT 1 FROM hookd.pending_rest r);
    RETURN NEXT;
END $$;
