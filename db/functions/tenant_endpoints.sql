-- db/functions/tenant_endpoints.sql - the live definition: `hookd migrate` re-applies
-- this file whenever it changes (README: Development). Keep it re-runnable:
-- CREATE OR REPLACE only; when a signature or return type changes, drop the
-- old one first with DROP FUNCTION IF EXISTS.
--
-- hookd.tenant_endpoints: GET /events/endpoints in one statement (see
-- server/db_endpoint_overview.c for what it reads and how).
-- (The file's name sorts after rfc3339.sql, whose function it calls: a SQL
-- function's body is checked when the function is created.)
--
-- Plans. As a prepared statement on one of the API's long-lived
-- connections, this statement kept the plan of its first calls until the
-- next ANALYZE. Made on statistics of nearly empty tables, that plan joined
-- each attempt of the day to its delivery by a sequential scan of
-- hookd.deliveries (and looked up the last attempt the same way): 3.1 s per
-- call once the tenant had 5,000 attempts, 9.7 s at 8,600
-- (test_plan_stability.py). Here it is planned afresh on every call (a SQL
-- function's statement is), with the tables' current sizes, and with no
-- sequential scan, hash or merge join to choose from: every attempt of the
-- window reaches its delivery by primary key, whatever the statistics say.
-- Planning costs well under a millisecond; the dashboard asks rarely.
-- (o_sign_v1a came with 0022_endpoint_sign_v1a.sql: a new result column,
-- hence the DROP.)
DROP FUNCTION IF EXISTS hookd.tenant_endpoints(bigint);
CREATE OR REPLACE FUNCTION hookd.tenant_endpoints(p_tenant_id bigint)
RETURNS TABLE (
    o_url text,
    o_state text,
    o_disabled_reason text,
    o_created text,
    o_types json,
    o_circuit text,
    o_circuit_open_until text,
    o_failure_streak integer,
    o_max_in_flight integer,
    o_rate_limit double precision,
    o_sign_v1a boolean,
    o_previous_secret_expires text,
    o_last_at text,
    o_last_status integer,
    o_last_error text,
    o_last_duration_ms integer,
    o_hour_n bigint,
    o_hour_ok bigint,
    o_hour_rate numeric,
    o_day_n bigint,
    o_day_ok bigint,
    o_day_rate numeric,
    o_pending bigint,
    o_failed bigint,
    o_parked bigint)
LANGUAGE sql STABLE
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
    WITH h AS (
      SELECT d.endpoint_id,
             count(*) FILTER (WHERE a.started >= now() - interval '1 hour') AS hour_n,
             count(*) FILTER (WHERE a.started >= now() - interval '1 hour'
                                AND a.status BETWEEN 200 AND 299) AS hour_ok,
             count(*) AS day_n,
             count(*) FILTER (WHERE a.status BETWEEN 200 AND 299) AS day_ok,
             max(a.started) AS last_at
        FROM hookd.attempts a
        JOIN hookd.deliveries d ON d.tenant_id = a.tenant_id AND d.id = a.delivery_id
       WHERE a.tenant_id = p_tenant_id AND a.started >= now() - interval '1 day'
       GROUP BY d.endpoint_id)
     SELECT e.url, e.state, e.disabled_reason, hookd.rfc3339(e.created),
            (SELECT coalesce(json_agg(s.event_type ORDER BY s.event_type), '[]')
               FROM hookd.subscriptions s
              WHERE s.tenant_id = e.tenant_id AND s.endpoint_id = e.id),
            CASE WHEN e.circuit_open_until IS NULL THEN 'closed'
                 WHEN e.circuit_open_until > now() THEN 'open' ELSE 'half-open' END,
            hookd.rfc3339(e.circuit_open_until), e.failure_streak, e.max_in_flight,
            e.rate_limit, e.sign_v1a,
            CASE WHEN e.previous_secret_expires > now()
                 THEN hookd.rfc3339(e.previous_secret_expires) END,
            hookd.rfc3339(l.started), l.status, l.error, l.duration_ms,
            coalesce(h.hour_n, 0), coalesce(h.hour_ok, 0),
            trim_scale(round(h.hour_ok::numeric / nullif(h.hour_n, 0), 4)),
            coalesce(h.day_n, 0), coalesce(h.day_ok, 0),
            trim_scale(round(h.day_ok::numeric / nullif(h.day_n, 0), 4)),
            -- the claims' leftovers not queued yet (hookd.pending_rest) are
            -- pending, or parked at a disabled endpoint
            (SELECT count(*) FROM hookd.deliveries q WHERE q.tenant_id = e.tenant_id
                AND q.endpoint_id = e.id AND q.state IN ('pending', 'delivering'))
            + CASE WHEN e.state = 'active' THEN r.n ELSE 0 END,
            (SELECT count(*) FROM hookd.deliveries q WHERE q.tenant_id = e.tenant_id
                AND q.endpoint_id = e.id AND q.state = 'failed'),
            (SELECT count(*) FROM hookd.deliveries q WHERE q.tenant_id = e.tenant_id
                AND q.endpoint_id = e.id AND q.state = 'disabled')
            + CASE WHEN e.state = 'active' THEN 0 ELSE r.n END
       FROM hookd.endpoints e
       LEFT JOIN h ON h.endpoint_id = e.id
      CROSS JOIN LATERAL (
        SELECT coalesce(sum(cardinality(r.event_ids)), 0) AS n FROM hookd.pending_rest r
         WHERE r.tenant_id = e.tenant_id AND r.endpoint_id = e.id) r
       LEFT JOIN LATERAL (
        SELECT a.started, a.status, a.error, a.duration_ms FROM hookd.attempts a
          JOIN hookd.deliveries d ON d.tenant_id = a.tenant_id AND d.id = a.delivery_id
         WHERE a.tenant_id = e.tenant_id AND a.started = h.last_at AND d.endpoint_id = e.id
         ORDER BY a.delivery_id DESC, a.number DESC LIMIT 1) l ON true
      WHERE e.tenant_id = p_tenant_id
      ORDER BY e.created, e.id
$$;
